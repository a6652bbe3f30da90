//! Room data on disk: where each room keeps its files, and the SQLite stores.
//!
//! ```text
//! <data_dir>/secret               server secret (0600)
//! <data_dir>/rooms/<room>/queues.db
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
pub fn open_sqlite(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

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
