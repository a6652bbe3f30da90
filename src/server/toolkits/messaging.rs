//! `messaging`: direct and broadcast messages, and presence.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::protocol::error_codes::NOT_FOUND;
use crate::protocol::{Encoded, pack_message};
use crate::server::call::{ToolCall, ToolError, ToolResult, arg_str, empty};
use crate::server::outbox::next_message_id;
use crate::server::room::{Participant, Room};

use super::spec::{ANSWERS_EMPTY, Arg, JSON_STREAM, Tool, Ty, opt, req, tool};

pub(crate) const TOOLKIT: super::Toolkit = super::Toolkit::new(
    "messaging",
    "Messages and presence between participants",
    &crate::auth::check::MESSAGING,
    TOOLS,
    |call| Box::pin(invoke(call)),
)
.on_leave(|room, who| {
    if who.messaging_enabled.load(Ordering::SeqCst) {
        announce_disabled(room, who);
    }
});

const TO: Arg = req(
    "to_participant_id",
    Ty::Str,
    "the id of the participant to send to",
);
const TYPE: Arg = req(
    "type",
    Ty::Str,
    "the message's type, chosen by the application",
);
const MESSAGE: Arg = opt(
    "message_json",
    Ty::Str,
    "the message: a JSON object, encoded as a string",
)
.or("\"{}\"");
const ATTACHMENT: Arg = opt(
    "attachment_base64",
    Ty::Str,
    "bytes sent with the message, base64-encoded",
);

const TOOLS: &[Tool] = &[
    tool("enable", "Join messaging and receive presence", &[]).answers(ANSWERS_EMPTY),
    tool("disable", "Leave messaging", &[]).answers(ANSWERS_EMPTY),
    tool(
        "send",
        "Send a message to one participant",
        &[TO, TYPE, MESSAGE, ATTACHMENT],
    )
    .answers(ANSWERS_EMPTY)
    .writes(),
    tool(
        "broadcast",
        "Send a message to every participant",
        &[TYPE, MESSAGE, ATTACHMENT],
    )
    .answers(ANSWERS_EMPTY)
    .writes(),
    tool(
        "stream",
        "Open a two-way stream of messages with one participant",
        &[TO, TYPE, MESSAGE, ATTACHMENT],
    )
    .takes(JSON_STREAM)
    .answers(JSON_STREAM),
];

pub(crate) async fn invoke(call: &mut ToolCall) -> ToolResult {
    if call.tool == "stream" {
        return super::messaging_stream::stream(call).await;
    }
    let args = call.json_args()?;
    match call.tool.as_str() {
        "enable" => {
            enable(&call.room, &call.caller);
            empty()
        }
        "disable" => {
            let _presence = call.room.presence.lock().unwrap_or_else(|p| p.into_inner());
            if call.caller.messaging_enabled.swap(false, Ordering::SeqCst) {
                announce_disabled(&call.room, &call.caller);
            }
            empty()
        }
        "send" => {
            let to = arg_str(&args, "to_participant_id")?;
            let (msg_type, message, attachment) = message_parts(&args)?;
            let target = call.room.participant(to).ok_or_else(|| {
                ToolError::new(NOT_FOUND, format!("participant {to} is not in the room"))
            })?;
            deliver(&[target], &call.caller, &msg_type, message, &attachment);
            empty()
        }
        "broadcast" => {
            let (msg_type, message, attachment) = message_parts(&args)?;
            let peers = call.room.messaging_peers(&call.caller.id);
            deliver(&peers, &call.caller, &msg_type, message, &attachment);
            empty()
        }
        other => Err(ToolError::invalid(format!(
            "messaging.{other} is not supported"
        ))),
    }
}

