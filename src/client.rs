//! `Client`: one multiplexed connection shared by every clone, served by the I/O thread.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use crate::commands::{self, BlockTimeout, CommandFlags, CommandInfo, Commands, Shared};
use crate::config::{ClientBuilder, Config, OnTimeout, RetryPolicy, ServerAddr};
use crate::error::Error;
use crate::fork;
use crate::handle::Cmd;
use crate::pool::stats::PoolCounters;
use crate::proto::backoff::Backoff;
use crate::proto::handshake::Step;
use crate::proto::handshake::{Handshake, HandshakeConfig};
use crate::proto::outbuf::Encoded;
use crate::proto::session::{Effect, Mode, Props, Resend, SessionConfig};
use crate::proto::spares::SparesConfig;
use crate::reactor::{
    self, CommandMeta, Hooks, LeaseRx, LeaseTx, Open, PoolPolicy, Reactor, ReplyTx, Submission,
    TcpOptions, TlsConnector,
};
use crate::resp::{CommandBuf, Limits};

mod start;
pub(crate) use start::PoolShape;

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
///
/// Every command method (one per Redis command and subcommand) comes from
/// [`Commands`], which `Client` dereferences to: no trait import is needed.
#[derive(Clone)]
pub struct Client {
    commands: Commands<Shared>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.commands.receiver.core.fmt(f)
    }
}

impl std::fmt::Debug for ClientCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("id", &self.id).field("server", &self.server).finish()
    }
}

impl std::ops::Deref for Client {
    type Target = Commands<Shared>;

    /// The command methods.
    fn deref(&self) -> &Commands<Shared> {
        &self.commands
    }
}

/// What every command of one connection needs on the caller's side.
pub(crate) struct ClientCore {
    /// The reactor this client was created on; `None` only while dropping.
    reactor: Option<Reactor>,
    id: u64,
    /// The fork generation the client was created in (see `crate::fork`).
    generation: u64,
    /// In a forked child: the connection opened there, on that process's own I/O thread.
    child: Mutex<Option<(u64, Reactor, u64)>>,
    /// What it takes to open the connection again, in a forked child.
    spec: OpenSpec,
    /// The server, for Debug (no credentials).
    server: String,
    pub(crate) limits: Limits,
    /// `request_timeout` in whole ms, converted once.
    request_timeout_ms: Option<u64>,
    blocking_buffer: Duration,
    /// Per-command timeouts, keyed by upper-case command name.
    command_timeouts: HashMap<Vec<u8>, Duration>,
    /// `retry_maybe_executed`: idempotent commands may be resent after a lost connection.
    retry_written: bool,
    /// The user's `idempotent_commands`, upper case.
    idempotent_commands: Vec<String>,
    /// The user's retry policy; when set, the session's own resends are off.
    pub(crate) retry_policy: Option<RetryPolicy>,
    /// The key prefix (`ClientBuilder::prefix`), if any.
    pub(crate) prefix: Option<Bytes>,
    /// `ClientBuilder::on_timeout`.
    on_timeout: OnTimeout,
}

/// Where a command goes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Route {
    /// The client's shared connection.
    Shared,
    /// A dedicated connection of the client's set, for this one command (a blocking one).
    Spare,
    /// The dedicated connection with this id (lent to a `Dedicated`).
    Conn(u64),
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh connection id, unique in the process.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Everything `Submission::Open` carries, kept to open the same connection again.
#[derive(Clone)]
struct OpenSpec {
    target: ServerAddr,
    tcp: TcpOptions,
    tls: Option<TlsConnector>,
    session: SessionConfig,
    hooks: Option<Arc<Hooks>>,
    spares: SparesConfig,
    pubsub_on_shared: bool,
    shared: bool,
    policy: PoolPolicy,
    counters: Arc<PoolCounters>,
}

impl OpenSpec {
    fn open(&self, id: u64) -> Submission {
        Submission::Open(Box::new(Open {
            id,
            target: self.target.clone(),
            tcp: self.tcp.clone(),
            tls: self.tls.clone(),
            session: self.session.clone(),
            hooks: self.hooks.clone(),
            spares: Some(self.spares),
            pubsub_on_shared: self.pubsub_on_shared,
            shared: self.shared,
            policy: self.policy,
            // A forked child's set counts on: the figures describe the pool, not a process.
            counters: self.counters.clone(),
        }))
    }
}

