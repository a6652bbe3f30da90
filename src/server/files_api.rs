//! HTTP file routes on the room server's own port:
//!
//! * `GET /config`: the deployment config the official CLI reads; `domains.files` points back
//!   here, so `meshagent room storage …` talks to this server over plain HTTP.
//! * `/files/{project}/rooms/{room}/{path}`: the REST Files API subset of the SDK's `files.py`
//!   (GET / HEAD / PUT?overwrite= / DELETE?recursive= / POST?action=mkdir|copy|move,
//!   `?list&prefix=&limit=`, `POST /files/v1/presign` for GET/HEAD), authenticated with a
//!   participant token (`Authorization: Bearer`) and the same storage grants as the toolkit.
//! * `/download/{room}/{path}?token=`: the signed, expiring URLs that `storage.download_url`
//!   and presign hand out.

// Handlers answer errors as ready HTTP responses; boxing them would only add noise.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use futures_util::StreamExt;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ServerState;
use super::room::Room;
use super::room_files::{
    announce_deleted, announce_moved, announce_updated, blocking, entry_json, iso,
};
use crate::auth::ApiScope;
use crate::auth::scope::StorageGrant;
use crate::store::files::{self, FileError};
use crate::store::valid_room_name;

pub(crate) fn routes() -> Router<Arc<ServerState>> {
    Router::new()
        .route("/config", get(config))
        .route("/files/v1/presign", post(presign))
        .route("/files/{project}/rooms/{room}", any(files_root))
        .route("/files/{project}/rooms/{room}/", any(files_root))
        .route("/files/{project}/rooms/{room}/{*path}", any(files_path))
        .route("/download/{room}/{*path}", get(signed_download))
}

// ---------------------------------------------------------------------------------------
// Signed download URLs

/// Signs download URLs with a key derived from the server secret, so a URL token can never
/// pass for a participant token (or the other way round).
#[derive(Clone, Default)]
pub(crate) struct UrlSigner {
    key: Arc<Vec<u8>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct UrlClaims {
    /// Always "roomdeck-download".
    typ: String,
    room: String,
    path: String,
    exp: u64,
    #[serde(default)]
    dl: bool,
}

impl UrlSigner {
    pub(crate) fn new(secret: &str) -> UrlSigner {
        let mut key = b"roomdeck download url\0".to_vec();
        key.extend_from_slice(secret.as_bytes());
        UrlSigner { key: Arc::new(key) }
    }

    fn sign(&self, room: &str, path: &str, ttl: u64, dl: bool) -> Result<(String, u64), String> {
        if self.key.is_empty() {
            return Err("this server has no secret to sign download URLs with".into());
        }
        let exp = now_secs() + ttl;
        let claims = UrlClaims {
            typ: "roomdeck-download".into(),
            room: room.into(),
            path: path.into(),
            exp,
            dl,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.key),
        )
        .map(|t| (t, exp))
        .map_err(|e| format!("could not sign the download URL: {e}"))
    }

    fn verify(&self, token: &str) -> Result<UrlClaims, String> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<UrlClaims>(
            token,
            &DecodingKey::from_secret(&self.key),
            &validation,
        )
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                "this download link has expired; ask for a new one".to_string()
            }
            _ => "this download link is not valid for this server".to_string(),
        })?;
        if data.claims.typ != "roomdeck-download" {
            return Err("this download link is not valid for this server".into());
        }
        Ok(data.claims)
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// `http(s)://host` from the room URL a participant connected with.
fn http_base(room_url: &str) -> String {
    let (scheme, rest) = match room_url.split_once("://") {
        Some(("wss", rest)) | Some(("https", rest)) => ("https", rest),
        Some((_, rest)) => ("http", rest),
        None => ("http", room_url),
    };
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}")
}

/// Percent-encodes a path, keeping `/` and the unreserved characters.
pub(crate) fn quote_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A signed URL on this server that serves `path` of `room` until `ttl` seconds from now.
pub(crate) fn download_url(
    room_url: &str,
    room: &Room,
    path: &str,
    download: bool,
    ttl: u64,
) -> Result<String, String> {
    let (token, _) = room.url_signer.sign(&room.name, path, ttl, download)?;
    Ok(format!(
        "{}/download/{}/{}?token={token}",
        http_base(room_url),
        quote_path(&room.name),
        quote_path(path)
    ))
}

