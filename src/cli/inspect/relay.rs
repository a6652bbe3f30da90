//! The relay: a listener on 127.0.0.1 that passes each connection through to the upstream
//! host byte for byte, rewriting only the request head (Host; no WebSocket compression, so
//! frames stay readable; `Connection: close` for plain HTTP), and decodes the WebSocket
//! traffic of each room into that room's recorded session.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::decode::{Decoder, Dir, Seen, token_name};
use super::frames::{FrameReader, WsEvent};
use crate::protocol::Reassembler;
use crate::timeline::{Event, Kind, Limits, Recorder, SessionMeta};

/// Largest request or response head read before passing bytes on.
const MAX_HEAD: usize = 64 * 1024;
/// Largest protocol message decoded (the client's limit; the server's is lower).
const MAX_MESSAGE: usize = 64 * 1024 * 1024;
/// How long a new connection may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the other direction may go on once one has ended.
const LINGER: Duration = Duration::from_secs(10);

/// Where the inspector relays to, read from `--url`.
#[derive(Clone, Debug, PartialEq)]
pub struct Upstream {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// The Host header upstream expects (`host` or `host:port`).
    pub authority: String,
    /// A path the server lives under (usually ""), without a trailing slash.
    pub prefix: String,
    /// The room the URL named, if it did.
    pub room: Option<String>,
}

impl Upstream {
    /// `ws(s)://HOST[:PORT][/PREFIX][/rooms/NAME]`, or the API's `http(s)://` base.
    pub fn parse(url: &str) -> Result<Upstream, String> {
        use tokio_tungstenite::tungstenite::http::Uri;
        let uri: Uri = url.parse().map_err(|e| format!("bad --url {url:?}: {e}"))?;
        let tls = match uri.scheme_str() {
            Some("wss" | "https") => true,
            Some("ws" | "http") => false,
            _ => {
                return Err(format!(
                    "--url {url:?} must start with ws://, wss://, http:// or https://"
                ));
            }
        };
        let host = uri
            .host()
            .ok_or_else(|| format!("--url {url:?} has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let default_port = if tls { 443 } else { 80 };
        let port = uri.port_u16().unwrap_or(default_port);
        let authority = match uri.port_u16() {
            Some(p) if p != default_port => format!("{}:{p}", uri.host().unwrap_or(&host)),
            _ => uri.host().unwrap_or(&host).to_string(),
        };
        let path = uri.path().trim_end_matches('/');
        let (prefix, room) = match path.rfind("/rooms/") {
            Some(at) if !path[at + 7..].is_empty() && !path[at + 7..].contains('/') => {
                (path[..at].to_string(), Some(path[at + 7..].to_string()))
            }
            _ => (path.to_string(), None),
        };
        Ok(Upstream {
            tls,
            host,
            port,
            authority,
            prefix,
            room,
        })
    }

    /// The upstream URL of `room`, as a session records its source.
    pub fn room_url(&self, room: &str) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        format!("{scheme}://{}{}/rooms/{room}", self.authority, self.prefix)
    }

    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        format!("{scheme}://{}{}", self.authority, self.prefix)
    }

    /// The directory name of `room`'s recordings: host and room, safe in a file name.
    pub fn slug(&self, room: &str) -> String {
        let raw = format!("{}-{room}", self.host);
        let safe: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        safe.trim_start_matches('.').chars().take(120).collect()
    }
}

/// What the inspector does with each event besides recording it (the `--no-tui` printout).
pub type Watcher = Arc<dyn Fn(&str, &Seen) + Send + Sync>;

pub struct InspectConfig {
    pub upstream: Upstream,
    pub listen: SocketAddr,
    /// `<data_dir>/inspect`: each room's sessions go under `<root>/<slug>/`.
    pub root: PathBuf,
    pub limits: Limits,
    pub watcher: Option<Watcher>,
}

struct Shared {
    upstream: Upstream,
    tls: Option<tokio_rustls::TlsConnector>,
    root: PathBuf,
    limits: Limits,
    watcher: Option<Watcher>,
    sessions: Mutex<HashMap<String, Recorder>>,
}

