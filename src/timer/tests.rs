//! Unit tests of the timer wheel: level boundaries, clamping, stale keys, time jumps.

use std::rc::Rc;

use super::geometry::HORIZON;
use super::{TimerKey, Wheel};

/// Polls until `None`, checking invariants, and returns what fired.
fn drain<T>(wheel: &mut Wheel<T>, now: u64) -> Vec<(TimerKey, T)> {
    let mut fired = Vec::new();
    while let Some(item) = wheel.poll_expired(now) {
        wheel.check_invariants();
        fired.push(item);
    }
    wheel.check_invariants();
    fired
}

/// Drives the wheel the way the reactor does: sleep until `next_expiration`, poll, repeat,
/// until `value` fires. Returns the time it fired and the number of wake-ups it took.
fn run_until_fired(wheel: &mut Wheel<u64>, key: TimerKey, deadline: u64) -> (u64, usize) {
    let mut wakeups = 0;
    loop {
        let at = wheel.next_expiration().expect("entry is live, wheel cannot be empty");
        assert!(at <= deadline, "next_expiration {at} after the earliest deadline {deadline}");
        wakeups += 1;
        let fired = drain(wheel, at);
        if let Some((fired_key, _)) = fired.first() {
            assert_eq!(fired.len(), 1);
            assert_eq!(*fired_key, key);
            return (at, wakeups);
        }
        assert!(wakeups < 1_000, "too many wake-ups");
    }
}

const BOUNDARIES: &[u64] = &[
    1,
    2,
    63,
    64,
    65,
    4095,
    4096,
    4097,
    (1 << 18) - 1,
    1 << 18,
    (1 << 24) - 1,
    1 << 24,
    (1 << 30) - 1,
    1 << 30,
    HORIZON - 1,
    HORIZON,
    HORIZON + 1,
];

#[test]
fn fires_exactly_at_each_level_boundary() {
    for &start in &[0, 1, 63, 12_345, HORIZON - 3, 1 << 40] {
        for &offset in BOUNDARIES {
            let deadline = start + offset;
            let mut wheel = Wheel::new(start);
            let key = wheel.insert(deadline, deadline);
            wheel.check_invariants();
            assert!(drain(&mut wheel, deadline - 1).is_empty(), "early at {start}+{offset}");
            assert_eq!(wheel.deadline(key), Some(deadline));
            assert_eq!(drain(&mut wheel, deadline), vec![(key, deadline)], "{start}+{offset}");
            assert!(wheel.is_empty());
        }
    }
}

#[test]
fn next_expiration_walk_reaches_each_boundary_without_firing_early() {
    for &start in &[0, 7, 100_000] {
        for &offset in BOUNDARIES {
            let deadline = start + offset;
            let mut wheel = Wheel::new(start);
            let key = wheel.insert(deadline, deadline);
            let (at, wakeups) = run_until_fired(&mut wheel, key, deadline);
            assert_eq!(at, deadline);
            // One wake-up per level cascaded through, plus the final one.
            assert!(wakeups <= 7, "{wakeups} wake-ups for {start}+{offset}");
        }
    }
}

#[test]
fn cancel_at_each_level_boundary() {
    for &offset in BOUNDARIES {
        let mut wheel = Wheel::new(1_000);
        let keep = wheel.insert(1_000 + offset, 1);
        let key = wheel.insert(1_000 + offset, 2);
        assert_eq!(wheel.cancel(key), Some(2));
        wheel.check_invariants();
        assert_eq!(wheel.cancel(key), None);
        assert_eq!(wheel.cancel(keep), Some(1));
        wheel.check_invariants();
        assert!(wheel.is_empty());
        assert_eq!(wheel.next_expiration(), None);
        assert!(drain(&mut wheel, 1_000 + HORIZON * 2).is_empty());
    }
}

#[test]
fn far_future_deadline_is_clamped_and_fires_on_time() {
    let deadline = 1 << 40; // 16 rotations of the top level away
    let mut wheel = Wheel::new(5);
    let key = wheel.insert(deadline, deadline);
    let first = wheel.next_expiration().unwrap();
    assert!(first > 5 && first <= HORIZON + 5, "clamped into the top level: {first}");
    let (at, wakeups) = run_until_fired(&mut wheel, key, deadline);
    assert_eq!(at, deadline);
    assert!(wakeups <= 16 + 7, "{wakeups}");
}

#[test]
fn far_future_entries_do_not_fire_early_on_a_big_jump() {
    let mut wheel = Wheel::new(0);
    let far = [HORIZON + 1, 3 * HORIZON + 17, (1 << 39) + 5, u64::MAX];
    let keys: Vec<_> = far.iter().map(|&d| wheel.insert(d, d)).collect();
    wheel.check_invariants();
    assert!(drain(&mut wheel, HORIZON).is_empty());
    assert_eq!(drain(&mut wheel, 3 * HORIZON + 17), vec![(keys[0], far[0]), (keys[1], far[1])]);
    assert!(drain(&mut wheel, 1 << 39).is_empty());
    assert_eq!(drain(&mut wheel, (1 << 39) + 5), vec![(keys[2], far[2])]);
    assert_eq!(wheel.deadline(keys[3]), Some(u64::MAX));
    assert_eq!(wheel.cancel(keys[3]), Some(u64::MAX));
    assert!(wheel.is_empty());
}

