//! Durable queues: an in-memory list per queue, backed by an append-only log (`log.rs`) that
//! one dedicated thread writes (`writer.rs`).
//!
//! Every change is applied in memory and appended to the open batch under one lock, so the
//! log holds the changes in the order memory saw them. The writer takes the whole open batch,
//! writes it and fsyncs once; what arrives meanwhile forms the next batch, so batches grow
//! with load. Guarantees:
//!
//! - a send (and open, drain, close) is answered after the fsync of the batch holding it,
//!   and its item can be received only from then on: an answered send is never lost;
//! - a receive is answered from memory; its removal is logged in a later batch (once the
//!   answer is on its way). A crash before that batch is durable delivers the item again
//!   after the restart: delivery is at-least-once across a crash, never lost;
//! - an item whose answer could not be sent (the caller left) goes back to its place.
//!
//! A receive that waits is woken by one notification per item that becomes receivable, not
//! by every commit. The log is rewritten with only the live items when it is mostly dead,
//! so a restart reads back about what is queued. A failed log write fails the room's queue
//! calls until the room is opened again (nothing answered depends on it).

mod log;
mod migrate;
mod writer;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, Weak};
use std::time::Duration;

use thiserror::Error;
use tokio::sync::{Notify, oneshot};

use log::{LogFile, Record, record_len};

#[derive(Debug, Error)]
pub enum QueueError {
    #[error("queue `{0}` does not exist")]
    NotFound(String),
    /// At the memory bound: the send is refused and nothing changes.
    #[error(
        "the room's queues are full ({} MiB queued, the limit): receive or drain items before sending more",
        .0 >> 20
    )]
    Full(usize),
    #[error("queue storage failed: {0}")]
    Storage(String),
}

/// Bytes of queued items one room may hold (in memory, and so in its log); a send beyond
/// it is refused with [`QueueError::Full`].
pub const MAX_QUEUED_BYTES: usize = 256 << 20;
/// The log is compacted once it is this large and more than half of it is dead.
const COMPACT_AT: u64 = 4 << 20;

/// Debug builds only: a receive's removal is logged this many ms late, so a test can kill
/// the server between the answer and the log (`tests/integration/queues.rs`).
const REMOVAL_DELAY_ENV: &str = "ROOMDECK_TEST_QUEUE_REMOVAL_DELAY_MS";

/// The store's bounds (tests lower them).
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    pub max_queued_bytes: usize,
    pub compact_at: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_queued_bytes: MAX_QUEUED_BYTES,
            compact_at: COMPACT_AT,
        }
    }
}

struct Item {
    body: Arc<str>,
    /// The batch whose fsync makes it receivable.
    batch: u64,
}

struct Queue {
    /// By id: ids grow with every send, so this is queue order.
    items: BTreeMap<u64, Item>,
    waiters: Arc<Notify>,
}

/// A received item whose removal is not logged yet.
struct InFlight {
    queue: String,
    body: Arc<str>,
}

/// The changes since the last batch the writer took, and who waits for them.
#[derive(Default)]
struct Batch {
    records: Vec<u8>,
    acks: Vec<oneshot::Sender<Result<(), String>>>,
    /// One per item sent in this batch: its queue's waiters get one wake-up each.
    wakes: Vec<Arc<Notify>>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.records.is_empty() && self.acks.is_empty()
    }
}

struct State {
    queues: HashMap<String, Queue>,
    /// Waiters of closed queues, handed to the queue if it is created again.
    orphan_waiters: HashMap<String, Arc<Notify>>,
    in_flight: HashMap<u64, InFlight>,
    next_id: u64,
    /// Log bytes of everything live (queues, items, items in flight): what a compacted log
    /// holds, and what the memory bound counts.
    live_bytes: usize,
    limits: Limits,
    batch: Batch,
    /// Number of the open batch; batches up to `durable` are on disk.
    open_batch: u64,
    durable: u64,
    compact_due: bool,
    failed: Option<String>,
    shutdown: bool,
}

impl State {
    fn log(&mut self, record: Record<'_>) {
        record.encode(&mut self.batch.records);
    }

    /// Resolves once the open batch (and so every batch before it) is durable.
    fn durable_after(&mut self, batch: u64) -> Durable {
        if batch <= self.durable {
            return Durable(None);
        }
        let (tx, rx) = oneshot::channel();
        self.batch.acks.push(tx);
        Durable(Some(rx))
    }

