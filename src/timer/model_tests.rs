//! Model test: random insert/cancel/advance sequences against a `BTreeMap` reference.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::geometry::HORIZON;
use super::{TimerKey, Wheel};

#[derive(Clone, Debug)]
enum Op {
    /// Insert at `now + delta`, or at `now - delta` when `past` (a deadline already due).
    Insert { past: bool, delta: u64 },
    /// Cancel the `pick`-th key ever handed out (often stale).
    Cancel { pick: usize },
    /// Poll until `None` at `now + delta`.
    Advance { delta: u64 },
    /// Poll until `None` at the wheel's `next_expiration`, as the reactor does.
    AdvanceToNext,
    /// A single `poll_expired` at `now + delta` (leaves due entries queued).
    PollOnce { delta: u64 },
    /// Poll until `None` at `now - delta` (time going backwards).
    Backwards { delta: u64 },
}

/// Offsets that hit every level, the boundaries between them, and the horizon.
fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0..70u64,
        3 => 0..5_000u64,
        2 => 0..400_000u64,
        1 => 0..(1u64 << 31),
        1 => prop::sample::select(vec![
            63, 64, 65, 4095, 4096, 4097, 262_143, 262_144, 1 << 24, 1 << 30,
            HORIZON - 1, HORIZON, HORIZON + 1,
        ]),
        1 => (HORIZON - 5_000)..(HORIZON * 3),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (prop::bool::weighted(0.1), offset()).prop_map(|(past, delta)| Op::Insert { past, delta }),
        3 => any::<usize>().prop_map(|pick| Op::Cancel { pick }),
        2 => offset().prop_map(|delta| Op::Advance { delta }),
        2 => Just(Op::AdvanceToNext),
        1 => (0..200u64).prop_map(|delta| Op::PollOnce { delta }),
        1 => (0..100u64).prop_map(|delta| Op::Backwards { delta }),
    ]
}

fn start() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), 0..(1u64 << 40), (HORIZON - 100)..(HORIZON + 100)]
}

/// The reference: live entries by insertion sequence number.
struct Model {
    wheel: Wheel<u64>,
    /// seq -> (deadline, key, inserted already due)
    live: BTreeMap<u64, (u64, TimerKey, bool)>,
    keys: Vec<(TimerKey, u64)>,
    now: u64,
    /// The latest `now` passed to `poll_expired` (the wheel's time is between the two).
    polled: u64,
    next_seq: u64,
    /// Last (deadline, seq) fired among entries that were not already due at insertion:
    /// those must fire in strictly increasing (deadline, seq) order over the whole run.
    last_in_order: Option<(u64, u64)>,
    /// Last seq fired among entries already due at insertion: FIFO among themselves.
    last_due_seq: Option<u64>,
}

impl Model {
    fn check_fired(&mut self, now: u64, key: TimerKey, seq: u64) {
        let (deadline, live_key, was_due) =
            self.live.remove(&seq).expect("fired an entry that is not live (twice or cancelled)");
        assert_eq!(key, live_key);
        assert!(deadline <= now, "fired early: deadline {deadline} > now {now}");
        if was_due {
            assert!(self.last_due_seq < Some(seq), "already-due entries out of FIFO order");
            self.last_due_seq = Some(seq);
        } else {
            assert!(self.last_in_order < Some((deadline, seq)), "fired out of order");
            self.last_in_order = Some((deadline, seq));
        }
    }

    /// One `poll_expired(now)`, checked; returns whether it returned an entry.
    fn poll_once(&mut self, now: u64) -> bool {
        // A `now` behind the wheel's time counts as the wheel's time.
        let effective = now.max(self.wheel.elapsed());
        self.polled = self.polled.max(now);
        match self.wheel.poll_expired(now) {
            Some((key, seq)) => {
                self.check_fired(effective, key, seq);
                true
            }
            None => {
                assert_eq!(self.wheel.elapsed(), effective);
                if let Some((seq, e)) = self.live.iter().find(|(_, e)| e.0 <= effective) {
                    panic!("entry {seq} with deadline {} left behind at {effective}", e.0);
                }
                self.now = effective;
                false
            }
        }
    }

    fn drain(&mut self, now: u64) {
        while self.poll_once(now) {}
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Insert { past, delta } => {
                let deadline = if past {
                    self.now.saturating_sub(delta)
                } else {
                    self.now.saturating_add(delta)
                };
                let seq = self.next_seq;
                self.next_seq += 1;
                // After a partial poll the wheel's time may be ahead of `self.now` (at the
                // slot it last processed): "already due" is judged against the wheel's time.
                let wheel_now = self.wheel.elapsed();
                assert!(self.now <= wheel_now && wheel_now <= self.polled, "wheel time");
                let key = self.wheel.insert(deadline, seq);
                assert!(self.keys.iter().all(|&(k, _)| k != key), "key handed out twice");
                self.live.insert(seq, (deadline, key, deadline <= wheel_now));
                self.keys.push((key, seq));
            }
            Op::Cancel { pick } => {
                if self.keys.is_empty() {
                    return;
                }
                let (key, seq) = self.keys[pick % self.keys.len()];
                let expected = self.live.get(&seq).map(|&(deadline, _, _)| deadline);
                assert_eq!(self.wheel.deadline(key), expected);
                let got = self.wheel.cancel(key);
                assert_eq!(got, self.live.remove(&seq).map(|_| seq));
                assert_eq!(self.wheel.deadline(key), None);
            }
            Op::Advance { delta } => self.drain(self.now.saturating_add(delta)),
            Op::AdvanceToNext => {
                if let Some(at) = self.wheel.next_expiration() {
                    self.drain(at);
                }
            }
            Op::PollOnce { delta } => {
                self.poll_once(self.now.saturating_add(delta));
            }
            Op::Backwards { delta } => self.drain(self.now.saturating_sub(delta)),
        }
    }

    fn check(&self) {
        self.wheel.check_invariants();
        assert_eq!(self.wheel.len(), self.live.len());
        assert_eq!(self.wheel.is_empty(), self.live.is_empty());
        let earliest = self.live.values().map(|e| e.0).min();
        match (self.wheel.next_expiration(), earliest) {
            (None, None) => {}
            (Some(at), Some(earliest)) => assert!(at <= earliest, "next_expiration {at} late"),
            (got, want) => panic!("next_expiration {got:?} with earliest deadline {want:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn wheel_matches_btreemap_model(start in start(), ops in prop::collection::vec(op(), 1..200)) {
        let mut model = Model {
            wheel: Wheel::new(start),
            live: BTreeMap::new(),
            keys: Vec::new(),
            now: start,
            polled: start,
            next_seq: 0,
            last_in_order: None,
            last_due_seq: None,
        };
        for op in ops {
            model.apply(op);
            model.check();
        }
        // Everything left fires by the latest deadline, in order, never early.
        let last = model.live.values().map(|e| e.0).max().unwrap_or(model.now);
        model.drain(last);
        prop_assert!(model.wheel.is_empty());
    }
}
