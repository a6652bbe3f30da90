//! The local service runtime: while a room is active, each of its enabled services runs as a
//! supervised process (`sh -c container.command`) in the room's storage folder, with its
//! environment and minted participant tokens, restarted with backoff when it exits. Its
//! output goes to the room's developer logs; its state is MeshAgent's `ServiceRuntimeState`.

pub mod spec;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;

use self::spec::ServiceSpec;
use super::devlog::{DevEvent, Severity};
use crate::auth::{ApiScope, ParticipantToken};
use crate::store::rooms::{RoomsDb, now_secs};

/// First wait before restarting a service that exited; doubles up to `MAX_BACKOFF`.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(500);
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A run this long counts as healthy: the next restart waits `INITIAL_BACKOFF` again.
const HEALTHY_RUN: Duration = Duration::from_secs(30);
/// How long a stopping service gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// Longest output line passed to the logs; the rest is cut.
const MAX_LOG_LINE: usize = 16 * 1024;
/// Events kept per service.
const MAX_EVENTS: usize = 50;

/// What a room's services need to know about the room and the server.
#[derive(Clone)]
pub(crate) struct ServiceEnv {
    pub room: String,
    pub data_dir: PathBuf,
    pub secret: String,
    /// `host:port` the server listens on.
    pub server_addr: String,
    pub devlog: broadcast::Sender<DevEvent>,
    /// False for a server embedded in a one-shot command: services are listed, not run.
    pub run: bool,
    /// The session's timeline: services' starts, exits and output lines go into it.
    pub recorder: crate::timeline::Recorder,
}

impl ServiceEnv {
    fn files_dir(&self) -> PathBuf {
        crate::store::room_dir(&self.data_dir, &self.room).join("files")
    }

    fn log(&self, severity: Severity, service: &str, message: String, stream: Option<&str>) {
        let mut attrs = Map::new();
        attrs.insert("service".into(), Value::String(service.to_string()));
        if let Some(s) = stream {
            attrs.insert("stream".into(), Value::String(s.to_string()));
        }
        match stream {
            None => crate::server::recording::service(&self.recorder, service, &message),
            Some(_) => crate::server::recording::log(&self.recorder, severity, &message, &attrs),
        }
        let _ = self.devlog.send(DevEvent::otel(severity, &message, &attrs));
    }

    fn mint(&self, identity: &str, role: &str, scope: ApiScope) -> Result<String, String> {
        let mut t = ParticipantToken::new(identity);
        t.add_room_grant(&self.room);
        t.add_role_grant(role);
        t.add_api_grant(scope);
        t.to_jwt(&self.secret).map_err(|e| e.to_string())
    }
}

#[derive(Debug, Clone, Default)]
struct RuntimeEvent {
    kind: String,
    reason: String,
    message: String,
    count: u64,
    first: f64,
    last: f64,
}

/// MeshAgent's `ServiceRuntimeState`.
#[derive(Debug, Clone, Default)]
struct RuntimeState {
    state: String,
    container_id: Option<String>,
    restart_scheduled_at: Option<f64>,
    started_at: Option<f64>,
    restart_count: u64,
    last_exit_code: Option<i64>,
    last_exit_at: Option<f64>,
    last_start_error: Option<String>,
    last_start_error_at: Option<f64>,
    /// Per declared port: (num, liveness path, status, last checked, last error).
    ports: Vec<PortState>,
    events: Vec<RuntimeEvent>,
}

#[derive(Debug, Clone)]
struct PortState {
    num: Value,
    liveness: Option<String>,
    status: &'static str,
    last_checked_at: Option<f64>,
    last_error: Option<String>,
}

impl RuntimeState {
    fn event(&mut self, kind: &str, reason: &str, message: String) {
        let now = now_secs();
        // Repeats fold into one event with a count, as Kubernetes events do.
        if let Some(i) = self
            .events
            .iter()
            .position(|e| e.reason == reason && e.message == message)
        {
            let mut e = self.events.remove(i);
            e.count += 1;
            e.last = now;
            self.events.push(e);
            return;
        }
        self.events.push(RuntimeEvent {
            kind: kind.into(),
            reason: reason.into(),
            message,
            count: 1,
            first: now,
            last: now,
        });
        if self.events.len() > MAX_EVENTS {
            self.events.remove(0);
        }
    }

