//! The `memory` toolkit from the client side (the SDK's `MemoryClient`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{ClientError, RoomClient};
use crate::protocol::Content;

/// One dataset of a memory (`MemoryDatasetSummary`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryDataset {
    pub name: String,
    pub rows: u64,
    #[serde(default)]
    pub columns: Vec<String>,
}

/// `MemoryDetails`, what `inspect` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryDetails {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<Vec<String>>,
    pub path: String,
    #[serde(default)]
    pub datasets: Vec<MemoryDataset>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryIngestStats {
    #[serde(default)]
    pub entities: u64,
    #[serde(default)]
    pub relationships: u64,
    #[serde(default)]
    pub sources: u64,
}

/// `MemoryIngestResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryIngestResult {
    pub name: String,
    pub stats: MemoryIngestStats,
    #[serde(default)]
    pub entity_ids: Vec<String>,
}

/// `MemoryRecallRelationship`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryRecallRelationship {
    pub source_entity_id: String,
    pub target_entity_id: String,
    pub relationship_type: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// `MemoryRecallItem`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryRecallItem {
    pub entity_id: String,
    pub name: String,
    pub entity_type: String,
    #[serde(default)]
    pub context: Option<String>,
    #[serde(default)]
    pub confidence: Option<f64>,
    pub score: f64,
    #[serde(default)]
    pub relationships: Vec<MemoryRecallRelationship>,
}

/// `MemoryRecallResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryRecallResult {
    pub name: String,
    pub query: String,
    #[serde(default)]
    pub items: Vec<MemoryRecallItem>,
}

pub struct MemoryClient {
    room: RoomClient,
}

/// What an upsert writes: entity nodes or relationships between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Records {
    Nodes,
    Relationships,
}

impl Records {
    fn tool(self) -> &'static str {
        match self {
            Records::Nodes => "upsert_nodes",
            Records::Relationships => "upsert_relationships",
        }
    }

    /// The records' name in words: `node`, `relationship`.
    pub fn noun(self) -> &'static str {
        match self {
            Records::Nodes => "node",
            Records::Relationships => "relationship",
        }
    }
}

fn ns(namespace: &[String]) -> Value {
    if namespace.is_empty() {
        Value::Null
    } else {
        json!(namespace)
    }
}

/// The SDK's dataset value encoding (`{"list": …}`, `{"struct": …}`, …) as plain JSON.
pub fn decode_value(v: Value) -> Value {
    match v {
        Value::Object(mut m) if m.len() == 1 => {
            let key = m.keys().next().cloned().unwrap_or_default();
            let inner = m.remove(&key).unwrap_or(Value::Null);
            match (key.as_str(), inner) {
                ("list", Value::Array(items)) => {
                    Value::Array(items.into_iter().map(decode_value).collect())
                }
                ("struct", Value::Object(fields)) => Value::Object(
                    fields
                        .into_iter()
                        .map(|(k, v)| (k, decode_value(v)))
                        .collect(),
                ),
                ("json" | "binary" | "uuid" | "date" | "timestamp" | "expression", inner) => inner,
                (_, inner) => {
                    m.insert(key, inner);
                    Value::Object(m)
                }
            }
        }
        other => other,
    }
}

impl MemoryClient {
    pub(super) fn new(room: RoomClient) -> MemoryClient {
        MemoryClient { room }
    }

    async fn call(&self, tool: &str, args: Value) -> Result<Content, ClientError> {
        self.room.invoke("memory", tool, Content::Json(args)).await
    }

