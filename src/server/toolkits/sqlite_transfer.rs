//! `sqlite.backup` and `sqlite.restore`: a whole database file as a stream of binary chunks
//! of 1..=256 KiB, checked at the end by size and SHA-256 (the SDK's `sqlite_transfer.py`).
//!
//! backup:  client `start{database,namespace}`, then `pull` per chunk; the server answers each
//!          pull with `data`, and the pull after the last byte with `complete{size,sha256}`.
//! restore: client `start`; the server sends `pull`, the client answers `data` (or, at the
//!          end, `complete{size,sha256}`, or `abort`); once the file checks out the server
//!          installs it as a new database and echoes the `complete` header.
//!
//! Both go through a temp file in `<room>/sqlite/.transfer/`, removed however the call ends;
//! memory holds one chunk at a time.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::dataset::shared::{RoomDatabase, pull_chunk};
use super::sqlite::database_arg;
use super::stream::{Chunk, next_chunk};
use crate::protocol::Content;
use crate::protocol::error_codes::{ALREADY_EXISTS, OPERATION_FAILED};
use crate::server::call::{Reply, ToolCall, ToolError, ToolResult, random_id};
use crate::store::tables::StoreError;

/// The SDK's `CHUNK_SIZE`: the largest data chunk either way.
pub(crate) const CHUNK_SIZE: usize = 256 * 1024;
/// How many problems `integrity_check` and `foreign_key_check` report at most.
const MAX_PROBLEMS: usize = 5;

/// A temp file of one transfer, removed (with any SQLite sidecar files) when dropped.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    /// A fresh name in the room's transfer folder (the file itself is not created).
    fn name(dir: &Path, what: &str) -> Result<TempFile, ToolError> {
        std::fs::create_dir_all(dir).map_err(|e| io_failed("create the transfer folder", e))?;
        Ok(TempFile {
            path: dir.join(format!("{what}-{}.db", random_id())),
        })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

fn io_failed(what: &str, e: std::io::Error) -> ToolError {
    ToolError::new(OPERATION_FAILED, format!("cannot {what}: {e}"))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn complete_chunk(size: u64, sha256: &str) -> Content {
    Content::binary(
        json!({"kind": "complete", "size": size, "sha256": sha256}),
        Vec::new(),
    )
}

fn kind(headers: &Map<String, Value>) -> &str {
    headers.get("kind").and_then(Value::as_str).unwrap_or("?")
}

/// The start chunk: binary, `kind` `start`, no data. Returns its headers as arguments.
async fn start(call: &mut ToolCall) -> Result<Value, ToolError> {
    match call.next_request().await {
        Some(Content::Binary { headers, data }) if kind(&headers) == "start" && data.is_empty() => {
            Ok(Value::Object(headers))
        }
        Some(Content::Binary { headers, .. }) if kind(&headers) == "start" => Err(
            ToolError::invalid("the start chunk of a sqlite transfer carries no data"),
        ),
        Some(other) => Err(ToolError::invalid(format!(
            "sqlite.{} starts with a binary `start` chunk {{database, namespace}}, not {}",
            call.tool,
            describe(&other)
        ))),
        None => Err(ToolError::invalid(
            "the stream closed before its start chunk",
        )),
    }
}

fn describe(chunk: &Content) -> String {
    match chunk {
        Content::Binary { headers, .. } => format!("a `{}` chunk", kind(headers)),
        c => format!("a {} chunk", c.kind()),
    }
}

/// `backup`: a consistent copy of the database (`VACUUM INTO` a temp file), streamed.
pub(crate) async fn backup(call: &mut ToolCall) -> ToolResult {
    let args = start(call).await?;
    call.authorize(&args)?;
    let (ns, name) = database_arg(&args, "database")?;
    let store = RoomDatabase::of(&call.room)?.sqlite(&ns, &name)?;
    let tmp = TempFile::name(&RoomDatabase::of(&call.room)?.transfer_dir(), "backup")?;

    // The copy runs on a blocking thread; a caller who leaves interrupts it, and the temp
    // file goes only after the copy has stopped writing it.
    let conn = crate::store::open_sqlite(store.path()).map_err(|e| {
        ToolError::new(
            OPERATION_FAILED,
            format!("cannot open sqlite database `{name}`: {e}"),
        )
    })?;
    let interrupt = conn.get_interrupt_handle();
    let dest = tmp.path.to_string_lossy().into_owned();
    let mut task = tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
        conn.execute("VACUUM INTO ?1", [dest])?;
        Ok(())
    });
    let caller = call.conn().clone();
    let copied = tokio::select! {
        r = &mut task => r,
        _ = caller.closed() => {
            interrupt.interrupt();
            let _ = task.await;
            return Err(ToolError::new(OPERATION_FAILED, "the caller left; the backup was stopped"));
        }
    };
    copied
        .map_err(|e| ToolError::new(OPERATION_FAILED, format!("the backup task failed: {e}")))?
        .map_err(|e| {
            ToolError::new(
                OPERATION_FAILED,
                format!("cannot copy sqlite database `{name}`: {e}"),
            )
        })?;

    let mut file = tokio::fs::File::open(&tmp.path)
        .await
        .map_err(|e| io_failed("read the backup copy", e))?;
    let stream = call.open_stream().await?;
    let mut buf = vec![0u8; CHUNK_SIZE];
    let (mut digest, mut size) = (Sha256::new(), 0u64);
    loop {
        match next_chunk(call).await {
            Chunk::Content(Content::Binary { headers, data })
                if kind(&headers) == "pull" && data.is_empty() => {}
            Chunk::Content(other) => {
                return Err(ToolError::invalid(format!(
                    "a backup stream takes `pull` chunks, not {}",
                    describe(&other)
                )));
            }
            // The caller stopped reading: nothing more to send (the copy is removed).
            Chunk::Closed => break,
            Chunk::Gone => return Ok(Reply::Streamed),
        }
        let n = read_full(&mut file, &mut buf)
            .await
            .map_err(|e| io_failed("read the backup copy", e))?;
        if n == 0 {
            let _ = stream
                .send(&complete_chunk(size, &hex(&digest.finalize())))
                .await;
            break;
        }
        digest.update(&buf[..n]);
        size += n as u64;
        let chunk = Content::binary(json!({"kind": "data"}), buf[..n].to_vec());
        if stream.send(&chunk).await.is_err() {
            return Ok(Reply::Streamed);
        }
    }
    stream.close().await;
    Ok(Reply::Streamed)
}

