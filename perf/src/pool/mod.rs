//! (h) Pools: acquire + GET + release, 64 callers sharing a pool of [`POOL_SIZE`]
//! connections, for redpoll's `Pool` (64 threads calling `.wait()`, and 64 tokio tasks
//! calling `.await`) beside the pools redis-rs users use: r2d2 (threads), deadpool-redis and
//! bb8-redis (tokio tasks). One operation is the whole cycle: take a connection (waiting for
//! one when all are lent), GET the 16 B key on it, give it back. Every pool is filled to its
//! size during the warm-up; windows, rounds and CPU accounting are those of the other
//! sections (`measure::drive`).

mod peers;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clients::Env;
use crate::measure::{self, Control, Sample};
use crate::report::{self, Results, Row};
use crate::{timed_loop, Disturbed, Options};

/// The scenario's id (`--only pool`) and report section.
pub const ID: &str = "pool";
const SECTION: &str = "h";
/// Callers (threads or tasks) per run.
pub const CALLERS: usize = 64;
/// Connections per pool, for every pool.
pub const POOL_SIZE: usize = 16;
const KEY: &str = "perf:pool";
/// How long one acquire may wait before the run fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The pools compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    RedpollWait,
    RedpollAwait,
    R2d2,
    Deadpool,
    Bb8,
}

impl PoolKind {
    pub const ALL: [PoolKind; 5] = [
        PoolKind::RedpollWait,
        PoolKind::RedpollAwait,
        PoolKind::R2d2,
        PoolKind::Deadpool,
        PoolKind::Bb8,
    ];

    /// The `--clients` and CSV identifier.
    pub fn id(self) -> &'static str {
        match self {
            PoolKind::RedpollWait => "redpoll_wait",
            PoolKind::RedpollAwait => "redpoll_await",
            PoolKind::R2d2 => "r2d2_redis",
            PoolKind::Deadpool => "deadpool_redis",
            PoolKind::Bb8 => "bb8_redis",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PoolKind::RedpollWait => "redpoll Pool, 64 threads .wait()",
            PoolKind::RedpollAwait => "redpoll Pool, 64 tasks .await",
            PoolKind::R2d2 => "r2d2 + redis-rs Connection, 64 threads",
            PoolKind::Deadpool => "deadpool-redis, 64 tasks",
            PoolKind::Bb8 => "bb8-redis, 64 tasks",
        }
    }

    fn threads(self) -> bool {
        matches!(self, PoolKind::RedpollWait | PoolKind::R2d2)
    }
}

/// The pools this run compares (`--clients` filters them).
pub fn kinds(o: &Options) -> Vec<PoolKind> {
    PoolKind::ALL
        .into_iter()
        .filter(|k| o.clients.as_ref().is_none_or(|l| l.iter().any(|c| c == k.id())))
        .collect()
}

/// A rough time for the section.
pub fn estimate(o: &Options) -> Duration {
    let per_run = o.window.warmup + o.window.measure + Duration::from_millis(400);
    per_run * (kinds(o).len() * o.rounds) as u32
}

fn err<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: {e}")
}

/// One run of `kind`: its pool built and filled, `CALLERS` callers cycling.
fn run_one(kind: PoolKind, env: &Env) -> Result<Sample, String> {
    let ctl = Arc::new(Control::new(CALLERS, 1));
    if kind.threads() {
        let op = peers::thread_op(kind, &env.url)?;
        let (w, results) = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..CALLERS)
                .map(|_| {
                    let (ctl, op) = (&ctl, &op);
                    scope.spawn(move || {
                        let r = (|| Ok(timed_loop!(**ctl, op()?)))();
                        if r.is_err() {
                            ctl.stop();
                        }
                        r
                    })
                })
                .collect();
            let w = measure::drive(&ctl, &env.window, env.server_pid);
            let results: Vec<_> = handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("a caller thread panicked".into())))
                .collect();
            (w, results)
        });
        return measure::collect(w, 1, results);
    }
    let op = env.rt.block_on(peers::task_op(kind, &env.url))?;
    let handles: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (ctl, op) = (ctl.clone(), op.clone());
            env.rt.spawn(async move {
                let r = async {
                    let mut lat: Vec<u64> = Vec::with_capacity(1024);
                    ctl.ready();
                    while !ctl.stopped() {
                        let counted = ctl.measuring();
                        let t0 = Instant::now();
                        op.run().await?;
                        if counted {
                            lat.push(t0.elapsed().as_nanos() as u64);
                            ctl.count();
                        }
                    }
                    Ok::<_, String>(lat)
                }
                .await;
                if r.is_err() {
                    ctl.stop();
                }
                r
            })
        })
        .collect();
    let w = measure::drive(&ctl, &env.window, env.server_pid);
    let results = env.rt.block_on(async {
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            out.push(h.await.unwrap_or_else(|e| Err(format!("a caller task failed: {e}"))));
        }
        out
    });
    measure::collect(w, 1, results)
}

