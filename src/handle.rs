//! `Cmd<T>` (a command not yet sent) and `Reply<T>` (its pending reply), usable with
//! `.wait()` on any thread and `.await` in any executor.

use std::cell::Cell;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;

use std::sync::Arc;

use crate::client::Route;
use crate::client::{self, ClientCore};
use crate::commands::prefix::ReplyKeys;
use crate::commands::{CommandInfo, Owned, Shared};
use crate::config::OnTimeout;
use crate::error::Error;
use crate::fork;
use crate::oneshot;
use crate::proto::outbuf::Encoded;
use crate::reactor::{self, CommandMeta};
use crate::resp::{parse_frame, CommandBuf, FromValue, Limits, ToArg, Value};

/// Commands whose encoding is at most about this long are copied into the caller thread's
/// arena (no allocation of their own crosses threads); longer ones travel as the `Bytes` they
/// were encoded into.
const COPY_MAX: usize = 1024;

thread_local! {
    /// The encoding buffer of this thread's last short command, once copied to the I/O
    /// thread: the next command is encoded into it, so a command allocates no buffer.
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// A command built and not yet sent.
///
/// Nothing happens until it is sent: [`wait`](Cmd::wait) sends it and blocks the calling
/// thread until the reply arrives; `.await` sends it and yields; [`send`](Cmd::send) sends it
/// now and returns a [`Reply`] to collect later. Commands sent back to back from any number
/// of threads travel together in one write (implicit pipelining).
///
/// `T` is the type the reply decodes into. Each command method picks the natural one (an
/// integer reply is `i64`, `+OK` is `()`, a nullable bulk string is `Option<Bytes>`);
/// [`decode`](Cmd::decode) picks another. `R` is the receiver the command was built for
/// ([`Shared`]: a client's connection); `O` names the typed options the command offers
/// (`client.set(k, v).ex(10).nx()`, see [`opts`](crate::commands::opts)). Options are written
/// in the order the command's syntax wants, whatever order they were called in; calling one
/// of a set of alternatives (`.ex()`, `.px()`, `.keepttl()`) replaces the one called before.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// client.set("greeting", "hello").ex(60).wait()?;
/// let s: Option<String> = client.get("greeting").decode().wait()?;
/// let len: i64 = client.cmd("STRLEN").arg("greeting").decode().wait()?;
/// # Ok(()) }
/// ```
#[must_use = "a command does nothing until it is sent with .wait(), .await or .send()"]
pub struct Cmd<'r, T = Value, R = Shared, O = ()> {
    receiver: &'r R,
    buf: CommandBuf,
    kind: Kind,
    /// The command-table entry, when the method that built the command knew it (and knew
    /// the command may share the connection): no lookup at send.
    known: Option<Option<&'static CommandInfo>>,
    timeout: Option<Duration>,
    idempotent: bool,
    on_timeout: Option<OnTimeout>,
    /// Option slots, marked keys, the prefix opt-out; empty (no allocation) for a command
    /// built without options.
    marks: Vec<Mark>,
    _reply: PhantomData<fn() -> (T, O)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Command,
    Connect,
}

/// Where a command's arguments come from, recorded while it is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mark {
    /// The arguments from index `at` on (until the next slot) are the syntax element
    /// `slot`; a later slot of the same number replaces them unless `repeat`.
    Slot { slot: u16, at: u32, repeat: bool },
    /// The argument at index `at` is a key (for the prefix).
    Key { at: u32 },
    /// No prefix for this command.
    NoPrefix,
}

/// The slot of arguments appended by [`Cmd::arg`] after typed options: last.
const TRAILING: u16 = u16::MAX;

impl<'r, T, R> Cmd<'r, T, R> {
    /// A command named `name` (its first argument) for the receiver.
    pub(crate) fn new(receiver: &'r R, name: &str) -> Self {
        Cmd::with_parts(receiver, name, Kind::Command, None)
    }
}

impl<'r, T, R, O> Cmd<'r, T, R, O> {
    /// A command of a generated method: its table entry is known (a `static`), and so is
    /// that it may go over the receiver's connection.
    #[inline]
    pub(crate) fn method(receiver: &'r R, info: &'static CommandInfo, name: &'static str) -> Self {
        Cmd::with_parts(receiver, name, Kind::Command, Some(Some(info)))
    }

