//! `roomdeck room <api> ...`: a room's APIs from scripts.

mod agents;
mod container;
mod database;
mod developer;
mod memory;
mod messaging;
mod queue;
mod secret;
mod service;
mod storage;
mod sync;

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use serde_json::Value;

use super::local::{LocalRoom, local_room_for_command};
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
    Messaging(messaging::Messaging),
    /// Durable queues.
    #[command(subcommand)]
    Queue(queue::Queue),
    /// The room's running services.
    #[command(subcommand)]
    Service(service::Service),
    /// The room's files (room://PATH).
    #[command(subcommand)]
    Storage(storage::Storage),
    /// Secrets kept encrypted in the room.
    #[command(subcommand)]
    Secret(secret::Secret),
    /// The room's tables: list, inspect, create, insert, search, SQL.
    #[command(subcommand)]
    Database(database::Database),
    /// Toolkits of the room and calling their tools.
    #[command(subcommand)]
    Agents(agents::Agents),
    /// The room's containers (podman or docker on the server's machine).
    #[command(subcommand)]
    Container(container::Container),
    /// The room's memories: ingest, recall, query (a Cypher subset), upsert.
    #[command(subcommand)]
    Memory(memory::Memory),
    /// Shared documents: list, get, inspect, create, update --patch.
    #[command(subcommand)]
    Sync(sync::Sync),
    /// Follow the room's developer logs.
    Developer {
        #[arg(long, value_enum, default_value_t = developer::LogFormat::Plain)]
        format: developer::LogFormat,
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

pub(crate) fn parse_object(text: &str, what: &str) -> Result<Value, String> {
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
        Api::Messaging(cmd) => cmd.validate()?,
        Api::Queue(cmd) => cmd.validate()?,
        Api::Database(cmd) => cmd.validate()?,
        Api::Storage(cmd) => cmd.validate()?,
        Api::Agents(cmd) => cmd.validate()?,
        Api::Container(cmd) => cmd.validate()?,
        Api::Memory(cmd) => cmd.validate()?,
        Api::Sync(cmd) => cmd.validate()?,
        Api::Developer { .. } | Api::Service(_) | Api::Secret(_) => {}
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
            None => {
                local_room_for_command(&super::data_dir(global_data_dir), &args.room, &args.name)
                    .await?
            }
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

pub(crate) fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

async fn run_api(client: &RoomClient, api: Api, output: Output) -> Result<(), String> {
    match api {
        Api::Messaging(cmd) => messaging::run(client, cmd, output).await?,
        Api::Queue(cmd) => queue::run(client, cmd, output).await?,
        Api::Storage(cmd) => storage::run(client, cmd, output).await?,
        Api::Secret(cmd) => secret::run(client, cmd, output).await?,
        Api::Database(cmd) => database::run(client, cmd, output).await?,
        Api::Developer { format } => developer::follow(client, format).await?,
        Api::Service(cmd) => service::run(client, cmd, output).await?,
        Api::Agents(cmd) => agents::run(client, cmd, output).await?,
        Api::Container(cmd) => container::run(client, cmd, output).await?,
        Api::Memory(cmd) => memory::run(client, cmd, output).await?,
        Api::Sync(cmd) => sync::run(client, cmd, output).await?,
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
