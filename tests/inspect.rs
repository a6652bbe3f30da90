//! `roomdeck inspect` in front of a real server: the Rust client joins through it, every
//! call works as it does directly, and the recording holds every call with its duration,
//! its error, and the room's pushes, under `<root>/<host>-<room>/`.

mod common;

use common::*;
use roomdeck::auth::ApiScope;
use roomdeck::cli::inspect::{InspectConfig, Inspector, Upstream};
use roomdeck::client::{RoomClient, RoomEvent};
use roomdeck::timeline::{Event, Kind, Limits, Session, list_sessions};
use serde_json::json;

const ROOM: &str = "inspected";

async fn inspector(server: &TestServer, root: &std::path::Path) -> Inspector {
    let upstream = Upstream::parse(&server.url(ROOM)).expect("the server's room URL");
    Inspector::start(InspectConfig {
        upstream,
        listen: "127.0.0.1:0".parse().unwrap(),
        root: root.to_path_buf(),
        limits: Limits::default(),
        watcher: None,
    })
    .await
    .expect("the inspector listens")
}

fn events(inspector: &Inspector) -> (Session, Vec<Event>) {
    inspector.sync();
    let sessions = list_sessions(&inspector.root_of(ROOM)).expect("sessions");
    assert_eq!(
        sessions.len(),
        1,
        "one session per room per run: {sessions:?}"
    );
    let session = Session::open(&sessions[0].dir).expect("opens");
    let all = (0..session.len())
        .map(|i| session.event(i).expect("event"))
        .collect();
    (session, all)
}

