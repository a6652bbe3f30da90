//! The room server: HTTP + WebSocket listener, rooms, connections and toolkits.
//!
//! `start` binds, serves in the background and returns a handle; the embedded mode of the TUI
//! and `roomdeck serve` both use it.

mod call;
mod connection;
pub mod devlog;
mod files_api;
mod hosted;
mod http;
mod room;
mod toolkits;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use room::Rooms;

/// Largest message a client may send (after reassembly).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 32 * 1024 * 1024;
/// Messages queued for one client before it counts as too slow and is disconnected.
pub const SEND_QUEUE_DEPTH: usize = 4096;
/// Bytes of pushed messages queued for one client before it counts as too slow.
pub const MAX_QUEUED_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// HS256 secret that participant tokens must be signed with.
    pub secret: String,
    pub max_message_size: usize,
    /// Largest file one storage upload may create.
    pub max_upload_size: u64,
}

impl ServerConfig {
    pub fn new(bind: SocketAddr, data_dir: PathBuf, secret: String) -> ServerConfig {
        ServerConfig {
            bind,
            data_dir,
            secret,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_upload_size: crate::store::files::DEFAULT_MAX_UPLOAD_SIZE,
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

    /// Closes every connection and stops listening.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.await.map_err(std::io::Error::other)?
    }
}

/// Binds the listener and serves in a background task.
pub async fn start(config: ServerConfig) -> std::io::Result<RunningServer> {
    std::fs::create_dir_all(&config.data_dir)?;
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = watch::channel(false);
    let mut rooms = Rooms::new(
        config.data_dir.clone(),
        crate::store::secrets::derive_key(&config.secret),
    );
    rooms.max_upload_size = config.max_upload_size;
    rooms.url_signer = files_api::UrlSigner::new(&config.secret);
    let state = Arc::new(ServerState {
        rooms,
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
