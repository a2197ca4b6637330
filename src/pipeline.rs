//! Pipelines: many commands written back to back as one group, answered as one unit with a
//! result per command (a slot); and the receiver transactions share with them.
//!
//! A [`Pipeline`] has every command method of the surface (through `Deref` to
//! `Commands<Piped>`). Each method queues its command where it is called, in call order,
//! chained or one per line, and returns a [`Queued`] command that still takes the command's
//! typed options: the command is finished (options in syntax order, key prefix applied) and
//! its bytes appended to the pipeline when the `Queued` value goes away, at the end of the
//! statement. [`Pipeline::execute`] sends them all as one group: written contiguously, one
//! deadline, one reply slot on the I/O thread for all of them.
//!
//! The encoded commands are kept in buffers of [`CHUNK`] bytes, which the I/O thread writes
//! as the socket takes them, without copying them again; the replies of the group gather in
//! one buffer (no copy for the frames of one read) and are parsed into the slots on the
//! caller's thread.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::client::{ClientCore, Route};
use crate::commands::prefix::ReplyKeys;
use crate::commands::{Commands, Receiver};
use crate::error::Error;
use crate::fork;
use crate::handle::{self, Cmd, Ready};
use crate::oneshot;
use crate::proto::outbuf::Encoded;
use crate::proto::session::Effect;
use crate::reactor;
use crate::resp::{parse_frame, Decoder, FromValue, Limits, ToArg, Value};
use crate::script::Fallback;

/// The size of the buffers a pipeline's commands are encoded into: big enough that a write
/// takes many commands at once, small enough that the I/O thread's queue of chunks stays
/// short for a pipeline of millions.
pub const CHUNK: usize = 64 * 1024;

/// `MULTI` and `EXEC`, encoded.
const MULTI: &[u8] = b"*1\r\n$5\r\nMULTI\r\n";
const EXEC: &[u8] = b"*1\r\n$4\r\nEXEC\r\n";

/// The receiver of a [`Pipeline`]'s (or a transaction's) commands: they are queued, not sent.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let mut p = client.pipeline();
/// let queued: redpoll::pipeline::Queued<'_, i64, ()> = p.incr("n");
/// drop(queued); // queued for good now
/// let slots = p.execute().wait()?;
/// # Ok(()) }
/// ```
pub struct Piped {
    pub(crate) core: Arc<ClientCore>,
    /// The dedicated connection the group goes to; `None`: the client's own connections.
    pub(crate) conn: Option<u64>,
    /// A transaction: MULTI … EXEC around the commands.
    pub(crate) atomic: bool,
    batch: RefCell<Batch>,
}

impl std::fmt::Debug for Piped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let batch = self.batch.borrow();
        f.debug_struct(if self.atomic { "Transaction" } else { "Pipeline" })
            .field("commands", &batch.reserved)
            .field("client", &self.core)
            .finish()
    }
}

impl Receiver for Piped {
    type Built<'r, T, O> = Queued<'r, T, O>;

    #[inline]
    fn build<'r, T, O>(commands: &'r Commands<Self>, cmd: Cmd<'r, T, Self, O>) -> Queued<'r, T, O> {
        let slot = commands.receiver.batch.borrow_mut().reserve();
        Queued { commands, cmd: Some(cmd), slot, ignore: false }
    }
}

impl Piped {
    pub(crate) fn new(core: Arc<ClientCore>, conn: Option<u64>, atomic: bool) -> Self {
        Piped { core, conn, atomic, batch: RefCell::new(Batch::default()) }
    }

    /// Queues a script call's fallback for slot `slot`: the EVAL that replaces its EVALSHA
    /// if the server does not know the script.
    pub(crate) fn add_fallback(&self, slot: u32, fallback: Fallback) {
        self.batch.borrow_mut().fallbacks.push((slot, fallback));
    }

