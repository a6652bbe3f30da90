//! What a call's arguments and answers look like in a recording, from the server's side and
//! the inspector's alike, and what is never kept of them: secrets' values.

use serde_json::{Map, Value, json};

use super::Event;
use crate::protocol::Content;

/// A Content as the recording keeps it: JSON text (a JSON content is its value; any other
/// kind its header, with `type`) and its bytes.
pub fn of_content(content: &Content) -> (String, Vec<u8>) {
    match content {
        Content::Json(v) => (v.to_string(), Vec::new()),
        Content::Text(s) => (json!({"type": "text", "text": s}).to_string(), Vec::new()),
        Content::Empty => (String::new(), Vec::new()),
        Content::Binary { headers, data } => (
            json!({"type": "binary", "headers": headers}).to_string(),
            data.clone(),
        ),
        Content::File {
            name,
            mime_type,
            data,
        } => (
            json!({"type": "file", "name": name, "mime_type": mime_type}).to_string(),
            data.clone(),
        ),
        Content::Link { name, url } => (
            json!({"type": "link", "name": name, "url": url}).to_string(),
            Vec::new(),
        ),
        Content::Error { text, code } => (
            json!({"type": "error", "text": text, "code": code}).to_string(),
            Vec::new(),
        ),
        // Streams and other kinds: their header is what there is to show.
        other => (Value::Object(other.header()).to_string(), Vec::new()),
    }
}

/// Keys whose values are secret wherever they appear in a secrets call.
const SECRET_KEYS: &[&str] = &[
    "value",
    "data",
    "secret",
    "token",
    "access_token",
    "refresh_token",
    "password",
];

pub const REDACTED: &str = "<redacted>";

/// Removes what must never be recorded: the values of the `secrets` toolkit's calls (the
/// bytes they carry, and value-like fields of their JSON). Names and types stay, so the
/// timeline still shows which secret was set or read.
pub fn redact_secrets(event: &mut Event) {
    if event.toolkit != "secrets" && !event.tool.starts_with("secrets.") {
        return;
    }
    event.data.clear();
    for text in [&mut event.request, &mut event.answer] {
        if text.is_empty() {
            continue;
        }
        *text = match serde_json::from_str::<Value>(text) {
            Ok(mut v) => {
                scrub(&mut v);
                v.to_string()
            }
            Err(_) => json!(REDACTED).to_string(),
        };
    }
}

fn scrub(v: &mut Value) {
    match v {
        Value::Object(map) => scrub_map(map),
        Value::Array(items) => items.iter_mut().for_each(scrub),
        _ => {}
    }
}

fn scrub_map(map: &mut Map<String, Value>) {
    for (k, v) in map.iter_mut() {
        if SECRET_KEYS.contains(&k.as_str()) {
            *v = Value::String(REDACTED.into());
        } else {
            scrub(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::Kind;

    #[test]
    fn secrets_calls_keep_names_and_lose_values() {
        let (request, data) = of_content(&Content::Binary {
            headers: json!({"name": "api-key", "value": "hunter2"})
                .as_object()
                .cloned()
                .unwrap(),
            data: b"sk-live-123".to_vec(),
        });
        let mut e = Event {
            toolkit: "secrets".into(),
            tool: "set_secret".into(),
            request,
            data,
            answer: r#"{"token":"abc","nested":[{"password":"p"}]}"#.into(),
            ..Event::new(Kind::Call, "set_secret api-key")
        };
        redact_secrets(&mut e);
        let all = format!("{e:?}");
        for secret in ["hunter2", "sk-live-123", "abc", "\"p\""] {
            assert!(!all.contains(secret), "{secret} leaked: {all}");
        }
        assert!(e.request.contains("api-key"), "{}", e.request);
        assert!(e.data.is_empty());
    }

    #[test]
    fn other_toolkits_are_kept_as_they_are() {
        let mut e = Event {
            toolkit: "storage".into(),
            request: r#"{"data":"x"}"#.into(),
            data: vec![1],
            ..Event::default()
        };
        let before = e.clone();
        redact_secrets(&mut e);
        assert_eq!(e, before);
    }

    #[test]
    fn contents_keep_their_kind_and_bytes() {
        assert_eq!(of_content(&Content::Json(json!({"a": 1}))).0, r#"{"a":1}"#);
        assert_eq!(of_content(&Content::Empty).0, "");
        let (j, d) = of_content(&Content::File {
            name: "a.txt".into(),
            mime_type: "text/plain".into(),
            data: b"hi".to_vec(),
        });
        assert!(
            j.contains("\"type\":\"file\"") && j.contains("a.txt"),
            "{j}"
        );
        assert_eq!(d, b"hi");
    }
}