/// Fills `buf` unless the file ends first; the number of bytes read.
async fn read_full(file: &mut tokio::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]).await? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// What the client said it sent: exactly `{"kind":"complete","size":N,"sha256":"<64 hex>"}`.
fn parse_complete(headers: &Map<String, Value>) -> Result<(u64, String), ToolError> {
    let bad = || {
        ToolError::invalid(
            "the complete chunk is exactly {kind, size, sha256} with a size and 64 lowercase hex \
             digits; nothing was restored",
        )
    };
    if headers.len() != 3 {
        return Err(bad());
    }
    let size = headers
        .get("size")
        .and_then(Value::as_u64)
        .ok_or_else(bad)?;
    let sha = headers
        .get("sha256")
        .and_then(Value::as_str)
        .filter(|s| {
            s.len() == 64
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
        .ok_or_else(bad)?;
    Ok((size, sha.to_string()))
}

/// `restore`: the uploaded file, once complete, intact and a sound SQLite database, becomes
/// a new database. Anything else leaves the room as it was.
pub(crate) async fn restore(call: &mut ToolCall) -> ToolResult {
    let args = start(call).await?;
    call.authorize(&args)?;
    let (ns, name) = database_arg(&args, "database")?;
    let rooms = RoomDatabase::of(&call.room)?;
    if rooms.sqlite_path(&ns, &name).exists() {
        return Err(ToolError::new(
            ALREADY_EXISTS,
            format!("sqlite database `{name}` already exists; a restore makes a new database"),
        ));
    }
    let tmp = TempFile::name(&rooms.transfer_dir(), "restore")?;
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp.path)
        .await
        .map_err(|e| io_failed("create the restore file", e))?;
    let stream = call.open_stream().await?;
    let (mut digest, mut size) = (Sha256::new(), 0u64);
    let (claimed_size, claimed_sha) = loop {
        if stream.send(&pull_chunk()).await.is_err() {
            return Ok(Reply::Streamed);
        }
        let (headers, data) = match next_chunk(call).await {
            Chunk::Content(Content::Binary { headers, data }) => (headers, data),
            Chunk::Content(other) => {
                return Err(ToolError::invalid(format!(
                    "a restore stream takes binary `data` and `complete` chunks, not {}; nothing was restored",
                    describe(&other)
                )));
            }
            Chunk::Closed => {
                return Err(ToolError::invalid(
                    "the upload ended before its complete chunk; nothing was restored",
                ));
            }
            Chunk::Gone => return Ok(Reply::Streamed),
        };
        match kind(&headers) {
            "data" if (1..=CHUNK_SIZE).contains(&data.len()) => {
                digest.update(&data);
                size += data.len() as u64;
                // The same bound as a storage upload (`serve --max-upload-size`).
                let limit = call.room.files.max_upload_size();
                if size > limit {
                    return Err(ToolError::invalid(format!(
                        "the upload is larger than this server takes ({limit} bytes, \
                         `serve --max-upload-size`); nothing was restored"
                    )));
                }
                file.write_all(&data)
                    .await
                    .map_err(|e| io_failed("write the restore file", e))?;
            }
            "data" => {
                return Err(ToolError::invalid(format!(
                    "a data chunk holds 1 to {CHUNK_SIZE} bytes, not {}; nothing was restored",
                    data.len()
                )));
            }
            "complete" if data.is_empty() => break parse_complete(&headers)?,
            "complete" => {
                return Err(ToolError::invalid(
                    "the complete chunk carries no data; nothing was restored",
                ));
            }
            "abort" => {
                return Err(ToolError::invalid(
                    "the client aborted the upload; nothing was restored",
                ));
            }
            other => {
                return Err(ToolError::invalid(format!(
                    "a restore stream takes `data` and `complete` chunks, not `{other}`; nothing was restored"
                )));
            }
        }
    };
    let sha = hex(&digest.finalize());
    if claimed_size != size || claimed_sha != sha {
        return Err(ToolError::invalid(format!(
            "the upload does not match its complete chunk: {size} bytes with SHA-256 {sha} \
             arrived, {claimed_size} bytes with SHA-256 {claimed_sha} were announced; \
             nothing was restored"
        )));
    }
    file.sync_all()
        .await
        .map_err(|e| io_failed("write the restore file", e))?;
    drop(file);

    // Checked and installed even if the caller leaves now: its upload was complete.
    let room = call.room.clone();
    let path = tmp.path.clone();
    tokio::task::spawn_blocking(move || {
        check_database(&path)?;
        RoomDatabase::of(&room)?.install_sqlite(&ns, &name, &path)
    })
    .await
    .map_err(|e| ToolError::new(OPERATION_FAILED, format!("the restore task failed: {e}")))??;
    drop(tmp);
    let _ = stream.send(&complete_chunk(size, &sha)).await;
    stream.close().await;
    Ok(Reply::Streamed)
}

/// Whether the file at `path` is a sound SQLite database: its header, `integrity_check` and
/// `foreign_key_check`. Leaves it a single file in rollback-journal mode (fsynced).
fn check_database(path: &Path) -> Result<(), ToolError> {
    let not_sqlite = || {
        ToolError::invalid(
            "the upload is not a SQLite database (it lacks the `SQLite format 3` header); nothing was restored",
        )
    };
    let mut head = [0u8; 100];
    {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| io_failed("read the restore file", e))?;
        f.read_exact(&mut head).map_err(|_| not_sqlite())?;
    }
    if !head.starts_with(b"SQLite format 3\0") {
        return Err(not_sqlite());
    }
    let unsound = |why: String| {
        ToolError::invalid(format!(
            "the upload is not a sound SQLite database: {why}; nothing was restored"
        ))
    };
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        rusqlite::Connection::open_with_flags(path, flags).map_err(|e| unsound(e.to_string()))?;
    let run = || -> rusqlite::Result<(Vec<String>, Vec<String>)> {
        conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_ATTACHED, 0)?;
        conn.pragma_update(None, "trusted_schema", "OFF")?;
        // A file copied from a WAL database says so in its header; make it standalone.
        conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
        let mut stmt = conn.prepare(&format!("PRAGMA integrity_check({MAX_PROBLEMS})"))?;
        let integrity = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
        let mut rows = stmt.query([])?;
        let mut broken = Vec::new();
        while let Some(r) = rows.next()? {
            if broken.len() == MAX_PROBLEMS {
                break;
            }
            let (table, rowid, parent) = (
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, String>(2)?,
            );
            broken.push(match rowid {
                Some(id) => format!("row {id} of `{table}` refers to a missing `{parent}` row"),
                None => format!("a row of `{table}` refers to a missing `{parent}` row"),
            });
        }
        Ok((integrity, broken))
    };
    let (integrity, broken) = run().map_err(|e| unsound(e.to_string()))?;
    if integrity != ["ok"] {
        return Err(unsound(integrity.join("; ")));
    }
    if !broken.is_empty() {
        return Err(unsound(format!(
            "foreign keys are broken: {}",
            broken.join("; ")
        )));
    }
    drop(conn);
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_failed("write the restore file", e))
}
