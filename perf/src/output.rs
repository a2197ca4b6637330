//! The report document and the files of `perf/report/`: `results.md`, `summary.csv`,
//! `rounds.csv` and the SVG charts.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::report::{self, Results};
use crate::scenario::ClientKind;
use crate::svg::{self, Axes, Series};
use crate::{Disturbed, Options};

/// The charts: file name and what it shows.
const CHARTS: [(&str, &str); 6] = [
    ("throughput_vs_concurrency.svg", "GET ops/s vs concurrent callers, per client"),
    ("cpu_per_op_vs_concurrency.svg", "client CPU µs per GET vs concurrent callers"),
    ("latency_sequential.svg", "sequential GET latency percentiles"),
    ("latency_64_callers.svg", "GET latency percentiles with 64 callers"),
    ("big_values.svg", "MB/s with 1 MiB and 16 MiB values"),
    ("tls_throughput_vs_concurrency.svg", "GET ops/s vs concurrent callers over TLS, per client"),
];

/// The whole Markdown document (also printed on stdout). `tls`: the TLS server's description,
/// or why the (e) rows were left out; `None` when none were asked for.
pub fn document(
    machine: &[(String, String)],
    server: &str,
    tls: Option<Result<&str, &str>>,
    results: &Results,
    elapsed: Duration,
    disturbed: &Disturbed,
    o: &Options,
) -> String {
    let quick = o.quick;
    let mut d = String::new();
    let _ = writeln!(d, "# redpoll vs redis-rs, fred and redis-benchmark\n");
    if quick {
        d.push_str("**`--quick` smoke run: too few operations to compare anything.**\n\n");
    }
    let _ = writeln!(
        d,
        "Command: `cargo run --release -p perf -- compare{}` ({} rounds, {:.2} s measured per \
         run after a {:.2} s warm-up; run took {:.0} s). Server: {server}.\n",
        if quick { " --quick" } else { "" },
        o.rounds,
        o.window.measure.as_secs_f64(),
        o.window.warmup.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    d.push_str("| machine | |\n|---|---|\n");
    for (k, v) in machine {
        let _ = writeln!(d, "| {k} | {v} |");
    }
    let _ = writeln!(d, "| load average at end | {} |\n", crate::machine::load_average());
    let _ = writeln!(
        d,
        "The machine is shared (and so, it seems, is its host): a run was repeated when other \
         processes used more than {} cores during it (from /proc/stat, less this process and \
         the server) or when a probe before or after it (a fixed piece of CPU work; 50 PINGs \
         on a connection of its own) ran more than {}× slower than its best, up to {} attempts while the comparison could still end within {} s. \
         Repeated: {}; kept although disturbed (retries ran out): {}. Per-run figures, with \
         the other processes' share, are in `rounds.csv`. Best probe round trip (one PING on \
         a blocking connection): {} µs.\n",
        o.max_others,
        crate::SLOW_PROBE,
        crate::ATTEMPTS,
        o.time_limit.as_secs(),
        disturbed.repeated,
        disturbed.kept,
        disturbed.ping_floor_us().map_or("–".into(), report::num)
    );
    d.push_str(
        "Client CPU is getrusage(RUSAGE_SELF) user+sys of the harness process over the measured \
         window, divided by the commands completed (redis-benchmark: RUSAGE_CHILDREN around its \
         process). Server CPU is redis-server's utime+stime from /proc (10 ms ticks). Both \
         processes share the same cores: client CPU is taken from the server. Latency is per \
         command (per batch in (c)); redis-benchmark reports no p99.9. \"× best peer\" divides \
         redpoll's ops/s by the best of redis-rs blocking, redis-rs multiplexed and fred on the \
         same scenario.\n\n",
    );
    d.push_str("Callers: ");
    let kinds: Vec<String> =
        ClientKind::ALL.iter().map(|k| format!("{} = {}", k.name(), k.callers_are())).collect();
    d.push_str(&kinds.join("; "));
    d.push_str(".\n\n## Targets (ratios from this run)\n\n");
    d.push_str(
        "Each target twice: from the medians over the rounds, and from each client's best \
         round (highest ops/s, lowest latency and CPU/op), which is the least disturbed \
         measurement on a shared machine.\n\n",
    );
    d.push_str(&report::targets_markdown(results));
    d.push_str("\n## Results\n\n");
    d.push_str(&report::markdown(results));
    d.push_str(&crate::pubsub::markdown(results));
    d.push_str(&crate::pool::markdown(results));
    match tls {
        Some(Err(why)) => {
            let _ = writeln!(d, "### (e) TLS\n\nThe TLS rows were left out: {why}\n");
        }
        Some(Ok(server)) => {
            let _ = writeln!(
                d,
                "TLS server of (e): {server}. Every Rust client uses rustls 0.23 with the ring \
                 provider and trusts only the generated CA; redis-benchmark uses OpenSSL \
                 (`--tls --cacert`).\n\n{}",
                report::tls_markdown(results)
            );
        }
        None => {}
    }
    d.push_str("## Charts\n\n");
    for (file, what) in CHARTS {
        let _ = writeln!(d, "- [{what}]({file})");
    }
    d
}

/// Writes the document, the CSVs and the charts into `dir`.
pub fn write_all(dir: &Path, doc: &str, results: &Results) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("results.md"), doc)?;
    std::fs::write(dir.join("summary.csv"), report::summary_csv(results))?;
    std::fs::write(dir.join("rounds.csv"), report::rounds_csv(results))?;
    for (file, svg) in charts(results) {
        std::fs::write(dir.join(file), svg)?;
    }
    Ok(())
}

