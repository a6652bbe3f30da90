//! The REST routes of MeshAgent's accounts API that manage rooms and sessions
//! (`meshagent/api/client.py`), so the official `meshagent rooms ...` CLI and
//! `Meshagent().create_room(...)` work against this server.
//!
//! Authentication: `Authorization: Bearer <participant token>` signed with this server's
//! secret and holding the `admin` API grant (`ApiScope.full()` has it, `roomdeck token
//! --scope full` mints one). The token's room does not matter: managing rooms is a
//! project-level act, and on a local server the project is the data dir. The project id in
//! the path is accepted as given.

// Handlers answer `Result<Response, Response>`: the error is the HTTP answer itself.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::ServerState;
use crate::auth::ParticipantToken;
use crate::store::rooms::{RoomsDb, RoomsError, SessionRecord, iso8601, now_secs};

type St = State<Arc<ServerState>>;

pub(crate) fn routes() -> Router<Arc<ServerState>> {
    let p = "/accounts/projects/{pid}";
    Router::new()
        .route(&format!("{p}/rooms"), post(create_room).get(list_rooms))
        .route(
            &format!("{p}/rooms/{{room}}"),
            get(get_room).put(update_room).delete(delete_room),
        )
        .route(&format!("{p}/rooms/{{room}}/status"), get(room_status))
        .route(&format!("{p}/rooms/{{room}}/sessions"), get(room_sessions))
        .route(&format!("{p}/rooms/{{room}}/events"), get(room_events))
        .route(&format!("{p}/rooms/{{room}}/connect"), post(connect_room))
        .route(&format!("{p}/sessions"), get(list_sessions))
        .route(&format!("{p}/sessions/active"), get(active_sessions))
        .route(&format!("{p}/sessions/{{id}}"), get(get_session))
        .route(&format!("{p}/sessions/{{id}}/events"), get(session_events))
}

/// An error answer in the shape the SDK reads (`{"error": {"message": ...}}`).
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    (status, axum::Json(json!({"error": {"message": message}}))).into_response()
}

impl From<RoomsError> for Response {
    fn from(e: RoomsError) -> Response {
        let status = match &e {
            RoomsError::NotFound(_) => StatusCode::NOT_FOUND,
            RoomsError::AlreadyExists(_) | RoomsError::Active(_) => StatusCode::CONFLICT,
            RoomsError::Invalid(_) => StatusCode::BAD_REQUEST,
            RoomsError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        error(status, e.to_string())
    }
}

type Answer = Result<Response, Response>;

/// The caller's token, which must carry the admin grant.
fn authenticate(state: &ServerState, headers: &HeaderMap) -> Result<ParticipantToken, Response> {
    let token = super::http::bearer_token(state, headers, StatusCode::FORBIDDEN)
        .map_err(|(status, why)| error(status, why))?;
    if token.api_ref().and_then(|a| a.admin.as_ref()).is_none() {
        return Err(error(
            StatusCode::FORBIDDEN,
            "managing rooms needs a token with the admin API grant (roomdeck token --scope full)",
        ));
    }
    Ok(token)
}

/// Runs a registry operation off the async threads.
async fn db<T: Send + 'static>(
    state: &ServerState,
    f: impl FnOnce(&RoomsDb) -> Result<T, RoomsError> + Send + 'static,
) -> Result<T, Response> {
    let db = state.rooms.db().clone();
    tokio::task::spawn_blocking(move || f(&db))
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(Response::from)
}

fn body_object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object",
        )),
        Err(e) => Err(error(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
        )),
    }
}

/// An optional object field (`null` = absent).
fn opt_object(
    body: &Map<String, Value>,
    key: &str,
) -> Result<Option<Map<String, Value>>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(_) => Err(error(
            StatusCode::BAD_REQUEST,
            format!("`{key}` must be a JSON object"),
        )),
    }
}

fn ok(v: Value) -> Answer {
    Ok(axum::Json(v).into_response())
}

/// `{"sessions": [...]}`, each as its record's JSON.
fn sessions_answer(sessions: &[SessionRecord]) -> Answer {
    let list: Vec<Value> = sessions.iter().map(|s| s.to_json()).collect();
    ok(json!({ "sessions": list }))
}

