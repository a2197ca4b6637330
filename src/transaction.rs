//! Transactions: [`Client::transaction`] (MULTI … EXEC as one group), `pipeline()` and
//! `transaction()` on a dedicated connection, and [`Client::watch_multi`]: WATCH, read, the
//! caller's closure, MULTI … EXEC on a dedicated connection, again on conflict if asked.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;

use crate::client::{Client, ClientCore};
use crate::commands::{Commands, Owned, Shared};
use crate::dedicated::Dedicated;
use crate::error::Error;
use crate::pipeline::{Executed, Piped, Pipeline};
use crate::proto::session::Effect;
use crate::resp::{ToArg, Value};

/// The commands of a MULTI … EXEC transaction being built: every command method queues
/// its command (as on a [`Pipeline`]). Made for the closure of [`Client::transaction`],
/// [`Dedicated::transaction`] and [`Client::watch_multi`].
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let results: Vec<redpoll::Value> = client
///     .transaction(|tx: &redpoll::Transaction| {
///         tx.incr("c");
///         tx.get("c");
///     })
///     .wait()?;
/// # Ok(()) }
/// ```
pub struct Transaction {
    commands: Commands<Piped>,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.commands.receiver.fmt(f)
    }
}

impl std::ops::Deref for Transaction {
    type Target = Commands<Piped>;

    /// The command methods: each queues its command.
    fn deref(&self) -> &Commands<Piped> {
        &self.commands
    }
}

impl Transaction {
    fn new(core: Arc<ClientCore>, conn: Option<u64>) -> Self {
        Transaction { commands: Commands::new(Piped::new(core, conn, true)) }
    }

    fn execute<T: crate::FromValue>(&self, effect: Effect) -> Executed<T> {
        self.commands.receiver.execute(None, false, effect)
    }
}

impl Client {
    /// A pipeline: commands queued here are sent together, as one group, when it is
    /// executed. See [`Pipeline`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let mut p = client.pipeline();
    /// p.set("a", 1).incr("a").get("a");
    /// let slots = p.execute().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn pipeline(&self) -> Pipeline {
        Pipeline::new(Arc::clone(core_of(self)), None)
    }

    /// A MULTI … EXEC transaction: `build` queues its commands (on the caller's thread, right
    /// away), and they are sent at once as one group over the shared connection, written
    /// contiguously so that no other caller's command joins the transaction.
    ///
    /// The result is EXEC's reply: one value per command, in order (a command that failed
    /// while the transaction ran is a [`Value::Error`] in its slot; decode into
    /// `Vec<Result<Value, Error>>` to have them as `Err`). A command the server refused to
    /// queue aborts it: the result is [`Error::Redis`] with code `EXECABORT`, naming each
    /// refused command (by its position) and why. [`Executed::decode`] picks another type
    /// (`(i64, Option<String>)`…).
    ///
    /// Blocking commands do not block inside a transaction (Redis runs them as if their
    /// timeout had passed). For WATCH, see [`watch_multi`](Client::watch_multi).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let r: Vec<redpoll::Value> = client.transaction(|tx| { tx.incr("c"); tx.get("c"); }).wait()?;
    /// let (n, s): (i64, String) = client
    ///     .transaction(|tx| { tx.incr("c"); tx.get("c"); })
    ///     .decode()
    ///     .wait()?;
    /// # Ok(()) }
    /// ```
    pub fn transaction<F: FnOnce(&Transaction)>(&self, build: F) -> Executed<Vec<Value>> {
        let tx = Transaction::new(Arc::clone(core_of(self)), None);
        build(&tx);
        tx.execute(Effect::None)
    }

    /// An optimistic transaction on a dedicated connection: WATCH `keys`, read each with GET
    /// (`watched[i]` is its value, `Value::Nil` when missing, a `Value::Error` when it is not
    /// a string), run `build` on the caller's thread or task with the values, then MULTI …
    /// EXEC what it queued. The result is `Ok(None)` when a watched key changed before EXEC
    /// (nothing ran), `Ok(Some(results))` otherwise; [`retry`](WatchMulti::retry) runs it
    /// again on a conflict. `build` returning an error ends it (UNWATCH, nothing runs).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use redpoll::{FromValue, Value};
    ///
    /// # fn main() -> Result<(), redpoll::Error> {
    /// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let r: Option<Vec<Value>> = client.watch_multi(&["balance"], |tx, watched: &[Value]| {
    ///     let balance: i64 = FromValue::from_value(watched[0].clone()).unwrap_or(0);
    ///     if balance >= 100 { tx.decrby("balance", 100); }
    ///     Ok(())
    /// }).wait()?;
    /// # Ok(()) }
    /// ```
    pub fn watch_multi<K, F>(&self, keys: &[K], build: F) -> WatchMulti<'_, F>
    where
        K: ToArg,
        F: FnMut(&Transaction, &[Value]) -> Result<(), Error>,
    {
        let keys = keys.iter().flat_map(crate::script::encoded_args).collect();
        WatchMulti { client: self, keys, build, retries: 0 }
    }
}

fn core_of(client: &Client) -> &Arc<ClientCore> {
    let commands: &Commands<Shared> = client;
    &commands.receiver.core
}

fn owned_of(conn: &Dedicated) -> &Owned {
    let commands: &Commands<Owned> = conn;
    &commands.receiver
}

