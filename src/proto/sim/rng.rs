//! The simulator's only source of randomness: a seeded xorshift, so a seed replays exactly.

/// A small, fast, seeded generator (xorshift64* over a SplitMix64-mixed seed).
#[derive(Debug, Clone)]
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
        }
    }

    /// Uniform in `lo..=hi`.
    pub(super) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// In `0..n`, skewed towards small values (uniform below a uniform bound).
    pub(super) fn skewed(&mut self, n: u64) -> u64 {
        let bound = self.below(n);
        self.below(bound + 1)
    }

    /// True with probability `percent` / 100.
    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A random element's index for a slice of `len` (`len` > 0).
    pub(super) fn pick(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// A split-off generator for an independent stream (network, server, callers), so adding
    /// draws to one part of the simulation does not reshuffle the others.
    pub(super) fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }
}
