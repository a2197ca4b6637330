//! `perf`: redpoll side by side with redis-rs, fred and redis-benchmark.
//!
//! `cargo run --release -p perf -- compare [--quick] [--rounds N] [--secs S] [--out DIR]
//! [--only TEXT]` starts its own `redis-server` (or uses `REDIS_URL`) and a TLS one for the
//! (e) rows (certificates generated at start), runs every scenario
//! for each client in turn (A B C … A B C …, several rounds), runs `redis-benchmark` on the
//! same shapes, times the RESP parsers alone, and prints Markdown tables (medians, min–max,
//! latency percentiles, client CPU per operation, the perf issue's targets as ratios). It
//! writes `summary.csv`, `rounds.csv`, `results.md` and SVG charts to `perf/report/` (`--quick`:
//! next to the binary, so CI never overwrites the committed report).

mod benchmark_tool;
mod clients;
mod machine;
mod measure;
mod output;
mod parsers;
mod pool;
mod pubsub;
mod report;
mod scenario;
mod svg;

/// The project's own `redis-server` launcher (free loopback port, no persistence, killed by
/// pid on drop), shared with the integration tests: only the files it needs.
#[allow(dead_code, unused_imports)]
#[path = "../../tests/support"]
mod support {
    mod certs;
    mod redis_server;
    mod resp;
    mod tempdir;

    pub use certs::Certs;
    pub use redis_server::RedisServer;
    pub use tempdir::TempDir;
}

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;

use clients::Env;
use measure::Window;
use report::{Results, Row};
use scenario::{ClientKind, Scenario, Transport};

const USAGE: &str =
    "usage: perf compare [--quick] [--rounds N] [--secs S] [--out DIR] [--only TEXT] [--clients A,B]

  --quick      1 round of short windows (a smoke test: under two minutes)
  --rounds N   rounds per scenario (default 7)
  --secs S     measured seconds per run (default 0.6; the warm-up is a fifth of it)
  --out DIR    where the report goes (default perf/report, with --quick next to the binary)
  --max-others C  repeat a run (up to twice) when other processes used more than C cores
               during it (default 0.5; the machine is shared), while the whole comparison
               still ends within 500 s (never with --quick)
  --only TEXT  only scenarios whose id contains TEXT (get_c64, set_batch1000, get_1MiB,
               tls_get_c8, tls, pubsub, pool, parse)
  --clients L  only these clients (redpoll_wait, redpoll_await, redis_blocking,
               redis_multiplexed, fred, redis_benchmark; pubsub also redis_async;
               pool also r2d2_redis, deadpool_redis, bb8_redis),
               comma-separated

REDIS_URL=redis://[user:password@]host:port[/db] uses that server instead of starting one
(redis-benchmark gets the password on its command line: use a throwaway one). The TLS rows (e) always
run against a TLS redis-server of the harness's own, with certificates generated at start.
Criterion benches: cargo bench -p perf --bench parsers; cargo bench --bench roundtrip";

/// What `compare` was asked to do.
#[derive(Debug, Clone)]
struct Options {
    quick: bool,
    rounds: usize,
    window: Window,
    parser_secs: f64,
    out: PathBuf,
    /// A run during which other processes used more cores than this is repeated.
    max_others: f64,
    /// Disturbed runs are repeated only while the whole comparison is still expected to end
    /// within this.
    time_limit: Duration,
    only: Option<String>,
    clients: Option<Vec<String>>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let quick = args.iter().any(|a| a == "--quick");
        let mut o = Options {
            quick,
            rounds: if quick { 1 } else { 7 },
            window: window(if quick { 0.15 } else { 0.6 }, quick),
            parser_secs: if quick { 0.05 } else { 0.25 },
            out: if quick {
                quick_out()
            } else {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("report")
            },
            max_others: 0.5,
            // A smoke test repeats nothing.
            time_limit: Duration::from_secs(if quick { 0 } else { 500 }),
            only: None,
            clients: None,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || it.next().cloned().ok_or_else(|| format!("{a} needs a value"));
            match a.as_str() {
                "--quick" => {}
                "--rounds" => o.rounds = value()?.parse().map_err(|_| "--rounds: a number")?,
                "--secs" => {
                    let s: f64 = value()?.parse().map_err(|_| "--secs: a number")?;
                    o.window = window(s, quick);
                }
                "--out" => o.out = PathBuf::from(value()?),
                "--only" => o.only = Some(value()?),
                "--max-others" => {
                    o.max_others = value()?.parse().map_err(|_| "--max-others: a number")?
                }
                "--clients" => {
                    o.clients = Some(value()?.split(',').map(|c| c.trim().to_owned()).collect())
                }
                other => return Err(format!("unknown option {other}")),
            }
        }
        if o.rounds == 0 {
            return Err("--rounds must be at least 1".into());
        }
        Ok(o)
    }
}

