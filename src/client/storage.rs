//! The `storage` toolkit from the client side: unary calls, pull-driven upload and download
//! streams that never hold a whole file in memory, and the `storage.file.*` events.

use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{ClientError, RoomClient, RoomEvent, ToolStream};
use crate::protocol::Content;

/// Bytes per download pull.
const DOWNLOAD_CHUNK: u64 = 1024 * 1024;
/// Largest upload chunk sent whatever the server asks for.
const MAX_UPLOAD_CHUNK: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageEntry {
    pub name: String,
    pub is_folder: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

impl StorageEntry {
    fn from_json(v: &Value) -> Option<StorageEntry> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Some(StorageEntry {
            name: s("name")?,
            is_folder: v.get("is_folder")?.as_bool()?,
            size: v.get("size").and_then(Value::as_u64),
            created_at: s("created_at"),
            updated_at: s("updated_at"),
        })
    }
}

/// A change to the room's files, pushed by the server to everyone in the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageEvent {
    Updated {
        path: String,
        participant_id: String,
    },
    Deleted {
        path: String,
        participant_id: String,
    },
    Moved {
        source_path: String,
        destination_path: String,
        participant_id: String,
    },
}

impl StorageEvent {
    /// The storage event carried by a room event, if it is one.
    pub fn from_room_event(event: &RoomEvent) -> Option<StorageEvent> {
        let RoomEvent::Other { msg_type, header } = event else {
            return None;
        };
        let s = |k: &str| header.get(k).and_then(Value::as_str).map(str::to_string);
        match msg_type.as_str() {
            "storage.file.updated" => Some(StorageEvent::Updated {
                path: s("path")?,
                participant_id: s("participant_id")?,
            }),
            "storage.file.deleted" => Some(StorageEvent::Deleted {
                path: s("path")?,
                participant_id: s("participant_id")?,
            }),
            "storage.file.moved" => Some(StorageEvent::Moved {
                source_path: s("source_path")?,
                destination_path: s("destination_path")?,
                participant_id: s("participant_id")?,
            }),
            _ => None,
        }
    }
}

/// What a download reported about the file before its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadInfo {
    pub name: String,
    pub mime_type: String,
    pub size: u64,
}

/// Called with (bytes done, total bytes when known) as a transfer advances.
pub type Progress<'a> = &'a mut (dyn FnMut(u64, Option<u64>) + Send);

pub struct StorageClient {
    room: RoomClient,
}

fn protocol(tool: &str, what: impl std::fmt::Display) -> ClientError {
    ClientError::Protocol(format!("storage.{tool}: {what}"))
}

fn io_error(what: &str, e: std::io::Error) -> ClientError {
    ClientError::Io(format!("{what}: {e}"))
}

impl StorageClient {
    pub(super) fn new(room: RoomClient) -> StorageClient {
        StorageClient { room }
    }

    async fn call(&self, tool: &str, args: Value) -> Result<Content, ClientError> {
        self.room.invoke("storage", tool, Content::Json(args)).await
    }

    async fn call_json(&self, tool: &str, args: Value) -> Result<Value, ClientError> {
        match self.call(tool, args).await? {
            Content::Json(v) => Ok(v),
            other => Err(protocol(tool, format!("answered {}", other.kind()))),
        }
    }

    pub async fn exists(&self, path: &str) -> Result<bool, ClientError> {
        let v = self.call_json("exists", json!({ "path": path })).await?;
        v.get("exists")
            .and_then(Value::as_bool)
            .ok_or_else(|| protocol("exists", "answer has no `exists`"))
    }

    /// The file or folder at `path`, None when there is nothing there.
    pub async fn stat(&self, path: &str) -> Result<Option<StorageEntry>, ClientError> {
        let v = self.call_json("stat", json!({ "path": path })).await?;
        if v.get("exists").and_then(Value::as_bool) != Some(true) {
            return Ok(None);
        }
        StorageEntry::from_json(&v)
            .map(Some)
            .ok_or_else(|| protocol("stat", "answer lacks `name` or `is_folder`"))
    }

    pub async fn list(&self, path: &str) -> Result<Vec<StorageEntry>, ClientError> {
        let v = self.call_json("list", json!({ "path": path })).await?;
        let files = v
            .get("files")
            .and_then(Value::as_array)
            .ok_or_else(|| protocol("list", "answer has no `files`"))?;
        files
            .iter()
            .map(|f| StorageEntry::from_json(f).ok_or_else(|| protocol("list", "malformed entry")))
            .collect()
    }

    pub async fn delete(&self, path: &str, recursive: bool) -> Result<(), ClientError> {
        self.call("delete", json!({"path": path, "recursive": recursive}))
            .await
            .map(|_| ())
    }

