//! The command surface: every command method, defined once over a small seam.
//!
//! The generated methods (`generated/`, one file per command group) live in inherent impls
//! of [`Commands<R>`], generic over the *receiver* `R`: what the commands are for. Each
//! method builds a [`Cmd`] (arguments encoded, its command-table entry attached as a
//! `static`, no lookup) that borrows the receiver; what happens to it then is the receiver's
//! business: a [`Shared`] connection sends it (`.wait()`, `.await`, `.send()`), a pipeline
//! queues it, a cluster client routes it. A receiver gets every method, and every typed
//! option on [`Cmd`], by implementing [`Receiver`] and the finishing methods of its own.
//!
//! User types (`Client`, and later pipelines and dedicated connections) dereference to their
//! `Commands<R>`, so the methods need no trait import: `use redpoll::Client;` is enough.
//!
//! Commands that change the state of the connection they run on (MULTI, WATCH, SUBSCRIBE,
//! SELECT, AUTH, ...) are generated too, in impls that require [`Exclusive`]: a receiver
//! whose connection has one owner. The shared `Client` is not one, so `client.multi()` does
//! not compile (and `client.cmd("MULTI")` is refused with [`Error::Usage`](crate::Error)).
//!
//! # Examples
//!
//! ```no_run
//! # fn main() -> Result<(), redpoll::Error> {
//! let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
//! client.set("k", "v").ex(60).nx().wait()?;
//! let scored: Vec<(bytes::Bytes, f64)> = client.zrange("z", 0, -1).rev().withscores().wait()?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use crate::client::ClientCore;
use crate::handle::Cmd;
use crate::resp::Value;

/// Every command method, for the receiver `R`.
///
/// Reached through `Deref` from the user-facing types (`Client` dereferences to
/// `Commands<Shared>`); the methods are documented below, one per Redis command and
/// subcommand, with their syntax, the version that introduced them, their complexity, group
/// and ACL categories.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let n: i64 = client.incr("hits").wait()?;
/// let name: Option<String> = client.client_getname().wait()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Commands<R> {
    pub(crate) receiver: R,
}

impl<R> Commands<R> {
    pub(crate) fn new(receiver: R) -> Self {
        Commands { receiver }
    }
}

impl<R: std::fmt::Debug> std::fmt::Debug for Commands<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.receiver.fmt(f)
    }
}

mod sealed {
    pub trait Sealed {}
}

/// What a [`Cmd`] is built for: the seam every receiver of the command surface implements.
///
/// Sealed: the receivers are redpoll's own ([`Shared`] for `Client`, [`Owned`] for a
/// [`Dedicated`](crate::Dedicated) connection, [`Piped`](crate::pipeline::Piped) for a
/// [`Pipeline`](crate::Pipeline) or a transaction; pooled connections and the cluster client
/// are planned).
pub trait Receiver: sealed::Sealed + Sized {
    /// What a command method returns for this receiver: a [`Cmd`] to send for a connection
    /// (`Cmd<'r, T, Shared, O>`), a [`Queued`](crate::pipeline::Queued) command for a pipeline
    /// or transaction. Both offer the command's typed options.
    type Built<'r, T, O>
    where
        Self: 'r;

    /// Wraps a command just built by a method of `commands` (called by every command method).
    #[doc(hidden)]
    fn build<'r, T, O>(
        commands: &'r Commands<Self>,
        cmd: Cmd<'r, T, Self, O>,
    ) -> Self::Built<'r, T, O>;
}

/// A receiver whose connection has one owner, so commands that change the connection's
/// state (MULTI/EXEC, WATCH, SELECT, ...) are safe on it: [`Owned`], the receiver of a
/// [`Dedicated`](crate::Dedicated) connection. (Pooled connections are planned.)
pub trait Exclusive: Receiver {}

/// The receiver of a [`Client`](crate::Client)'s commands: its shared, multiplexed
/// connection. Commands built for it are sent with `.wait()`, `.await` or `.send()`.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let cmd: redpoll::Cmd<'_, i64, redpoll::commands::Shared> = client.incr("n");
/// let n = cmd.wait()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Shared {
    pub(crate) core: Arc<ClientCore>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.core.fmt(f)
    }
}

impl sealed::Sealed for Shared {}
impl Receiver for Shared {
    type Built<'r, T, O> = Cmd<'r, T, Shared, O>;

    #[inline]
    fn build<'r, T, O>(_: &'r Commands<Self>, cmd: Cmd<'r, T, Self, O>) -> Cmd<'r, T, Self, O> {
        cmd
    }
}

/// The receiver of a [`Dedicated`](crate::Dedicated) connection's commands: one connection
/// with one owner. Commands built for it are sent with `.wait()`, `.await` or `.send()`, and
/// run in the order they are sent, blocking ones included (they block only this owner).
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let conn = client.dedicated().wait()?;
/// let cmd: redpoll::Cmd<'_, (), redpoll::commands::Owned> = conn.multi();
/// cmd.wait()?;
/// conn.incr("n").wait()?; // queued: the reply is +QUEUED, decoded as a Value
/// let results: Option<Vec<redpoll::Value>> = conn.exec().decode().wait()?;
/// # Ok(()) }
/// ```
pub struct Owned {
    pub(crate) core: Arc<ClientCore>,
    /// The dedicated connection's id on the I/O thread.
    pub(crate) id: u64,
}

impl std::fmt::Debug for Owned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dedicated")
            .field("connection", &self.id)
            .field("client", &self.core)
            .finish()
    }
}

impl sealed::Sealed for Owned {}
impl sealed::Sealed for crate::pipeline::Piped {}
impl Receiver for Owned {
    type Built<'r, T, O> = Cmd<'r, T, Owned, O>;

    #[inline]
    fn build<'r, T, O>(_: &'r Commands<Self>, cmd: Cmd<'r, T, Self, O>) -> Cmd<'r, T, Self, O> {
        cmd
    }
}
impl Exclusive for Owned {}

impl<R: Receiver> Commands<R> {
    /// Any command, by name, with arguments added by [`Cmd::arg`]; the reply is a [`Value`]
    /// unless [`Cmd::decode`] asks for another type.
    ///
    /// With a key prefix set, the command's keys are found from the command specs (as
    /// `COMMAND GETKEYS` finds them); a command the specs do not know (a module's) is refused
    /// unless its keys are marked with [`Cmd::key`] or it opts out with [`Cmd::no_prefix`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let raw: redpoll::Value = client.cmd("OBJECT").arg("ENCODING").arg("greeting").wait()?;
    /// # Ok(()) }
    /// ```
    pub fn cmd(&self, name: &str) -> R::Built<'_, Value, ()> {
        R::build(self, Cmd::new(&self.receiver, name))
    }
}

#[cfg(test)]
#[path = "surface_tests.rs"]
mod tests;
