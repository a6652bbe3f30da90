//! Services: saved specs run as supervised processes while their room is active, with
//! their environment and tokens, output in the developer logs, restarts with backoff, and
//! `services.list`/`services.restart` over the protocol.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use roomdeck::auth::ParticipantToken;
use roomdeck::client::{RoomClient, ServiceInfo};
use roomdeck::protocol::error_codes::{SERVICE_NOT_FOUND, SERVICE_RESTART_NOT_ALLOWED};
use roomdeck::server::services::spec::ServiceSpec;
use roomdeck::store::rooms::RoomsDb;

fn deploy(dir: &Path, room: &str, yaml: &str) -> String {
    let spec = ServiceSpec::parse(yaml).expect("valid spec");
    let db = RoomsDb::open(dir).unwrap();
    db.ensure(room).unwrap();
    db.save_service(room, spec.to_json()).unwrap().id
}

fn files(dir: &Path, room: &str) -> PathBuf {
    dir.join("rooms").join(room).join("files")
}

async fn service(client: &RoomClient, name: &str) -> ServiceInfo {
    client
        .services()
        .list()
        .await
        .expect("services.list")
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no service {name}"))
}

/// Polls `services.list` until `f` holds for the service.
async fn wait_for(
    client: &RoomClient,
    name: &str,
    what: &str,
    f: impl Fn(&ServiceInfo) -> bool,
) -> ServiceInfo {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let s = service(client, name).await;
        if f(&s) {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            s.state
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn read_when_there(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .filter(|t| t.ends_with('\n'))
}

fn alive(pid: &str) -> bool {
    Path::new("/proc").join(pid.trim()).exists()
}

#[tokio::test]
async fn a_service_runs_in_room_storage_with_its_tokens_and_stops_with_the_session() {
    let s = TestServer::start_with(|c| c.idle_timeout = Duration::from_millis(300)).await;
    let dir = s.dir.path().to_path_buf();
    deploy(
        &dir,
        "r",
        r#"
version: v1
kind: Service
metadata: {name: worker}
container:
  image: local
  working_dir: /data/work
  command: 'echo $$ > pid; echo "$MESHAGENT_ROOM $A" > env; echo "$HELPER" > helper; echo "$MESHAGENT_TOKEN" > agent; echo started; exec sleep 600'
  environment:
    - {name: A, value: hello}
    - name: HELPER
      token: {identity: helper, role: user}
"#,
    );
    let client = s.join("r", "alice").await;
    let work = files(&dir, "r").join("work");
    let mut env_text = None;
    eventually("the service to write its files", || {
        env_text = read_when_there(&work.join("env"));
        // `agent` is written last, so every file is complete once it is.
        env_text.is_some() && read_when_there(&work.join("agent")).is_some()
    })
    .await;
    assert_eq!(env_text.unwrap().trim(), "r hello");
    let helper = std::fs::read_to_string(work.join("helper")).unwrap();
    let t = ParticipantToken::from_jwt(helper.trim(), SECRET).expect("minted with the secret");
    assert_eq!(
        (t.name.as_str(), t.role(), t.room()),
        ("helper", "user", Some("r"))
    );
    let agent = std::fs::read_to_string(work.join("agent")).unwrap();
    let t = ParticipantToken::from_jwt(agent.trim(), SECRET).unwrap();
    assert_eq!((t.name.as_str(), t.role()), ("worker", "agent"));

    let running = wait_for(&client, "worker", "running", |s| {
        s.state.as_ref().is_some_and(|st| st.state == "running")
    })
    .await;
    assert!(running.state.unwrap().started_at.is_some());
    let pid = std::fs::read_to_string(work.join("pid")).unwrap();
    assert!(alive(&pid));

    // Everyone leaves: after the idle timeout the session ends and the process is stopped.
    client.close().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while alive(&pid) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the service outlived its session"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Its files (room storage) stay.
    assert!(work.join("env").exists());
}

#[tokio::test]
async fn output_goes_to_the_developer_logs() {
    let s = TestServer::start().await;
    deploy(
        s.dir.path(),
        "r",
        "version: v1\nkind: Service\nmetadata: {name: talker}\ncontainer: {image: local, command: 'sleep 0.3; echo to-stdout; echo to-stderr >&2; exec sleep 600'}\n",
    );
    let client = s.join("r", "alice").await;
    let mut logs = client.developer().logs().await.expect("logs");
    let mut seen = Vec::new();
    within("both output lines in the logs", async {
        while !(seen.iter().any(|l: &String| l.contains("INFO to-stdout"))
            && seen.iter().any(|l| l.contains("WARN to-stderr")))
        {
            let event = logs.next().await.expect("stream open").expect("event");
            seen.extend(roomdeck::client::otel_lines(&event));
        }
    })
    .await;
    client.close().await;
}

#[tokio::test]
async fn a_crashing_service_is_restarted_with_backoff_not_in_a_tight_loop() {
    let s = TestServer::start().await;
    deploy(
        s.dir.path(),
        "r",
        "version: v1\nkind: Service\nmetadata: {name: crasher}\ncontainer: {image: local, command: 'echo run >> runs; exit 3'}\n",
    );
    let client = s.join("r", "alice").await;
    let st = wait_for(&client, "crasher", "two restarts", |s| {
        s.state.as_ref().is_some_and(|st| st.restart_count >= 2)
    })
    .await
    .state
    .unwrap();
    assert_eq!(st.last_exit_code, Some(3));
    assert!(
        st.raw["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == "Exited" && e["count"].as_u64() >= Some(2)),
        "{}",
        st.raw
    );
    // Backoff 0.5 s, 1 s, 2 s, ...: over the next 2 s there is at most one more start.
    let before = std::fs::read_to_string(files(s.dir.path(), "r").join("runs"))
        .unwrap()
        .lines()
        .count();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = std::fs::read_to_string(files(s.dir.path(), "r").join("runs"))
        .unwrap()
        .lines()
        .count();
    assert!(
        after - before <= 2,
        "{before} -> {after} runs in 2 s: restarted in a tight loop"
    );
    // The server is fine: the room still answers.
    client.queues().list().await.expect("the room still works");
    client.close().await;
}

#[tokio::test]
async fn restart_over_the_protocol() {
    let s = TestServer::start().await;
    let id = deploy(
        s.dir.path(),
        "r",
        "version: v1\nkind: Service\nmetadata: {name: sleeper}\ncontainer: {image: local, command: 'echo $$ >> pids; exec sleep 600'}\n",
    );
    deploy(
        s.dir.path(),
        "r",
        "version: v1\nkind: Service\nmetadata: {name: listed}\ncontainer: {image: busybox}\n",
    );
    let client = s.join("r", "alice").await;
    let pids = files(s.dir.path(), "r").join("pids");
    let first = wait_for(&client, "sleeper", "running", |s| {
        s.state.as_ref().is_some_and(|st| st.state == "running")
    })
    .await;
    assert_eq!(first.id, id);
    assert_eq!(first.state.as_ref().unwrap().restart_count, 0);
    eventually("the first pid", || read_when_there(&pids).is_some()).await;

    client.services().restart(&id).await.expect("restarted");
    let again = wait_for(&client, "sleeper", "a restart", |s| {
        s.state
            .as_ref()
            .is_some_and(|st| st.restart_count == 1 && st.state == "running")
    })
    .await;
    assert_eq!(again.spec, first.spec, "restart leaves the spec unchanged");
    eventually("a second process", || {
        read_when_there(&pids).is_some_and(|t| t.lines().count() == 2)
    })
    .await;
    let text = std::fs::read_to_string(&pids).unwrap();
    let list: Vec<&str> = text.lines().collect();
    assert_ne!(list[0], list[1]);
    eventually("the old process to be gone", || !alive(list[0])).await;

    let unknown = client.services().restart("svc-nope").await.unwrap_err();
    assert_eq!(unknown.code(), Some(SERVICE_NOT_FOUND), "{unknown}");
    let listed = service(&client, "listed").await;
    assert_eq!(listed.state.as_ref().unwrap().state, "not_runnable");
    let refused = client.services().restart(&listed.id).await.unwrap_err();
    assert_eq!(
        refused.code(),
        Some(SERVICE_RESTART_NOT_ALLOWED),
        "{refused}"
    );
    client.close().await;
}

#[tokio::test]
async fn a_deploy_to_an_active_room_starts_and_a_delete_stops() {
    let s = TestServer::start().await;
    let client = s.join("r", "alice").await;
    assert!(client.services().list().await.unwrap().is_empty());
    deploy(
        s.dir.path(),
        "r",
        "version: v1\nkind: Service\nmetadata: {name: late}\ncontainer: {image: local, command: 'exec sleep 600'}\n",
    );
    wait_for(&client, "late", "running", |s| {
        s.state.as_ref().is_some_and(|st| st.state == "running")
    })
    .await;
    RoomsDb::open(s.dir.path())
        .unwrap()
        .delete_service("r", "late")
        .unwrap();
    assert!(client.services().list().await.unwrap().is_empty());
    client.close().await;
}

#[tokio::test]
async fn a_declared_port_with_a_liveness_path_becomes_ready() {
    let Ok(python) = which_python() else {
        eprintln!("skipped: no python3 to serve HTTP");
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = TestServer::start().await;
    deploy(
        s.dir.path(),
        "r",
        &format!(
            "version: v1\nkind: Service\nmetadata: {{name: web}}\nports: [{{num: {port}, liveness: /}}]\ncontainer: {{image: local, command: 'exec {python} -m http.server --bind 127.0.0.1 {port}'}}\n"
        ),
    );
    let client = s.join("r", "alice").await;
    let web = wait_for(&client, "web", "the port to be ready", |s| {
        s.state.as_ref().is_some_and(|st| {
            st.ports
                .first()
                .is_some_and(|p| p.liveness_status == "ready")
        })
    })
    .await;
    assert_eq!(web.state.unwrap().ports[0].num, port.to_string());
    client.close().await;
}

fn which_python() -> Result<String, ()> {
    for p in ["python3", "/usr/bin/python3"] {
        if std::process::Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Ok(p.to_string());
        }
    }
    Err(())
}
