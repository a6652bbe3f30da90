//! `sync`: shared documents (Yjs, protocol doc §7.8). `open` is a stream: the caller's start
//! chunk, then the document's state (what the caller's state vector lacks), then updates both
//! ways, each a base64 v1 update in a binary chunk; every update is relayed to the document's
//! other openers. `create`, `describe`, `close` and `list` are unary.
//!
//! Documents live in `store::documents`; a change schedules a debounced save, the last opener
//! leaving saves at once, and the room's end flushes what is left.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use super::stream::{Chunk, binary_kind, next_chunk};
use crate::protocol::Content;
use crate::protocol::error_codes::{
    ALREADY_EXISTS, INVALID_REQUEST, NOT_FOUND, OPERATION_FAILED, PERMISSION_DENIED,
    SYNC_ALREADY_CONNECTED, SYNC_NOT_CONNECTED,
};
use crate::server::call::{
    Reply, ToolCall, ToolError, ToolResult, arg_bool, arg_str, empty, json_reply,
};
use crate::server::room::Room;
use crate::store::documents::{
    self, DocError, DocumentStore, MAX_SCHEMA_SIZE, MAX_UPDATE_SIZE, NewDocument, Schema, SharedDoc,
};

use super::spec::{ANSWERS_JSON_OR_EMPTY, ANSWERS_STREAM, Arg, STREAM, Tool, Ty, opt, req, tool};

pub(crate) const TOOLKIT: super::Toolkit = super::Toolkit::new(
    "sync",
    "Shared documents (Yjs), edited live by everyone who opens them",
    &crate::auth::check::SYNC,
    TOOLS,
    |call| Box::pin(invoke(call)),
)
.on_close(|room| Box::pin(async move { flush(&room).await }));

const PATH: Arg = req("path", Ty::Str, "the document's path, e.g. `notes.thread`");
const SCHEMA: Arg = opt(
    "schema",
    Ty::Object,
    "the document's schema, for a new document (else `schema_path`)",
);
const SCHEMA_PATH: Arg = opt(
    "schema_path",
    Ty::Str,
    "a schema file in the room's storage (default `.schemas/<extension>.json`)",
);

const TOOLS: &[Tool] = &[
    tool(
        "open",
        "Open a document: its state, then updates both ways (streamed)",
        &[
            PATH,
            opt(
                "create",
                Ty::Bool,
                "create the document if it does not exist",
            )
            .or("true"),
            opt(
                "vector",
                Ty::Str,
                "the Yjs state vector the client has (base64): only what it lacks is sent",
            ),
            SCHEMA,
            SCHEMA_PATH,
            opt(
                "initial_json",
                Ty::Object,
                "the content of a new document, as JSON",
            ),
        ],
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM),
    tool(
        "create",
        "Create a document from a schema and optional initial JSON",
        &[
            PATH,
            opt("json", Ty::Object, "the document's initial content"),
            SCHEMA,
            SCHEMA_PATH,
        ],
    ),
    tool(
        "describe",
        "The document as JSON",
        &[
            PATH,
            SCHEMA_PATH,
            opt("include_ids", Ty::Bool, "include the elements' ids").or("false"),
        ],
    ),
    tool(
        "close",
        "Close this participant's open streams on a document",
        &[PATH],
    )
    .answers(ANSWERS_JSON_OR_EMPTY),
    tool("list", "The room's documents", &[]),
];

/// A change is saved this long after it arrived (later changes ride along).
const SAVE_DEBOUNCE: Duration = Duration::from_millis(500);

impl From<DocError> for ToolError {
    fn from(e: DocError) -> ToolError {
        let code = match &e {
            DocError::NotFound(_) => NOT_FOUND,
            DocError::AlreadyExists(_) => ALREADY_EXISTS,
            DocError::Invalid(_) | DocError::TooLarge { .. } => INVALID_REQUEST,
            DocError::Corrupt { .. } | DocError::Io { .. } => OPERATION_FAILED,
        };
        ToolError::new(code, e.to_string())
    }
}

impl From<documents::Invalid> for ToolError {
    fn from(e: documents::Invalid) -> ToolError {
        ToolError::invalid(e.0)
    }
}

