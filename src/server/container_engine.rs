//! The container engine behind the `containers` toolkit: the podman or docker CLI.
//!
//! roomdeck drives whichever CLI is installed and can reach its engine (the first of
//! `podman`, `docker`, or only `$ROOMDECK_CONTAINER_CLI` when set); it does not talk to an engine's socket
//! itself. Every container it starts carries the room's name in a label, so a room sees and
//! touches only its own containers.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// Label naming the room a container belongs to.
pub(crate) const ROOM_LABEL: &str = "dev.roomdeck.room";
const STARTED_BY_ID: &str = "dev.roomdeck.started_by.id";
const STARTED_BY_NAME: &str = "dev.roomdeck.started_by.name";
/// How long `detect` waits for an engine to answer before calling it unavailable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one engine command may take (pulls excepted).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// A CLI that answered `version` with a server version.
#[derive(Debug, Clone)]
pub(crate) struct Engine {
    cli: String,
}

/// What went wrong running an engine command.
#[derive(Debug)]
pub(crate) enum EngineError {
    /// The engine said no such container or image.
    NotFound(String),
    /// Anything else the engine refused or failed at, with its message.
    Failed(String),
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::NotFound(m) | EngineError::Failed(m) => f.write_str(m),
        }
    }
}

/// The candidate CLIs, in the order they are tried; `$ROOMDECK_CONTAINER_CLI` names the only one.
fn candidates() -> Vec<String> {
    match std::env::var("ROOMDECK_CONTAINER_CLI") {
        Ok(cli) if !cli.trim().is_empty() => vec![cli],
        _ => vec!["podman".to_string(), "docker".to_string()],
    }
}

/// Finds a CLI whose engine answers. The error is one sentence saying what is missing, for
/// the 1007 answer every tool gives without an engine.
pub(crate) async fn detect() -> Result<Engine, String> {
    detect_among(candidates()).await
}

async fn detect_among(clis: Vec<String>) -> Result<Engine, String> {
    let mut found = Vec::new();
    for cli in clis {
        let probe = Command::new(&cli)
            .args(["version", "--format", "{{.Server.Version}}"])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let output = match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Ok(Err(e)) => {
                found.push(format!("{cli} could not be started ({e})"));
                continue;
            }
            Err(_) => {
                found.push(format!("{cli} did not answer within {PROBE_TIMEOUT:?}"));
                continue;
            }
        };
        let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if output.status.success() && !version.is_empty() {
            return Ok(Engine { cli });
        }
        found.push(format!(
            "{cli} is installed but cannot reach its engine ({})",
            first_line(&output.stderr)
        ));
    }
    Err(if found.is_empty() {
        "no container engine: neither podman nor docker is installed on the machine running this room"
            .to_string()
    } else {
        format!("no container engine available: {}", found.join("; "))
    })
}

fn first_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message");
    line.trim().chars().take(300).collect()
}

/// A container as the SDK's `RoomContainer` reads it.
fn room_container(ps: &Value) -> Value {
    let field = |k: &str| ps.get(k).and_then(Value::as_str).unwrap_or_default();
    let labels = parse_labels(ps.get("Labels"));
    let label = |k: &str| {
        labels
            .iter()
            .find(|(lk, _)| lk == k)
            .map(|(_, v)| v.clone())
    };
    let state = match field("State").to_ascii_lowercase().as_str() {
        "created" => "CREATED",
        "running" | "restarting" | "paused" => "RUNNING",
        "exited" | "dead" | "stopped" => "EXITED",
        _ => "UNKNOWN",
    };
    json!({
        "id": field("ID"),
        "image": field("Image"),
        "status": field("Status"),
        "name": field("Names"),
        "ports": [],
        "started_by": {
            "id": label(STARTED_BY_ID).unwrap_or_default(),
            "name": label(STARTED_BY_NAME).unwrap_or_default(),
        },
        "state": state,
        "private": false,
    })
}

