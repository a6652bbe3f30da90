//! The room's built-in toolkits, one module per Room API.

pub(crate) mod containers;
pub(crate) mod dataset;
pub(crate) mod developer;
pub(crate) mod memory;
pub(crate) mod messaging;
pub(crate) mod mounts;
pub(crate) mod queues;
pub(crate) mod secrets;
pub(crate) mod services;
pub(crate) mod sqlite;
mod sqlite_transfer;
pub(crate) mod stats;
pub(crate) mod storage;
mod stream;
pub(crate) mod sync;

use serde_json::{Value, json};

use super::call::{ToolCall, ToolError, ToolResult};
use crate::protocol::Content;
use crate::protocol::error_codes::NOT_FOUND;

/// A built-in toolkit: its name, what it is for, and its tools with a line each.
pub(crate) struct Toolkit {
    pub name: &'static str,
    pub description: &'static str,
    pub tools: &'static [(&'static str, &'static str)],
}

/// Every built-in toolkit; each module declares its own `TOOLKIT`.
const TOOLKITS: &[Toolkit] = &[
    messaging::TOOLKIT,
    queues::TOOLKIT,
    developer::TOOLKIT,
    services::TOOLKIT,
    storage::TOOLKIT,
    secrets::TOOLKIT,
    dataset::TOOLKIT,
    sqlite::TOOLKIT,
    containers::TOOLKIT,
    mounts::TOOLKIT,
    memory::TOOLKIT,
    sync::TOOLKIT,
    stats::TOOLKIT,
];

/// `room.list_toolkits`: the built-in toolkits in the SDK's `{"tools": {...}}` shape.
pub(crate) fn describe() -> Value {
    let mut tools = serde_json::Map::new();
    for kit in TOOLKITS {
        let (name, description) = (kit.name, kit.description);
        let mut entries = serde_json::Map::new();
        for (tool, desc) in kit.tools {
            entries.insert((*tool).into(), json!({"title": tool, "description": desc, "input_spec": null, "output_spec": null}));
        }
        tools.insert(
            (*name).into(),
            json!({"title": name, "description": description, "annotations": {}, "tools": entries}),
        );
    }
    json!({ "tools": tools })
}

pub(crate) fn is_builtin(name: &str) -> bool {
    TOOLKITS.iter().any(|k| k.name == name)
}

/// Routes a call to its toolkit. Unary calls are authorised here with their arguments;
/// streaming tools authorise with their start chunk.
pub(crate) async fn dispatch(call: &mut ToolCall) -> ToolResult {
    let Some(kit) = TOOLKITS.iter().find(|k| k.name == call.toolkit) else {
        let Some(hosted) = call.room.hosted.get(&call.toolkit) else {
            return Err(ToolError::new(
                NOT_FOUND,
                format!("this room has no toolkit named `{}`", call.toolkit),
            ));
        };
        call.authorize(&Value::Null)?;
        return super::hosted::forward(call, hosted).await;
    };
    if !kit.tools.iter().any(|(t, _)| *t == call.tool) {
        return Err(ToolError::new(
            NOT_FOUND,
            format!(
                "toolkit `{}` has no tool named `{}`",
                call.toolkit, call.tool
            ),
        ));
    }
    // Streams are authorised in full on their start chunk; a token without the toolkit's
    // API grant is refused before anything is read.
    if call.requests.is_some() {
        call.authorize_api()?;
    }
    // Storage checks its paths first (a bad path is 3004, not a denial) and then authorises.
    if call.requests.is_none() && call.toolkit != "storage" {
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
        "services" => services::invoke(call).await,
        "storage" => storage::invoke(call).await,
        "secrets" => secrets::invoke(call).await,
        "dataset" => dataset::invoke(call).await,
        "sqlite" => sqlite::invoke(call).await,
        "containers" => containers::invoke(call).await,
        "mounts" => mounts::invoke(call).await,
        "memory" => memory::invoke(call).await,
        "sync" => sync::invoke(call).await,
        "stats" => stats::invoke(call).await,
        _ => unreachable!("checked against TOOLKITS above"),
    }
}
