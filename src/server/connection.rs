//! One participant's connection: the writer task, the reader loop and message dispatch.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::call::{Reply, ToolCall, ToolError, random_id};
use super::devlog::Severity;
use super::hosted;
use super::room::{ConnHandle, Participant, Room};
use super::{ServerState, toolkits};
use crate::auth::ParticipantToken;
use crate::protocol::content::unpack_chunk;
use crate::protocol::error_codes::INVALID_REQUEST;
use crate::protocol::{Content, Reassembler, unpack_message};

/// Request streams of this connection's calls in progress, by tool_call_id.
type Streams = Arc<Mutex<HashMap<String, RequestStream>>>;

struct RequestStream {
    tx: mpsc::Sender<Content>,
    /// Where the first chunk (the call's start) goes for the recording, until it came.
    start: Option<super::recording::StartSlot>,
}

/// How long a closing connection waits to say goodbye to a client that does not read.
const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Chunks buffered per request stream before the reader waits for the toolkit.
const REQUEST_STREAM_DEPTH: usize = 64;

/// Queue slots an idle connection keeps between batches.
const BATCH_CAPACITY_KEPT: usize = 16;

pub(crate) async fn serve(
    state: Arc<ServerState>,
    room: Arc<Room>,
    token: ParticipantToken,
    room_url: String,
    socket: WebSocket,
) {
    let (mut sink, mut stream) = socket.split();
    let conn = ConnHandle::new();
    let name = token.name.clone();
    let mut attributes = Map::new();
    attributes.insert("name".into(), Value::String(name.clone()));
    let participant = Arc::new(Participant {
        id: random_id(),
        name: name.clone(),
        role: token.role().to_string(),
        scope: token.api(),
        attributes: Mutex::new(attributes.clone()),
        presence_text: Mutex::new(None),
        messaging_enabled: AtomicBool::new(false),
        conn: conn.clone(),
        room_url: room_url.clone(),
        actions: Default::default(),
    });
    room.join(participant.clone());

    let ready =
        json!({"room_name": room.name, "room_url": room_url, "session_id": room.session_id});
    conn.push("room_ready", ready.as_object().expect("object"), b"");
    let connected =
        json!({"type": "init", "participantId": participant.id, "attributes": attributes});
    conn.push("connected", connected.as_object().expect("object"), b"");

    // One task per connection: the reader and the writer are two futures polled together,
    // so a reader waiting on a toolkit never stops the writer.
    let streams: Streams = Arc::default();
    let mut shutdown = state.shutdown.clone();
    let kicked = tokio::select! {
        () = read(&state, &room, &participant, &streams, &mut stream) => false,
        () = write(&conn, &mut sink) => false,
        () = conn.kicked() => true,
        _ = shutdown.wait_for(|v| *v) => false,
    };
    if kicked {
        room.log(
            Severity::Warning,
            format!("disconnected {name}: it was not reading its messages"),
        );
    }
    conn.close();
    streams.lock().unwrap_or_else(|p| p.into_inner()).clear();
    room.leave(&participant.id);
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(Message::Close(None))).await;
}

