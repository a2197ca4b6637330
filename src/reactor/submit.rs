//! The submission queue from callers to the I/O thread, and the wake-up protocol that costs
//! one syscall per burst instead of one per command.
//!
//! A mutex-guarded pair of vectors that the I/O thread swaps out whole each turn: a caller's
//! push is a lock, two appends and an unlock, and in steady state nothing is allocated per
//! command (a lock-free list channel allocates and zeroes a block every few dozen items and
//! frees it on the other thread). A small command's bytes are copied into one shared byte
//! buffer instead of travelling as an allocation of their own: the I/O thread splits what was
//! written off the buffer each turn (no copy, no allocation) and gives each command a slice
//! of it. The buffer's storage is reused once every command in it was answered; otherwise the
//! next caller that needs room allocates a fresh one, on its own thread.

use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};

use super::Submission;
use crate::proto::outbuf::Encoded;

/// What both sides share: the poll's waker and the "I/O thread is parked" flag.
pub(crate) struct WakeState {
    pub(crate) waker: Arc<mio::Waker>,
    /// Set by the I/O thread right before it blocks in `poll`.
    sleeping: AtomicBool,
}

impl WakeState {
    pub(crate) fn new(waker: mio::Waker) -> Self {
        WakeState { waker: Arc::new(waker), sleeping: AtomicBool::new(false) }
    }

    /// The I/O thread announces it is about to block; returns false (and stays awake) if
    /// something arrived in the meantime.
    pub(crate) fn about_to_sleep(&self, queue: &SubmitQueue) -> bool {
        self.sleeping.store(true, Ordering::Relaxed);
        // ORDERING: pairs with the fence in `SubmitQueue::push`: either the I/O thread sees
        // the submission here, or the submitter sees `sleeping` and wakes it.
        fence(Ordering::SeqCst);
        if queue.is_empty() {
            true
        } else {
            self.sleeping.store(false, Ordering::Relaxed);
            false
        }
    }

    /// The I/O thread is awake again.
    pub(crate) fn awake(&self) {
        self.sleeping.store(false, Ordering::Relaxed);
    }
}

/// A command's encoded bytes as a caller hands them over.
pub(crate) enum Payload {
    /// Appended to the queue's shared byte buffer, right after the previous inline payload.
    Inline(usize),
    /// Buffers of its own (large commands, and resends that already hold their bytes).
    Own(Encoded),
}

/// What callers queued since the I/O thread last looked.
#[derive(Default)]
pub(crate) struct Batch {
    pub(crate) subs: Vec<Submission>,
    /// The inline payloads of `subs`, back to back, in order.
    pub(crate) bytes: BytesMut,
}

#[derive(Default)]
struct Pending {
    batch: Batch,
    /// Set when the I/O thread stopped taking submissions: pushes fail from then on.
    closed: bool,
}

/// Both sides' end of the queue: callers push, the I/O thread takes everything at once.
pub(crate) struct SubmitQueue {
    pending: Mutex<Pending>,
    wake: Arc<WakeState>,
}

/// The shared byte buffer's size: it is replaced (when still in use) or reclaimed (when every
/// command in it was answered) once this much was written into it.
const BYTES_ROOM: usize = 64 * 1024;

impl SubmitQueue {
    pub(crate) fn new(wake: Arc<WakeState>) -> Arc<Self> {
        Arc::new(SubmitQueue { pending: Mutex::new(Pending::default()), wake })
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        // Nothing under this lock can panic halfway through an update.
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a submission and wakes the I/O thread if it sleeps.
    ///
    /// Returns the submission back if the I/O thread is gone.
    pub(crate) fn push(&self, s: Submission) -> Result<(), Submission> {
        {
            let mut pending = self.lock();
            if pending.closed {
                return Err(s);
            }
            pending.batch.subs.push(s);
        }
        self.wake_if_sleeping();
        Ok(())
    }

    /// Queues a command whose encoded bytes are `bytes`, copied into the shared buffer
    /// (`Payload::Inline`); `make` builds the submission from the payload.
    ///
    /// Returns the submission back if the I/O thread is gone.
    pub(crate) fn push_command(
        &self,
        bytes: &[u8],
        make: impl FnOnce(Payload) -> Submission,
    ) -> Result<(), Submission> {
        let s = make(Payload::Inline(bytes.len()));
        {
            let mut pending = self.lock();
            if pending.closed {
                return Err(s);
            }
            let buf = &mut pending.batch.bytes;
            if buf.capacity() - buf.len() < bytes.len() {
                buf.reserve(bytes.len().max(BYTES_ROOM));
            }
            buf.extend_from_slice(bytes);
            pending.batch.subs.push(s);
        }
        self.wake_if_sleeping();
        Ok(())
    }

    fn wake_if_sleeping(&self) {
        // ORDERING: see `WakeState::about_to_sleep`.
        fence(Ordering::SeqCst);
        let sleeping = &self.wake.sleeping;
        if sleeping.load(Ordering::Relaxed) && sleeping.swap(false, Ordering::AcqRel) {
            // A failed wake means the poll instance is gone: the thread is exiting anyway.
            let _ = self.wake.waker.wake();
        }
    }

    /// True when nothing is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.lock().batch.subs.is_empty()
    }

    /// The I/O thread takes everything queued: the submissions are moved into `subs` (which
    /// must be empty; its storage goes back to the callers' side for reuse), the inline bytes
    /// come back as one `Bytes`, split off the shared buffer without copying.
    pub(crate) fn take(&self, subs: &mut Vec<Submission>) -> Bytes {
        debug_assert!(subs.is_empty());
        let mut pending = self.lock();
        std::mem::swap(&mut pending.batch.subs, subs);
        if pending.batch.bytes.is_empty() {
            return Bytes::new();
        }
        pending.batch.bytes.split().freeze()
    }

    /// The I/O thread stops: later pushes fail, and what is queued is returned to be failed.
    pub(crate) fn close(&self) -> Vec<Submission> {
        let mut pending = self.lock();
        pending.closed = true;
        std::mem::take(&mut pending.batch.subs)
    }

    /// Wakes the I/O thread whether or not it sleeps.
    pub(crate) fn wake(&self) {
        let _ = self.wake.waker.wake();
    }
}
