//! Conversions between replies and Rust types: [`FromValue`] (a [`Value`] into a Rust type)
//! and [`ToArg`] (a Rust value into command arguments).
//!
//! The conversions accept every shape a reply takes in RESP2 and in RESP3, so the same Rust
//! type works with both protocols: `HashMap<String, String>` reads HGETALL's flat RESP2
//! array and its RESP3 map, `Vec<(String, f64)>` reads `ZRANGE … WITHSCORES` flat
//! (`m1, s1, m2, s2`) and as pairs (`[[m1, s1], [m2, s2]]`).

mod collection;
mod scalar;
pub(crate) mod shape;
mod to_arg;
mod tuple;

use bytes::Bytes;

use crate::error::Error;

use super::parse::{parse_frame, Limits};
use super::value::Value;

pub use to_arg::ToArg;

/// A Rust type that a reply can be converted into.
///
/// Conversions are on the caller's side of the client (never on the I/O thread) and take the
/// [`Value`] by value, so byte payloads move into [`Bytes`](bytes::Bytes) results without a copy.
///
/// | Rust type | accepts |
/// |---|---|
/// | [`Value`] | anything, unchanged (nested errors and attributes included) |
/// | `()` | anything but an error reply |
/// | integers (`i8` … `i128`, `u8` … `u128`, `isize`, `usize`) | integer; string of decimal digits (`"42"`); double with no fraction; boolean (0/1). Range-checked. |
/// | `f64`, `f32` | double; integer; string such as `"1.5"`, `"inf"`, `"-inf"`, `"nan"`; boolean (0/1) |
/// | `bool` | boolean; integer 0 or 1; string `"0"` or `"1"`; simple string `OK` (true) and nil (false), so `SET … NX` reads as "applied" |
/// | `String` | any string-like reply (simple, bulk, verbatim text, big number) that is UTF-8; integer and double rendered in decimal (`"inf"`, `"-inf"`, `"nan"`); boolean as `"1"`/`"0"` like RESP2 sends it |
/// | [`Bytes`](bytes::Bytes) | the same as `String` without the UTF-8 check; string payloads are shared, not copied |
/// | `Vec<u8>`, `VecDeque<u8>` | the same bytes as [`Bytes`](bytes::Bytes); an array gives one `u8` per element |
/// | `Option<T>` | nil as `None`, anything else as `Some(T)` |
/// | `Result<T, Error>` | an error reply as `Err(Error::Redis)`, anything else as `T`'s conversion result: one slot of an `EXEC` reply each |
/// | `Vec<T>`, `VecDeque<T>`, `HashSet<T>`, `BTreeSet<T>` | array, set or push (one `T` per element); nil as empty; a map as its keys and values in turn |
/// | `Vec<(A, B)>` and other tuples in a list | an array of pairs `[[a, b], …]`, a flat array `[a, b, …]` (RESP2 `WITHSCORES`), a map's entries |
/// | `HashMap<K, V>`, `BTreeMap<K, V>` | a map; a flat array `k1, v1, k2, v2`; an array of 2-element arrays; nil as empty |
/// | tuples of 1 to 12 | an array (or set, or push) of exactly that many elements |
///
/// Rules that hold for every type:
///
/// - An attribute ([`Value::Attribute`]) is transparent: the value it annotates is converted.
/// - An error reply nested in an aggregate ([`Value::Error`], such as a failed command in an
///   `EXEC` reply) converts into every type but [`Value`] and `Result<T, Error>` as
///   [`Error::Redis`] carrying that server error.
/// - A conversion that cannot be done is an [`Error::Conversion`] whose `expected` names the
///   Rust type (`"i64"`, `"a tuple of 3"`, `"a map"`) and whose `actual` describes the reply by
///   shape and size only (`"bulk string of 5 bytes (not an integer)"`, `"array of 2
///   elements"`). Payload contents never appear in an error: they may be secrets.
/// - No input makes a conversion panic.
///
/// Where a flat array and an array of arrays could both be meant (`Vec<(A, B)>`, maps), the
/// reply is read as an array of pairs when at least one element is an array of the tuple's
/// size and every other element is such an array or nil; otherwise it is read flat, and its
/// length must be a multiple of the tuple's size.
///
/// The trait's hidden items are hooks used by the collection impls; an implementation for
/// your own type only needs [`from_value`](FromValue::from_value).
///
/// # Examples
///
/// ```
/// use std::collections::HashMap;
/// use redpoll::{FromValue, Value};
///
/// // GET of a counter: a bulk string holding digits.
/// let n: i64 = FromValue::from_value(Value::BulkString("42".into()))?;
/// assert_eq!(n, 42);
///
/// // HGETALL over RESP2 (a flat array) and over RESP3 (a map) give the same map.
/// let flat = Value::Array(vec![
///     Value::BulkString("name".into()),
///     Value::BulkString("ada".into()),
/// ]);
/// let map = Value::Map(vec![(Value::BulkString("name".into()), Value::BulkString("ada".into()))]);
/// let a: HashMap<String, String> = FromValue::from_value(flat)?;
/// let b: HashMap<String, String> = map.decode()?;
/// assert_eq!(a, b);
///
/// // A value that does not fit is an error that describes the reply without its contents.
/// let err = u8::from_value(Value::Int(300)).unwrap_err();
/// assert_eq!(err.to_string(), "cannot convert integer (out of range) into u8");
/// # Ok::<(), redpoll::Error>(())
/// ```
///
/// Implementing it for your own type:
///
/// ```
/// use redpoll::{Error, FromValue, Value};
///
/// struct Celsius(f64);
///
/// impl FromValue for Celsius {
///     fn from_value(value: Value) -> Result<Self, Error> {
///         f64::from_value(value).map(Celsius)
///     }
/// }
///
/// let t: Celsius = Value::BulkString("21.5".into()).decode()?;
/// assert_eq!(t.0, 21.5);
/// # Ok::<(), redpoll::Error>(())
/// ```
pub trait FromValue: Sized {
    /// Converts a reply into `Self`.
    ///
    /// # Errors
    ///
    /// [`Error::Conversion`] when the reply's shape or value does not fit `Self`;
    /// [`Error::Redis`] when the reply (or the part of it being converted) is an error reply.
    fn from_value(value: Value) -> Result<Self, Error>;

