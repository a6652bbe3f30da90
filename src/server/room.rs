//! Rooms and their participants.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use super::devlog::{DevEvent, Severity};
use super::services::{ServiceEnv, Supervisor};
use super::session::{RoomLease, Session};
use crate::auth::ApiScope;
use crate::protocol::Encoded;
use crate::protocol::message::pack_message;
use crate::store::files::FileStore;
use crate::store::queues::QueueStore;
use crate::store::rooms::RoomsDb;

pub(crate) use super::outbox::ConnHandle;

pub(crate) struct Participant {
    pub id: String,
    pub name: String,
    pub role: String,
    pub scope: Option<ApiScope>,
    pub attributes: Mutex<Map<String, Value>>,
    /// `presence()` as JSON text, kept until the attributes change: a participant enabling
    /// messaging is sent everyone's, which in a room of thousands is most of the join's work.
    pub presence_text: Mutex<Option<Arc<str>>>,
    pub messaging_enabled: AtomicBool,
    pub conn: ConnHandle,
    /// The room's URL as this participant reached it (`ws://host/rooms/NAME`).
    pub room_url: String,
    /// How many of its actions the room still logs this second (actions.rs).
    pub actions: super::actions::ActionBudget,
}

impl Participant {
    pub fn attributes(&self) -> Map<String, Value> {
        self.attributes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The presence record the SDK expects: `{"id","role","attributes"}`.
    pub fn presence(&self) -> Value {
        json!({"id": self.id, "role": self.role, "attributes": self.attributes()})
    }

    /// `presence()` serialised, made once per change of the attributes.
    pub fn presence_text(&self) -> Arc<str> {
        let mut cached = self.presence_text.lock().unwrap_or_else(|p| p.into_inner());
        cached
            .get_or_insert_with(|| self.presence().to_string().into())
            .clone()
    }

    /// Merges attributes in; returns them all.
    pub fn merge_attributes(&self, attrs: Map<String, Value>) -> Map<String, Value> {
        let mut current = self.attributes.lock().unwrap_or_else(|p| p.into_inner());
        current.extend(attrs);
        *self.presence_text.lock().unwrap_or_else(|p| p.into_inner()) = None;
        current.clone()
    }
}

pub(crate) struct Room {
    pub name: String,
    pub session_id: String,
    pub participants: Mutex<HashMap<String, Arc<Participant>>>,
    pub queues: QueueStore,
    pub files: FileStore,
    /// Sync documents (`toolkits/sync.rs`).
    pub documents: crate::store::documents::DocumentStore,
    /// Signs the expiring download URLs of this room's files.
    pub url_signer: super::files_api::UrlSigner,
    pub devlog: broadcast::Sender<DevEvent>,
    /// Held while presence changes and is announced, so that every participant sees joins,
    /// leaves and enables in one order (a `messaging.enabled` list never older than a
    /// `participant.enabled` sent before it).
    pub presence: Mutex<()>,
    /// Toolkits hosted by participants, and calls forwarded to them.
    pub hosted: super::hosted::Hosted,
    pub secrets: crate::store::secrets::SecretStore,
    /// What the toolkits keep per room (databases, open queries, memories), opaque here.
    pub toolkit_state: super::toolkits::RoomState,
    /// The session: its record, idle tracking and services (`session.rs`).
    pub session: super::session::Session,
    /// Calls, messages, queue operations and errors counted for the console's overview.
    pub stats: std::sync::Arc<super::toolkits::stats::Counters>,
    /// The session's timeline (`recording.rs`); off with `serve --record off`.
    pub recorder: crate::timeline::Recorder,
}

impl Room {
    pub fn participant(&self, id: &str) -> Option<Arc<Participant>> {
        self.participants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    pub fn participants(&self) -> Vec<Arc<Participant>> {
        self.participants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Messaging-enabled participants other than `except`.
    pub fn messaging_peers(&self, except: &str) -> Vec<Arc<Participant>> {
        self.participants()
            .into_iter()
            .filter(|p| p.id != except && p.messaging_enabled.load(Ordering::SeqCst))
            .collect()
    }

    pub fn join(&self, participant: Arc<Participant>) {
        let (name, role) = (participant.name.clone(), participant.role.clone());
        self.participants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(participant.id.clone(), participant.clone());
        super::recording::joined(self, &participant);
        self.session
            .record_participant(&self.session_id, &name, &role);
        self.log(
            Severity::Info,
            format!("participant {name} joined as {role}"),
        );
    }

    pub fn leave(&self, id: &str) {
        let _presence = self.presence.lock().unwrap_or_else(|p| p.into_inner());
        let gone = self
            .participants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        if let Some(p) = gone {
            self.hosted.host_left(&p.id);
            super::toolkits::participant_left(self, &p);
            super::recording::left(self, &p);
            self.log(Severity::Info, format!("participant {} left", p.name));
        }
    }

    /// Pushes a server-initiated message to every participant of the room.
    pub fn push_all(&self, msg_type: &str, header: &Map<String, Value>) {
        let body = pack_message(header, b"");
        let msg = Encoded::new(super::outbox::next_message_id(), msg_type, &body);
        for p in self.participants() {
            p.conn.push_encoded(&msg, None);
        }
    }

    /// Publishes a developer log event to everyone following the room's logs.
    pub fn publish(&self, event: DevEvent) {
        // No receivers is normal: nobody is watching the logs.
        let _ = self.devlog.send(event);
    }

    /// The server's own account of what happens in the room, as an `otel.log` event.
    pub fn log(&self, severity: Severity, message: String) {
        self.log_with(severity, message, &Map::new());
    }

    /// A log line with OTel attributes, for readers that want the facts without parsing the
    /// words (the console's chat pane reads the `stream.*` ones).
    pub fn log_with(&self, severity: Severity, message: String, attributes: &Map<String, Value>) {
        tracing::info!(room = %self.name, "{message}");
        super::recording::log(&self.recorder, severity, &message, attributes);
        self.publish(DevEvent::otel(severity, &message, attributes));
    }
}

/// What the registry needs to open rooms and run their sessions.
pub(crate) struct RoomsConfig {
    pub data_dir: PathBuf,
    pub db: Arc<RoomsDb>,
    pub secret: String,
    /// `host:port` the server listens on (services are told to join here).
    pub server_addr: String,
    /// A session ends when nobody has been connected this long.
    pub idle_timeout: Duration,
    /// Whether services run (see `ServerConfig::run_services`).
    pub run_services: bool,
    /// Largest file one upload may create.
    pub max_upload_size: u64,
    /// Signs the expiring download URLs of files.
    pub url_signer: super::files_api::UrlSigner,
    /// Key for the rooms' secrets, derived from the server secret.
    pub secrets_key: [u8; 32],
    /// How sessions are recorded (None: not at all).
    pub record: Option<crate::timeline::Limits>,
}

/// Every open (active) room of this server.
pub struct Rooms {
    config: Arc<RoomsConfig>,
    rooms: Arc<tokio::sync::Mutex<HashMap<String, Arc<Room>>>>,
}

impl Rooms {
    pub(crate) fn new(config: RoomsConfig) -> Rooms {
        Rooms {
            config: Arc::new(config),
            rooms: Arc::default(),
        }
    }

    pub(crate) fn db(&self) -> &Arc<RoomsDb> {
        &self.config.db
    }

    /// The room, opening it (a new session) if it is not active, with a lease that keeps it
    /// open until dropped.
    pub(crate) async fn lease(&self, name: &str) -> Result<(Arc<Room>, RoomLease), String> {
        let mut rooms = self.rooms.lock().await;
        if let Some(room) = rooms.get(name) {
            let lease = RoomLease::new(room.clone());
            return Ok((room.clone(), lease));
        }
        let dir = crate::store::room_dir(&self.config.data_dir, name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let queues = QueueStore::open(&dir).map_err(|e| e.to_string())?;
        let files = FileStore::open(&dir, self.config.max_upload_size)
            .map_err(|e| format!("{}: {e}", dir.join("files").display()))?;
        let documents = crate::store::documents::DocumentStore::open(&dir)
            .map_err(|e| format!("{}: {e}", dir.join("documents").display()))?;
        let secrets = crate::store::secrets::SecretStore::open(
            &dir.join("secrets.db"),
            &self.config.secrets_key,
        )
        .map_err(|e| e.to_string())?;
        let (devlog, _) = broadcast::channel(4096);
        let session_id = super::call::random_id();
        let recorder =
            super::recording::start(&self.config.data_dir, self.config.record, name, &session_id);
        let env = ServiceEnv {
            recorder: recorder.clone(),
            room: name.to_string(),
            data_dir: self.config.data_dir.clone(),
            secret: self.config.secret.clone(),
            server_addr: self.config.server_addr.clone(),
            devlog: devlog.clone(),
            run: self.config.run_services,
        };
        let supervisor = Arc::new(Supervisor::new(env, self.config.db.clone()));
        let room = Arc::new(Room {
            name: name.to_string(),
            session_id,
            participants: Mutex::new(HashMap::new()),
            queues,
            files,
            documents,
            url_signer: self.config.url_signer.clone(),
            devlog,
            presence: Mutex::new(()),
            hosted: Default::default(),
            secrets,
            toolkit_state: super::toolkits::RoomState::open(&dir),
            session: Session::new(self.config.db.clone(), supervisor),
            stats: super::toolkits::stats::counters(name),
            recorder,
        });
        let lease = RoomLease::new(room.clone());
        room.session.begin(&room);
        room.log(
            Severity::Info,
            format!("session {} started", room.session_id),
        );
        rooms.insert(name.to_string(), room.clone());
        tokio::spawn(watch_idle(
            self.rooms.clone(),
            room.clone(),
            self.config.idle_timeout,
        ));
        Ok((room, lease))
    }

    /// Ends every session (services stop, stores close and flush); called at shutdown.
    pub(crate) async fn close_all(&self) {
        let all: Vec<Arc<Room>> = self.rooms.lock().await.drain().map(|(_, r)| r).collect();
        for room in all {
            super::toolkits::room_closing(&room).await;
            room.session.end(&room).await;
        }
    }
}

/// Ends the room's session once nobody has held it for `timeout`.
async fn watch_idle(
    rooms: Arc<tokio::sync::Mutex<HashMap<String, Arc<Room>>>>,
    room: Arc<Room>,
    timeout: Duration,
) {
    loop {
        if room.session.holders() > 0 {
            room.session.changed.notified().await;
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(timeout) => {}
            _ = room.session.changed.notified() => continue,
        }
        let mut map = rooms.lock().await;
        // Leases are only taken under this lock, so the count cannot change under us.
        if room.session.holders() > 0 {
            continue;
        }
        let ours = map.get(&room.name).is_some_and(|r| Arc::ptr_eq(r, &room));
        if !ours {
            // Already ended (shutdown).
            return;
        }
        map.remove(&room.name);
        drop(map);
        super::toolkits::room_closing(&room).await;
        room.session.end(&room).await;
        return;
    }
}
