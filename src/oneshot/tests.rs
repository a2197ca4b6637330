//! Unit tests of the completion slot on real threads and real executors.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Wake;
use std::thread as std_thread;
use std::time::{Duration, Instant};

/// A value that counts its drops.
#[derive(Debug)]
struct Counted {
    id: u64,
    drops: Arc<AtomicUsize>,
}

impl Counted {
    fn new(drops: &Arc<AtomicUsize>) -> Self {
        Counted::with_id(0, drops)
    }

    fn with_id(id: u64, drops: &Arc<AtomicUsize>) -> Self {
        Counted { id, drops: Arc::clone(drops) }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

/// A waker that counts its wakes.
#[derive(Default)]
struct CountingWaker {
    wakes: AtomicUsize,
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(Arc::clone(&counter));
    (counter, waker)
}

fn poll_once<T>(rx: &mut Receiver<T>, waker: &Waker) -> Poll<Result<T, Closed>> {
    Pin::new(rx).poll(&mut Context::from_waker(waker))
}

/// Long enough for the other thread to reach `park` in practice (the tests pass either way).
const SETTLE: Duration = Duration::from_millis(20);

#[test]
fn send_then_wait() {
    let (tx, rx) = channel();
    assert_eq!(tx.send(5u32), Ok(()));
    assert!(rx.is_ready());
    assert_eq!(rx.wait(), Ok(5));
}

#[test]
fn wait_then_send_from_another_thread() {
    let (tx, rx) = channel();
    let sender = std_thread::spawn(move || {
        std_thread::sleep(SETTLE);
        tx.send(String::from("reply")).unwrap();
    });
    assert_eq!(rx.wait().as_deref(), Ok("reply"));
    sender.join().unwrap();
}

#[test]
fn wait_with_spin_then_send_from_another_thread() {
    let (tx, rx) = channel();
    let sender = std_thread::spawn(move || tx.send(9u8).unwrap());
    assert_eq!(rx.wait_with_spin(10_000), Ok(9));
    sender.join().unwrap();
}

#[test]
fn sender_dropped_before_wait_is_closed() {
    let (tx, rx) = channel::<u8>();
    drop(tx);
    assert!(rx.is_ready());
    assert_eq!(rx.wait(), Err(Closed));
}

#[test]
fn sender_dropped_during_wait_is_closed() {
    let (tx, rx) = channel::<u8>();
    let dropper = std_thread::spawn(move || {
        std_thread::sleep(SETTLE);
        drop(tx);
    });
    assert_eq!(rx.wait(), Err(Closed));
    dropper.join().unwrap();
}

#[test]
fn sender_dropped_after_poll_wakes_and_is_closed() {
    let (tx, mut rx) = channel::<u8>();
    let (counter, waker) = counting_waker();
    assert!(poll_once(&mut rx, &waker).is_pending());
    drop(tx);
    assert_eq!(counter.wakes.load(SeqCst), 1);
    assert_eq!(poll_once(&mut rx, &waker), Poll::Ready(Err(Closed)));
}

#[test]
fn sender_dropped_before_poll_is_closed() {
    let (tx, mut rx) = channel::<u8>();
    drop(tx);
    let (counter, waker) = counting_waker();
    assert_eq!(poll_once(&mut rx, &waker), Poll::Ready(Err(Closed)));
    assert_eq!(counter.wakes.load(SeqCst), 0);
    // The slot released the waker clone it never stored.
    assert_eq!(Arc::strong_count(&counter), 2);
}

#[test]
fn receiver_dropped_send_returns_the_value_and_it_drops_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    let back = tx.send(Counted::with_id(3, &drops)).unwrap_err();
    assert_eq!(back.id, 3);
    assert_eq!(drops.load(SeqCst), 0);
    drop(back);
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn receiver_dropped_after_poll_send_returns_the_value_and_frees_the_waker() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = channel();
    let (counter, waker) = counting_waker();
    assert!(poll_once(&mut rx, &waker).is_pending());
    assert_eq!(Arc::strong_count(&counter), 3, "the slot holds a waker clone");
    drop(rx);
    assert_eq!(Arc::strong_count(&counter), 2, "dropping the receiver drops the stored waker");
    assert!(tx.is_closed());
    drop(tx.send(Counted::new(&drops)).unwrap_err());
    assert_eq!(drops.load(SeqCst), 1);
    assert_eq!(counter.wakes.load(SeqCst), 0);
}

#[test]
fn receiver_dropped_with_an_unread_value_drops_it_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel();
    tx.send(Counted::new(&drops)).unwrap();
    assert_eq!(drops.load(SeqCst), 0);
    drop(rx);
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn both_dropped_unsent_drop_nothing() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel::<Counted>();
    drop(tx);
    drop(rx);
    let (tx, rx) = channel::<Counted>();
    drop(rx);
    drop(tx);
    assert_eq!(drops.load(SeqCst), 0);
}

