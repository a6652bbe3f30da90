//! `mounts`: the storage volumes mounted into the room. A local room mounts none, so `list`
//! answers `{"volumes": []}` (the SDK's `MountsClient.list`). Guarded, like MeshAgent's
//! volumes, by the `containers` grant (see `auth::check`).

use serde_json::json;

use crate::server::call::{ToolCall, ToolError, ToolResult, json_reply};

use super::spec::tool;

pub(crate) const TOOLKIT: super::Toolkit = super::Toolkit::new(
    "mounts",
    "Storage volumes mounted into the room (a local room has none)",
    &crate::auth::check::MOUNTS,
    &[tool("list", "Mounted volumes and who uses them", &[])],
    |call| Box::pin(invoke(call)),
);

pub(crate) async fn invoke(call: &mut ToolCall) -> ToolResult {
    match call.tool.as_str() {
        "list" => json_reply(json!({ "volumes": [] })),
        other => Err(ToolError::invalid(format!(
            "mounts.{other} is not supported"
        ))),
    }
}
