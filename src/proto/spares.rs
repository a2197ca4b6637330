//! The dedicated connections of one client: a small bounded set beside its shared
//! connection, for blocking commands (each runs alone on one) and for `Client::dedicated()`
//! (lent to one owner until it is given back). Sans-IO bookkeeping: connection ids and
//! times in, which connection to use, open or close out; the reactor carries it out.
//!
//! Idle connections are reused most recently used first (so a quiet client keeps few warm,
//! and those idle longer than `idle_ms` are closed); a request that finds every connection
//! busy and the bound reached waits, first come first served, until one is given back or
//! its deadline passes.

use std::collections::VecDeque;

/// Where a request for a dedicated connection gets one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    /// This idle connection.
    Idle(u64),
    /// A new connection: open one (under the bound).
    Open,
}

/// The set's bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SparesConfig {
    /// Connections at most, busy and idle together.
    pub(crate) max: usize,
    /// An idle connection is closed after this long unused, ms.
    pub(crate) idle_ms: u64,
}

/// The dedicated connections of one client, and who waits for one.
#[derive(Debug)]
pub(crate) struct Spares<W> {
    cfg: SparesConfig,
    /// Idle connections and since when, the most recently used last.
    idle: Vec<(u64, u64)>,
    /// Connections in use (by a command or an owner), and those being opened for one.
    busy: usize,
    /// Requests waiting for a connection, oldest first, with their deadlines.
    waiting: VecDeque<(W, Option<u64>)>,
}

impl<W> Spares<W> {
    pub(crate) fn new(cfg: SparesConfig) -> Self {
        Spares { cfg, idle: Vec::new(), busy: 0, waiting: VecDeque::new() }
    }

    /// Asks for a connection: `Ok` with where to run `w`, or `Err(())` when it waits (it
    /// comes back from [`release`](Spares::release) or [`expire`](Spares::expire)).
    pub(crate) fn acquire(&mut self, w: W, deadline: Option<u64>) -> Result<(Grant, W), ()> {
        if !self.waiting.is_empty() {
            // First come first served: nobody overtakes a waiter.
            self.waiting.push_back((w, deadline));
            return Err(());
        }
        match self.grant() {
            Some(g) => Ok((g, w)),
            None => {
                self.waiting.push_back((w, deadline));
                Err(())
            }
        }
    }

    fn grant(&mut self) -> Option<Grant> {
        if let Some((id, _)) = self.idle.pop() {
            self.busy += 1;
            return Some(Grant::Idle(id));
        }
        if self.busy < self.cfg.max {
            self.busy += 1;
            return Some(Grant::Open);
        }
        None
    }

    /// Connection `id` is free again: kept for reuse when `reusable` (else the caller closes
    /// it). Returns the next waiter and where it runs, if one waits.
    pub(crate) fn release(&mut self, id: u64, reusable: bool, now: u64) -> Option<(Grant, W)> {
        self.busy = self.busy.saturating_sub(1);
        if reusable {
            self.idle.push((id, now));
        }
        if self.waiting.is_empty() {
            return None;
        }
        let grant = self.grant()?;
        let (w, _) = self.waiting.pop_front()?;
        Some((grant, w))
    }

    /// Waiters whose deadline passed, oldest first.
    pub(crate) fn expire(&mut self, now: u64) -> Vec<W> {
        let mut out = Vec::new();
        if self.waiting.iter().any(|(_, d)| d.is_some_and(|d| d <= now)) {
            let mut keep = VecDeque::with_capacity(self.waiting.len());
            for (w, d) in self.waiting.drain(..) {
                if d.is_some_and(|d| d <= now) {
                    out.push(w);
                } else {
                    keep.push_back((w, d));
                }
            }
            self.waiting = keep;
        }
        out
    }

    /// Idle connections unused for `idle_ms`: they leave the set, for the caller to close.
    pub(crate) fn idle_expired(&mut self, now: u64) -> Vec<u64> {
        let idle_ms = self.cfg.idle_ms;
        let mut out = Vec::new();
        self.idle.retain(|&(id, since)| {
            let keep = now < since.saturating_add(idle_ms);
            if !keep {
                out.push(id);
            }
            keep
        });
        out
    }

    /// Everything, for closing: the idle connections and the waiters.
    pub(crate) fn drain(&mut self) -> (Vec<u64>, Vec<W>) {
        let idle = self.idle.drain(..).map(|(id, _)| id).collect();
        let waiting = self.waiting.drain(..).map(|(w, _)| w).collect();
        (idle, waiting)
    }

    /// The bound.
    pub(crate) fn max(&self) -> usize {
        self.cfg.max
    }

    /// Connections in use, idle, and requests waiting.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        (self.busy, self.idle.len(), self.waiting.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(max: usize) -> Spares<u32> {
        Spares::new(SparesConfig { max, idle_ms: 1_000 })
    }

    #[test]
    fn opens_up_to_the_bound_then_queues_first_come_first_served() {
        let mut s = set(2);
        assert_eq!(s.acquire(1, None), Ok((Grant::Open, 1)));
        assert_eq!(s.acquire(2, None), Ok((Grant::Open, 2)));
        assert_eq!(s.acquire(3, Some(50)), Err(()));
        assert_eq!(s.acquire(4, None), Err(()));
        assert_eq!(s.counts(), (2, 0, 2));
        // Connection 10 comes back: the oldest waiter gets it.
        assert_eq!(s.release(10, true, 5), Some((Grant::Idle(10), 3)));
        // Connection 11 is closed (dirty): the next waiter gets a new one.
        assert_eq!(s.release(11, false, 6), Some((Grant::Open, 4)));
        assert_eq!(s.counts(), (2, 0, 0));
        assert_eq!(s.release(10, true, 7), None);
        assert_eq!(s.counts(), (1, 1, 0));
        // An idle connection is reused before a new one is opened.
        assert_eq!(s.acquire(5, None), Ok((Grant::Idle(10), 5)));
    }

    #[test]
    fn a_waiter_is_never_overtaken_and_expires_at_its_deadline() {
        let mut s = set(1);
        assert_eq!(s.acquire(1, None), Ok((Grant::Open, 1)));
        assert_eq!(s.acquire(2, Some(100)), Err(()));
        assert_eq!(s.acquire(3, Some(300)), Err(()));
        assert!(s.expire(99).is_empty());
        assert_eq!(s.expire(100), vec![2]);
        assert_eq!(s.release(7, true, 150), Some((Grant::Idle(7), 3)));
    }

    #[test]
    fn idle_connections_close_after_idle_ms_most_recently_used_kept() {
        let mut s = set(4);
        for w in 0..3 {
            assert_eq!(s.acquire(w, None), Ok((Grant::Open, w)));
        }
        assert_eq!(s.release(1, true, 0), None);
        assert_eq!(s.release(2, true, 500), None);
        assert_eq!(s.release(3, true, 900), None);
        assert_eq!(s.acquire(9, None), Ok((Grant::Idle(3), 9)));
        assert_eq!(s.idle_expired(999), Vec::<u64>::new());
        assert_eq!(s.idle_expired(1_000), vec![1]);
        assert_eq!(s.idle_expired(1_500), vec![2]);
        assert_eq!(s.counts(), (1, 0, 0));
    }
}
