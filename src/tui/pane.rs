//! The `Pane` trait: what each tab of the console offers the app, after gitui's components.
//!
//! A pane owns its state, draws itself, moves within itself, takes the network events that are
//! its own and names the keys it offers (`commands`), which feed the hint line and the help
//! overlay's "this tab" section. `App` keeps what spans panes
//! (popups, focus, the connection) and the actions that need it. Adding a pane: its module
//! under `panes/`, a row in [`TABS`], a field of `App` and a line in `App::pane` / `App::split`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use super::action::Action;
use super::app::{Effect, Notice, NoticeLevel, Options};
use super::keymap::{Context, Keymap};
use super::net::{NetCommand, NetEvent};
use super::panes::chat::ChatPane;
use super::panes::database::DatabasePane;
use super::panes::docs::DocsPane;
use super::panes::logs::LogsPane;
use super::panes::overview::OverviewPane;
use super::panes::queues::QueuesPane;
use super::panes::services::ServicesPane;
use super::panes::storage::StoragePane;
use super::panes::timeline::TimelinePane;
use super::panes::tools::ToolsPane;
use super::theme::Theme;

/// One row per tab, in the tab bar's order: its title, the digit that opens it, the keymap
/// context of its keys, the action bound to the digit and the sub-panes that take the focus
/// (the first holds it when the tab opens).
pub struct TabInfo {
    pub tab: Tab,
    pub title: &'static str,
    /// The title on a narrow terminal.
    pub short: &'static str,
    pub number: usize,
    pub context: Context,
    pub action: Action,
    pub focus: &'static [Focus],
    /// What the tab shows, for `roomdeck --help`.
    pub about: &'static str,
}

/// The registry of panes: one entry per tab makes its `Tab` variant, its row of [`TABS`], its
/// field of [`Panes`] (with how `Panes::new` makes it) and its arms of `Panes::get` and
/// `Panes::split`.
macro_rules! panes {
    (
        fn new($opts:ident);
        $( $tab:ident => $field:ident: $ty:ty = $init:expr, {
            title: $title:literal, short: $short:literal, number: $num:literal,
            context: $ctx:ident, action: $act:ident, focus: [$($focus:ident),+ $(,)?],
            about: $about:literal $(,)?
        } ),+ $(,)?
    ) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Tab { $($tab),+ }

        pub const TABS: &[TabInfo] = &[$(TabInfo {
            tab: Tab::$tab,
            title: $title,
            short: $short,
            number: $num,
            context: Context::$ctx,
            action: Action::$act,
            focus: &[$(Focus::$focus),+],
            about: $about,
        }),+];

        /// Every tab's pane.
        pub struct Panes { $(pub $field: $ty),+ }

        impl Panes {
            pub fn new($opts: &mut Options) -> Panes {
                Panes { $($field: $init),+ }
            }

            /// A tab's pane.
            pub fn get(&self, tab: Tab) -> &dyn Pane {
                match tab { $(Tab::$tab => &self.$field),+ }
            }

            /// A tab's pane, and the developer log beside it (None for the logs pane itself).
            pub fn split(&mut self, tab: Tab) -> (&mut dyn Pane, Option<&LogsPane>) {
                match tab { $(Tab::$tab => with_logs!(self, $field)),+ }
            }
        }
    };
}

/// A pane borrowed mutably beside the developer log, which every other pane may read.
macro_rules! with_logs {
    ($s:ident, logs) => {
        (&mut $s.logs as &mut dyn Pane, None)
    };
    ($s:ident, $f:ident) => {
        (&mut $s.$f as &mut dyn Pane, Some(&$s.logs))
    };
}

