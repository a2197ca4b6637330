//! A pool of exclusive connections: a `Pool`'s, and a client's set of dedicated connections
//! beside its shared one (for blocking commands, each alone on one, and for
//! `Client::dedicated()`). Sans-IO bookkeeping: connection ids and times in, which
//! connection to use, open or close out; the reactor carries it out.
//!
//! Idle connections are reused most recently used first (so a quiet pool keeps few warm,
//! and those idle longer than `idle_ms` are closed, down to `min`); a request that finds
//! every connection busy and the bound reached waits, first come first served, until one is
//! given back or its deadline passes. Connections destroyed below `min` are replaced
//! ([`deficit`](Spares::deficit)).

use std::collections::VecDeque;

/// Where a request for a dedicated connection gets one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    /// This idle connection, idle since `since` (ms).
    Idle { id: u64, since: u64 },
    /// A new connection: open one (under the bound).
    Open,
}

/// The set's bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SparesConfig {
    /// Connections kept open at least (idle ones are not closed below it).
    pub(crate) min: usize,
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
        if let Some((id, since)) = self.idle.pop() {
            self.busy += 1;
            return Some(Grant::Idle { id, since });
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
        debug_assert!(self.idle.iter().all(|&(i, _)| i != id), "connection {id} idle twice");
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

    /// A connection opened ahead of demand (up to `min`): idle from `now`.
    pub(crate) fn add_idle(&mut self, id: u64, now: u64) {
        debug_assert!(self.idle.iter().all(|&(i, _)| i != id), "connection {id} idle twice");
        self.idle.push((id, now));
    }

    /// Idle connection `id` is gone (its link failed): it leaves the set. True if it was
    /// idle here.
    pub(crate) fn forget(&mut self, id: u64) -> bool {
        let before = self.idle.len();
        self.idle.retain(|&(i, _)| i != id);
        self.idle.len() != before
    }

    /// Connections to open so that `min` are open, busy and idle together.
    pub(crate) fn deficit(&self) -> usize {
        self.cfg.min.saturating_sub(self.busy + self.idle.len())
    }

    /// Waiters that no longer want a connection leave the line.
    pub(crate) fn retain_waiting(&mut self, mut keep: impl FnMut(&W) -> bool) {
        self.waiting.retain(|(w, _)| keep(w));
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

    /// Idle connections unused for `idle_ms`: they leave the set, for the caller to close,
    /// the least recently used first, as long as `min` stay open.
    pub(crate) fn idle_expired(&mut self, now: u64) -> Vec<u64> {
        let idle_ms = self.cfg.idle_ms;
        let mut spare = (self.busy + self.idle.len()).saturating_sub(self.cfg.min);
        let mut out = Vec::new();
        // Oldest first (the front): those are the ones unused the longest.
        self.idle.retain(|&(id, since)| {
            let expired = now >= since.saturating_add(idle_ms);
            if expired && spare > 0 {
                spare -= 1;
                out.push(id);
                return false;
            }
            true
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
    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        (self.busy, self.idle.len(), self.waiting.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(max: usize) -> Spares<u32> {
        Spares::new(SparesConfig { min: 0, max, idle_ms: 1_000 })
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
        assert_eq!(s.release(10, true, 5), Some((Grant::Idle { id: 10, since: 5 }, 3)));
        // Connection 11 is closed (dirty): the next waiter gets a new one.
        assert_eq!(s.release(11, false, 6), Some((Grant::Open, 4)));
        assert_eq!(s.counts(), (2, 0, 0));
        assert_eq!(s.release(10, true, 7), None);
        assert_eq!(s.counts(), (1, 1, 0));
        // An idle connection is reused before a new one is opened.
        assert_eq!(s.acquire(5, None), Ok((Grant::Idle { id: 10, since: 7 }, 5)));
    }

    #[test]
    fn a_waiter_is_never_overtaken_and_expires_at_its_deadline() {
        let mut s = set(1);
        assert_eq!(s.acquire(1, None), Ok((Grant::Open, 1)));
        assert_eq!(s.acquire(2, Some(100)), Err(()));
        assert_eq!(s.acquire(3, Some(300)), Err(()));
        assert!(s.expire(99).is_empty());
        assert_eq!(s.expire(100), vec![2]);
        assert_eq!(s.release(7, true, 150), Some((Grant::Idle { id: 7, since: 150 }, 3)));
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
        assert_eq!(s.acquire(9, None), Ok((Grant::Idle { id: 3, since: 900 }, 9)));
        assert_eq!(s.idle_expired(999), Vec::<u64>::new());
        assert_eq!(s.idle_expired(1_000), vec![1]);
        assert_eq!(s.idle_expired(1_500), vec![2]);
        assert_eq!(s.counts(), (1, 0, 0));
    }

    #[test]
    fn keeps_min_open_and_reports_what_to_replace() {
        let mut s: Spares<u32> = Spares::new(SparesConfig { min: 2, max: 3, idle_ms: 100 });
        assert_eq!(s.deficit(), 2);
        s.add_idle(1, 0);
        s.add_idle(2, 0);
        assert_eq!(s.deficit(), 0);
        assert_eq!(s.acquire(7, None), Ok((Grant::Idle { id: 2, since: 0 }, 7)));
        assert_eq!(s.acquire(8, None), Ok((Grant::Idle { id: 1, since: 0 }, 8)));
        assert_eq!(s.acquire(9, None), Ok((Grant::Open, 9)));
        for id in [1, 2, 3] {
            assert_eq!(s.release(id, true, 10), None);
        }
        // All three idle past idle_ms: only the one beyond min closes.
        assert_eq!(s.idle_expired(500), vec![1]);
        assert_eq!(s.counts(), (0, 2, 0));
        // One fails while idle: it is forgotten and must be replaced.
        assert!(s.forget(2));
        assert!(!s.forget(2));
        assert_eq!(s.deficit(), 1);
        // A dirty one destroyed on release counts against min too.
        assert_eq!(s.acquire(10, None), Ok((Grant::Idle { id: 3, since: 10 }, 10)));
        assert_eq!(s.release(3, false, 20), None);
        assert_eq!(s.deficit(), 2);
    }

    #[test]
    fn a_waiter_that_gave_up_leaves_the_line() {
        let mut s = set(1);
        assert_eq!(s.acquire(1, None), Ok((Grant::Open, 1)));
        assert_eq!(s.acquire(2, None), Err(()));
        assert_eq!(s.acquire(3, None), Err(()));
        s.retain_waiting(|&w| w != 2);
        assert_eq!(s.release(5, true, 1), Some((Grant::Idle { id: 5, since: 1 }, 3)));
    }
}

#[cfg(test)]
mod props {
    //! The pool's bookkeeping under random operations: the bound holds, `min` stays open,
    //! waiters are served first come first served and each resolves once, no connection is
    //! lent twice.

    use std::collections::{BTreeSet, HashSet};

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Acquire {
            deadline: Option<u8>,
        },
        /// Give back the lent connection at this index (mod the lent count), clean or dirty.
        Release {
            pick: u8,
            clean: bool,
        },
        /// An idle connection's link failed.
        LoseIdle {
            pick: u8,
        },
        /// A waiter gave up (its future was dropped).
        Abandon {
            pick: u8,
        },
        Tick {
            ms: u8,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => proptest::option::of(any::<u8>()).prop_map(|deadline| Op::Acquire { deadline }),
            4 => (any::<u8>(), any::<bool>()).prop_map(|(pick, clean)| Op::Release { pick, clean }),
            1 => any::<u8>().prop_map(|pick| Op::LoseIdle { pick }),
            1 => any::<u8>().prop_map(|pick| Op::Abandon { pick }),
            2 => any::<u8>().prop_map(|ms| Op::Tick { ms }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]
        #[test]
        fn bounds_order_and_exactly_once(
            min in 0usize..4,
            extra in 0usize..4,
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            let max = min.max(1) + extra;
            let mut s: Spares<u32> = Spares::new(SparesConfig { min, max, idle_ms: 50 });
            let mut now = 0u64;
            let mut next_conn = 1u64;
            let mut next_waiter = 0u32;
            let mut lent: Vec<(u64, u32)> = Vec::new();
            let mut idle: BTreeSet<u64> = BTreeSet::new();
            let mut waiting: Vec<u32> = Vec::new();
            let mut resolved: HashSet<u32> = HashSet::new();
            let mut replenish = |s: &mut Spares<u32>, idle: &mut BTreeSet<u64>, now: u64| {
                for _ in 0..s.deficit() {
                    s.add_idle(next_conn, now);
                    idle.insert(next_conn);
                    next_conn += 1;
                }
            };
            replenish(&mut s, &mut idle, now);
            let grant = |g: Grant, w: u32, lent: &mut Vec<(u64, u32)>,
                             idle: &mut BTreeSet<u64>, resolved: &mut HashSet<u32>,
                             next: &mut u64| {
                prop_assert!(resolved.insert(w), "waiter {} resolved twice", w);
                let id = match g {
                    Grant::Idle { id, .. } => {
                        prop_assert!(idle.remove(&id), "lent {} which was not idle", id);
                        id
                    }
                    Grant::Open => { *next += 1; *next + 10_000 }
                };
                prop_assert!(lent.iter().all(|&(c, _)| c != id), "{} lent twice", id);
                lent.push((id, w));
                Ok(())
            };
            let mut opened = 0u64;
            for op in ops {
                match op {
                    Op::Acquire { deadline } => {
                        let w = next_waiter;
                        next_waiter += 1;
                        let d = deadline.map(|d| now + u64::from(d));
                        match s.acquire(w, d) {
                            Ok((g, w)) => grant(g, w, &mut lent, &mut idle, &mut resolved, &mut opened)?,
                            Err(()) => waiting.push(w),
                        }
                    }
                    Op::Release { pick, clean } if !lent.is_empty() => {
                        let (id, _) = lent.remove(usize::from(pick) % lent.len());
                        if clean {
                            idle.insert(id);
                        }
                        if let Some((g, w)) = s.release(id, clean, now) {
                            prop_assert_eq!(Some(&w), waiting.first(), "not first come first served");
                            waiting.remove(0);
                            grant(g, w, &mut lent, &mut idle, &mut resolved, &mut opened)?;
                        }
                    }
                    Op::LoseIdle { pick } if !idle.is_empty() => {
                        let id = *idle.iter().nth(usize::from(pick) % idle.len()).expect("picked");
                        prop_assert!(s.forget(id));
                        idle.remove(&id);
                    }
                    Op::Abandon { pick } if !waiting.is_empty() => {
                        let w = waiting.remove(usize::from(pick) % waiting.len());
                        s.retain_waiting(|&x| x != w);
                        resolved.insert(w);
                    }
                    Op::Tick { ms } => {
                        now += u64::from(ms);
                        for w in s.expire(now) {
                            prop_assert!(resolved.insert(w), "waiter {} expired twice", w);
                            waiting.retain(|&x| x != w);
                        }
                        for id in s.idle_expired(now) {
                            prop_assert!(idle.remove(&id), "closed {} which was not idle", id);
                        }
                    }
                    _ => {}
                }
                replenish(&mut s, &mut idle, now);
                let (busy, idle_n, waiting_n) = s.counts();
                prop_assert_eq!(busy, lent.len());
                prop_assert_eq!(idle_n, idle.len());
                prop_assert_eq!(waiting_n, waiting.len());
                prop_assert!(busy + idle_n <= max, "{} open, max {}", busy + idle_n, max);
                prop_assert!(busy + idle_n >= min, "{} open, min {}", busy + idle_n, min);
                // Nobody waits while a connection could be had.
                prop_assert!(waiting.is_empty() || (idle_n == 0 && busy == max),
                    "a waiter waits beside {} idle, {} of {} busy", idle_n, busy, max);
            }
        }
    }
}
