//! The server against raw WebSocket traffic: pings, malformed packets and messages.

use crate::common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use roomdeck::auth::ApiScope;
use roomdeck::protocol::{Content, Reassembler, encode_packets, pack_message};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn raw_join(s: &TestServer, room: &str) -> Socket {
    let mut req = s.url(room).into_client_request().unwrap();
    let bearer = format!("Bearer {}", token(room, "raw", ApiScope::agent_default()));
    req.headers_mut()
        .insert("Authorization", bearer.parse().unwrap());
    tokio_tungstenite::connect_async(req)
        .await
        .expect("joins")
        .0
}

/// Reads messages until one of `msg_type` with request id `id` arrives (None = any id).
pub(crate) async fn read_until(ws: &mut Socket, msg_type: &str, id: Option<u64>) -> Vec<u8> {
    read_message(ws, msg_type, id).await.1
}

/// `read_until`, with the id the message carried.
pub(crate) async fn read_message(
    ws: &mut Socket,
    msg_type: &str,
    id: Option<u64>,
) -> (u64, Vec<u8>) {
    let mut r = Reassembler::new(1 << 24);
    loop {
        let frame = within("a message", ws.next())
            .await
            .expect("socket open")
            .expect("frame");
        if let Message::Binary(b) = frame {
            if let Some(m) = r.push(&b).expect("server packets are well formed") {
                if m.msg_type == msg_type && id.is_none_or(|i| i == m.id) {
                    return (m.id, m.payload);
                }
            }
        }
    }
}

/// Reads until the answer to request `id` and checks it is an error with `code`.
async fn expect_error(ws: &mut Socket, id: u64, code: i64) {
    let answer = Content::unpack(&read_until(ws, "__response__", Some(id)).await).unwrap();
    assert!(
        matches!(answer, Content::Error { code: Some(c), .. } if c == code),
        "request {id}: {answer:?}"
    );
}

pub(crate) async fn send(ws: &mut Socket, id: u64, msg_type: &str, body: &[u8]) {
    for p in encode_packets(id, msg_type, body) {
        ws.send(Message::Binary(p.into())).await.unwrap();
    }
}

fn invoke(toolkit: &str, tool: &str, args: serde_json::Value) -> Vec<u8> {
    let header = json!({"toolkit": toolkit, "tool": tool, "tool_call_id": "abc", "arguments": {"type": "json", "json": args}});
    pack_message(header.as_object().unwrap(), b"")
}

#[tokio::test]
async fn handshake_then_ping_is_answered_with_pong() {
    let s = TestServer::start().await;
    let mut ws = raw_join(&s, "w").await;
    let ready = read_until(&mut ws, "room_ready", None).await;
    let (h, _) = roomdeck::protocol::unpack_message(&ready).unwrap();
    assert_eq!(h["room_name"], "w");
    assert!(h["session_id"].as_str().is_some() && h["room_url"].as_str().is_some());
    ws.send(Message::Ping(b"hi".to_vec().into())).await.unwrap();
    loop {
        match within("pong", ws.next()).await.unwrap().unwrap() {
            Message::Pong(p) => {
                assert_eq!(&p[..], b"hi");
                break;
            }
            _ => continue,
        }
    }
}

#[tokio::test]
async fn malformed_input_gets_errors_and_the_connection_survives() {
    let s = TestServer::start().await;
    let mut ws = raw_join(&s, "m").await;
    read_until(&mut ws, "connected", None).await;
    // Garbage frames: too short, a data packet with no message, a text frame.
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    ws.send(Message::Binary(
        encode_packets(9, "x", b"abc")[1].clone().into(),
    ))
    .await
    .unwrap();
    ws.send(Message::Text("hello".into())).await.unwrap();
    // A body whose header is not JSON, then one whose header is an array.
    let mut bad = 3u64.to_be_bytes().to_vec();
    bad.extend_from_slice(b"{x}");
    send(&mut ws, 10, "room.invoke_tool", &bad).await;
    expect_error(&mut ws, 10, 1002).await;
    let mut array = 2u64.to_be_bytes().to_vec();
    array.extend_from_slice(b"[]");
    send(&mut ws, 11, "room.invoke_tool", &array).await;
    expect_error(&mut ws, 11, 1002).await;
    // An unknown message type is answered, not dropped.
    send(
        &mut ws,
        12,
        "room.nonsense",
        &pack_message(&serde_json::Map::new(), b""),
    )
    .await;
    expect_error(&mut ws, 12, 1002).await;
    // A message interleaved with another is dropped; the next whole one works.
    let a = encode_packets(13, "room.invoke_tool", &invoke("queues", "list", json!({})));
    ws.send(Message::Binary(a[0].clone().into())).await.unwrap();
    send(
        &mut ws,
        14,
        "room.invoke_tool",
        &invoke("queues", "list", json!({})),
    )
    .await;
    let answer = Content::unpack(&read_until(&mut ws, "__response__", Some(14)).await).unwrap();
    assert_eq!(answer, Content::Json(json!({"queues": []})));
}

