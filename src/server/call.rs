//! One tool call as a toolkit sees it: the caller, its arguments, its request stream, and
//! the means to answer (one Content, or a response stream).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::room::{ConnHandle, Participant, Room};
use crate::protocol::Content;
use crate::protocol::error_codes::{INVALID_REQUEST, PERMISSION_DENIED};

/// 32 random hex digits: participant, session and query ids.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A toolkit's refusal: becomes an `error` Content with this code.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolError {
    pub code: i64,
    pub message: String,
}

/// Arrow payloads that cannot be read are the caller's to fix.
impl From<crate::protocol::arrow::ArrowDataError> for ToolError {
    fn from(e: crate::protocol::arrow::ArrowDataError) -> ToolError {
        ToolError::invalid(e.0)
    }
}

impl ToolError {
    pub fn new(code: i64, message: impl Into<String>) -> ToolError {
        ToolError {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> ToolError {
        ToolError::new(INVALID_REQUEST, message)
    }

    pub fn content(&self) -> Content {
        Content::error(self.code, self.message.clone())
    }
}

/// How a toolkit answered.
pub(crate) enum Reply {
    /// A unary answer, sent as the `__response__`.
    Content(Content),
    /// The toolkit opened a response stream and answered through it.
    Streamed,
}

pub(crate) type ToolResult = Result<Reply, ToolError>;

pub(crate) fn empty() -> ToolResult {
    Ok(Reply::Content(Content::Empty))
}

pub(crate) fn json_reply(v: Value) -> ToolResult {
    Ok(Reply::Content(Content::Json(v)))
}

pub(crate) struct ToolCall {
    pub room: Arc<Room>,
    pub caller: Arc<Participant>,
    pub request_id: u64,
    pub toolkit: String,
    pub tool: String,
    pub tool_call_id: Option<String>,
    pub args: Content,
    /// Chunks of the request stream, in arrival order (None for unary calls).
    pub requests: Option<mpsc::Receiver<Content>>,
    pub stream_opened: Arc<AtomicBool>,
    /// An answer a toolkit sent itself (a queue item), kept for the recording.
    pub recorded_answer: std::sync::Mutex<Option<Content>>,
    /// A streaming call's first request chunk (its start: path, recipient, ...), kept for
    /// the recording (None when the room does not record, or for unary calls).
    pub recorded_start: Option<super::recording::StartSlot>,
}

impl ToolCall {
    pub fn conn(&self) -> &ConnHandle {
        &self.caller.conn
    }

    /// The JSON arguments of a unary call (`{}` when the call carried none).
    pub fn json_args(&self) -> Result<Value, ToolError> {
        match &self.args {
            Content::Json(v) => Ok(v.clone()),
            Content::Empty => Ok(json!({})),
            other => Err(ToolError::invalid(format!(
                "{}.{} takes JSON arguments, not {}",
                self.toolkit,
                self.tool,
                other.kind()
            ))),
        }
    }

    /// Checks the caller's grants for this tool with these arguments.
    pub fn authorize(&self, args: &Value) -> Result<(), ToolError> {
        super::toolkits::guard_of(&self.toolkit)
            .authorize(self.caller.scope.as_ref(), &self.toolkit, &self.tool, args)
            .map_err(|denied| self.denied(denied))
    }

    /// Checks that the caller holds this toolkit's API grant at all (for streams, before
    /// their start chunk is read).
    pub fn authorize_api(&self) -> Result<(), ToolError> {
        super::toolkits::guard_of(&self.toolkit)
            .authorize_api(self.caller.scope.as_ref())
            .map_err(|denied| self.denied(denied))
    }

    fn denied(&self, denied: crate::auth::Denied) -> ToolError {
        let message = format!("{}.{} denied: {}", self.toolkit, self.tool, denied.0);
        self.room.log(
            super::devlog::Severity::Warning,
            format!("{} was refused {message}", self.caller.name),
        );
        ToolError::new(PERMISSION_DENIED, message)
    }

    /// The next chunk of the request stream; None once the caller closed it or left.
    pub async fn next_request(&mut self) -> Option<Content> {
        let requests = self.requests.as_mut()?;
        let conn = self.caller.conn.clone();
        tokio::select! {
            chunk = requests.recv() => chunk.filter(|c| !c.is_close()),
            _ = conn.closed() => None,
        }
    }

    /// Answers the call with a control-open and returns the stream to send chunks on.
    pub async fn open_stream(&self) -> Result<ResponseStream, ToolError> {
        let Some(tool_call_id) = self.tool_call_id.clone() else {
            return Err(ToolError::invalid("a streaming call needs a tool_call_id"));
        };
        self.conn()
            .reply(self.request_id, "__response__", Content::open().pack())
            .await
            .map_err(|_| ToolError::new(INVALID_REQUEST, "the caller left"))?;
        self.stream_opened.store(true, Ordering::SeqCst);
        Ok(ResponseStream {
            conn: self.conn().clone(),
            tool_call_id,
            toolkit: self.toolkit.clone(),
            tool: self.tool.clone(),
        })
    }
}

/// The response side of a streaming call.
pub(crate) struct ResponseStream {
    conn: ConnHandle,
    tool_call_id: String,
    toolkit: String,
    tool: String,
}

impl ResponseStream {
    /// Sends one chunk; Err means the caller is gone.
    pub async fn send(&self, chunk: &Content) -> Result<(), ()> {
        send_chunk(
            &self.conn,
            &self.tool_call_id,
            &self.toolkit,
            &self.tool,
            chunk,
        )
        .await
    }

    pub async fn close(&self) {
        let _ = self.send(&Content::close()).await;
    }
}

pub(crate) async fn send_chunk(
    conn: &ConnHandle,
    tool_call_id: &str,
    toolkit: &str,
    tool: &str,
    chunk: &Content,
) -> Result<(), ()> {
    let header = json!({"tool_call_id": tool_call_id, "chunk": chunk.header(), "toolkit": toolkit, "tool": tool});
    let header = header.as_object().cloned().unwrap_or_default();
    conn.send_new("room.tool_call_response_chunk", &header, chunk.data())
        .await
}

/// Argument helpers: a clear 1002 when a required field is missing or of the wrong type.
pub(crate) fn arg_str<'a>(args: &'a Value, key: &str) -> Result<&'a str, ToolError> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| ToolError::invalid(format!("argument `{key}` (a string) is required")))
}

/// The items of list argument `key` (none when it is absent or not a list).
pub(crate) fn arg_items<'a>(args: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    args.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// String field `key` of one item of a list argument; `what` names the item in the error.
pub(crate) fn item_str<'a>(item: &'a Value, key: &str, what: &str) -> Result<&'a str, ToolError> {
    item.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| ToolError::invalid(format!("each {what} needs a `{key}`")))
}

pub(crate) fn arg_bool(args: &Value, key: &str, default: bool) -> Result<bool, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ToolError::invalid(format!(
            "argument `{key}` must be true or false"
        ))),
    }
}
