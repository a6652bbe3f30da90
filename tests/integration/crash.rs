//! Crash safety: `roomdeck serve` killed with SIGKILL at random points while clients upload
//! files, send queue items and insert rows, ROUNDS times (50; `ROOMDECK_CRASH_ROUNDS` changes
//! it). After each restart every write the server answered is there, no file is partial, no
//! upload is left staged and the table passes SQLite's integrity check. A consumer receives
//! queue items meanwhile: every acknowledged item was either delivered to it or is still
//! queued after the restart (at-least-once: a delivered one may be queued again).

use crate::common;

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use roomdeck::auth::ApiScope;
use roomdeck::client::RoomClient;
use roomdeck::client::dataset::{SqlResult, parse_columns};
use serde_json::{Map, Value, json};

const ROOM: &str = "crash";

/// What the server acknowledged during one round.
#[derive(Default)]
struct Acked {
    queue: Vec<(u64, u64)>,
    /// Queue items a consumer was answered with before the kill.
    received: HashSet<(u64, u64)>,
    files: Vec<String>,
    rows: Vec<i64>,
}

/// Small deterministic pseudo-random numbers (no dependency; the seed makes a failure
/// reproducible from the round number printed with it).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }
}

/// A file's full content, derived from its name: a partial file can never match it.
fn content(name: &str, size: usize) -> Vec<u8> {
    let seed = name
        .bytes()
        .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    let mut body: Vec<u8> = (0..size)
        .map(|i| seed.wrapping_add((i % 251) as u8))
        .collect();
    body.extend_from_slice(format!("|{name}|{size}").as_bytes());
    body
}

fn size_of(name: &str) -> usize {
    // r{round}-f{i}.bin: sizes from a few bytes to ~600 KB, so some uploads span many chunks.
    let i: usize = name
        .trim_end_matches(".bin")
        .rsplit('f')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (i * 97_331) % 600_000
}

async fn try_join(url: &str) -> Option<RoomClient> {
    let jwt = token(ROOM, "writer", ApiScope::full());
    RoomClient::connect(&format!("{url}/rooms/{ROOM}"), &jwt)
        .await
        .ok()
}

async fn join(url: &str) -> RoomClient {
    try_join(url).await.expect("joins")
}

/// Writes until the connection dies, recording each acknowledged write.
async fn write_load(url: String, round: u64, acked: Arc<Mutex<Acked>>) {
    // The kill may come before a writer has joined; that writer then has nothing to check.
    let (Some(q), Some(f), Some(d), Some(c)) = (
        try_join(&url).await,
        try_join(&url).await,
        try_join(&url).await,
        try_join(&url).await,
    ) else {
        return;
    };
    let queue = {
        let acked = acked.clone();
        async move {
            for seq in 0.. {
                let item = json!({"round": round, "seq": seq});
                if q.queues().send("jobs", item, true).await.is_err() {
                    return;
                }
                acked.lock().unwrap().queue.push((round, seq));
            }
        }
    };
    // A consumer takes items while they are sent: an item it was answered with is delivered;
    // one taken whose answer never reached it must still be in the queue after the restart.
    let consumer = {
        let acked = acked.clone();
        async move {
            loop {
                match c.queues().receive("jobs", true, true).await {
                    Ok(Some(item)) => {
                        let key = (
                            item["round"].as_u64().unwrap_or(u64::MAX),
                            item["seq"].as_u64().unwrap_or(u64::MAX),
                        );
                        acked.lock().unwrap().received.insert(key);
                    }
                    Ok(None) => {}
                    Err(_) => return,
                }
            }
        }
    };
    let files = {
        let acked = acked.clone();
        async move {
            for i in 0.. {
                let name = format!("r{round}-f{i}.bin");
                let body = content(&name, size_of(&name));
                let mut reader = body.as_slice();
                let mut quiet = |_: u64, _: Option<u64>| {};
                let storage = f.storage();
                let size = Some(body.len() as u64);
                let sent = storage.upload(&name, &mut reader, size, true, &mut quiet);
                if sent.await.is_err() {
                    return;
                }
                acked.lock().unwrap().files.push(name);
            }
        }
    };
    let rows = {
        let acked = acked.clone();
        async move {
            for batch in 0i64.. {
                let ids: Vec<i64> = (0..50)
                    .map(|k| (round as i64) * 1_000_000 + batch * 50 + k)
                    .collect();
                let rows: Vec<Map<String, Value>> = ids
                    .iter()
                    .map(|id| {
                        let row = json!({"id": id, "round": round, "payload": format!("row {id}")});
                        row.as_object().cloned().unwrap_or_default()
                    })
                    .collect();
                if d.dataset().insert("rows", &rows).await.is_err() {
                    return;
                }
                acked.lock().unwrap().rows.extend(ids);
            }
        }
    };
    tokio::join!(queue, consumer, files, rows);
}

