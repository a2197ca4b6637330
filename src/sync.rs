//! Synchronisation primitives, swapped for loom's under `--cfg loom`.
//!
//! Concurrent code that wants to be model-checked takes its atomics, cells and thread handles
//! from here instead of `std`: a normal build gets `std`'s types (no cost), a loom build
//! (`RUSTFLAGS="--cfg loom" cargo test --release --lib`) gets loom's, which explore every
//! interleaving and check that each non-atomic access is ordered by a happens-before edge.
//!
//! `UnsafeCell` follows loom's closure API (`with` / `with_mut`) in both builds, so the code
//! that uses it is the same either way; the `std` version is a zero-cost wrapper.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU8, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU8, Ordering};

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// `std::cell::UnsafeCell` with loom's closure-based access API.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    /// Wraps `value`.
    pub(crate) const fn new(value: T) -> Self {
        Self(std::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a pointer for reading. The caller's own `unsafe` code must make sure no
    /// write to the cell runs at the same time.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for writing. The caller's own `unsafe` code must make sure no
    /// other access to the cell runs at the same time.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Busy-wait hint for short spins (loom: a yield, so that models terminate).
#[cfg(loom)]
pub(crate) use loom::hint::spin_loop;
#[cfg(not(loom))]
pub(crate) use std::hint::spin_loop;

/// Thread handles, parking and yielding.
pub(crate) mod thread {
    #[cfg(loom)]
    pub(crate) use loom::thread::{current, park, yield_now, Thread};
    #[cfg(not(loom))]
    pub(crate) use std::thread::{current, park, park_timeout, yield_now, Thread};

    /// Loom has no timed park: yield instead, which looks like an early (spurious) wake-up to
    /// the caller, a case every parking loop must handle anyway.
    #[cfg(loom)]
    pub(crate) fn park_timeout(_timeout: std::time::Duration) {
        loom::thread::yield_now();
    }
}
