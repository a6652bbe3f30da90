//! A recorded session opened for reading: an index of its events (a few fixed fields each,
//! so a million events open in a fraction of a second), the full event read on demand, and
//! new events picked up as the recording grows.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::event::head;
use super::segments::{FRAME, MAGIC, SESSION_FILE, checked, records, segments_of};
use super::{Event, Kind, SessionMeta};

/// One event in the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub t_us: u64,
    pub kind: Kind,
    pub error: bool,
    /// Ids into `Session::name`.
    pub participant: u32,
    pub toolkit: u32,
    pub tool: u32,
    segment: u32,
    offset: u32,
}

struct Segment {
    number: u32,
    file: File,
    /// Where the next unread record starts.
    end: u64,
}

/// A session's events, in order.
pub struct Session {
    pub dir: PathBuf,
    pub meta: SessionMeta,
    rows: Vec<Row>,
    segments: Vec<Segment>,
    names: Vec<String>,
    ids: HashMap<Vec<u8>, u32>,
}

impl Session {
    /// Opens the session recorded in `dir` and indexes every event written so far.
    pub fn open(dir: &Path) -> io::Result<Session> {
        let meta = read_meta(dir)?;
        let mut session = Session {
            dir: dir.to_path_buf(),
            meta,
            rows: Vec::new(),
            segments: Vec::new(),
            names: vec![String::new()],
            ids: HashMap::from([(Vec::new(), 0)]),
        };
        session.refresh()?;
        Ok(session)
    }

    /// Indexes what was written since the last call (new events, new segments); returns how
    /// many events were added.
    pub fn refresh(&mut self) -> io::Result<usize> {
        let before = self.rows.len();
        let last = self.segments.last().map_or(0, |s| s.number);
        for (number, path) in segments_of(&self.dir)? {
            if number > last {
                let Ok(file) = File::open(&path) else {
                    continue;
                };
                self.segments.push(Segment {
                    number,
                    file,
                    end: 0,
                });
            }
        }
        // Only the newest segments can still grow; each was read to its end before.
        for i in 0..self.segments.len() {
            if i + 1 < self.segments.len() && self.segments[i].end > 0 {
                continue;
            }
            self.read_segment(i)?;
        }
        Ok(self.rows.len() - before)
    }

    fn read_segment(&mut self, index: usize) -> io::Result<()> {
        let seg = &mut self.segments[index];
        let start = seg.end;
        seg.file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        (&seg.file).read_to_end(&mut bytes)?;
        let mut offset = 0;
        if start == 0 {
            if bytes.len() < MAGIC.len() {
                return Ok(());
            }
            if &bytes[..MAGIC.len()] != MAGIC {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("segment {} is not a timeline segment", seg.number),
                ));
            }
            offset = MAGIC.len();
        }
        let number = index as u32;
        let mut consumed = offset;
        let mut rows = Vec::new();
        for (at, body) in records(&bytes, offset) {
            consumed = at + FRAME + body.len();
            let Some(h) = head(body) else { continue };
            rows.push((
                h.t_us,
                h.kind,
                h.error,
                h.participant,
                h.toolkit,
                h.tool,
                at,
            ));
        }
        self.segments[index].end = start + consumed as u64;
        self.rows.reserve(rows.len());
        for (t_us, kind, error, participant, toolkit, tool, at) in rows {
            let row = Row {
                t_us,
                kind,
                error,
                participant: self.intern(participant),
                toolkit: self.intern(toolkit),
                tool: self.intern(tool),
                segment: number,
                offset: (start + at as u64) as u32,
            };
            self.rows.push(row);
        }
        Ok(())
    }

    fn intern(&mut self, name: &[u8]) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(String::from_utf8_lossy(name).into_owned());
        self.ids.insert(name.to_vec(), id);
        id
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// A participant's, toolkit's or tool's name by its id in a `Row`.
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }

    /// The id of `name` in this session's rows, if any row has it.
    pub fn name_id(&self, name: &str) -> Option<u32> {
        self.ids.get(name.as_bytes()).copied()
    }

    /// The full event at `index`; an error for a damaged record.
    pub fn event(&self, index: usize) -> io::Result<Event> {
        let row = self
            .rows
            .get(index)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such event"))?;
        let seg = &self.segments[row.segment as usize];
        // Most events are small: one read of up to GUESS bytes holds the whole record, and a
        // second read is needed only for a larger one.
        const GUESS: usize = 1024;
        let end = seg.end.max(u64::from(row.offset) + FRAME as u64);
        let first = (end - u64::from(row.offset)).min(GUESS as u64) as usize;
        let mut record = vec![0u8; first];
        read_at(&seg.file, u64::from(row.offset), &mut record)?;
        let len = u32::from_le_bytes(record[..4].try_into().unwrap_or_default()) as usize;
        if FRAME + len > record.len() {
            record.resize(FRAME + len, 0);
            read_at(&seg.file, u64::from(row.offset), &mut record)?;
        }
        record.truncate(FRAME + len);
        let damaged = || io::Error::new(io::ErrorKind::InvalidData, "damaged event record");
        let body = checked(&record).ok_or_else(damaged)?;
        Event::decode(body).ok_or_else(damaged)
    }

    /// The index of the last event at or before `t_us` (0 when none is).
    pub fn at_time(&self, t_us: u64) -> usize {
        self.rows
            .partition_point(|r| r.t_us <= t_us)
            .saturating_sub(1)
    }
}

