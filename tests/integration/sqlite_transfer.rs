//! `sqlite.backup` and `sqlite.restore` through the Rust client against a real server: the
//! wire exchange of the SDK's `sqlite_transfer.py`, round trips, and uploads that must change
//! nothing (bad checksum, not SQLite, damaged, wrong chunks, a client that leaves).

use crate::common;

use common::{TestServer, eventually, within};
use roomdeck::auth::ApiScope;
use roomdeck::client::{ClientError, RoomClient};
use roomdeck::protocol::Content;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const CHUNK: usize = 256 * 1024;
const ROOM: &str = "transfer";

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn start(db: &str, ns: Value) -> Content {
    Content::binary(
        json!({"kind": "start", "database": db, "namespace": ns}),
        vec![],
    )
}

fn chunk(kind: &str, data: &[u8]) -> Content {
    Content::binary(json!({"kind": kind}), data.to_vec())
}

fn kind(c: &Content) -> String {
    match c {
        Content::Binary { headers, .. } => headers["kind"].as_str().unwrap_or("?").to_string(),
        other => other.kind().to_string(),
    }
}

/// The SDK's backup: one pull per chunk, until a complete header that matches what came.
async fn backup(client: &RoomClient, db: &str, ns: Value) -> Result<Vec<u8>, ClientError> {
    let mut s = client
        .invoke_stream("sqlite", "backup", Some(start(db, ns)))
        .await?;
    let mut out = Vec::new();
    loop {
        s.send(chunk("pull", b"")).await?;
        let Content::Binary { headers, data } = within("a backup chunk", s.next())
            .await
            .expect("a chunk before the stream ends")?
        else {
            panic!("backup chunks are binary")
        };
        match headers["kind"].as_str() {
            Some("data") => {
                assert_eq!(Value::Object(headers), json!({"kind": "data"}));
                assert!((1..=CHUNK).contains(&data.len()), "{} bytes", data.len());
                out.extend_from_slice(&data);
            }
            Some("complete") => {
                assert!(data.is_empty());
                assert_eq!(
                    Value::Object(headers),
                    json!({"kind": "complete", "size": out.len(), "sha256": hex(&out)})
                );
                break;
            }
            other => panic!("unexpected backup chunk {other:?}"),
        }
    }
    assert!(
        within("the close", s.next()).await.is_none(),
        "closed after complete"
    );
    Ok(out)
}

/// The SDK's restore: a chunk per pull, then `complete` (or `last` instead of it).
async fn restore_with(
    client: &RoomClient,
    db: &str,
    ns: Value,
    bytes: &[u8],
    chunk_size: usize,
    last: Content,
) -> Result<Value, ClientError> {
    let mut s = client
        .invoke_stream("sqlite", "restore", Some(start(db, ns)))
        .await?;
    let mut parts = bytes.chunks(chunk_size);
    let mut last = Some(last);
    loop {
        let got = within("a restore chunk", s.next())
            .await
            .expect("a chunk before the stream ends")?;
        match kind(&got).as_str() {
            "pull" => match parts.next() {
                Some(p) => s.send(chunk("data", p)).await?,
                None => {
                    s.send(last.take().expect("one pull after the last chunk"))
                        .await?
                }
            },
            "complete" => {
                let Content::Binary { headers, data } = got else {
                    unreachable!()
                };
                assert!(data.is_empty());
                assert!(within("the close", s.next()).await.is_none());
                return Ok(Value::Object(headers));
            }
            other => panic!("unexpected restore chunk {other}"),
        }
    }
}

async fn restore(client: &RoomClient, db: &str, bytes: &[u8]) -> Result<Value, ClientError> {
    let complete = Content::binary(
        json!({"kind": "complete", "size": bytes.len(), "sha256": hex(bytes)}),
        vec![],
    );
    restore_with(client, db, Value::Null, bytes, CHUNK, complete).await
}

async fn sql(client: &RoomClient, db: &str, query: &str) {
    client
        .invoke(
            "sqlite",
            "execute_sql",
            Content::binary(json!({"database": db, "query": query}), vec![]),
        )
        .await
        .unwrap_or_else(|e| panic!("{query}: {e}"));
}

async fn databases(client: &RoomClient) -> Vec<String> {
    let listed = client
        .invoke("sqlite", "list_databases", Content::Json(json!({})))
        .await
        .unwrap();
    let Content::Json(v) = listed else {
        panic!("json")
    };
    serde_json::from_value(v["databases"].clone()).unwrap()
}

