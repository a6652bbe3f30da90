//! The net task: owns the `RoomClient`, carries out `NetCommand`s, turns room pushes into
//! `NetEvent`s, and reconnects with backoff. The only code of the console that touches the client.

mod docs;
mod files;
mod tools;

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::dbbridge;
use super::net::{
    ChatMessage, ConnState, DocsCommand, ExportSource, NetCommand, NetEvent, PeerInfo,
    QueueSummary, ServiceSummary, SqlEvent, log_lines, message_text, now_ms,
};
use super::{RoomGuard, Target, TuiOptions};
use crate::client::services::PortState;
use crate::client::{ClientError, Participant, RoomClient, RoomEvent, ServiceInfo};

/// How often queue sizes (and services) are read while their tab is on screen.
const QUEUE_POLL: Duration = Duration::from_secs(2);
const MAX_BACKOFF_SECS: u64 = 30;

/// Where the console connects: a URL and token, and what keeps a local room's server up.
pub struct RoomTarget {
    url: String,
    token: String,
    name: String,
    location: String,
    guard: tokio::sync::Mutex<Option<Box<dyn RoomGuard>>>,
}

impl RoomTarget {
    /// A local room is opened by the CLI's `LocalRooms`; a remote one is joined as given.
    pub async fn prepare(opts: &TuiOptions) -> Result<RoomTarget, String> {
        match &opts.target {
            Target::Remote { url, token, .. } => {
                let name = token_name(token).unwrap_or_default();
                let location = url
                    .split("://")
                    .nth(1)
                    .and_then(|rest| rest.split('/').next())
                    .unwrap_or(url)
                    .to_string();
                Ok(RoomTarget {
                    url: url.clone(),
                    token: token.clone(),
                    name,
                    location,
                    guard: tokio::sync::Mutex::new(None),
                })
            }
            Target::Local { room, rooms } => {
                let local = rooms.open(room).await?;
                Ok(RoomTarget {
                    url: local.url,
                    token: local.token,
                    name: local.name,
                    location: local.location,
                    guard: tokio::sync::Mutex::new(Some(local.guard)),
                })
            }
        }
    }

    pub fn location(&self) -> String {
        self.location.clone()
    }

    /// Starts the net task.
    pub fn connect(
        &self,
    ) -> (
        mpsc::UnboundedSender<NetCommand>,
        mpsc::UnboundedReceiver<NetEvent>,
    ) {
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        tokio::spawn(net_task(
            self.url.clone(),
            self.token.clone(),
            self.name.clone(),
            cmd_rx,
            ev_tx,
        ));
        (cmd_tx, ev_rx)
    }

    pub async fn shutdown(&self) {
        if let Some(guard) = self.guard.lock().await.take() {
            guard.close().await;
        }
    }
}

/// The `name` claim of a JWT, read without checking it (for display only).
pub fn token_name(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("name").and_then(Value::as_str).map(str::to_string)
}

fn peer(p: &Participant) -> PeerInfo {
    PeerInfo {
        id: p.id.clone(),
        name: p.name().unwrap_or_default().to_string(),
        role: p.role.clone(),
        attributes: p.attributes.clone(),
    }
}

/// What is polled while its tab is on screen.
#[derive(Debug, Default)]
struct Watch {
    queues: bool,
    services: bool,
    docs: bool,
}

enum Ended {
    Shutdown,
    Lost(String),
}