async fn create_room(State(state): St, headers: HeaderMap, body: Bytes) -> Answer {
    authenticate(&state, &headers)?;
    let body = body_object(&body)?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "`name` (a string) is required"))?
        .to_string();
    let if_not_exists = body
        .get("if_not_exists")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let metadata = opt_object(&body, "metadata")?;
    let annotations = opt_object(&body, "annotations")?;
    // `permissions` (per-user grants) have no meaning on a local server: tokens carry grants.
    let room = db(&state, move |db| {
        db.create(&name, if_not_exists, metadata, annotations)
    })
    .await?;
    ok(room.to_json())
}

async fn list_rooms(
    State(state): St,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    authenticate(&state, &headers)?;
    let page_size = q
        .get("page_size")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 500);
    let offset = match q.get("continuation_token") {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| error(StatusCode::BAD_REQUEST, "bad continuation_token"))?,
    };
    let filter = q.get("filter").cloned();
    let data_dir = state.config.data_dir.clone();
    // Each room with its state, open session and data size (the console's `:rooms`).
    let (rooms, total) = db(&state, move |db| {
        let (rooms, total) = db.list(filter.as_deref(), offset, page_size)?;
        let rooms = rooms
            .into_iter()
            .map(|r| db.overview_of(&data_dir, r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((rooms, total))
    })
    .await?;
    let next = (offset + rooms.len() < total).then(|| (offset + rooms.len()).to_string());
    let rooms: Vec<Value> = rooms.iter().map(|r| r.to_json()).collect();
    ok(json!({"rooms": rooms, "total": total, "continuation_token": next}))
}

async fn get_room(
    State(state): St,
    headers: HeaderMap,
    Path((_pid, room)): Path<(String, String)>,
) -> Answer {
    authenticate(&state, &headers)?;
    let r = db(&state, move |db| db.require(&room)).await?;
    ok(r.to_json())
}

async fn update_room(
    State(state): St,
    headers: HeaderMap,
    Path((_pid, room)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    authenticate(&state, &headers)?;
    let body = body_object(&body)?;
    let new_name = match body.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(error(StatusCode::BAD_REQUEST, "`name` must be a string")),
    };
    let enabled = match body.get("enabled") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "`enabled` must be true or false",
            ));
        }
    };
    let metadata = opt_object(&body, "metadata")?;
    let annotations = opt_object(&body, "annotations")?;
    let data_dir = state.config.data_dir.clone();
    let r = db(&state, move |db| {
        db.update(
            &data_dir,
            &room,
            new_name.as_deref(),
            metadata,
            annotations,
            enabled,
        )
    })
    .await?;
    ok(r.to_json())
}

