//! `RoomClient`: joins a room over WebSocket (ws or wss) and speaks the protocol.
//!
//! One reader task turns packets into responses, stream chunks and events; one writer task
//! sends whole messages. The CLI and the TUI use this for local and remote rooms alike.

mod connection;
pub mod dataset;
mod developer;
pub mod memory;
mod messaging;
mod queues;
mod secrets;
pub mod services;
mod storage;
pub mod sync;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use thiserror::Error;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

pub use dataset::DatasetClient;
pub use developer::{DevLogEvent, DeveloperClient, LogRecord, LogStream, otel_lines, otel_records};
pub use memory::MemoryClient;
pub use messaging::{MessagingClient, MessagingStream, StreamEvent};
pub use queues::{QueueInfo, QueuesClient};
pub use secrets::{SecretInfo, SecretsClient};
pub use services::{ServiceInfo, ServicesClient};
pub use storage::{DownloadInfo, StorageClient, StorageEntry, StorageEvent};
pub use sync::{DocumentInfo, OpenOptions, SyncClient, SyncDocument};

use crate::protocol::Content;
use crate::protocol::message::pack_message;

#[derive(Debug, Error, Clone)]
pub enum ClientError {
    #[error("the server refused the connection (HTTP {status}): {body}")]
    Rejected { status: u16, body: String },
    #[error("{message}{}", code.map(|c| format!(" (code {c})")).unwrap_or_default())]
    Room { code: Option<i64>, message: String },
    #[error("the connection to the room is closed")]
    Closed,
    #[error("connection failed: {0}")]
    Io(String),
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl ClientError {
    pub fn code(&self) -> Option<i64> {
        match self {
            ClientError::Room { code, .. } => *code,
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Participant {
    pub id: String,
    pub role: String,
    pub attributes: Map<String, Value>,
}

impl Participant {
    pub fn name(&self) -> Option<&str> {
        self.attributes.get("name").and_then(Value::as_str)
    }

    fn from_json(v: &Value) -> Option<Participant> {
        Some(Participant {
            id: v.get("id")?.as_str()?.to_string(),
            role: v
                .get("role")
                .and_then(Value::as_str)
                .unwrap_or("user")
                .to_string(),
            attributes: v
                .get("attributes")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum RoomEvent {
    MessagingEnabled {
        participants: Vec<Participant>,
    },
    ParticipantEnabled(Participant),
    ParticipantDisabled {
        id: String,
    },
    ParticipantAttributes {
        id: String,
        attributes: Map<String, Value>,
    },
    Message {
        from: String,
        msg_type: String,
        message: Value,
        attachment: Vec<u8>,
    },
    Other {
        msg_type: String,
        header: Map<String, Value>,
    },
}

pub(crate) struct Outgoing {
    pub id: u64,
    pub msg_type: &'static str,
    pub body: Vec<u8>,
}

pub(crate) struct Inner {
    out: mpsc::Sender<Outgoing>,
    next_id: AtomicU64,
    pending: Mutex<HashMap<u64, oneshot::Sender<Content>>>,
    streams: Mutex<HashMap<String, mpsc::Sender<Content>>>,
    events: broadcast::Sender<RoomEvent>,
    participants: Mutex<HashMap<String, Participant>>,
    room_name: Mutex<String>,
    session_id: Mutex<String>,
    participant_id: Mutex<String>,
    closed: watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A joined room. Cheap to clone; the connection ends on `close` or when the server ends it.
#[derive(Clone)]
pub struct RoomClient {
    inner: Arc<Inner>,
}

/// Chunks of a streaming call's response, and the way to send request chunks.
pub struct ToolStream {
    inner: Arc<Inner>,
    tool_call_id: String,
    chunks: mpsc::Receiver<Content>,
    closed_request: bool,
}

impl RoomClient {
    /// Joins the room at `url` (`ws://host/rooms/NAME`); resolves once the room is ready.
    pub async fn connect(url: &str, token: &str) -> Result<RoomClient, ClientError> {
        connection::connect(url, token).await
    }

    pub fn room_name(&self) -> String {
        lock(&self.inner.room_name).clone()
    }

    pub fn session_id(&self) -> String {
        lock(&self.inner.session_id).clone()
    }

    pub fn participant_id(&self) -> String {
        lock(&self.inner.participant_id).clone()
    }

    /// Messaging-enabled participants known to this client (after `messaging().enable()`).
    pub fn participants(&self) -> Vec<Participant> {
        let mut list: Vec<Participant> = lock(&self.inner.participants).values().cloned().collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RoomEvent> {
        self.inner.events.subscribe()
    }

    pub fn messaging(&self) -> MessagingClient {
        MessagingClient::new(self.clone())
    }

    pub fn queues(&self) -> QueuesClient {
        QueuesClient::new(self.clone())
    }

    pub fn services(&self) -> ServicesClient {
        ServicesClient::new(self.clone())
    }

    pub fn storage(&self) -> StorageClient {
        StorageClient::new(self.clone())
    }

    pub fn secrets(&self) -> SecretsClient {
        SecretsClient::new(self.clone())
    }

    pub fn sync(&self) -> SyncClient {
        SyncClient::new(self.clone())
    }

    pub fn dataset(&self) -> DatasetClient {
        DatasetClient::new(self.clone())
    }

    pub fn memory(&self) -> MemoryClient {
        MemoryClient::new(self.clone())
    }

    pub fn developer(&self) -> DeveloperClient {
        DeveloperClient::new(self.clone())
    }

    pub fn is_closed(&self) -> bool {
        *self.inner.closed.borrow()
    }

    /// Resolves when the connection has ended.
    pub async fn closed(&self) {
        let mut rx = self.inner.closed.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }

    pub async fn close(&self) {
        let _ = self.inner.closed.send_replace(true);
    }

    async fn send(
        &self,
        msg_type: &'static str,
        header: &Value,
        payload: &[u8],
    ) -> Result<u64, ClientError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let header = header.as_object().cloned().unwrap_or_default();
        let out = Outgoing {
            id,
            msg_type,
            body: pack_message(&header, payload),
        };
        self.inner
            .out
            .send(out)
            .await
            .map_err(|_| ClientError::Closed)?;
        Ok(id)
    }

    /// Sends a request and waits for its `__response__`.
    async fn request(
        &self,
        msg_type: &'static str,
        header: &Value,
        payload: &[u8],
    ) -> Result<Content, ClientError> {
        let answer = self.send_request(msg_type, header, payload).await?;
        Self::await_response(answer).await
    }

    /// Sends a request; the receiver resolves with its `__response__`.
    async fn send_request(
        &self,
        msg_type: &'static str,
        header: &Value,
        payload: &[u8],
    ) -> Result<oneshot::Receiver<Content>, ClientError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.inner.pending).insert(id, tx);
        // Checked after the insert: a connection that ended meanwhile cleared `pending`
        // before or after it, and either way this request must not wait for an answer
        // (its writer may still take it while it says goodbye).
        if *self.inner.closed.borrow() {
            lock(&self.inner.pending).remove(&id);
            return Err(ClientError::Closed);
        }
        let map = header.as_object().cloned().unwrap_or_default();
        let out = Outgoing {
            id,
            msg_type,
            body: pack_message(&map, payload),
        };
        if self.inner.out.send(out).await.is_err() {
            lock(&self.inner.pending).remove(&id);
            return Err(ClientError::Closed);
        }
        Ok(rx)
    }

    async fn await_response(rx: oneshot::Receiver<Content>) -> Result<Content, ClientError> {
        let answer = rx.await.map_err(|_| ClientError::Closed)?;
        match answer {
            Content::Error { text, code } => Err(ClientError::Room {
                code,
                message: text,
            }),
            other => Ok(other),
        }
    }

    fn invoke_header(toolkit: &str, tool: &str, args: &Content, tool_call_id: &str) -> Value {
        json!({
            "toolkit": toolkit,
            "tool": tool,
            "participant_id": null,
            "on_behalf_of_id": null,
            "arguments": args.header(),
            "tool_call_id": tool_call_id,
        })
    }

    /// `room.list_toolkits`: the server's toolkits and those participants registered, in the
    /// SDK's `{"tools": {...}}` shape.
    pub async fn list_toolkits(&self) -> Result<Value, ClientError> {
        match self.request("room.list_toolkits", &json!({}), b"").await? {
            Content::Json(v) => Ok(v),
            other => Err(ClientError::Protocol(format!(
                "room.list_toolkits answered {} instead of JSON",
                other.kind()
            ))),
        }
    }

    /// A unary tool call: one Content in, one Content out (an `error` becomes `Err`).
    pub async fn invoke(
        &self,
        toolkit: &str,
        tool: &str,
        args: Content,
    ) -> Result<Content, ClientError> {
        let header = Self::invoke_header(toolkit, tool, &args, &new_call_id());
        self.request("room.invoke_tool", &header, args.data()).await
    }

    /// A streaming tool call: opens the request stream, sends `start` as its first chunk (if
    /// any), and returns the response stream once the server opened it.
    pub async fn invoke_stream(
        &self,
        toolkit: &str,
        tool: &str,
        start: Option<Content>,
    ) -> Result<ToolStream, ClientError> {
        let tool_call_id = new_call_id();
        let (tx, rx) = mpsc::channel(256);
        lock(&self.inner.streams).insert(tool_call_id.clone(), tx);
        if *self.inner.closed.borrow() {
            lock(&self.inner.streams).remove(&tool_call_id);
            return Err(ClientError::Closed);
        }
        let mut stream = ToolStream {
            inner: self.inner.clone(),
            tool_call_id: tool_call_id.clone(),
            chunks: rx,
            closed_request: false,
        };
        let header = Self::invoke_header(toolkit, tool, &Content::open(), &tool_call_id);
        // The invoke goes out before the start chunk, or the server would not know the call.
        let response = self.send_request("room.invoke_tool", &header, b"").await?;
        if let Some(start) = start {
            stream.send(start).await?;
        }
        match Self::await_response(response).await? {
            c if c.is_open() => Ok(stream),
            other => Err(ClientError::Protocol(format!(
                "{toolkit}.{tool} answered {} instead of opening a stream",
                other.kind()
            ))),
        }
    }
}

impl ToolStream {
    /// Sends one request chunk.
    pub async fn send(&mut self, chunk: Content) -> Result<(), ClientError> {
        if chunk.is_close() {
            self.closed_request = true;
        }
        let header = json!({"tool_call_id": self.tool_call_id, "chunk": chunk.header()});
        let client = RoomClient {
            inner: self.inner.clone(),
        };
        client
            .send("room.tool_call_request_chunk", &header, chunk.data())
            .await
            .map(|_| ())
    }

    /// The next response chunk; None when the server closed the stream. A connection that
    /// ended first is `Err(Closed)`: a write stream cut off is not a write completed.
    pub async fn next(&mut self) -> Option<Result<Content, ClientError>> {
        let Some(chunk) = self.chunks.recv().await else {
            return Some(Err(ClientError::Closed));
        };
        match chunk {
            c if c.is_close() => None,
            Content::Error { text, code } => Some(Err(ClientError::Room {
                code,
                message: text,
            })),
            c => Some(Ok(c)),
        }
    }

    /// Ends the request side (the server then closes the response side).
    pub async fn close(&mut self) {
        if !self.closed_request {
            let _ = self
                .send(Content::Control {
                    method: crate::protocol::content::ControlMethod::Close,
                    status_code: Some(1000),
                    message: None,
                })
                .await;
        }
    }
}

impl Drop for ToolStream {
    fn drop(&mut self) {
        lock(&self.inner.streams).remove(&self.tool_call_id);
        if !self.closed_request {
            // Best effort without waiting: tell the server this caller stopped listening.
            let close = Content::Control {
                method: crate::protocol::content::ControlMethod::Close,
                status_code: Some(1000),
                message: None,
            };
            let header = json!({"tool_call_id": self.tool_call_id, "chunk": close.header()});
            let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
            let body = pack_message(header.as_object().expect("object"), b"");
            let _ = self.inner.out.try_send(Outgoing {
                id,
                msg_type: "room.tool_call_request_chunk",
                body,
            });
        }
    }
}

fn new_call_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