    /// Every constructor: `name` first in a buffer reused from this thread's last command
    /// (none for the connect handle, which sends nothing).
    #[inline]
    fn with_parts(
        receiver: &'r R,
        name: &str,
        kind: Kind,
        known: Option<Option<&'static CommandInfo>>,
    ) -> Self {
        let buf = match kind {
            Kind::Connect => CommandBuf::new(),
            Kind::Command => {
                let mut buf = CommandBuf::reuse(SPARE.try_with(Cell::take).unwrap_or_default());
                buf.push(name.as_bytes());
                buf
            }
        };
        Cmd {
            receiver,
            buf,
            kind,
            known,
            timeout: None,
            idempotent: false,
            on_timeout: None,
            marks: Vec::new(),
            _reply: PhantomData,
        }
    }

    /// Appends an argument (or several, for a slice or a `Vec`).
    ///
    /// After typed options, the arguments go last, after every option.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// client.set("k", "v").arg("EX").arg(10).wait()?;
    /// # Ok(()) }
    /// ```
    pub fn arg<A: ToArg>(mut self, arg: A) -> Self {
        if !self.marks.is_empty() {
            self.mark_slot(TRAILING, true);
        }
        arg.write_args(&mut self.buf);
        self
    }

    /// Appends an argument that is a key: with a key prefix set, it is prefixed like the
    /// keys the command specs know. For commands the specs do not know (a module's), this is
    /// how a prefixed client learns where their keys are.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// let client = redpoll::Client::builder().url("redis://127.0.0.1").prefix("app:").build()?;
    /// let doc: redpoll::Value = client.cmd("JSON.GET").key("doc").arg("$").wait()?;
    /// # Ok(()) }
    /// ```
    pub fn key<K: ToArg>(mut self, key: K) -> Self {
        if !self.marks.is_empty() {
            self.mark_slot(TRAILING, true);
        }
        let first = self.buf.argc();
        key.write_args(&mut self.buf);
        for at in first..self.buf.argc() {
            self.marks.push(Mark::Key { at: at as u32 });
        }
        self
    }

