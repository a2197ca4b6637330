//! Reconnect delays: exponential, capped, with jitter from a small seeded generator.

/// Exponential backoff: `base`, `2·base`, `4·base`, … capped at `max`, each delay multiplied
/// by a random factor in `[1 - jitter, 1 + jitter]` (then capped again).
///
/// The generator is a seeded xorshift, so a simulation replays the same delays for the same
/// seed; the reactor seeds it from the clock and the connection's address.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    base_ms: u64,
    max_ms: u64,
    jitter: f64,
    attempt: u32,
    rng: u64,
}

impl Backoff {
    pub(crate) fn new(base_ms: u64, max_ms: u64, jitter: f64, seed: u64) -> Self {
        Backoff {
            base_ms: base_ms.max(1),
            max_ms: max_ms.max(base_ms.max(1)),
            jitter: jitter.clamp(0.0, 1.0),
            attempt: 0,
            rng: mix(seed),
        }
    }

    /// The delay before the next attempt; each call doubles the next one up to the cap.
    pub(crate) fn next_delay(&mut self) -> u64 {
        let exp = self.base_ms.saturating_mul(1u64 << self.attempt.min(40)).min(self.max_ms);
        self.attempt = self.attempt.saturating_add(1);
        let unit = (self.next_random() >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        let factor = 1.0 + self.jitter * (2.0 * unit - 1.0);
        ((exp as f64 * factor).round() as u64).clamp(1, self.max_ms)
    }

    /// Starts again from `base` (after a connection that completed its handshake).
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }

    fn next_random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}

/// SplitMix64's finaliser: nearby seeds give unrelated states; never zero (xorshift's fixed
/// point).
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    if z == 0 {
        0x9E37_79B9_7F4A_7C15
    } else {
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_cap_and_vary() {
        let mut b = Backoff::new(100, 1_000, 0.25, 42);
        let d: Vec<u64> = (0..8).map(|_| b.next_delay()).collect();
        assert!((75..=125).contains(&d[0]), "{d:?}");
        assert!((150..=250).contains(&d[1]), "{d:?}");
        assert!((300..=500).contains(&d[2]), "{d:?}");
        assert!(d[4..].iter().all(|&x| (750..=1_000).contains(&x)), "{d:?}");
        let mut again = Backoff::new(100, 1_000, 0.25, 43);
        let other: Vec<u64> = (0..8).map(|_| again.next_delay()).collect();
        assert_ne!(d, other, "different seeds give different jitter");
        b.reset();
        assert!(b.next_delay() <= 125);
    }

    #[test]
    fn zero_jitter_is_exact() {
        let mut b = Backoff::new(10, 100, 0.0, 1);
        let d: Vec<u64> = (0..6).map(|_| b.next_delay()).collect();
        assert_eq!(d, [10, 20, 40, 80, 100, 100]);
    }
}
