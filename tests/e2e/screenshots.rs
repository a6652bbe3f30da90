//! Makes the README screenshots from a real run: the console in tmux, two more participants
//! joined with the Rust client, `capture-pane -e` of each pane written as ANSI text.
//! Runs only when ROOMDECK_SCREENSHOTS names the output folder (see screenshots/make).

use std::path::PathBuf;
use std::time::Duration;

use roomdeck::auth::{ApiScope, ParticipantToken};
use roomdeck::client::RoomClient;
use serde_json::json;

use super::Tmux;

fn join(rt: &tokio::runtime::Runtime, t: &Tmux, name: &str) -> RoomClient {
    let marker =
        std::fs::read_to_string(t.data.join("server.url")).expect("the console wrote server.url");
    let base = marker.lines().next().expect("url line").to_string();
    let secret = roomdeck::auth::secret::load_or_create_secret(&t.data).expect("secret");
    let mut token = ParticipantToken::new(name);
    token.add_room_grant("default");
    token.add_role_grant("user");
    token.add_api_grant(ApiScope::full());
    let jwt = token.to_jwt(&secret).expect("token");
    let mut attrs = serde_json::Map::new();
    attrs.insert("name".into(), json!(name));
    rt.block_on(async {
        let c = RoomClient::connect(&format!("{base}/rooms/default"), &jwt)
            .await
            .expect("joins");
        c.messaging().enable().await.expect("messaging");
        c
    })
}

