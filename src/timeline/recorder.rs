//! The recorder: events handed over on a bounded channel to one writer thread, so a room's
//! hot path never waits on the recording's disk.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::segments::Writer;
use super::{Event, Kind, SessionMeta};

/// Events waiting for the writer; past this the recorder drops and counts (and says so in
/// the recording) rather than slow the room down.
const QUEUE_DEPTH: usize = 64 * 1024;

/// How often a busy recorder takes what was recorded; the channel holds far more than a
/// tick of a busy room.
const TICK: Duration = Duration::from_millis(10);

/// Ticks without an event before the writer waits on the channel instead of ticking.
const IDLE_TICKS: u32 = 50;

/// How a recording is bounded on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// All sessions under the root together.
    pub max_bytes: u64,
    /// One segment file; the oldest segments go first when the root is full.
    pub segment_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::of_total(256 << 20)
    }
}

impl Limits {
    /// A total size, in segments of an eighth of it (1 MiB to 32 MiB).
    pub fn of_total(max_bytes: u64) -> Limits {
        Limits {
            max_bytes,
            segment_bytes: (max_bytes / 8).clamp(1 << 20, 32 << 20),
        }
    }
}

/// Builds an event on the writer thread (see `Recorder::record_with`).
type Build = Box<dyn FnOnce() -> Event + Send>;

enum Msg {
    Event(Box<Event>),
    /// An event made on the writer thread, stamped at this time if it has none.
    Lazy(u64, Build),
    Finish(mpsc::Sender<()>),
}

/// A session's recorder; cheap to clone. `Recorder::off()` records nothing.
#[derive(Clone)]
pub struct Recorder {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    tx: SyncSender<Msg>,
    start: Instant,
    dropped: AtomicU64,
    recorded: AtomicU64,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Recorder {
    pub fn off() -> Recorder {
        Recorder { inner: None }
    }

    /// Starts recording the session `meta` under `root` (its writer thread runs until the
    /// last clone is dropped or `finish` is called).
    pub fn start(root: &Path, meta: SessionMeta, limits: Limits) -> std::io::Result<Recorder> {
        let mut writer = Writer::create(root, &meta, limits.max_bytes, limits.segment_bytes)?;
        let (tx, rx) = mpsc::sync_channel::<Msg>(QUEUE_DEPTH);
        let name = format!("record {}", meta.session_id);
        let thread = std::thread::Builder::new().name(name).spawn(move || {
            let mut last_t = 0u64;
            let mut idle_ticks = 0u32;
            // While events come, they are taken a tick's worth at a time: the thread sleeps
            // instead of waiting on the channel, so a sender only pushes and never pays for
            // waking it. Once idle for a while, it waits on the channel and costs nothing.
            loop {
                let mut got = false;
                loop {
                    match rx.try_recv() {
                        Ok(msg) => {
                            got = true;
                            if !write_one(&mut writer, &mut last_t, msg) {
                                return;
                            }
                        }
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => {
                            let _ = writer.finish();
                            return;
                        }
                    }
                }
                // Flushed every tick that wrote, so a reader tailing the file sees events
                // within a tick, and a burst is written in big blocks.
                if got {
                    let _ = writer.flush();
                    idle_ticks = 0;
                } else {
                    idle_ticks += 1;
                }
                if idle_ticks < IDLE_TICKS {
                    std::thread::sleep(TICK);
                    continue;
                }
                match rx.recv() {
                    Ok(msg) => {
                        idle_ticks = 0;
                        if !write_one(&mut writer, &mut last_t, msg) {
                            return;
                        }
                    }
                    Err(_) => break,
                }
            }
            let _ = writer.finish();
        })?;
        let inner = Arc::new(Inner {
            tx,
            start: Instant::now(),
            dropped: AtomicU64::new(0),
            recorded: AtomicU64::new(0),
            thread: Mutex::new(Some(thread)),
        });
        Ok(Recorder { inner: Some(inner) })
    }

    /// Whether events are kept: callers skip building an event when they are not.
    pub fn is_on(&self) -> bool {
        self.inner.is_some()
    }

    /// Microseconds since the recording began.
    pub fn now_us(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |i| i.start.elapsed().as_micros() as u64)
    }

    /// Records `event`, stamping it now when its `t_us` is 0. Never blocks: when the writer
    /// is behind by QUEUE_DEPTH events, the event is dropped and counted.
    pub fn record(&self, mut event: Event) {
        let Some(inner) = &self.inner else { return };
        if event.t_us == 0 {
            event.t_us = inner.start.elapsed().as_micros() as u64;
        }
        super::content::redact_secrets(&mut event);
        let t_us = event.t_us;
        inner.send(t_us, Msg::Event(Box::new(event)));
    }

    /// Records the event `build` makes, stamped now; `build` runs on the writer thread, so
    /// a hot path hands over what it has (arguments, answer) and pays for no formatting or
    /// serialising. Secrets are redacted from what `build` returns as `record` does.
    pub fn record_with(&self, build: impl FnOnce() -> Event + Send + 'static) {
        let Some(inner) = &self.inner else { return };
        let t_us = inner.start.elapsed().as_micros() as u64;
        inner.send(t_us, Msg::Lazy(t_us, Box::new(build)));
    }

    /// Events handed to the writer so far.
    pub fn recorded(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |i| i.recorded.load(Ordering::Relaxed))
    }

    /// Waits until everything recorded so far is written and synced.
    pub fn sync(&self) {
        let Some(inner) = &self.inner else { return };
        let (tx, rx) = mpsc::channel();
        if inner.tx.send(Msg::Finish(tx)).is_ok() {
            let _ = rx.recv();
        }
    }
}

impl Inner {
    fn send(&self, t_us: u64, msg: Msg) {
        let dropped = self.dropped.load(Ordering::Relaxed);
        if dropped > 0
            && self
                .dropped
                .compare_exchange(dropped, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            let note = Event {
                t_us,
                ..Event::new(
                    Kind::Session,
                    format!("{dropped} events not recorded: the recorder fell behind"),
                )
            };
            if self.tx.try_send(Msg::Event(Box::new(note))).is_err() {
                self.dropped.fetch_add(dropped, Ordering::Relaxed);
            }
        }
        match self.tx.try_send(msg) {
            Ok(()) => {
                self.recorded.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// Writes one message's event (or syncs, for `Finish`); false once the recording failed.
fn write_one(writer: &mut Writer, last_t: &mut u64, msg: Msg) -> bool {
    let mut event = match msg {
        Msg::Event(e) => *e,
        Msg::Lazy(t_us, build) => {
            let mut e = build();
            if e.t_us == 0 {
                e.t_us = t_us;
            }
            super::content::redact_secrets(&mut e);
            e
        }
        Msg::Finish(done) => {
            let _ = writer.finish();
            let _ = done.send(());
            return true;
        }
    };
    // Events are written in time order: one stamped a moment before another that reached
    // the channel first takes that one's time.
    event.t_us = event.t_us.max(*last_t);
    *last_t = event.t_us;
    if let Err(err) = writer.append(&event) {
        tracing::warn!("recording stopped: {err}");
        return false;
    }
    true
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The sender goes with self; the thread ends once it has written what was queued.
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        let (tx, _) = mpsc::sync_channel(1);
        drop(std::mem::replace(&mut self.tx, tx));
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}
