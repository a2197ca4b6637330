//! Lua scripts: [`Script`] keeps the code and its SHA1 (computed here, `sha1.rs`), is invoked
//! with EVALSHA, and falls back to EVAL when the server answers NOSCRIPT (its script cache
//! is empty after a restart or `SCRIPT FLUSH`): once per call, on the caller's side.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;

use crate::client::ClientCore;
use crate::commands::{Commands, Owned, Receiver, Shared};
use crate::error::Error;
use crate::handle::{Cmd, Reply};
use crate::pipeline::{Piped, Queued};
use crate::resp::{CommandBuf, FromValue, ToArg, Value};

#[path = "sha1.rs"]
mod sha1;

/// A Lua script: its code and SHA1, computed once when it is made.
///
/// [`invoke`](Invocation::invoke) sends `EVALSHA` (only the hash travels); when the server
/// does not know the script (`NOSCRIPT`: after a restart or `SCRIPT FLUSH`), the call is sent
/// once more as `EVAL` with the code, which also loads it for the next calls. With a key
/// prefix, the script's keys are prefixed (its arguments are not).
///
/// In a [`Pipeline`](crate::Pipeline) the fallback works too: a call that got NOSCRIPT is
/// sent again with EVAL when the pipeline's replies are in, so it runs after the commands
/// queued behind it (only in that rare case). Inside a transaction there is no second
/// chance (the transaction ran without it): load the script first with
/// [`load`](Script::load); its NOSCRIPT error stays in its slot.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let script = redpoll::Script::new("return redis.call('GET', KEYS[1])");
/// let v: Option<String> = script.key("k").invoke(&client).decode().wait()?;
/// let n: i64 = redpoll::Script::new("return #ARGV").arg(1).arg(2).invoke(&client).decode().wait()?;
/// assert_eq!(n, 2);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Script {
    inner: Arc<Code>,
}

struct Code {
    code: Bytes,
    sha: String,
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script").field("sha1", &self.inner.sha).finish()
    }
}

impl Script {
    /// A script from its Lua code.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = redpoll::Script::new("return 1");
    /// assert_eq!(s.hash(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    /// ```
    pub fn new(code: impl AsRef<[u8]>) -> Self {
        let code = Bytes::copy_from_slice(code.as_ref());
        let sha = sha1::hex(&code);
        Script { inner: Arc::new(Code { code, sha }) }
    }

    /// The script's SHA1, in lower-case hex: what `EVALSHA` sends and `SCRIPT LOAD` returns.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(redpoll::Script::new("").hash(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    /// ```
    pub fn hash(&self) -> &str {
        &self.inner.sha
    }

    /// The script's code.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(&redpoll::Script::new("return 1").code()[..], b"return 1");
    /// ```
    pub fn code(&self) -> &Bytes {
        &self.inner.code
    }

    /// A call of the script with `key` as its first key (`KEYS[1]`).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let script = redpoll::Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    /// let n: i64 = script.key("counter").arg(5).invoke(&client).decode().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn key<K: ToArg>(&self, key: K) -> Invocation {
        self.invocation().key(key)
    }

    /// A call of the script with `arg` as its first argument (`ARGV[1]`).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let s: String = redpoll::Script::new("return ARGV[1]").arg("hi").invoke(&client).decode().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn arg<A: ToArg>(&self, arg: A) -> Invocation {
        self.invocation().arg(arg)
    }

    /// A call of the script with no keys and no arguments yet.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let one: i64 = redpoll::Script::new("return 1").invocation().invoke(&client).decode().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn invocation(&self) -> Invocation {
        Invocation { script: self.clone(), keys: Vec::new(), args: Vec::new() }
    }

    /// Loads the script into the server's script cache (`SCRIPT LOAD`); the reply is its
    /// SHA1. Needed before calling it inside a transaction, where NOSCRIPT cannot be retried.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let script = redpoll::Script::new("return 1");
    /// let sha = script.load(&client).wait()?;
    /// assert_eq!(&sha[..], script.hash().as_bytes());
    /// # Ok(()) }
    /// ```
    pub fn load<'c, R: Receiver>(&self, on: &'c Commands<R>) -> R::Built<'c, Bytes, ()> {
        on.script_load(self.inner.code.clone())
    }
}

/// One call of a [`Script`]: its keys and arguments, and where it goes
/// ([`invoke`](Invocation::invoke)).
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let script = redpoll::Script::new("return {KEYS[1], ARGV[1]}");
/// let call = script.key("k").arg("a");
/// let both: Vec<String> = call.invoke(&client).decode().wait()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Invocation {
    script: Script,
    keys: Vec<Bytes>,
    args: Vec<Bytes>,
}

