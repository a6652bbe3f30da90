//! The queue log on disk: a header, then framed records appended in batches.
//!
//! ```text
//! file    = MAGIC record*
//! record  = len: u32 LE | crc: u32 LE (CRC-32 of payload) | payload (len bytes)
//! payload = kind: u8 | id: u64 LE (push, pop) | name_len: u16 LE | name | body (push: the rest)
//! ```
//!
//! A crash can leave the last batch half written. Replay stops at the first record whose
//! frame does not fit in the file, whose checksum does not match or whose payload does not
//! decode, and the file is cut back to the last whole record: a torn tail is dropped, never
//! read as data. Nothing after it can have been answered (its batch never finished its fsync).
//!
//! The log is replaced whole (compaction, migration, a fresh store) by writing a temp file,
//! syncing it, renaming it over the log and syncing the directory, so a crash leaves either
//! the old log or the new one.

use crate::checksum::crc32;
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(super) const MAGIC: &[u8; 8] = b"RDQLOG1\n";
const FRAME: usize = 8;
/// Larger than any record the server writes (a body is bounded by the largest message); a
/// length field above it is a torn or foreign frame.
const MAX_PAYLOAD: usize = 1 << 30;

const CREATE: u8 = 1;
const PUSH: u8 = 2;
const POP: u8 = 3;
const DRAIN: u8 = 4;
const CLOSE: u8 = 5;

/// One change to the queues, in the order it happened.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Record<'a> {
    Create {
        queue: &'a str,
    },
    Push {
        queue: &'a str,
        id: u64,
        body: &'a str,
    },
    /// A receive's removal of item `id` (logged after the receive was answered).
    Pop {
        queue: &'a str,
        id: u64,
    },
    Drain {
        queue: &'a str,
    },
    Close {
        queue: &'a str,
    },
}

/// Bytes a record takes in the log.
pub(super) fn record_len(queue: &str, body: &str) -> usize {
    FRAME + 1 + 8 + 2 + queue.len() + body.len()
}

impl Record<'_> {
    /// Appends the framed record to `out`.
    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0; FRAME]);
        let (kind, queue, id, body) = match *self {
            Record::Create { queue } => (CREATE, queue, None, ""),
            Record::Push { queue, id, body } => (PUSH, queue, Some(id), body),
            Record::Pop { queue, id } => (POP, queue, Some(id), ""),
            Record::Drain { queue } => (DRAIN, queue, None, ""),
            Record::Close { queue } => (CLOSE, queue, None, ""),
        };
        out.push(kind);
        if let Some(id) = id {
            out.extend_from_slice(&id.to_le_bytes());
        }
        // Queue names are at most 256 bytes (the toolkit refuses longer ones).
        out.extend_from_slice(&(queue.len() as u16).to_le_bytes());
        out.extend_from_slice(queue.as_bytes());
        out.extend_from_slice(body.as_bytes());
        let payload = &out[start + FRAME..];
        let (len, crc) = (payload.len() as u32, crc32(payload));
        out[start..start + 4].copy_from_slice(&len.to_le_bytes());
        out[start + 4..start + FRAME].copy_from_slice(&crc.to_le_bytes());
    }

    fn decode(payload: &[u8]) -> Option<Record<'_>> {
        let (&kind, mut rest) = payload.split_first()?;
        let mut id = None;
        if matches!(kind, PUSH | POP) {
            let (bytes, tail) = rest.split_at_checked(8)?;
            id = Some(u64::from_le_bytes(bytes.try_into().ok()?));
            rest = tail;
        }
        let (len, tail) = rest.split_at_checked(2)?;
        let len = u16::from_le_bytes(len.try_into().ok()?) as usize;
        let (queue, body) = tail.split_at_checked(len)?;
        let queue = std::str::from_utf8(queue).ok()?;
        let body = std::str::from_utf8(body).ok()?;
        Some(match (kind, id) {
            (CREATE, None) if body.is_empty() => Record::Create { queue },
            (PUSH, Some(id)) => Record::Push { queue, id, body },
            (POP, Some(id)) if body.is_empty() => Record::Pop { queue, id },
            (DRAIN, None) if body.is_empty() => Record::Drain { queue },
            (CLOSE, None) if body.is_empty() => Record::Close { queue },
            _ => return None,
        })
    }
}

