//! `roomdeck room developer`: follows the room's developer logs.

use clap::ValueEnum;
use serde_json::json;

use crate::client::RoomClient;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// `time LEVEL body` for otel.log events, `type data` for others.
    Plain,
    /// One JSON object per event.
    Json,
}

pub async fn follow(client: &RoomClient, format: LogFormat) -> Result<(), String> {
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
