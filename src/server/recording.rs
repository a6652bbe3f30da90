//! A room session's flight recorder: what happens in the room, event by event, written to
//! `<room>/timeline/<session>/` (see `crate::timeline`).
//!
//! Every hook here is one line at the place it records (a call's answer, a join, a log
//! line) and costs nothing when recording is off. Tool calls hand over what they already
//! own (their arguments, their answer) and the event is made on the recorder's thread, so
//! the hot path pays for an `Instant`, a box and a channel send; bytes a call carries are
//! cut to `DATA_KEPT` first, except a sync update's, which is kept whole.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::call::{ToolCall, ToolError};
use super::devlog::Severity;
use super::room::{Participant, Room};
use crate::protocol::Content;
use crate::timeline::content::of_content;
use crate::timeline::summary::{DATA_KEPT, call_summary, size};
use crate::timeline::{Event, Kind, Limits, Recorder, SessionMeta};

/// Longest string argument kept whole (a message's JSON, its base64 attachment); a longer
/// one is replaced by a note of its size, so the recorder's queue never holds big payloads.
pub(crate) const TEXT_KEPT: usize = 256 << 10;
/// What the summary of a call whose arguments were cut ends with (`sessions replay` skips
/// such calls: they cannot be sent again as they were).
pub const ARGUMENTS_CUT: &str = "(arguments cut to fit the recording)";

/// Starts recording a new session of `room` under its data directory, or `Recorder::off()`
/// when recording is off or cannot start (said in the server's log: the room runs anyway).
pub(crate) fn start(
    data_dir: &std::path::Path,
    limits: Option<Limits>,
    room: &str,
    session_id: &str,
) -> Recorder {
    let Some(limits) = limits else {
        return Recorder::off();
    };
    let root = crate::store::room_dir(data_dir, room).join(crate::timeline::ROOM_DIR);
    let meta = SessionMeta {
        session_id: session_id.to_string(),
        room: room.to_string(),
        started_at_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        source: "local".into(),
    };
    match Recorder::start(&root, meta, limits) {
        Ok(rec) => {
            rec.record(Event {
                request: json!({"room": room, "session_id": session_id}).to_string(),
                ..Event::new(Kind::Session, "session started")
            });
            rec
        }
        Err(e) => {
            tracing::warn!(room, "cannot record session {session_id}: {e}");
            Recorder::off()
        }
    }
}

/// The session ended: says so and waits until the recording is on disk.
pub(crate) async fn ended(room: &Room) {
    let rec = room.recorder.clone();
    if !rec.is_on() {
        return;
    }
    rec.record(Event::new(Kind::Session, "session ended"));
    let _ = tokio::task::spawn_blocking(move || rec.sync()).await;
}

fn who(p: &Participant) -> (String, String) {
    (p.name.clone(), p.id.clone())
}

/// A participant joined.
pub(crate) fn joined(room: &Room, p: &Participant) {
    if !room.recorder.is_on() {
        return;
    }
    let (participant, participant_id) = who(p);
    room.recorder.record(Event {
        summary: format!("{participant} joined as {}", p.role),
        request: json!({"role": p.role, "attributes": p.attributes()}).to_string(),
        participant,
        participant_id,
        ..Event::new(Kind::Join, "")
    });
}

/// A participant left.
pub(crate) fn left(room: &Room, p: &Participant) {
    if !room.recorder.is_on() {
        return;
    }
    let (participant, participant_id) = who(p);
    room.recorder.record(Event {
        summary: format!("{participant} left"),
        participant,
        participant_id,
        ..Event::new(Kind::Leave, "")
    });
}

/// A participant set attributes (`attrs` is the change, not the whole set).
pub(crate) fn attributes(room: &Room, p: &Participant, attrs: &Map<String, Value>) {
    if !room.recorder.is_on() {
        return;
    }
    let (participant, participant_id) = who(p);
    let keys: Vec<&str> = attrs.keys().map(String::as_str).collect();
    room.recorder.record(Event {
        summary: format!("{participant} set {}", keys.join(", ")),
        request: Value::Object(attrs.clone()).to_string(),
        participant,
        participant_id,
        ..Event::new(Kind::Attributes, "")
    });
}

/// A developer log line of the room (the server's own account, a service's output).
pub(crate) fn log(
    rec: &Recorder,
    severity: Severity,
    message: &str,
    attributes: &Map<String, Value>,
) {
    if !rec.is_on() {
        return;
    }
    rec.record(Event {
        toolkit: severity.text().to_string(),
        request: if attributes.is_empty() {
            String::new()
        } else {
            Value::Object(attributes.clone()).to_string()
        },
        ..Event::new(Kind::Log, message)
    });
}

