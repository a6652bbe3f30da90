//! `App::update` tests and insta snapshots of whole frames at a fixed size and a fixed clock.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

use super::app::{App, Effect, Focus, Msg, Options, Popup, Tab};
use super::keymap::{Keymap, Preset};
use super::net::{
    ChatMessage, ColumnInfo, ConnState, ExportFormat, ExportSource, Level, LogLine, NetCommand,
    NetEvent, PeerInfo, QueueSummary, ServiceSummary, SqlEvent, TableSummary, ToolsCommand,
};
use super::net::{FileChange, FileEntry, FilesCommand, FilesEvent, TransferKind};
use super::panes::storage::Preview;
use super::panes::storage::preview::PREVIEW_BYTES;
use super::theme::Theme;
use super::ui;

mod docs;
mod overview;
mod rooms;
mod streams;
mod timeline;
mod tools;

const T0: i64 = 1_767_225_600_000; // 2026-01-01 00:00:00 UTC

fn app_with(opts: Options) -> App {
    let mut app = App::new(
        Theme::builtin("dark").unwrap(),
        Keymap::preset(Preset::Default),
        opts,
    );
    app.now_ms = T0;
    // The console opens on the overview; these tests start where they were written, in
    // chat (the overview's own tests switch to it).
    app.tab = Tab::Chat;
    app
}

fn app() -> App {
    app_with(Options::default())
}

fn live_app() -> App {
    live_app_with(Options::default())
}

/// Live in room "default" as ada ("me-1").
fn live_app_with(opts: Options) -> App {
    let mut a = app_with(opts);
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
        attributes: Default::default(),
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
    assert_eq!(a.tab, Tab::Files);
    assert_eq!(net_cmds(&mut a)[0], NetCommand::WatchServices(false));
    key(&mut a, KeyCode::Char(']'));
    assert_eq!(a.tab, Tab::Database);
    assert!(net_cmds(&mut a).contains(&NetCommand::RefreshTables));
    key(&mut a, KeyCode::Char(']'));
    assert_eq!(a.tab, Tab::Docs);
    assert_eq!(net_cmds(&mut a)[0], NetCommand::WatchDocs(true));
    key(&mut a, KeyCode::Char(']'));
    assert_eq!(a.tab, Tab::Tools);
    assert_eq!(
        net_cmds(&mut a),
        vec![
            NetCommand::WatchDocs(false),
            NetCommand::Tools(ToolsCommand::List)
        ]
    );
    key(&mut a, KeyCode::Char(']'));
    assert_eq!(a.tab, Tab::Timeline);
    // The overview is the first tab: after the last comes the overview, then chat.
    key(&mut a, KeyCode::Char(']'));
    assert_eq!(a.tab, Tab::Overview);
    key(&mut a, KeyCode::Char(']'));
    assert_eq!(a.tab, Tab::Chat);
    key(&mut a, KeyCode::Char('['));
    key(&mut a, KeyCode::Char('['));
    assert_eq!(a.tab, Tab::Timeline);
    key(&mut a, KeyCode::Char('['));
    assert_eq!(a.tab, Tab::Tools);
    key(&mut a, KeyCode::Char('6'));
    assert_eq!(a.tab, Tab::Database);
    key(&mut a, KeyCode::Char('['));
    assert_eq!(a.tab, Tab::Files);
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
    assert!(a.panes.chat.input.is_empty());
    // The own message shows at once.
    assert_eq!(a.panes.chat.selected_text().as_deref(), Some("hi q?"));
    // Pick grace and send a two-line message to her: enter shows her detail, m writes.
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.focused(), Focus::Peers);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Enter);
    assert!(matches!(a.popup, Some(Popup::Peer(_))));
    net_cmds(&mut a);
    key(&mut a, KeyCode::Char('m'));
    assert!(a.composing());
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
    assert_eq!(a.panes.chat.input.lines(), ["x"]);
}

#[test]
fn presence_events_update_participants() {
    let mut a = populated();
    assert_eq!(a.panes.chat.peers.iter().filter(|p| p.online).count(), 2);
    net(&mut a, NetEvent::PeerJoined(peer("p-4", "alan")));
    net(
        &mut a,
        NetEvent::PeerRenamed {
            id: "p-4".into(),
            name: "turing".into(),
        },
    );
    assert_eq!(a.panes.chat.name_of("p-4"), "turing");
    assert_eq!(a.panes.chat.peers.iter().filter(|p| p.online).count(), 3);
}

#[test]
fn queue_send_validates_json_inline() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('2'));
    a.take_effects();
    // selected: emails (sorted), move to jobs
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Char('i'));
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
    key(&mut a, KeyCode::Char('c'));
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
    key(&mut a, KeyCode::Char('p'));
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
    for k in ['i', 'c', 'p', 'd'] {
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
    assert_eq!(a.panes.logs.visible_len(), 2);
    key(&mut a, KeyCode::Enter);
    assert!(a.line.is_none());
    assert_eq!(a.panes.logs.filter(), "jobs");
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.panes.logs.visible_len(), 5);
    key(&mut a, KeyCode::Char('s'));
    typ(&mut a, "fail");
    key(&mut a, KeyCode::Enter);
    assert!(!a.panes.logs.following());
    assert!(
        a.panes
            .logs
            .selected_text()
            .unwrap()
            .contains("tool call failed")
    );
    key(&mut a, KeyCode::Char('f'));
    assert!(a.panes.logs.following());
    key(&mut a, KeyCode::Char(' '));
    net(&mut a, NetEvent::Logs(vec![log(9, Level::Info, "late")]));
    assert_eq!(a.panes.logs.pending(), 1);
    key(&mut a, KeyCode::Char(' '));
    assert_eq!(a.panes.logs.len(), 6);
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
    // Esc closes even with a filter typed (it used to clear the filter first, and the next
    // key went into the filter); the next key is a key again.
    key(&mut a, KeyCode::Esc);
    assert!(a.popup.is_none());
    key(&mut a, KeyCode::Char('2'));
    assert_eq!(a.tab, Tab::Queues);
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
    let (r, _) = a.hit.tabs[3]; // 0 Overview, 1 Chat, 2 Queues, 3 Logs
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
        .panes
        .services
        .visible()
        .iter()
        .map(|s| s.name.clone())
        .collect();
    assert_eq!(names, ["agent", "cron", "web"]);
    key(&mut a, KeyCode::Down);
    assert_eq!(a.panes.services.selected_service().unwrap().name, "cron");
    let changed = net(
        &mut a,
        NetEvent::Services(vec![
            svc("svc-cron", "cron", "running", 6, Some(1)),
            svc("svc-web", "web", "running", 2, Some(137)),
        ]),
    );
    assert!(changed);
    let sel = a.panes.services.selected_service().unwrap();
    assert_eq!((sel.name.as_str(), sel.restart_count), ("cron", 6));
    assert_eq!(a.panes.services.visible().len(), 2);
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
    key(&mut a, KeyCode::Char('R'));
    match &a.popup {
        Some(Popup::Confirm(c)) => assert!(c.body.contains("Restart service web?"), "{}", c.body),
        _ => panic!("r must ask first"),
    }
    assert!(net_cmds(&mut a).is_empty());
    key(&mut a, KeyCode::Char('n'));
    assert!(a.popup.is_none());
    assert!(net_cmds(&mut a).is_empty());
    key(&mut a, KeyCode::Char('R'));
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
    key(&mut a, KeyCode::Char('R'));
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
    let agent = a.panes.services.selected_service().unwrap();
    assert_eq!(agent.name, "agent");
    let texts: Vec<String> = a
        .panes
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

