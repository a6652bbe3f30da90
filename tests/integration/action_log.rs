//! A participant's writes are logged in words (a CLI command's action shows in the Logs
//! tab); its reads and polls are not.

use crate::common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn writes_are_logged_in_words_and_reads_are_not() {
    let s = TestServer::start().await;
    let watcher = s.join("acts", "watcher").await;
    let mut logs = watcher.developer().logs().await.unwrap();
    let alice = s.join("acts", "alice").await;
    // Reads first: none of these may show in the log.
    alice.queues().list().await.unwrap();
    alice.storage().list("").await.unwrap();
    alice
        .queues()
        .send("jobs", json!({"n": 1}), true)
        .await
        .unwrap();
    let mut data: &[u8] = b"hello";
    alice
        .storage()
        .upload("notes.txt", &mut data, Some(5), false, &mut |_, _| {})
        .await
        .unwrap();
    alice.queues().drain("jobs").await.unwrap();

    let wanted = [
        "alice sent a message to queue jobs",
        "alice uploaded notes.txt",
        "alice drained queue jobs",
    ];
    let mut seen: Vec<String> = Vec::new();
    while !seen.iter().any(|l| l.contains(wanted[2])) {
        let e = within("action log lines", logs.next())
            .await
            .expect("stream open")
            .unwrap();
        seen.extend(roomdeck::client::otel_lines(&e));
    }
    let actions: Vec<&String> = seen.iter().filter(|l| l.contains("INFO alice ")).collect();
    for (want, line) in wanted.iter().zip(&actions) {
        assert!(line.contains(want), "{want:?} in {actions:?}");
    }
    assert!(
        !actions.iter().any(|l| l.contains("list")),
        "reads are not logged: {actions:?}"
    );
}

#[tokio::test]
async fn a_burst_of_writes_logs_a_few_lines_not_one_per_call() {
    let s = TestServer::start().await;
    let watcher = s.join("burst", "watcher").await;
    let mut logs = watcher.developer().logs().await.unwrap();
    let alice = s.join("burst", "alice").await;
    for n in 0..200 {
        alice
            .queues()
            .send("jobs", json!({"n": n}), true)
            .await
            .unwrap();
    }
    // A marker from another participant, after the burst: everything before it has arrived.
    let bob = s.join("burst", "bob").await;
    bob.queues().drain("jobs").await.unwrap();
    let mut sends = 0;
    loop {
        let e = within("log lines", logs.next())
            .await
            .expect("open")
            .unwrap();
        let lines = roomdeck::client::otel_lines(&e);
        sends += lines.iter().filter(|l| l.contains("alice sent")).count();
        if lines.iter().any(|l| l.contains("bob drained queue jobs")) {
            break;
        }
    }
    assert!(sends >= 1, "the first send is logged");
    assert!(sends < 200, "{sends} lines for 200 sends");
}
