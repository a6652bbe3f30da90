//! The application state and `App::update`, the one place where it changes.
//!
//! Input (keys, mouse, paste, resize) and network events come in as [`Msg`]; what the app
//! wants done outside itself (network commands, clipboard, mouse capture, quit) goes out as
//! [`Effect`]s that the loop carries out. `update` returns whether anything on screen changed.

mod docs;
mod files;
mod tools;

use std::path::PathBuf;

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};
use serde_json::Value;

use super::action::Action;
use super::keymap::{Context, Keymap};
use super::net::{ChatMessage, ConnState, NetCommand, NetEvent, PeerInfo, ServiceSummary};
use super::panes::chat::{ChatPane, Entry, display_name};
use super::panes::database::DatabasePane;
use super::panes::database::sql::SqlKind as database_kind;
use super::panes::docs::DocsPane;
use super::panes::logs::{DEFAULT_CAPACITY, LogsPane};
use super::panes::queues::{QueuesPane, Received};
use super::panes::services::ServicesPane;
use super::panes::storage::StoragePane;
use super::panes::tools::ToolsPane;
use super::popups::confirm::Confirm;
use super::popups::help::Help;
use super::popups::palette::Palette;
use super::popups::path::PathPrompt;
use super::popups::prompt::{Prompt, PromptKind};
use super::popups::{EditOutcome, LineEdit};
use super::theme::{self, Theme};

mod database;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Chat,
    Queues,
    Logs,
    Services,
    Files,
    Database,
    Docs,
    Tools,
}

impl Tab {
    pub const ALL: [Tab; 8] = [
        Tab::Chat,
        Tab::Queues,
        Tab::Logs,
        Tab::Services,
        Tab::Files,
        Tab::Database,
        Tab::Docs,
        Tab::Tools,
    ];
    pub fn title(self) -> &'static str {
        match self {
            Tab::Chat => "Chat",
            Tab::Queues => "Queues",
            Tab::Logs => "Logs",
            Tab::Services => "Services",
            Tab::Files => "Files",
            Tab::Database => "Database",
            Tab::Docs => "Docs",
            Tab::Tools => "Tools",
        }
    }
    pub fn context(self) -> Context {
        match self {
            Tab::Chat => Context::Chat,
            Tab::Queues => Context::Queues,
            Tab::Logs => Context::Logs,
            Tab::Services => Context::Services,
            Tab::Files => Context::Files,
            Tab::Database => Context::Database,
            Tab::Docs => Context::Docs,
            Tab::Tools => Context::Tools,
        }
    }
    /// The number shown in the tab bar: the digit key that opens it.
    pub fn number(self) -> usize {
        match self {
            Tab::Chat => 1,
            Tab::Queues => 2,
            Tab::Logs => 3,
            Tab::Services => 4,
            Tab::Files => 5,
            Tab::Database => 6,
            Tab::Docs => 7,
            Tab::Tools => 8,
        }
    }
    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// The sub-panes of each tab that can hold the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Peers,
    Messages,
    Input,
    QueueList,
    QueueDetail,
    Logs,
    ServiceList,
    ServiceLog,
    FileTree,
    FilePreview,
    DbTables,
    DbEditor,
    DbResults,
    DocList,
    DocView,
    ToolList,
    ToolDetail,
}

impl Focus {
    fn ring(tab: Tab) -> &'static [Focus] {
        match tab {
            Tab::Chat => &[Focus::Peers, Focus::Messages, Focus::Input],
            Tab::Queues => &[Focus::QueueList, Focus::QueueDetail],
            Tab::Logs => &[Focus::Logs],
            Tab::Services => &[Focus::ServiceList, Focus::ServiceLog],
            Tab::Files => &[Focus::FileTree, Focus::FilePreview],
            Tab::Database => &[Focus::DbTables, Focus::DbEditor, Focus::DbResults],
            Tab::Docs => &[Focus::DocList, Focus::DocView],
            Tab::Tools => &[Focus::ToolList, Focus::ToolDetail],
        }
    }
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize(u16, u16),
    Net(NetEvent),
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

// At most one popup exists at a time, so its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Popup {
    Help(Help),
    Palette(Palette),
    Confirm(Confirm),
    Prompt(Prompt),
    Path(PathPrompt),
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
        }
    }
}

pub struct App {
    pub theme: Theme,
    pub keymap: Keymap,
    pub tab: Tab,
    pub focus: [Focus; 8],
    pub zoom: bool,
    pub chat: ChatPane,
    pub queues: QueuesPane,
    pub services: ServicesPane,
    pub storage: StoragePane,
    pub database: DatabasePane,
    pub docs: DocsPane,
    pub tools: ToolsPane,
    pub sql_history_file: Option<PathBuf>,
    pub logs: LogsPane,
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
}

const NOTICE_MS: i64 = 5_000;