// ------------------------------------------------------------------ files

fn fentry(name: &str, size: Option<u64>) -> FileEntry {
    FileEntry {
        name: name.into(),
        is_folder: size.is_none(),
        size,
        modified_ms: Some(T0 - 3_600_000),
    }
}

fn files_cmds(a: &mut App) -> Vec<FilesCommand> {
    net_cmds(a)
        .into_iter()
        .filter_map(|c| match c {
            NetCommand::Files(f) => Some(f),
            _ => None,
        })
        .collect()
}

fn listed(a: &mut App, folder: &str, entries: Vec<FileEntry>) -> bool {
    net(
        a,
        NetEvent::Files(FilesEvent::Listed {
            folder: folder.into(),
            entries,
        }),
    )
}

fn list(folder: &str) -> FilesCommand {
    FilesCommand::List {
        folder: folder.into(),
    }
}

fn preview_of(path: &str) -> FilesCommand {
    FilesCommand::Preview {
        path: path.into(),
        max: PREVIEW_BYTES,
    }
}

/// The files tab with the root listed and `docs` open, `docs/report.json` previewed.
fn files_app() -> App {
    let mut a = live_app();
    key(&mut a, KeyCode::Char('5'));
    assert_eq!(a.tab, Tab::Files);
    assert_eq!(files_cmds(&mut a), vec![list("")]);
    listed(
        &mut a,
        "",
        vec![
            fentry("notes.txt", Some(12)),
            fentry("docs", None),
            fentry("photo.png", Some(2_400_000)),
        ],
    );
    // Folders first; the selection (docs) is a folder: nothing to preview.
    assert_eq!(a.panes.storage.selected_entry().unwrap().0, "docs");
    assert!(files_cmds(&mut a).is_empty());
    key(&mut a, KeyCode::Enter);
    assert_eq!(files_cmds(&mut a), vec![list("docs")]);
    listed(
        &mut a,
        "docs",
        vec![fentry("report.json", Some(27)), fentry("old", None)],
    );
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Down);
    assert_eq!(
        a.panes.storage.selected_entry().unwrap().0,
        "docs/report.json"
    );
    assert_eq!(files_cmds(&mut a), vec![preview_of("docs/report.json")]);
    net(
        &mut a,
        NetEvent::Files(FilesEvent::Preview {
            path: "docs/report.json".into(),
            size: 27,
            mime: "application/json".into(),
            head: br#"{"title":"Q3","pages":[1,2]}"#.to_vec(),
        }),
    );
    a
}

#[test]
fn files_tree_lists_lazily_and_previews_the_selected_file() {
    let mut a = files_app();
    let rows: Vec<String> = a
        .panes
        .storage
        .rows()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        rows,
        [
            "docs",
            "docs/old",
            "docs/report.json",
            "notes.txt",
            "photo.png"
        ]
    );
    match &a.panes.storage.preview {
        Preview::Ready { text, .. } => {
            assert_eq!(text.kind, "JSON");
            assert!(text.lines.contains(&"  \"title\": \"Q3\",".to_string()));
        }
        other => panic!("preview: {other:?}"),
    }
    // A reply for a file no longer selected is dropped.
    key(&mut a, KeyCode::Down);
    assert_eq!(files_cmds(&mut a), vec![preview_of("notes.txt")]);
    assert!(!net(
        &mut a,
        NetEvent::Files(FilesEvent::Preview {
            path: "docs/report.json".into(),
            size: 1,
            mime: String::new(),
            head: b"x".to_vec(),
        }),
    ));
    // Binary files show their size only.
    key(&mut a, KeyCode::Down);
    files_cmds(&mut a);
    net(
        &mut a,
        NetEvent::Files(FilesEvent::Preview {
            path: "photo.png".into(),
            size: 2_400_000,
            mime: "image/png".into(),
            head: vec![0x89, b'P', b'N', b'G', 0, 0],
        }),
    );
    assert!(render(&mut a, 100, 20).contains("binary, 2,400,000 bytes"));
    // ← goes up to the folder and closes it; → opens it again (listed already: no request).
    key(&mut a, KeyCode::Home);
    key(&mut a, KeyCode::Left);
    assert_eq!(a.panes.storage.rows().len(), 3);
    key(&mut a, KeyCode::Right);
    assert_eq!(a.panes.storage.rows().len(), 5);
    assert!(files_cmds(&mut a).is_empty());
    // The filter keeps matches and the folders on the way to them.
    key(&mut a, KeyCode::Char('/'));
    typ(&mut a, "report");
    key(&mut a, KeyCode::Enter);
    let rows: Vec<String> = a
        .panes
        .storage
        .rows()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(rows, ["docs", "docs/report.json"]);
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.panes.storage.rows().len(), 5);
}