    async fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        tool: &str,
        args: Value,
    ) -> Result<T, ClientError> {
        match self.call(tool, args).await? {
            Content::Json(v) => serde_json::from_value(v)
                .map_err(|e| ClientError::Protocol(format!("memory.{tool} answered {e}"))),
            other => Err(ClientError::Protocol(format!(
                "memory.{tool} answered {}",
                other.kind()
            ))),
        }
    }

    pub async fn list(&self, namespace: &[String]) -> Result<Vec<String>, ClientError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            memories: Vec<String>,
        }
        let a: Answer = self
            .call_json("list", json!({"namespace": ns(namespace)}))
            .await?;
        Ok(a.memories)
    }

    pub async fn create(
        &self,
        name: &str,
        namespace: &[String],
        overwrite: bool,
        ignore_exists: bool,
    ) -> Result<(), ClientError> {
        self.call(
            "create",
            json!({"name": name, "namespace": ns(namespace), "overwrite": overwrite, "ignore_exists": ignore_exists}),
        )
        .await
        .map(|_| ())
    }

    pub async fn drop(
        &self,
        name: &str,
        namespace: &[String],
        ignore_missing: bool,
    ) -> Result<(), ClientError> {
        self.call(
            "drop",
            json!({"name": name, "namespace": ns(namespace), "ignore_missing": ignore_missing}),
        )
        .await
        .map(|_| ())
    }

    pub async fn inspect(
        &self,
        name: &str,
        namespace: &[String],
    ) -> Result<MemoryDetails, ClientError> {
        self.call_json("inspect", json!({"name": name, "namespace": ns(namespace)}))
            .await
    }

    /// Rows of a query, values decoded to plain JSON.
    pub async fn query(
        &self,
        name: &str,
        namespace: &[String],
        statement: &str,
    ) -> Result<Vec<Map<String, Value>>, ClientError> {
        #[derive(Deserialize)]
        struct Answer {
            results: Vec<Map<String, Value>>,
        }
        let a: Answer = self
            .call_json(
                "query",
                json!({"name": name, "namespace": ns(namespace), "statement": statement}),
            )
            .await?;
        Ok(a.results
            .into_iter()
            .map(|row| row.into_iter().map(|(k, v)| (k, decode_value(v))).collect())
            .collect())
    }

    /// Writes records of one kind (`MemoryEntityRecord` or `MemoryRelationshipRecord`
    /// objects), merged into those with the same id or replacing them.
    pub async fn upsert(
        &self,
        kind: Records,
        name: &str,
        namespace: &[String],
        records: &[Value],
        merge: bool,
    ) -> Result<(), ClientError> {
        self.call(
            kind.tool(),
            json!({"name": name, "namespace": ns(namespace), "records_json": Value::from(records.to_vec()).to_string(), "merge": merge}),
        )
        .await
        .map(|_| ())
    }

    pub async fn ingest_text(
        &self,
        name: &str,
        namespace: &[String],
        text: &str,
    ) -> Result<MemoryIngestResult, ClientError> {
        self.call_json(
            "ingest_text",
            json!({"name": name, "namespace": ns(namespace), "text": text, "strategy": "heuristic"}),
        )
        .await
    }

    /// Text files of the room's storage.
    pub async fn ingest_from_storage(
        &self,
        name: &str,
        namespace: &[String],
        paths: &[String],
    ) -> Result<MemoryIngestResult, ClientError> {
        self.call_json(
            "ingest_from_storage",
            json!({"name": name, "namespace": ns(namespace), "paths": paths, "strategy": "heuristic"}),
        )
        .await
    }

    pub async fn recall(
        &self,
        name: &str,
        namespace: &[String],
        query: &str,
        limit: usize,
        include_relationships: bool,
    ) -> Result<MemoryRecallResult, ClientError> {
        self.call_json(
            "recall",
            json!({"name": name, "namespace": ns(namespace), "query": query, "limit": limit, "include_relationships": include_relationships}),
        )
        .await
    }

    /// `(deleted_entities, deleted_relationships)`.
    pub async fn delete_entities(
        &self,
        name: &str,
        namespace: &[String],
        entity_ids: &[String],
    ) -> Result<(u64, u64), ClientError> {
        let v: Value = self
            .call_json(
                "delete_entities",
                json!({"name": name, "namespace": ns(namespace), "entity_ids": entity_ids}),
            )
            .await?;
        let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
        Ok((n("deleted_entities"), n("deleted_relationships")))
    }

    pub async fn optimize(&self, name: &str, namespace: &[String]) -> Result<Value, ClientError> {
        self.call_json(
            "optimize",
            json!({"name": name, "namespace": ns(namespace), "compact": true, "cleanup": true}),
        )
        .await
    }
}
