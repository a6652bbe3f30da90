//! `roomdeck inspect --url wss://HOST/rooms/NAME`: an inspector in front of any room.
//!
//! A program that connects to the inspector (`ws://127.0.0.1:PORT/rooms/NAME`, or the same
//! base for the REST API) is relayed to the real host unchanged, while both directions are
//! decoded into the room's timeline and recorded under `<data_dir>/inspect/<host>-<room>/`:
//! one session per room per inspector run, its source the upstream URL. The timeline is shown
//! live in the console's Timeline tab, or printed one line per event with `--no-tui`.

pub mod decode;
pub mod frames;
pub mod relay;

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use decode::{Dir, Seen};
pub use relay::{InspectConfig, Inspector, Upstream, Watcher};

use crate::timeline::{Limits, Session};

/// The directory under the data dir that holds inspected rooms' recordings.
pub const DIR: &str = crate::timeline::open::INSPECT_DIR;

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// The room (or host) to relay to: ws(s)://HOST[/rooms/NAME], or its http(s):// API base.
    #[arg(long, required_unless_present = "dump")]
    url: Option<String>,
    /// Where to listen (loopback only); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Print one line per event instead of opening the console.
    #[arg(long)]
    no_tui: bool,
    /// A participant token for the console to join the real room with.
    #[arg(long, env = "MESHAGENT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Largest size of all inspected recordings together, in bytes.
    #[arg(long, default_value_t = 256 << 20)]
    max_record_size: u64,
    /// Print the events recorded under DIR (a session, a room's or the inspect directory) as
    /// JSON Lines, and exit.
    #[arg(long, value_name = "DIR", conflicts_with = "url")]
    dump: Option<PathBuf>,
}

pub fn run(global_data_dir: &Option<PathBuf>, args: InspectArgs) -> Result<(), String> {
    if let Some(dir) = &args.dump {
        return dump(dir);
    }
    let url = args.url.clone().unwrap_or_default();
    let upstream = Upstream::parse(&url)?;
    let root = super::data_dir(global_data_dir).join(DIR);
    let terminal = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let console = match (&args.token, &upstream.room) {
        _ if args.no_tui || !terminal => None,
        (Some(token), Some(room)) => Some((token.clone(), room.clone())),
        (None, _) => {
            eprintln!(
                "roomdeck inspect: no --token (or MESHAGENT_TOKEN) to open the console with; printing events instead"
            );
            None
        }
        (Some(_), None) => {
            eprintln!(
                "roomdeck inspect: --url names no room (/rooms/NAME) for the console; printing events instead"
            );
            None
        }
    };
    let (watcher, printer) = if console.is_none() {
        let (w, p) = printer(upstream.room.clone());
        (Some(w), Some(p))
    } else {
        (None, None)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let inspector = runtime.block_on(Inspector::start(InspectConfig {
        upstream: upstream.clone(),
        listen: args.listen,
        root: root.clone(),
        limits: Limits::of_total(args.max_record_size),
        watcher,
    }))?;
    println!("roomdeck inspect: relaying {} -> {url}", inspector.url());
    match &upstream.room {
        Some(room) => println!(
            "roomdeck inspect: recording to {}",
            inspector.root_of(room).display()
        ),
        None => println!("roomdeck inspect: recording to {}", root.display()),
    }
    let _ = std::io::stdout().flush();
    let result = match console {
        Some((token, room)) => {
            let timeline_root = inspector.root_of(&room);
            let r = open_console(
                global_data_dir,
                upstream.room_url(&room),
                token,
                timeline_root,
            );
            runtime.block_on(inspector.shutdown());
            r
        }
        None => {
            runtime.block_on(async {
                wait_for_signal().await;
                inspector.shutdown().await;
            });
            Ok(())
        }
    };
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    if let Some(p) = printer {
        let _ = p.join();
    }
    result
}

/// The console on the real room (joined directly with the user's token), its Timeline tab
/// showing the inspected session live. Kept apart so the console's options can change.
fn open_console(
    global_data_dir: &Option<PathBuf>,
    room_url: String,
    token: String,
    timeline_root: PathBuf,
) -> Result<(), String> {
    use crate::tui::{Target, TuiOptions};
    crate::tui::run(TuiOptions {
        target: Target::Remote {
            url: room_url,
            token,
            rooms: None,
        },
        theme: None,
        read_only: false,
        config_dir: crate::paths::config_dir(),
        data_dir: super::data_dir(global_data_dir),
        no_mouse: false,
        // The inspected room's timeline, live, is what the user came for.
        timeline_root: Some(timeline_root),
        start_tab: Some(crate::tui::pane::Tab::Timeline),
    })
}

/// `12:03:04.567 -> agent  queue  queues.send  1.2ms  queues.send jobs`, one line per
/// event, written by a thread of its own so a slow terminal never holds up the relay.
fn printer(url_room: Option<String>) -> (Watcher, std::thread::JoinHandle<()>) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<String>(16 * 1024);
    let thread = std::thread::spawn(move || {
        let stdout = std::io::stdout();
        for line in rx {
            let mut out = stdout.lock();
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return;
            }
        }
    });
    let watcher: Watcher = Arc::new(move |room: &str, seen: &Seen| {
        let mut line = format_line(seen);
        if url_room.as_deref() != Some(room) {
            line = format!("[{room}] {line}");
        }
        let _ = tx.try_send(line);
    });
    (watcher, thread)
}

