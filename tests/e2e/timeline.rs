//! The Timeline tab (9) in the real console: what was done in the console's local room is in
//! its recorded session; a session put into the room's timeline directory opens like one.

use std::time::{SystemTime, UNIX_EPOCH};

use roomdeck::timeline::segments::Writer;
use roomdeck::timeline::{Event, Kind, SessionMeta};

use super::{Tmux, have_tmux};

/// Needs the server to record sessions (`server::recording`): a chat message sent in the
/// console and a queue item sent by the CLI are events of the session the tab opens.
#[test]
fn timeline_tab_shows_what_happened_in_the_room() {
    if !have_tmux() {
        return;
    }
    let t = Tmux::start(140, 36, "");
    t.wait_for("● live");
    t.say("grace", "hello timeline");
    t.cli(&[
        "queue",
        "send",
        "--queue",
        "jobs",
        "--json",
        r#"{"task":"resize"}"#,
    ]);
    t.keys(&["9"]);
    t.wait_for("┌ Sessions");
    // The newest session opens and follows: the message and the queue item arrive.
    t.wait_for("messaging.broadcast");
    let screen = t.wait_for("queues.send jobs");
    assert!(screen.contains("Sessions 1"), "{screen}");
    assert!(screen.contains("grace"), "{screen}");
    // Filter on the kind and a word; the state beside the list counts the queue.
    t.keys(&["/"]);
    t.text("kind:queue send");
    t.keys(&["Enter"]);
    t.wait_for("Events 1 of");
    t.wait_for("jobs");
    // Enter shows the call's JSON.
    t.keys(&["Enter"]);
    t.wait_for("\"kind\": \"queue\"");
    t.wait_for("\"resize\"");
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.wait_for("__EXIT__0");
}

/// A session written into `<data>/rooms/default/timeline/` (as a local room records one)
/// lists, opens, filters, jumps and shows its state in the real console.
#[test]
fn timeline_tab_opens_a_session_in_the_room_directory() {
    if !have_tmux() {
        return;
    }
    let t = Tmux::start(140, 36, "");
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let root = t.data.join("rooms").join("default").join("timeline");
    let meta = SessionMeta {
        session_id: "seeded".into(),
        room: "default".into(),
        // An hour ago: older than any session the room records now, so the last listed.
        started_at_ms: now_ms - 3_600_000,
        source: "local".into(),
    };
    let mut w = Writer::create(&root, &meta, 1 << 30, 1 << 20).unwrap();
    let ev = |t_ms: u64, kind: Kind, who: &str, tool: &str, summary: &str, request: &str| Event {
        t_us: t_ms * 1000,
        participant: who.into(),
        toolkit: if tool.is_empty() { "" } else { "queues" }.into(),
        tool: tool.into(),
        request: request.into(),
        ..Event::new(kind, summary)
    };
    for e in [
        ev(0, Kind::Join, "seed-agent", "", "seed-agent joined", ""),
        ev(
            1000,
            Kind::Queue,
            "seed-agent",
            "send",
            "queues.send seeded-q",
            r#"{"name":"seeded-q"}"#,
        ),
        ev(
            2000,
            Kind::Queue,
            "seed-agent",
            "send",
            "queues.send seeded-q",
            r#"{"name":"seeded-q"}"#,
        ),
        ev(3000, Kind::Leave, "seed-agent", "", "seed-agent left", ""),
    ] {
        w.append(&e).unwrap();
    }
    w.finish().unwrap();
    t.wait_for("● live");
    t.keys(&["9"]);
    t.wait_for("┌ Sessions");
    // The seeded session is the oldest: the last of the list.
    t.keys(&["BTab"]);
    t.keys(&["End"]);
    t.keys(&["Enter"]);
    t.wait_for("seed-agent left");
    t.command("at 2.5s");
    let screen = t.wait_for("State at +2.000s");
    assert!(screen.contains("seeded-q"), "{screen}");
    assert!(screen.contains("in (1)"), "{screen}");
    t.keys(&["/"]);
    t.text("kind:leave");
    t.keys(&["Enter"]);
    t.wait_for("Events 1 of 4");
    t.keys(&["q"]);
    t.wait_for("__EXIT__0");
}
