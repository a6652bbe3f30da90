//! Message bodies: `u64 BE header_len | UTF-8 JSON object | binary payload`.

use serde_json::{Map, Value};
use thiserror::Error;

/// Key the SDK adds to every header for tracing; receivers strip it.
pub const MESHAGENT_KEY: &str = "__meshagent__";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MessageError {
    #[error("message is too short")]
    TooShort,
    #[error("message header is incomplete: {declared} bytes declared, {available} available")]
    HeaderIncomplete { declared: u64, available: usize },
    #[error("invalid message header: {0}")]
    InvalidHeader(String),
    #[error("message header must be an object")]
    NotAnObject,
}

/// Packs a header object and a payload into a message body.
pub fn pack_message(header: &Map<String, Value>, payload: &[u8]) -> Vec<u8> {
    let json = serde_json::to_vec(header).expect("a JSON map always serialises");
    let mut body = Vec::with_capacity(8 + json.len() + payload.len());
    body.extend_from_slice(&(json.len() as u64).to_be_bytes());
    body.extend_from_slice(&json);
    body.extend_from_slice(payload);
    body
}

/// Like [`pack_message`] for a header given as a JSON value; non-objects pack as `{}`.
pub fn pack_value(header: &Value, payload: &[u8]) -> Vec<u8> {
    match header {
        Value::Object(map) => pack_message(map, payload),
        _ => pack_message(&Map::new(), payload),
    }
}

/// Splits a body into its header object (with `__meshagent__` removed) and payload.
pub fn unpack_message(body: &[u8]) -> Result<(Map<String, Value>, &[u8]), MessageError> {
    if body.len() < 8 {
        return Err(MessageError::TooShort);
    }
    let declared = u64::from_be_bytes(body[0..8].try_into().expect("8 bytes"));
    let available = body.len() - 8;
    if declared > available as u64 {
        return Err(MessageError::HeaderIncomplete {
            declared,
            available,
        });
    }
    let end = 8 + declared as usize;
    let text = std::str::from_utf8(&body[8..end])
        .map_err(|e| MessageError::InvalidHeader(e.to_string()))?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| MessageError::InvalidHeader(e.to_string()))?;
    let Value::Object(mut header) = value else {
        return Err(MessageError::NotAnObject);
    };
    header.remove(MESHAGENT_KEY);
    Ok((header, &body[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn round_trip_strips_meshagent_key() {
        let header =
            json!({"type": "json", "json": {"a": 1}, "__meshagent__": {"v": 1, "otel": {}}});
        let body = pack_value(&header, b"xyz");
        let (h, p) = unpack_message(&body).unwrap();
        assert_eq!(Value::Object(h), json!({"type": "json", "json": {"a": 1}}));
        assert_eq!(p, b"xyz");
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert_eq!(unpack_message(b"abc"), Err(MessageError::TooShort));
        let mut body = 100u64.to_be_bytes().to_vec();
        body.extend_from_slice(b"{}");
        assert!(matches!(
            unpack_message(&body),
            Err(MessageError::HeaderIncomplete {
                declared: 100,
                available: 2
            })
        ));
        let mut huge = u64::MAX.to_be_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        assert!(matches!(
            unpack_message(&huge),
            Err(MessageError::HeaderIncomplete { .. })
        ));
        let mut bad_utf8 = 2u64.to_be_bytes().to_vec();
        bad_utf8.extend_from_slice(&[0xff, 0xfe]);
        assert!(matches!(
            unpack_message(&bad_utf8),
            Err(MessageError::InvalidHeader(_))
        ));
        let mut bad_json = 3u64.to_be_bytes().to_vec();
        bad_json.extend_from_slice(b"{x}");
        assert!(matches!(
            unpack_message(&bad_json),
            Err(MessageError::InvalidHeader(_))
        ));
        let mut array = 2u64.to_be_bytes().to_vec();
        array.extend_from_slice(b"[]");
        assert_eq!(unpack_message(&array), Err(MessageError::NotAnObject));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = unpack_message(&body);
        }

        #[test]
        fn objects_round_trip(key in "[a-z]{1,8}", val in any::<i64>(), payload in proptest::collection::vec(any::<u8>(), 0..100)) {
            let mut map = Map::new();
            map.insert(key, Value::from(val));
            let body = pack_message(&map, &payload);
            let (h, p) = unpack_message(&body).unwrap();
            prop_assert_eq!(h, map);
            prop_assert_eq!(p, &payload[..]);
        }
    }
}