/// The queues as the log leaves them: items by id (ids grow with every send, so id order
/// is queue order, and an item put back goes back to its place).
#[derive(Debug, Default, PartialEq)]
pub(super) struct Replayed {
    pub queues: HashMap<String, BTreeMap<u64, Arc<str>>>,
    /// One more than the largest id the log mentions.
    pub next_id: u64,
    /// Bytes of torn tail that were cut off.
    pub dropped: u64,
}

impl Replayed {
    fn apply(&mut self, record: Record<'_>) {
        match record {
            Record::Create { queue } => {
                self.queues.entry(queue.to_string()).or_default();
            }
            Record::Push { queue, id, body } => {
                self.next_id = self.next_id.max(id + 1);
                let items = self.queues.entry(queue.to_string()).or_default();
                items.insert(id, Arc::from(body));
            }
            Record::Pop { queue, id } => {
                self.next_id = self.next_id.max(id + 1);
                if let Some(items) = self.queues.get_mut(queue) {
                    items.remove(&id);
                }
            }
            Record::Drain { queue } => {
                if let Some(items) = self.queues.get_mut(queue) {
                    items.clear();
                }
            }
            Record::Close { queue } => {
                self.queues.remove(queue);
            }
        }
    }

    /// The records that rebuild these queues: what a compacted log holds.
    pub(super) fn encode(queues: &Snapshot) -> Vec<u8> {
        let mut out = Vec::new();
        for (queue, items) in queues {
            Record::Create { queue }.encode(&mut out);
            for (id, body) in items {
                Record::Push {
                    queue,
                    id: *id,
                    body,
                }
                .encode(&mut out);
            }
        }
        out
    }
}

/// Zeros written ahead of the end of the log, in steps of this much.
const PREALLOCATE: u64 = 1 << 20;

/// Every live queue with its items in order: what a compacted log holds.
pub(super) type Snapshot = Vec<(String, Vec<(u64, Arc<str>)>)>;

/// The open log, appended to by the writer thread only.
///
/// The file is extended with written zeros ahead of its records (not `fallocate`, whose
/// unwritten extents change metadata when first written): an append then overwrites blocks
/// that exist, the file's size does not change, and its fdatasync needs no journal commit
/// (about half the cost on ext4, as SQLite's reused WAL). Replay stops at the zeros (an
/// empty frame does not decode) and the file is cut back to its records on open.
pub(super) struct LogFile {
    path: PathBuf,
    file: File,
    /// End of the records.
    len: u64,
    /// End of the file (records, then zeros).
    allocated: u64,
}

impl LogFile {
    /// Reads the log back (cutting off a torn tail), or creates an empty one.
    pub(super) fn open(path: &Path) -> io::Result<(LogFile, Replayed)> {
        if !path.exists() {
            let log = LogFile::replace(path, &[])?;
            return Ok((log, Replayed::default()));
        }
        let mut file = OpenOptions::new().read(true).write(true).open(path)?;
        let (replayed, valid) = replay(&mut file)?;
        if replayed.dropped > 0 {
            // Preallocated zeros, or a batch a crash cut short (none of it was answered). Cut
            // either way, so nothing stale is left after the records written from here.
            tracing::info!(
                "{}: cut {} bytes after the last whole record",
                path.display(),
                replayed.dropped
            );
            file.set_len(valid)?;
            file.sync_all()?;
        }
        let log = LogFile {
            path: path.to_path_buf(),
            file,
            len: valid,
            allocated: valid,
        };
        Ok((log, replayed))
    }

    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// Appends one batch and waits for it to be on disk.
    pub(super) fn append(&mut self, records: &[u8]) -> io::Result<()> {
        let end = self.len + records.len() as u64;
        if end > self.allocated {
            let zeros = vec![0u8; (end + PREALLOCATE - self.allocated) as usize];
            self.file.seek(SeekFrom::Start(self.allocated))?;
            self.file.write_all(&zeros)?;
            self.allocated += zeros.len() as u64;
        }
        self.file.seek(SeekFrom::Start(self.len))?;
        self.file.write_all(records)?;
        self.file.sync_data()?;
        self.len = end;
        Ok(())
    }