/// How many times one request is sent at most (first send included): resends after a lost
/// connection (idempotent commands with `retry_maybe_executed`) and after `LOADING`, `BUSY` or
/// `TRYAGAIN` replies.
const MAX_ATTEMPTS: u8 = 5;

/// For a command that blocks on the server (BLPOP & co, XREAD BLOCK, WAIT): `Some(None)` when
/// it blocks forever, `Some(Some(t))` for its server-side timeout; `None` for every other
/// command (including a blocking one with an invalid timeout, which the server refuses at once).
fn server_timeout(info: &CommandInfo, buf: &CommandBuf) -> Option<Option<Duration>> {
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

/// The command-table entry of the command in `buf` (its subcommand resolved), if known.
pub(crate) fn command_info(buf: &CommandBuf) -> Option<&'static CommandInfo> {
    let mut args = buf.args();
    let name = args.next()?;
    match args.next() {
        Some(sub) => commands::lookup(&[name, sub]).or_else(|| commands::lookup(&[name])),
        None => commands::lookup(&[name]),
    }
}

/// Why a command must not go over a connection that other callers share, if it must not.
pub(crate) fn unshareable(info: &CommandInfo) -> Option<String> {
    let why = match info.name {
        "MULTI" | "EXEC" | "DISCARD" | "WATCH" | "UNWATCH" => {
            "it would make other callers' commands part of the transaction (or end theirs); \
             transactions need a connection of their own"
        }
        "SUBSCRIBE" | "PSUBSCRIBE" | "SSUBSCRIBE" | "UNSUBSCRIBE" | "PUNSUBSCRIBE"
        | "SUNSUBSCRIBE" | "MONITOR" | "SYNC" | "PSYNC" => {
            "it turns the connection into a stream of pushed messages that other callers' replies \
             would be mixed with (for pub/sub use `client.subscribe()`, `psubscribe()` or \
             `ssubscribe()`, which return a `Subscription`; MONITOR and replication streams are \
             not supported)"
        }
        "CLIENT REPLY" | "QUIT" => "it breaks the one-reply-per-command order the client relies on",
        "SELECT" => "a reconnect would silently undo it: set the database with `.db(n)` or the URI",
        "HELLO" => "a reconnect would silently undo it: set the protocol with `.protocol(n)`",
        "AUTH" => "a reconnect would silently undo it: set the credentials in the URI or builder",
        "RESET" => "it resets the connection's state under every other caller",
        _ => return None,
    };
    let hint = match info.name {
        "MULTI" | "EXEC" | "DISCARD" | "WATCH" | "UNWATCH" => {
            " (use `client.transaction(..)` or `client.watch_multi(..)`; on a connection of \
             your own, `client.dedicated()`, it is allowed)"
        }
        "SELECT" => " (on a connection of your own, `client.dedicated()`, it is allowed)",
        _ => "",
    };
    Some(format!("{} on a shared connection: {why}{hint}", info.name))
}

/// Why a command must not go over a dedicated connection, if it must not.
pub(crate) fn not_on_dedicated(info: &CommandInfo) -> Option<String> {
    let why = match info.name {
        "SUBSCRIBE" | "PSUBSCRIBE" | "SSUBSCRIBE" | "UNSUBSCRIBE" | "PUNSUBSCRIBE"
        | "SUNSUBSCRIBE" => {
            "pub/sub turns the connection into a stream of pushed messages, which needs the \
             subscription API: use `client.subscribe()`, `psubscribe()` or `ssubscribe()`"
        }
        "MONITOR" | "SYNC" | "PSYNC" => {
            "it turns the connection into a stream the client does not read (not supported)"
        }
        "CLIENT REPLY" | "QUIT" => "it breaks the one-reply-per-command order the client relies on",
        "HELLO" => "a reconnect would silently undo it: set the protocol with `.protocol(n)`",
        "AUTH" => "a reconnect would silently undo it: set the credentials in the URI or builder",
        "RESET" => "it would reset the protocol and credentials the client set up",
        _ => return None,
    };
    Some(format!("{} on a dedicated connection: {why}", info.name))
}

/// What a command does to the state of an exclusive connection.
fn effect_of(info: Option<&CommandInfo>) -> Effect {
    match info.map(|i| i.name) {
        Some("MULTI") => Effect::Multi,
        Some("EXEC") => Effect::Exec,
        Some("DISCARD") => Effect::Discard,
        Some("WATCH") => Effect::Watch,
        Some("UNWATCH") => Effect::Unwatch,
        Some("SELECT") => Effect::Setup(Step::Select),
        Some("CLIENT SETNAME") => Effect::Setup(Step::SetName),
        _ => Effect::None,
    }
}

