//! The rooms registry: `<data_dir>/rooms.db` holds every room (id, name, metadata,
//! annotations, enabled), its sessions (start, end, who joined), each session's developer
//! log events (bounded), and the room's saved service specs.
//!
//! The server and the `roomdeck rooms|sessions|service` commands open the same file; SQLite
//! (WAL, full sync) keeps them consistent.
//!
//! Joins touch none of it on their way in: rooms are read once and kept (every change goes
//! through this struct, which keeps the copy current), and who joined a session is written
//! in batches after the join (`note_participant`), read back complete by the session queries.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{open_sqlite, valid_room_name};

/// Developer log events kept per session; the oldest go first.
pub const MAX_SESSION_LOG_EVENTS: i64 = 10_000;
/// Sessions (newest first, all rooms) whose developer logs are kept.
pub const MAX_SESSIONS_WITH_LOGS: i64 = 200;
/// Joins recorded per session; the first ones are kept.
pub const MAX_SESSION_PARTICIPANTS: usize = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum RoomsError {
    #[error("no room named or with id {0:?}")]
    NotFound(String),
    #[error("a room named {0:?} already exists")]
    AlreadyExists(String),
    #[error("{0}")]
    Invalid(String),
    #[error("room {0:?} is active (participants are connected); try again once it is idle")]
    Active(String),
    #[error("rooms database: {0}")]
    Storage(String),
}

impl From<rusqlite::Error> for RoomsError {
    fn from(e: rusqlite::Error) -> Self {
        RoomsError::Storage(e.to_string())
    }
}

impl From<std::io::Error> for RoomsError {
    fn from(e: std::io::Error) -> Self {
        RoomsError::Storage(e.to_string())
    }
}

/// A room as the REST API shows it (`Room` in the SDK) plus when it was made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoomRecord {
    pub id: String,
    pub name: String,
    pub metadata: Map<String, Value>,
    pub annotations: Map<String, Value>,
    pub enabled: bool,
    pub created_at: f64,
}

impl RoomRecord {
    /// The SDK's `Room` shape.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "metadata": self.metadata,
            "annotations": self.annotations,
            "enabled": self.enabled,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionParticipant {
    pub name: String,
    pub role: String,
    pub joined_at: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionRecord {
    pub id: String,
    pub room: String,
    pub room_id: Option<String>,
    pub started_at: f64,
    pub ended_at: Option<f64>,
    pub participants: Vec<SessionParticipant>,
}

impl SessionRecord {
    /// The SDK's `RoomSession` shape (participants counted by role).
    pub fn to_json(&self) -> Value {
        let mut counts = Map::new();
        for p in &self.participants {
            let n = counts.get(&p.role).and_then(Value::as_i64).unwrap_or(0);
            counts.insert(p.role.clone(), Value::from(n + 1));
        }
        serde_json::json!({
            "id": self.id,
            "room_id": self.room_id,
            "room_name": self.room,
            "created_at": iso8601(self.started_at),
            "ended_at": self.ended_at.map(iso8601),
            "is_active": self.ended_at.is_none(),
            "participants": counts,
            "kind": "room",
        })
    }
}

/// A room with its open session (if any) and the bytes of its data folder.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomOverview {
    pub room: RoomRecord,
    pub session: Option<SessionRecord>,
    pub data_bytes: u64,
}

impl RoomOverview {
    /// "active" (a session is open), "idle" or "disabled".
    pub fn state(&self) -> &'static str {
        match (&self.session, self.room.enabled) {
            (Some(_), _) => "active",
            (None, true) => "idle",
            (None, false) => "disabled",
        }
    }

    /// The SDK's `Room` shape plus the overview (`state`, `participants` of the open
    /// session, `session_started_at` in unix seconds, `data_bytes`); the SDK ignores extras.
    pub fn to_json(&self) -> Value {
        let mut v = self.room.to_json();
        v["state"] = self.state().into();
        v["participants"] = self
            .session
            .as_ref()
            .map_or(0, |s| s.participants.len())
            .into();
        v["session_started_at"] = self.session.as_ref().map(|s| s.started_at).into();
        v["data_bytes"] = self.data_bytes.into();
        v
    }
}

