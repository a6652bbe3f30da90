//! Sync documents: Yjs documents (yrs) whose root is the XmlFragment `xml`, one file each.
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
//!
//! The MeshSchema (the SDK's `schema.py`) gives the document's shape: elements by tag name,
//! their attributes and at most one child property listing the tags allowed below them. The
//! document as JSON is `{root_tag: {attrs…, child_prop: [{tag: {…}}, …]}}`, as the SDK's
//! `Element.to_json` renders it.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, mpsc};
use yrs::types::ToJson;
use yrs::types::text::YChange;
use yrs::updates::decoder::Decode;
use yrs::{
    Any, Doc, GetString, Out, ReadTxn, StateVector, Text, Transact, TransactionMut, Update, Xml,
    XmlElementPrelim, XmlFragment, XmlOut, XmlTextPrelim,
};

/// Longest document path, in bytes.
pub const MAX_PATH: usize = 1024;
/// Largest single update a participant may send (decoded bytes).
pub const MAX_UPDATE_SIZE: usize = 8 * 1024 * 1024;
/// Largest document (its encoded full state).
pub const MAX_DOCUMENT_SIZE: usize = 64 * 1024 * 1024;
/// Largest schema (JSON bytes).
pub const MAX_SCHEMA_SIZE: usize = 1024 * 1024;
/// Updates queued for one opener before it counts as too slow and is dropped.
pub const SUBSCRIBER_QUEUE: usize = 1024;
/// Deepest element nesting accepted in JSON and rendered back.
const MAX_DEPTH: usize = 128;

const MAGIC: &[u8] = b"RDYDOC1\n";
const ROOT: &str = "xml";

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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The SDK's `_normalize_sync_path` plus the checks a path that names a file needs.
pub fn normalize_path(path: &str) -> Result<String, DocError> {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    let bad = |why: &str| Err(DocError::Invalid(format!("invalid document path: {why}")));
    if p.is_empty() || p == "." {
        return bad("it is empty");
    }
    if p.len() > MAX_PATH {
        return bad(&format!("longer than {MAX_PATH} bytes"));
    }
    if p.chars().any(|c| c.is_control()) {
        return bad("it contains control characters");
    }
    if p.split('/').any(|s| s == "..") {
        return bad("it contains `..`");
    }
    Ok(p.to_string())
}

// ---------------------------------------------------------------------------------------
// MeshSchema

/// One element type of a MeshSchema.
#[derive(Debug, Clone, Default)]
pub struct ElementSchema {
    /// Attribute (value property) names.
    pub attributes: Vec<String>,
    /// The one property holding child elements, and the tags it allows.
    pub child_property: Option<(String, Vec<String>)>,
}

/// A parsed MeshSchema (`schema.py`'s `MeshSchema.from_json`).
#[derive(Debug, Clone)]
pub struct Schema {
    pub json: Value,
    pub root: String,
    pub elements: HashMap<String, ElementSchema>,
}

impl Schema {
    pub fn parse(json: &Value) -> Result<Schema, DocError> {
        let bad = |why: String| DocError::Invalid(format!("invalid schema: {why}"));
        if json.to_string().len() > MAX_SCHEMA_SIZE {
            return Err(bad(format!("larger than {MAX_SCHEMA_SIZE} bytes")));
        }
        let root = json
            .get("$root_tag_ref")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("`$root_tag_ref` (a string) is required".into()))?;
        let root = root.strip_prefix("#/$defs/").unwrap_or(root).to_string();
        let defs = json
            .get("$defs")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("`$defs` (an object) is required".into()))?;
        let mut elements = HashMap::new();
        for (key, def) in defs {
            let props = def
                .get("properties")
                .and_then(Value::as_object)
                .ok_or_else(|| bad(format!("`$defs.{key}` has no `properties`")))?;
            let Some((tag, body)) = props.iter().next() else {
                return Err(bad(format!("`$defs.{key}.properties` is empty")));
            };
            let mut element = ElementSchema::default();
            let empty = Map::new();
            let attrs = body
                .get("properties")
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            for (name, p) in attrs {
                let ty = match p.get("type") {
                    Some(Value::String(s)) => s.as_str(),
                    Some(Value::Array(a)) => a.first().and_then(Value::as_str).unwrap_or(""),
                    _ => return Err(bad(format!("property `{tag}.{name}` has no `type`"))),
                };
                if ty == "array" {
                    let refs = p
                        .get("items")
                        .and_then(|i| i.get("anyOf"))
                        .or_else(|| p.get("prefixItems"))
                        .and_then(Value::as_array)
                        .ok_or_else(|| bad(format!("array property `{tag}.{name}` lists no element types")))?;
                    let tags = refs
                        .iter()
                        .map(|r| {
                            r.get("$ref")
                                .and_then(Value::as_str)
                                .map(|s| s.strip_prefix("#/$defs/").unwrap_or(s).to_string())
                                .ok_or_else(|| bad(format!("`{tag}.{name}` has an item without `$ref`")))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    if element.child_property.is_some() {
                        return Err(bad(format!("`{tag}` has more than one child property")));
                    }
                    element.child_property = Some((name.clone(), tags));
                } else {
                    element.attributes.push(name.clone());
                }
            }
            if elements.insert(tag.clone(), element).is_some() {
                return Err(bad(format!("`{tag}` is defined more than once")));
            }
        }
        if !elements.contains_key(&root) {
            return Err(bad(format!("the root `{root}` is not in `$defs`")));
        }
        for (tag, e) in &elements {
            if let Some((_, tags)) = &e.child_property
                && let Some(missing) = tags.iter().find(|t| !elements.contains_key(*t))
            {
                return Err(bad(format!("`{tag}` allows `{missing}`, which is not defined")));
            }
        }
        Ok(Schema {
            json: json.clone(),
            root,
            elements,
        })
    }

    fn child_property(&self, tag: &str) -> Option<&(String, Vec<String>)> {
        self.elements.get(tag).and_then(|e| e.child_property.as_ref())
    }
}

