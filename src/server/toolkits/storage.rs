//! `storage`: the room's files. exists/stat/list/move/delete/download_url are unary; upload
//! and download are pull-driven streams (protocol doc §7.3). Changes are pushed to everyone
//! in the room as `storage.file.updated|deleted|moved`.

use serde_json::{Map, Value, json};

use super::stream::{Chunk, binary_kind, next_chunk};
use crate::auth::scope::StorageGrant;
use crate::protocol::Content;
use crate::protocol::error_codes::{
    INVALID_REQUEST, OPERATION_FAILED, STORAGE_ALREADY_EXISTS, STORAGE_INVALID_PATH,
    STORAGE_NOT_FOUND, STORAGE_RECURSIVE_REQUIRED,
};
use crate::server::call::{
    Reply, ToolCall, ToolError, ToolResult, arg_bool, arg_str, empty, json_reply,
};
use crate::server::room_files::{
    announce_deleted, announce_moved, announce_updated, blocking, entry_json,
};
use crate::store::files::{self, FileError, Upload};

use super::spec::{ANSWERS_EMPTY, ANSWERS_STREAM, Arg, STREAM, Tool, Ty, opt, req, tool};

pub(crate) const TOOLKIT: super::Toolkit = super::Toolkit::new(
    "storage",
    "The room's shared files",
    &crate::auth::check::STORAGE,
    TOOLS,
    |call| Box::pin(invoke(call)),
)
// Paths are checked first (a bad path is 3004, not a denial), then authorised.
.authorizes_itself();

const PATH: Arg = req(
    "path",
    Ty::Str,
    "a path in the room's storage, e.g. `notes/today.md`",
);

const TOOLS: &[Tool] = &[
    tool("exists", "Whether a file or folder exists", &[PATH]),
    tool("stat", "Size, kind and times of a file or folder", &[PATH]),
    tool("list", "The entries of a folder", &[PATH]),
    tool(
        "upload",
        "Write a file (streamed)",
        &[
            PATH,
            opt("overwrite", Ty::Bool, "replace a file already there").or("false"),
            opt("name", Ty::Str, "the file's name as the uploader knows it"),
            opt("mime_type", Ty::Str, "the file's MIME type"),
            opt(
                "size",
                Ty::Int,
                "the file's size in bytes, checked against what arrives",
            ),
        ],
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM),
    tool(
        "download",
        "Read a file (streamed)",
        &[PATH, opt("chunk_size", Ty::Int, "bytes per data chunk")],
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM),
    tool(
        "download_url",
        "An expiring HTTP URL for a file",
        &[
            PATH,
            opt(
                "download",
                Ty::Bool,
                "serve it as an attachment (save as) rather than inline",
            )
            .or("false"),
        ],
    ),
    tool(
        "delete",
        "Delete a file or folder",
        &[
            PATH,
            opt(
                "recursive",
                Ty::Bool,
                "delete a folder with everything in it",
            )
            .or("false"),
        ],
    )
    .answers(ANSWERS_EMPTY)
    .writes(),
    tool(
        "move",
        "Move or rename a file or folder",
        &[
            req("source_path", Ty::Str, "the file or folder to move"),
            req("destination_path", Ty::Str, "where it goes"),
            opt("overwrite", Ty::Bool, "replace what is at the destination").or("false"),
        ],
    )
    .answers(ANSWERS_EMPTY)
    .writes(),
];

/// Bytes asked for per upload pull.
const UPLOAD_PULL_SIZE: u64 = 1024 * 1024;
/// Bounds on the chunk size a downloader may ask for.
const MAX_DOWNLOAD_CHUNK: u64 = 4 * 1024 * 1024;
/// Lifetime of a download URL.
pub(crate) const DOWNLOAD_URL_TTL_SECS: u64 = 3600;

impl From<FileError> for ToolError {
    fn from(e: FileError) -> ToolError {
        let code = match &e {
            FileError::InvalidPath { .. } => STORAGE_INVALID_PATH,
            FileError::NotFound(_) => STORAGE_NOT_FOUND,
            FileError::RecursiveRequired(_) => STORAGE_RECURSIVE_REQUIRED,
            FileError::AlreadyExists(_) => STORAGE_ALREADY_EXISTS,
            FileError::IsFolder(_)
            | FileError::NotFolder(_)
            | FileError::TooLarge { .. }
            | FileError::SizeMismatch { .. } => INVALID_REQUEST,
            FileError::Io { .. } => OPERATION_FAILED,
        };
        ToolError::new(code, e.to_string())
    }
}

fn grant(call: &ToolCall) -> Option<&StorageGrant> {
    call.caller.scope.as_ref().and_then(|s| s.storage.as_ref())
}

/// The normalised `key` argument (3004 when it cannot be a room path).
fn path_arg(args: &Value, key: &str) -> Result<String, ToolError> {
    Ok(files::normalize(arg_str(args, key)?)?)
}

