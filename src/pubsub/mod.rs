//! Pub/sub: [`Client::subscribe`](crate::Client::subscribe), `psubscribe` and `ssubscribe`
//! return a [`Subscription`], a stream of [`Message`]s read with a blocking iterator
//! ([`Subscription::iter`]) or awaited ([`Subscription::next`]).
//!
//! # Where subscriptions live
//! With RESP2 (the default) a subscribed connection can do nothing but pub/sub, so a client
//! opens one more connection, its subscriber connection, and every subscription of the
//! client shares it (a channel two subscriptions want is subscribed once; each gets every
//! message). With [`protocol(3)`](crate::ClientBuilder::protocol) messages arrive as push
//! frames beside ordinary replies, and subscriptions share the client's one connection. The
//! API is the same.
//!
//! # Delivery
//! The I/O thread hands each message to its subscriptions through a lock-free queue and never
//! waits for a consumer: the message is the frame as read (zero copy), cut into its parts on
//! the consumer's thread. A consumer that falls behind is bounded: each subscription buffers
//! at most [`capacity`](Subscribe::capacity) messages (10,000 by default), and then follows
//! its [`OnFull`] policy: drop the oldest and count it ([`Subscription::dropped`]; the
//! default), or end the subscription with [`Error::Overflow`](crate::Error::Overflow).
//!
//! # Reconnects: at most once
//! After a lost connection every channel, pattern and shard channel is subscribed again as
//! part of the new connection's setup, before anything else is sent, and each subscription
//! then yields a message of kind [`MessageKind::Resubscribed`]. Redis does not keep messages
//! for a disconnected subscriber: those published while the connection was down are lost.
//! Use streams (XADD/XREAD) where every message matters.
//!
//! # Key prefix
//! A client's [`prefix`](crate::ClientBuilder::prefix) is for keys: channel names, patterns
//! and shard channels are sent as written (as with `PUBLISH` and `SPUBLISH`), and come back
//! as written. (Prefixing channels as well, as an opt-in, is planned.)
//!
//! # Examples
//!
//! ```no_run
//! # fn main() -> Result<(), redpoll::Error> {
//! let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
//! let sub = client.subscribe(&["news", "alerts"]).wait()?;
//! client.publish("news", "hello").wait()?;
//! for msg in sub.iter() {
//!     let msg = msg?;
//!     println!("{:?} on {:?}", msg.payload, msg.channel);
//!     break;
//! }
//! sub.unsubscribe_all().wait()?; // and the stream ends
//! # Ok(()) }
//! ```

mod handles;
mod sink;
mod waker;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use crossbeam_channel::{RecvTimeoutError, TryRecvError};

use crate::client::ClientCore;
use crate::error::Error;
use crate::proto::pubsub::{self, Kind};
pub use handles::{Change, Subscribe, DEFAULT_CAPACITY};
pub use sink::OnFull;
pub(crate) use sink::{Delivered, Delivery, SinkTx};

/// What a [`Message`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// Published to a channel the subscription holds (`SUBSCRIBE`).
    Message,
    /// Published to a channel matching a pattern the subscription holds (`PSUBSCRIBE`):
    /// [`Message::pattern`] says which.
    PMessage,
    /// Published to a shard channel (`SSUBSCRIBE`, with `SPUBLISH`).
    SMessage,
    /// Not a message: the connection was lost and everything was subscribed again. Messages
    /// published in between are lost (Redis pub/sub is at-most-once). Its channel and
    /// payload are empty.
    Resubscribed,
}

/// One message of a [`Subscription`]. The parts are slices of the frame as read (no copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Message, pattern message, shard message, or the resubscribed notice.
    pub kind: MessageKind,
    /// For [`MessageKind::PMessage`]: the pattern that matched.
    pub pattern: Option<Bytes>,
    /// The channel it was published to.
    pub channel: Bytes,
    /// What was published.
    pub payload: Bytes,
}

