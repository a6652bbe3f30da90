//! A participant's writes in words for the room's log ("alice sent an item to queue jobs"),
//! so a CLI command's own action shows in the console's Logs tab, not only its join and leave.
//!
//! Only writes are described: reads and the polls the console makes every second are not.
//! Each participant has a small budget of lines per second, so a producer sending thousands
//! of items costs one check per call and a few log events, not a broadcast per item.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::call::ToolCall;
use super::devlog::Severity;
use crate::protocol::Content;

/// Action lines one participant may log per second; more calls in that second go unlogged.
const PER_SECOND: u32 = 5;

pub(crate) struct ActionBudget(Mutex<(Instant, u32)>);

impl Default for ActionBudget {
    fn default() -> Self {
        ActionBudget(Mutex::new((Instant::now(), 0)))
    }
}

impl ActionBudget {
    fn take(&self) -> bool {
        let mut b = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if now.duration_since(b.0) >= Duration::from_secs(1) {
            *b = (now, 0);
        }
        b.1 += 1;
        b.1 <= PER_SECOND
    }
}

/// What a unary call will do, in words, when it is a write and the caller's budget allows a
/// line (logged by [`log`] once it succeeded). None for reads, streams and an empty budget.
pub(crate) fn describe(call: &ToolCall) -> Option<String> {
    if call.requests.is_some()
        || !super::toolkits::writes(&call.toolkit, &call.tool)
        || !call.caller.actions.take()
    {
        return None;
    }
    let args = match &call.args {
        Content::Json(v) => v,
        Content::Binary { headers, .. } => {
            return Some(words(call, &Value::Object(headers.clone())));
        }
        _ => &Value::Null,
    };
    Some(words(call, args))
}

/// Logs an action of the caller in words (its name first), within its budget. For streamed
/// writes, whose arguments `describe` does not see.
pub(crate) fn log(call: &ToolCall, action: String) {
    if call.caller.actions.take() {
        logged(call, action);
    }
}

/// Logs what [`describe`] gave.
pub(crate) fn logged(call: &ToolCall, action: String) {
    call.room
        .log(Severity::Info, format!("{} {action}", call.caller.name));
}

fn words(call: &ToolCall, args: &Value) -> String {
    let arg = |k: &str| {
        args.get(k)
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()
    };
    match (call.toolkit.as_str(), call.tool.as_str()) {
        ("queues", "open") => format!("opened queue {}", arg("name")),
        ("queues", "send") => format!("sent a message to queue {}", arg("name")),
        ("queues", "receive") => format!("received from queue {}", arg("name")),
        ("queues", "drain") => format!("drained queue {}", arg("name")),
        ("queues", "close") => format!("closed queue {}", arg("name")),
        ("messaging", "send") => {
            let to = arg("to_participant_id");
            let name = call.room.participant(&to).map_or(to, |p| p.name.clone());
            format!("sent a message to {name}")
        }
        ("messaging", "broadcast") => "broadcast a message".to_string(),
        ("storage", "delete") => format!("deleted {}", arg("path")),
        ("storage", "move") => {
            format!(
                "moved {} to {}",
                arg("source_path"),
                arg("destination_path")
            )
        }
        ("secrets", "set_secret") => "set a secret".to_string(),
        ("secrets", "delete_secret") => "deleted a secret".to_string(),
        ("services", "restart") => format!("restarted service {}", arg("service_id")),
        ("sqlite", "create_database") => format!("created database {}", arg("name")),
        ("sqlite", "drop_database") => format!("dropped database {}", arg("name")),
        ("sqlite", "create_table") => format!("created table {}", arg("name")),
        ("sqlite", "drop_table") => format!("dropped table {}", arg("name")),
        ("sqlite", "rename_table") => {
            format!("renamed table {} to {}", arg("name"), arg("new_name"))
        }
        ("sqlite", "insert") => format!("inserted rows into table {}", arg("table")),
        ("sqlite", "update") => format!("updated rows of table {}", arg("table")),
        ("sqlite", "delete") => format!("deleted rows from table {}", arg("table")),
        (toolkit, tool) => format!("called {toolkit}.{tool}"),
    }
}