async fn signed_download(
    State(state): State<Arc<ServerState>>,
    Path((room, path)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
) -> Response {
    let Some(token) = query.get("token") else {
        return error(
            StatusCode::FORBIDDEN,
            "this download link has no token".into(),
        );
    };
    let room_handle = match open_room(&state, &room).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let claims = match room_handle.url_signer.verify(token) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::FORBIDDEN, e),
    };
    let path = match files::normalize(&path) {
        Ok(p) => p,
        Err(e) => return file_error(e),
    };
    if claims.room != room || claims.path != path {
        return error(
            StatusCode::FORBIDDEN,
            "this download link is for another file".into(),
        );
    }
    serve_file(&room_handle, &path, method == Method::HEAD, claims.dl).await
}

// ---------------------------------------------------------------------------------------
// /config

async fn config(headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let base = format!("http://{host}");
    axum::Json(json!({
        "domains": {"api": base, "files": format!("{base}/files")},
        "reserved_route_domains": [],
        "version": "0.56.0",
    }))
    .into_response()
}

// ---------------------------------------------------------------------------------------
// Errors

fn error(status: StatusCode, message: String) -> Response {
    (status, message).into_response()
}

fn file_error(e: FileError) -> Response {
    let status = match &e {
        FileError::InvalidPath { .. }
        | FileError::IsFolder(_)
        | FileError::NotFolder(_)
        | FileError::SizeMismatch { .. } => StatusCode::BAD_REQUEST,
        FileError::NotFound(_) => StatusCode::NOT_FOUND,
        FileError::RecursiveRequired(_) | FileError::AlreadyExists(_) => StatusCode::CONFLICT,
        FileError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        FileError::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error(status, e.to_string())
}

async fn open_room(state: &ServerState, room: &str) -> Result<Arc<Room>, Response> {
    if !valid_room_name(room) {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("no room named {room:?}: names use letters, digits, '-', '_' and '.'"),
        ));
    }
    // The request holds the room open only while it runs; the idle timeout does the rest.
    state
        .rooms
        .lease(room)
        .await
        .map(|(room, _lease)| room)
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e))
}

// ---------------------------------------------------------------------------------------
// The Files API

/// The caller of a Files API request: verified token for this room.
struct Caller {
    name: String,
    scope: Option<ApiScope>,
}

impl Caller {
    fn check(&self, tool: &str, args: Value) -> Result<(), Response> {
        crate::auth::check::STORAGE
            .authorize(self.scope.as_ref(), "storage", tool, &args)
            .map_err(|d| {
                error(
                    StatusCode::FORBIDDEN,
                    format!("storage {tool} denied: {}", d.0),
                )
            })
    }

    fn grant(&self) -> Option<&StorageGrant> {
        self.scope.as_ref().and_then(|s| s.storage.as_ref())
    }

    /// Events name a participant; REST callers are not in the room, so use their name.
    fn event_id(&self) -> String {
        format!("files-api:{}", self.name)
    }
}

fn caller(state: &ServerState, headers: &HeaderMap, room: &str) -> Result<Caller, Response> {
    let token = super::http::bearer_token(state, headers, StatusCode::UNAUTHORIZED)
        .map_err(|(status, why)| error(status, why))?;
    if token.room() != Some(room) {
        return Err(error(
            StatusCode::FORBIDDEN,
            format!(
                "participant token is for room {:?}, not {room:?}",
                token.room().unwrap_or("(none)")
            ),
        ));
    }
    Ok(Caller {
        name: token.name.clone(),
        scope: token.api(),
    })
}

async fn files_root(
    state: State<Arc<ServerState>>,
    Path((project, room)): Path<(String, String)>,
    query: Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    files_request(state, project, room, String::new(), query, request).await
}

async fn files_path(
    state: State<Arc<ServerState>>,
    Path((project, room, path)): Path<(String, String, String)>,
    query: Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    files_request(state, project, room, path, query, request).await
}

