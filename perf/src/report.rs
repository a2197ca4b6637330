//! Results: per (scenario, client) the samples of every round, their medians and min–max,
//! the Markdown tables, the CSV files and the targets of the perf issue as ratios.

use std::fmt::Write as _;

use crate::measure::Sample;
use crate::scenario::ClientKind;

/// Every round of one client on one scenario.
#[derive(Debug, Clone)]
pub struct Row {
    /// Report section: "a" … "d", "f".
    pub section: &'static str,
    pub scenario: String,
    pub label: String,
    pub client_id: String,
    pub client: String,
    /// Payload bytes per operation, for MB/s.
    pub bytes_per_op: Option<f64>,
    pub samples: Vec<Sample>,
    pub errors: Vec<String>,
}

/// Medians over the rounds (and the min–max of ops/s).
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub rounds: usize,
    pub ops: f64,
    pub ops_min: f64,
    pub ops_max: f64,
    pub mbps: Option<f64>,
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub p999: Option<f64>,
    pub cpu_us: Option<f64>,
    pub server_cpu_us: Option<f64>,
}

/// The median of the present values.
pub fn median(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().flatten().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 })
}

/// Which round statistic a target uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Medians over the rounds.
    Median,
    /// Each client's best round (highest ops/s; lowest latency and CPU/op): the machine at its
    /// least disturbed.
    Best,
}

fn best(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    values.into_iter().flatten().filter(|x| x.is_finite()).reduce(f64::min)
}

impl Row {
    /// The summary by the chosen statistic.
    pub fn pick(&self, pick: Pick) -> Option<Summary> {
        let m = self.summary()?;
        if pick == Pick::Median {
            return Some(m);
        }
        let s = &self.samples;
        Some(Summary {
            ops: m.ops_max,
            mbps: self.bytes_per_op.map(|b| m.ops_max * b / 1e6),
            p50: best(s.iter().map(|x| x.latency.p50)),
            p99: best(s.iter().map(|x| x.latency.p99)),
            p999: best(s.iter().map(|x| x.latency.p999)),
            cpu_us: best(s.iter().map(Sample::client_cpu_us)),
            server_cpu_us: best(s.iter().map(Sample::server_cpu_us)),
            ..m
        })
    }

    pub fn summary(&self) -> Option<Summary> {
        let s = &self.samples;
        if s.is_empty() {
            return None;
        }
        let ops: Vec<f64> = s.iter().map(Sample::ops_per_sec).collect();
        let med = median(ops.iter().map(|&x| Some(x)))?;
        Some(Summary {
            rounds: s.len(),
            ops: med,
            ops_min: ops.iter().copied().fold(f64::INFINITY, f64::min),
            ops_max: ops.iter().copied().fold(0.0, f64::max),
            mbps: self.bytes_per_op.map(|b| med * b / 1e6),
            p50: median(s.iter().map(|x| x.latency.p50)),
            p99: median(s.iter().map(|x| x.latency.p99)),
            p999: median(s.iter().map(|x| x.latency.p999)),
            cpu_us: median(s.iter().map(Sample::client_cpu_us)),
            server_cpu_us: median(s.iter().map(Sample::server_cpu_us)),
        })
    }
}

/// All rows of a comparison.
#[derive(Debug, Default)]
pub struct Results {
    pub rows: Vec<Row>,
    /// Per-run figures a section reports besides its samples (the pub/sub publisher's rate).
    pub side: Vec<Side>,
    /// Notes a section prints under its table (section, text).
    pub notes: Vec<(&'static str, String)>,
}

/// One figure of one run, besides its sample.
#[derive(Debug, Clone)]
pub struct Side {
    pub scenario: String,
    pub client_id: String,
    pub what: &'static str,
    pub value: f64,
}

impl Results {
    pub fn row_mut(&mut self, template: Row) -> &mut Row {
        let i = match self
            .rows
            .iter()
            .position(|r| r.scenario == template.scenario && r.client_id == template.client_id)
        {
            Some(i) => i,
            None => {
                self.rows.push(template);
                self.rows.len() - 1
            }
        };
        &mut self.rows[i]
    }