fn charts(results: &Results) -> Vec<(&'static str, String)> {
    let callers = ["1", "8", "64", "256"];
    let cats: Vec<String> = callers.iter().map(|c| c.to_string()).collect();
    let by_callers =
        |prefix: &str, f: &dyn Fn(&report::Summary) -> Option<f64>, ranges: bool| -> Vec<Series> {
            ClientKind::ALL
                .iter()
                .map(|k| {
                    let sums: Vec<_> = callers
                        .iter()
                        .map(|c| results.get(&format!("{prefix}get_c{c}"), k.id()))
                        .collect();
                    Series {
                        name: k.name().into(),
                        values: sums.iter().map(|s| s.as_ref().and_then(f)).collect(),
                        ranges: sums
                            .iter()
                            .map(|s| s.filter(|_| ranges).map(|s| (s.ops_min, s.ops_max)))
                            .collect(),
                    }
                })
                .filter(|s| s.values.iter().any(Option::is_some))
                .collect()
        };
    let axes = |title, y_label, categories, log_y| {
        Axes {
        title,
        x_label: "concurrent callers (one shared client; redis-rs blocking and redis-benchmark: one connection each)",
        y_label,
        categories,
        log_y,
    }
    };
    let percentiles: Vec<String> = ["p50", "p99", "p99.9"].iter().map(|s| s.to_string()).collect();
    let latency = |sc: &str| -> Vec<Series> {
        ClientKind::ALL
            .iter()
            .filter_map(|k| {
                let s = results.get(sc, k.id())?;
                Some(Series {
                    name: k.name().into(),
                    values: vec![s.p50, s.p99, s.p999],
                    ranges: Vec::new(),
                })
            })
            .collect()
    };
    let big: Vec<String> =
        ["get_1MiB", "set_1MiB", "get_16MiB", "set_16MiB"].iter().map(|s| s.to_string()).collect();
    let big_series: Vec<Series> = ClientKind::ALL
        .iter()
        .map(|k| Series {
            name: k.name().into(),
            values: big.iter().map(|sc| results.get(sc, k.id()).and_then(|s| s.mbps)).collect(),
            ranges: Vec::new(),
        })
        .filter(|s| s.values.iter().any(Option::is_some))
        .collect();
    vec![
        (
            CHARTS[0].0,
            svg::line_chart(
                &axes(
                    "GET throughput vs concurrency (median, min–max whiskers)",
                    "ops/s",
                    &cats,
                    false,
                ),
                &by_callers("", &|s| Some(s.ops), true),
            ),
        ),
        (
            CHARTS[1].0,
            svg::line_chart(
                &axes("Client CPU per GET vs concurrency", "client CPU µs/op", &cats, false),
                &by_callers("", &|s| s.cpu_us, false),
            ),
        ),
        (
            CHARTS[2].0,
            svg::bar_chart(
                &Axes {
                    title: "Sequential GET latency (one caller)",
                    x_label: "percentile",
                    y_label: "µs",
                    categories: &percentiles,
                    log_y: true,
                },
                &latency("get_c1"),
            ),
        ),
        (
            CHARTS[3].0,
            svg::bar_chart(
                &Axes {
                    title: "GET latency with 64 concurrent callers",
                    x_label: "percentile",
                    y_label: "µs",
                    categories: &percentiles,
                    log_y: true,
                },
                &latency("get_c64"),
            ),
        ),
        (
            CHARTS[4].0,
            svg::bar_chart(
                &Axes {
                    title: "Big values, one caller",
                    x_label: "scenario",
                    y_label: "MB/s",
                    categories: &big,
                    log_y: false,
                },
                &big_series,
            ),
        ),
        (
            CHARTS[5].0,
            svg::line_chart(
                &axes(
                    "GET throughput vs concurrency over TLS (median, min–max whiskers)",
                    "ops/s",
                    &cats,
                    false,
                ),
                &by_callers("tls_", &|s| Some(s.ops), true),
            ),
        ),
    ]
}
