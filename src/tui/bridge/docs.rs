//! The documents view's side of the net task: the room's sync documents, and the one document
//! the view follows, kept as a live replica (`SyncClient::open`) whose JSON goes to the UI
//! when it opens and after every change.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

use crate::client::RoomClient;
use crate::client::sync::OpenOptions;
use crate::tui::dbbridge::message;
use crate::tui::net::{DocSummary, DocsCommand, DocsEvent, NetEvent};

type Events = mpsc::UnboundedSender<NetEvent>;

/// While someone types into a document, the view gets at most this many frames a second.
const PACE: Duration = Duration::from_millis(100);

pub(super) fn describe(cmd: &DocsCommand) -> String {
    match cmd {
        DocsCommand::List => "listing documents".into(),
        DocsCommand::Open { path } => format!("opening {path}"),
        DocsCommand::Close => "closing the document".into(),
        DocsCommand::Replace { path, .. } => format!("saving {path}"),
    }
}

/// The document followed: dropping `ops` closes it.
struct Followed {
    path: String,
    ops: mpsc::Sender<Value>,
}

/// The documents state of one connection.
#[derive(Default)]
pub(super) struct Docs {
    followed: Option<Followed>,
}

impl Docs {
    pub(super) fn command(&mut self, client: &RoomClient, cmd: DocsCommand, ev: &Events) {
        match cmd {
            DocsCommand::List => spawn_list(client, ev),
            DocsCommand::Open { path } => {
                if self.followed.as_ref().is_some_and(|f| f.path == path) {
                    return;
                }
                let (ops, rx) = mpsc::channel(8);
                self.followed = Some(Followed {
                    path: path.clone(),
                    ops,
                });
                tokio::spawn(follow(client.clone(), path, rx, ev.clone()));
            }
            DocsCommand::Close => self.followed = None,
            DocsCommand::Replace { path, json } => match &self.followed {
                Some(f) if f.path == path => {
                    if f.ops.try_send(json).is_err() {
                        let _ = ev.send(NetEvent::Failed {
                            what: format!("saving {path}"),
                            error: "the document is busy or closed; try again".into(),
                        });
                    }
                }
                _ => {
                    let _ = ev.send(NetEvent::Failed {
                        what: format!("saving {path}"),
                        error: "the document is not open".into(),
                    });
                }
            },
        }
    }
}

fn spawn_list(client: &RoomClient, ev: &Events) {
    let (c, ev) = (client.sync(), ev.clone());
    tokio::spawn(async move {
        let event = match c.list().await {
            Ok(list) => NetEvent::Docs(DocsEvent::Listed(
                list.into_iter()
                    .map(|d| DocSummary {
                        path: d.path,
                        size: d.size,
                        open: d.open,
                    })
                    .collect(),
            )),
            Err(e) => NetEvent::Docs(DocsEvent::ListFailed(message(e))),
        };
        let _ = ev.send(event);
    });
}

/// Follows one document until `ops` closes (the view moved on) or the document stops syncing.
async fn follow(client: RoomClient, path: String, mut ops: mpsc::Receiver<Value>, ev: Events) {
    let ended = |reason: String| {
        NetEvent::Docs(DocsEvent::Ended {
            path: path.clone(),
            reason,
        })
    };
    let mut doc = match client.sync().open(&path, OpenOptions::default()).await {
        Ok(d) => d,
        Err(e) => {
            let _ = ev.send(ended(message(e)));
            return;
        }
    };
    loop {
        let content = NetEvent::Docs(DocsEvent::Content {
            path: path.clone(),
            json: doc.to_json(false),
        });
        if ev.send(content).is_err() {
            break;
        }
        tokio::select! {
            changed = doc.changed() => match changed {
                Ok(()) => tokio::time::sleep(PACE).await,
                Err(e) => {
                    let _ = ev.send(ended(message(e)));
                    return;
                }
            },
            op = ops.recv() => match op {
                Some(json) => {
                    let event = match doc.replace_json(&json).await {
                        Ok(()) => NetEvent::Docs(DocsEvent::Replaced { path: path.clone() }),
                        Err(e) => NetEvent::Failed {
                            what: format!("saving {path}"),
                            error: message(e),
                        },
                    };
                    let _ = ev.send(event);
                }
                None => break,
            },
        }
    }
    doc.close().await;
}
