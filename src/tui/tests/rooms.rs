//! The `:rooms` view: list, filter, enter switches, create, delete after a confirm,
//! read-only refusal, a remote console's explanation.

use super::*;
use crate::tui::popups::rooms::{Mode, RoomsAnswer, RoomsRequest};
use crate::tui::{RoomInfo, RoomState};

fn room(name: &str, state: RoomState, participants: usize, data_bytes: u64) -> RoomInfo {
    RoomInfo {
        name: name.into(),
        state,
        participants,
        session_start_ms: (state == RoomState::Active).then_some(T0 - 3_600_000),
        data_bytes,
    }
}

fn rooms() -> Vec<RoomInfo> {
    vec![
        room("default", RoomState::Active, 2, 48_213),
        room("lab", RoomState::Idle, 0, 1_200_000),
        room("legacy", RoomState::Disabled, 0, 0),
        room("staging", RoomState::Active, 5, 7_340_032),
    ]
}

fn local_app(read_only: bool) -> App {
    live_app_with(Options {
        local: true,
        read_only,
        ..Options::default()
    })
}

fn rooms_effects(a: &mut App) -> Vec<Effect> {
    a.take_effects()
        .into_iter()
        .filter(|e| matches!(e, Effect::Rooms(_) | Effect::SwitchRoom(_)))
        .collect()
}

/// `:rooms`, answered with [`rooms`].
fn open_view(a: &mut App) {
    typ(a, ":rooms");
    key(a, KeyCode::Enter);
    assert_eq!(rooms_effects(a), vec![Effect::Rooms(RoomsRequest::List)]);
    assert!(a.update(Msg::Rooms(RoomsAnswer::Listed(Ok(rooms())))));
}

fn view(a: &App) -> &crate::tui::popups::rooms::RoomsView {
    match &a.popup {
        Some(Popup::Rooms(v)) => v,
        _ => panic!("the rooms view is not open"),
    }
}

fn shown_names(a: &App) -> Vec<String> {
    view(a).shown().iter().map(|r| r.name.clone()).collect()
}

#[test]
fn rooms_lists_every_room_and_marks_the_current_one() {
    let mut a = local_app(false);
    open_view(&mut a);
    assert_eq!(shown_names(&a), ["default", "lab", "legacy", "staging"]);
    let s = render(&mut a, 100, 30);
    assert!(s.contains("Rooms (4)"), "{s}");
    assert!(s.contains("● default"), "{s}");
    assert!(s.contains("disabled"), "{s}");
    assert!(s.contains("7.0 MiB") || s.contains("7.0 MB"), "{s}");
    // esc closes it, back to the tab.
    key(&mut a, KeyCode::Esc);
    assert!(a.popup.is_none());
}

#[test]
fn slash_filters_the_rooms_and_esc_in_the_filter_clears_it() {
    let mut a = local_app(false);
    open_view(&mut a);
    key(&mut a, KeyCode::Char('/'));
    typ(&mut a, "LE");
    assert_eq!(shown_names(&a), ["legacy"]);
    key(&mut a, KeyCode::Enter);
    assert_eq!(view(&a).mode, Mode::List);
    assert!(render(&mut a, 100, 30).contains("Rooms (1/4) /LE"));
    key(&mut a, KeyCode::Char('/'));
    typ(&mut a, "zzz");
    assert!(render(&mut a, 100, 30).contains("no room matches the filter"));
    key(&mut a, KeyCode::Esc);
    assert_eq!(shown_names(&a).len(), 4);
    assert!(a.popup.is_some(), "esc in the filter leaves the view open");
}

#[test]
fn enter_switches_to_the_selected_room_and_on_the_current_one_just_closes() {
    let mut a = local_app(false);
    open_view(&mut a);
    key(&mut a, KeyCode::Enter);
    assert!(a.popup.is_none());
    assert_eq!(rooms_effects(&mut a), vec![]);

    open_view(&mut a);
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Char('k'));
    key(&mut a, KeyCode::Enter);
    assert_eq!(
        rooms_effects(&mut a),
        vec![Effect::SwitchRoom("lab".into())]
    );

    // A disabled room would refuse the join: the view says so and stays.
    open_view(&mut a);
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Enter);
    assert_eq!(rooms_effects(&mut a), vec![]);
    assert!(render(&mut a, 120, 30).contains("room legacy is disabled"));
}

