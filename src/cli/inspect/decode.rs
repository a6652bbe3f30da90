//! One relayed connection's protocol traffic as timeline events: requests paired with their
//! `__response__` by message id (streams by `tool_call_id`), the room's pushes (messages,
//! presence, storage and log events), and the connection's own open and close.
//!
//! Each direction reassembles its own packets (`Reassembler`) and hands whole messages to
//! the one `Decoder` of the connection. Everything here is bounded: calls in flight, names
//! remembered, bytes kept with an event.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::protocol::content::{ControlMethod, unpack_chunk};
use crate::protocol::{Content, RawMessage, unpack_message};
use crate::timeline::content::of_content;
use crate::timeline::{Event, Kind};

/// Calls in flight per connection; past this the oldest is recorded as unanswered.
const MAX_PENDING: usize = 4096;
/// Participant names remembered per connection.
const MAX_NAMES: usize = 4096;
/// Which way a message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// From the program to the room.
    Up,
    /// From the room to the program.
    Down,
}

impl Dir {
    pub fn arrow(self) -> &'static str {
        match self {
            Dir::Up => "->",
            Dir::Down => "<-",
        }
    }
}

/// An event and the direction of the message that completed it.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub dir: Dir,
    pub event: Event,
}

struct Pending {
    kind: Kind,
    toolkit: String,
    tool: String,
    request: String,
    data: Vec<u8>,
    started_us: u64,
    tool_call_id: Option<String>,
    summary: String,
    /// A request stream: its chunks and bytes so far.
    up: Option<(u64, u64)>,
    /// A response stream (the answer was control open): its chunks and bytes so far.
    down: Option<(u64, u64)>,
    /// The last JSON a stream answered with, kept as the answer.
    last_answer: String,
}

pub struct Decoder {
    /// The participant whose connection this is (token name, then `connected`).
    pub participant: String,
    pub participant_id: String,
    pending: HashMap<u64, Pending>,
    /// tool_call_id -> request message id, for stream chunks.
    streams: HashMap<String, u64>,
    /// Participant ids -> names, from presence events.
    names: HashMap<String, String>,
}