pub(crate) async fn invoke(call: &mut ToolCall) -> ToolResult {
    match call.tool.as_str() {
        // Called as unary, these would wait for a start chunk that can never come.
        "upload" | "download" if call.requests.is_none() => {
            let args = call.json_args()?;
            call.authorize(&json!({ "path": path_arg(&args, "path")? }))?;
            return Err(ToolError::invalid(format!(
                "storage.{} is a streaming call: send its arguments as the start chunk of a request stream",
                call.tool
            )));
        }
        "upload" => return upload(call).await,
        "download" => return download(call).await,
        _ => {}
    }
    if call.requests.is_some() {
        return Err(ToolError::invalid(format!(
            "storage.{} is a unary call; send its arguments as JSON",
            call.tool
        )));
    }
    let args = call.json_args()?;
    let room = call.room.clone();
    let by = call.caller.id.clone();
    match call.tool.as_str() {
        "exists" => {
            let path = path_arg(&args, "path")?;
            call.authorize(&json!({ "path": path }))?;
            let exists = blocking(&room, move |s| s.exists(&path)).await?;
            json_reply(json!({ "exists": exists }))
        }
        "stat" => {
            let path = path_arg(&args, "path")?;
            call.authorize(&json!({ "path": path }))?;
            let entry = blocking(&room, move |s| s.stat(&path)).await?;
            match entry {
                None => json_reply(json!({"exists": false})),
                Some(e) => {
                    let mut m = entry_json(&e);
                    m.insert("exists".into(), json!(true));
                    json_reply(Value::Object(m))
                }
            }
        }
        "list" => {
            let path = path_arg(&args, "path")?;
            // A folder on the way down to a listable subtree may be listed, filtered.
            let filtered = match grant(call) {
                Some(g) if g.can_list_directory(&path) => Some(g.clone()),
                _ => {
                    call.authorize(&json!({ "path": path }))?;
                    None
                }
            };
            let dir = path.clone();
            let entries = blocking(&room, move |s| s.list(&dir)).await?;
            let files: Vec<Value> = entries
                .iter()
                .filter(|e| {
                    let child = join(&path, &e.name);
                    filtered
                        .as_ref()
                        .is_none_or(|g| g.can_list(&child) || g.can_list_directory(&child))
                })
                .map(|e| Value::Object(entry_json(e)))
                .collect();
            json_reply(json!({ "files": files }))
        }
        "delete" => {
            let path = path_arg(&args, "path")?;
            let recursive = arg_bool(&args, "recursive", false)?;
            call.authorize(&json!({"path": path, "recursive": recursive}))?;
            let p = path.clone();
            blocking(&room, move |s| s.delete(&p, recursive)).await?;
            announce_deleted(&room, &path, &by);
            empty()
        }
        "move" => {
            let from = path_arg(&args, "source_path")?;
            let to = path_arg(&args, "destination_path")?;
            let overwrite = arg_bool(&args, "overwrite", false)?;
            call.authorize(&json!({"source_path": from, "destination_path": to}))?;
            let (f, t) = (from.clone(), to.clone());
            blocking(&room, move |s| s.rename(&f, &t, overwrite)).await?;
            announce_moved(&room, &from, &to, &by);
            empty()
        }
        "download_url" => {
            let path = path_arg(&args, "path")?;
            let download = arg_bool(&args, "download", false)?;
            call.authorize(&json!({ "path": path }))?;
            let p = path.clone();
            match blocking(&room, move |s| s.stat(&p)).await? {
                None => return Err(FileError::NotFound(path).into()),
                Some(e) if e.is_folder => return Err(FileError::IsFolder(path).into()),
                Some(_) => {}
            }
            let url = super::super::files_api::download_url(
                &call.caller.room_url,
                &room,
                &path,
                download,
                DOWNLOAD_URL_TTL_SECS,
            )
            .map_err(|e| ToolError::new(OPERATION_FAILED, e))?;
            json_reply(json!({ "url": url }))
        }
        other => Err(ToolError::invalid(format!(
            "storage.{other} is not supported"
        ))),
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

async fn start_chunk(call: &mut ToolCall) -> Result<Option<Map<String, Value>>, ToolError> {
    match next_chunk(call).await {
        Chunk::Content(c) => Ok(Some(binary_kind(c, "start")?.0)),
        Chunk::Closed => Err(ToolError::invalid(format!(
            "storage.{} needs a start chunk before the stream closes",
            call.tool
        ))),
        Chunk::Gone => Ok(None),
    }
}

async fn upload(call: &mut ToolCall) -> ToolResult {
    let Some(start) = start_chunk(call).await? else {
        return Ok(Reply::Streamed);
    };
    let start = Value::Object(start);
    let path = path_arg(&start, "path")?;
    let overwrite = arg_bool(&start, "overwrite", false)?;
    let size =
        match start.get("size") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| {
                ToolError::invalid("`size` must be a whole number of bytes or null")
            })?),
        };
    call.authorize(&json!({ "path": path }))?;
    let room = call.room.clone();
    let p = path.clone();
    let mut upload: Upload = blocking(&room, move |s| s.begin_upload(&p, overwrite, size)).await?;
    let stream = call.open_stream().await?;
    let pull = Content::binary(
        json!({"kind": "pull", "chunk_size": UPLOAD_PULL_SIZE}),
        vec![],
    );
    if stream.send(&pull).await.is_err() {
        return Ok(Reply::Streamed);
    }
    loop {
        match next_chunk(call).await {
            Chunk::Content(c) => {
                let (_, data) = binary_kind(c, "data")?;
                if data.len() as u64 > UPLOAD_PULL_SIZE {
                    return Err(ToolError::invalid(format!(
                        "a data chunk carried {} bytes; at most {UPLOAD_PULL_SIZE} were asked for",
                        data.len()
                    )));
                }
                // Ask for the next chunk before writing this one, so disk and network overlap.
                if stream.send(&pull).await.is_err() {
                    return Ok(Reply::Streamed);
                }
                let (u, result) = tokio::task::spawn_blocking(move || {
                    let r = upload.write(&data);
                    (upload, r)
                })
                .await
                .map_err(|e| ToolError::new(OPERATION_FAILED, format!("upload failed: {e}")))?;
                upload = u;
                result?;
            }
            Chunk::Closed => break,
            // Dropping the upload removes its temp file: the old file (or none) stays.
            Chunk::Gone => return Ok(Reply::Streamed),
        }
    }
    tokio::task::spawn_blocking(move || upload.commit(size))
        .await
        .map_err(|e| ToolError::new(OPERATION_FAILED, format!("upload failed: {e}")))??;
    announce_updated(&room, &path, &call.caller.id);
    crate::server::actions::log(call, format!("uploaded {path}"));
    stream.close().await;
    Ok(Reply::Streamed)
}

