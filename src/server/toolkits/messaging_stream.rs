//! `messaging.stream`: a two-way stream of messages between two participants, relayed by the
//! room in the shape the SDK's `MessagingClient.stream` and its receiving side expect.
//!
//! The caller's streaming call is forwarded to the receiver the way calls on hosted toolkits
//! are (hosted.rs): `room.tool_call.messaging` (tool `stream`, a control-open argument), then
//! the caller's first chunk with `from_participant_id` added. The receiver answers control-open
//! (accept: the caller gets `{"kind": "accepted", "stream_id"}`) or an error (reject: the
//! caller's call fails with it). Then chunks go both ways in order until either side closes
//! or leaves; the other side is told with a control-close. Buffers are the bounded ones of
//! the two connections and of the forward (64 chunks): a slow side slows the other down.

use serde_json::{Map, Value, json};

use super::stream::{Chunk, next_chunk};
use crate::protocol::Content;
use crate::protocol::error_codes::{NOT_FOUND, OPERATION_FAILED};
use crate::server::call::{Reply, ResponseStream, ToolCall, ToolError, ToolResult, arg_str};
use crate::server::devlog::Severity;
use crate::server::hosted::{HostEvent, send_request_chunk, send_tool_call};
use crate::server::room::Participant;

pub(crate) async fn stream(call: &mut ToolCall) -> ToolResult {
    let first = match next_chunk(call).await {
        Chunk::Content(Content::Json(v)) => v,
        Chunk::Content(other) => {
            return Err(ToolError::invalid(format!(
                "messaging.stream starts with a JSON chunk naming `to_participant_id`, not {}",
                other.kind()
            )));
        }
        Chunk::Closed | Chunk::Gone if call.requests.is_none() => {
            return Err(ToolError::invalid(
                "messaging.stream takes a request stream (room.messaging.stream in the SDK)",
            ));
        }
        Chunk::Closed | Chunk::Gone => return Ok(Reply::Content(Content::Empty)),
    };
    call.authorize(&first)?;
    let to = arg_str(&first, "to_participant_id")?.to_string();
    check_message(&first)?;
    let receiver = call
        .room
        .participant(&to)
        .ok_or_else(|| ToolError::new(NOT_FOUND, format!("participant {to} is not in the room")))?;

    let hosted = &call.room.hosted;
    let (stream_id, message_id, mut events) = hosted.open_forward(&receiver);
    let result = async {
        let opened = send_tool_call(
            &receiver,
            message_id,
            "messaging",
            "stream",
            &call.caller.id,
            &stream_id,
            &Content::open(),
        )
        .await;
        if opened.is_err() {
            return Err(left_before_answering(&to));
        }
        // The receiver's SDK reads the request from this first chunk (it must name the sender).
        let mut request = first.as_object().cloned().unwrap_or_default();
        request.remove("to_participant_id");
        request.insert("from_participant_id".into(), json!(call.caller.id));
        let relay = Relay {
            receiver: &receiver,
            stream_id: &stream_id,
        };
        relay
            .to_receiver(Content::Json(Value::Object(request)))
            .await;
        let Some(stream) = relay.await_answer(call, &mut events).await? else {
            return Ok(Reply::Content(Content::Empty));
        };
        // The room's log shows streams between participants; the console's chat pane reads
        // the `stream.*` attributes.
        let who = format!("{} -> {}", call.caller.name, receiver.name);
        let from = call.caller.name.clone();
        let facts = |state: &str| {
            let mut a = Map::new();
            a.insert("stream.id".into(), json!(stream_id));
            a.insert("stream.state".into(), json!(state));
            a.insert("stream.from".into(), json!(from));
            a.insert("stream.to".into(), json!(receiver.name));
            a
        };
        let opened = facts("open");
        call.room.log_with(
            Severity::Info,
            format!("messaging stream {stream_id} opened: {who}"),
            &opened,
        );
        let (up, down) = relay.run(call, &stream, &mut events).await;
        let mut closed = facts("closed");
        closed.insert("stream.sent".into(), json!(up));
        closed.insert("stream.received".into(), json!(down));
        call.room.log_with(
            Severity::Info,
            format!(
                "messaging stream {stream_id} closed: {who}, {up} messages sent, {down} received"
            ),
            &closed,
        );
        Ok(Reply::Streamed)
    }
    .await;
    call.room.hosted.finish(&stream_id);
    result
}

/// One accepted or pending stream: where the caller's chunks go.
struct Relay<'a> {
    receiver: &'a Participant,
    stream_id: &'a str,
}

