//! [`Config`]: the validated configuration the reactor reads, with its defaults.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::commands::CommandInfo;

use super::{ConnectInfo, DisconnectReason, Protocol, Secret, TlsConfig};
use crate::Error;

/// Default connect timeout (API.md: 10 s).
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default read timeout (API.md: 30 s).
pub(crate) const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default write timeout (API.md: 30 s).
pub(crate) const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default request timeout (API.md: 5 s).
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Default slack added to a blocking command's own timeout (API.md: 2 s).
pub(crate) const DEFAULT_BLOCKING_TIMEOUT_BUFFER: Duration = Duration::from_secs(2);
/// Default first reconnect delay (API.md: 100 ms).
pub(crate) const DEFAULT_RECONNECT_DELAY: Duration = Duration::from_millis(100);
/// Default cap of the reconnect delay (API.md: 60 s).
pub(crate) const DEFAULT_RECONNECT_DELAY_MAX: Duration = Duration::from_secs(60);
/// Default reconnect jitter (API.md: 0.25).
pub(crate) const DEFAULT_RECONNECT_JITTER: f64 = 0.25;
/// Default number of commands waiting to be written (API.md: 1000).
pub(crate) const DEFAULT_QUEUE_SIZE: usize = 1000;
/// Largest accepted `queue_size`, so a typo cannot make the reactor reserve gigabytes.
pub(crate) const MAX_QUEUE_SIZE: usize = 1 << 20;
/// Default bound of a client's dedicated connections (blocking commands, `dedicated()`).
pub(crate) const DEFAULT_MAX_DEDICATED: usize = 8;
/// Largest accepted `max_dedicated`.
pub(crate) const MAX_MAX_DEDICATED: usize = 1024;
/// Default time an unused dedicated connection stays open.
pub(crate) const DEFAULT_DEDICATED_IDLE: Duration = Duration::from_secs(60);
/// Default TCP keepalive idle time.
pub(crate) const DEFAULT_TCP_KEEPALIVE: Duration = Duration::from_secs(60);
/// Default largest bulk string the parser accepts (Redis's own `proto-max-bulk-len`).
pub(crate) const DEFAULT_MAX_BULK_LEN: usize = 512 * 1024 * 1024;
/// Default deepest nesting of aggregates the parser accepts.
pub(crate) const DEFAULT_MAX_DEPTH: usize = 128;
/// Largest accepted `max_depth`.
pub(crate) const MAX_MAX_DEPTH: usize = 1024;
/// The host used when the builder is given no address.
pub(crate) const DEFAULT_HOST: &str = "127.0.0.1";

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServerAddr {
    /// A host name or IP address (IPv6 without brackets) and a port. Resolving the name is the
    /// reactor's resolver's job, never the I/O thread's.
    Tcp {
        /// DNS name, IPv4 or IPv6 address.
        host: String,
        /// 1..=65535.
        port: u16,
    },
    /// A unix domain socket path.
    Unix(PathBuf),
}

impl fmt::Display for ServerAddr {
    /// `host:port`, `[v6]:port`, or the socket path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerAddr::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            ServerAddr::Tcp { host, port } => write!(f, "{host}:{port}"),
            ServerAddr::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A user callback: `on_connect`, `on_disconnect` or `on_error`.
///
/// `Debug` prints `<fn>`. [`call`](Hook::call) swallows a panic in the callback, so a buggy
/// hook cannot take down the thread that runs it.
pub(crate) struct Hook<A: ?Sized>(Arc<dyn Fn(&A) + Send + Sync>);

impl<A: ?Sized> Hook<A> {
    pub(crate) fn new(f: impl Fn(&A) + Send + Sync + 'static) -> Self {
        Hook(Arc::new(f))
    }

    /// Runs the callback; returns false if it panicked (the panic is contained).
    pub(crate) fn call(&self, arg: &A) -> bool {
        catch_unwind(AssertUnwindSafe(|| (self.0)(arg))).is_ok()
    }
}

impl<A: ?Sized> Clone for Hook<A> {
    fn clone(&self) -> Self {
        Hook(Arc::clone(&self.0))
    }
}

impl<A: ?Sized> fmt::Debug for Hook<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<fn>")
    }
}

