//! The application state and `App::update`, the one place where it changes.
//!
//! Input (keys, mouse, paste, resize) and network events come in as [`Msg`]; what the app
//! wants done outside itself (network commands, clipboard, mouse capture, quit) goes out as
//! [`Effect`]s that the loop carries out. `update` returns whether anything on screen changed.

mod chat;
mod commands;
mod database;
mod docs;
mod files;
mod input;
mod logs;
mod mouse;
mod overview;
mod queues;
mod rooms;
mod services;
mod timeline;
mod tools;

use std::path::PathBuf;

use crossterm::event::{KeyEvent, KeyEventKind, MouseEvent};
use ratatui::layout::Rect;

use super::action::Action;
use super::keymap::Keymap;
use super::net::{ConnState, NetCommand, NetEvent, PeerInfo};
pub use super::pane::{Focus, Tab};
use super::pane::{NetCx, Pane, Panes, TABS};
use super::panes::logs::{DEFAULT_CAPACITY, LogsPane};
use super::popups::LineEdit;
use super::popups::confirm::Confirm;
use super::popups::help::Help;
use super::popups::palette::Palette;
use super::popups::path::PathPrompt;
use super::popups::peer::PeerDetail;
use super::popups::prompt::Prompt;
use super::popups::rooms::{RoomsAnswer, RoomsRequest, RoomsView};
use super::theme::{self, Theme};

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize(u16, u16),
    Net(NetEvent),
    /// The rooms registry answered the `:rooms` view.
    Rooms(RoomsAnswer),
    /// Time passed (notifications expire).
    Tick,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Net(NetCommand),
    Copy(String),
    SetMouse(bool),
    Suspend,
    /// Reopen the console on another local room.
    SwitchRoom(String),
    /// Ask the CLI's rooms registry (the `:rooms` view).
    Rooms(RoomsRequest),
    /// Keep the SQL history (oldest first) in this file.
    SaveSqlHistory {
        path: PathBuf,
        entries: Vec<String>,
    },
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    Info,
    Ok,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub level: NoticeLevel,
    pub until_ms: i64,
}

impl Notice {
    /// A notice shown from `now_ms` for a few seconds.
    pub fn new(level: NoticeLevel, text: impl Into<String>, now_ms: i64) -> Notice {
        Notice {
            text: text.into(),
            level,
            until_ms: now_ms + NOTICE_MS,
        }
    }
}

// At most one popup exists at a time, so its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Popup {
    Help(Help),
    Palette(Palette),
    Confirm(Confirm),
    Prompt(Prompt),
    Path(PathPrompt),
    Peer(PeerDetail),
    Rooms(RoomsView),
}

/// A line input at the bottom of a pane: `/` filter or logs search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineTarget {
    Filter(Tab),
    Search,
}

/// Screen areas recorded while drawing, for the mouse.
#[derive(Debug, Default, Clone)]
pub struct HitMap {
    pub tabs: Vec<(Rect, Tab)>,
    pub panes: Vec<(Rect, Focus)>,
}

pub struct Options {
    pub read_only: bool,
    pub mouse: bool,
    pub log_capacity: usize,
    pub tz_offset_secs: i32,
    pub config_dir: PathBuf,
    /// Where the room is, for the status line ("local" or the URL host).
    pub location: String,
    /// True when the console runs on a local room (`:room NAME` can open another).
    pub local: bool,
    /// The SQL history read at start, and where to keep it (None: not kept).
    pub sql_history: Vec<String>,
    pub sql_history_file: Option<PathBuf>,
    /// Where the Timeline tab lists recorded sessions (None: a remote room, none here).
    pub timeline_root: Option<PathBuf>,
    /// The tab the console opens on (None: the overview).
    pub start_tab: Option<Tab>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            read_only: false,
            mouse: true,
            log_capacity: DEFAULT_CAPACITY,
            tz_offset_secs: 0,
            config_dir: PathBuf::new(),
            location: "local".into(),
            local: false,
            sql_history: Vec::new(),
            sql_history_file: None,
            timeline_root: None,
            start_tab: None,
        }
    }
}

