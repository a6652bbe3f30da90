//! The overview tab: sampling the room's counters (or what the console sees), quiet samples
//! that ask for no redraw, blocks that open their tab, and frames at 80x24 and 160x45.

use crossterm::event::KeyCode;
use serde_json::json;

use super::{key, live_app, net, net_cmds, populated, render};
use crate::tui::app::{App, Msg, Tab};
use crate::tui::net::{
    NetCommand, NetEvent, ServiceSummary, ToolOutcome, ToolsCommand, ToolsEvent,
};
use crate::tui::panes::overview::{Rate, SAMPLE_MS, Source};

/// The id of the `stats.room` call among the commands sent, if one was.
fn stats_call(cmds: &[NetCommand]) -> Option<u64> {
    cmds.iter().find_map(|c| match c {
        NetCommand::Tools(ToolsCommand::Invoke {
            id, toolkit, tool, ..
        }) if toolkit == "stats" && tool == "room" => Some(*id),
        _ => None,
    })
}

fn answer(a: &mut App, id: u64, outcome: ToolOutcome) -> bool {
    net(
        a,
        NetEvent::Tools(ToolsEvent::Answered {
            id,
            outcome,
            elapsed_ms: 1,
        }),
    )
}

fn totals(messages: u64, queue_ops: u64, calls: u64, errors: u64) -> ToolOutcome {
    ToolOutcome::Json(json!({
        "messages": messages, "queue_operations": queue_ops, "calls": calls, "errors": errors,
        "participants": 2,
    }))
}

/// One second passes: the tick takes a sample; returns (redraw, the stats call sent).
fn second(a: &mut App) -> (bool, Option<u64>) {
    a.now_ms += SAMPLE_MS;
    let redraw = a.update(Msg::Tick);
    (redraw, stats_call(&net_cmds(a)))
}

#[test]
fn the_console_opens_on_the_overview_and_zero_opens_it() {
    let a = crate::tui::app::App::new(
        crate::tui::theme::Theme::builtin("dark").unwrap(),
        crate::tui::keymap::Keymap::preset(crate::tui::keymap::Preset::Default),
        Default::default(),
    );
    assert_eq!(a.tab, Tab::Overview);
    // Opening on it, the first connection starts the polling the overview shows.
    let mut a = a;
    a.now_ms = super::T0;
    net(&mut a, NetEvent::State(crate::tui::net::ConnState::Live));
    let cmds = net_cmds(&mut a);
    assert!(cmds.contains(&NetCommand::WatchQueues(true)), "{cmds:?}");
    assert!(cmds.contains(&NetCommand::WatchServices(true)), "{cmds:?}");
    assert!(stats_call(&cmds).is_some(), "{cmds:?}");
    let mut a = live_app();
    key(&mut a, KeyCode::Char('0'));
    assert_eq!(a.tab, Tab::Overview);
    let cmds = net_cmds(&mut a);
    // The overview polls queues and services, lists tables and files, and asks for counters.
    assert!(cmds.contains(&NetCommand::WatchQueues(true)), "{cmds:?}");
    assert!(cmds.contains(&NetCommand::WatchServices(true)), "{cmds:?}");
    assert!(cmds.contains(&NetCommand::RefreshTables), "{cmds:?}");
    assert!(stats_call(&cmds).is_some(), "{cmds:?}");
    key(&mut a, KeyCode::Char('2'));
    // Queues stay watched; services stop.
    assert_eq!(net_cmds(&mut a), vec![NetCommand::WatchServices(false)]);
}