/// The validated configuration of a client, produced by
/// [`ClientBuilder::into_config`](super::ClientBuilder::into_config).
///
/// Every field has been checked: durations that must be positive are, the reconnect delays
/// are ordered, TLS files have been read. `Debug` shows everything except the password and
/// the TLS private key.
///
/// Durations may be as large as `Duration::MAX` (a user's way of saying "practically never"):
/// add them to an `Instant` with `checked_add` and treat `None` as "no deadline".
///
/// `Debug` masks a user name that comes without a password as well: `redis://secret@host` is
/// a user name by the URL standard, but ioredis reads it as a password, so it may be one.
#[derive(Clone)]
pub(crate) struct Config {
    /// Where to connect.
    pub(crate) addr: ServerAddr,
    /// TLS settings; `Some` means the connection uses TLS (`rediss://` or `.tls(..)`). Never
    /// `Some` with a unix socket address.
    pub(crate) tls: Option<TlsConfig>,
    /// ACL user name for `HELLO … AUTH` / `AUTH user pass`. May be set without a password
    /// (`redis://ada@host`): then it is the handshake's call what to send.
    pub(crate) username: Option<String>,
    /// Password; never empty when `Some`.
    pub(crate) password: Option<Secret>,
    /// Database to `SELECT` after connecting; 0 needs no `SELECT`.
    pub(crate) db: u32,
    /// RESP version to negotiate (default RESP2).
    pub(crate) protocol: Protocol,
    /// Name for `CLIENT SETNAME`; already checked against Redis's rules.
    pub(crate) client_name: Option<String>,
    /// Deadline for TCP connect + TLS + Redis handshake (default 10 s; never zero).
    pub(crate) connect_timeout: Duration,
    /// A connection with requests in flight that receives nothing for this long is stalled
    /// (default 30 s; never zero).
    pub(crate) read_timeout: Duration,
    /// A connection with bytes to send that cannot write for this long is stalled
    /// (default 30 s; never zero).
    pub(crate) write_timeout: Duration,
    /// Default per-request deadline (default 5 s; never zero). See
    /// [`timeout_for`](Config::timeout_for) for per-command overrides.
    pub(crate) request_timeout: Duration,
    /// Added to a blocking command's own timeout to get its deadline (default 2 s; may be 0).
    pub(crate) blocking_timeout_buffer: Duration,
    /// Per-command deadlines: (upper-case command name, deadline), last setting wins, no
    /// duplicates. Look up with [`timeout_for`](Config::timeout_for).
    pub(crate) command_timeouts: Vec<(String, Duration)>,
    /// Reconnect after a connection is lost (default true).
    pub(crate) reconnect: bool,
    /// First reconnect delay (default 100 ms; never zero, never above `reconnect_delay_max`).
    pub(crate) reconnect_delay: Duration,
    /// Cap of the growing reconnect delay (default 60 s).
    pub(crate) reconnect_delay_max: Duration,
    /// Fraction of each delay that is randomised, 0.0..=1.0 (default 0.25).
    pub(crate) reconnect_jitter: f64,
    /// Commands that may wait to be written (default 1000; 1..=1_048_576). In-flight commands
    /// do not count.
    pub(crate) queue_size: usize,
    /// Dedicated connections at most, beside the shared one (default 8; 1..=1024).
    pub(crate) max_dedicated: usize,
    /// An unused dedicated connection is closed after this long (default 60 s).
    pub(crate) dedicated_idle_timeout: Duration,
    /// What a late request does to the shared connection (default `Reset`).
    pub(crate) on_timeout: super::OnTimeout,
    /// Prepended to every key; `None` when empty.
    pub(crate) prefix: Option<Bytes>,
    /// Called after each successful handshake.
    pub(crate) on_connect: Option<Hook<ConnectInfo>>,
    /// Called when an established connection goes away.
    pub(crate) on_disconnect: Option<Hook<DisconnectReason>>,
    /// Called for connection-level errors (failed connects, broken connections, handshake
    /// refusals), not for errors returned to a single request.
    pub(crate) on_error: Option<Hook<Error>>,
    /// `TCP_NODELAY` (default true).
    pub(crate) tcp_nodelay: bool,
    /// TCP keepalive idle time; `None` disables keepalive (default 60 s; never zero).
    pub(crate) tcp_keepalive: Option<Duration>,
    /// `SO_RCVBUF`; `None` keeps the OS default (never zero).
    pub(crate) recv_buffer_size: Option<usize>,
    /// `SO_SNDBUF`; `None` keeps the OS default (never zero).
    pub(crate) send_buffer_size: Option<usize>,
    /// Largest bulk string the parser accepts (default 512 MiB; never zero).
    pub(crate) max_bulk_len: usize,
    /// Deepest aggregate nesting the parser accepts (default 128; 1..=1024).
    pub(crate) max_depth: usize,
    /// Upper-case names of commands that may be retried even after they were written.
    pub(crate) idempotent_commands: Vec<String>,
    /// Retry commands that may have executed (`maybe_executed`) even if not idempotent
    /// (default false).
    pub(crate) retry_maybe_executed: bool,
    /// The user's retry policy, replacing the built-in one.
    pub(crate) retry_policy: Option<RetryPolicy>,
}

/// A user's retry policy: `(attempt, error, command) -> Some(delay)` to send the command
/// again after `delay`, `None` to give up. Runs on the caller's thread, never the I/O thread.
#[derive(Clone)]
pub(crate) struct RetryPolicy(pub(crate) Arc<RetryFn>);

