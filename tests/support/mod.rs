//! Shared test support for redpoll's integration tests: `mod support;` at the top of a test
//! file, then `use support::*;` (or pick items).
//!
//! - [`RedisServer`]: a real `redis-server` from PATH per test, on a free loopback port, in
//!   its own temp dir; builder options for `requirepass`, ACL users, a Unix socket, TLS and
//!   any other `--option`; `stop`/`start_again`/`restart` on the same port; killed by pid on
//!   drop.
//! - [`RawConn`] / [`RawReply`]: a blocking RESP client of its own, to set up and check
//!   server state independently of the client under test.
//! - [`FakeServer`] / [`Script`] / [`Listener`]: scripted protocol faults and listeners that
//!   never accept (connect and handshake timeouts).
//! - [`FaultProxy`]: a loopback proxy in front of a real server that injects network
//!   faults at run time: latency, cuts (all, or after n bytes either way), resets, stalls
//!   (blackhole), refused connects, one byte at a time.
//! - [`Ticker`] / [`TickReport`]: the non-blocking proof: a PING every 10 ms on a
//!   connection of its own, asserted to reach 80% of its ticks, its longest gap reported.
//! - [`TempDir`]: `temp_dir()/redpoll-test-<pid>-<n>`, removed on drop.
//!
//! Each test binary uses a subset, hence the module-wide `dead_code` and `unused_imports`
//! allowances.
#![allow(dead_code, unused_imports)]

#[cfg(feature = "tls")]
mod certs;
mod fake_server;
mod proxy;
mod redis_server;
mod resp;
mod tempdir;
mod ticker;

#[cfg(feature = "tls")]
pub use certs::Certs;
pub use fake_server::{
    FakeServer, Handler, Listener, Script, Step, FAKE_SERVER_LIFETIME, FAKE_SERVER_MAX_CONNECTIONS,
};
pub use proxy::{
    FaultProxy, PROXY_LIFETIME, PROXY_MAX_ACCEPTED, PROXY_MAX_CONNECTIONS, PROXY_MAX_HELD,
    PROXY_MAX_HELD_PER_DIRECTION, PROXY_TICK,
};
pub use redis_server::{
    find_redis_server_in, free_port, redis_server_path, redis_version, RedisServer,
    RedisServerBuilder, TlsFiles, START_TIMEOUT,
};
pub use resp::{encode_command, parse_all, parse_one, RawConn, RawReply, RAW_READ_TIMEOUT};
pub use tempdir::TempDir;
pub use ticker::{TickReport, Ticker, MIN_TICKS_PERCENT, TICK, TICKER_LIMIT};
