//! A slot for one task's [`Waker`] that the I/O thread can wake without a lock: the consumer
//! of a subscription registers its waker, the I/O thread wakes it after delivering messages.
//!
//! # Design
//! One atomic state byte decides who may touch the cell holding the waker:
//! - `IDLE`: nobody is inside; either side may enter.
//! - `REGISTERING`: the consumer is writing its waker into the cell (it owns the cell).
//! - `WAKING` (a bit, set by the waker side): a wake is in progress or came while the
//!   consumer was registering; whoever leaves last takes the waker out and wakes it.
//!
//! `register`: `IDLE → REGISTERING` (Acquire: sees the last waker's removal), writes the
//! waker, then `REGISTERING → IDLE` (Release: publishes it). If that CAS fails, a wake
//! arrived meanwhile (`REGISTERING | WAKING`): the consumer takes its waker back out, stores
//! `IDLE`, and wakes itself, so no wake is lost. If the first CAS finds `WAKING`, a wake is
//! running: the consumer wakes itself right away (it will poll again and find the messages).
//!
//! `wake`: `fetch_or(WAKING)` (AcqRel). Finding `IDLE`, the I/O thread owns the cell: it
//! takes the waker, clears `WAKING` (Release) and wakes it outside the slot. Finding
//! `REGISTERING`, the consumer will see the bit and wake itself; finding `WAKING`, another
//! wake is running.
//!
//! Only one consumer registers at a time (`Subscription` takes `&mut` for its async reads),
//! and only the I/O thread wakes.
#![allow(unsafe_code)] // One cell shared by two threads, ordered by the state byte above.

use std::task::Waker;

use crate::sync::Ordering::{AcqRel, Acquire, Release};
use crate::sync::{AtomicU8, UnsafeCell};

const IDLE: u8 = 0;
const REGISTERING: u8 = 1;
const WAKING: u8 = 2;

/// A waker slot written by one consumer and woken by one producer, lock-free.
#[derive(Debug)]
pub(crate) struct WakerSlot {
    state: AtomicU8,
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the cell is only touched by the side the state byte gives it to (see the module
// docs), so sharing the slot between threads is sound; `Waker` is `Send + Sync`.
unsafe impl Sync for WakerSlot {}
// SAFETY: as above; the slot owns an `Option<Waker>`, which is `Send`.
unsafe impl Send for WakerSlot {}

impl Default for WakerSlot {
    fn default() -> Self {
        WakerSlot { state: AtomicU8::new(IDLE), waker: UnsafeCell::new(None) }
    }
}

impl WakerSlot {
    /// Stores `waker` to be woken by the next [`wake`](WakerSlot::wake).
    pub(crate) fn register(&self, waker: &Waker) {
        match self.state.compare_exchange(IDLE, REGISTERING, Acquire, Acquire) {
            Ok(_) => {
                // SAFETY: `REGISTERING` gives the cell to this side alone until it stores
                // another state.
                self.waker.with_mut(|cell| unsafe {
                    match &mut *cell {
                        Some(old) if old.will_wake(waker) => {}
                        slot => *slot = Some(waker.clone()),
                    }
                });
                if self.state.compare_exchange(REGISTERING, IDLE, AcqRel, Acquire).is_err() {
                    // A wake came while registering (`REGISTERING | WAKING`): it left the
                    // cell to this side. Take the waker back out and wake it.
                    // SAFETY: the waker side saw `REGISTERING` and did not touch the cell.
                    let waker = self.waker.with_mut(|cell| unsafe { (*cell).take() });
                    self.state.store(IDLE, Release);
                    if let Some(w) = waker {
                        w.wake();
                    }
                }
            }
            // A wake is running: poll again right away rather than miss it.
            Err(_) => waker.wake_by_ref(),
        }
    }

    /// Wakes the registered waker, if any.
    pub(crate) fn wake(&self) {
        if self.state.fetch_or(WAKING, AcqRel) == IDLE {
            // SAFETY: `IDLE → WAKING` gives the cell to this side until `WAKING` is cleared.
            let waker = self.waker.with_mut(|cell| unsafe { (*cell).take() });
            self.state.fetch_and(!WAKING, Release);
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_registered_waker_is_woken_once() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let slot = WakerSlot::default();
        slot.wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "nothing registered");
        slot.register(&waker);
        slot.register(&waker);
        slot.wake();
        slot.wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn wakes_race_registrations_without_loss() {
        // Each round: the consumer registers, the producer wakes; the consumer must be woken
        // at least once per round in which its registration preceded a wake.
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let slot = Arc::new(WakerSlot::default());
        for _ in 0..2_000 {
            let before = count.0.load(Ordering::SeqCst);
            slot.register(&waker);
            let s = slot.clone();
            std::thread::spawn(move || s.wake()).join().unwrap();
            assert!(count.0.load(Ordering::SeqCst) > before);
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A wake that runs concurrently with a registration is never lost: after both, the
    /// waker was woken, or it is still registered for the next wake.
    #[test]
    fn concurrent_register_and_wake() {
        loom::model(|| {
            let count = std::sync::Arc::new(Count(AtomicUsize::new(0)));
            let waker = Waker::from(count.clone());
            let slot = Arc::new(WakerSlot::default());
            let s = slot.clone();
            let t = loom::thread::spawn(move || s.wake());
            slot.register(&waker);
            t.join().unwrap();
            if count.0.load(Ordering::SeqCst) == 0 {
                slot.wake();
                assert_eq!(count.0.load(Ordering::SeqCst), 1, "the wake was lost");
            }
        });
    }
}