    /// Sends this one command without the client's key prefix: its arguments go out as
    /// written.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// let client = redpoll::Client::builder().url("redis://127.0.0.1").prefix("app:").build()?;
    /// let shared: Option<bytes::Bytes> = client.get("global:motd").no_prefix().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn no_prefix(mut self) -> Self {
        self.marks.push(Mark::NoPrefix);
        self
    }

    /// Decodes the reply into `U` instead of the command's default type.
    pub fn decode<U: FromValue>(self) -> Cmd<'r, U, R, O> {
        self.reply()
    }

    /// The same command with another reply type (an option that changes the reply).
    #[inline]
    pub(crate) fn reply<U>(self) -> Cmd<'r, U, R, O> {
        Cmd {
            receiver: self.receiver,
            buf: self.buf,
            kind: self.kind,
            known: self.known,
            timeout: self.timeout,
            idempotent: self.idempotent,
            on_timeout: self.on_timeout,
            marks: self.marks,
            _reply: PhantomData,
        }
    }

    /// Overrides the request timeout for this one command.
    ///
    /// When it passes, the command fails with [`Error::Timeout`] and, by default, the
    /// connection is reset (a reply that never comes would hold up every reply behind it):
    /// see [`on_timeout`](Cmd::on_timeout) for the alternative.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// What this command's deadline does when it passes (default: the client's
    /// [`ClientBuilder::on_timeout`](crate::ClientBuilder::on_timeout), itself
    /// [`OnTimeout::Reset`] by default). With [`OnTimeout::Abandon`] only this command fails;
    /// its reply is dropped when it comes and the other requests on the connection go on.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use redpoll::OnTimeout;
    ///
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let all = client.keys("*").timeout(Duration::from_millis(200)).on_timeout(OnTimeout::Abandon).wait();
    /// # Ok(()) }
    /// ```
    pub fn on_timeout(mut self, rule: OnTimeout) -> Self {
        self.on_timeout = Some(rule);
        self
    }

    /// Declares this command safe to run twice, so that with `retry_maybe_executed(true)` it
    /// is sent again after a lost connection instead of failing with `maybe_executed()`.
    ///
    /// Read-only commands (and GET, MGET, EXISTS, TYPE, TTL, PTTL, KEYS, SCAN, INFO, PING,
    /// ECHO, TIME, DBSIZE) are idempotent already.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Appends a value of the command's syntax (generated methods and options: no slot of
    /// its own, unlike [`Cmd::arg`]).
    #[inline]
    pub(crate) fn val<A: ToArg>(mut self, value: A) -> Self {
        value.write_args(&mut self.buf);
        self
    }

    /// Appends a literal keyword of the command's syntax.
    #[inline]
    pub(crate) fn token(mut self, token: &'static str) -> Self {
        self.buf.push(token.as_bytes());
        self
    }

    /// Appends `items` preceded by how many arguments they are (`numkeys`, `numfields`).
    pub(crate) fn counted<A: ToArg>(mut self, items: A) -> Self {
        let mut tail = CommandBuf::with_capacity(0);
        items.write_args(&mut tail);
        self.buf.push_uint(tail.argc() as u64);
        self.buf.append(tail);
        self
    }

    /// The arguments appended next are the syntax element `slot` (a required argument that
    /// follows optional ones).
    #[inline]
    pub(crate) fn at(mut self, slot: u16) -> Self {
        self.mark_slot(slot, true);
        self
    }

    /// The arguments appended next are the option `slot`, replacing an earlier call of the
    /// same option (or of an alternative to it).
    #[inline]
    pub(crate) fn opt(mut self, slot: u16) -> Self {
        self.mark_slot(slot, false);
        self
    }

    /// The arguments appended next are one more of the repeatable option `slot`.
    #[inline]
    pub(crate) fn opt_repeat(mut self, slot: u16) -> Self {
        self.mark_slot(slot, true);
        self
    }

    fn mark_slot(&mut self, slot: u16, repeat: bool) {
        self.marks.push(Mark::Slot { slot, at: self.buf.argc() as u32, repeat });
    }

    /// The receiver the command was built for.
    pub(crate) fn receiver_ref(&self) -> &'r R {
        self.receiver
    }

    /// The receiver the command was built for.
    #[cfg(test)]
    pub(crate) fn receiver_for_tests(&self) -> &'r R {
        self.receiver
    }

    /// What every receiver does before a command leaves the caller: finds its table entry
    /// (known, or looked up by name), puts its options in syntax order and applies the key
    /// prefix. Returns the entry and the finished arguments.
    ///
    /// # Errors
    ///
    /// [`Error::Usage`] when a prefix is set and the command's keys cannot be found.
    pub(crate) fn prepare(
        mut self,
        prefix: Option<&[u8]>,
    ) -> Result<(Option<&'static CommandInfo>, CommandBuf), Error> {
        let info = match self.known {
            Some(info) => info,
            None => client::command_info(&self.buf),
        };
        self.finalize(info, prefix)?;
        Ok((info, self.buf))
    }

    /// Puts the options in syntax order and applies the key prefix, if any; called once,
    /// right before the command leaves the caller.
    ///
    /// # Errors
    ///
    /// [`Error::Usage`] when a prefix is set and the command's keys cannot be found.
    fn finalize(
        &mut self,
        info: Option<&'static CommandInfo>,
        prefix: Option<&[u8]>,
    ) -> Result<(), Error> {
        let prefix = prefix.filter(|_| !self.marks.contains(&Mark::NoPrefix));
        let reordered = self.order();
        if prefix.is_none() && reordered.is_none() {
            return Ok(());
        }
        let order: Vec<usize> = reordered.unwrap_or_else(|| (0..self.buf.argc()).collect());
        let mut prefixed = Vec::new();
        if let Some(prefix) = prefix {
            // Where each marked key ends up once the arguments are in order.
            let marked: Vec<usize> = self
                .marks
                .iter()
                .filter_map(|m| match m {
                    Mark::Key { at } => order.iter().position(|&i| i == *at as usize),
                    _ => None,
                })
                .collect();
            let all: Vec<&[u8]> = self.buf.args().collect();
            let args: Vec<&[u8]> = order.iter().filter_map(|&i| all.get(i).copied()).collect();
            let positions = crate::commands::prefix::positions(info, &args, &marked)?;
            // KEYS / SCAN MATCH patterns may need the prefix glob-escaped.
            let (globs, escaped) =
                crate::commands::prefix::pattern_prefix(info, &args, prefix)?.unwrap_or_default();
            // `rebuild` names arguments by their index before the reordering.
            prefixed = positions
                .iter()
                .filter(|p| !globs.contains(p))
                .filter_map(|&p| order.get(p).copied())
                .collect();
            prefixed.sort_unstable();
            if prefixed.is_empty()
                && globs.is_empty()
                && order.iter().enumerate().all(|(i, &o)| i == o)
            {
                return Ok(());
            }
            self.buf = self.buf.rebuild(&order, &prefixed, prefix);
            if !globs.is_empty() {
                // The arguments are in order now: `globs` names them as they are.
                let identity: Vec<usize> = (0..self.buf.argc()).collect();
                self.buf = self.buf.rebuild(&identity, &globs, &escaped);
            }
            return Ok(());
        }
        self.buf = self.buf.rebuild(&order, &prefixed, &[]);
        Ok(())
    }

    /// The argument order the option slots ask for, or `None` when the arguments are in
    /// order already.
    fn order(&self) -> Option<Vec<usize>> {
        let mut runs: Vec<(u16, usize, bool)> = Vec::new();
        for mark in &self.marks {
            if let Mark::Slot { slot, at, repeat } = *mark {
                runs.push((slot, at as usize, repeat));
            }
        }
        if runs.is_empty() {
            return None;
        }
        let argc = self.buf.argc();
        // (slot, first, end) of each run, in call order; run 0 is what precedes the marks.
        let mut spans: Vec<(u16, usize, usize, bool)> = Vec::with_capacity(runs.len() + 1);
        spans.push((0, 0, runs[0].1, true));
        for (i, &(slot, at, repeat)) in runs.iter().enumerate() {
            let end = runs.get(i + 1).map_or(argc, |r| r.1);
            spans.push((slot, at, end, repeat));
        }
        // A non-repeatable slot keeps only its last run.
        let mut keep = vec![true; spans.len()];
        for i in 0..spans.len() {
            if !spans[i].3 && spans[i + 1..].iter().any(|s| s.0 == spans[i].0) {
                keep[i] = false;
            }
        }
        let sorted = spans.windows(2).all(|w| w[0].0 <= w[1].0);
        if sorted && keep.iter().all(|&k| k) {
            return None;
        }
        let mut kept: Vec<&(u16, usize, usize, bool)> =
            spans.iter().zip(&keep).filter(|(_, &k)| k).map(|(s, _)| s).collect();
        kept.sort_by_key(|s| s.0); // stable: repeated slots keep their call order
        Some(kept.iter().flat_map(|s| s.1..s.2).collect())
    }
}

