//! `roomdeck rooms create|list|get|update|delete|status`: the rooms registry, on the local
//! data dir, or on a server's REST API with `--api-url` (or `MESHAGENT_API_URL`).

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::{Map, Value, json};

use super::http::{Api, encode};
use super::room::{Output, print_json};
use crate::store::rooms::{RoomsDb, iso8601, now_secs};

/// Where `rooms` and `sessions` act: the local data dir, or a server's REST routes.
#[derive(clap::Args, Debug)]
pub struct RestTarget {
    /// A roomdeck server's base URL (http://HOST:PORT); without it, the local data dir.
    #[arg(long, env = "MESHAGENT_API_URL", global = true)]
    pub api_url: Option<String>,
    /// Participant token with the admin grant, for --api-url.
    #[arg(long, env = "MESHAGENT_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Project id in the REST paths (a roomdeck server accepts any).
    #[arg(
        long,
        env = "MESHAGENT_PROJECT_ID",
        default_value = "local",
        global = true
    )]
    pub project_id: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Table, global = true)]
    pub output: Output,
}

#[derive(clap::Args, Debug)]
pub struct RoomsArgs {
    #[command(flatten)]
    pub target: RestTarget,
    #[command(subcommand)]
    pub cmd: RoomsCmd,
}

#[derive(Subcommand, Debug)]
pub enum RoomsCmd {
    /// Create a room.
    Create {
        /// Room name (or --name).
        #[arg(value_name = "NAME")]
        room: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// Succeed (showing the room) if it already exists.
        #[arg(long)]
        if_not_exists: bool,
        /// JSON object of metadata.
        #[arg(long)]
        metadata: Option<String>,
        /// JSON object of string annotations.
        #[arg(long)]
        annotations: Option<String>,
    },
    /// List rooms, sorted by name.
    List {
        /// Only rooms whose name contains this (case-insensitive).
        #[arg(long)]
        filter: Option<String>,
        /// Skip this many rooms.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Show at most this many rooms.
        #[arg(long, default_value_t = 100)]
        count: usize,
    },
    /// Show one room (by name or id).
    Get {
        #[arg(value_name = "NAME")]
        room: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Rename, enable or disable a room.
    Update {
        #[arg(value_name = "NAME")]
        room: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        new_name: Option<String>,
        /// Allow joining the room again.
        #[arg(long, conflicts_with = "disabled")]
        enabled: bool,
        /// Refuse joins (HTTP 423) until enabled again.
        #[arg(long)]
        disabled: bool,
        /// JSON object of string annotations (replaces them).
        #[arg(long)]
        annotations: Option<String>,
        /// JSON object of metadata (replaces it).
        #[arg(long)]
        metadata: Option<String>,
    },
    /// Delete a room with its data and saved services (refused while it is active).
    Delete {
        #[arg(value_name = "NAME")]
        room: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Whether a room is active now (has a session).
    Status {
        #[arg(value_name = "NAME")]
        room: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
}

fn pick(positional: Option<String>, flag: Option<String>) -> Result<String, String> {
    positional
        .or(flag)
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| "a room name is required (NAME or --name)".to_string())
}

fn object_arg(text: &Option<String>, what: &str) -> Result<Option<Map<String, Value>>, String> {
    match text {
        None => Ok(None),
        Some(t) => match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(m)) => Ok(Some(m)),
            Ok(_) => Err(format!("{what} must be a JSON object")),
            Err(e) => Err(format!("{what} is not valid JSON: {e}")),
        },
    }
}

/// Where the registry is: this machine's data dir, or a server.
enum Registry {
    Local { db: RoomsDb, data_dir: PathBuf },
    Remote(Api),
}

impl Registry {
    fn open(data_dir: &Path, args: &RoomsArgs) -> Result<Registry, String> {
        match &args.target.api_url {
            Some(url) if !url.is_empty() => Ok(Registry::Remote(Api::new(
                url,
                args.target.token.clone(),
                &args.target.project_id,
            )?)),
            _ => Ok(Registry::Local {
                db: RoomsDb::open(data_dir).map_err(|e| e.to_string())?,
                data_dir: data_dir.to_path_buf(),
            }),
        }
    }
}

pub fn run(global_data_dir: &Option<PathBuf>, args: RoomsArgs) -> Result<(), String> {
    let data_dir = super::data_dir(global_data_dir);
    let output = args.target.output;
    let registry = Registry::open(&data_dir, &args)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(run_cmd(registry, args.cmd, output))
}

