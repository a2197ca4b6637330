//! Typed replies: the default reply types of commands whose raw reply is awkward to use.
//!
//! Each reads the same from a RESP2 and a RESP3 connection (flat arrays or maps, bulk or
//! verbatim strings, doubles as strings or as doubles), and never fails on a field an older
//! or newer server adds or leaves out: unknown fields are kept, missing optional ones are
//! `None`.
//!
//! | command | default reply type |
//! |---|---|
//! | INFO | [`Info`] |
//! | TIME | [`ServerTime`] |
//! | CLIENT LIST / CLIENT INFO | [`ClientList`] / [`ClientInfo`] |
//! | XRANGE, XREVRANGE, XCLAIM | `Vec<`[`StreamEntry`]`>` |
//! | XREAD, XREADGROUP | `Vec<`[`StreamKeyEntries`]`>` |
//! | XAUTOCLAIM | [`AutoClaim`] |
//! | XPENDING (summary / with a range) | [`Pending`] / `Vec<`[`PendingEntry`]`>` |
//! | XINFO STREAM / GROUPS / CONSUMERS | [`StreamInfo`] / `Vec<`[`StreamGroupInfo`]`>` / `Vec<`[`StreamConsumerInfo`]`>` |
//! | SCAN, SSCAN, HSCAN, ZSCAN | [`ScanPage`] |
//! | GEOSEARCH, GEORADIUS… | `Vec<`[`GeoMember`]`>` |
//!
//! # Examples
//!
//! ```no_run
//! # fn main() -> Result<(), redpoll::Error> {
//! let client = redpoll::Client::open("redis://127.0.0.1:6379")?;
//! let info = client.info().sections("server").wait()?;
//! println!("redis {} up {:?} s", info.redis_version().unwrap_or("?"), info.uptime_in_seconds());
//! let now: std::time::SystemTime = client.time().wait()?.into();
//! # Ok(()) }
//! ```

mod client_info;
mod fields;
mod geo;
mod info;
mod scan;
mod stream;
mod stream_info;
mod time;

pub use client_info::{ClientInfo, ClientList};
pub use geo::GeoMember;
pub use info::{Info, KeyspaceStats};
pub use scan::ScanPage;
pub use stream::{AutoClaim, Pending, PendingEntry, StreamEntry, StreamKeyEntries};
pub use stream_info::{StreamConsumerInfo, StreamGroupInfo, StreamInfo};
pub use time::ServerTime;

#[cfg(test)]
mod tests;