#[test]
fn received_value_is_dropped_once_by_its_new_owner() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = channel();
    tx.send(Counted::new(&drops)).unwrap();
    let value = rx.try_recv().unwrap();
    assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Closed);
    drop(rx);
    assert_eq!(drops.load(SeqCst), 0);
    drop(value);
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn try_recv_and_is_ready_follow_the_state() {
    let (tx, mut rx) = channel();
    assert!(!rx.is_ready());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(1i64).unwrap();
    assert!(rx.is_ready());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(rx.is_ready(), "a taken value reads as closed");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.wait(), Err(Closed));
}

#[test]
fn try_recv_after_poll_is_empty_then_gets_the_value() {
    let (tx, mut rx) = channel();
    let (_counter, waker) = counting_waker();
    assert!(poll_once(&mut rx, &waker).is_pending());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(2u8).unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn wait_deadline_times_out_then_later_succeeds() {
    let (tx, rx) = channel();
    let start = Instant::now();
    let rx = match rx.wait_deadline(start + Duration::from_millis(30)) {
        Err(WaitError::Timeout(rx)) => rx,
        other => panic!("expected a timeout, got {other:?}"),
    };
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert!(!rx.is_ready());
    let sender = std_thread::spawn(move || {
        std_thread::sleep(SETTLE);
        tx.send(11u16).unwrap();
    });
    match rx.wait_deadline(Instant::now() + Duration::from_secs(30)) {
        Ok(value) => assert_eq!(value, 11),
        other => panic!("expected the value, got {other:?}"),
    }
    sender.join().unwrap();
}

#[test]
fn wait_deadline_in_the_past_only_looks() {
    let (tx, rx) = channel();
    let past = Instant::now();
    let rx = match rx.wait_deadline(past) {
        Err(WaitError::Timeout(rx)) => rx,
        other => panic!("expected a timeout, got {other:?}"),
    };
    tx.send(4u8).unwrap();
    assert_eq!(rx.wait_deadline(past).ok(), Some(4));
}

#[test]
fn wait_deadline_sees_a_dropped_sender() {
    let (tx, rx) = channel::<u8>();
    let dropper = std_thread::spawn(move || {
        std_thread::sleep(SETTLE);
        drop(tx);
    });
    let result = rx.wait_deadline(Instant::now() + Duration::from_secs(30));
    assert!(matches!(result, Err(WaitError::Closed)), "{result:?}");
    dropper.join().unwrap();
}

#[test]
fn timed_out_receiver_can_be_polled_and_dropped() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel();
    let Err(WaitError::Timeout(mut rx)) = rx.wait_deadline(Instant::now()) else {
        panic!("expected a timeout");
    };
    let (counter, waker) = counting_waker();
    assert!(poll_once(&mut rx, &waker).is_pending());
    tx.send(Counted::new(&drops)).unwrap();
    assert_eq!(counter.wakes.load(SeqCst), 1);
    drop(rx);
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn repoll_with_another_waker_wakes_only_the_new_one() {
    let (tx, mut rx) = channel();
    let (first, first_waker) = counting_waker();
    let (second, second_waker) = counting_waker();
    assert!(poll_once(&mut rx, &first_waker).is_pending());
    assert!(poll_once(&mut rx, &second_waker).is_pending());
    assert_eq!(Arc::strong_count(&first), 2, "the replaced waker was dropped");
    tx.send(8u8).unwrap();
    assert_eq!(first.wakes.load(SeqCst), 0);
    assert_eq!(second.wakes.load(SeqCst), 1);
    assert_eq!(poll_once(&mut rx, &second_waker), Poll::Ready(Ok(8)));
    assert_eq!(poll_once(&mut rx, &second_waker), Poll::Ready(Err(Closed)));
}

#[test]
fn repoll_with_the_same_waker_keeps_it() {
    let (tx, mut rx) = channel();
    let (counter, waker) = counting_waker();
    for _ in 0..3 {
        assert!(poll_once(&mut rx, &waker).is_pending());
        assert_eq!(Arc::strong_count(&counter), 3);
    }
    tx.send(()).unwrap();
    assert_eq!(counter.wakes.load(SeqCst), 1);
    assert_eq!(poll_once(&mut rx, &waker), Poll::Ready(Ok(())));
}

#[test]
fn poll_then_wait_on_another_thread() {
    let (tx, mut rx) = channel();
    let (counter, waker) = counting_waker();
    assert!(poll_once(&mut rx, &waker).is_pending());
    let waiter = std_thread::spawn(move || rx.wait());
    std_thread::sleep(SETTLE);
    tx.send(21u32).unwrap();
    assert_eq!(waiter.join().unwrap(), Ok(21));
    assert_eq!(counter.wakes.load(SeqCst), 0, "the thread replaced the task's waker");
    assert_eq!(Arc::strong_count(&counter), 2);
}

#[test]
fn debug_shows_the_state() {
    let (tx, rx) = channel::<u8>();
    assert_eq!(format!("{tx:?}"), "Sender { state: \"Empty\" }");
    drop(tx);
    assert_eq!(format!("{rx:?}"), "Receiver { state: \"Disconnected\" }");
    assert_eq!(Closed.to_string(), "the reply slot was closed without a value");
}

#[test]
fn endpoints_are_send_sync_and_the_receiver_unpin() {
    fn check<T: Send + Sync + Unpin>() {}
    check::<Sender<String>>();
    check::<Receiver<String>>();
    check::<Receiver<std::marker::PhantomPinned>>();
}

/// Races every pair of sender and receiver operations on real threads, counting drops.
#[test]
fn racing_endpoints_drop_each_value_once() {
    const ROUNDS: u64 = 2_000;
    let drops = Arc::new(AtomicUsize::new(0));
    let mut expected = 0;
    for round in 0..ROUNDS {
        let (tx, mut rx) = channel();
        let value = Counted::with_id(round, &drops);
        let send = round % 2 == 0;
        let sender = std_thread::spawn(move || {
            if send {
                drop(tx.send(value));
            } else {
                drop(value);
                drop(tx);
            }
        });
        match round % 3 {
            0 => drop(rx),
            1 => {
                if let Ok(got) = rx.wait() {
                    assert_eq!(got.id, round);
                }
            }
            _ => {
                let (_counter, waker) = counting_waker();
                if poll_once(&mut rx, &waker).is_pending() {
                    drop(rx);
                }
            }
        }
        sender.join().unwrap();
        expected += 1;
        assert_eq!(drops.load(SeqCst), expected, "round {round}");
    }
}

#[test]
fn future_in_futures_block_on() {
    let (tx, rx) = channel();
    let sender = std_thread::spawn(move || {
        std_thread::sleep(SETTLE);
        tx.send(1u8).unwrap();
    });
    assert_eq!(futures::executor::block_on(rx), Ok(1));
    sender.join().unwrap();
    let (tx, rx) = channel::<u8>();
    drop(tx);
    assert_eq!(futures::executor::block_on(rx), Err(Closed));
}

#[test]
fn future_in_pollster() {
    let (tx, rx) = channel();
    let sender = std_thread::spawn(move || {
        std_thread::sleep(SETTLE);
        tx.send(2u8).unwrap();
    });
    assert_eq!(pollster::block_on(rx), Ok(2));
    sender.join().unwrap();
}

/// `COUNT` slots completed in a shuffled order from one plain thread.
fn send_all_from_one_thread(senders: Vec<Sender<u64>>) -> std_thread::JoinHandle<()> {
    std_thread::spawn(move || {
        let mut senders: Vec<Option<Sender<u64>>> = senders.into_iter().map(Some).collect();
        let len = senders.len();
        // A fixed stride that is coprime with the length visits every index once.
        let stride = 7_919 % len.max(1);
        let mut index = 0;
        for _ in 0..len {
            let tx = senders[index].take().expect("each index is visited once");
            tx.send(index as u64).unwrap();
            index = (index + stride) % len;
        }
    })
}

const COUNT: usize = 10_000;

fn channels(count: usize) -> (Vec<Sender<u64>>, Vec<Receiver<u64>>) {
    (0..count).map(|_| channel()).unzip()
}

#[test]
fn future_in_tokio_current_thread() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (tx, rx) = channel();
    let sender = std_thread::spawn(move || {
        std_thread::sleep(SETTLE);
        tx.send(3u8).unwrap();
    });
    assert_eq!(rt.block_on(rx), Ok(3));
    sender.join().unwrap();
}

