//! The pending answers of pub/sub calls: [`Subscribe`] (a new subscription) and [`Change`]
//! (channels added to or removed from one). Each is `.wait()`ed or `.await`ed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;

use super::sink::{sink, OnFull};
use super::Subscription;
use crate::client::ClientCore;
use crate::error::Error;
use crate::oneshot;
use crate::proto::pubsub::Kind;
use crate::reactor::on_io_thread;
use crate::resp::{parse_frame, Value};

/// Messages a subscription buffers for a slow consumer by default.
pub const DEFAULT_CAPACITY: usize = 10_000;

type ReplyRx = oneshot::Receiver<Result<Bytes, Error>>;

/// The pending answer of [`Client::subscribe`](crate::Client::subscribe) (and `psubscribe`,
/// `ssubscribe`): `.wait()` for it or `.await` it. It resolves once the server confirmed
/// every name, with the [`Subscription`].
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let sub = client.subscribe(&["news"]).capacity(100_000).wait()?;
/// # Ok(()) }
/// ```
#[must_use = "nothing is subscribed until the handle is waited for or awaited"]
pub struct Subscribe {
    core: Arc<ClientCore>,
    kind: Kind,
    names: Vec<Bytes>,
    capacity: usize,
    on_full: OnFull,
    state: State,
}

enum State {
    Start,
    /// Sent; the subscription unsubscribes what it holds if dropped before it is handed out.
    Waiting(Option<Subscription>, ReplyRx),
    Done,
}

impl std::fmt::Debug for Subscribe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscribe")
            .field("kind", &self.kind)
            .field("names", &self.names.len())
            .field("capacity", &self.capacity)
            .field("on_full", &self.on_full)
            .finish()
    }
}

impl Subscribe {
    pub(crate) fn new(core: Arc<ClientCore>, kind: Kind, names: Vec<Bytes>) -> Self {
        Subscribe {
            core,
            kind,
            names,
            capacity: DEFAULT_CAPACITY,
            on_full: OnFull::default(),
            state: State::Start,
        }
    }

    /// How many messages the subscription buffers for its consumer before its
    /// [`on_full`](Subscribe::on_full) policy applies (default 10,000; at least 1). The
    /// buffer grows with what is buffered, not with the bound.
    pub fn capacity(mut self, messages: usize) -> Self {
        self.capacity = messages.max(1);
        self
    }

    /// What happens when the consumer is [`capacity`](Subscribe::capacity) messages behind
    /// (default [`OnFull::DropOldest`]).
    pub fn on_full(mut self, policy: OnFull) -> Self {
        self.on_full = policy;
        self
    }

    /// Sends the subscribe; the subscription (its buffer registered on the I/O thread).
    fn start(&mut self) -> Result<(Subscription, ReplyRx), Error> {
        if self.names.is_empty() {
            return Err(Error::Usage(
                "subscribe needs at least one channel, pattern or shard channel".into(),
            ));
        }
        let (io, rx) = sink(self.capacity, self.on_full);
        let id = crate::client::next_id();
        let (tx, reply) = oneshot::channel();
        let names = std::mem::take(&mut self.names);
        self.core.submit_subscribe(id, Some(Box::new(io)), self.kind, names, tx);
        Ok((Subscription::new(self.core.clone(), id, rx), reply))
    }

    /// Blocks the calling thread until the server confirmed the subscription.
    ///
    /// # Errors
    ///
    /// [`Error::Usage`] for an empty list; the server's refusal (`NOPERM` from an ACL) as
    /// [`Error::Redis`]; [`Error::Timeout`] when no confirmation came within the request
    /// timeout; the connection's error when it cannot connect.
    ///
    /// # Panics
    ///
    /// On redpoll's own I/O thread, which would wait for itself forever.
    pub fn wait(mut self) -> Result<Subscription, Error> {
        assert!(!on_io_thread(), "Subscribe::wait() called on redpoll's I/O thread");
        let (sub, reply) = self.start()?;
        confirmed(reply.wait().map_err(|_| closed())?, &self.core)?;
        Ok(sub)
    }
}