    /// Takes the queued commands out, leaving the receiver spent, and sends them as one
    /// group (or, for no commands, resolves at once).
    pub(crate) fn execute<T: FromValue>(
        &self,
        timeout: Option<Duration>,
        strict: bool,
        effect: Effect,
    ) -> Executed<T> {
        let core = Arc::clone(&self.core);
        let limits = core.limits;
        let batch = std::mem::replace(&mut *self.batch.borrow_mut(), Batch::spent());
        let shape = Shape {
            count: batch.reserved,
            atomic: self.atomic,
            strict,
            ignored: batch.ignored,
            unprefix: batch.unprefix,
            prefix: core.prefix.clone(),
            fallbacks: batch.fallbacks,
            conn: self.conn,
        };
        let failed = |e: Error| Executed::ready(Err(e), core.clone(), shape_stub(self.atomic));
        if batch.spent {
            return failed(Error::Usage(
                "this pipeline was executed already: a pipeline is sent once; build a new one \
                 with `client.pipeline()`"
                    .into(),
            ));
        }
        if let Some(e) = batch.refused {
            return failed(e);
        }
        if batch.written != batch.reserved {
            return failed(Error::Usage(format!(
                "command {} of the pipeline was never finished (its `Queued` value was leaked), \
                 so the pipeline cannot be sent in order",
                batch.written
            )));
        }
        if shape.count == 0 {
            let empty = Ok(Bytes::new());
            return Executed::ready(empty, core, shape);
        }
        let Some(replies) = shape.count.checked_add(if self.atomic { 2 } else { 0 }) else {
            return failed(Error::Usage("a pipeline holds at most 4,294,967,293 commands".into()));
        };
        let mut chunks = batch.chunks;
        if !batch.current.is_empty() {
            chunks.push(batch.current.freeze());
        }
        if self.atomic {
            chunks.insert(0, Bytes::from_static(MULTI));
            chunks.push(Bytes::from_static(EXEC));
        }
        let bytes = if chunks.len() == 1 {
            Encoded::One(chunks.remove(0))
        } else {
            Encoded::Chunks(chunks)
        };
        let timeout_ms = match timeout {
            Some(t) => Some(u64::try_from(t.as_millis()).unwrap_or(u64::MAX / 2)),
            None if batch.forever => None,
            None => batch.max_timeout_ms,
        };
        let blocking = batch.blocking && !self.atomic;
        let meta =
            core.group_meta(replies, self.atomic, batch.first_len, timeout_ms, blocking, effect);
        let route = match self.conn {
            Some(id) => Route::Conn(id),
            // A blocking command would hold up everyone on the shared connection.
            None if blocking => Route::Spare,
            None => Route::Shared,
        };
        let (tx, rx) = oneshot::channel();
        core.submit(route, bytes, tx, meta);
        Executed {
            state: State::Waiting(rx),
            shape: Box::new(shape),
            limits,
            core,
            generation: fork::generation(),
            _reply: PhantomData,
        }
    }

    /// How many commands are queued.
    pub(crate) fn len(&self) -> usize {
        self.batch.borrow().reserved as usize
    }
}

/// A shape for a pipeline that failed before it was sent.
fn shape_stub(atomic: bool) -> Shape {
    Shape {
        count: 0,
        atomic,
        strict: false,
        ignored: Vec::new(),
        unprefix: Vec::new(),
        prefix: None,
        fallbacks: Vec::new(),
        conn: None,
    }
}

/// The commands of a pipeline or transaction as they are queued.
#[derive(Default)]
struct Batch {
    /// Slots handed out (commands built).
    reserved: u32,
    /// Slots whose bytes are in `chunks`/`current`: every one below it.
    written: u32,
    /// Commands finished ahead of an earlier one (a chain finishes its last command first).
    pending: BTreeMap<u32, (Result<Ready, Error>, bool)>,
    chunks: Vec<Bytes>,
    current: BytesMut,
    /// The length of the first command (a pipeline's may run as soon as it is written).
    first_len: u32,
    /// Slots left out of the results, in order.
    ignored: Vec<u32>,
    /// Slots whose replies hold keys to take the prefix off.
    unprefix: Vec<(u32, ReplyKeys)>,
    fallbacks: Vec<(u32, Fallback)>,
    /// The first command that could not be queued.
    refused: Option<Error>,
    /// A command blocks on the server.
    blocking: bool,
    /// A command has no deadline (it blocks forever).
    forever: bool,
    /// The longest deadline among the commands.
    max_timeout_ms: Option<u64>,
    /// Executed already.
    spent: bool,
}

impl Batch {
    fn spent() -> Self {
        Batch { spent: true, ..Batch::default() }
    }

