//! The rooms registry over REST (the routes the official `meshagent rooms` CLI uses), and
//! what it means for joining: disabled rooms answer 423, unknown rooms 404 where the server
//! does not create rooms on join.

use crate::common;

use common::*;
use roomdeck::auth::ApiScope;
use roomdeck::cli::http::{Api, request};
use roomdeck::client::{ClientError, RoomClient};
use serde_json::{Value, json};

fn api(s: &TestServer) -> Api {
    Api::new(&s.http_url(), Some(admin_token()), "proj").expect("api")
}

async fn status_of(url: &str, token: Option<&str>) -> u16 {
    request("GET", url, token, None).await.expect("answers").0
}

#[tokio::test]
async fn create_list_get_update_delete_over_rest() {
    let s = TestServer::start().await;
    let api = api(&s);
    let created = api
        .call(
            "POST",
            "/rooms",
            Some(&json!({"name": "alpha", "if_not_exists": false,
                "metadata": {"team": "x"}, "annotations": {"k": "v"}, "permissions": null})),
        )
        .await
        .expect("created");
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["name"], "alpha");
    assert_eq!(created["metadata"], json!({"team": "x"}));
    assert_eq!(created["annotations"], json!({"k": "v"}));
    assert_eq!(created["enabled"], true);

    // A second create conflicts, unless if_not_exists: then it is the same room.
    let again = api
        .call("POST", "/rooms", Some(&json!({"name": "alpha"})))
        .await
        .unwrap_err();
    assert!(again.contains("409"), "{again}");
    let same = api
        .call(
            "POST",
            "/rooms",
            Some(&json!({"name": "alpha", "if_not_exists": true})),
        )
        .await
        .expect("if_not_exists");
    assert_eq!(same["id"], json!(id));

    for n in ["beta", "Gamma"] {
        api.call("POST", "/rooms", Some(&json!({ "name": n })))
            .await
            .expect("created");
    }
    let page = api.call("GET", "/rooms?page_size=2", None).await.unwrap();
    let names: Vec<&str> = page["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert_eq!(page["total"], 3);
    let token = page["continuation_token"]
        .as_str()
        .expect("more")
        .to_string();
    let rest = api
        .call(
            "GET",
            &format!("/rooms?page_size=2&continuation_token={token}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(rest["rooms"][0]["name"], "Gamma");
    assert_eq!(rest["continuation_token"], Value::Null);
    let filtered = api.call("GET", "/rooms?filter=GAM", None).await.unwrap();
    assert_eq!(filtered["rooms"].as_array().unwrap().len(), 1);

    // By name or by id.
    let by_id = api
        .call("GET", &format!("/rooms/{id}"), None)
        .await
        .unwrap();
    assert_eq!(by_id["name"], "alpha");

    // Rename and disable (PUT by id, the way the official CLI does).
    api.call(
        "PUT",
        &format!("/rooms/{id}"),
        Some(&json!({"name": "delta", "enabled": false})),
    )
    .await
    .expect("updated");
    let got = api.call("GET", "/rooms/delta", None).await.unwrap();
    assert_eq!(
        (got["id"].as_str(), got["enabled"].as_bool()),
        (Some(id.as_str()), Some(false))
    );
    assert!(api.call("GET", "/rooms/alpha", None).await.is_err());

    let status = api.call("GET", "/rooms/delta/status", None).await.unwrap();
    assert_eq!(status["status"], "Unallocated");

    api.call("DELETE", &format!("/rooms/{id}"), None)
        .await
        .expect("deleted");
    let gone = api.call("GET", "/rooms/delta", None).await.unwrap_err();
    assert!(gone.contains("404"), "{gone}");
}

#[tokio::test]
async fn rest_needs_a_server_signed_token_with_the_admin_grant() {
    let s = TestServer::start().await;
    let url = format!("{}/accounts/projects/p/rooms", s.http_url());
    assert_eq!(status_of(&url, None).await, 403);
    assert_eq!(status_of(&url, Some("not-a-jwt")).await, 403);
    let agent = token("r", "bot", ApiScope::agent_default());
    assert_eq!(status_of(&url, Some(&agent)).await, 403);
    assert_eq!(status_of(&url, Some(&admin_token())).await, 200);
    // Bad bodies are 400 with a message, not a crash.
    let (code, body) = request("POST", &url, Some(&admin_token()), Some(&json!([1])))
        .await
        .unwrap();
    assert_eq!(code, 400, "{body}");
    let (code, body) = request(
        "POST",
        &url,
        Some(&admin_token()),
        Some(&json!({"name": "../etc"})),
    )
    .await
    .unwrap();
    assert_eq!(code, 400, "{body}");
}

#[tokio::test]
async fn a_disabled_room_refuses_joins_with_423() {
    let s = TestServer::start().await;
    let api = api(&s);
    api.call("POST", "/rooms", Some(&json!({"name": "closed"})))
        .await
        .unwrap();
    api.call(
        "PUT",
        "/rooms/closed",
        Some(&json!({"name": "closed", "enabled": false})),
    )
    .await
    .unwrap();
    let err = RoomClient::connect(
        &s.url("closed"),
        &token("closed", "alice", ApiScope::agent_default()),
    )
    .await
    .err()
    .expect("refused");
    assert!(
        matches!(err, ClientError::Rejected { status: 423, .. }),
        "{err}"
    );
    api.call(
        "PUT",
        "/rooms/closed",
        Some(&json!({"name": "closed", "enabled": true})),
    )
    .await
    .unwrap();
    let client = s.join("closed", "alice").await;
    client.close().await;
}

#[tokio::test]
async fn unknown_rooms_are_created_on_join_by_default() {
    let s = TestServer::start().await;
    let client = s.join("fresh", "alice").await;
    let got = api(&s).call("GET", "/rooms/fresh", None).await.unwrap();
    assert_eq!(got["name"], "fresh");
    let status = api(&s)
        .call("GET", "/rooms/fresh/status", None)
        .await
        .unwrap();
    assert_eq!(status["status"], "Allocated");
    // An active room cannot be deleted from under its participants.
    let err = api(&s)
        .call("DELETE", "/rooms/fresh", None)
        .await
        .unwrap_err();
    assert!(err.contains("409"), "{err}");
    client.close().await;
}

#[tokio::test]
async fn unknown_rooms_are_404_when_the_server_does_not_create_them() {
    let s = TestServer::start_with(|c| c.create_rooms_on_join = false).await;
    let err = RoomClient::connect(
        &s.url("nowhere"),
        &token("nowhere", "alice", ApiScope::agent_default()),
    )
    .await
    .err()
    .expect("refused");
    assert!(
        matches!(err, ClientError::Rejected { status: 404, .. }),
        "{err}"
    );
    api(&s)
        .call("POST", "/rooms", Some(&json!({"name": "nowhere"})))
        .await
        .unwrap();
    let client = s.join("nowhere", "alice").await;
    client.close().await;
}

#[tokio::test]
async fn connect_mints_a_token_for_the_callers_identity() {
    let s = TestServer::start().await;
    let answer = api(&s)
        .call("POST", "/rooms/other/connect", Some(&json!({})))
        .await
        .unwrap();
    assert_eq!(answer["room_name"], "other");
    assert_eq!(answer["project_id"], "proj");
    let jwt = answer["jwt"].as_str().unwrap();
    let t = roomdeck::auth::ParticipantToken::from_jwt(jwt, SECRET).unwrap();
    assert_eq!((t.name.as_str(), t.room()), ("admin", Some("other")));
    let client = RoomClient::connect(answer["room_url"].as_str().unwrap(), jwt)
        .await
        .expect("joins with the minted token");
    client.close().await;
}

/// The rooms list carries what the console's `:rooms` view shows: state, who joined the open
/// session, when it started and the data folder's size (the SDK's `Room` ignores them).
#[tokio::test]
async fn the_rooms_list_shows_state_participants_session_and_size() {
    let s = TestServer::start().await;
    let client = s.join("busy", "alice").await;
    let api = api(&s);
    api.call("POST", "/rooms", Some(&json!({"name": "quiet"})))
        .await
        .expect("created");
    api.call(
        "PUT",
        "/rooms/quiet",
        Some(&json!({"name": "quiet", "enabled": false})),
    )
    .await
    .expect("disabled");
    let page = api.call("GET", "/rooms", None).await.unwrap();
    let rooms = page["rooms"].as_array().expect("rooms");
    let room = |name: &str| {
        rooms
            .iter()
            .find(|r| r["name"] == name)
            .expect(name)
            .clone()
    };
    let busy = room("busy");
    assert_eq!(busy["state"], "active");
    assert_eq!(busy["participants"], 1);
    assert!(busy["session_started_at"].as_f64().is_some(), "{busy}");
    assert!(busy["data_bytes"].as_u64().is_some(), "{busy}");
    let quiet = room("quiet");
    assert_eq!(quiet["state"], "disabled");
    assert_eq!(quiet["participants"], 0);
    assert_eq!(quiet["session_started_at"], Value::Null);
    assert_eq!(quiet["data_bytes"], 0);
    client.close().await;
}
