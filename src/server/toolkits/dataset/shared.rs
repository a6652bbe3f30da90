//! What the `dataset` and `sqlite` toolkits share: the room's table stores, open queries,
//! name rules, and the Arrow stream protocol (pull/data chunks).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use crate::protocol::Content;
use crate::protocol::error_codes::{
    ALREADY_EXISTS, INVALID_REQUEST, NOT_FOUND, OPERATION_FAILED, PERMISSION_DENIED,
};
use crate::server::call::{ToolCall, ToolError, random_id};
use crate::server::room::Room;
use crate::store::tables::{Cursor, StoreError, TableStore};

pub(crate) const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";
/// Open queries per room, and per participant.
const MAX_QUERIES_PER_ROOM: usize = 256;
const MAX_QUERIES_PER_PARTICIPANT: usize = 32;
/// The folder (under `<room>/sqlite`) of backup and restore temp files.
const TRANSFER_DIR: &str = ".transfer";

impl From<StoreError> for ToolError {
    fn from(e: StoreError) -> ToolError {
        let code = match &e {
            StoreError::Invalid(_) | StoreError::Sql(_) | StoreError::Cancelled => INVALID_REQUEST,
            StoreError::NotFound(_) => NOT_FOUND,
            StoreError::Exists(_) => ALREADY_EXISTS,
            StoreError::Denied(_) => PERMISSION_DENIED,
            StoreError::Io(_) => OPERATION_FAILED,
        };
        ToolError::new(code, e.to_string())
    }
}

/// Runs blocking store work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ToolError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ToolError::new(OPERATION_FAILED, format!("the database task failed: {e}")))?
        .map_err(ToolError::from)
}

/// Opens a query off the async threads; if the caller leaves before it has an answer, the
/// statement is interrupted rather than left running.
pub(crate) async fn open_query(
    call: &ToolCall,
    store: Arc<TableStore>,
    mut spec: crate::store::tables::QuerySpec,
    views_from: impl FnOnce(&TableStore) -> Result<Vec<(String, String)>, StoreError> + Send + 'static,
) -> Result<crate::store::tables::Opened, ToolError> {
    let slot: crate::store::tables::InterruptSlot = Arc::default();
    spec.interrupt = Some(slot.clone());
    let task = blocking(move || {
        // Explicit table references first: they win over a namespace's short names.
        let mut views = std::mem::take(&mut spec.views);
        views.extend(views_from(&store)?);
        views.retain(|(alias, table)| alias != table);
        spec.views = views;
        store.open_query(spec)
    });
    let conn = call.conn().clone();
    tokio::select! {
        result = task => result,
        _ = conn.closed() => {
            if let Some(handle) = slot.lock().unwrap_or_else(|p| p.into_inner()).take() {
                handle.interrupt();
            }
            Err(ToolError::new(OPERATION_FAILED, "the caller left; the query was interrupted"))
        }
    }
}

struct OpenQuery {
    owner: String,
    toolkit: &'static str,
    cursor: Arc<Cursor>,
}

/// One room's databases: the dataset file, the sqlite toolkit's files, and open queries.
pub(crate) struct RoomDatabase {
    dir: PathBuf,
    dataset: Mutex<Option<Arc<TableStore>>>,
    sqlite: Mutex<HashMap<PathBuf, Arc<TableStore>>>,
    queries: Arc<Mutex<HashMap<String, OpenQuery>>>,
    /// Participants whose departure is being watched (one watcher each).
    watched: Arc<Mutex<std::collections::HashSet<String>>>,
}

impl RoomDatabase {
    pub fn new(dir: PathBuf) -> RoomDatabase {
        // Transfers cut off by a crash left their temp files behind; none is running yet.
        let _ = std::fs::remove_dir_all(dir.join("sqlite").join(TRANSFER_DIR));
        RoomDatabase {
            dir,
            dataset: Mutex::new(None),
            sqlite: Mutex::new(HashMap::new()),
            queries: Arc::default(),
            watched: Arc::default(),
        }
    }

    /// The room's databases, opened with the room (the dataset toolkit's `on_open`).
    pub fn of(room: &Room) -> Result<Arc<RoomDatabase>, ToolError> {
        room.toolkit_state.get()
    }

    /// `<room>/dataset.db`, opened on first use.
    pub fn dataset(&self) -> Result<Arc<TableStore>, ToolError> {
        let mut slot = self.dataset.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let store = Arc::new(TableStore::open(&self.dir.join("dataset.db"))?);
        *slot = Some(store.clone());
        Ok(store)
    }

    /// The folder of the sqlite toolkit's databases in a namespace.
    pub fn sqlite_dir(&self, namespace: &[String]) -> PathBuf {
        let mut p = self.dir.join("sqlite");
        for part in namespace {
            p.push(part);
        }
        p
    }

    pub fn sqlite_path(&self, namespace: &[String], name: &str) -> PathBuf {
        self.sqlite_dir(namespace).join(format!("{name}.db"))
    }

