//! A real server on 127.0.0.1:0 with a temp data dir, and clients that join it.
#![allow(dead_code)]

use roomdeck::auth::{ApiScope, ParticipantToken};
use roomdeck::client::RoomClient;
use roomdeck::server::{self, RunningServer, ServerConfig};

pub const SECRET: &str = "integration-test-secret-integration";

pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub server: Option<RunningServer>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = start_on(dir.path()).await;
        TestServer {
            dir,
            server: Some(server),
        }
    }

    /// A server whose config `f` adjusts first (idle timeout, room creation on join, ...).
    pub async fn start_with(f: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = ServerConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            dir.path().to_path_buf(),
            SECRET.to_string(),
        );
        f(&mut config);
        let server = server::start(config).await.expect("server starts");
        TestServer {
            dir,
            server: Some(server),
        }
    }

    /// `http://127.0.0.1:PORT`, the base of the REST routes.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.server.as_ref().expect("running").addr())
    }

    pub fn url(&self, room: &str) -> String {
        self.server.as_ref().expect("running").room_url(room)
    }

    pub async fn join(&self, room: &str, name: &str) -> RoomClient {
        self.join_with(room, name, ApiScope::agent_default()).await
    }

    pub async fn join_with(&self, room: &str, name: &str, scope: ApiScope) -> RoomClient {
        RoomClient::connect(&self.url(room), &token(room, name, scope))
            .await
            .expect("joins the room")
    }

    /// Stops the server and starts a new one on the same data dir.
    pub async fn restart(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await.expect("clean shutdown");
        }
        self.server = Some(start_on(self.dir.path()).await);
    }
}

pub async fn start_on(dir: &std::path::Path) -> RunningServer {
    let config = ServerConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        dir.to_path_buf(),
        SECRET.to_string(),
    );
    server::start(config).await.expect("server starts")
}

pub fn token(room: &str, name: &str, scope: ApiScope) -> String {
    let mut t = ParticipantToken::new(name);
    t.add_room_grant(room);
    t.add_role_grant("agent");
    t.add_api_grant(scope);
    t.to_jwt(SECRET).expect("signs")
}

/// A token for the REST routes: any room, the admin grant (`ApiScope::full`).
pub fn admin_token() -> String {
    token("any", "admin", ApiScope::full())
}

/// Waits for a condition with a deadline instead of sleeping a fixed time.
pub async fn eventually<F: FnMut() -> bool>(what: &str, mut f: F) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

pub async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(15), fut)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// The real `roomdeck serve` binary on `dir`, as its own process (for tests that kill it).
/// Returns the child and its `ws://` base URL.
pub async fn serve_binary(dir: &std::path::Path) -> (tokio::process::Child, String) {
    serve_binary_with(dir, &[]).await
}

/// `serve_binary` with extra environment variables for the server.
pub async fn serve_binary_with(
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    // ROOMDECK_BIN overrides the built binary (a target dir shared between worktrees may
    // hold another checkout's build under the same name).
    let bin = std::env::var("ROOMDECK_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_roomdeck").to_string());
    let mut child = tokio::process::Command::new(bin)
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--secret",
            SECRET,
            "--data-dir",
        ])
        .arg(dir)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("roomdeck serve starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let url = within("the server prints its URL", async {
        while let Some(line) = lines.next_line().await.expect("reads stdout") {
            if let Some(url) = line.strip_prefix("roomdeck: serving ") {
                return url.trim().to_string();
            }
        }
        panic!("the server exited without printing its URL");
    })
    .await;
    // Keep reading, so the server's later lines never hit a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}