fn calls<'a>(all: &'a [Event], toolkit: &str, tool: &str) -> Vec<&'a Event> {
    all.iter()
        .filter(|e| e.toolkit == toolkit && e.tool == tool && e.duration_us.is_some())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_through_the_inspector_work_and_are_recorded_with_durations() {
    let server = TestServer::start().await;
    let root = tempfile::tempdir().unwrap();
    let inspector = inspector(&server, root.path()).await;
    let via = format!("{}/rooms/{ROOM}", inspector.url());
    let alice = RoomClient::connect(&via, &token(ROOM, "alice", ApiScope::full()))
        .await
        .expect("alice joins through the inspector");
    let bob = RoomClient::connect(&via, &token(ROOM, "bob", ApiScope::full()))
        .await
        .expect("bob joins through the inspector");

    // Queues, unchanged.
    let q = alice.queues();
    for n in 0..3 {
        q.send("jobs", json!({"n": n}), true).await.expect("send");
    }
    assert_eq!(
        q.receive("jobs", false, false).await.expect("receive"),
        Some(json!({"n": 0}))
    );
    // A streamed upload and download of 300 kB, byte for byte.
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
    let s = alice.storage();
    s.upload(
        "big.bin",
        &mut data.as_slice(),
        Some(data.len() as u64),
        true,
        &mut |_, _| {},
    )
    .await
    .expect("upload");
    let mut back = Vec::new();
    s.download("big.bin", &mut back, &mut |_, _| {})
        .await
        .expect("download");
    assert_eq!(back, data, "the download came back whole through the relay");
    // An error answer passes through as the error it is.
    let err = s.list("no/such/folder").await;
    assert!(err.is_err(), "listing a missing folder fails: {err:?}");
    // A message from bob to alice.
    let mut inbox = alice.subscribe();
    alice.messaging().enable().await.expect("enable");
    bob.messaging().enable().await.expect("enable");
    bob.messaging()
        .send(
            &alice.participant_id(),
            "chat",
            json!({"text": "hi alice"}),
            None,
        )
        .await
        .expect("send");
    let got = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let Ok(RoomEvent::Message { message, .. }) = inbox.recv().await {
                return message;
            }
        }
    })
    .await
    .expect("alice gets bob's message");
    assert_eq!(got, json!({"text": "hi alice"}));
    alice.close().await;
    bob.close().await;

    // Wait for both connections' close to be recorded (bounded by polling, not a sleep).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let (session, all) = loop {
        let (session, all) = events(&inspector);
        let closed = all
            .iter()
            .filter(|e| e.kind == Kind::Session && e.summary.starts_with("connection closed"))
            .count();
        if closed == 2 || std::time::Instant::now() > deadline {
            break (session, all);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(session.meta.room, ROOM);
    assert_eq!(session.meta.source, server.url(ROOM));
    let sends = calls(&all, "queues", "send");
    assert_eq!(sends.len(), 3, "every send: {all:#?}");
    for e in &sends {
        assert_eq!(e.kind, Kind::Queue);
        assert_eq!(e.participant, "alice");
        assert_eq!(e.summary, "queues.send jobs");
        assert!(e.request.contains("\"jobs\""), "{}", e.request);
        assert!(e.error.is_none());
    }
    let receive = calls(&all, "queues", "receive");
    assert_eq!(receive.len(), 1);
    assert!(
        receive[0].answer.contains("\"n\":0"),
        "{}",
        receive[0].answer
    );
    let upload = calls(&all, "storage", "upload");
    assert_eq!(upload.len(), 1, "{all:#?}");
    assert!(
        upload[0].summary.starts_with("storage.upload big.bin"),
        "{}",
        upload[0].summary
    );
    assert!(
        upload[0].summary.contains("300000 B"),
        "{}",
        upload[0].summary
    );
    let download = calls(&all, "storage", "download");
    assert_eq!(download.len(), 1);
    assert!(
        download[0].summary.contains("300000 B"),
        "{}",
        download[0].summary
    );
    let list = calls(&all, "storage", "list");
    assert_eq!(list.len(), 1);
    assert!(
        list[0].error.is_some(),
        "the failed list keeps its error: {:?}",
        list[0]
    );
    let sent = calls(&all, "messaging", "send");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].participant, "bob");
    let delivered: Vec<_> = all
        .iter()
        .filter(|e| e.kind == Kind::Message && e.tool == "chat")
        .collect();
    assert_eq!(delivered.len(), 1, "the delivery to alice: {all:#?}");
    assert_eq!(delivered[0].participant, "bob", "the sender, by name");
    assert!(delivered[0].request.contains("hi alice"));
    let joins = all.iter().filter(|e| e.kind == Kind::Join).count();
    assert!(joins >= 2, "each connection's own join at least: {all:#?}");
    let closes = all
        .iter()
        .filter(|e| e.kind == Kind::Session && e.summary.starts_with("connection closed"))
        .count();
    assert_eq!(closes, 2, "{all:#?}");
    // Timestamps are in order, as the Timeline's scrubber needs them.
    assert!(all.windows(2).all(|w| w[0].t_us <= w[1].t_us));
    inspector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_rest_pass_through_and_garbage_changes_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    let root = tempfile::tempdir().unwrap();
    let inspector = inspector(&server, root.path()).await;
    let via = format!("{}/rooms/{ROOM}", inspector.url());
    // A bad token: the server's refusal comes back as it is.
    let refused = RoomClient::connect(&via, "not-a-token").await;
    assert!(refused.is_err(), "a bad token is refused through the relay");
    // Plain HTTP: the REST API through the inspector, one request per connection.
    let mut c = tokio::net::TcpStream::connect(inspector.addr())
        .await
        .unwrap();
    c.write_all(b"GET /rooms HTTP/1.1\r\nHost: whatever\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    c.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
    // Garbage, and a socket that sends frames no one can read: the inspector goes on.
    let mut g = tokio::net::TcpStream::connect(inspector.addr())
        .await
        .unwrap();
    g.write_all(&[0xff; 5000]).await.unwrap();
    drop(g);
    let alice = RoomClient::connect(&via, &token(ROOM, "alice", ApiScope::full()))
        .await
        .expect("still relaying");
    alice
        .queues()
        .send("q", json!({}), true)
        .await
        .expect("send");
    alice.close().await;
    inspector.sync();
    let (_, all) = events(&inspector);
    assert!(
        all.iter()
            .any(|e| e.kind == Kind::Session && e.summary.starts_with("refused by")),
        "the refusal is on record: {all:#?}"
    );
    assert!(
        all.iter().any(|e| e.toolkit == "http"
            && e.tool == "GET"
            && e.summary.starts_with("GET /rooms -> ")),
        "the REST request is on record: {all:#?}"
    );
    inspector.shutdown().await;
}