#[test]
fn files_live_change_refreshes_the_folder_and_keeps_the_selection() {
    let mut a = files_app();
    let changed = |a: &mut App, path: &str| {
        net(
            a,
            NetEvent::Files(FilesEvent::Changed(FileChange::Updated {
                path: path.into(),
            })),
        )
    };
    // Nothing to redraw until the new listing arrives.
    assert!(!changed(&mut a, "docs/a-new.txt"));
    assert_eq!(files_cmds(&mut a), vec![list("docs")]);
    // A burst while that listing is on its way asks once more, not once per change.
    changed(&mut a, "docs/b-new.txt");
    changed(&mut a, "docs/c-new.txt");
    assert!(files_cmds(&mut a).is_empty());
    listed(
        &mut a,
        "docs",
        vec![
            fentry("a-new.txt", Some(1)),
            fentry("report.json", Some(27)),
            fentry("old", None),
        ],
    );
    assert_eq!(files_cmds(&mut a), vec![list("docs")]);
    assert_eq!(
        a.panes.storage.selected_entry().unwrap().0,
        "docs/report.json"
    );
    // The previewed file changed: it is read again (docs is being listed already).
    changed(&mut a, "docs/report.json");
    assert_eq!(files_cmds(&mut a), vec![preview_of("docs/report.json")]);
    // A new top-level folder shows in the root's listing.
    changed(&mut a, "inbox/deep/x.txt");
    assert_eq!(files_cmds(&mut a), vec![list("")]);
    // Someone deletes the selected file: the row that takes its place is selected.
    net(
        &mut a,
        NetEvent::Files(FilesEvent::Changed(FileChange::Deleted {
            path: "docs/report.json".into(),
        })),
    );
    listed(
        &mut a,
        "docs",
        vec![fentry("a-new.txt", Some(1)), fentry("old", None)],
    );
    assert_eq!(a.panes.storage.selected_entry().unwrap().0, "notes.txt");
}

#[test]
fn files_upload_prompt_completes_and_reports_progress() {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("data.csv");
    std::fs::write(&local, "a,b\n1,2\n").unwrap();
    let mut a = files_app();
    key(&mut a, KeyCode::Char('u'));
    assert!(matches!(a.popup, Some(Popup::Path(_))));
    typ(&mut a, &format!("{}/da", dir.path().display()));
    key(&mut a, KeyCode::Tab);
    match &a.popup {
        Some(Popup::Path(p)) => assert_eq!(p.edit.text, local.display().to_string()),
        _ => panic!("the prompt stays open"),
    }
    key(&mut a, KeyCode::Enter);
    assert!(a.popup.is_none());
    let cmds = files_cmds(&mut a);
    let FilesCommand::Upload {
        id,
        dest,
        overwrite,
        ..
    } = &cmds[0]
    else {
        panic!("{cmds:?}")
    };
    // Into the folder of the selected file.
    assert_eq!((dest.as_str(), *overwrite), ("docs/data.csv", false));
    let id = *id;
    let progress = |done| {
        NetEvent::Files(FilesEvent::Progress {
            id,
            kind: TransferKind::Upload,
            path: "docs/data.csv".into(),
            done,
            total: Some(8),
        })
    };
    assert!(net(&mut a, progress(4)));
    assert!(!net(&mut a, progress(4)), "no redraw without a change");
    assert!(render(&mut a, 100, 20).contains("50%"));
    net(
        &mut a,
        NetEvent::Files(FilesEvent::TransferDone {
            id,
            kind: TransferKind::Upload,
            path: "docs/data.csv".into(),
            local: local.clone(),
            bytes: 8,
        }),
    );
    assert!(a.panes.storage.transfers.is_empty());
    assert!(
        a.notice
            .as_ref()
            .unwrap()
            .text
            .contains("uploaded docs/data.csv")
    );
    assert_eq!(files_cmds(&mut a), vec![list("docs")]);
    // A file that is there already: replace only after a confirm.
    key(&mut a, KeyCode::Char('u'));
    let same = dir.path().join("report.json");
    std::fs::write(&same, "{}").unwrap();
    typ(&mut a, &same.display().to_string());
    key(&mut a, KeyCode::Enter);
    match &a.popup {
        Some(Popup::Confirm(c)) => assert!(c.body.starts_with("Replace docs/report.json")),
        _ => panic!("asks before replacing"),
    }
    key(&mut a, KeyCode::Char('y'));
    assert!(matches!(
        &files_cmds(&mut a)[0],
        FilesCommand::Upload {
            overwrite: true,
            ..
        }
    ));
    // Bad input stays in the prompt with the reason.
    key(&mut a, KeyCode::Char('u'));
    typ(&mut a, "/no/such/file");
    key(&mut a, KeyCode::Enter);
    match &a.popup {
        Some(Popup::Path(p)) => assert!(p.error.as_ref().unwrap().contains("/no/such/file")),
        _ => panic!("the prompt stays open"),
    }
    key(&mut a, KeyCode::Esc);
    assert!(a.popup.is_none() && files_cmds(&mut a).is_empty());
}

#[test]
fn files_download_to_a_local_path() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = files_app();
    key(&mut a, KeyCode::Char('x'));
    match &a.popup {
        Some(Popup::Path(p)) => assert_eq!(p.edit.text, "./report.json"),
        _ => panic!("s asks where to"),
    }
    ctrl(&mut a, 'u');
    typ(&mut a, &format!("{}/", dir.path().display()));
    key(&mut a, KeyCode::Enter);
    assert_eq!(
        files_cmds(&mut a),
        vec![FilesCommand::Download {
            id: 2,
            path: "docs/report.json".into(),
            local: dir.path().join("report.json"),
        }]
    );
    // Over an existing local file only after a confirm.
    std::fs::write(dir.path().join("report.json"), "old").unwrap();
    a.run_command(&format!("download {}/report.json", dir.path().display()));
    assert!(matches!(a.popup, Some(Popup::Confirm(_))));
    // A folder is not a download.
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Home);
    key(&mut a, KeyCode::Char('x'));
    assert!(a.popup.is_none());
    assert!(a.notice.as_ref().unwrap().text.contains("select a file"));
}

