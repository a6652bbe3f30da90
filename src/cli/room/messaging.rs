//! `roomdeck room messaging ...`

use clap::Subcommand;
use serde_json::{Value, json};

use super::{Output, parse_object, print_json};
use crate::client::{MessagingStream, RoomClient, RoomEvent, StreamEvent};

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
    /// Open a stream to one participant: each line of stdin goes as a message (a JSON
    /// object as is, other text as {"text": line}); what comes back is printed, one line each.
    Stream {
        #[arg(long)]
        to_participant_id: String,
        #[arg(long = "type", default_value = "chat")]
        msg_type: String,
        /// The opening message the participant is asked with, as a JSON object.
        #[arg(long, default_value = "{}")]
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
            Messaging::Send { data, .. }
            | Messaging::Broadcast { data, .. }
            | Messaging::Stream { data, .. } => parse_object(data, "--data").map(|_| ()),
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
        Messaging::Stream {
            to_participant_id,
            msg_type,
            data,
        } => {
            let first = parse_object(&data, "--data")?;
            let stream = client
                .messaging()
                .stream(&to_participant_id, &msg_type, first, None)
                .await
                .map_err(err)?;
            relay_stdin(stream, &msg_type, output).await?;
        }
    }
    Ok(())
}

/// Sends stdin's lines on the stream and prints what arrives, until stdin ends (the stream
/// is closed) or the other side closes it.
async fn relay_stdin(
    mut stream: MessagingStream,
    msg_type: &str,
    output: Output,
) -> Result<(), String> {
    // stdin read on a thread of its own (tokio's stdin is not built in), a line at a time.
    let (tx, mut lines) = tokio::sync::mpsc::channel::<std::io::Result<String>>(16);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            if tx.blocking_send(line).is_err() {
                return;
            }
        }
    });
    eprintln!(
        "stream {} to {} accepted; one message per line, end with EOF",
        stream.stream_id, stream.remote
    );
    let mut stdin_open = true;
    loop {
        tokio::select! {
            line = lines.recv(), if stdin_open => match line.transpose() {
                Ok(Some(line)) => {
                    let message = match serde_json::from_str::<Value>(&line) {
                        Ok(v @ Value::Object(_)) => v,
                        _ => json!({ "text": line }),
                    };
                    stream.send(msg_type, message, None).await.map_err(|e| e.to_string())?;
                }
                Ok(None) => {
                    stdin_open = false;
                    stream.close().await;
                }
                Err(e) => return Err(format!("reading stdin: {e}")),
            },
            event = stream.next() => match event {
                Some(Ok(StreamEvent::Message { msg_type, message, .. })) => {
                    if output == Output::Json {
                        print_json(&json!({"type": msg_type, "message": message}));
                    } else {
                        println!("{msg_type}: {message}");
                    }
                }
                Some(Ok(StreamEvent::Closed { reason, message })) => {
                    return Err(format!("the stream was closed ({reason}): {}", message.unwrap_or_default()));
                }
                Some(Err(e)) => return Err(e.to_string()),
                None => {
                    if stdin_open {
                        eprintln!("{} closed the stream", stream.remote);
                    }
                    return Ok(());
                }
            },
        }
    }
}
