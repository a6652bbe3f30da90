//! The authorization matrix: every tool of every built-in toolkit, called by a participant
//! whose token lacks that toolkit's API grant, is refused with 1001 (unary and streamed), and
//! the room's data is unchanged afterwards.

use crate::common;

use common::*;
use roomdeck::auth::ApiScope;
use roomdeck::client::RoomClient;
use roomdeck::protocol::Content;
use roomdeck::protocol::error_codes::PERMISSION_DENIED;
use serde_json::{Value, json};

/// The owner scope without the grant that guards `toolkit`.
fn scope_without(toolkit: &str) -> ApiScope {
    let mut s = ApiScope::owner();
    match toolkit {
        "messaging" => s.messaging = None,
        "queues" => s.queues = None,
        "developer" | "stats" => s.developer = None,
        "services" => s.services = None,
        "storage" => s.storage = None,
        "secrets" => s.secrets = None,
        "dataset" => s.dataset = None,
        "sqlite" => s.sqlite = None,
        "containers" => s.containers = None,
        // Mounts are the volumes containers use.
        "mounts" => s.containers = None,
        "memory" => s.memory = None,
        "sync" => s.sync = None,
        other => panic!("no grant is mapped for toolkit `{other}`: add it to the matrix"),
    }
    s
}

/// Arguments that would do something real if the call were allowed: names, paths, tables.
fn arguments() -> Value {
    json!({
        "name": "matrix", "queue": "matrix", "path": "matrix.txt",
        "source_path": "matrix.txt", "destination_path": "matrix2.txt", "table": "matrix",
        "database": "matrix", "message": {"x": 1}, "create": true, "overwrite": true,
        "query": "create table matrix(x int)", "statement": "MATCH (n) RETURN n",
        "text": "matrix", "id": "matrix", "secret_id": "matrix", "type": "matrix",
        "container_id": "matrix", "image": "busybox", "service_id": "matrix",
        "records": [], "columns": [], "data": {}, "kind": "start",
    })
}

fn is_denied(result: Result<Content, roomdeck::client::ClientError>) -> Result<(), String> {
    match result {
        Err(e) if e.code() == Some(PERMISSION_DENIED) => Ok(()),
        Err(e) => Err(format!("refused with {e}")),
        Ok(c) => Err(format!("allowed (answered {})", c.kind())),
    }
}

async fn builtin_tools(client: &RoomClient) -> Vec<(String, Vec<String>)> {
    let kits = client.list_toolkits().await.expect("list_toolkits");
    let map = kits["tools"].as_object().cloned().unwrap_or_default();
    map.into_iter()
        .filter(|(_, spec)| spec.get("participant_id").is_none_or(Value::is_null))
        .map(|(kit, spec)| {
            let tools = spec["tools"]
                .as_object()
                .map(|t| t.keys().cloned().collect())
                .unwrap_or_default();
            (kit, tools)
        })
        .collect()
}

#[tokio::test]
async fn every_tool_without_its_grant_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let owner = server.join_with("authz", "owner", ApiScope::owner()).await;
    let kits = builtin_tools(&owner).await;
    assert!(kits.len() >= 8, "{kits:?}");
    let mut failures = Vec::new();
    let mut calls = 0;
    for (kit, tools) in &kits {
        let client = server
            .join_with("authz", &format!("no-{kit}"), scope_without(kit))
            .await;
        for tool in tools {
            calls += 2;
            let unary = client.invoke(kit, tool, Content::json(arguments())).await;
            if let Err(why) = is_denied(unary) {
                failures.push(format!("{kit}.{tool} (unary): {why}"));
            }
            // The same call as a stream: the grant is checked on the start chunk.
            let start = Content::binary(arguments(), Vec::new());
            let streamed = match client.invoke_stream(kit, tool, Some(start)).await {
                Ok(mut stream) => match stream.next().await {
                    Some(Err(e)) => Err(e),
                    Some(Ok(c)) => Ok(c),
                    None => Ok(Content::Empty),
                },
                Err(e) => Err(e),
            };
            if let Err(why) = is_denied(streamed) {
                failures.push(format!("{kit}.{tool} (stream): {why}"));
            }
        }
        client.close().await;
    }
    assert!(
        failures.is_empty(),
        "{} of {calls} calls not refused:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Nothing those calls named exists.
    assert!(
        owner
            .queues()
            .list()
            .await
            .unwrap()
            .iter()
            .all(|q| q.name != "matrix")
    );
    assert!(!owner.storage().exists("matrix.txt").await.unwrap());
    assert!(owner.dataset().list_tables().await.unwrap().is_empty());
    assert!(owner.secrets().list().await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_tokens_are_refused_at_the_upgrade() {
    let server = TestServer::start().await;
    let url = server.url("authz");
    let good = token("authz", "ok", ApiScope::agent_default());
    let mut expired = roomdeck::auth::ParticipantToken::new("late");
    expired.add_room_grant("authz");
    expired.add_api_grant(ApiScope::agent_default());
    expired.expires_at = Some(1);
    let expired = expired.to_jwt(SECRET).expect("signs");
    let cases = [
        (
            "forged",
            token("authz", "eve", ApiScope::agent_default()).replace('.', ".x"),
        ),
        ("other secret", {
            let mut t = roomdeck::auth::ParticipantToken::new("eve");
            t.add_room_grant("authz");
            t.to_jwt("another-secret-another-secret-another").unwrap()
        }),
        (
            "other room",
            token("elsewhere", "eve", ApiScope::agent_default()),
        ),
        ("expired", expired),
        ("malformed", "not-a-jwt".to_string()),
        ("empty", String::new()),
    ];
    for (what, jwt) in cases {
        match RoomClient::connect(&url, &jwt).await {
            Err(roomdeck::client::ClientError::Rejected { status, .. }) => {
                assert_eq!(status, 403, "{what}")
            }
            Err(e) => panic!("{what}: refused, but not with HTTP 403: {e}"),
            Ok(_) => panic!("{what}: accepted"),
        }
    }
    RoomClient::connect(&url, &good)
        .await
        .expect("a good token still joins");
}
