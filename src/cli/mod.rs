//! The command line: `roomdeck [tui|serve|token|room ...]`.

mod api_rooms;
pub mod http;
pub mod inspect;
mod local;
mod room;
mod rooms;
mod serve;
mod service;
mod sessions;
pub mod sessions_record;
pub mod setup;
pub mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "roomdeck",
    version,
    about = "A terminal console for rooms, with a local room runtime inside it",
    after_help = tabs_help()
)]
pub struct Cli {
    /// Where rooms and the server secret live (default: the user's data dir).
    #[arg(long, global = true, env = "ROOMDECK_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Open the console (the default): a local room, or a remote one with --url.
    #[command(after_help = tabs_help())]
    Tui(TuiArgs),
    /// Run the room server on its own.
    Serve(serve::ServeArgs),
    /// Mint a participant token.
    Token(token::TokenArgs),
    /// Use a room's APIs from scripts.
    Room(room::RoomArgs),
    /// Create, list, rename, enable/disable and delete rooms.
    Rooms(rooms::RoomsArgs),
    /// Past and active sessions of rooms: their developer logs and recorded timelines.
    Sessions(sessions::SessionsArgs),
    /// Service specs saved with rooms: validate, deploy, list, delete.
    Service(service::ServiceArgs),
    /// First run: config file, data dir, server secret and the `default` room.
    Setup(setup::SetupArgs),
    /// Relay a program to any room (wss://HOST/rooms/NAME) and record its traffic.
    Inspect(inspect::InspectArgs),
}

/// The console's tabs for `roomdeck --help`, from the console's own table, so a new tab is
/// named here (the match has no catch-all).
fn tabs_help() -> String {
    use crate::tui::pane::TABS;
    let mut out = String::from(
        "The console (`roomdeck` or `roomdeck tui`) has these tabs; a digit opens one,\n\
         `?` lists the keys, `:` opens the command palette:\n",
    );
    for t in TABS {
        let what = t.about;
        out.push_str(&format!("  {}  {:<9} {what}\n", t.number, t.title));
    }
    out
}

#[derive(clap::Args, Debug, Default)]
pub struct TuiArgs {
    /// Local room to open.
    #[arg(long, env = "MESHAGENT_ROOM")]
    room: Option<String>,
    /// Remote room URL (ws:// or wss://.../rooms/NAME); with --token.
    #[arg(long, env = "MESHAGENT_ROOM_URL")]
    url: Option<String>,
    /// API base URL (http(s)://HOST) of a remote room server, used when --url is not given.
    #[arg(long, env = "MESHAGENT_API_URL")]
    api_url: Option<String>,
    /// Participant token for a remote room.
    #[arg(long, env = "MESHAGENT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Theme name (dark, light, high-contrast, terminal or a user theme).
    #[arg(long)]
    theme: Option<String>,
    /// Disable every action that changes the room.
    #[arg(long)]
    read_only: bool,
    /// Start with the mouse off.
    #[arg(long)]
    no_mouse: bool,
}

pub(crate) fn data_dir(flag: &Option<PathBuf>) -> PathBuf {
    flag.clone().unwrap_or_else(crate::paths::data_dir)
}

/// Script commands end quietly when their reader goes away (`roomdeck room ... | head`), as
/// Unix tools do, instead of panicking in `println!`. The console and `serve` keep Rust's
/// default (SIGPIPE ignored), so a closed pipe to a child is an error there, not a death.
fn exit_on_closed_stdout() {
    // SAFETY: restoring the default disposition of one signal before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Some(
            Command::Token(_)
                | Command::Room(_)
                | Command::Rooms(_)
                | Command::Sessions(_)
                | Command::Service(_)
        )
    ) {
        exit_on_closed_stdout();
    }
    let result = match cli.command {
        None => run_tui(&cli.data_dir, TuiArgs::default()),
        Some(Command::Tui(args)) => run_tui(&cli.data_dir, args),
        Some(Command::Serve(args)) => serve::run(&cli.data_dir, args),
        Some(Command::Token(args)) => token::run(&args).map(|jwt| println!("{jwt}")),
        Some(Command::Room(args)) => room::run(&cli.data_dir, args),
        Some(Command::Rooms(args)) => rooms::run(&cli.data_dir, args),
        Some(Command::Sessions(args)) => sessions::run(&cli.data_dir, args),
        Some(Command::Service(args)) => service::run(&cli.data_dir, args),
        Some(Command::Setup(args)) => setup::run(&cli.data_dir, args),
        Some(Command::Inspect(args)) => inspect::run(&cli.data_dir, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roomdeck: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_tui(data_dir_flag: &Option<PathBuf>, args: TuiArgs) -> Result<(), String> {
    use crate::tui::{Target, TuiOptions};
    // Like the SDK: a room URL, or a base URL (ws:// or the API's http://) plus the room name.
    let room_name = args.room.clone().unwrap_or_else(|| "default".into());
    // With an API URL the console also reaches the server's rooms (`:rooms`) through REST.
    let registry = match (&args.api_url, &args.token) {
        (Some(api), Some(token)) if api.starts_with("http://") => {
            let api = http::Api::new(api, Some(token.clone()), "local")?;
            Some(std::sync::Arc::new(api_rooms::ApiRooms { api }) as _)
        }
        _ => None,
    };
    let remote = args
        .url
        .or(args.api_url)
        .map(|base| room::room_url(&base, &room_name));
    let target = match (remote, args.token) {
        (Some(url), Some(token)) => Target::Remote {
            url,
            token,
            rooms: registry,
        },
        (Some(_), None) => return Err("--url needs --token (or MESHAGENT_TOKEN)".into()),
        (None, _) => Target::Local {
            room: room_name,
            rooms: std::sync::Arc::new(local::ConsoleRooms {
                data_dir: data_dir(data_dir_flag),
            }),
        },
    };
    let (config_dir, data_dir) = (crate::paths::config_dir(), data_dir(data_dir_flag));
    if matches!(target, Target::Local { .. }) {
        // First start: what `roomdeck setup` makes, silently (the report is not printed).
        setup::ensure(&config_dir, &data_dir, "default")?;
    }
    crate::tui::run(TuiOptions {
        target,
        theme: args.theme,
        read_only: args.read_only,
        config_dir,
        data_dir,
        no_mouse: args.no_mouse,
        timeline_root: None,
        start_tab: None,
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn help_names_every_tab() {
        let help = super::Cli::command().render_help().to_string();
        for t in crate::tui::pane::TABS {
            let row = format!("  {}  {}", t.number, t.title);
            assert!(help.contains(&row), "{row:?} in:\n{help}");
        }
        assert!(help.contains("`?` lists the keys"), "{help}");
    }
}
