//! Requests waiting for their replies, in the order they were written, and the earliest
//! deadline among them.

use std::collections::VecDeque;

/// A FIFO of waiting entries with O(1) push, pop and "earliest deadline" query.
///
/// Redis answers in order, so replies are matched to the front entry. Deadlines are not
/// monotonic (commands carry different timeouts), so beside the FIFO runs a monotonic queue
/// of `(sequence, deadline)` whose front is always the earliest deadline still waiting: the
/// sliding-window minimum. Both queues reuse their storage, so steady state allocates nothing.
#[derive(Debug)]
pub(crate) struct Fifo<T> {
    entries: VecDeque<(u64, Option<u64>, T)>,
    minima: VecDeque<(u64, u64)>,
    next_seq: u64,
}

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo { entries: VecDeque::new(), minima: VecDeque::new(), next_seq: 0 }
    }
}

impl<T> Fifo<T> {
    /// Gives back storage beyond `keep` entries a burst left behind (only when empty).
    pub(crate) fn shrink_idle(&mut self, keep: usize) {
        if self.entries.is_empty() {
            self.entries.shrink_to(keep);
            self.minima.shrink_to(keep);
        }
    }

    /// Entries the storage holds without reallocating.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// Appends an entry with an optional deadline (ms); returns its sequence number.
    pub(crate) fn push(&mut self, deadline: Option<u64>, entry: T) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(d) = deadline {
            while self.minima.back().is_some_and(|&(_, later)| later >= d) {
                self.minima.pop_back();
            }
            self.minima.push_back((seq, d));
        }
        self.entries.push_back((seq, deadline, entry));
        seq
    }

    /// Removes and returns the front entry.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let (seq, _, entry) = self.entries.pop_front()?;
        if self.minima.front().is_some_and(|&(s, _)| s == seq) {
            self.minima.pop_front();
        }
        Some(entry)
    }

    /// The front entry.
    pub(crate) fn front(&self) -> Option<&T> {
        self.entries.front().map(|(_, _, e)| e)
    }

    /// The front entry, to change in place.
    pub(crate) fn front_mut(&mut self) -> Option<&mut T> {
        self.entries.front_mut().map(|(_, _, e)| e)
    }

    /// Every entry, front to back.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.entries.iter().map(|(_, _, e)| e)
    }

    /// Hands every entry whose deadline is at or before `now` to `f`; those for which `f`
    /// returns true lose their deadline (they no longer count for
    /// [`earliest_deadline`](Fifo::earliest_deadline)). O(n): for the rare request that
    /// times out without taking its connection down.
    pub(crate) fn expire(&mut self, now: u64, mut f: impl FnMut(&mut T) -> bool) {
        let mut changed = false;
        for (_, deadline, entry) in self.entries.iter_mut() {
            if deadline.is_some_and(|d| d <= now) && f(entry) {
                *deadline = None;
                changed = true;
            }
        }
        if changed {
            self.minima.clear();
            for &(seq, deadline, _) in &self.entries {
                let Some(d) = deadline else { continue };
                while self.minima.back().is_some_and(|&(_, later)| later >= d) {
                    self.minima.pop_back();
                }
                self.minima.push_back((seq, d));
            }
        }
    }

    /// The earliest deadline among the entries, if any has one.
    pub(crate) fn earliest_deadline(&self) -> Option<u64> {
        self.minima.front().map(|&(_, d)| d)
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no entry waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every entry, front to back.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.minima.clear();
        self.entries.drain(..).map(|(_, _, e)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_min(deadlines: &[(u64, Option<u64>)]) -> Option<u64> {
        deadlines.iter().filter_map(|(_, d)| *d).min()
    }

    #[test]
    fn earliest_deadline_tracks_pushes_and_pops() {
        let mut f = Fifo::default();
        let mut model: std::collections::VecDeque<(u64, Option<u64>)> = Default::default();
        let mut x: u64 = 12345;
        for step in 0..10_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x % 3 != 0 || model.is_empty() {
                let d = if x % 5 == 0 { None } else { Some(x % 1000) };
                f.push(d, step);
                model.push_back((step, d));
            } else {
                assert_eq!(f.pop(), model.pop_front().map(|(s, _)| s));
            }
            if x % 11 == 0 {
                // Expire what is due at a random time, dropping the deadline of every other one.
                let now = x % 1000;
                let mut flip = false;
                f.expire(now, |_| {
                    flip = !flip;
                    flip
                });
                let mut flip = false;
                for (_, d) in model.iter_mut() {
                    if d.is_some_and(|d| d <= now) {
                        flip = !flip;
                        if flip {
                            *d = None;
                        }
                    }
                }
            }
            let all: Vec<_> = model.iter().copied().collect();
            assert_eq!(f.earliest_deadline(), brute_min(&all), "step {step}");
            assert_eq!(f.len(), model.len());
        }
    }
}