impl<'r, T, R> Cmd<'r, T, R> {
    /// The handle of `client.connect()`: resolves once the handshake is done.
    pub(crate) fn connect(receiver: &'r R) -> Self {
        Cmd::with_parts(receiver, "", Kind::Connect, None)
    }
}

/// A command checked and finished for a connection of `core`: allowed there, options in
/// syntax order, the key prefix applied; with what its reply needs and what the I/O thread
/// needs to know about it.
pub(crate) struct Ready {
    pub(crate) info: Option<&'static CommandInfo>,
    pub(crate) buf: CommandBuf,
    /// With a key prefix: where the reply holds keys, and the prefix to take off them.
    pub(crate) unprefix: Option<Box<(ReplyKeys, Bytes)>>,
    pub(crate) meta: CommandMeta,
}

impl<'r, T, R, O> Cmd<'r, T, R, O> {
    /// Checks the command for a connection of `core` (a dedicated one when `dedicated`) and
    /// finishes it.
    ///
    /// # Errors
    ///
    /// [`Error::Usage`] for a command that connection must not run, or whose keys a prefixed
    /// client cannot find.
    #[inline]
    pub(crate) fn ready(mut self, core: &ClientCore, dedicated: bool) -> Result<Ready, Error> {
        let (info, refused) = match (self.known, dedicated) {
            // A generated method of the shared surface: allowed there by construction.
            (Some(info), false) => (info, None),
            (Some(info), true) => (info, info.and_then(client::not_on_dedicated)),
            (None, dedicated) => {
                let info = client::command_info(&self.buf);
                let refuse = if dedicated { client::not_on_dedicated } else { client::unshareable };
                (info, info.and_then(refuse))
            }
        };
        if let Some(why) = refused {
            return Err(Error::Usage(why));
        }
        let (timeout, idempotent, on_timeout) = (self.timeout, self.idempotent, self.on_timeout);
        let unprefixed = self.marks.contains(&Mark::NoPrefix);
        self.known = Some(info);
        let (_, buf) = self.prepare(core.prefix.as_deref())?;
        let unprefix = match (&core.prefix, info, unprefixed) {
            (Some(prefix), Some(info), false) => crate::commands::prefix::reply_keys(info)
                .map(|keys| Box::new((keys, prefix.clone()))),
            _ => None,
        };
        let meta = core.meta_for(info, &buf, timeout, idempotent, on_timeout, dedicated);
        Ok(Ready { info, buf, unprefix, meta })
    }
}