#[cfg(unix)]
fn read_at(file: &File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

#[cfg(not(unix))]
fn read_at(file: &File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    let mut f = file.try_clone()?;
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

/// The `session.json` of a recorded session.
pub fn read_meta(dir: &Path) -> io::Result<SessionMeta> {
    let bytes = fs::read(dir.join(SESSION_FILE))?;
    serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// A recorded session as a list shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionInfo {
    pub dir: PathBuf,
    pub meta: SessionMeta,
    /// Bytes of its segments on disk.
    pub bytes: u64,
}

/// The sessions recorded under `root`, newest first; a missing root has none.
pub fn list_sessions(root: &Path) -> io::Result<Vec<SessionInfo>> {
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        let Ok(meta) = read_meta(&dir) else { continue };
        let bytes = segments_of(&dir)
            .unwrap_or_default()
            .iter()
            .filter_map(|(_, p)| fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        out.push(SessionInfo { dir, meta, bytes });
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.meta.started_at_ms));
    Ok(out)
}

/// Every event of the session in `dir`, in order, read one record at a time (memory: one
/// event, whatever the session's size). A damaged record is skipped; a record cut short at
/// a segment's end (the writer's tail) ends that segment.
///
/// What is read is the session as it was when this was called: events recorded meanwhile
/// (a replay into the room being replayed) are not read, so the iterator always ends.
pub fn read_events(dir: &Path) -> io::Result<impl Iterator<Item = Event>> {
    let segments: Vec<(PathBuf, u64)> = segments_of(dir)?
        .into_iter()
        .filter_map(|(_, p)| fs::metadata(&p).ok().map(|m| (p, m.len())))
        .collect();
    let mut segments = segments.into_iter();
    let mut current: Option<io::BufReader<io::Take<File>>> = None;
    let mut body = Vec::new();
    Ok(std::iter::from_fn(move || {
        loop {
            if current.is_none() {
                let (path, len) = segments.next()?;
                let Ok(file) = File::open(&path) else {
                    continue;
                };
                let mut r = io::BufReader::with_capacity(256 << 10, file.take(len));
                let mut magic = [0u8; MAGIC.len()];
                if r.read_exact(&mut magic).is_err() || &magic != MAGIC {
                    continue;
                }
                current = Some(r);
            }
            let r = current.as_mut()?;
            let mut frame = [0u8; FRAME];
            if r.read_exact(&mut frame).is_err() {
                current = None;
                continue;
            }
            let len = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
            let crc = u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]);
            if len > super::segments::MAX_RECORD {
                current = None;
                continue;
            }
            body.resize(len, 0);
            if r.read_exact(&mut body).is_err() {
                current = None;
                continue;
            }
            if crate::checksum::crc32(&body) != crc {
                continue;
            }
            if let Some(e) = Event::decode(&body) {
                return Some(e);
            }
        }
    }))
}

/// The roots under a data directory that hold recorded sessions: every room's
/// `rooms/<room>/timeline/`, and every `inspect/<name>/` the inspector records into.
pub fn roots(data_dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let subdirs = |dir: PathBuf| -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        dirs
    };
    for room in subdirs(data_dir.join("rooms")) {
        let root = room.join(super::ROOM_DIR);
        if root.is_dir() {
            out.push(root);
        }
    }
    out.extend(subdirs(data_dir.join(INSPECT_DIR)));
    out
}

/// Where `roomdeck inspect` records, under the data directory: `inspect/<name>/<session>/`.
pub const INSPECT_DIR: &str = "inspect";

/// Every recorded session under a data directory, newest first.
pub fn all_sessions(data_dir: &Path) -> Vec<SessionInfo> {
    let mut out: Vec<SessionInfo> = roots(data_dir)
        .iter()
        .flat_map(|r| list_sessions(r).unwrap_or_default())
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.meta.started_at_ms));
    out
}

