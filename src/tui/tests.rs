//! `App::update` tests and insta snapshots of whole frames at a fixed size and a fixed clock.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

use super::app::{App, Effect, Focus, Msg, Options, Popup, Tab};
use super::keymap::{Keymap, Preset};
use super::net::{
    ChatMessage, ConnState, Level, LogLine, NetCommand, NetEvent, PeerInfo, QueueSummary,
    ServiceSummary,
};
use super::theme::Theme;
use super::ui;

const T0: i64 = 1_767_225_600_000; // 2026-01-01 00:00:00 UTC

fn app_with(opts: Options) -> App {
    let mut app = App::new(
        Theme::builtin("dark").unwrap(),
        Keymap::preset(Preset::Default),
        opts,
    );
    app.now_ms = T0;
    app
}

fn app() -> App {
    app_with(Options::default())
}

fn live_app() -> App {
    let mut a = app();
    net(&mut a, NetEvent::State(ConnState::Live));
    net(
        &mut a,
        NetEvent::Joined {
            room: "default".into(),
            participant_id: "me-1".into(),
            name: "ada".into(),
        },
    );
    a.take_effects();
    a
}

fn peer(id: &str, name: &str) -> PeerInfo {
    PeerInfo {
        id: id.into(),
        name: name.into(),
        role: "user".into(),
    }
}

fn net(a: &mut App, ev: NetEvent) -> bool {
    a.update(Msg::Net(ev))
}

fn key(a: &mut App, code: KeyCode) {
    a.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn ctrl(a: &mut App, c: char) {
    a.update(Msg::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    )));
}

fn typ(a: &mut App, s: &str) {
    for c in s.chars() {
        key(a, KeyCode::Char(c));
    }
}

fn net_cmds(a: &mut App) -> Vec<NetCommand> {
    a.take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::Net(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn log(i: i64, level: Level, text: &str) -> LogLine {
    LogLine {
        time_ms: T0 + i * 1000,
        level,
        source: Arc::from("otel.log"),
        text: text.into(),
        attrs: Arc::from(""),
    }
}

fn render(a: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, a)).unwrap();
    if w == 0 {
        return String::new(); // TestBackend cannot print a zero-width buffer
    }
    t.backend().to_string()
}

fn populated() -> App {
    let mut a = live_app();
    net(
        &mut a,
        NetEvent::Participants(vec![
            peer("me-1", "ada"),
            peer("p-2", "grace"),
            peer("p-3", "linus"),
        ]),
    );
    net(&mut a, NetEvent::PeerLeft { id: "p-3".into() });
    for (i, (from, name, text)) in [
        ("p-2", "grace", "hello from the SDK"),
        ("p-2", "grace", "the build is green"),
    ]
    .iter()
    .enumerate()
    {
        net(
            &mut a,
            NetEvent::Message(ChatMessage {
                time_ms: T0 + i as i64 * 60_000,
                from_id: from.to_string(),
                from_name: name.to_string(),
                to: None,
                kind: "chat".into(),
                text: text.to_string(),
                attachment: None,
                own: false,
            }),
        );
    }
    net(
        &mut a,
        NetEvent::Message(ChatMessage {
            time_ms: T0 + 180_000,
            from_id: "p-2".into(),
            from_name: "grace".into(),
            to: None,
            kind: "status".into(),
            text: "{\"cpu\":0.4}".into(),
            attachment: Some(("report.pdf".into(), 20_480)),
            own: false,
        }),
    );
    net(
        &mut a,
        NetEvent::Queues(vec![
            QueueSummary {
                name: "jobs".into(),
                size: 3,
            },
            QueueSummary {
                name: "emails".into(),
                size: 0,
            },
            QueueSummary {
                name: "thumbnails".into(),
                size: 1204,
            },
        ]),
    );
    net(
        &mut a,
        NetEvent::Logs(vec![
            log(0, Level::Info, "room default started"),
            log(1, Level::Debug, "queue jobs created"),
            log(2, Level::Warn, "slow consumer on jobs: 1.2s"),
            log(3, Level::Error, "tool call failed: timeout"),
            log(4, Level::Info, "participant grace joined"),
        ]),
    );
    a.take_effects();
    a
}

// ------------------------------------------------------------------ update