    fn reserve(&mut self) -> u32 {
        let slot = self.reserved;
        self.reserved = self.reserved.saturating_add(1);
        slot
    }

    /// A command of slot `slot` is finished: appended if every earlier one is, kept aside
    /// until they are otherwise.
    fn fill(&mut self, slot: u32, ready: Result<Ready, Error>, ignore: bool) {
        if slot != self.written {
            self.pending.insert(slot, (ready, ignore));
            return;
        }
        self.append(ready, ignore);
        while let Some((ready, ignore)) = self.pending.remove(&self.written) {
            self.append(ready, ignore);
        }
    }

    fn append(&mut self, ready: Result<Ready, Error>, ignore: bool) {
        let slot = self.written;
        self.written += 1;
        let ready = match ready {
            Ok(ready) => ready,
            Err(e) => {
                if self.refused.is_none() {
                    self.refused = Some(slot_error(slot, e));
                }
                return;
            }
        };
        if ignore {
            self.ignored.push(slot);
        }
        if let Some(keys) = ready.unprefix {
            self.unprefix.push((slot, keys.0));
        }
        self.blocking |= ready.meta.props.blocking;
        match ready.meta.timeout_ms {
            None => self.forever = true,
            Some(ms) => self.max_timeout_ms = Some(self.max_timeout_ms.map_or(ms, |m| m.max(ms))),
        }
        let mut buf = ready.buf;
        if buf.has_shared() {
            // Large values stay in the caller's memory: their chunks go out as they are.
            if !self.current.is_empty() {
                self.chunks.push(self.current.split().freeze());
            }
            let chunks = buf.finish_chunks();
            if slot == 0 {
                self.first_len = chunks.iter().map(Bytes::len).sum::<usize>() as u32;
            }
            self.chunks.extend(chunks);
        } else {
            let encoded = buf.encoded();
            if slot == 0 {
                self.first_len = encoded.len() as u32;
            }
            if self.current.capacity() - self.current.len() < encoded.len() {
                self.current.reserve(CHUNK.max(encoded.len()));
            }
            self.current.extend_from_slice(encoded);
            handle::recycle(buf);
            if self.current.len() >= CHUNK {
                self.chunks.push(self.current.split().freeze());
            }
        }
    }
}

fn slot_error(slot: u32, e: Error) -> Error {
    match e {
        Error::Usage(m) => Error::Usage(format!("command {slot} of the pipeline: {m}")),
        other => other,
    }
}

/// A command queued in a [`Pipeline`] or a transaction: it takes the command's typed options
/// (`p.set("k", "v").ex(10)`), and every command method for the next command
/// (`p.set("a", 1).incr("a")`). It joins the pipeline when it goes away, at the end of the
/// statement; nothing is sent before [`Pipeline::execute`].
///
/// An option of the queued command comes before a command of the same name: after
/// `p.set("k", "v")`, `.get()` is SET's `GET` option, so a GET command after a SET starts a
/// new statement (`p.get("k");`).
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let mut p = client.pipeline();
/// p.set("a", 1).ex(60).ignore().incr("a").get("a");
/// let (n, a): (i64, Option<String>) = p.query().wait()?; // the SET's reply is left out
/// # Ok(()) }
/// ```
pub struct Queued<'r, T, O = ()> {
    commands: &'r Commands<Piped>,
    cmd: Option<Cmd<'r, T, Piped, O>>,
    slot: u32,
    ignore: bool,
}

impl<'r, T, O> Queued<'r, T, O> {
    /// The same queued command changed by `f` (an option).
    #[doc(hidden)]
    pub fn map<U, P>(
        mut self,
        f: impl FnOnce(Cmd<'r, T, Piped, O>) -> Cmd<'r, U, Piped, P>,
    ) -> Queued<'r, U, P> {
        let cmd = self.cmd.take().map(f);
        Queued { commands: self.commands, cmd, slot: self.slot, ignore: self.ignore }
    }

    /// Appends an argument (or several); after typed options, it goes last.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let mut p = client.pipeline();
    /// p.cmd("OBJECT").arg("ENCODING").arg("k");
    /// # Ok(()) }
    /// ```
    pub fn arg<A: ToArg>(self, arg: A) -> Self {
        self.map(|c| c.arg(arg))
    }

