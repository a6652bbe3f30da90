//! HTTP routes: the room WebSocket with its token check before the upgrade.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Path, Query, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{ServerState, connection};
use crate::auth::ParticipantToken;
use crate::store::valid_room_name;

/// Bytes read from a client's socket per read call.
const READ_BUFFER: usize = 4 * 1024;
/// Bytes of frames collected before a write to a client's socket (a flush writes the rest).
const WRITE_BUFFER: usize = 8 * 1024;

pub(crate) fn router(state: Arc<ServerState>) -> Router {
    Router::new()
        .route("/rooms/{room}", get(join_room))
        .merge(super::rest::routes())
        .merge(super::files_api::routes())
        .with_state(state)
}

/// The token of a request's `Authorization: Bearer …` header, trimmed (it may be empty).
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// A REST request's participant token, verified with the server's secret; the error is the
/// status and the words to answer (`missing` is the status when there is no token).
pub(super) fn bearer_token(
    state: &ServerState,
    headers: &HeaderMap,
    missing: StatusCode,
) -> Result<ParticipantToken, (StatusCode, String)> {
    let jwt = bearer(headers).filter(|t| !t.is_empty()).ok_or_else(|| {
        (
            missing,
            "a participant token is required (Authorization: Bearer)".to_string(),
        )
    })?;
    ParticipantToken::from_jwt(jwt, &state.config.secret).map_err(|e| {
        (
            StatusCode::FORBIDDEN,
            format!("participant token refused: {e}"),
        )
    })
}

/// The bearer token of a request: `Authorization: Bearer` (Python SDK) or `?token=` (TS SDK).
fn request_token(headers: &HeaderMap, query: &HashMap<String, String>) -> Option<String> {
    bearer(headers)
        .map(str::to_string)
        .or_else(|| query.get("token").cloned())
        .filter(|t| !t.is_empty())
}

fn refuse(status: StatusCode, why: String) -> Response {
    tracing::info!(%status, %why, "refused a connection");
    (status, why).into_response()
}

async fn join_room(
    State(state): State<Arc<ServerState>>,
    Path(room): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // 403 and 404 make the official client fail at once; any other status makes it retry.
    if !valid_room_name(&room) {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("no room named {room:?}: names use letters, digits, '-', '_' and '.'"),
        );
    }
    let Some(jwt) = request_token(&headers, &query) else {
        return refuse(
            StatusCode::FORBIDDEN,
            "a participant token is required (Authorization: Bearer or ?token=)".into(),
        );
    };
    let token = match ParticipantToken::from_jwt(&jwt, &state.config.secret) {
        Ok(t) => t,
        Err(e) => {
            return refuse(
                StatusCode::FORBIDDEN,
                format!("participant token refused: {e}"),
            );
        }
    };
    if token.room() != Some(room.as_str()) {
        return refuse(
            StatusCode::FORBIDDEN,
            format!(
                "participant token is for room {:?}, not {room:?}",
                token.room().unwrap_or("(none)")
            ),
        );
    }
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(rejection) => return rejection.into_response(),
    };
    // The registry decides whether this room may be joined: disabled => 423, unknown =>
    // created where the server allows it, else 404.
    let db = state.rooms.db().clone();
    let (name, create) = (room.clone(), state.config.create_rooms_on_join);
    // A room read before needs no trip to the database.
    let record = match db.cached(&name) {
        Some(r) => Ok(Ok(Some(r))),
        None => {
            tokio::task::spawn_blocking(move || match db.get_by_name(&name) {
                Ok(None) if create => db.ensure(&name).map(Some),
                other => other,
            })
            .await
        }
    };
    match record {
        Ok(Ok(Some(r))) if !r.enabled => {
            let body =
                serde_json::json!({"error": {"message": format!("room {room:?} is disabled")}});
            tracing::info!("refused a connection: room {room:?} is disabled");
            return (StatusCode::LOCKED, axum::Json(body)).into_response();
        }
        Ok(Ok(Some(_))) => {}
        Ok(Ok(None)) => {
            return refuse(
                StatusCode::NOT_FOUND,
                format!("no room named {room:?} (this server does not create rooms on join)"),
            );
        }
        Ok(Err(e)) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("rooms registry: {e}"),
            );
        }
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
    let (room, lease) = match state.rooms.lease(&room).await {
        Ok(r) => r,
        Err(e) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("room {room:?} could not be opened: {e}"),
            );
        }
    };
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let room_url = format!("ws://{host}/rooms/{}", room.name);
    let max = state.config.max_message_size;
    upgrade
        // Small buffers, grown on demand: an idle participant costs little (the default
        // reserves 128 KiB each way), and writes still go out in a few syscalls per batch.
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(max + 64 * 1024)
        .max_frame_size(max + 64 * 1024)
        .on_upgrade(move |socket| async move {
            // Held for the whole connection: the session stays active while anyone is in it.
            let _lease = lease;
            connection::serve(state, room, token, room_url, socket).await
        })
}