/// A stream of messages from the channels, patterns and shard channels it holds; more can be
/// added and removed while it runs.
///
/// Read it with [`iter`](Subscription::iter) (blocking) or [`next`](Subscription::next)
/// (async). The stream ends (`None`) after [`unsubscribe_all`](Subscription::unsubscribe_all),
/// after an error (yielded once, then `None`), or when the client can no longer connect for
/// good. Dropping it unsubscribes what only it held. It is `Send + Sync`; several threads may
/// read one subscription with `iter()` (each message goes to one of them).
///
/// See the [module docs](crate::pubsub) for where it lives, delivery and reconnects.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: redpoll::Client) -> Result<(), redpoll::Error> {
/// let mut sub = client.psubscribe(&["orders:*"]).await?;
/// sub.subscribe(&["alerts"]).await?;
/// while let Some(msg) = sub.next().await {
///     let msg = msg?;
///     println!("{:?} {:?} {:?}", msg.kind, msg.channel, msg.payload);
/// }
/// # Ok(()) }
/// ```
pub struct Subscription {
    core: Arc<ClientCore>,
    id: u64,
    rx: sink::SinkRx,
    ended: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("buffered", &self.rx.rx.len())
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.core.submit_drop_sink(self.id);
    }
}

fn names<C: AsRef<[u8]>>(names: &[C]) -> Vec<Bytes> {
    names.iter().map(|n| Bytes::copy_from_slice(n.as_ref())).collect()
}

impl Subscription {
    pub(crate) fn new(core: Arc<ClientCore>, id: u64, rx: sink::SinkRx) -> Self {
        Subscription { core, id, rx, ended: Default::default() }
    }

