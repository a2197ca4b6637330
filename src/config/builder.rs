//! [`ClientBuilder`]: option setters that remember their errors, and the final validation.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;

use super::settings::{RetryPolicy, MAX_MAX_DEDICATED, MAX_MAX_DEPTH, MAX_QUEUE_SIZE};
use super::uri::{parse_url, DEFAULT_PORT};
use super::validate::{check_client_name, check_host, normalize_command};
use super::{Config, ConnectInfo, DisconnectReason, Hook, Protocol, Secret, ServerAddr, Tls};
use crate::Error;

/// Options for a client, set one by one and checked all together at `build()`.
///
/// Every setter returns the builder, so calls chain. A bad value does not panic and does not
/// end the chain: it is remembered, and `build()` reports every remembered problem in one
/// [`Error::Config`](crate::Error::Config) that names each bad option (and never contains a
/// password).
///
/// When an option is set twice, the later call wins. How the address options combine:
///
/// - [`url`](Self::url) sets the whole address (host and port, or socket path), turns TLS on
///   for `rediss://`, and sets each of user name, password, database, protocol and client name
///   **that the URI spells out**; options the URI does not mention keep their earlier values.
/// - [`host`](Self::host) and [`path`](Self::path) each set a complete address (TCP or unix
///   socket), replacing the other kind. `host` keeps a port set earlier.
/// - [`port`](Self::port) changes the port of a TCP address; after `path` it is an error.
/// - TLS is on when the last URI was `rediss://` **or** [`tls`](Self::tls) was called: a later
///   `redis://` URI does not silently drop TLS options given in code. TLS over a unix socket is
///   an error.
/// - Without any address the client connects to `127.0.0.1:6379`.
///
/// Defaults: connect_timeout 10 s, read_timeout 30 s, write_timeout 30 s, request_timeout
/// 5 s, blocking_timeout_buffer 2 s, reconnect on, reconnect_delay 100 ms,
/// reconnect_delay_max 60 s, reconnect_jitter 0.25, queue_size 1000, RESP2, database 0,
/// tcp_nodelay on, tcp_keepalive 60 s, max_bulk_len 512 MiB, max_depth 128.
///
/// `Debug` shows every option except the password and TLS private keys.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use redpoll::ClientBuilder;
///
/// let builder = ClientBuilder::new()
///     .url("rediss://user:secret@cache.example:6380/2")
///     .connect_timeout(Duration::from_secs(10))
///     .request_timeout(Duration::from_secs(5))
///     .command_timeout("KEYS", Duration::from_secs(60))
///     .reconnect_jitter(0.25)
///     .queue_size(1000)
///     .client_name("myapp")
///     .prefix("myapp:")
///     .on_connect(|info| println!("connected to {}", info.address))
///     .on_disconnect(|reason| println!("disconnected: {reason}"))
///     .on_error(|err| eprintln!("redis: {err}"));
/// assert!(!format!("{builder:?}").contains("secret"));
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct ClientBuilder {
    /// Everything except `tls`, which is assembled at the end.
    config: Config,
    /// The last URI given was `rediss://`.
    tls_from_scheme: bool,
    /// Options from [`tls`](Self::tls).
    tls: Option<Tls>,
    /// Remembered problems, keyed by the option that caused them so that a later, valid
    /// setting of the same option clears them.
    errors: Vec<(String, String)>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder::new()
    }
}

impl ClientBuilder {
    /// A builder with every option at its default.
    pub fn new() -> Self {
        ClientBuilder {
            config: Config::default(),
            tls_from_scheme: false,
            tls: None,
            errors: Vec::new(),
        }
    }

    fn set_error(&mut self, key: &str, problem: Option<String>) {
        self.errors.retain(|(k, _)| k != key);
        if let Some(problem) = problem {
            self.errors.push((key.to_owned(), problem));
        }
    }