#[test]
fn files_delete_and_move_ask_first() {
    let mut a = files_app();
    key(&mut a, KeyCode::Home); // docs
    key(&mut a, KeyCode::Char('d'));
    match &a.popup {
        Some(Popup::Confirm(c)) => assert!(c.body.contains("Delete folder docs and everything")),
        _ => panic!("d must ask first"),
    }
    key(&mut a, KeyCode::Char('n'));
    assert!(files_cmds(&mut a).is_empty());
    key(&mut a, KeyCode::Delete);
    key(&mut a, KeyCode::Char('y'));
    assert_eq!(
        files_cmds(&mut a),
        vec![FilesCommand::Delete {
            path: "docs".into(),
            recursive: true
        }]
    );
    net(
        &mut a,
        NetEvent::Files(FilesEvent::Deleted {
            path: "docs".into(),
        }),
    );
    assert!(a.notice.as_ref().unwrap().text.contains("deleted docs"));
    assert_eq!(files_cmds(&mut a), vec![list("")]);
    assert!(!a.panes.storage.tree.is_listed("docs"));

    // Move: the prompt starts at the path; a folder as the target moves into it.
    let mut a = files_app();
    key(&mut a, KeyCode::Char('m'));
    ctrl(&mut a, 'u');
    typ(&mut a, "docs/old");
    key(&mut a, KeyCode::Enter);
    match &a.popup {
        Some(Popup::Confirm(c)) => {
            assert_eq!(c.body, "Move docs/report.json to docs/old/report.json?")
        }
        _ => panic!("move asks first"),
    }
    key(&mut a, KeyCode::Char('y'));
    assert_eq!(
        files_cmds(&mut a),
        vec![FilesCommand::Move {
            from: "docs/report.json".into(),
            to: "docs/old/report.json".into()
        }]
    );
    // Nonsense targets are refused in the prompt.
    key(&mut a, KeyCode::Char('m'));
    ctrl(&mut a, 'u');
    typ(&mut a, "../../etc/passwd");
    key(&mut a, KeyCode::Enter);
    match &a.popup {
        Some(Popup::Path(p)) => assert!(p.error.as_ref().unwrap().contains("without . or ..")),
        _ => panic!("the prompt stays open"),
    }
}

#[test]
fn files_changes_are_refused_in_read_only_mode() {
    let mut a = app_with(Options {
        read_only: true,
        ..Options::default()
    });
    net(&mut a, NetEvent::State(ConnState::Live));
    key(&mut a, KeyCode::Char('5'));
    listed(&mut a, "", vec![fentry("notes.txt", Some(12))]);
    for k in ['u', 'd', 'm'] {
        a.notice = None;
        key(&mut a, KeyCode::Char(k));
        assert!(a.popup.is_none(), "{k}");
        assert!(a.notice.as_ref().unwrap().text.contains("read-only"), "{k}");
    }
    for cmd in ["upload /etc/hosts", "delete", "move x"] {
        a.notice = None;
        a.run_command(cmd);
        assert!(a.popup.is_none(), "{cmd}");
        assert!(
            a.notice.as_ref().unwrap().text.contains("read-only"),
            "{cmd}"
        );
    }
    assert!(
        files_cmds(&mut a)
            .iter()
            .all(|c| matches!(c, FilesCommand::List { .. } | FilesCommand::Preview { .. }))
    );
    // Reading is fine: download asks where to.
    key(&mut a, KeyCode::Char('x'));
    assert!(matches!(a.popup, Some(Popup::Path(_))));
    // The hint bar leaves the refused keys out.
    key(&mut a, KeyCode::Esc);
    let screen = render(&mut a, 100, 20);
    assert!(screen.contains("x download") && !screen.contains("u upload"));
}

#[test]
fn files_mouse_selects_and_opens_rows() {
    let mut a = files_app();
    render(&mut a, 100, 20);
    // Row 0 (docs) is on screen line 3: tab bar, the block's top border, the header.
    let click = |a: &mut App, row: u16| {
        a.update(Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 5,
            row,
            modifiers: KeyModifiers::NONE,
        }))
    };
    click(&mut a, 6);
    assert_eq!(a.panes.storage.selected_entry().unwrap().0, "notes.txt");
    click(&mut a, 3);
    assert_eq!(a.panes.storage.selected_entry().unwrap().0, "docs");
    // A click on the selected folder closes it.
    click(&mut a, 3);
    assert_eq!(a.panes.storage.rows().len(), 3);
}

// ------------------------------------------------------------------ snapshots

#[test]
fn snapshot_services() {
    let mut a = services_app();
    a.notice = None;
    insta::assert_snapshot!(render(&mut a, 100, 24));
}

#[test]
fn snapshot_files() {
    let mut a = files_app();
    net(
        &mut a,
        NetEvent::Files(FilesEvent::Progress {
            id: 9,
            kind: TransferKind::Download,
            path: "photo.png".into(),
            done: 600_000,
            total: Some(2_400_000),
        }),
    );
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
    a.panes.logs.search = "jobs".into();
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
        for tab in ['1', '2', '3', '4', '5', '6', '?'] {
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
    let mut a = live_app_with(Options {
        local: true,
        ..Options::default()
    });
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

// ------------------------------------------------------------------ database

fn col(name: &str, ty: &str, nullable: bool) -> ColumnInfo {
    ColumnInfo {
        name: name.into(),
        ty: ty.into(),
        nullable,
    }
}

fn table(name: &str, rows: u64) -> TableSummary {
    TableSummary {
        name: name.into(),
        rows: Some(rows),
    }
}

fn sql(a: &mut App, id: u64, event: SqlEvent) -> bool {
    net(a, NetEvent::Sql { id, event })
}

fn f5(a: &mut App) {
    key(a, KeyCode::F(5));
}

/// The database tab with two tables listed and the first one's schema read.
fn database_app_with(opts: Options) -> App {
    let mut a = app_with(opts);
    net(&mut a, NetEvent::State(ConnState::Live));
    a.take_effects();
    key(&mut a, KeyCode::Char('6'));
    assert_eq!(a.tab, Tab::Database);
    assert_eq!(net_cmds(&mut a), vec![NetCommand::RefreshTables]);
    net(
        &mut a,
        NetEvent::Tables(vec![table("people", 3), table("orders", 1_250)]),
    );
    // Sorted by name; the selected table's schema is asked for.
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::InspectTable {
            table: "orders".into()
        }]
    );
    net(
        &mut a,
        NetEvent::TableSchema {
            table: "orders".into(),
            columns: vec![
                col("id", "Int64", false),
                col("customer", "Utf8", true),
                col("total", "Float64", true),
            ],
        },
    );
    a
}

fn database_app() -> App {
    database_app_with(Options::default())
}

/// Types SQL into the editor (focusing it with `i`) and runs it with f5.
fn run(a: &mut App, text: &str) -> Vec<NetCommand> {
    if a.focused() != Focus::DbEditor {
        key(a, KeyCode::Char('i'));
    }
    a.panes.database.editor.set_text("");
    typ(a, text);
    f5(a);
    net_cmds(a)
}

