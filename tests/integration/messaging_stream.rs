//! `messaging.stream` from the Rust client to a participant speaking the raw protocol (the
//! SDK's receiving side, tests/sdk/test_messaging_stream.py, covers the usual paths): what the
//! receiver is sent, in order, a close from the receiver, and a call that is not a stream.

use crate::common;
use crate::wire::{raw_join, read_message, read_until, send};

use common::*;
use roomdeck::client::StreamEvent;
use roomdeck::protocol::{Content, pack_message, unpack_message};
use serde_json::json;

#[tokio::test]
async fn a_raw_receiver_is_asked_accepts_and_its_close_ends_the_callers_stream() {
    let s = TestServer::start().await;
    let mut bob = raw_join(&s, "st").await;
    let connected = read_until(&mut bob, "connected", None).await;
    let (connected, _) = unpack_message(&connected).unwrap();
    let bob_id = connected["participantId"].as_str().unwrap().to_string();
    let alice = s.join("st", "alice").await;

    let to = bob_id.clone();
    let opening = tokio::spawn(async move {
        let stream = alice
            .messaging()
            .stream(&to, "call", json!({"x": 1.5e-300}), Some(vec![0, 255]))
            .await;
        (alice, stream)
    });
    // bob is asked: a tool call on `messaging`, then the opening message naming the sender.
    let (call_id, call) = read_message(&mut bob, "room.tool_call.messaging", None).await;
    let (call, _) = unpack_message(&call).unwrap();
    assert_eq!(call["name"], "stream");
    assert_eq!(call["arguments"]["type"], "control");
    let stream_id = call["tool_call_id"].as_str().unwrap().to_string();
    let first = read_until(&mut bob, "room.tool_call_request_chunk.messaging", None).await;
    let (first, _) = unpack_message(&first).unwrap();
    assert_eq!(first["tool_call_id"], stream_id.as_str());
    let opening_message = &first["chunk"]["json"];
    assert_eq!(opening_message["type"], "call");
    assert_eq!(opening_message["message_json"], r#"{"x":1.5e-300}"#);
    assert_eq!(opening_message["attachment_base64"], "AP8=");
    assert!(opening_message["from_participant_id"].is_string());
    assert!(opening_message.get("to_participant_id").is_none());

    // bob accepts and sends one message back
    send(
        &mut bob,
        call_id,
        "room.tool_call_response",
        &Content::open().pack(),
    )
    .await;
    let (alice, stream) = within("the stream to open", opening).await.unwrap();
    let mut stream = stream.expect("accepted");
    assert_eq!(stream.stream_id, stream_id);
    let reply = json!({"kind": "message", "type": "down", "message": {"big": 1180591620717411303424u128}, "attachment_base64": null});
    let chunk = Content::Json(reply);
    let header = json!({"tool_call_id": stream_id, "chunk": chunk.header()});
    send(
        &mut bob,
        99,
        "room.tool_call_response_chunk",
        &pack_message(header.as_object().unwrap(), b""),
    )
    .await;
    let got = within("bob's message", stream.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        StreamEvent::Message {
            msg_type: "down".into(),
            message: json!({"big": 1180591620717411303424u128}),
            attachment: None
        }
    );

    // alice's messages reach bob in order, untouched
    for n in 0..5 {
        stream.send("up", json!({"n": n}), None).await.unwrap();
    }
    for n in 0..5 {
        let chunk = read_until(&mut bob, "room.tool_call_request_chunk.messaging", None).await;
        let (chunk, _) = unpack_message(&chunk).unwrap();
        assert_eq!(
            chunk["chunk"]["json"]["message_json"],
            format!(r#"{{"n":{n}}}"#)
        );
    }

    // bob closes: alice's stream ends
    let close = Content::close();
    let header = json!({"tool_call_id": stream_id, "chunk": close.header()});
    send(
        &mut bob,
        100,
        "room.tool_call_response_chunk",
        &pack_message(header.as_object().unwrap(), b""),
    )
    .await;
    assert!(within("the stream to end", stream.next()).await.is_none());
    drop(alice);
}

#[tokio::test]
async fn a_unary_call_to_stream_is_refused_with_how_to_call_it() {
    let s = TestServer::start().await;
    let alice = s.join("st", "alice").await;
    let err = alice
        .invoke(
            "messaging",
            "stream",
            Content::Json(json!({"to_participant_id": "x"})),
        )
        .await
        .expect_err("not a stream");
    assert_eq!(err.code(), Some(1002), "{err}");
    assert!(err.to_string().contains("takes a request stream"), "{err}");
}
