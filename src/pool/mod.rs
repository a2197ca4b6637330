//! `Pool`: a bounded set of exclusive connections, lent one at a time through an RAII guard
//! ([`PooledConnection`]) and given back when the guard drops, on every path (errors and
//! panics included). A connection given back dirty is destroyed and replaced, never handed
//! to the next owner.
//!
//! # When to use a `Pool`
//!
//! Usually you do not: a [`Client`](crate::Client) multiplexes every caller's commands over
//! one connection, pipelining them together, and that is faster than any pool. Even WATCH
//! transactions ([`Client::watch_multi`](crate::Client)), blocking commands and
//! [`Client::dedicated`](crate::Client::dedicated) are served by the client's own small set
//! of dedicated connections, which is this same mechanism with `min = 0`.
//!
//! A `Pool` is for work that holds state on the connection across several commands, at a
//! scale or with bounds you choose: many concurrent WATCH/MULTI/EXEC transactions, a SELECTed
//! database or CLIENT SETNAME per owner, long series of blocking commands, warm connections
//! kept ready (`min`), health checks before use, and figures ([`Pool::stats`]).
//!
//! All of a pool's connections are served by the same one I/O thread as every client: the
//! idle timeout, health checks and waiters' deadlines run on its timer sweep, no thread of
//! their own.

mod builder;
pub(crate) mod stats;

use std::sync::Arc;
use std::time::Duration;

pub use builder::PoolBuilder;
pub use stats::{Destroyed, PoolStats};

use crate::client::ClientCore;
use crate::dedicated::Acquire;

/// What happens to a connection given back dirty (see [`PoolBuilder::on_dirty`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnDirty {
    /// Destroy it and open a replacement (when below `min`, or for the next waiter). The
    /// default: nothing of one owner's state can reach the next.
    #[default]
    Destroy,
    /// Inside MULTI or with keys WATCHed (and nothing else dirty): send DISCARD or UNWATCH,
    /// and reuse the connection if that answers within `cleanup_timeout`. Every other dirty
    /// state (replies outstanding, a SELECT, a failed link) is still destroyed.
    Cleanup,
}

/// A pool of exclusive connections to one server.
///
/// Cloning is cheap and gives another handle to the same pool; the pool closes (its idle
/// connections close, waiters fail) when the last handle is dropped, once every lent
/// connection was given back.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
///
/// # fn main() -> Result<(), redpoll::Error> {
/// let pool = redpoll::Pool::builder()
///     .url("redis://127.0.0.1:6379")
///     .min(2)
///     .max(10)
///     .acquire_timeout(Duration::from_secs(5))
///     .build()?;
/// let conn = pool.acquire().wait()?; // exclusive: every command method, MULTI/WATCH too
/// conn.select(2).wait()?;
/// conn.incr("counter").wait()?;
/// drop(conn); // its database changed: destroyed (and replaced), never lent again
/// // The I/O thread takes it back a moment later; stats() then counts it.
/// println!("{:?}", pool.stats().destroyed);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Pool {
    core: Arc<ClientCore>,
    acquire_timeout: Duration,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("core", &self.core).field("stats", &self.stats()).finish()
    }
}

impl Pool {
    /// A builder: every [`Client`](crate::Client) option, and the pool's bounds and policy.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// let pool = redpoll::Pool::builder().url("redis://127.0.0.1:6379").max(4).build()?;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> PoolBuilder {
        PoolBuilder::new()
    }

    /// Borrows a connection: an idle one (most recently used first, PINGed first if idle
    /// longer than `health_check_after`), a new one under `max`, or the next one given back
    /// (first come, first served) within `acquire_timeout`. `.wait()` it or `.await` it;
    /// dropping the future before it resolves gives back whatever it was lent.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`](crate::Error::Timeout) when all `max` connections stayed lent for
    /// `acquire_timeout` (counted in [`PoolStats::acquire_timeouts`]); the connection's
    /// error (a refused connection, a wrong password) when a new one cannot connect.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(pool: redpoll::Pool) -> Result<(), redpoll::Error> {
    /// let conn = pool.acquire().await?;
    /// conn.set("k", "v").await?;
    /// # Ok(()) }
    /// ```
    pub fn acquire(&self) -> Acquire {
        Acquire::new(self.core.clone(), self.acquire_timeout)
    }

    /// The pool's figures now: connections lent, idle, waiters, created, destroyed by
    /// reason, acquire timeouts, health-check failures. Read without a round trip to the
    /// I/O thread (it keeps them in atomics as it works).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run(pool: redpoll::Pool) {
    /// let s = pool.stats();
    /// assert!(s.total <= 10);
    /// # }
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.core.pool_stats()
    }
}