    /// An existing sqlite-toolkit database.
    pub fn sqlite(&self, namespace: &[String], name: &str) -> Result<Arc<TableStore>, ToolError> {
        let path = self.sqlite_path(namespace, name);
        let mut open = self.sqlite.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = open.get(&path) {
            if path.exists() {
                return Ok(s.clone());
            }
            open.remove(&path);
        }
        if !path.exists() {
            return Err(ToolError::new(
                NOT_FOUND,
                format!("there is no sqlite database `{name}`; create it with create_database"),
            ));
        }
        let store = Arc::new(TableStore::open(&path)?);
        open.insert(path, store.clone());
        Ok(store)
    }

    /// Creates the database file (and its bookkeeping tables). Creating and installing a
    /// restored file take turns, so a restore never lands on a database made meanwhile.
    pub fn create_sqlite(&self, namespace: &[String], name: &str) -> Result<(), ToolError> {
        let path = self.sqlite_path(namespace, name);
        let mut open = self.sqlite.lock().unwrap_or_else(|p| p.into_inner());
        let store = Arc::new(TableStore::open(&path)?);
        open.insert(path, store);
        Ok(())
    }

    /// `<room>/sqlite/.transfer`: temp files of backups and restores (a namespace can't start
    /// with `.`, so it never meets one). Emptied when the room opens.
    pub fn transfer_dir(&self) -> PathBuf {
        self.dir.join("sqlite").join(TRANSFER_DIR)
    }

    /// Installs a complete, checked, fsynced SQLite file as a new database: a hard link, so
    /// an existing database is never replaced (1004) and a crash leaves it absent or whole.
    /// `from` stays where it was; the caller removes it.
    pub fn install_sqlite(
        &self,
        namespace: &[String],
        name: &str,
        from: &std::path::Path,
    ) -> Result<(), ToolError> {
        let path = self.sqlite_path(namespace, name);
        let exists = || {
            ToolError::new(
                ALREADY_EXISTS,
                format!("sqlite database `{name}` already exists; a restore makes a new database"),
            )
        };
        let failed = |what: &str, e: std::io::Error| {
            ToolError::new(OPERATION_FAILED, format!("cannot {what}: {e}"))
        };
        let _turn = self.sqlite.lock().unwrap_or_else(|p| p.into_inner());
        if path.exists() {
            return Err(exists());
        }
        let dir = path.parent().unwrap_or(self.dir.as_path());
        std::fs::create_dir_all(dir).map_err(|e| failed("create the database folder", e))?;
        // A log left by a database of this name that is gone would be replayed into the new
        // file; with no database file, nothing is using it.
        for suffix in ["-wal", "-shm", "-journal"] {
            let p = PathBuf::from(format!("{}{suffix}", path.display()));
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(failed(&format!("remove the stale {}", p.display()), e));
                }
                _ => {}
            }
        }
        let _ = std::fs::remove_file(path.with_extension("settings.json"));
        match std::fs::hard_link(from, &path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists()),
            Err(e) => return Err(failed("install the restored database", e)),
        }
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Deletes a database's files; false when there was none.
    pub fn drop_sqlite(&self, namespace: &[String], name: &str) -> Result<bool, ToolError> {
        let path = self.sqlite_path(namespace, name);
        self.sqlite
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&path);
        if !path.exists() {
            return Ok(false);
        }
        crate::store::remove_sqlite(&path).map_err(|(p, e)| {
            ToolError::new(
                OPERATION_FAILED,
                format!("cannot delete {}: {e}", p.display()),
            )
        })?;
        Ok(true)
    }

    /// Keeps an open query for its owner; it is closed when the owner leaves.
    pub fn register(
        &self,
        call: &ToolCall,
        toolkit: &'static str,
        cursor: Cursor,
    ) -> Result<String, ToolError> {
        let owner = call.caller.id.clone();
        let id = random_id();
        {
            let mut queries = self.queries.lock().unwrap_or_else(|p| p.into_inner());
            let mine = queries.values().filter(|q| q.owner == owner).count();
            if queries.len() >= MAX_QUERIES_PER_ROOM || mine >= MAX_QUERIES_PER_PARTICIPANT {
                return Err(ToolError::new(
                    INVALID_REQUEST,
                    "too many open queries; close some with close_sql_query first",
                ));
            }
            queries.insert(
                id.clone(),
                OpenQuery {
                    owner,
                    toolkit,
                    cursor: Arc::new(cursor),
                },
            );
        }
        let first = self
            .watched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(call.caller.id.clone());
        if first {
            // When the participant leaves, its open queries go with it.
            let (queries, watched) = (self.queries.clone(), self.watched.clone());
            let conn = call.conn().clone();
            let owner = call.caller.id.clone();
            tokio::spawn(async move {
                conn.closed().await;
                watched
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&owner);
                let mut queries = queries.lock().unwrap_or_else(|p| p.into_inner());
                queries.retain(|_, q| {
                    if q.owner == owner {
                        q.cursor.cancel();
                        false
                    } else {
                        true
                    }
                });
            });
        }
        Ok(id)
    }

    pub fn query(
        &self,
        call: &ToolCall,
        toolkit: &str,
        id: &str,
    ) -> Result<Arc<Cursor>, ToolError> {
        let queries = self.queries.lock().unwrap_or_else(|p| p.into_inner());
        match queries.get(id) {
            Some(q) if q.owner == call.caller.id && q.toolkit == toolkit => Ok(q.cursor.clone()),
            _ => Err(ToolError::new(
                NOT_FOUND,
                format!("there is no open query `{id}` (it may have been closed)"),
            )),
        }
    }

    /// Closes a query; false when there was none.
    pub fn close(&self, call: &ToolCall, toolkit: &str, id: &str) -> bool {
        let mut queries = self.queries.lock().unwrap_or_else(|p| p.into_inner());
        let mine = queries
            .get(id)
            .is_some_and(|q| q.owner == call.caller.id && q.toolkit == toolkit);
        if mine && let Some(q) = queries.remove(id) {
            q.cursor.cancel();
        }
        mine
    }
}

