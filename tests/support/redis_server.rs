//! A real `redis-server` (from PATH) per test, on a free loopback port, in its own temp dir,
//! killed by pid and cleaned up on drop.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::resp::{show, RawConn, RawReply};
use super::tempdir::TempDir;

/// How long a server may take to answer PING after it was started.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How many fresh ports [`RedisServerBuilder::start`] tries when the chosen one was taken.
const PORT_ATTEMPTS: usize = 8;

const NOT_FOUND: &str = "redis-server not found on PATH: install it with \
     `sudo apt-get install redis-server redis-tools` (Debian/Ubuntu)";

/// Finds an executable `redis-server` in a `PATH`-style list of directories.
///
/// # Errors
///
/// The install hint, when there is none.
pub fn find_redis_server_in(path: &OsStr) -> Result<PathBuf, String> {
    std::env::split_paths(path)
        .map(|dir| dir.join("redis-server"))
        .find(|p| {
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
        .ok_or_else(|| NOT_FOUND.to_owned())
}

/// The `redis-server` on PATH (looked up once).
///
/// # Panics
///
/// If there is none: "redis-server not found on PATH: install it with ...".
pub fn redis_server_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::var_os("PATH").unwrap_or_default();
        find_redis_server_in(&path).unwrap_or_else(|hint| panic!("{hint}"))
    })
}

/// The version of the `redis-server` on PATH, as (major, minor, patch).
///
/// # Panics
///
/// If `redis-server` is not on PATH or its `--version` output is not understood.
pub fn redis_version() -> (u32, u32, u32) {
    static VERSION: OnceLock<(u32, u32, u32)> = OnceLock::new();
    *VERSION.get_or_init(|| {
        let out = Command::new(redis_server_path())
            .arg("--version")
            .output()
            .unwrap_or_else(|e| panic!("cannot run redis-server --version: {e}"));
        let text = String::from_utf8_lossy(&out.stdout);
        // "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=..."
        let v = text
            .split_whitespace()
            .find_map(|w| w.strip_prefix("v="))
            .unwrap_or_else(|| panic!("unexpected `redis-server --version` output: {text}"));
        let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    })
}

/// Certificate files for a TLS server (see [`RedisServerBuilder::tls`]).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Server certificate (PEM).
    pub cert: PathBuf,
    /// Server private key (PEM).
    pub key: PathBuf,
    /// CA certificate the server uses to verify client certificates (PEM).
    pub ca: PathBuf,
    /// Whether clients must present a certificate (`tls-auth-clients`).
    pub auth_clients: bool,
}

#[derive(Debug, Clone)]
struct AclUser {
    name: String,
    password: Option<String>,
    rules: String,
}

/// Options for a [`RedisServer`]; `RedisServer::builder()....start()`.
#[derive(Debug, Clone, Default)]
pub struct RedisServerBuilder {
    requirepass: Option<String>,
    users: Vec<AclUser>,
    default_user_off: bool,
    unix_socket: bool,
    tls: Option<TlsFiles>,
    args: Vec<(String, Vec<String>)>,
}

impl RedisServerBuilder {
    /// `--requirepass pw`: the `default` user needs `AUTH pw`.
    pub fn requirepass(mut self, password: &str) -> Self {
        self.requirepass = Some(password.to_owned());
        self
    }

    /// An ACL user `name` with password `password` and full access
    /// (`on >pass ~* &* +@all`). The `default` user stays usable unless
    /// [`default_user_off`](Self::default_user_off) is also called.
    pub fn acl_user(self, name: &str, password: &str) -> Self {
        let channels = if redis_version() >= (6, 2, 0) { " &*" } else { "" };
        let rules = format!("on >{password} ~*{channels} +@all");
        self.acl_user_rules_inner(name, Some(password), &rules)
    }

    /// An ACL user with explicit rules (e.g. `"on >pw ~cache:* +get +set"`). `password`
    /// is what the raw helper uses to authenticate as this user, if it has to.
    pub fn acl_user_rules(self, name: &str, password: Option<&str>, rules: &str) -> Self {
        self.acl_user_rules_inner(name, password, rules)
    }

    fn acl_user_rules_inner(mut self, name: &str, password: Option<&str>, rules: &str) -> Self {
        self.users.push(AclUser {
            name: name.to_owned(),
            password: password.map(str::to_owned),
            rules: rules.to_owned(),
        });
        self
    }

    /// Disables the `default` user (`user default off`): every connection must
    /// `AUTH user pass`. The raw helper then authenticates as the first ACL user that has a
    /// password.
    pub fn default_user_off(mut self) -> Self {
        self.default_user_off = true;
        self
    }

