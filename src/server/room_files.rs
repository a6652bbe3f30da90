//! The room's files as both the `storage` toolkit and the HTTP files API serve them: file work
//! off the async threads, entries as JSON, and the change events pushed to the room.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::room::Room;
use crate::store::files::{Entry, FileError, FileStore};

/// Runs blocking file work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    room: &Arc<Room>,
    f: impl FnOnce(&FileStore) -> Result<T, FileError> + Send + 'static,
) -> Result<T, FileError> {
    let room = room.clone();
    tokio::task::spawn_blocking(move || f(&room.files))
        .await
        .map_err(|e| FileError::Io {
            path: String::new(),
            why: format!("the storage task failed: {e}"),
        })?
}

/// ISO 8601 / RFC 3339 UTC, which pydantic reads as a datetime.
pub(crate) fn iso(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// An entry as `list` and `stat` answer it (size only for files).
pub(crate) fn entry_json(e: &Entry) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), json!(e.name));
    m.insert("is_folder".into(), json!(e.is_folder));
    if !e.is_folder {
        m.insert("size".into(), json!(e.size));
    }
    if let Some(t) = e.created_at {
        m.insert("created_at".into(), json!(iso(t)));
    }
    if let Some(t) = e.updated_at {
        m.insert("updated_at".into(), json!(iso(t)));
    }
    m
}

/// Events, exactly as the SDK's pydantic models (extra=forbid) read them.
pub(crate) fn announce_updated(room: &Room, path: &str, by: &str) {
    push(
        room,
        "storage.file.updated",
        json!({"path": path, "participant_id": by}),
    );
}

pub(crate) fn announce_deleted(room: &Room, path: &str, by: &str) {
    push(
        room,
        "storage.file.deleted",
        json!({"path": path, "participant_id": by}),
    );
}

pub(crate) fn announce_moved(room: &Room, from: &str, to: &str, by: &str) {
    push(
        room,
        "storage.file.moved",
        json!({"source_path": from, "destination_path": to, "participant_id": by}),
    );
}

fn push(room: &Room, msg_type: &str, header: Value) {
    if let Value::Object(h) = header {
        room.push_all(msg_type, &h);
    }
}
