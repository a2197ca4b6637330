//! Fork detection: a counter that the child side of every `fork()` bumps.
//!
//! Threads do not survive `fork()`: in a child process the I/O thread is gone, and the
//! sockets it served belong to the parent. A client compares the generation it was created in
//! with the current one before each command (one atomic load, no syscall) and, in a child,
//! opens fresh connections on a fresh I/O thread instead of touching the parent's.
//!
//! One of the crate's three `unsafe` sites (with the reply slot and the read path): the
//! `pthread_atfork` registration, an FFI call.
#![allow(unsafe_code)] // the FFI call below; see its SAFETY comment

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static REGISTER: Once = Once::new();

extern "C" fn in_child() {
    // Async-signal-safe: a lock-free atomic add, nothing else.
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The current fork generation: 0 in the original process, +1 in each child of it, and so on.
/// The first call registers the `fork()` hook; call it before anything that must notice a
/// later fork.
pub(crate) fn generation() -> u64 {
    REGISTER.call_once(|| {
        // SAFETY: `pthread_atfork` only records the three function pointers; `in_child` is a
        // plain `extern "C" fn` that lives for the whole program and only touches an atomic,
        // which is allowed in the child of a multi-threaded process. A failure (ENOMEM) leaves
        // fork detection off, the behaviour of having no hook.
        unsafe {
            libc::pthread_atfork(None, None, Some(in_child));
        }
    });
    // ORDERING: the child that bumped it is this very thread (the only one that survives the
    // fork), so program order already makes the new value visible.
    GENERATION.load(Ordering::Relaxed)
}