async fn download(call: &mut ToolCall) -> ToolResult {
    let Some(start) = start_chunk(call).await? else {
        return Ok(Reply::Streamed);
    };
    let start = Value::Object(start);
    let path = path_arg(&start, "path")?;
    let chunk_size = match start.get("chunk_size") {
        None | Some(Value::Null) => 64 * 1024,
        Some(v) => v
            .as_u64()
            .filter(|n| *n > 0)
            .ok_or_else(|| ToolError::invalid("`chunk_size` must be a positive number of bytes"))?,
    }
    .min(MAX_DOWNLOAD_CHUNK) as usize;
    call.authorize(&json!({ "path": path }))?;
    let room = call.room.clone();
    let p = path.clone();
    let (file, size) = blocking(&room, move |s| s.open_read(&p)).await?;
    let stream = call.open_stream().await?;
    let name = files::base_name(&path).to_string();
    let head = json!({"kind": "start", "name": name, "mime_type": files::guess_mime_type(&name), "size": size});
    if stream.send(&Content::binary(head, vec![])).await.is_err() {
        return Ok(Reply::Streamed);
    }
    let mut file = Some(file);
    let mut sent: u64 = 0;
    // Read ahead: the next chunk is read while the client asks for it.
    let mut next = read_chunk(&mut file, chunk_size, size - sent).await;
    while sent < size {
        match next_chunk(call).await {
            Chunk::Content(c) => {
                binary_kind(c, "pull")?;
            }
            Chunk::Closed | Chunk::Gone => return Ok(Reply::Streamed),
        }
        let data = next?;
        if data.is_empty() {
            return Err(ToolError::new(
                OPERATION_FAILED,
                format!("`{path}` became shorter while it was being read; download it again"),
            ));
        }
        sent += data.len() as u64;
        let chunk = Content::binary(json!({"kind": "data"}), data);
        if stream.send(&chunk).await.is_err() {
            return Ok(Reply::Streamed);
        }
        next = read_chunk(&mut file, chunk_size, size - sent).await;
    }
    stream.close().await;
    Ok(Reply::Streamed)
}

/// Reads up to `max` bytes (at most `left`) from the file on a blocking thread.
async fn read_chunk(
    file: &mut Option<std::fs::File>,
    max: usize,
    left: u64,
) -> Result<Vec<u8>, ToolError> {
    let want = (max as u64).min(left) as usize;
    if want == 0 {
        return Ok(Vec::new());
    }
    let Some(mut f) = file.take() else {
        return Ok(Vec::new());
    };
    let (f, result) = tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; want];
        let mut filled = 0;
        let r = loop {
            match std::io::Read::read(&mut f, &mut buf[filled..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == want {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        buf.truncate(filled);
        (f, r.map(|_| buf))
    })
    .await
    .map_err(|e| ToolError::new(OPERATION_FAILED, format!("download failed: {e}")))?;
    *file = Some(f);
    result.map_err(|e| ToolError::new(OPERATION_FAILED, format!("reading the file failed: {e}")))
}