/// The signature of a retry policy.
pub(crate) type RetryFn =
    dyn Fn(u32, &Error, Option<&'static CommandInfo>) -> Option<Duration> + Send + Sync;

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<fn>")
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let username = match (&self.username, &self.password) {
            (Some(name), Some(_)) => Some(name.as_str()),
            (Some(_), None) => Some("***"),
            (None, _) => None,
        };
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .field("username", &username)
            .field("password", &self.password)
            .field("db", &self.db)
            .field("protocol", &self.protocol)
            .field("client_name", &self.client_name)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("blocking_timeout_buffer", &self.blocking_timeout_buffer)
            .field("command_timeouts", &self.command_timeouts)
            .field("reconnect", &self.reconnect)
            .field("reconnect_delay", &self.reconnect_delay)
            .field("reconnect_delay_max", &self.reconnect_delay_max)
            .field("reconnect_jitter", &self.reconnect_jitter)
            .field("queue_size", &self.queue_size)
            .field("max_dedicated", &self.max_dedicated)
            .field("dedicated_idle_timeout", &self.dedicated_idle_timeout)
            .field("on_timeout", &self.on_timeout)
            .field("prefix", &self.prefix)
            .field("on_connect", &self.on_connect)
            .field("on_disconnect", &self.on_disconnect)
            .field("on_error", &self.on_error)
            .field("tcp_nodelay", &self.tcp_nodelay)
            .field("tcp_keepalive", &self.tcp_keepalive)
            .field("recv_buffer_size", &self.recv_buffer_size)
            .field("send_buffer_size", &self.send_buffer_size)
            .field("max_bulk_len", &self.max_bulk_len)
            .field("max_depth", &self.max_depth)
            .field("idempotent_commands", &self.idempotent_commands)
            .field("retry_maybe_executed", &self.retry_maybe_executed)
            .field("retry_policy", &self.retry_policy)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: ServerAddr::Tcp { host: DEFAULT_HOST.to_owned(), port: super::uri::DEFAULT_PORT },
            tls: None,
            username: None,
            password: None,
            db: 0,
            protocol: Protocol::Resp2,
            client_name: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            blocking_timeout_buffer: DEFAULT_BLOCKING_TIMEOUT_BUFFER,
            command_timeouts: Vec::new(),
            reconnect: true,
            reconnect_delay: DEFAULT_RECONNECT_DELAY,
            reconnect_delay_max: DEFAULT_RECONNECT_DELAY_MAX,
            reconnect_jitter: DEFAULT_RECONNECT_JITTER,
            queue_size: DEFAULT_QUEUE_SIZE,
            max_dedicated: DEFAULT_MAX_DEDICATED,
            dedicated_idle_timeout: DEFAULT_DEDICATED_IDLE,
            on_timeout: super::OnTimeout::Reset,
            prefix: None,
            on_connect: None,
            on_disconnect: None,
            on_error: None,
            tcp_nodelay: true,
            tcp_keepalive: Some(DEFAULT_TCP_KEEPALIVE),
            recv_buffer_size: None,
            send_buffer_size: None,
            max_bulk_len: DEFAULT_MAX_BULK_LEN,
            max_depth: DEFAULT_MAX_DEPTH,
            idempotent_commands: Vec::new(),
            retry_maybe_executed: false,
            retry_policy: None,
        }
    }
}

// `timeout_for` and `is_idempotent` are exercised by the config tests only: the client keeps its
// own hashed per-command timeouts and idempotency check (client.rs) on the hot path.
#[cfg_attr(not(test), allow(dead_code))]
impl Config {
    /// The deadline for a command: its `command_timeout` override if one was set (name
    /// compared case-insensitively; `b"CLIENT LIST"` matches a `"client list"` override),
    /// otherwise `request_timeout`.
    pub(crate) fn timeout_for(&self, command: &[u8]) -> Duration {
        self.command_timeouts
            .iter()
            .find(|(name, _)| name.as_bytes().eq_ignore_ascii_case(command))
            .map_or(self.request_timeout, |&(_, d)| d)
    }

    /// True if the command was declared idempotent (name compared case-insensitively).
    pub(crate) fn is_idempotent(&self, command: &[u8]) -> bool {
        self.idempotent_commands.iter().any(|name| name.as_bytes().eq_ignore_ascii_case(command))
    }

    /// The [`ConnectInfo`] for a finished handshake on this configuration.
    pub(crate) fn connect_info(&self, server_version: Option<String>) -> ConnectInfo {
        ConnectInfo {
            address: self.addr.to_string(),
            db: self.db,
            protocol: self.protocol,
            client_name: self.client_name.clone(),
            server_version,
        }
    }
}
