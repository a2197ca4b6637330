//! Reading the parts of replies: text, numbers, and records sent as RESP2 flat arrays or
//! RESP3 maps.

use bytes::Bytes;

use crate::error::Error;
use crate::resp::convert::shape::{describe, mismatch, peel};
use crate::resp::{FromValue, Value};

/// The payload of a string-like reply (bulk, simple, verbatim).
pub(super) fn text(value: Value, what: &str) -> Result<Bytes, Error> {
    match peel(value)? {
        Value::BulkString(b) | Value::SimpleString(b) => Ok(b),
        Value::Verbatim { text, .. } => Ok(text),
        other => Err(mismatch(what, &other)),
    }
}

/// A record: a RESP3 map, or a RESP2 flat array `name, value, name, value`.
pub(super) fn record(value: Value, what: &str) -> Result<Vec<(String, Value)>, Error> {
    let pairs: Vec<(Value, Value)> = match peel(value)? {
        Value::Map(pairs) => pairs,
        Value::Array(items) if items.len() % 2 == 0 => {
            let mut pairs = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            pairs
        }
        other => return Err(mismatch(what, &other)),
    };
    pairs
        .into_iter()
        .map(|(k, v)| {
            let name = text(k, what)?;
            Ok((String::from_utf8_lossy(&name).into_owned(), v))
        })
        .collect()
}

/// Takes the field `name` out of a record.
pub(super) fn take(fields: &mut Vec<(String, Value)>, name: &str) -> Option<Value> {
    let at = fields.iter().position(|(k, _)| k == name)?;
    Some(fields.remove(at).1)
}

/// The field `name` as `T`, `None` when it is missing or nil.
pub(super) fn opt<T: FromValue>(
    fields: &mut Vec<(String, Value)>,
    name: &str,
) -> Result<Option<T>, Error> {
    match take(fields, name) {
        None | Some(Value::Nil) => Ok(None),
        Some(v) => T::from_value(v).map(Some),
    }
}

/// The field `name` as `T`; an error naming the field when it is missing.
pub(super) fn need<T: FromValue>(
    fields: &mut Vec<(String, Value)>,
    name: &str,
    what: &str,
) -> Result<T, Error> {
    match take(fields, name) {
        Some(v) => T::from_value(v),
        None => Err(Error::conversion(what, format!("a record without its {name:?} field"))),
    }
}

/// An array of exactly `n` elements (at least `min`), or an error describing the reply.
pub(super) fn tuple(value: Value, min: usize, max: usize, what: &str) -> Result<Vec<Value>, Error> {
    let v = peel(value)?;
    let shape = describe(&v);
    match v {
        Value::Array(items) | Value::Set(items) if (min..=max).contains(&items.len()) => Ok(items),
        _ => Err(Error::conversion(what, shape)),
    }
}