/// One event as `--no-tui` prints it.
pub fn format_line(seen: &Seen) -> String {
    let e = &seen.event;
    let time = chrono::Local::now().format("%H:%M:%S%.3f");
    let who = if e.participant.is_empty() {
        "-"
    } else {
        e.participant.as_str()
    };
    let call = match (e.toolkit.as_str(), e.tool.as_str()) {
        ("", "") => "-".to_string(),
        ("", t) | (t, "") => t.to_string(),
        (k, t) => format!("{k}.{t}"),
    };
    let took = e.duration_us.map_or_else(
        || "-".to_string(),
        |d| format!("{:.1}ms", d as f64 / 1000.0),
    );
    let mut summary = e.summary.replace(['\n', '\r'], " ");
    if let Some(err) = &e.error
        && !summary.contains(err.as_str())
    {
        summary.push_str(&format!(": {err}"));
    }
    format!(
        "{time} {} {who:<16} {:<10} {call:<28} {took:>9}  {summary}",
        seen.dir.arrow(),
        e.kind.as_str(),
    )
}

/// `--dump DIR`: every event recorded under DIR as JSON Lines, sessions oldest first.
fn dump(dir: &Path) -> Result<(), String> {
    let sessions = sessions_under(dir);
    if sessions.is_empty() {
        return Err(format!("no recorded sessions under {}", dir.display()));
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for s in sessions {
        let session = Session::open(&s).map_err(|e| format!("{}: {e}", s.display()))?;
        for i in 0..session.len() {
            let event = session
                .event(i)
                .map_err(|e| format!("{}: {e}", s.display()))?;
            let mut json = event.to_json(session.meta.started_at_ms);
            json["session"] = serde_json::Value::String(session.meta.session_id.clone());
            json["room"] = serde_json::Value::String(session.meta.room.clone());
            writeln!(out, "{json}").map_err(|e| e.to_string())?;
        }
    }
    out.flush().map_err(|e| e.to_string())
}

/// The session directories in `dir`: itself, its sessions, or its rooms' sessions.
pub fn sessions_under(dir: &Path) -> Vec<PathBuf> {
    if dir.join(crate::timeline::segments::SESSION_FILE).is_file() {
        return vec![dir.to_path_buf()];
    }
    let add = |found: &mut Vec<(u64, PathBuf)>, root: &Path| {
        for s in crate::timeline::list_sessions(root).unwrap_or_default() {
            found.push((s.meta.started_at_ms, s.dir));
        }
    };
    let mut found = Vec::new();
    add(&mut found, dir);
    if found.is_empty() {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                add(&mut found, &entry.path());
            }
        }
    }
    found.sort();
    found.into_iter().map(|(_, d)| d).collect()
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::{Event, Kind};

    #[test]
    fn a_printed_line_names_direction_participant_kind_call_duration_and_error() {
        let seen = Seen {
            dir: Dir::Up,
            event: Event {
                participant: "agent-7".into(),
                toolkit: "queues".into(),
                tool: "send".into(),
                duration_us: Some(1_250),
                error: Some("queue jobs is closed".into()),
                ..Event::new(Kind::Queue, "queues.send jobs failed")
            },
        };
        let line = format_line(&seen);
        for part in [
            " -> agent-7 ",
            " queue ",
            " queues.send ",
            " 1.2ms ",
            "queues.send jobs failed: queue jobs is closed",
        ] {
            assert!(line.contains(part), "{part:?} in {line:?}");
        }
    }

    #[test]
    fn dump_finds_sessions_at_any_depth_of_the_inspect_dir() {
        let root = tempfile::tempdir().unwrap();
        let meta = crate::timeline::SessionMeta {
            session_id: "s1".into(),
            room: "dev".into(),
            started_at_ms: 1,
            source: "ws://h/rooms/dev".into(),
        };
        let rec =
            crate::timeline::Recorder::start(&root.path().join("h-dev"), meta, Limits::default())
                .unwrap();
        rec.record(Event::new(Kind::Session, "hello"));
        rec.sync();
        let want = vec![root.path().join("h-dev").join("s1")];
        assert_eq!(sessions_under(root.path()), want);
        assert_eq!(sessions_under(&root.path().join("h-dev")), want);
        assert_eq!(sessions_under(&want[0]), want);
        assert!(sessions_under(&root.path().join("missing")).is_empty());
    }
}
