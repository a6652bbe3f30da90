//! The `messaging` toolkit from the client side.

use base64::Engine;
use serde_json::{Value, json};

use super::{ClientError, RoomClient};
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
}