#[test]
fn deadline_u64_max_fires_at_u64_max() {
    let start = u64::MAX - 100_000;
    let mut wheel = Wheel::new(start);
    let key = wheel.insert(u64::MAX, 1);
    let other = wheel.insert(u64::MAX - 1, 2);
    assert!(drain(&mut wheel, u64::MAX - 2).is_empty());
    assert_eq!(drain(&mut wheel, u64::MAX), vec![(other, 2), (key, 1)]);
}

#[test]
fn stale_key_after_fire() {
    let mut wheel = Wheel::new(0);
    let key = wheel.insert(10, "a");
    assert_eq!(drain(&mut wheel, 10), vec![(key, "a")]);
    assert_eq!(wheel.cancel(key), None);
    assert_eq!(wheel.deadline(key), None);
    // The slot is reused; the old key still does not reach the new entry.
    let reused = wheel.insert(20, "b");
    assert_ne!(reused, key);
    assert_eq!(wheel.cancel(key), None);
    assert_eq!(wheel.deadline(key), None);
    assert_eq!(wheel.deadline(reused), Some(20));
    assert_eq!(wheel.len(), 1);
}

#[test]
fn stale_key_after_cancel_and_reuse() {
    let mut wheel = Wheel::new(0);
    let first = wheel.insert(100, 1);
    assert_eq!(wheel.cancel(first), Some(1));
    let second = wheel.insert(100, 2);
    assert_ne!(first, second);
    assert_eq!(wheel.cancel(first), None);
    assert_eq!(wheel.deadline(first), None);
    wheel.check_invariants();
    assert_eq!(drain(&mut wheel, 100), vec![(second, 2)]);
    assert_eq!(wheel.cancel(second), None);
}

#[test]
fn generation_wraps_past_zero_and_keys_stay_distinct() {
    let mut wheel = Wheel::new(0);
    wheel.set_next_generation(std::num::NonZeroU32::MAX);
    let a = wheel.insert(10, 'a');
    assert_eq!(wheel.cancel(a), Some('a'));
    let b = wheel.insert(10, 'b'); // same slab index, generation wrapped to 1
    assert_ne!(a, b);
    assert_eq!(wheel.cancel(a), None);
    assert_eq!(wheel.deadline(b), Some(10));
    assert_eq!(std::mem::size_of::<Option<TimerKey>>(), 8);
}

#[test]
fn past_and_present_deadlines_fire_at_next_poll_in_insertion_order() {
    let mut wheel = Wheel::new(1_000);
    let a = wheel.insert(1_000, 'a');
    let b = wheel.insert(3, 'b');
    let c = wheel.insert(0, 'c');
    wheel.check_invariants();
    assert_eq!(wheel.next_expiration(), Some(0));
    assert_eq!(drain(&mut wheel, 1_000), vec![(a, 'a'), (b, 'b'), (c, 'c')]);
    assert_eq!(wheel.next_expiration(), None);
}

#[test]
fn past_deadline_queues_behind_entries_already_due() {
    let mut wheel = Wheel::new(0);
    let x = wheel.insert(50, 'x');
    let y = wheel.insert(50, 'y');
    assert_eq!(wheel.poll_expired(60), Some((x, 'x')));
    // y is due but not yet returned; it can still be cancelled or overtaken.
    let late = wheel.insert(10, 'l');
    assert_eq!(wheel.deadline(y), Some(50));
    assert_eq!(drain(&mut wheel, 60), vec![(y, 'y'), (late, 'l')]);
}

#[test]
fn cancel_a_due_entry_before_it_is_returned() {
    let mut wheel = Wheel::new(0);
    let x = wheel.insert(5, 'x');
    let y = wheel.insert(5, 'y');
    let z = wheel.insert(5, 'z');
    assert_eq!(wheel.poll_expired(5), Some((x, 'x')));
    assert_eq!(wheel.cancel(y), Some('y'));
    wheel.check_invariants();
    assert_eq!(drain(&mut wheel, 5), vec![(z, 'z')]);
}

#[test]
fn time_going_backwards_counts_as_no_time_passing() {
    let mut wheel = Wheel::new(0);
    assert!(drain(&mut wheel, 100).is_empty());
    let soon = wheel.insert(101, 1);
    let past = wheel.insert(80, 2);
    assert_eq!(drain(&mut wheel, 50), vec![(past, 2)]);
    assert!(drain(&mut wheel, 0).is_empty());
    assert_eq!(drain(&mut wheel, 101), vec![(soon, 1)]);
}

