//! mio tokens that name a slab slot and its generation, so an event for a reused slot is
//! recognised as stale.

use mio::Token;

/// The token of the waker that callers use to rouse the I/O thread.
pub(crate) const WAKER: Token = Token(usize::MAX);

/// Packs a slab index and its generation into one token (index in the low 32 bits).
pub(crate) fn encode(index: usize, generation: u32) -> Token {
    debug_assert!(index < u32::MAX as usize, "slab index beyond 32 bits");
    Token(((generation as u64) << 32 | index as u64) as usize)
}

/// Unpacks a token made by [`encode`].
pub(crate) fn decode(token: Token) -> (usize, u32) {
    let raw = token.0 as u64;
    ((raw & 0xffff_ffff) as usize, (raw >> 32) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_never_collides_with_the_waker() {
        for (i, g) in [(0, 0), (1, 7), (4_000_000, u32::MAX - 1)] {
            let t = encode(i, g);
            assert_ne!(t, WAKER);
            assert_eq!(decode(t), (i, g));
        }
    }
}