impl Future for Subscribe {
    type Output = Result<Subscription, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match &mut self.state {
                State::Start => match self.start() {
                    Ok((sub, reply)) => self.state = State::Waiting(Some(sub), reply),
                    Err(e) => {
                        self.state = State::Done;
                        return Poll::Ready(Err(e));
                    }
                },
                State::Waiting(sub, reply) => {
                    let got = match Pin::new(reply).poll(cx) {
                        Poll::Ready(got) => got.map_err(|_| closed()),
                        Poll::Pending => return Poll::Pending,
                    };
                    let sub = sub.take();
                    self.state = State::Done;
                    let outcome = got.and_then(|r| confirmed(r, &self.core));
                    return Poll::Ready(outcome.and_then(|()| sub.ok_or_else(closed)));
                }
                State::Done => {
                    return Poll::Ready(Err(Error::Usage(
                        "the subscription was already handed out".into(),
                    )))
                }
            }
        }
    }
}

/// The pending answer of adding names to a [`Subscription`] or removing them: `.wait()` or
/// `.await` it (`Ok(())` once the server confirmed each name).
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let sub = client.subscribe(&["a"]).wait()?;
/// sub.subscribe(&["b", "c"]).wait()?;
/// sub.unsubscribe(&["a"]).wait()?;
/// # Ok(()) }
/// ```
#[must_use = "the change is sent when the handle is created; wait for it to know it was confirmed"]
pub struct Change {
    core: Arc<ClientCore>,
    replies: Vec<ReplyRx>,
    /// A refusal before anything was sent.
    refused: Option<Error>,
}

impl std::fmt::Debug for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Change").field("pending", &self.replies.len()).finish()
    }
}

impl Change {
    pub(super) fn subscribe(sub: &Subscription, kind: Kind, names: Vec<Bytes>) -> Self {
        let core = sub.core().clone();
        if names.is_empty() {
            let e = Error::Usage("subscribe needs at least one name".into());
            return Change { core, replies: Vec::new(), refused: Some(e) };
        }
        let (tx, rx) = oneshot::channel();
        core.submit_subscribe(sub.id(), None, kind, names, tx);
        Change { core, replies: vec![rx], refused: None }
    }

    /// `kind: None`: every kind, and the stream ends after.
    pub(super) fn unsubscribe(
        sub: &Subscription,
        kind: Option<Kind>,
        names: Option<Vec<Bytes>>,
    ) -> Self {
        let core = sub.core().clone();
        let kinds: &[Kind] = match &kind {
            Some(k) => std::slice::from_ref(k),
            None => &Kind::ALL,
        };
        let mut replies = Vec::new();
        for (i, &k) in kinds.iter().enumerate() {
            let (tx, rx) = oneshot::channel();
            let end = kind.is_none() && i == kinds.len() - 1;
            core.submit_unsubscribe(sub.id(), k, names.clone(), tx, end);
            replies.push(rx);
        }
        Change { core, replies, refused: None }
    }

    /// Blocks the calling thread until the server confirmed the change.
    ///
    /// # Errors
    ///
    /// [`Error::Usage`] for an empty list; the server's refusal as [`Error::Redis`];
    /// [`Error::Timeout`] after the request timeout (the change may still take effect).
    ///
    /// # Panics
    ///
    /// On redpoll's own I/O thread, which would wait for itself forever.
    pub fn wait(self) -> Result<(), Error> {
        assert!(!on_io_thread(), "Change::wait() called on redpoll's I/O thread");
        if let Some(e) = self.refused {
            return Err(e);
        }
        for reply in self.replies {
            confirmed(reply.wait().map_err(|_| closed())?, &self.core)?;
        }
        Ok(())
    }
}

impl Future for Change {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(e) = self.refused.take() {
            return Poll::Ready(Err(e));
        }
        while let Some(reply) = self.replies.first_mut() {
            let got = match Pin::new(reply).poll(cx) {
                Poll::Ready(got) => got.map_err(|_| closed()),
                Poll::Pending => return Poll::Pending,
            };
            self.replies.remove(0);
            if let Err(e) = got.and_then(|r| confirmed(r, &self.core)) {
                self.replies.clear();
                return Poll::Ready(Err(e));
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// The I/O thread's answer: `+OK` once confirmed, else the server's error reply or a failure.
fn confirmed(reply: Result<Bytes, Error>, core: &ClientCore) -> Result<(), Error> {
    let frame = reply?;
    match parse_frame(&frame, &core.limits)? {
        Value::Error(e) => Err(Error::Redis(e)),
        _ => Ok(()),
    }
}

fn closed() -> Error {
    Error::Disconnected("the client was closed".into())
}