async fn net_task(
    url: String,
    token: String,
    name: String,
    mut cmds: mpsc::UnboundedReceiver<NetCommand>,
    events: mpsc::UnboundedSender<NetEvent>,
) {
    let mut attempt: u32 = 0;
    let mut watch = Watch::default();
    let mut reason = String::new();
    loop {
        let _ = events.send(NetEvent::State(if attempt == 0 {
            ConnState::Connecting
        } else {
            ConnState::Reconnecting {
                attempt,
                retry_in_secs: 0,
                reason: reason.clone(),
            }
        }));
        let connected = tokio::select! {
            r = RoomClient::connect(&url, &token) => r,
            _ = idle(&mut cmds, &events, &mut watch) => return,
        };
        match connected {
            Ok(client) => {
                attempt = 0;
                let _ = events.send(NetEvent::Joined {
                    room: client.room_name(),
                    participant_id: client.participant_id(),
                    name: name.clone(),
                });
                let _ = events.send(NetEvent::State(ConnState::Live));
                match session(&client, &mut cmds, &events, &mut watch).await {
                    Ended::Shutdown => {
                        client.close().await;
                        return;
                    }
                    Ended::Lost(r) => reason = r,
                }
            }
            Err(ClientError::Rejected { status, body }) if status == 401 || status == 403 => {
                // A refused token will not get better by retrying.
                let _ = events.send(NetEvent::Fatal(format!(
                    "the room refused the token (HTTP {status}){}",
                    if body.is_empty() {
                        String::new()
                    } else {
                        format!(": {body}")
                    }
                )));
                let _ = idle(&mut cmds, &events, &mut watch).await;
                return;
            }
            Err(e) => reason = e.to_string(),
        }
        attempt += 1;
        let wait = (1u64 << attempt.min(5)).min(MAX_BACKOFF_SECS);
        for left in (1..=wait).rev() {
            let _ = events.send(NetEvent::State(ConnState::Reconnecting {
                attempt,
                retry_in_secs: left,
                reason: reason.clone(),
            }));
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = idle(&mut cmds, &events, &mut watch) => return,
            }
        }
    }
}

/// While not connected: refuses commands until Shutdown (or the UI going away) ends the task.
async fn idle(
    cmds: &mut mpsc::UnboundedReceiver<NetCommand>,
    events: &mpsc::UnboundedSender<NetEvent>,
    watch: &mut Watch,
) {
    loop {
        match cmds.recv().await {
            None | Some(NetCommand::Shutdown) => return,
            Some(NetCommand::WatchQueues(on)) => watch.queues = on,
            Some(NetCommand::WatchServices(on)) => watch.services = on,
            Some(NetCommand::WatchDocs(on)) => watch.docs = on,
            Some(NetCommand::RefreshQueues)
            | Some(NetCommand::RefreshServices)
            | Some(NetCommand::Docs(DocsCommand::Close))
            | Some(NetCommand::SqlCancel { .. }) => {}
            Some(NetCommand::SqlRun { id, .. }) => {
                let _ = events.send(NetEvent::Sql {
                    id,
                    event: SqlEvent::Error("not connected to the room".into()),
                });
            }
            Some(NetCommand::SqlExport {
                path,
                format,
                source: source @ ExportSource::Rows { .. },
            }) => dbbridge::spawn_export(None, path, format, source, events),
            Some(other) => {
                let _ = events.send(NetEvent::Failed {
                    what: describe(&other),
                    error: "not connected to the room".into(),
                });
            }
        }
    }
}

fn describe(cmd: &NetCommand) -> String {
    match cmd {
        NetCommand::SendChat { .. } => "sending the message".into(),
        NetCommand::QueueSend { name, .. } => format!("sending to queue {name}"),
        NetCommand::QueueReceive { name } => format!("receiving from queue {name}"),
        NetCommand::QueueDrain { name } => format!("draining queue {name}"),
        NetCommand::RefreshQueues | NetCommand::WatchQueues(_) => "listing queues".into(),
        NetCommand::DevLog { .. } => "writing to the developer log".into(),
        NetCommand::RefreshServices | NetCommand::WatchServices(_) => "listing services".into(),
        NetCommand::ServiceRestart { name, .. } => format!("restarting service {name}"),
        NetCommand::Files(c) => files::describe(c),
        NetCommand::RefreshTables => "listing tables".into(),
        NetCommand::InspectTable { table } => format!("reading the schema of {table}"),
        NetCommand::SqlRun { .. } | NetCommand::SqlCancel { .. } => "running SQL".into(),
        NetCommand::SqlExport { path, .. } => format!("exporting to {path}"),
        NetCommand::Docs(c) => docs::describe(c),
        NetCommand::WatchDocs(_) => "listing documents".into(),
        NetCommand::Tools(c) => tools::describe(c),
        NetCommand::Shutdown => "closing".into(),
    }
}

