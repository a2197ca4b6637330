//! `redis-benchmark`, the physical reference: the same shapes (`-c` callers, `-P` batch,
//! `-d` value size, `-t get|set`), read from its `--csv` output. Its CPU time comes from
//! getrusage(RUSAGE_CHILDREN) around the child process.

use std::process::Command;
use std::time::Duration;

use crate::measure::{self, Percentiles, Sample};
use crate::scenario::{Op, Scenario, Shape, Transport};

/// Where redis-benchmark connects.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// `--user`, `-a`, `--dbnum` from `REDIS_URL` (see `machine::benchmark_auth_args`).
    pub auth: Vec<String>,
    /// The TLS server of the (e) rows: host, port and the CA file to verify it with.
    pub tls: Option<(String, u16, std::path::PathBuf)>,
}

/// The version line of `redis-benchmark`, or why it cannot run.
pub fn version() -> Result<String, String> {
    let out = Command::new("redis-benchmark")
        .arg("--version")
        .output()
        .map_err(|e| format!("redis-benchmark not runnable: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// How many requests to ask for so that a run lasts about `secs` at `rate` ops/s.
pub fn requests_for(sc: &Scenario, rate: f64, secs: f64) -> u64 {
    let want = (rate * secs) as u64;
    match sc.shape {
        // Whole batches, at least ten of them.
        Shape::Batch(n) => (want / n as u64).max(10) * n as u64,
        Shape::Callers(c) => {
            want.clamp(if sc.payload().is_some() { 3 } else { 1000 }, 20_000_000).max(c as u64 * 4)
        }
    }
}

/// Runs redis-benchmark for one scenario with `requests` requests.
pub fn run(
    sc: &Scenario,
    target: &Target,
    requests: u64,
    server_pid: Option<u32>,
) -> Result<Sample, String> {
    let mut cmd = Command::new("redis-benchmark");
    match (sc.transport, &target.tls) {
        (Transport::Tcp, _) => {
            cmd.args(["-h", &target.host, "-p", &target.port.to_string()]).args(&target.auth)
        }
        (Transport::Tls, Some((host, port, ca))) => {
            cmd.args(["-h", host, "-p", &port.to_string(), "--tls", "--cacert"]).arg(ca)
        }
        (Transport::Tls, None) => return Err("no TLS server in this run".into()),
    };
    let tests = match sc.op {
        // redis-benchmark runs one command per test: SET then GET, n/2 requests each.
        Op::SetGet => "set,get".to_owned(),
        op => op.name().to_ascii_lowercase(),
    };
    let requests = if sc.op == Op::SetGet { requests / 2 } else { requests };
    let pipeline = match (sc.op, sc.shape) {
        (Op::SetGet, Shape::Batch(n)) => Some(n / 2),
        (_, Shape::Batch(n)) => Some(n),
        _ => None,
    };
    cmd.args(["-t", &tests])
        .args(["-n", &requests.to_string()])
        .args(["-c", &sc.callers().to_string()])
        .args(["-d", &sc.value_size.to_string()])
        .arg("--csv");
    if let Some(n) = pipeline {
        cmd.args(["-P", &n.to_string()]);
    }
    let others = measure::Others::start(server_pid);
    let cpu0 = measure::cpu_children();
    let srv0 = server_pid.and_then(measure::proc_cpu);
    let out = cmd.output().map_err(|e| format!("redis-benchmark: {e}"))?;
    let client_cpu = measure::cpu_children().saturating_sub(cpu0);
    let others_cpu = others.finish(client_cpu);
    let server_cpu = match (srv0, server_pid.and_then(measure::proc_cpu)) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "redis-benchmark exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let row = match sc.op {
        Op::SetGet => {
            // Equal request counts: the combined rate is the harmonic mean of the two.
            let (set, get) = (parse_csv(&stdout, "SET")?, parse_csv(&stdout, "GET")?);
            CsvRow {
                rps: 2.0 / (1.0 / set.rps + 1.0 / get.rps),
                p50_ms: set.p50_ms.max(get.p50_ms),
                p99_ms: set.p99_ms.max(get.p99_ms),
            }
        }
        op => parse_csv(&stdout, op.name())?,
    };
    if !row.rps.is_finite() || row.rps <= 0.0 {
        return Err(format!("redis-benchmark reported {} requests/s", row.rps));
    }
    Ok(Sample {
        ops: requests,
        elapsed: Duration::from_secs_f64(requests as f64 / row.rps),
        client_cpu,
        server_cpu,
        others_cpu,
        latency: Percentiles {
            p50: Some(row.p50_ms * 1000.0),
            p99: Some(row.p99_ms * 1000.0),
            p999: None,
        },
    })
}

/// One test's line of `--csv` output.
#[derive(Debug, PartialEq)]
struct CsvRow {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Finds the line of `test` in the output:
/// `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"`.
fn parse_csv(out: &str, test: &str) -> Result<CsvRow, String> {
    let mut header: Vec<String> = Vec::new();
    for line in out.lines() {
        let fields: Vec<String> =
            line.split(',').map(|f| f.trim().trim_matches('"').to_owned()).collect();
        if fields.first().map(String::as_str) == Some("test") {
            header = fields;
            continue;
        }
        if fields.first().map(String::as_str) != Some(test) {
            continue;
        }
        let col = |name: &str| -> Result<f64, String> {
            let i = header
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| format!("redis-benchmark --csv has no column {name}: {out}"))?;
            let v = fields.get(i).ok_or_else(|| format!("short redis-benchmark line: {line}"))?;
            if v == "inf" {
                return Ok(f64::INFINITY);
            }
            v.parse().map_err(|_| format!("redis-benchmark {name}: {v:?}"))
        };
        return Ok(CsvRow {
            rps: col("rps")?,
            p50_ms: col("p50_latency_ms")?,
            p99_ms: col("p99_latency_ms")?,
        });
    }
    Err(format!("no {test} line in redis-benchmark output: {out:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_csv() {
        let out = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\
                   \"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\
                   \"SET\",\"inf\",\"0.148\",\"0.016\",\"0.039\",\"0.391\",\"0.391\",\"0.391\"\n\
                   \"GET\",\"85714.29\",\"0.079\",\"0.016\",\"0.079\",\"0.143\",\"0.183\",\"0.399\"\n";
        assert_eq!(
            parse_csv(out, "GET").unwrap(),
            CsvRow { rps: 85714.29, p50_ms: 0.079, p99_ms: 0.183 }
        );
        assert!(parse_csv(out, "SET").unwrap().rps.is_infinite());
        assert!(parse_csv(out, "INCR").is_err());
    }
}
