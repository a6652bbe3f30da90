//! Room memories: small knowledge graphs kept in SQLite, one file per memory.
//!
//! ```text
//! <room>/memory/<namespace…>/<name>.db
//!   entities       (entity_id, name, entity_type, context, confidence, created_at, valid_at, metadata)
//!   entities_fts   FTS5 over name, context and entity_type (BM25 recall)
//!   relationships  (source_entity_id, target_entity_id, relationship_type, …) unique per triple
//!   sources        what was ingested (text, files), one row per ingest
//!   table_rows     the free-form tables of `upsert_table`
//! ```
//!
//! The graph model is MeshAgent's: entity nodes (label `Entity`, plus their `entity_type`) and
//! relationship edges, written with `upsert_nodes`/`upsert_relationships` or extracted from
//! text by `ingest` (a heuristic, no LLM), read with `recall` (BM25) and `query` (a subset of
//! Cypher, see `cypher`).

pub mod cypher;
mod graph;
pub mod ingest;
mod recall;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use thiserror::Error;

pub use graph::{EntityRecord, RelationshipRecord, RelationshipSelector, parse_records};
pub use recall::{RecallItem, RecallRelationship};

/// Bounds on what one call may ask of a memory.
pub const MAX_RECORDS_JSON: usize = 16 * 1024 * 1024;
pub const MAX_RECORDS: usize = 50_000;
pub const MAX_TEXT: usize = 4 * 1024 * 1024;
pub const MAX_RECALL: usize = 100;

#[derive(Debug, Error)]
pub enum MemoryError {
    #[error("memory does not exist: {0} (create it with memory.create)")]
    NotFound(String),
    #[error("memory already exists: {0}")]
    Exists(String),
    #[error("{0}")]
    Invalid(String),
    #[error("memory storage failed: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("memory storage failed: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, MemoryError>;

fn invalid<T>(message: impl Into<String>) -> Result<T> {
    Err(MemoryError::Invalid(message.into()))
}

/// Whether `name` can name a memory or a namespace segment: it becomes a file or directory.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
}

fn check_name(what: &str, name: &str) -> Result<()> {
    if valid_name(name) {
        Ok(())
    } else {
        invalid(format!(
            "`{name}` is not a valid {what} name: use 1-128 letters, digits, `_`, `-`, `.` or spaces, not starting with `.`"
        ))
    }
}

/// Where a memory lives: its namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemoryRef {
    pub namespace: Vec<String>,
    pub name: String,
}

impl MemoryRef {
    pub fn new(namespace: Vec<String>, name: impl Into<String>) -> Result<MemoryRef> {
        let name = name.into();
        check_name("memory", &name)?;
        for part in &namespace {
            check_name("namespace", part)?;
        }
        Ok(MemoryRef { namespace, name })
    }

    /// `memory/<ns…>/<name>`, the path `inspect` reports.
    pub fn display_path(&self) -> String {
        let mut parts = vec!["memory".to_string()];
        parts.extend(self.namespace.iter().cloned());
        parts.push(self.name.clone());
        parts.join("/")
    }
}

/// Every memory of one room, with the open databases.
pub struct Memories {
    dir: PathBuf,
    open: Mutex<HashMap<PathBuf, Arc<MemoryDb>>>,
}

impl Memories {
    /// `room_dir` is the room's data directory; memories live under `memory/` in it.
    pub fn new(room_dir: &Path) -> Memories {
        Memories {
            dir: room_dir.join("memory"),
            open: Mutex::new(HashMap::new()),
        }
    }

    fn ns_dir(&self, namespace: &[String]) -> PathBuf {
        let mut p = self.dir.clone();
        for part in namespace {
            p.push(part);
        }
        p
    }

    fn path(&self, m: &MemoryRef) -> PathBuf {
        self.ns_dir(&m.namespace).join(format!("{}.db", m.name))
    }

