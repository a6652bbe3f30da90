//! One recorded event, its kinds, its compact binary form and its JSON form (export, detail).

use serde_json::{Map, Value, json};

/// What an event is about. The byte is its code on disk: never renumber.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Kind {
    /// A participant joined.
    Join = 1,
    /// A participant left.
    Leave = 2,
    /// A participant changed its attributes.
    Attributes = 3,
    /// A message: messaging send, broadcast or stream.
    Message = 4,
    /// A queue operation: send, receive, drain, ...
    Queue = 5,
    /// A storage change or read.
    Storage = 6,
    /// A sync document opened, changed or closed.
    Sync = 7,
    /// Any other tool call.
    #[default]
    Call = 8,
    /// A service started, exited or restarted.
    Service = 9,
    /// A developer log line.
    Log = 10,
    /// A wire message that is not a call (seen by the inspector).
    Packet = 11,
    /// The recording itself: started, ended, events it could not keep.
    Session = 12,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Join,
        Kind::Leave,
        Kind::Attributes,
        Kind::Message,
        Kind::Queue,
        Kind::Storage,
        Kind::Sync,
        Kind::Call,
        Kind::Service,
        Kind::Log,
        Kind::Packet,
        Kind::Session,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Join => "join",
            Kind::Leave => "leave",
            Kind::Attributes => "attributes",
            Kind::Message => "message",
            Kind::Queue => "queue",
            Kind::Storage => "storage",
            Kind::Sync => "sync",
            Kind::Call => "call",
            Kind::Service => "service",
            Kind::Log => "log",
            Kind::Packet => "packet",
            Kind::Session => "session",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn from_code(code: u8) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| *k as u8 == code)
    }

    /// The kind of a call to `toolkit`: the Room APIs whose calls are events of their own.
    pub fn of_toolkit(toolkit: &str) -> Kind {
        match toolkit {
            "messaging" => Kind::Message,
            "queues" => Kind::Queue,
            "storage" => Kind::Storage,
            "sync" => Kind::Sync,
            _ => Kind::Call,
        }
    }
}

/// One thing that happened in a session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Event {
    /// Microseconds since the session began, from a monotonic clock.
    pub t_us: u64,
    pub kind: Kind,
    /// Who did it: a participant's name, or "" for the room itself.
    pub participant: String,
    pub participant_id: String,
    /// A call's toolkit and tool; a packet's message type in `tool`; a service's name, a log
    /// line's severity in `toolkit`.
    pub toolkit: String,
    pub tool: String,
    /// One line a person reads in a list.
    pub summary: String,
    /// How long a call took, from request to answer.
    pub duration_us: Option<u64>,
    /// A failed call's error.
    pub error: Option<String>,
    /// JSON text: a call's arguments, a message's body, a log line's attributes ("" if none).
    pub request: String,
    /// JSON text: a call's answer ("" if none).
    pub answer: String,
    /// Bytes kept with the event: a sync update, an attachment, a file's first bytes.
    pub data: Vec<u8>,
}

impl Event {
    pub fn new(kind: Kind, summary: impl Into<String>) -> Event {
        Event {
            kind,
            summary: summary.into(),
            ..Event::default()
        }
    }

    /// The event as one JSON object (`sessions export`, the Timeline's detail view).
    /// `started_at_ms` turns its offset into a wall-clock time.
    pub fn to_json(&self, started_at_ms: u64) -> Value {
        let mut out = Map::new();
        out.insert("t".into(), json!(self.t_us as f64 / 1e6));
        let at_ms = started_at_ms + self.t_us / 1000;
        out.insert("at".into(), Value::String(iso8601_ms(at_ms)));
        out.insert("kind".into(), json!(self.kind.as_str()));
        let text = |out: &mut Map<String, Value>, k: &str, v: &str| {
            if !v.is_empty() {
                out.insert(k.into(), Value::String(v.to_string()));
            }
        };
        text(&mut out, "participant", &self.participant);
        text(&mut out, "participant_id", &self.participant_id);
        text(&mut out, "toolkit", &self.toolkit);
        text(&mut out, "tool", &self.tool);
        text(&mut out, "summary", &self.summary);
        if let Some(d) = self.duration_us {
            out.insert("duration_ms".into(), json!(d as f64 / 1000.0));
        }
        if let Some(e) = &self.error {
            out.insert("error".into(), Value::String(e.clone()));
        }
        for (k, v) in [("request", &self.request), ("answer", &self.answer)] {
            if !v.is_empty() {
                // Kept as JSON where it is JSON, else as the text it is.
                let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.clone()));
                out.insert(k.into(), value);
            }
        }
        if !self.data.is_empty() {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD.encode(&self.data);
            out.insert("data_base64".into(), Value::String(b64));
        }
        Value::Object(out)
    }

    /// Appends the event's compact form to `out` (the body of one segment record).
    ///
    /// ```text
    /// varint t_us | u8 kind | varint duration_us + 1 (0: none) | u8 flags (1: error)
    /// str participant | str participant_id | str toolkit | str tool
    /// str summary | [str error] | str request | str answer | bytes data
    /// ```
    /// `str` and `bytes` are a varint length and that many bytes. The fields a list needs
    /// come first, so `open.rs` indexes a session without decoding the rest.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.t_us);
        out.push(self.kind as u8);
        put_varint(out, self.duration_us.map_or(0, |d| d.saturating_add(1)));
        out.push(u8::from(self.error.is_some()));
        for s in [
            &self.participant,
            &self.participant_id,
            &self.toolkit,
            &self.tool,
            &self.summary,
        ] {
            put_bytes(out, s.as_bytes());
        }
        if let Some(e) = &self.error {
            put_bytes(out, e.as_bytes());
        }
        put_bytes(out, self.request.as_bytes());
        put_bytes(out, self.answer.as_bytes());
        put_bytes(out, &self.data);
    }

    /// The event `encode` wrote, or None for bytes that are not one.
    pub fn decode(body: &[u8]) -> Option<Event> {
        let mut r = Reader(body);
        let head = r.head()?;
        let text = |r: &mut Reader| r.bytes().map(|b| String::from_utf8_lossy(b).into_owned());
        let participant = text(&mut r)?;
        let participant_id = text(&mut r)?;
        let toolkit = text(&mut r)?;
        let tool = text(&mut r)?;
        let summary = text(&mut r)?;
        let error = if head.error {
            Some(text(&mut r)?)
        } else {
            None
        };
        let request = text(&mut r)?;
        let answer = text(&mut r)?;
        let data = r.bytes()?.to_vec();
        Some(Event {
            t_us: head.t_us,
            kind: head.kind,
            participant,
            participant_id,
            toolkit,
            tool,
            summary,
            duration_us: head.duration_us,
            error,
            request,
            answer,
            data,
        })
    }
}