/// A service started, exited, is restarting or failed (`message` says which, as the
/// supervisor logs it).
pub(crate) fn service(rec: &Recorder, service: &str, message: &str) {
    if !rec.is_on() {
        return;
    }
    let what = ["failed", "started", "exited", "restarts", "restart"]
        .into_iter()
        .find(|w| message.contains(w))
        .map_or("service", |w| match w {
            "restarts" | "restart" => "restart",
            w => w,
        });
    rec.record(Event {
        toolkit: service.to_string(),
        tool: what.to_string(),
        ..Event::new(Kind::Service, message)
    });
}

/// One update a participant made to a sync document, kept whole.
pub(crate) fn sync_update(call: &ToolCall, path: &str, update: &[u8]) {
    let rec = &call.room.recorder;
    if !rec.is_on() {
        return;
    }
    let (participant, participant_id) = who(&call.caller);
    rec.record(Event {
        toolkit: "sync".into(),
        tool: "update".into(),
        summary: format!("sync.update {path} {}", size(update.len())),
        request: json!({"path": path, "size": update.len()}).to_string(),
        data: update.to_vec(),
        participant,
        participant_id,
        ..Event::new(Kind::Sync, "")
    });
}

/// A tool call being recorded: what it was, taken from the call once the toolkit is done.
pub(crate) struct CallRecord {
    rec: Recorder,
    caller: Arc<Participant>,
    toolkit: String,
    tool: String,
    args: Content,
    /// The argument's bytes before they were cut to `DATA_KEPT`.
    args_bytes: usize,
    /// Whether a string argument was longer than `TEXT_KEPT` (and replaced).
    args_cut: bool,
    streamed: bool,
    duration_us: u64,
    /// What the toolkit answered itself (`keep_answer`).
    kept: Option<Content>,
    /// A direct message's recipient by name, looked up at the call: by the time the event
    /// is made on the recorder's thread the recipient may have left.
    recipient: Option<String>,
}

/// Keeps a copy of an answer a toolkit sends itself (rather than returning it), so the
/// call's event shows it.
pub(crate) fn keep_answer(call: &ToolCall, answer: &Content) {
    if call.room.recorder.is_on() {
        let mut answer = answer.clone();
        cut(&mut answer, DATA_KEPT);
        *call
            .recorded_answer
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(answer);
    }
}

/// Where a streaming call's first request chunk is kept for its event (its arguments).
#[derive(Clone, Default)]
pub(crate) struct StartSlot(Arc<std::sync::Mutex<Option<Content>>>);

impl StartSlot {
    /// Keeps a copy of the start chunk, its bytes cut to `DATA_KEPT`.
    pub(crate) fn keep(&self, chunk: &Content) {
        let mut chunk = chunk.clone();
        cut(&mut chunk, DATA_KEPT);
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(chunk);
    }

    fn take(&self) -> Option<Content> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// When a call started, if the room records (`None` costs nothing more).
pub(crate) fn call_started(call: &ToolCall) -> Option<Instant> {
    call.room.recorder.is_on().then(Instant::now)
}

impl CallRecord {
    /// Takes the call's arguments (the call is done with them) and its duration so far.
    pub(crate) fn of(call: &mut ToolCall, started: Instant) -> CallRecord {
        let duration_us = started.elapsed().as_micros() as u64;
        let mut args = std::mem::replace(&mut call.args, Content::Empty);
        // A stream's arguments are its start chunk.
        if let Some(start) = call.recorded_start.as_ref().and_then(StartSlot::take) {
            args = start;
        }
        let keep = if call.toolkit == "sync" {
            usize::MAX
        } else {
            DATA_KEPT
        };
        let args_bytes = cut(&mut args, keep);
        let args_cut = cut_text(&mut args);
        let recipient = match &args {
            Content::Json(Value::Object(m)) if call.toolkit == "messaging" => m
                .get("to_participant_id")
                .and_then(Value::as_str)
                .and_then(|id| call.room.participant(id))
                .map(|p| p.name.clone()),
            _ => None,
        };
        CallRecord {
            rec: call.room.recorder.clone(),
            caller: call.caller.clone(),
            toolkit: std::mem::take(&mut call.toolkit),
            tool: std::mem::take(&mut call.tool),
            args,
            args_bytes,
            args_cut,
            streamed: call.requests.is_some(),
            duration_us,
            kept: call
                .recorded_answer
                .get_mut()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
            recipient,
        }
    }

