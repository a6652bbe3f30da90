//! Reaching a local room: the `roomdeck serve` already running on the data dir, or a server
//! the CLI embeds in this process on 127.0.0.1:0. The CLI mints the token; script commands
//! use [`local_room_for_command`], the console gets [`ConsoleRooms`] and joins what it opens
//! like any remote room (through the client alone).

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use super::api_rooms::ApiRooms;
use super::http::Api;
use crate::auth::{ApiScope, ParticipantToken};
use crate::server::{self, RunningServer, ServerConfig};
use crate::store::rooms::{RoomOverview, RoomsDb};
use crate::tui::{LocalRooms, OpenedRoom, RoomGuard, RoomInfo, RoomState};

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

/// How the console opens local rooms (its first one and each `:room NAME`): through the
/// running server on the data dir if there is one, else through a server embedded in this
/// process on 127.0.0.1:0 (which runs the room's services), kept up by the returned guard.
pub struct ConsoleRooms {
    pub data_dir: PathBuf,
}

impl LocalRooms for ConsoleRooms {
    fn open<'a>(
        &'a self,
        room: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<OpenedRoom, String>> + Send + 'a>> {
        Box::pin(async move {
            let data_dir = &self.data_dir;
            std::fs::create_dir_all(data_dir)
                .map_err(|e| format!("cannot create the data dir {}: {e}", data_dir.display()))?;
            let name = local_user_name();
            let local = local_room_with(data_dir, room, &name, true).await?;
            // While this process serves the room, `roomdeck room ...` in another terminal
            // finds it through the data dir's marker, as it finds a `roomdeck serve`.
            let (location, guard) = match local.server {
                Some(server) => {
                    let marker = ServerMarker::write(data_dir, &server.url());
                    ("local".to_string(), EmbeddedServer(Some((server, marker))))
                }
                None => (
                    format!("local via {}", local.url.trim_start_matches("ws://")),
                    EmbeddedServer(None),
                ),
            };
            Ok(OpenedRoom {
                url: local.url,
                token: local.token,
                name,
                location,
                guard: Box::new(guard),
            })
        })
    }

    fn list(&self) -> Pin<Box<dyn Future<Output = Result<Vec<RoomInfo>, String>> + Send + '_>> {
        Box::pin(async move {
            if let Some(api) = self.served_api()? {
                return api.list().await;
            }
            self.registry(|db, data_dir| Ok(db.overview(data_dir)?.iter().map(room_info).collect()))
                .await
        })
    }

    fn create<'a>(
        &'a self,
        room: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            if let Some(api) = self.served_api()? {
                return api.create(room).await;
            }
            let room = room.to_string();
            self.registry(move |db, _| db.create(&room, false, None, None).map(drop))
                .await
        })
    }

    fn delete<'a>(
        &'a self,
        room: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            if let Some(api) = self.served_api()? {
                return api.delete(room).await;
            }
            let room = room.to_string();
            self.registry(move |db, data_dir| db.delete(data_dir, &room).map(drop))
                .await
        })
    }
}

impl ConsoleRooms {
    /// The REST API of the server on this data dir (a `roomdeck serve`, or the one this
    /// console embeds), if one runs: the rooms are changed through it, so its cache of the
    /// registry stays right. With an owner token minted here.
    fn served_api(&self) -> Result<Option<ApiRooms>, String> {
        let Some(base) = ServerMarker::read(&self.data_dir) else {
            return Ok(None);
        };
        let secret = crate::auth::secret::load_or_create_secret(&self.data_dir)
            .map_err(|e| format!("server secret in {}: {e}", self.data_dir.display()))?;
        let mut token = ParticipantToken::new(local_user_name());
        token.add_api_grant(ApiScope::owner());
        let token = token.to_jwt(&secret).map_err(|e| e.to_string())?;
        let base = base.replacen("ws://", "http://", 1);
        Ok(Some(ApiRooms {
            api: Api::new(&base, Some(token), "local")?,
        }))
    }

    /// Runs `f` on the data dir's rooms registry off the async threads, as `roomdeck rooms`
    /// does locally (the same SQLite file a running server writes its sessions to).
    fn registry<T: Send + 'static>(
        &self,
        f: impl FnOnce(&RoomsDb, &Path) -> Result<T, crate::store::rooms::RoomsError> + Send + 'static,
    ) -> impl Future<Output = Result<T, String>> + Send + 'static {
        let data_dir = self.data_dir.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let db = RoomsDb::open(&data_dir).map_err(|e| e.to_string())?;
                f(&db, &data_dir).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| format!("rooms registry task failed: {e}"))?
        }
    }
}

/// The console's view of a room: from the registry here, or a REST list's JSON.
pub fn room_info(o: &RoomOverview) -> RoomInfo {
    room_info_json(&o.to_json())
}

/// A room of the REST list (`RoomOverview::to_json`); a server without the overview fields
/// gives idle rooms with no size.
pub fn room_info_json(v: &serde_json::Value) -> RoomInfo {
    let state = match v["state"].as_str() {
        Some("active") => RoomState::Active,
        _ if v["enabled"] == false => RoomState::Disabled,
        _ => RoomState::Idle,
    };
    RoomInfo {
        name: v["name"].as_str().unwrap_or_default().to_string(),
        state,
        participants: v["participants"].as_u64().unwrap_or(0) as usize,
        session_start_ms: v["session_started_at"]
            .as_f64()
            .map(|s| (s * 1000.0) as i64),
        data_bytes: v["data_bytes"].as_u64().unwrap_or(0),
    }
}

/// The server this process embeds for the console (none when it joined a `roomdeck serve`),
/// with its marker in the data dir. `close` stops it and waits; dropping it unclosed tells it
/// to stop without waiting.
struct EmbeddedServer(Option<(RunningServer, Option<ServerMarker>)>);

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        if let Some((server, _marker)) = &self.0 {
            server.stop();
        }
    }
}

impl RoomGuard for EmbeddedServer {
    fn close(mut self: Box<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let server = self.0.take();
        Box::pin(async move {
            if let Some((server, marker)) = server {
                drop(marker);
                let _ = tokio::time::timeout(Duration::from_secs(3), server.shutdown()).await;
            }
        })
    }
}

fn local_user_name() -> String {
    std::env::var("ROOMDECK_NAME")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "me".into())
}
