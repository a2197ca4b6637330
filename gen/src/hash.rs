//! The open-addressing name table that `redpoll::commands::lookup` probes.
//!
//! The hash MUST stay identical to `hash` in `src/commands/lookup.rs` (the library cannot be a
//! dependency of its own generator); the library's test `every_name_resolves` catches a drift.

/// Multiplier of the hash (the 64-bit golden ratio).
const MUL: u64 = 0x9E37_79B9_7F4A_7C15;
/// Clears bit 5 of every byte: ASCII letters become upper case.
const CASE: u64 = 0xDFDF_DFDF_DFDF_DFDF;

/// log2 of the slot count.
pub const SLOT_BITS: u32 = 10;

/// Folds `bytes`, eight at a time, into `h`. Upper and lower case hash alike.
pub fn hash(mut h: u64, bytes: &[u8]) -> u64 {
    for chunk in bytes.chunks(8) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        h = (h ^ (u64::from_le_bytes(word) & CASE)).wrapping_mul(MUL);
    }
    h
}

/// The hash of a full name: `hash(seed, container)` continued with the subcommand.
pub fn hash_name(seed: u64, name: &str) -> u64 {
    match name.split_once(' ') {
        Some((container, sub)) => hash(hash(seed, container.as_bytes()), sub.as_bytes()),
        None => hash(seed, name.as_bytes()),
    }
}

fn slot_of(h: u64) -> usize {
    (h >> (64 - SLOT_BITS)) as usize
}

/// A built table: `slots[i]` is 0 (empty) or 1 + the index of a name.
pub struct Table {
    pub seed: u64,
    pub slots: Vec<u16>,
    /// The longest probe sequence any name needs (1 = found in its home slot).
    pub max_probes: usize,
}

/// Builds the table for `names`, trying a fixed series of seeds and keeping the one with the
/// shortest longest probe (then the fewest probes in total). Deterministic.
pub fn build(names: &[&str]) -> Result<Table, String> {
    let size = 1usize << SLOT_BITS;
    if names.len() * 2 > size {
        return Err(format!("{} names do not fit {size} slots at load <= 0.5", names.len()));
    }
    let mut best: Option<(usize, usize, Table)> = None;
    let mut state = 0x0123_4567_89AB_CDEFu64;
    for _ in 0..4096 {
        let seed = splitmix64(&mut state);
        let mut slots = vec![0u16; size];
        let (mut max, mut total) = (0, 0);
        for (index, name) in names.iter().enumerate() {
            let mut slot = slot_of(hash_name(seed, name));
            let mut probes = 1;
            while slots[slot] != 0 {
                slot = (slot + 1) & (size - 1);
                probes += 1;
            }
            slots[slot] = u16::try_from(index + 1).map_err(|_| "too many names")?;
            max = usize::max(max, probes);
            total += probes;
        }
        if best.as_ref().is_none_or(|(m, t, _)| (max, total) < (*m, *t)) {
            best = Some((max, total, Table { seed, slots, max_probes: max }));
        }
    }
    best.map(|(_, _, t)| t).ok_or_else(|| "no seed tried".to_string())
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_and_continued() {
        assert_eq!(hash(7, b"client"), hash(7, b"CLIENT"));
        assert_eq!(hash_name(7, "CLIENT SETNAME"), hash(hash(7, b"client"), b"setname"));
        let t = build(&["GET", "SET", "CLIENT", "CLIENT SETNAME"]).unwrap();
        assert_eq!(t.slots.iter().filter(|&&s| s != 0).count(), 4);
        assert_eq!(t.max_probes, 1);
    }
}