/// Runs blocking document work (disk, encoding) off the async threads.
async fn blocking<T: Send + 'static>(
    room: &Arc<Room>,
    f: impl FnOnce(&DocumentStore) -> Result<T, DocError> + Send + 'static,
) -> Result<T, ToolError> {
    let room = room.clone();
    tokio::task::spawn_blocking(move || f(&room.documents))
        .await
        .map_err(|e| ToolError::new(OPERATION_FAILED, format!("document task failed: {e}")))?
        .map_err(ToolError::from)
}

/// Saves `doc` after the debounce delay.
fn schedule_save(room: &Arc<Room>, doc: Arc<SharedDoc>) {
    let room = room.clone();
    tokio::spawn(async move {
        tokio::time::sleep(SAVE_DEBOUNCE).await;
        let path = doc.path.clone();
        let r = tokio::task::spawn_blocking(move || room.documents.save(&doc)).await;
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("saving document {path}: {e}"),
            Err(e) => tracing::warn!("saving document {path}: {e}"),
        }
    });
}

/// Saves every changed document; called when the room's session ends.
pub(crate) async fn flush(room: &Arc<Room>) {
    let room = room.clone();
    let _ = tokio::task::spawn_blocking(move || room.documents.flush_all()).await;
}

fn path_arg(args: &Value) -> Result<String, ToolError> {
    Ok(documents::normalize_path(arg_str(args, "path")?)?)
}

fn opt_object(args: &Value, key: &str) -> Result<Option<Value>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
        Some(_) => Err(ToolError::invalid(format!(
            "argument `{key}` must be a JSON object or null"
        ))),
    }
}

fn opt_str<'a>(args: &'a Value, key: &str) -> Result<Option<&'a str>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ToolError::invalid(format!(
            "argument `{key}` must be a string or null"
        ))),
    }
}

/// Whether the caller may change the document at `path`.
fn can_write(call: &ToolCall, path: &str) -> bool {
    crate::auth::check::SYNC
        .authorize(
            call.caller.scope.as_ref(),
            "sync",
            "write",
            &json!({ "path": path }),
        )
        .is_ok()
}

fn deny_write(call: &ToolCall, path: &str) -> ToolError {
    let message = format!("sync: the token's `sync` grant does not allow write on `{path}`");
    call.room.log(
        crate::server::devlog::Severity::Warning,
        format!("{} was refused {message}", call.caller.name),
    );
    ToolError::new(PERMISSION_DENIED, message)
}

/// The schema for a new document: the one sent, else the file at `schema_path`, else
/// `.schemas/<extension>.json` in the room's storage (where the SDK's `deploy_schema` puts them).
async fn resolve_schema(
    room: &Arc<Room>,
    path: &str,
    schema: Option<Value>,
    schema_path: Option<&str>,
) -> Result<Schema, ToolError> {
    if let Some(s) = schema {
        return Ok(Schema::parse(&s)?);
    }
    let candidate = match schema_path {
        Some(p) => Some(p.to_string()),
        None => {
            let name = path.rsplit('/').next().unwrap_or(path);
            name.rsplit_once('.')
                .filter(|(stem, ext)| !stem.is_empty() && !ext.is_empty())
                .map(|(_, ext)| format!(".schemas/{ext}.json"))
        }
    };
    let missing = || {
        ToolError::invalid(format!(
            "`{path}` does not exist and no schema was given: pass `schema`, or a `schema_path`, \
             or deploy one as .schemas/<extension>.json in the room's storage"
        ))
    };
    let Some(file) = candidate else {
        return Err(missing());
    };
    let rel =
        crate::store::files::normalize(&file).map_err(|e| ToolError::invalid(e.to_string()))?;
    let explicit = schema_path.is_some();
    let room2 = room.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let (f, size) = room2.files.open_read(&rel).ok()?;
        if size > MAX_SCHEMA_SIZE as u64 {
            return None;
        }
        let mut buf = Vec::new();
        f.take(MAX_SCHEMA_SIZE as u64).read_to_end(&mut buf).ok()?;
        Some(buf)
    })
    .await
    .ok()
    .flatten();
    match bytes {
        Some(b) => {
            let v: Value = serde_json::from_slice(&b)
                .map_err(|e| ToolError::invalid(format!("the schema `{file}` is not JSON: {e}")))?;
            Ok(Schema::parse(&v)?)
        }
        None if explicit => Err(ToolError::new(
            NOT_FOUND,
            format!("no schema file `{file}` in the room's storage"),
        )),
        None => Err(missing()),
    }
}