    /// Checks a duration that must be positive; returns it if it is.
    fn positive(&mut self, key: &'static str, value: Duration) -> Option<Duration> {
        let problem = value.is_zero().then(|| format!("{key}: must be greater than zero"));
        let ok = problem.is_none();
        self.set_error(key, problem);
        ok.then_some(value)
    }

    /// Checks a count against an inclusive range; returns it if it fits.
    fn count_in(
        &mut self,
        key: &'static str,
        value: usize,
        min: usize,
        max: usize,
    ) -> Option<usize> {
        let problem = (!(min..=max).contains(&value))
            .then(|| format!("{key}: expected a number from {min} to {max}, found {value}"));
        let ok = problem.is_none();
        self.set_error(key, problem);
        ok.then_some(value)
    }

    /// Takes the address, credentials, database and options from a URI (see the
    /// [type documentation](Self) for how it combines with other setters).
    ///
    /// Forms: `redis://[[user][:password]@]host[:port][/db]`, `rediss://…` (TLS),
    /// `redis+unix:///path/to/socket?db=N` and `unix:///path` (also `unix:/path`). Query
    /// parameters: `db`, `protocol` (`2`, `3`, `resp2`, `resp3`), `client_name`, `username`
    /// (or `user`) and `password` (or `pass`). `redis://ada@host` is a user name without a
    /// password, as the URL standard reads it; write `redis://:secret@host` for a password
    /// alone. Percent-encode special characters in the user name, password and path.
    ///
    /// # Errors
    ///
    /// A malformed URI, an unknown query parameter or a bad value is reported at `build()`,
    /// naming the bad part; the message shows the URI with the password replaced by `***`.
    ///
    /// # Examples
    ///
    /// ```
    /// use redpoll::ClientBuilder;
    ///
    /// let tcp = ClientBuilder::new().url("redis://:secret@10.0.0.5:6380/3?protocol=3");
    /// let unix = ClientBuilder::new().url("redis+unix:///run/redis.sock?db=1");
    /// let v6 = ClientBuilder::new().url("redis://[::1]:6379");
    /// ```
    pub fn url(mut self, url: impl AsRef<str>) -> Self {
        match parse_url(url.as_ref()) {
            Err(err) => self.set_error("url", Some(config_message(err))),
            Ok(parsed) => {
                self.set_error("url", None);
                for key in ["host", "port", "path"] {
                    self.set_error(key, None);
                }
                self.config.addr = parsed.addr;
                self.tls_from_scheme = parsed.tls;
                if let Some(username) = parsed.username {
                    self.set_error("username", None);
                    self.config.username = Some(username);
                }
                if let Some(password) = parsed.password {
                    self.config.password = Some(password);
                }
                if let Some(db) = parsed.db {
                    self.config.db = db;
                }
                if let Some(protocol) = parsed.protocol {
                    self.set_error("protocol", None);
                    self.config.protocol = protocol;
                }
                if let Some(name) = parsed.client_name {
                    self.set_error("client_name", None);
                    self.config.client_name = Some(name);
                }
            }
        }
        self
    }

