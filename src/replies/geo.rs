//! GEOSEARCH and GEORADIUS items.

use bytes::Bytes;

use super::fields::text;
use crate::error::Error;
use crate::resp::convert::shape::{mismatch, peel};
use crate::resp::{FromValue, Value};

/// One member in the reply of GEOSEARCH or GEORADIUS…, with whatever `WITHDIST`,
/// `WITHHASH` and `WITHCOORD` asked for.
///
/// Without any of them the server sends only names; with them an array
/// `[member, dist?, hash?, [lon, lat]?]`, whose parts are told apart by their types (the
/// distance is a string in RESP2 and a double in RESP3, the hash an integer, the coordinates
/// a pair).
///
/// # Examples
///
/// ```
/// use redpoll::{replies::GeoMember, Value};
///
/// let b = |s: &str| Value::BulkString(bytes::Bytes::copy_from_slice(s.as_bytes()));
/// let plain: GeoMember = b("Palermo").decode()?;
/// assert_eq!(plain.distance, None);
/// let full: GeoMember = Value::Array(vec![
///     b("Palermo"), b("190.4424"), Value::Int(3479099956230698),
///     Value::Array(vec![b("13.36"), b("38.11")]),
/// ]).decode()?;
/// assert_eq!(full.distance, Some(190.4424));
/// assert_eq!(full.coordinates, Some((13.36, 38.11)));
/// # Ok::<(), redpoll::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GeoMember {
    /// The member.
    pub member: Bytes,
    /// Its distance from the center, in the query's unit (`WITHDIST`).
    pub distance: Option<f64>,
    /// Its geohash as an integer (`WITHHASH`).
    pub hash: Option<i64>,
    /// Its (longitude, latitude) (`WITHCOORD`).
    pub coordinates: Option<(f64, f64)>,
}

impl FromValue for GeoMember {
    fn from_value(value: Value) -> Result<Self, Error> {
        let parts = match peel(value)? {
            Value::Array(parts) => parts,
            other => {
                let member = text(other, "a geo member")?;
                return Ok(GeoMember { member, distance: None, hash: None, coordinates: None });
            }
        };
        let mut parts = parts.into_iter();
        let member = text(parts.next().unwrap_or(Value::Nil), "a geo member's name")?;
        let mut out = GeoMember { member, distance: None, hash: None, coordinates: None };
        for part in parts {
            match peel(part)? {
                v @ (Value::BulkString(_) | Value::Double(_) | Value::SimpleString(_)) => {
                    out.distance = Some(f64::from_value(v)?)
                }
                Value::Int(h) => out.hash = Some(h),
                v @ Value::Array(_) => out.coordinates = Some(FromValue::from_value(v)?),
                other => {
                    return Err(mismatch("a geo member's distance, hash or coordinates", &other))
                }
            }
        }
        Ok(out)
    }
}
