//! Queues across a real crash: `roomdeck serve` SIGKILLed while a received item's removal is
//! not yet logged. The item is delivered again after the restart (at-least-once), and
//! nothing sent is lost.
//!
//! Deterministic by `ROOMDECK_TEST_QUEUE_REMOVAL_DELAY_MS` (honoured by debug builds only):
//! the server logs a receive's removal that many ms after answering it, so the kill lands
//! between the answer and the log every time.

use crate::common::*;

use roomdeck::auth::ApiScope;
use roomdeck::client::RoomClient;
use serde_json::json;

const ROOM: &str = "redeliver";

async fn join(url: &str) -> RoomClient {
    let jwt = token(ROOM, "worker", ApiScope::full());
    RoomClient::connect(&format!("{url}/rooms/{ROOM}"), &jwt)
        .await
        .expect("joins")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_received_item_is_redelivered_when_the_server_dies_before_its_removal_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let delay = [("ROOMDECK_TEST_QUEUE_REMOVAL_DELAY_MS", "600000")];
    let (mut child, url) = serve_binary_with(dir.path(), &delay).await;
    let client = join(&url).await;
    let q = client.queues();
    for n in 1..=3 {
        q.send("jobs", json!({"n": n}), true).await.expect("send");
    }
    let got = q.receive("jobs", false, false).await.expect("receive");
    assert_eq!(got, Some(json!({"n": 1})));
    // The running server handed it over: it is not offered again.
    let got = q.receive("jobs", false, false).await.expect("receive");
    assert_eq!(got, Some(json!({"n": 2})));

    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("the server dies");

    let (_child, url) = serve_binary(dir.path()).await;
    let client = join(&url).await;
    let q = client.queues();
    let mut after = Vec::new();
    while let Some(item) = q.receive("jobs", false, false).await.expect("receive") {
        after.push(item["n"].as_i64().unwrap_or(-1));
    }
    assert_eq!(
        after,
        vec![1, 2, 3],
        "both received items come back, in order, before the one never received"
    );
    client.close().await;
}
