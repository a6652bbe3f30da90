//! The flight recorder (issue 14): a local room records its session's timeline, `sessions
//! export` writes it as JSON Lines, `sessions replay` sends its messages and queue items
//! into another room; `--record off` writes nothing, and the recording keeps to its size.

use crate::common;

use std::path::Path;

use common::*;
use roomdeck::client::RoomEvent;
use serde_json::{Value, json};

const SECRET_VALUE: &str = "sk-live-DO-NOT-RECORD-7f3a9";

/// Every file under `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

fn export(data_dir: &Path, session: &str) -> Vec<Value> {
    let mut out = Vec::new();
    roomdeck::cli::sessions_record::export(data_dir, session, &mut out).expect("exports");
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect()
}

async fn stop(s: &mut TestServer) {
    if let Some(server) = s.server.take() {
        server.shutdown().await.expect("clean shutdown");
    }
}

#[tokio::test]
async fn a_session_is_recorded_in_order_and_exported_without_secret_values() {
    let mut s = TestServer::start().await;
    let alice = s
        .join_with("rec", "alice", roomdeck::auth::ApiScope::owner())
        .await;
    let bob = s.join("rec", "bob").await;
    let session = alice.session_id();
    alice.messaging().enable().await.unwrap();
    bob.messaging().enable().await.unwrap();
    let mut bob_events = bob.subscribe();
    eventually("alice sees bob", || {
        alice
            .participants()
            .iter()
            .any(|p| p.id == bob.participant_id())
    })
    .await;

    alice
        .messaging()
        .broadcast("chat", json!({"text": "hello"}), None)
        .await
        .unwrap();
    alice
        .messaging()
        .send(
            &bob.participant_id(),
            "direct",
            json!({"n": 1}),
            Some(b"attached bytes".to_vec()),
        )
        .await
        .unwrap();
    within("bob gets both messages", async {
        let mut n = 0;
        while n < 2 {
            if let Ok(RoomEvent::Message { .. }) = bob_events.recv().await {
                n += 1;
            }
        }
    })
    .await;
    alice
        .queues()
        .send("jobs", json!({"job": 42}), true)
        .await
        .unwrap();
    let got = bob.queues().receive("jobs", false, false).await.unwrap();
    assert_eq!(got, Some(json!({"job": 42})));
    let content = b"file contents".to_vec();
    alice
        .storage()
        .upload(
            "notes/a.txt",
            &mut content.as_slice(),
            Some(content.len() as u64),
            false,
            &mut |_, _| {},
        )
        .await
        .unwrap();
    let failed = bob.queues().receive("no-such-queue", false, false).await;
    assert!(failed.is_err(), "receiving from a missing queue fails");
    alice
        .secrets()
        .set("api-key", "text/plain", SECRET_VALUE.as_bytes().to_vec())
        .await
        .unwrap();
    let value = alice.secrets().get("api-key").await.unwrap();
    assert_eq!(value.as_deref(), Some(SECRET_VALUE.as_bytes()));
    bob.close().await;
    alice.close().await;
    stop(&mut s).await;

    let data_dir = s.dir.path();
    let timeline = data_dir.join("rooms/rec/timeline");
    let recorded = files(&timeline);
    assert!(recorded.len() >= 2, "session.json and a segment");
    for (path, bytes) in &recorded {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains(SECRET_VALUE),
            "the secret's value is in {}",
            path.display()
        );
    }

    let events = export(data_dir, &session);
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"session"));
    assert_eq!(events[0]["summary"], "session started");
    assert_eq!(events.last().unwrap()["summary"], "session ended");
    let position = |f: &dyn Fn(&Value) -> bool| {
        events
            .iter()
            .position(f)
            .unwrap_or_else(|| panic!("missing event in {events:#?}"))
    };
    let call = |toolkit: &'static str, tool: &'static str| {
        move |e: &Value| e["toolkit"] == toolkit && e["tool"] == tool
    };
    let join_alice = position(&|e| e["kind"] == "join" && e["participant"] == "alice");
    let join_bob = position(&|e| e["kind"] == "join" && e["participant"] == "bob");
    let broadcast = position(&call("messaging", "broadcast"));
    let direct = position(&call("messaging", "send"));
    let qsend = position(&call("queues", "send"));
    let qrecv = position(&|e| {
        e["tool"] == "receive" && e["request"]["name"] == "jobs" && e.get("error").is_none()
    });
    let upload = position(&call("storage", "upload"));
    let failing = position(&|e| e["tool"] == "receive" && e["request"]["name"] == "no-such-queue");
    let set_secret = position(&call("secrets", "set_secret"));
    let leave = position(&|e| e["kind"] == "leave");
    let order = [
        join_alice, join_bob, broadcast, direct, qsend, qrecv, upload, failing, set_secret, leave,
    ];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "events out of order: {order:?} in {events:#?}"
    );

    let b = &events[broadcast];
    assert_eq!(b["kind"], "message");
    assert_eq!(b["participant"], "alice");
    assert_eq!(b["participant_id"], alice.participant_id());
    assert!(b["duration_ms"].as_f64().is_some(), "{b}");
    assert!(
        b["summary"]
            .as_str()
            .unwrap()
            .starts_with("messaging.broadcast chat"),
        "{b}"
    );
    let d = &events[direct];
    assert!(
        d["summary"].as_str().unwrap().contains("to bob"),
        "the recipient is named: {d}"
    );
    assert!(d["request"]["attachment_base64"].is_string(), "{d}");
    let q = &events[qsend];
    assert_eq!(q["kind"], "queue");
    assert_eq!(q["summary"], "queues.send jobs");
    assert_eq!(q["request"]["message"], json!({"job": 42}));
    let r = &events[qrecv];
    assert_eq!(r["participant"], "bob");
    assert_eq!(r["answer"], json!({"job": 42}), "the item received: {r}");
    let up = &events[upload];
    assert_eq!(up["kind"], "storage");
    assert!(
        up["summary"].as_str().unwrap().contains("notes/a.txt"),
        "a stream's start chunk is its arguments: {up}"
    );
    let f = &events[failing];
    assert!(f["error"].as_str().is_some_and(|e| !e.is_empty()), "{f}");
    assert!(f["summary"].as_str().unwrap().ends_with("failed"), "{f}");
    let secret = &events[set_secret];
    assert!(
        secret["summary"].as_str().unwrap().contains("api-key"),
        "the secret's name stays: {secret}"
    );
    assert!(secret.get("data_base64").is_none());
    for e in &events {
        if e.get("toolkit").is_some() && e.get("tool").is_some() && e["kind"] != "sync" {
            assert!(
                e["duration_ms"].is_number(),
                "a call without a duration: {e}"
            );
        }
    }

    // The same through the binary, to a file.
    let out = data_dir.join("export.jsonl");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_roomdeck"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["sessions", "export", &session[..8], "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let lines = std::fs::read_to_string(&out).unwrap();
    assert_eq!(lines.lines().count(), events.len());
}

