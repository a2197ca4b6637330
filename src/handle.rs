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

use crate::client::{self, ClientCore};
use crate::commands::CommandInfo;
use crate::error::Error;
use crate::fork;
use crate::oneshot;
use crate::proto::outbuf::Encoded;
use crate::reactor::{self, CommandMeta};
use crate::resp::{CommandBuf, FromValue, Limits, ToArg, Value};

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
/// [`decode`](Cmd::decode) picks another.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// client.set("greeting", "hello").wait()?;
/// let s: Option<String> = client.get("greeting").decode().wait()?;
/// let len: i64 = client.cmd("STRLEN").arg("greeting").decode().wait()?;
/// # Ok(()) }
/// ```
#[must_use = "a command does nothing until it is sent with .wait(), .await or .send()"]
pub struct Cmd<'c, T = Value> {
    core: &'c Arc<ClientCore>,
    buf: CommandBuf,
    kind: Kind,
    /// The command-table entry, when the method that built the command knew it (and knew
    /// the command may share the connection): no lookup at send.
    known: Option<Option<&'static CommandInfo>>,
    timeout: Option<Duration>,
    idempotent: bool,
    _reply: PhantomData<fn() -> T>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Command,
    Connect,
}

impl<'c, T> Cmd<'c, T> {
    /// A command named `name` (its first argument) on the given connection.
    pub(crate) fn new(core: &'c Arc<ClientCore>, name: &str) -> Self {
        let mut buf = CommandBuf::reuse(SPARE.try_with(Cell::take).unwrap_or_default());
        buf.push(name.as_bytes());
        Cmd {
            core,
            buf,
            kind: Kind::Command,
            known: None,
            timeout: None,
            idempotent: false,
            _reply: PhantomData,
        }
    }

    /// A command of a method that knows its table entry (`None`: not in the table) and that
    /// the command may go over a shared connection.
    pub(crate) fn known(
        core: &'c Arc<ClientCore>,
        name: &str,
        info: Option<&'static CommandInfo>,
    ) -> Self {
        Cmd { known: Some(info), ..Cmd::new(core, name) }
    }

    /// The handle of `client.connect()`: resolves once the handshake is done.
    pub(crate) fn connect(core: &'c Arc<ClientCore>) -> Self {
        Cmd {
            core,
            buf: CommandBuf::new(),
            kind: Kind::Connect,
            known: None,
            timeout: None,
            idempotent: false,
            _reply: PhantomData,
        }
    }

    /// Appends an argument (or several, for a slice or a `Vec`).
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
        arg.write_args(&mut self.buf);
        self
    }

    /// Decodes the reply into `U` instead of the command's default type.
    pub fn decode<U: FromValue>(self) -> Cmd<'c, U> {
        Cmd {
            core: self.core,
            buf: self.buf,
            kind: self.kind,
            known: self.known,
            timeout: self.timeout,
            idempotent: self.idempotent,
            _reply: PhantomData,
        }
    }

    /// Overrides the request timeout for this one command.
    ///
    /// When it passes, the command fails with [`Error::Timeout`] and, because the reply
    /// stream can no longer be trusted, the connection is reset.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
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

    /// Sends the command now and returns the handle of its reply.
    pub fn send(self) -> Reply<T> {
        let (tx, rx) = oneshot::channel();
        let limits = self.core.limits;
        let mut retry = None;
        match self.kind {
            Kind::Connect => self.core.submit_connect(tx),
            Kind::Command => {
                let (info, unshareable) = match self.known {
                    Some(info) => (info, None),
                    None => {
                        let info = client::command_info(&self.buf);
                        (info, info.and_then(client::unshareable))
                    }
                };
                if let Some(why) = unshareable {
                    let _ = tx.send(Err(Error::Usage(why)));
                    return Reply {
                        rx,
                        limits,
                        retry,
                        generation: fork::generation(),
                        _reply: PhantomData,
                    };
                }
                let meta = self.core.meta_for(info, &self.buf, self.timeout, self.idempotent);
                if self.core.retry_policy.is_some() {
                    // Only with a user's policy does the reply keep what a resend needs.
                    let bytes = self.buf.finish();
                    retry = Some(Box::new(Retry {
                        core: Arc::clone(self.core),
                        bytes: bytes.clone(),
                        meta,
                        info,
                        attempt: 0,
                    }));
                    self.core.submit(bytes, tx, meta);
                } else if self.buf.has_shared() {
                    // Large values go out from the caller's own memory.
                    let chunks = Encoded::Chunks(self.buf.finish_chunks());
                    self.core.submit(chunks, tx, meta);
                } else if self.buf.body_len() > COPY_MAX {
                    // Copying a long command once more would cost more than its allocation.
                    self.core.submit(self.buf.finish(), tx, meta);
                } else {
                    let mut buf = self.buf;
                    self.core.submit_short(buf.encoded(), tx, meta);
                    // Copied: the buffer serves this thread's next command.
                    let _ = SPARE.try_with(|spare| spare.set(buf.into_storage()));
                }
            }
        }
        Reply { rx, limits, retry, generation: fork::generation(), _reply: PhantomData }
    }

    /// Sends the command and blocks the calling thread until its reply arrives.
    ///
    /// # Errors
    ///
    /// Whatever the command or the connection produced: [`Error::Redis`] for an error reply,
    /// [`Error::Timeout`], [`Error::Connection`], [`Error::Conversion`] if the reply does not
    /// fit `T`.
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

impl<T> std::fmt::Debug for Cmd<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Arguments may hold secrets (AUTH, values): show only their count.
        f.debug_struct("Cmd").field("args", &self.buf.argc()).field("kind", &self.kind).finish()
    }
}

impl<'c, T: FromValue> IntoFuture for Cmd<'c, T> {
    type Output = Result<T, Error>;
    type IntoFuture = Reply<T>;

    fn into_future(self) -> Reply<T> {
        self.send()
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
    /// The fork generation it was sent in: in a child, nothing will ever answer it.
    generation: u64,
    _reply: PhantomData<fn() -> T>,
}

/// A command's bytes and facts, kept for the user's retry policy.
struct Retry {
    core: Arc<ClientCore>,
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
        self.core.submit(self.bytes.clone(), tx, CommandMeta { delay_ms, ..self.meta });
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
            let result = decode(self.rx.wait().unwrap_or_else(|_| Err(closed())), &self.limits);
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
                Poll::Ready(result) => {
                    decode(result.unwrap_or_else(|_| Err(closed())), &this.limits)
                }
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

/// Turns a raw reply frame into `T` on the caller's thread.
fn decode<T: FromValue>(result: Result<Bytes, Error>, limits: &Limits) -> Result<T, Error> {
    T::from_reply(&result?, limits)
}