    /// The memories directly in a namespace, sorted.
    pub fn list(&self, namespace: &[String]) -> Result<Vec<String>> {
        for part in namespace {
            check_name("namespace", part)?;
        }
        let dir = self.ns_dir(namespace);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry?;
            if !entry.file_type()?.is_file() {
                continue;
            }
            let file = entry.file_name().to_string_lossy().into_owned();
            if let Some(name) = file.strip_suffix(".db")
                && valid_name(name)
            {
                names.push(name.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    pub fn exists(&self, m: &MemoryRef) -> bool {
        self.path(m).is_file()
    }

    /// Creates a memory. An existing one is kept (`ignore_exists`), replaced (`overwrite`) or
    /// refused.
    pub fn create(&self, m: &MemoryRef, overwrite: bool, ignore_exists: bool) -> Result<()> {
        if self.exists(m) {
            if overwrite {
                self.drop_memory(m)?;
            } else if ignore_exists {
                return Ok(());
            } else {
                return Err(MemoryError::Exists(m.name.clone()));
            }
        }
        let path = self.path(m);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let db = Arc::new(MemoryDb::open(&path)?);
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path, db);
        Ok(())
    }

    /// Deletes a memory's files; false when there was none.
    pub fn drop_memory(&self, m: &MemoryRef) -> Result<bool> {
        let path = self.path(m);
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&path);
        if !path.exists() {
            return Ok(false);
        }
        crate::store::remove_sqlite(&path).map_err(|(_, e)| e)?;
        Ok(true)
    }

    /// An existing memory, opened on first use.
    pub fn get(&self, m: &MemoryRef) -> Result<Arc<MemoryDb>> {
        let path = self.path(m);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(db) = open.get(&path) {
            if path.exists() {
                return Ok(db.clone());
            }
            open.remove(&path);
        }
        if !path.is_file() {
            return Err(MemoryError::NotFound(m.name.clone()));
        }
        let db = Arc::new(MemoryDb::open(&path)?);
        open.insert(path, db.clone());
        Ok(db)
    }
}

/// One memory's database.
pub struct MemoryDb {
    path: PathBuf,
    conn: Mutex<rusqlite::Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entities (
    id INTEGER PRIMARY KEY,
    entity_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    entity_type TEXT,
    context TEXT,
    confidence REAL,
    created_at TEXT,
    valid_at TEXT,
    metadata TEXT
);
CREATE VIRTUAL TABLE IF NOT EXISTS entities_fts USING fts5(
    name, context, entity_type,
    content='entities', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS entities_ai AFTER INSERT ON entities BEGIN
    INSERT INTO entities_fts(rowid, name, context, entity_type)
        VALUES (new.id, new.name, new.context, new.entity_type);
END;
CREATE TRIGGER IF NOT EXISTS entities_ad AFTER DELETE ON entities BEGIN
    INSERT INTO entities_fts(entities_fts, rowid, name, context, entity_type)
        VALUES ('delete', old.id, old.name, old.context, old.entity_type);
END;
CREATE TRIGGER IF NOT EXISTS entities_au AFTER UPDATE ON entities BEGIN
    INSERT INTO entities_fts(entities_fts, rowid, name, context, entity_type)
        VALUES ('delete', old.id, old.name, old.context, old.entity_type);
    INSERT INTO entities_fts(rowid, name, context, entity_type)
        VALUES (new.id, new.name, new.context, new.entity_type);
END;
CREATE TABLE IF NOT EXISTS relationships (
    id INTEGER PRIMARY KEY,
    source_entity_id TEXT NOT NULL,
    target_entity_id TEXT NOT NULL,
    relationship_type TEXT NOT NULL,
    description TEXT,
    confidence REAL,
    created_at TEXT,
    valid_at TEXT,
    expired_at TEXT,
    invalid_at TEXT,
    source_entity_name TEXT,
    target_entity_name TEXT,
    metadata TEXT,
    UNIQUE (source_entity_id, target_entity_id, relationship_type)
);
CREATE INDEX IF NOT EXISTS relationships_by_target ON relationships(target_entity_id);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    path TEXT,
    mime_type TEXT,
    chunks INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS table_rows (
    id INTEGER PRIMARY KEY,
    table_name TEXT NOT NULL,
    row_key TEXT,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS table_rows_by_key ON table_rows(table_name, row_key);
";

/// The names `inspect` gives the built-in datasets (MeshAgent's labels).
pub const ENTITY_DATASET: &str = "Entity";
pub const RELATIONSHIP_DATASET: &str = "RELATIONSHIP";
pub const SOURCE_DATASET: &str = "Source";

pub const ENTITY_COLUMNS: &[&str] = &[
    "entity_id",
    "name",
    "entity_type",
    "context",
    "confidence",
    "created_at",
    "valid_at",
    "metadata",
];
pub const RELATIONSHIP_COLUMNS: &[&str] = &[
    "source_entity_id",
    "target_entity_id",
    "relationship_type",
    "description",
    "confidence",
    "created_at",
    "valid_at",
    "expired_at",
    "invalid_at",
    "source_entity_name",
    "target_entity_name",
    "metadata",
];
const SOURCE_COLUMNS: &[&str] = &["kind", "path", "mime_type", "chunks", "created_at"];

/// One dataset as `inspect` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetSummary {
    pub name: String,
    pub rows: u64,
    pub columns: Vec<String>,
}

/// What `optimize` did.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizeStats {
    pub bytes_removed: u64,
}

/// The time now as RFC 3339 UTC (`2026-01-01T12:00:00Z`).
pub fn now_rfc3339() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

impl MemoryDb {
    fn open(path: &Path) -> Result<MemoryDb> {
        let conn = super::open_sqlite(path)?;
        conn.execute_batch(SCHEMA)?;
        Ok(MemoryDb {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> Result<T>,
    ) -> Result<T> {
        // A poisoned lock means another call panicked; SQLite rolled its transaction back.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn)
    }

    fn size_bytes(&self) -> u64 {
        ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", self.path.display())).ok())
            .map(|m| m.len())
            .sum()
    }

    pub fn datasets(&self) -> Result<Vec<DatasetSummary>> {
        self.with(|c| {
            let count = |sql: &str| -> Result<u64> {
                let n: i64 = c.query_row(sql, [], |r| r.get(0))?;
                Ok(n.max(0) as u64)
            };
            let cols = |names: &[&str]| names.iter().map(|s| s.to_string()).collect();
            let mut out = vec![
                DatasetSummary {
                    name: ENTITY_DATASET.into(),
                    rows: count("SELECT count(*) FROM entities")?,
                    columns: cols(ENTITY_COLUMNS),
                },
                DatasetSummary {
                    name: RELATIONSHIP_DATASET.into(),
                    rows: count("SELECT count(*) FROM relationships")?,
                    columns: cols(RELATIONSHIP_COLUMNS),
                },
                DatasetSummary {
                    name: SOURCE_DATASET.into(),
                    rows: count("SELECT count(*) FROM sources")?,
                    columns: cols(SOURCE_COLUMNS),
                },
            ];
            out.extend(graph::table_summaries(c)?);
            Ok(out)
        })
    }

    /// Merges the FTS index's segments, checkpoints the WAL and (`compact`) rewrites the file.
    pub fn optimize(&self, compact: bool, cleanup: bool) -> Result<OptimizeStats> {
        let before = self.size_bytes();
        self.with(|c| {
            c.execute(
                "INSERT INTO entities_fts(entities_fts) VALUES ('optimize')",
                [],
            )?;
            if compact {
                c.execute_batch("VACUUM")?;
            }
            if cleanup {
                c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            }
            Ok(())
        })?;
        Ok(OptimizeStats {
            bytes_removed: before.saturating_sub(self.size_bytes()),
        })
    }
}

#[cfg(test)]
mod tests;
