//! `queues`: durable named queues; `receive` with `wait` blocks until an item arrives.
//!
//! The store (`store/queues`) answers from memory and logs on its own writer thread, so no
//! call here blocks an async thread: a send awaits the fsync of its batch, a receive does
//! not wait for anything but an item.

use serde_json::{Value, json};

use crate::protocol::Content;
use crate::protocol::error_codes::{OPERATION_FAILED, QUEUE_NOT_FOUND};
use crate::server::call::{
    Reply, ToolCall, ToolError, ToolResult, arg_bool, arg_str, empty, json_reply,
};
use crate::store::queues::QueueError;

use super::spec::{ANSWERS_EMPTY, ANSWERS_JSON_OR_EMPTY, Arg, Tool, Ty, opt, req, tool};

impl From<QueueError> for ToolError {
    fn from(e: QueueError) -> ToolError {
        match e {
            QueueError::NotFound(_) => ToolError::new(QUEUE_NOT_FOUND, e.to_string()),
            QueueError::Full(_) | QueueError::Storage(_) => {
                ToolError::new(OPERATION_FAILED, e.to_string())
            }
        }
    }
}

pub(crate) const TOOLKIT: super::Toolkit = super::Toolkit::new(
    "queues",
    "Durable named queues",
    &crate::auth::check::QUEUES,
    TOOLS,
    |call| Box::pin(invoke(call)),
);

const NAME: Arg = req("name", Ty::Str, "the queue's name (1 to 256 characters)");
const CREATE: Arg = opt(
    "create",
    Ty::Bool,
    "create the queue if it does not exist (else: error 3002)",
)
.or("true");

const TOOLS: &[Tool] = &[
    tool("list", "Queues and their sizes", &[]),
    tool("open", "Create a queue", &[NAME])
        .answers(ANSWERS_EMPTY)
        .writes(),
    tool(
        "send",
        "Append a message",
        &[
            NAME,
            CREATE,
            req("message", Ty::Object, "the message: any JSON object"),
        ],
    )
    .answers(ANSWERS_EMPTY)
    .writes(),
    tool(
        "receive",
        "Take the oldest message, optionally waiting",
        &[
            NAME,
            CREATE,
            opt(
                "wait",
                Ty::Bool,
                "wait for a message when the queue is empty (else answer nothing)",
            )
            .or("true"),
        ],
    )
    .answers(ANSWERS_JSON_OR_EMPTY)
    .writes(),
    tool("drain", "Remove every message", &[NAME])
        .answers(ANSWERS_EMPTY)
        .writes(),
    tool("close", "Delete a queue", &[NAME])
        .answers(ANSWERS_EMPTY)
        .writes(),
];

pub(crate) async fn invoke(call: &mut ToolCall) -> ToolResult {
    let args = call.json_args()?;
    let queues = &call.room.queues;
    if call.tool == "list" {
        let list: Vec<Value> = queues
            .list()?
            .into_iter()
            .map(|(name, size)| json!({"name": name, "size": size}))
            .collect();
        return json_reply(json!({ "queues": list }));
    }
    let name = arg_str(&args, "name")?;
    if name.is_empty() || name.len() > 256 {
        return Err(ToolError::invalid("a queue name is 1 to 256 characters"));
    }
    let create = arg_bool(&args, "create", true)?;
    let durable = match call.tool.as_str() {
        "open" => queues.open_queue(name)?,
        "send" => {
            let message = match args.get("message") {
                Some(m @ Value::Object(_)) => m.to_string(),
                _ => {
                    return Err(ToolError::invalid(
                        "argument `message` (a JSON object) is required",
                    ));
                }
            };
            queues.send(name, &message, create)?
        }
        "receive" => {
            let wait = arg_bool(&args, "wait", true)?;
            return receive(call, name, create, wait).await;
        }
        "drain" => queues.drain(name)?,
        "close" => queues.close(name)?,
        other => {
            return Err(ToolError::invalid(format!(
                "queues.{other} is not supported"
            )));
        }
    };
    durable.wait().await?;
    empty()
}

async fn receive(call: &ToolCall, name: &str, create: bool, wait: bool) -> ToolResult {
    let queues = &call.room.queues;
    let conn = call.conn();
    let waiter = if wait {
        Some(queues.waiter(name, create)?)
    } else {
        None
    };
    loop {
        // Register for a wake-up before looking, so an item arriving in between is not missed.
        let notified = waiter.as_ref().map(|w| w.notified());
        tokio::pin!(notified);
        if let Some(n) = notified.as_mut().as_pin_mut() {
            n.enable();
        }
        if let Some(item) = queues.take(name, create)? {
            let content = match serde_json::from_str::<Value>(item.body()) {
                Ok(v) => Content::Json(v),
                Err(_) => Content::Text(item.body().to_string()),
            };
            crate::server::recording::keep_answer(call, &content);
            // Answer directly, and log the removal only once the answer is on the socket: an
            // item whose answer was never written (the caller left, or the server died
            // first) goes back in place (dropping `item` unconfirmed does that).
            if conn
                .reply_written(call.request_id, "__response__", content.pack())
                .await
                .is_ok()
            {
                item.confirm();
            }
            return Ok(Reply::Streamed);
        }
        let Some(notified) = notified.as_mut().as_pin_mut() else {
            return empty();
        };
        tokio::select! {
            _ = notified => {}
            _ = conn.closed() => return empty(),
        }
    }
}
