//! Deterministic simulation of the sans-IO session (issue 7).
//!
//! A seed draws a scenario ([`scenario`]): session settings, a simulated Redis
//! ([`server`]), a faulty network ([`net`]) and callers submitting requests with deadlines
//! at random times. The driver ([`driver`]) runs it in virtual time, jumping to the next
//! thing due and picking at random among things due at the same instant, and checks the
//! invariants ([`check`]) after every step and at the end. A failing seed replays exactly:
//! `SIM_SEED=<seed> cargo test --lib sim`, printing the last steps (`SIM_TRACE=<n>` for
//! more).
//!
//! How requests are told apart: the driver registers the address of every request's
//! `Bytes` and, when it writes from [`OutBuf::slices`](crate::proto::outbuf::OutBuf::slices),
//! looks up which request each slice belongs to (the out buffer hands out slices of the
//! callers' buffers, zero copy). The server thus knows which request every command it
//! executes came from, checks that a command is exactly that request's bytes (nothing
//! spliced, nothing resent from the middle), and records the reply it produced for it.
//! Every request also names its own keys (`k:<id>`, `c:<id>`, `l:<id>`, …).
//!
//! Pub/sub is partial: PUBLISH runs (against simulated external subscribers) and, in RESP3,
//! the server slips push frames between replies; SUBSCRIBE is not sent through the session,
//! which has no subscriber mode yet (RESP2 messages would be taken for replies, and in RESP3
//! the subscribe confirmation is itself a push the session drops).

mod check;
mod driver;
mod net;
mod regress;
mod rng;
mod scenario;
mod server;
mod tests;
mod trace;

use driver::{Sim, Stats};

/// Runs one seed; on failure, runs it again with the trace on and returns the report.
fn run_seed(seed: u64) -> Result<Stats, String> {
    let mut sim = Sim::new(seed, false);
    match sim.run() {
        Ok(stats) => Ok(stats),
        Err(_) => Err(replay(seed)),
    }
}

/// Runs one seed with the trace on and formats the outcome.
fn replay(seed: u64) -> String {
    let mut sim = Sim::new(seed, true);
    let outcome = sim.run();
    let scenario = sim.describe();
    match outcome {
        Ok(_) => format!("seed {seed} passed when replayed with the trace on (nondeterminism!)"),
        Err(e) => format!(
            "seed {seed} failed: {e}\nreplay: SIM_SEED={seed} cargo test --lib sim\n{scenario}\nlast steps:\n{}",
            sim.trace.render()
        ),
    }
}
