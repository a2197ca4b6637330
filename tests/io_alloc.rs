//! The I/O thread allocates nothing per command in steady state: buffers grow once and are
//! reused, replies are split off the read buffer without copying.
//!
//! A counting global allocator counts only allocations made on the thread named
//! `redpoll-io`. It lives in an integration test because the library denies `unsafe`, and
//! implementing `GlobalAlloc` needs it.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use redpoll::Client;
use support::RedisServer;

struct Counting;

static IO_THREAD_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

const UNKNOWN: u8 = 0;
const RESOLVING: u8 = 1;
const IO_THREAD: u8 = 2;
const OTHER: u8 = 3;

thread_local! {
    static KIND: Cell<u8> = const { Cell::new(UNKNOWN) };
}

fn count() {
    let _ = KIND.try_with(|kind| match kind.get() {
        IO_THREAD => {
            IO_THREAD_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        UNKNOWN => {
            // Naming the thread may allocate: the nested call sees RESOLVING and skips.
            kind.set(RESOLVING);
            let io = std::thread::current().name() == Some("redpoll-io");
            kind.set(if io { IO_THREAD } else { OTHER });
        }
        _ => {}
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the only
// addition is bookkeeping in a const-initialised thread-local and a static atomic, neither of
// which allocates through this allocator while counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: `ptr` came from this allocator, which is `System` underneath.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, which is `System` underneath.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn io_allocations() -> u64 {
    IO_THREAD_ALLOCATIONS.load(Ordering::Relaxed)
}

fn round(client: &Client, batches: usize) {
    for _ in 0..batches {
        let handles: Vec<_> = (0..1_000).map(|_| client.get("key").send()).collect();
        for h in handles {
            assert_eq!(h.wait().unwrap().as_deref(), Some(&b"value"[..]));
        }
    }
}

#[test]
fn commands_cost_the_io_thread_no_allocation() {
    let server = RedisServer::new();
    let client = Client::open(&server.url()).unwrap();
    client.connect().wait().unwrap();
    client.set("key", "value").wait().unwrap();
    round(&client, 5); // warm up: queues and buffers reach their working size
    assert!(io_allocations() > 0, "the counter must see the I/O thread's start-up allocations");
    let before = io_allocations();
    round(&client, 20);
    let per_command = (io_allocations() - before) as f64 / 20_000.0;
    eprintln!("I/O thread allocations per command in steady state: {per_command:.4}");
    assert!(per_command < 0.002, "{per_command} allocations per command on the I/O thread");
}
