//! The submission queue from callers to the I/O thread, the wake-up protocol that costs one
//! syscall per burst instead of one per command, and the per-thread arena short commands
//! travel in.
//!
//! The queue is a lock-free channel (crossbeam's unbounded list): the I/O thread never waits
//! for a lock a caller may hold, and a caller preempted in the middle of a push delays nobody.
//! A short command's bytes are copied into an arena of the caller's thread (`share_short`)
//! and travel as a slice of it: no allocation per command, and none freed per command on the
//! I/O thread (dropping the slice is a reference-count decrement). The arena's storage is
//! reused in place once every command in it was answered; otherwise the thread's next command
//! starts a fresh one and the old one is freed when its last command is answered.

use std::cell::RefCell;
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use crossbeam_channel::{Receiver, Sender};

use super::Submission;

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
    pub(crate) fn about_to_sleep(&self, rx: &Receiver<Submission>) -> bool {
        self.sleeping.store(true, Ordering::Relaxed);
        // ORDERING: pairs with the fence in `SubmitQueue::push`: either the I/O thread sees
        // the submission here, or the submitter sees `sleeping` and wakes it.
        fence(Ordering::SeqCst);
        if rx.is_empty() {
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

/// The callers' side: push, and wake the I/O thread only if it is parked.
pub(crate) struct SubmitQueue {
    tx: Sender<Submission>,
    wake: Arc<WakeState>,
}

impl SubmitQueue {
    pub(crate) fn new(wake: Arc<WakeState>) -> (Self, Receiver<Submission>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        (SubmitQueue { tx, wake }, rx)
    }

    /// Queues a submission and wakes the I/O thread if it sleeps.
    ///
    /// Returns the submission back if the I/O thread is gone.
    pub(crate) fn push(&self, s: Submission) -> Result<(), Submission> {
        self.tx.send(s).map_err(|e| e.0)?;
        // ORDERING: see `WakeState::about_to_sleep`.
        fence(Ordering::SeqCst);
        let sleeping = &self.wake.sleeping;
        if sleeping.load(Ordering::Relaxed) && sleeping.swap(false, Ordering::AcqRel) {
            // A failed wake means the poll instance is gone: the thread is exiting anyway.
            let _ = self.wake.waker.wake();
        }
        Ok(())
    }

    /// Wakes the I/O thread whether or not it sleeps.
    pub(crate) fn wake(&self) {
        let _ = self.wake.waker.wake();
    }
}

/// The size of a thread's arena: the most a thread keeps for short commands (a few hundred
/// of them) while any of them is unanswered.
const ARENA: usize = 16 * 1024;

thread_local! {
    static SHORT: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// `bytes` (a short encoded command) as a slice of this thread's arena.
pub(crate) fn share_short(bytes: &[u8]) -> Bytes {
    let copy = |arena: &mut BytesMut| {
        if arena.capacity() < bytes.len() {
            // Reclaims the storage in place when no earlier slice of it is still alive.
            arena.reserve(ARENA.max(bytes.len()));
        }
        arena.extend_from_slice(bytes);
        arena.split().freeze()
    };
    SHORT
        .try_with(|arena| copy(&mut arena.borrow_mut()))
        // During thread teardown: a buffer of its own.
        .unwrap_or_else(|_| Bytes::copy_from_slice(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_commands_share_one_arena_until_it_is_free_again() {
        let a = share_short(b"*1\r\n$4\r\nPING\r\n");
        let b = share_short(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        assert_eq!(&a[..], b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(&b[..], b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        // Consecutive commands are neighbours in one allocation.
        assert_eq!(a.as_ptr().wrapping_add(a.len()), b.as_ptr());
        let first = a.as_ptr();
        drop((a, b));
        // Fill the arena: once the earlier slices are gone, its storage is reused in place.
        let mut reused = false;
        for _ in 0..(2 * ARENA / 40) {
            let c = share_short(&[b'x'; 40]);
            assert_eq!(&c[..], &[b'x'; 40][..]);
            reused |= c.as_ptr() == first;
        }
        assert!(reused, "the arena's storage came back after its slices were dropped");
        // A slice kept alive keeps its bytes, whatever the arena does next.
        let kept = share_short(b"keep");
        for _ in 0..(2 * ARENA / 40) {
            drop(share_short(&[b'y'; 40]));
        }
        assert_eq!(&kept[..], b"keep");
    }
}
