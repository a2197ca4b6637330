//! The hierarchical hashed timer wheel: entries in a slab, intrusive lists per slot.

use std::fmt;
use std::num::NonZeroU32;

use slab::Slab;

use super::geometry::{level_for, next_in_level, slot_for, LEVELS, SLOTS};

/// "No entry" in the intrusive links and list heads.
const NIL: u32 = u32::MAX;

/// Number of slot lists (6 levels of 64 slots).
const SLOT_LISTS: usize = LEVELS * SLOTS;

/// Index of the due list: entries whose deadline has passed, waiting to be returned by
/// [`Wheel::poll_expired`]. It sits after the slot lists in `Wheel::lists`.
const DUE: u16 = SLOT_LISTS as u16;

/// Identifies one entry of a [`Wheel`]: its slab index and the generation it was inserted
/// with.
///
/// A key goes stale when its entry fires or is cancelled; the slab slot may then be reused by
/// a later entry, but that entry carries a different generation, so [`Wheel::cancel`] and
/// [`Wheel::deadline`] recognise the stale key and return `None`. Generations come from a
/// 32-bit counter per wheel, so a stale key could only be mistaken for a live one if it were
/// kept across 2^32 further inserts *and* its slot were reused by exactly the insert that
/// wrapped the counter back to the same value. The generation is never 0, so
/// `Option<TimerKey>` is as small as `TimerKey` (8 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerKey {
    index: u32,
    generation: NonZeroU32,
}

/// One timer in the slab.
struct Entry<T> {
    /// The deadline as given to `insert` (never clamped).
    deadline: u64,
    generation: NonZeroU32,
    prev: u32,
    next: u32,
    /// Which list the entry is linked into: `level * 64 + slot`, or [`DUE`].
    list: u16,
    value: T,
}

/// Head and tail of one intrusive doubly-linked list.
#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

impl List {
    const EMPTY: List = List { head: NIL, tail: NIL };
}

/// A hierarchical hashed timer wheel keyed by `u64` millisecond deadlines.
///
/// Pure data structure: no clock, no threads. Time only moves when [`poll_expired`] is called
/// with a later `now`. The wheel's *current time* is the last `now` for which `poll_expired`
/// returned `None`; in the middle of a drain it is the start of the last slot processed,
/// between the previous current time and the `now` being drained. The
/// geometry is tokio's: 1 ms ticks, 6 levels of 64 slots, a `u64` occupied bitfield per
/// level, so [`next_expiration`] is a few `trailing_zeros`. Entries live in a [`Slab`] and are
/// linked into per-slot intrusive doubly-linked lists, so [`insert`] and [`cancel`] are O(1)
/// and allocate nothing once the slab has grown to the peak number of live entries.
///
/// # Guarantees
///
/// - An entry never fires before its deadline, and after `poll_expired(now)` returns `None`
///   no entry with a deadline at or before `now` remains.
/// - A deadline at or before the wheel's current time fires at the next `poll_expired`.
/// - Deadlines more than 2^36 ms (about 795 days) ahead are parked in the top level and
///   re-filed once per rotation; they still fire no earlier than their deadline.
/// - Time never goes backwards: a `now` earlier than the current time counts as no time
///   passing.
///
/// # Ordering
///
/// Entries fire in non-decreasing deadline order, and entries with equal deadlines fire in
/// insertion order. The one exception: an entry inserted with a deadline at or before the
/// wheel's current time is due at once; it is queued behind the entries already due (in
/// insertion order) and fires at the next `poll_expired`, possibly after entries with later
/// deadlines that were already due.
///
/// # Cost
///
/// `insert`, `cancel`, `deadline`, `len` are O(1); `next_expiration` is O(levels).
/// `poll_expired` is amortised O(1) per entry per level it cascades through (at most 6),
/// plus one step per occupied slot it passes. Advancing time by Δ ms also costs one step per
/// 2^36 ms of Δ for each top-level slot holding a deadline beyond the horizon, which is
/// negligible for a monotonic clock. Cancelling an entry never touches the others.
///
/// # Examples
///
/// The wheel is crate-private; this example reaches it through the hidden bench re-export.
///
/// ```
/// use redpoll::__bench_timer::Wheel;
///
/// let mut wheel = Wheel::new(1_000);
/// let slow = wheel.insert(1_050, "slow request");
/// let fast = wheel.insert(1_020, "fast request");
/// assert_eq!(wheel.next_expiration(), Some(1_020));
///
/// // The fast request completes before its deadline: cancel its timer.
/// assert_eq!(wheel.cancel(fast), Some("fast request"));
/// assert_eq!(wheel.cancel(fast), None); // stale key
///
/// assert!(wheel.poll_expired(1_049).is_none());
/// assert_eq!(wheel.poll_expired(1_050), Some((slow, "slow request")));
/// assert!(wheel.poll_expired(1_050).is_none());
/// assert!(wheel.is_empty());
/// ```
///
/// [`poll_expired`]: Wheel::poll_expired
/// [`next_expiration`]: Wheel::next_expiration
/// [`insert`]: Wheel::insert
/// [`cancel`]: Wheel::cancel
pub struct Wheel<T> {
    entries: Slab<Entry<T>>,
    /// The 384 slot lists (`level * 64 + slot`) followed by the due list.
    lists: [List; SLOT_LISTS + 1],
    /// Bit `s` of `occupied[l]` is set iff slot list `l * 64 + s` is non-empty.
    occupied: [u64; LEVELS],
    /// The wheel's current time: every filed entry's deadline is after it.
    elapsed: u64,
    /// A lower bound of the deadlines in the due list (meaningful only while it is non-empty).
    due_min: u64,
    next_generation: NonZeroU32,
}

