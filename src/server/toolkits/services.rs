//! `services`: the room's services and their runtime state; restart one.

use crate::protocol::error_codes::{SERVICE_NOT_FOUND, SERVICE_RESTART_NOT_ALLOWED};
use crate::server::call::{ToolCall, ToolError, ToolResult, arg_str, empty, json_reply};
use crate::server::services::RestartError;

use super::spec::{ANSWERS_EMPTY, Tool, Ty, req, tool};

pub(crate) const TOOLKIT: super::Toolkit = super::Toolkit::new(
    "services",
    "The room's services and their runtime state",
    &crate::auth::check::SERVICES,
    TOOLS,
    |call| Box::pin(invoke(call)),
);

const TOOLS: &[Tool] = &[
    tool("list", "Service specs and runtime states", &[]),
    tool(
        "restart",
        "Restart a running service",
        &[req(
            "service_id",
            Ty::Str,
            "the id of the service to restart",
        )],
    )
    .answers(ANSWERS_EMPTY)
    .writes(),
];

pub(crate) async fn invoke(call: &mut ToolCall) -> ToolResult {
    let args = call.json_args()?;
    let services = call.room.session.services.clone();
    match call.tool.as_str() {
        "list" => json_reply(services.list().await),
        "restart" => {
            let id = arg_str(&args, "service_id")?;
            match services.restart(id).await {
                Ok(()) => empty(),
                Err(RestartError::Unknown(m)) => Err(ToolError::new(SERVICE_NOT_FOUND, m)),
                Err(RestartError::NotRestartable(m)) => {
                    Err(ToolError::new(SERVICE_RESTART_NOT_ALLOWED, m))
                }
            }
        }
        other => Err(ToolError::invalid(format!(
            "services.{other} is not supported"
        ))),
    }
}