#[test]
fn equal_deadlines_fire_in_insertion_order_across_cascades() {
    let mut wheel = Wheel::new(0);
    let deadline = 5_000;
    let early = wheel.insert(deadline, 0); // filed at level 2
    assert!(drain(&mut wheel, 4_900).is_empty());
    let mid = wheel.insert(deadline, 1); // filed at level 1 or 0 now
    let other = wheel.insert(deadline - 1, 9);
    assert!(drain(&mut wheel, 4_990).is_empty());
    let late = wheel.insert(deadline, 2);
    assert_eq!(drain(&mut wheel, 6_000), vec![(other, 9), (early, 0), (mid, 1), (late, 2)]);
}

#[test]
fn next_expiration_is_exact_in_level_zero_and_a_slot_start_above() {
    let mut wheel = Wheel::new(0);
    assert_eq!(wheel.next_expiration(), None);
    let k = wheel.insert(40, ());
    assert_eq!(wheel.next_expiration(), Some(40));
    wheel.cancel(k);
    wheel.insert(100, ());
    // Level 1, slot 1 starts at 64.
    assert_eq!(wheel.next_expiration(), Some(64));
    assert!(drain(&mut wheel, 64).is_empty());
    assert_eq!(wheel.next_expiration(), Some(100));
}

#[test]
fn jump_of_hours_fires_everything_in_deadline_order() {
    const HOUR: u64 = 3_600_000;
    let mut wheel = Wheel::new(0);
    let mut expected = Vec::new();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..5_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let deadline = 1 + x % (5 * HOUR);
        expected.push((deadline, i, wheel.insert(deadline, i)));
    }
    let beyond = wheel.insert(11 * HOUR, u64::MAX);
    expected.sort_by_key(|&(deadline, i, _)| (deadline, i));
    let fired = drain(&mut wheel, 10 * HOUR);
    let want: Vec<_> = expected.iter().map(|&(_, i, key)| (key, i)).collect();
    assert_eq!(fired, want);
    assert_eq!(wheel.len(), 1);
    assert_eq!(drain(&mut wheel, 11 * HOUR), vec![(beyond, u64::MAX)]);
}

#[test]
fn hundred_thousand_entries_with_cancels_and_random_steps() {
    const N: u64 = 100_000;
    let mut wheel = Wheel::with_capacity(0, N as usize);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut deadlines = Vec::with_capacity(N as usize);
    let mut keys = Vec::with_capacity(N as usize);
    for i in 0..N {
        let deadline = 1 + next() % 600_000;
        deadlines.push(deadline);
        keys.push(wheel.insert(deadline, i));
    }
    assert_eq!(wheel.len(), N as usize);
    let mut cancelled = vec![false; N as usize];
    for i in (0..N).step_by(3) {
        assert_eq!(wheel.cancel(keys[i as usize]), Some(i));
        cancelled[i as usize] = true;
    }
    wheel.check_invariants();
    let mut fired = vec![false; N as usize];
    let mut now = 0;
    let mut last = (0, 0);
    while !wheel.is_empty() {
        now += 1 + next() % 5_000;
        while let Some((key, i)) = wheel.poll_expired(now) {
            let d = deadlines[i as usize];
            assert_eq!(key, keys[i as usize]);
            assert!(d <= now, "fired early");
            assert!(!cancelled[i as usize] && !fired[i as usize]);
            assert!((d, i) > last, "out of order");
            last = (d, i);
            fired[i as usize] = true;
        }
        wheel.check_invariants();
    }
    for i in 0..N as usize {
        assert_ne!(fired[i], cancelled[i], "entry {i} lost or fired after cancel");
    }
}

#[test]
fn dropping_the_wheel_drops_live_values() {
    let value = Rc::new(());
    let mut wheel = Wheel::new(0);
    for d in [1, 100, 10_000, HORIZON * 2, 0] {
        wheel.insert(d, Rc::clone(&value));
    }
    assert_eq!(Rc::strong_count(&value), 6);
    drop(wheel);
    assert_eq!(Rc::strong_count(&value), 1);
}

#[test]
fn debug_output_names_time_and_len() {
    let mut wheel = Wheel::new(7);
    wheel.insert(9, ());
    let text = format!("{wheel:?}");
    assert!(text.contains("elapsed: 7") && text.contains("len: 1"), "{text}");
}

#[test]
fn beyond_horizon_entry_in_the_current_top_slot_does_not_delay_others() {
    // HORIZON lands in top-level slot 0, the current one; 2^30 is in slot 1 and due first.
    let mut wheel = Wheel::new(0);
    let far = wheel.insert(HORIZON, 1);
    let near = wheel.insert(1 << 30, 2);
    assert_eq!(wheel.next_expiration(), Some(1 << 30));
    assert_eq!(drain(&mut wheel, 1 << 30), vec![(near, 2)]);
    assert!(drain(&mut wheel, HORIZON - 1).is_empty());
    assert_eq!(drain(&mut wheel, HORIZON), vec![(far, 1)]);
}
