//! SCAN iterators: [`Client::scan_iter`] (keys), [`Client::hscan_iter`] (a hash's fields and
//! values), [`Client::sscan_iter`] (a set's members), [`Client::zscan_iter`] (a sorted set's
//! members and scores), and the same on a [`Dedicated`] connection. The cursor is kept inside;
//! each call to the server fetches one page, so memory stays bounded by a page whatever the
//! size of the keyspace.
//!
//! # What SCAN guarantees (Redis's semantics, passed through as they are)
//!
//! - Every element present from the start to the end of a full iteration is returned at
//!   least once.
//! - An element may be returned **more than once** (the server rehashes between pages):
//!   deduplicate on the caller's side when it matters.
//! - Elements added or removed during the iteration may or may not be returned.
//! - `count` is a hint of the work per call, not a page size; with `pattern` (MATCH) or
//!   `type_` (TYPE) the filter is applied after a page is fetched, so many pages may be
//!   empty. The iterators skip empty pages: [`ScanIter::next_batch`] returns `None` only
//!   when the cursor is back at 0.
//!
//! With a key prefix, SCAN sends `MATCH <prefix><pattern>` (`<prefix>*` without a pattern)
//! so only this client's keys come back, and they come back without the prefix. In HSCAN,
//! SSCAN and ZSCAN the key is prefixed; the pattern matches fields or members and is sent as
//! it is.

use std::collections::VecDeque;
use std::marker::PhantomData;

use bytes::Bytes;

use crate::commands::{Commands, Owned, Receiver, Shared};
use crate::error::Error;
use crate::handle::{Cmd, Reply};
use crate::replies::ScanPage;
use crate::resp::{FromValue, ToArg};
use crate::{Client, Dedicated};

mod sealed {
    pub trait Sealed {}
}

/// A receiver a scan can run on: [`Shared`] (a client) or [`Owned`] (a dedicated
/// connection). Sealed.
pub trait ScanReceiver: sealed::Sealed + Receiver {
    #[doc(hidden)]
    fn send_page<T>(cmd: Cmd<'_, T, Self>) -> Reply<T>;

    #[doc(hidden)]
    fn has_prefix(&self) -> bool;
}

impl sealed::Sealed for Shared {}
impl ScanReceiver for Shared {
    fn send_page<T>(cmd: Cmd<'_, T, Self>) -> Reply<T> {
        cmd.send()
    }

    fn has_prefix(&self) -> bool {
        self.core.prefix.is_some()
    }
}

impl sealed::Sealed for Owned {}
impl ScanReceiver for Owned {
    fn send_page<T>(cmd: Cmd<'_, T, Self>) -> Reply<T> {
        cmd.send()
    }

    fn has_prefix(&self) -> bool {
        self.core.prefix.is_some()
    }
}

/// An iteration with SCAN, HSCAN, SSCAN or ZSCAN: options first ([`pattern`](Self::pattern),
/// [`count`](Self::count), [`type_`](Self::type_)), then pages with
/// [`next_batch`](Self::next_batch) or items with [`next`](Self::next) (`.await`), or a
/// blocking [`Iterator`] with [`iter`](Self::iter). See the [module docs](self) for what
/// Redis guarantees (an element can come more than once).
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// for key in client.scan_iter().pattern("user:*").count(100).iter() {
///     let key = key?;
/// }
/// # futures::executor::block_on(async {
/// let mut it = client.hscan_iter("h");
/// while let Some(batch) = it.next_batch().await? {
///     for (field, value) in batch { /* … */ }
/// }
/// # Ok::<(), redpoll::Error>(()) })?;
/// # Ok(()) }
/// ```
#[must_use = "a scan does nothing until it is iterated"]
pub struct ScanIter<'c, T, R: ScanReceiver = Shared> {
    on: &'c Commands<R>,
    command: &'static str,
    key: Option<Bytes>,
    pattern: Option<Bytes>,
    count: Option<u64>,
    type_: Option<Bytes>,
    /// The cursor of the next call; `None` once the iteration is complete (or failed).
    cursor: Option<u64>,
    /// Items of the current page not yet taken by [`next`](Self::next).
    buffered: VecDeque<T>,
    _item: PhantomData<fn() -> T>,
}

impl<T, R: ScanReceiver> std::fmt::Debug for ScanIter<'_, T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanIter")
            .field("command", &self.command)
            .field("cursor", &self.cursor)
            .field("buffered", &self.buffered.len())
            .finish()
    }
}

/// One argument as bytes (the arguments of a slice joined).
fn one_arg<A: ToArg>(arg: A) -> Bytes {
    let parts: Vec<Bytes> = crate::script::encoded_args(arg).collect();
    match <[Bytes; 1]>::try_from(parts) {
        Ok([one]) => one,
        Err(parts) => Bytes::from(parts.concat()),
    }
}

