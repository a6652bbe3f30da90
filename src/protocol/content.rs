//! Content: the typed value carried by tool arguments, answers and stream chunks.

use serde_json::{Map, Value, json};
use thiserror::Error;

use super::message::{MessageError, pack_message, unpack_message};

#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Json(Value),
    Text(String),
    Empty,
    Binary {
        headers: Map<String, Value>,
        data: Vec<u8>,
    },
    File {
        name: String,
        mime_type: String,
        data: Vec<u8>,
    },
    Link {
        name: String,
        url: String,
    },
    Error {
        text: String,
        code: Option<i64>,
    },
    Control {
        method: ControlMethod,
        status_code: Option<i64>,
        message: Option<String>,
    },
    Raw {
        outputs: Vec<Value>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlMethod {
    Open,
    Close,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ContentError {
    #[error(transparent)]
    Message(#[from] MessageError),
    #[error("content header is missing required 'type'")]
    MissingType,
    #[error("unsupported content type: {0}")]
    Unsupported(String),
    #[error("{kind} content is missing required field '{field}'")]
    MissingField {
        kind: &'static str,
        field: &'static str,
    },
}

impl Content {
    pub fn json(value: Value) -> Content {
        Content::Json(value)
    }

    pub fn error(code: i64, text: impl Into<String>) -> Content {
        Content::Error {
            text: text.into(),
            code: Some(code),
        }
    }

    pub fn open() -> Content {
        Content::Control {
            method: ControlMethod::Open,
            status_code: None,
            message: None,
        }
    }

    pub fn close() -> Content {
        Content::Control {
            method: ControlMethod::Close,
            status_code: None,
            message: None,
        }
    }

    pub fn binary(headers: Value, data: Vec<u8>) -> Content {
        let headers = match headers {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        Content::Binary { headers, data }
    }

    pub fn is_open(&self) -> bool {
        matches!(
            self,
            Content::Control {
                method: ControlMethod::Open,
                ..
            }
        )
    }

    pub fn is_close(&self) -> bool {
        matches!(
            self,
            Content::Control {
                method: ControlMethod::Close,
                ..
            }
        )
    }

    /// The JSON header of this Content, as it goes on the wire.
    pub fn header(&self) -> Map<String, Value> {
        let v = match self {
            Content::Json(j) => json!({"type": "json", "json": j}),
            Content::Text(t) => json!({"type": "text", "text": t}),
            Content::Empty => json!({"type": "empty"}),
            Content::Binary { headers, .. } => json!({"type": "binary", "headers": headers}),
            Content::File {
                name, mime_type, ..
            } => json!({"type": "file", "name": name, "mime_type": mime_type}),
            Content::Link { name, url } => json!({"type": "link", "name": name, "url": url}),
            Content::Error { text, code } => {
                let mut v = json!({"type": "error", "text": text});
                if let Some(code) = code {
                    v["code"] = json!(code);
                }
                v
            }
            Content::Control {
                method,
                status_code,
                message,
            } => {
                let mut v = json!({"type": "control", "method": match method { ControlMethod::Open => "open", ControlMethod::Close => "close" }});
                if let Some(s) = status_code {
                    v["status_code"] = json!(s);
                }
                if let Some(m) = message {
                    v["message"] = json!(m);
                }
                v
            }
            Content::Raw { outputs } => json!({"type": "raw", "outputs": outputs}),
        };
        match v {
            Value::Object(m) => m,
            _ => unreachable!("every arm builds an object"),
        }
    }

    /// The binary payload that travels after the header.
    pub fn data(&self) -> &[u8] {
        match self {
            Content::Binary { data, .. } | Content::File { data, .. } => data,
            _ => &[],
        }
    }

    /// The Content as a whole message body (`__response__`, tool call responses).
    pub fn pack(&self) -> Vec<u8> {
        pack_message(&self.header(), self.data())
    }

    pub fn unpack(body: &[u8]) -> Result<Content, ContentError> {
        let (header, payload) = unpack_message(body)?;
        Content::from_parts(&header, payload)
    }

    /// Builds a Content from a header object and its payload.
    pub fn from_parts(
        header: &Map<String, Value>,
        payload: &[u8],
    ) -> Result<Content, ContentError> {
        let kind = header
            .get("type")
            .and_then(Value::as_str)
            .ok_or(ContentError::MissingType)?;
        let str_field = |kind: &'static str, field: &'static str| -> Result<String, ContentError> {
            header
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or(ContentError::MissingField { kind, field })
        };
        Ok(match kind {
            "json" => Content::Json(header.get("json").cloned().ok_or(
                ContentError::MissingField {
                    kind: "json",
                    field: "json",
                },
            )?),
            "text" => Content::Text(str_field("text", "text")?),
            "empty" => Content::Empty,
            "binary" => Content::Binary {
                headers: header
                    .get("headers")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default(),
                data: payload.to_vec(),
            },
            "file" => Content::File {
                name: str_field("file", "name")?,
                mime_type: str_field("file", "mime_type")?,
                data: payload.to_vec(),
            },
            "link" => Content::Link {
                name: str_field("link", "name")?,
                url: str_field("link", "url")?,
            },
            "error" => Content::Error {
                text: str_field("error", "text")?,
                code: header.get("code").and_then(Value::as_i64),
            },
            "control" => Content::Control {
                method: match str_field("control", "method")?.as_str() {
                    "open" => ControlMethod::Open,
                    "close" => ControlMethod::Close,
                    other => {
                        return Err(ContentError::Unsupported(format!("control method {other}")));
                    }
                },
                status_code: header.get("status_code").and_then(Value::as_i64),
                message: header
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            },
            "raw" => Content::Raw {
                outputs: header
                    .get("outputs")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            },
            other => return Err(ContentError::Unsupported(other.to_string())),
        })
    }

    /// A short description for logs and error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Content::Json(_) => "json",
            Content::Text(_) => "text",
            Content::Empty => "empty",
            Content::Binary { .. } => "binary",
            Content::File { .. } => "file",
            Content::Link { .. } => "link",
            Content::Error { .. } => "error",
            Content::Control { .. } => "control",
            Content::Raw { .. } => "raw",
        }
    }
}

/// Splits a stream-chunk message (`{"tool_call_id", "chunk": <Content header>}` + payload)
/// into its call id and Content.
pub fn unpack_chunk(body: &[u8]) -> Result<(String, Content), String> {
    let (header, payload) = unpack_message(body).map_err(|e| e.to_string())?;
    let id = header
        .get("tool_call_id")
        .and_then(Value::as_str)
        .ok_or("chunk without tool_call_id")?
        .to_string();
    let chunk = header
        .get("chunk")
        .and_then(Value::as_object)
        .ok_or("chunk without a Content header")?;
    let content = Content::from_parts(chunk, payload).map_err(|e| e.to_string())?;
    Ok((id, content))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_kind_round_trips() {
        let all = vec![
            Content::Json(json!({"a": [1, 2]})),
            Content::Text("hi".into()),
            Content::Empty,
            Content::binary(json!({"kind": "data"}), vec![1, 2, 3]),
            Content::File {
                name: "a.txt".into(),
                mime_type: "text/plain".into(),
                data: b"abc".to_vec(),
            },
            Content::Link {
                name: "n".into(),
                url: "http://x".into(),
            },
            Content::error(1001, "denied"),
            Content::Error {
                text: "no code".into(),
                code: None,
            },
            Content::open(),
            Content::Control {
                method: ControlMethod::Close,
                status_code: Some(1000),
                message: Some("bye".into()),
            },
            Content::Raw {
                outputs: vec![json!(1)],
            },
        ];
        for c in all {
            assert_eq!(Content::unpack(&c.pack()).unwrap(), c);
        }
    }

    #[test]
    fn wire_shapes_match_the_sdk() {
        assert_eq!(
            Value::Object(Content::Empty.header()),
            json!({"type": "empty"})
        );
        assert_eq!(
            Value::Object(Content::open().header()),
            json!({"type": "control", "method": "open"})
        );
        assert_eq!(
            Value::Object(Content::error(1003, "gone").header()),
            json!({"type": "error", "text": "gone", "code": 1003})
        );
    }

    #[test]
    fn bad_headers_are_errors() {
        let h = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            Content::from_parts(&h(json!({})), b""),
            Err(ContentError::MissingType)
        );
        assert_eq!(
            Content::from_parts(&h(json!({"type": "nope"})), b""),
            Err(ContentError::Unsupported("nope".into()))
        );
        assert_eq!(
            Content::from_parts(&h(json!({"type": "text"})), b""),
            Err(ContentError::MissingField {
                kind: "text",
                field: "text"
            })
        );
        assert!(
            Content::from_parts(&h(json!({"type": "control", "method": "sideways"})), b"").is_err()
        );
    }

    #[test]
    fn chunks_unpack_with_their_call_id() {
        let header =
            json!({"tool_call_id": "t1", "chunk": {"type": "binary", "headers": {"kind": "data"}}});
        let body = crate::protocol::message::pack_value(&header, b"xyz");
        assert_eq!(
            unpack_chunk(&body).unwrap(),
            (
                "t1".to_string(),
                Content::binary(json!({"kind": "data"}), b"xyz".to_vec())
            )
        );
        assert!(
            unpack_chunk(&crate::protocol::message::pack_value(
                &json!({"chunk": {}}),
                b""
            ))
            .is_err()
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Content::unpack(&body);
        }
    }
}