impl Dedicated {
    /// A pipeline on this connection. See [`Pipeline`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let conn = client.dedicated().wait()?;
    /// let mut p = conn.pipeline();
    /// p.incr("a").incr("b");
    /// let (a, b): (i64, i64) = p.query().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn pipeline(&self) -> Pipeline {
        let owned = owned_of(self);
        Pipeline::new(Arc::clone(&owned.core), Some(owned.id))
    }

    /// A MULTI … EXEC transaction on this connection, as [`Client::transaction`]; after a
    /// `watch()` here, decode into `Option<…>`: `None` when a watched key changed.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let conn = client.dedicated().wait()?;
    /// conn.watch(["k"]).wait()?;
    /// let r: Option<Vec<redpoll::Value>> = conn.transaction(|tx| { tx.incr("k"); }).decode().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn transaction<F: FnOnce(&Transaction)>(&self, build: F) -> Executed<Vec<Value>> {
        let owned = owned_of(self);
        let tx = Transaction::new(Arc::clone(&owned.core), Some(owned.id));
        build(&tx);
        tx.execute(Effect::Exec)
    }
}

/// A WATCH-based transaction being prepared by [`Client::watch_multi`]: `.wait()` or
/// `.await` runs it.
#[must_use = "nothing runs until it is waited for or awaited"]
pub struct WatchMulti<'c, F> {
    client: &'c Client,
    keys: Vec<Bytes>,
    build: F,
    retries: u32,
}

impl<F> std::fmt::Debug for WatchMulti<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchMulti")
            .field("keys", &self.keys.len())
            .field("retries", &self.retries)
            .finish()
    }
}

/// One attempt's outcome.
enum Attempt {
    Done(Option<Vec<Value>>),
    Conflict,
}

impl<'c, F> WatchMulti<'c, F>
where
    F: FnMut(&Transaction, &[Value]) -> Result<(), Error>,
{
    /// Runs the whole thing again (WATCH, read, `build`, EXEC) up to `times` more times
    /// when a watched key changed; `Ok(None)` only when every attempt met a conflict.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let r = client
    ///     .watch_multi(&["n"], |tx, _| { tx.incr("n"); Ok(()) })
    ///     .retry(10)
    ///     .wait()?;
    /// assert!(r.is_some());
    /// # Ok(()) }
    /// ```
    pub fn retry(mut self, times: u32) -> Self {
        self.retries = times;
        self
    }

    /// Runs the transaction on this thread: `build` runs here too.
    ///
    /// # Errors
    ///
    /// What acquiring the dedicated connection, WATCH or EXEC failed with, or what `build`
    /// returned.
    ///
    /// # Panics
    ///
    /// When called on redpoll's own I/O thread, which would wait for itself forever.
    pub fn wait(mut self) -> Result<Option<Vec<Value>>, Error> {
        let conn = self.client.dedicated().wait()?;
        for _ in 0..=self.retries {
            let watch = conn.watch(&self.keys[..]).send();
            let reads: Vec<_> = self.keys.iter().map(|k| conn.get(k).decode().send()).collect();
            watch.wait()?;
            let watched: Vec<Value> = reads.into_iter().map(|r| as_value(r.wait())).collect();
            match self.attempt(&conn, &watched) {
                Err(e) => {
                    // Without UNWATCH the connection goes back dirty (and is closed).
                    let _ = conn.unwatch().wait();
                    return Err(e);
                }
                Ok(None) => {
                    conn.unwatch().wait()?;
                    return Ok(Some(Vec::new()));
                }
                Ok(Some(exec)) => match outcome(exec.wait()?) {
                    Attempt::Done(r) => return Ok(r),
                    Attempt::Conflict => continue,
                },
            }
        }
        Ok(None)
    }

    /// `build` on the values read; the EXEC of what it queued (`None`: it queued nothing).
    fn attempt(
        &mut self,
        conn: &Dedicated,
        watched: &[Value],
    ) -> Result<Option<Executed<Option<Vec<Value>>>>, Error> {
        let owned = owned_of(conn);
        let tx = Transaction::new(Arc::clone(&owned.core), Some(owned.id));
        (self.build)(&tx, watched)?;
        if tx.commands.receiver.len() == 0 {
            return Ok(None);
        }
        Ok(Some(tx.execute(Effect::Exec)))
    }
}

fn outcome(result: Option<Vec<Value>>) -> Attempt {
    match result {
        Some(values) => Attempt::Done(Some(values)),
        None => Attempt::Conflict,
    }
}

/// A watched key's value: an error reply (not a string) stays in its place as a value.
fn as_value(result: Result<Value, Error>) -> Value {
    match result {
        Ok(v) => v,
        Err(Error::Redis(e)) => Value::Error(e),
        Err(_) => Value::Nil,
    }
}

impl<'c, F> IntoFuture for WatchMulti<'c, F>
where
    F: FnMut(&Transaction, &[Value]) -> Result<(), Error> + Send + 'c,
{
    type Output = Result<Option<Vec<Value>>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'c>>;

    /// The same steps as [`wait`](WatchMulti::wait), awaited: `build` runs on the task that
    /// polls the future.
    fn into_future(mut self) -> Self::IntoFuture {
        Box::pin(async move {
            let conn = self.client.dedicated().await?;
            for _ in 0..=self.retries {
                let watch = conn.watch(&self.keys[..]).send();
                let reads: Vec<_> =
                    self.keys.iter().map(|k| conn.get(k).decode::<Value>().send()).collect();
                watch.await?;
                let mut watched = Vec::with_capacity(reads.len());
                for read in reads {
                    watched.push(as_value(read.await));
                }
                match self.attempt(&conn, &watched) {
                    Err(e) => {
                        let _ = conn.unwatch().await;
                        return Err(e);
                    }
                    Ok(None) => {
                        conn.unwatch().await?;
                        return Ok(Some(Vec::new()));
                    }
                    Ok(Some(exec)) => match outcome(exec.await?) {
                        Attempt::Done(r) => return Ok(r),
                        Attempt::Conflict => continue,
                    },
                }
            }
            Ok(None)
        })
    }
}