    pub async fn move_path(
        &self,
        from: &str,
        to: &str,
        overwrite: bool,
    ) -> Result<(), ClientError> {
        self.call(
            "move",
            json!({"source_path": from, "destination_path": to, "overwrite": overwrite}),
        )
        .await
        .map(|_| ())
    }

    /// An expiring HTTP URL that serves the file without a token.
    pub async fn download_url(&self, path: &str) -> Result<String, ClientError> {
        let v = self
            .call_json("download_url", json!({"path": path, "download": null}))
            .await?;
        v.get("url")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| protocol("download_url", "answer has no `url`"))
    }

    /// Uploads everything `reader` yields to `path`, as the server pulls it. `size`, when
    /// known, lets the server refuse an oversized file at once and check the total.
    pub async fn upload<R: AsyncRead + Unpin>(
        &self,
        path: &str,
        reader: &mut R,
        size: Option<u64>,
        overwrite: bool,
        progress: Progress<'_>,
    ) -> Result<(), ClientError> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let mime = crate::protocol::files::guess_mime_type(name);
        let start = Content::binary(
            json!({"kind": "start", "path": path, "overwrite": overwrite, "name": name,
                   "mime_type": mime, "size": size}),
            vec![],
        );
        let mut stream = self
            .room
            .invoke_stream("storage", "upload", Some(start))
            .await?;
        let mut sent: u64 = 0;
        let mut exhausted = false;
        loop {
            let chunk = match stream.next().await {
                None => break,
                Some(chunk) => chunk?,
            };
            let want = match &chunk {
                Content::Binary { headers, .. }
                    if headers.get("kind").and_then(Value::as_str) == Some("pull") =>
                {
                    headers
                        .get("chunk_size")
                        .and_then(Value::as_u64)
                        .filter(|n| *n > 0)
                        .unwrap_or(64 * 1024)
                        .min(MAX_UPLOAD_CHUNK)
                }
                other => {
                    stream.close().await;
                    return Err(protocol(
                        "upload",
                        format!("unexpected {} chunk", other.kind()),
                    ));
                }
            };
            if exhausted {
                continue; // a pull sent ahead of our close
            }
            let data = read_up_to(reader, want as usize)
                .await
                .map_err(|e| io_error("reading the upload source", e))?;
            if data.is_empty() {
                exhausted = true;
                stream.close().await;
                continue;
            }
            sent += data.len() as u64;
            stream
                .send(Content::binary(json!({"kind": "data"}), data))
                .await?;
            progress(sent, size);
        }
        finish(&stream, &self.room, exhausted, "upload")
    }

    /// Uploads a local file, reporting progress against its size.
    pub async fn upload_file(
        &self,
        path: &str,
        local: &Path,
        overwrite: bool,
        progress: Progress<'_>,
    ) -> Result<(), ClientError> {
        let mut file = tokio::fs::File::open(local)
            .await
            .map_err(|e| io_error(&local.display().to_string(), e))?;
        let size = file
            .metadata()
            .await
            .map_err(|e| io_error(&local.display().to_string(), e))?
            .len();
        self.upload(path, &mut file, Some(size), overwrite, progress)
            .await
    }

    /// Downloads `path` into `writer`, one pulled chunk at a time.
    pub async fn download<W: AsyncWrite + Unpin>(
        &self,
        path: &str,
        writer: &mut W,
        progress: Progress<'_>,
    ) -> Result<DownloadInfo, ClientError> {
        let start = Content::binary(
            json!({"kind": "start", "path": path, "chunk_size": DOWNLOAD_CHUNK}),
            vec![],
        );
        let (mut stream, info) = self.open_download(start).await?;
        let pull = || Content::binary(json!({"kind": "pull"}), vec![]);
        let mut got: u64 = 0;
        if info.size > 0 {
            stream.send(pull()).await?;
        }
        progress(0, Some(info.size));
        while let Some(chunk) = stream.next().await {
            let data = match chunk? {
                Content::Binary { headers, data }
                    if headers.get("kind").and_then(Value::as_str) == Some("data") =>
                {
                    data
                }
                other => return Err(protocol("download", format!("unexpected {}", other.kind()))),
            };
            got += data.len() as u64;
            if got > info.size {
                return Err(protocol(
                    "download",
                    "the server sent more than the file's size",
                ));
            }
            if got < info.size {
                stream.send(pull()).await?;
            }
            writer
                .write_all(&data)
                .await
                .map_err(|e| io_error("writing the download", e))?;
            progress(got, Some(info.size));
        }
        if got != info.size {
            return Err(closed_or(
                &self.room,
                "download",
                format!("ended after {got} of {} bytes", info.size),
            ));
        }
        writer
            .flush()
            .await
            .map_err(|e| io_error("writing the download", e))?;
        Ok(info)
    }

    /// Opens a download stream with `start` and reads its start chunk (name, type, size).
    async fn open_download(
        &self,
        start: Content,
    ) -> Result<(super::ToolStream, DownloadInfo), ClientError> {
        let mut stream = self
            .room
            .invoke_stream("storage", "download", Some(start))
            .await?;
        let info = match stream.next().await {
            Some(Ok(Content::Binary { headers, .. }))
                if headers.get("kind").and_then(Value::as_str) == Some("start") =>
            {
                let s = |k: &str| headers.get(k).and_then(Value::as_str).map(str::to_string);
                DownloadInfo {
                    name: s("name").unwrap_or_default(),
                    mime_type: s("mime_type").unwrap_or_default(),
                    size: headers
                        .get("size")
                        .and_then(Value::as_u64)
                        .ok_or_else(|| protocol("download", "start chunk has no size"))?,
                }
            }
            Some(Err(e)) => return Err(e),
            Some(Ok(other)) => {
                return Err(protocol(
                    "download",
                    format!("started with {}", other.kind()),
                ));
            }
            None => return Err(closed_or(&self.room, "download", "ended before it started")),
        };
        Ok((stream, info))
    }

    /// The file's first `max` bytes (at most 4 MiB, what the server sends per pull) and what
    /// the download reported about it: one pull, then the stream is closed, so a preview of a
    /// big file never reads the rest of it.
    pub async fn read_head(
        &self,
        path: &str,
        max: u64,
    ) -> Result<(DownloadInfo, Vec<u8>), ClientError> {
        let max = max.max(1);
        let start = Content::binary(
            json!({"kind": "start", "path": path, "chunk_size": max}),
            vec![],
        );
        let (mut stream, info) = self.open_download(start).await?;
        if info.size == 0 {
            stream.close().await;
            return Ok((info, Vec::new()));
        }
        stream
            .send(Content::binary(json!({"kind": "pull"}), vec![]))
            .await?;
        let mut data = match stream.next().await {
            Some(Ok(Content::Binary { headers, data }))
                if headers.get("kind").and_then(Value::as_str) == Some("data") =>
            {
                data
            }
            Some(Err(e)) => return Err(e),
            Some(Ok(other)) => {
                return Err(protocol("download", format!("unexpected {}", other.kind())));
            }
            None => return Err(closed_or(&self.room, "download", "ended before any data")),
        };
        stream.close().await;
        data.truncate(max as usize);
        Ok((info, data))
    }

    /// Downloads to a local file: written next to it under a temp name, then renamed, so an
    /// interrupted download never leaves a truncated file behind.
    pub async fn download_file(
        &self,
        path: &str,
        local: &Path,
        progress: Progress<'_>,
    ) -> Result<DownloadInfo, ClientError> {
        let dir = local
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let base = local
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "download".into());
        let temp = dir.join(format!(".{base}.roomdeck-part"));
        let mut file = tokio::fs::File::create(&temp)
            .await
            .map_err(|e| io_error(&temp.display().to_string(), e))?;
        let result = self.download(path, &mut file, progress).await;
        let result = match result {
            Ok(info) => match file.sync_all().await {
                Ok(()) => tokio::fs::rename(&temp, local)
                    .await
                    .map(|_| info)
                    .map_err(|e| io_error(&local.display().to_string(), e)),
                Err(e) => Err(io_error(&temp.display().to_string(), e)),
            },
            Err(e) => Err(e),
        };
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        result
    }
}

/// After the server closed the stream: a clean end, unless the connection itself went away.
fn finish(
    _stream: &ToolStream,
    room: &RoomClient,
    exhausted: bool,
    tool: &str,
) -> Result<(), ClientError> {
    if room.is_closed() {
        return Err(ClientError::Closed);
    }
    if !exhausted {
        return Err(protocol(
            tool,
            "the server ended the upload before all of it was sent",
        ));
    }
    Ok(())
}

fn closed_or(room: &RoomClient, tool: &str, what: impl std::fmt::Display) -> ClientError {
    if room.is_closed() {
        ClientError::Closed
    } else {
        protocol(tool, what)
    }
}

/// Reads until `max` bytes or the end of the source.
async fn read_up_to<R: AsyncRead + Unpin>(reader: &mut R, max: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; max];
    let mut filled = 0;
    while filled < max {
        let n = reader.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    buf.truncate(filled);
    Ok(buf)
}