/// Reads requests until the client leaves, one at a time while the connection has room to
/// answer and its messages to others are being delivered.
async fn read(
    state: &ServerState,
    room: &Arc<Room>,
    participant: &Arc<Participant>,
    streams: &Streams,
    stream: &mut SplitStream<WebSocket>,
) {
    let name = &participant.name;
    let mut reassembler = Reassembler::new(state.config.max_message_size);
    loop {
        participant.conn.ready_to_read().await;
        let data = match stream.next().await {
            Some(Ok(Message::Binary(data))) => data,
            Some(Ok(Message::Text(_))) => {
                room.log(
                    Severity::Warning,
                    format!("{name} sent a text frame; the protocol uses binary frames only"),
                );
                continue;
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
        };
        match reassembler.push(&data) {
            Ok(Some(message)) => {
                dispatch(
                    room,
                    participant,
                    streams,
                    message.id,
                    &message.msg_type,
                    &message.payload,
                )
                .await
            }
            Ok(None) => {}
            Err(e) => room.log(
                Severity::Warning,
                format!("dropped a malformed message from {name}: {e}"),
            ),
        }
    }
}

/// Writes whatever is queued, all of it per wake-up with one flush, until the connection
/// closes or its socket fails.
async fn write(conn: &ConnHandle, sink: &mut SplitSink<WebSocket, Message>) {
    let mut batch = VecDeque::new();
    loop {
        if conn.take(&mut batch).await.is_err() {
            return;
        }
        let mut bytes = 0;
        let mut told = Vec::new();
        for queued in batch.drain(..) {
            bytes += queued.msg.len();
            for packet in queued.msg.packets() {
                if sink.feed(Message::Binary(packet)).await.is_err() {
                    return;
                }
            }
            told.extend(queued.written);
        }
        if sink.flush().await.is_err() {
            return;
        }
        conn.written(bytes);
        for tx in told {
            let _ = tx.send(());
        }
        // A burst's worth of queue capacity is not kept by an idle connection.
        batch.shrink_to(BATCH_CAPACITY_KEPT);
    }
}

async fn dispatch(
    room: &Arc<Room>,
    participant: &Arc<Participant>,
    streams: &Streams,
    id: u64,
    msg_type: &str,
    body: &[u8],
) {
    let conn = &participant.conn;
    match msg_type {
        "room.invoke_tool" => match parse_invoke(room, participant, streams, id, body) {
            Ok(call) => start_call(call, streams.clone()),
            Err(e) => {
                let _ = conn.reply(id, "__response__", e.content().pack()).await;
            }
        },
        "room.tool_call_request_chunk" => route_chunk(room, participant, streams, body).await,
        "set_attributes" => match unpack_message(body) {
            Ok((attrs, _)) => toolkits::messaging::set_attributes(room, participant, attrs),
            Err(e) => room.log(
                Severity::Warning,
                format!("{}: bad set_attributes: {e}", participant.name),
            ),
        },
        "room.list_toolkits" => {
            let filter = unpack_message(body).ok().and_then(|(h, _)| {
                h.get("participant_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            let answer = Content::Json(hosted::describe(room, filter.as_deref()));
            let _ = conn.reply(id, "__response__", answer.pack()).await;
        }
        "room.register_toolkit" => {
            let answer = match unpack_message(body) {
                Ok((spec, _)) => {
                    let public = spec.get("public").and_then(Value::as_bool).unwrap_or(false);
                    crate::auth::check::authorize_register_toolkit(
                        participant.scope.as_ref(),
                        public,
                    )
                    .map_err(|d| {
                        ToolError::new(
                            crate::protocol::error_codes::PERMISSION_DENIED,
                            format!("room.register_toolkit denied: {}", d.0),
                        )
                    })
                    .and_then(|_| room.hosted.register(participant, spec))
                    .map(|toolkit_id| Content::Json(json!({ "id": toolkit_id })))
                    .unwrap_or_else(|e| e.content())
                }
                Err(e) => ToolError::invalid(e.to_string()).content(),
            };
            let _ = conn.reply(id, "__response__", answer.pack()).await;
        }
        "room.unregister_toolkit" => {
            let toolkit_id = unpack_message(body)
                .ok()
                .and_then(|(h, _)| h.get("id").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_default();
            let answer = if room.hosted.unregister(&participant.id, &toolkit_id) {
                Content::Empty
            } else {
                Content::error(
                    crate::protocol::error_codes::NOT_FOUND,
                    format!("no toolkit registered by this participant has id {toolkit_id:?}"),
                )
            };
            let _ = conn.reply(id, "__response__", answer.pack()).await;
        }
        // Answers to calls forwarded to a toolkit this participant hosts.
        "room.tool_call_response" => match Content::unpack(body) {
            Ok(content) => {
                room.hosted
                    .host_response(&participant.id, id, content)
                    .await
            }
            Err(e) => room.log(
                Severity::Warning,
                format!("{}: unreadable tool call response: {e}", participant.name),
            ),
        },
        "room.tool_call_response_chunk" => {
            let parsed = unpack_chunk(body);
            match parsed {
                Ok((key, content)) => room.hosted.host_chunk(&participant.id, &key, content).await,
                Err(e) => room.log(
                    Severity::Warning,
                    format!("{}: unreadable response chunk: {e}", participant.name),
                ),
            }
        }
        // `room.call` asks the room to start an agent at a URL: a hosted room's agent
        // runner does that; a local room has none.
        "room.call" => {
            let answer = Content::error(
                crate::protocol::error_codes::DEPENDENCY_MISSING,
                "a roomdeck room cannot place calls to agent URLs: it has no agent runner; \
                 start the agent yourself with a token for this room and it joins as a participant",
            );
            let _ = conn.reply(id, "__response__", answer.pack()).await;
        }
        other => {
            room.log(
                Severity::Warning,
                format!("{} sent unsupported message type {other}", participant.name),
            );
            let answer = Content::error(
                INVALID_REQUEST,
                format!("unsupported message type `{other}`"),
            );
            let _ = conn.reply(id, "__response__", answer.pack()).await;
        }
    }
}

fn parse_invoke(
    room: &Arc<Room>,
    participant: &Arc<Participant>,
    streams: &Streams,
    id: u64,
    body: &[u8],
) -> Result<ToolCall, ToolError> {
    let (header, payload) = unpack_message(body).map_err(|e| ToolError::invalid(e.to_string()))?;
    let field = |k: &str| header.get(k).and_then(Value::as_str).map(str::to_string);
    let toolkit =
        field("toolkit").ok_or_else(|| ToolError::invalid("room.invoke_tool needs `toolkit`"))?;
    let tool = field("tool").ok_or_else(|| ToolError::invalid("room.invoke_tool needs `tool`"))?;
    let tool_call_id = field("tool_call_id");
    let arguments = match header.get("arguments") {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => json!({"type": "empty"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        Some(_) => {
            return Err(ToolError::invalid(
                "`arguments` must be a Content header object",
            ));
        }
    };
    let args =
        Content::from_parts(&arguments, payload).map_err(|e| ToolError::invalid(e.to_string()))?;
    let mut recorded_start = None;
    let requests = if args.is_open() {
        let key = tool_call_id
            .clone()
            .ok_or_else(|| ToolError::invalid("a streaming call needs a tool_call_id"))?;
        let (tx, rx) = mpsc::channel(REQUEST_STREAM_DEPTH);
        let start = room
            .recorder
            .is_on()
            .then(super::recording::StartSlot::default);
        recorded_start = start.clone();
        streams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, RequestStream { tx, start });
        Some(rx)
    } else {
        None
    };
    Ok(ToolCall {
        room: room.clone(),
        caller: participant.clone(),
        request_id: id,
        toolkit,
        tool,
        tool_call_id,
        args,
        requests,
        stream_opened: Arc::new(AtomicBool::new(false)),
        recorded_answer: Default::default(),
        recorded_start,
    })
}

/// Runs a call here, in the reader, as far as it goes without waiting: what it does before its
/// first wait (a message's delivery) happens in the order the requests were read, whatever
/// runs in parallel. A call that must wait (a queue receive, a long query) finishes in its own
/// task, so it never holds up the reader or the calls after it.
fn start_call(call: ToolCall, streams: Streams) {
    let mut task = Box::pin(run_call(call, streams));
    // The spawned task polls again at once, so nothing depends on this first poll's waker.
    if task
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending()
    {
        tokio::spawn(task);
    }
}

async fn run_call(mut call: ToolCall, streams: Streams) {
    let conn: ConnHandle = call.conn().clone();
    let (id, tool_call_id) = (call.request_id, call.tool_call_id.clone());
    let (toolkit, tool) = (call.toolkit.clone(), call.tool.clone());
    let opened = call.stream_opened.clone();
    let action = super::actions::describe(&call);
    let started = super::recording::call_started(&call);
    let result = toolkits::dispatch(&mut call).await;
    toolkits::stats::record(&call, result.is_err());
    if let (Some(action), Ok(_)) = (action, &result) {
        super::actions::logged(&call, action);
    }
    let record = started.map(|t| super::recording::CallRecord::of(&mut call, t));
    drop(call);
    if let Some(key) = &tool_call_id {
        streams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
    match result {
        Ok(Reply::Content(content)) => {
            let packed = content.pack();
            if let Some(r) = record {
                r.answered(Ok(Some(content)));
            }
            let _ = conn.reply(id, "__response__", packed).await;
        }
        Ok(Reply::Streamed) => {
            if let Some(r) = record {
                r.answered(Ok(None));
            }
        }
        Err(e) if opened.load(std::sync::atomic::Ordering::SeqCst) => {
            if let Some(r) = record {
                r.answered(Err(&e));
            }
            // The answer was already a stream: report the error in it, then end it.
            let key = tool_call_id.unwrap_or_default();
            let _ = super::call::send_chunk(&conn, &key, &toolkit, &tool, &e.content()).await;
            let _ = super::call::send_chunk(&conn, &key, &toolkit, &tool, &Content::close()).await;
        }
        Err(e) => {
            if let Some(r) = record {
                r.answered(Err(&e));
            }
            let _ = conn.reply(id, "__response__", e.content().pack()).await;
        }
    }
}

async fn route_chunk(
    room: &Arc<Room>,
    participant: &Arc<Participant>,
    streams: &Streams,
    body: &[u8],
) {
    let parsed = unpack_chunk(body);
    let (id, content) = match parsed {
        Ok(p) => p,
        Err(e) => {
            room.log(
                Severity::Warning,
                format!(
                    "{}: dropped a malformed request chunk: {e}",
                    participant.name
                ),
            );
            return;
        }
    };
    let (sender, start) = streams
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_mut(&id)
        .map(|s| (s.tx.clone(), s.start.take()))
        .unzip();
    if let Some(slot) = start.flatten() {
        slot.keep(&content);
    }
    // Chunks for a finished or unknown call are tolerated: the client always sends a final close.
    if let Some(sender) = sender {
        let _ = sender.send(content).await;
    }
}