/// The fixed fields at the start of an encoded event, and the three names a list filters on.
pub(crate) struct Head<'a> {
    pub t_us: u64,
    pub kind: Kind,
    pub error: bool,
    pub participant: &'a [u8],
    pub toolkit: &'a [u8],
    pub tool: &'a [u8],
}

/// Reads the start of an encoded event without decoding the rest.
pub(crate) fn head(body: &[u8]) -> Option<Head<'_>> {
    let mut r = Reader(body);
    let h = r.head()?;
    let participant = r.bytes()?;
    let _participant_id = r.bytes()?;
    let toolkit = r.bytes()?;
    let tool = r.bytes()?;
    Some(Head {
        t_us: h.t_us,
        kind: h.kind,
        error: h.error,
        participant,
        toolkit,
        tool,
    })
}

struct Fixed {
    t_us: u64,
    kind: Kind,
    duration_us: Option<u64>,
    error: bool,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.varint()?).ok()?;
        let (b, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        Some(b)
    }

    fn head(&mut self) -> Option<Fixed> {
        let t_us = self.varint()?;
        let kind = Kind::from_code(self.byte()?)?;
        let duration_us = self.varint()?.checked_sub(1);
        let error = self.byte()? & 1 == 1;
        Some(Fixed {
            t_us,
            kind,
            duration_us,
            error,
        })
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// `2026-12-04T01:02:03.456Z` for milliseconds since the Unix epoch.
pub fn iso8601_ms(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let nanos = ((ms % 1000) * 1_000_000) as u32;
    chrono::DateTime::from_timestamp(secs, nanos)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Event {
        Event {
            t_us: 1_234_567_890,
            kind: Kind::Queue,
            participant: "agent-7".into(),
            participant_id: "p1".into(),
            toolkit: "queues".into(),
            tool: "send".into(),
            summary: "send to jobs".into(),
            duration_us: Some(0),
            error: Some("queue jobs is closed".into()),
            request: r#"{"queue":"jobs"}"#.into(),
            answer: String::new(),
            data: vec![0, 1, 2, 255],
        }
    }

    #[test]
    fn events_round_trip_through_their_compact_form() {
        for e in [full(), Event::default(), Event::new(Kind::Log, "hello ✓")] {
            let mut buf = Vec::new();
            e.encode(&mut buf);
            assert_eq!(Event::decode(&buf), Some(e.clone()));
            let h = head(&buf).expect("head");
            assert_eq!((h.t_us, h.kind), (e.t_us, e.kind));
            assert_eq!(h.participant, e.participant.as_bytes());
            assert_eq!(h.tool, e.tool.as_bytes());
        }
    }

    #[test]
    fn truncated_or_foreign_bytes_are_not_events() {
        let mut buf = Vec::new();
        full().encode(&mut buf);
        for cut in 0..buf.len() {
            assert_eq!(Event::decode(&buf[..cut]), None, "cut at {cut}");
        }
        assert_eq!(
            Event::decode(&[0, 99, 0, 0]),
            None,
            "kind 99 does not exist"
        );
    }

    #[test]
    fn kinds_keep_their_codes_and_names() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_code(k as u8), Some(k));
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kind::Join as u8, 1);
        assert_eq!(Kind::Session as u8, 12);
        assert_eq!(Kind::of_toolkit("queues"), Kind::Queue);
        assert_eq!(Kind::of_toolkit("dataset"), Kind::Call);
    }

    #[test]
    fn json_form_keeps_json_as_json_and_names_the_time() {
        let j = full().to_json(1_764_806_400_000);
        assert_eq!(j["kind"], "queue");
        assert_eq!(j["request"]["queue"], "jobs");
        assert_eq!(j["error"], "queue jobs is closed");
        assert_eq!(j["duration_ms"], 0.0);
        assert_eq!(j["data_base64"], "AAEC/w==");
        assert!(
            j["at"]
                .as_str()
                .unwrap()
                .starts_with("2025-12-04T00:20:34.567"),
            "{j}"
        );
        assert!(j.get("answer").is_none());
    }
}