    /// A blocking iterator over the messages: each `next()` waits for one. It ends (`None`)
    /// when the subscription does.
    ///
    /// # Panics
    ///
    /// Waiting on redpoll's own I/O thread (from a connection hook) panics: it would wait
    /// for itself.
    pub fn iter(&self) -> Iter<'_> {
        Iter { sub: self }
    }

    /// The next message, awaited (`None` once the subscription ended). One task at a time
    /// awaits a subscription (it takes `&mut self`); several threads may use `iter()`.
    #[allow(clippy::should_implement_trait)] // async: the blocking iterator is `iter()`
    pub fn next(&mut self) -> Next<'_> {
        Next { sub: self }
    }

    /// The next message if one is buffered, without waiting.
    pub fn try_next(&self) -> Option<Result<Message, Error>> {
        match self.rx.rx.try_recv() {
            Ok(d) => self.receive(d),
            Err(_) => None,
        }
    }

    /// Waits up to `timeout` for the next message: `None` when none came in time or the
    /// subscription ended ([`is_ended`](Subscription::is_ended) tells which).
    ///
    /// # Panics
    ///
    /// On redpoll's own I/O thread, like [`iter`](Subscription::iter).
    pub fn next_timeout(&self, timeout: Duration) -> Option<Result<Message, Error>> {
        assert_off_io_thread();
        if self.is_ended() {
            return None;
        }
        match self.rx.rx.recv_timeout(timeout) {
            Ok(d) => self.receive(d),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => self.closed(),
        }
    }

    /// True once the stream has ended (after its last message was read).
    pub fn is_ended(&self) -> bool {
        self.ended.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many messages were dropped because this subscription's consumer was
    /// [`capacity`](Subscribe::capacity) messages behind ([`OnFull::DropOldest`]).
    pub fn dropped(&self) -> u64 {
        self.rx.shared.dropped.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Messages buffered and not read yet.
    pub fn buffered(&self) -> usize {
        self.rx.rx.len()
    }

    /// Adds channels; the handle resolves once the server confirmed each (also a channel
    /// another subscription of the client holds: its messages reach this one from the call
    /// on, and the answer comes in order with the server's others).
    pub fn subscribe<C: AsRef<[u8]>>(&self, channels: &[C]) -> Change {
        Change::subscribe(self, Kind::Channel, names(channels))
    }

    /// Adds patterns (`PSUBSCRIBE`: `*`, `?` and `[...]` globs).
    pub fn psubscribe<C: AsRef<[u8]>>(&self, patterns: &[C]) -> Change {
        Change::subscribe(self, Kind::Pattern, names(patterns))
    }

    /// Adds shard channels (`SSUBSCRIBE`; published with `SPUBLISH`).
    pub fn ssubscribe<C: AsRef<[u8]>>(&self, channels: &[C]) -> Change {
        Change::subscribe(self, Kind::Shard, names(channels))
    }

    /// Removes channels: their messages stop now; the stream goes on with the rest (and can
    /// take more). A channel another subscription of the client holds stays subscribed on
    /// the server for it.
    pub fn unsubscribe<C: AsRef<[u8]>>(&self, channels: &[C]) -> Change {
        Change::unsubscribe(self, Some(Kind::Channel), Some(names(channels)))
    }

    /// Removes patterns.
    pub fn punsubscribe<C: AsRef<[u8]>>(&self, patterns: &[C]) -> Change {
        Change::unsubscribe(self, Some(Kind::Pattern), Some(names(patterns)))
    }

    /// Removes shard channels.
    pub fn sunsubscribe<C: AsRef<[u8]>>(&self, channels: &[C]) -> Change {
        Change::unsubscribe(self, Some(Kind::Shard), Some(names(channels)))
    }

    /// Removes every channel, pattern and shard channel, and ends the stream: messages
    /// already buffered are still read, then `None`.
    pub fn unsubscribe_all(&self) -> Change {
        Change::unsubscribe(self, None, None)
    }

    pub(crate) fn core(&self) -> &Arc<ClientCore> {
        &self.core
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    fn closed(&self) -> Option<Result<Message, Error>> {
        let first = !self.ended.swap(true, std::sync::atomic::Ordering::Relaxed);
        first.then(|| Err(Error::Disconnected("the subscription's connection was closed".into())))
    }

    /// What a delivery means to the consumer.
    fn receive(&self, d: Delivery) -> Option<Result<Message, Error>> {
        match d {
            Delivery::Frame(frame) => Some(message(&frame)),
            Delivery::Resubscribed => Some(Ok(Message {
                kind: MessageKind::Resubscribed,
                pattern: None,
                channel: Bytes::new(),
                payload: Bytes::new(),
            })),
            Delivery::End(why) => {
                self.ended.store(true, std::sync::atomic::Ordering::Relaxed);
                why.map(Err)
            }
        }
    }

    fn recv_blocking(&self) -> Option<Result<Message, Error>> {
        assert_off_io_thread();
        if self.is_ended() {
            return None;
        }
        match self.rx.rx.recv() {
            Ok(d) => self.receive(d),
            Err(_) => self.closed(),
        }
    }
}

fn assert_off_io_thread() {
    assert!(
        !crate::reactor::on_io_thread(),
        "a Subscription was read on redpoll's I/O thread, which would wait for itself forever"
    );
}

/// Cuts a message frame into its parts.
fn message(frame: &Bytes) -> Result<Message, Error> {
    let Some((kind, pattern, channel, payload)) = pubsub::split_message(frame) else {
        return Err(Error::protocol("a pub/sub message frame could not be read"));
    };
    let kind = match kind {
        Kind::Channel => MessageKind::Message,
        Kind::Pattern => MessageKind::PMessage,
        Kind::Shard => MessageKind::SMessage,
    };
    Ok(Message { kind, pattern, channel, payload })
}

/// The blocking iterator of [`Subscription::iter`].
#[derive(Debug)]
pub struct Iter<'s> {
    sub: &'s Subscription,
}

impl Iterator for Iter<'_> {
    type Item = Result<Message, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.sub.recv_blocking()
    }
}

/// The future of [`Subscription::next`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Next<'s> {
    sub: &'s mut Subscription,
}

impl Future for Next<'_> {
    type Output = Option<Result<Message, Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let sub = &*self.get_mut().sub;
        if sub.is_ended() {
            return Poll::Ready(None);
        }
        for registered in [false, true] {
            match sub.rx.rx.try_recv() {
                Ok(d) => match sub.receive(d) {
                    // An `End(None)`: the stream is over.
                    None => return Poll::Ready(None),
                    some => return Poll::Ready(some),
                },
                Err(TryRecvError::Disconnected) => return Poll::Ready(sub.closed()),
                Err(TryRecvError::Empty) if !registered => sub.rx.shared.waker.register(cx.waker()),
                Err(TryRecvError::Empty) => {}
            }
        }
        Poll::Pending
    }
}