    fn usable(&self) -> Result<(), QueueError> {
        match &self.failed {
            Some(e) => Err(QueueError::Storage(e.clone())),
            None => Ok(()),
        }
    }

    fn queue(&mut self, name: &str, create: bool) -> Result<&mut Queue, QueueError> {
        if !self.queues.contains_key(name) {
            if !create {
                return Err(QueueError::NotFound(name.to_string()));
            }
            let waiters = self.orphan_waiters.remove(name).unwrap_or_default();
            self.log(Record::Create { queue: name });
            self.live_bytes += record_len(name, "");
            let queue = Queue {
                items: BTreeMap::new(),
                waiters,
            };
            self.queues.insert(name.to_string(), queue);
        }
        Ok(self.queues.get_mut(name).expect("just ensured"))
    }

    /// Forgets the items in flight of `queue`: a drain or close covers them in the log too.
    fn drop_in_flight(&mut self, queue: &str) {
        let live = &mut self.live_bytes;
        self.in_flight.retain(|_, f| {
            let keep = f.queue != queue;
            if !keep {
                *live -= record_len(&f.queue, &f.body);
            }
            keep
        });
    }

    /// Removes every item of `queue`; their bytes are no longer live.
    fn clear(&mut self, queue: &str) {
        if let Some(q) = self.queues.get_mut(queue) {
            let freed: usize = q.items.values().map(|i| record_len(queue, &i.body)).sum();
            q.items.clear();
            self.live_bytes -= freed;
        }
        self.drop_in_flight(queue);
    }

    /// Every live queue and item (in flight included, at its place): a compacted log.
    fn snapshot(&self) -> log::Snapshot {
        let mut queues: HashMap<&str, BTreeMap<u64, Arc<str>>> = self
            .queues
            .iter()
            .map(|(name, q)| {
                let items = q.items.iter().map(|(id, i)| (*id, i.body.clone()));
                (name.as_str(), items.collect())
            })
            .collect();
        for (id, f) in &self.in_flight {
            if let Some(items) = queues.get_mut(f.queue.as_str()) {
                items.insert(*id, f.body.clone());
            }
        }
        queues
            .into_iter()
            .map(|(name, items)| (name.to_string(), items.into_iter().collect()))
            .collect()
    }
}

/// What the writer thread shares with the callers.
struct Core {
    state: Mutex<State>,
    /// Wakes the writer when the open batch gets its first change (or at shutdown).
    work: Condvar,
}

impl Core {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock means a caller panicked between two plain field updates; the state
        // is still one the log describes.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the state and wakes the writer if `f` started a batch.
    fn change<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut st = self.lock();
        let was_empty = st.batch.is_empty();
        let out = f(&mut st);
        let started = was_empty && !st.batch.is_empty();
        drop(st);
        if started {
            self.work.notify_one();
        }
        out
    }

    /// Ends a receive: `delivered` logs the removal, otherwise the item goes back in place.
    fn settle(&self, id: u64, delivered: bool) {
        let wake = self.change(|st| {
            let f = st.in_flight.remove(&id)?;
            if delivered {
                st.log(Record::Pop {
                    queue: &f.queue,
                    id,
                });
                st.live_bytes -= record_len(&f.queue, &f.body);
                return None;
            }
            let q = st.queues.get_mut(&f.queue)?;
            // It was receivable before it was taken: its send is durable.
            q.items.insert(
                id,
                Item {
                    body: f.body,
                    batch: 0,
                },
            );
            Some(q.waiters.clone())
        });
        if let Some(w) = wake {
            w.notify_one();
        }
    }
}

/// Resolves when the change it was returned for is durable.
#[must_use = "a change is durable only once its Durable resolves"]
pub struct Durable(Option<oneshot::Receiver<Result<(), String>>>);

impl Durable {
    pub async fn wait(self) -> Result<(), QueueError> {
        match self.0 {
            None => Ok(()),
            Some(rx) => Self::answer(rx.await.ok()),
        }
    }

    /// `wait` for threads outside the async runtime.
    pub fn wait_blocking(self) -> Result<(), QueueError> {
        match self.0 {
            None => Ok(()),
            Some(rx) => Self::answer(rx.blocking_recv().ok()),
        }
    }

    fn answer(got: Option<Result<(), String>>) -> Result<(), QueueError> {
        got.unwrap_or_else(|| Err("the queue log writer stopped".into()))
            .map_err(QueueError::Storage)
    }
}