/// True when a command for the shared connection runs on a dedicated one instead: a
/// blocking command would hold up every caller behind it. WAIT and WAITAOF stay: they wait
/// for the writes made on their own connection, which for the shared client's writes is the
/// shared one (on another they would wait for nothing).
pub(crate) fn runs_apart(info: Option<&CommandInfo>, meta: &CommandMeta) -> bool {
    meta.props.blocking && !matches!(info.map(|i| i.name), Some("WAIT" | "WAITAOF"))
}

/// Commands that may run twice without harm beyond the read-only ones of the command table.
const DEFAULT_IDEMPOTENT: &[&str] = &[
    "GET", "MGET", "EXISTS", "TYPE", "TTL", "PTTL", "KEYS", "SCAN", "INFO", "PING", "ECHO", "TIME",
    "DBSIZE",
];

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
        let now = fork::generation();
        if let Some(reactor) = self.reactor.take() {
            if now == self.generation {
                reactor.submit(Submission::Close { id: self.id });
            } else {
                // Inherited through fork(): its thread does not exist in this process.
                std::mem::forget(reactor);
            }
        }
        let child = self.child.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((generation, reactor, id)) = child {
            if generation == now {
                reactor.submit(Submission::Close { id });
            } else {
                std::mem::forget(reactor);
            }
        }
    }
}

impl ClientCore {
    /// Sends a command in buffers of its own (a long one, or a resend).
    pub(crate) fn submit(
        &self,
        route: Route,
        bytes: impl Into<Encoded>,
        reply: ReplyTx,
        meta: CommandMeta,
    ) {
        let bytes = bytes.into();
        match route {
            Route::Shared => self.route(|id| Submission::Command { id, bytes, reply, meta }),
            Route::Spare => {
                self.route(|family| Submission::Spare { family, bytes, reply, meta });
            }
            Route::Conn(id) => self.route(|_| Submission::Command { id, bytes, reply, meta }),
        }
    }

    /// Sends a short encoded command, copied into this thread's arena (no allocation of its
    /// own crosses to the I/O thread).
    pub(crate) fn submit_short(
        &self,
        route: Route,
        bytes: &[u8],
        reply: ReplyTx,
        meta: CommandMeta,
    ) {
        self.submit(route, reactor::share_short(bytes), reply, meta);
    }

    /// Waits for the handshake of the shared connection (`None`) or of a dedicated one.
    pub(crate) fn submit_connect(&self, conn: Option<u64>, reply: ReplyTx) {
        self.route(|shared| Submission::Connect { id: conn.unwrap_or(shared), reply });
    }

    /// Asks for a dedicated connection, waiting up to `timeout_ms` when all are busy.
    pub(crate) fn submit_lease(&self, reply: LeaseTx, timeout_ms: Option<u64>) {
        self.route(|family| Submission::Lease { family, reply, timeout_ms });
    }

    /// Subscribes sink `sink` (registering it when `new`) to `names` of `kind`.
    pub(crate) fn submit_subscribe(
        &self,
        sink: u64,
        new: Option<Box<crate::pubsub::SinkTx>>,
        kind: crate::proto::pubsub::Kind,
        names: Vec<Bytes>,
        reply: ReplyTx,
    ) {
        let timeout_ms = self.request_timeout_ms;
        self.route(|family| Submission::Subscribe {
            family,
            sink,
            new,
            kind,
            names,
            reply,
            timeout_ms,
        });
    }

    /// Unsubscribes sink `sink` from `names` of `kind` (`None`: all); `end` ends its stream.
    pub(crate) fn submit_unsubscribe(
        &self,
        sink: u64,
        kind: crate::proto::pubsub::Kind,
        names: Option<Vec<Bytes>>,
        reply: ReplyTx,
        end: bool,
    ) {
        let timeout_ms = self.request_timeout_ms;
        self.route(|family| Submission::Unsubscribe {
            family,
            sink,
            kind,
            names,
            reply,
            end,
            timeout_ms,
        });
    }

    /// The subscription `sink` is gone.
    pub(crate) fn submit_drop_sink(&self, sink: u64) {
        self.route(|family| Submission::DropSink { family, sink });
    }

    /// Gives dedicated connection `id` back (it is closed if dirty).
    pub(crate) fn submit_release(&self, id: u64) {
        self.route(|_| Submission::Release { id });
    }

