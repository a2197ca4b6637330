//! `Client`: one multiplexed connection shared by every clone, served by the I/O thread.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::commands::{self, BlockTimeout, CommandFlags};
use crate::config::{ClientBuilder, Config};
use crate::error::Error;
use crate::handle::Cmd;
use crate::proto::backoff::Backoff;
use crate::proto::handshake::{Handshake, HandshakeConfig};
use crate::proto::session::SessionConfig;
use crate::reactor::{Hooks, Reactor, ReplyTx, Submission, TcpOptions, TlsConnector};
use crate::resp::{CommandBuf, Limits, Value};

/// A Redis client: one connection, multiplexed, shared by every clone.
///
/// `Client` is `Clone + Send + Sync`; clones are cheap and share the connection. All clients
/// of a process are served by one I/O thread. Dropping the last clone closes the connection
/// (its pending requests fail with [`Error::Disconnected`]).
///
/// # Examples
///
/// ```no_run
/// use redpoll::Client;
///
/// # fn main() -> Result<(), redpoll::Error> {
/// let client = Client::open("redis://127.0.0.1:6379/0")?;
/// client.set("greeting", "hello").wait()?;
/// let n: i64 = client.incr("hits").wait()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    core: Arc<ClientCore>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.core.id)
            .field("server", &self.core.server)
            .finish()
    }
}

/// What every command of one connection needs on the caller's side.
pub(crate) struct ClientCore {
    reactor: Reactor,
    id: u64,
    /// The server, for Debug (no credentials).
    server: String,
    pub(crate) limits: Limits,
    request_timeout: Option<Duration>,
    blocking_buffer: Duration,
    /// Per-command timeouts, keyed by upper-case command name.
    command_timeouts: HashMap<Vec<u8>, Duration>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// For a command that blocks on the server (BLPOP & co, XREAD BLOCK, WAIT): `Some(None)` when
/// it blocks forever, `Some(Some(t))` for its server-side timeout; `None` for every other
/// command (including a blocking one with an invalid timeout, which the server refuses at once).
fn server_timeout(buf: &CommandBuf) -> Option<Option<Duration>> {
    let name = buf.args().next()?;
    let info = commands::lookup(&[name])?;
    // Cheap test first: the arguments are gathered only for the few commands that block.
    let may_block =
        info.flags.contains(CommandFlags::BLOCKING) || matches!(info.name, "WAIT" | "WAITAOF");
    if !may_block {
        return None;
    }
    let args: Vec<&[u8]> = buf.args().collect();
    match commands::is_blocking(info, &args)? {
        BlockTimeout::Forever => Some(None),
        BlockTimeout::Millis(ms) => Some(Some(Duration::from_millis(ms))),
        BlockTimeout::Invalid => None,
    }
}

/// A duration in whole milliseconds, saturating (`Duration::MAX` means "practically never").
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 2)
}

impl ClientBuilder {
    /// Validates every option and starts the client: it connects in the background and
    /// `build` returns at once.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming every invalid option or URI part; [`Error::Tls`] for TLS files
    /// that cannot be used.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), redpoll::Error> {
    /// let client = redpoll::Client::builder()
    ///     .url("redis://127.0.0.1:6379/2")
    ///     .request_timeout(Duration::from_secs(2))
    ///     .client_name("myapp")
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn build(self) -> Result<Client, Error> {
        Client::from_config(self.into_config()?)
    }
}

impl Drop for ClientCore {
    fn drop(&mut self) {
        self.reactor.submit(Submission::Close { id: self.id });
    }
}

impl ClientCore {
    pub(crate) fn submit(
        &self,
        bytes: Bytes,
        reply: ReplyTx,
        timeout_ms: Option<u64>,
        blocking: bool,
    ) {
        self.reactor.submit(Submission::Command {
            id: self.id,
            bytes,
            reply,
            timeout_ms,
            blocking,
        });
    }

    pub(crate) fn submit_connect(&self, reply: ReplyTx) {
        self.reactor.submit(Submission::Connect { id: self.id, reply });
    }

    /// The timeout of one command, in ms (`None`: no client deadline), and whether it blocks
    /// on the server.
    ///
    /// An explicit `.timeout()` wins; a blocking command gets its server-side timeout plus
    /// `blocking_timeout_buffer`, and no deadline when it blocks forever; then a per-command
    /// override by name; then `request_timeout`.
    pub(crate) fn deadline_for(
        &self,
        buf: &CommandBuf,
        explicit: Option<Duration>,
    ) -> (Option<u64>, bool) {
        let ms = |d: Duration| Some(millis(d));
        let blocking = server_timeout(buf);
        if let Some(t) = explicit {
            return (ms(t), blocking.is_some());
        }
        match blocking {
            Some(Some(server)) => (ms(server.saturating_add(self.blocking_buffer)), true),
            Some(None) => (None, true),
            None => (self.override_for(buf).or(self.request_timeout).and_then(ms), false),
        }
    }