impl Relay<'_> {
    async fn to_receiver(&self, chunk: Content) {
        send_request_chunk(self.receiver, "messaging", self.stream_id, chunk).await;
    }

    /// Waits for accept or reject. Some(stream) once accepted; None when the caller closed or
    /// left first (the receiver is told); Err for a rejection or a receiver that left.
    async fn await_answer(
        &self,
        call: &mut ToolCall,
        events: &mut tokio::sync::mpsc::Receiver<HostEvent>,
    ) -> Result<Option<ResponseStream>, ToolError> {
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(HostEvent::Response(answer)) if answer.is_open() => break,
                    Some(HostEvent::Response(Content::Error { text, code })) => {
                        return Err(ToolError::new(code.unwrap_or(OPERATION_FAILED), text));
                    }
                    Some(HostEvent::Response(other)) => {
                        self.to_receiver(Content::close()).await;
                        return Err(ToolError::new(
                            OPERATION_FAILED,
                            format!(
                                "participant {} answered the stream with {} instead of accepting or rejecting it",
                                self.receiver.id,
                                other.kind()
                            ),
                        ));
                    }
                    // Chunks before the answer are not the receiver's to send yet.
                    Some(HostEvent::Chunk(_)) => {}
                    None | Some(HostEvent::HostLeft) => return Err(left_before_answering(&self.receiver.id)),
                },
                chunk = next_chunk(call) => match chunk {
                    Chunk::Content(_) => {
                        self.to_receiver(Content::close()).await;
                        return Err(ToolError::invalid(
                            "messaging.stream: wait for the receiver to accept before sending more",
                        ));
                    }
                    Chunk::Closed | Chunk::Gone => {
                        self.to_receiver(Content::close()).await;
                        return Ok(None);
                    }
                },
            }
        }
        let stream = match call.open_stream().await {
            Ok(stream) => stream,
            Err(e) => {
                self.to_receiver(Content::close()).await;
                return Err(e);
            }
        };
        let accepted = json!({"kind": "accepted", "stream_id": self.stream_id});
        if stream.send(&Content::Json(accepted)).await.is_err() {
            self.to_receiver(Content::close()).await;
            return Ok(None);
        }
        Ok(Some(stream))
    }

    /// Relays chunks both ways until one side closes or leaves, and tells the other side.
    /// How many messages went each way: (caller to receiver, receiver to caller).
    async fn run(
        &self,
        call: &mut ToolCall,
        stream: &ResponseStream,
        events: &mut tokio::sync::mpsc::Receiver<HostEvent>,
    ) -> (usize, usize) {
        let (mut up, mut down) = (0, 0);
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(HostEvent::Chunk(chunk)) if chunk.is_close() => break,
                    Some(HostEvent::Chunk(Content::Error { text, .. })) => {
                        let closed = json!({"kind": "closed", "reason": "error", "message": text});
                        let _ = stream.send(&Content::Json(closed)).await;
                        break;
                    }
                    Some(HostEvent::Chunk(chunk)) => {
                        if stream.send(&chunk).await.is_err() {
                            self.to_receiver(Content::close()).await;
                            return (up, down);
                        }
                        down += 1;
                    }
                    Some(HostEvent::Response(_)) => {}
                    // The receiver left: the caller sees it disconnect.
                    None | Some(HostEvent::HostLeft) => break,
                },
                chunk = next_chunk(call) => match chunk {
                    Chunk::Content(chunk) => {
                        if let Err(e) = check_chunk(&chunk) {
                            let closed = json!({"kind": "closed", "reason": "invalid_request", "message": e.message});
                            let _ = stream.send(&Content::Json(closed)).await;
                            self.to_receiver(Content::close()).await;
                            break;
                        }
                        self.to_receiver(chunk).await;
                        up += 1;
                    }
                    Chunk::Closed => {
                        self.to_receiver(Content::close()).await;
                        break;
                    }
                    Chunk::Gone => {
                        self.to_receiver(Content::close()).await;
                        return (up, down);
                    }
                },
            }
        }
        stream.close().await;
        (up, down)
    }
}

fn left_before_answering(who: &str) -> ToolError {
    ToolError::new(
        OPERATION_FAILED,
        format!("participant {who} left before answering the messaging stream"),
    )
}

/// A chunk of messages the receiver's SDK can read: `type`, `message_json` (a string holding
/// a JSON object) and an optional base64 `attachment_base64`. Checked, then sent as it came.
fn check_chunk(chunk: &Content) -> Result<(), ToolError> {
    match chunk {
        Content::Json(v) => check_message(v),
        other => Err(ToolError::invalid(format!(
            "messaging.stream chunks are JSON messages, not {}",
            other.kind()
        ))),
    }
}

fn check_message(v: &Value) -> Result<(), ToolError> {
    if !matches!(v.get("message_json"), Some(Value::String(_))) {
        return Err(ToolError::invalid(
            "argument `message_json` (a JSON object encoded as a string) is required",
        ));
    }
    super::messaging::message_parts(v).map(|_| ())
}