#[tokio::test]
async fn record_off_writes_no_timeline() {
    let mut s = TestServer::start_with(|c| c.record = false).await;
    let a = s.join("quiet", "alice").await;
    a.queues()
        .send("jobs", json!({"n": 1}), true)
        .await
        .unwrap();
    a.close().await;
    stop(&mut s).await;
    assert!(s.dir.path().join("rooms/quiet").is_dir());
    assert!(!s.dir.path().join("rooms/quiet/timeline").exists());
}

#[tokio::test]
async fn the_recording_keeps_to_its_size() {
    const MAX: u64 = 2 << 20;
    let mut s = TestServer::start_with(|c| c.record_max_size = MAX).await;
    let a = s.join("big", "alice").await;
    let pad = "x".repeat(32 << 10);
    // 8 MiB of messages into a 2 MiB recording.
    for i in 0..256 {
        a.messaging()
            .broadcast("pad", json!({"i": i, "pad": pad}), None)
            .await
            .unwrap();
    }
    let session = a.session_id();
    a.close().await;
    stop(&mut s).await;
    let total: u64 = files(&s.dir.path().join("rooms/big/timeline"))
        .iter()
        .map(|(_, b)| b.len() as u64)
        .sum();
    assert!(total <= MAX + 4096, "{total} bytes recorded, bound {MAX}");
    // The newest events are the ones kept.
    let events = export(s.dir.path(), &session);
    assert_eq!(events.last().unwrap()["summary"], "session ended");
    let last = events
        .iter()
        .rev()
        .find(|e| e["tool"] == "broadcast")
        .expect("some broadcasts kept");
    let message: Value =
        serde_json::from_str(last["request"]["message_json"].as_str().unwrap()).unwrap();
    assert_eq!(message["i"], 255);
}

