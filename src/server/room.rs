//! Rooms and their participants.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use tokio::sync::{Notify, broadcast, mpsc, watch};

use super::devlog::{DevEvent, Severity};
use crate::auth::ApiScope;
use crate::protocol::message::pack_message;
use crate::store::files::FileStore;
use crate::store::queues::QueueStore;

/// One message waiting to be written to a connection.
pub(crate) struct Outgoing {
    pub id: u64,
    pub msg_type: String,
    pub body: Vec<u8>,
}

/// The sending side of one connection. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ConnHandle {
    tx: mpsc::Sender<Outgoing>,
    next_id: Arc<AtomicU64>,
    /// Set when the connection ended; pending calls watch it to stop waiting.
    closed: watch::Receiver<bool>,
    /// Wakes the connection loop to disconnect a client that cannot keep up.
    kick: Arc<Notify>,
    /// Bytes waiting in the send queue; the writer subtracts what it sent.
    queued: Arc<AtomicUsize>,
}

impl ConnHandle {
    pub fn new(
        tx: mpsc::Sender<Outgoing>,
        closed: watch::Receiver<bool>,
        kick: Arc<Notify>,
        queued: Arc<AtomicUsize>,
    ) -> ConnHandle {
        ConnHandle {
            tx,
            next_id: Arc::new(AtomicU64::new(1)),
            closed,
            kick,
            queued,
        }
    }

    async fn enqueue(&self, out: Outgoing) -> Result<(), ()> {
        self.queued.fetch_add(out.body.len(), Ordering::Relaxed);
        self.tx.send(out).await.map_err(|_| ())
    }

    /// Sends a reply; waits for room in the send queue. Err = the connection is gone.
    pub async fn reply(&self, id: u64, msg_type: &str, body: Vec<u8>) -> Result<(), ()> {
        self.enqueue(Outgoing {
            id,
            msg_type: msg_type.to_string(),
            body,
        })
        .await
    }

    /// Pushes a server-initiated message without waiting: a client whose queue is full is
    /// too slow to keep up with the room and is disconnected rather than stalling everyone.
    pub fn push(&self, msg_type: &str, header: &Map<String, Value>, payload: &[u8]) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let out = Outgoing {
            id,
            msg_type: msg_type.to_string(),
            body: pack_message(header, payload),
        };
        let len = out.body.len();
        if self.queued.load(Ordering::Relaxed) + len > super::MAX_QUEUED_BYTES {
            self.kick.notify_one();
            return;
        }
        self.queued.fetch_add(len, Ordering::Relaxed);
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(out) {
            self.queued.fetch_sub(len, Ordering::Relaxed);
            self.kick.notify_one();
        }
    }

    /// Sends a server-initiated message, waiting for room in the send queue (stream chunks:
    /// the producer slows down to the client's pace).
    pub async fn send_new(
        &self,
        msg_type: &str,
        header: &Map<String, Value>,
        payload: &[u8],
    ) -> Result<(), ()> {
        self.send_with_id(self.reserve_id(), msg_type, header, payload)
            .await
    }

    /// A fresh id for a server-initiated message whose answer must be matched to it.
    pub fn reserve_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub async fn send_with_id(
        &self,
        id: u64,
        msg_type: &str,
        header: &Map<String, Value>,
        payload: &[u8],
    ) -> Result<(), ()> {
        let out = Outgoing {
            id,
            msg_type: msg_type.to_string(),
            body: pack_message(header, payload),
        };
        self.enqueue(out).await
    }

    /// Resolves when the connection has ended.
    pub async fn closed(&self) {
        let mut rx = self.closed.clone();
        let _ = rx.wait_for(|c| *c).await;
    }
}

pub(crate) struct Participant {
    pub id: String,
    pub name: String,
    pub role: String,
    pub scope: Option<ApiScope>,
    pub attributes: Mutex<Map<String, Value>>,
    pub messaging_enabled: AtomicBool,
    pub conn: ConnHandle,
    /// The room's URL as this participant reached it (`ws://host/rooms/NAME`).
    pub room_url: String,
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
}

