//! `roomdeck serve`: the room server on its own, until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::server::{self, ServerConfig};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8765")]
    bind: SocketAddr,
    /// Where rooms live (default: the user's data dir).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Token secret (default: MESHAGENT_SECRET, else one generated in the data dir).
    #[arg(long, env = "MESHAGENT_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// End a room's session after nobody has been connected this long (e.g. 60s, 5m).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    idle_timeout: std::time::Duration,
    /// Refuse (404) joins of rooms that were not created (`roomdeck rooms create`).
    #[arg(long)]
    no_create_rooms: bool,
    /// Largest file one storage upload may create, in bytes.
    #[arg(long, env = "ROOMDECK_MAX_UPLOAD_SIZE", default_value_t = crate::store::files::DEFAULT_MAX_UPLOAD_SIZE)]
    max_upload_size: u64,
    /// Record each room session's timeline (`roomdeck sessions export|replay`, the
    /// console's Timeline tab): on or off.
    #[arg(long, value_enum, default_value_t = Record::On)]
    record: Record,
    /// Bytes of recorded timelines kept per room; the oldest segments are dropped first
    /// (segments are an eighth of this, 1 MiB to 32 MiB).
    #[arg(long, env = "ROOMDECK_RECORD_MAX_SIZE", default_value_t = server::DEFAULT_RECORD_MAX_SIZE)]
    record_max_size: u64,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Record {
    On,
    Off,
}

pub fn run(global_data_dir: &Option<PathBuf>, args: ServeArgs) -> Result<(), String> {
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| super::data_dir(global_data_dir));
    let secret = match args.secret {
        Some(s) if !s.is_empty() => s,
        _ => crate::auth::secret::load_or_create_secret(&data_dir)
            .map_err(|e| format!("server secret in {}: {e}", data_dir.display()))?,
    };
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let mut config = ServerConfig::new(args.bind, data_dir.clone(), secret);
        config.idle_timeout = args.idle_timeout;
        config.create_rooms_on_join = !args.no_create_rooms;
        config.max_upload_size = args.max_upload_size;
        config.record = args.record == Record::On;
        config.record_max_size = args.record_max_size;
        let running = server::start(config)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
        let _marker = super::local::ServerMarker::write(&data_dir, &running.url());
        println!("roomdeck: serving {}", running.url());
        println!(
            "roomdeck: rooms at {}/rooms/NAME, data in {}",
            running.url(),
            data_dir.display()
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
        wait_for_signal().await;
        println!("roomdeck: shutting down");
        running.shutdown().await.map_err(|e| e.to_string())
    })
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler installs");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