/// Every row of every user table of a database file, read straight from disk.
fn rows_of(path: &std::path::Path) -> Vec<(String, Vec<String>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut tables: Vec<String> = conn
        .prepare("select name from sqlite_master where type = 'table' order by name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    tables.retain(|t| !t.starts_with("sqlite_"));
    tables
        .into_iter()
        .map(|t| {
            let mut stmt = conn
                .prepare(&format!("select * from \"{t}\" order by rowid"))
                .unwrap();
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    let mut cells = Vec::new();
                    for i in 0..n {
                        cells.push(format!("{:?}", r.get::<_, rusqlite::types::Value>(i)?));
                    }
                    Ok(cells.join("|"))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (t, rows)
        })
        .collect()
}

fn db_path(server: &TestServer, ns: &[&str], name: &str) -> std::path::PathBuf {
    let mut p = server.dir.path().join("rooms").join(ROOM).join("sqlite");
    for part in ns {
        p.push(part);
    }
    p.join(format!("{name}.db"))
}

/// Temp files of transfers still on disk.
fn leftovers(server: &TestServer) -> Vec<String> {
    let dir = server
        .dir
        .path()
        .join("rooms")
        .join(ROOM)
        .join("sqlite")
        .join(".transfer");
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// `app`: two tables, one with ~700 kB of blobs (three chunks), a foreign key and an index.
async fn make_app(client: &RoomClient) {
    client
        .invoke(
            "sqlite",
            "create_database",
            Content::Json(json!({"name": "app"})),
        )
        .await
        .unwrap();
    sql(
        client,
        "app",
        "create table teams (id integer primary key, name text)",
    )
    .await;
    sql(
        client,
        "app",
        "create table people (id integer primary key, name text, team int references teams(id), photo blob)",
    )
    .await;
    sql(client, "app", "create index people_team on people(team)").await;
    sql(
        client,
        "app",
        "insert into teams values (1, 'core'), (2, 'ops')",
    )
    .await;
    sql(
        client,
        "app",
        "insert into people with recursive c(x) as (select 1 union all select x + 1 from c where x < 700) \
         select x, 'person ' || x, 1 + x % 2, randomblob(1000) from c",
    )
    .await;
}

#[tokio::test]
async fn backup_then_restore_under_another_name_keeps_every_row() {
    let server = TestServer::start().await;
    let alice = server.join(ROOM, "alice").await;
    make_app(&alice).await;

    let bytes = backup(&alice, "app", Value::Null).await.unwrap();
    assert!(bytes.len() > 2 * CHUNK, "{} bytes", bytes.len());
    assert!(bytes.starts_with(b"SQLite format 3\0"));
    // A standalone file: rollback journal, not WAL (header bytes 18 and 19).
    assert_eq!(&bytes[18..20], &[1, 1]);
    assert!(leftovers(&server).is_empty(), "{:?}", leftovers(&server));

    // Writes after the backup are not in it.
    sql(&alice, "app", "insert into teams values (3, 'late')").await;

    let ack = restore(&alice, "copy", &bytes).await.unwrap();
    assert_eq!(
        ack,
        json!({"kind": "complete", "size": bytes.len(), "sha256": hex(&bytes)})
    );
    assert_eq!(databases(&alice).await, vec!["app", "copy"]);
    assert!(leftovers(&server).is_empty(), "{:?}", leftovers(&server));

    let copy = rows_of(&db_path(&server, &[], "copy"));
    let mut app = rows_of(&db_path(&server, &[], "app"));
    for (t, rows) in &mut app {
        if t == "teams" {
            rows.retain(|r| !r.contains("late"));
        }
    }
    assert_eq!(copy, app);
    assert!(copy.iter().any(|(t, r)| t == "people" && r.len() == 700));

    // The restored database works through the tools, and backs up to the same rows.
    sql(&alice, "copy", "insert into teams values (9, 'new')").await;
    let again = backup(&alice, "copy", Value::Null).await.unwrap();
    let restored = restore_with(
        &alice,
        "again",
        json!(["team", "a"]),
        &again,
        100_000,
        Content::binary(
            json!({"kind": "complete", "size": again.len(), "sha256": hex(&again)}),
            vec![],
        ),
    )
    .await
    .unwrap();
    assert_eq!(restored["size"], json!(again.len()));
    assert_eq!(
        rows_of(&db_path(&server, &["team", "a"], "again")),
        rows_of(&db_path(&server, &[], "copy"))
    );
    let from_ns = backup(&alice, "again", json!(["team", "a"])).await.unwrap();
    assert!(from_ns.starts_with(b"SQLite format 3\0"));

    // A restore never replaces a database.
    let exists = restore(&alice, "app", &bytes).await.unwrap_err();
    assert_eq!(exists.code(), Some(1004), "{exists}");
    let missing = backup(&alice, "nope", Value::Null).await.unwrap_err();
    assert_eq!(missing.code(), Some(1003), "{missing}");
    assert!(leftovers(&server).is_empty(), "{:?}", leftovers(&server));
}

#[tokio::test]
async fn a_checksum_or_size_mismatch_is_refused_and_creates_nothing() {
    let server = TestServer::start().await;
    let alice = server.join(ROOM, "alice").await;
    make_app(&alice).await;
    let bytes = backup(&alice, "app", Value::Null).await.unwrap();

    let wrong_sha = Content::binary(
        json!({"kind": "complete", "size": bytes.len(), "sha256": "0".repeat(64)}),
        vec![],
    );
    let wrong_size = Content::binary(
        json!({"kind": "complete", "size": bytes.len() + 1, "sha256": hex(&bytes)}),
        vec![],
    );
    let not_hex = Content::binary(
        json!({"kind": "complete", "size": bytes.len(), "sha256": "XYZ"}),
        vec![],
    );
    for (what, last) in [
        ("sha", wrong_sha),
        ("size", wrong_size),
        ("malformed", not_hex),
    ] {
        let e = restore_with(&alice, "copy", Value::Null, &bytes, CHUNK, last)
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some(1002), "{what}: {e}");
        assert!(
            e.to_string().contains("nothing was restored"),
            "{what}: {e}"
        );
    }
    // A chunk left out (the announced size and hash are of the whole file).
    let complete = Content::binary(
        json!({"kind": "complete", "size": bytes.len(), "sha256": hex(&bytes)}),
        vec![],
    );
    let e = restore_with(
        &alice,
        "copy",
        Value::Null,
        &bytes[..CHUNK],
        CHUNK,
        complete,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("does not match"), "{e}");

    assert_eq!(databases(&alice).await, vec!["app"]);
    assert!(!db_path(&server, &[], "copy").exists());
    assert!(leftovers(&server).is_empty(), "{:?}", leftovers(&server));
}

#[tokio::test]
async fn files_that_are_not_sound_sqlite_databases_are_refused() {
    let server = TestServer::start().await;
    let alice = server.join(ROOM, "alice").await;
    make_app(&alice).await;
    let good = backup(&alice, "app", Value::Null).await.unwrap();

    let text = b"name,age\nAda,36\n".repeat(20);
    let e = restore(&alice, "csv", &text).await.unwrap_err();
    assert_eq!(e.code(), Some(1002), "{e}");
    assert!(e.to_string().contains("not a SQLite database"), "{e}");

    let tiny = restore(&alice, "tiny", b"SQLite").await.unwrap_err();
    assert_eq!(tiny.code(), Some(1002), "{tiny}");

    // The header is right but the file is cut short, or pages are overwritten.
    let cut = &good[..good.len() / 2];
    let e = restore(&alice, "cut", cut).await.unwrap_err();
    assert_eq!(e.code(), Some(1002), "{e}");
    assert!(e.to_string().contains("not a sound SQLite database"), "{e}");
    let mut scribbled = good.clone();
    let page = u16::from_be_bytes([good[16], good[17]]) as usize;
    for b in &mut scribbled[page..3 * page] {
        *b = 0x5a;
    }
    let e = restore(&alice, "scribbled", &scribbled).await.unwrap_err();
    assert_eq!(e.code(), Some(1002), "{e}");

    // Sound pages, but a row that refers to a missing parent (the server enforces foreign
    // keys, so the file is made here).
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("orphans.db");
    rusqlite::Connection::open(&local)
        .unwrap()
        .execute_batch(
            "pragma foreign_keys = off;
             create table p (id integer primary key);
             create table c (id int, p int references p(id));
             insert into c values (1, 42);",
        )
        .unwrap();
    let orphans = std::fs::read(&local).unwrap();
    let e = restore(&alice, "fk", &orphans).await.unwrap_err();
    assert!(e.to_string().contains("foreign keys"), "{e}");

    assert_eq!(databases(&alice).await, vec!["app"]);
    assert!(leftovers(&server).is_empty(), "{:?}", leftovers(&server));
}

#[tokio::test]
async fn wrong_chunks_are_refused() {
    let server = TestServer::start().await;
    let alice = server.join(ROOM, "alice").await;
    make_app(&alice).await;
    let good = backup(&alice, "app", Value::Null).await.unwrap();

    // Larger than a chunk may be.
    let big = restore_with(&alice, "big", Value::Null, &good, CHUNK + 1, Content::Empty)
        .await
        .unwrap_err();
    assert!(big.to_string().contains("1 to 262144 bytes"), "{big}");
    // The client gave up (the SDK sends `abort` when its source fails).
    let aborted = restore_with(
        &alice,
        "aborted",
        Value::Null,
        &good[..10],
        CHUNK,
        chunk("abort", b""),
    )
    .await
    .unwrap_err();
    assert!(aborted.to_string().contains("aborted"), "{aborted}");
    // Not a data chunk at all.
    let pulled = restore_with(&alice, "p", Value::Null, b"", CHUNK, chunk("pull", b""))
        .await
        .unwrap_err();
    assert_eq!(pulled.code(), Some(1002), "{pulled}");
    // A start chunk that is not one.
    let e = alice
        .invoke_stream(
            "sqlite",
            "restore",
            Some(Content::binary(
                json!({"kind": "data", "database": "x"}),
                vec![1],
            )),
        )
        .await
        .err()
        .expect("refused");
    assert_eq!(e.code(), Some(1002), "{e}");
    // A backup takes pulls only.
    let mut s = alice
        .invoke_stream("sqlite", "backup", Some(start("app", Value::Null)))
        .await
        .unwrap();
    s.send(chunk("data", b"x")).await.unwrap();
    let e = s.next().await.expect("an error").unwrap_err();
    assert_eq!(e.code(), Some(1002), "{e}");

    assert_eq!(databases(&alice).await, vec!["app"]);
    eventually("temp files removed", || leftovers(&server).is_empty()).await;
}

#[tokio::test]
async fn a_client_that_leaves_mid_transfer_leaves_nothing_behind() {
    let server = TestServer::start().await;
    let alice = server.join(ROOM, "alice").await;
    make_app(&alice).await;
    let good = backup(&alice, "app", Value::Null).await.unwrap();

    let bob = server.join(ROOM, "bob").await;
    let mut up = bob
        .invoke_stream("sqlite", "restore", Some(start("half", Value::Null)))
        .await
        .unwrap();
    assert_eq!(kind(&up.next().await.unwrap().unwrap()), "pull");
    up.send(chunk("data", &good[..CHUNK])).await.unwrap();
    assert_eq!(kind(&up.next().await.unwrap().unwrap()), "pull");
    let mut down = bob
        .invoke_stream("sqlite", "backup", Some(start("app", Value::Null)))
        .await
        .unwrap();
    down.send(chunk("pull", b"")).await.unwrap();
    assert_eq!(kind(&down.next().await.unwrap().unwrap()), "data");
    assert_eq!(leftovers(&server).len(), 2, "{:?}", leftovers(&server));
    bob.close().await;

    eventually("temp files removed", || leftovers(&server).is_empty()).await;
    assert_eq!(databases(&alice).await, vec!["app"]);
    assert!(!db_path(&server, &[], "half").exists());
}

#[tokio::test]
async fn backup_needs_every_table_and_restore_needs_create() {
    let server = TestServer::start().await;
    let alice = server.join(ROOM, "alice").await;
    make_app(&alice).await;
    let good = backup(&alice, "app", Value::Null).await.unwrap();

    let scope: ApiScope = serde_json::from_value(json!({"sqlite": {
        "create_database": false,
        "databases": [{"name": "app", "tables": [{"database": "app", "table": "people", "read": true}]}]
    }}))
    .unwrap();
    let carol = server.join_with(ROOM, "carol", scope).await;
    let e = backup(&carol, "app", Value::Null).await.unwrap_err();
    assert_eq!(e.code(), Some(1001), "{e}");
    let e = restore(&carol, "mine", &good).await.unwrap_err();
    assert_eq!(e.code(), Some(1001), "{e}");
    assert_eq!(databases(&alice).await, vec!["app"]);
}

#[tokio::test]
async fn temp_files_left_by_a_crash_are_removed_when_the_room_opens() {
    let server = TestServer::start().await;
    let dir = server
        .dir
        .path()
        .join("rooms")
        .join(ROOM)
        .join("sqlite")
        .join(".transfer");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("restore-stale.db"), b"half an upload").unwrap();
    let alice = server.join(ROOM, "alice").await;
    assert!(leftovers(&server).is_empty(), "{:?}", leftovers(&server));
    assert!(databases(&alice).await.is_empty());
}

#[tokio::test]
async fn a_restore_larger_than_the_upload_limit_is_refused() {
    let server = TestServer::start_with(|c| c.max_upload_size = 8 * 1024).await;
    let alice = server.join(ROOM, "alice").await;
    make_app(&alice).await;
    let bytes = backup(&alice, "app", Value::Null).await.unwrap();
    assert!(
        bytes.len() > 8 * 1024,
        "the backup is {} bytes",
        bytes.len()
    );
    let e = restore_with(
        &alice,
        "copy",
        Value::Null,
        &bytes,
        4096,
        Content::binary(
            json!({"kind": "complete", "size": bytes.len(), "sha256": hex(&bytes)}),
            vec![],
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Some(1002), "{e}");
    assert!(e.to_string().contains("max-upload-size"), "{e}");
    assert!(!db_path(&server, &[], "copy").exists());
    assert!(leftovers(&server).is_empty(), "{:?}", leftovers(&server));
}
