//! `roomdeck room <api> ...`: a room's APIs from scripts.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use super::local::{LocalRoom, local_room};
use crate::client::RoomClient;

#[derive(clap::Args, Debug)]
pub struct RoomArgs {
    /// Room name.
    #[arg(long, env = "MESHAGENT_ROOM", default_value = "default")]
    room: String,
    /// Room URL (ws://HOST/rooms/NAME, or a base URL to which /rooms/NAME is added).
    #[arg(long, env = "MESHAGENT_ROOM_URL")]
    url: Option<String>,
    /// API base URL (http(s)://HOST), used when --url is not given.
    #[arg(long, env = "MESHAGENT_API_URL")]
    api_url: Option<String>,
    /// Participant token (required with a URL).
    #[arg(long, env = "MESHAGENT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Participant name for the local room.
    #[arg(long, default_value = "cli")]
    name: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Table)]
    output: Output,
    #[command(subcommand)]
    api: Api,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Table,
    Json,
}

#[derive(Subcommand, Debug)]
enum Api {
    /// Messages and presence.
    #[command(subcommand)]
    Messaging(Messaging),
    /// Durable queues.
    #[command(subcommand)]
    Queue(Queue),
    /// Follow the room's developer logs.
    Developer {
        #[arg(long, value_enum, default_value_t = LogFormat::Plain)]
        format: LogFormat,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    Plain,
    Json,
}

#[derive(Subcommand, Debug)]
enum Messaging {
    /// Participants with messaging enabled.
    List,
    /// Send a message to one participant.
    Send {
        #[arg(long)]
        to_participant_id: String,
        #[arg(long = "type", default_value = "chat")]
        msg_type: String,
        /// Message as a JSON object.
        #[arg(long)]
        data: String,
    },
    /// Send a message to every participant.
    Broadcast {
        #[arg(long = "type", default_value = "chat.broadcast")]
        msg_type: String,
        /// Message as a JSON object.
        #[arg(long)]
        data: String,
    },
}

#[derive(Subcommand, Debug)]
enum Queue {
    /// Queues and their sizes.
    List,
    /// Append a JSON message.
    Send {
        #[arg(long)]
        queue: String,
        #[arg(long)]
        json: String,
    },
    /// Take the oldest message (exit 1 when empty).
    Receive {
        #[arg(long)]
        queue: String,
        /// Wait until a message arrives.
        #[arg(long)]
        wait: bool,
    },
    /// Number of messages in a queue.
    Size {
        #[arg(long)]
        queue: String,
    },
    /// Remove every message of a queue.
    Drain {
        #[arg(long)]
        queue: String,
    },
}

/// The room URL for `room` from a URL flag or an API base URL.
pub(crate) fn room_url(url: &str, room: &str) -> String {
    let url = url.trim_end_matches('/');
    let url = if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        url.to_string()
    };
    if url.contains("/rooms/") {
        url
    } else {
        format!("{url}/rooms/{room}")
    }
}

fn parse_object(text: &str, what: &str) -> Result<Value, String> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| format!("{what} is not valid JSON: {e}"))?;
    if !v.is_object() {
        return Err(format!("{what} must be a JSON object"));
    }
    Ok(v)
}

pub fn run(global_data_dir: &Option<PathBuf>, args: RoomArgs) -> Result<(), String> {
    // Validate local input before touching the network.
    match &args.api {
        Api::Messaging(Messaging::Send { data, .. } | Messaging::Broadcast { data, .. }) => {
            parse_object(data, "--data")?;
        }
        Api::Queue(Queue::Send { json, .. }) => {
            parse_object(json, "--json")?;
        }
        _ => {}
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let base = args.url.clone().or_else(|| args.api_url.clone());
        let local = match base {
            Some(base) => {
                let token = args
                    .token
                    .clone()
                    .ok_or("a token is required with a room URL (--token or MESHAGENT_TOKEN)")?;
                LocalRoom {
                    url: room_url(&base, &args.room),
                    token,
                    server: None,
                }
            }
            None => local_room(&super::data_dir(global_data_dir), &args.room, &args.name).await?,
        };
        let client = RoomClient::connect(&local.url, &local.token)
            .await
            .map_err(|e| format!("{}: {e}", local.url))?;
        let result = run_api(&client, args.api, args.output).await;
        client.close().await;
        if let Some(server) = local.server {
            let _ = server.shutdown().await;
        }
        result
    })
}

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