    /// Atomically replaces the log at `path` with one holding `records`.
    pub(super) fn replace(path: &Path, records: &[u8]) -> io::Result<LogFile> {
        let tmp = path.with_extension("log.tmp");
        {
            let mut f = File::create(&tmp)?;
            f.write_all(MAGIC)?;
            f.write_all(records)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            File::open(dir)?.sync_all()?;
        }
        let mut file = OpenOptions::new().read(true).write(true).open(path)?;
        let len = file.seek(SeekFrom::End(0))?;
        Ok(LogFile {
            path: path.to_path_buf(),
            file,
            len,
            allocated: len,
        })
    }

    /// Compaction: this log becomes one holding only `records`.
    pub(super) fn rewrite(&mut self, records: &[u8]) -> io::Result<()> {
        *self = LogFile::replace(&self.path, records)?;
        Ok(())
    }
}

/// Reads every whole record; returns the state and the length of the valid prefix.
fn replay(file: &mut File) -> io::Result<(Replayed, u64)> {
    let total = file.metadata()?.len();
    let mut reader = BufReader::with_capacity(1 << 16, &mut *file);
    let mut magic = [0u8; MAGIC.len()];
    match reader.read_exact(&mut magic) {
        Ok(()) if &magic == MAGIC => {}
        Ok(()) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not a roomdeck queue log (unknown header)",
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "queue log shorter than its header",
            ));
        }
        Err(e) => return Err(e),
    }
    let mut state = Replayed::default();
    let mut valid = MAGIC.len() as u64;
    let mut payload = Vec::new();
    loop {
        let mut frame = [0u8; FRAME];
        if read_all(&mut reader, &mut frame)? < FRAME {
            break;
        }
        let len = u32::from_le_bytes(frame[..4].try_into().unwrap_or_default()) as usize;
        let crc = u32::from_le_bytes(frame[4..].try_into().unwrap_or_default());
        if len > MAX_PAYLOAD || valid + (FRAME + len) as u64 > total {
            break;
        }
        payload.resize(len, 0);
        if read_all(&mut reader, &mut payload)? < len || crc32(&payload) != crc {
            break;
        }
        let Some(record) = Record::decode(&payload) else {
            break;
        };
        state.apply(record);
        valid += (FRAME + len) as u64;
    }
    state.dropped = total - valid;
    Ok((state, valid))
}

