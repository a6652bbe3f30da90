//! `developer`: log events and the live `logs` stream.

use serde_json::{Map, Value};
use tokio::sync::broadcast::error::RecvError;

use crate::protocol::Content;
use crate::server::call::{Reply, ToolCall, ToolError, ToolResult, arg_str, empty};
use crate::server::devlog::{DevEvent, Severity};

use super::spec::{ANSWERS_EMPTY, ANSWERS_STREAM, Arg, STREAM, Tool, Ty, opt, req, tool};

pub(crate) const TOOLKIT: super::Toolkit = super::Toolkit::new(
    "developer",
    "Developer logs of the room",
    &crate::auth::check::DEVELOPER,
    TOOLS,
    |call| Box::pin(invoke(call)),
);

const MESSAGE: Arg = req("message", Ty::Str, "the text of the log line");
const EXTRA: Arg = opt(
    "extra",
    Ty::Object,
    "attributes logged with the message (a JSON object)",
);

const TOOLS: &[Tool] = &[
    tool(
        "log",
        "Publish a typed log event",
        &[
            req("type", Ty::Str, "the event's type, e.g. `otel.log`"),
            opt("data", Ty::Object, "the event's payload (a JSON object)"),
        ],
    )
    .answers(ANSWERS_EMPTY),
    tool("info", "Log a message", &[MESSAGE, EXTRA]).answers(ANSWERS_EMPTY),
    tool("warning", "Log a warning", &[MESSAGE, EXTRA]).answers(ANSWERS_EMPTY),
    tool("error", "Log an error", &[MESSAGE, EXTRA]).answers(ANSWERS_EMPTY),
    // The request stream carries nothing: closing it ends the follow.
    tool("logs", "Follow the room's log events", &[])
        .takes(STREAM)
        .answers(ANSWERS_STREAM),
];

pub(crate) async fn invoke(call: &mut ToolCall) -> ToolResult {
    if call.tool == "logs" {
        return follow(call).await;
    }
    let args = call.json_args()?;
    let object = |key: &str| -> Result<Map<String, Value>, ToolError> {
        match args.get(key) {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m.clone()),
            Some(_) => Err(ToolError::invalid(format!(
                "argument `{key}` must be a JSON object"
            ))),
        }
    };
    let event = match call.tool.as_str() {
        "log" => DevEvent {
            log_type: arg_str(&args, "type")?.to_string(),
            data: object("data")?,
        },
        level @ ("info" | "warning" | "error") => {
            let severity = match level {
                "info" => Severity::Info,
                "warning" => Severity::Warning,
                _ => Severity::Error,
            };
            let mut attributes = object("extra")?;
            attributes.insert(
                "participant".into(),
                Value::String(call.caller.name.clone()),
            );
            DevEvent::otel(severity, arg_str(&args, "message")?, &attributes)
        }
        other => {
            return Err(ToolError::invalid(format!(
                "developer.{other} is not supported"
            )));
        }
    };
    call.room.publish(event);
    empty()
}

/// Streams every event published in the room until the caller closes its request stream.
async fn follow(call: &mut ToolCall) -> ToolResult {
    call.authorize(&Value::Null)?;
    let mut events = call.room.devlog.subscribe();
    let stream = call.open_stream().await?;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(event) => {
                    let payload = serde_json::to_vec(&event.data).unwrap_or_else(|_| b"{}".to_vec());
                    let chunk = Content::binary(serde_json::json!({"type": event.log_type}), payload);
                    if stream.send(&chunk).await.is_err() {
                        return Ok(Reply::Streamed);
                    }
                }
                // A follower that fell behind skips what it missed rather than holding memory.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            },
            request = call.next_request() => {
                if request.is_none() {
                    break;
                }
            }
        }
    }
    stream.close().await;
    Ok(Reply::Streamed)
}
