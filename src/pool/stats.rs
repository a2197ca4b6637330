//! What a pool counts: gauges and counters the I/O thread writes (relaxed atomics, a store
//! or an add per change, no lock) and [`Pool::stats`](crate::Pool::stats) reads.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::proto::session::DirtyReason;

/// Why a pooled connection was destroyed instead of being reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DestroyReason {
    /// Given back in a state no one else may inherit.
    Dirty(DirtyReason),
    /// It failed the PING before being handed out.
    HealthCheck,
    /// Its link failed while it waited idle.
    LostIdle,
    /// Idle longer than `idle_timeout`, beyond `min`.
    Idle,
    /// Given back in MULTI or watching, and DISCARD/UNWATCH did not clean it in time.
    CleanupFailed,
}

/// The I/O thread's side of [`PoolStats`].
#[derive(Debug, Default)]
pub(crate) struct PoolCounters {
    active: AtomicU64,
    idle: AtomicU64,
    waiting: AtomicU64,
    created: AtomicU64,
    acquire_timeouts: AtomicU64,
    health_check_failures: AtomicU64,
    cleaned: AtomicU64,
    destroyed: [AtomicU64; 10],
}

fn slot(reason: DestroyReason) -> usize {
    match reason {
        DestroyReason::Dirty(DirtyReason::Outstanding) => 0,
        DestroyReason::Dirty(DirtyReason::Subscribed) => 1,
        DestroyReason::Dirty(DirtyReason::Multi) => 2,
        DestroyReason::Dirty(DirtyReason::Watch) => 3,
        DestroyReason::Dirty(DirtyReason::Protocol) => 4,
        DestroyReason::Dirty(DirtyReason::Lost) | DestroyReason::LostIdle => 5,
        DestroyReason::Dirty(DirtyReason::StateChanged) => 6,
        DestroyReason::HealthCheck => 7,
        DestroyReason::Idle => 8,
        DestroyReason::CleanupFailed => 9,
    }
}

impl PoolCounters {
    /// The gauges: connections lent or running a command, idle, and acquires waiting.
    pub(crate) fn set_gauges(&self, (active, idle, waiting): (usize, usize, usize)) {
        self.active.store(active as u64, Ordering::Relaxed);
        self.idle.store(idle as u64, Ordering::Relaxed);
        self.waiting.store(waiting as u64, Ordering::Relaxed);
    }

    pub(crate) fn created(&self) {
        self.created.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn destroyed(&self, reason: DestroyReason) {
        self.destroyed[slot(reason)].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn acquire_timeout(&self) {
        self.acquire_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn health_check_failed(&self) {
        self.health_check_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn cleaned(&self) {
        self.cleaned.fetch_add(1, Ordering::Relaxed);
    }

    /// A snapshot (each figure read on its own: under load they may be a moment apart).
    pub(crate) fn snapshot(&self) -> PoolStats {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let d = |i: usize| get(&self.destroyed[i]);
        let (active, idle) = (get(&self.active), get(&self.idle));
        PoolStats {
            active,
            idle,
            waiting: get(&self.waiting),
            total: active + idle,
            created: get(&self.created),
            destroyed: Destroyed {
                outstanding: d(0),
                subscribed: d(1),
                multi: d(2),
                watch: d(3),
                protocol: d(4),
                lost: d(5),
                state_changed: d(6),
                health_check: d(7),
                idle: d(8),
                cleanup_failed: d(9),
            },
            acquire_timeouts: get(&self.acquire_timeouts),
            health_check_failures: get(&self.health_check_failures),
            cleaned: get(&self.cleaned),
        }
    }
}

/// A pool's figures at one moment: [`Pool::stats`](crate::Pool::stats).
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// let pool = redpoll::Pool::builder().url("redis://127.0.0.1:6379").max(4).build()?;
/// let stats = pool.stats();
/// println!("{} of {} lent, {} waiting, {} destroyed", stats.active, stats.total,
///     stats.waiting, stats.destroyed.total());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Connections lent to a guard (or being checked before being lent).
    pub active: u64,
    /// Connections open (or opening) and waiting to be lent.
    pub idle: u64,
    /// `acquire()` calls waiting for a connection.
    pub waiting: u64,
    /// `active + idle`: never more than `max`.
    pub total: u64,
    /// Connections opened since the pool was built (replacements included).
    pub created: u64,
    /// Connections destroyed, by reason.
    pub destroyed: Destroyed,
    /// `acquire()` calls that failed with [`Error::Timeout`](crate::Error::Timeout).
    pub acquire_timeouts: u64,
    /// Idle connections that failed the PING before being lent (each destroyed).
    pub health_check_failures: u64,
    /// Connections given back in MULTI or watching that DISCARD/UNWATCH made clean again
    /// ([`OnDirty::Cleanup`](crate::OnDirty::Cleanup)).
    pub cleaned: u64,
}

/// Connections a pool destroyed instead of reusing, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Destroyed {
    /// Given back with replies outstanding (a handle sent and not resolved).
    pub outstanding: u64,
    /// Subscribed (never, today: pub/sub on a pooled connection is refused).
    pub subscribed: u64,
    /// Given back inside MULTI.
    pub multi: u64,
    /// Given back with keys WATCHed.
    pub watch: u64,
    /// The server sent a reply that could not be parsed or that nobody asked for.
    pub protocol: u64,
    /// The link failed (while lent, or while idle).
    pub lost: u64,
    /// A SELECT or CLIENT SETNAME changed its state.
    pub state_changed: u64,
    /// It failed the health check.
    pub health_check: u64,
    /// Idle longer than `idle_timeout` (beyond `min`).
    pub idle: u64,
    /// In MULTI or watching, and DISCARD/UNWATCH did not clean it within `cleanup_timeout`.
    pub cleanup_failed: u64,
}

impl Destroyed {
    /// Every reason together.
    pub fn total(&self) -> u64 {
        self.outstanding
            + self.subscribed
            + self.multi
            + self.watch
            + self.protocol
            + self.lost
            + self.state_changed
            + self.health_check
            + self.idle
            + self.cleanup_failed
    }
}