pub(crate) async fn invoke(call: &mut ToolCall) -> ToolResult {
    if call.tool == "open" {
        return open(call).await;
    }
    if call.requests.is_some() {
        return Err(ToolError::invalid(format!(
            "sync.{} is a unary call; send its arguments as JSON",
            call.tool
        )));
    }
    let args = call.json_args()?;
    let room = call.room.clone();
    match call.tool.as_str() {
        "create" => {
            let path = path_arg(&args)?;
            let json = opt_object(&args, "json")?;
            let schema = opt_object(&args, "schema")?;
            let schema_path = opt_str(&args, "schema_path")?;
            if room.documents.exists(&path) {
                return Err(DocError::AlreadyExists(path).into());
            }
            let schema = resolve_schema(&room, &path, schema, schema_path).await?;
            blocking(&room, move |store| {
                let (doc, created) = store.acquire(&path, Some(NewDocument { schema, json }))?;
                let result = if created {
                    store.save(&doc)
                } else {
                    Err(DocError::AlreadyExists(path))
                };
                store.release(&doc)?;
                result
            })
            .await?;
            empty()
        }
        "describe" => {
            let path = path_arg(&args)?;
            let include_ids = arg_bool(&args, "include_ids", false)?;
            let json = blocking(&room, move |store| {
                let (doc, _) = store.acquire(&path, None)?;
                let json = doc.to_json(include_ids);
                store.release(&doc)?;
                Ok(json)
            })
            .await?;
            json_reply(json)
        }
        "close" => {
            let path = path_arg(&args)?;
            let closed = room
                .documents
                .loaded(&path)
                .is_some_and(|d| d.close_for(&call.caller.id));
            if !closed {
                return Err(ToolError::new(
                    SYNC_NOT_CONNECTED,
                    format!("this participant does not have `{path}` open"),
                ));
            }
            empty()
        }
        "list" => {
            let scope = call.caller.scope.clone();
            let list = blocking(&room, |store| Ok(store.list())).await?;
            let docs: Vec<Value> = list
                .into_iter()
                .filter(|d| {
                    crate::auth::check::SYNC
                        .authorize(scope.as_ref(), "sync", "describe", &json!({"path": d.path}))
                        .is_ok()
                })
                .map(|d| json!({"path": d.path, "size": d.size, "open": d.open}))
                .collect();
            json_reply(json!({ "documents": docs }))
        }
        other => Err(ToolError::invalid(format!("sync.{other} is not supported"))),
    }
}

/// Base64 text (as bytes) to update bytes, bounded.
fn decode_update(data: &[u8]) -> Result<Vec<u8>, ToolError> {
    if data.len() > MAX_UPDATE_SIZE / 3 * 4 + 4 {
        return Err(ToolError::invalid(format!(
            "an update may carry at most {MAX_UPDATE_SIZE} bytes"
        )));
    }
    let text: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    B64.decode(&text)
        .map_err(|e| ToolError::invalid(format!("an update must be base64 text: {e}")))
}

