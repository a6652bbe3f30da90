//! `roomdeck room secret ...`: the room's secrets (needs a token with the `secrets` grant).

use clap::Subcommand;
use serde_json::json;

use super::{Output, print_json};
use crate::client::RoomClient;

#[derive(Subcommand, Debug)]
pub enum Secret {
    /// Secrets with their names and types (never their values).
    List,
    /// Store a secret; the value comes from --value or standard input.
    Set {
        name: String,
        #[arg(long)]
        value: Option<String>,
        #[arg(long = "type", default_value = "text/plain")]
        secret_type: String,
    },
    /// Print a secret's value.
    Get { name: String },
    /// Remove a secret.
    Rm { name: String },
}

pub async fn run(client: &RoomClient, cmd: Secret, output: Output) -> Result<(), String> {
    let secrets = client.secrets();
    let err = |e: crate::client::ClientError| e.to_string();
    match cmd {
        Secret::List => {
            let list = secrets.list().await.map_err(err)?;
            if output == Output::Json {
                print_json(&json!({ "secrets": list }));
            } else if list.is_empty() {
                println!("No secrets.");
            } else {
                println!("{:<34} {:<24} TYPE", "ID", "NAME");
                for s in list {
                    println!("{:<34} {:<24} {}", s.id, s.name, s.secret_type);
                }
            }
        }
        Secret::Set {
            name,
            value,
            secret_type,
        } => {
            let value = match value {
                Some(v) => v.into_bytes(),
                None => {
                    let mut buf = Vec::new();
                    std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                        .map_err(|e| format!("reading the value from stdin: {e}"))?;
                    buf
                }
            };
            secrets.set(&name, &secret_type, value).await.map_err(err)?;
        }
        Secret::Get { name } => match secrets.get(&name).await.map_err(err)? {
            Some(v) => {
                use std::io::Write;
                std::io::stdout().write_all(&v).map_err(|e| e.to_string())?;
            }
            None => return Err(format!("no secret named {name}")),
        },
        Secret::Rm { name } => {
            let list = secrets.list().await.map_err(err)?;
            let found = list
                .iter()
                .find(|s| s.name == name)
                .ok_or(format!("no secret named {name}"))?;
            secrets.delete(&found.id).await.map_err(err)?;
        }
    }
    Ok(())
}
