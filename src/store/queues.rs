//! Durable queues in SQLite: every item is committed before its send is answered.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{OptionalExtension, params};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum QueueError {
    #[error("queue `{0}` does not exist")]
    NotFound(String),
    #[error("queue storage failed: {0}")]
    Storage(#[from] rusqlite::Error),
}

/// A popped item: its row id lets a caller that could not deliver it put it back in place.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueItem {
    pub id: i64,
    pub body: String,
}

pub struct QueueStore {
    conn: Mutex<rusqlite::Connection>,
}

impl QueueStore {
    pub fn open(path: &Path) -> Result<QueueStore, QueueError> {
        let conn = super::open_sqlite(path)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS queues (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS items (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 queue TEXT NOT NULL REFERENCES queues(name) ON DELETE CASCADE,
                 body TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS items_by_queue ON items(queue, id);",
        )?;
        Ok(QueueStore {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> Result<T, QueueError>,
    ) -> Result<T, QueueError> {
        // A poisoned lock only means another call panicked mid-way; SQLite's own transaction
        // rolled that back, so the connection is still consistent.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn)
    }

    fn ensure(conn: &rusqlite::Connection, name: &str, create: bool) -> Result<(), QueueError> {
        if create {
            conn.execute(
                "INSERT OR IGNORE INTO queues(name, created_at) VALUES (?1, strftime('%s','now'))",
                [name],
            )?;
            return Ok(());
        }
        let exists: Option<i64> = conn
            .query_row("SELECT 1 FROM queues WHERE name = ?1", [name], |r| r.get(0))
            .optional()?;
        exists
            .map(|_| ())
            .ok_or_else(|| QueueError::NotFound(name.to_string()))
    }

    pub fn open_queue(&self, name: &str) -> Result<(), QueueError> {
        self.with(|c| Self::ensure(c, name, true))
    }

    pub fn send(&self, name: &str, body: &str, create: bool) -> Result<(), QueueError> {
        self.with(|c| {
            let tx = c.transaction()?;
            Self::ensure(&tx, name, create)?;
            tx.execute(
                "INSERT INTO items(queue, body) VALUES (?1, ?2)",
                params![name, body],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Removes and returns the oldest item, if any.
    pub fn pop(&self, name: &str, create: bool) -> Result<Option<QueueItem>, QueueError> {
        self.with(|c| {
            let tx = c.transaction()?;
            Self::ensure(&tx, name, create)?;
            let item = tx
                .query_row(
                    "SELECT id, body FROM items WHERE queue = ?1 ORDER BY id LIMIT 1",
                    [name],
                    |r| {
                        Ok(QueueItem {
                            id: r.get(0)?,
                            body: r.get(1)?,
                        })
                    },
                )
                .optional()?;
            if let Some(item) = &item {
                tx.execute("DELETE FROM items WHERE id = ?1", [item.id])?;
            }
            tx.commit()?;
            Ok(item)
        })
    }

    /// Puts back an item that was popped but could not be delivered, at its old place.
    pub fn restore(&self, name: &str, item: &QueueItem) -> Result<(), QueueError> {
        self.with(|c| {
            let tx = c.transaction()?;
            Self::ensure(&tx, name, true)?;
            tx.execute(
                "INSERT OR IGNORE INTO items(id, queue, body) VALUES (?1, ?2, ?3)",
                params![item.id, name, item.body],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    pub fn drain(&self, name: &str) -> Result<(), QueueError> {
        self.with(|c| {
            Self::ensure(c, name, false)?;
            c.execute("DELETE FROM items WHERE queue = ?1", [name])?;
            Ok(())
        })
    }

    /// Deletes the queue and its items.
    pub fn close(&self, name: &str) -> Result<(), QueueError> {
        self.with(|c| {
            let tx = c.transaction()?;
            Self::ensure(&tx, name, false)?;
            tx.execute("DELETE FROM items WHERE queue = ?1", [name])?;
            tx.execute("DELETE FROM queues WHERE name = ?1", [name])?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Every queue with its number of items, by name.
    pub fn list(&self) -> Result<Vec<(String, u64)>, QueueError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT q.name, (SELECT COUNT(*) FROM items i WHERE i.queue = q.name) FROM queues q ORDER BY q.name",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, QueueStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = QueueStore::open(&dir.path().join("q.db")).unwrap();
        (dir, s)
    }

    #[test]
    fn items_come_out_in_order_and_survive_reopen() {
        let (dir, s) = store();
        s.send("jobs", "1", true).unwrap();
        s.send("jobs", "2", true).unwrap();
        drop(s);
        let s = QueueStore::open(&dir.path().join("q.db")).unwrap();
        assert_eq!(s.list().unwrap(), vec![("jobs".to_string(), 2)]);
        assert_eq!(s.pop("jobs", false).unwrap().unwrap().body, "1");
        assert_eq!(s.pop("jobs", false).unwrap().unwrap().body, "2");
        assert_eq!(s.pop("jobs", false).unwrap(), None);
    }

    #[test]
    fn missing_queue_without_create_is_not_found() {
        let (_d, s) = store();
        assert!(matches!(
            s.send("nope", "1", false),
            Err(QueueError::NotFound(_))
        ));
        assert!(matches!(s.pop("nope", false), Err(QueueError::NotFound(_))));
        assert!(matches!(s.drain("nope"), Err(QueueError::NotFound(_))));
        assert!(
            s.list().unwrap().is_empty(),
            "a refused call creates nothing"
        );
    }

    #[test]
    fn restore_puts_an_item_back_first() {
        let (_d, s) = store();
        s.send("q", "a", true).unwrap();
        s.send("q", "b", true).unwrap();
        let a = s.pop("q", false).unwrap().unwrap();
        s.restore("q", &a).unwrap();
        assert_eq!(s.pop("q", false).unwrap().unwrap().body, "a");
    }

    #[test]
    fn drain_empties_and_close_deletes() {
        let (_d, s) = store();
        s.send("q", "a", true).unwrap();
        s.drain("q").unwrap();
        assert_eq!(s.list().unwrap(), vec![("q".to_string(), 0)]);
        s.send("q", "b", true).unwrap();
        s.close("q").unwrap();
        assert!(s.list().unwrap().is_empty());
    }
}