#[test]
fn tabs_switch_by_number_and_watch_queues() {
    let mut a = live_app();
    key(&mut a, KeyCode::Char('2'));
    assert_eq!(a.tab, Tab::Queues);
    assert_eq!(net_cmds(&mut a), vec![NetCommand::WatchQueues(true)]);
    key(&mut a, KeyCode::Char('3'));
    assert_eq!(a.tab, Tab::Logs);
    assert_eq!(net_cmds(&mut a), vec![NetCommand::WatchQueues(false)]);
    key(&mut a, KeyCode::Char(']'));
    assert_eq!(a.tab, Tab::Services);
    assert_eq!(net_cmds(&mut a), vec![NetCommand::WatchServices(true)]);
    key(&mut a, KeyCode::Char(']'));
    assert_eq!(a.tab, Tab::Database);
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::WatchServices(false), NetCommand::RefreshTables]
    );
    key(&mut a, KeyCode::Char(']'));
    assert_eq!(a.tab, Tab::Chat);
    assert!(net_cmds(&mut a).is_empty());
    key(&mut a, KeyCode::Char('['));
    assert_eq!(a.tab, Tab::Database);
    key(&mut a, KeyCode::Char('4'));
    assert_eq!(a.tab, Tab::Services);
}

#[test]
fn compose_and_send_to_everyone_then_to_one() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('i'));
    assert!(a.composing());
    typ(&mut a, "hi q?"); // q and ? are text here, not quit/help
    assert!(!a.quit && a.popup.is_none());
    key(&mut a, KeyCode::Enter);
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::SendChat {
            to: None,
            text: "hi q?".into()
        }]
    );
    assert!(a.chat.input.is_empty());
    // The own message shows at once.
    assert_eq!(a.chat.selected_text().as_deref(), Some("hi q?"));
    // Pick grace and send a two-line message to her.
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.focused(), Focus::Peers);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Enter);
    typ(&mut a, "one");
    a.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)));
    typ(&mut a, "two");
    key(&mut a, KeyCode::Enter);
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::SendChat {
            to: Some(peer("p-2", "grace")),
            text: "one\ntwo".into()
        }]
    );
}

#[test]
fn sending_while_disconnected_is_refused_with_a_notice() {
    let mut a = app();
    key(&mut a, KeyCode::Char('i'));
    typ(&mut a, "x");
    key(&mut a, KeyCode::Enter);
    assert!(net_cmds(&mut a).is_empty());
    assert!(a.notice.as_ref().unwrap().text.contains("not connected"));
    assert_eq!(a.chat.input.lines(), ["x"]);
}

#[test]
fn presence_events_update_participants() {
    let mut a = populated();
    assert_eq!(a.chat.peers.iter().filter(|p| p.online).count(), 2);
    net(&mut a, NetEvent::PeerJoined(peer("p-4", "alan")));
    net(
        &mut a,
        NetEvent::PeerRenamed {
            id: "p-4".into(),
            name: "turing".into(),
        },
    );
    assert_eq!(a.chat.name_of("p-4"), "turing");
    assert_eq!(a.chat.peers.iter().filter(|p| p.online).count(), 3);
}

#[test]
fn queue_send_validates_json_inline() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('2'));
    a.take_effects();
    // selected: emails (sorted), move to jobs
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Char('s'));
    assert!(matches!(a.popup, Some(Popup::Prompt(_))));
    typ(&mut a, "{\"n\": ");
    key(&mut a, KeyCode::Enter);
    match &a.popup {
        Some(Popup::Prompt(p)) => assert!(p.error.as_deref().unwrap().contains("not valid JSON")),
        _ => panic!("prompt closed on invalid JSON"),
    }
    assert!(net_cmds(&mut a).is_empty());
    typ(&mut a, "1}");
    key(&mut a, KeyCode::Enter);
    assert!(a.popup.is_none());
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::QueueSend {
            name: "jobs".into(),
            message: json!({"n": 1}),
            create: false
        }]
    );
    net(
        &mut a,
        NetEvent::QueueSent {
            name: "jobs".into(),
        },
    );
    assert_eq!(net_cmds(&mut a), vec![NetCommand::RefreshQueues]);
}

#[test]
fn new_queue_asks_name_then_message() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('2'));
    key(&mut a, KeyCode::Char('n'));
    typ(&mut a, "fresh");
    key(&mut a, KeyCode::Enter);
    a.update(Msg::Paste("{\"a\": [1, 2]}".into()));
    key(&mut a, KeyCode::Enter);
    let cmds = net_cmds(&mut a);
    assert!(cmds.contains(&NetCommand::QueueSend {
        name: "fresh".into(),
        message: json!({"a": [1, 2]}),
        create: true
    }));
}