pub struct App {
    pub theme: Theme,
    pub keymap: Keymap,
    pub tab: Tab,
    pub focus: [Focus; TABS.len()],
    pub zoom: bool,
    /// Every tab's pane (the registry is in `pane.rs`).
    pub panes: Panes,
    pub sql_history_file: Option<PathBuf>,
    pub conn: ConnState,
    pub room: String,
    pub me_name: String,
    pub me_id: String,
    pub location: String,
    pub local: bool,
    pub read_only: bool,
    pub mouse: bool,
    pub popup: Option<Popup>,
    pub line: Option<(LineTarget, LineEdit)>,
    pub notice: Option<Notice>,
    pub now_ms: i64,
    pub tz_offset_secs: i32,
    pub history: Vec<String>,
    pub outbox: Vec<Effect>,
    pub hit: HitMap,
    pub config_dir: PathBuf,
    pub quit: bool,
    /// The next transfer's id.
    next_transfer: u64,
    /// The id of the `stats.room` call waiting for its answer.
    stats_call: Option<u64>,
    /// Calls asking the room who sent a message (call id -> participant id).
    sender_asks: std::collections::HashMap<u64, String>,
    /// `logs.total()` when the logs tab last showed (the tab's badge counts the rest).
    pub logs_read: u64,
}

/// A pane borrowed out of the app with the other parts it may use (see [`App::split`]).
pub struct Parts<'a> {
    pub pane: &'a mut dyn Pane,
    /// The developer log, for panes that show part of it (None for the logs pane itself).
    pub logs: Option<&'a LogsPane>,
    pub net: NetCx<'a>,
    pub theme: &'a Theme,
    pub keymap: &'a Keymap,
    pub hit: &'a mut HitMap,
}

const NOTICE_MS: i64 = 5_000;

impl App {
    pub fn new(theme: Theme, keymap: Keymap, mut opts: Options) -> App {
        let panes = Panes::new(&mut opts);
        let start_tab = opts.start_tab;
        let mut app = App {
            theme,
            keymap,
            tab: Tab::Overview,
            focus: std::array::from_fn(|i| TABS[i].focus[0]),
            zoom: false,
            panes,
            sql_history_file: opts.sql_history_file,
            conn: ConnState::Connecting,
            room: String::new(),
            me_name: String::new(),
            me_id: String::new(),
            location: opts.location,
            local: opts.local,
            read_only: opts.read_only,
            mouse: opts.mouse,
            popup: None,
            line: None,
            notice: None,
            now_ms: 0,
            tz_offset_secs: opts.tz_offset_secs,
            history: Vec::new(),
            outbox: Vec::new(),
            hit: HitMap::default(),
            config_dir: opts.config_dir,
            quit: false,
            next_transfer: 1,
            stats_call: None,
            logs_read: 0,
            sender_asks: Default::default(),
        };
        if let Some(tab) = start_tab {
            app.switch_tab(tab);
        }
        app
    }

    /// Each tab's pane (the registry is in `pane.rs`).
    pub fn pane(&self, tab: Tab) -> &dyn Pane {
        self.panes.get(tab)
    }

    pub fn pane_mut(&mut self, tab: Tab) -> &mut dyn Pane {
        self.split(tab).pane
    }

