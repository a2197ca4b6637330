//! Stream entries: XRANGE, XREAD, XAUTOCLAIM, XPENDING.

use bytes::Bytes;

use super::fields::{text, tuple};
use crate::error::Error;
use crate::resp::{FromValue, Value};

/// One stream entry: its ID and its field/value pairs.
///
/// An entry deleted while it was pending (in XREADGROUP's history or XCLAIM's reply) comes
/// with no fields: `fields` is then empty.
///
/// # Examples
///
/// ```
/// use redpoll::{replies::StreamEntry, Value};
///
/// let b = |s: &str| Value::BulkString(bytes::Bytes::copy_from_slice(s.as_bytes()));
/// let reply = Value::Array(vec![b("1-0"), Value::Array(vec![b("temp"), b("21.5")])]);
/// let e: StreamEntry = reply.decode()?;
/// assert_eq!(&e.id[..], b"1-0");
/// assert_eq!(e.get("temp").map(|v| &v[..]), Some(&b"21.5"[..]));
/// # Ok::<(), redpoll::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// The entry's ID (`1700000000000-0`).
    pub id: Bytes,
    /// Its fields and values, in order.
    pub fields: Vec<(Bytes, Bytes)>,
}

impl StreamEntry {
    /// The value of a field, if the entry has it.
    pub fn get(&self, field: &str) -> Option<&Bytes> {
        self.fields.iter().find(|(f, _)| f == field.as_bytes()).map(|(_, v)| v)
    }
}

impl FromValue for StreamEntry {
    fn from_value(value: Value) -> Result<Self, Error> {
        let mut parts = tuple(value, 2, 2, "a stream entry [id, fields]")?.into_iter();
        let id = text(parts.next().unwrap_or(Value::Nil), "a stream entry ID")?;
        let fields = Vec::<(Bytes, Bytes)>::from_value(parts.next().unwrap_or(Value::Nil))?;
        Ok(StreamEntry { id, fields })
    }
}

/// One stream's entries in the reply of XREAD or XREADGROUP.
///
/// `Vec<StreamKeyEntries>` reads the RESP2 array of `[key, entries]` pairs, the RESP3 map
/// and the nil of a timeout (an empty list).
///
/// # Examples
///
/// ```
/// use redpoll::{replies::StreamKeyEntries, Value};
///
/// let b = |s: &str| Value::BulkString(bytes::Bytes::copy_from_slice(s.as_bytes()));
/// let entry = Value::Array(vec![b("1-0"), Value::Array(vec![b("f"), b("v")])]);
/// let resp3 = Value::Map(vec![(b("s"), Value::Array(vec![entry]))]);
/// let read: Vec<StreamKeyEntries> = resp3.decode()?;
/// assert_eq!(&read[0].key[..], b"s");
/// let timed_out: Vec<StreamKeyEntries> = Value::Nil.decode()?;
/// assert!(timed_out.is_empty());
/// # Ok::<(), redpoll::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamKeyEntries {
    /// The stream's key.
    pub key: Bytes,
    /// Its entries, oldest first.
    pub entries: Vec<StreamEntry>,
}

impl FromValue for StreamKeyEntries {
    /// A pair: a RESP3 map's entries read as one each.
    const GROUP: usize = 2;

    fn from_value(value: Value) -> Result<Self, Error> {
        let (key, entries) = <(Bytes, Vec<StreamEntry>)>::from_value(value)?;
        Ok(StreamKeyEntries { key, entries })
    }

    fn from_group<I: Iterator<Item = Value>>(items: &mut I) -> Result<Self, Error> {
        let (key, entries) = <(Bytes, Vec<StreamEntry>)>::from_group(items)?;
        Ok(StreamKeyEntries { key, entries })
    }
}

/// The reply of XAUTOCLAIM: where to continue, the entries claimed, and (Redis 7) the IDs
/// of pending entries that no longer exist and were removed from the pending list.
///
/// # Examples
///
/// ```
/// use redpoll::{replies::AutoClaim, Value};
///
/// let b = |s: &str| Value::BulkString(bytes::Bytes::copy_from_slice(s.as_bytes()));
/// let reply = Value::Array(vec![b("0-0"), Value::Array(vec![]), Value::Array(vec![b("1-0")])]);
/// let claim: AutoClaim = reply.decode()?;
/// assert!(claim.is_done());
/// assert_eq!(claim.deleted.len(), 1);
/// # Ok::<(), redpoll::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoClaim {
    /// The start ID of the next call; `0-0` when the scan is complete.
    pub next_id: Bytes,
    /// The entries claimed.
    pub entries: Vec<StreamEntry>,
    /// IDs removed from the pending list because their entries were deleted (empty before
    /// Redis 7).
    pub deleted: Vec<Bytes>,
}

impl AutoClaim {
    /// True when the pending list was scanned to its end.
    pub fn is_done(&self) -> bool {
        &self.next_id[..] == b"0-0"
    }
}

impl FromValue for AutoClaim {
    fn from_value(value: Value) -> Result<Self, Error> {
        let mut parts = tuple(value, 2, 3, "XAUTOCLAIM's [next, entries, deleted]")?.into_iter();
        let next_id = text(parts.next().unwrap_or(Value::Nil), "XAUTOCLAIM's next ID")?;
        let entries = Vec::<StreamEntry>::from_value(parts.next().unwrap_or(Value::Nil))?;
        let deleted = Vec::<Bytes>::from_value(parts.next().unwrap_or(Value::Nil))?;
        Ok(AutoClaim { next_id, entries, deleted })
    }
}

/// The summary form of XPENDING (`XPENDING key group`).
///
/// # Examples
///
/// ```
/// use redpoll::{replies::Pending, Value};
///
/// let b = |s: &str| Value::BulkString(bytes::Bytes::copy_from_slice(s.as_bytes()));
/// let reply = Value::Array(vec![
///     Value::Int(2), b("1-0"), b("2-0"),
///     Value::Array(vec![Value::Array(vec![b("alice"), b("2")])]),
/// ]);
/// let p: Pending = reply.decode()?;
/// assert_eq!(p.count, 2);
/// assert_eq!(p.consumers[0].1, 2);
/// # Ok::<(), redpoll::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// How many entries are pending.
    pub count: u64,
    /// The smallest pending ID (`None` when nothing is pending).
    pub min_id: Option<Bytes>,
    /// The greatest pending ID.
    pub max_id: Option<Bytes>,
    /// Each consumer with pending entries, and how many.
    pub consumers: Vec<(Bytes, u64)>,
}

impl FromValue for Pending {
    fn from_value(value: Value) -> Result<Self, Error> {
        let mut parts = tuple(value, 4, 4, "XPENDING's summary")?.into_iter();
        let mut next = || parts.next().unwrap_or(Value::Nil);
        Ok(Pending {
            count: u64::from_value(next())?,
            min_id: Option::from_value(next())?,
            max_id: Option::from_value(next())?,
            consumers: Vec::from_value(next())?,
        })
    }
}

/// One entry of XPENDING's extended form (`XPENDING key group [IDLE t] start end count`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// The entry's ID.
    pub id: Bytes,
    /// The consumer it was delivered to.
    pub consumer: Bytes,
    /// Milliseconds since it was last delivered.
    pub idle_ms: u64,
    /// How many times it was delivered.
    pub deliveries: u64,
}

impl FromValue for PendingEntry {
    fn from_value(value: Value) -> Result<Self, Error> {
        let (id, consumer, idle_ms, deliveries) = FromValue::from_value(value)?;
        Ok(PendingEntry { id, consumer, idle_ms, deliveries })
    }
}