#[test]
fn c_creates_a_named_room_and_selects_it_in_the_fresh_list() {
    let mut a = local_app(false);
    open_view(&mut a);
    key(&mut a, KeyCode::Char('c'));
    assert!(render(&mut a, 100, 30).contains("new room:"));
    // An empty name creates nothing.
    key(&mut a, KeyCode::Enter);
    assert_eq!(rooms_effects(&mut a), vec![]);
    typ(&mut a, "ops");
    key(&mut a, KeyCode::Enter);
    assert_eq!(
        rooms_effects(&mut a),
        vec![Effect::Rooms(RoomsRequest::Create("ops".into()))]
    );
    a.update(Msg::Rooms(RoomsAnswer::Created("ops".into(), Ok(()))));
    assert_eq!(
        rooms_effects(&mut a),
        vec![Effect::Rooms(RoomsRequest::List)]
    );
    assert_eq!(a.notice.as_ref().unwrap().text, "created room ops");
    let mut list = rooms();
    list.insert(2, room("ops", RoomState::Idle, 0, 0));
    a.update(Msg::Rooms(RoomsAnswer::Listed(Ok(list))));
    assert_eq!(view(&a).shown()[view(&a).selected].name, "ops");

    // The registry's refusal shows in the view, in its words.
    key(&mut a, KeyCode::Char('c'));
    typ(&mut a, "ops");
    key(&mut a, KeyCode::Enter);
    a.update(Msg::Rooms(RoomsAnswer::Created(
        "ops".into(),
        Err("room \"ops\" already exists".into()),
    )));
    assert!(
        render(&mut a, 100, 30).contains("cannot create room ops: room \"ops\" already exists")
    );
}

#[test]
fn d_deletes_only_after_y() {
    let mut a = local_app(false);
    open_view(&mut a);
    key(&mut a, KeyCode::Char('G'));
    key(&mut a, KeyCode::Char('d'));
    assert!(render(&mut a, 100, 30).contains("Delete room staging and all its data?"));
    key(&mut a, KeyCode::Char('n'));
    assert_eq!(rooms_effects(&mut a), vec![]);
    assert_eq!(view(&a).mode, Mode::List);

    key(&mut a, KeyCode::Char('d'));
    key(&mut a, KeyCode::Char('y'));
    assert_eq!(
        rooms_effects(&mut a),
        vec![Effect::Rooms(RoomsRequest::Delete("staging".into()))]
    );
    a.update(Msg::Rooms(RoomsAnswer::Deleted(
        "staging".into(),
        Err("room \"staging\" is active".into()),
    )));
    assert!(render(&mut a, 100, 30).contains("cannot delete room staging"));
    a.update(Msg::Rooms(RoomsAnswer::Deleted("staging".into(), Ok(()))));
    assert_eq!(a.notice.as_ref().unwrap().text, "deleted room staging");
    assert_eq!(
        rooms_effects(&mut a),
        vec![Effect::Rooms(RoomsRequest::List)]
    );
}

#[test]
fn read_only_refuses_create_and_delete_but_still_lists_and_opens() {
    let mut a = local_app(true);
    open_view(&mut a);
    key(&mut a, KeyCode::Char('d'));
    key(&mut a, KeyCode::Char('y'));
    key(&mut a, KeyCode::Char('c'));
    assert_eq!(rooms_effects(&mut a), vec![]);
    assert_eq!(view(&a).mode, Mode::List);
    assert!(render(&mut a, 100, 30).contains("read-only mode: create is off"));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Enter);
    assert_eq!(
        rooms_effects(&mut a),
        vec![Effect::SwitchRoom("lab".into())]
    );
}

#[test]
fn a_remote_console_says_where_the_rooms_are() {
    let mut a = live_app();
    typ(&mut a, ":rooms");
    key(&mut a, KeyCode::Enter);
    assert_eq!(rooms_effects(&mut a), vec![]);
    let s = render(&mut a, 100, 30);
    assert!(s.contains("remote room"), "{s}");
    assert!(s.contains("--api-url"), "{s}");
    key(&mut a, KeyCode::Char('c'));
    assert_eq!(rooms_effects(&mut a), vec![]);
}

#[test]
fn snapshot_rooms_80x24() {
    let mut a = local_app(false);
    open_view(&mut a);
    insta::assert_snapshot!(render(&mut a, 80, 24));
}

#[test]
fn snapshot_rooms_160x45() {
    let mut a = local_app(false);
    open_view(&mut a);
    key(&mut a, KeyCode::Down);
    insta::assert_snapshot!(render(&mut a, 160, 45));
}