impl<T> Wheel<T> {
    /// Creates an empty wheel whose current time is `now_ms`.
    pub fn new(now_ms: u64) -> Self {
        Self::with_capacity(now_ms, 0)
    }

    /// Creates an empty wheel whose current time is `now_ms`, with room for `capacity` live
    /// entries before the slab has to grow.
    pub fn with_capacity(now_ms: u64, capacity: usize) -> Self {
        Wheel {
            entries: Slab::with_capacity(capacity),
            lists: [List::EMPTY; SLOT_LISTS + 1],
            occupied: [0; LEVELS],
            elapsed: now_ms,
            due_min: 0,
            next_generation: NonZeroU32::MIN,
        }
    }

    /// Inserts `value` to fire at `deadline_ms` and returns the key that cancels it.
    ///
    /// A deadline at or before the wheel's current time fires at the next
    /// [`poll_expired`](Wheel::poll_expired). O(1); allocates only when the slab must grow.
    ///
    /// # Panics
    ///
    /// Panics if `u32::MAX - 1` entries are already live (the slab index must fit a `u32`).
    #[inline]
    pub fn insert(&mut self, deadline_ms: u64, value: T) -> TimerKey {
        let generation = self.next_generation;
        self.next_generation =
            NonZeroU32::new(generation.get().wrapping_add(1)).unwrap_or(NonZeroU32::MIN);
        let vacant = self.entries.vacant_entry();
        let index = match u32::try_from(vacant.key()) {
            Ok(index) if index != NIL => index,
            _ => panic!("timer wheel: too many live entries for a u32 index"),
        };
        vacant.insert(Entry {
            deadline: deadline_ms,
            generation,
            prev: NIL,
            next: NIL,
            list: DUE,
            value,
        });
        let list = self.list_for(deadline_ms);
        self.push_back(list, index);
        TimerKey { index, generation }
    }

    /// Cancels the entry of `key` and returns its value, or `None` if the key is stale (the
    /// entry already fired or was cancelled). O(1), never allocates.
    #[inline]
    pub fn cancel(&mut self, key: TimerKey) -> Option<T> {
        let index = key.index as usize;
        match self.entries.get(index) {
            Some(entry) if entry.generation == key.generation => {}
            _ => return None,
        }
        self.unlink(key.index);
        Some(self.entries.remove(index).value)
    }

    /// The deadline `key` was inserted with, or `None` if the key is stale.
    #[inline]
    pub fn deadline(&self, key: TimerKey) -> Option<u64> {
        match self.entries.get(key.index as usize) {
            Some(entry) if entry.generation == key.generation => Some(entry.deadline),
            _ => None,
        }
    }

    /// A time at or before the earliest deadline in the wheel, or `None` if it is empty.
    ///
    /// This is the time at which [`poll_expired`](Wheel::poll_expired) next has work to do:
    /// exact when the earliest entry is within the current 64 ms block, otherwise the start of
    /// the slot holding it (a poll then re-files the slot's entries at a finer level). If
    /// entries are already due it returns a time at or before the current time.
    #[inline]
    pub fn next_expiration(&self) -> Option<u64> {
        if self.lists[DUE as usize].head != NIL {
            return Some(self.due_min);
        }
        self.next_slot().map(|(_, _, start)| start)
    }

    /// Returns one entry whose deadline is at or before `now_ms`, removing it from the wheel,
    /// or `None` when no such entry remains. Call it until it returns `None`.
    ///
    /// The returned key is already stale. Entries come out in the order documented on
    /// [`Wheel`]. A `now_ms` earlier than the wheel's current time counts as the current time.
    pub fn poll_expired(&mut self, now_ms: u64) -> Option<(TimerKey, T)> {
        let now = now_ms.max(self.elapsed);
        loop {
            let head = self.lists[DUE as usize].head;
            if head != NIL {
                self.unlink(head);
                let entry = self.entries.remove(head as usize);
                let key = TimerKey { index: head, generation: entry.generation };
                return Some((key, entry.value));
            }
            match self.next_slot() {
                Some((level, slot, start)) if start <= now => {
                    // `start > elapsed`, so time moves forward on every iteration.
                    self.elapsed = start;
                    self.process_slot(level, slot);
                }
                _ => {
                    self.elapsed = now;
                    return None;
                }
            }
        }
    }

