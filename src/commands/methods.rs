//! Hand-written command methods, until the generator emits one per command with the same
//! shape: each returns a [`Cmd`] whose reply type follows the command's reply schema.

use bytes::Bytes;

use crate::client::Client;
use crate::handle::Cmd;
use crate::resp::ToArg;

/// `client.known_cmd(name)` with the table entry cached in a static of its own.
macro_rules! known {
    ($client:expr, $name:literal) => {{
        static INFO: std::sync::OnceLock<Option<&'static crate::commands::CommandInfo>> =
            std::sync::OnceLock::new();
        $client.known_cmd($name, &INFO)
    }};
}

impl Client {
    /// `GET key`: the value, or `None` when the key does not exist.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let v: Option<bytes::Bytes> = client.get("greeting").wait()?;
    /// let s: Option<String> = client.get("greeting").decode().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn get<K: ToArg>(&self, key: K) -> Cmd<'_, Option<Bytes>> {
        known!(self, "GET").arg(key).decode()
    }

    /// `SET key value`; options (`EX`, `NX`, `GET`, …) go on with [`Cmd::arg`].
    ///
    /// The reply is `()`: with `NX`/`XX` use `.decode::<Option<String>>()` to see whether it
    /// was applied (`None` when not).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// client.set("greeting", "hello").wait()?;
    /// client.set("session", b"\x00\xff".as_slice()).arg("EX").arg(60).wait()?;
    /// # Ok(()) }
    /// ```
    pub fn set<K: ToArg, V: ToArg>(&self, key: K, value: V) -> Cmd<'_, ()> {
        known!(self, "SET").arg(key).arg(value).decode()
    }

    /// `DEL key [key …]`: how many keys were removed.
    pub fn del<K: ToArg>(&self, keys: K) -> Cmd<'_, i64> {
        known!(self, "DEL").arg(keys).decode()
    }

    /// `EXISTS key [key …]`: how many of the keys exist (a key named twice counts twice).
    pub fn exists<K: ToArg>(&self, keys: K) -> Cmd<'_, i64> {
        known!(self, "EXISTS").arg(keys).decode()
    }

    /// `INCR key`: the value after the increment.
    pub fn incr<K: ToArg>(&self, key: K) -> Cmd<'_, i64> {
        known!(self, "INCR").arg(key).decode()
    }

    /// `INCRBY key delta`: the value after the increment.
    pub fn incrby<K: ToArg>(&self, key: K, delta: i64) -> Cmd<'_, i64> {
        known!(self, "INCRBY").arg(key).arg(delta).decode()
    }

    /// `EXPIRE key seconds`: true when the timeout was set (the key exists).
    pub fn expire<K: ToArg>(&self, key: K, seconds: i64) -> Cmd<'_, bool> {
        known!(self, "EXPIRE").arg(key).arg(seconds).decode()
    }

    /// `PING`: `"PONG"`.
    pub fn ping(&self) -> Cmd<'_, String> {
        known!(self, "PING").decode()
    }

    /// `ECHO message`: the message.
    pub fn echo<M: ToArg>(&self, message: M) -> Cmd<'_, Bytes> {
        known!(self, "ECHO").arg(message).decode()
    }

    /// `MGET key [key …]`: one value per key, `None` for missing keys.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let values: Vec<Option<String>> = client.mget(&["a", "b"]).decode().wait()?;
    /// # Ok(()) }
    /// ```
    pub fn mget<K: ToArg>(&self, keys: K) -> Cmd<'_, Vec<Option<Bytes>>> {
        known!(self, "MGET").arg(keys).decode()
    }

    /// `MSET key value [key value …]`, from pairs.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// client.mset(&[("a", "1"), ("b", "2")]).wait()?;
    /// # Ok(()) }
    /// ```
    pub fn mset<P: ToArg>(&self, pairs: P) -> Cmd<'_, ()> {
        known!(self, "MSET").arg(pairs).decode()
    }

    /// `BLPOP key [key …] timeout`: the first element of the first non-empty list, as
    /// `(key, element)`, or `None` when `timeout_secs` passed (0 blocks forever).
    ///
    /// The client deadline is the server timeout plus `blocking_timeout_buffer`.
    pub fn blpop<K: ToArg>(&self, keys: K, timeout_secs: f64) -> Cmd<'_, Option<(Bytes, Bytes)>> {
        known!(self, "BLPOP").arg(keys).arg(timeout_secs).decode()
    }

    /// `BRPOP key [key …] timeout`: as [`blpop`](Client::blpop), from the tail.
    pub fn brpop<K: ToArg>(&self, keys: K, timeout_secs: f64) -> Cmd<'_, Option<(Bytes, Bytes)>> {
        known!(self, "BRPOP").arg(keys).arg(timeout_secs).decode()
    }

    /// `PUBLISH channel message`: how many subscribers received it.
    pub fn publish<C: ToArg, M: ToArg>(&self, channel: C, message: M) -> Cmd<'_, i64> {
        known!(self, "PUBLISH").arg(channel).arg(message).decode()
    }
}
