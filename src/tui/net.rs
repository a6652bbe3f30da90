//! The bridge between the UI loop and the room: the only module that touches `RoomClient`.
//!
//! The UI sends [`NetCommand`]s on a channel; a task that owns the client carries them out and
//! answers with [`NetEvent`]s, together with everything the room pushes. The task connects,
//! reconnects with backoff, and reports the connection state. The types here are the UI's own,
//! so `App` can be tested without a network.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum ConnState {
    Connecting,
    Live,
    Reconnecting {
        attempt: u32,
        retry_in_secs: u64,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct PeerInfo {
    pub id: String,
    pub name: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessage {
    pub time_ms: i64,
    pub from_id: String,
    pub from_name: String,
    /// The recipient's name for a direct message; `None` for everyone.
    pub to: Option<String>,
    pub kind: String,
    pub text: String,
    /// (name, size) of an attachment.
    pub attachment: Option<(String, usize)>,
    pub own: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
    pub fn parse(s: &str) -> Level {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("err") || s.starts_with("fatal") || s.starts_with("crit") {
            Level::Error
        } else if s.starts_with("warn") {
            Level::Warn
        } else if s.starts_with("debug") {
            Level::Debug
        } else if s.starts_with("trace") {
            Level::Trace
        } else {
            Level::Info
        }
    }
    /// From an OTLP severityNumber (1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17+ error).
    pub fn from_severity_number(n: i64) -> Level {
        match n {
            1..=4 => Level::Trace,
            5..=8 => Level::Debug,
            13..=16 => Level::Warn,
            17.. => Level::Error,
            _ => Level::Info,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub time_ms: i64,
    pub level: Level,
    /// The developer log event type (`otel.log`, `info`, or what a client logged).
    pub source: std::sync::Arc<str>,
    pub text: Box<str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueSummary {
    pub name: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NetEvent {
    State(ConnState),
    Joined {
        room: String,
        participant_id: String,
        name: String,
    },
    Participants(Vec<PeerInfo>),
    PeerJoined(PeerInfo),
    PeerLeft {
        id: String,
    },
    PeerRenamed {
        id: String,
        name: String,
    },
    Message(ChatMessage),
    Queues(Vec<QueueSummary>),
    QueueReceived {
        name: String,
        message: Option<Value>,
    },
    QueueSent {
        name: String,
    },
    QueueDrained {
        name: String,
    },
    Logs(Vec<LogLine>),
    /// A command failed; `what` says which, `error` is the client's sentence.
    Failed {
        what: String,
        error: String,
    },
    /// The room was left for good (for example a rejected token).
    Fatal(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum NetCommand {
    SendChat {
        to: Option<PeerInfo>,
        text: String,
    },
    QueueSend {
        name: String,
        message: Value,
        create: bool,
    },
    QueueReceive {
        name: String,
    },
    QueueDrain {
        name: String,
    },
    RefreshQueues,
    /// Poll queue sizes while the queues tab is on screen.
    WatchQueues(bool),
    DevLog {
        message: String,
    },
    Shutdown,
}

/// The text to show for a message: its `text` field when it has one, the JSON otherwise.
pub fn message_text(message: &Value) -> String {
    match message.get("text").and_then(Value::as_str) {
        Some(t) => t.to_string(),
        None => match message {
            Value::Object(m) if m.is_empty() => String::new(),
            Value::Null => String::new(),
            other => serde_json::to_string(other).unwrap_or_default(),
        },
    }
}

/// A developer log event as lines for the logs pane. `otel.log` events carry OTLP/JSON log
/// records; `info`/`warning`/`error` carry a message; anything else shows its data as JSON.
pub fn log_lines(log_type: &str, data: &Value, now_ms: i64) -> Vec<LogLine> {
    let source: std::sync::Arc<str> = log_type.into();
    let mut out = Vec::new();
    if log_type == "otel.log" {
        for rl in arr(data, "resourceLogs") {
            for sl in arr(rl, "scopeLogs") {
                for rec in arr(sl, "logRecords") {
                    let time_ms = rec
                        .get("timeUnixNano")
                        .and_then(|v| {
                            v.as_i64()
                                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                        })
                        .map(|ns| ns / 1_000_000)
                        .filter(|&t| t > 0)
                        .unwrap_or(now_ms);
                    let level = match rec.get("severityText").and_then(Value::as_str) {
                        Some(s) if !s.is_empty() => Level::parse(s),
                        _ => Level::from_severity_number(
                            rec.get("severityNumber")
                                .and_then(Value::as_i64)
                                .unwrap_or(9),
                        ),
                    };
                    let body = rec.get("body");
                    let text = match body
                        .and_then(|b| b.get("stringValue"))
                        .and_then(Value::as_str)
                    {
                        Some(s) => s.to_string(),
                        None => body.map(|b| b.to_string()).unwrap_or_default(),
                    };
                    push_text(&mut out, time_ms, level, &source, &text);
                }
            }
        }
        return out;
    }
    let (level, text) = match log_type {
        "info" | "warning" | "warn" | "error" | "debug" => {
            let msg = data.get("message").and_then(Value::as_str).unwrap_or("");
            let extra = data
                .get("extra")
                .filter(|e| !e.is_null() && e.as_object().is_none_or(|m| !m.is_empty()));
            let text = match extra {
                Some(e) => format!("{msg} {e}"),
                None => msg.to_string(),
            };
            (Level::parse(log_type), text)
        }
        _ => {
            let level = data
                .get("level")
                .or_else(|| data.get("severity"))
                .and_then(Value::as_str)
                .map(Level::parse)
                .unwrap_or(Level::Info);
            (level, data.to_string())
        }
    };
    push_text(&mut out, now_ms, level, &source, &text);
    out
}

fn arr<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn push_text(
    out: &mut Vec<LogLine>,
    time_ms: i64,
    level: Level,
    source: &std::sync::Arc<str>,
    text: &str,
) {
    // One entry per text line, so the buffer counts what the user sees.
    let mut any = false;
    for line in text.lines() {
        any = true;
        out.push(LogLine {
            time_ms,
            level,
            source: source.clone(),
            text: line.replace('\t', "    ").into(),
        });
    }
    if !any {
        out.push(LogLine {
            time_ms,
            level,
            source: source.clone(),
            text: "".into(),
        });
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_or_json() {
        assert_eq!(message_text(&json!({"text": "hi"})), "hi");
        assert_eq!(message_text(&json!({"n": 1})), "{\"n\":1}");
        assert_eq!(message_text(&json!({})), "");
    }

    #[test]
    fn otel_records() {
        let data = json!({"resourceLogs":[{"scopeLogs":[{"logRecords":[
            {"timeUnixNano":"1700000000000000000","severityText":"WARN","body":{"stringValue":"disk low"}},
            {"timeUnixNano":1700000001000000000i64,"severityNumber":17,"body":{"stringValue":"a\nb"}}
        ]}]}]});
        let lines = log_lines("otel.log", &data, 5);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].level, Level::Warn);
        assert_eq!(lines[0].time_ms, 1_700_000_000_000);
        assert_eq!(&*lines[0].text, "disk low");
        assert_eq!(lines[1].level, Level::Error);
        assert_eq!(&*lines[2].text, "b");
    }

    #[test]
    fn other_events() {
        let l = log_lines("error", &json!({"message": "boom", "extra": {}}), 7);
        assert_eq!(
            (l[0].level, &*l[0].text, l[0].time_ms),
            (Level::Error, "boom", 7)
        );
        let l = log_lines("demo", &json!({"ok": true}), 7);
        assert_eq!(&*l[0].text, "{\"ok\":true}");
        assert_eq!(&*l[0].source, "demo");
    }
}
