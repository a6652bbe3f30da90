//! The `services` toolkit from the client side: the room's services and their state.

use serde::Serialize;
use serde_json::{Value, json};

use super::{ClientError, RoomClient};
use crate::protocol::Content;

/// One declared port's liveness.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortState {
    /// `*` or the port number.
    pub num: String,
    /// `not_configured`, `not_ready` or `ready`.
    pub liveness_status: String,
}

/// MeshAgent's `ServiceRuntimeState`, the fields a console shows; `raw` has all of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceState {
    pub state: String,
    pub started_at: Option<f64>,
    pub restart_count: u64,
    pub last_exit_code: Option<i64>,
    pub last_exit_at: Option<f64>,
    pub last_start_error: Option<String>,
    pub restart_scheduled_at: Option<f64>,
    pub ports: Vec<PortState>,
    pub raw: Value,
}

/// A service of the room: its spec and (when it has one) its runtime state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceInfo {
    pub id: String,
    pub name: String,
    pub image: Option<String>,
    pub command: Option<String>,
    pub spec: Value,
    pub state: Option<ServiceState>,
}

pub struct ServicesClient {
    room: RoomClient,
}

fn parse_state(v: &Value) -> ServiceState {
    let ports = v["status"]["ports"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| PortState {
                    num: match &p["num"] {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                    liveness_status: p["liveness_status"]
                        .as_str()
                        .unwrap_or("not_configured")
                        .to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    ServiceState {
        state: v["state"].as_str().unwrap_or("unknown").to_string(),
        started_at: v["started_at"].as_f64(),
        restart_count: v["restart_count"].as_u64().unwrap_or(0),
        last_exit_code: v["last_exit_code"].as_i64(),
        last_exit_at: v["last_exit_at"].as_f64(),
        last_start_error: v["last_start_error"].as_str().map(str::to_string),
        restart_scheduled_at: v["restart_scheduled_at"].as_f64(),
        ports,
        raw: v.clone(),
    }
}

/// Parses a `services.list` answer (`services_json` strings and `service_states`).
pub fn parse_list(v: &Value) -> Result<Vec<ServiceInfo>, ClientError> {
    let specs = v["services_json"].as_array().ok_or_else(|| {
        ClientError::Protocol("services.list answer has no `services_json`".into())
    })?;
    let states = v["service_states"].as_array().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for s in specs {
        let text = s.as_str().ok_or_else(|| {
            ClientError::Protocol("services_json items must be JSON strings".into())
        })?;
        let spec: Value = serde_json::from_str(text)
            .map_err(|e| ClientError::Protocol(format!("a service spec is not JSON: {e}")))?;
        let id = spec["id"].as_str().unwrap_or_default().to_string();
        let state = states
            .iter()
            .find(|st| st["service_id"].as_str() == Some(id.as_str()))
            .map(parse_state);
        out.push(ServiceInfo {
            name: spec["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            image: spec["container"]["image"].as_str().map(str::to_string),
            command: spec["container"]["command"].as_str().map(str::to_string),
            id,
            spec,
            state,
        });
    }
    Ok(out)
}

impl ServicesClient {
    pub(super) fn new(room: RoomClient) -> ServicesClient {
        ServicesClient { room }
    }

    pub async fn list(&self) -> Result<Vec<ServiceInfo>, ClientError> {
        let answer = self
            .room
            .invoke("services", "list", Content::Json(json!({})))
            .await?;
        let Content::Json(v) = answer else {
            return Err(ClientError::Protocol(format!(
                "services.list answered {}",
                answer.kind()
            )));
        };
        parse_list(&v)
    }

    /// Restarts a service by id (the saved spec is unchanged).
    pub async fn restart(&self, service_id: &str) -> Result<(), ClientError> {
        self.room
            .invoke(
                "services",
                "restart",
                Content::Json(json!({ "service_id": service_id })),
            )
            .await
            .map(|_| ())
    }
}
