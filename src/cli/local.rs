//! Reaching the local room (used by the CLI and the console): a `roomdeck serve` already
//! embedded in this process.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::auth::{ApiScope, ParticipantToken};
use crate::server::{self, RunningServer, ServerConfig};

/// `<data_dir>/server.url` while a `roomdeck serve` runs there; removed when it stops.
pub struct ServerMarker(PathBuf);

impl ServerMarker {
    pub fn write(data_dir: &Path, url: &str) -> Option<ServerMarker> {
        let path = data_dir.join("server.url");
        std::fs::write(&path, format!("{url}\n{}\n", std::process::id())).ok()?;
        Some(ServerMarker(path))
    }

    /// The URL of a live server on this data dir, if its process still runs.
    pub fn read(data_dir: &Path) -> Option<String> {
        let text = std::fs::read_to_string(data_dir.join("server.url")).ok()?;
        let mut lines = text.lines();
        let url = lines.next()?.to_string();
        let pid = lines.next()?;
        Path::new("/proc").join(pid).exists().then_some(url)
    }
}

impl Drop for ServerMarker {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Where a local room is served, and the server if this process started it.
pub struct LocalRoom {
    pub url: String,
    pub token: String,
    pub server: Option<RunningServer>,
}

/// Joins local `room` as `name`: through the running server on the data dir if there is one,
/// else through a server embedded in this process on 127.0.0.1:0 (which runs the room's
/// services, as the console does).
#[allow(dead_code)] // the console joins through this
pub async fn local_room(data_dir: &Path, room: &str, name: &str) -> Result<LocalRoom, String> {
    local_room_with(data_dir, room, name, true).await
}

/// `local_room` for one-shot commands: an embedded server does not start the room's
/// services (they would be killed again a moment later, when the command exits).
pub async fn local_room_for_command(
    data_dir: &Path,
    room: &str,
    name: &str,
) -> Result<LocalRoom, String> {
    local_room_with(data_dir, room, name, false).await
}

async fn local_room_with(
    data_dir: &Path,
    room: &str,
    name: &str,
    run_services: bool,
) -> Result<LocalRoom, String> {
    let secret = crate::auth::secret::load_or_create_secret(data_dir)
        .map_err(|e| format!("server secret in {}: {e}", data_dir.display()))?;
    let mut token = ParticipantToken::new(name);
    token.add_room_grant(room);
    token.add_role_grant("user");
    token.add_api_grant(ApiScope::owner());
    let token = token.to_jwt(&secret).map_err(|e| e.to_string())?;
    if let Some(base) = ServerMarker::read(data_dir) {
        return Ok(LocalRoom {
            url: format!("{base}/rooms/{room}"),
            token,
            server: None,
        });
    }
    let bind: SocketAddr = "127.0.0.1:0".parse().expect("valid address");
    let mut config = ServerConfig::new(bind, data_dir.to_path_buf(), secret);
    config.run_services = run_services;
    let server = server::start(config)
        .await
        .map_err(|e| format!("cannot start the local room server: {e}"))?;
    Ok(LocalRoom {
        url: server.room_url(room),
        token,
        server: Some(server),
    })
}