#[test]
fn screenshots() {
    let Some(out) = std::env::var_os("ROOMDECK_SCREENSHOTS").map(PathBuf::from) else {
        return; // a generator, not a check: screenshots/make runs it
    };
    std::fs::create_dir_all(&out).expect("output dir");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let t = Tmux::start(120, 32, "");
    t.wait_for("● live");
    let capture = |name: &str| {
        let s = t.tmux(&["capture-pane", "-e", "-N", "-p", "-t", "e2e"]);
        std::fs::write(out.join(format!("{name}.ansi")), s).expect("write capture");
    };
    t.keys(&["1"]);
    let grace = join(&rt, &t, "grace");
    let linus = join(&rt, &t, "linus");
    t.wait_for("linus");
    rt.block_on(async {
        let m = grace.messaging();
        m.broadcast("chat", json!({"text": "morning! the nightly import finished"}), None).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        linus
            .messaging()
            .broadcast("chat", json!({"text": "great, I'll start the thumbnails", "filename": "import-report.pdf"}), Some(vec![0u8; 48_213]))
            .await
            .unwrap();
        m.broadcast("status", json!({"cpu": 0.42, "queue": "thumbnails"}), None).await.unwrap();
        let q = grace.queues();
        for i in 0..3 {
            q.send("jobs", json!({"task": "resize", "id": 7 + i, "size": [640, 480]}), true).await.unwrap();
        }
        for i in 0..12 {
            q.send("thumbnails", json!({"image": format!("img-{i:03}.png")}), true).await.unwrap();
        }
        q.send("emails", json!({"to": "ops@example.com"}), true).await.unwrap();
        q.receive("emails", false, false).await.unwrap();
        let d = grace.developer();
        d.info("import finished: 1,204 rows in 3.2s", json!({})).await.unwrap();
        d.info("worker 2 picked up jobs/7", json!({})).await.unwrap();
        d.warning("slow consumer on jobs: 1.8s per message", json!({"queue": "jobs"})).await.unwrap();
        d.error("thumbnail img-007.png failed: unsupported colour profile", json!({})).await.unwrap();
        d.info("retrying img-007.png with sRGB fallback", json!({})).await.unwrap();
        d.log("metrics", json!({"rss_mb": 41, "tasks": 12})).await.unwrap();
    });
    t.wait_for("thumbnails");
    t.keys(&["i"]);
    t.text("on it, watching the jobs queue");
    t.keys(&["Enter"]);
    t.wait_for("ada  on it");
    t.keys(&["Escape"]);
    t.wait_for("i write");
    capture("chat");
    t.keys(&["2"]);
    t.wait_for("SIZE");
    t.keys(&["Down", "p"]);
    t.wait_for("\"task\": \"resize\"");
    capture("queues");
    // The overview, with the messages and queue work above still on its sparklines.
    t.keys(&["0"]);
    t.wait_for("Activity · the room's counters");
    // The overview samples while it shows: some work over a few seconds draws the rates.
    rt.block_on(async {
        let q = grace.queues();
        for round in 0..6u64 {
            for i in 0..(2 + round % 3) {
                q.send(
                    "thumbnails",
                    json!({"image": format!("new-{round}-{i}.png")}),
                    true,
                )
                .await
                .unwrap();
            }
            q.receive("jobs", false, false).await.unwrap();
            grace
                .messaging()
                .broadcast(
                    "chat",
                    json!({"text": format!("batch {round} queued")}),
                    None,
                )
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
    });
    t.wait_until("rates drawn", |s| {
        s.lines()
            .any(|l| l.contains("queue ops/s") && l.chars().any(|c| ('▁'..='█').contains(&c)))
    });
    capture("overview");
    t.keys(&["3", "s"]);
    t.text("jobs");
    t.keys(&["Enter"]);
    t.wait_for("search \"jobs\"");
    t.keys(&["End"]);
    t.wait_for("· follow");
    capture("logs");
    t.keys(&["?"]);
    t.wait_for("Help ·");
    capture("help");
    t.keys(&["Escape"]);
    t.wait_until("help closed", |s| !s.contains("Help ·"));
    // A shared document edited by grace while the console follows it.
    let schema: serde_json::Value = serde_json::from_str(super::LIST_SCHEMA).expect("schema");
    let items = |names: &[&str]| {
        let items: Vec<_> = names.iter().map(|n| json!({"item": {"name": n}})).collect();
        json!({"list": {"items": items}})
    };
    rt.block_on(async {
        let s = grace.sync();
        s.create(
            "launch/checklist.list",
            Some(schema.clone()),
            Some(items(&["freeze the schema", "run the import"])),
        )
        .await
        .unwrap();
        s.create(
            "standup/notes.list",
            Some(schema),
            Some(items(&["ada: thumbnails"])),
        )
        .await
        .unwrap();
    });
    t.keys(&["7"]);
    t.wait_for("checklist.list ● live");
    rt.block_on(async {
        let doc = grace
            .sync()
            .open("launch/checklist.list", Default::default())
            .await
            .unwrap();
        doc.replace_json(&items(&[
            "freeze the schema",
            "run the import",
            "announce in #launch",
        ]))
        .await
        .unwrap();
        doc.close().await;
    });
    t.wait_for("1 update");
    capture("docs");
    t.keys(&["8", "/"]);
    t.text("queues.");
    t.keys(&["Enter", "Down"]);
    t.keys(&[":"]);
    t.text("invoke queues.list");
    t.keys(&["Enter"]);
    t.wait_for("queues.list {} ok");
    capture("tools");
    // The session so far, recorded: what ada, grace and linus did, with the room's state at
    // the selected event and its JSON.
    t.keys(&["9"]);
    t.wait_for("┌ Sessions");
    t.keys(&["/"]);
    t.text("kind:message,queue,sync,join");
    t.keys(&["Enter"]);
    t.wait_for(" of ");
    t.keys(&["Up", "Up", "Enter"]);
    t.wait_for("┌ Event #");
    capture("timeline");
    t.keys(&["Escape"]);
    t.keys(&[":"]);
    t.text("theme light");
    t.keys(&["Enter"]);
    t.wait_until("palette closed", |s| !s.contains("Command ·"));
    t.keys(&["1"]);
    t.wait_for("i write");
    capture("chat-light");
    t.keys(&[":"]);
    t.text("theme high-contrast");
    t.keys(&["Enter"]);
    t.wait_until("palette closed", |s| !s.contains("Command ·"));
    t.keys(&["2"]);
    t.wait_for("SIZE");
    capture("queues-high-contrast");
    rt.block_on(async {
        grace.close().await;
        linus.close().await;
    });
    t.keys(&["q"]);
    t.wait_for("__EXIT__0");
}