    fn to_json(&self, service_id: &str) -> Value {
        let ports: Vec<Value> = self
            .ports
            .iter()
            .map(|p| {
                let mut v = json!({"num": p.num, "liveness_status": p.status});
                if let Some(l) = &p.liveness {
                    v["liveness"] = json!(l);
                }
                if let Some(t) = p.last_checked_at {
                    v["last_checked_at"] = json!(t);
                }
                if let Some(e) = &p.last_error {
                    v["last_error"] = json!(e);
                }
                v
            })
            .collect();
        let events: Vec<Value> = self
            .events
            .iter()
            .map(|e| {
                json!({"type": e.kind, "reason": e.reason, "message": e.message, "count": e.count,
                       "first_timestamp": e.first, "last_timestamp": e.last})
            })
            .collect();
        let mut v = json!({
            "service_id": service_id,
            "state": self.state,
            "restart_count": self.restart_count,
            "status": {"ports": ports},
            "events": events,
        });
        let opt = |v: &mut Value, k: &str, x: Option<Value>| {
            if let Some(x) = x {
                v[k] = x;
            }
        };
        opt(
            &mut v,
            "container_id",
            self.container_id.clone().map(Value::from),
        );
        opt(
            &mut v,
            "restart_scheduled_at",
            self.restart_scheduled_at.map(Value::from),
        );
        opt(&mut v, "started_at", self.started_at.map(Value::from));
        opt(
            &mut v,
            "last_exit_code",
            self.last_exit_code.map(Value::from),
        );
        opt(&mut v, "last_exit_at", self.last_exit_at.map(Value::from));
        opt(
            &mut v,
            "last_start_error",
            self.last_start_error.clone().map(Value::from),
        );
        opt(
            &mut v,
            "last_start_error_at",
            self.last_start_error_at.map(Value::from),
        );
        v
    }
}

/// One service of the room: its spec, state and (when runnable) its supervising task.
struct Managed {
    id: String,
    spec: ServiceSpec,
    state: Mutex<RuntimeState>,
    restart: Notify,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Managed {
    fn state(&self) -> std::sync::MutexGuard<'_, RuntimeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_state(&self, f: impl FnOnce(&mut RuntimeState)) {
        f(&mut self.state());
    }
}

/// Why a restart was refused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RestartError {
    Unknown(String),
    NotRestartable(String),
}

/// The services of one active room.
pub(crate) struct Supervisor {
    env: ServiceEnv,
    db: Arc<RoomsDb>,
    services: Mutex<Vec<Arc<Managed>>>,
}

impl Supervisor {
    pub fn new(env: ServiceEnv, db: Arc<RoomsDb>) -> Supervisor {
        Supervisor {
            env,
            db,
            services: Mutex::new(Vec::new()),
        }
    }

