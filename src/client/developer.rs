//! The `developer` toolkit from the client side: log events and the live log stream.

use serde_json::{Value, json};

use super::{ClientError, RoomClient, ToolStream};
use crate::protocol::Content;

#[derive(Debug, Clone, PartialEq)]
pub struct DevLogEvent {
    pub log_type: String,
    pub data: Value,
}

pub struct DeveloperClient {
    room: RoomClient,
}

impl DeveloperClient {
    pub(super) fn new(room: RoomClient) -> DeveloperClient {
        DeveloperClient { room }
    }

    pub async fn log(&self, log_type: &str, data: Value) -> Result<(), ClientError> {
        self.room
            .invoke(
                "developer",
                "log",
                Content::Json(json!({"type": log_type, "data": data})),
            )
            .await
            .map(|_| ())
    }

    async fn message(&self, level: &str, message: &str, extra: Value) -> Result<(), ClientError> {
        self.room
            .invoke(
                "developer",
                level,
                Content::Json(json!({"message": message, "extra": extra})),
            )
            .await
            .map(|_| ())
    }

    pub async fn info(&self, message: &str, extra: Value) -> Result<(), ClientError> {
        self.message("info", message, extra).await
    }

    pub async fn warning(&self, message: &str, extra: Value) -> Result<(), ClientError> {
        self.message("warning", message, extra).await
    }

    pub async fn error(&self, message: &str, extra: Value) -> Result<(), ClientError> {
        self.message("error", message, extra).await
    }

    /// Follows the room's developer log events until the stream is dropped or closed.
    pub async fn logs(&self) -> Result<LogStream, ClientError> {
        Ok(LogStream {
            stream: self.room.invoke_stream("developer", "logs", None).await?,
        })
    }
}

pub struct LogStream {
    stream: ToolStream,
}

impl LogStream {
    pub async fn next(&mut self) -> Option<Result<DevLogEvent, ClientError>> {
        let chunk = match self.stream.next().await? {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        let Content::Binary { headers, data } = chunk else {
            return Some(Err(ClientError::Protocol(format!(
                "developer.logs sent a {} chunk",
                chunk.kind()
            ))));
        };
        let log_type = headers
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        let data = if data.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(&data).unwrap_or(Value::Null)
        };
        Some(Ok(DevLogEvent { log_type, data }))
    }

    pub async fn close(mut self) {
        self.stream.close().await;
    }
}

/// One record of an `otel.log` event, flattened for display.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// Nanoseconds since the Unix epoch (0 when absent).
    pub time_unix_nano: u128,
    pub severity: String,
    pub body: String,
}

/// The records of an `otel.log` event (OTLP/JSON `resourceLogs[].scopeLogs[].logRecords[]`).
pub fn otel_records(event: &DevLogEvent) -> Vec<LogRecord> {
    let mut out = Vec::new();
    let list = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for resource in list(&event.data, "resourceLogs") {
        for scope in list(&resource, "scopeLogs") {
            for record in list(&scope, "logRecords") {
                let time = match record.get("timeUnixNano") {
                    Some(Value::String(s)) => s.parse().unwrap_or(0),
                    Some(Value::Number(n)) => n.as_u64().unwrap_or(0) as u128,
                    _ => 0,
                };
                let severity = record
                    .get("severityText")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| severity_name(record.get("severityNumber")).to_string());
                let body = match record.get("body") {
                    Some(b) => b
                        .get("stringValue")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| b.to_string()),
                    None => String::new(),
                };
                out.push(LogRecord {
                    time_unix_nano: time,
                    severity,
                    body,
                });
            }
        }
    }
    out
}

/// The OTLP name of a severity number (1-4 TRACE, 5-8 DEBUG, ... 21-24 FATAL).
fn severity_name(number: Option<&Value>) -> &'static str {
    match number.and_then(Value::as_i64).unwrap_or(9) {
        ..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        _ => "FATAL",
    }
}

/// Plain text lines for an event: `time LEVEL body` for otel.log records, else `type data`.
pub fn otel_lines(event: &DevLogEvent) -> Vec<String> {
    if event.log_type != "otel.log" {
        return vec![format!("{} {}", event.log_type, event.data)];
    }
    otel_records(event)
        .into_iter()
        .map(|r| {
            let time = std::time::UNIX_EPOCH
                + std::time::Duration::from_nanos(r.time_unix_nano.min(u64::MAX as u128) as u64);
            format!(
                "{} {} {}",
                humantime::format_rfc3339_millis(time),
                r.severity,
                r.body
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_without_severity_text_take_it_from_the_number() {
        let event = DevLogEvent {
            log_type: "otel.log".into(),
            data: json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
                {"timeUnixNano": "1000000000", "severityNumber": 17, "body": {"stringValue": "boom"}},
                {"severityText": "WARN", "body": {"stringValue": "careful"}}
            ]}]}]}),
        };
        let records = otel_records(&event);
        assert_eq!(records[0].severity, "ERROR");
        assert_eq!(records[0].time_unix_nano, 1_000_000_000);
        assert_eq!(records[1].severity, "WARN");
        assert!(otel_lines(&event)[0].ends_with("ERROR boom"));
    }
}
