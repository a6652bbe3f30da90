//! The `sync` toolkit: shared documents. `open` keeps a local Yjs replica in step with the
//! room (remote updates applied as they arrive, local edits sent as v1 updates, base64 on the
//! wire); `create`, `describe` and `list` are one-shot calls.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, Transact, TransactionMut, XmlFragmentRef};

use super::{ClientError, RoomClient, ToolStream};
use crate::protocol::Content;
use crate::protocol::document::{self, Schema};

/// A stored document as `list` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentInfo {
    pub path: String,
    pub size: u64,
    /// Open streams on it right now.
    pub open: u64,
}

/// How to open a document.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Create it when it does not exist (needs a schema: given, or deployed in storage).
    pub create: bool,
    /// MeshSchema JSON for a new document.
    pub schema: Option<Value>,
    /// The new document's content, `{root_tag: {...}}`.
    pub initial_json: Option<Value>,
}

pub struct SyncClient {
    client: RoomClient,
}

fn protocol_err(e: impl std::fmt::Display) -> ClientError {
    ClientError::Protocol(e.to_string())
}

impl SyncClient {
    pub(crate) fn new(client: RoomClient) -> SyncClient {
        SyncClient { client }
    }

    async fn call(&self, tool: &str, args: Value) -> Result<Content, ClientError> {
        self.client.invoke("sync", tool, Content::Json(args)).await
    }

    /// Creates a document (error 1004 when one exists at `path`).
    pub async fn create(
        &self,
        path: &str,
        schema: Option<Value>,
        json: Option<Value>,
    ) -> Result<(), ClientError> {
        self.call(
            "create",
            json!({"path": path, "json": json, "schema": schema, "schema_path": null}),
        )
        .await
        .map(|_| ())
    }

    /// The document as JSON (`{root_tag: {...}}`).
    pub async fn describe(&self, path: &str) -> Result<Value, ClientError> {
        match self
            .call("describe", json!({"path": path, "schema_path": null}))
            .await?
        {
            Content::Json(v) => Ok(v),
            other => Err(protocol_err(format!(
                "sync.describe answered {}",
                other.kind()
            ))),
        }
    }

