//! [`PoolBuilder`]: the client's options, forwarded, and the pool's own.

use std::path::Path;
use std::time::Duration;

use super::{OnDirty, Pool};
use crate::client::{ClientCore, PoolShape};
use crate::config::MAX_MAX_DEDICATED;
use crate::error::Error;
use crate::proto::spares::SparesConfig;
use crate::reactor::PoolPolicy;
use crate::{ClientBuilder, ConnectInfo, DisconnectReason, Tls};

/// Options of a [`Pool`]: every [`ClientBuilder`] option (the same names, or a whole
/// builder through [`client`](Self::client)), and `min`, `max`, `acquire_timeout`,
/// `idle_timeout`, `health_check_after`, `on_dirty` and `cleanup_timeout`. Invalid values
/// are reported together by [`build`](Self::build).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
///
/// # fn main() -> Result<(), redpoll::Error> {
/// let pool = redpoll::Pool::builder()
///     .url("redis://127.0.0.1:6379/1")
///     .client_name("jobs")
///     .min(1)
///     .max(16)
///     .idle_timeout(Duration::from_secs(30))
///     .health_check_after(Duration::from_secs(10))
///     .on_dirty(redpoll::OnDirty::Cleanup)
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct PoolBuilder {
    client: ClientBuilder,
    min: usize,
    max: usize,
    acquire_timeout: Duration,
    idle_timeout: Duration,
    health_check_after: Option<Duration>,
    on_dirty: OnDirty,
    cleanup_timeout: Duration,
}

impl std::fmt::Debug for PoolBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolBuilder")
            .field("min", &self.min)
            .field("max", &self.max)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("health_check_after", &self.health_check_after)
            .field("on_dirty", &self.on_dirty)
            .field("cleanup_timeout", &self.cleanup_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for PoolBuilder {
    fn default() -> Self {
        PoolBuilder::new()
    }
}

/// Forwards client options to the inner [`ClientBuilder`].
macro_rules! forward {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        $(#[$doc])*
        ///
        /// The [`ClientBuilder`] option of the same name, for every connection of the pool.
        pub fn $name(mut self, $($arg: $ty),*) -> Self {
            self.client = self.client.$name($($arg),*);
            self
        }
    )*};
}

impl PoolBuilder {
    /// The defaults: `min` 0, `max` 10, `acquire_timeout` 5 s, `idle_timeout` 60 s,
    /// `health_check_after` 30 s, `on_dirty` [`OnDirty::Destroy`], `cleanup_timeout` 1 s,
    /// and the client's defaults (`redis://127.0.0.1:6379`).
    pub fn new() -> Self {
        PoolBuilder {
            client: ClientBuilder::new(),
            min: 0,
            max: 10,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            health_check_after: Some(Duration::from_secs(30)),
            on_dirty: OnDirty::Destroy,
            cleanup_timeout: Duration::from_secs(1),
        }
    }

    /// Every client option at once, from a configured [`ClientBuilder`] (its `max_dedicated`
    /// and `dedicated_idle_timeout` do not apply: a pool has `max` and `idle_timeout`).
    ///
    /// # Examples
    ///
    /// ```
    /// let client = redpoll::Client::builder().url("redis://127.0.0.1:6379").db(3);
    /// let pool = redpoll::Pool::builder().client(client).max(4);
    /// ```
    pub fn client(mut self, client: ClientBuilder) -> Self {
        self.client = client;
        self
    }

    forward! {
        /// The server's URI.
        url(url: impl AsRef<str>);
        /// The server's host.
        host(host: impl Into<String>);
        /// The server's port.
        port(port: u16);
        /// A unix socket path.
        path(path: impl AsRef<Path>);
        /// The ACL user.
        username(username: impl Into<String>);
        /// The password.
        password(password: impl AsRef<[u8]>);
        /// The database each connection starts in.
        db(db: u32);
        /// RESP2 or RESP3.
        protocol(version: u8);
        /// TLS options.
        tls(tls: Tls);
        /// Connect timeout (the health check's deadline is this or 1 s, the shorter).
        connect_timeout(timeout: Duration);
        /// Read-stall timeout.
        read_timeout(timeout: Duration);
        /// Write-stall timeout.
        write_timeout(timeout: Duration);
        /// Default per-request timeout.
        request_timeout(timeout: Duration);
        /// Extra time a blocking command's deadline gets beyond its server-side timeout.
        blocking_timeout_buffer(buffer: Duration);
        /// A timeout for one command by name.
        command_timeout(command: impl AsRef<str>, timeout: Duration);
        /// Reconnect a connection whose link failed.
        reconnect(reconnect: bool);
        /// First reconnect delay.
        reconnect_delay(delay: Duration);
        /// Longest reconnect delay.
        reconnect_delay_max(delay: Duration);
        /// Reconnect jitter.
        reconnect_jitter(jitter: f64);
        /// Offline queue size per connection.
        queue_size(size: usize);
        /// What a passed deadline does.
        on_timeout(rule: crate::OnTimeout);
        /// CLIENT SETNAME for each connection.
        client_name(name: impl Into<String>);
        /// A key prefix for every command.
        prefix(prefix: impl AsRef<[u8]>);
        /// TCP_NODELAY.
        tcp_nodelay(nodelay: bool);
        /// TCP keepalive.
        tcp_keepalive(idle: impl Into<Option<Duration>>);
        /// SO_RCVBUF.
        recv_buffer_size(bytes: usize);
        /// SO_SNDBUF.
        send_buffer_size(bytes: usize);
        /// Largest bulk string accepted.
        max_bulk_len(bytes: usize);
        /// Deepest nesting accepted.
        max_depth(depth: usize);
        /// Resend idempotent commands after a lost connection.
        retry_maybe_executed(retry: bool);
    }