/// `type`, the parsed `message_json` object, and the decoded attachment of a send/broadcast.
pub(crate) fn message_parts(args: &Value) -> Result<(String, Value, Vec<u8>), ToolError> {
    let msg_type = arg_str(args, "type")?.to_string();
    let message = match args.get("message_json") {
        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
            .map_err(|e| ToolError::invalid(format!("message_json is not JSON: {e}")))?,
        Some(Value::Object(m)) => Value::Object(m.clone()),
        None | Some(Value::Null) => json!({}),
        Some(_) => {
            return Err(ToolError::invalid(
                "message_json must be a JSON object encoded as a string",
            ));
        }
    };
    if !message.is_object() {
        return Err(ToolError::invalid("message_json must encode a JSON object"));
    }
    let attachment = match args.get("attachment_base64") {
        Some(Value::String(s)) if !s.is_empty() => base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|e| ToolError::invalid(format!("attachment_base64 is not base64: {e}")))?,
        _ => Vec::new(),
    };
    Ok((msg_type, message, attachment))
}

/// Pushes one `messaging.send` from `from` to each of `to`, in the order the sender's requests
/// were read (this runs before the call's first wait). Encoded once: every receiver writes the
/// same bytes; each copy counts against the sender's in-flight bound until written.
fn deliver(
    to: &[Arc<Participant>],
    from: &Participant,
    msg_type: &str,
    message: Value,
    attachment: &[u8],
) {
    let body = pack_message(&send_header(&from.id, msg_type, message), attachment);
    let msg = Encoded::new(next_message_id(), "messaging.send", &body);
    for peer in to {
        peer.conn.push_encoded(&msg, Some(&from.conn));
    }
}

/// The header of a `messaging.send` push.
fn send_header(from: &str, msg_type: &str, message: Value) -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("from_participant_id".into(), Value::from(from));
    header.insert("type".into(), Value::from(msg_type));
    header.insert("message".into(), message);
    header
}

/// The `messaging.enabled` push listing `peers`, built from their kept presence texts (the
/// same header `send_header` makes, keys in serde_json's order).
fn enabled_list(who: &Participant, peers: &[Arc<Participant>]) -> Encoded {
    let texts: Vec<Arc<str>> = peers.iter().map(|p| p.presence_text()).collect();
    let mut json = String::with_capacity(128 + texts.iter().map(|t| t.len() + 1).sum::<usize>());
    json.push_str("{\"from_participant_id\":");
    json.push_str(&Value::from(who.id.as_str()).to_string());
    json.push_str(",\"message\":{\"participants\":[");
    for (i, t) in texts.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(t);
    }
    json.push_str("]},\"type\":\"messaging.enabled\"}");
    let mut body = Vec::with_capacity(8 + json.len());
    body.extend_from_slice(&(json.len() as u64).to_be_bytes());
    body.extend_from_slice(json.as_bytes());
    Encoded::new(next_message_id(), "messaging.send", &body)
}

/// Marks a participant messaging-enabled, tells it who else is there, and tells them.
fn enable(room: &Room, who: &Arc<Participant>) {
    let _presence = room.presence.lock().unwrap_or_else(|p| p.into_inner());
    let already = who.messaging_enabled.swap(true, Ordering::SeqCst);
    let peers = room.messaging_peers(&who.id);
    who.conn.push_encoded(&enabled_list(who, &peers), None);
    if !already {
        deliver(&peers, who, "participant.enabled", who.presence(), &[]);
    }
}

pub(crate) fn announce_disabled(room: &Room, who: &Participant) {
    let peers = room.messaging_peers(&who.id);
    deliver(
        &peers,
        who,
        "participant.disabled",
        json!({"id": who.id}),
        &[],
    );
}

/// `set_attributes`: merges the attributes and tells the messaging peers.
pub(crate) fn set_attributes(room: &Room, who: &Participant, attrs: Map<String, Value>) {
    crate::server::recording::attributes(room, who, &attrs);
    let merged = who.merge_attributes(attrs);
    let _presence = room.presence.lock().unwrap_or_else(|p| p.into_inner());
    if who.messaging_enabled.load(Ordering::SeqCst) {
        let peers = room.messaging_peers(&who.id);
        let change = json!({"attributes": merged});
        deliver(&peers, who, "participant.attributes", change, &[]);
    }
}
