//! Loom models: every interleaving (up to the preemption bound) of the two endpoints.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release --lib oneshot`. Loom checks that each
//! cell access is ordered by a happens-before edge (data races), reports a deadlock when a
//! parked thread is never unparked (lost wake-ups), and the `Track` in every slot reports a
//! slot nobody freed. The drop counter catches a value dropped twice or never.

use super::*;
use futures::task::noop_waker;
use loom::sync::atomic::AtomicUsize;
use loom::sync::Arc;
use loom::thread as loom_thread;
use std::sync::atomic::Ordering::SeqCst;

/// Runs `f` under loom, exploring every interleaving (no preemption bound: the models are
/// small enough that all of them together finish in well under a second).
fn model(f: impl Fn() + Sync + Send + 'static) {
    loom::model(f);
}

/// A value that counts its drops in a loom atomic.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Wakes a loom thread parked in `block_on`.
struct Unpark(loom_thread::Thread);

impl std::task::Wake for Unpark {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// A minimal executor: poll, park until woken, poll again. A lost wake-up is a loom deadlock.
fn block_on<F: Future + Unpin>(mut future: F) -> F::Output {
    let waker = Waker::from(std::sync::Arc::new(Unpark(loom_thread::current())));
    loop {
        if let Poll::Ready(output) = Pin::new(&mut future).poll(&mut Context::from_waker(&waker)) {
            return output;
        }
        loom_thread::park();
    }
}

fn poll_once<T>(rx: &mut Receiver<T>, waker: &Waker) -> Poll<Result<T, Closed>> {
    Pin::new(rx).poll(&mut Context::from_waker(waker))
}

#[test]
fn send_vs_wait() {
    model(|| {
        let (tx, rx) = channel();
        let sender = loom_thread::spawn(move || tx.send(1u8).unwrap());
        assert_eq!(rx.wait(), Ok(1));
        sender.join().unwrap();
    });
}

#[test]
fn drop_sender_vs_wait() {
    model(|| {
        let (tx, rx) = channel::<u8>();
        let dropper = loom_thread::spawn(move || drop(tx));
        assert_eq!(rx.wait(), Err(Closed));
        dropper.join().unwrap();
    });
}

#[test]
fn send_vs_poll_with_waker_replacement() {
    model(|| {
        let (tx, mut rx) = channel();
        let sender = loom_thread::spawn(move || tx.send(2u8).unwrap());
        // First poll with a waker nobody listens to, then hand the receiver to an executor
        // whose waker must replace it: a lost replacement deadlocks `block_on`.
        let first = poll_once(&mut rx, &noop_waker());
        let got = match first {
            Poll::Ready(result) => result,
            Poll::Pending => block_on(rx),
        };
        assert_eq!(got, Ok(2));
        sender.join().unwrap();
    });
}

#[test]
fn drop_sender_vs_poll() {
    model(|| {
        let (tx, rx) = channel::<u8>();
        let dropper = loom_thread::spawn(move || drop(tx));
        assert_eq!(block_on(rx), Err(Closed));
        dropper.join().unwrap();
    });
}

#[test]
fn send_vs_drop_receiver() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel();
        let value = Counted(Arc::clone(&drops));
        let sender = loom_thread::spawn(move || drop(tx.send(value)));
        drop(rx);
        sender.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
    });
}

#[test]
fn send_vs_drop_receiver_after_poll() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = channel();
        let value = Counted(Arc::clone(&drops));
        let sender = loom_thread::spawn(move || drop(tx.send(value)));
        let polled = poll_once(&mut rx, &noop_waker());
        drop(polled);
        drop(rx);
        sender.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
    });
}

#[test]
fn drop_sender_vs_drop_receiver_after_poll() {
    model(|| {
        let (tx, mut rx) = channel::<u8>();
        let dropper = loom_thread::spawn(move || drop(tx));
        let _ = poll_once(&mut rx, &noop_waker());
        drop(rx);
        dropper.join().unwrap();
    });
}

#[test]
fn send_vs_timed_out_wait_then_wait() {
    model(|| {
        let (tx, rx) = channel();
        let sender = loom_thread::spawn(move || tx.send(3u8).unwrap());
        // One park (a yield under loom), then the deadline has passed: the waiter is withdrawn
        // while the sender may be taking it.
        let mut parks = 1;
        let budget = move || {
            (parks > 0).then(|| {
                parks -= 1;
                Duration::from_millis(1)
            })
        };
        let got = match rx.block(0, budget) {
            Ok(value) => value,
            Err(WaitError::Timeout(rx)) => rx.wait().unwrap(),
            Err(WaitError::Closed) => panic!("the sender sends"),
        };
        assert_eq!(got, 3);
        sender.join().unwrap();
    });
}

#[test]
fn send_vs_try_recv() {
    model(|| {
        let (tx, mut rx) = channel();
        let sender = loom_thread::spawn(move || tx.send(4u8).unwrap());
        let early = rx.try_recv();
        sender.join().unwrap();
        match early {
            Ok(value) => assert_eq!(value, 4),
            Err(TryRecvError::Empty) => assert_eq!(rx.try_recv(), Ok(4)),
            Err(TryRecvError::Closed) => panic!("the sender sends"),
        }
    });
}

#[test]
fn drop_sender_vs_timed_out_wait() {
    model(|| {
        let (tx, rx) = channel::<u8>();
        let dropper = loom_thread::spawn(move || drop(tx));
        let mut parks = 1;
        let budget = move || {
            (parks > 0).then(|| {
                parks -= 1;
                Duration::from_millis(1)
            })
        };
        match rx.block(0, budget) {
            Ok(_) => panic!("nothing was sent"),
            Err(WaitError::Timeout(rx)) => assert_eq!(rx.wait(), Err(Closed)),
            Err(WaitError::Closed) => {}
        }
        dropper.join().unwrap();
    });
}

#[test]
fn poll_on_one_thread_then_wait_on_another_vs_send() {
    model(|| {
        let (tx, mut rx) = channel();
        let sender = loom_thread::spawn(move || tx.send(5u8).unwrap());
        let first = poll_once(&mut rx, &noop_waker());
        let waiter = loom_thread::spawn(move || match first {
            Poll::Ready(result) => result,
            Poll::Pending => rx.wait(),
        });
        assert_eq!(waiter.join().unwrap(), Ok(5));
        sender.join().unwrap();
    });
}
