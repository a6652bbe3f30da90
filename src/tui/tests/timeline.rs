//! The Timeline tab on sessions written here with the recording's own writer: the list and
//! its state at an instant, filters, the scrubber (jump, step, play), an event's detail, a
//! live session growing, and a remote room (no recordings).

use std::path::Path;

use super::*;
use crate::timeline::segments::Writer;
use crate::timeline::{Event, Kind, SessionMeta};

fn meta(id: &str, started_at_ms: u64) -> SessionMeta {
    SessionMeta {
        session_id: id.into(),
        room: "default".into(),
        started_at_ms,
        source: "local".into(),
    }
}

fn ev(t_ms: u64, kind: Kind, who: &str, toolkit: &str, tool: &str, summary: &str) -> Event {
    Event {
        t_us: t_ms * 1000,
        participant: who.into(),
        participant_id: format!("id-{who}"),
        toolkit: toolkit.into(),
        tool: tool.into(),
        ..Event::new(kind, summary)
    }
}

/// A short session of two participants: a chat message, a queue, a file, a failed call.
fn story() -> Vec<Event> {
    let with = |mut e: Event, request: &str, answer: &str, dur: Option<u64>| {
        e.request = request.into();
        e.answer = answer.into();
        e.duration_us = dur;
        e
    };
    vec![
        ev(0, Kind::Session, "", "default", "", "session started"),
        ev(1000, Kind::Join, "ada", "", "", "ada joined as user"),
        ev(
            1500,
            Kind::Join,
            "agent-7",
            "",
            "",
            "agent-7 joined as agent",
        ),
        with(
            ev(
                2000,
                Kind::Message,
                "ada",
                "messaging",
                "broadcast",
                "messaging.broadcast chat 17 B",
            ),
            r#"{"type":"chat","message_json":"{\"text\":\"hello\"}"}"#,
            "",
            Some(120),
        ),
        with(
            ev(
                2500,
                Kind::Queue,
                "agent-7",
                "queues",
                "send",
                "queues.send jobs",
            ),
            r#"{"name":"jobs","message":{"n":1}}"#,
            "",
            Some(300),
        ),
        with(
            ev(
                3000,
                Kind::Queue,
                "agent-7",
                "queues",
                "send",
                "queues.send jobs",
            ),
            r#"{"name":"jobs","message":{"n":2}}"#,
            "",
            Some(250),
        ),
        with(
            ev(
                3500,
                Kind::Storage,
                "ada",
                "storage",
                "upload",
                "storage.upload docs/a.txt 2 B",
            ),
            r#"{"path":"docs/a.txt"}"#,
            "",
            Some(900),
        ),
        with(
            ev(
                4000,
                Kind::Queue,
                "agent-7",
                "queues",
                "receive",
                "queues.receive jobs",
            ),
            r#"{"name":"jobs"}"#,
            r#"{"n":1}"#,
            Some(80),
        ),
        Event {
            error: Some("no table named orders".into()),
            ..with(
                ev(
                    4500,
                    Kind::Call,
                    "agent-7",
                    "dataset",
                    "insert",
                    "dataset.insert orders",
                ),
                r#"{"table":"orders"}"#,
                "",
                Some(1500),
            )
        },
        ev(5000, Kind::Leave, "ada", "", "", "ada left"),
        ev(6000, Kind::Log, "", "info", "", "agent done"),
    ]
}

fn write(root: &Path, m: SessionMeta, events: &[Event]) -> Writer {
    let mut w = Writer::create(root, &m, 1 << 30, 1 << 20).unwrap();
    for e in events {
        w.append(e).unwrap();
    }
    w.flush().unwrap();
    w
}

fn timeline_app(root: &Path) -> App {
    let mut a = live_app_with(Options {
        timeline_root: Some(root.to_path_buf()),
        ..Options::default()
    });
    key(&mut a, KeyCode::Char('9'));
    assert_eq!(a.tab, Tab::Timeline);
    settle(&mut a);
    a
}