    fn list_managed(&self) -> Vec<Arc<Managed>> {
        self.services
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Brings the running set in line with the saved specs: starts new ones, stops removed
    /// ones, restarts changed ones. Called when the session starts, on `services.list`, and
    /// every few seconds while the room is active.
    pub async fn reconcile(&self) {
        let room = self.env.room.clone();
        let db = self.db.clone();
        let saved = match tokio::task::spawn_blocking(move || db.services(Some(&room))).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::warn!(room = %self.env.room, "cannot read saved services: {e}");
                return;
            }
            Err(_) => return,
        };
        let mut wanted: Vec<(String, ServiceSpec)> = Vec::new();
        for s in saved {
            match ServiceSpec::from_value(s.spec.clone()) {
                Ok(mut spec) => {
                    spec.id = Some(s.id.clone());
                    wanted.push((s.id, spec));
                }
                Err(e) => self.env.log(
                    Severity::Error,
                    &s.name,
                    format!("saved spec of service {} is invalid, skipped: {e}", s.name),
                    None,
                ),
            }
        }
        let mut to_stop = Vec::new();
        {
            let mut current = self.services.lock().unwrap_or_else(|p| p.into_inner());
            let mut next = Vec::new();
            for (id, spec) in wanted {
                match current.iter().position(|m| m.id == id) {
                    Some(i) if current[i].spec == spec => next.push(current.remove(i)),
                    Some(i) => {
                        to_stop.push(current.remove(i));
                        next.push(self.launch(id, spec));
                    }
                    None => next.push(self.launch(id, spec)),
                }
            }
            to_stop.append(&mut current);
            *current = next;
        }
        for m in to_stop {
            stop_one(&m).await;
        }
    }

    fn launch(&self, id: String, spec: ServiceSpec) -> Arc<Managed> {
        let ports = spec
            .ports
            .iter()
            .flatten()
            .map(|p| PortState {
                num: p.num.clone(),
                liveness: p.liveness.clone(),
                status: if p.liveness.is_some() && p.number().is_some() {
                    "not_ready"
                } else {
                    "not_configured"
                },
                last_checked_at: None,
                last_error: None,
            })
            .collect();
        let state = RuntimeState {
            state: if !spec.enabled {
                "disabled".into()
            } else if !self.env.run {
                "not_running".into()
            } else if spec.runnable() {
                "pending".into()
            } else {
                "not_runnable".into()
            },
            ports,
            ..RuntimeState::default()
        };
        let (stop, _) = watch::channel(false);
        let managed = Arc::new(Managed {
            id,
            spec,
            state: Mutex::new(state),
            restart: Notify::new(),
            stop,
            task: Mutex::new(None),
        });
        if managed.spec.runnable() && self.env.run {
            write_spec_files(&self.env, &managed.spec);
            let task = tokio::spawn(supervise(self.env.clone(), managed.clone()));
            *managed.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        }
        managed
    }

    /// `services.list`: the specs as JSON strings and their runtime states.
    pub async fn list(&self) -> Value {
        self.reconcile().await;
        let mut specs = Vec::new();
        let mut states = Vec::new();
        for m in self.list_managed() {
            specs.push(Value::String(m.spec.to_json().to_string()));
            states.push(m.state().to_json(&m.id));
        }
        json!({"services_json": specs, "service_states": states})
    }

    /// `services.restart`: stops the running process; the supervisor starts it again at
    /// once (restart_count grows). The saved spec is not touched.
    pub async fn restart(&self, service_id: &str) -> Result<(), RestartError> {
        self.reconcile().await;
        let found = self
            .list_managed()
            .into_iter()
            .find(|m| m.id == service_id || m.spec.metadata.name == service_id);
        let Some(m) = found else {
            return Err(RestartError::Unknown(format!(
                "this room has no service {service_id:?}"
            )));
        };
        if !m.spec.enabled {
            return Err(RestartError::NotRestartable(format!(
                "service {} is disabled",
                m.spec.metadata.name
            )));
        }
        if !m.spec.runnable() {
            return Err(RestartError::NotRestartable(format!(
                "service {} has no container command the local runtime can run",
                m.spec.metadata.name
            )));
        }
        if !self.env.run {
            return Err(RestartError::NotRestartable(format!(
                "service {} is not running here: services run under `roomdeck serve` or the console",
                m.spec.metadata.name
            )));
        }
        self.env.log(
            Severity::Info,
            &m.spec.metadata.name,
            format!("restart of service {} requested", m.spec.metadata.name),
            None,
        );
        m.restart.notify_one();
        Ok(())
    }

    /// Stops every service (the session ends).
    pub async fn stop_all(&self) {
        let all: Vec<_> =
            std::mem::take(&mut *self.services.lock().unwrap_or_else(|p| p.into_inner()));
        for m in &all {
            let _ = m.stop.send(true);
        }
        for m in all {
            stop_one(&m).await;
        }
    }
}

async fn stop_one(m: &Managed) {
    let _ = m.stop.send(true);
    let task = m.task.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(task) = task {
        let _ = task.await;
    }
}

/// `files` of a spec: created in room storage when they do not exist yet.
fn write_spec_files(env: &ServiceEnv, spec: &ServiceSpec) {
    for f in spec.files.iter().flatten() {
        let Some(path) = confined(&env.files_dir(), &f.path) else {
            env.log(
                Severity::Warning,
                &spec.metadata.name,
                format!("file {:?} is outside the room's storage; skipped", f.path),
                None,
            );
            continue;
        };
        if path.exists() {
            continue;
        }
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if let Err(e) = std::fs::write(&path, &f.text) {
            env.log(
                Severity::Warning,
                &spec.metadata.name,
                format!("cannot write {}: {e}", path.display()),
                None,
            );
        }
    }
}

