//! Sessions: one active run of a room. A session starts when the first participant joins
//! (its id is the `session_id` of `room_ready`), is recorded in the rooms database with who
//! joined, runs the room's services, keeps the room's developer log events, and ends when
//! nobody has been connected for the idle timeout: services stop, in-memory state goes,
//! persisted data stays. The next join starts a new session.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;

use super::devlog::DevEvent;
use super::room::Room;
use super::services::Supervisor;
use crate::store::rooms::{RoomsDb, now_secs};

/// How often saved service specs are re-read while a room is active.
const RECONCILE_EVERY: Duration = Duration::from_secs(2);

/// The session side of an active room.
pub(crate) struct Session {
    pub db: Arc<RoomsDb>,
    pub services: Arc<Supervisor>,
    /// Connections holding the room open, counting those between the HTTP check and the join.
    holders: AtomicUsize,
    /// Wakes the idle watcher when `holders` changes.
    pub changed: Notify,
    stop: watch::Sender<bool>,
    stop_logs: watch::Sender<bool>,
    reconciler: std::sync::Mutex<Option<JoinHandle<()>>>,
    recorder: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Session {
    pub fn new(db: Arc<RoomsDb>, services: Arc<Supervisor>) -> Session {
        let (stop, _) = watch::channel(false);
        let (stop_logs, _) = watch::channel(false);
        Session {
            db,
            services,
            holders: AtomicUsize::new(0),
            changed: Notify::new(),
            stop,
            stop_logs,
            reconciler: std::sync::Mutex::new(None),
            recorder: std::sync::Mutex::new(None),
        }
    }

    pub fn holders(&self) -> usize {
        self.holders.load(Ordering::SeqCst)
    }

    /// Records the session, starts its log recorder and its services.
    pub fn begin(&self, room: &Arc<Room>) {
        let (db, id, name) = (self.db.clone(), room.session_id.clone(), room.name.clone());
        let started = now_secs();
        if let Err(e) = db.session_start(&id, &name, started) {
            tracing::warn!(room = %name, "cannot record session {id}: {e}");
        }
        let recorder = tokio::spawn(record_logs(
            self.db.clone(),
            id,
            room.devlog.subscribe(),
            self.stop_logs.subscribe(),
        ));
        let services = self.services.clone();
        let mut stop = self.stop.subscribe();
        let reconciler = tokio::spawn(async move {
            loop {
                services.reconcile().await;
                tokio::select! {
                    _ = tokio::time::sleep(RECONCILE_EVERY) => {}
                    _ = stop.changed() => break,
                }
            }
        });
        *self.recorder.lock().unwrap_or_else(|p| p.into_inner()) = Some(recorder);
        *self.reconciler.lock().unwrap_or_else(|p| p.into_inner()) = Some(reconciler);
    }

    /// Ends the session: stops the services, flushes the logs, records the end.
    pub async fn end(&self, room: &Room) {
        room.log(
            super::devlog::Severity::Info,
            format!("session {} ends", room.session_id),
        );
        let _ = self.stop.send(true);
        let reconciler = self
            .reconciler
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(t) = reconciler {
            let _ = t.await;
        }
        self.services.stop_all().await;
        let _ = self.stop_logs.send(true);
        let recorder = self
            .recorder
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(t) = recorder {
            let _ = t.await;
        }
        let (db, id) = (self.db.clone(), room.session_id.clone());
        let _ = tokio::task::spawn_blocking(move || db.session_end(&id, now_secs())).await;
        super::recording::ended(room).await;
    }

    /// Records a participant of this session: noted in memory now, written with the other
    /// joins of its batch off the join path.
    pub fn record_participant(&self, session_id: &str, name: &str, role: &str) {
        if self.db.note_participant(session_id, name, role, now_secs()) {
            let db = self.db.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(e) = db.flush_participants() {
                    tracing::warn!("cannot record the participants of a session: {e}");
                }
            });
        }
    }
}

/// Keeps a room open while held: taken before the WebSocket upgrade, dropped when the
/// connection ends (or the upgrade never happens).
pub(crate) struct RoomLease {
    room: Arc<Room>,
}

impl RoomLease {
    /// Only the registry makes leases, under its lock, so the idle watcher never ends a
    /// session someone is joining.
    pub(crate) fn new(room: Arc<Room>) -> RoomLease {
        room.session.holders.fetch_add(1, Ordering::SeqCst);
        room.session.changed.notify_one();
        RoomLease { room }
    }
}

impl Drop for RoomLease {
    fn drop(&mut self) {
        self.room.session.holders.fetch_sub(1, Ordering::SeqCst);
        self.room.session.changed.notify_one();
    }
}

/// Copies a room's developer log events into the session's log, in batches.
async fn record_logs(
    db: Arc<RoomsDb>,
    session: String,
    mut events: broadcast::Receiver<DevEvent>,
    mut stop: watch::Receiver<bool>,
) {
    let mut batch: Vec<(f64, String, Value)> = Vec::new();
    let flush = |batch: &mut Vec<(f64, String, Value)>| {
        let items = std::mem::take(batch);
        let (db, session) = (db.clone(), session.clone());
        async move {
            if items.is_empty() {
                return;
            }
            let _ = tokio::task::spawn_blocking(move || {
                if let Err(e) = db.append_session_logs(&session, &items) {
                    tracing::warn!("cannot keep developer logs of session {session}: {e}");
                }
            })
            .await;
        }
    };
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(e) => {
                    batch.push((now_secs(), e.log_type, Value::Object(e.data)));
                    if batch.len() >= 500 {
                        flush(&mut batch).await;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("session {session}: {n} developer log events were not kept (too many at once)");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = tick.tick() => flush(&mut batch).await,
            _ = stop.changed() => {
                while let Ok(e) = events.try_recv() {
                    batch.push((now_secs(), e.log_type, Value::Object(e.data)));
                }
                break;
            }
        }
    }
    flush(&mut batch).await;
}