impl<'r, T, R, O> Cmd<'r, T, R, O> {
    /// Sends the command over `core`'s shared connection (`conn: None`; blocking commands
    /// go to one of its dedicated connections) or over its dedicated connection `conn`.
    fn send_on(self, core: &Arc<ClientCore>, conn: Option<u64>) -> Reply<T> {
        let (tx, rx) = oneshot::channel();
        let limits = core.limits;
        let mut reply = Reply {
            rx,
            limits,
            retry: None,
            unprefix: None,
            generation: fork::generation(),
            _reply: PhantomData,
        };
        match self.kind {
            Kind::Connect => core.submit_connect(conn, tx),
            Kind::Command => {
                let ready = match self.ready(core, conn.is_some()) {
                    Ok(ready) => ready,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return reply;
                    }
                };
                reply.unprefix = ready.unprefix;
                let Ready { info, buf, meta, .. } = ready;
                let route = match conn {
                    Some(id) => Route::Conn(id),
                    None if client::runs_apart(info, &meta) => Route::Spare,
                    None => Route::Shared,
                };
                if core.retry_policy.is_some() {
                    // Only with a user's policy does the reply keep what a resend needs.
                    let bytes = buf.finish();
                    reply.retry = Some(Box::new(Retry {
                        core: Arc::clone(core),
                        route,
                        bytes: bytes.clone(),
                        meta,
                        info,
                        attempt: 0,
                    }));
                    core.submit(route, bytes, tx, meta);
                } else if buf.has_shared() {
                    // Large values go out from the caller's own memory.
                    let chunks = Encoded::Chunks(buf.finish_chunks());
                    core.submit(route, chunks, tx, meta);
                } else if buf.body_len() > COPY_MAX {
                    // Copying a long command once more would cost more than its allocation.
                    core.submit(route, buf.finish(), tx, meta);
                } else {
                    let mut buf = buf;
                    core.submit_short(route, buf.encoded(), tx, meta);
                    // Copied: the buffer serves this thread's next command.
                    let _ = SPARE.try_with(|spare| spare.set(buf.into_storage()));
                }
            }
        }
        reply
    }
}

/// `send`, `wait` and `.await` for a receiver that sends: each says where its commands go.
macro_rules! sending_receiver {
    ($receiver:ty, $doc:literal, |$r:ident| $target:expr) => {
        impl<'r, T, O> Cmd<'r, T, $receiver, O> {
            #[doc = concat!("Sends the command now ", $doc, " and returns the handle of its reply.")]
            pub fn send(self) -> Reply<T> {
                let $r = self.receiver;
                let (core, conn) = $target;
                self.send_on(core, conn)
            }

            /// Sends the command and blocks the calling thread until its reply arrives.
            ///
            /// # Errors
            ///
            /// Whatever the command or the connection produced: [`Error::Redis`] for an error
            /// reply, [`Error::Timeout`], [`Error::Connection`], [`Error::Conversion`] if the
            /// reply does not fit `T`, [`Error::Usage`] for a command this connection must not
            /// run.
            ///
            /// # Panics
            ///
            /// When called on redpoll's own I/O thread, which would wait for itself forever.
            pub fn wait(self) -> Result<T, Error>
            where
                T: FromValue,
            {
                self.send().wait()
            }
        }

        impl<'c, T: FromValue, O> IntoFuture for Cmd<'c, T, $receiver, O> {
            type Output = Result<T, Error>;
            type IntoFuture = Reply<T>;

            fn into_future(self) -> Reply<T> {
                self.send()
            }
        }
    };
}

sending_receiver!(
    Shared,
    "(over the shared connection; a blocking command over a dedicated one)",
    |r| (&r.core, None)
);
sending_receiver!(Owned, "over the dedicated connection", |r| (&r.core, Some(r.id)));

impl<T, R, O> std::fmt::Debug for Cmd<'_, T, R, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Arguments may hold secrets (AUTH, values): show only their count.
        f.debug_struct("Cmd").field("args", &self.buf.argc()).field("kind", &self.kind).finish()
    }
}