    /// Records the call with its answer (None: it answered with a stream) or its error.
    pub(crate) fn answered(mut self, answer: Result<Option<Content>, &ToolError>) {
        let rec = self.rec.clone();
        let answer = match answer {
            Ok(Some(mut c)) => {
                let bytes = cut(&mut c, DATA_KEPT);
                Ok(Some((c, bytes)))
            }
            Ok(None) => Ok(self.kept.take().map(|c| (c, 0))),
            Err(e) => Err(format!("{} (code {})", e.message, e.code)),
        };
        rec.record_with(move || self.event(answer));
    }

    /// The event, made on the recorder's thread.
    fn event(self, answer: Result<Option<(Content, usize)>, String>) -> Event {
        let (request, mut data) = of_content(&self.args);
        let mut summary = self.summary();
        if self.streamed {
            summary.push_str(" (stream)");
        }
        if self.args_cut {
            summary.push(' ');
            summary.push_str(ARGUMENTS_CUT);
        }
        let (answer_text, error) = match answer {
            Ok(Some((c, bytes))) => {
                let (text, answer_data) = of_content(&c);
                if data.is_empty() && !answer_data.is_empty() {
                    data = answer_data;
                    summary.push_str(&format!(" → {}", size(bytes)));
                    if bytes > data.len() {
                        summary.push_str(&format!(" (first {} kept)", size(data.len())));
                    }
                }
                (text, None)
            }
            Ok(None) => (String::new(), None),
            Err(e) => {
                summary.push_str(" failed");
                (String::new(), Some(e))
            }
        };
        Event {
            kind: Kind::of_toolkit(&self.toolkit),
            participant: self.caller.name.clone(),
            participant_id: self.caller.id.clone(),
            toolkit: self.toolkit,
            tool: self.tool,
            summary,
            duration_us: Some(self.duration_us),
            error,
            request,
            answer: answer_text,
            data,
            ..Event::default()
        }
    }

    /// `queues.send jobs`, `messaging.broadcast chat 64 B`, `storage.upload a.txt`.
    fn summary(&self) -> String {
        let fields = match &self.args {
            Content::Json(Value::Object(m)) | Content::Binary { headers: m, .. } => Some(m),
            _ => None,
        };
        let name_of = |to: &str| self.recipient.clone().unwrap_or_else(|| to.to_string());
        call_summary(&self.toolkit, &self.tool, fields, self.args_bytes, &name_of)
    }
}

/// Replaces the top-level string arguments longer than `TEXT_KEPT` by a note of their size;
/// true if there was one.
fn cut_text(content: &mut Content) -> bool {
    let Content::Json(Value::Object(m)) = content else {
        return false;
    };
    let mut any = false;
    for v in m.values_mut() {
        if let Value::String(text) = v
            && text.len() > TEXT_KEPT
        {
            *v = Value::String(format!("<{} not recorded>", size(text.len())));
            any = true;
        }
    }
    any
}

/// Cuts the bytes of `content` to `keep`; returns how many it had.
fn cut(content: &mut Content, keep: usize) -> usize {
    match content {
        Content::Binary { data, .. } | Content::File { data, .. } => {
            let len = data.len();
            if len > keep {
                data.truncate(keep);
                data.shrink_to_fit();
            }
            len
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_events_name_what_happened() {
        let root = tempfile::tempdir().unwrap();
        let rec = start(root.path(), Some(Limits::default()), "r", "s1");
        for m in [
            "service echo started (pid 7)",
            "service echo exited with code 1",
            "service echo restarts in 0.5 s",
            "restart of service echo requested",
            "service echo failed to start: no such file",
        ] {
            service(&rec, "echo", m);
        }
        rec.sync();
        let dir = crate::store::room_dir(root.path(), "r")
            .join(crate::timeline::ROOM_DIR)
            .join("s1");
        let tools: Vec<String> = crate::timeline::open::read_events(&dir)
            .unwrap()
            .filter(|e| e.kind == Kind::Service)
            .map(|e| e.tool)
            .collect();
        assert_eq!(
            tools,
            ["started", "exited", "restart", "restart", "failed"].map(String::from)
        );
    }

    #[test]
    fn recording_off_starts_nothing() {
        let root = tempfile::tempdir().unwrap();
        let rec = start(root.path(), None, "r", "s1");
        assert!(!rec.is_on());
        assert!(!root.path().join("rooms").exists());
    }

    #[test]
    fn cut_keeps_the_first_bytes_and_says_how_many_there_were() {
        let mut c = Content::File {
            name: "a".into(),
            mime_type: "x".into(),
            data: vec![1; 10_000],
        };
        assert_eq!(cut(&mut c, DATA_KEPT), 10_000);
        assert_eq!(c.data().len(), DATA_KEPT);
        assert_eq!(size(64), "64 B");
        assert_eq!(size(12 << 10), "12.0 KiB");
    }
}
