//! roomdeck against peers, each row measured side by side in one run (issue 8):
//!
//! - messaging: one sender broadcasting to 50 participants, messages of 64 B and of 256 B, vs
//!   Redis PUBLISH/SUBSCRIBE fan-out;
//! - queues: 8 producers and 8 consumers, durable send+receive vs Redis LPUSH/BRPOP (with
//!   `appendfsync everysec`, and without AOF);
//! - connections: 1,000 participants joined to one room (server RSS per participant, time to
//!   join) vs 1,000 Redis subscribers and 1,000 NATS subscribers;
//! - crowd: 10,000 participants in one room, all messaging-enabled, one of them never reading;
//!   a broadcast still reaches every other one (vs 10,000 Redis subscribers, one not reading).
//!
//! roomdeck runs as its own `roomdeck serve` process (like the peers), so its memory is its own
//! and the clients' CPU is not counted as the server's. The peers are reached with tiny
//! handwritten clients (RESP for Redis, the NATS text protocol), so no client library sits in
//! the tree.
//!
//! The full run is `bench/run`, which starts redis-server and nats-server on 127.0.0.1 and
//! passes their addresses in `PEERS_REDIS`, `PEERS_REDIS_AOF`, `PEERS_NATS` (and pids in
//! `PEERS_REDIS_PID`, `PEERS_NATS_PID`). Without them the peer columns say "not run".
//! `cargo test --all-targets` runs a smoke version with small counts and no peers; `--bench`
//! (passed by `cargo bench`) selects the full counts. Counts can be overridden with
//! `PEERS_MESSAGES`, `PEERS_QUEUE_ITEMS` (per producer), `PEERS_CONNECTIONS`, `PEERS_CROWD`;
//! `PEERS_ROWS=messaging,queues,connections,crowd,recording` picks rows. The recording rows
//! (issue 14) are the 64 B broadcast and the queue round trips on a server that records its
//! sessions (the default) vs one started with `--record off`, side by side; `PEERS_RECORD=off`
//! starts the server of the other rows with `--record off` too.
//! The server binary is `ROOMDECK_BIN`, else the one cargo built for this bench.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use roomdeck::auth::{ApiScope, ParticipantToken};
use roomdeck::client::RoomClient;
use roomdeck::protocol::{Reassembler, encode_packets, pack_message, unpack_message};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const SECRET: &str = "peers-bench-secret-peers-bench-secret";
/// Receivers of the broadcast (the sender is one more participant).
const RECEIVERS: usize = 50;
const PRODUCERS: usize = 8;
const CONSUMERS: usize = 8;
/// Sizes of the broadcast messages' JSON (timestamp, sequence number, padding), both sides.
const FANOUT_SIZES: [usize; 2] = [64, 256];
/// Size of each queue item's JSON.
const PAYLOAD: usize = 256;
/// Broadcasts sent to the crowd.
const CROWD_MESSAGES: usize = 20;
/// Publishes in flight from the one sender, both sides: enough to keep the server busy
/// without letting the sender run arbitrarily far ahead of the receivers.
const WINDOW: usize = 32;
/// Longest a row may wait for its last delivery before it reports what arrived.
const DEADLINE: Duration = Duration::from_secs(120);

type Fallible<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// One clock for the whole run: payload timestamps are microseconds since this instant.
static ORIGIN: LazyLock<Instant> = LazyLock::new(Instant::now);

fn now_us() -> u64 {
    ORIGIN.elapsed().as_micros() as u64
}

struct Config {
    messages: usize,
    queue_items: usize,
    connections: usize,
    crowd: usize,
    redis: Option<SocketAddr>,
    redis_aof: Option<SocketAddr>,
    redis_pid: Option<u32>,
    nats: Option<SocketAddr>,
    nats_pid: Option<u32>,
}

