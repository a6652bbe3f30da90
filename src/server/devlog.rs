//! Developer log events: what `developer.logs` streams carry.
//!
//! Free-form events keep the type and data a participant gave (`developer.log`); messages
//! (`info`/`warning`/`error`, and the server's own account of the room) become `otel.log`
//! events in OTLP/JSON, the shape MeshAgent's CLI prints.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Debug,
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn text(self) -> &'static str {
        match self {
            Severity::Debug => "DEBUG",
            Severity::Info => "INFO",
            Severity::Warning => "WARN",
            Severity::Error => "ERROR",
        }
    }

    /// OTLP severity numbers (DEBUG 5, INFO 9, WARN 13, ERROR 17).
    pub fn number(self) -> i64 {
        match self {
            Severity::Debug => 5,
            Severity::Info => 9,
            Severity::Warning => 13,
            Severity::Error => 17,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DevEvent {
    pub log_type: String,
    pub data: Map<String, Value>,
}

fn otel_value(v: &Value) -> Value {
    match v {
        Value::String(s) => json!({"stringValue": s}),
        Value::Bool(b) => json!({"boolValue": b}),
        Value::Number(n) if n.is_i64() => json!({"intValue": n.to_string()}),
        Value::Number(n) => json!({"doubleValue": n.as_f64()}),
        other => json!({"stringValue": other.to_string()}),
    }
}

impl DevEvent {
    /// An `otel.log` event holding one log record.
    pub fn otel(severity: Severity, message: &str, attributes: &Map<String, Value>) -> DevEvent {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            .to_string();
        let attributes: Vec<Value> = attributes
            .iter()
            .map(|(k, v)| json!({"key": k, "value": otel_value(v)}))
            .collect();
        let data = json!({
            "resourceLogs": [{
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "roomdeck"}}]},
                "scopeLogs": [{
                    "scope": {"name": "roomdeck"},
                    "logRecords": [{
                        "timeUnixNano": nanos,
                        "observedTimeUnixNano": nanos,
                        "severityNumber": severity.number(),
                        "severityText": severity.text(),
                        "body": {"stringValue": message},
                        "attributes": attributes,
                    }]
                }]
            }]
        });
        DevEvent {
            log_type: "otel.log".into(),
            data: data.as_object().cloned().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otel_event_has_the_record_the_cli_prints() {
        let mut attrs = Map::new();
        attrs.insert("participant".into(), json!("alice"));
        let e = DevEvent::otel(Severity::Warning, "careful", &attrs);
        assert_eq!(e.log_type, "otel.log");
        let record = &e.data["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
        assert_eq!(record["severityText"], "WARN");
        assert_eq!(record["body"]["stringValue"], "careful");
        assert!(
            record["timeUnixNano"]
                .as_str()
                .unwrap()
                .parse::<u128>()
                .unwrap()
                > 0
        );
        assert_eq!(record["attributes"][0]["value"]["stringValue"], "alice");
    }
}
