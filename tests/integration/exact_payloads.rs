//! Participants' JSON reaches its receiver value for value through the real server and the
//! Rust client: a message, a queue item, a binary content's headers and a tool's arguments
//! (both as forwarded to the participant hosting the toolkit). Numbers are compared by their
//! text (serde_json's arbitrary_precision), so 1.5e-300 must not become
//! 1.4999999999999998e-300 and 2**70 must not become a float.

use crate::common;
use crate::wire::{Socket, raw_join, read_message, read_until, send};

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use roomdeck::client::{RoomClient, RoomEvent};
use roomdeck::protocol::{Content, pack_message, unpack_message};
use serde_json::{Value, json};

/// JSON numbers as text: 64-bit integers, integers past 64 bits, floats printed shortest
/// (Rust's `{:e}`), and mantissa/exponent pairs across the float range.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (1u64..u64::MAX, any::<u64>()).prop_map(|(a, b)| format!("{a}{b:020}")),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        (1u32..99_999, -300i32..300).prop_map(|(m, e)| format!("{m}e{e}")),
        Just("1.5e-300".to_string()),
    ]
}

/// A JSON document as text: unicode strings, numbers, nesting up to 6 deep.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        number(),
        any::<String>().prop_map(|s| Value::String(s).to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("null".to_string()),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8)
                .prop_map(|v| format!("[{}]", v.join(","))),
            proptest::collection::vec((any::<String>(), inner), 0..8).prop_map(|kv| {
                let fields: Vec<String> = kv
                    .into_iter()
                    .map(|(k, v)| format!("{}:{v}", Value::String(k)))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

struct Ends {
    alice: RoomClient,
    bob: RoomClient,
    bob_events: tokio::sync::broadcast::Receiver<RoomEvent>,
    host: Socket,
}

/// The raw host registers toolkit `echo` so calls on it are forwarded to this socket.
async fn ends(s: &TestServer) -> Ends {
    let mut host = raw_join(s, "exact").await;
    read_until(&mut host, "room_ready", None).await;
    let spec = json!({"name": "echo", "tools": {"take": {"description": "takes anything"}}});
    send(
        &mut host,
        1,
        "room.register_toolkit",
        &pack_message(spec.as_object().unwrap(), b""),
    )
    .await;
    let answer = Content::unpack(&read_until(&mut host, "__response__", Some(1)).await).unwrap();
    assert!(matches!(answer, Content::Json(_)), "registered: {answer:?}");
    let alice = s.join("exact", "alice").await;
    let bob = s.join("exact", "bob").await;
    let bob_events = bob.subscribe();
    Ends {
        alice,
        bob,
        bob_events,
        host,
    }
}

/// Sends `value` four ways and returns what each receiver got.
async fn relay(e: &mut Ends, n: usize, value: &Value) -> Vec<(&'static str, Value)> {
    let mut got = Vec::new();
    let msg_type = format!("exact-{n}");
    let message = json!({ "v": value });
    e.alice
        .messaging()
        .send(&e.bob.participant_id(), &msg_type, message, None)
        .await
        .expect("sends");
    let received = within("the message at bob", async {
        loop {
            if let Ok(RoomEvent::Message {
                msg_type: t,
                message,
                ..
            }) = e.bob_events.recv().await
                && t == msg_type
            {
                return message;
            }
        }
    })
    .await;
    got.push(("message", received["v"].clone()));

    let queue = format!("q{n}");
    e.alice
        .queues()
        .send(&queue, json!({ "v": value }), true)
        .await
        .expect("queued");
    let item = e
        .alice
        .queues()
        .receive(&queue, false, false)
        .await
        .expect("received");
    got.push((
        "queue item",
        item.map(|i| i["v"].clone()).unwrap_or(Value::Null),
    ));

    for (what, args) in [
        ("tool argument", Content::Json(value.clone())),
        (
            "binary header",
            Content::binary(json!({ "h": value }), vec![1, 2, 3]),
        ),
    ] {
        let alice = e.alice.clone();
        let call = tokio::spawn(async move { alice.invoke("echo", "take", args).await });
        let (id, forwarded) = read_message(&mut e.host, "room.tool_call.echo", None).await;
        let (header, _) = unpack_message(&forwarded).unwrap();
        let arguments = &header["arguments"];
        let seen = match what {
            "tool argument" => arguments["json"].clone(),
            _ => arguments["headers"]["h"].clone(),
        };
        got.push((what, seen));
        // Answered under the forwarded call's id, so the caller's invoke completes.
        send(
            &mut e.host,
            id,
            "room.tool_call_response",
            &Content::Empty.pack(),
        )
        .await;
        within("the call to finish", call)
            .await
            .unwrap()
            .expect("answered");
    }
    got
}

#[test]
fn any_json_reaches_its_receiver_value_for_value() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start());
    // TestRunner takes an Fn: the ends and the case counter live in cells.
    let e = std::cell::RefCell::new(rt.block_on(ends(&s)));
    let mut runner = TestRunner::new(Config {
        cases: 48,
        ..Config::default()
    });
    let n = std::cell::Cell::new(0);
    runner
        .run(&json_text(), |text| {
            n.set(n.get() + 1);
            let sent: Value = serde_json::from_str(&text).expect("the strategy writes JSON");
            for (what, got) in rt.block_on(relay(&mut e.borrow_mut(), n.get(), &sent)) {
                prop_assert_eq!(&got, &sent, "{} changed on the way: {}", what, text);
            }
            Ok(())
        })
        .unwrap();
}
