//! The server and the Rust client together over real loopback WebSockets.

use crate::common;

use common::*;
use roomdeck::auth::ApiScope;
use roomdeck::client::{ClientError, RoomClient, RoomEvent};
use roomdeck::protocol::Content;
use serde_json::json;

#[tokio::test]
async fn joining_gives_room_and_participant_ids() {
    let s = TestServer::start().await;
    let a = s.join("lobby", "alice").await;
    let b = s.join("lobby", "bob").await;
    assert_eq!(a.room_name(), "lobby");
    assert_eq!(
        a.session_id(),
        b.session_id(),
        "one session per active room"
    );
    assert_ne!(a.participant_id(), b.participant_id());
    assert_eq!(a.participant_id().len(), 32);
}

#[tokio::test]
async fn bad_tokens_are_refused_before_the_upgrade() {
    let s = TestServer::start().await;
    let forged =
        token("lobby", "mallory", ApiScope::agent_default()).replace(|c: char| c == 'a', "b");
    let other_room = token("elsewhere", "eve", ApiScope::agent_default());
    for (what, jwt) in [
        ("forged", forged),
        ("other room", other_room),
        ("garbage", "not-a-jwt".to_string()),
    ] {
        match RoomClient::connect(&s.url("lobby"), &jwt).await {
            Err(ClientError::Rejected { status, .. }) => assert_eq!(status, 403, "{what}"),
            Err(e) => panic!("{what}: expected HTTP 403, got {e}"),
            Ok(_) => panic!("{what}: was let in"),
        }
    }
}

#[tokio::test]
async fn direct_and_broadcast_messages_and_presence() {
    let s = TestServer::start().await;
    let a = s.join("r", "alice").await;
    let b = s.join("r", "bob").await;
    let c = s.join("r", "carol").await;
    let mut b_events = b.subscribe();
    let mut c_events = c.subscribe();
    for p in [&a, &b, &c] {
        p.messaging().enable().await.unwrap();
    }
    eventually("alice sees bob and carol", || a.participants().len() == 2).await;
    let bob = a
        .participants()
        .into_iter()
        .find(|p| p.name() == Some("bob"))
        .expect("bob is listed");
    assert_eq!(bob.id, b.participant_id());

    a.messaging()
        .send(
            &b.participant_id(),
            "chat",
            json!({"text": "hi bob"}),
            Some(b"att".to_vec()),
        )
        .await
        .unwrap();
    a.messaging()
        .broadcast("chat.broadcast", json!({"text": "hi all"}), None)
        .await
        .unwrap();
    let mut got_b = Vec::new();
    while got_b.len() < 2 {
        if let RoomEvent::Message {
            msg_type,
            message,
            attachment,
            from,
        } = within("bob's messages", b_events.recv()).await.unwrap()
        {
            assert_eq!(from, a.participant_id());
            got_b.push((msg_type, message, attachment));
        }
    }
    assert_eq!(
        got_b[0],
        ("chat".into(), json!({"text": "hi bob"}), b"att".to_vec())
    );
    assert_eq!(got_b[1].1, json!({"text": "hi all"}));
    // Carol gets only the broadcast.
    loop {
        if let RoomEvent::Message { msg_type, .. } =
            within("carol's broadcast", c_events.recv()).await.unwrap()
        {
            assert_eq!(msg_type, "chat.broadcast");
            break;
        }
    }

    // Attributes and leaving reach the peers.
    let b_id = b.participant_id();
    b.close().await;
    drop(b);
    eventually("bob is gone for alice", || {
        a.participants().iter().all(|p| p.id != b_id)
    })
    .await;
    let err = a
        .messaging()
        .send(&b_id, "chat", json!({}), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(1003), "{err}");
}