/// The arguments `arg` writes, each as its own `Bytes` (a slice writes several).
pub(crate) fn encoded_args<A: ToArg>(arg: A) -> impl Iterator<Item = Bytes> {
    let mut buf = CommandBuf::new();
    arg.write_args(&mut buf);
    let args: Vec<Bytes> = buf.args().map(Bytes::copy_from_slice).collect();
    args.into_iter()
}

impl Invocation {
    /// One more key (or several, from a slice).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let s = redpoll::Script::new("return #KEYS");
    /// let n: i64 = s.key("a").key(&["b", "c"][..]).invoke(&client).decode().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn key<K: ToArg>(mut self, key: K) -> Self {
        self.keys.extend(encoded_args(key));
        self
    }

    /// One more argument (or several, from a slice).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let s = redpoll::Script::new("return ARGV[2]");
    /// let v: i64 = s.arg(1).arg(2).invoke(&client).decode().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn arg<A: ToArg>(mut self, arg: A) -> Self {
        self.args.extend(encoded_args(arg));
        self
    }

    /// The call for `target`: a [`Client`](crate::Client) or a
    /// [`Dedicated`](crate::Dedicated) connection (a [`ScriptCall`] to `.wait()` or
    /// `.await`), a [`Pipeline`](crate::Pipeline) or a transaction (queued there).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let script = redpoll::Script::new("return redis.call('INCR', KEYS[1])");
    /// let n: i64 = script.key("n").invoke(&client).decode().wait()?;
    /// let mut p = client.pipeline();
    /// script.key("n").invoke(&p);
    /// script.key("n").invoke(&p);
    /// let (a, b): (i64, i64) = p.query().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn invoke<'a, X: Target>(&self, target: &'a X) -> X::Call<'a> {
        target.invoke_script(self)
    }

    /// `EVALSHA sha numkeys keys… args…` (or `EVAL code …`) for receiver `R`.
    fn command<'r, R: Receiver>(&self, on: &'r R, eval: bool) -> Cmd<'r, Value, R> {
        let (name, first) = if eval {
            ("EVAL", self.script.inner.code.clone())
        } else {
            ("EVALSHA", Bytes::copy_from_slice(self.script.inner.sha.as_bytes()))
        };
        Cmd::new(on, name).arg(first).counted(&self.keys[..]).arg(&self.args[..])
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Where a script call can go: [`Client`](crate::Client), [`Dedicated`](crate::Dedicated),
/// [`Pipeline`](crate::Pipeline), [`Transaction`](crate::Transaction). Sealed.
pub trait Target: sealed::Sealed {
    /// What [`Invocation::invoke`] returns for this target.
    type Call<'a>
    where
        Self: 'a;

    #[doc(hidden)]
    fn invoke_script<'a>(&'a self, call: &Invocation) -> Self::Call<'a>;
}

impl sealed::Sealed for crate::Client {}
impl Target for crate::Client {
    type Call<'a> = ScriptCall<'a, Value, Shared>;

    fn invoke_script<'a>(&'a self, call: &Invocation) -> ScriptCall<'a, Value, Shared> {
        let commands: &Commands<Shared> = self;
        ScriptCall { evalsha: call.command(&commands.receiver, false), call: call.clone() }
    }
}

impl sealed::Sealed for crate::Dedicated {}
impl Target for crate::Dedicated {
    type Call<'a> = ScriptCall<'a, Value, Owned>;

    fn invoke_script<'a>(&'a self, call: &Invocation) -> ScriptCall<'a, Value, Owned> {
        let commands: &Commands<Owned> = self;
        ScriptCall { evalsha: call.command(&commands.receiver, false), call: call.clone() }
    }
}

/// Queues the call's EVALSHA in a pipeline or transaction; with `fallback`, its EVAL is sent
/// if the server answers NOSCRIPT.
fn queue<'a>(
    commands: &'a Commands<Piped>,
    call: &Invocation,
    fallback: bool,
) -> Queued<'a, Value> {
    let queued = <Piped as Receiver>::build(commands, call.command(&commands.receiver, false));
    if fallback {
        commands.receiver.add_fallback(queued.slot(), Fallback { call: call.clone() });
    }
    queued
}

impl sealed::Sealed for crate::Pipeline {}
impl Target for crate::Pipeline {
    type Call<'a> = Queued<'a, Value>;

    fn invoke_script<'a>(&'a self, call: &Invocation) -> Queued<'a, Value> {
        queue(self, call, true)
    }
}

impl sealed::Sealed for crate::Transaction {}
impl Target for crate::Transaction {
    type Call<'a> = Queued<'a, Value>;

    fn invoke_script<'a>(&'a self, call: &Invocation) -> Queued<'a, Value> {
        queue(self, call, false)
    }
}

/// A script call in a pipeline: the EVAL to send if its EVALSHA gets NOSCRIPT.
pub(crate) struct Fallback {
    call: Invocation,
}