#[test]
fn receive_and_drain_with_confirm() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('2'));
    a.take_effects();
    key(&mut a, KeyCode::Char('r'));
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::QueueReceive {
            name: "emails".into()
        }]
    );
    net(
        &mut a,
        NetEvent::QueueReceived {
            name: "emails".into(),
            message: None,
        },
    );
    assert!(a.notice.as_ref().unwrap().text.contains("empty"));
    key(&mut a, KeyCode::End);
    key(&mut a, KeyCode::Char('d'));
    assert!(matches!(a.popup, Some(Popup::Confirm(_))));
    key(&mut a, KeyCode::Char('n'));
    assert!(a.popup.is_none());
    assert!(
        net_cmds(&mut a)
            .iter()
            .all(|c| !matches!(c, NetCommand::QueueDrain { .. }))
    );
    key(&mut a, KeyCode::Char('d'));
    key(&mut a, KeyCode::Char('y'));
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::QueueDrain {
            name: "thumbnails".into()
        }]
    );
}

#[test]
fn read_only_refuses_changes() {
    let mut a = app_with(Options {
        read_only: true,
        ..Options::default()
    });
    net(&mut a, NetEvent::State(ConnState::Live));
    net(
        &mut a,
        NetEvent::Queues(vec![QueueSummary {
            name: "jobs".into(),
            size: 1,
        }]),
    );
    key(&mut a, KeyCode::Char('i'));
    assert!(!a.composing());
    key(&mut a, KeyCode::Char('2'));
    for k in ['s', 'n', 'r', 'd'] {
        key(&mut a, KeyCode::Char(k));
        assert!(a.popup.is_none(), "{k}");
    }
    assert!(a.notice.as_ref().unwrap().text.contains("read-only"));
    a.run_command("send jobs {}");
    assert!(
        net_cmds(&mut a)
            .iter()
            .all(|c| matches!(c, NetCommand::WatchQueues(_)))
    );
}

#[test]
fn logs_filter_search_follow() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('3'));
    key(&mut a, KeyCode::Char('/'));
    typ(&mut a, "jobs");
    assert_eq!(a.logs.visible_len(), 2);
    key(&mut a, KeyCode::Enter);
    assert!(a.line.is_none());
    assert_eq!(a.logs.filter(), "jobs");
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.logs.visible_len(), 5);
    key(&mut a, KeyCode::Char('s'));
    typ(&mut a, "fail");
    key(&mut a, KeyCode::Enter);
    assert!(!a.logs.following());
    assert!(a.logs.selected_text().unwrap().contains("tool call failed"));
    key(&mut a, KeyCode::Char('f'));
    assert!(a.logs.following());
    key(&mut a, KeyCode::Char('p'));
    net(&mut a, NetEvent::Logs(vec![log(9, Level::Info, "late")]));
    assert_eq!(a.logs.pending(), 1);
    key(&mut a, KeyCode::Char('p'));
    assert_eq!(a.logs.len(), 6);
    key(&mut a, KeyCode::Char('y'));
    assert!(
        a.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::Copy(t) if t.ends_with("late")))
    );
}

#[test]
fn help_opens_filters_and_closes() {
    let mut a = app();
    key(&mut a, KeyCode::Char('?'));
    assert!(matches!(a.popup, Some(Popup::Help(_))));
    typ(&mut a, "drain");
    match &a.popup {
        Some(Popup::Help(h)) => assert_eq!(h.filter.text, "drain"),
        _ => panic!(),
    }
    key(&mut a, KeyCode::Esc); // clears the filter
    assert!(a.popup.is_some());
    key(&mut a, KeyCode::Esc);
    assert!(a.popup.is_none());
}

#[test]
fn palette_runs_commands_and_keeps_history() {
    let mut a = live_app();
    key(&mut a, KeyCode::Char(':'));
    typ(&mut a, "lo");
    key(&mut a, KeyCode::Tab);
    typ(&mut a, "hello logs");
    key(&mut a, KeyCode::Enter);
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::DevLog {
            message: "hello logs".into()
        }]
    );
    key(&mut a, KeyCode::Char(':'));
    typ(&mut a, "theme light");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.theme.name, "light");
    key(&mut a, KeyCode::Char(':'));
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::Up);
    match &a.popup {
        Some(Popup::Palette(p)) => assert_eq!(p.edit.text, "log hello logs"),
        _ => panic!(),
    }
    key(&mut a, KeyCode::Esc);
    a.run_command("bogus");
    assert!(a.notice.as_ref().unwrap().text.contains("unknown command"));
}