panes! {
    fn new(opts);
    Overview => overview: OverviewPane = OverviewPane::default(), {
        title: "Overview", short: "Home", number: 0,
        context: Overview, action: TabOverview, focus: [Overview],
        about: "the room at a glance: participants, live rates, queues, services, warnings",
    },
    Chat => chat: ChatPane = ChatPane::default(), {
        title: "Chat", short: "Chat", number: 1,
        context: Chat, action: TabChat, focus: [Peers, Messages, Input],
        about: "participants, messages and messaging streams; write to everyone or one",
    },
    Queues => queues: QueuesPane = QueuesPane::default(), {
        title: "Queues", short: "Queue", number: 2,
        context: Queues, action: TabQueues, focus: [QueueList, QueueDetail],
        about: "queues with live sizes: send, receive, drain",
    },
    Logs => logs: LogsPane = {
        let mut logs = LogsPane::new(opts.log_capacity);
        logs.tz_offset_secs = opts.tz_offset_secs;
        logs
    }, {
        title: "Logs", short: "Logs", number: 3,
        context: Logs, action: TabLogs, focus: [Logs],
        about: "the room's developer log, live: filter, search, pause, copy",
    },
    Services => services: ServicesPane = ServicesPane::default(), {
        title: "Services", short: "Svc", number: 4,
        context: Services, action: TabServices, focus: [ServiceList, ServiceLog],
        about: "the room's services with state and restarts, and their log lines",
    },
    Files => storage: StoragePane = StoragePane::default(), {
        title: "Files", short: "Files", number: 5,
        context: Files, action: TabFiles, focus: [FileTree, FilePreview],
        about: "the room's storage as a tree: preview, upload, download, move, delete",
    },
    Database => database: DatabasePane = DatabasePane::new(std::mem::take(&mut opts.sql_history)), {
        title: "Database", short: "DB", number: 6,
        context: Database, action: TabDatabase, focus: [DbTables, DbEditor, DbResults],
        about: "the room's SQLite tables; run SQL, export results",
    },
    Docs => docs: DocsPane = DocsPane::default(), {
        title: "Docs", short: "Docs", number: 7,
        context: Docs, action: TabDocs, focus: [DocList, DocView],
        about: "shared (sync) documents, live as JSON; edit one",
    },
    Tools => tools: ToolsPane = ToolsPane::default(), {
        title: "Tools", short: "Tools", number: 8,
        context: Tools, action: TabTools, focus: [ToolList, ToolDetail],
        about: "toolkits and their tools; call one with JSON arguments",
    },
    Timeline => timeline: TimelinePane = TimelinePane::new(opts.timeline_root.take()), {
        title: "Timeline", short: "TL", number: 9,
        context: Timeline, action: TabTimeline,
        focus: [TimelineEvents, TimelineDetail, TimelineSessions],
        about: "recorded sessions event by event: filter, scrub, play, the room's state at an instant",
    },
}

impl Tab {
    pub const ALL: [Tab; TABS.len()] = {
        let mut all = [Tab::Overview; TABS.len()];
        let mut i = 0;
        while i < TABS.len() {
            all[i] = TABS[i].tab;
            i += 1;
        }
        all
    };
    pub fn info(self) -> &'static TabInfo {
        &TABS[self.index()]
    }
    pub fn title(self) -> &'static str {
        self.info().title
    }
    pub fn context(self) -> Context {
        self.info().context
    }
    /// The number shown in the tab bar: the digit key that opens it.
    pub fn number(self) -> usize {
        self.info().number
    }
    pub fn index(self) -> usize {
        // `TABS` lists the tabs in the enum's order.
        self as usize
    }
    /// The tab a `tab_*` action opens.
    pub fn for_action(a: Action) -> Option<Tab> {
        TABS.iter().find(|t| t.action == a).map(|t| t.tab)
    }
}

/// The sub-panes of each tab that can hold the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Overview,
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
    TimelineSessions,
    TimelineEvents,
    TimelineDetail,
}

impl Focus {
    pub fn ring(tab: Tab) -> &'static [Focus] {
        tab.info().focus
    }
}

/// A sub-pane's area, and whether it has the focus (None: not drawn, the other is zoomed).
pub type Placed = Option<(Rect, bool)>;

/// What a pane may read while it draws, and where it records its areas for the mouse.
pub struct DrawCx<'a> {
    pub theme: &'a Theme,
    pub keymap: &'a Keymap,
    pub focus: Focus,
    pub zoom: bool,
    pub tz: i32,
    pub now_ms: i64,
    pub read_only: bool,
    /// True while keys go to the pane's text input (a chat message, SQL) and no popup or
    /// line input is over it.
    pub typing: bool,
    /// The developer log, for panes that show part of it (None while the logs pane draws).
    pub logs: Option<&'a LogsPane>,
    pub hit: &'a mut Vec<(Rect, Focus)>,
}

