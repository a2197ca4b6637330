//! The timer wheel's hot path allocates nothing in steady state.
//!
//! A counting global allocator (per thread, so other test threads do not interfere) wraps the
//! system allocator. This lives in an integration test because the library denies `unsafe`,
//! and implementing `GlobalAlloc` needs it; the wheel is reached through the hidden
//! `__bench_timer` re-export.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use redpoll::__bench_timer::Wheel;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the only
// addition is bumping a thread-local counter (const-initialised, no destructor, so touching
// it never allocates or re-enters the allocator).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
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

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn counter_sees_allocations() {
    // The check below can fail: the counter does see an ordinary allocation.
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 64]);
    assert!(allocations() > before);
    drop(v);
}

#[test]
fn insert_cancel_and_expire_allocate_nothing_in_steady_state() {
    const LIVE: u64 = 10_000;
    let mut wheel = Wheel::with_capacity(0, LIVE as usize + 2_048);
    // 10k live timers spread over every level.
    let mut background = Vec::with_capacity(LIVE as usize);
    for i in 0..LIVE {
        background.push(wheel.insert(1 + i * 7_919 % 10_000_000, i));
    }
    let mut fifo = std::collections::VecDeque::with_capacity(1_024);

    let before = allocations();
    // Hot path: insert a request deadline, cancel it when the reply arrives.
    for i in 0..100_000u64 {
        let key = wheel.insert(i / 10 + 5_000, i);
        assert_eq!(wheel.cancel(key), Some(i));
    }
    // Replies arriving out of order: a window of 1000 outstanding deadlines.
    for i in 0..100_000u64 {
        fifo.push_back(wheel.insert(i / 10 + 5_000, i));
        if fifo.len() == 1_000 {
            let key = fifo.pop_front().unwrap();
            assert!(wheel.cancel(key).is_some());
        }
    }
    while let Some(key) = fifo.pop_front() {
        wheel.cancel(key);
    }
    // Time passing: entries expire and are replaced, cascading through the levels.
    let mut now = 0;
    let mut fired = 0;
    for i in 0..20_000u64 {
        now += 3;
        wheel.insert(now + 1 + i % 50, i);
        while wheel.poll_expired(now).is_some() {
            fired += 1;
        }
        std::hint::black_box(wheel.next_expiration());
    }
    let after = allocations();

    assert!(fired > 0);
    assert!(wheel.len() >= LIVE as usize - 100, "the background timers stayed live");
    assert_eq!(after - before, 0, "the wheel allocated in steady state");
}
