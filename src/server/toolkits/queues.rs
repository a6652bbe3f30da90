//! `queues`: durable named queues; `receive` with `wait` blocks until an item arrives.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::protocol::Content;
use crate::protocol::error_codes::{OPERATION_FAILED, QUEUE_NOT_FOUND};
use crate::server::call::{
    Reply, ToolCall, ToolError, ToolResult, arg_bool, arg_str, empty, json_reply,
};
use crate::server::room::Room;
use crate::store::queues::{QueueError, QueueStore};

use super::spec::{ANSWERS_EMPTY, ANSWERS_JSON_OR_EMPTY, Arg, Tool, Ty, opt, req, tool};

impl From<QueueError> for ToolError {
    fn from(e: QueueError) -> ToolError {
        match e {
            QueueError::NotFound(_) => ToolError::new(QUEUE_NOT_FOUND, e.to_string()),
            QueueError::Storage(_) | QueueError::Commit(_) => {
                ToolError::new(OPERATION_FAILED, e.to_string())
            }
        }
    }
}

/// Runs a store operation off the async threads (SQLite commits wait for fsync).
async fn store<T: Send + 'static>(
    room: &Arc<Room>,
    f: impl FnOnce(&QueueStore) -> Result<T, QueueError> + Send + 'static,
) -> Result<T, ToolError> {
    let room = room.clone();
    tokio::task::spawn_blocking(move || f(&room.queues))
        .await
        .map_err(|e| ToolError::new(OPERATION_FAILED, format!("queue operation failed: {e}")))?
        .map_err(ToolError::from)
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
    tool("open", "Create a queue", &[NAME]).answers(ANSWERS_EMPTY),
    tool(
        "send",
        "Append a message",
        &[
            NAME,
            CREATE,
            req("message", Ty::Object, "the message: any JSON object"),
        ],
    )
    .answers(ANSWERS_EMPTY),
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
    .answers(ANSWERS_JSON_OR_EMPTY),
    tool("drain", "Remove every message", &[NAME]).answers(ANSWERS_EMPTY),
    tool("close", "Delete a queue", &[NAME]).answers(ANSWERS_EMPTY),
];

pub(crate) async fn invoke(call: &mut ToolCall) -> ToolResult {
    let args = call.json_args()?;
    let room = call.room.clone();
    if call.tool == "list" {
        let queues = store(&room, |s| s.list()).await?;
        let list: Vec<Value> = queues
            .into_iter()
            .map(|(name, size)| json!({"name": name, "size": size}))
            .collect();
        return json_reply(json!({ "queues": list }));
    }
    let name = arg_str(&args, "name")?.to_string();
    if name.is_empty() || name.len() > 256 {
        return Err(ToolError::invalid("a queue name is 1 to 256 characters"));
    }
    let create = arg_bool(&args, "create", true)?;
    match call.tool.as_str() {
        "open" => {
            store(&room, move |s| s.open_queue(&name)).await?;
            empty()
        }
        "send" => {
            let message = match args.get("message") {
                Some(m @ Value::Object(_)) => m.to_string(),
                _ => {
                    return Err(ToolError::invalid(
                        "argument `message` (a JSON object) is required",
                    ));
                }
            };
            let queue = name.clone();
            store(&room, move |s| s.send(&queue, &message, create)).await?;
            room.queue_waiter(&name).notify_waiters();
            empty()
        }
        "receive" => receive(call, name, create, arg_bool(&args, "wait", true)?).await,
        "drain" => {
            store(&room, move |s| s.drain(&name)).await?;
            empty()
        }
        "close" => {
            store(&room, move |s| s.close(&name)).await?;
            empty()
        }
        other => Err(ToolError::invalid(format!(
            "queues.{other} is not supported"
        ))),
    }
}

async fn receive(call: &ToolCall, name: String, create: bool, wait: bool) -> ToolResult {
    let room = call.room.clone();
    let conn = call.conn().clone();
    let waiter = room.queue_waiter(&name);
    loop {
        // Register for wake-ups before looking, so a send in between is not missed.
        let notified = waiter.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let queue = name.clone();
        let item = store(&room, move |s| s.pop(&queue, create)).await?;
        if let Some(item) = item {
            let content = match serde_json::from_str::<Value>(&item.body) {
                Ok(v) => Content::Json(v),
                Err(_) => Content::Text(item.body.clone()),
            };
            // Answer directly so an item taken for a caller that just left goes back in place.
            if conn
                .reply(call.request_id, "__response__", content.pack())
                .await
                .is_err()
            {
                let queue = name.clone();
                store(&room, move |s| s.restore(&queue, &item)).await?;
                room.queue_waiter(&name).notify_waiters();
            }
            return Ok(Reply::Streamed);
        }
        if !wait {
            return empty();
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = conn.closed() => return empty(),
        }
    }
}