    /// Number of live entries (filed or due, not yet returned or cancelled).
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the wheel holds no live entry.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The list an entry due at `deadline` belongs to at the current time.
    #[inline]
    fn list_for(&self, deadline: u64) -> u16 {
        if deadline <= self.elapsed {
            return DUE;
        }
        let level = level_for(self.elapsed, deadline);
        (level * SLOTS + slot_for(deadline, level)) as u16
    }

    /// The lowest level's next occupied slot and its start time. Lower levels always hold
    /// earlier deadlines than higher ones, so the first hit is the earliest slot.
    #[inline]
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        for level in 0..LEVELS {
            if let Some((slot, start)) = next_in_level(self.occupied[level], level, self.elapsed) {
                return Some((level, slot, start));
            }
        }
        None
    }

    /// Detaches every entry of one slot and re-files it relative to the (already advanced)
    /// current time: due entries go to the due list, the others one or more levels down
    /// (or back into the top level, for deadlines still beyond the horizon). List order is
    /// preserved, which keeps equal deadlines in insertion order.
    fn process_slot(&mut self, level: usize, slot: usize) {
        let list = level * SLOTS + slot;
        let mut cursor = self.lists[list].head;
        self.lists[list] = List::EMPTY;
        self.occupied[level] &= !(1 << slot);
        while cursor != NIL {
            let entry = &self.entries[cursor as usize];
            let (next, deadline) = (entry.next, entry.deadline);
            let target = self.list_for(deadline);
            self.push_back(target, cursor);
            cursor = next;
        }
    }

    /// Appends the (unlinked) entry `index` to list `list`.
    #[inline]
    fn push_back(&mut self, list: u16, index: u32) {
        let l = list as usize;
        let tail = self.lists[l].tail;
        let entry = &mut self.entries[index as usize];
        entry.prev = tail;
        entry.next = NIL;
        entry.list = list;
        let deadline = entry.deadline;
        if tail == NIL {
            self.lists[l].head = index;
            if l < SLOT_LISTS {
                self.occupied[l / SLOTS] |= 1 << (l % SLOTS);
            } else {
                self.due_min = deadline;
            }
        } else {
            self.entries[tail as usize].next = index;
            if l == DUE as usize {
                self.due_min = self.due_min.min(deadline);
            }
        }
        self.lists[l].tail = index;
    }

    /// Unlinks the entry `index` from whatever list holds it (the entry stays in the slab).
    #[inline]
    fn unlink(&mut self, index: u32) {
        let entry = &self.entries[index as usize];
        let (prev, next, l) = (entry.prev, entry.next, entry.list as usize);
        if prev == NIL {
            self.lists[l].head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next == NIL {
            self.lists[l].tail = prev;
        } else {
            self.entries[next as usize].prev = prev;
        }
        if prev == NIL && next == NIL && l < SLOT_LISTS {
            self.occupied[l / SLOTS] &= !(1 << (l % SLOTS));
        }
    }

    /// Sets the generation the next insert gets; test-only (to exercise the wrap).
    #[cfg(test)]
    pub(super) fn set_next_generation(&mut self, generation: NonZeroU32) {
        self.next_generation = generation;
    }

    /// The wheel's current time; test-only.
    #[cfg(test)]
    pub(super) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Checks every structural invariant; test-only.
    #[cfg(test)]
    pub(super) fn check_invariants(&self) {
        let mut seen = 0;
        for (l, list) in self.lists.iter().enumerate() {
            if l < SLOT_LISTS {
                let bit = self.occupied[l / SLOTS] & (1 << (l % SLOTS)) != 0;
                assert_eq!(bit, list.head != NIL, "occupied bit of list {l}");
            }
            let mut prev = NIL;
            let mut cursor = list.head;
            while cursor != NIL {
                let entry = &self.entries[cursor as usize];
                assert_eq!(entry.prev, prev, "back link in list {l}");
                assert_eq!(entry.list as usize, l, "list tag");
                if l == DUE as usize {
                    assert!(entry.deadline <= self.elapsed, "due entry not yet due");
                    assert!(self.due_min <= entry.deadline, "due_min above a due deadline");
                } else {
                    assert!(entry.deadline > self.elapsed, "filed entry already due");
                    assert_eq!(self.list_for(entry.deadline) as usize, l, "entry misfiled");
                }
                seen += 1;
                prev = cursor;
                cursor = entry.next;
            }
            assert_eq!(list.tail, prev, "tail of list {l}");
        }
        assert_eq!(seen, self.entries.len(), "entries not linked in any list");
    }
}

impl<T> fmt::Debug for Wheel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wheel")
            .field("elapsed", &self.elapsed)
            .field("len", &self.len())
            .field("next_expiration", &self.next_expiration())
            .finish_non_exhaustive()
    }
}