/// `root`/`rel` without escaping `root` (`..` and absolute parts refused).
fn confined(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut out = root.to_path_buf();
    for part in Path::new(rel.trim_start_matches('/')).components() {
        match part {
            std::path::Component::Normal(p) => out.push(p),
            std::path::Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

/// Where the process runs: the agent template mounts room storage at `/data`, so `/data/x`
/// and relative paths are inside the room's storage folder; other absolute paths are used
/// as they are.
fn working_dir(env: &ServiceEnv, dir: Option<&str>) -> Option<PathBuf> {
    let files = env.files_dir();
    match dir {
        None | Some("") => Some(files),
        Some("/data") => Some(files),
        Some(d) if d.starts_with("/data/") => confined(&files, &d["/data/".len()..]),
        Some(d) if d.starts_with('/') => Some(PathBuf::from(d)),
        Some(d) => confined(&files, d),
    }
}

/// The process environment for a service: the server's own, less its secrets, plus the
/// room's addresses, the agent template's token and the spec's variables.
fn environment(env: &ServiceEnv, spec: &ServiceSpec) -> Result<Vec<(String, String)>, String> {
    let mut vars: Vec<(String, String)> = vec![
        ("MESHAGENT_ROOM".into(), env.room.clone()),
        (
            "MESHAGENT_ROOM_URL".into(),
            format!("ws://{}", env.server_addr),
        ),
        (
            "MESHAGENT_API_URL".into(),
            format!("http://{}", env.server_addr),
        ),
        (
            "MESHAGENT_SERVICE_ID".into(),
            spec.id.clone().unwrap_or_default(),
        ),
    ];
    let container = spec.container.as_ref();
    if container
        .and_then(|c| c.template.as_deref())
        .unwrap_or("agent")
        == "agent"
    {
        let jwt = env.mint(&spec.metadata.name, "agent", ApiScope::agent_default())?;
        vars.push(("MESHAGENT_TOKEN".into(), jwt));
    }
    for (i, e) in container
        .and_then(|c| c.environment.as_ref())
        .into_iter()
        .flatten()
        .enumerate()
    {
        let value = if let Some(t) = &e.token {
            let role = t.role.as_deref().unwrap_or("agent");
            env.mint(&t.identity, role, t.resolved_api_scope())?
        } else if e.secret.is_some() {
            return Err(format!(
                "environment[{i}] ({}) asks for a secret; the local runtime has no secret store",
                e.name
            ));
        } else {
            e.value.clone().unwrap_or_default()
        };
        vars.retain(|(k, _)| *k != e.name);
        vars.push((e.name.clone(), value));
    }
    Ok(vars)
}

fn spawn_process(env: &ServiceEnv, spec: &ServiceSpec) -> Result<tokio::process::Child, String> {
    let command = spec
        .container
        .as_ref()
        .and_then(|c| c.command.clone())
        .ok_or("no container.command")?;
    let dir = working_dir(
        env,
        spec.container
            .as_ref()
            .and_then(|c| c.working_dir.as_deref()),
    )
    .ok_or("container.working_dir leaves the room's storage")?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let vars = environment(env, spec)?;
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(&command)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("MESHAGENT_SECRET")
        .env_remove("MESHAGENT_API_KEY")
        .env_remove("MESHAGENT_TOKEN")
        .env_remove("MESHAGENT_PROFILE_API_URL")
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.spawn()
        .map_err(|e| format!("cannot start `sh -c {command}`: {e}"))
}

/// Signals the process group of `pid` (the service's shell and everything it started).
fn signal_group(pid: u32, signal: i32) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(pid)
        && pid > 0
    {
        // SAFETY: kill(2) takes plain integers; a negative pid names the process group.
        unsafe {
            libc::kill(-pid, signal);
        }
    }
    #[cfg(not(unix))]
    let _ = (pid, signal);
}

/// Stops a running child: SIGTERM to its group, SIGKILL after the grace period.
async fn stop_child(child: &mut tokio::process::Child) -> Option<std::process::ExitStatus> {
    let pid = child.id();
    if let Some(pid) = pid {
        signal_group(pid, libc::SIGTERM);
    }
    let status = match tokio::time::timeout(STOP_GRACE, child.wait()).await {
        Ok(s) => s.ok(),
        Err(_) => {
            if let Some(pid) = pid {
                signal_group(pid, libc::SIGKILL);
            }
            let _ = child.kill().await;
            child.wait().await.ok()
        }
    };
    if let Some(pid) = pid {
        // Anything the shell left behind goes too.
        signal_group(pid, libc::SIGKILL);
    }
    status
}

fn exit_code(status: &std::process::ExitStatus) -> i64 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return 128 + i64::from(sig);
        }
    }
    status.code().map(i64::from).unwrap_or(-1)
}

fn pump<R: AsyncRead + Unpin + Send + 'static>(
    env: ServiceEnv,
    name: String,
    stream: &'static str,
    reader: R,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut reader = BufReader::new(reader);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        buf.pop();
                    }
                    buf.truncate(MAX_LOG_LINE);
                    let line = String::from_utf8_lossy(&buf).into_owned();
                    let severity = if stream == "stderr" {
                        Severity::Warning
                    } else {
                        Severity::Info
                    };
                    env.log(severity, &name, line, Some(stream));
                }
            }
        }
    })
}

