//! The live path under load: one sender's pipelined messages keep their order, a waiting call
//! does not hold up the calls after it, and a crowd with a participant that never reads still
//! gets every broadcast.

use crate::common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use roomdeck::auth::ApiScope;
use roomdeck::protocol::{Reassembler, encode_packets, pack_message, unpack_message};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A bare protocol client named `name`.
async fn connect(s: &TestServer, room: &str, name: &str) -> Socket {
    let mut req = s.url(room).into_client_request().unwrap();
    let bearer = format!("Bearer {}", token(room, name, ApiScope::agent_default()));
    req.headers_mut()
        .insert("Authorization", bearer.parse().unwrap());
    tokio_tungstenite::connect_async(req)
        .await
        .expect("joins")
        .0
}

/// The packets of `room.invoke_tool` request `id`.
fn invoke(id: u64, toolkit: &str, tool: &str, args: Value) -> Vec<Vec<u8>> {
    let header = json!({"toolkit": toolkit, "tool": tool, "tool_call_id": format!("c{id}"), "arguments": {"type": "json", "json": args}});
    encode_packets(
        id,
        "room.invoke_tool",
        &pack_message(header.as_object().unwrap(), b""),
    )
}

/// Writes every packet without waiting for any answer (what a pipelining SDK does).
async fn pipeline(ws: &mut Socket, packets: impl IntoIterator<Item = Vec<u8>>) {
    for p in packets {
        ws.feed(Message::Binary(p.into())).await.unwrap();
    }
    ws.flush().await.unwrap();
}

/// Reads pushes until `pred` has seen `n` matching `messaging.send` headers; returns them.
async fn collect(ws: &mut Socket, n: usize, kind: &str) -> Vec<serde_json::Map<String, Value>> {
    let mut r = Reassembler::new(1 << 24);
    let mut got = Vec::new();
    while got.len() < n {
        let frame = within(&format!("{n} {kind} messages"), ws.next())
            .await
            .expect("socket open")
            .expect("frame");
        let Message::Binary(b) = frame else { continue };
        let Some(m) = r.push(&b).expect("well-formed packets") else {
            continue;
        };
        if m.msg_type == "messaging.send" {
            let (h, _) = unpack_message(&m.payload).unwrap();
            if h["type"] == kind {
                got.push(h);
            }
        }
    }
    got
}

/// The participant id this socket was given (from its `connected` push), once messaging is on.
async fn enable(ws: &mut Socket) -> String {
    pipeline(ws, invoke(1, "messaging", "enable", json!({}))).await;
    let mut r = Reassembler::new(1 << 24);
    let mut id = None;
    loop {
        let frame = within("messaging.enabled", ws.next())
            .await
            .unwrap()
            .unwrap();
        let Message::Binary(b) = frame else { continue };
        let Some(m) = r.push(&b).unwrap() else {
            continue;
        };
        let (h, _) = unpack_message(&m.payload).unwrap();
        if m.msg_type == "connected" {
            id = h["participantId"].as_str().map(str::to_string);
        }
        if m.msg_type == "messaging.send" && h["type"] == "messaging.enabled" {
            return id.expect("connected comes first");
        }
    }
}

#[tokio::test]
async fn pipelined_sends_arrive_in_order_even_behind_a_waiting_call() {
    let s = TestServer::start().await;
    let mut alice = connect(&s, "order", "alice").await;
    let mut bob = connect(&s, "order", "bob").await;
    enable(&mut alice).await;
    let bob_id = enable(&mut bob).await;
    let mut next_id = 10;
    for run in 0..10 {
        let kind = format!("seq-{run}");
        let mut packets = Vec::new();
        // A receive that waits on an empty queue goes first: the sends behind it are not held up.
        packets.extend(invoke(
            next_id,
            "queues",
            "receive",
            json!({"name": format!("empty-{run}"), "create": true, "wait": true}),
        ));
        next_id += 1;
        for n in 0..300 {
            let args = json!({"to_participant_id": bob_id, "type": kind, "message_json": json!({"n": n}).to_string()});
            packets.extend(invoke(next_id, "messaging", "send", args));
            next_id += 1;
        }
        pipeline(&mut alice, packets).await;
        let got: Vec<i64> = collect(&mut bob, 300, &kind)
            .await
            .iter()
            .map(|h| h["message"]["n"].as_i64().unwrap())
            .collect();
        assert_eq!(got, (0..300).collect::<Vec<_>>(), "run {run}");
    }
}

#[tokio::test]
async fn a_crowd_with_one_participant_that_never_reads_gets_every_broadcast() {
    const CROWD: usize = 500;
    const BROADCASTS: usize = 20;
    let s = TestServer::start().await;
    // Joins first and never reads again: every presence event and broadcast piles up at it.
    let mut deaf = connect(&s, "crowd", "deaf").await;
    pipeline(&mut deaf, invoke(1, "messaging", "enable", json!({}))).await;
    let mut members = Vec::new();
    for i in 0..CROWD {
        let mut ws = connect(&s, "crowd", &format!("m{i}")).await;
        pipeline(&mut ws, invoke(1, "messaging", "enable", json!({}))).await;
        members.push(ws);
    }
    // Each member reads everything (presence included) until it has every broadcast.
    let readers: Vec<_> = members
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let mut r = Reassembler::new(1 << 24);
                let mut seen = Vec::new();
                while seen.len() < BROADCASTS {
                    let Some(Ok(Message::Binary(b))) = ws.next().await else {
                        return seen;
                    };
                    let Ok(Some(m)) = r.push(&b) else { continue };
                    if m.msg_type != "messaging.send" {
                        continue;
                    }
                    let (h, _) = unpack_message(&m.payload).unwrap();
                    if h["type"] == "crowd" {
                        seen.push(h["message"]["n"].as_i64().unwrap());
                    }
                }
                seen
            })
        })
        .collect();
    let sender = s.join("crowd", "sender").await;
    sender.messaging().enable().await.unwrap();
    eventually("the sender sees the crowd", || {
        sender.participants().len() == CROWD + 1
    })
    .await;
    for n in 0..BROADCASTS {
        sender
            .messaging()
            .broadcast("crowd", json!({"n": n}), None)
            .await
            .expect("the sender is never held up");
    }
    for (i, reader) in readers.into_iter().enumerate() {
        let seen = tokio::time::timeout(std::time::Duration::from_secs(60), reader)
            .await
            .unwrap_or_else(|_| panic!("member {i} did not get every broadcast"))
            .unwrap();
        assert_eq!(
            seen,
            (0..BROADCASTS as i64).collect::<Vec<_>>(),
            "member {i}"
        );
    }
    drop(deaf);
}