// ---------------------------------------------------------------------------------------
// JSON <-> Yjs

fn uuid4() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS random source is available");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn to_any(v: &Value) -> Any {
    serde_json::from_value(v.clone()).unwrap_or(Any::Null)
}

fn from_any(a: &Any) -> Value {
    serde_json::to_value(a).unwrap_or(Value::Null)
}

/// Fills an empty document from `{root_tag: {…}}`, as the SDK's `Document(json=…)` and
/// `Element.append_json` do: children of the root become children of the `xml` fragment,
/// every element gets a fresh `$id`, `text` elements get their XmlText. Root attributes have
/// nowhere to live in a Yjs fragment, so (as in the SDK) they are not kept.
pub fn fill_from_json(doc: &Doc, schema: &Schema, json: &Value) -> Result<(), DocError> {
    let bad = |why: String| DocError::Invalid(format!("initial JSON: {why}"));
    let body = json
        .as_object()
        .and_then(|o| o.get(&schema.root))
        .ok_or_else(|| bad(format!("expected an object with the root tag `{}`", schema.root)))?;
    let children = match (body, schema.child_property(&schema.root)) {
        (Value::Object(o), Some((prop, _))) => match o.get(prop) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            Some(_) => return Err(bad(format!("`{prop}` must be a list"))),
        },
        (Value::Object(_) | Value::Null, None) => Vec::new(),
        _ => return Err(bad("the root's value must be an object".into())),
    };
    let fragment = doc.get_or_insert_xml_fragment(ROOT);
    let mut txn = doc.transact_mut();
    append_children(&mut txn, &fragment, schema, &schema.root, &children, 0)
}

fn append_children<F: XmlFragment>(
    txn: &mut TransactionMut,
    parent: &F,
    schema: &Schema,
    parent_tag: &str,
    children: &[Value],
    depth: usize,
) -> Result<(), DocError> {
    let bad = |why: String| DocError::Invalid(format!("initial JSON: {why}"));
    if depth > MAX_DEPTH {
        return Err(bad(format!("nested deeper than {MAX_DEPTH} elements")));
    }
    let allowed = schema
        .child_property(parent_tag)
        .map(|(_, tags)| tags.as_slice())
        .unwrap_or(&[]);
    for child in children {
        let Some((tag, payload)) = child.as_object().filter(|o| o.len() == 1).and_then(|o| o.iter().next())
        else {
            return Err(bad("each element must be an object with one key, its tag".into()));
        };
        if !allowed.iter().any(|t| t == tag) {
            return Err(bad(format!("`{tag}` is not allowed in `{parent_tag}`")));
        }
        let element_schema = schema.elements.get(tag).cloned().unwrap_or_default();
        let empty = Map::new();
        let payload = match payload {
            Value::Object(o) => o,
            Value::Null => &empty,
            _ => return Err(bad(format!("the value of `{tag}` must be an object"))),
        };
        let child_prop = element_schema.child_property.as_ref().map(|(p, _)| p.as_str());
        let element = parent.push_back(txn, XmlElementPrelim::empty(tag.as_str()));
        let id = payload
            .get("$id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(uuid4);
        element.insert_attribute(txn, "$id", id);
        for (k, v) in payload {
            if k == "$id" || Some(k.as_str()) == child_prop {
                continue;
            }
            if !element_schema.attributes.iter().any(|a| a == k) {
                return Err(bad(format!("`{k}` is not a property of `{tag}`")));
            }
            element.insert_attribute(txn, k.as_str(), to_any(v));
        }
        if tag == "text" {
            element.push_back(txn, XmlTextPrelim::new(""));
        }
        if let Some(prop) = child_prop {
            match payload.get(prop) {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    append_children(txn, &element, schema, tag, items, depth + 1)?
                }
                Some(_) => return Err(bad(format!("`{tag}.{prop}` must be a list"))),
            }
        }
    }
    Ok(())
}