impl<'c, T: FromValue, R: ScanReceiver> ScanIter<'c, T, R> {
    fn new(on: &'c Commands<R>, command: &'static str, key: Option<Bytes>) -> Self {
        ScanIter {
            on,
            command,
            key,
            pattern: None,
            count: None,
            type_: None,
            cursor: Some(0),
            buffered: VecDeque::new(),
            _item: PhantomData,
        }
    }

    /// Only elements matching a glob-style pattern (`MATCH`): keys for SCAN, fields for
    /// HSCAN, members for SSCAN and ZSCAN. The filter runs on the server after a page is
    /// fetched.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let keys: Vec<bytes::Bytes> =
    ///     client.scan_iter().pattern("session:*").iter().collect::<Result<_, _>>()?;
    /// # Ok(()) }
    /// ```
    pub fn pattern<P: ToArg>(mut self, pattern: P) -> Self {
        self.pattern = Some(one_arg(pattern));
        self
    }

    /// A hint of how many elements each call looks at (`COUNT`, Redis's default 10).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let n = client.scan_iter().count(1000).iter().count();
    /// # Ok(()) }
    /// ```
    pub fn count(mut self, count: u64) -> Self {
        self.count = Some(count);
        self
    }

    /// Only keys of this type (`TYPE`: `string`, `list`, `set`, `zset`, `hash`, `stream`, or
    /// a module's type name). SCAN only: on the other scans the first call fails with
    /// [`Error::Usage`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// for key in client.scan_iter().type_("hash").iter() { let key = key?; }
    /// # Ok(()) }
    /// ```
    pub fn type_<A: ToArg>(mut self, type_: A) -> Self {
        self.type_ = Some(one_arg(type_));
        self
    }

    /// The next call's command, or `None` when the iteration is complete.
    fn request(&self) -> Option<Result<Reply<ScanPage<T>>, Error>> {
        let cursor = self.cursor?;
        if self.type_.is_some() && self.command != "SCAN" {
            return Some(Err(Error::Usage(format!(
                "{}: TYPE is an option of SCAN only (it filters keys by type)",
                self.command
            ))));
        }
        let mut cmd: Cmd<'_, ScanPage<T>, R> = Cmd::new(&self.on.receiver, self.command);
        if let Some(key) = &self.key {
            cmd = cmd.arg(key);
        }
        cmd = cmd.arg(cursor);
        let pattern = match (&self.pattern, self.command) {
            (Some(p), _) => Some(p.clone()),
            // With a prefix, only this client's keys: MATCH <prefix>*.
            (None, "SCAN") if self.on.receiver.has_prefix() => Some(Bytes::from_static(b"*")),
            (None, _) => None,
        };
        if let Some(p) = pattern {
            cmd = cmd.arg("MATCH").arg(p);
        }
        if let Some(n) = self.count {
            cmd = cmd.arg("COUNT").arg(n);
        }
        if let Some(t) = &self.type_ {
            cmd = cmd.arg("TYPE").arg(t);
        }
        Some(Ok(R::send_page(cmd)))
    }

    /// Takes a page in: the cursor moves on; `Some(items)` for a page with items.
    fn take(&mut self, page: Result<ScanPage<T>, Error>) -> Result<Option<Vec<T>>, Error> {
        match page {
            Ok(page) => {
                self.cursor = (page.cursor != 0).then_some(page.cursor);
                Ok((!page.items.is_empty()).then_some(page.items))
            }
            Err(e) => {
                // The cursor is lost with the reply: the iteration cannot go on.
                self.cursor = None;
                Err(e)
            }
        }
    }

