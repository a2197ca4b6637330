//! The server under test (our own `redis-server`, or `REDIS_URL`) and the description of the
//! machine the numbers come from.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::{Certs, RedisServer};

/// The server every client talks to.
pub struct Server {
    /// Kept alive for the whole run; killed by pid on drop.
    _own: Option<RedisServer>,
    pub url: String,
    /// Host and port for redis-benchmark (None when `REDIS_URL` is not a plain TCP URL).
    pub host_port: Option<(String, u16)>,
    /// The server's pid when it runs on this machine (for its CPU time).
    pub pid: Option<u32>,
    pub description: String,
}

impl Server {
    /// `REDIS_URL` if set, else a fresh `redis-server` on a free loopback port with no
    /// persistence (`--save '' --appendonly no`).
    pub fn start() -> Result<Server, String> {
        if let Ok(url) = std::env::var("REDIS_URL") {
            let host_port = host_port(&url);
            let pid = server_pid(&url);
            let description =
                format!("REDIS_URL (pid {})", pid.map_or("unknown".into(), |p| p.to_string()));
            return Ok(Server { _own: None, url, host_port, pid, description });
        }
        let own = RedisServer::new();
        let url = own.url();
        Ok(Server {
            host_port: Some(("127.0.0.1".into(), own.port())),
            pid: Some(own.pid()),
            description: format!(
                "own redis-server on 127.0.0.1:{} (--save '' --appendonly no)",
                own.port()
            ),
            _own: Some(own),
            url,
        })
    }
}

/// The TLS server of the (e) rows: always the harness's own `redis-server`, since every client
/// must trust its certificate (a CA generated at start, as the TLS tests do).
pub struct TlsServer {
    /// Kept alive for the whole run; killed by pid on drop.
    _own: RedisServer,
    /// Holds the certificate files the server reads; removed on drop.
    _certs: Certs,
    /// `rediss://127.0.0.1:port`.
    pub url: String,
    pub port: u16,
    pub pid: u32,
    /// The CA certificate file (PEM) every client verifies the server with.
    pub ca: std::path::PathBuf,
    pub description: String,
}

impl TlsServer {
    /// A fresh TLS-only `redis-server` (`--tls-port`, `--port 0`, no client certificates) on a
    /// free loopback port, or why it could not start.
    pub fn start() -> Result<TlsServer, String> {
        let started = std::panic::catch_unwind(|| {
            let certs = Certs::new();
            let own = certs.server(false);
            (certs, own)
        });
        let (certs, own) = started.map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "the TLS redis-server did not start".into())
        })?;
        Ok(TlsServer {
            url: own.url(),
            port: own.port(),
            pid: own.pid(),
            ca: certs.ca.clone(),
            description: format!(
                "own TLS redis-server on 127.0.0.1:{} (--tls-port, --port 0, certificates from a \
                 CA generated at start, no client certificates)",
                own.port()
            ),
            _own: own,
            _certs: certs,
        })
    }
}

/// redis-benchmark's arguments for the credentials and database of
/// `redis://[user[:pass]@]host[:port][/db]`: `--user`, `-a` (percent-decoded) and `--dbnum`.
/// redis-benchmark has no other way to take a password than its command line, where local
/// users can see it (`ps`): use a throwaway password for benchmark servers.
pub fn benchmark_auth_args(url: &str) -> Vec<String> {
    let Some(rest) = url.strip_prefix("redis://") else { return Vec::new() };
    let mut args = Vec::new();
    let (userinfo, hostpart) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    if let Some(userinfo) = userinfo {
        let (user, pass) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (userinfo, None),
        };
        // redis-benchmark takes a user name only with a password (`AUTH user pass`).
        if let Some(pass) = pass {
            if !user.is_empty() {
                args.extend(["--user".to_owned(), percent_decode(user)]);
            }
            args.extend(["-a".to_owned(), percent_decode(pass)]);
        }
    }
    if let Some(db) = hostpart.split_once('/').map(|(_, d)| d).filter(|d| !d.is_empty()) {
        args.extend(["--dbnum".to_owned(), db.to_owned()]);
    }
    args
}

/// `%XX` escapes decoded (invalid ones kept as they are).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `redis://[user[:pass]@]host[:port][/db]` → (host, port); None for anything else.
fn host_port(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("redis://")?;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let hostport = rest.split('/').next()?;
    match hostport.rsplit_once(':') {
        Some((h, p)) => Some((h.trim_matches(['[', ']']).to_owned(), p.parse().ok()?)),
        None => Some((hostport.to_owned(), 6379)),
    }
}

/// The server's pid from `INFO server`, if that process runs on this machine.
fn server_pid(url: &str) -> Option<u32> {
    let mut con = redis::Client::open(url).ok()?.get_connection().ok()?;
    let info: String = redis::cmd("INFO").arg("server").query(&mut con).ok()?;
    let pid: u32 = info.lines().find_map(|l| l.strip_prefix("process_id:"))?.trim().parse().ok()?;
    std::path::Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

/// One line per fact: date, cores, CPU model, load average, kernel, versions.
pub fn describe() -> Vec<(String, String)> {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')))
        .map_or("unknown".into(), |(_, m)| m.trim().to_owned());
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let first_line = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(str::to_owned))
            .unwrap_or_else(|| "not found".into())
    };
    vec![
        ("date".into(), utc_now()),
        ("nproc".into(), nproc.to_string()),
        ("CPU".into(), model),
        ("load average at start (1, 5, 15 min)".into(), load_average()),
        ("kernel".into(), read("/proc/sys/kernel/osrelease").trim().to_owned()),
        ("memory".into(), mem_total()),
        ("redis-server".into(), first_line("redis-server", "--version")),
        ("redis-benchmark".into(), first_line("redis-benchmark", "--version")),
    ]
}

pub fn load_average() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    l.split_whitespace().take(3).collect::<Vec<_>>().join(", ")
}

fn mem_total() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .map_or("unknown".into(), |m| m.trim().to_owned())
}

/// `YYYY-MM-DD HH:MM UTC`, without a date crate.
pub fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", s / 3600, s % 3600 / 60)
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_urls() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_782), (2024, 2, 29));
        assert_eq!(host_port("redis://:pw@10.1.2.3:7000/2"), Some(("10.1.2.3".into(), 7000)));
        assert_eq!(host_port("redis://localhost"), Some(("localhost".into(), 6379)));
        assert_eq!(host_port("rediss://h:1"), None);
        assert_eq!(benchmark_auth_args("redis://127.0.0.1:6379"), Vec::<String>::new());
        assert_eq!(benchmark_auth_args("redis://:p%40ss@h:1/2"), ["-a", "p@ss", "--dbnum", "2"]);
        assert_eq!(benchmark_auth_args("redis://ada:pw@h"), ["--user", "ada", "-a", "pw"]);
        assert_eq!(benchmark_auth_args("redis://h/"), Vec::<String>::new());
        assert_eq!(benchmark_auth_args("redis://ada@h"), Vec::<String>::new());
    }
}