fn orders_result(a: &mut App, id: u64) {
    sql(
        a,
        id,
        SqlEvent::Columns(vec![
            col("id", "Int64", false),
            col("customer", "Utf8", true),
            col("total", "Float64", true),
        ]),
    );
    sql(
        a,
        id,
        SqlEvent::Rows(vec![
            vec![json!(1), json!("Ada Lovelace"), json!(12.5)],
            vec![json!(2), json!("Grace Hopper"), json!(null)],
            vec![
                json!(3),
                json!("a customer with a very long name that will not fit in forty columns"),
                json!(1999.99),
            ],
        ]),
    );
}

#[test]
fn sql_is_classified_by_its_words_not_its_strings_or_comments() {
    use super::panes::database::sql::{SqlKind, classify};
    for (text, kind) in [
        ("", SqlKind::Empty),
        ("  -- only a comment\n /* and another */ ;", SqlKind::Empty),
        ("select * from t", SqlKind::Read),
        ("WITH x AS (SELECT 1) SELECT * FROM x", SqlKind::Read),
        ("explain query plan delete from t", SqlKind::Read),
        ("values (1), (2)", SqlKind::Read),
        ("pragma table_info(t)", SqlKind::Read),
        ("PRAGMA main.table_info('t')", SqlKind::Read),
        ("pragma user_version", SqlKind::Read),
        ("pragma user_version = 3", SqlKind::Write),
        ("pragma journal_mode(wal)", SqlKind::Write),
        (
            "select 'drop table t; delete' -- delete from t",
            SqlKind::Read,
        ),
        ("select \"delete\" from t /* drop */", SqlKind::Read),
        ("insert into t values ('x')", SqlKind::Write),
        ("update t set a = 1", SqlKind::Write),
        ("create table t (a int)", SqlKind::Write),
        (
            "with x as (select 1) insert into t select * from x",
            SqlKind::Write,
        ),
        ("with x as (select 1) delete from t", SqlKind::Destructive),
        ("DROP TABLE t", SqlKind::Destructive),
        ("delete from t where id = 1", SqlKind::Destructive),
        ("truncate t", SqlKind::Destructive),
        ("alter table t drop column a", SqlKind::Destructive),
        ("alter table t add column a int", SqlKind::Write),
        ("alter table t rename to 'drop'", SqlKind::Write),
        ("select 1; drop table t", SqlKind::Destructive),
        ("select ';'; insert into t values (1)", SqlKind::Write),
        ("select 'unterminated; drop table t", SqlKind::Read),
    ] {
        assert_eq!(classify(text), kind, "{text}");
    }
}

#[test]
fn result_columns_fit_their_content_up_to_a_bound() {
    use super::panes::database::results::{MAX_WIDTH, fit, truncate};
    let mut widths = vec![2, 4, 1];
    fit(
        &mut widths,
        &[json!(12345), json!("ab"), json!("x".repeat(100))],
    );
    assert_eq!(widths, [5, 4, MAX_WIDTH]);
    fit(
        &mut widths,
        &[json!(null), json!("line\nbreak"), json!(true)],
    );
    assert_eq!(
        widths,
        [5, 10, MAX_WIDTH],
        "NULL is 4 wide, newlines are spaces"
    );
    assert_eq!(truncate("hello world", 6), "hello…");
    assert_eq!(truncate("hello", 5), "hello");
    assert_eq!(truncate("日本語テキスト", 5), "日本…");
    assert_eq!(truncate("abc", 0), "");
    // Widths come from a sample of the first rows, not from all of them.
    let mut a = database_app();
    let cmds = run(&mut a, "select * from orders");
    assert!(matches!(cmds[..], [NetCommand::SqlRun { id: 1, .. }]));
    orders_result(&mut a, 1);
    assert_eq!(a.panes.database.results.widths, [2, 40, 7]);
}

#[test]
fn tables_list_schema_and_enter_writes_a_select() {
    let mut a = database_app();
    let names: Vec<_> = a
        .panes
        .database
        .tables
        .visible()
        .iter()
        .map(|t| t.name.clone())
        .collect();
    assert_eq!(names, ["orders", "people"]);
    key(&mut a, KeyCode::Down);
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::InspectTable {
            table: "people".into()
        }]
    );
    key(&mut a, KeyCode::Up);
    assert!(net_cmds(&mut a).is_empty(), "orders' schema is known");
    key(&mut a, KeyCode::Enter);
    // The query is written, the focus stays on the list (so e still exports) and a notice
    // says what runs it.
    assert_eq!(a.focused(), Focus::DbTables);
    assert_eq!(
        a.panes.database.editor.text(),
        "SELECT * FROM \"orders\" LIMIT 100"
    );
    assert!(a.notice.as_ref().unwrap().text.contains("runs it"));
    key(&mut a, KeyCode::Char('i'));
    assert_eq!(a.focused(), Focus::DbEditor);
    // Typed keys go to the editor, even the ones bound elsewhere (q quits, 2 is a tab).
    typ(&mut a, " q2");
    assert!(!a.quit);
    assert_eq!(a.tab, Tab::Database);
    assert!(a.panes.database.editor.text().ends_with(" q2"));
    // Esc leaves the editor; r then refreshes the tables.
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.focused(), Focus::DbTables);
    key(&mut a, KeyCode::Char('r'));
    assert_eq!(net_cmds(&mut a), vec![NetCommand::RefreshTables]);
}