/// Runs every pool, rounds interleaved, into `results`.
pub fn run_all(
    o: &Options,
    env: &Env,
    started: Instant,
    disturbed: &mut Disturbed,
    results: &mut Results,
) {
    let kinds = kinds(o);
    let label =
        format!("(h) acquire + GET 16 B + release, {CALLERS} callers, pools of {POOL_SIZE}");
    let setup = crate::pubsub::redis_client(&env.url)
        .and_then(|c| c.get_connection().map_err(err("setup")))
        .and_then(|mut con| {
            redis::cmd("SET")
                .arg(KEY)
                .arg(&crate::value_of(16)[..])
                .query::<()>(&mut con)
                .map_err(err("setup SET"))
        });
    if let Err(e) = setup {
        for k in &kinds {
            push(results, &label, *k, Err(e.clone()));
        }
        return;
    }
    let total = kinds.len() * o.rounds;
    let section_start = Instant::now();
    let mut n = 0;
    for round in 0..o.rounds {
        for &kind in &kinds {
            n += 1;
            let per_run = section_start.elapsed() / n as u32;
            let remaining = per_run.max(Duration::from_millis(500)) * (total - n) as u32
                + crate::parsers_estimate(o);
            let sample = crate::guarded(o, started, remaining, disturbed, || run_one(kind, env));
            let what = match &sample {
                Ok(s) => format!(
                    "{} cycles/s, p99 {} µs, {} µs CPU/cycle",
                    report::num(s.ops_per_sec()),
                    s.latency.p99.map_or("–".into(), report::num),
                    s.client_cpu_us().map_or("–".into(), report::num),
                ),
                Err(e) => format!("FAILED: {e}"),
            };
            eprintln!(
                "[pool {n:>2}/{total}] {} · round {}/{}: {what}",
                kind.name(),
                round + 1,
                o.rounds
            );
            push(results, &label, kind, sample);
        }
    }
}

fn push(results: &mut Results, label: &str, kind: PoolKind, sample: Result<Sample, String>) {
    let row = results.row_mut(Row {
        section: SECTION,
        scenario: ID.into(),
        label: label.into(),
        client_id: kind.id().into(),
        client: kind.name().into(),
        bytes_per_op: None,
        samples: Vec::new(),
        errors: Vec::new(),
    });
    match sample {
        Ok(s) => row.samples.push(s),
        Err(e) => row.errors.push(e),
    }
}

/// The section's table: cycles/s, ratios to both redpoll rows, latency, CPU per cycle.
pub fn markdown(results: &Results) -> String {
    let rows: Vec<&Row> = results.rows.iter().filter(|r| r.section == SECTION).collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "### (h) Pools: acquire + GET + release\n\n\
         {CALLERS} callers share a pool of {POOL_SIZE} connections; one operation is a whole \
         cycle (take a connection, waiting when all are lent; GET a 16 B value on it; give it \
         back). Threads for redpoll `.wait()` and r2d2, tokio tasks on the harness's runtime \
         for redpoll `.await`, deadpool-redis and bb8-redis (their defaults otherwise: bb8 and \
         deadpool check nothing on checkout here, r2d2 `test_on_check_out(false)`, redpoll \
         `health_check_after(None)`, so no pool pays for a PING). \"× redpoll\" = that redpoll \
         row's cycles/s ÷ this row's.\n\n\
         | scenario | client | cycles/s (median) | min–max | × redpoll .wait() | \
         × redpoll .await | p50 µs | p99 µs | p99.9 µs | client CPU µs/cycle | server CPU µs/cycle |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    );
    let opt = |x: Option<f64>| x.map_or_else(|| "–".into(), report::num);
    let redpoll = |id: &str| results.get(ID, id).map(|s| s.ops);
    let (wait, await_) =
        (redpoll(PoolKind::RedpollWait.id()), redpoll(PoolKind::RedpollAwait.id()));
    for r in rows {
        let Some(s) = r.summary() else {
            let why = r.errors.first().map(String::as_str).unwrap_or("no sample");
            let _ = writeln!(out, "| {} | {} | failed: {why} |||||||||", r.label, r.client);
            continue;
        };
        let ratio = |base: Option<f64>| match base {
            Some(b) if s.ops > 0.0 => format!("{:.2}×", b / s.ops),
            _ => "–".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}–{} | {} | {} | {} | {} | {} | {} | {} |",
            r.label,
            r.client,
            report::num(s.ops),
            report::num(s.ops_min),
            report::num(s.ops_max),
            ratio(wait),
            ratio(await_),
            opt(s.p50),
            opt(s.p99),
            opt(s.p999),
            opt(s.cpu_us),
            opt(s.server_cpu_us),
        );
        if !r.errors.is_empty() {
            let _ =
                writeln!(out, "| | ({} failed rounds: {}) |||||||||", r.errors.len(), r.errors[0]);
        }
    }
    out.push('\n');
    out
}