#[tokio::test]
async fn replay_sends_messages_and_queue_items_into_another_room() {
    let mut s = TestServer::start().await;
    // The session to replay: alice broadcasts, messages bob directly, queues two jobs.
    let alice = s.join("src", "alice").await;
    let bob = s.join("src", "bob").await;
    let session = alice.session_id();
    alice.messaging().enable().await.unwrap();
    bob.messaging().enable().await.unwrap();
    eventually("alice sees bob", || {
        alice
            .participants()
            .iter()
            .any(|p| p.id == bob.participant_id())
    })
    .await;
    alice
        .messaging()
        .broadcast(
            "chat",
            json!({"text": "first"}),
            Some(b"\x00\x01bin".to_vec()),
        )
        .await
        .unwrap();
    alice
        .messaging()
        .send(
            &bob.participant_id(),
            "direct",
            json!({"text": "psst"}),
            None,
        )
        .await
        .unwrap();
    for n in 1..=2 {
        alice
            .queues()
            .send("jobs", json!({"n": n}), true)
            .await
            .unwrap();
    }
    bob.close().await;
    alice.close().await;
    // The source session ends with the server; the target room is on a new one.
    stop(&mut s).await;
    s.server = Some(start_on(s.dir.path()).await);

    // In the target room, a bob listens.
    let bob2 = s.join("dst", "bob").await;
    bob2.messaging().enable().await.unwrap();
    let mut events = bob2.subscribe();
    let token = token("dst", "replayer", roomdeck::auth::ApiScope::owner());
    let url = s.url("dst");
    let data_dir = s.dir.path().to_path_buf();
    let replay = tokio::process::Command::new(env!("CARGO_BIN_EXE_roomdeck"))
        .arg("--data-dir")
        .arg(&data_dir)
        .args([
            "sessions", "replay", &session, "--to", "dst", "--speed", "0",
        ])
        .args(["--url", &url, "--token", &token])
        .output();
    let output = within("the replay finishes", replay).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("replayed 2 messages and 2 queue items into dst"),
        "{stdout}"
    );
    let mut got = Vec::new();
    within("bob gets the replayed messages", async {
        while got.len() < 2 {
            if let Ok(RoomEvent::Message {
                msg_type,
                message,
                attachment,
                ..
            }) = events.recv().await
                && (msg_type == "chat" || msg_type == "direct")
            {
                got.push((msg_type, message, attachment));
            }
        }
    })
    .await;
    assert_eq!(
        got,
        vec![
            (
                "chat".to_string(),
                json!({"text": "first"}),
                b"\x00\x01bin".to_vec()
            ),
            ("direct".to_string(), json!({"text": "psst"}), Vec::new()),
        ]
    );
    for n in 1..=2 {
        let item = bob2.queues().receive("jobs", false, false).await.unwrap();
        assert_eq!(item, Some(json!({"n": n})));
    }
    bob2.close().await;
}

