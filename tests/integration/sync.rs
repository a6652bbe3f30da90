//! The sync toolkit (shared documents) through the real server and the Rust client.

use crate::common;

use common::*;
use roomdeck::auth::ApiScope;
use roomdeck::auth::scope::{SyncGrant, SyncPathGrant};
use roomdeck::client::{ClientError, OpenOptions, RoomClient, SyncDocument};
use roomdeck::protocol::Content;
use serde_json::{Value, json};
use yrs::{Xml, XmlElementPrelim, XmlFragment};

pub(crate) fn schema() -> Value {
    json!({
        "$root_tag_ref": "#/$defs/list",
        "type": "object",
        "additionalProperties": false,
        "required": ["list"],
        "properties": {"list": {"type": "object", "additionalProperties": false, "required": ["items"],
            "properties": {"items": {"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/item"}]}}}}},
        "$defs": {
            "list": {"type": "object", "additionalProperties": false, "required": ["list"],
                "properties": {"list": {"type": "object", "additionalProperties": false, "required": ["items"],
                    "properties": {"items": {"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/item"}]}}}}}},
            "item": {"type": "object", "additionalProperties": false, "required": ["item"],
                "properties": {"item": {"type": "object", "additionalProperties": false, "required": ["name"],
                    "properties": {"name": {"type": ["string", "null"]}}}}}
        }
    })
}

pub(crate) fn new_doc(items: &[&str]) -> OpenOptions {
    OpenOptions {
        create: true,
        schema: Some(schema()),
        initial_json: Some(list(items)),
    }
}

pub(crate) fn list(items: &[&str]) -> Value {
    let items: Vec<Value> = items.iter().map(|n| json!({"item": {"name": n}})).collect();
    json!({"list": {"items": items}})
}

fn code(e: ClientError) -> i64 {
    e.code()
        .unwrap_or_else(|| panic!("expected a room error code, got {e}"))
}

async fn add_item(doc: &SyncDocument, name: &str) {
    let name = name.to_string();
    doc.edit(move |txn, root| {
        let el = root.push_back(txn, XmlElementPrelim::empty("item"));
        el.insert_attribute(txn, "$id", format!("id-{name}"));
        el.insert_attribute(txn, "name", name);
    })
    .await
    .expect("edit is sent");
}

async fn open(c: &RoomClient, path: &str, options: OpenOptions) -> SyncDocument {
    within("open", c.sync().open(path, options))
        .await
        .expect("opens")
}

#[tokio::test]
async fn two_participants_see_each_others_edits() {
    let server = TestServer::start().await;
    let alice = server.join("r", "alice").await;
    let bob = server.join("r", "bob").await;

    let mut a = open(&alice, "/notes/shopping.list", new_doc(&["milk"])).await;
    assert_eq!(a.to_json(false), list(&["milk"]));
    assert_eq!(a.schema(), &schema());
    let mut b = open(&bob, "notes/shopping.list", OpenOptions::default()).await;
    assert_eq!(b.to_json(false), list(&["milk"]));

    add_item(&a, "eggs").await;
    within(
        "bob sees eggs",
        b.wait_for(|v| *v == list(&["milk", "eggs"])),
    )
    .await
    .unwrap();
    add_item(&b, "bread").await;
    within(
        "alice sees bread",
        a.wait_for(|v| *v == list(&["milk", "eggs", "bread"])),
    )
    .await
    .unwrap();

    // A third participant who joins late gets the whole document, also through describe.
    let carol = server.join("r", "carol").await;
    let described = carol.sync().describe("notes/shopping.list").await.unwrap();
    assert_eq!(described, list(&["milk", "eggs", "bread"]));
    let listed = carol.sync().list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].path, "notes/shopping.list");
    assert_eq!(listed[0].open, 2);

    // The whole content replaced, as `sync update` does.
    a.replace_json(&list(&["tea"])).await.unwrap();
    within("bob sees tea", b.wait_for(|v| *v == list(&["tea"])))
        .await
        .unwrap();
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn documents_survive_a_restart() {
    let mut server = TestServer::start().await;
    {
        let alice = server.join("r", "alice").await;
        alice
            .sync()
            .create("kept.list", Some(schema()), Some(list(&["one"])))
            .await
            .unwrap();
        let a = open(&alice, "kept.list", OpenOptions::default()).await;
        add_item(&a, "two").await;
        a.close().await;

        // Still open when the server stops: the shutdown flush keeps the edit.
        let b = open(&alice, "kept.list", OpenOptions::default()).await;
        add_item(&b, "three").await;
        let bob = server.join("r", "bob").await;
        let mut watcher = open(&bob, "kept.list", OpenOptions::default()).await;
        within(
            "the edit arrived",
            watcher.wait_for(|v| *v == list(&["one", "two", "three"])),
        )
        .await
        .unwrap();
        alice.close().await;
        bob.close().await;
    }
    server.restart().await;
    let carol = server.join("r", "carol").await;
    let c = open(&carol, "kept.list", OpenOptions::default()).await;
    assert_eq!(c.to_json(false), list(&["one", "two", "three"]));
    assert_eq!(
        carol.sync().describe("kept.list").await.unwrap(),
        list(&["one", "two", "three"])
    );
    let ids = c.to_json(true);
    assert_eq!(ids["list"]["items"][1]["item"]["$id"], "id-two");
}