fn window(secs: f64, quick: bool) -> Window {
    let measure = Duration::from_secs_f64(secs.max(0.01));
    Window {
        warmup: measure / 5,
        measure,
        cap: if quick { Duration::from_secs(10) } else { Duration::from_secs(30) },
    }
}

/// `--quick` writes next to the binary (target/release/perf-report-quick).
fn quick_out() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("perf-report-quick")))
        .unwrap_or_else(|| std::env::temp_dir().join("perf-report-quick"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("compare") => match Options::parse(&args[1..]) {
            Ok(o) => {
                if let Err(e) = compare(&o) {
                    eprintln!("perf: {e}");
                    std::process::exit(1);
                }
            }
            Err(e) => {
                eprintln!("perf: {e}\n{USAGE}");
                std::process::exit(2);
            }
        },
        Some("-h" | "--help") | None => println!("{USAGE}"),
        Some(other) => {
            eprintln!("perf: unknown command {other}\n{USAGE}");
            std::process::exit(2);
        }
    }
}

/// The TLS server of the (e) rows, or why they are left out. Skipped (no certificates, no
/// server) when no TLS scenario was asked for.
fn tls_server(wanted: bool) -> Result<Option<machine::TlsServer>, String> {
    if !wanted {
        return Ok(None);
    }
    machine::TlsServer::start().map(Some)
}

fn value_of(size: usize) -> Bytes {
    (0..size).map(|i| b"abcdefghijklmnopqrstuvwxyz012345"[i % 32]).collect::<Vec<u8>>().into()
}