async fn run_cmd(registry: Registry, cmd: RoomsCmd, output: Output) -> Result<(), String> {
    let err = |e: crate::store::rooms::RoomsError| e.to_string();
    match cmd {
        RoomsCmd::Create {
            room,
            name,
            if_not_exists,
            metadata,
            annotations,
        } => {
            let name = pick(room, name)?;
            let metadata = object_arg(&metadata, "--metadata")?;
            let annotations = object_arg(&annotations, "--annotations")?;
            let room = match &registry {
                Registry::Local { db, .. } => db
                    .create(&name, if_not_exists, metadata, annotations)
                    .map_err(err)?
                    .to_json(),
                Registry::Remote(api) => {
                    let body = json!({"name": name, "if_not_exists": if_not_exists,
                        "metadata": metadata, "annotations": annotations, "permissions": null});
                    api.call("POST", "/rooms", Some(&body)).await?
                }
            };
            show_room(&room, output);
        }
        RoomsCmd::List {
            filter,
            offset,
            count,
        } => {
            let rooms: Vec<Value> = match &registry {
                Registry::Local { db, .. } => db
                    .list(filter.as_deref(), offset, count)
                    .map_err(err)?
                    .0
                    .iter()
                    .map(|r| r.to_json())
                    .collect(),
                Registry::Remote(api) => {
                    let mut all = Vec::new();
                    let mut token: Option<String> = None;
                    loop {
                        let mut q = format!("/rooms?page_size={}", (offset + count).clamp(1, 500));
                        if let Some(f) = &filter {
                            q.push_str(&format!("&filter={}", encode(f)));
                        }
                        if let Some(t) = &token {
                            q.push_str(&format!("&continuation_token={}", encode(t)));
                        }
                        let page = api.call("GET", &q, None).await?;
                        all.extend(page["rooms"].as_array().cloned().unwrap_or_default());
                        token = page["continuation_token"].as_str().map(str::to_string);
                        if token.is_none() || all.len() >= offset + count {
                            break;
                        }
                    }
                    all.into_iter().skip(offset).take(count).collect()
                }
            };
            if output == Output::Json {
                print_json(&Value::Array(rooms));
            } else if rooms.is_empty() {
                println!("No rooms found.");
            } else {
                println!("{:<30} {:<32} ENABLED", "ID", "NAME");
                for r in rooms {
                    println!(
                        "{:<30} {:<32} {}",
                        r["id"].as_str().unwrap_or_default(),
                        r["name"].as_str().unwrap_or_default(),
                        r["enabled"].as_bool().unwrap_or(true)
                    );
                }
            }
        }
        RoomsCmd::Get { room, name } => {
            let name = pick(room, name)?;
            let room = match &registry {
                Registry::Local { db, .. } => db.require(&name).map_err(err)?.to_json(),
                Registry::Remote(api) => {
                    api.call("GET", &format!("/rooms/{}", encode(&name)), None)
                        .await?
                }
            };
            show_room(&room, output);
        }
        RoomsCmd::Update {
            room,
            name,
            new_name,
            enabled,
            disabled,
            annotations,
            metadata,
        } => {
            let name = pick(room, name)?;
            let enabled = match (enabled, disabled) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let annotations = object_arg(&annotations, "--annotations")?;
            let metadata = object_arg(&metadata, "--metadata")?;
            if new_name.is_none()
                && enabled.is_none()
                && annotations.is_none()
                && metadata.is_none()
            {
                return Err(
                    "nothing to change: give --new-name, --enabled, --disabled, --annotations or --metadata"
                        .into(),
                );
            }
            let room = match &registry {
                Registry::Local { db, data_dir } => db
                    .update(
                        data_dir,
                        &name,
                        new_name.as_deref(),
                        metadata,
                        annotations,
                        enabled,
                    )
                    .map_err(err)?
                    .to_json(),
                Registry::Remote(api) => {
                    let current = api
                        .call("GET", &format!("/rooms/{}", encode(&name)), None)
                        .await?;
                    let id = current["id"].as_str().unwrap_or(&name).to_string();
                    let mut body = json!({"name": new_name.clone().unwrap_or_else(|| current["name"].as_str().unwrap_or(&name).to_string())});
                    if let Some(e) = enabled {
                        body["enabled"] = json!(e);
                    }
                    if let Some(a) = annotations {
                        body["annotations"] = Value::Object(a);
                    }
                    if let Some(m) = metadata {
                        body["metadata"] = Value::Object(m);
                    }
                    api.call("PUT", &format!("/rooms/{}", encode(&id)), Some(&body))
                        .await?
                }
            };
            show_room(&room, output);
        }
        RoomsCmd::Delete { room, name } => {
            let name = pick(room, name)?;
            match &registry {
                Registry::Local { db, data_dir } => {
                    db.delete(data_dir, &name).map_err(err)?;
                }
                Registry::Remote(api) => {
                    let current = api
                        .call("GET", &format!("/rooms/{}", encode(&name)), None)
                        .await?;
                    let id = current["id"].as_str().unwrap_or(&name).to_string();
                    api.call("DELETE", &format!("/rooms/{}", encode(&id)), None)
                        .await?;
                }
            }
            if output == Output::Json {
                print_json(&json!({"deleted": name}));
            } else {
                println!("Room {name} deleted.");
            }
        }
        RoomsCmd::Status { room, name } => {
            let name = pick(room, name)?;
            let status = match &registry {
                Registry::Local { db, .. } => {
                    let r = db.require(&name).map_err(err)?;
                    match db.sessions(Some(&r.name), true, 1).map_err(err)?.first() {
                        Some(s) => {
                            json!({"status": "Allocated", "allocated_at": iso8601(s.started_at),
                            "running_for_seconds": (now_secs() - s.started_at).max(0.0) as i64,
                            "session_id": s.id})
                        }
                        None => json!({"status": "Unallocated"}),
                    }
                }
                Registry::Remote(api) => {
                    api.call("GET", &format!("/rooms/{}/status", encode(&name)), None)
                        .await?
                }
            };
            if output == Output::Json {
                print_json(&status);
            } else if status["status"] == "Allocated" {
                println!(
                    "{name}: active since {} ({} s)",
                    status["allocated_at"].as_str().unwrap_or("?"),
                    status["running_for_seconds"]
                );
            } else {
                println!("{name}: idle");
            }
        }
    }
    Ok(())
}

fn show_room(room: &Value, output: Output) {
    if output == Output::Json {
        print_json(room);
        return;
    }
    println!("id:          {}", room["id"].as_str().unwrap_or_default());
    println!("name:        {}", room["name"].as_str().unwrap_or_default());
    println!("enabled:     {}", room["enabled"].as_bool().unwrap_or(true));
    println!("metadata:    {}", room["metadata"]);
    println!("annotations: {}", room["annotations"]);
}