#[tokio::test]
async fn read_only_paths_refuse_writes() {
    let server = TestServer::start().await;
    let owner = server.join("r", "owner").await;
    owner
        .sync()
        .create("shared/plan.list", Some(schema()), Some(list(&["a"])))
        .await
        .unwrap();
    owner
        .sync()
        .create("private/x.list", Some(schema()), None)
        .await
        .unwrap();

    let mut scope = ApiScope::agent_default();
    scope.sync = Some(SyncGrant {
        paths: Some(vec![SyncPathGrant {
            path: "shared/*".into(),
            read_only: true,
        }]),
    });
    let reader = server.join_with("r", "reader", scope).await;

    // Reading is allowed, within the grant only.
    assert_eq!(
        reader.sync().describe("shared/plan.list").await.unwrap(),
        list(&["a"])
    );
    let e = reader.sync().describe("private/x.list").await.unwrap_err();
    assert_eq!(code(e), 1001);
    let e = reader
        .sync()
        .open("private/x.list", OpenOptions::default())
        .await
        .err()
        .expect("refused");
    assert_eq!(code(e), 1001);
    let listed = reader.sync().list().await.unwrap();
    assert_eq!(
        listed.iter().map(|d| d.path.as_str()).collect::<Vec<_>>(),
        ["shared/plan.list"]
    );

    // Creating is a write.
    let e = reader
        .sync()
        .create("shared/new.list", Some(schema()), None)
        .await
        .unwrap_err();
    assert_eq!(code(e), 1001);
    let e = reader
        .sync()
        .open("shared/new.list", new_doc(&[]))
        .await
        .err()
        .expect("refused");
    assert_eq!(code(e), 1001);

    // An edit on the open stream is refused with 1001 and ends the stream; nobody sees it.
    let mut doc = open(&reader, "shared/plan.list", OpenOptions::default()).await;
    add_item(&doc, "sneaky").await;
    let e = within("refusal", doc.changed()).await.unwrap_err();
    assert_eq!(code(e), 1001);
    assert_eq!(
        owner.sync().describe("shared/plan.list").await.unwrap(),
        list(&["a"])
    );
}