fn compare(o: &Options) -> Result<(), String> {
    let started = Instant::now();
    let machine = machine::describe();
    let server = machine::Server::start()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let wanted = |id: &str| o.only.as_ref().is_none_or(|t| id.contains(t.as_str()));
    let tls_wanted =
        scenario::all().iter().any(|s| s.transport == Transport::Tls && wanted(&s.id()));
    let (tls, tls_note) = match tls_server(tls_wanted) {
        Ok(t) => (t, None),
        Err(why) => (None, Some(why)),
    };
    let env = Env {
        url: server.url.clone(),
        server_pid: server.pid,
        tls: tls.as_ref().map(|t| clients::TlsEnv {
            url: t.url.clone(),
            server_pid: Some(t.pid),
            ca: t.ca.clone(),
        }),
        rt,
        window: o.window,
    };
    let bench = match (benchmark_tool::version(), &server.host_port) {
        (Ok(_), Some((host, port))) => Some(benchmark_tool::Target {
            host: host.clone(),
            port: *port,
            auth: machine::benchmark_auth_args(&server.url),
            tls: tls.as_ref().map(|t| ("127.0.0.1".to_owned(), t.port, t.ca.clone())),
        }),
        (Err(e), _) => {
            eprintln!("perf: {e}: its rows are left out");
            None
        }
        (_, None) => {
            eprintln!("perf: REDIS_URL is not redis://host:port: redis-benchmark is left out");
            None
        }
    };
    let scenarios: Vec<Scenario> = scenario::all()
        .into_iter()
        .filter(|s| s.transport == Transport::Tcp || env.tls.is_some())
        .filter(|s| wanted(&s.id()))
        .collect();
    let kinds: Vec<ClientKind> = ClientKind::ALL
        .into_iter()
        .filter(|k| *k != ClientKind::RedisBenchmark || bench.is_some())
        .filter(|k| o.clients.as_ref().is_none_or(|l| l.iter().any(|c| c == k.id())))
        .collect();
    let total = scenarios.len() * kinds.len() * o.rounds;
    let per_run = o.window.warmup + o.window.measure + Duration::from_millis(150);
    let pubsub_runs = if wanted(pubsub::ID) { pubsub::subs(o).len() * o.rounds } else { 0 };
    let pool_time = if wanted(pool::ID) { pool::estimate(o) } else { Duration::ZERO };
    eprintln!(
        "perf: {} scenarios × {} clients × {} rounds = {total} runs (and {pubsub_runs} pub/sub \
         runs), about {:.0} s; server: {}",
        scenarios.len(),
        kinds.len(),
        o.rounds,
        (per_run * total as u32 + pubsub_estimate(o, pubsub_runs) + pool_time).as_secs_f64(),
        server.description
    );
    match (&tls_note, &tls) {
        (Some(why), _) => eprintln!("perf: TLS rows left out: {why}"),
        (None, Some(t)) => eprintln!("perf: TLS server: {}", t.description),
        (None, None) => {}
    }

    // One connection per server, to store the value every GET reads.
    let mut setup_tcp = None;
    let mut setup_tls = None;
    let mut results = Results::default();
    let mut disturbed = Disturbed::default();
    disturbed.calibrate(&server.url);
    let mut n = 0;
    for sc in &scenarios {
        let value = value_of(sc.value_size);
        let slot = match sc.transport {
            Transport::Tcp => &mut setup_tcp,
            Transport::Tls => &mut setup_tls,
        };
        if slot.is_none() {
            let con = clients::redis_client(sc, &env)
                .and_then(|c| c.get_connection().map_err(|e| e.to_string()))
                .map_err(|e| format!("setup connection: {e}"))?;
            *slot = Some(con);
        }
        let setup = slot.as_mut().expect("opened above");
        redis::cmd("SET")
            .arg(scenario::KEY)
            .arg(&value[..])
            .query::<()>(setup)
            .map_err(|e| format!("setup SET: {e}"))?;
        for round in 0..o.rounds {
            for &kind in &kinds {
                n += 1;
                let rate = best_rate(&results, sc).unwrap_or(10_000.0);
                // The runs so far tell how long one really takes (setup, probes, big values).
                let so_far = started.elapsed() / n.max(1) as u32;
                let remaining = so_far.max(per_run) * (total - n) as u32
                    + pubsub_estimate(o, pubsub_runs)
                    + pool_time
                    + parsers_estimate(o);
                let run = || match (kind, &bench) {
                    (ClientKind::RedisBenchmark, Some(target)) => {
                        let secs = o.window.measure.as_secs_f64();
                        let req = benchmark_tool::requests_for(sc, rate, secs);
                        benchmark_tool::run(sc, target, req, env.server_pid(sc))
                    }
                    _ => clients::run(kind, sc, &env, &value),
                };
                let sample = guarded(o, started, remaining, &mut disturbed, run);
                progress(n, total, sc, kind, round, o.rounds, &sample);
                let row = results.row_mut(Row {
                    section: sc.group,
                    scenario: sc.id(),
                    label: sc.to_string(),
                    client_id: kind.id().into(),
                    client: kind.name().into(),
                    bytes_per_op: sc.payload().map(|b| b as f64),
                    samples: Vec::new(),
                    errors: Vec::new(),
                });
                match sample {
                    Ok(s) => row.samples.push(s),
                    Err(e) => row.errors.push(e),
                }
            }
        }
    }
    drop((setup_tcp, setup_tls));

    if pubsub_runs > 0 {
        pubsub::run_all(o, &env, started, &mut disturbed, &mut results);
    }
    if wanted(pool::ID) {
        pool::run_all(o, &env, started, &mut disturbed, &mut results);
    }
    if wanted("parse") {
        run_parsers(o, started, &mut disturbed, &mut results);
    }
    let elapsed = started.elapsed();
    let doc = output::document(
        &machine,
        &server.description,
        match (&tls_note, &tls) {
            (Some(why), _) => Some(Err(why.as_str())),
            (None, Some(t)) => Some(Ok(t.description.as_str())),
            (None, None) => None,
        },
        &results,
        elapsed,
        &disturbed,
        o,
    );
    println!("{doc}");
    output::write_all(&o.out, &doc, &results)
        .map_err(|e| format!("writing {}: {e}", o.out.display()))?;
    eprintln!("perf: done in {:.0} s; report in {}", elapsed.as_secs_f64(), o.out.display());
    Ok(())
}

/// The fastest rate any client reached on this scenario so far (sizes redis-benchmark's run).
fn best_rate(results: &Results, sc: &Scenario) -> Option<f64> {
    let id = sc.id();
    results
        .rows
        .iter()
        .filter(|r| r.scenario == id)
        .flat_map(|r| r.samples.iter().map(measure::Sample::ops_per_sec))
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
}

fn progress(
    n: usize,
    total: usize,
    sc: &Scenario,
    kind: ClientKind,
    round: usize,
    rounds: usize,
    sample: &Result<measure::Sample, String>,
) {
    let what = match sample {
        Ok(s) => format!(
            "{} ops/s, {} µs CPU/op (others {:.2} cores)",
            report::num(s.ops_per_sec()),
            s.client_cpu_us().map_or("–".into(), report::num),
            s.others_cores().unwrap_or(0.0)
        ),
        Err(e) => format!("FAILED: {e}"),
    };
    eprintln!("[{n:>3}/{total}] {sc} · {} · round {}/{rounds}: {what}", kind.name(), round + 1);
}

/// How long the pub/sub runs take (none when they are not asked for).
fn pubsub_estimate(o: &Options, runs: usize) -> Duration {
    if runs == 0 {
        Duration::ZERO
    } else {
        pubsub::estimate(o)
    }
}

/// How long the parser measurements take.
fn parsers_estimate(o: &Options) -> Duration {
    let n = parsers::shapes().len() * o.rounds * parsers::PARSERS.len();
    Duration::from_secs_f64(n as f64 * (o.parser_secs + 0.01))
}

