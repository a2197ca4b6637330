//! The simulation's tests: many seeds by default, one seed with `SIM_SEED`, and the seeds
//! that found bugs, kept as regressions.
#![cfg(test)]

use std::time::Instant;

use super::{replay, run_seed, Stats};

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// Runs `count` seeds from `first`; panics with the first failure's report. With
/// `SIM_KEEP_GOING` set, prints the first line of every failure and panics at the end.
fn run_seeds(first: u64, count: u64) -> Stats {
    let keep_going = std::env::var_os("SIM_KEEP_GOING").is_some();
    let mut total = Stats::default();
    let mut failed = 0;
    for seed in first..first + count {
        match run_seed(seed) {
            Ok(s) => total.add(&s),
            Err(report) if keep_going => {
                failed += 1;
                eprintln!("{}", report.lines().next().unwrap_or_default());
            }
            Err(report) => panic!("{report}"),
        }
    }
    assert_eq!(failed, 0, "{failed} of {count} seeds failed");
    total
}

/// `SIM_SEED=<n>`: that seed alone, with its trace. Otherwise `SIM_SEEDS` seeds (10,000 by
/// default) from `SIM_FIRST` (0).
#[test]
fn sim_seeds() {
    if let Some(seed) = env("SIM_SEED") {
        match run_seed(seed) {
            Ok(s) => eprintln!("seed {seed} passed: {s:?}"),
            Err(report) => panic!("{report}"),
        }
        return;
    }
    let count = env("SIM_SEEDS").unwrap_or(10_000);
    let first = env("SIM_FIRST").unwrap_or(0);
    let start = Instant::now();
    let total = run_seeds(first, count);
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "sim: {count} seeds from {first} in {secs:.2} s ({:.0} seeds/s): {total:?}",
        count as f64 / secs
    );
    if count >= 1_000 {
        // The run must have gone through the paths the invariants are about; a generator
        // change that stops reaching one of them would make the checks vacuous.
        let t = &total.tally;
        let reached = [
            ("successful replies", t.ok),
            ("maybe_executed failures", t.maybe_executed),
            ("failures before sending", t.not_executed),
            ("commands run although their caller got an error", t.executed_after_error),
            ("rejections by a full offline queue", t.rejected_queue_full),
            ("faults", total.faults),
            ("lost connections", total.lost),
            ("failed connects", total.connect_failed),
            ("LOADING/BUSY refusals", total.refusals),
            ("resends after a refusal", t.resent_after_refusal),
            ("refusals delivered", t.refusals_delivered),
            ("successes after a resend", t.ok_after_resend),
            ("blind resends of idempotent requests", t.blind_resends),
            ("requests run twice", t.executed_twice),
            ("delayed submissions", total.delayed_submits),
            ("requests submitted in chunks", total.chunked),
            ("held-back requests timed out", t.expired_held_back),
            ("requests a write stalled in", t.stuck_writes),
            ("groups answered whole", t.groups_ok),
            ("transactions whose EXEC ran", t.transactions_run),
            ("EXECs refused and delivered as answered", t.exec_refused),
            ("seeds with an exclusive connection", total.exclusive_seeds),
            ("steps of exclusive chains", total.chain_steps),
            ("transactions lost with their connection", t.tx_lost),
            ("requests abandoned at their deadline", t.abandoned),
            ("Resend::Never requests failed unwritten", t.never_failed_unwritten),
            ("exclusive connections handed to a new owner", total.owner_changes),
            ("clean sessions checked against the server", total.clean_checks),
            ("failed links checked to keep the session dirty", total.failed_link_checks),
        ];
        let p = &total.pubsub;
        let pubsub = [
            ("pub/sub seeds on RESP3", p.resp3_seeds),
            ("pub/sub seeds on RESP2 subscriber connections", p.resp2_seeds),
            ("messages delivered", p.messages),
            ("messages delivered to two sinks or more", p.fanned_out),
            ("resubscribed notices", p.resubscribed),
            ("subscribes refused", p.refused),
            ("sinks ended by a refused resubscribe", p.sinks_ended),
            ("subscribes failed", p.subscribe_failed),
            ("GETs answered beside pushes", p.gets_ok),
            ("GETs refused on a subscriber connection", p.gets_refused),
            ("non-pub/sub pushes", p.pushes),
            ("pub/sub connections lost", p.lost),
            ("ACL changes", p.revoked),
        ];
        for (what, n) in reached.into_iter().chain(pubsub) {
            assert!(n > 0, "no {what} in {count} seeds: {total:?}");
        }
    }
}

/// A seed replayed with the trace on gives the same outcome: the run is deterministic.
#[test]
fn sim_replay_is_deterministic() {
    for seed in [1, 2, 3] {
        let a = run_seed(seed).map(|s| (s.steps, s.virtual_ms, s.tally.ok));
        let b = run_seed(seed).map(|s| (s.steps, s.virtual_ms, s.tally.ok));
        assert_eq!(a, b, "{}", replay(seed));
    }
}
