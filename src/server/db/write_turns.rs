//! Whose turn it is at SQLite's one writer, for write transactions (`Db::write_tx`; a few
//! single-statement writes, such as lease renewals, rely on SQLite's busy timeout instead).
//! Writers queue in arrival order, except that the runner's bookkeeping (claims, outcomes,
//! sweeps) steps aside while a request someone is waiting for is queued: a researcher's Retry
//! should not wait behind a batch of outcomes the runner could as well write a few
//! milliseconds later. The runner never waits more than [`MAX_YIELD`] at a time, so under a
//! steady stream of requests it still gets a turn that often and catches up when the stream
//! ends. And background writers queue at the lock one at a time: several of them done waiting
//! at once would otherwise stand in front of the next request together. On PostgreSQL there is
//! no one writer, but the stepping aside still applies (see [`WriteTurns::yield_to_requests`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, Notify, OwnedMutexGuard};

/// The longest a background writer steps aside before it queues anyway.
pub const MAX_YIELD: Duration = Duration::from_millis(20);

#[derive(Debug, Default)]
pub struct WriteTurns {
    lock: Arc<Mutex<()>>,
    /// Held by the one background writer that may queue at (or hold) `lock`.
    background: Arc<Mutex<()>>,
    /// Requests waiting for a write: queued at the lock, or handed to a task that writes for
    /// them (the retry group commit).
    waiting: AtomicUsize,
    /// Signalled when `waiting` drops to zero.
    clear: Notify,
}

/// A turn at the writer; the write is over when it drops.
pub struct Turn {
    _lock: OwnedMutexGuard<()>,
    _background: Option<OwnedMutexGuard<()>>,
}

/// Held while a request waits for a write made on its behalf; see [`WriteTurns::request_waiting`].
pub struct RequestWaiting(Arc<WriteTurns>);

impl Drop for RequestWaiting {
    fn drop(&mut self) {
        if self.0.waiting.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.clear.notify_waiters();
        }
    }
}

impl WriteTurns {
    /// Counts a request as waiting until the guard drops.
    pub fn request_waiting(self: &Arc<Self>) -> RequestWaiting {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        RequestWaiting(Arc::clone(self))
    }

    /// The writer's turn for a request (or anything someone waits for), in arrival order.
    pub async fn for_request(self: &Arc<Self>) -> Turn {
        let _waiting = self.request_waiting();
        Turn { _lock: Arc::clone(&self.lock).lock_owned().await, _background: None }
    }

    /// The writer's turn for background work: first steps aside (see
    /// [`WriteTurns::yield_to_requests`]), then queues behind at most one other background
    /// writer.
    pub async fn for_background(&self) -> Turn {
        self.yield_to_requests().await;
        let background = Arc::clone(&self.background).lock_owned().await;
        Turn { _lock: Arc::clone(&self.lock).lock_owned().await, _background: Some(background) }
    }

    /// Waits, up to [`MAX_YIELD`], until no request is waiting to write. On PostgreSQL, which
    /// has no one writer, this is all background work does: its transactions lock the same
    /// job rows (their counters) that a request's do.
    pub async fn yield_to_requests(&self) {
        let deadline = tokio::time::Instant::now() + MAX_YIELD;
        loop {
            let clear = self.clear.notified();
            tokio::pin!(clear);
            // Registered before the check, so a drop to zero in between is not missed.
            clear.as_mut().enable();
            if self.waiting.load(Ordering::SeqCst) == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, clear).await.is_err() {
                return;
            }
        }
    }
}
