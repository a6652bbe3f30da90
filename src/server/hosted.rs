//! Toolkits hosted by participants: `room.register_toolkit`, and calls on them forwarded to
//! the host as `room.tool_call.<toolkit>` with its answers carried back to the caller.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::call::{Reply, ToolCall, ToolError, ToolResult, random_id};
use super::room::{Participant, Room};
use crate::protocol::Content;
use crate::protocol::error_codes::{NOT_FOUND, OPERATION_FAILED};

/// A toolkit a participant registered.
#[derive(Clone)]
pub(crate) struct HostedToolkit {
    pub id: String,
    pub name: String,
    pub host: Arc<Participant>,
    /// The registration as sent: title, description, tools, public, annotations.
    pub spec: Map<String, Value>,
}

/// What the host sends back for one forwarded call.
pub(crate) enum HostEvent {
    Response(Content),
    Chunk(Content),
    HostLeft,
}

struct Forward {
    host_id: String,
    message_id: u64,
    events: mpsc::Sender<HostEvent>,
}

/// The room's hosted toolkits and the calls forwarded to them.
#[derive(Default)]
pub(crate) struct Hosted {
    toolkits: Mutex<HashMap<String, HostedToolkit>>,
    /// Calls in flight, by the tool_call_id the server gave the forwarded call.
    forwards: Mutex<HashMap<String, Forward>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Hosted {
    pub fn get(&self, name: &str) -> Option<HostedToolkit> {
        lock(&self.toolkits).get(name).cloned()
    }

    pub fn list(&self) -> Vec<HostedToolkit> {
        let mut all: Vec<HostedToolkit> = lock(&self.toolkits).values().cloned().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// Registers (or replaces, for the same host) a toolkit; Err when another participant has it.
    pub fn register(
        &self,
        host: &Arc<Participant>,
        spec: Map<String, Value>,
    ) -> Result<String, ToolError> {
        let name = spec
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ToolError::invalid("room.register_toolkit needs a `name`"))?
            .to_string();
        if super::toolkits::is_builtin(&name) {
            return Err(ToolError::new(
                crate::protocol::error_codes::ALREADY_EXISTS,
                format!("`{name}` is a built-in toolkit of the room"),
            ));
        }
        let mut toolkits = lock(&self.toolkits);
        if let Some(existing) = toolkits.get(&name) {
            if existing.host.id != host.id {
                return Err(ToolError::new(
                    crate::protocol::error_codes::ALREADY_EXISTS,
                    format!("toolkit `{name}` is already hosted by another participant"),
                ));
            }
        }
        let id = random_id();
        toolkits.insert(
            name.clone(),
            HostedToolkit {
                id: id.clone(),
                name,
                host: host.clone(),
                spec,
            },
        );
        Ok(id)
    }

    pub fn unregister(&self, host_id: &str, id: &str) -> bool {
        let mut toolkits = lock(&self.toolkits);
        let before = toolkits.len();
        toolkits.retain(|_, t| !(t.id == id && t.host.id == host_id));
        toolkits.len() != before
    }

    /// A host left: its toolkits go, and its calls in flight end with an error.
    pub fn host_left(&self, host_id: &str) {
        lock(&self.toolkits).retain(|_, t| t.host.id != host_id);
        let gone: Vec<Forward> = {
            let mut forwards = lock(&self.forwards);
            let ids: Vec<String> = forwards
                .iter()
                .filter(|(_, f)| f.host_id == host_id)
                .map(|(k, _)| k.clone())
                .collect();
            ids.into_iter()
                .filter_map(|k| forwards.remove(&k))
                .collect()
        };
        for f in gone {
            let _ = f.events.try_send(HostEvent::HostLeft);
        }
    }

    /// The host answered a forwarded call (`room.tool_call_response`, id = forwarded id).
    pub async fn host_response(&self, host_id: &str, message_id: u64, content: Content) {
        let sender = lock(&self.forwards)
            .values()
            .find(|f| f.host_id == host_id && f.message_id == message_id)
            .map(|f| f.events.clone());
        if let Some(sender) = sender {
            let _ = sender.send(HostEvent::Response(content)).await;
        }
    }

    /// The host sent a response chunk for a forwarded call.
    pub async fn host_chunk(&self, host_id: &str, tool_call_id: &str, content: Content) {
        let sender = lock(&self.forwards)
            .get(tool_call_id)
            .filter(|f| f.host_id == host_id)
            .map(|f| f.events.clone());
        if let Some(sender) = sender {
            let _ = sender.send(HostEvent::Chunk(content)).await;
        }
    }

    /// Registers a call about to be forwarded to `host`: its tool_call_id, the message id to
    /// send it with, and where the host's answers arrive. Registered before sending so an
    /// immediate answer finds its way back; `finish` removes it.
    pub fn open_forward(&self, host: &Participant) -> (String, u64, mpsc::Receiver<HostEvent>) {
        let forwarded_id = random_id();
        let (tx, events) = mpsc::channel(64);
        let message_id = host.conn.reserve_id();
        lock(&self.forwards).insert(
            forwarded_id.clone(),
            Forward {
                host_id: host.id.clone(),
                message_id,
                events: tx,
            },
        );
        (forwarded_id, message_id, events)
    }

    pub fn finish(&self, tool_call_id: &str) {
        lock(&self.forwards).remove(tool_call_id);
    }
}

/// `room.list_toolkits`: the built-in toolkits and the hosted ones (optionally one host's).
pub(crate) fn describe(room: &Room, participant_id: Option<&str>) -> Value {
    let mut answer = match participant_id {
        Some(_) => json!({"tools": {}}),
        None => super::toolkits::describe(),
    };
    for t in room.hosted.list() {
        if participant_id.is_some_and(|p| p != t.host.id) {
            continue;
        }
        let mut entry = Map::new();
        entry.insert(
            "title".into(),
            t.spec
                .get("title")
                .cloned()
                .unwrap_or_else(|| json!(t.name)),
        );
        entry.insert(
            "description".into(),
            t.spec.get("description").cloned().unwrap_or(json!("")),
        );
        entry.insert("participant_id".into(), json!(t.host.id));
        entry.insert(
            "annotations".into(),
            t.spec
                .get("annotations")
                .filter(|a| a.is_object())
                .cloned()
                .unwrap_or(json!({})),
        );
        entry.insert(
            "tools".into(),
            t.spec
                .get("tools")
                .filter(|a| a.is_object())
                .cloned()
                .unwrap_or(json!({})),
        );
        answer["tools"][&t.name] = Value::Object(entry);
    }
    answer
}

/// Forwards a call to the participant hosting its toolkit and carries the answer back.
pub(crate) async fn forward(call: &mut ToolCall, toolkit: HostedToolkit) -> ToolResult {
    let host = toolkit.host.clone();
    let tool_exists = toolkit
        .spec
        .get("tools")
        .and_then(Value::as_object)
        .is_none_or(|tools| tools.contains_key(&call.tool));
    if !tool_exists {
        return Err(ToolError::new(
            NOT_FOUND,
            format!(
                "toolkit `{}` has no tool named `{}`",
                toolkit.name, call.tool
            ),
        ));
    }
    let (forwarded_id, message_id, mut events) = call.room.hosted.open_forward(&host);
    let sent = send_tool_call(
        &host,
        message_id,
        &toolkit.name,
        &call.tool,
        &call.caller.id,
        &forwarded_id,
        &call.args,
    )
    .await;
    let result = if sent.is_err() {
        Err(host_gone(&toolkit.name))
    } else {
        relay(call, &toolkit, &host, &forwarded_id, &mut events).await
    };
    call.room.hosted.finish(&forwarded_id);
    result
}

/// Sends `room.tool_call.<toolkit>` to the participant that answers it, under `message_id`
/// (from `Hosted::open_forward`). Err = that participant's connection is gone.
pub(crate) async fn send_tool_call(
    host: &Participant,
    message_id: u64,
    toolkit: &str,
    tool: &str,
    caller_id: &str,
    tool_call_id: &str,
    args: &Content,
) -> Result<(), ()> {
    let header = json!({
        "name": tool,
        "arguments": args.header(),
        "caller_id": caller_id,
        "on_behalf_of_id": null,
        "tool_call_id": tool_call_id,
    });
    let header = header.as_object().cloned().unwrap_or_default();
    let msg_type = format!("room.tool_call.{toolkit}");
    host.conn
        .send_with_id(message_id, &msg_type, &header, args.data())
        .await
}

/// Sends one chunk of a forwarded call's request stream to the participant answering it.
pub(crate) async fn send_request_chunk(
    host: &Participant,
    toolkit: &str,
    tool_call_id: &str,
    chunk: Content,
) {
    let header = json!({"tool_call_id": tool_call_id, "chunk": chunk.header()});
    let header = header.as_object().cloned().unwrap_or_default();
    let msg_type = format!("room.tool_call_request_chunk.{toolkit}");
    let _ = host.conn.send_new(&msg_type, &header, chunk.data()).await;
}

fn host_gone(toolkit: &str) -> ToolError {
    ToolError::new(
        OPERATION_FAILED,
        format!("the participant hosting toolkit `{toolkit}` left before answering"),
    )
}

async fn relay(
    call: &mut ToolCall,
    toolkit: &HostedToolkit,
    host: &Arc<Participant>,
    forwarded_id: &str,
    events: &mut mpsc::Receiver<HostEvent>,
) -> ToolResult {
    let send_request_chunk =
        |chunk: Content| send_request_chunk(host, &toolkit.name, forwarded_id, chunk);
    let caller_conn = call.conn().clone();
    let mut request_open = call.requests.is_some();
    let mut stream: Option<super::call::ResponseStream> = None;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                None | Some(HostEvent::HostLeft) => {
                    return match stream {
                        None => Err(host_gone(&toolkit.name)),
                        Some(s) => {
                            let _ = s.send(&host_gone(&toolkit.name).content()).await;
                            s.close().await;
                            Ok(Reply::Streamed)
                        }
                    };
                }
                Some(HostEvent::Response(content)) if stream.is_none() => {
                    if !content.is_open() {
                        return Ok(Reply::Content(content));
                    }
                    stream = Some(call.open_stream().await?);
                }
                Some(HostEvent::Response(_)) => {}
                Some(HostEvent::Chunk(chunk)) => {
                    let Some(s) = &stream else { continue };
                    let done = chunk.is_close();
                    if s.send(&chunk).await.is_err() || done {
                        return Ok(Reply::Streamed);
                    }
                }
            },
            request = call.next_request(), if request_open => match request {
                Some(chunk) => send_request_chunk(chunk).await,
                None => {
                    request_open = false;
                    send_request_chunk(Content::Control { method: crate::protocol::content::ControlMethod::Close, status_code: Some(1000), message: None }).await;
                }
            },
            _ = caller_conn.closed() => {
                // The caller left: tell the host its request side is over.
                if call.requests.is_some() {
                    send_request_chunk(Content::close()).await;
                }
                return Ok(Reply::Streamed);
            }
        }
    }
}