/// The directory of the session recorded with id `id` under a data directory (a room's
/// timeline or the inspector's), or a sentence saying there is none. A unique prefix of
/// an id finds it too.
pub fn find_session(data_dir: &Path, id: &str) -> Result<PathBuf, String> {
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(format!("{id:?} is not a session id"));
    }
    let roots = roots(data_dir);
    for root in &roots {
        let dir = root.join(id);
        if dir.join(SESSION_FILE).is_file() {
            return Ok(dir);
        }
    }
    let mut found: Vec<PathBuf> = Vec::new();
    for root in &roots {
        for entry in fs::read_dir(root).into_iter().flatten().flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with(id) && entry.path().join(SESSION_FILE).is_file() {
                found.push(entry.path());
            }
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!(
            "no recorded session {id:?} in {} (see `roomdeck sessions list`)",
            data_dir.display()
        )),
        n => Err(format!(
            "{n} recorded sessions start with {id:?}; give more of the id"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::segments::{Writer, segment_name};
    use crate::timeline::{Limits, Recorder};

    fn meta(id: &str, at: u64) -> SessionMeta {
        SessionMeta {
            session_id: id.into(),
            room: "dev".into(),
            started_at_ms: at,
            source: "local".into(),
        }
    }

    fn event(i: u64) -> Event {
        Event {
            t_us: i * 10,
            participant: format!("p{}", i % 3),
            toolkit: "queues".into(),
            tool: "send".into(),
            request: format!(r#"{{"n":{i}}}"#),
            ..Event::new(Kind::Queue, format!("event {i}"))
        }
    }

    #[test]
    fn a_recorded_session_reads_back_in_order_and_grows_while_open() {
        let root = tempfile::tempdir().unwrap();
        let rec = Recorder::start(root.path(), meta("s1", 1), Limits::default()).unwrap();
        for i in 1..=100 {
            rec.record(event(i));
        }
        rec.sync();
        let dir = root.path().join("s1");
        let mut s = Session::open(&dir).unwrap();
        assert_eq!(s.len(), 100);
        assert_eq!(s.event(41).unwrap(), event(42));
        let row = s.rows()[0];
        assert_eq!((s.name(row.participant), s.name(row.tool)), ("p1", "send"));
        assert_eq!(s.at_time(425), 41);
        for i in 101..=150 {
            rec.record(event(i));
        }
        rec.sync();
        assert_eq!(s.refresh().unwrap(), 50);
        assert_eq!(s.event(149).unwrap().summary, "event 150");
        let listed = list_sessions(root.path()).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].meta, meta("s1", 1));
    }

    #[test]
    fn a_torn_tail_is_left_for_later_and_a_damaged_record_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        let mut w = Writer::create(root.path(), &meta("s", 1), 1 << 30, 1 << 20).unwrap();
        for i in 1..=3 {
            w.append(&event(i)).unwrap();
        }
        w.finish().unwrap();
        let path = root.path().join("s").join("00000001.seg");
        let mut bytes = fs::read(&path).unwrap();
        let full = bytes.len();
        // A half-written fourth record: not an event yet.
        bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2]);
        fs::write(&path, &bytes).unwrap();
        let s = Session::open(&root.path().join("s")).unwrap();
        assert_eq!(s.len(), 3);
        // Flip a byte in the last record's body: its CRC no longer matches.
        bytes[full - 1] ^= 0xFF;
        fs::write(&path, &bytes).unwrap();
        let s = Session::open(&root.path().join("s")).unwrap();
        assert!(s.event(2).is_err());
        assert_eq!(s.event(0).unwrap(), event(1));
    }

    #[test]
    fn the_root_stays_within_its_size_dropping_the_oldest_segments() {
        let root = tempfile::tempdir().unwrap();
        let limits = Limits {
            max_bytes: 400 << 10,
            segment_bytes: 100 << 10,
        };
        let mut w = Writer::create(
            root.path(),
            &meta("old", 1),
            limits.max_bytes,
            limits.segment_bytes,
        )
        .unwrap();
        let big = |i: u64| Event {
            data: vec![7; 10_000],
            ..event(i)
        };
        for i in 0..30 {
            w.append(&big(i)).unwrap();
        }
        w.finish().unwrap();
        drop(w);
        let mut w = Writer::create(
            root.path(),
            &meta("new", 2),
            limits.max_bytes,
            limits.segment_bytes,
        )
        .unwrap();
        for i in 0..60 {
            w.append(&big(i)).unwrap();
        }
        w.finish().unwrap();
        let total: u64 = walk(root.path());
        assert!(total <= limits.max_bytes + (100 << 10), "{total} bytes");
        // The old session lost all its segments, and went; the new one its first ones.
        let sessions = list_sessions(root.path()).unwrap();
        assert_eq!(sessions.len(), 1);
        assert!(!root.path().join("old").exists());
        let s = Session::open(&root.path().join("new")).unwrap();
        assert!(s.len() > 20 && s.len() < 60, "{} events left", s.len());
        assert_eq!(s.event(s.len() - 1).unwrap(), big(59));
    }

    #[test]
    fn sessions_are_found_by_id_or_unique_prefix_in_rooms_and_the_inspector() {
        let data = tempfile::tempdir().unwrap();
        let rooms = data
            .path()
            .join("rooms/dev")
            .join(crate::timeline::ROOM_DIR);
        let inspect = data.path().join(INSPECT_DIR).join("hosted");
        for (root, id) in [(&rooms, "abc123"), (&rooms, "abd999"), (&inspect, "ffee01")] {
            let rec = Recorder::start(root, meta(id, 5), Limits::default()).unwrap();
            rec.record(event(1));
            rec.sync();
        }
        assert_eq!(
            find_session(data.path(), "abc123").unwrap(),
            rooms.join("abc123")
        );
        assert_eq!(
            find_session(data.path(), "abd").unwrap(),
            rooms.join("abd999")
        );
        assert_eq!(
            find_session(data.path(), "ffee").unwrap(),
            inspect.join("ffee01")
        );
        let ambiguous = find_session(data.path(), "ab").unwrap_err();
        assert!(ambiguous.contains("2 recorded sessions"), "{ambiguous}");
        assert!(
            find_session(data.path(), "zz")
                .unwrap_err()
                .contains("no recorded session")
        );
        for bad in ["", "../rooms", "a/b", "."] {
            assert!(find_session(data.path(), bad).is_err(), "{bad:?}");
        }
        assert_eq!(all_sessions(data.path()).len(), 3);
    }

    #[test]
    fn read_events_streams_what_the_index_holds_and_stops_at_a_torn_tail() {
        let root = tempfile::tempdir().unwrap();
        let limits = Limits {
            max_bytes: 1 << 30,
            segment_bytes: 64 << 10,
        };
        let rec = Recorder::start(root.path(), meta("s", 1), limits).unwrap();
        for i in 1..=2000 {
            rec.record(event(i));
        }
        // Built on the writer thread, stamped when handed over.
        rec.record_with(|| Event::new(Kind::Log, "lazy"));
        rec.sync();
        drop(rec);
        let dir = root.path().join("s");
        assert!(segments_of(&dir).unwrap().len() > 1, "several segments");
        let s = Session::open(&dir).unwrap();
        let streamed: Vec<Event> = read_events(&dir).unwrap().collect();
        assert_eq!(streamed.len(), s.len());
        assert_eq!(streamed[0], s.event(0).unwrap());
        assert_eq!(streamed[1999], event(2000));
        let lazy = &streamed[2000];
        assert_eq!(lazy.summary, "lazy");
        assert!(lazy.t_us >= streamed[1999].t_us, "time order is kept");
        let (_, last) = segments_of(&dir).unwrap().pop().unwrap();
        let mut f = fs::OpenOptions::new().append(true).open(last).unwrap();
        use std::io::Write;
        f.write_all(&[100, 0, 0, 0, 9, 9]).unwrap();
        assert_eq!(read_events(&dir).unwrap().count(), 2001);
    }

    #[test]
    fn a_root_keeps_at_most_max_sessions_dropping_the_oldest_whole() {
        use crate::timeline::segments::MAX_SESSIONS;
        let root = tempfile::tempdir().unwrap();
        let extra = 3;
        for i in 0..MAX_SESSIONS + extra {
            let mut w = Writer::create(
                root.path(),
                &meta(&format!("s{i:05}"), i as u64),
                1 << 40,
                1 << 20,
            )
            .unwrap();
            w.append(&event(1)).unwrap();
            w.finish().unwrap();
            if i < extra + 1 {
                // Distinct ages for the oldest ones, whatever the clock's resolution.
                let path = root.path().join(format!("s{i:05}")).join(segment_name(1));
                let f = fs::File::options().write(true).open(path).unwrap();
                let at = std::time::SystemTime::UNIX_EPOCH
                    + std::time::Duration::from_secs(i as u64 + 1);
                f.set_modified(at).unwrap();
            }
        }
        let left = list_sessions(root.path()).unwrap();
        assert_eq!(left.len(), MAX_SESSIONS);
        for i in 0..extra {
            assert!(
                !root.path().join(format!("s{i:05}")).exists(),
                "s{i} is gone"
            );
        }
        assert!(
            root.path()
                .join(format!("s{:05}", MAX_SESSIONS + extra - 1))
                .exists()
        );
    }

    fn walk(dir: &Path) -> u64 {
        fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| {
                let m = e.metadata().unwrap();
                if m.is_dir() { walk(&e.path()) } else { m.len() }
            })
            .sum()
    }
}
