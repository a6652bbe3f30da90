//! Sync documents on disk and in memory: one file each, loaded while in use. Their shape and
//! JSON form are in `protocol::document`.
//!
//! ```text
//! <room>/documents/<sha256(path)[..32]>.ydoc
//!     b"RDYDOC1\n" | u32 BE path length | path | u32 BE schema length | schema JSON
//!     | the document's full state as one v1 update (compacted: re-encoded on every save)
//! ```
//!
//! A document is loaded while someone uses it (an open stream, a create, a describe) and
//! unloaded, after a final save, when the last user lets go. Changes mark it dirty; the caller
//! schedules `save` (debounced) and `flush_all` writes everything at shutdown. Writes go to a
//! temp file that is fsynced and renamed over the old one, so a crash leaves old or new state.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, mpsc};
use yrs::{Doc, ReadTxn, StateVector, Transact};

pub use crate::protocol::document::{
    Invalid, MAX_PATH, MAX_SCHEMA_SIZE, ROOT, Schema, apply_update, decode_state_vector,
    decode_update, encode_state, fill_from_json, new_doc, normalize_path, to_json,
};

/// Largest single update a participant may send (decoded bytes).
pub const MAX_UPDATE_SIZE: usize = 8 * 1024 * 1024;
/// Largest document (its encoded full state).
pub const MAX_DOCUMENT_SIZE: usize = 64 * 1024 * 1024;
/// Updates queued for one opener before it counts as too slow and is dropped.
pub const SUBSCRIBER_QUEUE: usize = 1024;
const MAGIC: &[u8] = b"RDYDOC1\n";

#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("no document at `{0}`; open it with create=true or create it first")]
    NotFound(String),
    #[error("a document already exists at `{0}`")]
    AlreadyExists(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the document at `{path}` is too large: {why}")]
    TooLarge { path: String, why: String },
    #[error("the document file of `{path}` cannot be read: {why}")]
    Corrupt { path: String, why: String },
    #[error("document storage failed for `{path}`: {why}")]
    Io { path: String, why: String },
}

impl DocError {
    fn io(path: &str, e: impl std::fmt::Display) -> DocError {
        DocError::Io {
            path: path.to_string(),
            why: e.to_string(),
        }
    }
}

impl From<Invalid> for DocError {
    fn from(e: Invalid) -> DocError {
        DocError::Invalid(e.0)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------
// Files

fn file_name(path: &str) -> String {
    let digest = Sha256::digest(path.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{hex}.ydoc")
}

fn encode_file(path: &str, schema: &Value, state: &[u8]) -> Vec<u8> {
    let schema = schema.to_string();
    let mut out = Vec::with_capacity(MAGIC.len() + 8 + path.len() + schema.len() + state.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(path.len() as u32).to_be_bytes());
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(&(schema.len() as u32).to_be_bytes());
    out.extend_from_slice(schema.as_bytes());
    out.extend_from_slice(state);
    out
}

/// (path, schema JSON, state) of a document file.
fn decode_file(bytes: &[u8]) -> Option<(String, Value, &[u8])> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let take = |b: &[u8]| -> Option<(usize, usize)> {
        let n = u32::from_be_bytes(b.get(..4)?.try_into().ok()?) as usize;
        (b.len() >= 4 + n).then_some((4, 4 + n))
    };
    let (a, b) = take(rest)?;
    let path = std::str::from_utf8(&rest[a..b]).ok()?.to_string();
    let rest = &rest[b..];
    let (a, b) = take(rest)?;
    let schema: Value = serde_json::from_slice(&rest[a..b]).ok()?;
    Some((path, schema, &rest[b..]))
}

/// Writes `bytes` to `target` via a fsynced temp file and a rename.
fn write_atomic(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        target.file_name().and_then(|n| n.to_str()).unwrap_or("doc")
    ));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, target)?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

// ---------------------------------------------------------------------------------------
// Loaded documents

/// Someone receiving a document's updates (an open stream).
struct Subscriber {
    id: u64,
    owner: String,
    tx: mpsc::Sender<Arc<str>>,
    /// Set and notified when the subscriber must stop: it fell behind, or was closed.
    stop: Arc<Notify>,
    lagged: Arc<AtomicBool>,
}