/// A received item. `confirm` once its answer is on its way; dropped unconfirmed, it goes
/// back to its place in the queue.
pub struct Taken {
    store: QueueStore,
    id: u64,
    body: Arc<str>,
    settled: bool,
}

impl Taken {
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The item was handed over: its removal goes into the next batch.
    pub fn confirm(mut self) {
        self.settled = true;
        let (store, id) = (self.store.clone(), self.id);
        match store.inner.removal_delay {
            None => store.inner.core.settle(id, true),
            Some(delay) => {
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    store.inner.core.settle(id, true);
                });
            }
        }
    }
}

impl Drop for Taken {
    fn drop(&mut self) {
        if !self.settled {
            self.store.inner.core.settle(self.id, false);
        }
    }
}

struct Inner {
    path: PathBuf,
    core: Arc<Core>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    removal_delay: Option<Duration>,
}

/// Stores open in this process, by log path: a room whose session ended may still be held
/// by a call finishing while the next session opens it, and both must share one writer.
type Registry = (Mutex<HashMap<PathBuf, Weak<Inner>>>, Condvar);
static OPEN: LazyLock<Registry> = LazyLock::new(Default::default);

impl Drop for Inner {
    fn drop(&mut self) {
        self.core.lock().shutdown = true;
        self.core.work.notify_one();
        // The writer writes what is left, then ends.
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(w) = writer {
            let _ = w.join();
        }
        let (open, closed) = &*OPEN;
        let mut open = open.lock().unwrap_or_else(|p| p.into_inner());
        if open.get(&self.path).is_some_and(|w| w.strong_count() == 0) {
            open.remove(&self.path);
        }
        closed.notify_all();
    }
}

/// One room's queues. Cheap to clone; the last clone dropped flushes the log.
#[derive(Clone)]
pub struct QueueStore {
    inner: Arc<Inner>,
}

impl QueueStore {
    /// The queues of the room in `dir` (`queues.log`; the SQLite `queues.db` of older
    /// versions is migrated into it).
    pub fn open(dir: &Path) -> Result<QueueStore, QueueError> {
        Self::open_with(dir, Limits::default())
    }