    /// Appends an argument that is a key (prefixed like the keys the specs know).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let mut p = client.pipeline();
    /// p.cmd("JSON.GET").key("doc").arg("$");
    /// # Ok(()) }
    /// ```
    pub fn key<K: ToArg>(self, key: K) -> Self {
        self.map(|c| c.key(key))
    }

    /// Sends this command without the client's key prefix.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let mut p = client.pipeline();
    /// p.get("global:motd").no_prefix();
    /// # Ok(()) }
    /// ```
    pub fn no_prefix(self) -> Self {
        self.map(Cmd::no_prefix)
    }

    /// Leaves this command's reply out of the results: the command still runs, but its
    /// reply (an error reply too) is in neither [`Pipeline::execute`]'s slots nor
    /// [`Pipeline::query`]'s values.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let mut p = client.pipeline();
    /// p.set("k", "v").ignore();
    /// p.get("k");
    /// let (v,): (Option<String>,) = p.query().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn ignore(mut self) -> Self {
        self.ignore = true;
        self
    }

    /// The slot this command takes in the pipeline (0 for the first).
    pub(crate) fn slot(&self) -> u32 {
        self.slot
    }
}

impl<T, O> std::ops::Deref for Queued<'_, T, O> {
    type Target = Commands<Piped>;

    /// The command methods, for the next command.
    fn deref(&self) -> &Commands<Piped> {
        self.commands
    }
}

impl<T, O> Drop for Queued<'_, T, O> {
    fn drop(&mut self) {
        if let Some(cmd) = self.cmd.take() {
            let piped = &self.commands.receiver;
            let ready = cmd.ready(&piped.core, false);
            piped.batch.borrow_mut().fill(self.slot, ready, self.ignore);
        }
    }
}

impl<T, O> std::fmt::Debug for Queued<'_, T, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queued").field("slot", &self.slot).field("ignore", &self.ignore).finish()
    }
}

/// Many commands sent as one group: written back to back, one deadline, a result per
/// command. Made by [`Client::pipeline`](crate::Client::pipeline) (or a dedicated
/// connection's); every command method queues a command; [`execute`](Pipeline::execute) or
/// [`query`](Pipeline::query) sends them once.
///
/// A server error stays in its slot; a transport failure (lost connection, deadline) fails
/// the whole pipeline, and the connection is reset. A pipeline is not a transaction: other
/// clients' commands may run between its commands on the server (see
/// [`Client::transaction`](crate::Client::transaction)).
///
/// Its deadline is the longest of its commands' (`request_timeout` unless one blocks or has
/// a per-command override), or [`timeout`](Pipeline::timeout). A pipeline with a blocking
/// command (BLPOP & co) runs on one of the client's dedicated connections, so it holds up
/// nobody.
///
/// # Examples
///
/// ```no_run
/// use redpoll::{Error, Value};
///
/// # fn main() -> Result<(), Error> {
/// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let mut p = client.pipeline();
/// p.set("a", 1).incr("a").get("a");   // chained or one per line
/// p.hset("h", &[("f", "v")]);
/// let slots: Vec<Result<Value, Error>> = p.execute().wait()?;
/// assert_eq!(slots.len(), 4);
/// # Ok(()) }
/// ```
pub struct Pipeline {
    commands: Commands<Piped>,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.commands.receiver.fmt(f)
    }
}

impl std::ops::Deref for Pipeline {
    type Target = Commands<Piped>;

    /// The command methods: each queues its command.
    fn deref(&self) -> &Commands<Piped> {
        &self.commands
    }
}

impl Pipeline {
    pub(crate) fn new(core: Arc<ClientCore>, conn: Option<u64>) -> Self {
        Pipeline { commands: Commands::new(Piped::new(core, conn, false)), timeout: None }
    }