impl Config {
    fn from_env() -> Fallible<Config> {
        let full = std::env::args().any(|a| a == "--bench");
        let count = |name: &str, full_n: usize, smoke_n: usize| -> Fallible<usize> {
            Ok(match std::env::var(name) {
                Ok(v) => v.parse()?,
                Err(_) if full => full_n,
                Err(_) => smoke_n,
            })
        };
        let addr = |name: &str| -> Fallible<Option<SocketAddr>> {
            Ok(std::env::var(name).ok().map(|v| v.parse()).transpose()?)
        };
        let pid = |name: &str| -> Fallible<Option<u32>> {
            Ok(std::env::var(name).ok().map(|v| v.parse()).transpose()?)
        };
        Ok(Config {
            messages: count("PEERS_MESSAGES", 2000, 20)?,
            queue_items: count("PEERS_QUEUE_ITEMS", 250, 5)?,
            connections: count("PEERS_CONNECTIONS", 1000, 20)?,
            crowd: count("PEERS_CROWD", 10_000, 30)?,
            redis: addr("PEERS_REDIS")?,
            redis_aof: addr("PEERS_REDIS_AOF")?,
            redis_pid: pid("PEERS_REDIS_PID")?,
            nats: addr("PEERS_NATS")?,
            nats_pid: pid("PEERS_NATS_PID")?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Results

/// One line of the table: `roomdeck ÷ peer` is the ratio, whatever the unit.
struct Row {
    name: String,
    ours: String,
    peer: String,
    ratio: Option<f64>,
    notes: String,
}

fn row(name: &str, ours: String, peer: Option<String>, ratio: Option<f64>, notes: &str) -> Row {
    Row {
        name: name.to_string(),
        ours,
        peer: peer.unwrap_or_else(|| "not run".into()),
        ratio,
        notes: notes.to_string(),
    }
}

fn print_table(rows: &[Row]) {
    println!("| row | roomdeck | peer | roomdeck ÷ peer | notes |");
    println!("|---|---|---|---|---|");
    for r in rows {
        let ratio = r.ratio.map(|x| format!("{x:.2}")).unwrap_or("—".into());
        println!(
            "| {} | {} | {} | {} | {} |",
            r.name, r.ours, r.peer, ratio, r.notes
        );
    }
}

/// Latencies in µs: p50 and p99 in ms.
fn percentiles(lat: &mut [u64]) -> (f64, f64) {
    if lat.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    lat.sort_unstable();
    let at = |q: f64| lat[((lat.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0;
    (at(0.50), at(0.99))
}

fn thousands(x: f64) -> String {
    let n = x.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Resident memory of a process now (VmRSS), in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `{"seq":N,"t":µs,"pad":"xxx"}` padded to `PAYLOAD` bytes.
fn payload(seq: usize) -> Vec<u8> {
    sized_payload(seq, PAYLOAD)
}

/// `{"seq":N,"t":µs,"pad":"xxx"}` padded to `size` bytes.
fn sized_payload(seq: usize, size: usize) -> Vec<u8> {
    let head = format!("{{\"seq\":{seq},\"t\":{},\"pad\":\"", now_us());
    let mut s = head.into_bytes();
    s.resize(size.saturating_sub(2).max(s.len()), b'x');
    s.extend_from_slice(b"\"}");
    s
}

/// Receive-side latency of one payload, in µs.
fn latency_of(message: &Value) -> Option<u64> {
    Some(now_us().saturating_sub(message.get("t")?.as_u64()?))
}

// ---------------------------------------------------------------------------------------------
// roomdeck: a `roomdeck serve` child process and its participants

fn server_bin() -> PathBuf {
    std::env::var("ROOMDECK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_BIN_EXE_roomdeck")))
}

struct Server {
    _child: tokio::process::Child,
    pid: u32,
    url: String,
}

impl Server {
    async fn start(data_dir: &Path) -> Fallible<Server> {
        let record = std::env::var("PEERS_RECORD").unwrap_or_else(|_| "on".into());
        Server::start_with(data_dir, &["--record", &record]).await
    }

    async fn start_with(data_dir: &Path, extra: &[&str]) -> Fallible<Server> {
        let mut child = tokio::process::Command::new(server_bin())
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--secret",
                SECRET,
                "--data-dir",
            ])
            .arg(data_dir)
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().ok_or("the server exited at once")?;
        let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        let mut url = None;
        while let Some(line) = lines.next_line().await? {
            if let Some(u) = line.strip_prefix("roomdeck: serving ") {
                url = Some(u.trim().to_string());
                break;
            }
        }
        // Keep draining its stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server {
            _child: child,
            pid,
            url: url.ok_or("the server printed no URL")?,
        })
    }

    async fn join(&self, room: &str, name: &str) -> Fallible<RoomClient> {
        let url = format!("{}/rooms/{room}", self.url);
        Ok(RoomClient::connect(&url, &self.jwt(room, name)?).await?)
    }

    fn jwt(&self, room: &str, name: &str) -> Fallible<String> {
        let mut token = ParticipantToken::new(name);
        token.add_room_grant(room);
        token.add_api_grant(ApiScope::agent_default());
        Ok(token.to_jwt(SECRET)?)
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal RESP client: commands out as arrays of bulk strings, replies parsed as far as
// these benchmarks need (simple strings, errors, integers, bulk strings, arrays).

// Simple and Int values are only looked at through Debug, in error messages.
#[allow(dead_code)]
#[derive(Debug)]
enum Resp {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Resp>>),
}

fn resp_command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

type Reader = BufReader<tokio::net::tcp::OwnedReadHalf>;

async fn read_line(r: &mut Reader) -> Fallible<String> {
    let mut line = String::new();
    if r.read_line(&mut line).await? == 0 {
        return Err("the peer closed the connection".into());
    }
    Ok(line.trim_end_matches("\r\n").to_string())
}

fn read_resp(r: &mut Reader) -> Pin<Box<dyn Future<Output = Fallible<Resp>> + Send + '_>> {
    Box::pin(async move {
        let line = read_line(r).await?;
        let (kind, rest) = line.split_at(1);
        Ok(match kind {
            "+" => Resp::Simple(rest.to_string()),
            "-" => Resp::Error(rest.to_string()),
            ":" => Resp::Int(rest.parse()?),
            "$" => {
                let n: i64 = rest.parse()?;
                if n < 0 {
                    Resp::Bulk(None)
                } else {
                    let mut buf = vec![0u8; n as usize + 2];
                    r.read_exact(&mut buf).await?;
                    buf.truncate(n as usize);
                    Resp::Bulk(Some(buf))
                }
            }
            "*" => {
                let n: i64 = rest.parse()?;
                if n < 0 {
                    Resp::Array(None)
                } else {
                    let mut items = Vec::with_capacity(n as usize);
                    for _ in 0..n {
                        items.push(read_resp(r).await?);
                    }
                    Resp::Array(Some(items))
                }
            }
            _ => return Err(format!("unexpected RESP line {line:?}").into()),
        })
    })
}

struct Redis {
    r: Reader,
    w: tokio::net::tcp::OwnedWriteHalf,
}

impl Redis {
    async fn connect(addr: SocketAddr) -> Fallible<Redis> {
        let sock = TcpStream::connect(addr).await?;
        sock.set_nodelay(true)?;
        let (r, w) = sock.into_split();
        Ok(Redis {
            r: BufReader::new(r),
            w,
        })
    }

    async fn call(&mut self, args: &[&[u8]]) -> Fallible<Resp> {
        self.w.write_all(&resp_command(args)).await?;
        match read_resp(&mut self.r).await? {
            Resp::Error(e) => Err(format!("redis: {e}").into()),
            other => Ok(other),
        }
    }
}

/// The value of a Redis `INFO` field, e.g. `redis_version`.
async fn redis_info(addr: SocketAddr, field: &str) -> Option<String> {
    let mut c = Redis::connect(addr).await.ok()?;
    let Resp::Bulk(Some(text)) = c.call(&[b"INFO"]).await.ok()? else {
        return None;
    };
    String::from_utf8_lossy(&text)
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
}

// ---------------------------------------------------------------------------------------------
// Messaging

struct Fanout {
    delivered: usize,
    expected: usize,
    elapsed: Duration,
    latencies: Vec<u64>,
}

impl Fanout {
    fn rate(&self) -> f64 {
        self.delivered as f64 / self.elapsed.as_secs_f64()
    }
}

/// The receivers' side of a fan-out: each records its latencies until it has `n` messages.
/// `last` is the time (µs) of the latest delivery seen by anyone.
async fn collect_receivers(
    receivers: Vec<tokio::task::JoinHandle<Vec<u64>>>,
    messages: usize,
    started: u64,
    last: Arc<AtomicU64>,
) -> Fanout {
    let mut latencies = Vec::with_capacity(receivers.len() * messages);
    let expected = receivers.len() * messages;
    for r in receivers {
        if let Ok(l) = r.await {
            latencies.extend(l);
        }
    }
    let end = last.load(Ordering::SeqCst).max(started + 1);
    Fanout {
        delivered: latencies.len(),
        expected,
        elapsed: Duration::from_micros(end - started),
        latencies,
    }
}

async fn roomdeck_broadcast(server: &Server, messages: usize, size: usize) -> Fallible<Fanout> {
    let room = &format!("bench-messaging-{size}");
    let sender = server.join(room, "sender").await?;
    sender.messaging().enable().await?;
    let last = Arc::new(AtomicU64::new(0));
    let mut receivers = Vec::new();
    let url = format!("{}/rooms/{room}", server.url);
    for i in 0..RECEIVERS {
        // As lean as the Redis subscribers: a WebSocket reader that reassembles the
        // protocol's packets and parses each message's JSON, nothing more. (The full
        // RoomClient as receiver made the row measure 50 clients sharing the server's two
        // cores: see "Live path" in BENCHMARKS.md.)
        let mut ws = raw_member(&url, &server.jwt(room, &format!("receiver-{i}"))?).await?;
        enabled(&mut ws).await?;
        let last = last.clone();
        receivers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(messages);
            let mut r = Reassembler::new(1 << 24);
            let deadline = tokio::time::Instant::now() + DEADLINE;
            while lat.len() < messages {
                let frame = match tokio::time::timeout_at(deadline, ws.next()).await {
                    Ok(Some(Ok(WsMessage::Binary(b)))) => b,
                    Ok(Some(Ok(_))) => continue,
                    _ => break,
                };
                let Ok(Some(m)) = r.push(&frame) else {
                    continue;
                };
                if m.msg_type != "messaging.send" {
                    continue;
                }
                let Ok((header, _)) = unpack_message(&m.payload) else {
                    continue;
                };
                if header.get("type").and_then(Value::as_str) == Some("bench")
                    && let Some(l) = header.get("message").and_then(latency_of)
                {
                    lat.push(l);
                    last.fetch_max(now_us(), Ordering::SeqCst);
                }
            }
            drop(ws);
            lat
        }));
    }
    let started = now_us();
    let messaging = sender.messaging();
    let results: Vec<_> = futures_util::stream::iter(0..messages)
        .map(|seq| {
            let m = &messaging;
            async move {
                let body: Value = serde_json::from_slice(&sized_payload(seq, size))?;
                m.broadcast("bench", body, None).await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            }
        })
        .buffer_unordered(WINDOW)
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let fanout = collect_receivers(receivers, messages, started, last).await;
    sender.close().await;
    Ok(fanout)
}