    /// The room's documents this participant may read (a roomdeck extension).
    pub async fn list(&self) -> Result<Vec<DocumentInfo>, ClientError> {
        let answer = self.call("list", json!({})).await?;
        let Content::Json(v) = answer else {
            return Err(protocol_err("sync.list did not answer JSON"));
        };
        Ok(v.get("documents")
            .and_then(Value::as_array)
            .map(|docs| {
                docs.iter()
                    .filter_map(|d| {
                        Some(DocumentInfo {
                            path: d.get("path")?.as_str()?.to_string(),
                            size: d.get("size").and_then(Value::as_u64).unwrap_or(0),
                            open: d.get("open").and_then(Value::as_u64).unwrap_or(0),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Opens a document and keeps a live replica of it until `close`.
    pub async fn open(
        &self,
        path: &str,
        options: OpenOptions,
    ) -> Result<SyncDocument, ClientError> {
        let start = Content::binary(
            json!({
                "kind": "start",
                "path": path,
                "create": options.create,
                "vector": null,
                "schema": options.schema,
                "schema_path": null,
                "initial_json": options.initial_json,
            }),
            Vec::new(),
        );
        let mut stream = self
            .client
            .invoke_stream("sync", "open", Some(start))
            .await?;
        let first = match stream.next().await {
            Some(r) => r?,
            None => return Err(protocol_err("sync.open closed before sending the document")),
        };
        let Content::Binary { headers, data } = first else {
            return Err(protocol_err("sync.open's first chunk is not binary"));
        };
        if headers.get("kind").and_then(Value::as_str) != Some("state") {
            return Err(protocol_err("sync.open's first chunk is not the state"));
        }
        let schema_json = headers.get("schema").cloned().unwrap_or(Value::Null);
        let schema = Schema::parse(&schema_json).map_err(protocol_err)?;
        let doc = document::new_doc();
        apply_b64(&doc, &data)?;
        let doc = Arc::new(Mutex::new(doc));
        let (out_tx, out_rx) = mpsc::channel::<Vec<u8>>(256);
        let (changed_tx, changed_rx) = watch::channel(0u64);
        let (done_tx, done_rx) = watch::channel(None::<ClientError>);
        tokio::spawn(pump(stream, doc.clone(), out_rx, changed_tx, done_tx));
        Ok(SyncDocument {
            path: path.to_string(),
            schema,
            doc,
            out: out_tx,
            changed: changed_rx,
            done: done_rx,
        })
    }
}

fn apply_b64(doc: &Doc, data: &[u8]) -> Result<(), ClientError> {
    if data.is_empty() {
        return Ok(());
    }
    let bytes = B64.decode(data).map_err(protocol_err)?;
    document::apply_update(doc, &bytes).map_err(protocol_err)
}

/// Moves updates between the stream and the replica until either side ends.
async fn pump(
    mut stream: ToolStream,
    doc: Arc<Mutex<Doc>>,
    mut out: mpsc::Receiver<Vec<u8>>,
    changed: watch::Sender<u64>,
    done: watch::Sender<Option<ClientError>>,
) {
    let end = loop {
        tokio::select! {
            update = out.recv() => match update {
                Some(bytes) => {
                    let chunk = Content::binary(json!({"kind": "sync"}), B64.encode(bytes).into_bytes());
                    if let Err(e) = stream.send(chunk).await {
                        break Some(e);
                    }
                }
                None => {
                    // The document was closed: end the request side, wait for the server's close.
                    stream.close().await;
                    while let Some(r) = stream.next().await {
                        if r.is_err() {
                            break;
                        }
                    }
                    break None;
                }
            },
            chunk = stream.next() => match chunk {
                Some(Ok(Content::Binary { data, .. })) => {
                    let r = {
                        let d = doc.lock().unwrap_or_else(|p| p.into_inner());
                        apply_b64(&d, &data)
                    };
                    if let Err(e) = r {
                        break Some(e);
                    }
                    changed.send_modify(|n| *n += 1);
                }
                Some(Ok(other)) => break Some(protocol_err(format!("sync.open sent a {} chunk", other.kind()))),
                Some(Err(e)) => break Some(e),
                None => break Some(ClientError::Closed),
            },
        }
    };
    let _ = done.send(Some(end.unwrap_or(ClientError::Closed)));
}

/// An open document: a local replica kept in step with the room.
pub struct SyncDocument {
    path: String,
    schema: Schema,
    doc: Arc<Mutex<Doc>>,
    out: mpsc::Sender<Vec<u8>>,
    changed: watch::Receiver<u64>,
    done: watch::Receiver<Option<ClientError>>,
}

impl SyncDocument {
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The document's MeshSchema JSON.
    pub fn schema(&self) -> &Value {
        &self.schema.json
    }

    /// The document as JSON, as the SDK's `doc.root.to_json()`.
    pub fn to_json(&self, include_ids: bool) -> Value {
        let d = self.doc.lock().unwrap_or_else(|p| p.into_inner());
        document::to_json(&d, &self.schema, include_ids)
    }

    /// The replica's state vector (v1 bytes).
    pub fn state_vector(&self) -> Vec<u8> {
        let d = self.doc.lock().unwrap_or_else(|p| p.into_inner());
        let sv = d.transact().state_vector();
        sv.encode_v1()
    }

    /// Why the document stopped syncing, once it has.
    pub fn error(&self) -> Option<ClientError> {
        self.done.borrow().clone()
    }

    /// Makes a change in one transaction on the root fragment and sends it to the room.
    pub async fn edit<R>(
        &self,
        f: impl FnOnce(&mut TransactionMut, &XmlFragmentRef) -> R,
    ) -> Result<R, ClientError> {
        let (result, update) = {
            let d = self.doc.lock().unwrap_or_else(|p| p.into_inner());
            let root = d.get_or_insert_xml_fragment(document::ROOT);
            let mut txn = d.transact_mut();
            let r = f(&mut txn, &root);
            (r, txn.encode_update_v1())
        };
        self.send_update(update).await?;
        Ok(result)
    }

    /// Replaces the whole content with `json` (`{root_tag: {...}}`), as `sync update` does.
    pub async fn replace_json(&self, json: &Value) -> Result<(), ClientError> {
        let update = {
            let d = self.doc.lock().unwrap_or_else(|p| p.into_inner());
            document::replace_from_json(&d, &self.schema, json).map_err(|e| ClientError::Room {
                code: Some(crate::protocol::error_codes::INVALID_REQUEST),
                message: e.0,
            })?
        };
        self.send_update(update).await
    }

    async fn send_update(&self, update: Vec<u8>) -> Result<(), ClientError> {
        if let Some(e) = self.error() {
            return Err(e);
        }
        self.out.send(update).await.map_err(|_| {
            self.error().unwrap_or(ClientError::Room {
                code: Some(crate::protocol::error_codes::SYNC_NOT_CONNECTED),
                message: format!("`{}` is not connected", self.path),
            })
        })
    }

    /// Waits for the next change from someone else; Err once the document stopped syncing.
    pub async fn changed(&mut self) -> Result<(), ClientError> {
        let mut done = self.done.clone();
        tokio::select! {
            r = self.changed.changed() => r.map_err(|_| self.error().unwrap_or(ClientError::Closed)),
            _ = done.wait_for(Option::is_some) => Err(self.error().unwrap_or(ClientError::Closed)),
        }
    }

    /// Waits until `pred` holds for the document's JSON (without ids).
    pub async fn wait_for(
        &mut self,
        mut pred: impl FnMut(&Value) -> bool,
    ) -> Result<Value, ClientError> {
        loop {
            let v = self.to_json(false);
            if pred(&v) {
                return Ok(v);
            }
            self.changed().await?;
        }
    }

    /// Closes the document: pending edits are sent first, then the stream ends.
    pub async fn close(self) {
        let SyncDocument { out, mut done, .. } = self;
        drop(out);
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            done.wait_for(Option::is_some),
        )
        .await;
    }
}
