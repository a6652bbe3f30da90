//! The client's socket: connecting (ws/wss), the writer task and the reader task.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::{ClientError, Inner, Outgoing, Participant, RoomClient, RoomEvent, lock};
use crate::protocol::{Content, Reassembler, encode_packets, unpack_message};

/// Largest message accepted from a server.
const MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;
/// How long to wait for `room_ready` and `connected` after the upgrade.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) async fn connect(url: &str, token: &str) -> Result<RoomClient, ClientError> {
    let mut request = url
        .into_client_request()
        .map_err(|e| ClientError::Io(format!("bad room URL {url:?}: {e}")))?;
    let bearer = format!("Bearer {token}")
        .parse()
        .map_err(|_| ClientError::Io("the token is not a valid header value".into()))?;
    request.headers_mut().insert("Authorization", bearer);
    let (socket, _) = match tokio_tungstenite::connect_async_with_config(request, None, true).await
    {
        Ok(ok) => ok,
        Err(WsError::Http(response)) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).to_string())
                .unwrap_or_default();
            return Err(ClientError::Rejected { status, body });
        }
        Err(e) => return Err(ClientError::Io(e.to_string())),
    };
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Outgoing>(1024);
    let (closed, _) = watch::channel(false);
    let (events, _) = broadcast::channel(4096);
    let inner = Arc::new(Inner {
        out: out_tx,
        next_id: AtomicU64::new(1),
        pending: Mutex::new(HashMap::new()),
        streams: Mutex::new(HashMap::new()),
        events,
        participants: Mutex::new(HashMap::new()),
        room_name: Mutex::new(String::new()),
        session_id: Mutex::new(String::new()),
        participant_id: Mutex::new(String::new()),
        closed,
    });

    let mut writer_closed = inner.closed.subscribe();
    let writer_inner = inner.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                out = out_rx.recv() => {
                    let Some(out) = out else { break };
                    for packet in encode_packets(out.id, out.msg_type, &out.body) {
                        if sink.send(Message::Binary(packet.into())).await.is_err() {
                            // A failed write may be the only sign of a dead peer the read half
                            // ever gets (the reset is consumed here): end the reader too, so
                            // every waiting request and stream fails instead of hanging.
                            let _ = writer_inner.closed.send_replace(true);
                            return;
                        }
                    }
                }
                _ = async { let _ = writer_closed.wait_for(|v| *v).await; } => break,
            }
        }
        let _ = sink.send(Message::Close(None)).await;
    });

    let (ready_tx, ready_rx) = oneshot::channel();
    let reader_inner = inner.clone();
    tokio::spawn(async move {
        let mut ready = Readiness {
            tx: Some(ready_tx),
            room: false,
            participant: false,
        };
        let mut reassembler = Reassembler::new(MAX_MESSAGE_SIZE);
        let mut closed = reader_inner.closed.subscribe();
        loop {
            let frame = tokio::select! {
                f = stream.next() => f,
                _ = async { let _ = closed.wait_for(|v| *v).await; } => break,
            };
            let data = match frame {
                Some(Ok(Message::Binary(d))) => d,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => continue,
            };
            match reassembler.push(&data) {
                Ok(Some(m)) => {
                    handle(&reader_inner, &mut ready, &m.msg_type, m.id, &m.payload).await
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("dropped a malformed message from the server: {e}"),
            }
        }
        let _ = reader_inner.closed.send_replace(true);
        // Dropping the senders fails every waiting request and ends every stream.
        lock(&reader_inner.pending).clear();
        lock(&reader_inner.streams).clear();
    });

    match tokio::time::timeout(READY_TIMEOUT, ready_rx).await {
        Ok(Ok(())) => Ok(RoomClient { inner }),
        Ok(Err(_)) => Err(ClientError::Io(
            "the server closed the connection before the room was ready".into(),
        )),
        Err(_) => {
            let _ = inner.closed.send_replace(true);
            Err(ClientError::Io(
                "the room did not become ready within 30 s".into(),
            ))
        }
    }
}