#[test]
fn notices_expire_on_tick() {
    let mut a = app();
    a.run_command("bogus");
    assert!(!a.update(Msg::Tick));
    a.now_ms += 10_000;
    assert!(a.update(Msg::Tick));
    assert!(a.notice.is_none());
    assert!(a.next_deadline().is_none());
}

#[test]
fn mouse_clicks_tabs_and_can_be_turned_off() {
    let mut a = populated();
    render(&mut a, 100, 30);
    let (r, _) = a.hit.tabs[2];
    let click = |x, y| {
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        })
    };
    assert!(a.update(click(r.x + 1, r.y)));
    assert_eq!(a.tab, Tab::Logs);
    key(&mut a, KeyCode::Char('M'));
    assert!(a.take_effects().contains(&Effect::SetMouse(false)));
    assert!(!a.update(click(0, 0)));
}

#[test]
fn ctrl_c_quits_from_anywhere() {
    let mut a = app();
    key(&mut a, KeyCode::Char('i'));
    ctrl(&mut a, 'c');
    assert!(a.quit);
    assert!(a.take_effects().contains(&Effect::Quit));
}

#[test]
fn focus_cycles_and_zooms() {
    let mut a = populated();
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focused(), Focus::Messages);
    key(&mut a, KeyCode::Char('z'));
    assert!(a.zoom);
    key(&mut a, KeyCode::Esc);
    assert!(!a.zoom);
}

// ------------------------------------------------------------------ services

fn svc(id: &str, name: &str, state: &str, restarts: u64, exit: Option<i64>) -> ServiceSummary {
    ServiceSummary {
        id: id.into(),
        name: name.into(),
        state: state.into(),
        // Started 1h 02m 05s before T0.
        started_at: (state == "running").then_some((T0 / 1000 - 3725) as f64),
        restart_count: restarts,
        last_exit_code: exit,
        liveness: if state == "running" { "ready" } else { "-" }.into(),
    }
}

fn services_app() -> App {
    let mut a = live_app();
    key(&mut a, KeyCode::Char('4'));
    assert_eq!(a.tab, Tab::Services);
    assert_eq!(net_cmds(&mut a), vec![NetCommand::WatchServices(true)]);
    net(
        &mut a,
        NetEvent::Services(vec![
            svc("svc-web", "web", "running", 2, Some(137)),
            svc("svc-agent", "agent", "running", 0, None),
            svc("svc-cron", "cron", "exited", 5, Some(1)),
        ]),
    );
    net(
        &mut a,
        NetEvent::Logs(vec![
            log(1, Level::Info, "service agent started (pid 4242)"),
            log(2, Level::Info, "queue jobs: 3 messages"),
            log(3, Level::Warn, "agent: slow reply from the model"),
            log(4, Level::Error, "service cron exited with code 1"),
            log(
                5,
                Level::Info,
                "{\"service_id\":\"svc-agent\",\"event\":\"ping\"}",
            ),
            LogLine {
                attrs: Arc::from("service=agent stream=stdout"),
                ..log(6, Level::Info, "GET /health 200")
            },
            LogLine {
                attrs: Arc::from("service=web stream=stderr"),
                ..log(7, Level::Warn, "GET /health 503")
            },
        ]),
    );
    a
}

