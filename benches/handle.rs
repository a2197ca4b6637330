//! The completion slot (`src/oneshot.rs`): what one reply hand-off costs.
//!
//! `cargo bench --bench handle -- --warm-up-time 1 --measurement-time 3`
//!
//! - `same_thread/*`: create a slot, complete it, take the value, on one thread (the floor:
//!   one allocation and a few uncontended atomics).
//! - `ping_pong/wait_spin_N`: two threads hand a request and its reply slot back and forth;
//!   one iteration is a round trip (two cross-thread wake-ups, four slots). `N` is how often
//!   `wait` checks for the value before parking (`wait()` uses 0): this is the measurement
//!   behind that default.
//! - `ping_pong/poll`: the same, with the caller awaiting the reply through a minimal
//!   park/unpark executor instead of `wait()`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, JoinHandle, Thread};

use criterion::{criterion_group, criterion_main, Criterion};
use redpoll::__bench::{channel, Receiver, Sender};

/// One request: where to reply, and where the next request will arrive.
struct Ping {
    reply: Sender<u64>,
    next: Receiver<Ping>,
}

/// Answers every ping at once until the request chain is closed.
fn spawn_responder(mut requests: Receiver<Ping>, spins: u32) -> JoinHandle<()> {
    thread::spawn(move || {
        while let Ok(Ping { reply, next }) = requests.wait_with_spin(spins) {
            let _ = reply.send(1);
            requests = next;
        }
    })
}

/// Sends one ping and returns the slot its reply will arrive in.
fn ping(requests: &mut Option<Sender<Ping>>) -> Receiver<u64> {
    let (reply, reply_rx) = channel();
    let (next_tx, next) = channel();
    let current = requests.replace(next_tx).expect("request chain open");
    if current.send(Ping { reply, next }).is_err() {
        panic!("responder gone");
    }
    reply_rx
}

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A minimal executor: poll, park until woken, poll again.
fn block_on<F: Future + Unpin>(mut future: F, waker: &Waker) -> F::Output {
    let mut cx = Context::from_waker(waker);
    loop {
        if let Poll::Ready(output) = Pin::new(&mut future).poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

fn same_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("same_thread");
    group.bench_function("send_wait", |b| {
        b.iter(|| {
            let (tx, rx) = channel::<u64>();
            let _ = tx.send(std::hint::black_box(7));
            rx.wait()
        })
    });
    group.bench_function("send_try_recv", |b| {
        b.iter(|| {
            let (tx, mut rx) = channel::<u64>();
            let _ = tx.send(std::hint::black_box(7));
            rx.try_recv()
        })
    });
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    group.bench_function("poll_send_poll", |b| {
        b.iter(|| {
            let (tx, mut rx) = channel::<u64>();
            let mut cx = Context::from_waker(&waker);
            let first = Pin::new(&mut rx).poll(&mut cx);
            let _ = tx.send(std::hint::black_box(7));
            (first.is_pending(), Pin::new(&mut rx).poll(&mut cx))
        })
    });
    group.bench_function("drop_unsent", |b| {
        b.iter(|| {
            let (tx, rx) = channel::<u64>();
            drop(tx);
            rx.wait()
        })
    });
    group.finish();
}

fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("ping_pong");
    for spins in [0u32, 100, 1_000, 10_000] {
        let (first, requests) = channel();
        let responder = spawn_responder(requests, spins);
        let mut chain = Some(first);
        group.bench_function(format!("wait_spin_{spins}"), |b| {
            b.iter(|| ping(&mut chain).wait_with_spin(spins))
        });
        drop(chain);
        responder.join().expect("responder");
    }

    let (first, requests) = channel();
    let responder = spawn_responder(requests, 0);
    let mut chain = Some(first);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    group.bench_function("poll", |b| b.iter(|| block_on(ping(&mut chain), &waker)));
    drop(chain);
    responder.join().expect("responder");
    group.finish();
}

criterion_group!(benches, same_thread, ping_pong);
criterion_main!(benches);