fn flag(query: &HashMap<String, String>, key: &str, default: bool) -> Result<bool, Response> {
    match query.get(key).map(|v| v.to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if v == "true" || v == "1" || v.is_empty() => Ok(true),
        Some(v) if v == "false" || v == "0" => Ok(false),
        Some(v) => Err(error(
            StatusCode::BAD_REQUEST,
            format!("`{key}` must be true or false, not {v:?}"),
        )),
    }
}

async fn files_request(
    State(state): State<Arc<ServerState>>,
    _project: String,
    room_name: String,
    raw_path: String,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let who = match caller(&state, &headers, &room_name) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let room = match open_room(&state, &room_name).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let path = match files::normalize(&raw_path) {
        Ok(p) => p,
        Err(e) => return file_error(e),
    };
    let method = request.method().clone();
    let result = match method {
        Method::GET if query.contains_key("list") => list(&room, &who, &query).await,
        Method::GET if query.contains_key("permissions") => Err(error(
            StatusCode::NOT_IMPLEMENTED,
            "file permission listings are not supported by roomdeck".into(),
        )),
        Method::GET | Method::HEAD => {
            let head = method == Method::HEAD;
            let tool = if head { "stat" } else { "download" };
            match who.check(tool, json!({ "path": path })) {
                Ok(()) => Ok(serve_file(&room, &path, head, false).await),
                Err(r) => Err(r),
            }
        }
        Method::PUT => put(&room, &who, &path, &query, request).await,
        Method::DELETE => delete(&room, &who, &path, &query).await,
        Method::POST => post_action(&room, &who, &room_name, &path, &query, request).await,
        other => Err(error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{other} is not a Files API method"),
        )),
    };
    result.unwrap_or_else(|r| r)
}

async fn list(
    room: &Arc<Room>,
    who: &Caller,
    query: &HashMap<String, String>,
) -> Result<Response, Response> {
    let prefix = files::normalize(query.get("prefix").map(String::as_str).unwrap_or(""))
        .map_err(file_error)?;
    let limit: usize = match query.get("limit") {
        None => 1000,
        Some(l) => l
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    "`limit` must be between 1 and 1000".into(),
                )
            })?,
    };
    let offset: usize = match query.get("continuation_token") {
        None => 0,
        Some(t) => t.parse().map_err(|_| {
            error(
                StatusCode::BAD_REQUEST,
                "the continuation token is not one this server issued".into(),
            )
        })?,
    };
    let filtered = match who.grant() {
        Some(g) if g.can_list_directory(&prefix) => Some(g.clone()),
        _ => {
            who.check("list", json!({ "path": prefix }))?;
            None
        }
    };
    let dir = prefix.clone();
    let entries = blocking(room, move |s| s.list(&dir))
        .await
        .map_err(file_error)?;
    let visible: Vec<_> = entries
        .iter()
        .filter(|e| {
            let child = if prefix.is_empty() {
                e.name.clone()
            } else {
                format!("{prefix}/{}", e.name)
            };
            filtered
                .as_ref()
                .is_none_or(|g| g.can_list(&child) || g.can_list_directory(&child))
        })
        .collect();
    let page: Vec<Value> = visible
        .iter()
        .skip(offset)
        .take(limit)
        .map(|e| Value::Object(entry_json(e)))
        .collect();
    let next = (offset + limit < visible.len()).then(|| (offset + limit).to_string());
    Ok(axum::Json(json!({"entries": page, "continuation_token": next})).into_response())
}