async fn open(call: &mut ToolCall) -> ToolResult {
    if call.requests.is_none() {
        return Err(ToolError::invalid(
            "sync.open is a stream: open it with a control chunk, then send a start chunk",
        ));
    }
    let start = match next_chunk(call).await {
        Chunk::Content(c) => Value::Object(binary_kind(c, "start")?.0),
        Chunk::Closed => {
            return Err(ToolError::invalid(
                "sync.open needs a start chunk before the stream closes",
            ));
        }
        Chunk::Gone => return Ok(Reply::Streamed),
    };
    let path = path_arg(&start)?;
    call.authorize(&json!({ "path": path }))?;
    let writable = can_write(call, &path);
    let create = arg_bool(&start, "create", true)?;
    let vector = match opt_str(&start, "vector")? {
        None | Some("") => Vec::new(),
        Some(v) => B64
            .decode(v.trim())
            .map_err(|e| ToolError::invalid(format!("`vector` must be base64: {e}")))?,
    };
    let room = call.room.clone();
    let me = call.caller.id.clone();
    if room
        .documents
        .loaded(&path)
        .is_some_and(|d| d.is_open_by(&me))
    {
        return Err(ToolError::new(
            SYNC_ALREADY_CONNECTED,
            format!("this participant already has `{path}` open"),
        ));
    }
    let new = if create && !room.documents.exists(&path) {
        if !writable {
            return Err(deny_write(call, &path));
        }
        let schema = resolve_schema(
            &room,
            &path,
            opt_object(&start, "schema")?,
            opt_str(&start, "schema_path")?,
        )
        .await?;
        Some(NewDocument {
            schema,
            json: opt_object(&start, "initial_json")?,
        })
    } else {
        None
    };
    let p = path.clone();
    let (doc, created) = blocking(&room, move |store| store.acquire(&p, new)).await?;
    if created {
        let d = doc.clone();
        if let Err(e) = blocking(&room, move |store| store.save(&d)).await {
            release(&room, doc).await;
            return Err(e);
        }
    }
    let result = session(call, &doc, &path, &vector, writable).await;
    release(&room, doc).await;
    result
}

async fn release(room: &Arc<Room>, doc: Arc<SharedDoc>) {
    let path = doc.path.clone();
    if let Err(e) = blocking(room, move |store| store.release(&doc)).await {
        tracing::warn!("closing document {path}: {}", e.message);
    }
}

/// The open stream of one participant on one document, until either side ends it.
async fn session(
    call: &mut ToolCall,
    doc: &Arc<SharedDoc>,
    path: &str,
    vector: &[u8],
    writable: bool,
) -> ToolResult {
    let room = call.room.clone();
    let (mut sub, state) = doc.subscribe(&call.caller.id, vector)?;
    let result = async {
        let stream = call.open_stream().await?;
        let head = json!({"kind": "state", "path": path, "schema": doc.schema_json()});
        if stream
            .send(&Content::binary(head, B64.encode(&state).into_bytes()))
            .await
            .is_err()
        {
            return Ok(Reply::Streamed);
        }
        drop(state);
        loop {
            tokio::select! {
                chunk = next_chunk(call) => match chunk {
                    Chunk::Content(c) => {
                        let (_, data) = binary_kind(c, "sync")?;
                        let update = decode_update(&data)?;
                        if !writable {
                            if doc.would_change(&update)? {
                                return Err(deny_write(call, path));
                            }
                            continue;
                        }
                        let b64: Arc<str> = if data.iter().any(u8::is_ascii_whitespace) {
                            Arc::from(B64.encode(&update))
                        } else {
                            Arc::from(String::from_utf8_lossy(&data).into_owned())
                        };
                        crate::server::recording::sync_update(call, path, &update);
                        if doc.apply(sub.id, &update, b64)? {
                            schedule_save(&room, doc.clone());
                        }
                    }
                    Chunk::Closed => break,
                    Chunk::Gone => return Ok(Reply::Streamed),
                },
                Some(update) = sub.updates.recv() => {
                    let chunk = Content::binary(
                        json!({"kind": "sync", "path": path}),
                        update.as_bytes().to_vec(),
                    );
                    if stream.send(&chunk).await.is_err() {
                        return Ok(Reply::Streamed);
                    }
                }
                _ = sub.stop.notified() => {
                    if sub.lagged.load(Ordering::SeqCst) {
                        return Err(ToolError::new(
                            OPERATION_FAILED,
                            format!("this participant fell behind the updates of `{path}`; open it again"),
                        ));
                    }
                    break;
                }
            }
        }
        stream.close().await;
        Ok(Reply::Streamed)
    }
    .await;
    doc.unsubscribe(sub.id);
    result
}