#[test]
fn services_list_updates_from_a_net_event_and_is_polled_while_shown() {
    let mut a = services_app();
    // Sorted by name; the selection follows the service across updates.
    let names: Vec<_> = a
        .services
        .visible()
        .iter()
        .map(|s| s.name.clone())
        .collect();
    assert_eq!(names, ["agent", "cron", "web"]);
    key(&mut a, KeyCode::Down);
    assert_eq!(a.services.selected_service().unwrap().name, "cron");
    let changed = net(
        &mut a,
        NetEvent::Services(vec![
            svc("svc-cron", "cron", "running", 6, Some(1)),
            svc("svc-web", "web", "running", 2, Some(137)),
        ]),
    );
    assert!(changed);
    let sel = a.services.selected_service().unwrap();
    assert_eq!((sel.name.as_str(), sel.restart_count), ("cron", 6));
    assert_eq!(a.services.visible().len(), 2);
    // The same list again is a change only while something runs (its uptime moves on).
    assert!(net(
        &mut a,
        NetEvent::Services(vec![
            svc("svc-cron", "cron", "running", 6, Some(1)),
            svc("svc-web", "web", "running", 2, Some(137)),
        ]),
    ));
    let stopped = vec![svc("svc-cron", "cron", "exited", 6, Some(1))];
    assert!(net(&mut a, NetEvent::Services(stopped.clone())));
    assert!(!net(&mut a, NetEvent::Services(stopped)));
    // Leaving the tab stops the polling; ctrl-r refreshes the services on the tab.
    key(&mut a, KeyCode::Char('1'));
    assert_eq!(net_cmds(&mut a), vec![NetCommand::WatchServices(false)]);
    key(&mut a, KeyCode::Char('4'));
    net_cmds(&mut a);
    ctrl(&mut a, 'r');
    assert_eq!(net_cmds(&mut a), vec![NetCommand::RefreshServices]);
}

#[test]
fn service_restart_asks_to_confirm() {
    let mut a = services_app();
    key(&mut a, KeyCode::End); // web
    key(&mut a, KeyCode::Char('r'));
    match &a.popup {
        Some(Popup::Confirm(c)) => assert!(c.body.contains("Restart service web?"), "{}", c.body),
        _ => panic!("r must ask first"),
    }
    assert!(net_cmds(&mut a).is_empty());
    key(&mut a, KeyCode::Char('n'));
    assert!(a.popup.is_none());
    assert!(net_cmds(&mut a).is_empty());
    key(&mut a, KeyCode::Char('r'));
    key(&mut a, KeyCode::Char('y'));
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::ServiceRestart {
            id: "svc-web".into(),
            name: "web".into()
        }]
    );
    net(&mut a, NetEvent::ServiceRestarted { name: "web".into() });
    assert!(
        a.notice
            .as_ref()
            .unwrap()
            .text
            .contains("restarted service web")
    );
    assert_eq!(net_cmds(&mut a), vec![NetCommand::RefreshServices]);
    // From the palette too.
    a.run_command("restart cron");
    assert!(matches!(a.popup, Some(Popup::Confirm(_))));
}

#[test]
fn service_restart_is_refused_in_read_only_mode() {
    let mut a = app_with(Options {
        read_only: true,
        ..Options::default()
    });
    net(&mut a, NetEvent::State(ConnState::Live));
    key(&mut a, KeyCode::Char('4'));
    net(
        &mut a,
        NetEvent::Services(vec![svc("svc-web", "web", "running", 0, None)]),
    );
    key(&mut a, KeyCode::Char('r'));
    assert!(a.popup.is_none());
    assert!(a.notice.as_ref().unwrap().text.contains("read-only"));
    a.notice = None;
    a.run_command("restart web");
    assert!(a.popup.is_none());
    assert!(a.notice.as_ref().unwrap().text.contains("read-only"));
    assert!(
        net_cmds(&mut a)
            .iter()
            .all(|c| matches!(c, NetCommand::WatchServices(_)))
    );
}

#[test]
fn service_log_lines_mention_the_selected_service() {
    use super::panes::services::mentions;
    let a = services_app();
    let agent = a.services.selected_service().unwrap();
    assert_eq!(agent.name, "agent");
    let texts: Vec<String> = a
        .logs
        .lines()
        .filter(|l| mentions(l, &agent))
        .map(|l| l.text.to_string())
        .collect();
    assert_eq!(texts.len(), 4, "{texts:?}");
    assert!(texts[2].contains("svc-agent"));
    // Matched by its `service` attribute alone.
    assert_eq!(texts[3], "GET /health 200");
}

// ------------------------------------------------------------------ snapshots

#[test]
fn snapshot_services() {
    let mut a = services_app();
    a.notice = None;
    insta::assert_snapshot!(render(&mut a, 100, 24));
}

#[test]
fn snapshot_chat() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('i'));
    typ(&mut a, "on my way");
    insta::assert_snapshot!(render(&mut a, 100, 24));
}