/// One liveness probe: `GET path` on 127.0.0.1:port answered with a 2xx.
async fn probe(port: u16, path: &str) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fut = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| e.to_string())?;
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        s.write_all(
            format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .map_err(|e| e.to_string())?;
        let mut head = [0u8; 16];
        let n = s.read(&mut head).await.map_err(|e| e.to_string())?;
        let line = String::from_utf8_lossy(&head[..n]).to_string();
        let code = line.split_whitespace().nth(1).unwrap_or("");
        if code.starts_with('2') {
            Ok(())
        } else {
            Err(format!("answered {}", line.trim()))
        }
    };
    tokio::time::timeout(Duration::from_secs(2), fut)
        .await
        .map_err(|_| "no answer in 2 s".to_string())?
}

/// Probes the declared liveness paths every 2 s while the process runs.
fn liveness(managed: Arc<Managed>) -> Option<JoinHandle<()>> {
    let targets: Vec<(usize, u16, String)> = managed
        .spec
        .ports
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, p)| Some((i, p.number()?, p.liveness.clone()?)))
        .collect();
    if targets.is_empty() {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            for (i, port, path) in &targets {
                let result = probe(*port, path).await;
                managed.set_state(|s| {
                    if let Some(p) = s.ports.get_mut(*i) {
                        p.last_checked_at = Some(now_secs());
                        match result {
                            Ok(()) => {
                                p.status = "ready";
                                p.last_error = None;
                            }
                            Err(e) => {
                                p.status = "not_ready";
                                p.last_error = Some(e);
                            }
                        }
                    }
                });
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }))
}

/// The supervising loop of one service: run, watch, restart with backoff, until stopped.
async fn supervise(env: ServiceEnv, m: Arc<Managed>) {
    let name = m.spec.metadata.name.clone();
    let mut stop = m.stop.subscribe();
    let mut backoff = INITIAL_BACKOFF;
    loop {
        if *stop.borrow() {
            break;
        }
        let started = tokio::time::Instant::now();
        let mut restart_requested = false;
        match spawn_process(&env, &m.spec) {
            Err(e) => {
                env.log(
                    Severity::Error,
                    &name,
                    format!("service {name} failed to start: {e}"),
                    None,
                );
                m.set_state(|s| {
                    s.state = "failed".into();
                    s.last_start_error = Some(e.clone());
                    s.last_start_error_at = Some(now_secs());
                    s.event("Warning", "StartFailed", e);
                });
            }
            Ok(mut child) => {
                let pid = child.id();
                env.log(
                    Severity::Info,
                    &name,
                    format!(
                        "service {name} started (pid {})",
                        pid.map(|p| p.to_string()).unwrap_or_default()
                    ),
                    None,
                );
                m.set_state(|s| {
                    s.state = "running".into();
                    s.container_id = pid.map(|p| format!("pid-{p}"));
                    s.started_at = Some(now_secs());
                    s.restart_scheduled_at = None;
                    s.event(
                        "Normal",
                        "Started",
                        format!("started process {}", pid.unwrap_or(0)),
                    );
                });
                let out = child
                    .stdout
                    .take()
                    .map(|r| pump(env.clone(), name.clone(), "stdout", r));
                let err = child
                    .stderr
                    .take()
                    .map(|r| pump(env.clone(), name.clone(), "stderr", r));
                let probe_task = liveness(m.clone());
                let status = tokio::select! {
                    status = child.wait() => {
                        if let Some(pid) = pid {
                            signal_group(pid, libc::SIGKILL);
                        }
                        status.ok()
                    }
                    _ = m.restart.notified() => {
                        restart_requested = true;
                        stop_child(&mut child).await
                    }
                    _ = stop.changed() => stop_child(&mut child).await,
                };
                if let Some(t) = probe_task {
                    t.abort();
                }
                // The pipes close once the process group is gone; the pumps then finish.
                for t in [out, err].into_iter().flatten() {
                    let _ = tokio::time::timeout(Duration::from_secs(1), t).await;
                }
                let code = status.as_ref().map(exit_code);
                env.log(
                    if code == Some(0) || restart_requested || *stop.borrow() {
                        Severity::Info
                    } else {
                        Severity::Error
                    },
                    &name,
                    format!(
                        "service {name} exited with code {}",
                        code.map(|c| c.to_string()).unwrap_or_else(|| "?".into())
                    ),
                    None,
                );
                m.set_state(|s| {
                    s.last_exit_code = code;
                    s.last_exit_at = Some(now_secs());
                    s.container_id = None;
                    for p in &mut s.ports {
                        if p.status == "ready" {
                            p.status = "not_ready";
                        }
                    }
                    let msg = format!("exited with code {}", code.unwrap_or(-1));
                    if restart_requested {
                        s.event("Normal", "Restarting", "restart requested".into());
                    } else if !*stop.borrow() {
                        s.event("Warning", "Exited", msg);
                    }
                });
            }
        }
        if *stop.borrow() {
            break;
        }
        if restart_requested {
            backoff = INITIAL_BACKOFF;
            m.set_state(|s| s.restart_count += 1);
            continue;
        }
        if started.elapsed() >= HEALTHY_RUN {
            backoff = INITIAL_BACKOFF;
        }
        let wait = backoff;
        backoff = (backoff * 2).min(MAX_BACKOFF);
        m.set_state(|s| {
            if s.state != "failed" {
                s.state = "restarting".into();
            }
            s.restart_scheduled_at = Some(now_secs() + wait.as_secs_f64());
        });
        env.log(
            Severity::Info,
            &name,
            format!("service {name} restarts in {:.1} s", wait.as_secs_f64()),
            None,
        );
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = m.restart.notified() => { backoff = INITIAL_BACKOFF; }
            _ = stop.changed() => break,
        }
        m.set_state(|s| s.restart_count += 1);
    }
    m.set_state(|s| {
        s.state = "stopped".into();
        s.container_id = None;
        s.restart_scheduled_at = None;
    });
}