async fn run_api(client: &RoomClient, api: Api, output: Output) -> Result<(), String> {
    let err = |e: crate::client::ClientError| e.to_string();
    match api {
        Api::Messaging(Messaging::List) => {
            let mut events = client.subscribe();
            client.messaging().enable().await.map_err(err)?;
            // The participant list arrives as `messaging.enabled` right after enabling.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(3), async {
                while let Ok(e) = events.recv().await {
                    if matches!(e, crate::client::RoomEvent::MessagingEnabled { .. }) {
                        break;
                    }
                }
            })
            .await;
            let list: Vec<Value> = client
                .participants()
                .iter()
                .map(|p| json!({"id": p.id, "role": p.role, "attributes": p.attributes}))
                .collect();
            if output == Output::Json {
                print_json(&Value::Array(list));
            } else {
                println!("{:<34} {:<8} NAME", "ID", "ROLE");
                for p in client.participants() {
                    println!("{:<34} {:<8} {}", p.id, p.role, p.name().unwrap_or(""));
                }
            }
        }
        Api::Messaging(Messaging::Send {
            to_participant_id,
            msg_type,
            data,
        }) => {
            client
                .messaging()
                .send(
                    &to_participant_id,
                    &msg_type,
                    parse_object(&data, "--data")?,
                    None,
                )
                .await
                .map_err(err)?;
        }
        Api::Messaging(Messaging::Broadcast { msg_type, data }) => {
            client
                .messaging()
                .broadcast(&msg_type, parse_object(&data, "--data")?, None)
                .await
                .map_err(err)?;
        }
        Api::Queue(Queue::List) => {
            let queues = client.queues().list().await.map_err(err)?;
            if output == Output::Json {
                print_json(&json!({ "queues": queues }));
            } else if queues.is_empty() {
                println!("No queues.");
            } else {
                println!("{:<32} SIZE", "NAME");
                for q in queues {
                    println!("{:<32} {}", q.name, q.size);
                }
            }
        }
        Api::Queue(Queue::Send { queue, json }) => {
            client
                .queues()
                .send(&queue, parse_object(&json, "--json")?, true)
                .await
                .map_err(err)?;
        }
        Api::Queue(Queue::Receive { queue, wait }) => match client
            .queues()
            .receive(&queue, true, wait)
            .await
            .map_err(err)?
        {
            Some(message) => print_json(&message),
            None => return Err(format!("queue {queue} did not contain any messages")),
        },
        Api::Queue(Queue::Size { queue }) => {
            let queues = client.queues().list().await.map_err(err)?;
            let size = queues
                .iter()
                .find(|q| q.name == queue)
                .map(|q| q.size)
                .ok_or(format!("no queue named {queue}"))?;
            if output == Output::Json {
                print_json(&json!({"name": queue, "size": size}));
            } else {
                println!("{size}");
            }
        }
        Api::Queue(Queue::Drain { queue }) => {
            client.queues().drain(&queue).await.map_err(err)?;
        }
        Api::Developer { format } => follow_logs(client, format).await?,
    }
    Ok(())
}

async fn follow_logs(client: &RoomClient, format: LogFormat) -> Result<(), String> {
    let mut logs = client.developer().logs().await.map_err(|e| e.to_string())?;
    loop {
        let event = tokio::select! {
            e = logs.next() => e,
            _ = tokio::signal::ctrl_c() => break,
        };
        let Some(event) = event else { break };
        let event = event.map_err(|e| e.to_string())?;
        match format {
            LogFormat::Json => println!("{}", json!({"type": event.log_type, "data": event.data})),
            LogFormat::Plain => {
                for line in crate::client::otel_lines(&event) {
                    println!("{line}");
                }
            }
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_urls_from_bases_and_full_urls() {
        assert_eq!(
            room_url("http://127.0.0.1:8765", "r"),
            "ws://127.0.0.1:8765/rooms/r"
        );
        assert_eq!(
            room_url("https://api.example.com/", "r"),
            "wss://api.example.com/rooms/r"
        );
        assert_eq!(room_url("ws://h:1/rooms/x", "r"), "ws://h:1/rooms/x");
    }
}