async fn delete_room(
    State(state): St,
    headers: HeaderMap,
    Path((_pid, room)): Path<(String, String)>,
) -> Answer {
    authenticate(&state, &headers)?;
    let data_dir = state.config.data_dir.clone();
    db(&state, move |db| db.delete(&data_dir, &room)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn room_status(
    State(state): St,
    headers: HeaderMap,
    Path((_pid, room)): Path<(String, String)>,
) -> Answer {
    authenticate(&state, &headers)?;
    let (_, active) = db(&state, move |db| {
        let r = db.require(&room)?;
        let active = db.sessions(Some(&r.name), true, 1)?;
        Ok((r, active))
    })
    .await?;
    match active.first() {
        Some(s) => ok(json!({
            "status": "Allocated",
            "allocated_at": iso8601(s.started_at),
            "running_for_seconds": (now_secs() - s.started_at).max(0.0) as i64,
        })),
        None => ok(json!({"status": "Unallocated"})),
    }
}

fn limit(q: &HashMap<String, String>, default: usize) -> usize {
    q.get("limit")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(default)
        .clamp(1, 1000)
}

/// The newest `n` sessions of a room (404 for an unknown room).
async fn recent_sessions(
    state: &ServerState,
    room: String,
    n: usize,
) -> Result<Vec<SessionRecord>, Response> {
    db(state, move |db| {
        let r = db.require(&room)?;
        db.sessions(Some(&r.name), false, n)
    })
    .await
}

async fn room_sessions(
    State(state): St,
    headers: HeaderMap,
    Path((_pid, room)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    authenticate(&state, &headers)?;
    let sessions = recent_sessions(&state, room, limit(&q, 25)).await?;
    sessions_answer(&sessions)
}

/// Lifecycle events: each session's start and end, newest first.
async fn room_events(
    State(state): St,
    headers: HeaderMap,
    Path((_pid, room)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    authenticate(&state, &headers)?;
    let n = limit(&q, 100);
    let sessions = recent_sessions(&state, room, n).await?;
    let mut events = Vec::new();
    for s in &sessions {
        if let Some(end) = s.ended_at {
            events.push(
                json!({"id": format!("{}-ended", s.id), "room_name": s.room, "session_id": s.id,
                "type": "session.ended", "message": "the session ended (idle or server stopped)",
                "severity": "INFO", "created_at": iso8601(end)}),
            );
        }
        events.push(
            json!({"id": format!("{}-started", s.id), "room_name": s.room, "session_id": s.id,
            "type": "session.started", "message": "the first participant joined",
            "severity": "INFO", "created_at": iso8601(s.started_at)}),
        );
    }
    events.truncate(n);
    ok(json!({ "events": events }))
}

/// `connect_room`: a token for the caller's identity in `room`, with the caller's grants.
async fn connect_room(
    State(state): St,
    headers: HeaderMap,
    Path((pid, room)): Path<(String, String)>,
) -> Answer {
    let caller = authenticate(&state, &headers)?;
    let create = state.config.create_rooms_on_join;
    let name = room.clone();
    let record = db(&state, move |db| match db.get_by_name(&name)? {
        None if create => db.ensure(&name).map(Some),
        other => Ok(other),
    })
    .await?;
    let Some(record) = record else {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("no room named {room:?}"),
        ));
    };
    if !record.enabled {
        return Err(error(
            StatusCode::LOCKED,
            format!("room {room:?} is disabled"),
        ));
    }
    let mut token = ParticipantToken::new(caller.name.clone());
    token.add_room_grant(&record.name);
    token.add_role_grant(caller.role());
    if let Some(api) = caller.api() {
        token.add_api_grant(api);
    }
    token.project_id = Some(pid.clone());
    let jwt = token
        .to_jwt(&state.config.secret)
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    ok(json!({
        "jwt": jwt,
        "room_name": record.name,
        "project_id": pid,
        "room_url": format!("ws://{host}/rooms/{}", record.name),
    }))
}

async fn list_sessions(
    State(state): St,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    authenticate(&state, &headers)?;
    let n = limit(&q, 25);
    let room = q.get("room_id").cloned();
    let sessions = db(&state, move |db| db.sessions(room.as_deref(), false, n)).await?;
    sessions_answer(&sessions)
}

async fn active_sessions(State(state): St, headers: HeaderMap) -> Answer {
    authenticate(&state, &headers)?;
    let sessions = db(&state, move |db| db.sessions(None, true, 1000)).await?;
    sessions_answer(&sessions)
}

async fn get_session(
    State(state): St,
    headers: HeaderMap,
    Path((_pid, id)): Path<(String, String)>,
) -> Answer {
    authenticate(&state, &headers)?;
    let missing = id.clone();
    let s = db(&state, move |db| db.session(&id)).await?;
    match s {
        Some(s) => ok(s.to_json()),
        None => Err(error(
            StatusCode::NOT_FOUND,
            format!("no session {missing:?}"),
        )),
    }
}

/// A session's developer log events, oldest first.
async fn session_events(
    State(state): St,
    headers: HeaderMap,
    Path((_pid, id)): Path<(String, String)>,
) -> Answer {
    authenticate(&state, &headers)?;
    let logs = db(&state, move |db| db.session_logs(&id)).await?;
    let events: Vec<Value> = logs
        .into_iter()
        .map(|(at, kind, data)| json!({"created_at": iso8601(at), "type": kind, "data": data}))
        .collect();
    ok(json!({ "events": events }))
}
