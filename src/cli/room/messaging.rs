//! `roomdeck room messaging ...`

use clap::Subcommand;
use serde_json::{Value, json};

use super::{Output, parse_object, print_json};
use crate::client::{RoomClient, RoomEvent};

#[derive(Subcommand, Debug)]
pub enum Messaging {
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

impl Messaging {
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Messaging::Send { data, .. } | Messaging::Broadcast { data, .. } => {
                parse_object(data, "--data").map(|_| ())
            }
            Messaging::List => Ok(()),
        }
    }
}

pub async fn run(client: &RoomClient, cmd: Messaging, output: Output) -> Result<(), String> {
    let err = |e: crate::client::ClientError| e.to_string();
    match cmd {
        Messaging::List => {
            let mut events = client.subscribe();
            client.messaging().enable().await.map_err(err)?;
            // The participant list arrives as `messaging.enabled` right after enabling.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(3), async {
                while let Ok(e) = events.recv().await {
                    if matches!(e, RoomEvent::MessagingEnabled { .. }) {
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
        Messaging::Send {
            to_participant_id,
            msg_type,
            data,
        } => {
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
        Messaging::Broadcast { msg_type, data } => {
            client
                .messaging()
                .broadcast(&msg_type, parse_object(&data, "--data")?, None)
                .await
                .map_err(err)?;
        }
    }
    Ok(())
}
