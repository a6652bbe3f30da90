//! Segment files: append-only, framed events, bounded in size across a whole root.
//!
//! ```text
//! segment = MAGIC (8 bytes) | record*
//! record  = len: u32 LE | crc: u32 LE (CRC-32 of body) | body (Event::encode)
//! ```
//! A segment is only ever appended to by one writer and never reopened for writing, so a
//! reader that meets a record running past the end of the file has met the writer's tail
//! (or a crash's), and stops there.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::checksum::crc32;

pub const MAGIC: &[u8; 8] = b"RDTLINE1";
pub const FRAME: usize = 8;
pub const SESSION_FILE: &str = "session.json";
/// Sessions kept under one root, whatever their size (the oldest beyond go first).
pub const MAX_SESSIONS: usize = if cfg!(test) { 20 } else { 1000 };

/// No one event is larger than this (its data is cut to fit, see `Writer::append`).
pub const MAX_RECORD: usize = 4 << 20;

/// `00000001.seg` for segment 1.
pub fn segment_name(n: u32) -> String {
    format!("{n:08}.seg")
}

/// The numbered segments in a session directory, in order.
pub fn segments_of(dir: &Path) -> io::Result<Vec<(u32, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name
            .strip_suffix(".seg")
            .and_then(|n| n.parse::<u32>().ok())
        {
            out.push((n, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Appends records to a session's segments, starting a new one past `segment_bytes` and
/// deleting the root's oldest segments when the root would grow past `max_bytes`.
pub struct Writer {
    root: PathBuf,
    dir: PathBuf,
    max_bytes: u64,
    segment_bytes: u64,
    current: Option<BufWriter<File>>,
    number: u32,
    written: u64,
    /// Every finished segment under the root, oldest first, with its size.
    finished: std::collections::VecDeque<(PathBuf, u64)>,
    scratch: Vec<u8>,
}

impl Writer {
    /// A writer for the session directory `root/session_id` (made if missing); `meta` is
    /// written as its `session.json`.
    pub fn create(
        root: &Path,
        meta: &super::SessionMeta,
        max_bytes: u64,
        segment_bytes: u64,
    ) -> io::Result<Writer> {
        let dir = root.join(&meta.session_id);
        fs::create_dir_all(&dir)?;
        let json = serde_json::to_vec_pretty(meta).map_err(io::Error::other)?;
        fs::write(dir.join(SESSION_FILE), json)?;
        let mut finished = Vec::new();
        for entry in fs::read_dir(root)?.flatten() {
            if !entry.path().is_dir() {
                continue;
            }
            for (_, path) in segments_of(&entry.path()).unwrap_or_default() {
                let meta = fs::metadata(&path)?;
                let at = meta.modified().unwrap_or(std::time::SystemTime::UNIX_EPOCH);
                finished.push((at, path, meta.len()));
            }
        }
        finished.sort();
        // Many short sessions (one-shot commands) are each a directory: past MAX_SESSIONS,
        // the oldest go whole, so opening a session never walks an unbounded root.
        let mut newest: std::collections::HashMap<PathBuf, std::time::SystemTime> =
            Default::default();
        for (at, path, _) in &finished {
            if let Some(parent) = path.parent()
                && parent != dir
            {
                newest.insert(parent.to_path_buf(), *at);
            }
        }
        if newest.len() >= MAX_SESSIONS {
            // Room for this one: the others keep MAX_SESSIONS - 1.
            let excess = newest.len() + 1 - MAX_SESSIONS;
            let mut by_age: Vec<(std::time::SystemTime, PathBuf)> =
                newest.into_iter().map(|(p, t)| (t, p)).collect();
            by_age.sort();
            let gone: std::collections::HashSet<PathBuf> =
                by_age.into_iter().take(excess).map(|(_, p)| p).collect();
            for d in &gone {
                let _ = fs::remove_dir_all(d);
            }
            finished.retain(|(_, p, _)| p.parent().is_none_or(|d| !gone.contains(d)));
        }
        let number = segments_of(&dir)?.last().map_or(0, |(n, _)| *n);
        Ok(Writer {
            root: root.to_path_buf(),
            dir,
            max_bytes,
            segment_bytes: segment_bytes.max(64 << 10),
            current: None,
            number,
            written: 0,
            finished: finished.into_iter().map(|(_, p, n)| (p, n)).collect(),
            scratch: Vec::new(),
        })
    }

    /// Appends one event (to the buffer; `flush` hands it to the OS).
    pub fn append(&mut self, event: &super::Event) -> io::Result<()> {
        self.scratch.clear();
        event.encode(&mut self.scratch);
        if self.scratch.len() > MAX_RECORD {
            let mut cut = event.clone();
            cut.data.clear();
            cut.request
                .truncate(floor_char(&cut.request, MAX_RECORD / 4));
            cut.answer.truncate(floor_char(&cut.answer, MAX_RECORD / 4));
            cut.summary.push_str(" (cut to fit the recording)");
            self.scratch.clear();
            cut.encode(&mut self.scratch);
        }
        let record = (FRAME + self.scratch.len()) as u64;
        if self.current.is_none() || self.written + record > self.segment_bytes {
            self.rotate()?;
        }
        let file = self.current.as_mut().expect("rotate opened a segment");
        file.write_all(&(self.scratch.len() as u32).to_le_bytes())?;
        file.write_all(&crc32(&self.scratch).to_le_bytes())?;
        file.write_all(&self.scratch)?;
        self.written += record;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.current {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }

    /// Flushes and syncs the current segment (at the end of a session).
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(f) = &mut self.current {
            f.flush()?;
            f.get_ref().sync_data()?;
        }
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        if let Some(mut f) = self.current.take() {
            f.flush()?;
            let path = self.dir.join(segment_name(self.number));
            self.finished.push_back((path, self.written));
        }
        // Room for the new segment: oldest first, never the one being written.
        let mut total: u64 = self.finished.iter().map(|(_, n)| n).sum();
        while total + self.segment_bytes > self.max_bytes {
            let Some((path, n)) = self.finished.pop_front() else {
                break;
            };
            let _ = fs::remove_file(&path);
            total -= n;
            if let Some(parent) = path.parent()
                && parent != self.dir
                && segments_of(parent).is_ok_and(|s| s.is_empty())
            {
                // A session with none of its events left goes too.
                let _ = fs::remove_dir_all(parent);
            }
        }
        self.number += 1;
        let path = self.dir.join(segment_name(self.number));
        let mut file = BufWriter::with_capacity(256 << 10, File::create_new(&path)?);
        file.write_all(MAGIC)?;
        self.written = MAGIC.len() as u64;
        self.current = Some(file);
        let _ = &self.root;
        Ok(())
    }
}

fn floor_char(s: &str, max: usize) -> usize {
    let mut i = max.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Walks the records of a segment's bytes from `offset`: yields (offset, body) until the
/// bytes end or a record runs past them. CRCs are not checked here (see `checked`).
pub fn records(bytes: &[u8], mut offset: usize) -> impl Iterator<Item = (usize, &[u8])> {
    std::iter::from_fn(move || {
        let frame = bytes.get(offset..offset + FRAME)?;
        let len = u32::from_le_bytes(frame[..4].try_into().ok()?) as usize;
        if len > MAX_RECORD {
            return None;
        }
        let body = bytes.get(offset + FRAME..offset + FRAME + len)?;
        let at = offset;
        offset += FRAME + len;
        Some((at, body))
    })
}

/// The body of the record at the start of `record` if its CRC matches.
pub fn checked(record: &[u8]) -> Option<&[u8]> {
    let frame = record.get(..FRAME)?;
    let len = u32::from_le_bytes(frame[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(frame[4..].try_into().ok()?);
    let body = record.get(FRAME..FRAME + len)?;
    (crc32(body) == crc).then_some(body)
}