#[tokio::test]
async fn sync_updates_are_recorded_with_their_path_size_and_bytes() {
    use crate::sync::{list, new_doc};
    let mut s = TestServer::start().await;
    let alice = s.join("docs", "alice").await;
    let session = alice.session_id();
    let doc = within(
        "opens",
        alice.sync().open("notes/plan.list", new_doc(&["one"])),
    )
    .await
    .unwrap();
    doc.replace_json(&list(&["two"])).await.unwrap();
    doc.close().await;
    alice.close().await;
    stop(&mut s).await;
    let events = export(s.dir.path(), &session);
    let open = events
        .iter()
        .find(|e| e["tool"] == "open" && e["toolkit"] == "sync")
        .expect("the open stream is recorded");
    assert!(
        open["summary"]
            .as_str()
            .unwrap()
            .starts_with("sync.open notes/plan.list"),
        "{open}"
    );
    let update = events
        .iter()
        .find(|e| e["kind"] == "sync" && e["tool"] == "update")
        .unwrap_or_else(|| panic!("no sync update in {events:#?}"));
    assert_eq!(update["request"]["path"], "notes/plan.list");
    let size = update["request"]["size"].as_u64().unwrap();
    assert!(size > 0);
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(update["data_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes.len() as u64, size, "the update itself is kept");
    assert!(
        update["summary"].as_str().unwrap().contains("B"),
        "{update}"
    );
}

#[tokio::test]
async fn replay_into_a_local_room_sends_as_the_recorded_participants() {
    let mut s = TestServer::start().await;
    let alice = s.join("here", "alice").await;
    let carol = s.join("here", "carol").await;
    let session = alice.session_id();
    alice
        .messaging()
        .broadcast("chat", json!({"text": "from alice"}), None)
        .await
        .unwrap();
    carol
        .queues()
        .send("jobs", json!({"by": "carol"}), true)
        .await
        .unwrap();
    alice.messaging().enable().await.unwrap();
    carol.messaging().enable().await.unwrap();
    eventually("alice sees carol", || {
        alice
            .participants()
            .iter()
            .any(|p| p.id == carol.participant_id())
    })
    .await;
    alice
        .messaging()
        .send(&carol.participant_id(), "direct", json!({}), None)
        .await
        .unwrap();
    carol.close().await;
    alice.close().await;
    stop(&mut s).await;

    // No server runs: the replay embeds one for the local room "there".
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_roomdeck"))
        .arg("--data-dir")
        .arg(s.dir.path())
        .args([
            "sessions", "replay", &session, "--to", "there", "--speed", "0",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("replayed 2 messages and 1 queue items into there"),
        "the direct message reaches the replayed carol: {stdout}"
    );
    assert!(stdout.contains("sent as 2 participants"), "{stdout}");

    // The target room recorded the replay: the calls are alice's and carol's again.
    let replayed = roomdeck::timeline::all_sessions(s.dir.path())
        .into_iter()
        .find(|i| i.meta.room == "there")
        .expect("the target room's session is recorded");
    let events = export(s.dir.path(), &replayed.meta.session_id);
    let by = |tool: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["tool"] == tool && e.get("duration_ms").is_some())
            .map(|e| e["participant"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(by("broadcast"), ["alice"]);
    assert_eq!(by("send"), ["carol", "alice"], "{events:#?}");
}

#[tokio::test]
async fn replaying_a_live_session_into_its_own_room_ends() {
    let s = TestServer::start().await;
    let alice = s.join("loop", "alice").await;
    let session = alice.session_id();
    for n in 0..20 {
        alice
            .queues()
            .send("jobs", json!({"n": n}), true)
            .await
            .unwrap();
    }
    let dir = roomdeck::timeline::find_session(s.dir.path(), &session).unwrap();
    eventually("the sends are recorded", || {
        roomdeck::timeline::open::read_events(&dir)
            .unwrap()
            .filter(|e| e.tool == "send")
            .count()
            == 20
    })
    .await;
    // Its own replayed sends are recorded into the session it reads: they are not replayed.
    let token = token("loop", "replayer", roomdeck::auth::ApiScope::owner());
    let replay = tokio::process::Command::new(env!("CARGO_BIN_EXE_roomdeck"))
        .arg("--data-dir")
        .arg(s.dir.path())
        .args([
            "sessions", "replay", &session, "--to", "loop", "--speed", "0",
        ])
        .args(["--url", &s.url("loop"), "--token", &token])
        .output();
    let output = within("the replay ends", replay).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("0 messages and 20 queue items"), "{stdout}");
    let size = alice.queues().list().await.unwrap();
    assert_eq!(size[0].size, 40);
    alice.close().await;
}

#[tokio::test]
async fn big_arguments_are_noted_not_kept_and_not_replayed() {
    let mut s = TestServer::start().await;
    let alice = s.join("huge", "alice").await;
    let session = alice.session_id();
    let big = "y".repeat(300 << 10);
    alice
        .messaging()
        .broadcast("big", json!({"pad": big}), None)
        .await
        .unwrap();
    alice
        .messaging()
        .broadcast("small", json!({}), None)
        .await
        .unwrap();
    alice.close().await;
    stop(&mut s).await;
    let events = export(s.dir.path(), &session);
    let b = events
        .iter()
        .find(|e| e["tool"] == "broadcast")
        .expect("recorded");
    assert!(
        b["summary"].as_str().unwrap().contains("arguments cut"),
        "{}",
        b["summary"]
    );
    assert!(b.to_string().len() < 10_000, "the payload was not kept");
    let bytes: usize = files(&s.dir.path().join("rooms/huge/timeline"))
        .iter()
        .map(|(_, b)| b.len())
        .sum();
    assert!(bytes < 64 << 10, "{bytes} bytes recorded");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_roomdeck"))
        .arg("--data-dir")
        .arg(s.dir.path())
        .args([
            "sessions", "replay", &session, "--to", "other", "--speed", "0",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("replayed 1 messages") && stdout.contains("1 not sent (too large"),
        "{stdout}"
    );
}
