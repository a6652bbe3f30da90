//! The room console: a terminal UI on a room (chat, queues, developer logs).
//!
//! Data path: key press -> `Action` -> `App::update` -> `NetCommand` on a channel -> the net
//! bridge task (owns the `RoomClient`) -> `NetEvent` -> `App::update` -> draw. The UI loop owns
//! all state and redraws only when `update` says something changed.

pub mod action;
pub mod app;
mod bridge;
pub mod clipboard;
pub mod config;
mod dbbridge;
pub mod keymap;
pub mod net;
pub mod pane;
pub mod panes;
pub mod popups;
mod term;
pub mod theme;
pub mod time;
pub mod ui;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use app::{App, Effect, Msg, Options};
pub use bridge::token_name;
use net::now_ms;

pub struct TuiOptions {
    pub target: Target,
    pub theme: Option<String>,
    pub read_only: bool,
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub no_mouse: bool,
    /// Where the Timeline tab lists recorded sessions: Some(dir) for that directory (as
    /// `roomdeck inspect` records), None for the local room's `<data>/rooms/<room>/timeline`
    /// (following `:room`); a remote room has none.
    pub timeline_root: Option<PathBuf>,
    /// The tab the console opens on (None: the overview), e.g. `Some(Tab::Timeline)`.
    pub start_tab: Option<pane::Tab>,
}

pub enum Target {
    /// A local room, opened through `rooms` (as is each `:room NAME` after it).
    Local {
        room: String,
        rooms: Arc<dyn LocalRooms>,
    },
    /// Any room that speaks the protocol: `ws(s)://host/rooms/NAME` and a participant token;
    /// with the server's rooms (its REST API, from `--api-url`) for `:rooms` and `:room NAME`.
    Remote {
        url: String,
        token: String,
        rooms: Option<Arc<dyn LocalRooms>>,
    },
}

impl Target {
    /// Where the console's rooms are listed and opened, if it knows.
    fn rooms(&self) -> Option<Arc<dyn LocalRooms>> {
        match self {
            Target::Local { rooms, .. } => Some(rooms.clone()),
            Target::Remote { rooms, .. } => rooms.clone(),
        }
    }
}

