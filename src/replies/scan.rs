//! [`ScanPage`]: one reply of SCAN, SSCAN, HSCAN or ZSCAN.

use super::fields::tuple;
use crate::error::Error;
use crate::resp::{FromValue, Value};

/// One page of a SCAN-family iteration: the cursor to continue from and the items.
///
/// SCAN and SSCAN pages hold `Bytes` (keys, members), HSCAN pages `(field, value)` pairs and
/// ZSCAN pages `(member, score)` pairs. A cursor of 0 means the iteration is complete. Redis
/// may return an element more than once across pages, and pages may be empty before the end.
///
/// # Examples
///
/// ```
/// use redpoll::{replies::ScanPage, Value};
///
/// let b = |s: &str| Value::BulkString(bytes::Bytes::copy_from_slice(s.as_bytes()));
/// let reply = Value::Array(vec![b("17"), Value::Array(vec![b("f"), b("v")])]);
/// let page: ScanPage<(bytes::Bytes, bytes::Bytes)> = reply.decode()?;
/// assert_eq!(page.cursor, 17);
/// assert!(!page.is_last());
/// assert_eq!(page.items.len(), 1);
/// # Ok::<(), redpoll::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ScanPage<T> {
    /// The cursor of the next call (0: done).
    pub cursor: u64,
    /// The items of this page.
    pub items: Vec<T>,
}

impl<T> ScanPage<T> {
    /// True when this was the last page (the cursor is 0).
    pub fn is_last(&self) -> bool {
        self.cursor == 0
    }
}

impl<T: FromValue> FromValue for ScanPage<T> {
    fn from_value(value: Value) -> Result<Self, Error> {
        let mut parts = tuple(value, 2, 2, "a scan page [cursor, items]")?.into_iter();
        let cursor = u64::from_value(parts.next().unwrap_or(Value::Nil))?;
        let items = Vec::<T>::from_value(parts.next().unwrap_or(Value::Nil))?;
        Ok(ScanPage { cursor, items })
    }
}