    /// The median over the runs of one side figure.
    pub fn side_median(&self, scenario: &str, client_id: &str, what: &str) -> Option<f64> {
        median(
            self.side
                .iter()
                .filter(|s| s.scenario == scenario && s.client_id == client_id && s.what == what)
                .map(|s| Some(s.value)),
        )
    }

    pub fn get(&self, scenario: &str, client_id: &str) -> Option<Summary> {
        self.get_by(scenario, client_id, Pick::Median)
    }

    pub fn get_by(&self, scenario: &str, client_id: &str, pick: Pick) -> Option<Summary> {
        self.rows
            .iter()
            .find(|r| r.scenario == scenario && r.client_id == client_id)
            .and_then(|r| r.pick(pick))
    }

    /// The best ops/s among the Rust peers on a scenario (not redpoll, not redis-benchmark).
    fn best_peer(&self, scenario: &str, pick: Pick) -> Option<(String, Summary)> {
        self.rows
            .iter()
            .filter(|r| r.scenario == scenario && is_peer(&r.client_id))
            .filter_map(|r| r.pick(pick).map(|s| (r.client.clone(), s)))
            .max_by(|a, b| a.1.ops.total_cmp(&b.1.ops))
    }
}

fn is_peer(client_id: &str) -> bool {
    matches!(client_id, "redis_blocking" | "redis_multiplexed" | "fred")
}

fn is_redpoll(client_id: &str) -> bool {
    client_id.starts_with("redpoll")
}

/// `12 345`, `1.23`, `0.0123`: three significant figures, thousands grouped.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    if x.abs() >= 1000.0 {
        let s = format!("{:.0}", x);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 && c.is_ascii_digit() {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else if x.abs() >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn opt(x: Option<f64>) -> String {
    x.map(num).unwrap_or_else(|| "–".into())
}

const SECTIONS: [(&str, &str); 6] = [
    ("a", "(a) Sequential commands on one connection"),
    ("b", "(b) Concurrent callers sharing one client (GET, 16 B)"),
    ("c", "(c) Batches of 1,000 SETs (latency is per batch)"),
    ("d", "(d) Big values, one caller"),
    ("e", "(e) TLS: (a) and (b) over TLS"),
    ("f", "(f) RESP parsers alone, in process (ops = frames; CPU µs/op = µs per frame; × best peer: redpoll vs the faster of redis and redis_protocol_bytes, which also build values; redpoll_scan vs redis_protocol_range, which also only delimits)"),
];

/// The Markdown tables of every section.
pub fn markdown(results: &Results) -> String {
    let mut out = String::new();
    for (section, title) in SECTIONS {
        let rows: Vec<&Row> = results.rows.iter().filter(|r| r.section == section).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title}\n");
        out.push_str(
            "| scenario | client | ops/s (median) | min–max | × best peer | MB/s | p50 µs | \
             p99 µs | p99.9 µs | client CPU µs/op | server CPU µs/op |\n",
        );
        out.push_str("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
        for r in rows {
            let Some(s) = r.summary() else {
                let why = r.errors.first().map(String::as_str).unwrap_or("no sample");
                let _ = writeln!(out, "| {} | {} | failed: {} |||||||||", r.label, r.client, why);
                continue;
            };
            let vs_peer = if is_redpoll(&r.client_id) || section == "f" {
                match (section, results.best_peer(&r.scenario, Pick::Median)) {
                    ("f", _) => parser_ratio(results, r, &s),
                    (_, Some((_, peer))) => format!("{:.2}×", s.ops / peer.ops),
                    _ => "–".into(),
                }
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {}–{} | {} | {} | {} | {} | {} | {} | {} |",
                r.label,
                r.client,
                num(s.ops),
                num(s.ops_min),
                num(s.ops_max),
                vs_peer,
                opt(s.mbps),
                opt(s.p50),
                opt(s.p99),
                opt(s.p999),
                opt(s.cpu_us),
                opt(s.server_cpu_us),
            );
            if !r.errors.is_empty() {
                let _ = writeln!(
                    out,
                    "| | ({} failed rounds: {}) |||||||||",
                    r.errors.len(),
                    r.errors[0]
                );
            }
        }
        out.push('\n');
    }
    out
}

/// For a parser row: its speed relative to the fastest peer that does the same work:
/// `redpoll` (frames into values that share the input) against `redis` and
/// `redis_protocol_bytes`; `redpoll_scan` (frame boundaries only) against
/// `redis_protocol_range`.
fn parser_ratio(results: &Results, r: &Row, s: &Summary) -> String {
    let peers: &[&str] = match r.client_id.as_str() {
        "redpoll" => &["redis", "redis_protocol_bytes"],
        "redpoll_scan" => &["redis_protocol_range"],
        _ => return String::new(),
    };
    let best = results
        .rows
        .iter()
        .filter(|o| o.scenario == r.scenario && peers.contains(&o.client_id.as_str()))
        .filter_map(Row::summary)
        .map(|o| o.ops)
        .fold(0.0, f64::max);
    if best > 0.0 {
        format!("{:.2}×", s.ops / best)
    } else {
        "–".into()
    }
}

/// One target of the perf issue, measured.
#[derive(Debug, Clone)]
pub struct Target {
    pub what: String,
    pub ratio: Option<f64>,
    /// `true`: ratio ≥ bound is met; `false`: ratio ≤ bound is met.
    pub at_least: bool,
    pub bound: f64,
}

impl Target {
    pub fn met(&self) -> Option<bool> {
        let r = self.ratio?;
        Some(if self.at_least { r >= self.bound } else { r <= self.bound })
    }
}

/// The targets of the perf issue, as ratios from this run.
pub fn targets(res: &Results, pick: Pick) -> Vec<Target> {
    let mut t = Vec::new();
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    let ops = |sc: &str, c: &str| res.get_by(sc, c, pick).map(|s| s.ops);
    let cpu = |sc: &str, c: &str| res.get_by(sc, c, pick).and_then(|s| s.cpu_us);
    let p50 = |sc: &str, c: &str| res.get_by(sc, c, pick).and_then(|s| s.p50);
    for sc in ["get_c1", "set_c1"] {
        let op = sc[..3].to_ascii_uppercase();
        t.push(Target {
            what: format!("sequential {op} p50 latency: redpoll .wait() / redis-rs blocking"),
            ratio: ratio(p50(sc, "redpoll_wait"), p50(sc, "redis_blocking")),
            at_least: false,
            bound: 1.1,
        });
        t.push(Target {
            what: format!(
                "sequential {op} mean latency (1/ops/s): redpoll .wait() / redis-rs blocking"
            ),
            ratio: ratio(ops(sc, "redis_blocking"), ops(sc, "redpoll_wait")),
            at_least: false,
            bound: 1.1,
        });
    }
    for n in [64, 256] {
        let sc = format!("get_c{n}");
        for (peer, name) in [("redis_multiplexed", "redis-rs multiplexed"), ("fred", "fred")] {
            t.push(Target {
                what: format!("{n} tokio tasks ops/s: redpoll .await / {name}"),
                ratio: ratio(ops(&sc, "redpoll_await"), ops(&sc, peer)),
                at_least: true,
                bound: 2.0,
            });
            t.push(Target {
                what: format!("{n} tokio tasks client CPU/op: redpoll .await / {name}"),
                ratio: ratio(cpu(&sc, "redpoll_await"), cpu(&sc, peer)),
                at_least: false,
                bound: 0.5,
            });
        }
    }
    t.push(Target {
        what: "64 threads .wait() ops/s / redis-rs blocking with 8 threads (own connections)"
            .into(),
        ratio: ratio(ops("get_c64", "redpoll_wait"), ops("get_c8", "redis_blocking")),
        at_least: true,
        bound: 2.0,
    });
    t.push(Target {
        what: "batch of 1,000 ops/s: redpoll send()×1000 .wait() / redis-rs blocking pipeline"
            .into(),
        ratio: ratio(ops("set_batch1000", "redpoll_wait"), ops("set_batch1000", "redis_blocking")),
        at_least: true,
        bound: 1.1,
    });
    for sc in ["get_1MiB", "set_1MiB", "get_16MiB", "set_16MiB"] {
        let best_peer = res.best_peer(sc, pick).map(|(_, s)| s.ops);
        let best_redpoll = ["redpoll_wait", "redpoll_await"]
            .iter()
            .filter_map(|c| ops(sc, c))
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
        t.push(Target {
            what: format!("{sc} MB/s: redpoll (best of .wait/.await) / best Rust peer"),
            ratio: ratio(best_redpoll, best_peer),
            at_least: true,
            bound: 1.0,
        });
        t.push(Target {
            what: format!("{sc} MB/s: redpoll (best of .wait/.await) / redis-benchmark"),
            ratio: ratio(best_redpoll, ops(sc, "redis_benchmark")),
            at_least: true,
            bound: 1.0,
        });
    }
    t
}

/// What TLS costs each client: its median ops/s on each (e) scenario as a share of the same
/// scenario over plain TCP, and its client CPU per operation over TLS against TCP.
pub fn tls_markdown(results: &Results) -> String {
    let scenarios = ["set_c1", "get_c1", "get_c8", "get_c64", "get_c256"];
    let mut rows = String::new();
    for kind in ClientKind::ALL {
        let cells: Vec<String> = scenarios
            .iter()
            .map(|sc| {
                match (results.get(sc, kind.id()), results.get(&format!("tls_{sc}"), kind.id())) {
                    (Some(tcp), Some(tls)) if tcp.ops > 0.0 => format!(
                        "{:.2} ({} → {})",
                        tls.ops / tcp.ops,
                        opt(tcp.cpu_us),
                        opt(tls.cpu_us)
                    ),
                    _ => "–".into(),
                }
            })
            .collect();
        if cells.iter().all(|c| c == "–") {
            continue;
        }
        let _ = writeln!(rows, "| {} | {} |", kind.name(), cells.join(" | "));
    }
    if rows.is_empty() {
        return "TLS cost per client: needs the same scenarios over TCP in the same run.\n".into();
    }
    let mut out = String::from(
        "TLS cost per client: ops/s over TLS / ops/s over TCP (client CPU µs/op TCP → TLS).\n\n\
         | client |",
    );
    for sc in scenarios {
        let _ = write!(out, " {sc} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"--:|".repeat(scenarios.len()));
    out.push('\n');
    out.push_str(&rows);
    out
}

/// The targets as a Markdown table: by medians, and by each client's best round.
pub fn targets_markdown(results: &Results) -> String {
    let mut out = String::from(
        "| target | bound | ratio (medians) | met | ratio (best rounds) | met |\n\
         |---|--:|--:|---|--:|---|\n",
    );
    let met = |t: &Target| match t.met() {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "not measured",
    };
    let by_median = targets(results, Pick::Median);
    let by_best = targets(results, Pick::Best);
    for (m, b) in by_median.iter().zip(&by_best) {
        let bound = format!("{} {}", if m.at_least { "≥" } else { "≤" }, m.bound);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            m.what,
            bound,
            opt(m.ratio),
            met(m),
            opt(b.ratio),
            met(b)
        );
    }
    out
}

/// `summary.csv`: one line per (scenario, client).
pub fn summary_csv(results: &Results) -> String {
    let mut out = String::from(
        "section,scenario,client,rounds,ops_per_sec_median,ops_per_sec_min,ops_per_sec_max,\
         mb_per_sec,p50_us,p99_us,p999_us,client_cpu_us_per_op,server_cpu_us_per_op,errors\n",
    );
    let f = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or_default();
    for r in &results.rows {
        let s = r.summary().unwrap_or_default();
        let _ = writeln!(
            out,
            "{},{},{},{},{:.1},{:.1},{:.1},{},{},{},{},{},{},{}",
            r.section,
            r.scenario,
            r.client_id,
            s.rounds,
            s.ops,
            s.ops_min,
            s.ops_max,
            f(s.mbps),
            f(s.p50),
            f(s.p99),
            f(s.p999),
            f(s.cpu_us),
            f(s.server_cpu_us),
            r.errors.len()
        );
    }
    out
}

/// `rounds.csv`: every sample.
pub fn rounds_csv(results: &Results) -> String {
    let mut out = String::from(
        "section,scenario,client,round,ops,elapsed_s,ops_per_sec,client_cpu_s,server_cpu_s,\
         others_cores,p50_us,p99_us,p999_us\n",
    );
    let f = |x: Option<f64>| x.map(|v| format!("{v:.3}")).unwrap_or_default();
    for r in &results.rows {
        for (i, s) in r.samples.iter().enumerate() {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{:.6},{:.1},{:.6},{},{},{},{},{}",
                r.section,
                r.scenario,
                r.client_id,
                i + 1,
                s.ops,
                s.elapsed.as_secs_f64(),
                s.ops_per_sec(),
                s.client_cpu.as_secs_f64(),
                s.server_cpu.map(|d| format!("{:.3}", d.as_secs_f64())).unwrap_or_default(),
                f(s.others_cores()),
                f(s.latency.p50),
                f(s.latency.p99),
                f(s.latency.p999),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_numbers() {
        assert_eq!(median([Some(3.0), None, Some(1.0), Some(2.0)]), Some(2.0));
        assert_eq!(median([Some(4.0), Some(1.0)]), Some(2.5));
        assert_eq!(median([None]), None);
        assert_eq!(num(1234567.0), "1,234,567");
        assert_eq!(num(12.345), "12.3");
        assert_eq!(num(0.01234), "0.012");
    }

    #[test]
    fn targets_compare_in_the_right_direction() {
        let t = Target { what: String::new(), ratio: Some(1.05), at_least: false, bound: 1.1 };
        assert_eq!(t.met(), Some(true));
        let t = Target { what: String::new(), ratio: Some(1.9), at_least: true, bound: 2.0 };
        assert_eq!(t.met(), Some(false));
    }

    #[test]
    fn tls_cost_divides_each_clients_tls_rate_by_its_tcp_rate() {
        use crate::measure::Percentiles;
        use std::time::Duration;
        let mut res = Results::default();
        let mut add = |scenario: &str, client: ClientKind, ops: u64| {
            let row = res.row_mut(Row {
                section: "b",
                scenario: scenario.into(),
                label: scenario.into(),
                client_id: client.id().into(),
                client: client.name().into(),
                bytes_per_op: None,
                samples: Vec::new(),
                errors: Vec::new(),
            });
            row.samples.push(Sample {
                ops,
                elapsed: Duration::from_secs(1),
                client_cpu: Duration::from_micros(ops * 2),
                server_cpu: None,
                others_cpu: None,
                latency: Percentiles::default(),
            });
        };
        assert!(tls_markdown(&Results::default()).contains("needs the same scenarios"));
        add("get_c8", ClientKind::Fred, 1000);
        add("tls_get_c8", ClientKind::Fred, 250);
        add("tls_get_c8", ClientKind::RedpollWait, 100);
        let md = tls_markdown(&res);
        assert!(md.contains("| fred | – | – | 0.25 (2.00 → 2.00) | – | – |"), "{md}");
        assert!(!md.contains("redpoll"), "no TCP row, no ratio: {md}");
    }
}
