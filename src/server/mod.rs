//! The room server: HTTP + WebSocket listener, rooms, connections and toolkits.
//!
//! `start` binds, serves in the background and returns a handle; `roomdeck serve` and the
//! server the CLI embeds for the console and one-shot commands (`cli::local`) both use it.

mod actions;
mod call;
mod connection;
mod container_engine;
pub mod devlog;
mod files_api;
mod hosted;
mod http;
mod outbox;
pub(crate) mod recording;
mod rest;
mod room;
mod room_files;
pub mod services;
mod session;
pub(crate) mod toolkits;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use room::Rooms;

/// Largest message a client may send (after reassembly).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 32 * 1024 * 1024;
/// Bytes queued for one client before a push counts it as too slow and disconnects it
/// (`outbox.rs` has the reasoning behind these four).
pub const MAX_QUEUED_BYTES: usize = 4 * 1024 * 1024;
/// Bytes queued for one client over which its answers and stream chunks wait, and its
/// connection reads no new request.
pub const WAIT_QUEUED_BYTES: usize = 1024 * 1024;
/// Bytes of one participant's messages queued at others, not yet written, over which its
/// connection reads nothing more.
pub const SENDER_IN_FLIGHT_BYTES: usize = 256 * 1024;
/// Bytes queued at a receiver over which it is behind and stops counting against senders.
pub const LAGGING_BYTES: usize = 512 * 1024;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// HS256 secret that participant tokens must be signed with.
    pub secret: String,
    pub max_message_size: usize,
    /// A room's session ends when nobody has been connected this long (default 60 s).
    pub idle_timeout: Duration,
    /// Whether joining an unknown room creates it (default); otherwise such a join is 404.
    pub create_rooms_on_join: bool,
    /// Whether active rooms run their services (default); one-shot CLI commands turn it off.
    pub run_services: bool,
    /// Largest file one storage upload may create.
    pub max_upload_size: u64,
    /// Whether rooms record their sessions' timelines (default), and in how many bytes
    /// at most per room (`DEFAULT_RECORD_MAX_SIZE`; the oldest segments go first).
    pub record: bool,
    pub record_max_size: u64,
}

/// Default for `ServerConfig::record_max_size`: 256 MiB per room.
pub const DEFAULT_RECORD_MAX_SIZE: u64 = 256 << 20;

/// Default for `ServerConfig::idle_timeout`.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

impl ServerConfig {
    pub fn new(bind: SocketAddr, data_dir: PathBuf, secret: String) -> ServerConfig {
        ServerConfig {
            bind,
            data_dir,
            secret,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            create_rooms_on_join: true,
            run_services: true,
            max_upload_size: crate::store::files::DEFAULT_MAX_UPLOAD_SIZE,
            record: true,
            record_max_size: DEFAULT_RECORD_MAX_SIZE,
        }
    }
}

/// State shared by every connection.
pub(crate) struct ServerState {
    pub config: ServerConfig,
    pub rooms: Rooms,
    /// Flips to true when the server shuts down; connections close themselves.
    pub shutdown: watch::Receiver<bool>,
}

pub struct RunningServer {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base WebSocket URL; rooms are at `{url}/rooms/{room}`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    pub fn room_url(&self, room: &str) -> String {
        format!("ws://{}/rooms/{room}", self.addr)
    }

    /// Tells the server to close every connection and stop listening, without waiting for it
    /// (`shutdown` waits).
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Closes every connection and stops listening.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.await.map_err(std::io::Error::other)?
    }
}

/// Where a process on this machine reaches the server (a wildcard bind means loopback).
fn loopback_of(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(std::net::Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}

/// A room of thousands holds as many sockets: the soft open-files limit goes up to the hard
/// one (best effort; the default soft limit is often 1,024).
pub fn raise_fd_limit() {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed in.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0
                && limit.rlim_cur < limit.rlim_max
            {
                limit.rlim_cur = limit.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            }
        }
    }
}

/// Binds the listener and serves in a background task.
pub async fn start(config: ServerConfig) -> std::io::Result<RunningServer> {
    raise_fd_limit();
    std::fs::create_dir_all(&config.data_dir)?;
    let db = Arc::new(
        crate::store::rooms::RoomsDb::open(&config.data_dir).map_err(std::io::Error::other)?,
    );
    // Sessions a killed server left open are over.
    db.close_stale_sessions().map_err(std::io::Error::other)?;
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = watch::channel(false);
    let state = Arc::new(ServerState {
        rooms: Rooms::new(room::RoomsConfig {
            data_dir: config.data_dir.clone(),
            db,
            secret: config.secret.clone(),
            server_addr: loopback_of(addr).to_string(),
            idle_timeout: config.idle_timeout,
            run_services: config.run_services,
            secrets_key: crate::store::secrets::derive_key(&config.secret),
            max_upload_size: config.max_upload_size,
            url_signer: files_api::UrlSigner::new(&config.secret),
            record: config
                .record
                .then(|| crate::timeline::Limits::of_total(config.record_max_size)),
        }),
        config,
        shutdown: rx.clone(),
    });
    let app = http::router(state.clone());
    // Small protocol packets must not wait for Nagle's algorithm (40 ms stalls per round trip).
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let mut stop = rx;
    let task = tokio::spawn(async move {
        let graceful = async move {
            let _ = stop.wait_for(|v| *v).await;
        };
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(graceful)
            .await;
        state.rooms.close_all().await;
        result
    });
    Ok(RunningServer {
        addr,
        shutdown: tx,
        task,
    })
}