#[test]
fn a_query_streams_its_rows_and_is_kept_in_the_history() {
    let mut a = app_with(Options {
        sql_history_file: Some("/tmp/h.json".into()),
        sql_history: vec!["select 1".into()],
        ..Options::default()
    });
    net(&mut a, NetEvent::State(ConnState::Live));
    key(&mut a, KeyCode::Char('6'));
    key(&mut a, KeyCode::Char('i'));
    typ(&mut a, "select * from orders");
    ctrl(&mut a, 'r');
    let effects = a.take_effects();
    assert!(effects.contains(&Effect::SaveSqlHistory {
        path: "/tmp/h.json".into(),
        entries: vec!["select 1".into(), "select * from orders".into()],
    }));
    assert!(effects.contains(&Effect::Net(NetCommand::SqlRun {
        id: 1,
        sql: "select * from orders".into(),
        keep: 10_000,
    })));
    assert!(a.panes.database.running.is_some());
    // A second run waits for the first.
    f5(&mut a);
    assert!(net_cmds(&mut a).is_empty());
    assert!(a.notice.as_ref().unwrap().text.contains("esc cancels"));
    orders_result(&mut a, 1);
    assert_eq!(a.panes.database.results.rows.len(), 3);
    a.now_ms += 42;
    assert!(sql(
        &mut a,
        1,
        SqlEvent::Done {
            seen: 3,
            more: false
        }
    ));
    assert!(a.panes.database.running.is_none());
    // A read changes no table: no refresh.
    assert!(net_cmds(&mut a).is_empty());
    // History: up on the first line walks back, down comes forward to the draft.
    a.panes.database.editor.set_text("sel");
    key(&mut a, KeyCode::Up);
    assert_eq!(a.panes.database.editor.text(), "select * from orders");
    ctrl(&mut a, 'p');
    assert_eq!(a.panes.database.editor.text(), "select 1");
    ctrl(&mut a, 'p');
    assert_eq!(
        a.panes.database.editor.text(),
        "select 1",
        "the oldest stays"
    );
    ctrl(&mut a, 'n');
    key(&mut a, KeyCode::Down);
    assert_eq!(a.panes.database.editor.text(), "sel");
    // Results scroll on both axes.
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focused(), Focus::DbResults);
    key(&mut a, KeyCode::End);
    assert_eq!(a.panes.database.results.selected, 2);
    key(&mut a, KeyCode::Right);
    assert_eq!(a.panes.database.results.col_offset, 1);
    key(&mut a, KeyCode::Char('y'));
    assert!(a.take_effects().iter().any(|e| matches!(e,
        Effect::Copy(t) if t == "3,a customer with a very long name that will not fit in forty columns,1999.99")));
}

#[test]
fn results_are_bounded_and_say_so() {
    let mut a = database_app();
    run(&mut a, "select * from big");
    sql(&mut a, 1, SqlEvent::Columns(vec![col("n", "Int64", false)]));
    for batch in 0..2 {
        let rows = (0..6_000).map(|i| vec![json!(batch * 6_000 + i)]).collect();
        sql(&mut a, 1, SqlEvent::Rows(rows));
    }
    sql(
        &mut a,
        1,
        SqlEvent::Done {
            seen: 12_000,
            more: true,
        },
    );
    let grid = &a.panes.database.results;
    assert_eq!(grid.rows.len(), 10_000);
    assert_eq!(grid.summary(), "showing first 10,000 of 12,000+ rows");
    // The cut result of a read exports by running the query again, streamed to disk.
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Char('x'));
    match &a.popup {
        Some(Popup::Prompt(p)) => assert_eq!(p.text(), "./result.csv"),
        _ => panic!("e asks where to export"),
    }
    key(&mut a, KeyCode::Enter);
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::SqlExport {
            path: "./result.csv".into(),
            format: ExportFormat::Csv,
            source: ExportSource::Query("select * from big".into()),
        }]
    );
    net(
        &mut a,
        NetEvent::Exported {
            path: "./result.csv".into(),
            rows: 12_000,
        },
    );
    assert!(
        a.notice
            .as_ref()
            .unwrap()
            .text
            .contains("exported 12,000 rows")
    );
}

#[test]
fn a_whole_result_exports_the_rows_held() {
    let mut a = database_app();
    run(&mut a, "select * from orders");
    orders_result(&mut a, 1);
    sql(
        &mut a,
        1,
        SqlEvent::Done {
            seen: 3,
            more: false,
        },
    );
    a.run_command("export out/o.JSON");
    match &net_cmds(&mut a)[..] {
        [
            NetCommand::SqlExport {
                path,
                format: ExportFormat::Json,
                source: ExportSource::Rows { columns, rows },
            },
        ] => {
            assert_eq!(path, "out/o.JSON");
            assert_eq!(columns, &["id", "customer", "total"]);
            assert_eq!(rows.len(), 3);
        }
        other => panic!("{other:?}"),
    }
    // Nothing to export before a result.
    let mut b = database_app();
    key(&mut b, KeyCode::Char('x'));
    assert!(b.popup.is_none());
    assert!(b.notice.as_ref().unwrap().text.contains("no result"));
}

#[test]
fn sql_errors_show_inline_and_runs_can_be_cancelled() {
    let mut a = database_app();
    run(&mut a, "select * from nope");
    assert!(sql(
        &mut a,
        1,
        SqlEvent::Error("SQL error: no such table: nope".into())
    ));
    assert!(a.panes.database.running.is_none());
    let screen = render(&mut a, 100, 20);
    assert!(
        screen.contains("✗ SQL error: no such table: nope"),
        "{screen}"
    );
    // Esc cancels a running query (in the editor as in the other panes).
    run(&mut a, "select * from orders");
    key(&mut a, KeyCode::Esc);
    assert_eq!(net_cmds(&mut a), vec![NetCommand::SqlCancel { id: 2 }]);
    assert_eq!(a.focused(), Focus::DbEditor, "esc cancels before it leaves");
    assert!(render(&mut a, 100, 20).contains("cancelling…"));
    sql(&mut a, 2, SqlEvent::Cancelled);
    assert!(a.panes.database.running.is_none());
    // News of a finished run is dropped.
    assert!(!sql(&mut a, 2, SqlEvent::Rows(vec![vec![json!(1)]])));
    assert!(!sql(
        &mut a,
        1,
        SqlEvent::Done {
            seen: 0,
            more: false
        }
    ));
}

#[test]
fn writes_refresh_the_tables_and_drops_ask_first() {
    let mut a = database_app();
    let cmds = run(&mut a, "insert into people values (4, 'Alan')");
    assert!(matches!(cmds[..], [NetCommand::SqlRun { id: 1, .. }]));
    sql(&mut a, 1, SqlEvent::Affected(1));
    assert_eq!(net_cmds(&mut a), vec![NetCommand::RefreshTables]);
    assert!(render(&mut a, 100, 20).contains("✓ 1 row changed"));
    // A drop asks first; no sends it nowhere.
    let cmds = run(&mut a, "drop table people");
    assert!(cmds.is_empty());
    match &a.popup {
        Some(Popup::Confirm(c)) => assert!(c.body.contains("drop table people"), "{}", c.body),
        _ => panic!("a drop must ask first"),
    }
    key(&mut a, KeyCode::Char('n'));
    assert!(a.popup.is_none());
    assert!(net_cmds(&mut a).is_empty());
    assert!(a.panes.database.running.is_none());
    // Yes runs it like any other.
    f5(&mut a);
    key(&mut a, KeyCode::Char('y'));
    assert_eq!(
        net_cmds(&mut a),
        vec![NetCommand::SqlRun {
            id: 2,
            sql: "drop table people".into(),
            keep: 10_000,
        }]
    );
    sql(&mut a, 2, SqlEvent::Affected(0));
    assert_eq!(net_cmds(&mut a), vec![NetCommand::RefreshTables]);
    // From the palette too.
    a.run_command("sql delete from orders -- all of them");
    assert!(matches!(a.popup, Some(Popup::Confirm(_))));
}