#[test]
fn future_in_tokio_multi_thread_ten_thousand_tasks() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let (senders, receivers) = channels(COUNT);
    let tasks: Vec<_> = receivers
        .into_iter()
        .enumerate()
        .map(|(i, rx)| rt.spawn(async move { (i, rx.await) }))
        .collect();
    let sender = send_all_from_one_thread(senders);
    rt.block_on(async {
        for task in tasks {
            let (i, got) = task.await.unwrap();
            assert_eq!(got, Ok(i as u64));
        }
    });
    sender.join().unwrap();
}

#[test]
fn future_in_smol() {
    let (tx, rx) = channel();
    let sender = std_thread::spawn(move || {
        std_thread::sleep(SETTLE);
        tx.send(4u8).unwrap();
    });
    assert_eq!(smol::block_on(rx), Ok(4));
    sender.join().unwrap();
}

#[test]
fn future_in_smol_executor_many_tasks() {
    let executor = smol::Executor::new();
    let (senders, receivers) = channels(1_000);
    let tasks: Vec<_> = receivers.into_iter().map(|rx| executor.spawn(rx)).collect();
    let sender = send_all_from_one_thread(senders);
    smol::block_on(executor.run(async {
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await, Ok(i as u64));
        }
    }));
    sender.join().unwrap();
}