/// What an opener holds: its update feed and the signal to stop.
pub struct Subscription {
    pub id: u64,
    pub updates: mpsc::Receiver<Arc<str>>,
    pub stop: Arc<Notify>,
    /// True when the subscriber was dropped for falling behind (vs. closed on request).
    pub lagged: Arc<AtomicBool>,
}

struct DocState {
    doc: Doc,
    schema: Schema,
    dirty: bool,
    /// Upper bound of the encoded size: size at load/save plus updates since.
    approx_size: usize,
    subscribers: Vec<Subscriber>,
}

/// A document loaded in memory, shared by everyone using it.
pub struct SharedDoc {
    pub path: String,
    state: Mutex<DocState>,
    /// Held while a snapshot is encoded and written, so saves land in order.
    save_lock: Mutex<()>,
    /// Set while a debounced save is pending.
    pub save_scheduled: AtomicBool,
    /// Users (open streams, in-flight calls); changed only under the store's map lock.
    users: AtomicU64,
}

impl SharedDoc {
    fn new(path: String, doc: Doc, schema: Schema, size: usize, dirty: bool) -> SharedDoc {
        SharedDoc {
            path,
            state: Mutex::new(DocState {
                doc,
                schema,
                dirty,
                approx_size: size,
                subscribers: Vec::new(),
            }),
            save_lock: Mutex::new(()),
            save_scheduled: AtomicBool::new(false),
            users: AtomicU64::new(0),
        }
    }

    pub fn schema_json(&self) -> Value {
        lock(&self.state).schema.json.clone()
    }

    pub fn to_json(&self, include_ids: bool) -> Value {
        let st = lock(&self.state);
        to_json(&st.doc, &st.schema, include_ids)
    }

    pub fn is_dirty(&self) -> bool {
        lock(&self.state).dirty
    }

    pub fn subscriber_count(&self) -> usize {
        lock(&self.state).subscribers.len()
    }