    /// The next non-empty page of items, or `None` when the iteration is complete.
    ///
    /// # Errors
    ///
    /// What a call failed with (connection, timeout, server error); the iteration ends
    /// with it.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: redpoll::Client) -> Result<(), redpoll::Error> {
    /// let mut it = client.sscan_iter("tags").count(500);
    /// while let Some(members) = it.next_batch().await? {
    ///     println!("{} members", members.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_batch(&mut self) -> Result<Option<Vec<T>>, Error> {
        if !self.buffered.is_empty() {
            return Ok(Some(self.buffered.drain(..).collect()));
        }
        while let Some(request) = self.request() {
            let page = match request {
                Ok(reply) => reply.await,
                Err(e) => Err(e),
            };
            if let Some(items) = self.take(page)? {
                return Ok(Some(items));
            }
        }
        Ok(None)
    }

    /// The next item, or `None` when the iteration is complete.
    ///
    /// # Errors
    ///
    /// As [`next_batch`](Self::next_batch).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: redpoll::Client) -> Result<(), redpoll::Error> {
    /// let mut it = client.zscan_iter("board");
    /// while let Some((member, score)) = it.next().await? {
    ///     println!("{member:?} {score}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next(&mut self) -> Result<Option<T>, Error> {
        if self.buffered.is_empty() {
            match self.next_batch().await? {
                Some(items) => self.buffered.extend(items),
                None => return Ok(None),
            }
        }
        Ok(self.buffered.pop_front())
    }

    /// The next non-empty page, blocking the calling thread.
    ///
    /// # Errors
    ///
    /// As [`next_batch`](Self::next_batch).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// let mut it = client.scan_iter();
    /// while let Some(keys) = it.next_batch_blocking()? { println!("{}", keys.len()); }
    /// # Ok(()) }
    /// ```
    pub fn next_batch_blocking(&mut self) -> Result<Option<Vec<T>>, Error> {
        if !self.buffered.is_empty() {
            return Ok(Some(self.buffered.drain(..).collect()));
        }
        while let Some(request) = self.request() {
            let page = request.and_then(Reply::wait);
            if let Some(items) = self.take(page)? {
                return Ok(Some(items));
            }
        }
        Ok(None)
    }

    /// A blocking iterator over the items: each `next()` returns one, fetching a page when
    /// the last is used up. After an error it ends.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), redpoll::Error> {
    /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
    /// for pair in client.hscan_iter("user:1").iter() {
    ///     let (field, value) = pair?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn iter(self) -> Iter<'c, T, R> {
        Iter { scan: self }
    }
}

/// The blocking iterator of a [`ScanIter`]: items, each `Ok`, or one `Err` that ends it.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), redpoll::Error> {
/// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
/// let members: Vec<bytes::Bytes> = client.sscan_iter("s").iter().collect::<Result<_, _>>()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Iter<'c, T, R: ScanReceiver = Shared> {
    scan: ScanIter<'c, T, R>,
}

impl<T: FromValue, R: ScanReceiver> Iterator for Iter<'_, T, R> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Result<T, Error>> {
        if let Some(item) = self.scan.buffered.pop_front() {
            return Some(Ok(item));
        }
        match self.scan.next_batch_blocking() {
            Ok(Some(items)) => {
                self.scan.buffered.extend(items);
                self.scan.buffered.pop_front().map(Ok)
            }
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

macro_rules! scan_constructors {
    ($owner:ty, $receiver:ty, $what:literal) => {
        impl $owner {
            #[doc = concat!("Iterates over the keys of the database with SCAN ", $what, ".")]
            /// See [`ScanIter`] for the options and what Redis guarantees.
            ///
            /// # Examples
            ///
            /// ```no_run
            /// # fn main() -> Result<(), redpoll::Error> {
            /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
            /// for key in client.scan_iter().pattern("user:*").iter() { let key = key?; }
            /// # Ok(()) }
            /// ```
            pub fn scan_iter(&self) -> ScanIter<'_, Bytes, $receiver> {
                ScanIter::new(self, "SCAN", None)
            }

            #[doc = concat!("Iterates over a hash's `(field, value)` pairs with HSCAN ", $what, ".")]
            ///
            /// # Examples
            ///
            /// ```no_run
            /// # fn main() -> Result<(), redpoll::Error> {
            /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
            /// for pair in client.hscan_iter("h").iter() { let (field, value) = pair?; }
            /// # Ok(()) }
            /// ```
            pub fn hscan_iter<K: ToArg>(&self, key: K) -> ScanIter<'_, (Bytes, Bytes), $receiver> {
                ScanIter::new(self, "HSCAN", Some(one_arg(key)))
            }

            #[doc = concat!("Iterates over a set's members with SSCAN ", $what, ".")]
            ///
            /// # Examples
            ///
            /// ```no_run
            /// # fn main() -> Result<(), redpoll::Error> {
            /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
            /// for member in client.sscan_iter("s").iter() { let member = member?; }
            /// # Ok(()) }
            /// ```
            pub fn sscan_iter<K: ToArg>(&self, key: K) -> ScanIter<'_, Bytes, $receiver> {
                ScanIter::new(self, "SSCAN", Some(one_arg(key)))
            }

            #[doc = concat!("Iterates over a sorted set's `(member, score)` pairs with ZSCAN ", $what, ".")]
            ///
            /// # Examples
            ///
            /// ```no_run
            /// # fn main() -> Result<(), redpoll::Error> {
            /// # let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
            /// for pair in client.zscan_iter("z").iter() { let (member, score) = pair?; }
            /// # Ok(()) }
            /// ```
            pub fn zscan_iter<K: ToArg>(&self, key: K) -> ScanIter<'_, (Bytes, f64), $receiver> {
                ScanIter::new(self, "ZSCAN", Some(one_arg(key)))
            }
        }
    };
}

scan_constructors!(Client, Shared, "over the shared connection");
scan_constructors!(Dedicated, Owned, "on this dedicated connection");