/// Both `room_ready` and `connected` must arrive before the client is usable.
struct Readiness {
    tx: Option<oneshot::Sender<()>>,
    room: bool,
    participant: bool,
}

impl Readiness {
    fn check(&mut self) {
        if self.room && self.participant {
            if let Some(tx) = self.tx.take() {
                let _ = tx.send(());
            }
        }
    }
}

fn str_of(header: &Map<String, Value>, key: &str) -> String {
    header
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

async fn handle(inner: &Arc<Inner>, ready: &mut Readiness, msg_type: &str, id: u64, body: &[u8]) {
    if msg_type == "__response__" {
        let content = Content::unpack(body).unwrap_or_else(|e| Content::Error {
            text: format!("unreadable response: {e}"),
            code: None,
        });
        if let Some(tx) = lock(&inner.pending).remove(&id) {
            let _ = tx.send(content);
        }
        return;
    }
    let (header, payload) = match unpack_message(body) {
        Ok(parts) => parts,
        Err(e) => {
            tracing::warn!("dropped a {msg_type} message: {e}");
            return;
        }
    };
    match msg_type {
        "room_ready" => {
            *lock(&inner.room_name) = str_of(&header, "room_name");
            *lock(&inner.session_id) = str_of(&header, "session_id");
            ready.room = true;
            ready.check();
        }
        "connected" => {
            if header.get("type").and_then(Value::as_str) == Some("init") {
                *lock(&inner.participant_id) = str_of(&header, "participantId");
                ready.participant = true;
                ready.check();
            }
        }
        "room.tool_call_response_chunk" => {
            let key = str_of(&header, "tool_call_id");
            let chunk = header
                .get("chunk")
                .and_then(Value::as_object)
                .map(|c| Content::from_parts(c, payload));
            let sender = lock(&inner.streams).get(&key).cloned();
            if let (Some(sender), Some(chunk)) = (sender, chunk) {
                let chunk = chunk.unwrap_or_else(|e| Content::Error {
                    text: format!("unreadable chunk: {e}"),
                    code: None,
                });
                let _ = sender.send(chunk).await;
            }
        }
        "messaging.send" => {
            let event = messaging_event(inner, &header, payload);
            let _ = inner.events.send(event);
        }
        _ => {
            let _ = inner.events.send(RoomEvent::Other {
                msg_type: msg_type.to_string(),
                header,
            });
        }
    }
}

/// Turns a `messaging.send` push into an event, keeping the participant list current.
fn messaging_event(inner: &Inner, header: &Map<String, Value>, payload: &[u8]) -> RoomEvent {
    let from = str_of(header, "from_participant_id");
    let msg_type = str_of(header, "type");
    let message = header.get("message").cloned().unwrap_or(Value::Null);
    let mut participants = lock(&inner.participants);
    match msg_type.as_str() {
        "messaging.enabled" => {
            let list: Vec<Participant> = message
                .get("participants")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Participant::from_json).collect())
                .unwrap_or_default();
            participants.clear();
            participants.extend(list.iter().map(|p| (p.id.clone(), p.clone())));
            RoomEvent::MessagingEnabled { participants: list }
        }
        "participant.enabled" => match Participant::from_json(&message) {
            Some(p) => {
                participants.insert(p.id.clone(), p.clone());
                RoomEvent::ParticipantEnabled(p)
            }
            None => RoomEvent::Other {
                msg_type,
                header: header.clone(),
            },
        },
        "participant.disabled" => {
            let id = message
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or(&from)
                .to_string();
            participants.remove(&id);
            RoomEvent::ParticipantDisabled { id }
        }
        "participant.attributes" => {
            let attributes = message
                .get("attributes")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            if let Some(p) = participants.get_mut(&from) {
                p.attributes = attributes.clone();
            }
            RoomEvent::ParticipantAttributes {
                id: from,
                attributes,
            }
        }
        _ => RoomEvent::Message {
            from,
            msg_type,
            message,
            attachment: payload.to_vec(),
        },
    }
}
