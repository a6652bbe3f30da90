//! Durable queues in SQLite: every item is committed before its send is answered.
//!
//! Sends and receives are group-committed: calls that arrive while a commit is being synced
//! wait for it and then go out together in the next transaction (each in its own savepoint,
//! so one failing call does not undo the others), and each is answered only after that
//! transaction is durable. Under concurrency one fsync then covers many items instead of one.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Condvar, Mutex};

use rusqlite::{OptionalExtension, params};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum QueueError {
    #[error("queue `{0}` does not exist")]
    NotFound(String),
    #[error("queue storage failed: {0}")]
    Storage(#[from] rusqlite::Error),
    /// The group commit this call was part of failed as a whole.
    #[error("queue storage failed: {0}")]
    Commit(String),
}

/// A popped item: its row id lets a caller that could not deliver it put it back in place.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueItem {
    pub id: i64,
    pub body: String,
}

/// A send or receive waiting for the next group commit.
enum Op {
    Send {
        name: String,
        body: String,
        create: bool,
    },
    Pop {
        name: String,
        create: bool,
    },
}

type OpResult = Result<Option<QueueItem>, QueueError>;

/// The calls waiting to be committed and the answers of those that were, by ticket.
#[derive(Default)]
struct Group {
    next_ticket: u64,
    waiting: Vec<(u64, Op)>,
    done: HashMap<u64, OpResult>,
    committing: bool,
}

pub struct QueueStore {
    conn: Mutex<rusqlite::Connection>,
    group: Mutex<Group>,
    committed: Condvar,
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
            group: Mutex::default(),
            committed: Condvar::new(),
        })
    }

    /// Runs `op` in the next group commit and returns its answer once that is durable. The
    /// first caller to find no commit in progress leads: it takes every waiting call (its
    /// own included) and commits them; the others sleep until their answer is there.
    fn grouped(&self, op: Op) -> OpResult {
        let relock = || self.group.lock().unwrap_or_else(|p| p.into_inner());
        let mut group = relock();
        let ticket = group.next_ticket;
        group.next_ticket += 1;
        group.waiting.push((ticket, op));
        loop {
            if let Some(answer) = group.done.remove(&ticket) {
                return answer;
            }
            if group.committing {
                group = self
                    .committed
                    .wait(group)
                    .unwrap_or_else(|p| p.into_inner());
                continue;
            }
            group.committing = true;
            let ops = std::mem::take(&mut group.waiting);
            let tickets: Vec<u64> = ops.iter().map(|(t, _)| *t).collect();
            drop(group);
            // A panic must not leave the followers waiting for answers that never come.
            let answers = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
                Self::commit_group(&mut conn, ops)
            }))
            .unwrap_or_else(|_| {
                let failed = || Err(QueueError::Commit("a queue commit panicked".into()));
                tickets.iter().map(|t| (*t, failed())).collect()
            });
            group = relock();
            group.committing = false;
            group.done.extend(answers);
            self.committed.notify_all();
        }
    }

    /// One transaction for the whole group, a savepoint per call.
    fn commit_group(conn: &mut rusqlite::Connection, ops: Vec<(u64, Op)>) -> Vec<(u64, OpResult)> {
        let mut tx = match conn.transaction() {
            Ok(tx) => tx,
            Err(e) => {
                let e = e.to_string();
                return ops
                    .into_iter()
                    .map(|(t, _)| (t, Err(QueueError::Commit(e.clone()))))
                    .collect();
            }
        };
        let mut answers = Vec::with_capacity(ops.len());
        for (ticket, op) in ops {
            let answer = tx.savepoint().map_err(QueueError::from).and_then(|sp| {
                let answer = Self::apply(&sp, &op)?;
                sp.commit()?;
                Ok(answer)
            });
            answers.push((ticket, answer));
        }
        if let Err(e) = tx.commit() {
            let e = e.to_string();
            for (_, answer) in answers.iter_mut() {
                *answer = Err(QueueError::Commit(e.clone()));
            }
        }
        answers
    }

    fn apply(c: &rusqlite::Connection, op: &Op) -> OpResult {
        match op {
            Op::Send { name, body, create } => {
                Self::ensure(c, name, *create)?;
                c.execute(
                    "INSERT INTO items(queue, body) VALUES (?1, ?2)",
                    params![name, body],
                )?;
                Ok(None)
            }
            Op::Pop { name, create } => {
                Self::ensure(c, name, *create)?;
                let item = c
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
                    c.execute("DELETE FROM items WHERE id = ?1", [item.id])?;
                }
                Ok(item)
            }
        }
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

    /// Appends an item; returns once it is committed (group-committed with concurrent calls).
    pub fn send(&self, name: &str, body: &str, create: bool) -> Result<(), QueueError> {
        self.grouped(Op::Send {
            name: name.to_string(),
            body: body.to_string(),
            create,
        })
        .map(|_| ())
    }

    /// Removes and returns the oldest item, if any; the removal is committed before it returns.
    pub fn pop(&self, name: &str, create: bool) -> Result<Option<QueueItem>, QueueError> {
        self.grouped(Op::Pop {
            name: name.to_string(),
            create,
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
    fn concurrent_sends_all_land_in_order_per_sender() {
        let (dir, s) = store();
        let s = std::sync::Arc::new(s);
        s.open_queue("q").unwrap();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        s.send("q", &format!("{t}:{i}"), false).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(s);
        // Reopened: every answered send was committed.
        let s = QueueStore::open(&dir.path().join("q.db")).unwrap();
        let mut next = [0; 8];
        while let Some(item) = s.pop("q", false).unwrap() {
            let (t, i) = item.body.split_once(':').unwrap();
            let t: usize = t.parse().unwrap();
            assert_eq!(
                i.parse::<usize>().unwrap(),
                next[t],
                "sender {t} out of order"
            );
            next[t] += 1;
        }
        assert_eq!(next, [50; 8]);
    }

    #[test]
    fn a_failing_call_in_a_group_leaves_the_others_committed() {
        let (_d, s) = store();
        let ops = vec![
            (
                1,
                Op::Send {
                    name: "q".into(),
                    body: "a".into(),
                    create: true,
                },
            ),
            (
                2,
                Op::Send {
                    name: "missing".into(),
                    body: "x".into(),
                    create: false,
                },
            ),
            (
                3,
                Op::Pop {
                    name: "q".into(),
                    create: false,
                },
            ),
            (
                4,
                Op::Send {
                    name: "q".into(),
                    body: "b".into(),
                    create: false,
                },
            ),
        ];
        let answers = {
            let mut conn = s.conn.lock().unwrap();
            QueueStore::commit_group(&mut conn, ops)
        };
        assert!(matches!(answers[0], (1, Ok(None))));
        assert!(matches!(answers[1], (2, Err(QueueError::NotFound(_)))));
        assert!(matches!(&answers[2], (3, Ok(Some(item))) if item.body == "a"));
        assert!(matches!(answers[3], (4, Ok(None))));
        assert_eq!(s.list().unwrap(), vec![("q".to_string(), 1)]);
        assert_eq!(s.pop("q", false).unwrap().unwrap().body, "b");
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
