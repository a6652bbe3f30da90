//! `roomdeck room container list|images|run|logs|stop|rm`: the room's containers.

use std::io::Write;

use clap::Subcommand;
use serde_json::{Value, json};

use super::{Output, print_json};
use crate::client::{ClientError, RoomClient};
use crate::protocol::Content;

#[derive(Subcommand, Debug)]
pub enum Container {
    /// The room's containers (running ones unless --all).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Images the engine has.
    Images,
    /// Run a container; prints its id.
    Run {
        #[arg(long)]
        image: String,
        /// Shell command to run in it (sh -c).
        #[arg(long)]
        command: Option<String>,
        /// KEY=VALUE, repeatable.
        #[arg(long = "env", value_name = "KEY=VALUE")]
        env: Vec<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// A container's output.
    Logs {
        #[arg(long)]
        id: String,
        #[arg(short, long)]
        follow: bool,
    },
    /// Stop a container (kill it with --force).
    Stop {
        #[arg(long)]
        id: String,
        #[arg(long)]
        force: bool,
    },
    /// Remove a container.
    Rm {
        #[arg(long)]
        id: String,
    },
}

impl Container {
    pub fn validate(&self) -> Result<(), String> {
        if let Container::Run { env, .. } = self {
            env_pairs(env)?;
        }
        Ok(())
    }
}

fn env_pairs(env: &[String]) -> Result<Vec<Value>, String> {
    env.iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok(json!({"key": k, "value": v})),
            _ => Err(format!("--env {kv}: expected KEY=VALUE")),
        })
        .collect()
}

async fn call(client: &RoomClient, tool: &str, args: Value) -> Result<Value, String> {
    match client.invoke("containers", tool, Content::json(args)).await {
        Ok(Content::Json(v)) => Ok(v),
        Ok(_) => Ok(Value::Null),
        Err(e) => Err(e.to_string()),
    }
}

pub async fn run(client: &RoomClient, cmd: Container, output: Output) -> Result<(), String> {
    match cmd {
        Container::List { all } => {
            let v = call(client, "list_containers", json!({ "all": all })).await?;
            if output == Output::Json {
                print_json(&v);
                return Ok(());
            }
            let list = v["containers"].as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("No containers.");
            } else {
                println!(
                    "{:<14} {:<24} {:<9} {:<16} STATUS",
                    "ID", "IMAGE", "STATE", "STARTED BY"
                );
                for c in list {
                    let id: String = c["id"]
                        .as_str()
                        .unwrap_or_default()
                        .chars()
                        .take(12)
                        .collect();
                    println!(
                        "{id:<14} {:<24} {:<9} {:<16} {}",
                        c["image"].as_str().unwrap_or("-"),
                        c["state"].as_str().unwrap_or("-"),
                        c["started_by"]["name"].as_str().unwrap_or("-"),
                        c["status"].as_str().unwrap_or("")
                    );
                }
            }
        }
        Container::Images => {
            let v = call(client, "list_images", json!({})).await?;
            if output == Output::Json {
                print_json(&v);
                return Ok(());
            }
            let list = v["images"].as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("No images.");
            }
            for i in list {
                println!(
                    "{:<40} {}",
                    i["preferred_ref"].as_str().unwrap_or("<none>"),
                    i["id"].as_str().unwrap_or_default()
                );
            }
        }
        Container::Run {
            image,
            command,
            env,
            name,
        } => {
            let args =
                json!({"image": image, "command": command, "env": env_pairs(&env)?, "name": name});
            let v = call(client, "run", args).await?;
            println!("{}", v["container_id"].as_str().unwrap_or_default());
        }
        Container::Logs { id, follow } => {
            let start = Content::binary(
                json!({"kind": "start", "container_id": id, "follow": follow}),
                Vec::new(),
            );
            let mut stream = client
                .invoke_stream("containers", "logs", Some(start))
                .await
                .map_err(|e| e.to_string())?;
            let mut stdout = std::io::stdout().lock();
            while let Some(chunk) = stream.next().await {
                match chunk.map_err(|e: ClientError| e.to_string())? {
                    Content::Binary { data, .. } => {
                        stdout.write_all(&data).map_err(|e| e.to_string())?;
                    }
                    _ => continue,
                }
            }
            stdout.flush().map_err(|e| e.to_string())?;
        }
        Container::Stop { id, force } => {
            call(
                client,
                "stop_container",
                json!({"container_id": id, "force": force}),
            )
            .await?;
            println!("Stopped {id}");
        }
        Container::Rm { id } => {
            call(client, "delete_container", json!({"container_id": id})).await?;
            println!("Removed {id}");
        }
    }
    Ok(())
}