    pub(crate) fn open_with(dir: &Path, limits: Limits) -> Result<QueueStore, QueueError> {
        let path = dir.join("queues.log");
        let (open, closed) = &*OPEN;
        let mut registry = open.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            match registry.get(&path).map(Weak::upgrade) {
                Some(Some(inner)) => return Ok(QueueStore { inner }),
                // The last holder is flushing it; open it again once that is done.
                Some(None) => {
                    registry = closed.wait(registry).unwrap_or_else(|p| p.into_inner());
                }
                None => break,
            }
        }
        let storage = |e: std::io::Error| QueueError::Storage(format!("{}: {e}", path.display()));
        migrate::from_sqlite(&dir.join("queues.db"), &path)?;
        let (log, replayed) = LogFile::open(&path).map_err(storage)?;
        let mut live_bytes = 0;
        let queues = replayed
            .queues
            .into_iter()
            .map(|(name, items)| {
                live_bytes += record_len(&name, "");
                let items = items
                    .into_iter()
                    .map(|(id, body)| {
                        live_bytes += record_len(&name, &body);
                        (id, Item { body, batch: 0 })
                    })
                    .collect();
                let waiters = Arc::default();
                (name, Queue { items, waiters })
            })
            .collect();
        let compact_due = writer::due(limits, log.len(), live_bytes);
        let core = Arc::new(Core {
            state: Mutex::new(State {
                queues,
                orphan_waiters: HashMap::new(),
                in_flight: HashMap::new(),
                next_id: replayed.next_id,
                live_bytes,
                limits,
                batch: Batch::default(),
                open_batch: 1,
                durable: 0,
                compact_due,
                failed: None,
                shutdown: false,
            }),
            work: Condvar::new(),
        });
        let writer = writer::spawn(core.clone(), log).map_err(storage)?;
        let removal_delay = cfg!(debug_assertions)
            .then(|| std::env::var(REMOVAL_DELAY_ENV).ok()?.parse().ok())
            .flatten()
            .map(Duration::from_millis);
        let inner = Arc::new(Inner {
            path: path.clone(),
            core,
            writer: Mutex::new(Some(writer)),
            removal_delay,
        });
        registry.insert(path, Arc::downgrade(&inner));
        Ok(QueueStore { inner })
    }

    fn core(&self) -> &Core {
        &self.inner.core
    }

    /// Creates the queue if it does not exist.
    pub fn open_queue(&self, name: &str) -> Result<Durable, QueueError> {
        self.core().change(|st| {
            st.usable()?;
            st.queue(name, true)?;
            let batch = st.open_batch;
            Ok(st.durable_after(batch))
        })
    }

    /// Appends an item; durable (and receivable) once the returned `Durable` resolves.
    pub fn send(&self, name: &str, body: &str, create: bool) -> Result<Durable, QueueError> {
        self.core().change(|st| {
            st.usable()?;
            if !create && !st.queues.contains_key(name) {
                return Err(QueueError::NotFound(name.to_string()));
            }
            let size = record_len(name, body);
            if st.live_bytes + size > st.limits.max_queued_bytes {
                return Err(QueueError::Full(st.limits.max_queued_bytes));
            }
            let (id, batch) = (st.next_id, st.open_batch);
            let q = st.queue(name, true)?;
            let item = Item {
                body: Arc::from(body),
                batch,
            };
            q.items.insert(id, item);
            let waiters = q.waiters.clone();
            st.next_id += 1;
            st.live_bytes += size;
            st.log(Record::Push {
                queue: name,
                id,
                body,
            });
            st.batch.wakes.push(waiters);
            Ok(st.durable_after(batch))
        })
    }

    /// What a receive waiting on `name` is woken by: one notification per item that
    /// becomes receivable. Register (`Notified::enable`) before `take`, so none is missed.
    pub fn waiter(&self, name: &str, create: bool) -> Result<Arc<Notify>, QueueError> {
        self.core().change(|st| {
            st.usable()?;
            Ok(st.queue(name, create)?.waiters.clone())
        })
    }

    /// Takes the oldest receivable item, if any, from memory.
    pub fn take(&self, name: &str, create: bool) -> Result<Option<Taken>, QueueError> {
        let (taken, more) = self.core().change(|st| {
            st.usable()?;
            let durable = st.durable;
            let q = st.queue(name, create)?;
            let Some(entry) = q.items.first_entry() else {
                return Ok((None, None));
            };
            if entry.get().batch > durable {
                return Ok((None, None));
            }
            let (id, item) = entry.remove_entry();
            // Wake-ups are one per item: pass one on if more are waiting to be taken, in
            // case a receiver registered after this item's wake-up was spent.
            let more = q
                .items
                .first_key_value()
                .is_some_and(|(_, next)| next.batch <= durable)
                .then(|| q.waiters.clone());
            let body = item.body.clone();
            let queue = name.to_string();
            st.in_flight.insert(id, InFlight { queue, body });
            Ok::<_, QueueError>((Some((id, item.body)), more))
        })?;
        if let Some(w) = more {
            w.notify_one();
        }
        Ok(taken.map(|(id, body)| Taken {
            store: self.clone(),
            id,
            body,
            settled: false,
        }))
    }

    /// Removes every item of the queue.
    pub fn drain(&self, name: &str) -> Result<Durable, QueueError> {
        self.core().change(|st| {
            st.usable()?;
            st.queue(name, false)?;
            st.clear(name);
            st.log(Record::Drain { queue: name });
            let batch = st.open_batch;
            Ok(st.durable_after(batch))
        })
    }

    /// Deletes the queue and its items.
    pub fn close(&self, name: &str) -> Result<Durable, QueueError> {
        self.core().change(|st| {
            st.usable()?;
            st.queue(name, false)?;
            st.clear(name);
            let q = st.queues.remove(name).expect("ensured above");
            st.live_bytes -= record_len(name, "");
            if Arc::strong_count(&q.waiters) > 1 {
                st.orphan_waiters.insert(name.to_string(), q.waiters);
            }
            st.log(Record::Close { queue: name });
            let batch = st.open_batch;
            Ok(st.durable_after(batch))
        })
    }

    /// Every queue with its number of items, by name.
    pub fn list(&self) -> Result<Vec<(String, u64)>, QueueError> {
        let st = self.core().lock();
        st.usable()?;
        let mut all: Vec<(String, u64)> = st
            .queues
            .iter()
            .map(|(name, q)| (name.clone(), q.items.len() as u64))
            .collect();
        all.sort();
        Ok(all)
    }
}

#[cfg(test)]
mod tests;
