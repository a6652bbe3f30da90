//! The `queues` toolkit from the client side.

use serde::Serialize;
use serde_json::{Value, json};

use super::{ClientError, RoomClient};
use crate::protocol::Content;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueInfo {
    pub name: String,
    pub size: u64,
}

pub struct QueuesClient {
    room: RoomClient,
}

impl QueuesClient {
    pub(super) fn new(room: RoomClient) -> QueuesClient {
        QueuesClient { room }
    }

    async fn call(&self, tool: &str, args: Value) -> Result<Content, ClientError> {
        self.room.invoke("queues", tool, Content::Json(args)).await
    }

    pub async fn list(&self) -> Result<Vec<QueueInfo>, ClientError> {
        let answer = self.call("list", json!({})).await?;
        let Content::Json(v) = answer else {
            return Err(ClientError::Protocol(format!(
                "queues.list answered {}",
                answer.kind()
            )));
        };
        let items = v
            .get("queues")
            .and_then(Value::as_array)
            .ok_or_else(|| ClientError::Protocol("queues.list answer has no `queues`".into()))?;
        Ok(items
            .iter()
            .filter_map(|q| {
                Some(QueueInfo {
                    name: q.get("name")?.as_str()?.to_string(),
                    size: q.get("size").and_then(Value::as_u64).unwrap_or(0),
                })
            })
            .collect())
    }

    pub async fn open(&self, name: &str) -> Result<(), ClientError> {
        self.call("open", json!({"name": name})).await.map(|_| ())
    }

    pub async fn send(&self, name: &str, message: Value, create: bool) -> Result<(), ClientError> {
        self.call(
            "send",
            json!({"name": name, "create": create, "message": message}),
        )
        .await
        .map(|_| ())
    }

    /// The oldest message, or None when the queue is empty and `wait` is false.
    pub async fn receive(
        &self,
        name: &str,
        create: bool,
        wait: bool,
    ) -> Result<Option<Value>, ClientError> {
        match self
            .call(
                "receive",
                json!({"name": name, "create": create, "wait": wait}),
            )
            .await?
        {
            Content::Empty => Ok(None),
            Content::Json(v) => Ok(Some(v)),
            Content::Text(t) => Ok(Some(Value::String(t))),
            other => Err(ClientError::Protocol(format!(
                "queues.receive answered {}",
                other.kind()
            ))),
        }
    }

    pub async fn drain(&self, name: &str) -> Result<(), ClientError> {
        self.call("drain", json!({"name": name})).await.map(|_| ())
    }

    pub async fn close(&self, name: &str) -> Result<(), ClientError> {
        self.call("close", json!({"name": name})).await.map(|_| ())
    }
}