#[tokio::test]
async fn errors_carry_the_sdk_codes() {
    let server = TestServer::start().await;
    let c = server.join("r", "c").await;
    let s = c.sync();
    assert_eq!(code(s.describe("nope.list").await.unwrap_err()), 1003);
    let e = s
        .open("nope.list", OpenOptions::default())
        .await
        .err()
        .expect("missing");
    assert_eq!(code(e), 1003);
    // No schema given and none deployed under .schemas/.
    let e = s
        .open(
            "nope.list",
            OpenOptions {
                create: true,
                ..Default::default()
            },
        )
        .await
        .err()
        .expect("no schema");
    assert_eq!(code(e), 1002);
    s.create("a.list", Some(schema()), None).await.unwrap();
    assert_eq!(
        code(s.create("a.list", Some(schema()), None).await.unwrap_err()),
        1004
    );
    let bad_json = s
        .create(
            "b.list",
            Some(schema()),
            Some(json!({"list": {"items": [{"x": {}}]}})),
        )
        .await
        .unwrap_err();
    assert_eq!(code(bad_json), 1002);
    let bad_schema = s
        .create("b.list", Some(json!({"x": 1})), None)
        .await
        .unwrap_err();
    assert_eq!(code(bad_schema), 1002);
    assert_eq!(
        code(s.create("../x", Some(schema()), None).await.unwrap_err()),
        1001
    );
    let closed = c
        .invoke("sync", "close", Content::Json(json!({"path": "a.list"})))
        .await
        .unwrap_err();
    assert_eq!(code(closed), 4001);

    // Opening the same document twice on one connection is 4002.
    let first = open(&c, "a.list", OpenOptions::default()).await;
    let e = s
        .open("a.list", OpenOptions::default())
        .await
        .err()
        .expect("twice");
    assert_eq!(code(e), 4002);
    // close ends the open stream.
    c.invoke("sync", "close", Content::Json(json!({"path": "a.list"})))
        .await
        .unwrap();
    let mut first = first;
    assert!(within("closed", first.changed()).await.is_err());

    // A schema deployed in storage is found by the document's extension.
    let body = schema().to_string().into_bytes();
    let mut reader = body.as_slice();
    let mut quiet = |_: u64, _: Option<u64>| {};
    c.storage()
        .upload(
            ".schemas/todo.json",
            &mut reader,
            Some(body.len() as u64),
            true,
            &mut quiet,
        )
        .await
        .unwrap();
    let d = s
        .open(
            "mine.todo",
            OpenOptions {
                create: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(d.to_json(false), list(&[]));
}

#[tokio::test]
async fn hostile_updates_are_refused_and_the_server_stays_up() {
    let server = TestServer::start().await;
    let c = server.join("r", "c").await;
    c.sync()
        .create("h.list", Some(schema()), Some(list(&["x"])))
        .await
        .unwrap();
    let open_and_send = |payload: Vec<u8>| {
        let c = c.clone();
        async move {
            let start = Content::binary(
                json!({"kind": "start", "path": "h.list", "create": false}),
                vec![],
            );
            let mut stream = c.invoke_stream("sync", "open", Some(start)).await.unwrap();
            let state = within("state", stream.next()).await.unwrap().unwrap();
            assert!(matches!(state, Content::Binary { .. }));
            stream
                .send(Content::binary(json!({"kind": "sync"}), payload))
                .await
                .unwrap();
            stream
        }
    };
    let mut stream = open_and_send(b"%%% not base64".to_vec()).await;
    let e = within("refusal", stream.next())
        .await
        .expect("an answer")
        .expect_err("an error");
    assert_eq!(code(e), 1002);
    drop(stream);
    // Random bytes: refused or harmless, never a crash.
    let mut x: u64 = 0x2545f4914f6cdd1d;
    for round in 0..20 {
        let bytes: Vec<u8> = (0..(round * 7 + 3))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes);
        drop(open_and_send(b64.into_bytes()).await);
    }
    // A bad state vector and a start chunk of the wrong kind.
    let start = Content::binary(
        json!({"kind": "start", "path": "h.list", "vector": "////"}),
        vec![],
    );
    let e = c.invoke_stream("sync", "open", Some(start)).await;
    assert!(
        e.is_err() || {
            let mut s = e.unwrap();
            matches!(s.next().await, Some(Err(_)))
        }
    );
    assert!(c.sync().describe("h.list").await.is_ok());
}