#[test]
fn snapshot_queues() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('2'));
    net(
        &mut a,
        NetEvent::QueueReceived {
            name: "jobs".into(),
            message: Some(json!({"task": "resize", "id": 7})),
        },
    );
    a.notice = None;
    insta::assert_snapshot!(render(&mut a, 100, 20));
}

#[test]
fn snapshot_logs_search() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('3'));
    a.logs.search = "jobs".into();
    insta::assert_snapshot!(render(&mut a, 100, 14));
}

#[test]
fn snapshot_logs_wrap_and_filter() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('3'));
    net(
        &mut a,
        NetEvent::Logs(vec![log(
            5,
            Level::Error,
            &"a long failure message ".repeat(6),
        )]),
    );
    key(&mut a, KeyCode::Char('w'));
    key(&mut a, KeyCode::Char('/'));
    typ(&mut a, "fail");
    insta::assert_snapshot!(render(&mut a, 80, 14));
}

#[test]
fn snapshot_help() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('?'));
    typ(&mut a, "queue");
    insta::assert_snapshot!(render(&mut a, 100, 24));
}

#[test]
fn snapshot_palette() {
    let mut a = populated();
    key(&mut a, KeyCode::Char(':'));
    typ(&mut a, "t");
    insta::assert_snapshot!(render(&mut a, 80, 20));
}

#[test]
fn snapshot_confirm_drain() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('2'));
    key(&mut a, KeyCode::End);
    key(&mut a, KeyCode::Char('d'));
    insta::assert_snapshot!(render(&mut a, 80, 16));
}

#[test]
fn snapshot_reconnecting_read_only() {
    let mut a = app_with(Options {
        read_only: true,
        mouse: false,
        ..Options::default()
    });
    a.now_ms = T0;
    net(
        &mut a,
        NetEvent::Joined {
            room: "default".into(),
            participant_id: "x".into(),
            name: "ada".into(),
        },
    );
    net(
        &mut a,
        NetEvent::State(ConnState::Reconnecting {
            attempt: 2,
            retry_in_secs: 4,
            reason: "connection refused".into(),
        }),
    );
    insta::assert_snapshot!(render(&mut a, 90, 12));
}

#[test]
fn tiny_terminals_do_not_panic() {
    let mut a = populated();
    for (w, h) in [
        (0, 0),
        (1, 1),
        (10, 3),
        (39, 9),
        (40, 10),
        (41, 12),
        (200, 2),
    ] {
        for tab in ['1', '2', '3', '?'] {
            key(&mut a, KeyCode::Char(tab));
            let out = render(&mut a, w, h);
            if w < 40 || h < 10 {
                assert!(w * h < 20 || out.contains("small"), "{w}x{h}");
            }
            key(&mut a, KeyCode::Esc);
        }
    }
    insta::assert_snapshot!(render(&mut a, 30, 6));
}

#[test]
fn every_theme_renders() {
    for name in ["dark", "light", "high-contrast", "terminal", "mono"] {
        let mut a = populated();
        a.set_theme(name);
        assert_eq!(a.theme.name, name);
        render(&mut a, 80, 20);
    }
}

#[test]
fn a_refused_token_is_shown_as_final() {
    let mut a = app();
    net(
        &mut a,
        NetEvent::Fatal("the room refused the token (HTTP 403)".into()),
    );
    assert!(matches!(a.conn, ConnState::Failed { .. }));
    assert!(render(&mut a, 100, 20).contains("✕ disconnected: the room refused the token"));
}

#[test]
fn room_command_reopens_on_another_local_room() {
    let mut a = app_with(Options {
        local: true,
        ..Options::default()
    });
    net(&mut a, NetEvent::State(ConnState::Live));
    net(
        &mut a,
        NetEvent::Joined {
            room: "default".into(),
            participant_id: "me-1".into(),
            name: "ada".into(),
        },
    );
    a.take_effects();
    key(&mut a, KeyCode::Char(':'));
    typ(&mut a, "room lab");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.take_effects(), vec![Effect::SwitchRoom("lab".into())]);
    a.run_command("room default");
    assert!(a.take_effects().is_empty());
    assert!(a.notice.as_ref().unwrap().text.contains("already in room"));
    a.run_command("room ../etc");
    assert!(a.take_effects().is_empty());
    // A remote console cannot open local rooms.
    let mut r = live_app();
    r.run_command("room lab");
    assert!(r.take_effects().is_empty());
    assert!(r.notice.as_ref().unwrap().text.contains("remote"));
}
