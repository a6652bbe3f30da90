//! The bridge between the UI loop and the room: the only module that touches `RoomClient`.
//!
//! The UI sends [`NetCommand`]s on a channel; a task that owns the client carries them out and
//! answers with [`NetEvent`]s, together with everything the room pushes. The task connects,
//! reconnects with backoff, and reports the connection state. The types here are the UI's own,
//! so `App` can be tested without a network.

use serde_json::Value;

use crate::client::{DevLogEvent, otel_records};

pub mod docs;
pub mod files;
pub mod tools;
pub use docs::{DocSummary, DocsCommand, DocsEvent};
pub use files::{FileChange, FileEntry, FilesCommand, FilesEvent, TransferKind};
pub use tools::{ToolOutcome, ToolSummary, ToolkitSummary, ToolsCommand, ToolsEvent};

#[derive(Debug, Clone, PartialEq)]
pub enum ConnState {
    Connecting,
    Live,
    Reconnecting {
        attempt: u32,
        retry_in_secs: u64,
        reason: String,
    },
    /// Left for good (a refused token): no more retries.
    Failed {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct PeerInfo {
    pub id: String,
    pub name: String,
    pub role: String,
    /// As the room published them (name included).
    pub attributes: serde_json::Map<String, Value>,
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
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub time_ms: i64,
    pub level: Level,
    /// The developer log event type (`otel.log`, `info`, or what a client logged).
    pub source: std::sync::Arc<str>,
    pub text: Box<str>,
    /// The record's attributes as `key=value` pairs (OTel logs; empty otherwise). Not shown
    /// in the logs pane; the services pane matches on them (`service=NAME`).
    pub attrs: std::sync::Arc<str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueSummary {
    pub name: String,
    pub size: u64,
}

/// One room service as the services pane shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSummary {
    pub id: String,
    pub name: String,
    /// `running`, `restarting`, `exited`, ... (`unknown` when the room gave no state).
    pub state: String,
    /// Seconds since the epoch.
    pub started_at: Option<f64>,
    pub restart_count: u64,
    pub last_exit_code: Option<i64>,
    /// The ports' liveness in one word (`ready`, `not_ready`, `not_configured`, `-` for none).
    pub liveness: String,
}

/// A table of the room's database and its row count (None when counting failed).
#[derive(Debug, Clone, PartialEq)]
pub struct TableSummary {
    pub name: String,
    pub rows: Option<u64>,
}

/// One column of a table or of a result: name, type as the room reports it, nullability.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub ty: String,
    pub nullable: bool,
}

/// How a streamed SQL run goes, in order: `Columns`, any number of `Rows`, then one of
/// `Done`, `Affected`, `Cancelled` or `Error`.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlEvent {
    Columns(Vec<ColumnInfo>),
    /// One Arrow batch's rows as JSON values, in column order.
    Rows(Vec<Vec<Value>>),
    /// The rows ended: `seen` rows were read; `more` when reading stopped at the bound.
    Done {
        seen: u64,
        more: bool,
    },
    /// A statement without rows ran.
    Affected(u64),
    Cancelled,
    /// The room's message (SQLite's, for a bad statement).
    Error(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// What an export writes: rows the console holds, or a query run again and streamed to disk
/// (for a read whose result was cut at the console's bound).
#[derive(Debug, Clone, PartialEq)]
pub enum ExportSource {
    Rows {
        columns: Vec<String>,
        rows: Vec<Vec<Value>>,
    },
    Query(String),
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
    Services(Vec<ServiceSummary>),
    ServiceRestarted {
        name: String,
    },
    Logs(Vec<LogLine>),
    /// The storage pane's replies and the room's `storage.file.*` pushes.
    Files(FilesEvent),
    Tables(Vec<TableSummary>),
    TableSchema {
        table: String,
        columns: Vec<ColumnInfo>,
    },
    /// Progress of the SQL run `id` (see [`SqlEvent`]).
    Sql {
        id: u64,
        event: SqlEvent,
    },
    Exported {
        path: String,
        rows: u64,
    },
    /// The documents view's replies.
    Docs(DocsEvent),
    /// The toolkits view's replies.
    Tools(ToolsEvent),
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
    RefreshServices,
    /// Poll the services while the services tab is on screen.
    WatchServices(bool),
    ServiceRestart {
        id: String,
        name: String,
    },
    /// The storage pane's requests (listing, preview, transfers, delete, move).
    Files(FilesCommand),
    RefreshTables,
    InspectTable {
        table: String,
    },
    /// Runs SQL, streaming its rows; reading stops after `keep` rows (and one batch more,
    /// to know whether there are more).
    SqlRun {
        id: u64,
        sql: String,
        keep: usize,
    },
    SqlCancel {
        id: u64,
    },
    SqlExport {
        path: String,
        format: ExportFormat,
        source: ExportSource,
    },
    /// The documents view's requests (list, follow one live, replace its content).
    Docs(DocsCommand),
    /// The toolkits view's requests (list, invoke).
    Tools(ToolsCommand),
    /// Poll the documents list while the documents tab is on screen.
    WatchDocs(bool),
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
/// records (read by the client's `otel_records`); `info`/`warning`/`error` carry a message;
/// anything else shows its data as JSON.
pub fn log_lines(event: &DevLogEvent, now_ms: i64) -> Vec<LogLine> {
    let source: std::sync::Arc<str> = event.log_type.as_str().into();
    let data = &event.data;
    let mut out = Vec::new();
    if event.log_type == "otel.log" {
        let attrs = otel_attrs(data);
        for (i, rec) in otel_records(event).into_iter().enumerate() {
            let start = out.len();
            let time_ms = match (rec.time_unix_nano / 1_000_000) as i64 {
                0 => now_ms,
                t => t,
            };
            push_text(
                &mut out,
                time_ms,
                Level::parse(&rec.severity),
                &source,
                &rec.body,
            );
            if let Some(a) = attrs.get(i).filter(|a| !a.is_empty()) {
                let a: std::sync::Arc<str> = a.as_str().into();
                for l in &mut out[start..] {
                    l.attrs = a.clone();
                }
            }
        }
        return out;
    }
    let (level, text) = match event.log_type.as_str() {
        "info" | "warning" | "warn" | "error" | "debug" => {
            let msg = data.get("message").and_then(Value::as_str).unwrap_or("");
            let extra = data
                .get("extra")
                .filter(|e| !e.is_null() && e.as_object().is_none_or(|m| !m.is_empty()));
            let text = match extra {
                Some(e) => format!("{msg} {e}"),
                None => msg.to_string(),
            };
            (Level::parse(&event.log_type), text)
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

/// The attributes of each OTLP log record, in the order `otel_records` reads the records.
fn otel_attrs(data: &Value) -> Vec<String> {
    let list = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
    let mut out = Vec::new();
    for resource in list(data.get("resourceLogs")) {
        for scope in list(resource.get("scopeLogs")) {
            for record in list(scope.get("logRecords")) {
                let pairs: Vec<String> = list(record.get("attributes"))
                    .iter()
                    .filter_map(|kv| {
                        let key = kv.get("key")?.as_str()?;
                        let v = kv.get("value")?;
                        let value = ["stringValue", "intValue", "boolValue", "doubleValue"]
                            .iter()
                            .find_map(|k| v.get(*k))
                            .map(|x| match x {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                            .unwrap_or_else(|| v.to_string());
                        Some(format!("{key}={value}"))
                    })
                    .collect();
                out.push(pairs.join(" "));
            }
        }
    }
    out
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
            attrs: "".into(),
        });
    }
    if !any {
        out.push(LogLine {
            time_ms,
            level,
            source: source.clone(),
            text: "".into(),
            attrs: "".into(),
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

    fn ev(log_type: &str, data: Value) -> DevLogEvent {
        DevLogEvent {
            log_type: log_type.into(),
            data,
        }
    }

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
            {"timeUnixNano":1700000001000000000i64,"severityText":"ERROR","body":{"stringValue":"a\nb"}}
        ]}]}]});
        let lines = log_lines(&ev("otel.log", data), 5);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].level, Level::Warn);
        assert_eq!(lines[0].time_ms, 1_700_000_000_000);
        assert_eq!(&*lines[0].text, "disk low");
        assert_eq!(lines[1].level, Level::Error);
        assert_eq!(&*lines[2].text, "b");
        assert!(lines.iter().all(|l| l.attrs.is_empty()));
    }

    #[test]
    fn otel_attributes_are_kept_per_record() {
        let data = json!({"resourceLogs":[{"scopeLogs":[{"logRecords":[
            {"severityText":"INFO","body":{"stringValue":"listening"},
             "attributes":[{"key":"service","value":{"stringValue":"web"}},
                           {"key":"pid","value":{"intValue":"42"}}]},
            {"severityText":"INFO","body":{"stringValue":"plain"}},
            {"severityText":"INFO","body":{"stringValue":"x\ny"},
             "attributes":[{"key":"service","value":{"stringValue":"cron"}}]}
        ]}]}]});
        let lines = log_lines(&ev("otel.log", data), 5);
        assert_eq!(&*lines[0].attrs, "service=web pid=42");
        assert_eq!(&*lines[1].attrs, "");
        assert_eq!(&*lines[2].attrs, "service=cron");
        assert_eq!(&*lines[3].attrs, "service=cron");
    }

    #[test]
    fn other_events() {
        let l = log_lines(&ev("error", json!({"message": "boom", "extra": {}})), 7);
        assert_eq!(
            (l[0].level, &*l[0].text, l[0].time_ms),
            (Level::Error, "boom", 7)
        );
        let l = log_lines(&ev("demo", json!({"ok": true})), 7);
        assert_eq!(&*l[0].text, "{\"ok\":true}");
        assert_eq!(&*l[0].source, "demo");
    }
}