    /// Called (off the I/O thread) when a connection of the pool is established.
    pub fn on_connect(mut self, hook: impl Fn(&ConnectInfo) + Send + Sync + 'static) -> Self {
        self.client = self.client.on_connect(hook);
        self
    }

    /// Called when an established connection of the pool goes away.
    pub fn on_disconnect(
        mut self,
        hook: impl Fn(&DisconnectReason) + Send + Sync + 'static,
    ) -> Self {
        self.client = self.client.on_disconnect(hook);
        self
    }

    /// Called for connection-level errors of the pool's connections.
    pub fn on_error(mut self, hook: impl Fn(&Error) + Send + Sync + 'static) -> Self {
        self.client = self.client.on_error(hook);
        self
    }

    /// Connections kept open at least (default 0): opened at [`build`](Self::build) (in
    /// the background, like a client's), never closed for idleness, and replaced when one
    /// is destroyed.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = redpoll::Pool::builder().min(2).max(8);
    /// ```
    pub fn min(mut self, min: usize) -> Self {
        self.min = min;
        self
    }

    /// Connections at most, lent and idle together (default 10, at most 1024).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = redpoll::Pool::builder().max(32);
    /// ```
    pub fn max(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    /// How long [`acquire`](Pool::acquire) waits when all `max` are lent (default 5 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = redpoll::Pool::builder().acquire_timeout(std::time::Duration::from_millis(200));
    /// ```
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// An idle connection beyond `min` closes after this long unused (default 60 s; on the
    /// I/O thread's 100 ms sweep).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = redpoll::Pool::builder().idle_timeout(std::time::Duration::from_secs(10));
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// An idle connection unused this long is PINGed before it is lent (default 30 s; the
    /// PING's deadline is 1 s, or `connect_timeout` if shorter); one that fails is destroyed
    /// (counted in
    /// [`PoolStats::health_check_failures`](crate::PoolStats)) and a new one is opened for
    /// the same caller. `None` lends idle connections unchecked. (An idle connection whose
    /// link the server closed, by CLIENT KILL or a restart, is destroyed as soon as the I/O
    /// thread sees it go, without waiting for a check, and replaced up to `min` at the next
    /// 100 ms sweep.)
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = redpoll::Pool::builder()
    ///     .health_check_after(Some(std::time::Duration::from_secs(5)));
    /// ```
    pub fn health_check_after(mut self, after: impl Into<Option<Duration>>) -> Self {
        self.health_check_after = after.into();
        self
    }

    /// What happens to a connection given back dirty (default [`OnDirty::Destroy`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = redpoll::Pool::builder().on_dirty(redpoll::OnDirty::Cleanup);
    /// ```
    pub fn on_dirty(mut self, on_dirty: OnDirty) -> Self {
        self.on_dirty = on_dirty;
        self
    }

    /// With [`OnDirty::Cleanup`]: how long DISCARD/UNWATCH may take before the connection is
    /// destroyed after all (default 1 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = redpoll::Pool::builder()
    ///     .on_dirty(redpoll::OnDirty::Cleanup)
    ///     .cleanup_timeout(std::time::Duration::from_millis(250));
    /// ```
    pub fn cleanup_timeout(mut self, timeout: Duration) -> Self {
        self.cleanup_timeout = timeout;
        self
    }

    /// Validates every option and starts the pool: `min` connections start connecting in
    /// the background and `build` returns at once.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming every invalid option: a client option, `max` of 0 or above
    /// 1024, `min` above `max`, a zero timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = redpoll::Pool::builder().min(5).max(2).build().unwrap_err();
    /// assert!(err.to_string().contains("min"));
    /// ```
    pub fn build(self) -> Result<Pool, Error> {
        let mut problems = Vec::new();
        let config = match self.client.into_config() {
            Ok(c) => Some(c),
            Err(Error::Config(p)) => {
                problems.push(p);
                None
            }
            Err(e) => return Err(e),
        };
        if self.max == 0 || self.max > MAX_MAX_DEDICATED {
            problems.push(format!(
                "max: {} is out of range: a pool holds 1 to {MAX_MAX_DEDICATED} connections",
                self.max
            ));
        }
        if self.min > self.max {
            problems.push(format!("min: {} is more than max {}", self.min, self.max));
        }
        let zero = |name: &str, d: Duration, problems: &mut Vec<String>| {
            if d.is_zero() {
                problems.push(format!("{name}: must be greater than zero"));
            }
        };
        zero("acquire_timeout", self.acquire_timeout, &mut problems);
        zero("idle_timeout", self.idle_timeout, &mut problems);
        zero("cleanup_timeout", self.cleanup_timeout, &mut problems);
        if let Some(h) = self.health_check_after {
            zero("health_check_after", h, &mut problems);
        }
        let config = match (config, problems.is_empty()) {
            (Some(config), true) => config,
            _ => return Err(Error::config(problems.join("; "))),
        };
        let shape = PoolShape {
            spares: SparesConfig {
                min: self.min,
                max: self.max,
                idle_ms: millis(self.idle_timeout),
            },
            policy: PoolPolicy {
                health_ms: self.health_check_after.map(millis),
                check_ms: millis(config.connect_timeout.min(HEALTH_CHECK_DEADLINE)),
                cleanup_ms: (self.on_dirty == OnDirty::Cleanup)
                    .then(|| millis(self.cleanup_timeout)),
                bound: "max",
            },
        };
        let core = ClientCore::start(config, Some(shape))?;
        Ok(Pool { core, acquire_timeout: self.acquire_timeout })
    }
}

/// The longest a health check's PING may take (shorter when `connect_timeout` is).
const HEALTH_CHECK_DEADLINE: Duration = Duration::from_secs(1);

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 2)
}