impl DrawCx<'_> {
    pub fn focused(&self, f: Focus) -> bool {
        self.focus == f
    }

    /// Records `area` as the sub-pane `f` for mouse clicks and scrolling.
    pub fn place(&mut self, area: Rect, f: Focus) {
        self.hit.push((area, f));
    }

    /// A list on the left and its detail on the right (`left_pct` of the width for the list);
    /// zoomed, the focused one takes the body. Both areas are recorded for the mouse; each
    /// comes with whether it has the focus.
    pub fn list_and_detail(
        &mut self,
        body: Rect,
        (list, detail): (Focus, Focus),
        left_pct: u16,
    ) -> (Placed, Placed) {
        let (l, d) = if self.zoom {
            if self.focus == list {
                (Some(body), None)
            } else {
                (None, Some(body))
            }
        } else {
            let [l, d] =
                Layout::horizontal([Constraint::Percentage(left_pct), Constraint::Fill(1)])
                    .areas(body);
            (Some(l), Some(d))
        };
        let mut placed = |r: Option<Rect>, f: Focus| {
            r.map(|r| {
                self.place(r, f);
                (r, self.focus == f)
            })
        };
        (placed(l, list), placed(d, detail))
    }
}

/// What a pane may do while it takes a network event: ask the room for more, tell the user.
pub struct NetCx<'a> {
    pub now_ms: i64,
    pub outbox: &'a mut Vec<Effect>,
    pub notice: &'a mut Option<Notice>,
}

impl NetCx<'_> {
    pub fn send(&mut self, cmd: NetCommand) {
        self.outbox.push(Effect::Net(cmd));
    }

    pub fn notify(&mut self, level: NoticeLevel, text: impl Into<String>) {
        *self.notice = Some(Notice::new(level, text, self.now_ms));
    }
}

pub trait Pane {
    /// The actions this pane offers while `focus` has the focus, most used first: the hint
    /// line shows them (then `:`, `? help`, `q quit`), the help overlay lists them first.
    fn commands(&self, focus: Focus) -> &'static [Action];

    fn draw(&mut self, f: &mut Frame, body: Rect, cx: &mut DrawCx);

    /// Up, down, page, top and bottom within the focused sub-pane.
    fn navigate(&mut self, _focus: Focus, _a: Action) {}

    /// The text of the `/` filter.
    fn filter(&self) -> String;

    fn set_filter(&mut self, text: &str);

    /// What `y` copies with the focus on `focus`.
    fn copy_text(&self, _focus: Focus) -> Option<String> {
        None
    }

    /// Takes the network events that are this pane's own (`Ok(redraw)`) and hands back the
    /// others (moved back unchanged: nothing is copied, so the large `Err` costs nothing).
    #[allow(clippy::result_large_err)]
    fn on_net(&mut self, ev: NetEvent, _cx: &mut NetCx) -> Result<bool, NetEvent> {
        Err(ev)
    }
}

/// Moves a selection of `n` rows by a navigation action (`page` rows a page).
pub fn step(cur: usize, n: usize, a: Action, page: usize) -> usize {
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

/// Moves a scroll offset counted from the top by a navigation action (`max`: the last offset;
/// `page` lines a page).
pub fn scroll_down(s: usize, a: Action, page: usize, max: usize) -> usize {
    match a {
        Action::Up => s.saturating_sub(1),
        Action::Down => (s + 1).min(max),
        Action::PageUp => s.saturating_sub(page),
        Action::PageDown => (s + page).min(max),
        Action::Top => 0,
        _ => max,
    }
}

/// Moves a scroll offset counted up from the newest line (0: the newest shows).
pub fn scroll_up(s: usize, a: Action, page: usize, max: usize) -> usize {
    match a {
        Action::Up => (s + 1).min(max),
        Action::Down => s.saturating_sub(1),
        Action::PageUp => (s + page).min(max),
        Action::PageDown => s.saturating_sub(page),
        Action::Top => max,
        _ => 0,
    }
}
