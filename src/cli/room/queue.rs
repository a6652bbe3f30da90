//! `roomdeck room queue ...`

use clap::Subcommand;
use serde_json::json;

use super::{Output, parse_object, print_json};
use crate::client::RoomClient;

#[derive(Subcommand, Debug)]
pub enum Queue {
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

impl Queue {
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Queue::Send { json, .. } => parse_object(json, "--json").map(|_| ()),
            _ => Ok(()),
        }
    }
}

pub async fn run(client: &RoomClient, cmd: Queue, output: Output) -> Result<(), String> {
    let err = |e: crate::client::ClientError| e.to_string();
    match cmd {
        Queue::List => {
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
        Queue::Send { queue, json } => {
            client
                .queues()
                .send(&queue, parse_object(&json, "--json")?, true)
                .await
                .map_err(err)?;
        }
        Queue::Receive { queue, wait } => match client
            .queues()
            .receive(&queue, true, wait)
            .await
            .map_err(err)?
        {
            Some(message) => print_json(&message),
            None => return Err(format!("queue {queue} did not contain any messages")),
        },
        Queue::Size { queue } => {
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
        Queue::Drain { queue } => {
            client.queues().drain(&queue).await.map_err(err)?;
        }
    }
    Ok(())
}
