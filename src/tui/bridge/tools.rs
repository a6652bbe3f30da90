//! The toolkits view's side of the net task: `room.list_toolkits` and unary tool calls.

use std::time::Instant;

use serde_json::Value;
use tokio::sync::mpsc;

use crate::client::RoomClient;
use crate::protocol::Content;
use crate::tui::dbbridge::message;
use crate::tui::net::{NetEvent, ToolOutcome, ToolsCommand, ToolsEvent, tools::toolkits_from};

pub(super) fn describe(cmd: &ToolsCommand) -> String {
    match cmd {
        ToolsCommand::List => "listing toolkits".into(),
        ToolsCommand::Invoke { toolkit, tool, .. } => format!("calling {toolkit}.{tool}"),
    }
}

pub(super) fn spawn(client: &RoomClient, cmd: ToolsCommand, ev: &mpsc::UnboundedSender<NetEvent>) {
    let (c, ev) = (client.clone(), ev.clone());
    tokio::spawn(async move {
        let event = match cmd {
            ToolsCommand::List => match c.list_toolkits().await {
                Ok(answer) => NetEvent::Tools(ToolsEvent::Listed(toolkits_from(&answer))),
                Err(e) => NetEvent::Failed {
                    what: "listing toolkits".into(),
                    error: message(e),
                },
            },
            ToolsCommand::Invoke {
                id,
                toolkit,
                tool,
                arguments,
            } => {
                let started = Instant::now();
                let answer = c.invoke(&toolkit, &tool, Content::json(arguments)).await;
                NetEvent::Tools(ToolsEvent::Answered {
                    id,
                    outcome: match answer {
                        Ok(content) => outcome(content),
                        Err(e) => ToolOutcome::Error(e.to_string()),
                    },
                    elapsed_ms: started.elapsed().as_millis() as u64,
                })
            }
        };
        let _ = ev.send(event);
    });
}

fn outcome(content: Content) -> ToolOutcome {
    match content {
        Content::Json(v) => ToolOutcome::Json(v),
        Content::Text(t) => ToolOutcome::Text(t),
        Content::Empty => ToolOutcome::Empty,
        Content::Binary { headers, data } => ToolOutcome::Bytes {
            headers: Value::Object(headers),
            size: data.len(),
        },
        Content::File {
            name,
            mime_type,
            data,
        } => ToolOutcome::Bytes {
            headers: serde_json::json!({"name": name, "mime_type": mime_type}),
            size: data.len(),
        },
        Content::Link { name, url } => ToolOutcome::Text(format!("{name}: {url}")),
        Content::Raw { outputs } => ToolOutcome::Json(Value::Array(outputs)),
        Content::Error { text, .. } => ToolOutcome::Error(text),
        Content::Control { .. } => ToolOutcome::Text(
            "the tool answered with a stream, which this view does not follow \
             (use an SDK, or `roomdeck room` where it has a command for it)"
                .into(),
        ),
    }
}