#[tokio::test]
async fn oversized_messages_are_refused_without_taking_the_server_down() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = roomdeck::server::ServerConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        dir.path().to_path_buf(),
        SECRET.into(),
    );
    config.max_message_size = 4096;
    let server = roomdeck::server::start(config).await.unwrap();
    let s = TestServer {
        dir,
        server: Some(server),
    };
    let mut ws = raw_join(&s, "big").await;
    read_until(&mut ws, "connected", None).await;
    let big = invoke(
        "queues",
        "send",
        json!({"name": "q", "message": {"blob": "x".repeat(10_000)}}),
    );
    send(&mut ws, 20, "room.invoke_tool", &big).await;
    send(
        &mut ws,
        21,
        "room.invoke_tool",
        &invoke("queues", "list", json!({})),
    )
    .await;
    let answer = Content::unpack(&read_until(&mut ws, "__response__", Some(21)).await).unwrap();
    assert_eq!(
        answer,
        Content::Json(json!({"queues": []})),
        "the oversized send changed nothing"
    );
}

#[tokio::test]
async fn a_client_that_never_reads_is_disconnected_and_the_room_goes_on() {
    let s = TestServer::start().await;
    // The slow participant enables messaging, then never reads again.
    let mut slow = raw_join(&s, "slow").await;
    read_until(&mut slow, "connected", None).await;
    send(
        &mut slow,
        1,
        "room.invoke_tool",
        &invoke("messaging", "enable", json!({})),
    )
    .await;
    let fast = s.join("slow", "fast").await;
    fast.messaging().enable().await.unwrap();
    eventually("fast sees the slow one", || fast.participants().len() == 1).await;
    let slow_id = fast.participants()[0].id.clone();
    let blob = "x".repeat(16 * 1024);
    // Far more than the slow client's socket and send queue hold.
    for i in 0..3000 {
        fast.messaging()
            .broadcast("flood", json!({"i": i, "blob": blob}), None)
            .await
            .expect("the sender is never held up");
        if fast.participants().is_empty() {
            break;
        }
    }
    eventually("the slow participant is removed", || {
        fast.participants().iter().all(|p| p.id != slow_id)
    })
    .await;
    assert!(
        fast.queues().list().await.is_ok(),
        "the room still serves everyone else"
    );
}

/// One participant floods the server with 20,000 invoke calls without reading the answers;
/// another participant's calls keep being answered during and after the flood (the flooder's
/// unread answers count against its bounded send queue, not the room's).
#[tokio::test]
async fn a_flood_of_invoke_calls_does_not_starve_the_room() {
    let s = TestServer::start().await;
    let mut flooder = raw_join(&s, "flood").await;
    read_until(&mut flooder, "connected", None).await;
    let other = s.join("flood", "other").await;
    let body = invoke("queues", "list", json!({}));
    let flood = tokio::spawn(async move {
        for id in 1..=20_000u64 {
            for p in encode_packets(id, "room.invoke_tool", &body) {
                if flooder.send(Message::Binary(p.into())).await.is_err() {
                    return id;
                }
            }
        }
        20_000
    });
    for n in 0..20 {
        within(
            "the other participant is answered during the flood",
            other.queues().list(),
        )
        .await
        .unwrap_or_else(|e| panic!("call {n} failed during the flood: {e}"));
    }
    flood.await.unwrap();
    within("and after it", other.queues().list()).await.unwrap();
}

/// Half-open connections: TCP connections that never finish (or never start) the WebSocket
/// handshake, and one that stops mid-request, do not hold up anyone else.
#[tokio::test]
async fn half_open_connections_do_not_block_others() {
    use tokio::io::AsyncWriteExt;
    let s = TestServer::start().await;
    let addr = s.http_url().trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    for i in 0..50 {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        if i % 2 == 0 {
            // Half a request line, then silence.
            c.write_all(b"GET /rooms/half HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
        }
        idle.push(c);
    }
    let client = within("a join while 50 connections hang", s.join("half", "ok")).await;
    within("a call while they hang", client.queues().list())
        .await
        .unwrap();
    drop(idle);
}

/// A participant that leaves in the middle of a streamed upload (its request stream never
/// closed): the server drops the staged bytes, creates no file, and keeps serving.
#[tokio::test]
async fn leaving_mid_upload_leaves_nothing_behind() {
    let s = TestServer::start().await;
    let writer = s.join("abrupt", "writer").await;
    let start = Content::binary(
        json!({"kind": "start", "path": "half.bin", "overwrite": true, "size": 4_000_000}),
        vec![],
    );
    let mut stream = writer
        .invoke_stream("storage", "upload", Some(start))
        .await
        .unwrap();
    within("the first pull", stream.next())
        .await
        .unwrap()
        .unwrap();
    stream
        .send(Content::binary(
            json!({"kind": "data"}),
            vec![7u8; 1_000_000],
        ))
        .await
        .unwrap();
    within("the second pull", stream.next())
        .await
        .unwrap()
        .unwrap();
    std::mem::forget(stream);
    writer.close().await;
    drop(writer);

    let reader = s.join("abrupt", "reader").await;
    let files = s.dir.path().join("rooms/abrupt");
    eventually("the staged upload is removed", || {
        std::fs::read_dir(files.join(".uploads"))
            .map(|d| d.count() == 0)
            .unwrap_or(true)
    })
    .await;
    assert!(!reader.storage().exists("half.bin").await.unwrap());
    within("the room still serves", reader.queues().list())
        .await
        .unwrap();
}