/// Ticks until the tab's bounded work (filters, state) is done.
fn settle(a: &mut App) {
    for _ in 0..1000 {
        if !a.panes.timeline.busy() {
            return;
        }
        a.update(Msg::Tick);
    }
    panic!("the timeline never settled");
}

fn palette(a: &mut App, line: &str) {
    key(a, KeyCode::Char(':'));
    typ(a, line);
    key(a, KeyCode::Enter);
}

#[test]
fn snapshot_timeline() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        meta("older", T0 as u64 - 3_600_000),
        &story()[..3],
    );
    write(root.path(), meta("newest", T0 as u64), &story());
    let mut a = timeline_app(root.path());
    // The newest session opened and follows its end; the older one is listed below it.
    let s = a.panes.timeline.session.as_ref().unwrap();
    assert_eq!(s.meta.session_id, "newest");
    assert!(a.panes.timeline.following());
    insta::assert_snapshot!("timeline_120x30", render(&mut a, 120, 30));
    // Step back to the failed call: the state beside the list is the room's at that instant.
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::Up);
    insta::assert_snapshot!("timeline_80x24", render(&mut a, 80, 24));
}

#[test]
fn state_at_the_selected_instant() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), meta("s", T0 as u64), &story());
    let mut a = timeline_app(root.path());
    key(&mut a, KeyCode::Home);
    let screen = render(&mut a, 120, 30);
    assert!(screen.contains("State at +0.000s"), "{screen}");
    assert!(screen.contains("nobody"), "{screen}");
    // After both sends: two in the queue, both participants in.
    palette(&mut a, "at 3.2s");
    assert_eq!(a.panes.timeline.selected_row(), Some(5));
    let screen = render(&mut a, 120, 30);
    assert!(screen.contains("State at +3.000s"), "{screen}");
    assert!(screen.contains("ada, agent-7"), "{screen}");
    assert!(screen.contains("jobs                      2"), "{screen}");
    assert!(screen.contains("files changed (0)"), "{screen}");
    // One step on: the upload; one more: a receive took one out.
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Down);
    let screen = render(&mut a, 120, 30);
    assert!(screen.contains("docs/a.txt"), "{screen}");
    assert!(screen.contains("jobs                      1"), "{screen}");
    // At the end ada has left, and the failed call is counted.
    key(&mut a, KeyCode::End);
    let screen = render(&mut a, 120, 30);
    assert!(
        screen.contains("in (1)") && screen.contains("agent-7"),
        "{screen}"
    );
    assert!(screen.contains("errors 1"), "{screen}");
}

#[test]
fn filters_combine_and_say_how_many_matched() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), meta("s", T0 as u64), &story());
    let mut a = timeline_app(root.path());
    key(&mut a, KeyCode::Char('/'));
    typ(&mut a, "kind:queue");
    let screen = render(&mut a, 120, 30);
    assert!(
        screen.contains("filter (kind: who: toolkit: is:error, words): kind:queue"),
        "{screen}"
    );
    let title = |a: &mut App| {
        settle(a);
        let screen = render(a, 120, 30);
        screen
            .lines()
            .find(|l| l.contains("Events"))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        title(&mut a).contains("Events 3 of 11"),
        "{}",
        title(&mut a)
    );
    key(&mut a, KeyCode::Enter);
    // Participant and kind together; then free text read from the events themselves.
    palette(&mut a, "filter who:ada kind:storage,message");
    assert!(title(&mut a).contains("Events 2 of 11"));
    palette(&mut a, "filter orders");
    assert!(title(&mut a).contains("Events 1 of 11"));
    let screen = render(&mut a, 120, 30);
    assert!(
        screen.contains("✕") && screen.contains("dataset.insert"),
        "{screen}"
    );
    palette(&mut a, "filter is:error");
    assert!(title(&mut a).contains("Events 1 of 11"));
    palette(&mut a, "filter toolkit:queues receive");
    assert!(title(&mut a).contains("Events 1 of 11"));
    // A `-` part leaves out what it names: kinds and names by their ids, words by the text.
    palette(&mut a, "filter -kind:queue");
    assert!(
        title(&mut a).contains("Events 8 of 11"),
        "{}",
        title(&mut a)
    );
    palette(&mut a, "filter kind:queue -receive");
    assert!(
        title(&mut a).contains("Events 2 of 11"),
        "{}",
        title(&mut a)
    );
    palette(&mut a, "filter kind:queue -toolkit:queues");
    assert!(
        title(&mut a).contains("Events 0 of 11"),
        "{}",
        title(&mut a)
    );
    palette(&mut a, "filter kind:nonsense");
    assert!(title(&mut a).contains("no kind \"nonsense\""));
    // Esc clears it: every event again.
    key(&mut a, KeyCode::Esc);
    assert!(title(&mut a).contains("Events 11 "), "{}", title(&mut a));
}