/// Runs that other work disturbed: repeated, or kept because the retries ran out; and the
/// probes that tell: a fixed piece of CPU work, and 50 PINGs to the server on a connection of
/// its own, each compared with its fastest time seen.
#[derive(Default)]
pub struct Disturbed {
    pub repeated: usize,
    pub kept: usize,
    cpu_floor: Option<Duration>,
    ping_floor: Option<Duration>,
    ping: Option<redis::Connection>,
}

/// PINGs per round-trip probe.
const PROBE_PINGS: u32 = 50;

impl Disturbed {
    /// The best round trip seen by the probe, per PING.
    pub fn ping_floor_us(&self) -> Option<f64> {
        Some(self.ping_floor?.as_secs_f64() * 1e6 / f64::from(PROBE_PINGS))
    }

    /// Opens the probe connection and takes a few probes to learn the undisturbed speed.
    fn calibrate(&mut self, url: &str) {
        self.ping = redis::Client::open(url).and_then(|c| c.get_connection()).ok();
        for _ in 0..20 {
            self.probe();
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// One probe: how much slower than the fastest seen the machine is now (the worse of the
    /// CPU and the round-trip ratio).
    fn probe(&mut self) -> f64 {
        let ratio = |floor: &mut Option<Duration>, t: Duration| {
            let f = floor.map_or(t, |f| f.min(t));
            *floor = Some(f);
            t.as_secs_f64() / f.as_secs_f64().max(1e-9)
        };
        let cpu = ratio(&mut self.cpu_floor, measure::cpu_probe());
        let Some(con) = self.ping.as_mut() else { return cpu };
        let t = Instant::now();
        for _ in 0..PROBE_PINGS {
            if redis::cmd("PING").query::<String>(con).is_err() {
                self.ping = None;
                return cpu;
            }
        }
        cpu.max(ratio(&mut self.ping_floor, t.elapsed()))
    }
}

/// Attempts per run when other work disturbs it.
pub const ATTEMPTS: usize = 4;

/// A probe this much slower than the fastest seen marks the run disturbed.
pub const SLOW_PROBE: f64 = 1.5;

/// Runs `run`, again (up to `ATTEMPTS` in all, while the `remaining` runs still fit in the time
/// limit) while it was disturbed: other processes used more than `o.max_others` cores during
/// it, or a probe before or after it ran `SLOW_PROBE` times slower than its best.
fn guarded(
    o: &Options,
    started: Instant,
    remaining: Duration,
    stats: &mut Disturbed,
    mut run: impl FnMut() -> Result<measure::Sample, String>,
) -> Result<measure::Sample, String> {
    for attempt in 1.. {
        let before = stats.probe();
        let r = run();
        let after = stats.probe();
        let others = r.as_ref().ok().and_then(measure::Sample::others_cores).unwrap_or(0.0);
        let slow = before.max(after);
        if others <= o.max_others && slow <= SLOW_PROBE {
            return r;
        }
        if attempt >= ATTEMPTS || started.elapsed() + remaining > o.time_limit {
            stats.kept += 1;
            return r;
        }
        stats.repeated += 1;
        eprintln!(
            "      disturbed (other processes {others:.2} cores, probe {slow:.2}× its best): \
             repeating"
        );
        // Disturbances here come in spells of seconds: give this one time to pass.
        std::thread::sleep(Duration::from_millis(1000));
    }
    unreachable!("the loop returns")
}

fn run_parsers(o: &Options, started: Instant, disturbed: &mut Disturbed, results: &mut Results) {
    let shapes = parsers::shapes();
    let mut left = shapes.len() * o.rounds * parsers::PARSERS.len();
    for shape in &shapes {
        for round in 0..o.rounds {
            for name in parsers::PARSERS {
                left -= 1;
                let remaining = Duration::from_secs_f64(left as f64 * (o.parser_secs + 0.01));
                let sample = guarded(o, started, remaining, disturbed, || {
                    Ok(parsers::measure(name, shape, o.parser_secs))
                })
                .expect("parsers do not fail");
                eprintln!(
                    "[parse] {} · {name} · round {}/{}: {} frames/s (others {:.2} cores)",
                    shape.name,
                    round + 1,
                    o.rounds,
                    report::num(sample.ops_per_sec()),
                    sample.others_cores().unwrap_or(0.0)
                );
                let row = results.row_mut(Row {
                    section: "f",
                    scenario: format!("parse_{}", shape.name),
                    label: format!("(f) {}", shape.name),
                    client_id: name.into(),
                    client: name.into(),
                    bytes_per_op: Some(shape.wire.len() as f64 / shape.frames as f64),
                    samples: Vec::new(),
                    errors: Vec::new(),
                });
                row.samples.push(sample);
            }
        }
    }
}