async fn session(
    client: &RoomClient,
    cmds: &mut mpsc::UnboundedReceiver<NetCommand>,
    events: &mpsc::UnboundedSender<NetEvent>,
    watch: &mut Watch,
) -> Ended {
    let mut sub = client.subscribe();
    let me = client.participant_id();
    let mut names: HashMap<String, String> = HashMap::new();
    {
        let c = client.clone();
        let ev = events.clone();
        tokio::spawn(async move {
            if let Err(e) = c.messaging().enable().await {
                let _ = ev.send(NetEvent::Failed {
                    what: "enabling messaging".into(),
                    error: e.to_string(),
                });
            }
        });
    }
    let logs_task = {
        let c = client.clone();
        let ev = events.clone();
        tokio::spawn(async move {
            let mut stream = match c.developer().logs().await {
                Ok(s) => s,
                Err(e) => {
                    let _ = ev.send(NetEvent::Failed {
                        what: "following the developer logs".into(),
                        error: e.to_string(),
                    });
                    return;
                }
            };
            while let Some(item) = stream.next().await {
                match item {
                    Ok(e) => {
                        let lines = log_lines(&e, now_ms());
                        if ev.send(NetEvent::Logs(lines)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = ev.send(NetEvent::Failed {
                            what: "the developer log stream".into(),
                            error: e.to_string(),
                        });
                        break;
                    }
                }
            }
        })
    };
    if watch.queues {
        spawn_queue_list(client, events);
    }
    if watch.services {
        spawn_service_list(client, events);
    }
    let mut docs = docs::Docs::default();
    if watch.docs {
        docs.command(client, DocsCommand::List, events);
    }
    let mut sql_run = dbbridge::Running::default();
    let mut poll = tokio::time::interval(QUEUE_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ended = loop {
        tokio::select! {
            ev = sub.recv() => match ev {
                Ok(ev) => on_room_event(ev, client, &me, &mut names, events),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    let _ = events.send(NetEvent::Failed {
                        what: "following the room".into(),
                        error: format!("{n} events were dropped because the console fell behind"),
                    });
                }
                Err(broadcast::error::RecvError::Closed) => break Ended::Lost("the connection closed".into()),
            },
            cmd = cmds.recv() => match cmd {
                None | Some(NetCommand::Shutdown) => break Ended::Shutdown,
                Some(NetCommand::WatchQueues(on)) => {
                    watch.queues = on;
                    if on {
                        spawn_queue_list(client, events);
                    }
                }
                Some(NetCommand::RefreshQueues) => spawn_queue_list(client, events),
                Some(NetCommand::WatchServices(on)) => {
                    watch.services = on;
                    if on {
                        spawn_service_list(client, events);
                    }
                }
                Some(NetCommand::RefreshServices) => spawn_service_list(client, events),
                Some(NetCommand::WatchDocs(on)) => {
                    watch.docs = on;
                    if on {
                        docs.command(client, DocsCommand::List, events);
                    }
                }
                Some(NetCommand::Docs(c)) => docs.command(client, c, events),
                Some(NetCommand::Tools(c)) => tools::spawn(client, c, events),
                Some(NetCommand::Files(c)) => files::spawn(client, c, events),
                Some(NetCommand::RefreshTables) => dbbridge::spawn_tables(client, events),
                Some(NetCommand::InspectTable { table }) => {
                    dbbridge::spawn_inspect(client, table, events)
                }
                Some(NetCommand::SqlRun { id, sql, keep }) => {
                    sql_run.start(client, id, sql, keep, events)
                }
                Some(NetCommand::SqlCancel { id }) => sql_run.cancel(id),
                Some(NetCommand::SqlExport { path, format, source }) => {
                    dbbridge::spawn_export(Some(client), path, format, source, events)
                }
                Some(cmd) => spawn_command(client, cmd, events),
            },
            _ = poll.tick(), if watch.queues || watch.services || watch.docs => {
                if watch.queues {
                    spawn_queue_list(client, events);
                }
                if watch.services {
                    spawn_service_list(client, events);
                }
                if watch.docs {
                    docs.command(client, DocsCommand::List, events);
                }
            }
            _ = client.closed() => break Ended::Lost("the connection to the room closed".into()),
        }
    };
    logs_task.abort();
    ended
}

fn on_room_event(
    ev: RoomEvent,
    client: &RoomClient,
    me: &str,
    names: &mut HashMap<String, String>,
    events: &mpsc::UnboundedSender<NetEvent>,
) {
    let out = match ev {
        RoomEvent::MessagingEnabled { participants } => {
            for p in &participants {
                names.insert(p.id.clone(), p.name().unwrap_or_default().to_string());
            }
            NetEvent::Participants(participants.iter().map(peer).collect())
        }
        RoomEvent::ParticipantEnabled(p) => {
            names.insert(p.id.clone(), p.name().unwrap_or_default().to_string());
            NetEvent::PeerJoined(peer(&p))
        }
        RoomEvent::ParticipantDisabled { id } => NetEvent::PeerLeft { id },
        RoomEvent::ParticipantAttributes { id, attributes } => {
            let Some(name) = attributes.get("name").and_then(Value::as_str) else {
                return;
            };
            names.insert(id.clone(), name.to_string());
            NetEvent::PeerRenamed {
                id,
                name: name.to_string(),
            }
        }
        RoomEvent::Message {
            from,
            msg_type,
            message,
            attachment,
        } => {
            if from == me {
                return; // shown when it was sent
            }
            let from_name = names
                .get(&from)
                .filter(|n| !n.is_empty())
                .cloned()
                .or_else(|| {
                    // Senders that never enabled messaging are still in the room's list.
                    client
                        .participants()
                        .into_iter()
                        .find(|p| p.id == from)
                        .and_then(|p| p.name().map(str::to_string))
                })
                .unwrap_or_else(|| from.chars().take(8).collect());
            let attachment = (!attachment.is_empty()).then(|| {
                let name = ["filename", "name", "path"]
                    .iter()
                    .find_map(|k| message.get(*k).and_then(Value::as_str))
                    .unwrap_or("attachment")
                    .to_string();
                (name, attachment.len())
            });
            NetEvent::Message(ChatMessage {
                time_ms: now_ms(),
                from_id: from,
                from_name,
                to: None,
                kind: msg_type,
                text: message_text(&message),
                attachment,
                own: false,
            })
        }
        other @ RoomEvent::Other { .. } => match files::change(&other) {
            Some(e) => e,
            None => return,
        },
    };
    let _ = events.send(out);
}

fn spawn_queue_list(client: &RoomClient, events: &mpsc::UnboundedSender<NetEvent>) {
    let c = client.clone();
    let ev = events.clone();
    tokio::spawn(async move {
        match c.queues().list().await {
            Ok(list) => {
                let _ = ev.send(NetEvent::Queues(
                    list.into_iter()
                        .map(|q| QueueSummary {
                            name: q.name,
                            size: q.size,
                        })
                        .collect(),
                ));
            }
            Err(e) => {
                let _ = ev.send(NetEvent::Failed {
                    what: "listing queues".into(),
                    error: e.to_string(),
                });
            }
        }
    });
}

fn spawn_service_list(client: &RoomClient, events: &mpsc::UnboundedSender<NetEvent>) {
    let c = client.clone();
    let ev = events.clone();
    tokio::spawn(async move {
        match c.services().list().await {
            Ok(list) => {
                let _ = ev.send(NetEvent::Services(
                    list.into_iter().map(service_summary).collect(),
                ));
            }
            Err(e) => {
                let _ = ev.send(NetEvent::Failed {
                    what: "listing services".into(),
                    error: e.to_string(),
                });
            }
        }
    });
}

fn service_summary(s: ServiceInfo) -> ServiceSummary {
    let name = if s.name.is_empty() {
        s.id.clone()
    } else {
        s.name
    };
    match s.state {
        Some(st) => ServiceSummary {
            id: s.id,
            name,
            liveness: liveness(&st.ports),
            state: st.state,
            started_at: st.started_at,
            restart_count: st.restart_count,
            last_exit_code: st.last_exit_code,
        },
        None => ServiceSummary {
            id: s.id,
            name,
            state: "unknown".into(),
            started_at: None,
            restart_count: 0,
            last_exit_code: None,
            liveness: "-".into(),
        },
    }
}

/// The ports' liveness in one word: the worst of them (`-` when no port is declared).
fn liveness(ports: &[PortState]) -> String {
    if ports.is_empty() {
        return "-".into();
    }
    for worst in ["not_ready", "not_configured"] {
        if ports.iter().any(|p| p.liveness_status == worst) {
            return worst.into();
        }
    }
    ports
        .first()
        .map_or_else(|| "-".into(), |p| p.liveness_status.clone())
}

fn spawn_command(client: &RoomClient, cmd: NetCommand, events: &mpsc::UnboundedSender<NetEvent>) {
    let c = client.clone();
    let ev = events.clone();
    tokio::spawn(async move {
        let what = describe(&cmd);
        let result: Result<Option<NetEvent>, ClientError> = async {
            Ok(match cmd {
                NetCommand::SendChat { to: Some(p), text } => {
                    c.messaging()
                        .send(&p.id, "chat", json!({"text": text}), None)
                        .await?;
                    None
                }
                NetCommand::SendChat { to: None, text } => {
                    c.messaging()
                        .broadcast("chat", json!({"text": text}), None)
                        .await?;
                    None
                }
                NetCommand::QueueSend {
                    name,
                    message,
                    create,
                } => {
                    c.queues().send(&name, message, create).await?;
                    Some(NetEvent::QueueSent { name })
                }
                NetCommand::QueueReceive { name } => {
                    let message = c.queues().receive(&name, false, false).await?;
                    Some(NetEvent::QueueReceived { name, message })
                }
                NetCommand::QueueDrain { name } => {
                    c.queues().drain(&name).await?;
                    Some(NetEvent::QueueDrained { name })
                }
                NetCommand::DevLog { message } => {
                    c.developer().info(&message, json!({})).await?;
                    None
                }
                NetCommand::ServiceRestart { id, name } => {
                    c.services().restart(&id).await?;
                    Some(NetEvent::ServiceRestarted { name })
                }
                NetCommand::RefreshQueues
                | NetCommand::WatchQueues(_)
                | NetCommand::RefreshServices
                | NetCommand::WatchServices(_)
                | NetCommand::Files(_)
                | NetCommand::RefreshTables
                | NetCommand::InspectTable { .. }
                | NetCommand::SqlRun { .. }
                | NetCommand::SqlCancel { .. }
                | NetCommand::SqlExport { .. }
                | NetCommand::Docs(_)
                | NetCommand::WatchDocs(_)
                | NetCommand::Tools(_)
                | NetCommand::Shutdown => None,
            })
        }
        .await;
        let out = match result {
            Ok(Some(e)) => e,
            Ok(None) => return,
            Err(e) => NetEvent::Failed {
                what,
                error: e.to_string(),
            },
        };
        let _ = ev.send(out);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_name_claim() {
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"name":"ada","sub":"x"}"#);
        assert_eq!(
            token_name(&format!("h.{payload}.s")).as_deref(),
            Some("ada")
        );
        assert_eq!(token_name("garbage"), None);
    }
}
