//! What one connection has to send: a queue of encoded messages, bounded in bytes, that
//! anything in the server may add to and the connection's writer drains, all of it per wake-up.
//!
//! Three bounds keep a busy room live (the numbers are in `server/mod.rs`):
//! - A push (a message the participant did not ask for: a broadcast, presence) and an answer
//!   never wait. A participant whose queue would pass `MAX_QUEUED_BYTES` is not reading: it is
//!   disconnected rather than growing the server's memory. (An answer of any size still goes
//!   to a queue holding less than `WAIT_QUEUED_BYTES`, a push to an empty one.)
//! - A stream chunk waits while the queue holds `WAIT_QUEUED_BYTES`: its producer goes at the
//!   client's pace.
//! - What a participant sends to others counts against its `SENDER_IN_FLIGHT_BYTES` until the
//!   receivers' writers take it; over that, its connection reads nothing more, so a fast
//!   sender cannot build a backlog and latency is delivery time. A receiver that falls behind
//!   (`LAGGING_BYTES` queued) stops counting against senders, so it holds up nobody: it catches
//!   up, or its queue fills and it is disconnected.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::{Notify, oneshot};

use super::{LAGGING_BYTES, MAX_QUEUED_BYTES, SENDER_IN_FLIGHT_BYTES, WAIT_QUEUED_BYTES};
use crate::protocol::Encoded;
use crate::protocol::message::pack_message;

/// How long a sender over its in-flight bound waits before reading on anyway. Receivers that
/// stopped reading leave the bound once they are behind by `LAGGING_BYTES`; the next messages
/// put them there, so this wait only has to let the next message through.
const SENDER_PATIENCE: Duration = Duration::from_millis(100);

/// Ids of server-initiated messages, unique across connections so that one encoding of a
/// broadcast serves every receiver. Clients match answers by the ids of their own requests,
/// and the server matches a hosted toolkit's answers per host, so gaps mean nothing.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_message_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// The connection's queue was closed: its writer stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

/// A message waiting to be written.
pub(crate) struct Queued {
    pub msg: Encoded,
    /// The sender's charge, returned when the writer takes this or it is dropped.
    credit: Option<Credit>,
    /// Told once the message is written and flushed to the socket; dropped unwritten (the
    /// connection ended first), its receiver sees an error.
    pub written: Option<oneshot::Sender<()>>,
}

/// Bytes charged to a sender's in-flight bound; returned on drop.
struct Credit {
    sender: Arc<Outbox>,
    bytes: usize,
}

impl Drop for Credit {
    fn drop(&mut self) {
        self.sender.release(self.bytes);
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<Queued>,
    /// Bytes queued plus those the writer has taken and not finished writing.
    bytes: usize,
    writer: Option<Waker>,
    /// Behind by `LAGGING_BYTES`: takes no charges until its queue is empty again.
    lagging: bool,
    kicked: bool,
    closed: bool,
    /// Someone waits in `room` for the queue to shrink.
    room_wanted: bool,
}

#[derive(Default)]
struct Outbox {
    state: Mutex<State>,
    /// Wakes answers (and the reader) waiting for room in the queue.
    room: Notify,
    /// Bytes of this participant's messages queued at others and not yet taken.
    in_flight: AtomicUsize,
    /// Wakes this participant's reader when `in_flight` falls under its bound.
    credit: Notify,
    closed: AtomicBool,
    on_close: Notify,
    /// Fires once when the queue overflows (the writer may be stuck on the socket).
    on_kick: Notify,
}

impl Outbox {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn release(&self, bytes: usize) {
        let before = self.in_flight.fetch_sub(bytes, Ordering::AcqRel);
        if before > SENDER_IN_FLIGHT_BYTES && before - bytes <= SENDER_IN_FLIGHT_BYTES {
            self.credit.notify_one();
        }
    }

    /// Adds a message to the queue (the caller checked the bounds) and wakes the writer.
    fn enqueue(
        &self,
        mut s: MutexGuard<'_, State>,
        msg: Encoded,
        sender: Option<&Arc<Outbox>>,
        written: Option<oneshot::Sender<()>>,
    ) {
        let len = msg.len();
        let credit = match sender {
            Some(sender) if !s.lagging => {
                sender.in_flight.fetch_add(len, Ordering::AcqRel);
                Some(Credit {
                    sender: sender.clone(),
                    bytes: len,
                })
            }
            _ => None,
        };
        s.queue.push_back(Queued {
            msg,
            credit,
            written,
        });
        s.bytes += len;
        if s.bytes > LAGGING_BYTES && !s.lagging {
            // Behind: stop holding up the senders of what is queued.
            s.lagging = true;
            for q in s.queue.iter_mut() {
                q.credit = None;
            }
        }
        let writer = s.writer.take();
        drop(s);
        if let Some(w) = writer {
            w.wake();
        }
    }
}

/// The sending side of one connection. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct ConnHandle(Arc<Outbox>);

impl ConnHandle {
    pub fn new() -> ConnHandle {
        ConnHandle::default()
    }

