//! The wheel's geometry: which level and slot a deadline lands in, and when a slot is due.
//!
//! Pure arithmetic on `u64` milliseconds. Level `l` has 64 slots of `64^l` ms each, so it
//! spans `64^(l+1)` ms; the six levels together span [`HORIZON`] = 2^36 ms (about 795 days).
//! An entry is stored at the lowest level whose span, aligned on the wheel's current time,
//! still contains its deadline: the level is the position of the highest bit in which
//! `elapsed` and `deadline` differ, divided by 6. Deadlines that differ from `elapsed` above
//! bit 35 are clamped into the top level, whose slots then act as a ring.

/// Bits of a deadline consumed by one level (64 slots).
pub(super) const LEVEL_BITS: u32 = 6;

/// Slots per level.
pub(super) const SLOTS: usize = 1 << LEVEL_BITS;

/// Number of levels.
pub(super) const LEVELS: usize = 6;

/// Milliseconds covered by the whole wheel, 2^36 (about 795 days). A deadline further away
/// from the wheel's current time is parked in the top level and re-filed on each rotation.
pub(super) const HORIZON: u64 = 1 << (LEVEL_BITS * LEVELS as u32);

const SLOT_MASK: u64 = SLOTS as u64 - 1;

/// The level at which an entry due at `when` is filed while the wheel's time is `elapsed`.
///
/// Requires `when > elapsed` for a meaningful answer (entries already due are never filed).
#[inline]
pub(super) fn level_for(elapsed: u64, when: u64) -> usize {
    // OR-ing in the low bits caps the leading zeros so that level 0 is the minimum.
    let mut masked = (elapsed ^ when) | SLOT_MASK;
    if masked >= HORIZON {
        // Beyond the top level: park in the top level (its slots act as a ring).
        masked = HORIZON - 1;
    }
    let significant = 63 - masked.leading_zeros();
    (significant / LEVEL_BITS) as usize
}

/// The slot of `when` within `level`.
#[inline]
pub(super) fn slot_for(when: u64, level: usize) -> usize {
    ((when >> (level as u32 * LEVEL_BITS)) & SLOT_MASK) as usize
}

/// Milliseconds covered by one slot of `level`.
#[inline]
fn slot_range(level: usize) -> u64 {
    1 << (level as u32 * LEVEL_BITS)
}

/// Milliseconds covered by all 64 slots of `level`.
#[inline]
fn level_range(level: usize) -> u64 {
    1 << ((level as u32 + 1) * LEVEL_BITS)
}

/// The next occupied slot of a level and the time it must be processed, given the level's
/// occupied bitfield and the wheel's current time.
///
/// The returned time is the slot's start, which is strictly after `elapsed` and at or before
/// the deadline of every entry filed in the slot. Returns `None` when `occupied` is 0.
#[inline]
pub(super) fn next_in_level(occupied: u64, level: usize, elapsed: u64) -> Option<(usize, u64)> {
    if occupied == 0 {
        return None;
    }
    // Search from the slot after the current one and wrap around, so the current slot comes
    // last. Below the top level the current slot is never occupied (a deadline in it would be
    // filed a level lower). In the top level it only holds deadlines beyond the horizon, which
    // belong to its next occurrence, one rotation later, after every other slot.
    let first = (slot_for(elapsed, level) + 1) & (SLOTS - 1);
    let ahead = occupied.rotate_right(first as u32).trailing_zeros() as usize;
    let slot = (first + ahead) & (SLOTS - 1);
    let level_start = elapsed & !(level_range(level) - 1);
    // No overflow: level_start is a multiple of level_range, so level_start + level_range
    // is at most 2^64, and slot * slot_range < level_range.
    let start = level_start + slot as u64 * slot_range(level);
    if start <= elapsed {
        // Only the top level can hold a slot "behind" the current time: it holds deadlines
        // beyond the horizon, which wrap around to the slot's next occurrence.
        debug_assert_eq!(level, LEVELS - 1, "slot behind the current time below the top level");
        return Some((slot, start.saturating_add(level_range(level))));
    }
    Some((slot, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_for_boundaries_from_zero() {
        assert_eq!(level_for(0, 1), 0);
        assert_eq!(level_for(0, 63), 0);
        assert_eq!(level_for(0, 64), 1);
        assert_eq!(level_for(0, 4095), 1);
        assert_eq!(level_for(0, 4096), 2);
        assert_eq!(level_for(0, (1 << 18) - 1), 2);
        assert_eq!(level_for(0, 1 << 18), 3);
        assert_eq!(level_for(0, 1 << 24), 4);
        assert_eq!(level_for(0, 1 << 30), 5);
        assert_eq!(level_for(0, HORIZON - 1), 5);
        assert_eq!(level_for(0, HORIZON), 5);
        assert_eq!(level_for(0, u64::MAX), 5);
    }

    #[test]
    fn level_for_is_relative_to_elapsed_alignment() {
        // Same 64 ms block as elapsed: level 0 even though 63 ms away.
        assert_eq!(level_for(64, 127), 0);
        // Next block, only 1 ms away: level 1.
        assert_eq!(level_for(63, 64), 1);
        assert_eq!(level_for(4095, 4096), 2);
    }

    #[test]
    fn slot_for_each_level() {
        for level in 0..LEVELS {
            for slot in 0..SLOTS {
                let when = (slot as u64) << (level as u32 * LEVEL_BITS);
                assert_eq!(slot_for(when, level), slot);
                assert_eq!(slot_for(when + slot_range(level) - 1, level), slot);
            }
        }
    }

    #[test]
    fn next_in_level_is_slot_start_after_elapsed() {
        assert_eq!(next_in_level(0, 0, 0), None);
        assert_eq!(next_in_level(1 << 5, 0, 0), Some((5, 5)));
        // Level 1, elapsed 100 is in slot 1; slot 3 starts at 192.
        assert_eq!(next_in_level(1 << 3, 1, 100), Some((3, 192)));
        // Top level: slot 0 is behind elapsed in slot 1, so it is next rotation's slot 0.
        let elapsed = 1 << 30;
        assert_eq!(next_in_level(1, 5, elapsed), Some((0, HORIZON)));
    }

    #[test]
    fn top_level_current_slot_comes_after_every_other_slot() {
        // Slot 0 holds a deadline a full rotation away; slot 1 is due first.
        assert_eq!(next_in_level(0b11, 5, 0), Some((1, 1 << 30)));
        assert_eq!(next_in_level(0b1, 5, 0), Some((0, HORIZON)));
        // Current slot 63: slot 0 (next rotation) comes before slot 63 (the one after).
        let elapsed = 63 << 30;
        assert_eq!(next_in_level(1 | 1 << 63, 5, elapsed), Some((0, HORIZON)));
        assert_eq!(next_in_level(1 << 63, 5, elapsed), Some((63, HORIZON + elapsed)));
    }

    #[test]
    fn next_in_level_near_u64_max_does_not_overflow() {
        let elapsed = u64::MAX - 10;
        let (slot, start) = next_in_level(1, 5, elapsed).unwrap();
        assert_eq!(slot, 0);
        assert_eq!(start, u64::MAX);
    }
}
