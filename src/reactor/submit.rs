//! The submission queue from callers to the I/O thread, and the wake-up protocol that costs
//! one syscall per burst instead of one per command.

use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::Arc;

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
