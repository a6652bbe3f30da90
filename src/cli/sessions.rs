//! `roomdeck sessions list|logs|export|replay`: past and active sessions, their developer
//! logs, and their recorded timelines (`sessions_record.rs`).

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use super::http::{Api, encode};
use super::room::{Output, print_json};
use crate::client::DevLogEvent;
use crate::store::rooms::{RoomsDb, iso8601};

#[derive(clap::Args, Debug)]
pub struct SessionsArgs {
    #[command(flatten)]
    pub target: super::rooms::RestTarget,
    #[command(subcommand)]
    pub cmd: SessionsCmd,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// `time LEVEL body` for otel.log events, `type data` for others.
    Plain,
    /// One JSON object per event.
    Json,
}

#[derive(Subcommand, Debug)]
pub enum SessionsCmd {
    /// Sessions, newest first.
    List {
        /// Only this room's sessions.
        #[arg(long)]
        room: Option<String>,
        /// Show at most this many.
        #[arg(long, default_value_t = 25)]
        limit: usize,
    },
    /// The developer log events a session kept.
    Logs {
        session: String,
        #[arg(long, value_enum, default_value_t = LogFormat::Plain)]
        format: LogFormat,
    },
    /// A recorded session's timeline as JSON Lines, one event per line (a room's session,
    /// or one `roomdeck inspect` recorded).
    Export {
        /// The session's id (or a unique start of it).
        session: String,
        /// Write to this file instead of stdout.
        #[arg(long = "out", visible_alias = "file", value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Sends a recorded session's messages and queue items into another room, at their
    /// original pacing, to reproduce what happened.
    Replay {
        /// The session's id (or a unique start of it).
        session: String,
        /// The room to send them into (a local room, or the room at --url).
        #[arg(long)]
        to: String,
        /// Pacing: 2 is twice as fast as recorded, 0 as fast as possible.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// A remote room server (ws://HOST, or a room URL); needs --token.
        #[arg(long, env = "MESHAGENT_ROOM_URL")]
        url: Option<String>,
        /// The participant name the replay joins the local room as.
        #[arg(long, default_value = "replay")]
        name: String,
    },
}

pub fn run(global_data_dir: &Option<PathBuf>, args: SessionsArgs) -> Result<(), String> {
    let remote = match &args.target.api_url {
        Some(u) if !u.is_empty() => Some(Api::new(
            u,
            args.target.token.clone(),
            &args.target.project_id,
        )?),
        _ => None,
    };
    let data_dir = super::data_dir(global_data_dir);
    let local = || RoomsDb::open(&data_dir).map_err(|e| e.to_string());
    // Recordings are read from the local data dir (--api-url is for list and logs).
    match args.cmd {
        SessionsCmd::Export { session, out } => {
            return super::sessions_record::run_export(&data_dir, &session, out);
        }
        SessionsCmd::Replay {
            session,
            to,
            speed,
            url,
            name,
        } => {
            return super::sessions_record::run_replay(
                &data_dir,
                &session,
                &to,
                speed,
                url,
                args.target.token.clone(),
                &name,
            );
        }
        _ => {}
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let recorded: std::collections::HashMap<String, crate::timeline::SessionInfo> =
        if remote.is_none() {
            crate::timeline::all_sessions(&data_dir)
                .into_iter()
                .map(|s| (s.meta.session_id.clone(), s))
                .collect()
        } else {
            Default::default()
        };
    match args.cmd {
        SessionsCmd::Export { .. } | SessionsCmd::Replay { .. } => unreachable!("handled above"),
        SessionsCmd::List { room, limit } => {
            let sessions: Vec<Value> = match &remote {
                Some(api) => {
                    let path = match &room {
                        Some(r) => format!("/rooms/{}/sessions?limit={limit}", encode(r)),
                        None => format!("/sessions?limit={limit}"),
                    };
                    let v = runtime.block_on(api.call("GET", &path, None))?;
                    v["sessions"].as_array().cloned().unwrap_or_default()
                }
                None => local()?
                    .sessions(room.as_deref(), false, limit)
                    .map_err(|e| e.to_string())?
                    .iter()
                    .map(|s| {
                        let mut v = s.to_json();
                        if let Some(r) = recorded.get(&s.id) {
                            v["recording"] = json!({"bytes": r.bytes, "dir": r.dir});
                        }
                        v["participant_names"] = json!(
                            s.participants
                                .iter()
                                .map(|p| p.name.clone())
                                .collect::<Vec<_>>()
                        );
                        v
                    })
                    .collect(),
            };
            if args.target.output == Output::Json {
                print_json(&Value::Array(sessions));
            } else if sessions.is_empty() {
                println!("No sessions.");
            } else {
                println!(
                    "{:<34} {:<20} {:<25} {:<25} {:<10} PARTICIPANTS",
                    "ID", "ROOM", "STARTED", "ENDED", "RECORDED"
                );
                for s in sessions {
                    let ended = if s["is_active"].as_bool() == Some(true) {
                        "(active)".to_string()
                    } else {
                        s["ended_at"].as_str().unwrap_or("-").to_string()
                    };
                    let who = match s["participant_names"].as_array() {
                        Some(names) => names
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", "),
                        None => s["participants"].to_string(),
                    };
                    let recording = s["recording"]["bytes"]
                        .as_u64()
                        .map_or("-".to_string(), super::sessions_record::size_text);
                    println!(
                        "{:<34} {:<20} {:<25} {:<25} {:<10} {}",
                        s["id"].as_str().unwrap_or_default(),
                        s["room_name"].as_str().unwrap_or_default(),
                        s["created_at"].as_str().unwrap_or_default(),
                        ended,
                        recording,
                        who
                    );
                }
            }
        }
        SessionsCmd::Logs { session, format } => {
            let events: Vec<(String, String, Value)> = match &remote {
                Some(api) => {
                    let v = runtime.block_on(api.call(
                        "GET",
                        &format!("/sessions/{}/events", encode(&session)),
                        None,
                    ))?;
                    v["events"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|e| {
                            (
                                e["created_at"].as_str().unwrap_or_default().to_string(),
                                e["type"].as_str().unwrap_or_default().to_string(),
                                e["data"].clone(),
                            )
                        })
                        .collect()
                }
                None => {
                    let db = local()?;
                    if db.session(&session).map_err(|e| e.to_string())?.is_none() {
                        return Err(format!(
                            "no session {session:?} (see `roomdeck sessions list`)"
                        ));
                    }
                    db.session_logs(&session)
                        .map_err(|e| e.to_string())?
                        .into_iter()
                        .map(|(at, kind, data)| (iso8601(at), kind, data))
                        .collect()
                }
            };
            let use_json = format == LogFormat::Json || args.target.output == Output::Json;
            // Written with errors checked: `| head` closing the pipe just ends the output.
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            for (at, kind, data) in events {
                let lines = if use_json {
                    vec![json!({"time": at, "type": kind, "data": data}).to_string()]
                } else {
                    crate::client::otel_lines(&DevLogEvent {
                        log_type: kind,
                        data,
                    })
                };
                for line in lines {
                    if writeln!(out, "{line}").is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
    Ok(())
}