    /// Sends a submission to this client's connection: the one it was created with, or, in a
    /// process forked since, a fresh one opened there on the first use.
    fn route(&self, make: impl FnOnce(u64) -> Submission) {
        if fork::generation() == self.generation {
            match &self.reactor {
                Some(reactor) => reactor.submit(make(self.id)),
                None => reactor::fail(make(0), Error::Disconnected("the client was closed".into())),
            }
            return;
        }
        match self.child_connection() {
            Ok((reactor, id)) => reactor.submit(make(id)),
            Err(e) => reactor::fail(make(0), e),
        }
    }

    /// The connection of this client in the current (forked) process, opened on first use.
    fn child_connection(&self) -> Result<(Reactor, u64), Error> {
        let now = fork::generation();
        let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((generation, reactor, id)) = child.as_ref() {
            if *generation == now {
                return Ok((reactor.clone(), *id));
            }
        }
        if let Some((_, inherited, _)) = child.take() {
            // Opened in a process this one was forked from: its thread is not here.
            std::mem::forget(inherited);
        }
        let reactor = Reactor::global()?;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        reactor.submit(self.spec.open(id));
        *child = Some((now, reactor.clone(), id));
        Ok((reactor, id))
    }

    /// What the I/O thread needs to know about one command: its timeout in ms (`None`: no
    /// client deadline), whether it blocks on the server, whether it may run twice.
    ///
    /// An explicit `.timeout()` wins; a blocking command gets its server-side timeout plus
    /// `blocking_timeout_buffer`, and no deadline when it blocks forever; then a per-command
    /// override by name; then `request_timeout`. A command is idempotent when `.idempotent()`
    /// said so, when it is in the default list or flagged read-only in the command table, or
    /// when it is in the client's `idempotent_commands`; that matters only with
    /// `retry_maybe_executed(true)`.
    pub(crate) fn meta_for(
        &self,
        info: Option<&'static CommandInfo>,
        buf: &CommandBuf,
        explicit_timeout: Option<Duration>,
        explicit_idempotent: bool,
        on_timeout: Option<OnTimeout>,
        exclusive: bool,
    ) -> CommandMeta {
        let ms = |d: Duration| Some(millis(d));
        let blocking = info.and_then(|info| server_timeout(info, buf));
        let idempotent =
            self.retry_written && (explicit_idempotent || self.is_idempotent(info, buf));
        let timeout_ms = match (explicit_timeout, blocking) {
            (Some(t), _) => ms(t),
            (None, Some(Some(server))) => ms(server.saturating_add(self.blocking_buffer)),
            (None, Some(None)) => None,
            (None, None) => match self.override_for(buf) {
                Some(t) => ms(t),
                None => self.request_timeout_ms,
            },
        };
        let props = Props {
            blocking: blocking.is_some(),
            resend: if idempotent { Resend::IfIdempotent } else { Resend::IfUnwritten },
            on_timeout: on_timeout.unwrap_or(self.on_timeout),
            effect: if exclusive { effect_of(info) } else { Effect::None },
            ..Props::default()
        };
        CommandMeta { timeout_ms, delay_ms: 0, props }
    }

    /// What the I/O thread needs to know about a group of `replies` commands (a pipeline, or
    /// a transaction when `atomic`): one deadline, resent only while nothing of it can have
    /// run; `effect` is EXEC for a transaction on a dedicated connection (it ends the
    /// WATCHes there).
    pub(crate) fn group_meta(
        &self,
        replies: u32,
        atomic: bool,
        first_len: u32,
        timeout_ms: Option<u64>,
        blocking: bool,
        effect: Effect,
    ) -> CommandMeta {
        let props = Props {
            blocking,
            resend: Resend::IfUnwritten,
            // A blocking command's connection is always reset at its deadline.
            on_timeout: if blocking { OnTimeout::Reset } else { self.on_timeout },
            replies,
            atomic,
            first_len,
            effect,
            subscribe_id: 0,
        };
        CommandMeta { timeout_ms, delay_ms: 0, props }
    }

    fn is_idempotent(&self, info: Option<&CommandInfo>, buf: &CommandBuf) -> bool {
        if let Some(info) = info {
            if info.flags.contains(CommandFlags::READONLY)
                || DEFAULT_IDEMPOTENT.contains(&info.name)
            {
                return true;
            }
        }
        let Some(name) = buf.args().next() else { return false };
        self.idempotent_commands.iter().any(|n| n.as_bytes().eq_ignore_ascii_case(name))
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
        let core = ClientCore::start(config, None)?;
        Ok(Client { commands: Commands::new(Shared { core }) })
    }
}