    /// A tab's pane, and beside it the parts of the app it may use.
    pub fn split(&mut self, tab: Tab) -> Parts<'_> {
        let (pane, logs) = self.panes.split(tab);
        Parts {
            pane,
            logs,
            net: NetCx {
                now_ms: self.now_ms,
                outbox: &mut self.outbox,
                notice: &mut self.notice,
            },
            theme: &self.theme,
            keymap: &self.keymap,
            hit: &mut self.hit,
        }
    }

    pub fn focused(&self) -> Focus {
        self.focus[self.tab.index()]
    }

    pub(super) fn set_focus(&mut self, f: Focus) {
        self.focus[self.tab.index()] = f;
    }

    /// True while keys go to the chat input.
    pub fn composing(&self) -> bool {
        self.tab == Tab::Chat && self.focused() == Focus::Input && !self.read_only
    }

    pub fn notify(&mut self, level: NoticeLevel, text: impl Into<String>) {
        self.notice = Some(Notice::new(level, text, self.now_ms));
    }

    /// When the loop should wake next with a Tick, if ever.
    pub fn next_deadline(&self) -> Option<i64> {
        let notice = self.notice.as_ref().map(|n| n.until_ms);
        let sample = self.overview_deadline();
        let timeline = (self.tab == Tab::Timeline)
            .then(|| self.panes.timeline.deadline(self.now_ms))
            .flatten();
        notice.into_iter().chain(sample).chain(timeline).min()
    }

    pub(super) fn send(&mut self, cmd: NetCommand) {
        self.outbox.push(Effect::Net(cmd));
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.outbox)
    }

    pub fn theme_names(&self) -> Vec<String> {
        theme::available(&self.config_dir)
    }

    pub fn queue_names(&self) -> Vec<String> {
        self.panes
            .queues
            .queues
            .iter()
            .map(|q| q.name.clone())
            .collect()
    }

    /// The one entry point for change. Returns true when the screen must be redrawn.
    pub fn update(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Key(k) => {
                if k.kind == KeyEventKind::Release {
                    return false;
                }
                self.on_key(k);
                true
            }
            Msg::Mouse(m) => self.on_mouse(m),
            Msg::Paste(text) => {
                self.on_paste(&text);
                true
            }
            Msg::Resize(..) => true,
            Msg::Net(ev) => self.on_net(ev),
            Msg::Rooms(answer) => self.on_rooms(answer),
            Msg::Tick => {
                let mut redraw = self.overview_tick();
                if self.tab == Tab::Timeline {
                    redraw |= self.panes.timeline.work(self.now_ms);
                }
                if self
                    .notice
                    .as_ref()
                    .is_some_and(|n| n.until_ms <= self.now_ms)
                {
                    self.notice = None;
                    redraw = true;
                }
                redraw
            }
        }
    }

    // ---------------------------------------------------------------- network

    fn on_net(&mut self, ev: NetEvent) -> bool {
        if self.peer_answer(&ev) || self.sender_answer(&ev) {
            return true;
        }
        // The overview's own poll changes nothing on screen until its next sample.
        if self.overview_observe(&ev) {
            return false;
        }
        self.ask_sender_name(&ev);
        // The panes take their own events first.
        let mut ev = ev;
        for tab in Tab::ALL {
            let mut parts = self.split(tab);
            match parts.pane.on_net(ev, &mut parts.net) {
                Ok(redraw) => return redraw,
                Err(back) => ev = back,
            }
        }
        match ev {
            NetEvent::State(s) => {
                if s == ConnState::Live && matches!(self.tab, Tab::Queues | Tab::Overview) {
                    self.send(NetCommand::WatchQueues(true));
                }
                if s == ConnState::Live && matches!(self.tab, Tab::Services | Tab::Overview) {
                    self.send(NetCommand::WatchServices(true));
                }
                let live = s == ConnState::Live && self.conn != ConnState::Live;
                self.conn = s;
                if live && self.tab == Tab::Overview {
                    self.overview_shown();
                }
                if live && self.tab == Tab::Files {
                    self.files_relist();
                }
                if self.conn == ConnState::Live && self.tab == Tab::Database {
                    self.refresh_tables();
                }
                if live && self.tab == Tab::Docs {
                    self.docs_shown();
                }
                if live && self.tab == Tab::Tools {
                    self.send(NetCommand::Tools(super::net::ToolsCommand::List));
                }
            }
            NetEvent::Joined {
                room,
                participant_id,
                name,
            } => {
                self.room = room;
                self.panes.chat.me_id = participant_id.clone();
                self.me_id = participant_id;
                self.me_name = name;
            }
            NetEvent::Participants(mut list) => {
                // The list may leave out this participant; show it with "(you)".
                if !self.me_id.is_empty() && !list.iter().any(|p| p.id == self.me_id) {
                    list.insert(
                        0,
                        PeerInfo {
                            id: self.me_id.clone(),
                            name: self.me_name.clone(),
                            role: "user".into(),
                            attributes: Default::default(),
                        },
                    );
                }
                self.panes.chat.set_peers(list)
            }
            NetEvent::Files(ev) => return self.on_files(ev),
            ev @ (NetEvent::Tables(_)
            | NetEvent::TableSchema { .. }
            | NetEvent::Sql { .. }
            | NetEvent::Exported { .. }) => return self.on_db_event(ev),
            NetEvent::Docs(ev) => return self.on_docs(ev),
            NetEvent::Tools(ev) => return self.on_tools(ev),
            NetEvent::Failed { what, error } => {
                // A save the room refused: the editor stays open with the room's words.
                if let Some(Popup::Prompt(p)) = &mut self.popup
                    && p.saving
                {
                    p.saving = false;
                    p.error = Some(error.clone());
                }
                self.notify(NoticeLevel::Error, format!("{what} failed: {error}"));
            }
            NetEvent::Fatal(reason) => {
                self.conn = ConnState::Failed {
                    reason: reason.clone(),
                };
                self.notify(NoticeLevel::Error, reason);
            }
            // The panes took their own events above.
            _ => return false,
        }
        true
    }

    // ---------------------------------------------------------------- helpers

    /// Refuses (with a notice) when the room is not connected.
    pub(super) fn live(&mut self, what: &str) -> bool {
        if self.conn == ConnState::Live {
            return true;
        }
        self.notify(
            NoticeLevel::Error,
            format!("cannot {what}: not connected to the room"),
        );
        false
    }

    pub(super) fn apply_line(&mut self, target: LineTarget, text: &str, _submitted: bool) {
        match target {
            LineTarget::Filter(tab) => {
                self.pane_mut(tab).set_filter(text);
                self.follow_selection(tab);
            }
            LineTarget::Search => self.set_search(text),
        }
    }

    // ---------------------------------------------------------------- actions

    pub fn do_action(&mut self, a: Action) {
        if self.read_only && a.mutates_room() {
            self.notify(
                NoticeLevel::Error,
                format!("read-only mode: \"{}\" is off", a.describe()),
            );
            return;
        }
        let focus = self.focused();
        match a {
            Action::Quit => {
                self.quit = true;
                self.outbox.push(Effect::Quit);
                self.send(NetCommand::Shutdown);
            }
            Action::Help => self.popup = Some(Popup::Help(Help::default())),
            Action::Palette => self.popup = Some(Popup::Palette(Palette::default())),
            Action::Suspend => self.outbox.push(Effect::Suspend),
            Action::NextTab => self.switch_tab(Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()]),
            Action::PrevTab => {
                self.switch_tab(Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()])
            }
            Action::TabOverview
            | Action::TabChat
            | Action::TabQueues
            | Action::TabLogs
            | Action::TabServices
            | Action::TabFiles
            | Action::TabDatabase
            | Action::TabDocs
            | Action::TabTools
            | Action::TabTimeline => {
                if let Some(tab) = Tab::for_action(a) {
                    self.switch_tab(tab)
                }
            }
            Action::DocEdit => self.edit_doc(),
            Action::ToolInvoke => self.ask_tool_arguments(),
            Action::SqlRun => {
                let sql = self.panes.database.editor.text();
                self.run_sql(sql);
            }
            Action::SqlHistoryPrev | Action::SqlHistoryNext => {
                if self.tab == Tab::Database {
                    self.set_focus(Focus::DbEditor);
                    self.panes.database.editor.walk(a == Action::SqlHistoryPrev);
                }
            }
            Action::SqlExport => self.ask_export(),
            Action::FocusNext | Action::FocusPrev => {
                let ring = Focus::ring(self.tab);
                let i = ring.iter().position(|f| *f == focus).unwrap_or(0);
                let n = ring.len();
                let j = if a == Action::FocusNext {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                let mut next = ring[j];
                if next == Focus::Input && self.read_only {
                    next = ring[(if a == Action::FocusNext {
                        j + 1
                    } else {
                        j + n - 1
                    }) % n];
                }
                self.set_focus(next);
            }
            Action::Zoom => self.zoom = !self.zoom,
            Action::ToggleMouse => {
                self.mouse = !self.mouse;
                self.outbox.push(Effect::SetMouse(self.mouse));
                self.notify(
                    NoticeLevel::Info,
                    if self.mouse {
                        "mouse on"
                    } else {
                        "mouse off (terminal selection works)"
                    },
                );
            }
            Action::CycleTheme => {
                let names = self.theme_names();
                let i = names
                    .iter()
                    .position(|n| *n == self.theme.name)
                    .map_or(0, |i| i + 1);
                let name = names[i % names.len()].clone();
                self.set_theme(&name);
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.navigate(a),
            Action::Left | Action::Right => {
                if focus == Focus::FileTree {
                    self.files_left_right(a == Action::Right);
                } else if focus == Focus::Logs {
                    self.panes.logs.scroll_h(a == Action::Right);
                } else if focus == Focus::DbResults {
                    self.panes.database.results.move_col(a == Action::Right);
                } else if focus == Focus::DocList && a == Action::Right {
                    self.set_focus(Focus::DocView);
                } else if focus == Focus::DocView && a == Action::Left {
                    self.set_focus(Focus::DocList);
                } else if a == Action::Left {
                    self.do_action(Action::PrevTab);
                } else {
                    self.do_action(Action::NextTab);
                }
            }
            Action::Filter => {
                let current = self.pane(self.tab).filter();
                if self.tab == Tab::Chat && focus == Focus::Input {
                    self.set_focus(Focus::Messages);
                }
                self.line = Some((LineTarget::Filter(self.tab), LineEdit::new(&current)));
            }
            Action::Select => match focus {
                Focus::Overview => self.switch_tab(self.panes.overview.selected_tab()),
                Focus::QueueList if self.panes.queues.selected_name().is_some() => {
                    self.do_action(Action::QueueSend)
                }
                Focus::Peers if self.panes.chat.recipient().is_some() => self.open_peer_detail(),
                Focus::Peers | Focus::Messages => self.do_action(Action::Compose),
                Focus::ServiceList => self.set_focus(Focus::ServiceLog),
                Focus::FileTree => self.files_toggle(),
                Focus::DbTables => self.select_table(),
                Focus::DocList if self.panes.docs.open.is_some() => self.set_focus(Focus::DocView),
                // Folding a toolkit changes nothing in the room (read-only may do it).
                Focus::ToolList if self.panes.tools.toggle_selected() => {}
                Focus::ToolList => self.do_action(Action::ToolInvoke),
                Focus::TimelineSessions | Focus::TimelineEvents => self.timeline_select(focus),
                _ => {}
            },
            Action::Back => {
                if self.tab == Tab::Database && self.panes.database.running.is_some() {
                    self.cancel_sql();
                } else if self.zoom {
                    self.zoom = false;
                } else {
                    match (self.tab, focus) {
                        (Tab::Docs, Focus::DocView) => self.set_focus(Focus::DocList),
                        (Tab::Tools, Focus::ToolDetail) => self.set_focus(Focus::ToolList),
                        (Tab::Timeline, Focus::TimelineDetail) => self.timeline_back(),
                        (Tab::Logs, _) if !self.panes.logs.search.is_empty() => {
                            self.panes.logs.search.clear()
                        }
                        (tab, _) => self.apply_line(LineTarget::Filter(tab), "", false),
                    }
                }
            }
            Action::Copy => {
                let text = self.pane(self.tab).copy_text(focus);
                match text {
                    Some(t) => {
                        let n = t.chars().count();
                        self.outbox.push(Effect::Copy(t));
                        self.notify(NoticeLevel::Ok, format!("copied {n} characters"));
                    }
                    None => self.notify(NoticeLevel::Info, "nothing to copy"),
                }
            }
            Action::Compose => {
                if self.tab == Tab::Chat {
                    self.set_focus(Focus::Input);
                }
            }
            Action::SqlEdit => {
                if self.tab == Tab::Database {
                    self.set_focus(Focus::DbEditor);
                }
            }
            Action::QueueSend | Action::QueueNew | Action::QueueReceive | Action::QueueDrain => {
                self.queue_action(a)
            }
            Action::Refresh => {
                if self.tab == Tab::Services {
                    self.send(NetCommand::RefreshServices);
                } else if self.tab == Tab::Files {
                    self.files_relist();
                } else if self.tab == Tab::Database {
                    self.refresh_tables();
                } else if self.tab == Tab::Docs {
                    self.docs_refresh();
                } else if self.tab == Tab::Tools {
                    self.send(NetCommand::Tools(super::net::ToolsCommand::List));
                } else if self.tab == Tab::Timeline {
                    self.panes.timeline.relist(self.now_ms);
                } else {
                    self.send(NetCommand::RefreshQueues);
                }
            }
            Action::ServiceRestart => self.restart_selected_service(),
            Action::FileUpload | Action::FileDownload | Action::FileDelete | Action::FileMove => {
                self.files_action(a)
            }
            Action::Search => {
                self.line = Some((LineTarget::Search, LineEdit::new(&self.panes.logs.search)))
            }
            Action::SearchNext
            | Action::SearchPrev
            | Action::TogglePause
            | Action::ToggleTimestamps
            | Action::ToggleWrap
            | Action::ClearLogs => self.logs_action(a),
            Action::TimelinePlay | Action::TimelineSpeed | Action::TimelineJump => {
                self.timeline_action(a)
            }
        }
    }

    pub fn set_theme(&mut self, name: &str) {
        match theme::load(name, &self.config_dir) {
            Ok(t) => {
                self.theme = t;
                self.notify(NoticeLevel::Info, format!("theme {name}"));
            }
            Err(e) => self.notify(NoticeLevel::Error, e),
        }
    }

    pub(super) fn switch_tab(&mut self, tab: Tab) {
        if tab == self.tab {
            return;
        }
        // A notice speaks of the tab it came from.
        self.notice = None;
        // The queues and services lists are polled while a tab shows them.
        let watch = |t: Tab| {
            (
                matches!(t, Tab::Queues | Tab::Overview),
                matches!(t, Tab::Services | Tab::Overview),
            )
        };
        let ((q0, s0), (q1, s1)) = (watch(self.tab), watch(tab));
        if q0 != q1 {
            self.send(NetCommand::WatchQueues(q1));
        }
        if s0 && !s1 {
            self.send(NetCommand::WatchServices(false));
        }
        if self.tab == Tab::Docs {
            self.docs_hidden();
        }
        if self.tab == Tab::Timeline {
            self.panes.timeline.hidden();
        }
        if s1 && !s0 {
            self.send(NetCommand::WatchServices(true));
        }
        self.tab = tab;
        if tab == Tab::Overview {
            self.overview_shown();
        }
        if tab == Tab::Database {
            self.refresh_tables();
        }
        self.zoom = false;
        if tab == Tab::Files {
            self.files_shown();
        }
        if tab == Tab::Docs {
            self.docs_shown();
        }
        if tab == Tab::Tools {
            self.send(NetCommand::Tools(super::net::ToolsCommand::List));
        }
        if tab == Tab::Timeline {
            self.panes.timeline.shown(self.now_ms);
        }
    }

    pub(super) fn navigate(&mut self, a: Action) {
        let focus = self.focused();
        self.pane_mut(self.tab).navigate(focus, a);
        if matches!(focus, Focus::FileTree | Focus::DbTables | Focus::DocList) {
            self.follow_selection(self.tab);
        }
    }

    /// A list's selection moved: the tabs whose detail follows it ask the room for it.
    fn follow_selection(&mut self, tab: Tab) {
        match tab {
            Tab::Files => self.files_follow_selection(),
            Tab::Database => self.inspect_selected(),
            Tab::Docs => self.docs_follow_selection(),
            _ => {}
        }
    }
}