#[tokio::test]
async fn queues_send_receive_wait_and_drain() {
    let s = TestServer::start().await;
    let a = s.join("q", "alice").await;
    let b = s.join("q", "bob").await;
    let q = a.queues();
    q.send("jobs", json!({"n": 1}), true).await.unwrap();
    q.send("jobs", json!({"n": 2}), true).await.unwrap();
    let list = q.list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].name.as_str(), list[0].size), ("jobs", 2));
    assert_eq!(
        b.queues().receive("jobs", false, false).await.unwrap(),
        Some(json!({"n": 1}))
    );

    // A waiting receive is released by another participant's send.
    let waiter = {
        let b = b.clone();
        tokio::spawn(async move { b.queues().receive("empty", true, true).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        !waiter.is_finished(),
        "receive with wait returns only when an item arrives"
    );
    q.send("empty", json!({"wake": true}), true).await.unwrap();
    assert_eq!(
        within("waiting receive", waiter).await.unwrap().unwrap(),
        Some(json!({"wake": true}))
    );

    assert_eq!(
        b.queues().receive("empty", false, false).await.unwrap(),
        None
    );
    q.drain("jobs").await.unwrap();
    assert_eq!(
        q.list()
            .await
            .unwrap()
            .iter()
            .find(|x| x.name == "jobs")
            .unwrap()
            .size,
        0
    );
    let err = q.send("missing", json!({}), false).await.unwrap_err();
    assert_eq!(err.code(), Some(5001));
    let err = q.send("jobs", json!({}), true).await;
    assert!(err.is_ok());
    // A non-object message is refused and changes nothing.
    let err = a
        .invoke(
            "queues",
            "send",
            Content::Json(json!({"name": "jobs", "message": 5})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(1002));
}

#[tokio::test]
async fn queue_items_survive_a_restart() {
    let mut s = TestServer::start().await;
    let a = s.join("durable", "alice").await;
    for n in 0..20 {
        a.queues()
            .send("work", json!({"n": n}), true)
            .await
            .unwrap();
    }
    a.close().await;
    s.restart().await;
    let b = s.join("durable", "bob").await;
    for n in 0..20 {
        assert_eq!(
            b.queues().receive("work", false, false).await.unwrap(),
            Some(json!({"n": n}))
        );
    }
}

#[tokio::test]
async fn developer_logs_stream_to_followers() {
    let s = TestServer::start().await;
    let a = s.join("dev", "alice").await;
    let watcher = s.join("dev", "watcher").await;
    let mut logs = watcher.developer().logs().await.unwrap();
    a.developer()
        .log("build", json!({"ok": true}))
        .await
        .unwrap();
    a.developer()
        .warning("disk almost full", json!({}))
        .await
        .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let e = within("log events", logs.next())
            .await
            .expect("stream open")
            .unwrap();
        if e.log_type == "build"
            || roomdeck::client::otel_lines(&e)
                .iter()
                .any(|l| l.contains("disk almost full"))
        {
            seen.push(e);
        }
    }
    assert_eq!(seen[0].data, json!({"ok": true}));
    let line = &roomdeck::client::otel_lines(&seen[1])[0];
    assert!(line.contains("WARN disk almost full"), "{line}");
    // The server reports joins itself.
    let _late = s.join("dev", "late").await;
    loop {
        let e = within("join event", logs.next())
            .await
            .expect("stream open")
            .unwrap();
        if roomdeck::client::otel_lines(&e)
            .iter()
            .any(|l| l.contains("late joined"))
        {
            break;
        }
    }
    logs.close().await;
}

#[tokio::test]
async fn missing_grant_is_refused_and_the_connection_stays_usable() {
    let s = TestServer::start().await;
    let mut scope = ApiScope::default();
    scope.messaging = ApiScope::agent_default().messaging;
    let limited = s.join_with("g", "limited", scope).await;
    let err = limited.queues().list().await.unwrap_err();
    assert_eq!(err.code(), Some(1001), "{err}");
    assert!(
        err.to_string().contains("queues"),
        "the refusal names the API: {err}"
    );
    limited
        .messaging()
        .enable()
        .await
        .expect("messaging still works");
}

#[tokio::test]
async fn unknown_toolkits_and_tools_are_errors_not_disconnects() {
    let s = TestServer::start().await;
    let a = s.join("u", "alice").await;
    let err = a
        .invoke("nope", "x", Content::Json(json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(1003));
    let err = a
        .invoke("queues", "explode", Content::Json(json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(1003));
    assert!(a.queues().list().await.is_ok(), "the connection survives");
}

#[tokio::test]
async fn secrets_need_the_secrets_grant_and_survive_a_restart() {
    let mut s = TestServer::start().await;
    let admin = s.join_with("sec", "admin", ApiScope::owner()).await;
    admin
        .secrets()
        .set("openai", "text/plain", b"sk-123".to_vec())
        .await
        .unwrap();
    admin
        .secrets()
        .set("openai", "text/plain", b"sk-456".to_vec())
        .await
        .unwrap();
    let list = admin.secrets().list().await.unwrap();
    assert_eq!(list.len(), 1, "setting by name replaces: {list:?}");
    assert_eq!(
        admin.secrets().get("openai").await.unwrap(),
        Some(b"sk-456".to_vec())
    );
    assert_eq!(admin.secrets().get("nothing").await.unwrap(), None);

    let agent = s.join("sec", "agent").await;
    let err = agent.secrets().list().await.unwrap_err();
    assert_eq!(
        err.code(),
        Some(1001),
        "agent_default has no secrets grant: {err}"
    );

    admin.close().await;
    s.restart().await;
    let admin = s.join_with("sec", "admin", ApiScope::owner()).await;
    assert_eq!(
        admin.secrets().get("openai").await.unwrap(),
        Some(b"sk-456".to_vec())
    );
    admin.secrets().delete(&list[0].id).await.unwrap();
    assert_eq!(admin.secrets().get("openai").await.unwrap(), None);
    assert_eq!(
        admin
            .secrets()
            .delete(&list[0].id)
            .await
            .unwrap_err()
            .code(),
        Some(1003)
    );
}

/// `stats.participant` names a sender that already left (a CLI command joins, sends and
/// leaves before a console asks who it was), and says whether it is still in the room.
#[tokio::test]
async fn stats_names_a_caller_after_it_left() {
    let s = TestServer::start().await;
    let ada = s.join("r", "ada").await;
    let grace = s.join("r", "grace").await;
    grace
        .messaging()
        .broadcast("chat", json!({"text": "hi"}), None)
        .await
        .unwrap();
    let id = grace.participant_id().to_string();
    let ask = |id: String| {
        let ada = &ada;
        async move {
            ada.invoke("stats", "participant", Content::json(json!({ "id": id })))
                .await
                .map(|c| match c {
                    Content::Json(v) => v,
                    other => panic!("stats.participant answered {}", other.kind()),
                })
        }
    };
    let here = ask(id.clone()).await.unwrap();
    assert_eq!(
        (here["name"].as_str(), here["present"].as_bool()),
        (Some("grace"), Some(true))
    );
    grace.close().await;
    let mut gone = ask(id.clone()).await.unwrap();
    // The leave is handled as the connection closes, a moment after close() returns.
    for _ in 0..250 {
        if gone["present"] == json!(false) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        gone = ask(id.clone()).await.unwrap();
    }
    assert_eq!(
        (gone["name"].as_str(), gone["present"].as_bool()),
        (Some("grace"), Some(false))
    );
    assert!(
        ask("no-such-id".into()).await.is_err(),
        "an unknown id is refused"
    );
}