    /// Also listen on a Unix socket `<temp dir>/redis.sock` (`--unixsocketperm 700`).
    pub fn unix_socket(mut self) -> Self {
        self.unix_socket = true;
        self
    }

    /// Serve TLS instead of plain TCP: `--tls-port N --port 0` with these files and
    /// `--tls-auth-clients yes|no`. A Unix socket is enabled too, so the raw helper (which
    /// speaks no TLS) keeps working over it. `port()` is then the TLS port and `url()` a
    /// `rediss://` URL.
    pub fn tls(mut self, cert: &Path, key: &Path, ca: &Path, auth_clients: bool) -> Self {
        self.tls = Some(TlsFiles {
            cert: cert.to_owned(),
            key: key.to_owned(),
            ca: ca.to_owned(),
            auth_clients,
        });
        self.unix_socket = true;
        self
    }

    /// Any other option: `--name value` (the value is one argument, spaces included).
    pub fn arg(self, name: &str, value: &str) -> Self {
        self.args(name, &[value])
    }

    /// An option with several values: `--name v1 v2 ...`.
    pub fn args(mut self, name: &str, values: &[&str]) -> Self {
        let name = name.trim_start_matches('-').to_owned();
        self.args.push((name, values.iter().map(|v| (*v).to_owned()).collect()));
        self
    }

    /// Starts the server and waits until it answers PING.
    ///
    /// # Panics
    ///
    /// If `redis-server` is not on PATH, or the server does not answer within
    /// [`START_TIMEOUT`] (the message carries the log tail).
    pub fn start(self) -> RedisServer {
        redis_version(); // panics early with the install hint if redis-server is missing
        let mut server = RedisServer { opts: self, dir: TempDir::new(), port: 0, child: None };
        let mut last = String::new();
        for _ in 0..PORT_ATTEMPTS {
            server.port = free_port();
            match server.launch() {
                Ok(child) => {
                    server.child = Some(child);
                    return server;
                }
                Err(Launch::PortTaken(msg)) => last = msg,
                Err(Launch::Failed(msg)) => panic!("{msg}"),
            }
        }
        panic!("redis-server: no free port after {PORT_ATTEMPTS} attempts; last: {last}");
    }
}

enum Launch {
    /// The server could not bind its port (another process took it): try another.
    PortTaken(String),
    /// Anything else: give up.
    Failed(String),
}

/// A running `redis-server` child process. Killed by pid (and reaped) on drop; its temp dir
/// is removed.
#[derive(Debug)]
pub struct RedisServer {
    opts: RedisServerBuilder,
    dir: TempDir,
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// A plain server with default options.
    ///
    /// # Panics
    ///
    /// As [`RedisServerBuilder::start`].
    pub fn new() -> RedisServer {
        RedisServer::builder().start()
    }

    /// Options for a server.
    pub fn builder() -> RedisServerBuilder {
        RedisServerBuilder::default()
    }

    /// The TCP port (the TLS port for a TLS server).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `"127.0.0.1:<port>"`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `"redis://127.0.0.1:<port>"` (`rediss://` for a TLS server), without credentials.
    pub fn url(&self) -> String {
        let scheme = if self.opts.tls.is_some() { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The Unix socket path.
    ///
    /// # Panics
    ///
    /// If the server was built without [`unix_socket`](RedisServerBuilder::unix_socket).
    pub fn unix_path(&self) -> PathBuf {
        assert!(self.opts.unix_socket, "this RedisServer was built without .unix_socket()");
        self.dir.join("redis.sock")
    }

    /// `"redis+unix://<socket path>"`.
    ///
    /// # Panics
    ///
    /// As [`unix_path`](Self::unix_path).
    pub fn unix_url(&self) -> String {
        format!("redis+unix://{}", self.unix_path().display())
    }

    /// The process id of the running server.
    ///
    /// # Panics
    ///
    /// If the server is stopped.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("RedisServer is stopped").id()
    }

    /// Whether the process is running (started and not stopped).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// The server's own temp dir (also its `--dir`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log file.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("redis.log")
    }