impl App {
    pub fn new(theme: Theme, keymap: Keymap, opts: Options) -> App {
        let mut logs = LogsPane::new(opts.log_capacity);
        logs.tz_offset_secs = opts.tz_offset_secs;
        App {
            theme,
            keymap,
            tab: Tab::Chat,
            focus: [
                Focus::Peers,
                Focus::QueueList,
                Focus::Logs,
                Focus::ServiceList,
                Focus::FileTree,
                Focus::DbTables,
                Focus::DocList,
                Focus::ToolList,
            ],
            zoom: false,
            chat: ChatPane::default(),
            queues: QueuesPane::default(),
            services: ServicesPane::default(),
            storage: StoragePane::default(),
            database: DatabasePane::new(opts.sql_history),
            docs: DocsPane::default(),
            tools: ToolsPane::default(),
            sql_history_file: opts.sql_history_file,
            logs,
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
        }
    }

    pub fn focused(&self) -> Focus {
        self.focus[self.tab.index()]
    }

    fn set_focus(&mut self, f: Focus) {
        self.focus[self.tab.index()] = f;
    }

    /// True while keys go to the chat input.
    pub fn composing(&self) -> bool {
        self.tab == Tab::Chat && self.focused() == Focus::Input && !self.read_only
    }

    pub fn notify(&mut self, level: NoticeLevel, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            level,
            until_ms: self.now_ms + NOTICE_MS,
        });
    }

    /// When the loop should wake next with a Tick, if ever.
    pub fn next_deadline(&self) -> Option<i64> {
        self.notice.as_ref().map(|n| n.until_ms)
    }

    fn send(&mut self, cmd: NetCommand) {
        self.outbox.push(Effect::Net(cmd));
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.outbox)
    }

    pub fn theme_names(&self) -> Vec<String> {
        theme::available(&self.config_dir)
    }

    pub fn queue_names(&self) -> Vec<String> {
        self.queues.queues.iter().map(|q| q.name.clone()).collect()
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
            Msg::Tick => {
                if self
                    .notice
                    .as_ref()
                    .is_some_and(|n| n.until_ms <= self.now_ms)
                {
                    self.notice = None;
                    return true;
                }
                false
            }
        }
    }

    // ---------------------------------------------------------------- network

    fn on_net(&mut self, ev: NetEvent) -> bool {
        match ev {
            NetEvent::State(s) => {
                if s == ConnState::Live && self.tab == Tab::Queues {
                    self.send(NetCommand::WatchQueues(true));
                }
                if s == ConnState::Live && self.tab == Tab::Services {
                    self.send(NetCommand::WatchServices(true));
                }
                let live = s == ConnState::Live && self.conn != ConnState::Live;
                self.conn = s;
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
                self.chat.me_id = participant_id.clone();
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
                        },
                    );
                }
                self.chat.set_peers(list)
            }
            NetEvent::PeerJoined(p) => self.chat.peer_joined(p, self.now_ms),
            NetEvent::PeerLeft { id } => self.chat.peer_left(&id, self.now_ms),
            NetEvent::PeerRenamed { id, name } => self.chat.peer_renamed(&id, &name),
            NetEvent::Message(m) => self.chat.push(Entry::Msg(m)),
            NetEvent::Queues(list) => return self.queues.set_queues(list),
            NetEvent::QueueReceived { name, message } => {
                let empty = message.is_none();
                self.queues.push_received(Received {
                    time_ms: self.now_ms,
                    queue: name.clone(),
                    message,
                });
                if empty {
                    self.notify(NoticeLevel::Info, format!("queue {name} is empty"));
                } else {
                    self.notify(NoticeLevel::Ok, format!("received one message from {name}"));
                }
                self.send(NetCommand::RefreshQueues);
            }
            NetEvent::QueueSent { name } => {
                self.notify(NoticeLevel::Ok, format!("sent to queue {name}"));
                self.send(NetCommand::RefreshQueues);
            }
            NetEvent::QueueDrained { name } => {
                self.notify(NoticeLevel::Ok, format!("drained queue {name}"));
                self.send(NetCommand::RefreshQueues);
            }
            NetEvent::Services(list) => return self.services.set_services(list),
            NetEvent::ServiceRestarted { name } => {
                self.notify(NoticeLevel::Ok, format!("restarted service {name}"));
                self.send(NetCommand::RefreshServices);
            }
            NetEvent::Files(ev) => return self.on_files(ev),
            ev @ (NetEvent::Tables(_)
            | NetEvent::TableSchema { .. }
            | NetEvent::Sql { .. }
            | NetEvent::Exported { .. }) => return self.on_db_event(ev),
            NetEvent::Docs(ev) => return self.on_docs(ev),
            NetEvent::Tools(ev) => return self.on_tools(ev),
            NetEvent::Logs(lines) => {
                if lines.is_empty() {
                    return false;
                }
                self.logs.push_lines(lines);
                // Off screen and paused logs change only the tab title; still cheap to redraw.
            }
            NetEvent::Failed { what, error } => {
                self.notify(NoticeLevel::Error, format!("{what} failed: {error}"));
            }
            NetEvent::Fatal(reason) => {
                self.conn = ConnState::Failed {
                    reason: reason.clone(),
                };
                self.notify(NoticeLevel::Error, reason);
            }
        }
        true
    }

    // ---------------------------------------------------------------- keys

    fn on_key(&mut self, k: KeyEvent) {
        // Ctrl-C always quits, whatever has the focus.
        if k.code == KeyCode::Char('c')
            && k.modifiers.contains(KeyModifiers::CONTROL)
            && self.popup.is_none()
        {
            self.do_action(Action::Quit);
            return;
        }
        if self.popup.is_some() {
            self.popup_key(k);
            return;
        }
        if let Some((target, mut edit)) = self.line.take() {
            match edit.handle(&k) {
                EditOutcome::Submit => self.apply_line(target, &edit.text, true),
                EditOutcome::Cancel => self.apply_line(target, "", false),
                EditOutcome::Changed => {
                    self.apply_line(target, &edit.text, false);
                    self.line = Some((target, edit));
                }
                EditOutcome::Unchanged | EditOutcome::Other => self.line = Some((target, edit)),
            }
            return;
        }
        if self.composing() {
            self.compose_key(k);
            return;
        }
        if self.editing_sql() {
            self.sql_key(k);
            return;
        }
        if let Some(a) = self.keymap.action_for(self.tab.context(), &k) {
            self.do_action(a);
        }
    }

    fn compose_key(&mut self, k: KeyEvent) {
        let alt = k.modifiers.contains(KeyModifiers::ALT);
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let shift = k.modifiers.contains(KeyModifiers::SHIFT);
        match k.code {
            KeyCode::Esc => self.set_focus(Focus::Peers),
            KeyCode::Enter if alt || shift => self.chat.input.insert_newline(),
            KeyCode::Char('j') if ctrl => self.chat.input.insert_newline(),
            KeyCode::Enter => self.send_chat(),
            KeyCode::Tab => self.do_action(Action::FocusNext),
            KeyCode::BackTab => self.do_action(Action::FocusPrev),
            KeyCode::Char('z') if ctrl => self.do_action(Action::Suspend),
            _ => {
                self.chat.input.input(k);
            }
        }
    }

    fn send_chat(&mut self) {
        let text = self.chat.input.lines().join("\n");
        if text.trim().is_empty() {
            return;
        }
        if !self.live("send a message") {
            return;
        }
        self.chat.input.select_all();
        self.chat.input.cut();
        let to = self.chat.recipient().map(|p| p.info.clone());
        self.chat.push(Entry::Msg(ChatMessage {
            time_ms: self.now_ms,
            from_id: self.me_id.clone(),
            from_name: if self.me_name.is_empty() {
                "you".into()
            } else {
                self.me_name.clone()
            },
            to: to.as_ref().map(display_name),
            kind: "chat".into(),
            text: text.clone(),
            attachment: None,
            own: true,
        }));
        self.chat.scroll = 0;
        self.send(NetCommand::SendChat { to, text });
    }

    /// Refuses (with a notice) when the room is not connected.
    fn live(&mut self, what: &str) -> bool {
        if self.conn == ConnState::Live {
            return true;
        }
        self.notify(
            NoticeLevel::Error,
            format!("cannot {what}: not connected to the room"),
        );
        false
    }

    fn apply_line(&mut self, target: LineTarget, text: &str, _submitted: bool) {
        match target {
            LineTarget::Filter(Tab::Chat) => {
                self.chat.filter = text.to_string();
                self.chat.scroll = 0;
            }
            LineTarget::Filter(Tab::Queues) => {
                self.queues.filter = text.to_string();
                self.queues.clamp();
            }
            LineTarget::Filter(Tab::Logs) => self.logs.set_filter(text),
            LineTarget::Filter(Tab::Services) => {
                self.services.filter = text.to_string();
                self.services.clamp();
                self.services.log_scroll = 0;
            }
            LineTarget::Filter(Tab::Files) => {
                self.storage.set_filter(text);
                self.files_follow_selection();
            }
            LineTarget::Filter(Tab::Database) => {
                self.database.tables.filter = text.to_string();
                self.database.tables.clamp();
                self.inspect_selected();
            }
            LineTarget::Filter(Tab::Docs) => {
                self.docs.set_filter(text);
                self.docs_follow_selection();
            }
            LineTarget::Filter(Tab::Tools) => self.tools.set_filter(text),
            LineTarget::Search => {
                self.logs.search = text.to_string();
                if !text.is_empty() && !self.logs.search_step(false) {
                    self.notify(NoticeLevel::Info, format!("\"{text}\" not found"));
                }
            }
        }
    }

    fn popup_key(&mut self, k: KeyEvent) {
        let Some(popup) = self.popup.take() else {
            return;
        };
        match popup {
            Popup::Help(mut h) => {
                let close_keys = matches!(k.code, KeyCode::Esc)
                    || (h.filter.text.is_empty()
                        && self.keymap.action_for(Context::Global, &k) == Some(Action::Help));
                if close_keys {
                    if k.code == KeyCode::Esc && !h.filter.text.is_empty() {
                        h.filter = LineEdit::default();
                        self.popup = Some(Popup::Help(h));
                    }
                    return;
                }
                match k.code {
                    KeyCode::Up => h.scroll = h.scroll.saturating_sub(1),
                    KeyCode::Down => h.scroll += 1,
                    KeyCode::PageUp => h.scroll = h.scroll.saturating_sub(10),
                    KeyCode::PageDown => h.scroll += 10,
                    _ => {
                        if let EditOutcome::Changed = h.filter.handle(&k) {
                            h.scroll = 0;
                        }
                    }
                }
                self.popup = Some(Popup::Help(h));
            }
            Popup::Palette(mut p) => match k.code {
                KeyCode::Tab => {
                    let (t, q) = (self.theme_names(), self.queue_names());
                    p.complete(&t, &q);
                    self.popup = Some(Popup::Palette(p));
                }
                KeyCode::Up | KeyCode::Down => {
                    if !self.history.is_empty() {
                        let n = self.history.len();
                        let pos = match (p.history_pos, k.code) {
                            (None, KeyCode::Up) => Some(n - 1),
                            (None, _) => None,
                            (Some(i), KeyCode::Up) => Some(i.saturating_sub(1)),
                            (Some(i), _) if i + 1 < n => Some(i + 1),
                            (Some(_), _) => None,
                        };
                        p.history_pos = pos;
                        p.edit.set(pos.map_or("", |i| self.history[i].as_str()));
                        p.cycle = None;
                    }
                    self.popup = Some(Popup::Palette(p));
                }
                _ => match p.edit.handle(&k) {
                    EditOutcome::Submit => {
                        let line = p.edit.text.trim().to_string();
                        if !line.is_empty() {
                            self.history.retain(|h| h != &line);
                            self.history.push(line.clone());
                            if self.history.len() > 100 {
                                self.history.remove(0);
                            }
                            self.run_command(&line);
                        }
                    }
                    EditOutcome::Cancel => {}
                    EditOutcome::Changed => {
                        p.cycle = None;
                        self.popup = Some(Popup::Palette(p));
                    }
                    _ => self.popup = Some(Popup::Palette(p)),
                },
            },
            Popup::Confirm(c) => match k.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    if self.live("do that") {
                        match c.on_yes {
                            // A run confirmed: it starts like any other (history, result).
                            NetCommand::SqlRun { sql, .. } => {
                                self.start_sql(sql, database_kind::Destructive)
                            }
                            cmd => self.send(cmd),
                        }
                    }
                }
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {}
                _ => self.popup = Some(Popup::Confirm(c)),
            },
            Popup::Path(p) => self.path_prompt_key(p, k),
            Popup::Prompt(mut p) => {
                let alt = k.modifiers.contains(KeyModifiers::ALT);
                let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
                match k.code {
                    KeyCode::Esc => {}
                    KeyCode::Enter if alt => {
                        p.input.insert_newline();
                        self.popup = Some(Popup::Prompt(p));
                    }
                    KeyCode::Char('j') if ctrl => {
                        p.input.insert_newline();
                        self.popup = Some(Popup::Prompt(p));
                    }
                    KeyCode::Enter => match (p.validate(), p.kind.clone()) {
                        (Err(e), _) => {
                            p.error = Some(e);
                            self.popup = Some(Popup::Prompt(p));
                        }
                        (Ok(v), PromptKind::ExportPath) => {
                            self.export_to(v.as_str().unwrap_or_default())
                        }
                        (Ok(v), PromptKind::QueueName) => {
                            let queue = v.as_str().unwrap_or_default().to_string();
                            self.popup = Some(Popup::Prompt(Prompt::new(
                                PromptKind::QueueMessage {
                                    queue,
                                    create: true,
                                },
                                &self.theme,
                            )));
                        }
                        (Ok(v), PromptKind::DocJson { path }) => {
                            if self.live("save the document") {
                                self.send(NetCommand::Docs(super::net::DocsCommand::Replace {
                                    path,
                                    json: v,
                                }));
                            } else {
                                self.popup = Some(Popup::Prompt(p));
                            }
                        }
                        (Ok(v), PromptKind::ToolArguments { toolkit, tool }) => {
                            if !self.call_tool(toolkit, tool, v) {
                                self.popup = Some(Popup::Prompt(p));
                            }
                        }
                        (Ok(v), PromptKind::QueueMessage { queue, create }) => {
                            if self.live("send to the queue") {
                                self.send(NetCommand::QueueSend {
                                    name: queue,
                                    message: v,
                                    create,
                                });
                            } else {
                                self.popup = Some(Popup::Prompt(p));
                            }
                        }
                    },
                    _ => {
                        p.input.input(k);
                        p.error = None;
                        self.popup = Some(Popup::Prompt(p));
                    }
                }
            }
        }
    }

    fn on_paste(&mut self, text: &str) {
        match (&mut self.popup, &mut self.line) {
            (Some(Popup::Prompt(p)), _) => {
                p.input.insert_str(text);
            }
            (Some(Popup::Palette(p)), _) => p.edit.insert_str(text),
            (Some(Popup::Help(h)), _) => h.filter.insert_str(text),
            (Some(Popup::Confirm(_)), _) => {}
            (Some(Popup::Path(p)), _) => {
                p.edit.insert_str(text);
                p.edited();
            }
            (None, Some((target, edit))) => {
                edit.insert_str(text);
                let (t, s) = (*target, edit.text.clone());
                self.apply_line(t, &s, false);
            }
            (None, None) => {
                if self.tab == Tab::Chat && !self.read_only {
                    self.set_focus(Focus::Input);
                    self.chat.input.insert_str(text);
                }
                if self.tab == Tab::Database {
                    self.set_focus(Focus::DbEditor);
                    self.database.editor.input.insert_str(text);
                }
            }
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
            Action::TabChat => self.switch_tab(Tab::Chat),
            Action::TabQueues => self.switch_tab(Tab::Queues),
            Action::TabLogs => self.switch_tab(Tab::Logs),
            Action::TabServices => self.switch_tab(Tab::Services),
            Action::TabFiles => self.switch_tab(Tab::Files),
            Action::TabDatabase => self.switch_tab(Tab::Database),
            Action::TabDocs => self.switch_tab(Tab::Docs),
            Action::TabTools => self.switch_tab(Tab::Tools),
            Action::DocEdit => self.edit_doc(),
            Action::ToolInvoke => self.ask_tool_arguments(),
            Action::SqlRun => {
                let sql = self.database.editor.text();
                self.run_sql(sql);
            }
            Action::SqlHistoryPrev | Action::SqlHistoryNext => {
                if self.tab == Tab::Database {
                    self.set_focus(Focus::DbEditor);
                    self.database.editor.walk(a == Action::SqlHistoryPrev);
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
                    self.logs.scroll_h(a == Action::Right);
                } else if focus == Focus::DbResults {
                    self.database.results.move_col(a == Action::Right);
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
                let (target, current) = match self.tab {
                    Tab::Chat => (LineTarget::Filter(Tab::Chat), self.chat.filter.clone()),
                    Tab::Queues => (LineTarget::Filter(Tab::Queues), self.queues.filter.clone()),
                    Tab::Logs => (
                        LineTarget::Filter(Tab::Logs),
                        self.logs.filter().to_string(),
                    ),
                    Tab::Services => (
                        LineTarget::Filter(Tab::Services),
                        self.services.filter.clone(),
                    ),
                    Tab::Files => (LineTarget::Filter(Tab::Files), self.storage.filter.clone()),
                    Tab::Database => (
                        LineTarget::Filter(Tab::Database),
                        self.database.tables.filter.clone(),
                    ),
                    Tab::Docs => (LineTarget::Filter(Tab::Docs), self.docs.filter.clone()),
                    Tab::Tools => (LineTarget::Filter(Tab::Tools), self.tools.filter.clone()),
                };
                if self.tab == Tab::Chat && focus == Focus::Input {
                    self.set_focus(Focus::Messages);
                }
                self.line = Some((target, LineEdit::new(&current)));
            }
            Action::Select => match focus {
                Focus::QueueList if self.queues.selected_name().is_some() => {
                    self.do_action(Action::QueueSend)
                }
                Focus::Peers | Focus::Messages => self.do_action(Action::Compose),
                Focus::ServiceList => self.set_focus(Focus::ServiceLog),
                Focus::FileTree => self.files_toggle(),
                Focus::DbTables => self.select_table(),
                Focus::DocList if self.docs.open.is_some() => self.set_focus(Focus::DocView),
                Focus::ToolList => self.do_action(Action::ToolInvoke),
                _ => {}
            },
            Action::Back => {
                if self.tab == Tab::Database && self.database.running.is_some() {
                    self.cancel_sql();
                } else if self.zoom {
                    self.zoom = false;
                } else {
                    match self.tab {
                        Tab::Chat => self.chat.filter.clear(),
                        Tab::Queues => {
                            self.queues.filter.clear();
                            self.queues.clamp();
                        }
                        Tab::Services => {
                            self.services.filter.clear();
                            self.services.clamp();
                        }
                        Tab::Files => {
                            self.storage.set_filter("");
                            self.files_follow_selection();
                        }
                        Tab::Database => {
                            self.database.tables.filter.clear();
                            self.database.tables.clamp();
                        }
                        Tab::Docs => {
                            if focus == Focus::DocView {
                                self.set_focus(Focus::DocList);
                            } else {
                                self.apply_line(LineTarget::Filter(Tab::Docs), "", false);
                            }
                        }
                        Tab::Tools => {
                            if focus == Focus::ToolDetail {
                                self.set_focus(Focus::ToolList);
                            } else {
                                self.apply_line(LineTarget::Filter(Tab::Tools), "", false);
                            }
                        }
                        Tab::Logs => {
                            if !self.logs.search.is_empty() {
                                self.logs.search.clear();
                            } else {
                                self.logs.set_filter("");
                            }
                        }
                    }
                }
            }
            Action::Copy => {
                let text = match self.tab {
                    Tab::Chat => self.chat.selected_text(),
                    Tab::Queues => self
                        .queues
                        .received
                        .front()
                        .and_then(|r| r.message.as_ref())
                        .map(|v| serde_json::to_string_pretty(v).unwrap_or_default()),
                    Tab::Logs => self.logs.selected_text(),
                    Tab::Services => self.services.selected_service().map(|s| s.id),
                    Tab::Files => self.storage.selected_entry().map(|(p, _)| p),
                    Tab::Database if focus == Focus::DbResults => {
                        self.database.results.selected_line()
                    }
                    Tab::Database => self.database.tables.selected_name(),
                    Tab::Docs => self.docs.open.as_ref().and_then(|o| o.pretty()),
                    Tab::Tools if focus == Focus::ToolDetail => {
                        self.tools.calls.front().and_then(|c| c.answer_text())
                    }
                    Tab::Tools => self
                        .tools
                        .selected_tool()
                        .map(|(k, t)| format!("{}.{}", k.name, t.name)),
                };
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
            Action::QueueSend => match self.queues.selected_name() {
                Some(queue) => {
                    self.popup = Some(Popup::Prompt(Prompt::new(
                        PromptKind::QueueMessage {
                            queue,
                            create: false,
                        },
                        &self.theme,
                    )))
                }
                None => self.do_action(Action::QueueNew),
            },
            Action::QueueNew => {
                self.popup = Some(Popup::Prompt(Prompt::new(
                    PromptKind::QueueName,
                    &self.theme,
                )))
            }
            Action::QueueReceive => {
                if let Some(name) = self.queues.selected_name()
                    && self.live("receive")
                {
                    self.send(NetCommand::QueueReceive { name });
                }
            }
            Action::QueueDrain => {
                if let Some(name) = self.queues.selected_name() {
                    self.confirm_drain(name);
                }
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
                } else {
                    self.send(NetCommand::RefreshQueues);
                }
            }
            Action::ServiceRestart => match self.services.selected_service() {
                Some(svc) => self.confirm_restart(svc),
                None => self.notify(NoticeLevel::Info, "no service selected"),
            },
            Action::FileUpload | Action::FileDownload | Action::FileDelete | Action::FileMove => {
                self.files_action(a)
            }
            Action::Search => {
                self.line = Some((LineTarget::Search, LineEdit::new(&self.logs.search)))
            }
            Action::SearchNext | Action::SearchPrev => {
                if self.logs.search.is_empty() {
                    self.notify(NoticeLevel::Info, "no search: press s to search");
                } else if !self.logs.search_step(a == Action::SearchNext) {
                    self.notify(
                        NoticeLevel::Info,
                        format!("\"{}\" not found", self.logs.search),
                    );
                }
            }
            Action::TogglePause => {
                let p = !self.logs.paused();
                self.logs.set_paused(p);
            }
            Action::ToggleTimestamps => self.logs.timestamps = !self.logs.timestamps,
            Action::ToggleWrap => self.logs.wrap = !self.logs.wrap,
            Action::ClearLogs => self.logs.clear(),
        }
    }

    fn confirm_drain(&mut self, name: String) {
        let size = self
            .queues
            .queues
            .iter()
            .find(|q| q.name == name)
            .map_or(0, |q| q.size);
        self.popup = Some(Popup::Confirm(Confirm {
            title: "Drain queue".into(),
            body: format!(
                "Drain queue {name}? Its {size} message{} will be deleted.",
                if size == 1 { "" } else { "s" }
            ),
            on_yes: NetCommand::QueueDrain { name },
        }));
    }

    fn switch_room(&mut self, name: &str) {
        if !self.local {
            self.notify(
                NoticeLevel::Error,
                "room NAME opens local rooms; this console is on a remote room",
            );
        } else if name.is_empty() {
            self.notify(NoticeLevel::Error, "usage: room NAME");
        } else if name.contains(['/', '\\', ' ']) || name.starts_with('.') {
            self.notify(
                NoticeLevel::Error,
                format!("\"{name}\" is not a room name (no slashes, spaces or leading dot)"),
            );
        } else if name == self.room {
            self.notify(NoticeLevel::Info, format!("already in room {name}"));
        } else {
            self.outbox.push(Effect::SwitchRoom(name.to_string()));
        }
    }

    fn confirm_restart(&mut self, svc: ServiceSummary) {
        self.popup = Some(Popup::Confirm(Confirm {
            title: "Restart service".into(),
            body: format!(
                "Restart service {}? It is {} and has restarted {} time{}.",
                svc.name,
                svc.state,
                svc.restart_count,
                if svc.restart_count == 1 { "" } else { "s" }
            ),
            on_yes: NetCommand::ServiceRestart {
                id: svc.id,
                name: svc.name,
            },
        }));
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

    fn switch_tab(&mut self, tab: Tab) {
        if tab == self.tab {
            return;
        }
        if self.tab == Tab::Queues {
            self.send(NetCommand::WatchQueues(false));
        }
        if tab == Tab::Queues {
            self.send(NetCommand::WatchQueues(true));
        }
        if self.tab == Tab::Services {
            self.send(NetCommand::WatchServices(false));
        }
        if self.tab == Tab::Docs {
            self.docs_hidden();
        }
        if tab == Tab::Services {
            self.send(NetCommand::WatchServices(true));
        }
        self.tab = tab;
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
    }

    fn navigate(&mut self, a: Action) {
        match self.focused() {
            Focus::Logs => match a {
                Action::Up => self.logs.move_by(-1),
                Action::Down => self.logs.move_by(1),
                Action::PageUp => self.logs.page(false),
                Action::PageDown => self.logs.page(true),
                Action::Top => self.logs.top(),
                _ => self.logs.follow(),
            },
            Focus::Peers => {
                let n = self.chat.peers.len() + 1;
                self.chat.selected = step(self.chat.selected, n, a, 10);
            }
            Focus::Messages | Focus::Input => {
                let n = self.chat.visible_entries().count();
                let s = &mut self.chat.scroll;
                *s = match a {
                    Action::Up => (*s + 1).min(n.saturating_sub(1)),
                    Action::Down => s.saturating_sub(1),
                    Action::PageUp => (*s + 10).min(n.saturating_sub(1)),
                    Action::PageDown => s.saturating_sub(10),
                    Action::Top => n.saturating_sub(1),
                    _ => 0,
                };
            }
            Focus::QueueList => {
                let n = self.queues.visible().len();
                self.queues.selected = step(self.queues.selected, n, a, 10);
            }
            Focus::ServiceList => {
                let n = self.services.visible().len();
                let before = self.services.selected;
                self.services.selected = step(self.services.selected, n, a, 10);
                if self.services.selected != before {
                    self.services.log_scroll = 0;
                }
            }
            Focus::ServiceLog => {
                // Scrolls up from the newest line.
                let s = &mut self.services.log_scroll;
                *s = match a {
                    Action::Up => *s + 1,
                    Action::Down => s.saturating_sub(1),
                    Action::PageUp => *s + 10,
                    Action::PageDown => s.saturating_sub(10),
                    Action::Top => usize::MAX / 2,
                    _ => 0,
                };
            }
            Focus::FileTree => {
                let n = self.storage.rows().len();
                self.storage.select(step(self.storage.selected, n, a, 10));
                self.files_follow_selection();
            }
            Focus::FilePreview => self.files_scroll_preview(a),
            Focus::DbTables => {
                let n = self.database.tables.visible().len();
                let t = &mut self.database.tables;
                t.selected = step(t.selected, n, a, 10);
                self.inspect_selected();
            }
            Focus::DbEditor => {}
            Focus::DbResults => {
                let r = &mut self.database.results;
                match a {
                    Action::Up => r.move_row(-1),
                    Action::Down => r.move_row(1),
                    Action::PageUp => r.move_row(-20),
                    Action::PageDown => r.move_row(20),
                    Action::Top => r.move_row(isize::MIN),
                    _ => r.move_row(isize::MAX),
                }
            }
            Focus::DocList => {
                let n = self.docs.visible().len();
                self.docs.selected = step(self.docs.selected, n, a, 10);
                self.docs_follow_selection();
            }
            Focus::DocView => {
                let n = self.docs.open.as_ref().map_or(0, |o| o.lines.len());
                let s = &mut self.docs.scroll;
                *s = match a {
                    Action::Up => s.saturating_sub(1),
                    Action::Down => (*s + 1).min(n.saturating_sub(1)),
                    Action::PageUp => s.saturating_sub(20),
                    Action::PageDown => (*s + 20).min(n.saturating_sub(1)),
                    Action::Top => 0,
                    _ => n.saturating_sub(1),
                };
            }
            Focus::ToolList => {
                let n = self.tools.rows().len();
                let before = self.tools.selected;
                self.tools.selected = step(self.tools.selected, n, a, 10);
                if self.tools.selected != before {
                    self.tools.detail_scroll = 0;
                }
            }
            Focus::ToolDetail => {
                let s = &mut self.tools.detail_scroll;
                *s = match a {
                    Action::Up => s.saturating_sub(1),
                    Action::Down => *s + 1,
                    Action::PageUp => s.saturating_sub(10),
                    Action::PageDown => *s + 10,
                    _ => 0,
                };
            }
            Focus::QueueDetail => {
                let s = &mut self.queues.detail_scroll;
                *s = match a {
                    Action::Up => s.saturating_sub(1),
                    Action::Down => *s + 1,
                    Action::PageUp => s.saturating_sub(10),
                    Action::PageDown => *s + 10,
                    _ => 0,
                };
            }
        }
    }

    // ---------------------------------------------------------------- palette commands

    pub fn run_command(&mut self, line: &str) {
        let (cmd, arg) = match line.split_once(' ') {
            Some((c, a)) => (c, a.trim()),
            None => (line, ""),
        };
        let mutating = matches!(
            cmd,
            "say"
                | "send"
                | "receive"
                | "drain"
                | "restart"
                | "upload"
                | "move"
                | "delete"
                | "invoke"
        );
        if self.read_only && mutating {
            self.notify(
                NoticeLevel::Error,
                format!("read-only mode: \"{cmd}\" is off"),
            );
            return;
        }
        match cmd {
            "quit" | "q" => self.do_action(Action::Quit),
            "help" => self.do_action(Action::Help),
            "chat" => self.switch_tab(Tab::Chat),
            "queues" => self.switch_tab(Tab::Queues),
            "logs" => self.switch_tab(Tab::Logs),
            "services" => self.switch_tab(Tab::Services),
            "files" => self.switch_tab(Tab::Files),
            "upload" | "download" | "move" | "delete" => self.files_command(cmd, arg),
            "database" => self.switch_tab(Tab::Database),
            "docs" | "documents" => self.switch_tab(Tab::Docs),
            "doc" => self.open_doc(arg),
            "tools" | "toolkits" => self.switch_tab(Tab::Tools),
            "invoke" => self.invoke_command(arg),
            "tables" => {
                self.switch_tab(Tab::Database);
                self.refresh_tables();
            }
            "sql" if !arg.is_empty() => {
                self.switch_tab(Tab::Database);
                self.database.editor.set_text(arg);
                self.run_sql(arg.to_string());
            }
            "export" => {
                if arg.is_empty() {
                    self.ask_export();
                } else {
                    self.export_to(arg);
                }
            }
            "room" => self.switch_room(arg),
            "restart" if !arg.is_empty() => {
                match self
                    .services
                    .services
                    .iter()
                    .find(|s| s.name == arg || s.id == arg)
                    .cloned()
                {
                    Some(svc) => self.confirm_restart(svc),
                    None => self.notify(NoticeLevel::Error, format!("no service named {arg}")),
                }
            }
            "say" if !arg.is_empty() => {
                self.chat.input.select_all();
                self.chat.input.cut();
                self.chat.input.insert_str(arg);
                self.send_chat();
            }
            "send" => {
                let Some((queue, json)) = arg.split_once(' ') else {
                    self.notify(NoticeLevel::Error, "usage: send QUEUE {json}");
                    return;
                };
                match serde_json::from_str::<Value>(json) {
                    Ok(v @ Value::Object(_)) => {
                        if self.live("send to the queue") {
                            self.send(NetCommand::QueueSend {
                                name: queue.to_string(),
                                message: v,
                                create: true,
                            });
                        }
                    }
                    Ok(_) => self.notify(
                        NoticeLevel::Error,
                        "a queue message is a JSON object: wrap it in {…}",
                    ),
                    Err(e) => self.notify(NoticeLevel::Error, format!("not valid JSON: {e}")),
                }
            }
            "receive" if !arg.is_empty() => {
                if self.live("receive") {
                    self.send(NetCommand::QueueReceive {
                        name: arg.to_string(),
                    });
                }
            }
            "drain" if !arg.is_empty() => self.confirm_drain(arg.to_string()),
            "log" if !arg.is_empty() => {
                if self.live("log") {
                    self.send(NetCommand::DevLog {
                        message: arg.to_string(),
                    });
                }
            }
            "filter" => {
                let t = self.tab;
                self.apply_line(LineTarget::Filter(t), arg, true);
            }
            "search" => {
                self.switch_tab(Tab::Logs);
                self.apply_line(LineTarget::Search, arg, true);
            }
            "follow" => self.logs.follow(),
            "pause" => self.do_action(Action::TogglePause),
            "wrap" => self.do_action(Action::ToggleWrap),
            "timestamps" => self.do_action(Action::ToggleTimestamps),
            "clear" => self.do_action(Action::ClearLogs),
            "theme" if !arg.is_empty() => self.set_theme(arg),
            "mouse" => {
                let want = match arg {
                    "on" => true,
                    "off" => false,
                    _ => !self.mouse,
                };
                if want != self.mouse {
                    self.do_action(Action::ToggleMouse);
                }
            }
            _ => self.notify(
                NoticeLevel::Error,
                format!("unknown command \"{line}\" (tab lists the commands)"),
            ),
        }
    }

    // ---------------------------------------------------------------- mouse

    fn on_mouse(&mut self, m: MouseEvent) -> bool {
        if !self.mouse {
            return false;
        }
        let pos = Position {
            x: m.column,
            y: m.row,
        };
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if self.popup.is_some() {
                    return false;
                }
                if let Some((_, tab)) = self.hit.tabs.iter().find(|(r, _)| r.contains(pos)) {
                    let t = *tab;
                    self.switch_tab(t);
                    return true;
                }
                if let Some((_, f)) = self.hit.panes.iter().find(|(r, _)| r.contains(pos)) {
                    let f = *f;
                    if f == Focus::Input && self.read_only {
                        return false;
                    }
                    self.set_focus(f);
                    if f == Focus::FileTree {
                        self.files_click(pos);
                    }
                    return true;
                }
                false
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                if let Some(Popup::Help(h)) = &mut self.popup {
                    h.scroll = if m.kind == MouseEventKind::ScrollUp {
                        h.scroll.saturating_sub(3)
                    } else {
                        h.scroll + 3
                    };
                    return true;
                }
                if self.popup.is_some() {
                    return false;
                }
                let under = self
                    .hit
                    .panes
                    .iter()
                    .find(|(r, _)| r.contains(pos))
                    .map(|(_, f)| *f);
                let Some(f) = under else { return false };
                let before = self.focused();
                self.set_focus(f);
                let a = if m.kind == MouseEventKind::ScrollUp {
                    Action::Up
                } else {
                    Action::Down
                };
                for _ in 0..3 {
                    self.navigate(a);
                }
                if before == Focus::Input || f == Focus::Input {
                    self.set_focus(before);
                }
                true
            }
            _ => false,
        }
    }
}

fn step(cur: usize, n: usize, a: Action, page: usize) -> usize {
    if n == 0 {
        return 0;
    }
    match a {
        Action::Up => cur.saturating_sub(1),
        Action::Down => (cur + 1).min(n - 1),
        Action::PageUp => cur.saturating_sub(page),
        Action::PageDown => (cur + page).min(n - 1),
        Action::Top => 0,
        _ => n - 1,
    }
}
