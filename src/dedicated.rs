//! `PooledConnection` (also named `Dedicated`): a connection of a pool (a `Pool`'s, or a
//! client's set of dedicated connections) lent to one owner, with every command of the
//! surface, the transaction commands (WATCH, MULTI, EXEC, DISCARD, UNWATCH) and SELECT
//! among them; and `Acquire`, the handle that waits for one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;

use crate::client::ClientCore;
use crate::commands::{Commands, Owned};
use crate::error::Error;
use crate::oneshot;
use crate::reactor::on_io_thread;

/// A connection with one owner, taken from a [`Pool`](crate::Pool) or from a client's set
/// of dedicated connections (bounded by
/// [`max_dedicated`](crate::ClientBuilder::max_dedicated); the type is also named
/// [`Dedicated`]), served by the one I/O thread. It is `Send`: it may be moved to another
/// thread or task, and given back from there.
///
/// It has every command method ([`Commands<Owned>`], reached through `Deref`), including
/// those that change the connection's state and are refused on the shared connection:
/// `watch`, `multi`, `exec`, `discard`, `unwatch`, `select`, `client_setname`. Blocking
/// commands run on it directly: they block only its owner.
///
/// The session tracks its state. A connection lost inside MULTI or while keys are WATCHed
/// fails the transaction: the commands still in flight fail, and every later command fails
/// with the same [`Error::Connection`] until the one that ends the transaction (EXEC,
/// DISCARD or UNWATCH), so a transaction never runs without its WATCH on a new connection. A
/// SELECT (or CLIENT SETNAME) is replayed on every reconnect.
///
/// Dropping it gives the connection back, on every path (an early `?`, a panic): one left
/// clean is reused; one left dirty (inside MULTI, keys watched, replies outstanding, its
/// database or name changed, its link failed or the server sent a malformed reply) is
/// destroyed, never handed to anyone else (a pool with [`OnDirty::Cleanup`] first tries
/// DISCARD/UNWATCH for MULTI or WATCH alone). Replies still outstanding then fail.
///
/// Pub/sub is refused on it (SUBSCRIBE and the like fail unsent, pointing at
/// [`Client::subscribe`](crate::Client::subscribe)), so it never becomes a subscriber; so are
/// HELLO, AUTH and RESET (a reconnect would silently undo them: set the protocol and the
/// credentials on the builder) and CLIENT REPLY and QUIT (they break the one reply per
/// command the connection relies on). None of them can leave it dirty.
///
/// [`OnDirty::Cleanup`]: crate::OnDirty::Cleanup
///
/// # Examples
///
/// ```no_run
/// use redpoll::{Client, Value};
///
/// # fn main() -> Result<(), redpoll::Error> {
/// let client = Client::open("redis://127.0.0.1:6379")?;
/// let conn = client.dedicated().wait()?;
/// conn.watch(["balance"]).wait()?;
/// let balance: i64 = conn.get("balance").decode::<Option<i64>>().wait()?.unwrap_or(0);
/// conn.multi().wait()?;
/// conn.set("balance", balance - 10).decode::<Value>().wait()?; // +QUEUED
/// let done: Option<Vec<Value>> = conn.exec().decode().wait()?; // None: "balance" changed
/// # Ok(()) }
/// ```
pub struct PooledConnection {
    commands: Commands<Owned>,
}

/// The connection [`Client::dedicated`](crate::Client::dedicated) lends: a
/// [`PooledConnection`] of the client's own set.
pub type Dedicated = PooledConnection;

impl std::fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.commands.receiver.fmt(f)
    }
}

impl std::ops::Deref for PooledConnection {
    type Target = Commands<Owned>;

    /// The command methods.
    fn deref(&self) -> &Commands<Owned> {
        &self.commands
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        let owned = &self.commands.receiver;
        owned.core.submit_release(owned.id);
    }
}

/// The pending answer of [`Pool::acquire`](crate::Pool::acquire) and
/// [`Client::dedicated`](crate::Client::dedicated): `.wait()` for it, or `.await` it. It
/// resolves once the connection has completed its handshake. Dropped before it resolved
/// (a cancelled `.await`), it gives back whatever connection it was lent: no slot leaks.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: redpoll::Client) -> Result<(), redpoll::Error> {
/// let conn = client.dedicated().timeout(std::time::Duration::from_secs(1)).await?;
/// conn.ping().await?;
/// # Ok(()) }
/// ```
#[must_use = "a dedicated connection is asked for only when the handle is waited for or awaited"]
pub struct Acquire {
    core: Arc<ClientCore>,
    timeout: Option<Duration>,
    state: AcquireState,
}