    /// Pushes a message without waiting; charged to `sender` (whose message this is) until
    /// written. A participant whose queue is full is too slow for the room and is disconnected
    /// rather than stalling everyone.
    pub fn push_encoded(&self, msg: &Encoded, sender: Option<&ConnHandle>) {
        let _ = self.offer(msg.clone(), sender, 0);
    }

    /// Queues `msg` unless the queue is full, which disconnects the client. A queue holding no
    /// more than `slack` bytes takes a message of any size. Err = the connection is gone.
    fn offer(&self, msg: Encoded, sender: Option<&ConnHandle>, slack: usize) -> Result<(), ()> {
        self.offer_then(msg, sender, slack, None)
    }

    fn offer_then(
        &self,
        msg: Encoded,
        sender: Option<&ConnHandle>,
        slack: usize,
        written: Option<oneshot::Sender<()>>,
    ) -> Result<(), ()> {
        let mut s = self.0.lock();
        if s.closed || s.kicked {
            return Err(());
        }
        if s.bytes > slack && s.bytes + msg.len() > MAX_QUEUED_BYTES {
            s.kicked = true;
            // Dropped now: their charges go back to the senders at once.
            s.queue.clear();
            drop(s);
            self.0.on_kick.notify_one();
            return Err(());
        }
        self.0.enqueue(s, msg, sender.map(|c| &c.0), written);
        Ok(())
    }

    /// Pushes a server-initiated message to this participant alone.
    pub fn push(&self, msg_type: &str, header: &Map<String, Value>, payload: &[u8]) {
        let body = pack_message(header, payload);
        self.push_encoded(&Encoded::new(next_message_id(), msg_type, &body), None);
    }

    /// Queues a message, waiting while the queue holds `WAIT_QUEUED_BYTES`. Err = the
    /// connection is gone.
    pub async fn send(&self, msg: Encoded) -> Result<(), ()> {
        loop {
            let notified = self.0.room.notified();
            tokio::pin!(notified);
            {
                let mut s = self.0.lock();
                if s.closed || s.kicked {
                    return Err(());
                }
                if s.bytes == 0 || s.bytes + msg.len() <= WAIT_QUEUED_BYTES {
                    self.0.enqueue(s, msg, None, None);
                    return Ok(());
                }
                // Registered before the lock goes, so the writer's wake-up is not missed.
                notified.as_mut().enable();
                s.room_wanted = true;
            }
            notified.await;
        }
    }

    /// Queues the answer to request `id` without waiting (so no call sits parked on a client
    /// that does not read). Err = the connection is gone.
    pub async fn reply(&self, id: u64, msg_type: &str, body: Vec<u8>) -> Result<(), ()> {
        self.offer(Encoded::new(id, msg_type, &body), None, WAIT_QUEUED_BYTES)
    }

    /// `reply`, and resolves once the answer is written to the socket (Err: the connection
    /// ended before that). What must not be forgotten before the client has the answer (a
    /// received queue item's removal) waits for this, not for the queueing.
    pub async fn reply_written(&self, id: u64, msg_type: &str, body: Vec<u8>) -> Result<(), ()> {
        let (tx, rx) = oneshot::channel();
        self.offer_then(
            Encoded::new(id, msg_type, &body),
            None,
            WAIT_QUEUED_BYTES,
            Some(tx),
        )?;
        rx.await.map_err(|_| ())
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
        next_message_id()
    }

    pub async fn send_with_id(
        &self,
        id: u64,
        msg_type: &str,
        header: &Map<String, Value>,
        payload: &[u8],
    ) -> Result<(), ()> {
        self.send(Encoded::new(id, msg_type, &pack_message(header, payload)))
            .await
    }

    /// Resolves when the queue overflowed: the client is not reading and must go, even while
    /// its writer waits on a full socket.
    pub async fn kicked(&self) {
        self.0.on_kick.notified().await;
    }

    /// Resolves when the connection has ended.
    pub async fn closed(&self) {
        let notified = self.0.on_close.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.0.closed.load(Ordering::SeqCst) {
            return;
        }
        notified.await;
    }