/// GET / HEAD of a file (HEAD also answers for folders, with `X-Meshagent-Is-Folder`).
async fn serve_file(room: &Arc<Room>, path: &str, head: bool, attachment: bool) -> Response {
    let p = path.to_string();
    let entry = match blocking(room, move |s| s.stat(&p)).await {
        Ok(Some(e)) => e,
        Ok(None) => return file_error(FileError::NotFound(path.to_string())),
        Err(e) => return file_error(e),
    };
    let name = files::base_name(path).to_string();
    let mime = if entry.is_folder {
        "application/x-directory"
    } else {
        files::guess_mime_type(&name)
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(
        "x-meshagent-is-folder",
        HeaderValue::from_static(if entry.is_folder { "true" } else { "false" }),
    );
    if let Some(t) = entry.updated_at {
        let secs = t
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_nanos();
        if let Ok(v) = HeaderValue::from_str(&format!("\"{:x}-{secs:x}\"", entry.size)) {
            headers.insert(header::ETAG, v);
        }
        if let Ok(v) = HeaderValue::from_str(&iso(t)) {
            headers.insert(header::LAST_MODIFIED, v);
        }
    }
    if attachment {
        let safe: String = name
            .chars()
            .map(|c| if c == '"' || c.is_control() { '_' } else { c })
            .collect();
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
            headers.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    if head {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(entry.size));
        return (StatusCode::OK, headers, Body::empty()).into_response();
    }
    if entry.is_folder {
        return file_error(FileError::IsFolder(path.to_string()));
    }
    let p = path.to_string();
    let (file, size) = match blocking(room, move |s| s.open_read(&p)).await {
        Ok(f) => f,
        Err(e) => return file_error(e),
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    let file = tokio::fs::File::from_std(file);
    let stream = futures_util::stream::unfold((file, size), |(mut file, left)| async move {
        use tokio::io::AsyncReadExt;
        if left == 0 {
            return None;
        }
        let mut buf = vec![0u8; (256 * 1024).min(left as usize)];
        match file.read(&mut buf).await {
            Ok(0) => Some((
                Err(std::io::Error::other(
                    "the file became shorter while it was sent",
                )),
                (file, 0),
            )),
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(axum::body::Bytes::from(buf)), (file, left - n as u64)))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    });
    (StatusCode::OK, headers, Body::from_stream(stream)).into_response()
}

async fn put(
    room: &Arc<Room>,
    who: &Caller,
    path: &str,
    query: &HashMap<String, String>,
    request: Request,
) -> Result<Response, Response> {
    let overwrite = flag(query, "overwrite", true)?;
    who.check("upload", json!({ "path": path }))?;
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let p = path.to_string();
    let mut upload = blocking(room, move |s| s.begin_upload(&p, overwrite, announced))
        .await
        .map_err(file_error)?;
    let mut body = request.into_body().into_data_stream();
    while let Some(chunk) = body.next().await {
        let data = chunk.map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                format!("the upload was interrupted: {e}"),
            )
        })?;
        let (u, r) = tokio::task::spawn_blocking(move || {
            let r = upload.write(&data);
            (upload, r)
        })
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        upload = u;
        r.map_err(file_error)?;
    }
    tokio::task::spawn_blocking(move || upload.commit(announced))
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(file_error)?;
    announce_updated(room, path, &who.event_id());
    Ok(StatusCode::CREATED.into_response())
}

async fn delete(
    room: &Arc<Room>,
    who: &Caller,
    path: &str,
    query: &HashMap<String, String>,
) -> Result<Response, Response> {
    let recursive = flag(query, "recursive", false)?;
    who.check("delete", json!({"path": path, "recursive": recursive}))?;
    let p = path.to_string();
    blocking(room, move |s| s.delete(&p, recursive))
        .await
        .map_err(file_error)?;
    announce_deleted(room, path, &who.event_id());
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct SourceTarget {
    #[allow(dead_code)]
    project_id: String,
    kind: String,
    name: String,
}

#[derive(Deserialize)]
struct SourceLocation {
    target: SourceTarget,
    path: String,
}

#[derive(Deserialize)]
struct ActionBody {
    source: Option<SourceLocation>,
    #[serde(default)]
    overwrite: bool,
}

async fn post_action(
    room: &Arc<Room>,
    who: &Caller,
    room_name: &str,
    path: &str,
    query: &HashMap<String, String>,
    request: Request,
) -> Result<Response, Response> {
    let action = query.get("action").map(String::as_str).unwrap_or("");
    if action == "mkdir" {
        who.check("upload", json!({ "path": path }))?;
        let p = path.to_string();
        blocking(room, move |s| s.mkdir(&p))
            .await
            .map_err(file_error)?;
        announce_updated(room, path, &who.event_id());
        return Ok(StatusCode::CREATED.into_response());
    }
    if action != "copy" && action != "move" {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("unknown action {action:?}; use mkdir, copy or move"),
        ));
    }
    let bytes = axum::body::to_bytes(request.into_body(), 64 * 1024)
        .await
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("unreadable body: {e}")))?;
    let body: ActionBody = serde_json::from_slice(&bytes).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("the {action} body must be {{\"source\": {{\"target\", \"path\"}}, \"overwrite\"}}: {e}"),
        )
    })?;
    let Some(source) = body.source else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("{action} needs a `source`"),
        ));
    };
    if source.target.kind != "room" || source.target.name != room_name {
        return Err(error(
            StatusCode::FORBIDDEN,
            format!("{action} works within one room; the source must be in room {room_name:?}"),
        ));
    }
    let from = files::normalize(&source.path).map_err(file_error)?;
    let to = path.to_string();
    let overwrite = body.overwrite;
    if action == "copy" {
        who.check("download", json!({ "path": from }))?;
        who.check("upload", json!({ "path": to }))?;
        let (f, t) = (from.clone(), to.clone());
        blocking(room, move |s| s.copy(&f, &t, overwrite))
            .await
            .map_err(file_error)?;
        announce_updated(room, &to, &who.event_id());
    } else {
        who.check("move", json!({"source_path": from, "destination_path": to}))?;
        let (f, t) = (from.clone(), to.clone());
        blocking(room, move |s| s.rename(&f, &t, overwrite))
            .await
            .map_err(file_error)?;
        announce_moved(room, &from, &to, &who.event_id());
    }
    Ok(StatusCode::OK.into_response())
}