/// Bytes of the files under `dir` (0 when it does not exist).
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// One saved service spec of a room.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedService {
    pub room: String,
    pub id: String,
    pub name: String,
    /// The spec as JSON (with its id filled in).
    pub spec: Value,
}

pub fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `2026-11-25T12:00:00.123Z` from seconds since the epoch (UTC; no date crate needed).
pub fn iso8601(secs: f64) -> String {
    let total = secs.max(0.0);
    let whole = total.floor() as i64;
    let millis = ((total - whole as f64) * 1000.0).floor() as i64;
    let days = whole.div_euclid(86_400);
    let rem = whole.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    // Without an OS random source ids still differ by time; never fails the caller.
    if getrandom::fill(&mut bytes).is_err() {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (t >> ((i % 16) * 8)) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new room id: `room-` and 24 hex digits.
pub fn new_room_id() -> String {
    format!("room-{}", random_hex(12))
}

/// A new service id: `svc-` and 16 hex digits.
pub fn new_service_id() -> String {
    format!("svc-{}", random_hex(8))
}

pub struct RoomsDb {
    path: PathBuf,
    conn: Mutex<rusqlite::Connection>,
    /// Rooms read so far, by name.
    rooms: Mutex<HashMap<String, RoomRecord>>,
    /// Joins not yet written, and how many each session has written.
    joins: Mutex<Joins>,
}

#[derive(Default)]
struct Joins {
    pending: Vec<(String, SessionParticipant)>,
    written: HashMap<String, usize>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    metadata TEXT NOT NULL DEFAULT '{}',
    annotations TEXT NOT NULL DEFAULT '{}',
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    room_id TEXT,
    started_at REAL NOT NULL,
    ended_at REAL,
    -- Who joined, as written before session_participants existed.
    participants TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS session_participants (
    session TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    joined_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS session_participants_session ON session_participants(session);
CREATE INDEX IF NOT EXISTS sessions_room ON sessions(room, started_at);
CREATE TABLE IF NOT EXISTS session_logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    session TEXT NOT NULL,
    at REAL NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS session_logs_session ON session_logs(session, seq);
CREATE TABLE IF NOT EXISTS services (
    room TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (room, id),
    UNIQUE (room, name)
);
";

fn parse_map(text: &str) -> Map<String, Value> {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

fn room_from_row(row: &rusqlite::Row) -> rusqlite::Result<RoomRecord> {
    Ok(RoomRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        metadata: parse_map(&row.get::<_, String>(2)?),
        annotations: parse_map(&row.get::<_, String>(3)?),
        enabled: row.get::<_, i64>(4)? != 0,
        created_at: row.get(5)?,
    })
}

fn session_from_row(row: &rusqlite::Row) -> rusqlite::Result<SessionRecord> {
    let participants: String = row.get(5)?;
    let participants = serde_json::from_str::<Vec<Value>>(&participants)
        .unwrap_or_default()
        .into_iter()
        .map(|p| SessionParticipant {
            name: p["name"].as_str().unwrap_or_default().to_string(),
            role: p["role"].as_str().unwrap_or_default().to_string(),
            joined_at: p["joined_at"].as_f64().unwrap_or_default(),
        })
        .collect();
    Ok(SessionRecord {
        id: row.get(0)?,
        room: row.get(1)?,
        room_id: row.get(2)?,
        started_at: row.get(3)?,
        ended_at: row.get(4)?,
        participants,
    })
}

const ROOM_COLS: &str = "id, name, metadata, annotations, enabled, created_at";
const SESSION_COLS: &str = "id, room, room_id, started_at, ended_at, participants";

/// Metadata must be a JSON object; annotations an object of strings (as the SDK checks).
pub fn check_annotations(annotations: &Map<String, Value>) -> Result<(), RoomsError> {
    for (k, v) in annotations {
        if !v.is_string() {
            return Err(RoomsError::Invalid(format!(
                "annotation {k:?} must be a string"
            )));
        }
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), RoomsError> {
    if valid_room_name(name) {
        Ok(())
    } else {
        Err(RoomsError::Invalid(format!(
            "{name:?} is not a valid room name: 1 to 128 letters, digits, '-', '_' or '.', not starting with '.'"
        )))
    }
}

impl RoomsDb {
    /// Opens (creating) `<data_dir>/rooms.db`.
    pub fn open(data_dir: &Path) -> Result<RoomsDb, RoomsError> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join("rooms.db");
        let conn = open_sqlite(&path)?;
        conn.execute_batch(SCHEMA)?;
        Ok(RoomsDb {
            path,
            conn: Mutex::new(conn),
            rooms: Mutex::default(),
            joins: Mutex::default(),
        })
    }

    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<String, RoomRecord>> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn joins(&self) -> std::sync::MutexGuard<'_, Joins> {
        self.joins.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A room by name if it was read before: no database access (the join path).
    pub fn cached(&self, name: &str) -> Option<RoomRecord> {
        self.rooms().get(name).cloned()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A room by name, else by id.
    pub fn get(&self, name_or_id: &str) -> Result<Option<RoomRecord>, RoomsError> {
        let conn = self.conn();
        let by_name = conn
            .query_row(
                &format!("SELECT {ROOM_COLS} FROM rooms WHERE name = ?1"),
                [name_or_id],
                room_from_row,
            )
            .optional()?;
        if by_name.is_some() {
            return Ok(by_name);
        }
        Ok(conn
            .query_row(
                &format!("SELECT {ROOM_COLS} FROM rooms WHERE id = ?1"),
                [name_or_id],
                room_from_row,
            )
            .optional()?)
    }

    /// A room by name only (joins name rooms; ids are for the REST API).
    pub fn get_by_name(&self, name: &str) -> Result<Option<RoomRecord>, RoomsError> {
        if let Some(room) = self.cached(name) {
            return Ok(Some(room));
        }
        let conn = self.conn();
        let room = conn
            .query_row(
                &format!("SELECT {ROOM_COLS} FROM rooms WHERE name = ?1"),
                [name],
                room_from_row,
            )
            .optional()?;
        // Kept while the database is locked, so a change cannot slip in between.
        if let Some(r) = &room {
            self.rooms().insert(r.name.clone(), r.clone());
        }
        Ok(room)
    }

    pub fn require(&self, name_or_id: &str) -> Result<RoomRecord, RoomsError> {
        self.get(name_or_id)?
            .ok_or_else(|| RoomsError::NotFound(name_or_id.to_string()))
    }

    /// Creates a room; with `if_not_exists` an existing room of that name is returned as is.
    pub fn create(
        &self,
        name: &str,
        if_not_exists: bool,
        metadata: Option<Map<String, Value>>,
        annotations: Option<Map<String, Value>>,
    ) -> Result<RoomRecord, RoomsError> {
        check_name(name)?;
        let annotations = annotations.unwrap_or_default();
        check_annotations(&annotations)?;
        let conn = self.conn();
        let existing = conn
            .query_row(
                &format!("SELECT {ROOM_COLS} FROM rooms WHERE name = ?1"),
                [name],
                room_from_row,
            )
            .optional()?;
        if let Some(room) = existing {
            return if if_not_exists {
                Ok(room)
            } else {
                Err(RoomsError::AlreadyExists(name.to_string()))
            };
        }
        let room = RoomRecord {
            id: new_room_id(),
            name: name.to_string(),
            metadata: metadata.unwrap_or_default(),
            annotations,
            enabled: true,
            created_at: now_secs(),
        };
        conn.execute(
            "INSERT INTO rooms (id, name, metadata, annotations, enabled, created_at) VALUES (?1, ?2, ?3, ?4, 1, ?5)",
            params![
                room.id,
                room.name,
                Value::Object(room.metadata.clone()).to_string(),
                Value::Object(room.annotations.clone()).to_string(),
                room.created_at
            ],
        )?;
        self.rooms().insert(room.name.clone(), room.clone());
        Ok(room)
    }

    /// The room named `name`, creating it (first join of an unknown room where allowed).
    pub fn ensure(&self, name: &str) -> Result<RoomRecord, RoomsError> {
        self.create(name, true, None, None)
    }

    /// Rooms sorted by name whose name contains `filter` (case-insensitive); and the total.
    pub fn list(
        &self,
        filter: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<RoomRecord>, usize), RoomsError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ROOM_COLS} FROM rooms ORDER BY lower(name), name"
        ))?;
        let rows = stmt.query_map([], room_from_row)?;
        let needle = filter.map(str::to_lowercase).filter(|f| !f.is_empty());
        let mut all = Vec::new();
        for row in rows {
            let room = row?;
            if let Some(n) = &needle
                && !room.name.to_lowercase().contains(n.as_str())
            {
                continue;
            }
            all.push(room);
        }
        let total = all.len();
        let page = all.into_iter().skip(offset).take(limit).collect();
        Ok((page, total))
    }

    /// Every room, sorted by name, with what a rooms overview shows of it (the console's
    /// `:rooms` view, locally or through the REST list).
    pub fn overview(&self, data_dir: &Path) -> Result<Vec<RoomOverview>, RoomsError> {
        let (rooms, _) = self.list(None, 0, usize::MAX)?;
        rooms
            .into_iter()
            .map(|room| self.overview_of(data_dir, room))
            .collect()
    }

    pub fn overview_of(
        &self,
        data_dir: &Path,
        room: RoomRecord,
    ) -> Result<RoomOverview, RoomsError> {
        let session = self.sessions(Some(&room.name), true, 1)?.into_iter().next();
        let data_bytes = dir_size(&super::room_dir(data_dir, &room.name));
        Ok(RoomOverview {
            room,
            session,
            data_bytes,
        })
    }

    /// Whether a session of this room is open (a server has it active).
    pub fn is_active(&self, room: &str) -> Result<bool, RoomsError> {
        let n: i64 = self.conn().query_row(
            "SELECT count(*) FROM sessions WHERE room = ?1 AND ended_at IS NULL",
            [room],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// Renames, re-annotates, enables or disables a room. A rename moves the room's data
    /// folder under `data_dir` too, so it is refused while the room is active.
    pub fn update(
        &self,
        data_dir: &Path,
        name_or_id: &str,
        new_name: Option<&str>,
        metadata: Option<Map<String, Value>>,
        annotations: Option<Map<String, Value>>,
        enabled: Option<bool>,
    ) -> Result<RoomRecord, RoomsError> {
        let room = self.require(name_or_id)?;
        let old_name = room.name.clone();
        let updated = self.update_room(data_dir, room, new_name, metadata, annotations, enabled);
        // Forgotten after the writes: a read that raced them and kept the old record is dropped.
        let mut rooms = self.rooms();
        rooms.remove(&old_name);
        if let Some(new) = new_name {
            rooms.remove(new);
        }
        updated
    }

    fn update_room(
        &self,
        data_dir: &Path,
        mut room: RoomRecord,
        new_name: Option<&str>,
        metadata: Option<Map<String, Value>>,
        annotations: Option<Map<String, Value>>,
        enabled: Option<bool>,
    ) -> Result<RoomRecord, RoomsError> {
        if let Some(a) = &annotations {
            check_annotations(a)?;
        }
        if let Some(new) = new_name.filter(|n| *n != room.name) {
            check_name(new)?;
            if self.get(new)?.is_some() {
                return Err(RoomsError::AlreadyExists(new.to_string()));
            }
            if self.is_active(&room.name)? {
                return Err(RoomsError::Active(room.name.clone()));
            }
            let from = super::room_dir(data_dir, &room.name);
            let to = super::room_dir(data_dir, new);
            if from.exists() {
                if to.exists() {
                    return Err(RoomsError::Invalid(format!(
                        "{} already exists; move it away before renaming to {new:?}",
                        to.display()
                    )));
                }
                std::fs::rename(&from, &to)?;
            }
            let conn = self.conn();
            conn.execute(
                "UPDATE rooms SET name = ?1 WHERE id = ?2",
                params![new, room.id],
            )?;
            conn.execute(
                "UPDATE services SET room = ?1 WHERE room = ?2",
                params![new, room.name],
            )?;
            room.name = new.to_string();
        }
        let conn = self.conn();
        if let Some(m) = metadata {
            conn.execute(
                "UPDATE rooms SET metadata = ?1 WHERE id = ?2",
                params![Value::Object(m.clone()).to_string(), room.id],
            )?;
            room.metadata = m;
        }
        if let Some(a) = annotations {
            conn.execute(
                "UPDATE rooms SET annotations = ?1 WHERE id = ?2",
                params![Value::Object(a.clone()).to_string(), room.id],
            )?;
            room.annotations = a;
        }
        if let Some(e) = enabled {
            conn.execute(
                "UPDATE rooms SET enabled = ?1 WHERE id = ?2",
                params![i64::from(e), room.id],
            )?;
            room.enabled = e;
        }
        Ok(room)
    }

    /// Deletes a room, its saved services and its data folder. Refused while active.
    /// Past sessions and their logs stay (they are history).
    pub fn delete(&self, data_dir: &Path, name_or_id: &str) -> Result<RoomRecord, RoomsError> {
        let room = self.require(name_or_id)?;
        if self.is_active(&room.name)? {
            return Err(RoomsError::Active(room.name.clone()));
        }
        {
            let conn = self.conn();
            conn.execute("DELETE FROM rooms WHERE id = ?1", [&room.id])?;
            conn.execute("DELETE FROM services WHERE room = ?1", [&room.name])?;
            self.rooms().remove(&room.name);
        }
        let dir = super::room_dir(data_dir, &room.name);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(RoomsError::Storage(format!(
                    "room {:?} was deleted but its folder {} could not be removed: {e}",
                    room.name,
                    dir.display()
                )));
            }
        }
        Ok(room)
    }

    // ---- sessions ----

    pub fn session_start(&self, id: &str, room: &str, started_at: f64) -> Result<(), RoomsError> {
        let room_id = self.get(room)?.map(|r| r.id);
        let conn = self.conn();
        conn.execute(
            "INSERT INTO sessions (id, room, room_id, started_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, room, room_id, started_at],
        )?;
        // The logs of old sessions go: only the newest sessions keep theirs.
        conn.execute(
            "DELETE FROM session_logs WHERE session IN (SELECT id FROM sessions ORDER BY started_at DESC LIMIT -1 OFFSET ?1)",
            [MAX_SESSIONS_WITH_LOGS],
        )?;
        Ok(())
    }

    /// Records a join and writes it at once (with any others waiting).
    pub fn session_participant(
        &self,
        id: &str,
        name: &str,
        role: &str,
        at: f64,
    ) -> Result<(), RoomsError> {
        self.note_participant(id, name, role, at);
        self.flush_participants()
    }

    /// Notes a join in memory, for `flush_participants` to write; true when it is the first
    /// one waiting (the caller then schedules a flush; joins noted meanwhile join that batch).
    pub fn note_participant(&self, id: &str, name: &str, role: &str, at: f64) -> bool {
        let mut joins = self.joins();
        joins.pending.push((
            id.to_string(),
            SessionParticipant {
                name: name.to_string(),
                role: role.to_string(),
                joined_at: at,
            },
        ));
        joins.pending.len() == 1
    }

    /// Writes the joins noted so far in one transaction (one fsync however many).
    pub fn flush_participants(&self) -> Result<(), RoomsError> {
        let mut conn = self.conn();
        let pending = std::mem::take(&mut self.joins().pending);
        if pending.is_empty() {
            return Ok(());
        }
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO session_participants (session, name, role, joined_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut count =
                tx.prepare_cached("SELECT count(*) FROM session_participants WHERE session = ?1")?;
            for (session, p) in &pending {
                let written = match self.joins().written.get(session) {
                    Some(n) => *n,
                    None => count.query_row([session], |r| r.get::<_, i64>(0))? as usize,
                };
                if written < MAX_SESSION_PARTICIPANTS {
                    insert.execute(params![session, p.name, p.role, p.joined_at])?;
                }
                self.joins()
                    .written
                    .insert(session.clone(), (written + 1).min(MAX_SESSION_PARTICIPANTS));
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Who joined a session: the legacy JSON list, then the rows.
    fn participants_of(
        conn: &rusqlite::Connection,
        session: &mut SessionRecord,
    ) -> Result<(), RoomsError> {
        let mut stmt = conn.prepare_cached(
            "SELECT name, role, joined_at FROM session_participants WHERE session = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([&session.id], |r| {
            Ok(SessionParticipant {
                name: r.get(0)?,
                role: r.get(1)?,
                joined_at: r.get(2)?,
            })
        })?;
        for row in rows {
            session.participants.push(row?);
        }
        Ok(())
    }

    pub fn session_end(&self, id: &str, ended_at: f64) -> Result<(), RoomsError> {
        self.flush_participants()?;
        self.conn().execute(
            "UPDATE sessions SET ended_at = ?1 WHERE id = ?2 AND ended_at IS NULL",
            params![ended_at, id],
        )?;
        Ok(())
    }

    /// Closes sessions a previous server left open (it was killed); returns how many.
    pub fn close_stale_sessions(&self) -> Result<usize, RoomsError> {
        Ok(self.conn().execute(
            "UPDATE sessions SET ended_at = max(started_at, (SELECT coalesce(max(at), 0) FROM session_logs WHERE session = sessions.id)) WHERE ended_at IS NULL",
            [],
        )?)
    }

    pub fn session(&self, id: &str) -> Result<Option<SessionRecord>, RoomsError> {
        self.flush_participants()?;
        let conn = self.conn();
        let mut session = conn
            .query_row(
                &format!("SELECT {SESSION_COLS} FROM sessions WHERE id = ?1"),
                [id],
                session_from_row,
            )
            .optional()?;
        if let Some(s) = &mut session {
            Self::participants_of(&conn, s)?;
        }
        Ok(session)
    }

    /// Sessions, newest first, of one room or all.
    pub fn sessions(
        &self,
        room: Option<&str>,
        active_only: bool,
        limit: usize,
    ) -> Result<Vec<SessionRecord>, RoomsError> {
        self.flush_participants()?;
        let conn = self.conn();
        let mut sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE 1=1");
        if room.is_some() {
            sql.push_str(" AND (room = ?1 OR room_id = ?1)");
        }
        if active_only {
            sql.push_str(" AND ended_at IS NULL");
        }
        sql.push_str(&format!(
            " ORDER BY started_at DESC LIMIT {}",
            limit.min(100_000)
        ));
        let mut stmt = conn.prepare(&sql)?;
        let rows = match room {
            Some(r) => stmt.query_map([r], session_from_row)?,
            None => stmt.query_map([], session_from_row)?,
        };
        let mut sessions = rows.collect::<Result<Vec<_>, _>>()?;
        for s in &mut sessions {
            Self::participants_of(&conn, s)?;
        }
        Ok(sessions)
    }

    /// Appends developer log events of a session, dropping its oldest beyond the bound.
    pub fn append_session_logs(
        &self,
        session: &str,
        events: &[(f64, String, Value)],
    ) -> Result<(), RoomsError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (at, kind, data) in events {
            tx.execute(
                "INSERT INTO session_logs (session, at, type, data) VALUES (?1, ?2, ?3, ?4)",
                params![session, at, kind, data.to_string()],
            )?;
        }
        tx.execute(
            "DELETE FROM session_logs WHERE session = ?1 AND seq <= (SELECT seq FROM session_logs WHERE session = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
            params![session, MAX_SESSION_LOG_EVENTS],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A session's developer log events, oldest first: (time, type, data).
    pub fn session_logs(&self, session: &str) -> Result<Vec<(f64, String, Value)>, RoomsError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT at, type, data FROM session_logs WHERE session = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([session], |r| {
            let data: String = r.get(2)?;
            Ok((
                r.get::<_, f64>(0)?,
                r.get::<_, String>(1)?,
                serde_json::from_str(&data).unwrap_or(Value::Null),
            ))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    // ---- services ----

    /// Saves a spec (JSON with `id` and `metadata.name`): a spec with the name of a saved
    /// one replaces it and keeps its id. Returns the saved service.
    pub fn save_service(&self, room: &str, mut spec: Value) -> Result<SavedService, RoomsError> {
        let name = spec["metadata"]["name"]
            .as_str()
            .ok_or_else(|| RoomsError::Invalid("a service needs metadata.name".into()))?
            .to_string();
        let conn = self.conn();
        let existing: Option<String> = conn
            .query_row(
                "SELECT id FROM services WHERE room = ?1 AND name = ?2",
                params![room, name],
                |r| r.get(0),
            )
            .optional()?;
        let given = spec["id"].as_str().map(str::to_string);
        let id = match (existing, given) {
            (Some(old), Some(new)) if old != new => {
                conn.execute(
                    "DELETE FROM services WHERE room = ?1 AND id = ?2",
                    params![room, old],
                )?;
                new
            }
            (Some(old), _) => old,
            (None, Some(new)) => new,
            (None, None) => new_service_id(),
        };
        if let Some(obj) = spec.as_object_mut() {
            obj.insert("id".into(), Value::String(id.clone()));
        }
        conn.execute(
            "INSERT INTO services (room, id, name, spec, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(room, id) DO UPDATE SET name = excluded.name, spec = excluded.spec, updated_at = excluded.updated_at",
            params![room, id, name, spec.to_string(), now_secs()],
        )?;
        Ok(SavedService {
            room: room.to_string(),
            id,
            name,
            spec,
        })
    }

    /// Saved services of one room or all, by room then name.
    pub fn services(&self, room: Option<&str>) -> Result<Vec<SavedService>, RoomsError> {
        let conn = self.conn();
        let map = |r: &rusqlite::Row| {
            let spec: String = r.get(3)?;
            Ok(SavedService {
                room: r.get(0)?,
                id: r.get(1)?,
                name: r.get(2)?,
                spec: serde_json::from_str(&spec).unwrap_or(Value::Null),
            })
        };
        let list = match room {
            Some(room) => {
                let mut stmt = conn.prepare(
                    "SELECT room, id, name, spec FROM services WHERE room = ?1 ORDER BY name",
                )?;
                stmt.query_map([room], map)?
                    .collect::<Result<Vec<_>, _>>()?
            }
            None => {
                let mut stmt =
                    conn.prepare("SELECT room, id, name, spec FROM services ORDER BY room, name")?;
                stmt.query_map([], map)?.collect::<Result<Vec<_>, _>>()?
            }
        };
        Ok(list)
    }

    /// Deletes a saved service by name or id; Ok(false) when there was none.
    pub fn delete_service(&self, room: &str, name_or_id: &str) -> Result<bool, RoomsError> {
        let n = self.conn().execute(
            "DELETE FROM services WHERE room = ?1 AND (name = ?2 OR id = ?2)",
            params![room, name_or_id],
        )?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn db() -> (tempfile::TempDir, RoomsDb) {
        let dir = tempfile::tempdir().unwrap();
        let db = RoomsDb::open(dir.path()).unwrap();
        (dir, db)
    }

    #[test]
    fn create_get_list_update_delete() {
        let (dir, db) = db();
        let meta = json!({"team": "a"}).as_object().cloned();
        let r = db.create("alpha", false, meta, None).unwrap();
        assert!(r.id.starts_with("room-"));
        assert!(matches!(
            db.create("alpha", false, None, None),
            Err(RoomsError::AlreadyExists(_))
        ));
        assert_eq!(db.create("alpha", true, None, None).unwrap().id, r.id);
        assert_eq!(db.get(&r.id).unwrap().unwrap().name, "alpha");
        db.create("Beta", false, None, None).unwrap();
        let (list, total) = db.list(None, 0, 100).unwrap();
        assert_eq!(total, 2);
        assert_eq!(list[0].name, "alpha");
        let (list, total) = db.list(Some("BET"), 0, 100).unwrap();
        assert_eq!((list.len(), total), (1, 1));

        std::fs::create_dir_all(crate::store::room_dir(dir.path(), "alpha")).unwrap();
        let u = db
            .update(dir.path(), "alpha", Some("gamma"), None, None, Some(false))
            .unwrap();
        assert_eq!((u.name.as_str(), u.enabled), ("gamma", false));
        assert!(crate::store::room_dir(dir.path(), "gamma").exists());
        assert!(db.get("alpha").unwrap().is_none());
        db.delete(dir.path(), &r.id).unwrap();
        assert!(!crate::store::room_dir(dir.path(), "gamma").exists());
        assert!(matches!(
            db.delete(dir.path(), "gamma"),
            Err(RoomsError::NotFound(_))
        ));
    }

    #[test]
    fn bad_names_and_annotations_are_refused() {
        let (_dir, db) = db();
        assert!(matches!(
            db.create("../x", false, None, None),
            Err(RoomsError::Invalid(_))
        ));
        let ann = json!({"k": 1}).as_object().cloned();
        assert!(matches!(
            db.create("ok", false, None, ann),
            Err(RoomsError::Invalid(_))
        ));
    }

    #[test]
    fn sessions_and_logs() {
        let (dir, db) = db();
        db.ensure("r").unwrap();
        db.session_start("s1", "r", 10.0).unwrap();
        assert!(db.is_active("r").unwrap());
        assert!(matches!(
            db.delete(dir.path(), "r"),
            Err(RoomsError::Active(_))
        ));
        db.session_participant("s1", "alice", "user", 11.0).unwrap();
        // Noted joins are part of every read, written or not.
        assert!(db.note_participant("s1", "bob", "agent", 11.5));
        assert!(!db.note_participant("s1", "carol", "agent", 11.6));
        assert_eq!(db.session("s1").unwrap().unwrap().participants.len(), 3);
        db.append_session_logs("s1", &[(12.0, "otel.log".into(), json!({"a": 1}))])
            .unwrap();
        db.session_end("s1", 20.0).unwrap();
        let s = db.session("s1").unwrap().unwrap();
        assert_eq!(s.ended_at, Some(20.0));
        assert_eq!(s.participants[0].name, "alice");
        assert_eq!(s.to_json()["participants"]["user"], 1);
        assert_eq!(s.to_json()["participants"]["agent"], 2);
        assert_eq!(db.session_logs("s1").unwrap().len(), 1);
        assert_eq!(db.sessions(Some("r"), false, 10).unwrap().len(), 1);
        db.session_start("s2", "r", 30.0).unwrap();
        assert_eq!(db.close_stale_sessions().unwrap(), 1);
        assert!(!db.is_active("r").unwrap());
    }

    #[test]
    fn session_logs_are_bounded() {
        let (_dir, db) = db();
        let events: Vec<_> = (0..(MAX_SESSION_LOG_EVENTS + 5))
            .map(|i| (i as f64, "t".to_string(), json!(i)))
            .collect();
        db.append_session_logs("s", &events).unwrap();
        let logs = db.session_logs("s").unwrap();
        assert_eq!(logs.len() as i64, MAX_SESSION_LOG_EVENTS);
        assert_eq!(logs[0].2, json!(5));
    }

    #[test]
    fn only_recent_sessions_keep_their_logs() {
        let (_dir, db) = db();
        let n = MAX_SESSIONS_WITH_LOGS + 2;
        for i in 0..n {
            let id = format!("s{i}");
            db.session_start(&id, "r", i as f64).unwrap();
            db.append_session_logs(&id, &[(i as f64, "t".into(), json!(i))])
                .unwrap();
        }
        db.session_start("last", "r", n as f64).unwrap();
        assert!(db.session_logs("s0").unwrap().is_empty());
        assert!(db.session_logs("s2").unwrap().is_empty());
        assert_eq!(db.session_logs("s3").unwrap().len(), 1);
        assert_eq!(
            db.sessions(Some("r"), false, 1000).unwrap().len() as i64,
            n + 1
        );
    }

    #[test]
    fn services_keep_their_id_across_deploys() {
        let (_dir, db) = db();
        let a = db
            .save_service("r", json!({"metadata": {"name": "echo"}, "v": 1}))
            .unwrap();
        let b = db
            .save_service("r", json!({"metadata": {"name": "echo"}, "v": 2}))
            .unwrap();
        assert_eq!(a.id, b.id);
        let list = db.services(Some("r")).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].spec["v"], 2);
        assert_eq!(list[0].spec["id"], json!(a.id));
        assert!(db.delete_service("r", "echo").unwrap());
        assert!(!db.delete_service("r", "echo").unwrap());
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_764_072_000.5), "2025-11-25T12:00:00.500Z");
    }
}
