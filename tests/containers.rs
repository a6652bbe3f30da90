//! Containers: without a usable engine every tool of the `containers` toolkit answers 1007
//! with a sentence saying what is missing; without the grant it is 1001 first.
//!
//! The engine is pinned with `ROOMDECK_CONTAINER_CLI` to a CLI that does not exist, so the
//! answer does not depend on what this machine has installed.

mod common;

use common::*;
use roomdeck::auth::ApiScope;
use roomdeck::protocol::Content;
use roomdeck::protocol::error_codes::{DEPENDENCY_MISSING, PERMISSION_DENIED};
use serde_json::json;

fn no_engine() {
    // SAFETY: every test in this binary sets the same value before starting its server.
    unsafe { std::env::set_var("ROOMDECK_CONTAINER_CLI", "roomdeck-test-no-such-engine") };
}

#[tokio::test]
async fn every_tool_answers_dependency_missing_without_an_engine() {
    no_engine();
    let server = TestServer::start().await;
    let client = server.join("box", "alice").await;
    let kits = client.list_toolkits().await.unwrap();
    let tools: Vec<String> = kits["tools"]["containers"]["tools"]
        .as_object()
        .expect("containers is listed")
        .keys()
        .cloned()
        .collect();
    assert!(tools.len() >= 20, "{tools:?}");
    for tool in [
        "list_containers",
        "list_images",
        "run",
        "stop_container",
        "wait_for_exit",
    ] {
        let err = client
            .invoke(
                "containers",
                tool,
                Content::json(json!({"image": "busybox", "container_id": "c1"})),
            )
            .await
            .expect_err(tool);
        assert_eq!(err.code(), Some(DEPENDENCY_MISSING), "{tool}: {err}");
        assert!(
            err.to_string().contains("neither podman nor docker"),
            "{tool}: {err}"
        );
    }
    // `logs` is a streaming tool: the refusal comes before the stream opens.
    let start = Content::binary(
        json!({"kind": "start", "container_id": "c1", "follow": true}),
        vec![],
    );
    let err = client
        .invoke_stream("containers", "logs", Some(start))
        .await
        .err()
        .expect("logs is refused");
    assert_eq!(err.code(), Some(DEPENDENCY_MISSING), "{err}");
    // The room goes on serving.
    client
        .invoke("queues", "list", Content::json(json!({})))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_token_without_the_containers_grant_is_refused_first() {
    no_engine();
    let server = TestServer::start().await;
    let mut scope = ApiScope::agent_default();
    scope.containers = None;
    let client = server.join_with("box", "bob", scope).await;
    let err = client
        .invoke("containers", "list_containers", Content::json(json!({})))
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Some(PERMISSION_DENIED), "{err}");
}
