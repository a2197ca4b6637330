//! The sans-IO connection core: handshake, in-flight FIFO, offline queue, deadlines and
//! reconnect backoff. No sockets, no threads, no clock: time arrives as a `now` argument in
//! milliseconds, so the whole state machine runs byte by byte in tests and simulations.

pub(crate) mod backoff;
pub(crate) mod handshake;
pub(crate) mod inflight;
pub(crate) mod outbuf;
pub(crate) mod session;
#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod sim;
