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
//! Resends: per seed `max_attempts` is 1..=4 and `retry_written` random; GET, ECHO and PING
//! are submitted as idempotent (they are read-only here), SET and INCR when the scenario
//! says so; the server refuses commands with `-LOADING`/`-BUSY` during random windows (a
//! refused command did not run); some requests go through `submit_at` with a delay; some
//! seeds make writes stall. The invariants ([`check`], and the driver's after each step):
//! - every request completes exactly once; once the session failed for good none is pending;
//! - a success comes before the deadline, carries the reply the server produced for the last
//!   run of that very request on the link the client reads, and successes come in the order
//!   the server answered them (in submission order among requests never delayed nor refused);
//! - a request written whole is written whole again only after the server refused that write
//!   and the client read the refusal, or blind (after a lost connection) when it is idempotent
//!   and `retry_written` is on; at most `max_attempts` times in all; never after it completed;
//! - the server runs a request at most once plus its blind resends (so a non-idempotent one,
//!   or one never written whole, at most once), and the INCR counters stay within successes +
//!   maybe-executed failures + blind resends;
//! - an error that is not `maybe_executed` comes only for a request every whole write of
//!   which was refused, and the server never runs it later;
//! - a refusal is delivered only once `max_attempts` whole writes were made or the next
//!   resend would pass the deadline;
//! - the request a write stalled in fails instead of being resent (maybe executed only if an
//!   earlier send may have run);
//! - a request held back (`submit_at`, refused) whose deadline passed fails at the timer
//!   without being sent, and none goes on the wire at `Ready` after its deadline (its deadline
//!   would reset the connection under the others);
//! - the offline queue never holds more than `queue_size`.
//!
//! Groups and modes (issue 12): a transaction is one atomic group (MULTI … EXEC/DISCARD)
//! and some bursts are pipelines (plain groups), each with one deadline and one policy
//! (`Resend::IfUnwritten`, or `Never`); a quarter of the seeds run an exclusive connection
//! whose owner submits WATCH, GET, MULTI, commands and EXEC one step at a time, each once the
//! one before was answered, and sends DISCARD or UNWATCH after a failed step; some requests
//! ask for `Resend::Never` or `OnTimeout::Abandon`. Each command of a group is its own
//! ledger entry, so every check above holds for it, and besides:
//! - a group resolves once, all or nothing: its reply is exactly its commands' replies, each
//!   the one the server produced for that command on the link the client reads, in order;
//! - a part of a group goes on the wire again only while nothing of the group can have run
//!   (no byte of a transaction's EXEC, nor of a pipeline's first command, written whole
//!   before), and a `Never` request on no second link at all;
//! - nobody outside a MULTI gets `+QUEUED` (another caller's commands never land inside a
//!   transaction), and nothing inside one is answered as if it ran outside it;
//! - an EXEC answered with results closed its own MULTI, on a link where its WATCH ran, and
//!   ran exactly its transaction's commands; an EXEC never meets `EXEC without MULTI` once its
//!   MULTI succeeded (it went to a new link);
//! - a transaction answered as not run (EXECABORT, a refused EXEC, DISCARD, or a failure
//!   without `maybe_executed`) ran none of its commands; one answered with results ran each
//!   exactly once.
//!
//! A refused EXEC (`-BUSY`) leaves the server inside MULTI: the session resets the
//! connection, and the transaction fails `maybe_executed` when commands were written behind
//! it (another EXEC among them would run the queue). A refusal inside a group is delivered in
//! its place, never resent alone.
//!
//! Pools (issue 15) lend an exclusive connection again only when its session says it is
//! clean, so that word is checked against the simulated server: whenever an exclusive
//! session reports no [`DirtyReason`](crate::proto::session::DirtyReason) while ready, its
//! link on the server is not inside MULTI, watches nothing and has no blocked command; and
//! once a link failed since the current owner took the connection (`Event::Lost`), the
//! session stays dirty until it is handed to a new owner (`Session::new_owner`, done when a
//! chain ends clean). The pool's own bookkeeping (`spares.rs`) has a property test of its
//! invariants.
//!
//! Pub/sub (issue 14) has a simulation of its own ([`pubsub`], run for every seed after the
//! session's): a RESP2 subscriber connection or a RESP3 one shared with GETs, sinks
//! subscribing and letting go at random, numbered messages, ACL changes; its invariants are
//! in that module. The session simulation's server still slips RESP3 pushes between replies
//! and runs PUBLISH against simulated external subscribers.

mod check;
mod driver;
mod net;
mod pubsub;
mod pubsub_server;
mod regress;
mod rng;
mod scenario;
mod server;
mod tests;
mod trace;
mod wire;

use driver::{Sim, Stats};
use pubsub::PubSubSim;

/// Runs one seed (the session simulation, then the pub/sub one); on failure, runs it again
/// with the trace on and returns the report.
fn run_seed(seed: u64) -> Result<Stats, String> {
    let mut sim = Sim::new(seed, false);
    let mut stats = match sim.run() {
        Ok(stats) => stats,
        Err(_) => return Err(replay(seed)),
    };
    let mut pubsub = PubSubSim::new(seed, false);
    match pubsub.run() {
        Ok(()) => {
            stats.pubsub = pubsub.stats;
            Ok(stats)
        }
        Err(_) => Err(replay_pubsub(seed)),
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

/// [`replay`] for the pub/sub simulation.
fn replay_pubsub(seed: u64) -> String {
    let mut sim = PubSubSim::new(seed, true);
    match sim.run() {
        Ok(()) => format!("pub/sub seed {seed} passed when replayed with the trace on (nondeterminism!)"),
        Err(e) => format!(
            "pub/sub seed {seed} failed: {e}\nreplay: SIM_SEED={seed} cargo test --lib sim\nlast steps:\n{}",
            sim.render_trace()
        ),
    }
}