    /// Registers a subscriber and returns what it is missing relative to `vector` (v1
    /// state vector bytes; empty = everything). Both happen under one lock, so no update
    /// falls between the state and the feed.
    pub fn subscribe(
        &self,
        owner: &str,
        vector: &[u8],
    ) -> Result<(Subscription, Vec<u8>), DocError> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let sv = if vector.is_empty() {
            StateVector::default()
        } else {
            decode_state_vector(vector).map_err(DocError::Invalid)?
        };
        let mut st = lock(&self.state);
        let update = encode_state(&st.doc, &sv).map_err(|why| DocError::Corrupt {
            path: self.path.clone(),
            why,
        })?;
        let (tx, rx) = mpsc::channel(SUBSCRIBER_QUEUE);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let stop = Arc::new(Notify::new());
        let lagged = Arc::new(AtomicBool::new(false));
        st.subscribers.push(Subscriber {
            id,
            owner: owner.to_string(),
            tx,
            stop: stop.clone(),
            lagged: lagged.clone(),
        });
        Ok((
            Subscription {
                id,
                updates: rx,
                stop,
                lagged,
            },
            update,
        ))
    }

    pub fn unsubscribe(&self, id: u64) {
        lock(&self.state).subscribers.retain(|s| s.id != id);
    }

    /// Whether `owner` has this document open.
    pub fn is_open_by(&self, owner: &str) -> bool {
        lock(&self.state)
            .subscribers
            .iter()
            .any(|s| s.owner == owner)
    }

    /// Stops every subscription of `owner`; false when it had none.
    pub fn close_for(&self, owner: &str) -> bool {
        let st = lock(&self.state);
        let mine: Vec<&Subscriber> = st.subscribers.iter().filter(|s| s.owner == owner).collect();
        for s in &mine {
            s.stop.notify_one();
        }
        !mine.is_empty()
    }

    /// Whether an update would change the document (a read-only opener may send updates
    /// that add nothing, e.g. an empty one on open; those are not refusals).
    pub fn would_change(&self, update: &[u8]) -> Result<bool, DocError> {
        let update = decode_update(update).map_err(DocError::Invalid)?;
        if update.is_empty() {
            return Ok(false);
        }
        let st = lock(&self.state);
        let sv = st.doc.transact().state_vector();
        Ok(update.extends(&sv) || !update.delete_set().is_empty())
    }

    /// Applies an update from subscriber `from` and relays its base64 form to every other
    /// subscriber. Returns true when the caller should schedule a save.
    pub fn apply(&self, from: u64, update: &[u8], base64: Arc<str>) -> Result<bool, DocError> {
        if update.len() > MAX_UPDATE_SIZE {
            return Err(DocError::TooLarge {
                path: self.path.clone(),
                why: format!(
                    "one update carried {} bytes; at most {MAX_UPDATE_SIZE} are accepted",
                    update.len()
                ),
            });
        }
        let mut st = lock(&self.state);
        if st.approx_size + update.len() > MAX_DOCUMENT_SIZE {
            // The bound is loose (deleted content is collected); measure before refusing.
            let exact = encode_state(&st.doc, &StateVector::default())
                .map(|s| s.len())
                .unwrap_or(usize::MAX);
            st.approx_size = exact;
            if exact.saturating_add(update.len()) > MAX_DOCUMENT_SIZE {
                return Err(DocError::TooLarge {
                    path: self.path.clone(),
                    why: format!("it would exceed {MAX_DOCUMENT_SIZE} bytes"),
                });
            }
        }
        apply_update(&st.doc, update).map_err(DocError::Invalid)?;
        st.approx_size += update.len();
        st.dirty = true;
        st.subscribers.retain(|s| {
            if s.id == from {
                return true;
            }
            match s.tx.try_send(base64.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    s.lagged.store(true, Ordering::SeqCst);
                    s.stop.notify_one();
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        Ok(!self.save_scheduled.swap(true, Ordering::SeqCst))
    }
}

/// Summary of one stored document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentInfo {
    pub path: String,
    /// Bytes of its file (0 when it has never been saved).
    pub size: u64,
    /// Open streams on it right now.
    pub open: usize,
}

/// What to build when a document does not exist yet.
pub struct NewDocument {
    pub schema: Schema,
    pub json: Option<Value>,
}

/// The documents of one room.
pub struct DocumentStore {
    dir: PathBuf,
    loaded: Mutex<HashMap<String, Arc<SharedDoc>>>,
}

impl DocumentStore {
    pub fn open(room_dir: &Path) -> io::Result<DocumentStore> {
        let dir = room_dir.join("documents");
        fs::create_dir_all(&dir)?;
        Ok(DocumentStore {
            dir,
            loaded: Mutex::new(HashMap::new()),
        })
    }

    fn file(&self, path: &str) -> PathBuf {
        self.dir.join(file_name(path))
    }

    /// Whether a document exists (loaded or on disk).
    pub fn exists(&self, path: &str) -> bool {
        lock(&self.loaded).contains_key(path) || self.file(path).exists()
    }

    fn load(&self, path: &str) -> Result<Option<SharedDoc>, DocError> {
        let bytes = match fs::read(self.file(path)) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DocError::io(path, e)),
        };
        let corrupt = |why: String| DocError::Corrupt {
            path: path.to_string(),
            why,
        };
        let (stored_path, schema, state) = decode_file(&bytes)
            .ok_or_else(|| corrupt("it is not a roomdeck document file".into()))?;
        if stored_path != path {
            return Err(corrupt(format!(
                "it holds `{stored_path}` (a hash collision)"
            )));
        }
        let schema = Schema::parse(&schema).map_err(|e| corrupt(e.to_string()))?;
        let doc = new_doc();
        if !state.is_empty() {
            apply_update(&doc, state).map_err(corrupt)?;
        }
        Ok(Some(SharedDoc::new(
            path.to_string(),
            doc,
            schema,
            state.len(),
            false,
        )))
    }

    /// Takes a use of the document, loading it, or creating it from `create` when it does
    /// not exist. Returns the document and whether it was created. Blocking (disk).
    pub fn acquire(
        &self,
        path: &str,
        create: Option<NewDocument>,
    ) -> Result<(Arc<SharedDoc>, bool), DocError> {
        let mut loaded = lock(&self.loaded);
        if let Some(doc) = loaded.get(path) {
            doc.users.fetch_add(1, Ordering::SeqCst);
            return Ok((doc.clone(), false));
        }
        let (doc, created) = match self.load(path)? {
            Some(doc) => (doc, false),
            None => {
                let Some(new) = create else {
                    return Err(DocError::NotFound(path.to_string()));
                };
                let doc = new_doc();
                if let Some(json) = &new.json {
                    fill_from_json(&doc, &new.schema, json)?;
                }
                (
                    SharedDoc::new(path.to_string(), doc, new.schema, 0, true),
                    true,
                )
            }
        };
        let doc = Arc::new(doc);
        doc.users.store(1, Ordering::SeqCst);
        loaded.insert(path.to_string(), doc.clone());
        Ok((doc, created))
    }

    /// Lets go of a use; the last one saves the document (if changed) and unloads it.
    /// Blocking (disk).
    pub fn release(&self, doc: &Arc<SharedDoc>) -> Result<(), DocError> {
        {
            let loaded = lock(&self.loaded);
            if doc.users.load(Ordering::SeqCst) > 1 {
                doc.users.fetch_sub(1, Ordering::SeqCst);
                return Ok(());
            }
            drop(loaded);
        }
        // Probably the last user: save outside the map lock, then unload if still unused.
        let saved = self.save(doc);
        let mut loaded = lock(&self.loaded);
        let left = doc.users.fetch_sub(1, Ordering::SeqCst) - 1;
        if left == 0 {
            if doc.is_dirty() {
                // Changed between the save and now; cannot happen without users, but be sure.
                self.save(doc)?;
            }
            if loaded.get(&doc.path).is_some_and(|d| Arc::ptr_eq(d, doc)) {
                loaded.remove(&doc.path);
            }
        }
        saved
    }

    /// Writes the document if it changed since the last save. Blocking (disk).
    pub fn save(&self, doc: &SharedDoc) -> Result<(), DocError> {
        let _order = lock(&doc.save_lock);
        doc.save_scheduled.store(false, Ordering::SeqCst);
        let (bytes, len) = {
            let mut st = lock(&doc.state);
            if !st.dirty {
                return Ok(());
            }
            let state = encode_state(&st.doc, &StateVector::default()).map_err(|why| {
                DocError::Corrupt {
                    path: doc.path.clone(),
                    why,
                }
            })?;
            st.dirty = false;
            st.approx_size = state.len();
            (encode_file(&doc.path, &st.schema.json, &state), state.len())
        };
        if let Err(e) = write_atomic(&self.file(&doc.path), &bytes) {
            lock(&doc.state).dirty = true;
            return Err(DocError::io(&doc.path, e));
        }
        tracing::debug!(path = %doc.path, bytes = len, "saved document");
        Ok(())
    }

    /// Saves every loaded document that changed (shutdown). Blocking (disk).
    pub fn flush_all(&self) {
        let docs: Vec<Arc<SharedDoc>> = lock(&self.loaded).values().cloned().collect();
        for doc in docs {
            if let Err(e) = self.save(&doc) {
                tracing::warn!("{e}");
            }
        }
    }

    /// A loaded document, if someone is using it.
    pub fn loaded(&self, path: &str) -> Option<Arc<SharedDoc>> {
        lock(&self.loaded).get(path).cloned()
    }

    /// Every stored or loaded document, sorted by path. Blocking (disk).
    pub fn list(&self) -> Vec<DocumentInfo> {
        let mut out: HashMap<String, DocumentInfo> = HashMap::new();
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if !name.ends_with(".ydoc") || name.starts_with('.') {
                    continue;
                }
                let Ok(bytes) = read_head(&entry.path()) else {
                    continue;
                };
                let Some(path) = head_path(&bytes) else {
                    continue;
                };
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                out.insert(
                    path.clone(),
                    DocumentInfo {
                        path,
                        size,
                        open: 0,
                    },
                );
            }
        }
        for (path, doc) in lock(&self.loaded).iter() {
            let open = doc.subscriber_count();
            out.entry(path.clone())
                .or_insert_with(|| DocumentInfo {
                    path: path.clone(),
                    size: 0,
                    open: 0,
                })
                .open = open;
        }
        let mut list: Vec<DocumentInfo> = out.into_values().collect();
        list.sort_by(|a, b| a.path.cmp(&b.path));
        list
    }
}

/// The first bytes of a document file: enough for its path.
fn read_head(file: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = vec![0u8; MAGIC.len() + 4 + MAX_PATH];
    let mut f = fs::File::open(file)?;
    let mut filled = 0;
    loop {
        let n = f.read(&mut buf[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
        if filled == buf.len() {
            break;
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

fn head_path(bytes: &[u8]) -> Option<String> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let n = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    let path = rest.get(4..4 + n)?;
    String::from_utf8(path.to_vec()).ok()
}

#[cfg(test)]
mod tests;