    /// One deadline for the whole pipeline instead of the longest of its commands'.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let mut p = client.pipeline();
    /// p.timeout(std::time::Duration::from_secs(30));
    /// for i in 0..100_000 { p.incr("n"); }
    /// p.execute().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = Some(timeout);
        self
    }

    /// How many commands are queued.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let mut p = client.pipeline();
    /// p.get("a").get("b");
    /// assert_eq!(p.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        self.commands.receiver.len()
    }

    /// True when no command is queued.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// assert!(client.pipeline().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sends the queued commands now, as one group; the handle gives a result per command
    /// (ignored ones left out): `Err(Error::Redis(..))` for a command the server refused,
    /// the reply otherwise.
    ///
    /// A pipeline is sent once: executing it again fails with [`Error::Usage`].
    ///
    /// # Errors
    ///
    /// The handle fails as a whole when the pipeline could not be queued (a command refused
    /// before it was sent: [`Error::Usage`] naming it), or was lost: [`Error::Connection`]
    /// or [`Error::Timeout`] (with [`maybe_executed`](Error::maybe_executed) when some of
    /// it may have run).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let mut p = client.pipeline();
    /// p.set("s", "text").incr("s");
    /// let slots = p.execute().wait()?;
    /// assert!(slots[0].is_ok());
    /// assert_eq!(slots[1].as_ref().unwrap_err().server_code(), Some("ERR"));
    /// # Ok(()) }
    /// ```
    pub fn execute(&mut self) -> Executed<Vec<Result<Value, Error>>> {
        self.commands.receiver.execute(self.timeout, false, Effect::None)
    }

    /// Sends the queued commands now and decodes their replies (ignored ones left out) as
    /// one `T`: a tuple with one element per command, a `Vec`, …
    ///
    /// # Errors
    ///
    /// As [`execute`](Pipeline::execute), and the first command the server refused
    /// ([`Error::Redis`]), or [`Error::Conversion`] when the replies do not fit `T`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let mut p = client.pipeline();
    /// p.incr("n").get("n").exists(&["n"]);
    /// let (n, s, e): (i64, String, i64) = p.query().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn query<T: FromValue>(&mut self) -> Executed<T> {
        self.commands.receiver.execute(self.timeout, true, Effect::None)
    }
}

/// What the replies of a group are decoded with.
pub(crate) struct Shape {
    /// The user's commands (MULTI and EXEC not counted).
    pub(crate) count: u32,
    pub(crate) atomic: bool,
    /// The first error reply fails the whole result.
    pub(crate) strict: bool,
    ignored: Vec<u32>,
    unprefix: Vec<(u32, ReplyKeys)>,
    prefix: Option<Bytes>,
    fallbacks: Vec<(u32, Fallback)>,
    /// The dedicated connection the group went to (script fallbacks go there too).
    conn: Option<u64>,
}

/// The pending result of a pipeline or transaction: `.wait()` for it, or `.await` it.
///
/// The group was sent when this handle was made; dropping it early is safe (the replies are
/// discarded when they come).
#[must_use = "the results are discarded unless they are waited for or awaited"]
pub struct Executed<T> {
    state: State,
    shape: Box<Shape>,
    limits: Limits,
    core: Arc<ClientCore>,
    generation: u64,
    _reply: PhantomData<fn() -> T>,
}

enum State {
    /// The result, known before anything was sent.
    Early(Result<Bytes, Error>),
    Waiting(oneshot::Receiver<Result<Bytes, Error>>),
    /// Script calls the server did not know, sent again with EVAL: their replies replace
    /// the NOSCRIPT errors in `values`.
    Fallback {
        values: Vec<Value>,
        waiting: Vec<(usize, Option<handle::Reply<Value>>)>,
    },
    Done,
}

impl<T> std::fmt::Debug for Executed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executed").field("commands", &self.shape.count).finish()
    }
}

impl<T> Executed<T> {
    fn ready(result: Result<Bytes, Error>, core: Arc<ClientCore>, shape: Shape) -> Self {
        Executed {
            state: State::Early(result),
            shape: Box::new(shape),
            limits: core.limits,
            core,
            generation: fork::generation(),
            _reply: PhantomData,
        }
    }

    /// The same results decoded into `U` instead.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let (a, b): (i64, i64) = client.transaction(|tx| { tx.incr("a"); tx.incr("b"); })
    ///     .decode()
    ///     .wait()?;
    /// # Ok(()) }
    /// ```
    pub fn decode<U: FromValue>(self) -> Executed<U> {
        Executed {
            state: self.state,
            shape: self.shape,
            limits: self.limits,
            core: self.core,
            generation: self.generation,
            _reply: PhantomData,
        }
    }

