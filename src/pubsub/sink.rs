//! Delivery from the I/O thread to one subscription: a lock-free multi-shot queue
//! (crossbeam's unbounded list channel: the I/O thread never waits and never takes a lock a
//! consumer may hold) with a bound the I/O thread enforces, the consumer's waker, and the
//! count of messages dropped by the bound. A message travels as the frame the session split
//! off the read buffer (`Bytes`, zero copy); the consumer cuts it into its parts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use crossbeam_channel::{Receiver, Sender};

use super::waker::WakerSlot;
use crate::error::Error;

/// What a subscription's consumer receives, in order.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// A message frame (`message`, `pmessage`, `smessage`).
    Frame(Bytes),
    /// Everything was subscribed again after a lost connection.
    Resubscribed,
    /// The stream ends: `None` after `unsubscribe_all`, else why.
    End(Option<Error>),
}

/// What a subscription does when its consumer is `capacity` messages behind.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let sub = client
///     .subscribe(&["ticks"])
///     .capacity(1_000)
///     .on_full(redpoll::OnFull::End)
///     .wait()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFull {
    /// Drop the oldest buffered message to make room, and count it
    /// ([`Subscription::dropped`](crate::Subscription::dropped)). The default: the
    /// subscription keeps going with the newest messages, as Redis pub/sub is at-most-once
    /// anyway.
    #[default]
    DropOldest,
    /// End the subscription: the consumer gets the buffered messages, then
    /// [`Error::Overflow`], and its channels are unsubscribed.
    End,
}

/// The part of a subscription both threads see.
#[derive(Debug, Default)]
pub(crate) struct SinkShared {
    pub(crate) waker: WakerSlot,
    pub(crate) dropped: AtomicU64,
}

/// The I/O thread's end of one subscription.
#[derive(Debug)]
pub(crate) struct SinkTx {
    tx: Sender<Delivery>,
    /// The I/O thread's own receiver, to drop the oldest message (`OnFull::DropOldest`).
    rx: Receiver<Delivery>,
    shared: Arc<SinkShared>,
    capacity: usize,
    on_full: OnFull,
    /// Delivered to since the last wake: woken once per read, not per message.
    pub(crate) wake_pending: bool,
}

/// What [`SinkTx::deliver`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delivered {
    Queued,
    /// The bound was reached with `OnFull::End`: the stream was ended; unsubscribe it.
    Ended,
    /// The consumer is gone.
    Gone,
}

/// The consumer's end of one subscription.
#[derive(Debug)]
pub(crate) struct SinkRx {
    pub(crate) rx: Receiver<Delivery>,
    pub(crate) shared: Arc<SinkShared>,
}

/// A new subscription's two ends.
pub(crate) fn sink(capacity: usize, on_full: OnFull) -> (SinkTx, SinkRx) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let shared = Arc::new(SinkShared::default());
    let io = SinkTx {
        tx,
        rx: rx.clone(),
        shared: shared.clone(),
        capacity: capacity.max(1),
        on_full,
        wake_pending: false,
    };
    (io, SinkRx { rx, shared })
}

impl SinkTx {
    /// Queues a message frame under the bound.
    pub(crate) fn deliver(&mut self, frame: Bytes) -> Delivered {
        if self.tx.len() >= self.capacity {
            match self.on_full {
                OnFull::DropOldest => {
                    if self.rx.try_recv().is_ok() {
                        self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                OnFull::End => {
                    let e = Error::Overflow(format!(
                        "the subscription's consumer fell {} messages behind (capacity, with \
                         on_full(OnFull::End)); the subscription ended and its channels were \
                         unsubscribed: consume faster, raise .capacity(n), or use \
                         OnFull::DropOldest",
                        self.capacity
                    ));
                    self.end(Some(e));
                    return Delivered::Ended;
                }
            }
        }
        self.push(Delivery::Frame(frame))
    }

    /// Queues a notice (beyond the bound: notices are rare and must not be lost).
    pub(crate) fn notify(&mut self, d: Delivery) -> Delivered {
        self.push(d)
    }

    /// Ends the stream (beyond the bound) and wakes the consumer now.
    pub(crate) fn end(&mut self, why: Option<Error>) {
        let _ = self.tx.send(Delivery::End(why));
        self.wake_pending = false;
        self.shared.waker.wake();
    }

    fn push(&mut self, d: Delivery) -> Delivered {
        if self.tx.send(d).is_err() {
            return Delivered::Gone;
        }
        self.wake_pending = true;
        Delivered::Queued
    }

    /// Wakes an async consumer if something was delivered since the last wake (a blocked
    /// thread is woken by the channel itself).
    pub(crate) fn wake(&mut self) {
        if std::mem::take(&mut self.wake_pending) {
            self.shared.waker.wake();
        }
    }
}
