//! The session lifecycle: the first join starts a session, nobody connected for the idle
//! timeout ends it (services stop, persisted data stays), the next join starts a new one.

use crate::common;

use std::time::Duration;

use common::*;
use roomdeck::store::rooms::RoomsDb;
use serde_json::json;

const IDLE: Duration = Duration::from_millis(300);

async fn short_idle() -> TestServer {
    TestServer::start_with(|c| c.idle_timeout = IDLE).await
}

/// Waits until the rooms db says `session` ended.
async fn ended(db: &RoomsDb, session: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let s = db.session(session).unwrap().expect("session recorded");
        if s.ended_at.is_some() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "session {session} did not end"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn idle_timeout_ends_the_session_and_the_next_join_starts_a_new_one() {
    let s = short_idle().await;
    let db = RoomsDb::open(s.dir.path()).unwrap();

    let a = s.join("r", "alice").await;
    let b = s.join("r", "bob").await;
    let first = a.session_id();
    assert!(!first.is_empty());
    assert_eq!(
        b.session_id(),
        first,
        "one session while the room is active"
    );
    a.queues()
        .send("kept", json!({"n": 1}), true)
        .await
        .expect("sent");
    a.close().await;
    // Bob is still here: the session outlives the timeout.
    tokio::time::sleep(IDLE * 3).await;
    assert!(db.session(&first).unwrap().unwrap().ended_at.is_none());
    b.close().await;
    ended(&db, &first).await;

    let c = s.join("r", "carol").await;
    let second = c.session_id();
    assert_ne!(second, first, "a new session after the idle timeout");
    // Persisted data stayed.
    let queues = c.queues().list().await.unwrap();
    assert_eq!(queues[0].name, "kept");
    assert_eq!(queues[0].size, 1);
    c.close().await;
    ended(&db, &second).await;

    // Both sessions are recorded with who joined, and their developer logs were kept.
    let sessions = db.sessions(Some("r"), false, 10).unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0].id, second);
    let names: Vec<&str> = sessions[1]
        .participants
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    let logs = db.session_logs(&first).unwrap();
    let text: Vec<String> = logs.iter().map(|(_, _, d)| d.to_string()).collect();
    assert!(
        text.iter().any(|t| t.contains("participant bob joined")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("session") && t.contains("ends")),
        "{text:?}"
    );
}

#[tokio::test]
async fn sessions_over_rest() {
    let s = short_idle().await;
    let api = roomdeck::cli::http::Api::new(&s.http_url(), Some(admin_token()), "p").unwrap();
    let a = s.join("r", "alice").await;
    let id = a.session_id();
    let active = api.call("GET", "/sessions/active", None).await.unwrap();
    assert_eq!(active["sessions"][0]["id"], json!(id));
    assert_eq!(active["sessions"][0]["is_active"], true);
    assert_eq!(active["sessions"][0]["participants"]["agent"], 1);
    a.close().await;
    let db = RoomsDb::open(s.dir.path()).unwrap();
    ended(&db, &id).await;
    let listed = api.call("GET", "/rooms/r/sessions", None).await.unwrap();
    assert_eq!(listed["sessions"][0]["is_active"], false);
    let one = api
        .call("GET", &format!("/sessions/{id}"), None)
        .await
        .unwrap();
    assert_eq!(one["room_name"], "r");
    let events = api
        .call("GET", &format!("/sessions/{id}/events"), None)
        .await
        .unwrap();
    assert!(!events["events"].as_array().unwrap().is_empty());
    let status = api.call("GET", "/rooms/r/status", None).await.unwrap();
    assert_eq!(status["status"], "Unallocated");
}

#[tokio::test]
async fn a_restarted_server_closes_sessions_left_open() {
    let mut s = short_idle().await;
    let db = RoomsDb::open(s.dir.path()).unwrap();
    // What a killed server leaves behind: a session with no end.
    db.session_start("stale", "r", 1.0).unwrap();
    assert!(db.is_active("r").unwrap());
    s.restart().await;
    assert!(db.session("stale").unwrap().unwrap().ended_at.is_some());
    assert!(!db.is_active("r").unwrap());
}