/// Checks the data dir of a dead server: no staged upload survives a restart, the dataset
/// database is intact.
fn check_database_file(dir: &Path) {
    let db = dir.join("rooms").join(ROOM).join("dataset.db");
    if db.exists() {
        let conn = rusqlite::Connection::open(&db).expect("opens dataset.db");
        let verdict: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check runs");
        assert_eq!(verdict, "ok", "dataset.db after SIGKILL");
    }
}

/// Everything acknowledged before the kill is there after the restart.
async fn verify(client: &RoomClient, dir: &Path, acked: &Acked, round: u64) {
    let mut received = HashSet::new();
    while let Some(item) = client
        .queues()
        .receive("jobs", true, false)
        .await
        .expect("receive")
    {
        received.insert((
            item["round"].as_u64().unwrap_or(u64::MAX),
            item["seq"].as_u64().unwrap_or(u64::MAX),
        ));
    }
    for item in &acked.queue {
        assert!(
            received.contains(item) || acked.received.contains(item),
            "round {round}: acknowledged queue item {item:?} lost (neither delivered before \
             the kill nor in the queue after it)"
        );
    }

    let files = dir.join("rooms").join(ROOM).join("files");
    for name in &acked.files {
        let got = std::fs::read(files.join(name)).unwrap_or_default();
        assert!(
            got == content(name, size_of(name)),
            "round {round}: acknowledged file {name} lost or changed"
        );
    }
    // Files that were in flight are either absent or whole.
    for entry in std::fs::read_dir(&files).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".bin") {
            let got = std::fs::read(entry.path()).unwrap_or_default();
            assert!(
                got == content(&name, size_of(&name)),
                "round {round}: {name} is partial"
            );
        }
    }
    let staged = std::fs::read_dir(dir.join("rooms").join(ROOM).join(".uploads"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(
        staged, 0,
        "round {round}: staged uploads left after the restart"
    );

    let ids: HashSet<i64> = match client
        .dataset()
        .sql("select id from rows")
        .await
        .expect("select")
    {
        SqlResult::Rows(r) => r.rows.iter().filter_map(|row| row["id"].as_i64()).collect(),
        SqlResult::Statement { .. } => panic!("a select returned no rows"),
    };
    for id in &acked.rows {
        assert!(
            ids.contains(id),
            "round {round}: acknowledged row {id} lost"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill() {
    let rounds: u64 = std::env::var("ROOMDECK_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut url) = serve_binary(dir.path()).await;
    let setup = join(&url).await;
    setup
        .dataset()
        .create_table(
            "rows",
            parse_columns("id int, round int, payload text").unwrap(),
            "create",
        )
        .await
        .expect("creates the table");
    setup.close().await;

    let mut rng = Lcg(0x5eed);
    let mut totals = (0usize, 0usize, 0usize);
    let mut consumed = 0usize;
    for round in 0..rounds {
        let acked = Arc::new(Mutex::new(Acked::default()));
        let load = tokio::spawn(write_load(url.clone(), round, acked.clone()));
        tokio::time::sleep(Duration::from_millis(30 + rng.next(400))).await;
        child.start_kill().expect("SIGKILL");
        child.wait().await.expect("the server dies");
        within("writers notice the dead server", load)
            .await
            .expect("writers end");
        check_database_file(dir.path());

        let (next, next_url) = serve_binary(dir.path()).await;
        (child, url) = (next, next_url);
        let client = join(&url).await;
        let acked = acked.lock().unwrap();
        verify(&client, dir.path(), &acked, round).await;
        consumed += acked.received.len();
        totals = (
            totals.0 + acked.queue.len(),
            totals.1 + acked.files.len(),
            totals.2 + acked.rows.len(),
        );
        client.close().await;
    }
    eprintln!(
        "{rounds} kills: {} queue items ({consumed} received before a kill), {} files, {} rows \
         acknowledged and found",
        totals.0, totals.1, totals.2
    );
    assert!(
        totals.0 > 0 && totals.1 > 0 && totals.2 > 0 && consumed > 0,
        "every workload got writes in: {totals:?}, {consumed} received"
    );
}