impl Fallback {
    /// Sends the EVAL over the client's shared connection, or dedicated connection `conn`.
    pub(crate) fn send(&self, core: &Arc<ClientCore>, conn: Option<u64>) -> Reply<Value> {
        send_eval(&self.call, core, conn)
    }
}

fn send_eval<T>(call: &Invocation, core: &Arc<ClientCore>, conn: Option<u64>) -> Reply<T> {
    match conn {
        None => {
            let on = Shared { core: Arc::clone(core) };
            call.command(&on, true).reply().send()
        }
        Some(id) => {
            let on = Owned { core: Arc::clone(core), id };
            call.command(&on, true).reply().send()
        }
    }
}

/// A script call for a client or dedicated connection, not sent yet: `.wait()`, `.await`
/// or [`send`](ScriptCall::send) it; [`decode`](ScriptCall::decode) picks the reply type.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let script = redpoll::Script::new("return ARGV[1]");
/// let v: String = script.arg("x").invoke(&client).decode().wait()?;
/// # Ok(()) }
/// ```
#[must_use = "a script call does nothing until it is sent with .wait(), .await or .send()"]
pub struct ScriptCall<'a, T, R> {
    evalsha: Cmd<'a, T, R>,
    call: Invocation,
}

impl<T, R> std::fmt::Debug for ScriptCall<'_, T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptCall").field("script", &self.call.script).finish()
    }
}

impl<'a, T, R> ScriptCall<'a, T, R> {
    /// Decodes the reply into `U`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let n: i64 = redpoll::Script::new("return 7").invocation().invoke(&client).decode().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn decode<U: FromValue>(self) -> ScriptCall<'a, U, R> {
        ScriptCall { evalsha: self.evalsha.reply(), call: self.call }
    }
}

/// `send`, `wait` and `.await` for the receivers that send.
macro_rules! script_sending {
    ($receiver:ty, |$r:ident| $conn:expr) => {
        impl<T: FromValue> ScriptCall<'_, T, $receiver> {
            /// Sends the call now (EVALSHA) and returns the handle of its reply.
            pub fn send(self) -> ScriptReply<T> {
                let $r = self.evalsha.receiver_ref();
                let (core, conn) = (Arc::clone(&$r.core), $conn);
                ScriptReply {
                    first: Some(self.evalsha.send()),
                    fallback: Some((core, conn, self.call)),
                    second: None,
                }
            }

            /// Sends the call and blocks until its reply arrives.
            ///
            /// # Errors
            ///
            /// As [`Cmd::wait`]; a NOSCRIPT reply is not an error (the call is sent again
            /// with EVAL).
            pub fn wait(self) -> Result<T, Error> {
                self.send().wait()
            }
        }

        impl<'a, T: FromValue> IntoFuture for ScriptCall<'a, T, $receiver> {
            type Output = Result<T, Error>;
            type IntoFuture = ScriptReply<T>;

            fn into_future(self) -> ScriptReply<T> {
                self.send()
            }
        }
    };
}

script_sending!(Shared, |r| None);
script_sending!(Owned, |r| Some(r.id));

/// The pending reply of a script call (EVALSHA, then EVAL if the server did not know it).
#[must_use = "the reply is discarded unless it is waited for or awaited"]
pub struct ScriptReply<T> {
    first: Option<Reply<T>>,
    fallback: Option<(Arc<ClientCore>, Option<u64>, Invocation)>,
    second: Option<Reply<T>>,
}

impl<T> std::fmt::Debug for ScriptReply<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptReply").field("fell_back", &self.second.is_some()).finish()
    }
}

fn is_noscript(result: &Result<impl Sized, Error>) -> bool {
    matches!(result, Err(e) if e.server_code() == Some("NOSCRIPT"))
}

impl<T: FromValue> ScriptReply<T> {
    /// Blocks until the reply arrives.
    ///
    /// # Errors
    ///
    /// As [`Cmd::wait`].
    pub fn wait(mut self) -> Result<T, Error> {
        let Some(first) = self.first.take() else { return Err(taken()) };
        let result = first.wait();
        match self.fallback.take() {
            Some((core, conn, call)) if is_noscript(&result) => {
                send_eval(&call, &core, conn).wait()
            }
            _ => result,
        }
    }
}

impl<T: FromValue> Future for ScriptReply<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(first) = this.first.as_mut() {
            let result = match Pin::new(first).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => r,
            };
            this.first = None;
            match this.fallback.take() {
                Some((core, conn, call)) if is_noscript(&result) => {
                    this.second = Some(send_eval(&call, &core, conn));
                }
                _ => return Poll::Ready(result),
            }
        }
        match this.second.as_mut() {
            Some(second) => Pin::new(second).poll(cx),
            None => Poll::Ready(Err(taken())),
        }
    }
}

fn taken() -> Error {
    Error::Usage("the script's reply was taken already".into())
}