    /// How many elements of a flat array one `Self` takes: the arity for tuples, 0 for every
    /// type that is not read from a group of elements.
    #[doc(hidden)]
    const GROUP: usize = 0;

    /// Reads one `Self` from the next [`GROUP`](FromValue::GROUP) elements of a flat array
    /// (one element when `GROUP` is 0). The caller guarantees that many elements remain.
    #[doc(hidden)]
    fn from_group<I: Iterator<Item = Value>>(items: &mut I) -> Result<Self, Error> {
        match items.next() {
            Some(value) => Self::from_value(value),
            None => Err(shape::missing_element()),
        }
    }

    /// Converts one whole reply frame as the client received it: an error reply is
    /// [`Error::Redis`], anything else goes through [`from_value`](FromValue::from_value).
    /// Types override it to read the commonest frames (`+OK`, an integer, a nil) without
    /// building a [`Value`]; an override gives the same result as this default for every
    /// input.
    #[doc(hidden)]
    fn from_reply(frame: &Bytes, limits: &Limits) -> Result<Self, Error> {
        match parse_frame(frame, limits)?.without_attributes() {
            Value::Error(e) => Err(Error::Redis(e)),
            value => Self::from_value(value),
        }
    }

    /// Builds a `Vec<Self>` from a reply that is not an aggregate (no array, set, push, map
    /// or nil reaches this hook): `u8` reads a string payload as its bytes; every other type
    /// gives the value back, since a string is not a list of them.
    #[doc(hidden)]
    fn vec_from_scalar(value: Value) -> Result<Vec<Self>, Value> {
        Err(value)
    }
}

impl Value {
    /// Converts this value into any [`FromValue`] type: `value.decode::<T>()` is
    /// `T::from_value(value)`.
    ///
    /// # Errors
    ///
    /// As [`FromValue::from_value`]: [`Error::Conversion`] when the value does not fit `T`,
    /// [`Error::Redis`] for an error reply.
    ///
    /// # Examples
    ///
    /// ```
    /// use redpoll::Value;
    ///
    /// let v = Value::Array(vec![Value::BulkString("a".into()), Value::Nil]);
    /// let items: Vec<Option<String>> = v.decode()?;
    /// assert_eq!(items, [Some("a".to_string()), None]);
    /// # Ok::<(), redpoll::Error>(())
    /// ```
    pub fn decode<T: FromValue>(self) -> Result<T, Error> {
        T::from_value(self)
    }
}