#[test]
fn rates_come_from_the_rooms_counters_and_quiet_samples_do_not_redraw() {
    let mut a = live_app();
    key(&mut a, KeyCode::Char('0'));
    let id = stats_call(&net_cmds(&mut a)).unwrap();
    // The answer to the console's own poll is not a tool call the tools tab shows.
    assert!(!answer(&mut a, id, totals(10, 5, 40, 0)));
    assert_eq!(a.panes.overview.source, Source::Room);
    let (_, id) = second(&mut a);
    answer(&mut a, id.unwrap(), totals(13, 9, 52, 1));
    let (redraw, id) = second(&mut a);
    assert!(redraw);
    let last = |a: &App, r: Rate| a.panes.overview.rates[r as usize].back().copied();
    assert_eq!(last(&a, Rate::Messages), Some(3));
    assert_eq!(last(&a, Rate::QueueOps), Some(4));
    assert_eq!(last(&a, Rate::ToolCalls), Some(12));
    assert_eq!(last(&a, Rate::Errors), Some(1));
    assert!(
        a.panes.tools.calls.is_empty(),
        "the stats polls stay out of the tools tab"
    );
    // Nothing happens for a while: once the graphs hold only zeros, samples stop redrawing.
    let mut id = id;
    let mut redraws = Vec::new();
    for _ in 0..(crate::tui::panes::overview::SAMPLES + 2) {
        answer(&mut a, id.unwrap(), totals(13, 9, 52, 1));
        let (redraw, next) = second(&mut a);
        redraws.push(redraw);
        id = next;
    }
    assert_eq!(
        redraws.last(),
        Some(&false),
        "an idle overview asks for no redraw"
    );
    // Off the overview, nothing is sampled and no tick is scheduled for it.
    key(&mut a, KeyCode::Char('1'));
    net_cmds(&mut a);
    assert_eq!(a.next_deadline(), None);
}

#[test]
fn a_room_without_the_stats_toolkit_shows_what_the_console_sees() {
    let mut a = live_app();
    key(&mut a, KeyCode::Char('0'));
    let id = stats_call(&net_cmds(&mut a)).unwrap();
    answer(
        &mut a,
        id,
        ToolOutcome::Error("this room has no toolkit named `stats`".into()),
    );
    assert_eq!(a.panes.overview.source, Source::Console);
    for text in ["one", "two"] {
        net(
            &mut a,
            NetEvent::Message(crate::tui::net::ChatMessage {
                time_ms: 0,
                from_id: "p-2".into(),
                from_name: "grace".into(),
                to: None,
                kind: "chat".into(),
                text: text.into(),
                attachment: None,
                own: false,
            }),
        );
    }
    net(
        &mut a,
        NetEvent::QueueSent {
            name: "jobs".into(),
        },
    );
    let (redraw, id) = second(&mut a);
    assert!(redraw);
    assert_eq!(id, None, "the console does not ask again");
    assert_eq!(
        a.panes.overview.rates[Rate::Messages as usize].back(),
        Some(&2)
    );
    assert_eq!(
        a.panes.overview.rates[Rate::QueueOps as usize].back(),
        Some(&1)
    );
}

#[test]
fn each_block_opens_its_tab() {
    let mut a = populated();
    key(&mut a, KeyCode::Char('0'));
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.tab, Tab::Chat);
    key(&mut a, KeyCode::Char('0'));
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.tab, Tab::Queues);
    key(&mut a, KeyCode::Char('0'));
    for _ in 0..4 {
        key(&mut a, KeyCode::Down);
    }
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.tab, Tab::Database);
}

/// A room with activity, services and a few samples of rates.
fn busy_overview() -> App {
    let mut a = populated();
    net(
        &mut a,
        NetEvent::Services(vec![ServiceSummary {
            id: "svc-1".into(),
            name: "indexer".into(),
            state: "running".into(),
            started_at: None,
            restart_count: 2,
            last_exit_code: None,
            liveness: "ready".into(),
        }]),
    );
    key(&mut a, KeyCode::Char('0'));
    let mut id = stats_call(&net_cmds(&mut a));
    for (i, n) in [0u64, 3, 5, 9, 14, 15, 21, 30].iter().enumerate() {
        let i = i as u64;
        answer(&mut a, id.unwrap(), totals(*n, n * 2, n * 3, i / 3));
        id = second(&mut a).1;
    }
    a.notice = None;
    a
}

#[test]
fn snapshot_overview_80x24() {
    let mut a = busy_overview();
    insta::assert_snapshot!(render(&mut a, 80, 24));
}

#[test]
fn snapshot_overview_160x45() {
    let mut a = busy_overview();
    insta::assert_snapshot!(render(&mut a, 160, 45));
}
