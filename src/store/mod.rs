//! Room data on disk: where each room keeps its files, and the SQLite stores.
//!
//! ```text
//! <data_dir>/secret               server secret (0600)
//! <data_dir>/rooms/<room>/queues.log           queues (see queues/log.rs)
//! <data_dir>/rooms/<room>/dataset.db            the dataset toolkit's tables
//! <data_dir>/rooms/<room>/sqlite/<ns…>/<db>.db  the sqlite toolkit's databases
//! <data_dir>/rooms/<room>/memory/<ns…>/<name>.db the memory toolkit's memories
//! <data_dir>/rooms/<room>/files/…       the room's storage (uploads staged in .uploads/)
//! <data_dir>/rooms/<room>/documents/<hash>.ydoc  sync documents (see documents.rs)
//! ```

pub mod documents;
pub mod files;
pub mod memory;
pub mod queues;
pub mod rooms;
pub mod secrets;
pub mod tables;

use std::path::{Path, PathBuf};

/// Whether `name` can be a room name: it becomes a directory, so it is kept to a safe alphabet.
pub fn valid_room_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The directory holding one room's data.
pub fn room_dir(data_dir: &Path, room: &str) -> PathBuf {
    data_dir.join("rooms").join(room)
}

/// Opens a SQLite database with the settings every store uses: WAL and full sync, so a
/// commit that returned survives a killed process.
///
/// No checkpoint on close: closing the last connection of a WAL database otherwise takes an
/// EXCLUSIVE lock, and in SQLite 3.51's unix VFS that path takes the file's lock mutex and then
/// the VFS mutex while `open` of the same file takes them in the other order: a deadlock
/// between a closing and an opening connection (seen in CI; see the test below). The WAL is
/// still checkpointed as it grows (wal_autocheckpoint) and recovered on the next open.
pub fn open_sqlite(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Deletes a SQLite database with its WAL and shared-memory files (those there are); Err
/// names the file that could not be deleted.
pub fn remove_sqlite(path: &Path) -> Result<(), (PathBuf, std::io::Error)> {
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err((p, e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite 3.51's unix VFS can deadlock when one connection to a WAL database closes
    /// (checkpoint on close takes an EXCLUSIVE lock, then the VFS's global mutex) while
    /// another opens the same file (the global mutex, then the file's lock mutex). Many
    /// threads opening, writing and closing one database must all finish.
    #[test]
    fn concurrent_opens_and_closes_of_one_database_finish() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        open_sqlite(&path)
            .unwrap()
            .execute_batch("create table t(x int)")
            .unwrap();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        for worker in 0..2 {
            let (path, done) = (path.clone(), done_tx.clone());
            std::thread::spawn(move || {
                for i in 0..2000 {
                    let conn = open_sqlite(&path).unwrap();
                    if i % 10 == 0 {
                        conn.execute("insert into t values (?1)", [worker * 10_000 + i])
                            .unwrap();
                    } else {
                        let _: i64 = conn
                            .query_row("select count(*) from t", [], |r| r.get(0))
                            .unwrap();
                    }
                    drop(conn);
                }
                let _ = done.send(());
            });
        }
        for _ in 0..2 {
            done_rx
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("a worker is stuck: SQLite deadlocked between open and close");
        }
        let n: i64 = open_sqlite(&path)
            .unwrap()
            .query_row("select count(*) from t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 400);
    }

    #[test]
    fn room_names_are_confined() {
        for ok in ["default", "my-room", "a.b_c", "Room42"] {
            assert!(valid_room_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "a b",
            "é",
            &"x".repeat(129),
        ] {
            assert!(!valid_room_name(bad), "{bad}");
        }
    }
}