#[test]
fn read_only_mode_runs_only_reads() {
    let mut a = database_app_with(Options {
        read_only: true,
        ..Options::default()
    });
    for write in [
        "insert into people values (1)",
        "drop table people",
        "pragma user_version = 2",
        "select 1; update people set name = 'x'",
    ] {
        let cmds = run(&mut a, write);
        assert!(cmds.is_empty(), "{write}: {cmds:?}");
        assert!(a.popup.is_none(), "{write}: no confirm either");
        assert!(a.notice.as_ref().unwrap().text.contains("read-only"));
    }
    assert!(render(&mut a, 100, 20).contains("✗ read-only mode: only SELECT"));
    let cmds = run(&mut a, "select count(*) from people");
    assert!(matches!(cmds[..], [NetCommand::SqlRun { .. }]), "{cmds:?}");
    sql(&mut a, 1, SqlEvent::Error("boom".into()));
    let cmds = run(&mut a, "pragma table_info(people)");
    assert!(matches!(cmds[..], [NetCommand::SqlRun { .. }]), "{cmds:?}");
}

#[test]
fn snapshot_database_tables_and_result() {
    let mut a = database_app();
    net(
        &mut a,
        NetEvent::Joined {
            room: "default".into(),
            participant_id: "me-1".into(),
            name: "ada".into(),
        },
    );
    run(&mut a, "select * from orders");
    orders_result(&mut a, 1);
    a.now_ms += 42;
    sql(
        &mut a,
        1,
        SqlEvent::Done {
            seen: 3,
            more: false,
        },
    );
    key(&mut a, KeyCode::Tab);
    a.notice = None;
    insta::assert_snapshot!(render(&mut a, 100, 20));
}

#[test]
fn snapshot_database_error_inline() {
    let mut a = database_app();
    run(&mut a, "select id,\n  customer\nfrom nope");
    sql(
        &mut a,
        1,
        SqlEvent::Error("SQL error: no such table: nope".into()),
    );
    a.notice = None;
    insta::assert_snapshot!(render(&mut a, 90, 16));
}

#[test]
fn database_tab_draws_at_any_size_and_zoomed() {
    let mut a = database_app();
    run(&mut a, "select * from orders");
    orders_result(&mut a, 1);
    sql(&mut a, 1, SqlEvent::Error("x ".repeat(200)));
    for (w, h) in [(40, 10), (41, 12), (60, 15), (200, 50)] {
        for _ in 0..3 {
            render(&mut a, w, h);
            key(&mut a, KeyCode::Char('z'));
            render(&mut a, w, h);
            key(&mut a, KeyCode::Char('z'));
            key(&mut a, KeyCode::Tab);
        }
    }
}

// ------------------------------------------------------------------ participant detail

fn detail_of_grace() -> (App, u64) {
    let mut a = populated();
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Enter);
    let id = net_cmds(&mut a)
        .into_iter()
        .find_map(|c| match c {
            NetCommand::Tools(ToolsCommand::Invoke {
                id,
                toolkit,
                tool,
                arguments,
            }) if toolkit == "stats" && tool == "participant" => {
                assert_eq!(arguments, json!({"id": "p-2"}));
                Some(id)
            }
            _ => None,
        })
        .expect("the room is asked about grace");
    (a, id)
}

#[test]
fn enter_on_a_participant_shows_its_detail_with_the_rooms_scope() {
    let (mut a, id) = detail_of_grace();
    let Some(Popup::Peer(p)) = &a.popup else {
        panic!("no detail")
    };
    assert_eq!(p.info.name, "grace");
    net(
        &mut a,
        NetEvent::Tools(super::net::ToolsEvent::Answered {
            id,
            outcome: super::net::ToolOutcome::Json(json!({
                "id": "p-2", "name": "grace", "role": "agent",
                "attributes": {"name": "grace", "team": "blue"},
                "scope": {"queues": {"send": ["jobs"]}, "messaging": {}},
            })),
            elapsed_ms: 1,
        }),
    );
    let Some(Popup::Peer(p)) = &a.popup else {
        panic!("no detail")
    };
    assert_eq!(
        p.scope,
        super::popups::peer::Scope::Known(json!({"queues": {"send": ["jobs"]}, "messaging": {}}))
    );
    assert_eq!(p.info.attributes["team"], "blue");
    // The answer to the console's own question stays out of the tools tab.
    assert!(a.panes.tools.calls.is_empty());
    // Esc closes it; enter on "everyone" writes to everyone.
    key(&mut a, KeyCode::Esc);
    assert!(a.popup.is_none());
    key(&mut a, KeyCode::Home);
    key(&mut a, KeyCode::Enter);
    assert!(a.composing());
}

#[test]
fn snapshot_participant_detail() {
    let (mut a, id) = detail_of_grace();
    net(
        &mut a,
        NetEvent::Tools(super::net::ToolsEvent::Answered {
            id,
            outcome: super::net::ToolOutcome::Json(json!({
                "attributes": {"name": "grace", "team": "blue"},
                "scope": {"queues": {"send": ["jobs"]}, "messaging": {}},
            })),
            elapsed_ms: 1,
        }),
    );
    insta::assert_snapshot!("participant_detail_80x24", render(&mut a, 80, 24));
    insta::assert_snapshot!("participant_detail_160x45", render(&mut a, 160, 45));
}

#[test]
fn a_room_without_the_stats_toolkit_says_it_does_not_know_the_scope() {
    let (mut a, id) = detail_of_grace();
    net(
        &mut a,
        NetEvent::Tools(super::net::ToolsEvent::Answered {
            id,
            outcome: super::net::ToolOutcome::Error("no toolkit named `stats`".into()),
            elapsed_ms: 1,
        }),
    );
    let screen = render(&mut a, 100, 30);
    assert!(screen.contains("the room does not say"), "{screen}");
}

// ------------------------------------------------------------------ first minutes