    /// The per-command timeout for this command's name (or "NAME SUBCOMMAND"), if set.
    fn override_for(&self, buf: &CommandBuf) -> Option<Duration> {
        if self.command_timeouts.is_empty() {
            return None;
        }
        let mut args = buf.args();
        let mut upper = args.next()?.to_ascii_uppercase();
        if let Some(t) = self.command_timeouts.get(&upper) {
            return Some(*t);
        }
        upper.push(b' ');
        upper.extend(args.next()?.iter().map(u8::to_ascii_uppercase));
        self.command_timeouts.get(&upper).copied()
    }
}

impl Client {
    /// Opens a client for a URI: validates it, starts connecting in the background and
    /// returns at once.
    ///
    /// URIs: `redis://[[username][:password]@]host[:port][/db]`, `rediss://…` (TLS),
    /// `redis+unix:///path/to/sock?db=N` (also `unix://`).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the bad part of the URI.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// let client = redpoll::Client::open("redis://127.0.0.1:6379/0")?;
    /// client.connect().wait()?; // optional: wait for the handshake
    /// # Ok(()) }
    /// ```
    pub fn open(url: &str) -> Result<Client, Error> {
        Client::builder().url(url).build()
    }

    /// A builder for every option: timeouts, reconnect, queue size, name, callbacks, TLS.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// Starts a client from a validated configuration.
    pub(crate) fn from_config(config: Config) -> Result<Client, Error> {
        // Built once per client: every reconnect shares it, and its session cache.
        let tls = match &config.tls {
            Some(tls) => Some(TlsConnector::new(tls, &config.addr)?),
            None => None,
        };
        let reactor = Reactor::global()?;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let limits = Limits {
            max_bulk_len: config.max_bulk_len,
            max_depth: config.max_depth,
            ..Limits::default()
        };
        let handshake = Handshake::new(&HandshakeConfig {
            protocol: config.protocol.version(),
            username: config.username.clone(),
            password: config.password.as_ref().map(|p| p.expose().to_vec()),
            db: i64::from(config.db),
            client_name: config.client_name.clone(),
        });
        let handshake = if tls.is_some() { handshake.confirmed() } else { handshake };
        let seed = id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
        let session = SessionConfig {
            handshake,
            connect_timeout: millis(config.connect_timeout),
            read_timeout: Some(millis(config.read_timeout)),
            write_timeout: Some(millis(config.write_timeout)),
            reconnect: config.reconnect,
            backoff: Backoff::new(
                millis(config.reconnect_delay),
                millis(config.reconnect_delay_max),
                config.reconnect_jitter,
                seed,
            ),
            queue_size: config.queue_size,
            limits,
        };
        let tcp = TcpOptions {
            nodelay: config.tcp_nodelay,
            keepalive: config.tcp_keepalive,
            recv_buffer: config.recv_buffer_size,
            send_buffer: config.send_buffer_size,
        };
        let command_timeouts = config
            .command_timeouts
            .iter()
            .map(|(name, t)| (name.to_ascii_uppercase().into_bytes(), *t))
            .collect();
        let hooks = Hooks {
            info: config.connect_info(None),
            on_connect: config.on_connect,
            on_disconnect: config.on_disconnect,
            on_error: config.on_error,
        };
        let hooks = hooks.any().then(|| Arc::new(hooks));
        let core = ClientCore {
            reactor,
            id,
            server: config.addr.to_string(),
            limits,
            request_timeout: Some(config.request_timeout),
            blocking_buffer: config.blocking_timeout_buffer,
            command_timeouts,
        };
        core.reactor.submit(Submission::Open {
            id,
            target: config.addr,
            tcp,
            tls,
            session: Box::new(session),
            hooks,
        });
        Ok(Client { core: Arc::new(core) })
    }

    /// A handle that resolves once the connection has completed its handshake, or fails with
    /// the reason it cannot (a wrong password, a refused connection, a timeout).
    ///
    /// Waiting for it is optional: commands sent before the connection is up wait in the
    /// offline queue.
    pub fn connect(&self) -> Cmd<'_, ()> {
        Cmd::connect(&self.core)
    }

    /// Any command, by name, with arguments added by [`Cmd::arg`]; the reply is a [`Value`]
    /// unless [`Cmd::decode`] asks for another type.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let raw: redpoll::Value = client.cmd("OBJECT").arg("ENCODING").arg("greeting").wait()?;
    /// # Ok(()) }
    /// ```
    pub fn cmd(&self, name: &str) -> Cmd<'_, Value> {
        Cmd::new(&self.core, name)
    }
}
