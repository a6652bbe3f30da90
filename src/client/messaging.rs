//! The `messaging` toolkit from the client side.

use base64::Engine;
use serde_json::{Value, json};

use super::{ClientError, RoomClient, ToolStream};
use crate::protocol::Content;

pub struct MessagingClient {
    room: RoomClient,
}

impl MessagingClient {
    pub(super) fn new(room: RoomClient) -> MessagingClient {
        MessagingClient { room }
    }

    /// Joins messaging: the server answers with `messaging.enabled` and presence follows.
    pub async fn enable(&self) -> Result<(), ClientError> {
        self.room
            .invoke("messaging", "enable", Content::Json(json!({})))
            .await
            .map(|_| ())
    }

    pub async fn disable(&self) -> Result<(), ClientError> {
        self.room
            .invoke("messaging", "disable", Content::Json(json!({})))
            .await
            .map(|_| ())
    }

    fn body(msg_type: &str, message: &Value, attachment: Option<&[u8]>) -> Value {
        json!({
            "type": msg_type,
            "message_json": message.to_string(),
            "attachment_base64": attachment.map(|a| base64::engine::general_purpose::STANDARD.encode(a)),
        })
    }

    pub async fn send(
        &self,
        to: &str,
        msg_type: &str,
        message: Value,
        attachment: Option<Vec<u8>>,
    ) -> Result<(), ClientError> {
        let mut args = Self::body(msg_type, &message, attachment.as_deref());
        args["to_participant_id"] = json!(to);
        self.room
            .invoke("messaging", "send", Content::Json(args))
            .await
            .map(|_| ())
    }

    pub async fn broadcast(
        &self,
        msg_type: &str,
        message: Value,
        attachment: Option<Vec<u8>>,
    ) -> Result<(), ClientError> {
        let args = Self::body(msg_type, &message, attachment.as_deref());
        self.room
            .invoke("messaging", "broadcast", Content::Json(args))
            .await
            .map(|_| ())
    }

    /// `messaging.stream`: asks participant `to` for a two-way stream, opened with this first
    /// message. Ok once `to` accepted; a rejection is `Err` with the receiver's message.
    pub async fn stream(
        &self,
        to: &str,
        msg_type: &str,
        message: Value,
        attachment: Option<Vec<u8>>,
    ) -> Result<MessagingStream, ClientError> {
        let mut first = Self::body(msg_type, &message, attachment.as_deref());
        first["to_participant_id"] = json!(to);
        let mut stream = self
            .room
            .invoke_stream("messaging", "stream", Some(Content::Json(first)))
            .await?;
        let stream_id = match stream.next().await {
            Some(Ok(Content::Json(v))) if v["kind"] == "accepted" => {
                v["stream_id"].as_str().unwrap_or_default().to_string()
            }
            Some(Err(e)) => return Err(e),
            other => {
                return Err(ClientError::Protocol(format!(
                    "messaging.stream answered {other:?} instead of accepting"
                )));
            }
        };
        Ok(MessagingStream {
            stream,
            stream_id,
            remote: to.to_string(),
        })
    }
}

/// An accepted stream from this participant to another (the SDK's `MessagingStream`).
pub struct MessagingStream {
    stream: ToolStream,
    pub stream_id: String,
    /// The participant at the other end.
    pub remote: String,
}

/// What arrives on a [`MessagingStream`].
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Message {
        msg_type: String,
        message: Value,
        attachment: Option<Vec<u8>>,
    },
    /// The room ended the stream with a reason (an error on the other side, a bad chunk).
    Closed {
        reason: String,
        message: Option<String>,
    },
}

impl MessagingStream {
    pub async fn send(
        &mut self,
        msg_type: &str,
        message: Value,
        attachment: Option<Vec<u8>>,
    ) -> Result<(), ClientError> {
        let body = MessagingClient::body(msg_type, &message, attachment.as_deref());
        self.stream.send(Content::Json(body)).await
    }

    /// The next event; None once the other side closed or left.
    pub async fn next(&mut self) -> Option<Result<StreamEvent, ClientError>> {
        loop {
            let chunk = match self.stream.next().await? {
                Ok(Content::Json(v)) => v,
                Ok(other) => {
                    return Some(Err(ClientError::Protocol(format!(
                        "messaging.stream sent a {} chunk",
                        other.kind()
                    ))));
                }
                Err(e) => return Some(Err(e)),
            };
            match chunk["kind"].as_str() {
                Some("message") => {
                    let attachment = chunk["attachment_base64"]
                        .as_str()
                        .filter(|a| !a.is_empty())
                        .and_then(|a| base64::engine::general_purpose::STANDARD.decode(a).ok());
                    return Some(Ok(StreamEvent::Message {
                        msg_type: chunk["type"].as_str().unwrap_or_default().to_string(),
                        message: chunk["message"].clone(),
                        attachment,
                    }));
                }
                Some("closed") => {
                    return Some(Ok(StreamEvent::Closed {
                        reason: chunk["reason"].as_str().unwrap_or("closed").to_string(),
                        message: chunk["message"].as_str().map(str::to_string),
                    }));
                }
                // `client_disconnected` and kinds this client does not know: the SDK ignores
                // them too, and the close that follows ends the stream.
                _ => continue,
            }
        }
    }

    /// Ends the stream; the other side is told.
    pub async fn close(&mut self) {
        self.stream.close().await;
    }
}