/// The pending reply of a sent command: `.wait()` for it, or `.await` it.
///
/// Dropping it before the reply arrives is safe: the reply is discarded when it comes, and
/// the connection stays in step.
#[must_use = "the reply is discarded unless it is waited for or awaited"]
pub struct Reply<T = Value> {
    rx: oneshot::Receiver<Result<Bytes, Error>>,
    limits: Limits,
    /// What a resend needs, kept only when the client has a retry policy.
    retry: Option<Box<Retry>>,
    /// With a key prefix: where the reply holds keys, and the prefix to take off them.
    unprefix: Option<Box<(ReplyKeys, Bytes)>>,
    /// The fork generation it was sent in: in a child, nothing will ever answer it.
    generation: u64,
    _reply: PhantomData<fn() -> T>,
}

/// A command's bytes and facts, kept for the user's retry policy.
struct Retry {
    core: Arc<ClientCore>,
    route: Route,
    bytes: Bytes,
    meta: CommandMeta,
    info: Option<&'static CommandInfo>,
    attempt: u32,
}

impl Retry {
    /// Asks the policy about a failure; on `Some(delay)` sends the command again after the
    /// delay (kept by the I/O thread's timer) and returns the new pending reply.
    fn again(&mut self, err: &Error) -> Option<oneshot::Receiver<Result<Bytes, Error>>> {
        if matches!(err, Error::Conversion { .. }) {
            return None;
        }
        let policy = self.core.retry_policy.as_ref()?;
        self.attempt += 1;
        let delay = (policy.0)(self.attempt, err, self.info)?;
        let (tx, rx) = oneshot::channel();
        let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX / 4).max(1);
        self.core.submit(self.route, self.bytes.clone(), tx, CommandMeta { delay_ms, ..self.meta });
        Some(rx)
    }
}

impl<T> std::fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply").field("ready", &self.rx.is_ready()).finish()
    }
}

impl<T: FromValue> Reply<T> {
    /// Blocks the calling thread until the reply arrives, then decodes it.
    ///
    /// # Errors
    ///
    /// As for [`Cmd::wait`].
    ///
    /// # Panics
    ///
    /// When called on redpoll's own I/O thread, which would wait for itself forever.
    pub fn wait(mut self) -> Result<T, Error> {
        assert!(
            !reactor::on_io_thread(),
            "Reply::wait() called on redpoll's I/O thread: it would wait for itself forever"
        );
        loop {
            if self.generation != fork::generation() && !self.rx.is_ready() {
                return Err(Error::Disconnected(
                    "sent before fork(); only the parent gets its reply".into(),
                ));
            }
            let raw = self.rx.wait().unwrap_or_else(|_| Err(closed()));
            let result = decode(raw, &self.limits, self.unprefix.as_deref());
            match (&result, self.retry.as_mut()) {
                (Err(e), Some(retry)) => match retry.again(e) {
                    Some(rx) => {
                        self.rx = rx;
                        self.generation = fork::generation();
                    }
                    None => return result,
                },
                _ => return result,
            }
        }
    }
}

impl<T: FromValue> Future for Reply<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.generation != fork::generation() && !this.rx.is_ready() {
            return Poll::Ready(Err(Error::Disconnected(
                "sent before fork(); only the parent gets its reply".into(),
            )));
        }
        loop {
            let result = match Pin::new(&mut this.rx).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => decode(
                    result.unwrap_or_else(|_| Err(closed())),
                    &this.limits,
                    this.unprefix.as_deref(),
                ),
            };
            match (&result, this.retry.as_mut()) {
                (Err(e), Some(retry)) => match retry.again(e) {
                    Some(rx) => {
                        this.rx = rx;
                        this.generation = fork::generation();
                    }
                    None => return Poll::Ready(result),
                },
                _ => return Poll::Ready(result),
            }
        }
    }
}

fn closed() -> Error {
    Error::Disconnected("the I/O thread dropped the request".into())
}

/// Turns a raw reply frame into `T` on the caller's thread, taking the key prefix off the
/// keys it holds when the client has one.
fn decode<T: FromValue>(
    result: Result<Bytes, Error>,
    limits: &Limits,
    unprefix: Option<&(ReplyKeys, Bytes)>,
) -> Result<T, Error> {
    let frame = result?;
    match unprefix {
        None => T::from_reply(&frame, limits),
        Some((keys, prefix)) => match parse_frame(&frame, limits)?.without_attributes() {
            Value::Error(e) => Err(Error::Redis(e)),
            value => T::from_value(keys.strip(value, prefix)),
        },
    }
}

/// Gives a command's buffer, once its bytes were copied elsewhere, to this thread's next
/// command.
pub(crate) fn recycle(buf: CommandBuf) {
    let _ = SPARE.try_with(|spare| spare.set(buf.into_storage()));
}