/// `docker ps` prints labels as `k=v,k=v`; podman as a JSON object.
fn parse_labels(labels: Option<&Value>) -> Vec<(String, String)> {
    match labels {
        Some(Value::String(s)) => s
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
        _ => Vec::new(),
    }
}

/// What `run` needs, read from the SDK's `run` arguments.
#[derive(Debug, Default)]
pub(crate) struct RunSpec {
    pub image: String,
    pub command: Option<String>,
    pub working_dir: Option<String>,
    pub env: Vec<(String, String)>,
    pub ports: Vec<(u16, u16)>,
    pub name: Option<String>,
}

impl Engine {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.cli);
        cmd.stdin(Stdio::null()).kill_on_drop(true);
        cmd
    }

    /// Runs one engine command to completion and returns its stdout.
    async fn run_cli(&self, args: &[&str]) -> Result<String, EngineError> {
        let output = self.command().args(args).output();
        let output = match tokio::time::timeout(COMMAND_TIMEOUT, output).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => return Err(EngineError::Failed(format!("{}: {e}", self.cli))),
            Err(_) => {
                return Err(EngineError::Failed(format!(
                    "{} {} took longer than {COMMAND_TIMEOUT:?}",
                    self.cli, args[0]
                )));
            }
        };
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        let message = first_line(&output.stderr);
        let lower = message.to_ascii_lowercase();
        if lower.contains("no such") || lower.contains("not found") {
            Err(EngineError::NotFound(message))
        } else {
            Err(EngineError::Failed(message))
        }
    }

    /// Each line of a `--format '{{json .}}'` listing.
    fn json_lines(text: &str) -> Vec<Value> {
        text.lines()
            .filter_map(|l| serde_json::from_str(l.trim()).ok())
            .collect()
    }

    pub async fn list_images(&self) -> Result<Value, EngineError> {
        let out = self
            .run_cli(&["images", "--no-trunc", "--format", "{{json .}}"])
            .await?;
        let images: Vec<Value> = Self::json_lines(&out)
            .iter()
            .map(|i| {
                let field = |k: &str| i.get(k).and_then(Value::as_str).unwrap_or_default();
                let (repo, tag) = (field("Repository"), field("Tag"));
                let references: Vec<String> = if repo.is_empty() || repo == "<none>" {
                    Vec::new()
                } else {
                    vec![format!("{repo}:{tag}")]
                };
                json!({
                    "id": field("ID"),
                    "preferred_ref": references.first(),
                    "references": references,
                    "labels": {},
                })
            })
            .collect();
        Ok(json!({ "images": images }))
    }

    pub async fn delete_image(&self, image: &str) -> Result<(), EngineError> {
        self.run_cli(&["rmi", image]).await.map(drop)
    }

    pub async fn pull_image(&self, tag: &str) -> Result<(), EngineError> {
        self.run_cli(&["pull", tag]).await.map(drop)
    }

    /// Starts a detached container labelled with the room and who started it.
    pub async fn run(
        &self,
        room: &str,
        started_by: (&str, &str),
        spec: &RunSpec,
    ) -> Result<String, EngineError> {
        let mut args: Vec<String> = vec!["run".into(), "-d".into()];
        for (k, v) in [
            (ROOM_LABEL, room),
            (STARTED_BY_ID, started_by.0),
            (STARTED_BY_NAME, started_by.1),
        ] {
            args.extend(["--label".into(), format!("{k}={v}")]);
        }
        if let Some(name) = &spec.name {
            args.extend(["--name".into(), name.clone()]);
        }
        if let Some(dir) = &spec.working_dir {
            args.extend(["-w".into(), dir.clone()]);
        }
        for (k, v) in &spec.env {
            args.extend(["-e".into(), format!("{k}={v}")]);
        }
        for (container, host) in &spec.ports {
            args.extend(["-p".into(), format!("127.0.0.1:{host}:{container}")]);
        }
        // `--` keeps an image name that starts with `-` from being read as an option.
        args.extend(["--".into(), spec.image.clone()]);
        if let Some(command) = &spec.command {
            args.extend(["sh".into(), "-c".into(), command.clone()]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        Ok(self.run_cli(&refs).await?.trim().to_string())
    }

    /// The room's containers (running only unless `all`).
    pub async fn list_containers(&self, room: &str, all: bool) -> Result<Value, EngineError> {
        let filter = format!("label={ROOM_LABEL}={room}");
        let mut args = vec![
            "ps",
            "--no-trunc",
            "--filter",
            &filter,
            "--format",
            "{{json .}}",
        ];
        if all {
            args.push("-a");
        }
        let out = self.run_cli(&args).await?;
        let containers: Vec<Value> = Self::json_lines(&out).iter().map(room_container).collect();
        Ok(json!({ "containers": containers }))
    }

    /// Whether `id` names a container of this room (by id, id prefix or name).
    pub async fn owns(&self, room: &str, id: &str) -> Result<bool, EngineError> {
        let format = format!("{{{{index .Config.Labels \"{ROOM_LABEL}\"}}}}");
        match self.run_cli(&["inspect", "--format", &format, id]).await {
            Ok(out) => Ok(out.trim() == room),
            Err(EngineError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn stop(&self, id: &str, force: bool) -> Result<(), EngineError> {
        let verb = if force { "kill" } else { "stop" };
        self.run_cli(&[verb, id]).await.map(drop)
    }

    pub async fn delete(&self, id: &str) -> Result<(), EngineError> {
        self.run_cli(&["rm", "-f", id]).await.map(drop)
    }

    /// Waits for the container to exit and returns its exit code.
    pub async fn wait(&self, id: &str) -> Result<i64, EngineError> {
        // `wait` blocks as long as the container runs: no timeout here.
        let output = self
            .command()
            .args(["wait", id])
            .output()
            .await
            .map_err(|e| EngineError::Failed(format!("{}: {e}", self.cli)))?;
        if !output.status.success() {
            return Err(EngineError::Failed(first_line(&output.stderr)));
        }
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .map_err(|_| EngineError::Failed("the engine printed no exit code".into()))
    }

    /// A `logs` process with stdout and stderr piped together into stdout.
    pub fn logs(&self, id: &str, follow: bool) -> std::io::Result<Child> {
        let mut cmd = Command::new("sh");
        // The engine writes the container's stderr to its own stderr; `2>&1` merges the two
        // streams in the order they were written, which the SDK's one-channel log reader wants.
        let script = if follow {
            "exec \"$0\" logs --follow \"$1\" 2>&1"
        } else {
            "exec \"$0\" logs \"$1\" 2>&1"
        };
        cmd.args(["-c", script, &self.cli, id])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        cmd.spawn()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_ps_line_becomes_a_room_container() {
        let ps = json!({"ID":"abc","Image":"busybox","Names":"web","State":"exited","Status":"Exited (0)",
            "Labels":"dev.roomdeck.room=r1,dev.roomdeck.started_by.id=p1,dev.roomdeck.started_by.name=alice"});
        let c = room_container(&ps);
        assert_eq!(c["state"], "EXITED");
        assert_eq!(c["started_by"], json!({"id":"p1","name":"alice"}));
        assert_eq!(c["name"], "web");
    }

    #[test]
    fn podman_labels_are_an_object() {
        let labels = parse_labels(Some(&json!({"a":"1"})));
        assert_eq!(labels, vec![("a".to_string(), "1".to_string())]);
    }

    #[tokio::test]
    async fn a_missing_cli_is_a_sentence_not_a_panic() {
        let err = detect_among(vec!["roomdeck-no-such-engine-cli".into()]).await;
        assert!(err.unwrap_err().contains("neither podman nor docker"));
    }

    #[tokio::test]
    async fn a_cli_that_cannot_reach_its_engine_is_named() {
        // `false` exists everywhere and fails like a CLI without its daemon.
        let err = detect_among(vec!["false".into()]).await.unwrap_err();
        assert!(
            err.contains("false is installed but cannot reach its engine"),
            "{err}"
        );
    }
}
