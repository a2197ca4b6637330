//! redpoll: a Redis client for latency-critical services.
//!
//! One dedicated I/O thread runs a mio poll loop over a slab of connections, parses replies
//! without copying, and hands callers completion handles that work with `.wait()` in plain
//! threads and `.await` in any executor.
//!
//! The crate is built in three layers (see `ARCHITECTURE.md` in the design folder):
//! the public API, the reactor (the one I/O thread), and a sans-IO core ([`resp`] and the
//! connection protocol state) that is deterministic and testable without a server.
#![deny(unsafe_code)]
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]

mod client;
pub mod commands;
mod config;
mod dedicated;
mod error;
mod fork;
mod handle;
pub(crate) mod oneshot;
pub mod pipeline;
mod pool;
mod proto;
pub mod pubsub;
mod reactor;
pub mod replies;
pub mod resp;
pub mod scan;
pub mod script;
pub(crate) mod sync;
mod timer;
mod transaction;

pub use client::Client;
pub use config::{ClientBuilder, ConnectInfo, DisconnectReason, OnTimeout, Protocol, Tls};
pub use dedicated::{Acquire, Dedicated, PooledConnection};
pub use error::{Error, ServerError};
pub use handle::{Cmd, Reply};
pub use pipeline::Pipeline;
pub use pool::{Destroyed, OnDirty, Pool, PoolBuilder, PoolStats};
pub use pubsub::{Message, MessageKind, OnFull, Subscribe, Subscription};
pub use resp::{FromValue, ToArg, Value};
pub use scan::ScanIter;
pub use script::Script;
pub use transaction::{Transaction, WatchMulti};

/// Internals exposed only for `benches/` and doc tests; not part of the API, may change at any
/// time.
#[doc(hidden)]
pub mod __bench {
    pub use crate::oneshot::{channel, Closed, Receiver, Sender, TryRecvError, WaitError};
}

/// The timer wheel, re-exported only for `benches/wheel.rs` and its doc example; not public
/// API, no stability promise.
#[doc(hidden)]
pub mod __bench_timer {
    pub use crate::timer::{TimerKey, Wheel};
}