    /// The last `lines` lines of the server log and of its stderr.
    pub fn log_tail(&self, lines: usize) -> String {
        let mut out = String::new();
        for name in ["redis.log", "stderr.log"] {
            let mut text = String::new();
            if let Ok(mut f) = File::open(self.dir.join(name)) {
                let _ = f.read_to_string(&mut text);
            }
            let all: Vec<&str> = text.lines().collect();
            let tail = &all[all.len().saturating_sub(lines)..];
            out.push_str(&format!("--- {name} (last {} lines) ---\n", tail.len()));
            for l in tail {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    /// The `requirepass` password, if any.
    pub fn password(&self) -> Option<&str> {
        self.opts.requirepass.as_deref()
    }

    /// Kills the process (SIGKILL by pid) and reaps it; the port and temp dir are kept for
    /// [`start_again`](Self::start_again). Does nothing if already stopped.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port with the same options (the data is gone:
    /// no persistence). Waits until the port is free first.
    ///
    /// # Panics
    ///
    /// If the server is running, or it cannot get its port back or answer PING within
    /// [`START_TIMEOUT`] each.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "start_again() on a running RedisServer");
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            while TcpListener::bind(("127.0.0.1", self.port)).is_err() {
                assert!(Instant::now() < deadline, "port {} did not become free", self.port);
                sleep(Duration::from_millis(20));
            }
            match self.launch() {
                Ok(child) => {
                    self.child = Some(child);
                    return;
                }
                Err(Launch::PortTaken(_)) if Instant::now() < deadline => {
                    sleep(Duration::from_millis(100));
                }
                Err(Launch::PortTaken(msg) | Launch::Failed(msg)) => panic!("{msg}"),
            }
        }
    }

    /// [`stop`](Self::stop) then [`start_again`](Self::start_again): same port, same
    /// options, empty data set.
    ///
    /// # Panics
    ///
    /// As [`start_again`](Self::start_again).
    pub fn restart(&mut self) {
        self.stop();
        self.start_again();
    }

    /// A new raw connection, authenticated if the server needs it (over TCP; over the Unix
    /// socket for a TLS server).
    ///
    /// # Panics
    ///
    /// If it cannot connect or authenticate.
    #[track_caller]
    pub fn raw(&self) -> RawConn {
        self.try_raw().unwrap_or_else(|e| panic!("raw connection to {}: {e}", self.addr()))
    }

    /// A new raw connection that has not authenticated.
    ///
    /// # Panics
    ///
    /// If it cannot connect.
    #[track_caller]
    pub fn raw_unauthenticated(&self) -> RawConn {
        self.raw_connect().unwrap_or_else(|e| panic!("raw connection to {}: {e}", self.addr()))
    }

    /// Runs one command on a fresh authenticated raw connection:
    /// `server.raw_command(&[b"GET", b"counter"])`.
    ///
    /// # Panics
    ///
    /// On I/O errors (a server error reply is returned, not a panic).
    #[track_caller]
    pub fn raw_command(&self, args: &[&[u8]]) -> RawReply {
        let mut conn = self.raw();
        conn.try_command(args).unwrap_or_else(|e| panic!("raw command {}: {e}", show(args)))
    }

    /// [`raw_command`](Self::raw_command) with text arguments: `server.raw_cmd(&["GET", "k"])`.
    ///
    /// # Panics
    ///
    /// As [`raw_command`](Self::raw_command).
    #[track_caller]
    pub fn raw_cmd(&self, args: &[&str]) -> RawReply {
        let mut conn = self.raw();
        conn.try_command(args).unwrap_or_else(|e| panic!("raw command {args:?}: {e}"))
    }

    /// True if a fresh raw connection gets `PONG` to `PING` right now.
    pub fn answers_ping(&self) -> bool {
        matches!(
            self.try_raw().and_then(|mut c| c.try_command(&["PING"])),
            Ok(RawReply::Simple(s)) if s == "PONG"
        )
    }

    /// The credentials the raw helper authenticates with: (username, password).
    fn credentials(&self) -> Option<(Option<&str>, &str)> {
        if self.opts.default_user_off {
            self.opts
                .users
                .iter()
                .find_map(|u| u.password.as_deref().map(|p| (Some(u.name.as_str()), p)))
        } else {
            self.opts.requirepass.as_deref().map(|p| (None, p))
        }
    }

    fn raw_connect(&self) -> io::Result<RawConn> {
        if self.opts.tls.is_some() {
            RawConn::connect_unix(&self.unix_path())
        } else {
            RawConn::connect_tcp(&self.addr())
        }
    }

    fn try_raw(&self) -> io::Result<RawConn> {
        let mut conn = self.raw_connect()?;
        if let Some((user, pass)) = self.credentials() {
            let reply = match user {
                Some(user) => conn.try_command(&["AUTH", user, pass])?,
                None => conn.try_command(&["AUTH", pass])?,
            };
            if !reply.is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!("AUTH refused: {reply:?}"),
                ));
            }
        }
        Ok(conn)
    }

    fn command_line(&self) -> Vec<String> {
        let dir = self.dir.path().display().to_string();
        let mut a: Vec<String> = Vec::new();
        let mut opt = |name: &str, values: &[&str]| {
            a.push(format!("--{name}"));
            a.extend(values.iter().map(|v| (*v).to_owned()));
        };
        let port = self.port.to_string();
        let plain_port = if self.opts.tls.is_some() { "0" } else { port.as_str() };
        opt("port", &[plain_port]);
        opt("bind", &["127.0.0.1"]);
        opt("save", &[""]);
        opt("appendonly", &["no"]);
        opt("daemonize", &["no"]);
        opt("dir", &[&dir]);
        opt("logfile", &[&self.log_path().display().to_string()]);
        if redis_version() >= (7, 0, 0) {
            opt("enable-debug-command", &["yes"]);
        }
        if let Some(pw) = &self.opts.requirepass {
            opt("requirepass", &[pw]);
        }
        for u in &self.opts.users {
            let mut v = vec![u.name.as_str()];
            v.extend(u.rules.split_whitespace());
            opt("user", &v);
        }
        if self.opts.default_user_off {
            opt("user", &["default", "off"]);
        }
        if self.opts.unix_socket {
            opt("unixsocket", &[&self.unix_path().display().to_string()]);
            opt("unixsocketperm", &["700"]);
        }
        if let Some(tls) = &self.opts.tls {
            opt("tls-port", &[&port]);
            opt("tls-cert-file", &[&tls.cert.display().to_string()]);
            opt("tls-key-file", &[&tls.key.display().to_string()]);
            opt("tls-ca-cert-file", &[&tls.ca.display().to_string()]);
            opt("tls-auth-clients", &[if tls.auth_clients { "yes" } else { "no" }]);
        }
        for (name, values) in &self.opts.args {
            let v: Vec<&str> = values.iter().map(String::as_str).collect();
            opt(name, &v);
        }
        a
    }

    /// Spawns the process on `self.port` and waits until it answers (and is ours).
    fn launch(&self) -> Result<Child, Launch> {
        let stderr = File::create(self.dir.join("stderr.log"))
            .map_err(|e| Launch::Failed(format!("cannot create stderr.log: {e}")))?;
        let mut child = Command::new(redis_server_path())
            .args(self.command_line())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| Launch::Failed(format!("cannot spawn redis-server: {e}")))?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let tail = self.log_tail(30);
                let msg = format!(
                    "redis-server on port {} exited at start ({status}); args: {:?}\n{tail}",
                    self.port,
                    self.command_line()
                );
                let taken =
                    tail.contains("Address already in use") || tail.contains("listening socket");
                return Err(if taken { Launch::PortTaken(msg) } else { Launch::Failed(msg) });
            }
            let last = match self.probe(child.id()) {
                Ok(()) => return Ok(child),
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Launch::Failed(format!(
                    "redis-server on port {} did not answer PING within {START_TIMEOUT:?} \
                     (last: {last}); args: {:?}\n{}",
                    self.port,
                    self.command_line(),
                    self.log_tail(30)
                )));
            }
            sleep(Duration::from_millis(10));
        }
    }

    /// One readiness check: PING answered by the process `pid` (not by some other server
    /// that took the port first).
    fn probe(&self, pid: u32) -> Result<(), String> {
        let mut conn = self.raw_connect().map_err(|e| format!("connect: {e}"))?;
        conn.set_read_timeout(Some(Duration::from_millis(500))).map_err(|e| e.to_string())?;
        if let Some((user, pass)) = self.credentials() {
            let reply = match user {
                Some(user) => conn.try_command(&["AUTH", user, pass]),
                None => conn.try_command(&["AUTH", pass]),
            }
            .map_err(|e| format!("AUTH: {e}"))?;
            if !reply.is_ok() {
                return Err(format!("AUTH: {reply:?}"));
            }
        }
        let reply = conn.try_command(&["PING"]).map_err(|e| format!("PING: {e}"))?;
        match &reply {
            RawReply::Simple(s) if s == "PONG" => {}
            // No credentials to offer (default user off, no ACL password): the server
            // answers, which is all we can check.
            RawReply::Error(e) if e.starts_with("NOAUTH") && self.credentials().is_none() => {
                return Ok(());
            }
            other => return Err(format!("PING: {other:?}")),
        }
        let info = conn.try_command(&["INFO", "server"]).map_err(|e| format!("INFO: {e}"))?;
        let text = info.as_str().unwrap_or("");
        let theirs = text
            .lines()
            .find_map(|l| l.strip_prefix("process_id:"))
            .and_then(|p| p.trim().parse::<u32>().ok());
        match theirs {
            Some(p) if p == pid => Ok(()),
            Some(p) => Err(format!("port answered by another redis-server (pid {p})")),
            None => Err(format!("INFO server without process_id: {info:?}")),
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A loopback port that was free a moment ago (bind :0, read it, release it).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}