/// A running inspector.
pub struct Inspector {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inspector {
    /// Listens on `config.listen` (loopback only) and relays until `shutdown`.
    pub async fn start(config: InspectConfig) -> Result<Inspector, String> {
        if !config.listen.ip().is_loopback() {
            return Err(format!(
                "--listen {}: the inspector listens on 127.0.0.1 (or ::1) only",
                config.listen
            ));
        }
        let tls = config.upstream.tls.then(tls_connector);
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let shared = Arc::new(Shared {
            upstream: config.upstream,
            tls,
            root: config.root,
            limits: config.limits,
            watcher: config.watcher,
            sessions: Mutex::new(HashMap::new()),
        });
        let (stop, mut stopped) = watch::channel(false);
        let accept_shared = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let conn = tokio::select! {
                    c = listener.accept() => c,
                    _ = stopped.wait_for(|v| *v) => break,
                };
                match conn {
                    Ok((socket, _)) => {
                        let shared = accept_shared.clone();
                        let mut stop = stopped.clone();
                        tokio::spawn(async move {
                            tokio::select! {
                                () = serve(shared, socket) => {}
                                _ = stop.wait_for(|v| *v) => {}
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!("inspector accept: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        });
        Ok(Inspector {
            addr,
            shared,
            stop,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:PORT`: what a program uses instead of the room's host.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The directory `room`'s inspected sessions are recorded in.
    pub fn root_of(&self, room: &str) -> PathBuf {
        self.shared.root.join(self.shared.upstream.slug(room))
    }

    /// Waits until every event seen so far is on disk.
    pub fn sync(&self) {
        let recorders: Vec<Recorder> = lock(&self.shared.sessions).values().cloned().collect();
        for r in recorders {
            r.sync();
        }
    }

    /// Stops relaying (open connections are cut), ends every session's recording.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let recorders: Vec<(String, Recorder)> = lock(&self.shared.sessions).drain().collect();
        for (_, r) in recorders {
            r.record(Event::new(Kind::Session, "inspector stopped"));
            let _ = tokio::task::spawn_blocking(move || r.sync()).await;
        }
    }
}

fn tls_connector() -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

impl Shared {
    /// The recorder of `room`'s session in this inspector run, started on first use.
    fn recorder(&self, room: &str) -> Recorder {
        let mut sessions = lock(&self.sessions);
        if let Some(r) = sessions.get(room) {
            return r.clone();
        }
        let started_at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut rnd = [0u8; 3];
        let _ = getrandom::fill(&mut rnd);
        let stamp = chrono::DateTime::from_timestamp_millis(started_at_ms as i64)
            .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
            .unwrap_or_default();
        let meta = SessionMeta {
            session_id: format!("inspect-{stamp}-{:02x}{:02x}{:02x}", rnd[0], rnd[1], rnd[2]),
            room: room.to_string(),
            started_at_ms,
            source: self.upstream.room_url(room),
        };
        let dir = self.root.join(self.upstream.slug(room));
        let recorder = match Recorder::start(&dir, meta, self.limits) {
            Ok(r) => {
                r.record(Event::new(
                    Kind::Session,
                    format!("inspecting {}", self.upstream.room_url(room)),
                ));
                r
            }
            Err(e) => {
                eprintln!(
                    "roomdeck inspect: cannot record {room} in {}: {e}",
                    dir.display()
                );
                Recorder::off()
            }
        };
        sessions.insert(room.to_string(), recorder.clone());
        recorder
    }

    async fn connect(&self) -> std::io::Result<Box<dyn Io>> {
        let u = &self.upstream;
        let tcp = TcpStream::connect((u.host.as_str(), u.port)).await?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => Ok(Box::new(tcp)),
            Some(tls) => {
                let name = rustls::pki_types::ServerName::try_from(u.host.clone())
                    .map_err(|e| std::io::Error::other(format!("{}: {e}", u.host)))?;
                Ok(Box::new(tls.connect(name, tcp).await?))
            }
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// An HTTP request or response head: its first line and its headers, in order.
#[derive(Debug, PartialEq)]
pub struct Head {
    pub line: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn parse(bytes: &[u8]) -> Option<Head> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut lines = text.split("\r\n");
        let line = lines.next()?.to_string();
        let mut headers = Vec::new();
        for l in lines {
            if l.is_empty() {
                continue;
            }
            let (k, v) = l.split_once(':')?;
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        Some(Head { line, headers })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, name: &str, value: String) {
        self.remove(name);
        self.headers.push((name.to_string(), value));
    }

    fn remove(&mut self, name: &str) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(256);
        out.push_str(&self.line);
        out.push_str("\r\n");
        for (k, v) in &self.headers {
            out.push_str(k);
            out.push_str(": ");
            out.push_str(v);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        out.into_bytes()
    }

    /// Whether this request asks for a WebSocket.
    pub fn is_upgrade(&self) -> bool {
        self.get("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    }

    /// The request's target, in origin form (`/path?query`).
    pub fn target(&self) -> &str {
        let t = self.line.split(' ').nth(1).unwrap_or("/");
        // Absolute form (a client that treats us as a proxy): keep its path.
        match t.find("://") {
            Some(at) => t[at + 3..].find('/').map_or("/", |p| &t[at + 3 + p..]),
            None => t,
        }
    }
}

/// The request head as it goes upstream, and the room (if any) its path names.
pub fn rewrite_request(head: &Head, up: &Upstream) -> (Head, Option<String>) {
    let mut parts = head.line.splitn(3, ' ');
    let method = parts.next().unwrap_or("GET").to_string();
    let _ = parts.next();
    let version = parts.next().unwrap_or("HTTP/1.1").to_string();
    let target = head.target();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let upgrade = head.is_upgrade();
    // A socket to the inspector's root means the room the URL named.
    let path = match (&up.room, path) {
        (Some(room), "" | "/") if upgrade => format!("/rooms/{room}"),
        _ => path.to_string(),
    };
    let path = if up.prefix.is_empty() || path.starts_with(&format!("{}/", up.prefix)) {
        path
    } else {
        format!("{}{path}", up.prefix)
    };
    let room = path
        .strip_prefix(&format!("{}/rooms/", up.prefix))
        .filter(|r| !r.is_empty() && !r.contains('/'))
        .map(str::to_string);
    let target = match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut out = Head {
        line: format!("{method} {target} {version}"),
        headers: head.headers.clone(),
    };
    out.set("Host", up.authority.clone());
    // No compression: frames stay as the protocol writes them, so both sides are readable.
    out.remove("Sec-WebSocket-Extensions");
    if !upgrade {
        // One request per upstream connection: the relay needs no HTTP body parsing.
        out.set("Connection", "close".into());
        out.remove("Keep-Alive");
    }
    (out, room)
}

/// Reads until the end of an HTTP head; returns where the head ends in `buf` (bytes past it
/// are the start of the body or stream), or None at EOF or past MAX_HEAD.
async fn read_head<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<usize>> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(at) = find_end(buf) {
            return Ok(Some(at));
        }
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
        let n = r.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

async fn respond<W: AsyncWrite + Unpin>(w: &mut W, status: &str, body: &str) {
    let msg = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = w.write_all(msg.as_bytes()).await;
    let _ = w.shutdown().await;
}

/// One accepted connection, from its request head to its end.
async fn serve(shared: Arc<Shared>, mut client: TcpStream) {
    let _ = client.set_nodelay(true);
    let mut buf = Vec::new();
    let end = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut client, &mut buf)).await {
        Ok(Ok(Some(end))) => end,
        Ok(Ok(None)) if buf.is_empty() => return,
        Ok(Ok(None)) => {
            return respond(
                &mut client,
                "431 Request Header Fields Too Large",
                "request head too large or cut short\n",
            )
            .await;
        }
        _ => return,
    };
    let Some(head) = Head::parse(&buf[..end]) else {
        return respond(&mut client, "400 Bad Request", "not an HTTP request\n").await;
    };
    let (upstream_head, room) = rewrite_request(&head, &shared.upstream);
    let upgrade = head.is_upgrade();
    let mut server = match shared.connect().await {
        Ok(s) => s,
        Err(e) => {
            let text = format!(
                "roomdeck inspect cannot reach {}: {e}\n",
                shared.upstream.base_url()
            );
            if upgrade {
                let room = room.clone().unwrap_or_else(|| "-".into());
                let ctx = Conn::new(&shared, &room, &head);
                let seen = lock(&ctx.decoder).session(
                    Dir::Up,
                    format!("cannot reach {}: {e}", shared.upstream.base_url()),
                );
                ctx.emit(seen);
            }
            return respond(&mut client, "502 Bad Gateway", &text).await;
        }
    };
    let mut first = upstream_head.to_bytes();
    first.extend_from_slice(&buf[end..]);
    if server.write_all(&first).await.is_err() || server.flush().await.is_err() {
        return respond(
            &mut client,
            "502 Bad Gateway",
            "the upstream connection failed\n",
        )
        .await;
    }
    let ctx = upgrade.then(|| Arc::new(Conn::new(&shared, room.as_deref().unwrap_or("-"), &head)));
    // A plain HTTP request (the REST API, a download) is one event, in the session of the
    // room its path names (or the URL's), else only shown.
    let rest = (!upgrade).then(|| {
        let room = room_in_path(upstream_head.target()).or_else(|| shared.upstream.room.clone());
        let method = head.line.split(' ').next().unwrap_or("").to_string();
        let target: String = upstream_head
            .target()
            .split('?')
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        Rest {
            conn: room.map(|r| Arc::new(Conn::new(&shared, &r, &head))),
            watcher: shared.watcher.clone(),
            participant: head_participant(&head),
            what: format!("{method} {target}"),
            method,
            started: Instant::now(),
        }
    });
    let (client_r, client_w) = client.into_split();
    let (server_r, server_w) = tokio::io::split(server);
    // Program -> room: after an upgrade request come frames (a client waits for the 101).
    let up = {
        let mut frames = FrameReader::new(MAX_MESSAGE + MAX_HEAD);
        let mut packets = Reassembler::new(MAX_MESSAGE);
        let ctx = ctx.clone();
        pump(client_r, server_w, Vec::new(), move |bytes| {
            if let Some(ctx) = &ctx {
                ctx.bytes(Dir::Up, bytes, &mut frames, &mut packets);
            }
        })
    };
    // Room -> program: the response head, then frames if it was a 101.
    let down = {
        let ctx = ctx.clone();
        async move {
            let mut server_r = server_r;
            let mut client_w = client_w;
            let mut buf = Vec::new();
            let end = read_head(&mut server_r, &mut buf).await.ok().flatten();
            let status = end
                .and_then(|e| Head::parse(&buf[..e]))
                .and_then(|h| h.line.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok()));
            let switched = status == Some(101);
            if let Some(ctx) = &ctx {
                let line = end
                    .and_then(|e| Head::parse(&buf[..e]))
                    .map(|h| h.line)
                    .unwrap_or_else(|| "no HTTP answer".into());
                let summary = if switched {
                    format!("connected to {}", ctx.source)
                } else {
                    format!(
                        "refused by {}: {}",
                        ctx.source,
                        line.trim_start_matches("HTTP/1.1 ")
                    )
                };
                let seen = lock(&ctx.decoder).session(Dir::Down, summary);
                ctx.emit(seen);
            }
            if let Some(r) = &rest {
                let line = end
                    .and_then(|e| Head::parse(&buf[..e]))
                    .map(|h| h.line)
                    .unwrap_or_else(|| "no HTTP answer".into());
                let status = line
                    .split_once(' ')
                    .map_or(line.as_str(), |x| x.1)
                    .to_string();
                r.done(&status);
            }
            let mut frames = FrameReader::new(MAX_MESSAGE + MAX_HEAD);
            let mut packets = Reassembler::new(MAX_MESSAGE);
            let (head, rest) = match end {
                Some(e) => (buf[..e].to_vec(), buf[e..].to_vec()),
                None => (buf, Vec::new()),
            };
            if client_w.write_all(&head).await.is_err() {
                return;
            }
            let decode = if switched { ctx } else { None };
            let _ = pump(server_r, client_w, rest, move |bytes| {
                if let Some(ctx) = &decode {
                    ctx.bytes(Dir::Down, bytes, &mut frames, &mut packets);
                }
            })
            .await;
        }
    };
    tokio::pin!(up);
    tokio::pin!(down);
    // When one direction ends, the other gets a moment to finish, then both are dropped.
    tokio::select! {
        _ = &mut up => { let _ = tokio::time::timeout(LINGER, &mut down).await; }
        _ = &mut down => { let _ = tokio::time::timeout(LINGER, &mut up).await; }
    }
    if let Some(ctx) = ctx {
        ctx.closed();
    }
}

/// Copies `r` to `w` (after `first`), showing each block to `seen` once it is written.
async fn pump<R, W>(
    mut r: R,
    mut w: W,
    first: Vec<u8>,
    mut seen: impl FnMut(&[u8]),
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if !first.is_empty() {
        w.write_all(&first).await?;
        w.flush().await?;
        seen(&first);
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            let _ = w.shutdown().await;
            return Ok(());
        }
        w.write_all(&buf[..n]).await?;
        w.flush().await?;
        seen(&buf[..n]);
    }
}

/// A plain HTTP request on its way, recorded when its answer's head comes back.
struct Rest {
    conn: Option<Arc<Conn>>,
    watcher: Option<Watcher>,
    participant: String,
    method: String,
    what: String,
    started: Instant,
}

impl Rest {
    fn done(&self, status: &str) {
        let failed =
            !status.starts_with('1') && !status.starts_with('2') && !status.starts_with('3');
        let seen = Seen {
            dir: Dir::Up,
            event: Event {
                participant: self.participant.clone(),
                toolkit: "http".into(),
                tool: self.method.clone(),
                duration_us: Some(self.started.elapsed().as_micros() as u64),
                error: failed.then(|| status.to_string()),
                ..Event::new(Kind::Packet, format!("{} -> {status}", self.what))
            },
        };
        match (&self.conn, &self.watcher) {
            (Some(c), _) => c.emit(seen),
            (None, Some(w)) => w("-", &seen),
            (None, None) => {}
        }
    }
}

/// The room a REST path is about: the segment after `rooms`.
fn room_in_path(target: &str) -> Option<String> {
    let path = target.split('?').next().unwrap_or("");
    let mut parts = path.split('/');
    while let Some(p) = parts.next() {
        if p == "rooms" {
            return parts.next().filter(|r| !r.is_empty()).map(str::to_string);
        }
    }
    None
}

/// The participant a request speaks for: its token's name claim.
fn head_participant(head: &Head) -> String {
    head.get("authorization")
        .and_then(|v| v.strip_prefix("Bearer ").or(v.strip_prefix("bearer ")))
        .map(str::to_string)
        .or_else(|| query_param(head.target(), "token"))
        .as_deref()
        .and_then(token_name)
        .unwrap_or_default()
}

/// One WebSocket connection's decoding and where its events go.
struct Conn {
    room: String,
    source: String,
    recorder: Recorder,
    watcher: Option<Watcher>,
    decoder: Mutex<Decoder>,
    close: Mutex<Vec<String>>,
    started: Instant,
}

impl Conn {
    fn new(shared: &Arc<Shared>, room: &str, head: &Head) -> Conn {
        let name = head_participant(head);
        Conn {
            room: room.to_string(),
            source: shared.upstream.room_url(room),
            recorder: shared.recorder(room),
            watcher: shared.watcher.clone(),
            decoder: Mutex::new(Decoder::new(name)),
            close: Mutex::new(Vec::new()),
            started: Instant::now(),
        }
    }

    fn now(&self) -> u64 {
        if self.recorder.is_on() {
            self.recorder.now_us()
        } else {
            self.started.elapsed().as_micros() as u64
        }
    }

    fn emit(&self, seen: Seen) {
        if let Some(w) = &self.watcher {
            w(&self.room, &seen);
        }
        self.recorder.record(seen.event);
    }

    fn bytes(&self, dir: Dir, bytes: &[u8], frames: &mut FrameReader, packets: &mut Reassembler) {
        let mut events = Vec::new();
        frames.feed(bytes, &mut events);
        let mut out = Vec::new();
        for e in events {
            match e {
                WsEvent::Binary(packet) => match packets.push(&packet) {
                    Ok(Some(m)) => {
                        let now = self.now();
                        let mut d = lock(&self.decoder);
                        match dir {
                            Dir::Up => d.up(m, now, &mut out),
                            Dir::Down => d.down(m, now, &mut out),
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        out.push(lock(&self.decoder).session(dir, format!("malformed packet: {e}")))
                    }
                },
                WsEvent::Text(n) => out.push(lock(&self.decoder).session(
                    dir,
                    format!("a text frame of {n} bytes (the protocol sends binary only)"),
                )),
                WsEvent::Close { code, reason } => {
                    let who = match dir {
                        Dir::Up => "the program",
                        Dir::Down => "the room",
                    };
                    let text = match code {
                        Some(c) if reason.is_empty() => format!("{who} closed ({c})"),
                        Some(c) => format!("{who} closed ({c} {reason})"),
                        None => format!("{who} closed"),
                    };
                    lock(&self.close).push(text);
                }
                WsEvent::TooLarge(n) => out.push(lock(&self.decoder).session(
                    dir,
                    format!("a message of {n} bytes, over the inspector's limit: not decoded"),
                )),
                WsEvent::Compressed => {
                    out.push(lock(&self.decoder).session(dir, "a compressed message: not decoded"))
                }
                WsEvent::Broken(why) => {
                    out.push(lock(&self.decoder).session(dir, format!("stopped decoding: {why}")))
                }
            }
        }
        for s in out {
            self.emit(s);
        }
    }

    fn closed(&self) {
        let mut out = Vec::new();
        let now = self.now();
        let mut d = lock(&self.decoder);
        d.close(now, &mut out);
        let how = lock(&self.close).join(", ");
        let summary = if how.is_empty() {
            "connection closed".to_string()
        } else {
            format!("connection closed: {how}")
        };
        out.push(d.session(Dir::Down, summary));
        drop(d);
        for s in out {
            self.emit(s);
        }
    }
}

fn query_param(target: &str, key: &str) -> Option<String> {
    let (_, query) = target.split_once('?')?;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_host_the_prefix_and_the_room() {
        let u = Upstream::parse("wss://example.com/rooms/myroom").unwrap();
        assert_eq!(u.room.as_deref(), Some("myroom"));
        assert_eq!(u.slug("myroom"), "example.com-myroom");
        assert!(u.tls);
        assert_eq!((u.host.as_str(), u.port), ("example.com", 443));
        assert_eq!(u.authority, "example.com");
        let u = Upstream::parse("ws://127.0.0.1:8765/base/rooms/dev").unwrap();
        assert_eq!(u.authority, "127.0.0.1:8765");
        assert_eq!(u.prefix, "/base");
        assert_eq!(u.room.as_deref(), Some("dev"));
        assert_eq!(u.slug("dev"), "127.0.0.1-dev");
        assert_eq!(u.room_url("x"), "ws://127.0.0.1:8765/base/rooms/x");
        let u = Upstream::parse("http://localhost:9000").unwrap();
        assert_eq!(
            (u.tls, u.room.clone(), u.prefix.as_str()),
            (false, None, "")
        );
        assert!(Upstream::parse("ftp://x").is_err());
        assert_eq!(
            Upstream::parse("wss://h/rooms/a")
                .unwrap()
                .slug("../../etc"),
            "h-.._.._etc"
        );
    }

    #[test]
    fn requests_are_rewritten_only_where_they_must_be() {
        let up = Upstream::parse("wss://example.com/rooms/dev").unwrap();
        let head = Head::parse(
            b"GET /?v=0.56.0 HTTP/1.1\r\nHost: 127.0.0.1:5555\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Extensions: permessage-deflate\r\nAuthorization: Bearer x\r\n\r\n",
        )
        .unwrap();
        let (out, room) = rewrite_request(&head, &up);
        assert_eq!(out.line, "GET /rooms/dev?v=0.56.0 HTTP/1.1");
        assert_eq!(room.as_deref(), Some("dev"));
        assert_eq!(out.get("host"), Some("example.com"));
        assert_eq!(out.get("connection"), Some("Upgrade"));
        assert_eq!(out.get("sec-websocket-extensions"), None);
        assert_eq!(out.get("authorization"), Some("Bearer x"));
        let rest = Head::parse(b"POST /accounts/x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n").unwrap();
        let (out, room) = rewrite_request(&rest, &up);
        assert_eq!(out.line, "POST /accounts/x HTTP/1.1");
        assert_eq!(room, None);
        assert_eq!(out.get("connection"), Some("close"));
        assert_eq!(out.get("content-length"), Some("2"));
        assert!(Head::parse(b"\xff\xfe\r\n\r\n").is_none());
        assert!(Head::parse(b"GET / HTTP/1.1\r\nno colon here\r\n\r\n").is_none());
    }

    #[test]
    fn query_tokens_are_found() {
        assert_eq!(
            query_param("/rooms/a?v=1&token=abc", "token").as_deref(),
            Some("abc")
        );
        assert_eq!(query_param("/rooms/a", "token"), None);
        assert_eq!(
            room_in_path("/rooms/dev/files/a.txt?x=1").as_deref(),
            Some("dev")
        );
        assert_eq!(
            room_in_path("/accounts/projects/p/rooms/r").as_deref(),
            Some("r")
        );
        assert_eq!(room_in_path("/rooms"), None);
    }
}