    /// Connects over TCP to this host name or IP address (IPv6 with or without brackets),
    /// keeping a port set earlier (6379 otherwise). Replaces a unix socket path.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = redpoll::ClientBuilder::new().host("cache.internal").port(6380);
    /// ```
    pub fn host(mut self, host: impl Into<String>) -> Self {
        let host = host.into();
        let bare = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(inner) => inner.to_owned(),
            None => host,
        };
        match check_host("host", &bare) {
            Err(problem) => self.set_error("host", Some(problem)),
            Ok(()) => {
                self.set_error("host", None);
                let port = match self.config.addr {
                    ServerAddr::Tcp { port, .. } => port,
                    ServerAddr::Unix(_) => DEFAULT_PORT,
                };
                self.config.addr = ServerAddr::Tcp { host: bare, port };
            }
        }
        self
    }

    /// The TCP port (1..=65535). Applies to the host set before or after it.
    ///
    /// # Errors
    ///
    /// Port 0, or a port after [`path`](Self::path) chose a unix socket, is reported at
    /// `build()`.
    pub fn port(mut self, port: u16) -> Self {
        match &mut self.config.addr {
            _ if port == 0 => {
                let problem = "port: expected a number from 1 to 65535, found 0".to_owned();
                self.set_error("port", Some(problem));
            }
            ServerAddr::Tcp { port: p, .. } => {
                *p = port;
                self.set_error("port", None);
            }
            ServerAddr::Unix(path) => {
                let problem = format!(
                    "port: the address is the unix socket {:?}; call .host() before .port()",
                    path.display().to_string()
                );
                self.set_error("port", Some(problem));
            }
        }
        self
    }

    /// Connects to the unix domain socket at this path instead of TCP.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = redpoll::ClientBuilder::new().path("/run/redis/redis.sock").db(2);
    /// ```
    pub fn path(mut self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        if path.as_os_str().is_empty() {
            self.set_error("path", Some("path: empty".into()));
        } else {
            self.set_error("path", None);
            self.set_error("port", None);
            self.config.addr = ServerAddr::Unix(path.to_path_buf());
        }
        self
    }

    /// The ACL user name to authenticate as (Redis 6+). An empty name means none.
    pub fn username(mut self, username: impl Into<String>) -> Self {
        let username = username.into();
        self.config.username = Some(username).filter(|u| !u.is_empty());
        self
    }

    /// The password to authenticate with (any bytes). An empty password means none. It never
    /// appears in `Debug` output or error messages.
    pub fn password(mut self, password: impl AsRef<[u8]>) -> Self {
        let password = Secret::new(password.as_ref());
        self.config.password = Some(password).filter(|p| !p.is_empty());
        self
    }

    /// The database to `SELECT` after connecting (default 0).
    pub fn db(mut self, db: u32) -> Self {
        self.config.db = db;
        self
    }

    /// The protocol version: 2 (RESP2, the default) or 3 (RESP3, negotiated with `HELLO 3`).
    ///
    /// # Errors
    ///
    /// Any other number is reported at `build()`.
    pub fn protocol(mut self, version: u8) -> Self {
        match Protocol::from_version(version.into()) {
            Some(protocol) => {
                self.config.protocol = protocol;
                self.set_error("protocol", None);
            }
            None => {
                let problem = format!("protocol: expected 2 or 3, found {version}");
                self.set_error("protocol", Some(problem));
            }
        }
        self
    }

    /// Uses TLS with these options (see [`Tls`]). `rediss://` alone turns TLS on with the
    /// default options; this call turns it on even for a `redis://` URI.
    ///
    /// # Errors
    ///
    /// Missing or unreadable files, files without PEM blocks, a bad server name, TLS over a
    /// unix socket, or a build without the `tls` feature are reported at `build()`.
    pub fn tls(mut self, tls: Tls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Deadline for opening a connection: TCP connect, TLS and the Redis handshake together
    /// (default 10 s; must be greater than zero).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        if let Some(d) = self.positive("connect_timeout", timeout) {
            self.config.connect_timeout = d;
        }
        self
    }

    /// A connection waiting for replies that receives nothing for this long is considered
    /// stalled and is reset (default 30 s; must be greater than zero).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        if let Some(d) = self.positive("read_timeout", timeout) {
            self.config.read_timeout = d;
        }
        self
    }

    /// A connection that cannot write its pending bytes for this long is considered stalled
    /// and is reset (default 30 s; must be greater than zero).
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        if let Some(d) = self.positive("write_timeout", timeout) {
            self.config.write_timeout = d;
        }
        self
    }

    /// Deadline for each request, from submission to reply (default 5 s; must be greater
    /// than zero; `Duration::MAX` means practically none).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        if let Some(d) = self.positive("request_timeout", timeout) {
            self.config.request_timeout = d;
        }
        self
    }

    /// Slack added to a blocking command's own timeout (`BLPOP k 5` waits 5 s + this) before
    /// the client gives up on it (default 2 s; zero is allowed).
    pub fn blocking_timeout_buffer(mut self, buffer: Duration) -> Self {
        self.config.blocking_timeout_buffer = buffer;
        self
    }

    /// A request deadline for one command instead of `request_timeout`. The name is
    /// case-insensitive; a subcommand is written with one space (`"CLIENT LIST"`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = redpoll::ClientBuilder::new()
    ///     .command_timeout("KEYS", Duration::from_secs(60))
    ///     .command_timeout("debug sleep", Duration::from_secs(30));
    /// ```
    ///
    /// # Errors
    ///
    /// An empty or malformed name, or a zero duration, is reported at `build()`.
    pub fn command_timeout(mut self, command: impl AsRef<str>, timeout: Duration) -> Self {
        let command = command.as_ref();
        let normalized = normalize_command("command_timeout", command);
        let key = format!("command_timeout {}", normalized.as_deref().unwrap_or(command));
        match normalized {
            Err(problem) => self.set_error(&key, Some(problem)),
            Ok(_) if timeout.is_zero() => {
                let problem = format!("command_timeout {command:?}: must be greater than zero");
                self.set_error(&key, Some(problem));
            }
            Ok(name) => {
                self.set_error(&key, None);
                let timeouts = &mut self.config.command_timeouts;
                timeouts.retain(|(n, _)| *n != name);
                timeouts.push((name, timeout));
            }
        }
        self
    }

    /// Reconnect automatically after a connection is lost (default true).
    pub fn reconnect(mut self, reconnect: bool) -> Self {
        self.config.reconnect = reconnect;
        self
    }

    /// The first delay before reconnecting; it grows up to
    /// [`reconnect_delay_max`](Self::reconnect_delay_max) (default 100 ms; must be greater
    /// than zero and not above the maximum).
    pub fn reconnect_delay(mut self, delay: Duration) -> Self {
        if let Some(d) = self.positive("reconnect_delay", delay) {
            self.config.reconnect_delay = d;
        }
        self
    }

    /// The largest delay between reconnect attempts (default 60 s; must be greater than zero).
    pub fn reconnect_delay_max(mut self, delay: Duration) -> Self {
        if let Some(d) = self.positive("reconnect_delay_max", delay) {
            self.config.reconnect_delay_max = d;
        }
        self
    }

    /// The fraction of each reconnect delay that is randomised, from 0.0 (none) to 1.0
    /// (default 0.25), so that many clients do not reconnect in lockstep.
    pub fn reconnect_jitter(mut self, jitter: f64) -> Self {
        let ok = (0.0..=1.0).contains(&jitter);
        let problem = (!ok).then(|| {
            format!("reconnect_jitter: expected a number from 0.0 to 1.0, found {jitter}")
        });
        self.set_error("reconnect_jitter", problem);
        if ok {
            self.config.reconnect_jitter = jitter;
        }
        self
    }

    /// How many commands may wait to be written (while disconnected, or while the socket is
    /// busy); commands already written do not count. Beyond it, commands fail at once with
    /// [`Error::Disconnected`](crate::Error::Disconnected). Default 1000, at most 1,048,576.
    pub fn queue_size(mut self, size: usize) -> Self {
        if let Some(n) = self.count_in("queue_size", size, 1, MAX_QUEUE_SIZE) {
            self.config.queue_size = n;
        }
        self
    }

    /// How many dedicated connections the client may open beside its shared one (default 8,
    /// at most 1024). Blocking commands (BLPOP, BRPOP, BLMOVE, BZPOPMIN, XREAD … BLOCK, …)
    /// each run alone on one, so they never delay the shared connection, and
    /// [`Client::dedicated`](crate::Client::dedicated) lends them out; beyond the bound, they
    /// wait first come first served within their deadline. Idle ones are reused, and closed
    /// after [`dedicated_idle_timeout`](ClientBuilder::dedicated_idle_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = redpoll::Client::builder().max_dedicated(32);
    /// ```
    pub fn max_dedicated(mut self, max: usize) -> Self {
        if let Some(n) = self.count_in("max_dedicated", max, 1, MAX_MAX_DEDICATED) {
            self.config.max_dedicated = n;
        }
        self
    }

    /// How long an unused dedicated connection stays open (default 60 s; checked on the I/O
    /// thread's 100 ms sweep).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = redpoll::Client::builder()
    ///     .dedicated_idle_timeout(std::time::Duration::from_secs(5));
    /// ```
    pub fn dedicated_idle_timeout(mut self, timeout: Duration) -> Self {
        if let Some(t) = self.positive("dedicated_idle_timeout", timeout) {
            self.config.dedicated_idle_timeout = t;
        }
        self
    }

    /// What a request's deadline does when it passes on the shared connection (default
    /// [`OnTimeout::Reset`](crate::OnTimeout::Reset)); [`Cmd::on_timeout`](crate::Cmd::on_timeout)
    /// overrides it per command. With `Abandon`, one slow command fails alone instead of
    /// taking every other caller's in-flight requests down with the connection.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = redpoll::Client::builder().on_timeout(redpoll::OnTimeout::Abandon);
    /// ```
    pub fn on_timeout(mut self, rule: crate::OnTimeout) -> Self {
        self.config.on_timeout = rule;
        self
    }

    /// The name given to each connection with `CLIENT SETNAME` (shown by `CLIENT LIST`).
    ///
    /// # Errors
    ///
    /// Redis refuses empty names and names with spaces, newlines or non-printable or
    /// non-ASCII characters; such a name is reported at `build()`.
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        match check_client_name(&name) {
            Err(problem) => self.set_error("client_name", Some(problem)),
            Ok(()) => {
                self.set_error("client_name", None);
                self.config.client_name = Some(name);
            }
        }
        self
    }

    /// Prepended to every key of every command, and removed from keys in replies. Accepts
    /// `&str`, `String`, `&[u8]`, `Vec<u8>` or `Bytes`; an empty prefix means none.
    ///
    /// Applies to the command methods and to `cmd()` alike: keys are found from the command
    /// specs as the server's `COMMAND GETKEYS` finds them (EVAL/FCALL keys through their key
    /// count, XREAD's streams, MIGRATE's KEYS, SORT's STORE, ...), and the key patterns of
    /// KEYS, SCAN … MATCH and SORT … BY/GET are prefixed too. Values, hash fields, set and
    /// sorted-set members, HSCAN/SSCAN/ZSCAN patterns and channel names are not. In KEYS and
    /// SCAN patterns the prefix's own glob characters (`*?[]\`) are escaped so it matches
    /// itself only; a prefix holding `*` is refused for SORT's BY/GET patterns. Keys that
    /// replies return (KEYS, SCAN, RANDOMKEY, BLPOP's and the other pops' key, XREAD's
    /// stream names, CLUSTER GETKEYSINSLOT) come back without it.
    ///
    /// A command whose keys cannot be found is refused with
    /// [`Error::Usage`](crate::Error::Usage) rather than sent half-prefixed: one the specs do
    /// not know (a module's) unless its keys are added with [`Cmd::key`](crate::Cmd::key), a
    /// call with the wrong number of arguments, a key count larger than the keys after it.
    /// [`Cmd::no_prefix`](crate::Cmd::no_prefix) sends one command as written. Keys that
    /// Lua scripts or functions build themselves are beyond the client's reach.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = redpoll::ClientBuilder::new().prefix("myapp:");
    /// let builder = redpoll::ClientBuilder::new().prefix(bytes::Bytes::from_static(b"t:"));
    /// ```
    pub fn prefix(mut self, prefix: impl AsRef<[u8]>) -> Self {
        let prefix = prefix.as_ref();
        self.config.prefix = (!prefix.is_empty()).then(|| Bytes::copy_from_slice(prefix));
        self
    }

    /// Called after every successful connect and reconnect (handshake done). It may run on
    /// the client's I/O thread: keep it short, and never wait on a command from inside it. A
    /// panic in the hook is caught and ignored.
    pub fn on_connect(mut self, hook: impl Fn(&ConnectInfo) + Send + Sync + 'static) -> Self {
        self.config.on_connect = Some(Hook::new(hook));
        self
    }

    /// Called when an established connection goes away, with the reason. Same rules as
    /// [`on_connect`](Self::on_connect).
    pub fn on_disconnect(
        mut self,
        hook: impl Fn(&DisconnectReason) + Send + Sync + 'static,
    ) -> Self {
        self.config.on_disconnect = Some(Hook::new(hook));
        self
    }

    /// Called for connection-level errors (a failed connect, a broken connection, a refused
    /// handshake), not for errors returned to one request. Same rules as
    /// [`on_connect`](Self::on_connect).
    pub fn on_error(mut self, hook: impl Fn(&Error) + Send + Sync + 'static) -> Self {
        self.config.on_error = Some(Hook::new(hook));
        self
    }

    /// Set `TCP_NODELAY` (default true: requests are not held back by Nagle's algorithm).
    pub fn tcp_nodelay(mut self, nodelay: bool) -> Self {
        self.config.tcp_nodelay = nodelay;
        self
    }

    /// TCP keepalive idle time (default 60 s); `None` turns keepalive off.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let on = redpoll::ClientBuilder::new().tcp_keepalive(Duration::from_secs(30));
    /// let off = redpoll::ClientBuilder::new().tcp_keepalive(None);
    /// ```
    pub fn tcp_keepalive(mut self, idle: impl Into<Option<Duration>>) -> Self {
        match idle.into() {
            None => {
                self.set_error("tcp_keepalive", None);
                self.config.tcp_keepalive = None;
            }
            Some(d) => {
                if let Some(d) = self.positive("tcp_keepalive", d) {
                    self.config.tcp_keepalive = Some(d);
                }
            }
        }
        self
    }

    /// The socket receive buffer size (`SO_RCVBUF`); by default the OS decides.
    pub fn recv_buffer_size(mut self, bytes: usize) -> Self {
        if let Some(n) = self.count_in("recv_buffer_size", bytes, 1, i32::MAX as usize) {
            self.config.recv_buffer_size = Some(n);
        }
        self
    }

    /// The socket send buffer size (`SO_SNDBUF`); by default the OS decides.
    pub fn send_buffer_size(mut self, bytes: usize) -> Self {
        if let Some(n) = self.count_in("send_buffer_size", bytes, 1, i32::MAX as usize) {
            self.config.send_buffer_size = Some(n);
        }
        self
    }

    /// The largest bulk string accepted from the server (default 512 MiB, Redis's own limit).
    /// A larger one is a protocol error that closes the connection.
    pub fn max_bulk_len(mut self, bytes: usize) -> Self {
        if let Some(n) = self.count_in("max_bulk_len", bytes, 1, usize::MAX) {
            self.config.max_bulk_len = n;
        }
        self
    }

    /// The deepest nesting of arrays and maps accepted from the server (default 128, at most
    /// 1024). Deeper replies are a protocol error that closes the connection.
    pub fn max_depth(mut self, depth: usize) -> Self {
        if let Some(n) = self.count_in("max_depth", depth, 1, MAX_MAX_DEPTH) {
            self.config.max_depth = n;
        }
        self
    }

    /// Commands that are safe to send again after a connection broke while they were in
    /// flight (replaces an earlier list; names are case-insensitive).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = redpoll::ClientBuilder::new().idempotent_commands(&["GET", "mget", "SET"]);
    /// ```
    pub fn idempotent_commands<I>(mut self, commands: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut names = Vec::new();
        let mut problem = None;
        for command in commands {
            match normalize_command("idempotent_commands", command.as_ref()) {
                Ok(name) if !names.contains(&name) => names.push(name),
                Ok(_) => {}
                Err(p) => problem = problem.or(Some(p)),
            }
        }
        if problem.is_none() {
            self.config.idempotent_commands = names;
        }
        self.set_error("idempotent_commands", problem);
        self
    }

    /// Retry commands that may already have executed (the connection broke after they were
    /// written) even when they are not declared idempotent (default false).
    pub fn retry_maybe_executed(mut self, retry: bool) -> Self {
        self.config.retry_maybe_executed = retry;
        self
    }

    /// Replaces the built-in retry policy with your own: for every failed attempt it gets the
    /// attempt number (1 for the first failure), the error and the command's entry in the
    /// command table (`None` for a command the table does not know), and returns the delay
    /// before sending the command again, or `None` to give up with that error.
    ///
    /// It sees every failure except conversion errors: error replies (`LOADING`, `BUSY`,
    /// `WRONGTYPE`, …), timeouts and connection errors — including `maybe_executed()` ones,
    /// so checking [`Error::maybe_executed`] is up to it. With a policy set, the built-in
    /// resends (of `LOADING`/`BUSY`/`TRYAGAIN` replies and, with `retry_maybe_executed`, of
    /// idempotent commands after a lost connection) are off. The policy runs on the thread
    /// that waits for the reply (or polls its future), never on the I/O thread; the delay is
    /// kept by the I/O thread's timer, so awaiting needs no timer from the executor.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = redpoll::ClientBuilder::new().retry_policy(|attempt, err, _command| {
    ///     let transient = err.server_code() == Some("LOADING") || err.is_timeout();
    ///     (transient && attempt < 5).then(|| Duration::from_millis(50 << attempt))
    /// });
    /// ```
    pub fn retry_policy<F>(mut self, policy: F) -> Self
    where
        F: Fn(u32, &Error, Option<&'static crate::commands::CommandInfo>) -> Option<Duration>
            + Send
            + Sync
            + 'static,
    {
        self.config.retry_policy = Some(RetryPolicy(std::sync::Arc::new(policy)));
        self
    }

    /// Checks everything and returns the configuration the reactor reads. Reads TLS files.
    ///
    /// # Errors
    ///
    /// One [`Error::Config`] listing every problem remembered by the setters and found here
    /// (reconnect delays out of order, TLS over a unix socket, unreadable TLS files), joined
    /// with `"; "`.
    pub(crate) fn into_config(self) -> Result<Config, Error> {
        let mut problems: Vec<String> = self.errors.into_iter().map(|(_, p)| p).collect();
        let mut config = self.config;
        if config.reconnect_delay > config.reconnect_delay_max {
            problems.push(format!(
                "reconnect_delay: {:?} is longer than reconnect_delay_max {:?}",
                config.reconnect_delay, config.reconnect_delay_max
            ));
        }
        if self.tls_from_scheme || self.tls.is_some() {
            if let ServerAddr::Unix(path) = &config.addr {
                problems.push(format!(
                    "tls: not available over the unix socket {:?}",
                    path.display().to_string()
                ));
            } else if !cfg!(feature = "tls") {
                problems.push(
                    "tls: this build of redpoll has no TLS support (enable the \"tls\" feature)"
                        .into(),
                );
            } else {
                match self.tls.unwrap_or_default().load() {
                    Ok(tls) => config.tls = Some(tls),
                    Err(problem) => problems.push(problem),
                }
            }
        }
        match problems.is_empty() {
            true => Ok(config),
            false => Err(Error::config(problems.join("; "))),
        }
    }
}

/// The message of an [`Error::Config`] (what `parse_url` returns), to be remembered.
fn config_message(err: Error) -> String {
    match err {
        Error::Config(message) => message,
        other => other.to_string(),
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("tls_from_scheme", &self.tls_from_scheme)
            .field("tls", &self.tls)
            .field("errors", &self.errors.iter().map(|(_, p)| p).collect::<Vec<_>>())
            .finish()
    }
}