/// Table, database and namespace names: they become SQLite names and file names.
pub(crate) fn check_name(what: &str, name: &str) -> Result<(), ToolError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && !name.starts_with(crate::store::tables::RESERVED_PREFIX)
        && !name.to_ascii_lowercase().starts_with("sqlite_")
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '));
    if ok {
        Ok(())
    } else {
        Err(ToolError::invalid(format!(
            "`{name}` is not a valid {what} name: use 1-128 letters, digits, `_`, `-`, `.` or spaces, \
             not starting with `.`, `sqlite_` or `_roomdeck_`"
        )))
    }
}

/// `namespace`: absent/null = the root, else a list of names.
pub(crate) fn namespace(args: &Value) -> Result<Vec<String>, ToolError> {
    match args.get("namespace") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for item in items {
                let s = item
                    .as_str()
                    .ok_or_else(|| ToolError::invalid("`namespace` must be a list of names"))?;
                check_name("namespace", s)?;
                out.push(s.to_string());
            }
            Ok(out)
        }
        Some(_) => Err(ToolError::invalid("`namespace` must be a list of names")),
    }
}

pub(crate) fn opt_str<'a>(args: &'a Value, key: &str) -> Result<Option<&'a str>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ToolError::invalid(format!("`{key}` must be a string"))),
    }
}

pub(crate) fn opt_u64(args: &Value, key: &str) -> Result<Option<u64>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| ToolError::invalid(format!("`{key}` must be a whole number >= 0"))),
    }
}

pub(crate) fn opt_strings(args: &Value, key: &str) -> Result<Option<Vec<String>>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ToolError::invalid(format!("`{key}` must be a list of strings")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(ToolError::invalid(format!(
            "`{key}` must be a list of strings"
        ))),
    }
}

/// The first chunk of a request stream: its headers (binary or JSON) and payload.
pub(crate) async fn start_chunk(
    call: &mut ToolCall,
) -> Result<(Map<String, Value>, Vec<u8>, bool), ToolError> {
    match call.next_request().await {
        Some(Content::Binary { headers, data }) => Ok((headers, data, false)),
        Some(Content::Json(Value::Object(m))) => Ok((m, Vec::new(), true)),
        Some(other) => Err(ToolError::invalid(format!(
            "the stream must start with a start chunk, not {}",
            other.kind()
        ))),
        None => Err(ToolError::invalid(
            "the stream closed before its start chunk",
        )),
    }
}

pub(crate) fn pull_chunk() -> Content {
    Content::binary(json!({"kind": "pull"}), Vec::new())
}

/// Whether a chunk of a read stream asks for the next batch.
pub(crate) fn is_pull(chunk: &Content) -> bool {
    match chunk {
        Content::Binary { headers, .. } => {
            headers.get("kind").and_then(Value::as_str) == Some("pull")
        }
        Content::Json(v) => v.get("kind").and_then(Value::as_str) == Some("pull"),
        _ => false,
    }
}

/// Serves a cursor as a read stream: one data chunk per pull, close at the end.
/// `strict` = the sqlite toolkit's data headers (exactly `{"kind":"data"}`).
pub(crate) async fn serve_cursor(
    call: &mut ToolCall,
    cursor: Arc<Cursor>,
    strict: bool,
) -> Result<(), ToolError> {
    let stream = call.open_stream().await?;
    let headers = if strict {
        json!({"kind": "data"})
    } else {
        json!({"kind": "data", "content_type": ARROW_STREAM})
    };
    loop {
        let Some(chunk) = call.next_request().await else {
            // The caller stopped reading: end the query's work in progress.
            cursor.cancel();
            return Ok(());
        };
        if !is_pull(&chunk) {
            return Err(ToolError::invalid(format!(
                "a read stream takes pull chunks, not {}",
                chunk.kind()
            )));
        }
        let c = cursor.clone();
        let batch = blocking(move || {
            c.next()?
                .map(|b| crate::store::tables::batch_to_ipc(&b))
                .transpose()
                .map_err(StoreError::from)
        })
        .await?;
        match batch {
            Some(ipc) => {
                if stream
                    .send(&Content::binary(headers.clone(), ipc))
                    .await
                    .is_err()
                {
                    cursor.cancel();
                    return Ok(());
                }
            }
            None => {
                stream.close().await;
                return Ok(());
            }
        }
    }
}