async fn redis_pubsub(addr: SocketAddr, messages: usize, size: usize) -> Fallible<Fanout> {
    let last = Arc::new(AtomicU64::new(0));
    let mut receivers = Vec::new();
    for _ in 0..RECEIVERS {
        let mut c = Redis::connect(addr).await?;
        c.call(&[b"SUBSCRIBE", b"bench"]).await?;
        let last = last.clone();
        receivers.push(tokio::spawn(async move {
            // Move the whole connection in: dropping its write half would close it.
            let mut c = c;
            let mut lat = Vec::with_capacity(messages);
            let deadline = tokio::time::Instant::now() + DEADLINE;
            while lat.len() < messages {
                let parts = match tokio::time::timeout_at(deadline, read_resp(&mut c.r)).await {
                    Ok(Ok(Resp::Array(Some(parts)))) => parts,
                    Ok(Ok(other)) => {
                        eprintln!("peers: a Redis subscriber got {other:?}");
                        break;
                    }
                    Ok(Err(e)) => {
                        eprintln!("peers: a Redis subscriber failed: {e}");
                        break;
                    }
                    Err(_) => break,
                };
                // ["message", channel, payload]; the payload is parsed like roomdeck's is.
                if let Some(Resp::Bulk(Some(p))) = parts.get(2)
                    && let Some(l) = serde_json::from_slice::<Value>(p)
                        .ok()
                        .and_then(|v| latency_of(&v))
                {
                    lat.push(l);
                    last.fetch_max(now_us(), Ordering::SeqCst);
                }
            }
            lat
        }));
    }
    // Pipelined PUBLISH with the same window as roomdeck: a reader task returns a permit
    // per reply.
    let publisher = Redis::connect(addr).await?;
    let (mut r, mut w) = (publisher.r, publisher.w);
    let window = Arc::new(Semaphore::new(WINDOW));
    let replies = {
        let window = window.clone();
        tokio::spawn(async move {
            for _ in 0..messages {
                match read_resp(&mut r).await? {
                    Resp::Int(_) => window.add_permits(1),
                    other => return Err(format!("PUBLISH answered {other:?}").into()),
                }
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
    };
    let started = now_us();
    for seq in 0..messages {
        window.acquire().await?.forget();
        w.write_all(&resp_command(&[
            b"PUBLISH",
            b"bench",
            &sized_payload(seq, size),
        ]))
        .await?;
    }
    replies.await??;
    Ok(collect_receivers(receivers, messages, started, last).await)
}

async fn messaging_rows(cfg: &Config, server: &Server, rows: &mut Vec<Row>) -> Fallible<()> {
    for size in FANOUT_SIZES {
        fanout_rows(cfg, server, size, rows).await?;
    }
    Ok(())
}

async fn fanout_rows(
    cfg: &Config,
    server: &Server,
    size: usize,
    rows: &mut Vec<Row>,
) -> Fallible<()> {
    let n = cfg.messages;
    let ours = roomdeck_broadcast(server, n, size).await?;
    let peer = match cfg.redis {
        Some(addr) => Some(redis_pubsub(addr, n, size).await?),
        None => None,
    };
    let mut ours_lat = ours.latencies.clone();
    let (p50, p99) = percentiles(&mut ours_lat);
    let peer_lat = peer.as_ref().map(|p| {
        let mut l = p.latencies.clone();
        percentiles(&mut l)
    });
    let note = format!(
        "1 sender, {RECEIVERS} receivers, {n} messages of {size} B, {WINDOW} in flight; \
         delivered {}/{} vs {}",
        ours.delivered,
        ours.expected,
        peer.as_ref()
            .map(|p| format!("{}/{}", p.delivered, p.expected))
            .unwrap_or("—".into())
    );
    rows.push(row(
        &format!("messaging: broadcast {size} B, delivered msg/s (higher is better)"),
        thousands(ours.rate()),
        peer.as_ref()
            .map(|p| format!("Redis PUBLISH/SUBSCRIBE: {}", thousands(p.rate()))),
        peer.as_ref().map(|p| ours.rate() / p.rate()),
        &note,
    ));
    rows.push(row(
        &format!("messaging: {size} B latency p50 ms (lower is better)"),
        format!("{p50:.2}"),
        peer_lat.map(|(p, _)| format!("Redis: {p:.2}")),
        peer_lat.map(|(p, _)| p50 / p),
        "send to delivery, timestamp in the payload",
    ));
    rows.push(row(
        &format!("messaging: {size} B latency p99 ms (lower is better)"),
        format!("{p99:.2}"),
        peer_lat.map(|(_, p)| format!("Redis: {p:.2}")),
        peer_lat.map(|(_, p)| p99 / p),
        "",
    ));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Queues

async fn roomdeck_queues(server: &Server, per_producer: usize) -> Fallible<Duration> {
    let room = "bench-queues";
    let admin = server.join(room, "admin").await?;
    admin.queues().open("jobs").await?;
    let mut producers = Vec::new();
    let mut consumers = Vec::new();
    for i in 0..PRODUCERS {
        producers.push(server.join(room, &format!("producer-{i}")).await?);
    }
    for i in 0..CONSUMERS {
        consumers.push(server.join(room, &format!("consumer-{i}")).await?);
    }
    let total = PRODUCERS * per_producer;
    let per_consumer = total / CONSUMERS;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (p, client) in producers.iter().enumerate() {
        let client = client.clone();
        tasks.spawn(async move {
            let q = client.queues();
            for i in 0..per_producer {
                let body: Value = serde_json::from_slice(&payload(p * per_producer + i))?;
                q.send("jobs", body, false).await?;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(0usize)
        });
    }
    for client in &consumers {
        let client = client.clone();
        tasks.spawn(async move {
            let q = client.queues();
            let mut got = 0;
            while got < per_consumer {
                if q.receive("jobs", false, true).await?.is_some() {
                    got += 1;
                }
            }
            Ok(got)
        });
    }
    let mut received = 0;
    while let Some(t) = tokio::time::timeout(DEADLINE, tasks.join_next())
        .await
        .map_err(|_| "the queue row did not finish in time")?
    {
        received += t??;
    }
    let elapsed = started.elapsed();
    if received != per_consumer * CONSUMERS {
        return Err(format!("received {received} of {total} queue items").into());
    }
    for c in producers.iter().chain(&consumers).chain([&admin]) {
        c.close().await;
    }
    Ok(elapsed)
}

async fn redis_queues(addr: SocketAddr, per_producer: usize) -> Fallible<Duration> {
    let mut admin = Redis::connect(addr).await?;
    admin.call(&[b"DEL", b"jobs"]).await?;
    let total = PRODUCERS * per_producer;
    let per_consumer = total / CONSUMERS;
    let mut producers = Vec::new();
    let mut consumers = Vec::new();
    for _ in 0..PRODUCERS {
        producers.push(Redis::connect(addr).await?);
    }
    for _ in 0..CONSUMERS {
        consumers.push(Redis::connect(addr).await?);
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (p, mut c) in producers.into_iter().enumerate() {
        tasks.spawn(async move {
            for i in 0..per_producer {
                c.call(&[b"LPUSH", b"jobs", &payload(p * per_producer + i)])
                    .await?;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(0usize)
        });
    }
    for mut c in consumers {
        tasks.spawn(async move {
            let mut got = 0;
            while got < per_consumer {
                if let Resp::Array(Some(_)) = c.call(&[b"BRPOP", b"jobs", b"10"]).await? {
                    got += 1;
                }
            }
            Ok(got)
        });
    }
    let mut received = 0;
    while let Some(t) = tasks.join_next().await {
        received += t??;
    }
    let elapsed = started.elapsed();
    if received != total {
        return Err(format!("Redis: received {received} of {total} queue items").into());
    }
    Ok(elapsed)
}

async fn queue_rows(cfg: &Config, server: &Server, rows: &mut Vec<Row>) -> Fallible<()> {
    let total = (PRODUCERS * cfg.queue_items) as f64;
    let ours = total
        / roomdeck_queues(server, cfg.queue_items)
            .await?
            .as_secs_f64();
    let aof = match cfg.redis_aof {
        Some(a) => Some(total / redis_queues(a, cfg.queue_items).await?.as_secs_f64()),
        None => None,
    };
    let plain = match cfg.redis {
        Some(a) => Some(total / redis_queues(a, cfg.queue_items).await?.as_secs_f64()),
        None => None,
    };
    let counts = format!(
        "{PRODUCERS} producers, {CONSUMERS} consumers, {} items of {PAYLOAD} B",
        total as usize
    );
    rows.push(row(
        "queues: send+receive round trips/s, durable (higher is better)",
        thousands(ours),
        aof.map(|a| format!("Redis LPUSH/BRPOP, appendfsync everysec: {}", thousands(a))),
        aof.map(|a| ours / a),
        &format!(
            "{counts}; roomdeck answers a send after its batch's fsync, a receive from memory"
        ),
    ));
    rows.push(row(
        "queues: send+receive round trips/s vs Redis without AOF (higher is better)",
        thousands(ours),
        plain.map(|a| format!("Redis LPUSH/BRPOP, no AOF: {}", thousands(a))),
        plain.map(|a| ours / a),
        "Redis keeps the items in memory only",
    ));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Recording: the same rows with the session recorded and not

/// Runs of each side in the recording rows.
const RECORDING_ROUNDS: usize = 3;

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

async fn recording_rows(cfg: &Config, work: &Path, rows: &mut Vec<Row>) -> Fallible<()> {
    let on = Server::start_with(&work.join("data-record-on"), &["--record", "on"]).await?;
    let off = Server::start_with(&work.join("data-record-off"), &["--record", "off"]).await?;
    let n = cfg.messages;
    // Off and on alternate, RECORDING_ROUNDS times each, and each side's median is compared:
    // one run of each differs by ±10 % on this machine whatever the setting.
    let total = (PRODUCERS * cfg.queue_items) as f64;
    let (mut fan, mut queues) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    for _ in 0..RECORDING_ROUNDS {
        fan.0
            .push(roomdeck_broadcast(&off, n, FANOUT_SIZES[0]).await?.rate());
        fan.1
            .push(roomdeck_broadcast(&on, n, FANOUT_SIZES[0]).await?.rate());
        let q = |d: Duration| total / d.as_secs_f64();
        queues
            .0
            .push(q(roomdeck_queues(&off, cfg.queue_items).await?));
        queues
            .1
            .push(q(roomdeck_queues(&on, cfg.queue_items).await?));
    }
    let (fan_off, fan_on) = (median(&mut fan.0), median(&mut fan.1));
    let (q_off, q_on) = (median(&mut queues.0), median(&mut queues.1));
    let recorded = dir_bytes(&work.join("data-record-on"));
    rows.push(row(
        &format!(
            "recording: broadcast {} B delivered msg/s, recording on vs off (higher is better)",
            FANOUT_SIZES[0]
        ),
        thousands(fan_on),
        Some(format!("--record off: {}", thousands(fan_off))),
        Some(fan_on / fan_off),
        &format!(
            "1 sender, {RECEIVERS} receivers, {n} messages, median of {RECORDING_ROUNDS} runs each, \
             alternating; issue 14 allows ≥ 0.90"
        ),
    ));
    rows.push(row(
        "recording: queues send+receive round trips/s, recording on vs off (higher is better)",
        thousands(q_on),
        Some(format!("--record off: {}", thousands(q_off))),
        Some(q_on / q_off),
        &format!(
            "{PRODUCERS} producers, {CONSUMERS} consumers, {} items, median of \
             {RECORDING_ROUNDS} runs each; {} of data dir with the recording",
            total as usize,
            mib(recorded)
        ),
    ));
    Ok(())
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

// ---------------------------------------------------------------------------------------------
// Connections

struct Joins {
    rss_per_kib: f64,
    p50_ms: f64,
    p99_ms: f64,
    total: Duration,
}

impl Joins {
    fn measure(before: u64, after: u64, n: usize, mut lat: Vec<u64>, total: Duration) -> Joins {
        let (p50_ms, p99_ms) = percentiles(&mut lat);
        Joins {
            rss_per_kib: after.saturating_sub(before) as f64 / n as f64,
            p50_ms,
            p99_ms,
            total,
        }
    }
}

/// Lets a server settle (allocations of the last joins, lazy frees) before reading its RSS.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

async fn roomdeck_joins(data_dir: &Path, n: usize) -> Fallible<Joins> {
    // A fresh server, so the memory is that of this room's participants only.
    let server = Server::start(data_dir).await?;
    let room = "bench-connections";
    // The first participant creates the room (its database, its session); not counted.
    let first = server.join(room, "first").await?;
    settle().await;
    let before = rss_kib(server.pid).ok_or("no RSS for the server")?;
    let mut clients = Vec::with_capacity(n);
    let mut lat = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        clients.push(server.join(room, &format!("p{i}")).await?);
        lat.push(t.elapsed().as_micros() as u64);
    }
    let total = started.elapsed();
    settle().await;
    let after = rss_kib(server.pid).ok_or("no RSS for the server")?;
    for c in clients.iter().chain([&first]) {
        c.close().await;
    }
    Ok(Joins::measure(before, after, n, lat, total))
}

/// `n` Redis connections, each subscribed to one channel (a participant waiting for messages).
async fn redis_joins(addr: SocketAddr, pid: u32, n: usize) -> Fallible<Joins> {
    settle().await;
    let before = rss_kib(pid).ok_or("no RSS for redis-server")?;
    let mut conns = Vec::with_capacity(n);
    let mut lat = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let mut c = Redis::connect(addr).await?;
        c.call(&[b"SUBSCRIBE", b"room"]).await?;
        lat.push(t.elapsed().as_micros() as u64);
        conns.push(c);
    }
    let total = started.elapsed();
    settle().await;
    let after = rss_kib(pid).ok_or("no RSS for redis-server")?;
    drop(conns);
    Ok(Joins::measure(before, after, n, lat, total))
}

/// `n` NATS connections, each with one subscription, confirmed by a PING/PONG.
async fn nats_joins(addr: SocketAddr, pid: u32, n: usize) -> Fallible<Joins> {
    settle().await;
    let before = rss_kib(pid).ok_or("no RSS for nats-server")?;
    let mut conns = Vec::with_capacity(n);
    let mut lat = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let sock = TcpStream::connect(addr).await?;
        sock.set_nodelay(true)?;
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        let info = read_line(&mut r).await?;
        if !info.starts_with("INFO ") {
            return Err(format!("nats-server said {info:?} instead of INFO").into());
        }
        w.write_all(b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB room 1\r\nPING\r\n")
            .await?;
        let pong = read_line(&mut r).await?;
        if pong != "PONG" {
            return Err(format!("nats-server said {pong:?} instead of PONG").into());
        }
        lat.push(t.elapsed().as_micros() as u64);
        conns.push((r, w));
    }
    let total = started.elapsed();
    settle().await;
    let after = rss_kib(pid).ok_or("no RSS for nats-server")?;
    drop(conns);
    Ok(Joins::measure(before, after, n, lat, total))
}

async fn connection_rows(cfg: &Config, data_dir: &Path, rows: &mut Vec<Row>) -> Fallible<()> {
    let n = cfg.connections;
    let ours = roomdeck_joins(data_dir, n).await?;
    let redis = match (cfg.redis, cfg.redis_pid) {
        (Some(a), Some(pid)) => Some(redis_joins(a, pid, n).await?),
        _ => None,
    };
    let nats = match (cfg.nats, cfg.nats_pid) {
        (Some(a), Some(pid)) => Some(nats_joins(a, pid, n).await?),
        _ => None,
    };
    let kib = |j: &Joins| format!("{:.1} KiB", j.rss_per_kib);
    for (peer_name, peer) in [("Redis", &redis), ("NATS", &nats)] {
        rows.push(row(
            &format!("connections: server RSS per participant vs {peer_name} (lower is better)"),
            kib(&ours),
            peer.as_ref()
                .map(|p| format!("{peer_name}, {n} subscribers: {}", kib(p))),
            peer.as_ref().map(|p| ours.rss_per_kib / p.rss_per_kib),
            &format!(
                "{n} joined to one room, RSS after − before ÷ {n}; a {peer_name} client is one TCP \
                 connection with one subscription"
            ),
        ));
    }
    let times = |j: &Joins| {
        format!(
            "p50 {:.2} ms, p99 {:.2} ms, total {:.2} s",
            j.p50_ms,
            j.p99_ms,
            j.total.as_secs_f64()
        )
    };
    for (peer_name, peer) in [("Redis", &redis), ("NATS", &nats)] {
        rows.push(row(
            &format!("connections: time to join vs {peer_name} (lower is better)"),
            times(&ours),
            peer.as_ref().map(|p| format!("{peer_name}: {}", times(p))),
            peer.as_ref().map(|p| ours.p50_ms / p.p50_ms),
            "one after another; ratio of p50. roomdeck: WebSocket upgrade, token check, \
             room_ready; peers: TCP connect, subscribe, reply",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Crowd: many participants in one room, one of them not reading

/// What a crowd's readers saw, counted across them.
#[derive(Default)]
struct CrowdCounts {
    /// Readers whose `messaging.enabled` (roomdeck) or subscription reply (Redis) arrived.
    ready: std::sync::atomic::AtomicUsize,
    /// Crowd broadcasts received.
    delivered: std::sync::atomic::AtomicUsize,
    /// Time (µs) of the latest delivery.
    last: AtomicU64,
}

impl CrowdCounts {
    async fn wait_ready(&self, n: usize, what: &str) -> Fallible<()> {
        let deadline = Instant::now() + DEADLINE;
        while self.ready.load(Ordering::SeqCst) < n {
            if Instant::now() > deadline {
                return Err(format!(
                    "{what}: only {} of {n} ready",
                    self.ready.load(Ordering::SeqCst)
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Waits for `expected` deliveries (or the deadline) and reports them.
    async fn fanout(&self, expected: usize, started: u64) -> Fanout {
        let deadline = Instant::now() + DEADLINE;
        while self.delivered.load(Ordering::SeqCst) < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let end = self.last.load(Ordering::SeqCst).max(started + 1);
        Fanout {
            delivered: self.delivered.load(Ordering::SeqCst),
            expected,
            elapsed: Duration::from_micros(end - started),
            latencies: Vec::new(),
        }
    }

    fn delivered_one(&self) {
        self.delivered.fetch_add(1, Ordering::SeqCst);
        self.last.fetch_max(now_us(), Ordering::SeqCst);
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// A bare protocol client (the crowd is too large for one full client each): joins, sends
/// `messaging.enable` as the SDK does, and hands back the socket.
async fn raw_member(url: &str, jwt: &str) -> Fallible<Ws> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = url.into_client_request()?;
    req.headers_mut()
        .insert("Authorization", format!("Bearer {jwt}").parse()?);
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(config), true).await?;
    let header = serde_json::json!({"toolkit": "messaging", "tool": "enable", "tool_call_id": "e", "arguments": {"type": "json", "json": {}}});
    let body = pack_message(header.as_object().ok_or("object")?, b"");
    for p in encode_packets(1, "room.invoke_tool", &body) {
        ws.send(WsMessage::Binary(p.into())).await?;
    }
    Ok(ws)
}

/// Reads until the answer to `raw_member`'s messaging.enable: from then on, broadcasts reach it.
async fn enabled(ws: &mut Ws) -> Fallible<()> {
    let mut r = Reassembler::new(1 << 24);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(WsMessage::Binary(b)))) => {
                if let Ok(Some(m)) = r.push(&b)
                    && m.msg_type == "__response__"
                {
                    return Ok(());
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => return Err("a receiver got no answer to messaging.enable".into()),
        }
    }
}

/// The `type` of a `messaging.send` push, found without parsing the whole header (the crowd
/// reads every presence event of the room).
fn push_type(body: &[u8]) -> &[u8] {
    const KEY: &[u8] = b"\"type\":\"";
    let Some(at) = body.windows(KEY.len()).position(|w| w == KEY) else {
        return b"";
    };
    let rest = &body[at + KEY.len()..];
    &rest[..rest.iter().position(|b| *b == b'"').unwrap_or(rest.len())]
}

/// A member that reads everything until it has `messages` crowd broadcasts.
async fn read_member(mut ws: Ws, counts: Arc<CrowdCounts>, messages: usize) {
    let mut r = Reassembler::new(1 << 24);
    let mut got = 0;
    while got < messages {
        let Some(Ok(frame)) = ws.next().await else {
            return;
        };
        let WsMessage::Binary(b) = frame else {
            continue;
        };
        let Ok(Some(m)) = r.push(&b) else { continue };
        if m.msg_type != "messaging.send" {
            continue;
        }
        match push_type(&m.payload) {
            b"messaging.enabled" => {
                counts.ready.fetch_add(1, Ordering::SeqCst);
            }
            b"crowd" => {
                got += 1;
                counts.delivered_one();
            }
            _ => {}
        }
    }
    // Keep the connection (and so the room) as it is until the run ends.
    std::future::pending::<()>().await;
}

struct Crowd {
    joined: Duration,
    rss_per_kib: f64,
    fanout: Fanout,
}

async fn roomdeck_crowd(data_dir: &Path, n: usize) -> Fallible<Crowd> {
    let server = Server::start(data_dir).await?;
    let room = "bench-crowd";
    let url = format!("{}/rooms/{room}", server.url);
    let sender = server.join(room, "sender").await?;
    sender.messaging().enable().await?;
    settle().await;
    let before = rss_kib(server.pid).ok_or("no RSS for the server")?;
    let counts = Arc::new(CrowdCounts::default());
    let started = Instant::now();
    // The one that never reads joins first, so every later join's presence piles up at it.
    let mut token = ParticipantToken::new("deaf");
    token.add_room_grant(room);
    token.add_api_grant(ApiScope::agent_default());
    let deaf = raw_member(&url, &token.to_jwt(SECRET)?).await?;
    let joins = Arc::new(Semaphore::new(32));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 1..n {
        let permit = joins.clone().acquire_owned().await?;
        let (url, counts) = (url.clone(), counts.clone());
        let mut token = ParticipantToken::new(format!("m{i}"));
        token.add_room_grant(room);
        token.add_api_grant(ApiScope::agent_default());
        let jwt = token.to_jwt(SECRET)?;
        tasks.spawn(async move {
            let ws = raw_member(&url, &jwt).await;
            drop(permit);
            match ws {
                Ok(ws) => read_member(ws, counts, CROWD_MESSAGES).await,
                Err(e) => eprintln!("peers: a crowd member could not join: {e}"),
            }
        });
    }
    counts.wait_ready(n - 1, "roomdeck crowd").await?;
    let joined = started.elapsed();
    settle().await;
    let after = rss_kib(server.pid).ok_or("no RSS for the server")?;
    let start = now_us();
    let messaging = sender.messaging();
    for seq in 0..CROWD_MESSAGES {
        let body: Value = serde_json::from_slice(&sized_payload(seq, 64))?;
        messaging.broadcast("crowd", body, None).await?;
    }
    let fanout = counts.fanout((n - 1) * CROWD_MESSAGES, start).await;
    // The server goes first: n leaves would each tell everyone else.
    drop(server);
    drop(deaf);
    tasks.shutdown().await;
    Ok(Crowd {
        joined,
        rss_per_kib: after.saturating_sub(before) as f64 / n as f64,
        fanout,
    })
}

/// `n` Redis subscribers on one channel, the first of which never reads; `CROWD_MESSAGES`
/// publishes.
async fn redis_crowd(addr: SocketAddr, n: usize) -> Fallible<Fanout> {
    let counts = Arc::new(CrowdCounts::default());
    let mut deaf = Redis::connect(addr).await?;
    deaf.call(&[b"SUBSCRIBE", b"crowd"]).await?;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 1..n {
        let mut c = Redis::connect(addr).await?;
        c.call(&[b"SUBSCRIBE", b"crowd"]).await?;
        counts.ready.fetch_add(1, Ordering::SeqCst);
        let counts = counts.clone();
        tasks.spawn(async move {
            let mut c = c;
            for _ in 0..CROWD_MESSAGES {
                match read_resp(&mut c.r).await {
                    Ok(Resp::Array(Some(_))) => counts.delivered_one(),
                    _ => return,
                }
            }
        });
    }
    let mut publisher = Redis::connect(addr).await?;
    let start = now_us();
    for seq in 0..CROWD_MESSAGES {
        publisher
            .call(&[b"PUBLISH", b"crowd", &sized_payload(seq, 64)])
            .await?;
    }
    let fanout = counts.fanout((n - 1) * CROWD_MESSAGES, start).await;
    tasks.shutdown().await;
    drop(deaf);
    Ok(fanout)
}

async fn crowd_rows(cfg: &Config, data_dir: &Path, rows: &mut Vec<Row>) -> Fallible<()> {
    let n = cfg.crowd;
    let ours = roomdeck_crowd(data_dir, n).await?;
    let peer = match cfg.redis {
        Some(addr) => Some(redis_crowd(addr, n).await?),
        None => None,
    };
    let f = &ours.fanout;
    rows.push(row(
        &format!("crowd: {n} participants, broadcast delivered msg/s (higher is better)"),
        thousands(f.rate()),
        peer.as_ref()
            .map(|p| format!("Redis, {n} subscribers: {}", thousands(p.rate()))),
        peer.as_ref().map(|p| f.rate() / p.rate()),
        &format!(
            "{CROWD_MESSAGES} broadcasts of 64 B; one participant never reads; delivered {}/{} vs {}; \
             all {n} joined and messaging-enabled in {:.1} s (every join tells everyone: {} presence \
             events); server RSS {:.1} KiB per participant",
            f.delivered,
            f.expected,
            peer.as_ref()
                .map(|p| format!("{}/{}", p.delivered, p.expected))
                .unwrap_or("—".into()),
            ours.joined.as_secs_f64(),
            thousands((n * (n - 1)) as f64),
            ours.rss_per_kib,
        ),
    ));
    Ok(())
}
// ---------------------------------------------------------------------------------------------

#[tokio::main]
async fn main() -> Fallible<()> {
    LazyLock::force(&ORIGIN);
    // The crowd holds thousands of sockets.
    roomdeck::server::raise_fd_limit();
    let cfg = Config::from_env()?;
    let only = std::env::var("PEERS_ROWS").unwrap_or_default();
    let wanted = |r: &str| only.is_empty() || only.split(',').any(|o| o == r);
    let work = tempfile::tempdir()?;
    let server = Server::start(&work.path().join("data")).await?;
    let mut rows = Vec::new();
    if wanted("messaging") {
        messaging_rows(&cfg, &server, &mut rows).await?;
    }
    if wanted("queues") {
        queue_rows(&cfg, &server, &mut rows).await?;
    }
    if wanted("connections") {
        connection_rows(&cfg, &work.path().join("data-connections"), &mut rows).await?;
    }
    if wanted("crowd") {
        crowd_rows(&cfg, &work.path().join("data-crowd"), &mut rows).await?;
    }
    if wanted("recording") {
        recording_rows(&cfg, work.path(), &mut rows).await?;
    }
    if let Some(a) = cfg.redis {
        let version = redis_info(a, "redis_version").await.unwrap_or_default();
        println!("peers: redis-server {version}");
    }
    print_table(&rows);
    Ok(())
}
