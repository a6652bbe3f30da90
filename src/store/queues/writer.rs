//! The one thread that writes a room's queue log: group commit and compaction.
//!
//! It takes the whole open batch, writes it with one fsync, then marks it durable, answers
//! the calls that waited for it and wakes one receiver per item it made receivable. Calls
//! arriving during the fsync fill the next batch, so a busy room gets large batches and an
//! idle one is answered after a single fsync.
//!
//! Compaction replaces a batch: when the log is mostly dead, the writer takes a snapshot of
//! every live item together with the open batch (whose changes the snapshot already holds)
//! and writes the snapshot as the new log instead of appending the batch.

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::log::{LogFile, Replayed, Snapshot};
use super::{Batch, Core, Limits};

pub(super) fn spawn(core: Arc<Core>, log: LogFile) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("queue-log".into())
        .spawn(move || run(&core, log))
}

fn run(core: &Core, mut log: LogFile) {
    while let Some((number, batch, snapshot)) = next_batch(core) {
        // Nothing else writes the log, so the lock is not held during the write. After a
        // failed write nothing more is written: the batches after it were never answered.
        let failed = core.lock().failed.clone();
        let written = match failed {
            Some(e) => Err(e),
            None => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                write(&mut log, &batch, snapshot)
            }))
            .unwrap_or_else(|_| Err("the queue log writer panicked".into())),
        };
        let mut st = core.lock();
        match &written {
            Ok(()) => {
                st.durable = number;
                st.compact_due = due(st.limits, log.len(), st.live_bytes);
            }
            Err(e) => {
                tracing::error!("queue log: {e}; the room's queue calls fail until it is reopened");
                st.failed.get_or_insert_with(|| e.clone());
            }
        }
        drop(st);
        // Receivers are woken before senders hear back: an item is durable once written, and
        // a sender that goes on to look for the woken receiver finds it woken.
        if written.is_ok() {
            for waiters in batch.wakes {
                waiters.notify_one();
            }
        }
        for ack in batch.acks {
            // A caller that stopped waiting is no one to tell.
            let _ = ack.send(written.clone());
        }
    }
}

/// Waits for work: the open batch (closing it) and, when compaction is due, a snapshot.
/// None once the store is shut down and everything is written.
fn next_batch(core: &Core) -> Option<(u64, Batch, Option<Snapshot>)> {
    let mut st = core.lock();
    while st.batch.is_empty() && !st.compact_due {
        if st.shutdown {
            return None;
        }
        st = core.work.wait(st).unwrap_or_else(|p| p.into_inner());
    }
    let number = st.open_batch;
    st.open_batch += 1;
    let batch = std::mem::take(&mut st.batch);
    let snapshot = st.compact_due.then(|| st.snapshot());
    st.compact_due = false;
    Some((number, batch, snapshot))
}

fn write(log: &mut LogFile, batch: &Batch, snapshot: Option<Snapshot>) -> Result<(), String> {
    let failed = |e: io::Error| format!("writing the queue log failed: {e}");
    match snapshot {
        Some(live) => log.rewrite(&Replayed::encode(&live)).map_err(failed),
        None if batch.records.is_empty() => Ok(()),
        None => log.append(&batch.records).map_err(failed),
    }
}

/// Compact once the log is past its threshold and more than half of it is dead.
pub(super) fn due(limits: Limits, log_len: u64, live_bytes: usize) -> bool {
    log_len > limits.compact_at && log_len > 2 * live_bytes as u64
}
