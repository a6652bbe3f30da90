//! The `secrets` toolkit from the client side.

use serde_json::{Value, json};

use super::{ClientError, RoomClient};
use crate::protocol::Content;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecretInfo {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub secret_type: String,
}

pub struct SecretsClient {
    room: RoomClient,
}

impl SecretsClient {
    pub(super) fn new(room: RoomClient) -> SecretsClient {
        SecretsClient { room }
    }

    pub async fn list(&self) -> Result<Vec<SecretInfo>, ClientError> {
        let answer = self
            .room
            .invoke("secrets", "list_secrets", Content::Json(json!({})))
            .await?;
        let list = match &answer {
            Content::Json(v) => v
                .get("secrets")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            other => {
                return Err(ClientError::Protocol(format!(
                    "secrets.list_secrets answered {}",
                    other.kind()
                )));
            }
        };
        Ok(list
            .iter()
            .filter_map(|s| {
                Some(SecretInfo {
                    id: s.get("id")?.as_str()?.to_string(),
                    name: s.get("name")?.as_str()?.to_string(),
                    secret_type: s.get("type")?.as_str()?.to_string(),
                })
            })
            .collect())
    }

    pub async fn set(
        &self,
        name: &str,
        secret_type: &str,
        value: Vec<u8>,
    ) -> Result<(), ClientError> {
        let headers = json!({"secret_id": null, "type": secret_type, "name": name, "delegated_to": null, "for_identity": null, "has_data": true});
        self.room
            .invoke("secrets", "set_secret", Content::binary(headers, value))
            .await
            .map(|_| ())
    }

    /// The value of the secret with this name, or None.
    pub async fn get(&self, name: &str) -> Result<Option<Vec<u8>>, ClientError> {
        let args = json!({"secret_id": null, "type": null, "name": name, "delegated_to": null});
        match self
            .room
            .invoke("secrets", "get_secret", Content::Json(args))
            .await?
        {
            Content::File { data, .. } => Ok(Some(data)),
            Content::Empty => Ok(None),
            other => Err(ClientError::Protocol(format!(
                "secrets.get_secret answered {}",
                other.kind()
            ))),
        }
    }

    pub async fn delete(&self, id: &str) -> Result<(), ClientError> {
        self.room
            .invoke(
                "secrets",
                "delete_secret",
                Content::Json(json!({"id": id, "delegated_to": null})),
            )
            .await
            .map(|_| ())
    }
}