/// How the console opens a local room: the CLI's side of it (it starts or finds the local
/// server and mints the token), so the console itself only ever joins a URL with a token.
pub trait LocalRooms: Send + Sync {
    fn open<'a>(
        &'a self,
        room: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<OpenedRoom, String>> + Send + 'a>>;
    /// Every local room, sorted by name (the `:rooms` view).
    fn list(&self) -> Pin<Box<dyn Future<Output = Result<Vec<RoomInfo>, String>> + Send + '_>>;
    fn create<'a>(
        &'a self,
        room: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
    /// Deletes a room with its data; the registry refuses an active one.
    fn delete<'a>(
        &'a self,
        room: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// One room as the `:rooms` view lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomInfo {
    pub name: String,
    pub state: RoomState,
    /// Who joined its current session (0 when idle).
    pub participants: usize,
    /// When its current session started (unix ms).
    pub session_start_ms: Option<i64>,
    /// Bytes under the room's data folder.
    pub data_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomState {
    Active,
    Idle,
    Disabled,
}

/// A local room to join, and what keeps its server up while the console is on it.
pub struct OpenedRoom {
    pub url: String,
    pub token: String,
    /// The participant name the token was minted for.
    pub name: String,
    /// For the status line: "local", or "local via HOST:PORT" for a `roomdeck serve`.
    pub location: String,
    pub guard: Box<dyn RoomGuard>,
}

/// Opaque to the console: keeps the room's server alive (the server the CLI embedded, if it
/// did). The console closes it when it quits or opens another room, and waits for that;
/// dropping it lets the server go too, without waiting.
pub trait RoomGuard: Send + Sync {
    fn close(self: Box<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// Opens the console. Builds its own tokio runtime; a local room is opened through the CLI's
/// `LocalRooms` (which may start the room server in this process) and joined over loopback
/// like any remote room.
pub fn run(opts: TuiOptions) -> Result<(), String> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(
            "the roomdeck console needs a terminal (stdin and stdout are not both a TTY); \
                    for scripts use `roomdeck room ...` commands"
                .into(),
        );
    }
    let config = config::Config::load(&opts.config_dir)?;
    let keymap = keymap::Keymap::load(&opts.config_dir)?;
    let theme = match opts.theme.as_deref().or(config.theme.as_deref()) {
        Some(name) => theme::load(name, &opts.config_dir)?,
        None if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) => theme::Theme::mono(),
        None => theme::load(theme::DEFAULT_THEME, &opts.config_dir)?,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let mut opts = opts;
    term::install_panic_hook();
    rt.block_on(async move {
        let mut mouse = config.mouse && !opts.no_mouse;
        let mut theme = theme;
        loop {
            let room = bridge::RoomTarget::prepare(&opts).await?;
            let app_opts = Options {
                read_only: opts.read_only,
                mouse,
                log_capacity: config.log_buffer_lines,
                tz_offset_secs: time::local_offset_secs(),
                config_dir: opts.config_dir.clone(),
                location: room.location(),
                local: opts.target.rooms().is_some(),
                sql_history: dbbridge::load_history(&dbbridge::history_file(&opts.data_dir)),
                sql_history_file: Some(dbbridge::history_file(&opts.data_dir)),
                timeline_root: timeline_root(&opts),
                start_tab: opts.start_tab,
            };
            let mut app = App::new(theme.clone(), keymap.clone(), app_opts);
            let registry = opts.target.rooms();
            let result = ui_loop(&mut app, &room, registry).await;
            room.shutdown().await;
            match result {
                // `:room NAME`: the same console (theme, mouse) on another local room.
                Ok(Some(next)) => {
                    theme = app.theme.clone();
                    mouse = app.mouse;
                    let Some(rooms) = opts.target.rooms() else {
                        return Err("this console cannot open another room".into());
                    };
                    opts.target = Target::Local { room: next, rooms };
                }
                Ok(None) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    })
}

/// Where the Timeline tab finds recordings: the caller's directory, else a local room's
/// `<data>/rooms/<room>/timeline` (the layout `crate::store::room_dir` makes).
fn timeline_root(opts: &TuiOptions) -> Option<PathBuf> {
    match (&opts.timeline_root, &opts.target) {
        (Some(root), _) => Some(root.clone()),
        (None, Target::Local { room, .. }) => Some(
            opts.data_dir
                .join("rooms")
                .join(room)
                .join(crate::timeline::ROOM_DIR),
        ),
        (None, Target::Remote { .. }) => None,
    }
}

/// Runs until quit (`Ok(None)`) or a `:room NAME` switch (`Ok(Some(NAME))`).
async fn ui_loop(
    app: &mut App,
    room: &bridge::RoomTarget,
    registry: Option<Arc<dyn LocalRooms>>,
) -> Result<Option<String>, String> {
    let started = std::time::Instant::now();
    term::enter(app.mouse).map_err(|e| format!("cannot set up the terminal: {e}"))?;
    let mut terminal = match Terminal::new(CrosstermBackend::new(std::io::stdout())) {
        Ok(t) => t,
        Err(e) => {
            term::leave();
            return Err(format!("cannot set up the terminal: {e}"));
        }
    };
    let (cmd_tx, mut net_rx) = room.connect();
    // Answers of the rooms registry to the `:rooms` view (one per request it makes).
    let (rooms_tx, mut rooms_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut events = EventStream::new();
    #[cfg(unix)]
    let mut sigterm =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let mut sighup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut dirty = true;
    let mut first = true;
    let mut result = Ok(None);
    'outer: loop {
        if dirty {
            if let Err(e) = terminal.draw(|f| ui::draw(f, app)) {
                result = Err(format!("cannot draw: {e}"));
                break;
            }
            dirty = false;
            if first {
                first = false;
                tracing::info!(
                    ms = started.elapsed().as_millis() as u64,
                    "first frame drawn"
                );
            }
        }
        let wake = app
            .next_deadline()
            .map(|t| Duration::from_millis((t - now_ms()).max(0) as u64 + 5));
        #[cfg(unix)]
        let term_signal = async {
            match (&mut sigterm, &mut sighup) {
                (Some(a), Some(b)) => {
                    tokio::select! { _ = a.recv() => {}, _ = b.recv() => {} }
                }
                _ => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term_signal = std::future::pending::<()>();
        tokio::select! {
            ev = events.next() => {
                app.now_ms = now_ms();
                match ev {
                    Some(Ok(ev)) => {
                        let msg = match ev {
                            Event::Key(k) => Some(Msg::Key(k)),
                            Event::Mouse(m) => Some(Msg::Mouse(m)),
                            Event::Paste(s) => Some(Msg::Paste(s)),
                            Event::Resize(w, h) => Some(Msg::Resize(w, h)),
                            _ => None,
                        };
                        if let Some(msg) = msg {
                            dirty |= app.update(msg);
                        }
                    }
                    Some(Err(e)) => {
                        result = Err(format!("cannot read the terminal: {e}"));
                        break;
                    }
                    None => break,
                }
            }
            ne = net_rx.recv() => {
                app.now_ms = now_ms();
                let Some(ne) = ne else { break };
                dirty |= app.update(Msg::Net(ne));
                // Take whatever else is waiting before drawing: one frame per burst.
                for _ in 0..10_000 {
                    match net_rx.try_recv() {
                        Ok(ne) => dirty |= app.update(Msg::Net(ne)),
                        Err(_) => break,
                    }
                }
            }
            Some(answer) = rooms_rx.recv() => {
                app.now_ms = now_ms();
                dirty |= app.update(Msg::Rooms(answer));
            }
            _ = tokio::time::sleep(wake.unwrap_or(Duration::from_secs(3600))), if wake.is_some() => {
                app.now_ms = now_ms();
                dirty |= app.update(Msg::Tick);
            }
            _ = term_signal => {
                let _ = cmd_tx.send(net::NetCommand::Shutdown);
                break;
            }
        }
        for effect in app.take_effects() {
            match effect {
                Effect::Net(cmd) => {
                    let _ = cmd_tx.send(cmd);
                }
                Effect::Copy(text) => {
                    if let Err(e) = clipboard::copy(&text) {
                        app.notify(app::NoticeLevel::Error, format!("copy failed: {e}"));
                    }
                }
                Effect::SetMouse(on) => term::set_mouse(on),
                Effect::SaveSqlHistory { path, entries } => dbbridge::save_history(path, entries),
                Effect::Suspend => {
                    if let Err(e) = term::suspend(&mut terminal, app.mouse) {
                        result = Err(format!("cannot resume the terminal: {e}"));
                        break 'outer;
                    }
                    dirty = true;
                }
                Effect::Quit => break 'outer,
                Effect::Rooms(req) => {
                    if let Some(registry) = registry.clone() {
                        let tx = rooms_tx.clone();
                        tokio::spawn(async move {
                            let _ = tx.send(ask_registry(&*registry, req).await);
                        });
                    }
                }
                Effect::SwitchRoom(name) => {
                    result = Ok(Some(name));
                    break 'outer;
                }
            }
        }
    }
    term::leave();
    let _ = cmd_tx.send(net::NetCommand::Shutdown);
    result
}

async fn ask_registry(
    registry: &dyn LocalRooms,
    req: popups::rooms::RoomsRequest,
) -> popups::rooms::RoomsAnswer {
    use popups::rooms::{RoomsAnswer, RoomsRequest};
    match req {
        RoomsRequest::List => RoomsAnswer::Listed(registry.list().await),
        RoomsRequest::Create(name) => {
            let result = registry.create(&name).await;
            RoomsAnswer::Created(name, result)
        }
        RoomsRequest::Delete(name) => {
            let result = registry.delete(&name).await;
            RoomsAnswer::Deleted(name, result)
        }
    }
}
