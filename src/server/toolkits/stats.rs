//! `stats`: the room's own counters, for the console's overview (rates are their differences
//! over time). Counted where every call passes (`record`, called once per finished call) with
//! relaxed atomics, so a call costs a map look-up and one or two increments.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::json;

use super::spec::{Tool, Ty, req, tool};

use crate::protocol::error_codes::NOT_FOUND;
use crate::server::call::{ToolCall, ToolError, ToolResult, arg_str, json_reply};

pub(crate) const TOOLKIT: super::Toolkit = super::Toolkit::new(
    "stats",
    "The room's counters: calls, messages, queue operations and errors",
    &crate::auth::check::STATS,
    TOOLS,
    |call| Box::pin(invoke(call)),
);

const TOOLS: &[Tool] = &[
    tool(
        "room",
        "Counters since the server started and the participants now",
        &[],
    ),
    tool(
        "participant",
        "One participant as the room knows it: name, role, attributes and its token's API scope",
        &[req("id", Ty::Str, "the participant's id")],
    ),
];

/// Callers remembered per room, so a message's sender can be named after it left (a CLI
/// command joins, sends and leaves before the console asks).
const RECENT: usize = 256;

#[derive(Default)]
pub(crate) struct Counters {
    calls: AtomicU64,
    messages: AtomicU64,
    queue_ops: AtomicU64,
    errors: AtomicU64,
    /// (id, name, role) of the last callers, newest last.
    recent: Mutex<VecDeque<(String, String, String)>>,
}

/// The counters of each room by name (kept across its sessions; readers take differences).
static ROOMS: LazyLock<Mutex<HashMap<String, Arc<Counters>>>> = LazyLock::new(Default::default);

/// The counters of the room named `room`: the room takes them once when its session starts,
/// so the map's lock stays off the call path.
pub(crate) fn counters(room: &str) -> Arc<Counters> {
    let mut rooms = ROOMS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = rooms.get(room) {
        return c.clone();
    }
    rooms.entry(room.to_string()).or_default().clone()
}

/// Counts one finished call. The stats calls themselves are left out: the console polls them
/// every second, and its own polling is not the room's activity.
pub(crate) fn record(call: &ToolCall, failed: bool) {
    let p = &call.caller;
    count(
        &call.room.stats,
        (&p.id, &p.name, &p.role),
        &call.toolkit,
        &call.tool,
        failed,
    );
}

fn count(
    c: &Counters,
    (id, name, role): (&str, &str, &str),
    toolkit: &str,
    tool: &str,
    failed: bool,
) {
    if toolkit == TOOLKIT.name {
        return;
    }
    {
        let mut recent = c.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent.back().is_none_or(|(last, _, _)| last != id) {
            recent.retain(|(i, _, _)| i != id);
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back((id.to_string(), name.to_string(), role.to_string()));
        }
    }
    c.calls.fetch_add(1, Ordering::Relaxed);
    match toolkit {
        "messaging" if matches!(tool, "send" | "broadcast") => {
            c.messages.fetch_add(1, Ordering::Relaxed);
        }
        // Listing reads no queue: consoles poll it, and it is not work on the queues.
        "queues" if tool != "list" => {
            c.queue_ops.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    }
    // A logged error counts as one too: it is how agents and services report theirs.
    if failed || (toolkit == "developer" && tool == "error") {
        c.errors.fetch_add(1, Ordering::Relaxed);
    }
}

pub(crate) async fn invoke(call: &mut ToolCall) -> ToolResult {
    if call.tool == "participant" {
        let args = call.json_args()?;
        let id = arg_str(&args, "id")?;
        if let Some(p) = call.room.participant(id) {
            return json_reply(json!({
                "id": p.id,
                "name": p.name,
                "role": p.role,
                "attributes": p.attributes(),
                "scope": p.scope,
                "present": true,
            }));
        }
        // Gone already (a CLI command leaves before the console asks): the room's recent
        // callers still name it.
        let recent = call
            .room
            .stats
            .recent
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let (_, name, role) = recent.iter().find(|(i, _, _)| i == id).ok_or_else(|| {
            ToolError::new(
                NOT_FOUND,
                format!("no participant with id `{id}` is in the room or called it lately"),
            )
        })?;
        return json_reply(json!({
            "id": id,
            "name": name,
            "role": role,
            "attributes": {},
            "present": false,
        }));
    }
    let c = &call.room.stats;
    let participants = call
        .room
        .participants
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .len();
    json_reply(json!({
        "calls": c.calls.load(Ordering::Relaxed),
        "messages": c.messages.load(Ordering::Relaxed),
        "queue_operations": c.queue_ops.load(Ordering::Relaxed),
        "errors": c.errors.load(Ordering::Relaxed),
        "participants": participants,
        "session_id": call.room.session_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_by_kind_and_stats_calls_are_not() {
        let room = &*counters("stats-test-room");
        let who = ("p-1", "grace", "user");
        count(room, who, "messaging", "broadcast", false);
        count(room, who, "queues", "send", false);
        count(room, who, "queues", "receive", true);
        count(room, who, "queues", "list", false);
        count(room, ("p-2", "linus", "user"), "developer", "error", false);
        count(room, who, "queues", "send", false);
        count(room, who, "stats", "room", false);
        let c = room;
        assert_eq!(c.calls.load(Ordering::Relaxed), 6);
        assert_eq!(c.messages.load(Ordering::Relaxed), 1);
        assert_eq!(c.queue_ops.load(Ordering::Relaxed), 3);
        assert_eq!(c.errors.load(Ordering::Relaxed), 2);
        let recent = c.recent.lock().unwrap();
        let names: Vec<&str> = recent.iter().map(|(_, n, _)| n.as_str()).collect();
        assert_eq!(names, ["linus", "grace"], "each caller once, newest last");
    }
}
