//! The sans-IO connection core: setup steps, in-flight FIFO, groups, modes, resend policies,
//! offline queue, deadlines and reconnect backoff, and the bookkeeping of a client's set of
//! dedicated connections. No sockets, no threads, no clock: time arrives as a `now` argument
//! in milliseconds, so the whole state machine runs byte by byte in tests and simulations.

pub(crate) mod backoff;
pub(crate) mod handshake;
pub(crate) mod inflight;
pub(crate) mod outbuf;
pub(crate) mod pubsub;
pub(crate) mod session;
#[cfg(test)]
mod sim;
pub(crate) mod spares;
