//! Criterion benches of the timer wheel (reached through the hidden `__bench_timer`
//! re-export): the insert+cancel hot path with 10k live timers, insert+expire, and
//! `next_expiration`.
//!
//! Run with `cargo bench --bench wheel -- --warm-up-time 1 --measurement-time 3`.

use std::collections::VecDeque;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use redpoll::__bench_timer::{TimerKey, Wheel};

const LIVE: u64 = 10_000;

/// A wheel at time 0 holding 10k timers spread over 30 s from `first`.
fn populated_from(first: u64) -> Wheel<u64> {
    let mut wheel = Wheel::with_capacity(0, 2 * LIVE as usize);
    for i in 0..LIVE {
        wheel.insert(first + (i * 7_919) % 30_000, i);
    }
    wheel
}

/// A wheel at time 0 holding 10k timers spread from 1 ms to 30 s, over levels 0 to 2.
fn populated() -> Wheel<u64> {
    populated_from(1)
}

fn insert_cancel(c: &mut Criterion) {
    let mut group = c.benchmark_group("wheel/insert_cancel_10k_live");

    // A request whose reply arrives before the next one is sent.
    group.bench_function("immediate", |b| {
        let mut wheel = populated();
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            let key = wheel.insert(5_000 + (i & 1_023), i);
            black_box(wheel.cancel(black_box(key)))
        });
    });

    // 1000 requests in flight: each iteration sends one and completes the oldest.
    group.bench_function("window_1000", |b| {
        let mut wheel = populated();
        let mut window: VecDeque<TimerKey> =
            (0..1_000).map(|i| wheel.insert(5_000 + i, i)).collect();
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            window.push_back(wheel.insert(5_000 + (i & 1_023), i));
            let oldest = window.pop_front().unwrap();
            black_box(wheel.cancel(oldest))
        });
    });

    // Cancelling a key that is already stale (the reply raced the deadline).
    group.bench_function("stale_cancel", |b| {
        let mut wheel = populated();
        let stale = wheel.insert(5_000, 0);
        wheel.cancel(stale);
        b.iter(|| black_box(wheel.cancel(black_box(stale))));
    });
    group.finish();
}

fn insert_expire(c: &mut Criterion) {
    let mut group = c.benchmark_group("wheel/insert_expire_10k_live");

    // Steady state: every ms one timer inserted 10 s ahead and one (inserted 10 s ago)
    // fires, cascading down from level 2; 10k timers stay live.
    group.bench_function("one_per_ms", |b| {
        let mut wheel = Wheel::with_capacity(0, 2 * LIVE as usize);
        for i in 1..=LIVE {
            wheel.insert(i, i);
        }
        let mut now = 0u64;
        b.iter(|| {
            now += 1;
            wheel.insert(now + LIVE, now);
            let mut fired = 0;
            while let Some(item) = wheel.poll_expired(now) {
                black_box(item);
                fired += 1;
            }
            fired
        });
    });

    // Burst: 1000 timers with the same deadline (one level-2 slot, cascaded to level 0),
    // all fired by one advance; the 10k background timers are due later. Time per batch.
    group.bench_function("batch_1000_same_deadline", |b| {
        b.iter_batched_ref(
            || {
                let mut wheel = populated_from(100_000);
                for i in 0..1_000 {
                    wheel.insert(10_000, i);
                }
                wheel
            },
            |wheel| {
                let mut fired = 0;
                while let Some(item) = wheel.poll_expired(10_000) {
                    black_box(item);
                    fired += 1;
                }
                fired
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn next_expiration(c: &mut Criterion) {
    let mut group = c.benchmark_group("wheel/next_expiration_10k_live");
    let wheel = populated();
    group.bench_function("level0", |b| b.iter(|| black_box(&wheel).next_expiration()));

    // Earliest timer in level 2: levels 0 and 1 are empty and are skipped.
    let mut far = Wheel::with_capacity(0, LIVE as usize);
    for i in 0..LIVE {
        far.insert(5_000 + i * 3, i);
    }
    group.bench_function("level2", |b| b.iter(|| black_box(&far).next_expiration()));
    group.finish();
}

criterion_group!(benches, insert_cancel, insert_expire, next_expiration);
criterion_main!(benches);
