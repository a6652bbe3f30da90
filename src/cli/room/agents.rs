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
            let stream = if t["input_spec"]["stream"] == true {
                " (streamed)"
            } else {
                ""
            };
            println!("{kit:<14} {tool:<22} {description}{stream}{host}");
            let schema = t
                .pointer("/input_spec/schema")
                .or_else(|| t.get("input_schema"));
            for line in argument_lines(schema) {
                println!("{:<37} {line}", "");
            }
        }
    }
}

/// One line per argument of a tool's JSON Schema: `name: type, required` and what it means.
/// (`kind`, the marker of a stream's start chunk, is left out.)
fn argument_lines(schema: Option<&Value>) -> Vec<String> {
    let Some(props) = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    else {
        return vec!["arguments: not described".into()];
    };
    let required: Vec<&str> = schema
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut props: Vec<_> = props.iter().collect();
    // Required arguments first, each group by name.
    props.sort_by_key(|(name, _)| !required.contains(&name.as_str()));
    props
        .into_iter()
        .filter(|(name, _)| name.as_str() != "kind")
        .map(|(name, p)| {
            let ty = match p.get("type") {
                Some(Value::String(t)) => t.clone(),
                Some(Value::Array(ts)) => ts
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|t| *t != "null")
                    .collect::<Vec<_>>()
                    .join("|"),
                _ => "any".into(),
            };
            let need = if required.contains(&name.as_str()) {
                "required"
            } else {
                "optional"
            };
            let doc = p["description"].as_str().unwrap_or_default();
            format!("{name}: {ty}, {need}  {doc}")
        })
        .collect()
}

fn print_answer(answer: Content) {
    match answer {
        Content::Json(v) => print_json(&v),
        Content::Text(t) => println!("{t}"),
        Content::Empty => {}
        other => println!("({} answer, {} bytes)", other.kind(), other.data().len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arguments_show_name_type_and_whether_required() {
        let schema = json!({"type": "object", "required": ["name"], "properties": {
            "kind": {"type": ["string", "null"], "description": "start"},
            "name": {"type": "string", "description": "the queue"},
            "wait": {"type": ["boolean", "null"], "description": "block"},
            "x": {"description": "anything"}}});
        assert_eq!(
            argument_lines(Some(&schema)),
            [
                "name: string, required  the queue",
                "wait: boolean, optional  block",
                "x: any, optional  anything",
            ]
        );
        assert_eq!(argument_lines(None), ["arguments: not described"]);
    }
}