#[derive(Deserialize)]
struct PresignBody {
    target: SourceTarget,
    path: String,
    method: String,
    expires_in: u64,
}

async fn presign(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result: Result<Response, Response> = async {
        let req: PresignBody = serde_json::from_slice(&body).map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                format!("the presign body must be {{\"target\", \"path\", \"method\", \"expires_in\"}}: {e}"),
            )
        })?;
        if req.target.kind != "room" {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "roomdeck serves room files only".into(),
            ));
        }
        if req.method != "GET" && req.method != "HEAD" {
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!("roomdeck presigns GET and HEAD only, not {}", req.method),
            ));
        }
        if !(1..=604_800).contains(&req.expires_in) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "`expires_in` must be between 1 second and 7 days".into(),
            ));
        }
        let who = caller(&state, &headers, &req.target.name)?;
        let path = files::normalize(&req.path).map_err(file_error)?;
        let allowed = who.grant().is_some_and(|g| g.can_presign(&path));
        if !allowed {
            return Err(error(
                StatusCode::FORBIDDEN,
                format!("the token's `storage` grant does not allow `presign` on `{path}`"),
            ));
        }
        let room = open_room(&state, &req.target.name).await?;
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let (token, exp) = room
            .url_signer
            .sign(&room.name, &path, req.expires_in, false)
            .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e))?;
        let url = format!(
            "http://{host}/download/{}/{}?token={token}",
            quote_path(&room.name),
            quote_path(&path)
        );
        let expires_at = iso(UNIX_EPOCH + Duration::from_secs(exp));
        Ok(axum::Json(json!({"url": url, "method": req.method, "headers": {}, "expires_at": expires_at}))
            .into_response())
    }
    .await;
    result.unwrap_or_else(|r| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_signatures_verify_and_expire() {
        let s = UrlSigner::new("secret");
        let (t, _) = s.sign("r", "a/b", 60, false).unwrap();
        let c = s.verify(&t).unwrap();
        assert_eq!((c.room.as_str(), c.path.as_str()), ("r", "a/b"));
        assert!(UrlSigner::new("other").verify(&t).is_err());
        // A participant-token key does not verify URL tokens.
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &json!({"typ": "roomdeck-download", "room": "r", "path": "a/b", "exp": now_secs() + 60}),
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert!(s.verify(&forged).is_err());
    }

    #[test]
    fn bases_and_quoting() {
        assert_eq!(http_base("ws://127.0.0.1:9/rooms/x"), "http://127.0.0.1:9");
        assert_eq!(http_base("wss://h.example/rooms/x"), "https://h.example");
        assert_eq!(quote_path("a b/ü?.txt"), "a%20b/%C3%BC%3F.txt");
    }
}
