//! The room's built-in toolkits, one module per Room API.

pub(crate) mod developer;
pub(crate) mod messaging;
pub(crate) mod queues;

use serde_json::{Value, json};

use super::call::{ToolCall, ToolError, ToolResult};
use crate::protocol::Content;
use crate::protocol::error_codes::NOT_FOUND;

/// Every built-in toolkit with its tools: (toolkit, description, [(tool, description)]).
const TOOLKITS: &[(&str, &str, &[(&str, &str)])] = &[
    (
        "messaging",
        "Messages and presence between participants",
        &[
            ("enable", "Join messaging and receive presence"),
            ("disable", "Leave messaging"),
            ("send", "Send a message to one participant"),
            ("broadcast", "Send a message to every participant"),
        ],
    ),
    (
        "queues",
        "Durable named queues",
        &[
            ("list", "Queues and their sizes"),
            ("open", "Create a queue"),
            ("send", "Append a message"),
            ("receive", "Take the oldest message, optionally waiting"),
            ("drain", "Remove every message"),
            ("close", "Delete a queue"),
        ],
    ),
    (
        "developer",
        "Developer logs of the room",
        &[
            ("log", "Publish a typed log event"),
            ("info", "Log a message"),
            ("warning", "Log a warning"),
            ("error", "Log an error"),
            ("logs", "Follow the room's log events"),
        ],
    ),
];

/// `room.list_toolkits`: the built-in toolkits in the SDK's `{"tools": {...}}` shape.
pub(crate) fn describe() -> Value {
    let mut tools = serde_json::Map::new();
    for (name, description, list) in TOOLKITS {
        let mut entries = serde_json::Map::new();
        for (tool, desc) in *list {
            entries.insert((*tool).into(), json!({"title": tool, "description": desc, "input_spec": null, "output_spec": null}));
        }
        tools.insert(
            (*name).into(),
            json!({"title": name, "description": description, "annotations": {}, "tools": entries}),
        );
    }
    json!({ "tools": tools })
}

/// Routes a call to its toolkit. Unary calls are authorised here with their arguments;
/// streaming tools authorise with their start chunk.
pub(crate) async fn dispatch(call: &mut ToolCall) -> ToolResult {
    let known = TOOLKITS.iter().find(|(name, _, _)| *name == call.toolkit);
    let Some((_, _, tools)) = known else {
        return Err(ToolError::new(
            NOT_FOUND,
            format!("this room has no toolkit named `{}`", call.toolkit),
        ));
    };
    if !tools.iter().any(|(t, _)| *t == call.tool) {
        return Err(ToolError::new(
            NOT_FOUND,
            format!(
                "toolkit `{}` has no tool named `{}`",
                call.toolkit, call.tool
            ),
        ));
    }
    if call.requests.is_none() {
        let args = match &call.args {
            Content::Json(v) => v.clone(),
            Content::Binary { headers, .. } => Value::Object(headers.clone()),
            _ => Value::Null,
        };
        call.authorize(&args)?;
    }
    match call.toolkit.as_str() {
        "messaging" => messaging::invoke(call).await,
        "queues" => queues::invoke(call).await,
        "developer" => developer::invoke(call).await,
        _ => unreachable!("checked against TOOLKITS above"),
    }
}
