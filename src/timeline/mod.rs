//! A room's recorded timeline: what happened in one session, event by event.
//!
//! Written by the room server (`server::recording`) and by the inspector in front of any room
//! (`roomdeck inspect`); read by the console's Timeline tab and `roomdeck sessions
//! export|replay`. Both sides of the layers use it, so it imports no server, store or UI code.
//!
//! On disk, under a root directory (a local room's is `<room>/timeline/`):
//!
//! ```text
//! <root>/<session id>/session.json     who recorded it, when it began (SessionMeta)
//! <root>/<session id>/00000001.seg     append-only segments of framed events (segments.rs)
//! ```
//!
//! The root is bounded by size: when a new segment would take it over, the oldest segments
//! (of any session) are deleted first.

pub mod content;
pub mod event;
pub mod open;
pub mod recorder;
pub mod segments;
pub mod summary;

pub use event::{Event, Kind};
pub use open::{Row, Session, SessionInfo, all_sessions, find_session, list_sessions};
pub use recorder::{Limits, Recorder};

/// The directory under a room's data directory that holds its recorded sessions.
pub const ROOM_DIR: &str = "timeline";

/// Who made a recording and when it began: `<session>/session.json`.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SessionMeta {
    pub session_id: String,
    pub room: String,
    /// Wall-clock start, milliseconds since the Unix epoch; events carry offsets from it.
    pub started_at_ms: u64,
    /// `local` for a room this roomdeck serves, or the URL an inspector relayed to.
    pub source: String,
}