enum AcquireState {
    Start,
    Leasing(crate::reactor::LeaseRx),
    /// Lent; waiting for its handshake. The `Dedicated` gives it back if that fails.
    Connecting(Option<PooledConnection>, oneshot::Receiver<Result<Bytes, Error>>),
    Done,
}

impl std::fmt::Debug for Acquire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acquire").field("timeout", &self.timeout).finish()
    }
}

impl Acquire {
    pub(crate) fn new(core: Arc<ClientCore>, timeout: Duration) -> Self {
        Acquire { core, timeout: Some(timeout), state: AcquireState::Start }
    }

    /// How long to wait for a connection when all are busy (default: the pool's
    /// `acquire_timeout`; for [`Client::dedicated`](crate::Client::dedicated), the client's
    /// request timeout). The handshake of a new connection is bounded by `connect_timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    fn timeout_ms(&self) -> Option<u64> {
        self.timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX / 2))
    }

    fn lent(&self, id: u64) -> PooledConnection {
        PooledConnection { commands: Commands::new(Owned { core: self.core.clone(), id }) }
    }

    /// Blocks the calling thread until a connection is lent and connected.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when every connection stayed busy for the timeout; the
    /// connection's error (a refused connection, a wrong password) when it cannot connect;
    /// [`Error::Disconnected`] when the client is closed.
    ///
    /// # Panics
    ///
    /// When called on redpoll's own I/O thread, which would wait for itself forever.
    pub fn wait(mut self) -> Result<PooledConnection, Error> {
        self.state = AcquireState::Done;
        assert!(
            !on_io_thread(),
            "Acquire::wait() called on redpoll's I/O thread, which would wait for itself forever"
        );
        let (tx, rx) = oneshot::channel();
        self.core.submit_lease(tx, self.timeout_ms());
        let lent = rx.wait().map_err(|_| closed())??;
        // From here on, dropping `conn` gives the connection back.
        let conn = self.lent(lent.id);
        if !lent.ready {
            let (tx, rx) = oneshot::channel();
            self.core.submit_connect(Some(lent.id), tx);
            rx.wait().map_err(|_| closed())??;
        }
        Ok(conn)
    }
}

impl Future for Acquire {
    type Output = Result<PooledConnection, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match &mut self.state {
                AcquireState::Start => {
                    let (tx, rx) = oneshot::channel();
                    self.core.submit_lease(tx, self.timeout_ms());
                    self.state = AcquireState::Leasing(rx);
                }
                AcquireState::Leasing(rx) => {
                    let got = match Pin::new(rx).poll(cx) {
                        Poll::Ready(got) => got.map_err(|_| closed()).and_then(|r| r),
                        Poll::Pending => return Poll::Pending,
                    };
                    let lent = match got {
                        Ok(lent) => lent,
                        Err(e) => {
                            self.state = AcquireState::Done;
                            return Poll::Ready(Err(e));
                        }
                    };
                    let conn = self.lent(lent.id);
                    if lent.ready {
                        self.state = AcquireState::Done;
                        return Poll::Ready(Ok(conn));
                    }
                    let (tx, rx) = oneshot::channel();
                    self.core.submit_connect(Some(lent.id), tx);
                    self.state = AcquireState::Connecting(Some(conn), rx);
                }
                AcquireState::Connecting(conn, rx) => {
                    let got = match Pin::new(rx).poll(cx) {
                        Poll::Ready(got) => got.map_err(|_| closed()).and_then(|r| r),
                        Poll::Pending => return Poll::Pending,
                    };
                    // On failure the connection is dropped: it goes back (closed if broken).
                    let conn = conn.take();
                    self.state = AcquireState::Done;
                    return Poll::Ready(got.and_then(|_| conn.ok_or_else(closed)));
                }
                AcquireState::Done => {
                    return Poll::Ready(Err(Error::Usage(
                        "the dedicated connection was already handed out".into(),
                    )))
                }
            }
        }
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if let AcquireState::Leasing(rx) = std::mem::replace(&mut self.state, AcquireState::Done) {
            // The I/O thread may have lent a connection already, or lend one later: it
            // gives back the one, or takes the request out of the line.
            self.core.submit_abandon(rx);
        }
    }
}

fn closed() -> Error {
    Error::Disconnected("the client was closed".into())
}
