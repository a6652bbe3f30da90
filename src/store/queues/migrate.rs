//! Queues of older versions, in SQLite (`queues.db`: tables `queues` and `items`), moved
//! into the log when a room is first opened by this version.
//!
//! The log appears only by an atomic rename once it holds every item, and the old database
//! is deleted after that, so a crash in between leaves both: the log wins and the database
//! is deleted on the next open; items are never imported twice or lost.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::QueueError;
use super::log::{LogFile, Replayed, Snapshot};

pub(super) fn from_sqlite(db: &Path, log: &Path) -> Result<(), QueueError> {
    if !db.exists() {
        return Ok(());
    }
    if !log.exists() {
        let queues = read(db)
            .map_err(|e| QueueError::Storage(format!("migrating {} failed: {e}", db.display())))?;
        let count: usize = queues.iter().map(|(_, items)| items.len()).sum();
        LogFile::replace(log, &Replayed::encode(&queues))
            .map_err(|e| QueueError::Storage(format!("{}: {e}", log.display())))?;
        tracing::info!(
            "moved {} queues ({count} items) from {} to {}",
            queues.len(),
            db.display(),
            log.display()
        );
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                tracing::warn!("cannot remove {}: {e}", Path::new(&path).display());
            }
            _ => {}
        }
    }
    Ok(())
}

fn read(db: &Path) -> rusqlite::Result<Snapshot> {
    let conn = crate::store::open_sqlite(db)?;
    let has_tables: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('queues', 'items')",
        [],
        |r| r.get(0),
    )?;
    if has_tables < 2 {
        return Ok(Vec::new());
    }
    let mut queues: BTreeMap<String, Vec<(u64, Arc<str>)>> = BTreeMap::new();
    let mut names = conn.prepare("SELECT name FROM queues")?;
    for name in names.query_map([], |r| r.get::<_, String>(0))? {
        queues.entry(name?).or_default();
    }
    let mut items = conn.prepare("SELECT id, queue, body FROM items ORDER BY id")?;
    let rows = items.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (id, queue, body) = row?;
        // Row ids grow with every insert: they keep the queue's order as item ids.
        queues
            .entry(queue)
            .or_default()
            .push((id.max(0) as u64, Arc::from(body)));
    }
    Ok(queues.into_iter().collect())
}