/// The document as the SDK's `doc.root.to_json()` renders it.
pub fn to_json(doc: &Doc, schema: &Schema, include_ids: bool) -> Value {
    let txn = doc.transact();
    let children = match txn.get_xml_fragment(ROOT) {
        Some(f) => render_children(&txn, &f, schema, include_ids, 0),
        None => Vec::new(),
    };
    let mut body = Map::new();
    if let Some((prop, _)) = schema.child_property(&schema.root) {
        body.insert(prop.clone(), Value::Array(children));
    }
    json!({ schema.root.clone(): body })
}

fn render_children<T: ReadTxn, F: XmlFragment>(
    txn: &T,
    parent: &F,
    schema: &Schema,
    include_ids: bool,
    depth: usize,
) -> Vec<Value> {
    if depth > MAX_DEPTH {
        return Vec::new();
    }
    parent
        .children(txn)
        .filter_map(|node| match node {
            XmlOut::Element(el) => {
                let tag = el.tag().to_string();
                let mut props = Map::new();
                for (k, v) in el.attributes(txn) {
                    if k == "$id" && !include_ids {
                        continue;
                    }
                    let value = match v {
                        Out::Any(a) => from_any(&a),
                        other => from_any(&other.to_json(txn)),
                    };
                    props.insert(k.to_string(), value);
                }
                let children = render_children(txn, &el, schema, include_ids, depth + 1);
                match schema.child_property(&tag) {
                    Some((prop, _)) => {
                        props.insert(prop.clone(), Value::Array(children));
                    }
                    None if !children.is_empty() && tag != "text" => {
                        props.insert("children".into(), Value::Array(children));
                    }
                    None => {}
                }
                Some(json!({ tag: props }))
            }
            XmlOut::Text(text) => {
                let delta: Vec<Value> = text
                    .diff(txn, YChange::identity)
                    .into_iter()
                    .map(|d| {
                        let insert = match &d.insert {
                            Out::Any(Any::String(s)) => Value::String(s.to_string()),
                            Out::Any(a) => from_any(a),
                            other => Value::String(Out::to_string(other.clone(), txn)),
                        };
                        let attributes: Map<String, Value> = d
                            .attributes
                            .map(|a| a.iter().map(|(k, v)| (k.to_string(), from_any(v))).collect())
                            .unwrap_or_default();
                        json!({"insert": insert, "attributes": attributes})
                    })
                    .collect();
                Some(json!({"text": {"delta": delta}}))
            }
            XmlOut::Fragment(f) => Some(Value::String(f.get_string(txn))),
        })
        .collect()
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

/// Applies v1 update bytes; a malformed update (or a panic inside yrs on one) is an error,
/// never a crash.
fn apply_update(doc: &Doc, bytes: &[u8]) -> Result<(), String> {
    let update = Update::decode_v1(bytes).map_err(|e| format!("not a Yjs v1 update: {e}"))?;
    catch_unwind(AssertUnwindSafe(|| {
        let mut txn = doc.transact_mut();
        txn.apply_update(update)
            .map_err(|e| format!("the update cannot be applied: {e}"))
    }))
    .unwrap_or_else(|_| Err("the update cannot be applied".into()))
}

fn encode_state(doc: &Doc, sv: &StateVector) -> Result<Vec<u8>, String> {
    catch_unwind(AssertUnwindSafe(|| doc.transact().encode_state_as_update_v1(sv)))
        .map_err(|_| "the document cannot be encoded".to_string())
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
    pub fn subscribe(&self, owner: &str, vector: &[u8]) -> Result<(Subscription, Vec<u8>), DocError> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let sv = if vector.is_empty() {
            StateVector::default()
        } else {
            StateVector::decode_v1(vector)
                .map_err(|e| DocError::Invalid(format!("the state vector is not valid: {e}")))?
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
        lock(&self.state).subscribers.iter().any(|s| s.owner == owner)
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
        let (stored_path, schema, state) =
            decode_file(&bytes).ok_or_else(|| corrupt("it is not a roomdeck document file".into()))?;
        if stored_path != path {
            return Err(corrupt(format!("it holds `{stored_path}` (a hash collision)")));
        }
        let schema = Schema::parse(&schema).map_err(|e| corrupt(e.to_string()))?;
        let doc = Doc::new();
        doc.get_or_insert_xml_fragment(ROOT);
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
                let doc = Doc::new();
                doc.get_or_insert_xml_fragment(ROOT);
                if let Some(json) = &new.json {
                    fill_from_json(&doc, &new.schema, json)?;
                }
                (SharedDoc::new(path.to_string(), doc, new.schema, 0, true), true)
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