    /// The group's reply is in: either the result, or the script calls to send again.
    fn arrived(&mut self, raw: Result<Bytes, Error>) -> Option<Result<Slots, Error>> {
        let slots = match raw.and_then(|raw| unpack(raw, &self.shape, &self.limits)) {
            Ok(slots) => slots,
            Err(e) => return Some(Err(e)),
        };
        let values = match slots {
            Slots::Values(values) if !self.shape.fallbacks.is_empty() => values,
            other => return Some(Ok(other)),
        };
        let waiting: Vec<(usize, Option<handle::Reply<Value>>)> = self
            .shape
            .fallbacks
            .iter()
            .filter(|(slot, _)| is_noscript(values.get(*slot as usize)))
            .map(|(slot, fallback)| {
                (*slot as usize, Some(fallback.send(&self.core, self.shape.conn)))
            })
            .collect();
        if waiting.is_empty() {
            return Some(Ok(Slots::Values(values)));
        }
        self.state = State::Fallback { values, waiting };
        None
    }
}

/// True for a NOSCRIPT error reply.
fn is_noscript(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Error(e)) if e.code() == "NOSCRIPT")
}

/// A script call's EVAL reply, in the slot of its EVALSHA.
fn fallback_value(result: Result<Value, Error>) -> Result<Value, Error> {
    match result {
        Ok(v) => Ok(v),
        Err(Error::Redis(e)) => Ok(Value::Error(e)),
        Err(e) => Err(e),
    }
}

impl<T: FromValue> Executed<T> {
    /// Blocks the calling thread until the results are in.
    ///
    /// # Errors
    ///
    /// As [`Pipeline::execute`] and [`Pipeline::query`].
    ///
    /// # Panics
    ///
    /// When called on redpoll's own I/O thread, which would wait for itself forever.
    pub fn wait(mut self) -> Result<T, Error> {
        assert!(
            !reactor::on_io_thread(),
            "Executed::wait() called on redpoll's I/O thread: it would wait for itself forever"
        );
        loop {
            let raw = match std::mem::replace(&mut self.state, State::Done) {
                State::Early(raw) => raw,
                State::Waiting(rx) => {
                    if self.generation != fork::generation() && !rx.is_ready() {
                        return Err(forked());
                    }
                    rx.wait().unwrap_or_else(|_| Err(closed()))
                }
                State::Fallback { mut values, waiting } => {
                    for (slot, reply) in waiting {
                        if let Some(reply) = reply {
                            values[slot] = fallback_value(reply.wait())?;
                        }
                    }
                    return finish(Slots::Values(values), &self.shape);
                }
                State::Done => return Err(polled()),
            };
            if let Some(slots) = self.arrived(raw) {
                return finish(slots?, &self.shape);
            }
        }
    }
}

impl<T: FromValue> Future for Executed<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            let raw = match &mut this.state {
                State::Early(_) => match std::mem::replace(&mut this.state, State::Done) {
                    State::Early(raw) => raw,
                    _ => unreachable!("matched just above"),
                },
                State::Waiting(rx) => {
                    if this.generation != fork::generation() && !rx.is_ready() {
                        this.state = State::Done;
                        return Poll::Ready(Err(forked()));
                    }
                    match Pin::new(rx).poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(r) => {
                            this.state = State::Done;
                            r.unwrap_or_else(|_| Err(closed()))
                        }
                    }
                }
                State::Fallback { values, waiting } => {
                    for (slot, reply) in waiting.iter_mut() {
                        let Some(pending) = reply.as_mut() else { continue };
                        match Pin::new(pending).poll(cx) {
                            Poll::Pending => return Poll::Pending,
                            Poll::Ready(r) => {
                                *reply = None;
                                match fallback_value(r) {
                                    Ok(v) => values[*slot] = v,
                                    Err(e) => {
                                        this.state = State::Done;
                                        return Poll::Ready(Err(e));
                                    }
                                }
                            }
                        }
                    }
                    let values = std::mem::take(values);
                    this.state = State::Done;
                    return Poll::Ready(finish(Slots::Values(values), &this.shape));
                }
                State::Done => return Poll::Ready(Err(polled())),
            };
            if let Some(slots) = this.arrived(raw) {
                return Poll::Ready(slots.and_then(|slots| finish(slots, &this.shape)));
            }
        }
    }
}