impl ClientCore {
    /// The figures of this client's set of exclusive connections (a pool's).
    pub(crate) fn pool_stats(&self) -> crate::PoolStats {
        self.spec.counters.snapshot()
    }

    /// Tells the I/O thread an `acquire()` was dropped before it resolved.
    pub(crate) fn submit_abandon(&self, rx: LeaseRx) {
        self.route(|family| Submission::Abandon { family, rx });
    }
}

impl Client {
    /// A handle that resolves once the connection has completed its handshake, or fails with
    /// the reason it cannot (a wrong password, a refused connection, a timeout).
    ///
    /// Waiting for it is optional: commands sent before the connection is up wait in the
    /// offline queue.
    pub fn connect(&self) -> Cmd<'_, ()> {
        Cmd::connect(&self.commands.receiver)
    }

    /// A connection of this client's own for one owner: for WATCH/MULTI/EXEC, SELECT, or a
    /// series of blocking commands. It comes from the client's bounded set of dedicated
    /// connections ([`max_dedicated`](ClientBuilder::max_dedicated), shared with the blocking
    /// commands sent through the client), on the same I/O thread; the handle resolves once
    /// it is connected, after waiting (first come first served, up to the request timeout
    /// unless [`Acquire::timeout`](crate::Acquire::timeout) says otherwise) if all are busy.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let conn = client.dedicated().wait()?;     // an exclusive connection
    /// conn.watch(["k"]).wait()?;                 // manual WATCH/MULTI/EXEC there; dropped while
    /// conn.unwatch().wait()?;                    // dirty (in MULTI, watching) it is closed
    /// # Ok(()) }
    /// ```
    pub fn dedicated(&self) -> crate::Acquire {
        let core = &self.commands.receiver.core;
        let timeout = Duration::from_millis(core.request_timeout_ms.unwrap_or(u64::MAX / 2));
        crate::Acquire::new(Arc::clone(core), timeout)
    }

    /// Subscribes to channels: the handle resolves, once the server confirmed each, with a
    /// [`Subscription`](crate::Subscription) that yields their messages. See
    /// [`pubsub`](crate::pubsub) for where subscriptions live, the bound on a slow consumer
    /// and what a reconnect does (messages published while disconnected are lost).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let sub = client.subscribe(&["news", "alerts"]).wait()?;
    /// let receivers: i64 = client.publish("news", "hello").wait()?;
    /// let msg = sub.iter().next().expect("a message")?;
    /// assert_eq!(&msg.payload[..], b"hello");
    /// # Ok(()) }
    /// ```
    pub fn subscribe<C: AsRef<[u8]>>(&self, channels: &[C]) -> crate::Subscribe {
        self.pubsub(crate::proto::pubsub::Kind::Channel, channels)
    }

    /// Subscribes to patterns (`PSUBSCRIBE`: `*`, `?`, `[...]` globs); each message says
    /// which pattern matched ([`Message::pattern`](crate::Message::pattern)).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: redpoll::Client) -> Result<(), redpoll::Error> {
    /// let mut sub = client.psubscribe(&["orders:*"]).await?;
    /// if let Some(msg) = sub.next().await {
    ///     let msg = msg?;
    ///     println!("{:?} matched {:?}", msg.channel, msg.pattern);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn psubscribe<C: AsRef<[u8]>>(&self, patterns: &[C]) -> crate::Subscribe {
        self.pubsub(crate::proto::pubsub::Kind::Pattern, patterns)
    }

    /// Subscribes to shard channels (`SSUBSCRIBE`, Redis 7; published with `SPUBLISH`). On a
    /// standalone server they behave like channels.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let sub = client.ssubscribe(&["orders:{eu}"]).wait()?;
    /// client.spublish("orders:{eu}", "42").wait()?;
    /// # Ok(()) }
    /// ```
    pub fn ssubscribe<C: AsRef<[u8]>>(&self, channels: &[C]) -> crate::Subscribe {
        self.pubsub(crate::proto::pubsub::Kind::Shard, channels)
    }

    fn pubsub<C: AsRef<[u8]>>(
        &self,
        kind: crate::proto::pubsub::Kind,
        names: &[C],
    ) -> crate::Subscribe {
        let names = names.iter().map(|n| Bytes::copy_from_slice(n.as_ref())).collect();
        crate::Subscribe::new(Arc::clone(&self.commands.receiver.core), kind, names)
    }
}
