//! `perf`: redpoll side by side with redis-rs, fred and redis-benchmark.
//!
//! `cargo run --release -p perf -- compare [--quick] [--rounds N] [--secs S] [--out DIR]
//! [--only TEXT]` starts its own `redis-server` (or uses `REDIS_URL`), runs every scenario
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
mod report;
mod scenario;
mod svg;

/// The project's own `redis-server` launcher (free loopback port, no persistence, killed by
/// pid on drop), shared with the integration tests: only the files it needs.
#[allow(dead_code, unused_imports)]
#[path = "../../tests/support"]
mod support {
    mod redis_server;
    mod resp;
    mod tempdir;

    pub use redis_server::RedisServer;
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
  --rounds N   rounds per scenario (default 5)
  --secs S     measured seconds per run (default 1.0; the warm-up is a fifth of it)
  --out DIR    where the report goes (default perf/report, with --quick next to the binary)
  --only TEXT  only scenarios whose id contains TEXT (get_c64, set_batch1000, get_1MiB, parse)
  --clients L  only these clients (redpoll_wait, redpoll_await, redis_blocking,
               redis_multiplexed, fred, redis_benchmark), comma-separated

REDIS_URL=redis://host:port uses that server instead of starting one.
Criterion benches: cargo bench -p perf --bench parsers; cargo bench --bench roundtrip";

/// What `compare` was asked to do.
#[derive(Debug, Clone)]
struct Options {
    quick: bool,
    rounds: usize,
    window: Window,
    parser_secs: f64,
    out: PathBuf,
    only: Option<String>,
    clients: Option<Vec<String>>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let quick = args.iter().any(|a| a == "--quick");
        let mut o = Options {
            quick,
            rounds: if quick { 1 } else { 5 },
            window: window(if quick { 0.15 } else { 1.0 }, quick),
            parser_secs: if quick { 0.05 } else { 0.4 },
            out: if quick {
                quick_out()
            } else {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("report")
            },
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

/// Why the TLS rows cannot run in this build, or `None` once they can.
///
/// TLS lands on another branch. When `Client::open("rediss://…")` stops failing with
/// `Error::Tls`, the rows still need: a TLS `redis-server` (tests/support's
/// `RedisServer::builder().tls(..)` with generated certificates), the peers' TLS features
/// (`redis` "tokio-rustls-comp", fred "enable-rustls-ring") and redis-benchmark's `--tls`;
/// until then this keeps saying so instead of inventing rows.
fn tls_unavailable() -> Option<String> {
    match redpoll::Client::open("rediss://127.0.0.1:1") {
        Err(redpoll::Error::Tls(msg)) => Some(format!("redpoll: {msg}")),
        Err(e) => Some(format!("redpoll: {e}")),
        Ok(_) => Some(
            "redpoll opens rediss:// now, but this harness does not yet start a TLS server \
             or enable the peers' TLS features (see perf/src/main.rs, tls_unavailable)"
                .into(),
        ),
    }
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
    let env = Env { url: server.url.clone(), server_pid: server.pid, rt, window: o.window };
    let bench = match (benchmark_tool::version(), &server.host_port) {
        (Ok(_), Some((host, port))) => {
            Some(benchmark_tool::Target { host: host.clone(), port: *port })
        }
        (Err(e), _) => {
            eprintln!("perf: {e}: its rows are left out");
            None
        }
        (_, None) => {
            eprintln!("perf: REDIS_URL is not redis://host:port: redis-benchmark is left out");
            None
        }
    };
    let tls_note = tls_unavailable();
    let wanted = |id: &str| o.only.as_ref().is_none_or(|t| id.contains(t.as_str()));
    let scenarios: Vec<Scenario> = scenario::all()
        .into_iter()
        .filter(|s| s.transport == Transport::Tcp || tls_note.is_none())
        .filter(|s| wanted(&s.id()))
        .collect();
    let kinds: Vec<ClientKind> = ClientKind::ALL
        .into_iter()
        .filter(|k| *k != ClientKind::RedisBenchmark || bench.is_some())
        .filter(|k| o.clients.as_ref().is_none_or(|l| l.iter().any(|c| c == k.id())))
        .collect();
    let total = scenarios.len() * kinds.len() * o.rounds;
    let per_run = o.window.warmup + o.window.measure + Duration::from_millis(150);
    eprintln!(
        "perf: {} scenarios × {} clients × {} rounds = {total} runs, about {:.0} s; server: {}",
        scenarios.len(),
        kinds.len(),
        o.rounds,
        (per_run * total as u32).as_secs_f64(),
        server.description
    );
    if let Some(why) = &tls_note {
        eprintln!("perf: TLS: not available in this build ({why})");
    }

    let mut setup = redis::Client::open(server.url.as_str())
        .and_then(|c| c.get_connection())
        .map_err(|e| format!("setup connection: {e}"))?;
    let mut results = Results::default();
    let mut n = 0;
    for sc in &scenarios {
        let value = value_of(sc.value_size);
        redis::cmd("SET")
            .arg(scenario::KEY)
            .arg(&value[..])
            .query::<()>(&mut setup)
            .map_err(|e| format!("setup SET: {e}"))?;
        for round in 0..o.rounds {
            for &kind in &kinds {
                n += 1;
                let sample = match (kind, &bench) {
                    (ClientKind::RedisBenchmark, Some(target)) => {
                        let rate = best_rate(&results, sc).unwrap_or(10_000.0);
                        let req =
                            benchmark_tool::requests_for(sc, rate, o.window.measure.as_secs_f64());
                        benchmark_tool::run(sc, target, req, server.pid)
                    }
                    _ => clients::run(kind, sc, &env, &value),
                };
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
    drop(setup);

    if wanted("parse") {
        run_parsers(o, &mut results);
    }
    let elapsed = started.elapsed();
    let doc = output::document(
        o.quick,
        &machine,
        &server.description,
        &results,
        tls_note.as_deref(),
        elapsed,
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
            "{} ops/s, {} µs CPU/op",
            report::num(s.ops_per_sec()),
            s.client_cpu_us().map_or("–".into(), report::num)
        ),
        Err(e) => format!("FAILED: {e}"),
    };
    eprintln!("[{n:>3}/{total}] {sc} · {} · round {}/{rounds}: {what}", kind.name(), round + 1);
}

fn run_parsers(o: &Options, results: &mut Results) {
    let shapes = parsers::shapes();
    for shape in &shapes {
        for round in 0..o.rounds {
            for name in parsers::PARSERS {
                let sample = parsers::measure(name, shape, o.parser_secs);
                eprintln!(
                    "[parse] {} · {name} · round {}/{}: {} frames/s",
                    shape.name,
                    round + 1,
                    o.rounds,
                    report::num(sample.ops_per_sec())
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
