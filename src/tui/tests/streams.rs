//! Messaging streams in the chat pane, from the room's stream log lines.

use std::sync::Arc;

use super::*;

/// A stream log line as the console receives it from messaging_stream.rs.
fn stream_line(id: &str, state: &str, counts: Option<(u64, u64)>) -> LogLine {
    let mut attrs =
        format!("stream.id={id} stream.state={state} stream.from=grace stream.to=ada lovelace");
    let mut text = format!("messaging stream {id} {state}: grace -> ada lovelace");
    if let Some((up, down)) = counts {
        attrs.push_str(&format!(" stream.sent={up} stream.received={down}"));
        text.push_str(&format!(", {up} messages sent, {down} received"));
    }
    LogLine {
        attrs: Arc::from(attrs.as_str()),
        ..log(5, Level::Info, &text)
    }
}

#[test]
fn streams_open_and_close_from_the_room_log() {
    let mut a = populated();
    net(
        &mut a,
        NetEvent::Logs(vec![stream_line("s-1", "open", None)]),
    );
    let s = &a.panes.chat.streams[0];
    assert_eq!(
        (s.from.as_str(), s.to.as_str(), s.open),
        ("grace", "ada lovelace", true)
    );
    assert_eq!(s.sent, None);

    net(
        &mut a,
        NetEvent::Logs(vec![stream_line("s-2", "open", None)]),
    );
    net(
        &mut a,
        NetEvent::Logs(vec![stream_line("s-1", "closed", Some((3, 2)))]),
    );
    assert_eq!(
        a.panes.chat.streams.len(),
        2,
        "a close updates its stream, no new row"
    );
    let s1 = &a.panes.chat.streams[0];
    assert_eq!((s1.open, s1.sent, s1.received), (false, Some(3), Some(2)));
    assert!(a.panes.chat.streams[1].open);
    // The logs pane still shows the lines.
    assert!(a.panes.logs.lines().any(|l| l.text.contains("s-1 closed")));

    // Lines without stream attributes are not streams.
    net(
        &mut a,
        NetEvent::Logs(vec![log(
            6,
            Level::Info,
            "messaging stream x opened: a -> b",
        )]),
    );
    assert_eq!(a.panes.chat.streams.len(), 2);
}

#[test]
fn streams_are_bounded_and_drop_closed_ones_first() {
    let mut a = live_app();
    net(
        &mut a,
        NetEvent::Logs(vec![stream_line("keep", "open", None)]),
    );
    for i in 0..crate::tui::panes::chat::MAX_STREAMS + 5 {
        let id = format!("c-{i}");
        net(&mut a, NetEvent::Logs(vec![stream_line(&id, "open", None)]));
        net(
            &mut a,
            NetEvent::Logs(vec![stream_line(&id, "closed", Some((1, 0)))]),
        );
    }
    assert_eq!(
        a.panes.chat.streams.len(),
        crate::tui::panes::chat::MAX_STREAMS
    );
    assert!(
        a.panes.chat.streams.iter().any(|s| s.id == "keep"),
        "open streams stay"
    );
}

#[test]
fn snapshot_chat_streams() {
    let mut a = populated();
    net(
        &mut a,
        NetEvent::Logs(vec![stream_line("s-1", "open", None)]),
    );
    net(
        &mut a,
        NetEvent::Logs(vec![stream_line("s-2", "open", None)]),
    );
    net(
        &mut a,
        NetEvent::Logs(vec![stream_line("s-2", "closed", Some((12, 4)))]),
    );
    insta::assert_snapshot!("chat_streams_80x24", render(&mut a, 80, 24));
    insta::assert_snapshot!("chat_streams_160x45", render(&mut a, 160, 45));
}