#[test]
fn a_text_filter_on_many_events_is_done_a_slice_per_tick() {
    let root = tempfile::tempdir().unwrap();
    let many: Vec<Event> = (0..50_000u64)
        .map(|i| {
            let who = if i % 1000 == 7 { "needle" } else { "hay" };
            ev(i, Kind::Call, "p", "t", "x", &format!("call {i} {who}"))
        })
        .collect();
    write(root.path(), meta("s", T0 as u64), &many);
    let mut a = timeline_app(root.path());
    key(&mut a, KeyCode::Char('/'));
    typ(&mut a, "needle");
    key(&mut a, KeyCode::Enter);
    // A key returns with part of the session matched; ticks match the rest.
    assert!(a.panes.timeline.busy());
    let screen = render(&mut a, 120, 30);
    assert!(screen.contains("matching"), "{screen}");
    settle(&mut a);
    assert_eq!(a.panes.timeline.count(), 50);
}

#[test]
fn jump_step_and_play() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), meta("s", T0 as u64), &story());
    let mut a = timeline_app(root.path());
    // `@` asks for the time in the palette.
    key(&mut a, KeyCode::Char('@'));
    assert!(matches!(&a.popup, Some(Popup::Palette(p)) if p.edit.text == "at "));
    typ(&mut a, "1m");
    key(&mut a, KeyCode::Enter);
    assert_eq!(
        a.panes.timeline.selected_row(),
        Some(10),
        "past the end: the last"
    );
    palette(&mut a, "at 2.5s");
    assert_eq!(a.panes.timeline.selected_row(), Some(4));
    palette(&mut a, "at soon");
    assert!(
        matches!(&a.popup, Some(Popup::Palette(p)) if p.error.as_deref().is_some_and(|e| e.contains("not a time")))
    );
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Up);
    assert_eq!(a.panes.timeline.selected_row(), Some(3));
    // Play at 1x from 2.0s: a second later the cursor is on the event at 3.0s.
    key(&mut a, KeyCode::Char(' '));
    assert!(a.panes.timeline.play.is_some());
    a.now_ms += 1000;
    a.update(Msg::Tick);
    assert_eq!(a.panes.timeline.selected_row(), Some(5));
    let screen = render(&mut a, 120, 30);
    assert!(screen.contains("▶ 1x"), "{screen}");
    // 10x: the next 400 ms cover 4 s of the session, to its end, where playback stops.
    key(&mut a, KeyCode::Char('>'));
    a.now_ms += 400;
    a.update(Msg::Tick);
    assert_eq!(a.panes.timeline.selected_row(), Some(10));
    assert!(a.panes.timeline.play.is_none());
    let screen = render(&mut a, 120, 30);
    assert!(screen.contains("+6.000s / +6.000s"), "{screen}");
}

