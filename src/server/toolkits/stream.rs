//! Reading a streaming call's request chunks, shared by the toolkits that take streams.

use serde_json::{Map, Value};

use crate::protocol::Content;
use crate::server::call::{ToolCall, ToolError};

/// What arrived on a request stream.
pub(crate) enum Chunk {
    Content(Content),
    /// The caller closed its request stream.
    Closed,
    /// The caller's connection ended (or the call has no request stream).
    Gone,
}

pub(crate) async fn next_chunk(call: &mut ToolCall) -> Chunk {
    let conn = call.caller.conn.clone();
    let Some(requests) = call.requests.as_mut() else {
        return Chunk::Gone;
    };
    tokio::select! {
        chunk = requests.recv() => match chunk {
            Some(c) if c.is_close() => Chunk::Closed,
            Some(c) => Chunk::Content(c),
            None => Chunk::Gone,
        },
        _ = conn.closed() => Chunk::Gone,
    }
}

/// The headers and data of a `binary` chunk whose `kind` is `kind` (1002 for anything else).
pub(crate) fn binary_kind(
    chunk: Content,
    kind: &str,
) -> Result<(Map<String, Value>, Vec<u8>), ToolError> {
    match chunk {
        Content::Binary { headers, data }
            if headers.get("kind").and_then(Value::as_str) == Some(kind) =>
        {
            Ok((headers, data))
        }
        other => Err(ToolError::invalid(format!(
            "expected a binary chunk of kind `{kind}`, got {}",
            match &other {
                Content::Binary { headers, .. } => format!(
                    "kind `{}`",
                    headers.get("kind").and_then(Value::as_str).unwrap_or("?")
                ),
                c => c.kind().to_string(),
            }
        ))),
    }
}
