//! Timers for the I/O thread: a hierarchical hashed timer wheel for request deadlines.
//!
//! Pure data structure (no clock, no threads): time is `u64` milliseconds passed in by the
//! reactor. Insert and cancel are O(1) and allocation-free in steady state, because most
//! requests complete before their deadline and cancel is the hot path. See [`Wheel`] for the
//! guarantees and the firing order.

mod geometry;
mod wheel;

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;

pub use wheel::{TimerKey, Wheel};
