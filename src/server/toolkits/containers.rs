//! `containers`: the room's containers, run by the podman or docker CLI on this machine.
//!
//! Without a usable engine every tool answers 1007 (DEPENDENCY_MISSING) with a sentence
//! saying what is missing. Tools of MeshAgent's cloud that need a registry or a build
//! service (push, build, save/load into mounts, run_service, exec) answer 1002.

use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use crate::protocol::Content;
use crate::protocol::error_codes::{CONTAINER_NOT_FOUND, DEPENDENCY_MISSING, OPERATION_FAILED};
use crate::server::call::{
    Reply, ToolCall, ToolError, ToolResult, arg_bool, arg_str, empty, json_reply,
};
use crate::server::container_engine::{Engine, EngineError, RunSpec, detect};

pub(crate) const TOOLKIT: super::Toolkit = super::Toolkit {
    name: "containers",
    description: "Containers of the room, run by the local podman or docker engine",
    tools: &[
        ("list_images", "Images the engine has"),
        ("inspect_image", "Not supported locally"),
        ("delete_image", "Remove an image"),
        ("pull_image", "Pull an image by tag"),
        ("push_image", "Not supported locally (no registry)"),
        ("load", "Not supported locally"),
        ("load_image", "Not supported locally"),
        ("save_image", "Not supported locally"),
        ("run", "Run a container from an image"),
        ("build", "Not supported locally"),
        ("list_builds", "Builds (none locally)"),
        ("cancel_build", "Not supported locally"),
        ("delete_build", "Not supported locally"),
        ("run_service", "Not supported locally"),
        ("exec", "Not supported locally"),
        ("logs", "A container's output, optionally followed"),
        ("get_build_logs", "Not supported locally"),
        ("stop_container", "Stop (or kill) a container"),
        ("wait_for_exit", "Wait for a container to exit"),
        ("delete_container", "Remove a container"),
        ("list_containers", "The room's containers"),
    ],
};

/// Bytes of container output sent per `logs` chunk.
const LOG_CHUNK: usize = 16 * 1024;

pub(crate) async fn invoke(call: &mut ToolCall) -> ToolResult {
    // Streaming tools carry their arguments in the start chunk; authorise on those first.
    let args = if call.requests.is_some() {
        let start = match call.next_request().await {
            Some(Content::Binary { headers, .. }) => Value::Object(headers),
            Some(Content::Json(v)) => v,
            _ => {
                return Err(ToolError::invalid(
                    "the request stream must start with its arguments",
                ));
            }
        };
        call.authorize(&start)?;
        start
    } else {
        call.json_args()?
    };
    let engine = detect()
        .await
        .map_err(|missing| ToolError::new(DEPENDENCY_MISSING, missing))?;
    let room = call.room.name.clone();
    match call.tool.as_str() {
        "list_images" => json_reply(engine.list_images().await.map_err(failed)?),
        "list_builds" => json_reply(json!({ "builds": [] })),
        "delete_image" => {
            engine
                .delete_image(arg_str(&args, "image")?)
                .await
                .map_err(failed)?;
            empty()
        }
        "pull_image" => {
            engine
                .pull_image(arg_str(&args, "tag")?)
                .await
                .map_err(failed)?;
            empty()
        }
        "run" => {
            let spec = run_spec(&args)?;
            let started_by = (call.caller.id.as_str(), call.caller.name.as_str());
            let id = engine.run(&room, started_by, &spec).await.map_err(failed)?;
            json_reply(json!({ "container_id": id }))
        }
        "list_containers" => {
            let all = arg_bool(&args, "all", false)?;
            json_reply(engine.list_containers(&room, all).await.map_err(failed)?)
        }
        "stop_container" => {
            let id = owned(&engine, &room, &args).await?;
            engine
                .stop(&id, arg_bool(&args, "force", false)?)
                .await
                .map_err(failed)?;
            empty()
        }
        "delete_container" => {
            let id = owned(&engine, &room, &args).await?;
            engine.delete(&id).await.map_err(failed)?;
            empty()
        }
        "wait_for_exit" => {
            let id = owned(&engine, &room, &args).await?;
            let code = engine.wait(&id).await.map_err(failed)?;
            json_reply(json!({ "exit_code": code }))
        }
        "logs" if call.requests.is_some() => {
            let id = owned(&engine, &room, &args).await?;
            logs(call, &engine, &id, arg_bool(&args, "follow", false)?).await
        }
        other => Err(ToolError::invalid(format!(
            "containers.{other} is not supported by roomdeck's local engine"
        ))),
    }
}

fn failed(e: EngineError) -> ToolError {
    match e {
        EngineError::NotFound(m) => ToolError::new(CONTAINER_NOT_FOUND, m),
        EngineError::Failed(m) => ToolError::new(OPERATION_FAILED, m),
    }
}

/// The `container_id` argument, if it names one of this room's containers (6001 otherwise).
async fn owned(engine: &Engine, room: &str, args: &Value) -> Result<String, ToolError> {
    let id = arg_str(args, "container_id")?;
    if id.starts_with('-') || !engine.owns(room, id).await.map_err(failed)? {
        return Err(ToolError::new(
            CONTAINER_NOT_FOUND,
            format!("this room has no container `{id}`"),
        ));
    }
    Ok(id.to_string())
}

/// The SDK sends env and ports as lists of pairs (`[{"key","value"}]`, `[{"container_port","host_port"}]`).
fn run_spec(args: &Value) -> Result<RunSpec, ToolError> {
    let text = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_string);
    let list = |k: &str| {
        args.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut spec = RunSpec {
        image: arg_str(args, "image")?.to_string(),
        command: text("command"),
        working_dir: text("working_dir"),
        name: text("name"),
        ..RunSpec::default()
    };
    for pair in list("env") {
        let (Some(k), Some(v)) = (pair["key"].as_str(), pair["value"].as_str()) else {
            return Err(ToolError::invalid(
                "each env entry needs a string key and value",
            ));
        };
        spec.env.push((k.to_string(), v.to_string()));
    }
    for pair in list("ports") {
        let port = |k: &str| pair[k].as_u64().and_then(|p| u16::try_from(p).ok());
        let (Some(c), Some(h)) = (port("container_port"), port("host_port")) else {
            return Err(ToolError::invalid(
                "each port needs a container_port and host_port (0-65535)",
            ));
        };
        spec.ports.push((c, h));
    }
    if spec.image.starts_with('-') {
        return Err(ToolError::invalid("an image name cannot start with `-`"));
    }
    Ok(spec)
}

/// Streams a container's output as binary chunks on channel 1 until it ends or the caller
/// closes its request stream.
async fn logs(call: &mut ToolCall, engine: &Engine, id: &str, follow: bool) -> ToolResult {
    let mut child = engine
        .logs(id, follow)
        .map_err(|e| ToolError::new(OPERATION_FAILED, format!("could not read the logs: {e}")))?;
    let Some(mut out) = child.stdout.take() else {
        return Err(ToolError::new(
            OPERATION_FAILED,
            "the logs process has no output",
        ));
    };
    let stream = call.open_stream().await?;
    let mut buf = vec![0u8; LOG_CHUNK];
    loop {
        tokio::select! {
            read = out.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let chunk = Content::binary(json!({"channel": 1}), buf[..n].to_vec());
                    if stream.send(&chunk).await.is_err() {
                        return Ok(Reply::Streamed);
                    }
                }
            },
            request = call.next_request() => if request.is_none() { break },
        }
    }
    let _ = child.kill().await;
    stream.close().await;
    Ok(Reply::Streamed)
}