#[test]
fn future_in_async_std_many_tasks() {
    let (senders, receivers) = channels(1_000);
    let tasks: Vec<_> = receivers.into_iter().map(async_std::task::spawn).collect();
    let sender = send_all_from_one_thread(senders);
    async_std::task::block_on(async {
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await, Ok(i as u64));
        }
    });
    sender.join().unwrap();
}

#[test]
fn future_moved_between_tasks_in_tokio() {
    // The first task polls once, then hands the receiver to a second task: the second task's
    // waker must replace the first's or the await would hang.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    rt.block_on(async {
        for _ in 0..200 {
            let (tx, mut rx) = channel::<u32>();
            let first = tokio::spawn(async move {
                let polled = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut rx).poll(cx)));
                assert!(polled.await.is_pending());
                // Handed on in an Option, not awaited here: a second task awaits it.
                Some(rx)
            });
            let rx = first.await.unwrap().expect("handed on");
            let second = tokio::spawn(rx);
            tokio::task::yield_now().await;
            tx.send(5).unwrap();
            assert_eq!(second.await.unwrap(), Ok(5));
        }
    });
}

#[test]
fn dropping_a_pending_future_in_tokio_frees_the_value() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (tx, rx) = channel::<Counted>();
    rt.block_on(async {
        let timed = tokio::time::timeout(Duration::from_millis(5), rx).await;
        assert!(timed.is_err(), "nothing was sent");
    });
    assert!(tx.is_closed());
    drop(tx.send(Counted::new(&drops)).unwrap_err());
    assert_eq!(drops.load(SeqCst), 1);
}