fn closed() -> Error {
    Error::Disconnected("the I/O thread dropped the request".into())
}

fn forked() -> Error {
    Error::Disconnected("sent before fork(); only the parent gets its results".into())
}

fn polled() -> Error {
    Error::Usage("the results were taken already".into())
}

/// The group's reply frames, one per command (MULTI's and the queueing replies of a
/// transaction included), each parsed.
pub(crate) fn frames(raw: Bytes, expected: usize, limits: &Limits) -> Result<Vec<Value>, Error> {
    let mut values = Vec::with_capacity(expected);
    let mut decoder = Decoder::with_limits(*limits);
    let mut at = 0;
    while at < raw.len() {
        let len = match decoder.scan(&raw[at..])? {
            Some(len) => len,
            None => return Err(Error::protocol("a pipeline's replies ended inside a frame")),
        };
        values.push(parse_frame(&raw.slice(at..at + len), limits)?.without_attributes());
        at += len;
    }
    if values.len() != expected {
        return Err(Error::protocol(format!(
            "a pipeline of {expected} commands got {} replies",
            values.len()
        )));
    }
    Ok(values)
}

/// The result of a group from the values of its commands (a transaction's EXEC reply
/// unpacked already: see [`unpack_transaction`]).
fn finish<T: FromValue>(slots: Slots, shape: &Shape) -> Result<T, Error> {
    let values = match slots {
        Slots::Values(values) => values,
        Slots::Nil => return T::from_value(Value::Nil),
    };
    let mut out = Vec::with_capacity(values.len().saturating_sub(shape.ignored.len()));
    let mut ignored = shape.ignored.iter().peekable();
    let mut unprefix = shape.unprefix.iter().peekable();
    for (i, value) in values.into_iter().enumerate() {
        let slot = i as u32;
        if ignored.peek() == Some(&&slot) {
            ignored.next();
            if unprefix.peek().is_some_and(|(s, _)| *s == slot) {
                unprefix.next();
            }
            continue;
        }
        let value = match (unprefix.peek(), &shape.prefix) {
            (Some((s, keys)), Some(prefix)) if *s == slot => {
                let keys = *keys;
                unprefix.next();
                match value {
                    Value::Error(_) => value,
                    value => keys.strip(value, prefix),
                }
            }
            _ => value,
        };
        if shape.strict {
            if let Value::Error(e) = value {
                return Err(Error::Redis(e));
            }
        }
        out.push(value);
    }
    T::from_value(Value::Array(out))
}

/// The values of a group's commands, in order; or, for a transaction a WATCH aborted, none.
pub(crate) enum Slots {
    Values(Vec<Value>),
    Nil,
}

/// A group's frames as the values of its commands: a pipeline's as they are; a
/// transaction's from its EXEC reply, with EXECABORT turned into an error that names every
/// command the server refused to queue and why.
pub(crate) fn unpack(raw: Bytes, shape: &Shape, limits: &Limits) -> Result<Slots, Error> {
    if shape.count == 0 {
        return Ok(Slots::Values(Vec::new()));
    }
    let count = shape.count as usize;
    if !shape.atomic {
        return frames(raw, count, limits).map(Slots::Values);
    }
    let mut values = frames(raw, count + 2, limits)?;
    let exec = values.pop().unwrap_or(Value::Nil);
    let mut values = values.into_iter();
    if let Some(Value::Error(e)) = values.next() {
        return Err(Error::Redis(e));
    }
    let refused: Vec<String> = values
        .enumerate()
        .filter_map(|(i, v)| match v {
            Value::Error(e) => Some(format!("command {i}: {e}")),
            _ => None,
        })
        .collect();
    match exec {
        Value::Array(values) => Ok(Slots::Values(values)),
        Value::Nil => Ok(Slots::Nil),
        Value::Error(e) if e.code() == "EXECABORT" && !refused.is_empty() => {
            Err(Error::Redis(crate::error::ServerError::new(format!(
                "EXECABORT the transaction was discarded because the server refused to queue \
                 {}: {}",
                if refused.len() == 1 { "one command" } else { "some commands" },
                refused.join("; ")
            ))))
        }
        Value::Error(e) => Err(Error::Redis(e)),
        other => Err(Error::protocol(format!("EXEC answered with {other:?}"))),
    }
}
