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

use super::spec::{ANSWERS_STREAM, Arg, STREAM, Tool, Ty, opt, req, tool};

pub(crate) const TOOLKIT: super::Toolkit = super::Toolkit::new(
    "containers",
    "Containers of the room, run by the local podman or docker engine",
    &crate::auth::check::CONTAINERS,
    TOOLS,
    |call| Box::pin(invoke(call)),
);

const CONTAINER: Arg = req("container_id", Ty::Str, "the container's id");
const BUILD: Arg = req("build_id", Ty::Str, "the build's id");
const TAG: Arg = req("tag", Ty::Str, "the image reference, e.g. `busybox:latest`");
const CREDENTIALS: Arg = opt(
    "credentials",
    Ty::ObjList,
    "registry logins: objects with `registry`, `username`, `password`",
);
const PRIVATE: Arg = opt("private", Ty::Bool, "keep the image to this participant");
const ARCHIVE: Arg = req("archive_path", Ty::Str, "the image archive's path");
const MOUNTS: Arg = opt(
    "mounts",
    Ty::ObjList,
    "volumes to mount (a local room has none)",
);
const REQUEST: Arg = opt("request_id", Ty::Str, "the caller's id for this stream");
const FOLLOW: Arg = opt("follow", Ty::Bool, "keep streaming new output until closed").or("false");
const ENV: Arg = opt(
    "env",
    Ty::ObjList,
    "environment variables: objects with `key` and `value`",
);

const TOOLS: &[Tool] = &[
    tool("list_images", "Images the engine has", &[]),
    tool(
        "inspect_image",
        "Not supported locally",
        &[req("image_id", Ty::Str, "the image's id")],
    ),
    tool(
        "delete_image",
        "Remove an image",
        &[req("image", Ty::Str, "the image's reference or id")],
    ),
    tool("pull_image", "Pull an image by tag", &[TAG, CREDENTIALS]),
    tool(
        "push_image",
        "Not supported locally (no registry)",
        &[TAG, CREDENTIALS, PRIVATE],
    ),
    tool("load", "Not supported locally", &[ARCHIVE]),
    tool(
        "load_image",
        "Not supported locally",
        &[MOUNTS, ARCHIVE, PRIVATE],
    ),
    tool(
        "save_image",
        "Not supported locally",
        &[TAG, MOUNTS, ARCHIVE, PRIVATE],
    ),
    tool(
        "run",
        "Run a container from an image",
        &[
            req("image", Ty::Str, "the image to run"),
            opt(
                "command",
                Ty::Str,
                "the command line (absent: the image's own)",
            ),
            opt(
                "working_dir",
                Ty::Str,
                "the working directory inside the container",
            ),
            ENV,
            opt(
                "ports",
                Ty::ObjList,
                "published ports: objects with `container_port` and `host_port`",
            ),
            opt("name", Ty::Str, "the container's name"),
            opt("mount_path", Ty::Str, "where the room's storage is mounted"),
            opt(
                "mount_subpath",
                Ty::Str,
                "the folder of the storage to mount",
            ),
            opt(
                "role",
                Ty::Str,
                "the role the container joins the room with",
            ),
            opt(
                "participant_name",
                Ty::Str,
                "the name the container joins the room with",
            ),
            CREDENTIALS,
            opt("annotations", Ty::StrMap, "labels kept with the container"),
            opt(
                "mounts",
                Ty::Object,
                "volumes to mount (a local room has none)",
            ),
            opt("template", Ty::Any, "a container template (`none` locally)"),
            opt(
                "writable_root_fs",
                Ty::Bool,
                "let the container write its root filesystem",
            ),
            PRIVATE,
        ],
    ),
    tool(
        "build",
        "Not supported locally",
        &[
            opt("tags", Ty::StrList, "tags for the built image"),
            opt("mount_path", Ty::Str, "where the build context is mounted"),
            opt("context_path", Ty::Str, "the build context's folder"),
            opt("dockerfile_path", Ty::Str, "the Dockerfile's path"),
            opt("optimize_image", Ty::Bool, "optimise the built image"),
            PRIVATE,
            CREDENTIALS,
            opt("builder_name", Ty::Str, "the builder to use"),
            opt("size", Ty::Int, "the size of the uploaded context in bytes"),
        ],
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM),
    tool("list_builds", "Builds (none locally)", &[]),
    tool("cancel_build", "Not supported locally", &[BUILD]),
    tool("delete_build", "Not supported locally", &[BUILD]),
    tool(
        "run_service",
        "Not supported locally",
        &[req("service_id", Ty::Str, "the service to run"), ENV],
    ),
    tool(
        "exec",
        "Not supported locally",
        &[
            REQUEST,
            CONTAINER,
            opt(
                "command",
                Ty::Any,
                "the command: a line, or a list of arguments",
            ),
            opt("tty", Ty::Bool, "run it in a terminal"),
        ],
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM),
    tool(
        "logs",
        "A container's output, optionally followed",
        &[REQUEST, CONTAINER, FOLLOW],
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM),
    tool(
        "get_build_logs",
        "Not supported locally",
        &[REQUEST, BUILD, FOLLOW],
    )
    .takes(STREAM)
    .answers(ANSWERS_STREAM),
    tool(
        "stop_container",
        "Stop (or kill) a container",
        &[
            CONTAINER,
            opt("force", Ty::Bool, "kill it rather than ask it to stop").or("false"),
        ],
    ),
    tool(
        "wait_for_exit",
        "Wait for a container to exit",
        &[CONTAINER],
    ),
    tool("delete_container", "Remove a container", &[CONTAINER]),
    tool(
        "list_containers",
        "The room's containers",
        &[opt("all", Ty::Bool, "include stopped containers").or("false")],
    ),
];

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