/// Fills `buf` as far as the reader goes; returns how much was read.
fn read_all(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push<'a>(queue: &'a str, id: u64, body: &'a str) -> Record<'a> {
        Record::Push { queue, id, body }
    }

    fn encode(records: &[Record<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        for r in records {
            r.encode(&mut out);
        }
        out
    }

    fn items(r: &Replayed, queue: &str) -> Vec<(u64, String)> {
        r.queues[queue]
            .iter()
            .map(|(id, b)| (*id, b.to_string()))
            .collect()
    }

    #[test]
    fn records_round_trip_and_their_length_is_known() {
        let all = [
            Record::Create { queue: "q" },
            push("q", 7, "{\"n\":1}"),
            Record::Pop { queue: "q", id: 7 },
            Record::Drain { queue: "é" },
            Record::Close { queue: "q" },
        ];
        for r in all {
            let mut out = Vec::new();
            r.encode(&mut out);
            assert_eq!(Record::decode(&out[FRAME..]), Some(r.clone()));
        }
        let mut out = Vec::new();
        push("jobs", 1, "body").encode(&mut out);
        assert_eq!(out.len(), record_len("jobs", "body"));
    }

    #[test]
    fn replay_applies_records_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.log");
        let (mut log, r) = LogFile::open(&path).unwrap();
        assert_eq!(r, Replayed::default());
        log.append(&encode(&[
            Record::Create { queue: "a" },
            push("a", 0, "0"),
            push("a", 1, "1"),
            push("b", 2, "2"),
            Record::Pop { queue: "a", id: 0 },
            push("a", 3, "3"),
            Record::Drain { queue: "b" },
            push("c", 4, "4"),
            Record::Close { queue: "c" },
        ]))
        .unwrap();
        drop(log);
        let (_, r) = LogFile::open(&path).unwrap();
        assert_eq!(items(&r, "a"), vec![(1, "1".into()), (3, "3".into())]);
        assert!(r.queues["b"].is_empty());
        assert!(!r.queues.contains_key("c"));
        assert_eq!(r.next_id, 5);
        assert_eq!(r.dropped, PREALLOCATE, "only the zeros ahead are cut");
    }

    /// Every way the last batch can be cut short or scribbled on: the whole records before
    /// it come back, the rest is dropped and cut off, and appending afterwards works.
    #[test]
    fn a_torn_tail_is_dropped_never_misread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.log");
        let good = encode(&[Record::Create { queue: "q" }, push("q", 0, "kept")]);
        let last = encode(&[push("q", 1, "torn")]);
        let mut flipped = last.clone();
        let at = flipped.len() - 2;
        flipped[at] ^= 0x20; // the body, so only the checksum can tell
        let mut long = last.clone();
        long[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        let tails: Vec<Vec<u8>> = (1..last.len())
            .map(|n| last[..n].to_vec())
            .chain([flipped, long, vec![0; 64]])
            .collect();
        for tail in tails {
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&good);
            bytes.extend_from_slice(&tail);
            std::fs::write(&path, &bytes).unwrap();
            let (mut log, r) = LogFile::open(&path).unwrap();
            assert_eq!(items(&r, "q"), vec![(0, "kept".into())], "tail {tail:?}");
            assert_eq!(r.dropped, tail.len() as u64);
            assert_eq!(
                std::fs::metadata(&path).unwrap().len(),
                (MAGIC.len() + good.len()) as u64
            );
            log.append(&encode(&[push("q", 1, "after")])).unwrap();
            drop(log);
            let (_, r) = LogFile::open(&path).unwrap();
            assert_eq!(
                items(&r, "q"),
                vec![(0, "kept".into()), (1, "after".into())]
            );
            assert_eq!(r.dropped, PREALLOCATE, "the zeros ahead are cut too");
        }
    }

    #[test]
    fn a_foreign_file_is_refused_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.log");
        std::fs::write(&path, b"SQLite format 3\0 and more").unwrap();
        assert!(LogFile::open(&path).is_err());
        assert!(std::fs::read(&path).unwrap().starts_with(b"SQLite"));
    }

    #[test]
    fn rewrite_replaces_the_log_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.log");
        let (mut log, _) = LogFile::open(&path).unwrap();
        let mut dead = Vec::new();
        for id in 0..100 {
            dead.extend(encode(&[
                push("q", id, "x"),
                Record::Pop { queue: "q", id },
            ]));
        }
        log.append(&dead).unwrap();
        let before = log.len();
        let live = vec![("q".to_string(), vec![(100, Arc::from("live"))])];
        log.rewrite(&Replayed::encode(&live)).unwrap();
        assert!(log.len() < before / 10);
        log.append(&encode(&[push("q", 101, "next")])).unwrap();
        drop(log);
        assert!(!path.with_extension("log.tmp").exists());
        let (_, r) = LogFile::open(&path).unwrap();
        assert_eq!(
            items(&r, "q"),
            vec![(100, "live".into()), (101, "next".into())]
        );
        assert_eq!(r.next_id, 102);
    }
}