#[test]
fn enter_shows_the_event_as_json() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), meta("s", T0 as u64), &story());
    let mut a = timeline_app(root.path());
    palette(&mut a, "at 4s");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.focused(), Focus::TimelineDetail);
    let screen = render(&mut a, 120, 30);
    assert!(screen.contains("Event #8"), "{screen}");
    assert!(
        screen.contains(r#""summary": "queues.receive jobs","#),
        "{screen}"
    );
    assert!(screen.contains(r#""answer": {"#), "{screen}");
    assert!(
        screen.contains(r#""at": "2026-01-01T00:00:04.000Z","#),
        "{screen}"
    );
    insta::assert_snapshot!("timeline_detail", screen);
    // Copy takes the whole JSON; esc goes back to the list.
    key(&mut a, KeyCode::Char('y'));
    let copied = a.take_effects().into_iter().find_map(|e| match e {
        Effect::Copy(t) => Some(t),
        _ => None,
    });
    let copied = copied.expect("copied");
    assert!(copied.contains(r#""tool": "receive""#), "{copied}");
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.focused(), Focus::TimelineEvents);
    assert!(a.panes.timeline.detail.is_none());
}

#[test]
fn a_live_session_grows_and_is_followed_until_the_user_scrolls_up() {
    let root = tempfile::tempdir().unwrap();
    let events = story();
    let mut w = write(root.path(), meta("s", T0 as u64), &events[..5]);
    let mut a = timeline_app(root.path());
    assert_eq!(a.panes.timeline.count(), 5);
    assert!(
        a.next_deadline().is_some(),
        "a shown timeline polls its session"
    );
    for e in &events[5..8] {
        w.append(e).unwrap();
    }
    w.flush().unwrap();
    a.now_ms += 600;
    assert!(a.update(Msg::Tick), "new events redraw");
    assert_eq!(a.panes.timeline.count(), 8);
    assert_eq!(
        a.panes.timeline.selected_row(),
        Some(7),
        "following the end"
    );
    // Scrolled up, the cursor stays where it is while events arrive; end follows again.
    key(&mut a, KeyCode::Up);
    for e in &events[8..] {
        w.append(e).unwrap();
    }
    w.flush().unwrap();
    a.now_ms += 600;
    a.update(Msg::Tick);
    assert_eq!(a.panes.timeline.count(), 11);
    assert_eq!(a.panes.timeline.selected_row(), Some(6));
    key(&mut a, KeyCode::Char('f'));
    assert_eq!(a.panes.timeline.selected_row(), Some(10));
    // Nothing new: a tick draws nothing.
    a.now_ms += 600;
    assert!(!a.update(Msg::Tick));
}

#[test]
fn sessions_are_listed_newest_first_and_one_opens_with_enter() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        meta("older", T0 as u64 - 60_000),
        &story()[..2],
    );
    write(root.path(), meta("newest", T0 as u64), &story());
    let mut a = timeline_app(root.path());
    key(&mut a, KeyCode::BackTab);
    assert_eq!(a.focused(), Focus::TimelineSessions);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.focused(), Focus::TimelineEvents);
    let s = a.panes.timeline.session.as_ref().unwrap();
    assert_eq!((s.meta.session_id.as_str(), s.len()), ("older", 2));
    let screen = render(&mut a, 120, 30);
    assert!(
        screen.contains("2 events") && screen.contains("11 events"),
        "{screen}"
    );
}

#[test]
fn a_remote_room_says_where_recordings_come_from() {
    let mut a = live_app();
    key(&mut a, KeyCode::Char('9'));
    let screen = render(&mut a, 100, 24);
    assert!(screen.contains("roomdeck inspect"), "{screen}");
    assert!(a.next_deadline().is_none());
}

#[test]
fn the_console_can_open_on_the_timeline() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), meta("s", T0 as u64), &story());
    let a = App::new(
        Theme::builtin("dark").unwrap(),
        Keymap::preset(Preset::Default),
        Options {
            timeline_root: Some(root.path().to_path_buf()),
            start_tab: Some(Tab::Timeline),
            ..Options::default()
        },
    );
    assert_eq!(a.tab, Tab::Timeline);
    assert_eq!(a.panes.timeline.count(), 11);
}