fn text(h: &Map<String, Value>, key: &str) -> String {
    h.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

fn cut(mut data: Vec<u8>) -> Vec<u8> {
    // Kept as a local room's recorder keeps them; with MAX_PENDING this bounds a
    // connection's calls in flight at 16 MiB.
    data.truncate(crate::timeline::summary::DATA_KEPT);
    data
}

/// `queues.send jobs`: the call named as a local room's recorder names it
/// (`timeline::summary`), from its recorded arguments. `name_of` turns a participant id into a
/// name.
pub fn call_summary(
    toolkit: &str,
    tool: &str,
    request: &str,
    name_of: &dyn Fn(&str) -> String,
) -> String {
    let args = match serde_json::from_str::<Value>(request) {
        // A binary argument is recorded as {"type":"binary","headers":{..}}.
        Ok(Value::Object(mut o)) if o.get("type").and_then(Value::as_str) == Some("binary") => {
            o.remove("headers").unwrap_or(Value::Null)
        }
        Ok(v) => v,
        Err(_) => Value::Null,
    };
    crate::timeline::summary::call_summary(toolkit, tool, args.as_object(), 0, name_of)
}

impl Decoder {
    pub fn new(participant: String) -> Decoder {
        Decoder {
            participant,
            participant_id: String::new(),
            pending: HashMap::new(),
            streams: HashMap::new(),
            names: HashMap::new(),
        }
    }

    fn event(&self, kind: Kind, summary: impl Into<String>) -> Event {
        Event {
            participant: self.participant.clone(),
            participant_id: self.participant_id.clone(),
            ..Event::new(kind, summary)
        }
    }

    fn name_of(&self, id: &str) -> String {
        if id == self.participant_id && !self.participant.is_empty() {
            return self.participant.clone();
        }
        self.names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    fn remember(&mut self, id: &str, attributes: Option<&Value>) {
        let name = attributes
            .and_then(|a| a.get("name"))
            .and_then(Value::as_str);
        if let Some(name) = name {
            if self.names.len() >= MAX_NAMES && !self.names.contains_key(id) {
                self.names.clear();
            }
            self.names.insert(id.to_string(), name.to_string());
        }
    }

    fn add_pending(&mut self, id: u64, p: Pending, now_us: u64, out: &mut Vec<Seen>) {
        if self.pending.len() >= MAX_PENDING {
            // The oldest call goes on record as unanswered rather than be forgotten silently.
            if let Some(&oldest) = self.pending.keys().min()
                && let Some(old) = self.pending.remove(&oldest)
            {
                out.push(self.finish(
                    old,
                    now_us,
                    None,
                    Some("no answer seen (too many calls in flight)".into()),
                ));
            }
        }
        if let Some(call_id) = &p.tool_call_id {
            if self.streams.len() >= MAX_PENDING {
                self.streams.clear();
            }
            self.streams.insert(call_id.clone(), id);
        }
        self.pending.insert(id, p);
    }

    fn finish(
        &mut self,
        p: Pending,
        now_us: u64,
        answer: Option<(String, Vec<u8>)>,
        error: Option<String>,
    ) -> Seen {
        if let Some(id) = &p.tool_call_id {
            self.streams.remove(id);
        }
        let mut summary = p.summary.clone();
        let mut streamed = Vec::new();
        if let Some((n, bytes)) = p.up {
            streamed.push(format!("{n} chunks up, {bytes} B"));
        }
        if let Some((n, bytes)) = p.down {
            streamed.push(format!("{n} chunks down, {bytes} B"));
        }
        if !streamed.is_empty() {
            summary.push_str(&format!(" ({})", streamed.join("; ")));
        }
        if error.is_some() {
            summary.push_str(" failed");
        }
        let (answer, answer_data) = answer.unwrap_or((p.last_answer, Vec::new()));
        let mut data = p.data;
        if data.is_empty() {
            data = answer_data;
        }
        Seen {
            dir: Dir::Up,
            event: Event {
                toolkit: p.toolkit,
                tool: p.tool,
                request: p.request,
                answer,
                data: cut(data),
                duration_us: Some(now_us.saturating_sub(p.started_us)),
                error,
                ..self.event(p.kind, summary)
            },
        }
    }

    /// A whole message from the program to the room.
    pub fn up(&mut self, m: RawMessage, now_us: u64, out: &mut Vec<Seen>) {
        let seen = |event: Event| Seen {
            dir: Dir::Up,
            event,
        };
        match m.msg_type.as_str() {
            "room.invoke_tool" => {
                let Ok((h, payload)) = unpack_message(&m.payload) else {
                    out.push(seen(
                        self.event(Kind::Packet, "room.invoke_tool (unreadable)"),
                    ));
                    return;
                };
                let toolkit = text(&h, "toolkit");
                let tool = text(&h, "tool");
                let args = h
                    .get("arguments")
                    .and_then(Value::as_object)
                    .map(|a| Content::from_parts(a, payload));
                let streaming = matches!(&args, Some(Ok(c)) if c.is_open());
                let (request, data) = match args {
                    Some(Ok(c)) if !streaming => of_content(&c),
                    Some(Ok(_)) => (String::new(), Vec::new()),
                    _ => (
                        h.get("arguments").map(Value::to_string).unwrap_or_default(),
                        Vec::new(),
                    ),
                };
                let call_id = h
                    .get("tool_call_id")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let summary = call_summary(&toolkit, &tool, &request, &|id| self.name_of(id));
                let p = Pending {
                    kind: Kind::of_toolkit(&toolkit),
                    summary,
                    toolkit,
                    tool,
                    request,
                    data: cut(data),
                    started_us: now_us,
                    tool_call_id: call_id,
                    up: streaming.then_some((0, 0)),
                    down: None,
                    last_answer: String::new(),
                };
                self.add_pending(m.id, p, now_us, out);
            }
            "room.tool_call_request_chunk" => {
                let Ok((call_id, chunk)) = unpack_chunk(&m.payload) else {
                    return;
                };
                let Some(&id) = self.streams.get(&call_id) else {
                    return;
                };
                if chunk.is_close() {
                    return;
                }
                let names = &self.names;
                let (me, my_name) = (&self.participant_id, &self.participant);
                let Some(p) = self.pending.get_mut(&id) else {
                    return;
                };
                let (n, bytes) = p.up.get_or_insert((0, 0));
                *n += 1;
                *bytes += chunk.data().len() as u64;
                if p.request.is_empty() {
                    // A stream's first chunk says what the call is about (path, table, ...).
                    p.request = of_content(&chunk).0;
                    let name_of = |id: &str| {
                        if id == me.as_str() {
                            my_name.clone()
                        } else {
                            names.get(id).cloned().unwrap_or_else(|| id.to_string())
                        }
                    };
                    p.summary = call_summary(&p.toolkit, &p.tool, &p.request, &name_of);
                }
            }
            "set_attributes" => {
                let attrs = unpack_message(&m.payload)
                    .map(|(h, _)| Value::Object(h))
                    .unwrap_or(Value::Null);
                if let Some(name) = attrs.get("name").and_then(Value::as_str)
                    && self.participant.is_empty()
                {
                    self.participant = name.to_string();
                }
                out.push(seen(Event {
                    request: attrs.to_string(),
                    ..self.event(Kind::Attributes, "set_attributes")
                }));
            }
            "room.tool_call_response" | "room.tool_call_response_chunk" => {
                // The program hosts a tool: its answers to calls the room forwarded.
                let (request, data) = match m.msg_type.as_str() {
                    "room.tool_call_response" => Content::unpack(&m.payload)
                        .map(|c| of_content(&c))
                        .unwrap_or_default(),
                    _ => unpack_chunk(&m.payload)
                        .map(|(_, c)| of_content(&c))
                        .unwrap_or_default(),
                };
                out.push(seen(Event {
                    tool: m.msg_type.clone(),
                    request,
                    data: cut(data),
                    ..self.event(Kind::Packet, m.msg_type.clone())
                }));
            }
            other => {
                // room.list_toolkits, room.call, room.register_toolkit, ...: answered by id.
                let (request, data) = unpack_message(&m.payload)
                    .map(|(h, p)| (Value::Object(h).to_string(), p.to_vec()))
                    .unwrap_or_default();
                let (toolkit, tool) = other.split_once('.').unwrap_or(("", other));
                let p = Pending {
                    kind: Kind::Call,
                    summary: other.to_string(),
                    toolkit: toolkit.to_string(),
                    tool: tool.to_string(),
                    request,
                    data: cut(data),
                    started_us: now_us,
                    tool_call_id: None,
                    up: None,
                    down: None,
                    last_answer: String::new(),
                };
                self.add_pending(m.id, p, now_us, out);
            }
        }
    }

    /// A whole message from the room to the program.
    pub fn down(&mut self, m: RawMessage, now_us: u64, out: &mut Vec<Seen>) {
        let seen = |event: Event| Seen {
            dir: Dir::Down,
            event,
        };
        match m.msg_type.as_str() {
            "__response__" => {
                let content = Content::unpack(&m.payload);
                let Some(mut p) = self.pending.remove(&m.id) else {
                    // Answers to stream chunks (some servers send them) and strays.
                    if !matches!(content, Ok(Content::Empty)) {
                        out.push(seen(self.event(
                            Kind::Packet,
                            format!("__response__ to unknown request {}", m.id),
                        )));
                    }
                    return;
                };
                match content {
                    Ok(c) if c.is_open() && p.tool_call_id.is_some() => {
                        p.down = Some((0, 0));
                        self.pending.insert(m.id, p);
                    }
                    Ok(Content::Error { text, code }) => {
                        let error = match code {
                            Some(code) => format!("{text} (code {code})"),
                            None => text,
                        };
                        out.push(self.finish(p, now_us, None, Some(error)));
                    }
                    Ok(c) => {
                        let answer = of_content(&c);
                        if p.up.is_some() {
                            // A request stream answered at once; its chunks may still come.
                            p.last_answer = answer.0;
                            out.push(self.finish(p, now_us, None, None));
                        } else {
                            out.push(self.finish(p, now_us, Some(answer), None));
                        }
                    }
                    Err(e) => {
                        let error = format!("unreadable answer: {e}");
                        out.push(self.finish(p, now_us, None, Some(error)));
                    }
                }
            }
            "room.tool_call_response_chunk" => {
                let Ok((call_id, chunk)) = unpack_chunk(&m.payload) else {
                    return;
                };
                let Some(&id) = self.streams.get(&call_id) else {
                    return;
                };
                if !self.pending.contains_key(&id) {
                    return;
                }
                match chunk {
                    Content::Control {
                        method: ControlMethod::Close,
                        status_code,
                        message,
                    } => {
                        let Some(p) = self.pending.remove(&id) else {
                            return;
                        };
                        let error = match status_code {
                            Some(code) if code != 1000 => Some(format!(
                                "{} (status {code})",
                                message.unwrap_or_else(|| "stream closed".into())
                            )),
                            _ => None,
                        };
                        out.push(self.finish(p, now_us, None, error));
                    }
                    Content::Error { text, code } => {
                        let Some(p) = self.pending.remove(&id) else {
                            return;
                        };
                        let error = match code {
                            Some(code) => format!("{text} (code {code})"),
                            None => text,
                        };
                        out.push(self.finish(p, now_us, None, Some(error)));
                    }
                    c => {
                        let Some(p) = self.pending.get_mut(&id) else {
                            return;
                        };
                        let (n, bytes) = p.down.get_or_insert((0, 0));
                        *n += 1;
                        *bytes += c.data().len() as u64;
                        if !matches!(c, Content::Binary { .. }) {
                            p.last_answer = of_content(&c).0;
                        }
                    }
                }
            }
            "room_ready" => {
                let h = unpack_message(&m.payload)
                    .map(|(h, _)| h)
                    .unwrap_or_default();
                out.push(seen(Event {
                    answer: Value::Object(h.clone()).to_string(),
                    ..self.event(
                        Kind::Session,
                        format!(
                            "room ready: {} (session {})",
                            text(&h, "room_name"),
                            text(&h, "session_id")
                        ),
                    )
                }));
            }
            "connected" => {
                let h = unpack_message(&m.payload)
                    .map(|(h, _)| h)
                    .unwrap_or_default();
                if text(&h, "type") == "init" {
                    self.participant_id = text(&h, "participantId");
                    if self.participant.is_empty()
                        && let Some(n) = h
                            .get("attributes")
                            .and_then(|a| a.get("name"))
                            .and_then(Value::as_str)
                    {
                        self.participant = n.to_string();
                    }
                }
                let who = if self.participant.is_empty() {
                    self.participant_id.clone()
                } else {
                    self.participant.clone()
                };
                out.push(seen(Event {
                    answer: Value::Object(h).to_string(),
                    ..self.event(Kind::Join, format!("{who} joined"))
                }));
            }
            "messaging.send" => {
                let Ok((h, payload)) = unpack_message(&m.payload) else {
                    out.push(seen(
                        self.event(Kind::Packet, "messaging.send (unreadable)"),
                    ));
                    return;
                };
                let from = text(&h, "from_participant_id");
                let ty = text(&h, "type");
                let message = h.get("message").cloned().unwrap_or(Value::Null);
                let about = message.get("id").and_then(Value::as_str).unwrap_or("");
                let (kind, who, summary) = match ty.as_str() {
                    "participant.enabled" => {
                        self.remember(about, message.get("attributes"));
                        let name = self.name_of(about);
                        (
                            Kind::Join,
                            (name.clone(), about.to_string()),
                            format!("{name} joined"),
                        )
                    }
                    "participant.disabled" => {
                        let name = self.name_of(about);
                        (
                            Kind::Leave,
                            (name.clone(), about.to_string()),
                            format!("{name} left"),
                        )
                    }
                    "participant.attributes" => {
                        self.remember(&from, message.get("attributes"));
                        let name = self.name_of(&from);
                        (
                            Kind::Attributes,
                            (name.clone(), from.clone()),
                            format!("{name} set attributes"),
                        )
                    }
                    "messaging.enabled" => {
                        let peers = message
                            .get("participants")
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default();
                        for p in &peers {
                            if let Some(id) = p.get("id").and_then(Value::as_str) {
                                self.remember(id, p.get("attributes"));
                            }
                        }
                        let me = (self.participant.clone(), self.participant_id.clone());
                        (
                            Kind::Packet,
                            me,
                            format!("messaging enabled, {} others online", peers.len()),
                        )
                    }
                    _ => {
                        let name = self.name_of(&from);
                        let to = if self.participant.is_empty() {
                            "me".to_string()
                        } else {
                            self.participant.clone()
                        };
                        (
                            Kind::Message,
                            (name.clone(), from.clone()),
                            format!("{ty} from {name} to {to}"),
                        )
                    }
                };
                out.push(seen(Event {
                    participant: who.0,
                    participant_id: who.1,
                    toolkit: "messaging".into(),
                    tool: ty,
                    request: message.to_string(),
                    data: cut(payload.to_vec()),
                    ..Event::new(kind, summary)
                }));
            }
            "developer.log" => {
                let h = unpack_message(&m.payload)
                    .map(|(h, _)| h)
                    .unwrap_or_default();
                out.push(seen(Event {
                    toolkit: text(&h, "type"),
                    request: h.get("data").map(Value::to_string).unwrap_or_default(),
                    ..Event::new(Kind::Log, format!("developer.log {}", text(&h, "type")))
                }));
            }
            t if t.starts_with("storage.file.") => {
                let h = unpack_message(&m.payload)
                    .map(|(h, _)| h)
                    .unwrap_or_default();
                let who = text(&h, "participant_id");
                let path = match text(&h, "path") {
                    p if p.is_empty() => format!(
                        "{} -> {}",
                        text(&h, "source_path"),
                        text(&h, "destination_path")
                    ),
                    p => p,
                };
                out.push(seen(Event {
                    participant: self.name_of(&who),
                    participant_id: who,
                    toolkit: "storage".into(),
                    tool: t.trim_start_matches("storage.file.").to_string(),
                    request: Value::Object(h).to_string(),
                    ..Event::new(Kind::Storage, format!("{t} {path}"))
                }));
            }
            other => {
                let (answer, data) = unpack_message(&m.payload)
                    .map(|(h, p)| (Value::Object(h).to_string(), p.to_vec()))
                    .unwrap_or_default();
                out.push(seen(Event {
                    tool: other.to_string(),
                    answer,
                    data: cut(data),
                    ..self.event(Kind::Packet, other.to_string())
                }));
            }
        }
    }

    /// The connection ended: calls still waiting are recorded as unanswered.
    pub fn close(&mut self, now_us: u64, out: &mut Vec<Seen>) {
        let mut left: Vec<(u64, Pending)> = self.pending.drain().collect();
        left.sort_by_key(|(id, _)| *id);
        for (_, p) in left {
            out.push(self.finish(
                p,
                now_us,
                None,
                Some("no answer: the connection closed".into()),
            ));
        }
    }

    /// A connection-level event of this connection (opened, refused, closed, undecodable).
    pub fn session(&self, dir: Dir, summary: impl Into<String>) -> Seen {
        Seen {
            dir,
            event: self.event(Kind::Session, summary),
        }
    }
}

/// The `name` claim of a JWT, read without verifying it (the room verifies).
pub fn token_name(jwt: &str) -> Option<String> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// A JSON value for a test or a printout of events.
pub fn describe(seen: &Seen) -> Value {
    json!({"dir": seen.dir.arrow(), "event": seen.event.to_json(0)})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::pack_message;

    fn msg(id: u64, ty: &str, header: Value, payload: &[u8]) -> RawMessage {
        RawMessage {
            id,
            msg_type: ty.into(),
            payload: pack_message(header.as_object().unwrap(), payload),
        }
    }

    fn invoke(id: u64, toolkit: &str, tool: &str, args: Value) -> RawMessage {
        msg(
            id,
            "room.invoke_tool",
            json!({"toolkit": toolkit, "tool": tool, "arguments": {"type": "json", "json": args}, "tool_call_id": format!("c{id}")}),
            b"",
        )
    }

    fn response(id: u64, c: Content) -> RawMessage {
        RawMessage {
            id,
            msg_type: "__response__".into(),
            payload: c.pack(),
        }
    }

    #[test]
    fn calls_pair_with_their_answers_and_errors() {
        let mut d = Decoder::new("agent".into());
        let mut out = Vec::new();
        d.up(
            invoke(
                1,
                "queues",
                "send",
                json!({"name": "jobs", "message": {"n": 1}}),
            ),
            100,
            &mut out,
        );
        d.up(
            invoke(2, "storage", "stat", json!({"path": "a.txt"})),
            150,
            &mut out,
        );
        assert!(out.is_empty());
        d.down(
            response(2, Content::error(3001, "a.txt not found")),
            400,
            &mut out,
        );
        d.down(response(1, Content::Empty), 500, &mut out);
        let [a, b] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(a.event.kind, Kind::Storage);
        assert_eq!(
            a.event.error.as_deref(),
            Some("a.txt not found (code 3001)")
        );
        assert_eq!(a.event.duration_us, Some(250));
        assert_eq!(b.event.summary, "queues.send jobs");
        assert_eq!(b.event.participant, "agent");
        assert_eq!(b.event.duration_us, Some(400));
        assert!(b.event.request.contains("\"jobs\""), "{}", b.event.request);
    }

    #[test]
    fn streams_count_their_chunks_and_end_on_close() {
        let mut d = Decoder::new("agent".into());
        let mut out = Vec::new();
        d.up(
            msg(5, "room.invoke_tool", json!({"toolkit": "storage", "tool": "upload", "arguments": {"type": "control", "method": "open"}, "tool_call_id": "t5"}), b""),
            10,
            &mut out,
        );
        let chunk = |ty: &str, id: u64, c: Content| {
            let mut h = Map::new();
            h.insert("tool_call_id".into(), json!("t5"));
            h.insert("chunk".into(), Value::Object(c.header()));
            RawMessage {
                id,
                msg_type: ty.into(),
                payload: pack_message(&h, c.data()),
            }
        };
        d.up(
            chunk(
                "room.tool_call_request_chunk",
                6,
                Content::binary(json!({"kind": "start", "path": "big.bin"}), vec![]),
            ),
            11,
            &mut out,
        );
        d.down(response(5, Content::open()), 12, &mut out);
        d.up(
            chunk(
                "room.tool_call_request_chunk",
                7,
                Content::binary(json!({"kind": "data"}), vec![0; 100]),
            ),
            13,
            &mut out,
        );
        d.down(
            chunk(
                "room.tool_call_response_chunk",
                9,
                Content::binary(json!({"kind": "pull"}), vec![]),
            ),
            14,
            &mut out,
        );
        d.up(
            chunk("room.tool_call_request_chunk", 8, Content::close()),
            15,
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
        d.down(
            chunk("room.tool_call_response_chunk", 10, Content::close()),
            20,
            &mut out,
        );
        let [e] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(
            e.event.summary,
            "storage.upload big.bin (2 chunks up, 100 B; 1 chunks down, 0 B)"
        );
        assert_eq!(e.event.duration_us, Some(10));
        assert!(e.event.error.is_none());
    }

    #[test]
    fn pushes_become_messages_presence_and_packets() {
        let mut d = Decoder::new(String::new());
        let mut out = Vec::new();
        d.down(
            msg(
                1,
                "connected",
                json!({"type": "init", "participantId": "p1", "attributes": {"name": "me"}}),
                b"",
            ),
            1,
            &mut out,
        );
        let send = |ty: &str, from: &str, message: Value| {
            msg(
                1,
                "messaging.send",
                json!({"from_participant_id": from, "type": ty, "message": message}),
                b"att",
            )
        };
        d.down(
            send(
                "participant.enabled",
                "",
                json!({"id": "p2", "attributes": {"name": "bob"}}),
            ),
            2,
            &mut out,
        );
        d.down(send("chat", "p2", json!({"text": "hi"})), 3, &mut out);
        d.down(
            send("participant.disabled", "", json!({"id": "p2"})),
            4,
            &mut out,
        );
        d.down(
            msg(1, "room.status", json!({"status": "ready"}), b""),
            5,
            &mut out,
        );
        let kinds: Vec<_> = out
            .iter()
            .map(|s| (s.event.kind, s.event.summary.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::Join, "me joined"),
                (Kind::Join, "bob joined"),
                (Kind::Message, "chat from bob to me"),
                (Kind::Leave, "bob left"),
                (Kind::Packet, "room.status"),
            ]
        );
        assert_eq!(out[2].event.data, b"att");
        assert_eq!(out[2].event.participant_id, "p2");
    }

    #[test]
    fn unanswered_calls_are_recorded_when_the_connection_closes() {
        let mut d = Decoder::new("a".into());
        let mut out = Vec::new();
        d.up(
            invoke(1, "queues", "receive", json!({"name": "q", "wait": true})),
            1,
            &mut out,
        );
        d.close(9, &mut out);
        assert_eq!(
            out[0].event.error.as_deref(),
            Some("no answer: the connection closed")
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_messages_either_way_never_panic(
            msgs in proptest::collection::vec((0usize..12, 0u64..4, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64), proptest::prelude::any::<bool>()), 0..40)
        ) {
            const TYPES: [&str; 12] = ["room.invoke_tool", "__response__", "room.tool_call_request_chunk", "room.tool_call_response_chunk", "messaging.send", "connected", "room_ready", "set_attributes", "developer.log", "storage.file.moved", "room.tool_call_response", "x"];
            let mut d = Decoder::new(String::new());
            let mut out = Vec::new();
            for (t, id, payload, up) in msgs {
                // Half the time a well-formed header with junk values, else raw junk.
                let payload = if payload.first().is_some_and(|b| b % 2 == 0) {
                    pack_message(json!({"toolkit": "q", "tool": "t", "tool_call_id": "c", "arguments": {"type": "control", "method": "open"}, "chunk": {"type": "control", "method": "close", "status_code": 5}, "type": "init", "message": [1]}).as_object().unwrap(), &payload)
                } else {
                    payload
                };
                let m = RawMessage { id, msg_type: TYPES[t].into(), payload };
                if up { d.up(m, id, &mut out) } else { d.down(m, id, &mut out) }
            }
            d.close(99, &mut out);
            proptest::prop_assert!(d.pending.is_empty());
        }
    }

    #[test]
    fn token_names_are_read_without_verifying() {
        use base64::Engine;
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let jwt = format!(
            "{}.{}.sig",
            b64(json!({"alg": "HS256"})),
            b64(json!({"name": "agent-7"}))
        );
        assert_eq!(token_name(&jwt).as_deref(), Some("agent-7"));
        assert_eq!(token_name("garbage"), None);
        assert_eq!(token_name("a.!!!.c"), None);
    }
}
