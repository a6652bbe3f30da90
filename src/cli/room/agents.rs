//! `roomdeck room agents list-toolkits|invoke`: the room's toolkits and calling their tools.

use clap::Subcommand;
use serde_json::Value;

use super::{Output, parse_object, print_json};
use crate::client::RoomClient;
use crate::protocol::Content;

#[derive(Subcommand, Debug)]
pub enum Agents {
    /// Toolkits of the room (built in and registered by participants) with their tools.
    ListToolkits,
    /// Call one tool with JSON arguments and print its answer.
    Invoke {
        #[arg(long)]
        toolkit: String,
        #[arg(long)]
        tool: String,
        /// The arguments as a JSON object.
        #[arg(long, default_value = "{}")]
        arguments: String,
    },
}

impl Agents {
    pub fn validate(&self) -> Result<(), String> {
        if let Agents::Invoke { arguments, .. } = self {
            parse_object(arguments, "--arguments")?;
        }
        Ok(())
    }
}

pub async fn run(client: &RoomClient, cmd: Agents, output: Output) -> Result<(), String> {
    match cmd {
        Agents::ListToolkits => {
            let kits = client.list_toolkits().await.map_err(|e| e.to_string())?;
            if output == Output::Json {
                print_json(&kits);
            } else {
                print_toolkits(&kits);
            }
        }
        Agents::Invoke {
            toolkit,
            tool,
            arguments,
        } => {
            let args = parse_object(&arguments, "--arguments")?;
            let answer = client
                .invoke(&toolkit, &tool, Content::json(args))
                .await
                .map_err(|e| e.to_string())?;
            print_answer(answer);
        }
    }
    Ok(())
}

fn print_toolkits(kits: &Value) {
    let Some(map) = kits["tools"].as_object().filter(|m| !m.is_empty()) else {
        println!("No toolkits.");
        return;
    };
    println!("{:<14} {:<22} DESCRIPTION", "TOOLKIT", "TOOL");
    for (kit, spec) in map {
        let host = spec["participant_id"]
            .as_str()
            .map(|p| format!(" (hosted by {p})"))
            .unwrap_or_default();
        let tools = spec["tools"].as_object().cloned().unwrap_or_default();
        if tools.is_empty() {
            println!("{kit:<14} {:<22} {host}", "-");
        }
        for (tool, t) in tools {
            let description = t["description"].as_str().unwrap_or_default();
            println!("{kit:<14} {tool:<22} {description}{host}");
        }
    }
}

fn print_answer(answer: Content) {
    match answer {
        Content::Json(v) => print_json(&v),
        Content::Text(t) => println!("{t}"),
        Content::Empty => {}
        other => println!("({} answer, {} bytes)", other.kind(), other.data().len()),
    }
}