pub(crate) struct Room {
    pub name: String,
    pub session_id: String,
    pub participants: Mutex<HashMap<String, Arc<Participant>>>,
    pub queues: QueueStore,
    pub files: FileStore,
    /// Signs the expiring download URLs of this room's files.
    pub url_signer: super::files_api::UrlSigner,
    /// Per-queue wake-ups for receivers waiting on an empty queue.
    pub queue_waiters: Mutex<HashMap<String, Arc<Notify>>>,
    pub devlog: broadcast::Sender<DevEvent>,
    /// Toolkits hosted by participants, and calls forwarded to them.
    pub hosted: super::hosted::Hosted,
    pub secrets: crate::store::secrets::SecretStore,
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
            .insert(participant.id.clone(), participant);
        self.log(
            Severity::Info,
            format!("participant {name} joined as {role}"),
        );
    }

    pub fn leave(&self, id: &str) {
        let gone = self
            .participants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        if let Some(p) = gone {
            self.hosted.host_left(&p.id);
            if p.messaging_enabled.load(Ordering::SeqCst) {
                super::toolkits::messaging::announce_disabled(self, &p);
            }
            self.log(Severity::Info, format!("participant {} left", p.name));
        }
    }

    /// Pushes a server-initiated message to every participant of the room.
    pub fn push_all(&self, msg_type: &str, header: &Map<String, Value>) {
        for p in self.participants() {
            p.conn.push(msg_type, header, b"");
        }
    }

    /// Wake-up handle for receivers of one queue.
    pub fn queue_waiter(&self, queue: &str) -> Arc<Notify> {
        self.queue_waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(queue.to_string())
            .or_default()
            .clone()
    }

    /// Publishes a developer log event to everyone following the room's logs.
    pub fn publish(&self, event: DevEvent) {
        // No receivers is normal: nobody is watching the logs.
        let _ = self.devlog.send(event);
    }

    /// The server's own account of what happens in the room, as an `otel.log` event.
    pub fn log(&self, severity: Severity, message: String) {
        tracing::info!(room = %self.name, "{message}");
        self.publish(DevEvent::otel(severity, &message, &Map::new()));
    }
}

/// Every open room of this server.
pub struct Rooms {
    data_dir: PathBuf,
    /// Largest file one upload may create.
    pub(crate) max_upload_size: u64,
    pub(crate) url_signer: super::files_api::UrlSigner,
    /// Key for the rooms' secrets, derived from the server secret.
    secrets_key: [u8; 32],
    rooms: tokio::sync::Mutex<HashMap<String, Arc<Room>>>,
}

impl Rooms {
    pub fn new(data_dir: PathBuf, secrets_key: [u8; 32]) -> Rooms {
        Rooms {
            data_dir,
            max_upload_size: crate::store::files::DEFAULT_MAX_UPLOAD_SIZE,
            url_signer: Default::default(),
            secrets_key,
            rooms: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    pub(crate) async fn get_or_create(&self, name: &str) -> Result<Arc<Room>, String> {
        let mut rooms = self.rooms.lock().await;
        if let Some(room) = rooms.get(name) {
            return Ok(room.clone());
        }
        let dir = crate::store::room_dir(&self.data_dir, name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let queues = QueueStore::open(&dir.join("queues.db")).map_err(|e| e.to_string())?;
        let files = FileStore::open(&dir, self.max_upload_size)
            .map_err(|e| format!("{}: {e}", dir.join("files").display()))?;
        let secrets =
            crate::store::secrets::SecretStore::open(&dir.join("secrets.db"), &self.secrets_key)
                .map_err(|e| e.to_string())?;
        let (devlog, _) = broadcast::channel(4096);
        let room = Arc::new(Room {
            name: name.to_string(),
            session_id: super::call::random_id(),
            participants: Mutex::new(HashMap::new()),
            queues,
            files,
            url_signer: self.url_signer.clone(),
            queue_waiters: Mutex::new(HashMap::new()),
            devlog,
            hosted: Default::default(),
            secrets,
        });
        rooms.insert(name.to_string(), room.clone());
        Ok(room)
    }

    /// Drops every room (the stores close and flush); called at shutdown.
    pub(crate) async fn close_all(&self) {
        self.rooms.lock().await.clear();
    }
}