    /// Ends the connection's queue: what is queued is dropped (its charges returned), and
    /// everything waiting on the connection is told.
    pub fn close(&self) {
        let queue = {
            let mut s = self.0.lock();
            s.closed = true;
            s.bytes = 0;
            std::mem::take(&mut s.queue)
        };
        drop(queue);
        self.0.closed.store(true, Ordering::SeqCst);
        self.0.on_close.notify_waiters();
        self.0.room.notify_waiters();
    }

    /// Waits until this connection may read its next request: what it sent to others has
    /// mostly been taken by their writers.
    pub async fn ready_to_read(&self) {
        if self.0.in_flight.load(Ordering::Acquire) <= SENDER_IN_FLIGHT_BYTES {
            return;
        }
        let _ = tokio::time::timeout(SENDER_PATIENCE, async {
            loop {
                let notified = self.0.credit.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.0.in_flight.load(Ordering::Acquire) <= SENDER_IN_FLIGHT_BYTES {
                    return;
                }
                notified.await;
            }
        })
        .await;
    }

    /// The writer's side: waits for messages and swaps them all into `batch` (empty on entry).
    pub async fn take(&self, batch: &mut VecDeque<Queued>) -> Result<(), Closed> {
        std::future::poll_fn(|cx| {
            let mut s = self.0.lock();
            if s.closed {
                return Poll::Ready(Err(Closed));
            }
            if s.queue.is_empty() {
                match &s.writer {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => s.writer = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            }
            std::mem::swap(&mut s.queue, batch);
            drop(s);
            // Taken means on its way: the senders' charges go back now, so a writer stuck on
            // a full socket holds up no sender.
            for q in batch.iter_mut() {
                q.credit = None;
            }
            Poll::Ready(Ok(()))
        })
        .await
    }

    /// The writer wrote `bytes` of what it took: room for answers waiting, and a receiver
    /// that caught up counts against its senders again.
    pub fn written(&self, bytes: usize) {
        let mut s = self.0.lock();
        s.bytes = s.bytes.saturating_sub(bytes);
        if s.queue.is_empty() && s.bytes == 0 {
            s.lagging = false;
        }
        let wake = std::mem::take(&mut s.room_wanted);
        drop(s);
        if wake {
            self.0.room.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(len: usize) -> Encoded {
        Encoded::new(1, "t", &vec![0u8; len])
    }

    #[tokio::test]
    async fn a_full_queue_disconnects_on_push_but_takes_one_large_message() {
        let conn = ConnHandle::new();
        conn.push_encoded(&msg(MAX_QUEUED_BYTES * 2), None);
        let mut batch = VecDeque::new();
        conn.take(&mut batch).await.unwrap();
        assert_eq!(batch.len(), 1, "an empty queue takes any one message");
        conn.push_encoded(&msg(10), None);
        conn.kicked().await;
        assert_eq!(conn.reply(1, "__response__", vec![]).await, Err(()));
    }

    #[tokio::test]
    async fn answers_never_wait_and_a_client_that_reads_none_is_disconnected() {
        let conn = ConnHandle::new();
        conn.push_encoded(&msg(1000), None);
        // A large answer still goes behind a short queue.
        let big = vec![0u8; MAX_QUEUED_BYTES];
        conn.reply(1, "__response__", big).await.unwrap();
        assert_eq!(conn.reply(2, "__response__", vec![0; 10]).await, Err(()));
        conn.kicked().await;
    }

    #[tokio::test]
    async fn charges_return_when_written_and_lagging_receivers_hold_nobody_up() {
        let (sender, fast, slow) = (ConnHandle::new(), ConnHandle::new(), ConnHandle::new());
        let m = msg(1000);
        for _ in 0..(LAGGING_BYTES / 1000 + 10) {
            fast.push_encoded(&m, Some(&sender));
            let mut batch = VecDeque::new();
            fast.take(&mut batch).await.unwrap();
            let n = batch.iter().map(|q| q.msg.len()).sum();
            drop(batch);
            fast.written(n);
            slow.push_encoded(&m, Some(&sender));
        }
        // The fast receiver returned its charges; the slow one fell behind and gave its up.
        assert_eq!(sender.0.in_flight.load(Ordering::SeqCst), 0);
        assert!(slow.0.lock().lagging);
        slow.close();
        assert_eq!(sender.0.in_flight.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn answers_wait_for_room_and_closing_releases_them() {
        let conn = ConnHandle::new();
        conn.send(msg(WAIT_QUEUED_BYTES)).await.unwrap();
        let waiting = tokio::spawn({
            let conn = conn.clone();
            async move { conn.send(msg(10)).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        conn.close();
        assert_eq!(waiting.await.unwrap(), Err(()));
        conn.closed().await;
    }
}
