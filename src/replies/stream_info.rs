//! XINFO STREAM, XINFO GROUPS, XINFO CONSUMERS.

use bytes::Bytes;

use super::fields::{need, opt, record};
use super::stream::StreamEntry;
use crate::error::Error;
use crate::resp::{FromValue, Value};

/// The reply of `XINFO STREAM key` (without `FULL`).
///
/// Fields an older server does not send are `None`; fields this type does not name are kept
/// in `other`.
///
/// # Examples
///
/// ```
/// use redpoll::{replies::StreamInfo, Value};
///
/// let b = |s: &str| Value::BulkString(bytes::Bytes::copy_from_slice(s.as_bytes()));
/// let reply = Value::Map(vec![
///     (b("length"), Value::Int(3)),
///     (b("groups"), Value::Int(1)),
///     (b("last-generated-id"), b("3-0")),
///     (b("first-entry"), Value::Nil),
/// ]);
/// let info: StreamInfo = reply.decode()?;
/// assert_eq!((info.length, info.groups), (3, 1));
/// assert!(info.first_entry.is_none());
/// # Ok::<(), redpoll::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    /// Entries in the stream.
    pub length: u64,
    /// Keys in the stream's radix tree.
    pub radix_tree_keys: Option<u64>,
    /// Nodes in the stream's radix tree.
    pub radix_tree_nodes: Option<u64>,
    /// Consumer groups.
    pub groups: u64,
    /// The last ID the stream generated.
    pub last_generated_id: Option<Bytes>,
    /// The greatest ID deleted from the stream (Redis 7).
    pub max_deleted_entry_id: Option<Bytes>,
    /// Entries ever added (Redis 7).
    pub entries_added: Option<u64>,
    /// The first entry's ID as recorded (Redis 7).
    pub recorded_first_entry_id: Option<Bytes>,
    /// The first entry.
    pub first_entry: Option<StreamEntry>,
    /// The last entry.
    pub last_entry: Option<StreamEntry>,
    /// Fields this type does not name.
    pub other: Vec<(String, Value)>,
}

impl FromValue for StreamInfo {
    fn from_value(value: Value) -> Result<Self, Error> {
        const WHAT: &str = "XINFO STREAM's record";
        let mut f = record(value, WHAT)?;
        Ok(StreamInfo {
            length: need(&mut f, "length", WHAT)?,
            radix_tree_keys: opt(&mut f, "radix-tree-keys")?,
            radix_tree_nodes: opt(&mut f, "radix-tree-nodes")?,
            groups: opt(&mut f, "groups")?.unwrap_or(0),
            last_generated_id: opt(&mut f, "last-generated-id")?,
            max_deleted_entry_id: opt(&mut f, "max-deleted-entry-id")?,
            entries_added: opt(&mut f, "entries-added")?,
            recorded_first_entry_id: opt(&mut f, "recorded-first-entry-id")?,
            first_entry: opt(&mut f, "first-entry")?,
            last_entry: opt(&mut f, "last-entry")?,
            other: f,
        })
    }
}

/// One consumer group in the reply of `XINFO GROUPS key`.
///
/// # Examples
///
/// ```
/// use redpoll::{replies::StreamGroupInfo, Value};
///
/// let b = |s: &str| Value::BulkString(bytes::Bytes::copy_from_slice(s.as_bytes()));
/// let resp2 = Value::Array(vec![
///     b("name"), b("g"), b("consumers"), Value::Int(2), b("pending"), Value::Int(1),
///     b("last-delivered-id"), b("1-0"), b("entries-read"), Value::Nil, b("lag"), Value::Int(0),
/// ]);
/// let g: StreamGroupInfo = resp2.decode()?;
/// assert_eq!((&g.name[..], g.consumers, g.entries_read, g.lag), (&b"g"[..], 2, None, Some(0)));
/// # Ok::<(), redpoll::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StreamGroupInfo {
    /// The group's name.
    pub name: Bytes,
    /// Its consumers.
    pub consumers: u64,
    /// Entries delivered and not acknowledged.
    pub pending: u64,
    /// The last ID delivered to the group.
    pub last_delivered_id: Bytes,
    /// The logical read counter (Redis 7; `None` when unknown).
    pub entries_read: Option<u64>,
    /// Entries not yet delivered (Redis 7; `None` when it cannot be told).
    pub lag: Option<u64>,
    /// Fields this type does not name.
    pub other: Vec<(String, Value)>,
}

impl FromValue for StreamGroupInfo {
    fn from_value(value: Value) -> Result<Self, Error> {
        const WHAT: &str = "XINFO GROUPS's record";
        let mut f = record(value, WHAT)?;
        Ok(StreamGroupInfo {
            name: need(&mut f, "name", WHAT)?,
            consumers: need(&mut f, "consumers", WHAT)?,
            pending: need(&mut f, "pending", WHAT)?,
            last_delivered_id: need(&mut f, "last-delivered-id", WHAT)?,
            entries_read: opt(&mut f, "entries-read")?,
            lag: opt(&mut f, "lag")?,
            other: f,
        })
    }
}

/// One consumer in the reply of `XINFO CONSUMERS key group`.
///
/// # Examples
///
/// ```
/// use redpoll::{replies::StreamConsumerInfo, Value};
///
/// let b = |s: &str| Value::BulkString(bytes::Bytes::copy_from_slice(s.as_bytes()));
/// let reply = Value::Map(vec![
///     (b("name"), b("alice")), (b("pending"), Value::Int(1)), (b("idle"), Value::Int(9)),
/// ]);
/// let c: StreamConsumerInfo = reply.decode()?;
/// assert_eq!((c.pending, c.idle_ms, c.inactive_ms), (1, 9, None));
/// # Ok::<(), redpoll::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StreamConsumerInfo {
    /// The consumer's name.
    pub name: Bytes,
    /// Entries delivered to it and not acknowledged.
    pub pending: u64,
    /// Milliseconds since it last tried to read.
    pub idle_ms: u64,
    /// Milliseconds since it last read successfully (Redis 7.2; `None` before, or when it
    /// never did).
    pub inactive_ms: Option<i64>,
    /// Fields this type does not name.
    pub other: Vec<(String, Value)>,
}

impl FromValue for StreamConsumerInfo {
    fn from_value(value: Value) -> Result<Self, Error> {
        const WHAT: &str = "XINFO CONSUMERS's record";
        let mut f = record(value, WHAT)?;
        let inactive: Option<i64> = opt(&mut f, "inactive")?;
        Ok(StreamConsumerInfo {
            name: need(&mut f, "name", WHAT)?,
            pending: need(&mut f, "pending", WHAT)?,
            idle_ms: need(&mut f, "idle", WHAT)?,
            inactive_ms: inactive.filter(|n| *n >= 0),
            other: f,
        })
    }
}