/// For tests and the CLI: a map of service name to saved id in a room.
pub fn saved_ids(db: &RoomsDb, room: &str) -> HashMap<String, String> {
    db.services(Some(room))
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.name, s.id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(dir: &Path) -> ServiceEnv {
        let (devlog, _) = broadcast::channel(16);
        ServiceEnv {
            room: "r".into(),
            data_dir: dir.to_path_buf(),
            secret: "s".repeat(32),
            server_addr: "127.0.0.1:1".into(),
            devlog,
            run: true,
            recorder: crate::timeline::Recorder::off(),
        }
    }

    #[test]
    fn working_dirs_stay_in_storage() {
        let dir = tempfile::tempdir().unwrap();
        let e = env(dir.path());
        let files = dir.path().join("rooms/r/files");
        assert_eq!(working_dir(&e, None).unwrap(), files);
        assert_eq!(working_dir(&e, Some("/data")).unwrap(), files);
        assert_eq!(
            working_dir(&e, Some("/data/a/b")).unwrap(),
            files.join("a/b")
        );
        assert_eq!(working_dir(&e, Some("sub")).unwrap(), files.join("sub"));
        assert!(working_dir(&e, Some("../x")).is_none());
        assert!(working_dir(&e, Some("/data/../../x")).is_none());
        assert_eq!(
            working_dir(&e, Some("/tmp")).unwrap(),
            PathBuf::from("/tmp")
        );
    }

    #[test]
    fn environment_mints_tokens_for_the_room() {
        let dir = tempfile::tempdir().unwrap();
        let e = env(dir.path());
        let spec = ServiceSpec::parse(
            "version: v1\nkind: Service\nid: svc-1\nmetadata: {name: bot}\ncontainer:\n  image: x\n  command: 'true'\n  environment:\n    - {name: A, value: b}\n    - name: T\n      token: {identity: helper, role: user}\n",
        )
        .unwrap();
        let vars: HashMap<_, _> = environment(&e, &spec).unwrap().into_iter().collect();
        assert_eq!(vars["A"], "b");
        assert_eq!(vars["MESHAGENT_ROOM"], "r");
        assert_eq!(vars["MESHAGENT_ROOM_URL"], "ws://127.0.0.1:1");
        let t = ParticipantToken::from_jwt(&vars["T"], &e.secret).unwrap();
        assert_eq!(
            (t.name.as_str(), t.role(), t.room()),
            ("helper", "user", Some("r"))
        );
        assert_eq!(t.api(), Some(ApiScope::user_default()));
        let agent = ParticipantToken::from_jwt(&vars["MESHAGENT_TOKEN"], &e.secret).unwrap();
        assert_eq!(agent.name, "bot");
        assert_eq!(agent.api(), Some(ApiScope::agent_default()));
    }
}
