//! `roomdeck sessions export|replay`: a recorded session's timeline as JSON Lines, and its
//! messages and queue items sent again into another room at their original pacing.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::client::RoomClient;
use crate::protocol::Content;
use crate::timeline::{Event, Kind, find_session};

/// Writes every event of the session `id` (found under `data_dir`) to `out` as JSON Lines,
/// one event at a time. Returns how many it wrote.
pub fn export(data_dir: &Path, id: &str, out: &mut dyn Write) -> Result<u64, String> {
    let dir = find_session(data_dir, id)?;
    let meta =
        crate::timeline::open::read_meta(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let events =
        crate::timeline::open::read_events(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut n = 0;
    for event in events {
        let line = event.to_json(meta.started_at_ms).to_string();
        if let Err(e) = writeln!(out, "{line}") {
            // `| head` closing the pipe just ends the output.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(n);
            }
            return Err(format!("cannot write the export: {e}"));
        }
        n += 1;
    }
    out.flush()
        .map_err(|e| format!("cannot write the export: {e}"))?;
    Ok(n)
}

/// `sessions export`: to `file`, or stdout.
pub fn run_export(data_dir: &Path, id: &str, file: Option<PathBuf>) -> Result<(), String> {
    match file {
        Some(path) => {
            let f = std::fs::File::create(&path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            let mut w = std::io::BufWriter::new(f);
            let n = export(data_dir, id, &mut w)?;
            eprintln!("wrote {n} events to {}", path.display());
            Ok(())
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            export(data_dir, id, &mut w).map(|_| ())
        }
    }
}

/// How long a direct message waits for its recipient's presence before it is skipped.
const PRESENCE_WAIT: Duration = Duration::from_secs(1);

/// What a replay sent.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReplaySummary {
    pub messages: u64,
    pub queue_items: u64,
    /// Direct messages whose recipient (by name) is not in the target room.
    pub skipped: u64,
    /// Calls whose arguments were too large to be recorded whole, not sent.
    pub too_large: u64,
    /// Calls the target room refused, with the first refusal.
    pub failed: u64,
    pub first_error: Option<String>,
}

impl ReplaySummary {
    pub fn line(&self, room: &str) -> String {
        let mut s = format!(
            "replayed {} messages and {} queue items into {room}",
            self.messages, self.queue_items
        );
        if self.skipped > 0 {
            s.push_str(&format!(
                "; {} direct messages skipped (their recipient is not in {room})",
                self.skipped
            ));
        }
        if self.too_large > 0 {
            s.push_str(&format!(
                "; {} not sent (too large to have been recorded whole)",
                self.too_large
            ));
        }
        if self.failed > 0 {
            s.push_str(&format!(
                "; {} refused ({})",
                self.failed,
                self.first_error.as_deref().unwrap_or("?")
            ));
        }
        s
    }
}

/// What of an event a replay sends again, if anything: messaging send/broadcast and queue
/// sends that succeeded, with their recorded arguments.
fn replayable(e: &Event) -> Option<(&'static str, &'static str, Value)> {
    if e.error.is_some() {
        return None;
    }
    let call = match (e.kind, e.tool.as_str()) {
        (Kind::Message, "send") => ("messaging", "send"),
        (Kind::Message, "broadcast") => ("messaging", "broadcast"),
        (Kind::Queue, "send") => ("queues", "send"),
        _ => return None,
    };
    if e.toolkit != call.0 {
        return None;
    }
    let args: Value = serde_json::from_str(&e.request).ok()?;
    args.is_object().then_some((call.0, call.1, args))
}

/// Makes a participant token for a name.
type Mint = dyn Fn(&str) -> Result<String, String> + Send + Sync;

/// Who sends the replayed calls: one client for all of them, or (in a local room, where
/// tokens can be minted) one participant per original sender, under the sender's name.
pub struct Senders {
    url: String,
    default: RoomClient,
    /// Mints a token for a participant name (local rooms only).
    mint: Option<Box<Mint>>,
    by_name: HashMap<String, RoomClient>,
    enabled: std::collections::HashSet<String>,
}

impl Senders {
    /// Every call from `client`.
    pub fn one(client: RoomClient) -> Senders {
        Senders {
            url: String::new(),
            default: client,
            mint: None,
            by_name: HashMap::new(),
            enabled: Default::default(),
        }
    }

    /// A participant per original sender, joined at `url` with tokens `mint` makes; `client`
    /// for calls whose sender has no name.
    pub fn per_participant(
        url: &str,
        client: RoomClient,
        mint: impl Fn(&str) -> Result<String, String> + Send + Sync + 'static,
    ) -> Senders {
        Senders {
            url: url.to_string(),
            mint: Some(Box::new(mint)),
            ..Senders::one(client)
        }
    }

    async fn client(&mut self, name: &str) -> Result<&RoomClient, String> {
        let Some(mint) = self.mint.as_ref().filter(|_| !name.is_empty()) else {
            return Ok(&self.default);
        };
        if !self.by_name.contains_key(name) {
            let token = mint(name)?;
            let client = RoomClient::connect(&self.url, &token)
                .await
                .map_err(|e| format!("{}: {e}", self.url))?;
            self.by_name.insert(name.to_string(), client);
        }
        Ok(&self.by_name[name])
    }

    /// The client for `name`, messaging-enabled (to send to someone by name).
    async fn enabled(&mut self, name: &str) -> Result<&RoomClient, String> {
        let key = if self.mint.is_some() { name } else { "" }.to_string();
        if !self.enabled.contains(&key) {
            self.client(name)
                .await?
                .messaging()
                .enable()
                .await
                .map_err(|e| format!("cannot enable messaging in the target room: {e}"))?;
            self.enabled.insert(key);
        }
        self.client(name).await
    }

    /// The participant ids of the replay's own clients.
    fn ids(&self) -> std::collections::HashSet<String> {
        self.by_name
            .values()
            .chain([&self.default])
            .map(RoomClient::participant_id)
            .collect()
    }

    /// How many participants sent (1 when one client sent everything).
    pub fn count(&self) -> usize {
        self.by_name.len().max(1)
    }

    pub async fn close(self) {
        for (_, c) in self.by_name {
            c.close().await;
        }
        self.default.close().await;
    }
}

/// Sends the messages and queue items of the session in `dir` into the target room, at
/// their recorded pacing divided by `speed` (0: no waiting).
pub async fn replay(
    dir: &Path,
    senders: &mut Senders,
    speed: f64,
) -> Result<ReplaySummary, String> {
    let events =
        crate::timeline::open::read_events(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut summary = ReplaySummary::default();
    // Who was who in the recording: a direct message goes to the participant of the same
    // name in the target room.
    let mut names: HashMap<String, String> = HashMap::new();
    let start = tokio::time::Instant::now();
    let mut first_t: Option<u64> = None;
    for e in events {
        if e.kind == Kind::Join && !e.participant_id.is_empty() {
            names.insert(e.participant_id.clone(), e.participant.clone());
            continue;
        }
        if e.kind == Kind::Message && e.tool == "enable" && e.error.is_none() {
            // Presence as it was: who had messaging on is on again in the target room.
            senders.enabled(&e.participant).await?;
            continue;
        }
        let Some((toolkit, tool, mut args)) = replayable(&e) else {
            continue;
        };
        if e.summary.contains(crate::server::recording::ARGUMENTS_CUT) {
            summary.too_large += 1;
            continue;
        }
        // Original pacing: the first replayed event goes at once, the others as long after
        // it as they were recorded after it.
        let t0 = *first_t.get_or_insert(e.t_us);
        if speed > 0.0 {
            let at = Duration::from_secs_f64(e.t_us.saturating_sub(t0) as f64 / 1e6 / speed);
            tokio::time::sleep_until(start + at).await;
        }
        let client = if tool == "send" && toolkit == "messaging" {
            let to = args["to_participant_id"].as_str().unwrap_or_default();
            let name = names.get(to).cloned().unwrap_or_default();
            // Someone of that name who is not one of the replay's own participants, else
            // the replay's participant of that name.
            let ours = senders.ids();
            let client = senders.enabled(&e.participant).await?;
            let find = || {
                let mut named: Vec<_> = client
                    .participants()
                    .into_iter()
                    .filter(|p| !name.is_empty() && p.name() == Some(name.as_str()))
                    .collect();
                named.sort_by_key(|p| ours.contains(&p.id));
                named.into_iter().next()
            };
            // The recipient was there when it was sent; its presence may still be on the way.
            let deadline = tokio::time::Instant::now() + PRESENCE_WAIT;
            let mut target = find();
            while target.is_none() && !name.is_empty() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
                target = find();
            }
            match target {
                Some(p) => args["to_participant_id"] = Value::String(p.id),
                None => {
                    summary.skipped += 1;
                    continue;
                }
            }
            client
        } else {
            senders.client(&e.participant).await?
        };
        match client.invoke(toolkit, tool, Content::Json(args)).await {
            Ok(_) if toolkit == "queues" => summary.queue_items += 1,
            Ok(_) => summary.messages += 1,
            Err(err) => {
                summary.failed += 1;
                summary
                    .first_error
                    .get_or_insert_with(|| format!("{toolkit}.{tool}: {err}"));
            }
        }
    }
    Ok(summary)
}

/// `sessions replay`: the target is `--url`/`--token` (one participant sends everything),
/// or the local room `to` (each original sender joins under its own name).
pub fn run_replay(
    data_dir: &Path,
    id: &str,
    to: &str,
    speed: f64,
    url: Option<String>,
    token: Option<String>,
    name: &str,
) -> Result<(), String> {
    if !(speed >= 0.0 && speed.is_finite()) {
        return Err(format!(
            "--speed must be 0 (as fast as possible) or more, not {speed}"
        ));
    }
    let dir = find_session(data_dir, id)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let remote = url.is_some();
        let local = match url {
            Some(base) => super::local::LocalRoom {
                url: super::room::room_url(&base, to),
                token: token
                    .ok_or("a token is required with --url (--token or MESHAGENT_TOKEN)")?,
                server: None,
            },
            None => super::local::local_room_for_command(data_dir, to, name).await?,
        };
        let client = RoomClient::connect(&local.url, &local.token)
            .await
            .map_err(|e| format!("{}: {e}", local.url))?;
        let mut senders = if remote {
            Senders::one(client)
        } else {
            let secret = crate::auth::secret::load_or_create_secret(data_dir)
                .map_err(|e| format!("server secret in {}: {e}", data_dir.display()))?;
            let room = to.to_string();
            Senders::per_participant(&local.url, client, move |who| {
                let mut t = crate::auth::ParticipantToken::new(who);
                t.add_room_grant(&room);
                t.add_role_grant("user");
                t.add_api_grant(crate::auth::ApiScope::owner());
                t.to_jwt(&secret).map_err(|e| e.to_string())
            })
        };
        let result = replay(&dir, &mut senders, speed).await;
        let participants = senders.count();
        senders.close().await;
        if let Some(server) = local.server {
            let _ = server.shutdown().await;
        }
        let summary = result?;
        println!("{}", summary.line(to));
        if !remote {
            println!("(sent as {participants} participants, under their recorded names)");
        }
        if summary.failed > 0 && summary.messages + summary.queue_items == 0 {
            return Err(format!("nothing was replayed into {to}"));
        }
        Ok(())
    })
}

/// `812 B`, `3.4 KiB`, `12.0 MiB`.
pub fn size_text(bytes: u64) -> String {
    let n = bytes as f64;
    if n < 1024.0 {
        format!("{bytes} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{:.1} MiB", n / (1024.0 * 1024.0))
    }
}