#[test]
fn a_failing_palette_command_keeps_the_palette_open_with_its_error() {
    let mut a = live_app();
    key(&mut a, KeyCode::Char(':'));
    typ(&mut a, "send jobs {nope");
    key(&mut a, KeyCode::Enter);
    let Some(Popup::Palette(p)) = &a.popup else {
        panic!("the palette closed on a failing command")
    };
    assert_eq!(p.edit.text, "send jobs {nope");
    assert!(p.error.as_deref().unwrap().contains("not valid JSON"));
    assert!(net_cmds(&mut a).is_empty());
    insta::assert_snapshot!("palette_error_80x24", render(&mut a, 80, 24));
    // Typing clears the error; a good command closes it.
    key(&mut a, KeyCode::Backspace);
    let Some(Popup::Palette(p)) = &a.popup else {
        panic!()
    };
    assert!(p.error.is_none());
    if let Some(Popup::Palette(p)) = &mut a.popup {
        p.edit.set(r#"send jobs {"ok": 1}"#);
    }
    key(&mut a, KeyCode::Enter);
    assert!(a.popup.is_none());
}

#[test]
fn notices_are_cleared_on_a_tab_change() {
    let mut a = live_app();
    a.run_command("bogus");
    assert!(a.notice.is_some());
    key(&mut a, KeyCode::Char('2'));
    assert!(a.notice.is_none());
}

#[test]
fn j_and_k_move_in_lists_with_the_default_keymap() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('2'));
    assert_eq!(a.panes.queues.selected, 0);
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('j'));
    assert_eq!(a.panes.queues.selected, 2);
    key(&mut a, KeyCode::Char('k'));
    assert_eq!(a.panes.queues.selected, 1);
}

#[test]
fn the_hint_line_keeps_help_and_quit_at_80_columns() {
    let mut a = populated();
    for tab in ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] {
        key(&mut a, KeyCode::Char(tab));
        let screen = render(&mut a, 80, 24);
        let hints = screen.lines().last().unwrap();
        assert!(
            hints.contains("? help") && hints.contains("q quit"),
            "tab {tab}: {hints}"
        );
        // The tab bar names every tab (short titles when narrow), not just numbers.
        let bar = screen.lines().next().unwrap();
        assert!(
            bar.contains("Chat") && bar.contains("Tools"),
            "tab {tab}: {bar}"
        );
    }
}

#[test]
fn the_logs_badge_counts_unread_lines() {
    let mut a = populated();
    let bar = |a: &mut App| render(a, 160, 20).lines().next().unwrap().to_string();
    assert!(bar(&mut a).contains("3 Logs 5"));
    key(&mut a, KeyCode::Char('3'));
    bar(&mut a);
    key(&mut a, KeyCode::Char('1'));
    assert!(
        bar(&mut a).contains("3 Logs "),
        "read lines are not counted"
    );
    assert!(!bar(&mut a).contains("3 Logs 5"));
    net(
        &mut a,
        NetEvent::Logs(vec![log(9, Level::Info, "one more")]),
    );
    assert!(bar(&mut a).contains("3 Logs 1"));
}

#[test]
fn snapshot_hint_line_and_tabs_at_80x24_and_160x45() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('2'));
    insta::assert_snapshot!("queues_80x24", render(&mut a, 80, 24));
    insta::assert_snapshot!("queues_160x45", render(&mut a, 160, 45));
}

#[test]
fn long_file_names_are_cut_with_an_ellipsis_at_80x24() {
    let mut a = live_app();
    key(&mut a, KeyCode::Char('5'));
    listed(
        &mut a,
        "",
        vec![fentry(
            "quarterly-report-of-the-northern-region-final-v2.json",
            Some(2_048),
        )],
    );
    let screen = render(&mut a, 80, 24);
    let row = screen
        .lines()
        .find(|l| l.contains("quarterly") && l.contains("KB"))
        .expect("the file is listed");
    assert!(row.contains('…'), "{row}");
    assert!(row.contains("2.0 KB"), "the size stays: {row}");
    insta::assert_snapshot!("files_80x24", screen);
}

#[test]
fn help_lists_the_tabs_own_keys_first_and_names_every_tab() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('2'));
    key(&mut a, KeyCode::Char('?'));
    let screen = render(&mut a, 100, 40);
    let first = screen
        .lines()
        .position(|l| l.contains("this tab: queues"))
        .expect("a section for the tab");
    let global = screen.lines().position(|l| l.contains("global")).unwrap();
    assert!(first < global, "{screen}");
    assert!(screen.contains("queue_send"));
    // Every tab is named among the bindings (tab_overview … tab_tools).
    key(&mut a, KeyCode::Esc);
    key(&mut a, KeyCode::Char('?'));
    typ(&mut a, "tab_");
    let screen = render(&mut a, 100, 40);
    for name in [
        "overview",
        "chat",
        "queues",
        "logs",
        "services",
        "files",
        "database",
        "documents",
        "toolkits",
    ] {
        assert!(screen.contains(&format!("{name} tab")), "{name}: {screen}");
    }
}

#[test]
fn a_cli_sender_is_named_by_the_room_and_listed_after_it_left() {
    let mut a = populated();
    net(
        &mut a,
        NetEvent::Message(ChatMessage {
            time_ms: T0,
            from_id: "b498f74b-cli".into(),
            from_name: "b498f74b".into(),
            to: None,
            kind: "chat".into(),
            text: "deployed".into(),
            attachment: None,
            own: false,
        }),
    );
    let call = net_cmds(&mut a)
        .into_iter()
        .find_map(|c| match c {
            NetCommand::Tools(ToolsCommand::Invoke {
                id,
                tool,
                arguments,
                ..
            }) if tool == "participant" => {
                assert_eq!(arguments, json!({"id": "b498f74b-cli"}));
                Some(id)
            }
            _ => None,
        })
        .expect("the room is asked who sent it");
    assert!(net(
        &mut a,
        NetEvent::Tools(super::net::ToolsEvent::Answered {
            id: call,
            outcome: super::net::ToolOutcome::Json(
                json!({"id": "b498f74b-cli", "name": "deploy-bot", "role": "user", "present": false})
            ),
            elapsed_ms: 1,
        }),
    ));
    let screen = render(&mut a, 100, 24);
    assert!(screen.contains("deploy-bot  deployed"), "{screen}");
    assert!(!screen.contains("b498f74b"), "{screen}");
    assert!(screen.contains("○ deploy-bot"), "listed as gone: {screen}");
    assert!(a.panes.tools.calls.is_empty());
}
