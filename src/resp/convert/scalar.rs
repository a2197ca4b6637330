//! [`FromValue`] for single values: integers, floats, `bool`, `String`, `Bytes`, `()`,
//! [`Value`] itself, `Option<T>` and `Result<T, Error>`.

use std::num::IntErrorKind;

use bytes::Bytes;

use super::shape::{mismatch, mismatch_because, peel, strip_attributes, text_shape};
use super::FromValue;
use crate::error::Error;
use crate::resp::parse::{parse_frame, Limits};
use crate::resp::scan::quick_bulk;
use crate::resp::value::Value;

const NOT_INTEGER: &str = "not an integer";
const NOT_NUMBER: &str = "not a number";
const OUT_OF_RANGE: &str = "out of range";
const NOT_WHOLE: &str = "not a whole number";

/// The payload of a string-like reply (simple, bulk, verbatim text, big number).
fn text_of(value: &Value) -> Option<&Bytes> {
    value.as_bytes()
}

/// The payload of a string-like reply, or an integer, double or boolean rendered the way a
/// RESP2 server sends it; `Err` gives the value back for anything else.
pub(super) fn into_text(value: Value) -> Result<Bytes, Value> {
    match value {
        Value::SimpleString(b) | Value::BulkString(b) | Value::BigNumber(b) => Ok(b),
        Value::Verbatim { text, .. } => Ok(text),
        Value::Int(n) => Ok(Bytes::from(n.to_string())),
        Value::Double(x) => Ok(Bytes::from(render_double(x))),
        Value::Boolean(b) => Ok(Bytes::from_static(if b { b"1" } else { b"0" })),
        other => Err(other),
    }
}

/// A double in the text Redis uses: `inf`, `-inf`, `nan`, or the shortest decimal that reads
/// back as the same number.
fn render_double(x: f64) -> String {
    if x.is_nan() {
        "nan".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        x.to_string()
    }
}

/// A whole double as the widest integer that holds it.
enum Whole {
    Signed(i128),
    Unsigned(u128),
}

/// 2^127 and 2^128 as doubles (both exact).
const TWO_POW_127: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
const TWO_POW_128: f64 = 340_282_366_920_938_463_463_374_607_431_768_211_456.0;

fn whole(x: f64) -> Result<Whole, &'static str> {
    if !x.is_finite() || x.fract() != 0.0 {
        return Err(NOT_WHOLE);
    }
    if (-TWO_POW_127..TWO_POW_127).contains(&x) {
        // In range and whole, so the cast is exact.
        Ok(Whole::Signed(x as i128))
    } else if (0.0..TWO_POW_128).contains(&x) {
        Ok(Whole::Unsigned(x as u128))
    } else {
        Err(OUT_OF_RANGE)
    }
}

/// Why `text` did not parse as the integer type: out of range when it is a well-formed
/// integer of any size (`"300"` for `u8`, `"-1"` for `u32`), not an integer otherwise.
fn int_parse_reason(text: &str, kind: &IntErrorKind) -> &'static str {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    match kind {
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => OUT_OF_RANGE,
        _ if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => OUT_OF_RANGE,
        _ => NOT_INTEGER,
    }
}

macro_rules! impl_int {
    ($($t:ty { $($extra:item)* })*) => {$(
        impl FromValue for $t {
            fn from_value(value: Value) -> Result<Self, Error> {
                const NAME: &str = stringify!($t);
                let value = peel(value)?;
                let converted: Result<$t, &'static str> = match &value {
                    Value::Int(n) => <$t>::try_from(*n).map_err(|_| OUT_OF_RANGE),
                    Value::Boolean(b) => Ok(if *b { 1 } else { 0 }),
                    Value::Double(x) => match whole(*x) {
                        Ok(Whole::Signed(n)) => <$t>::try_from(n).map_err(|_| OUT_OF_RANGE),
                        Ok(Whole::Unsigned(n)) => <$t>::try_from(n).map_err(|_| OUT_OF_RANGE),
                        Err(reason) => Err(reason),
                    },
                    other => match text_of(other) {
                        Some(bytes) => match std::str::from_utf8(bytes) {
                            Ok(text) => text
                                .parse::<$t>()
                                .map_err(|e| int_parse_reason(text, e.kind())),
                            Err(_) => Err(NOT_INTEGER),
                        },
                        None => return Err(mismatch(NAME, &value)),
                    },
                };
                converted.map_err(|reason| mismatch_because(NAME, &value, reason))
            }
            $($extra)*
        }
    )*};
}

/// The value of an integer frame `:[-]digits\r\n` with at most 18 digits (so it cannot
/// overflow), or `None` for any other frame.
fn small_integer_frame(frame: &[u8]) -> Option<i64> {
    let body = frame.strip_prefix(b":")?.strip_suffix(b"\r\n")?;
    let (negative, digits) = match body.strip_prefix(b"-") {
        Some(digits) => (true, digits),
        None => (false, body),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut n: i64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + i64::from(d);
    }
    Some(if negative { -n } else { n })
}

impl_int! {
    i8 {} i16 {} i32 {} i128 {} isize {}
    i64 {
        /// An integer frame is read in place; anything else takes the general path.
        fn from_reply(frame: &Bytes, limits: &Limits) -> Result<Self, Error> {
            match small_integer_frame(frame) {
                Some(n) => Ok(n),
                None => parse_reply(frame, limits),
            }
        }
    }
    u16 {} u32 {} u64 {} u128 {} usize {}
    u8 {
        /// A string reply is a list of bytes: `Vec<u8>` gets the payload itself (integers
        /// and doubles rendered, as for `String`).
        fn vec_from_scalar(value: Value) -> Result<Vec<Self>, Value> {
            into_text(value).map(Vec::from)
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: Value) -> Result<Self, Error> {
        let value = peel(value)?;
        match &value {
            Value::Double(x) => Ok(*x),
            Value::Int(n) => Ok(*n as f64),
            Value::Boolean(b) => Ok(if *b { 1.0 } else { 0.0 }),
            other => match text_of(other) {
                Some(bytes) => std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|text| text.parse::<f64>().ok())
                    .ok_or_else(|| mismatch_because("f64", &value, NOT_NUMBER)),
                None => Err(mismatch("f64", &value)),
            },
        }
    }
}

impl FromValue for f32 {
    fn from_value(value: Value) -> Result<Self, Error> {
        let value = peel(value)?;
        let narrowed = match &value {
            Value::Double(x) => narrow(*x),
            Value::Int(n) => Ok(*n as f32),
            Value::Boolean(b) => Ok(if *b { 1.0 } else { 0.0 }),
            other => match text_of(other) {
                // Parsed as f32 directly so the rounding is the correct one for f32.
                Some(bytes) => match std::str::from_utf8(bytes).map(|t| (t, t.parse::<f32>())) {
                    Ok((text, Ok(x))) if x.is_infinite() => match text.parse::<f64>() {
                        Ok(wide) if wide.is_finite() => Err(OUT_OF_RANGE),
                        _ => Ok(x),
                    },
                    Ok((_, Ok(x))) => Ok(x),
                    _ => Err(NOT_NUMBER),
                },
                None => return Err(mismatch("f32", &value)),
            },
        };
        narrowed.map_err(|reason| mismatch_because("f32", &value, reason))
    }
}

/// An `f64` as `f32`, refusing finite values beyond `f32`'s range.
fn narrow(x: f64) -> Result<f32, &'static str> {
    let y = x as f32;
    if y.is_infinite() && x.is_finite() {
        Err(OUT_OF_RANGE)
    } else {
        Ok(y)
    }
}

impl FromValue for bool {
    fn from_value(value: Value) -> Result<Self, Error> {
        let value = peel(value)?;
        match &value {
            Value::Boolean(b) => Ok(*b),
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            Value::Int(_) => Err(mismatch_because("bool", &value, "not 0 or 1")),
            Value::Nil => Ok(false),
            Value::SimpleString(s) if &s[..] == b"OK" => Ok(true),
            other => match text_of(other).map(|b| &b[..]) {
                Some(b"1") => Ok(true),
                Some(b"0") => Ok(false),
                Some(_) => Err(mismatch_because("bool", &value, "not 0 or 1")),
                None => Err(mismatch("bool", &value)),
            },
        }
    }
}

impl FromValue for Bytes {
    fn from_value(value: Value) -> Result<Self, Error> {
        into_text(peel(value)?).map_err(|other| mismatch("Bytes", &other))
    }

    /// A bulk-string frame is sliced in place; anything else takes the general path.
    fn from_reply(frame: &Bytes, limits: &Limits) -> Result<Self, Error> {
        match quick_bulk(frame, 0, limits) {
            Some((start, end, len)) if len == frame.len() => Ok(frame.slice(start..end)),
            _ => parse_reply(frame, limits),
        }
    }
}

impl FromValue for String {
    fn from_value(value: Value) -> Result<Self, Error> {
        let value = peel(value)?;
        // Only string payloads can fail the UTF-8 check; remember their shape for the error.
        let kind = value.kind();
        let bytes = into_text(value).map_err(|other| mismatch("String", &other))?;
        let len = bytes.len();
        String::from_utf8(Vec::from(bytes)).map_err(|_| {
            Error::conversion("String", format!("{} (not UTF-8)", text_shape(kind, len)))
        })
    }
}

impl FromValue for () {
    /// Accepts any reply but an error reply.
    fn from_value(value: Value) -> Result<Self, Error> {
        peel(value).map(|_| ())
    }

    /// `+OK` is read in place; anything else takes the general path.
    fn from_reply(frame: &Bytes, limits: &Limits) -> Result<Self, Error> {
        if &frame[..] == b"+OK\r\n" {
            return Ok(());
        }
        parse_reply(frame, limits)
    }
}

impl FromValue for Value {
    /// The value unchanged, nested errors and attributes included.
    fn from_value(value: Value) -> Result<Self, Error> {
        Ok(value)
    }
}

impl<T: FromValue> FromValue for Option<T> {
    /// Nil is `None`; anything else is `Some` of `T`'s conversion.
    fn from_value(value: Value) -> Result<Self, Error> {
        match strip_attributes(value) {
            Value::Nil => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }

    /// The nil frames of RESP2 and RESP3 are read in place; anything else takes the general
    /// path.
    fn from_reply(frame: &Bytes, limits: &Limits) -> Result<Self, Error> {
        match &frame[..] {
            b"$-1\r\n" | b"_\r\n" => Ok(None),
            // Other spellings of a nil length (`$-01`) are the parser's to judge.
            [b'$', b'-', ..] => parse_reply(frame, limits),
            // Any other bulk frame is not nil (nor an error, nor annotated): it is `T`'s.
            [b'$', ..] => T::from_reply(frame, limits).map(Some),
            _ => parse_reply(frame, limits),
        }
    }
}

/// The general path of [`FromValue::from_reply`], for overrides that fall back to it.
fn parse_reply<T: FromValue>(frame: &Bytes, limits: &Limits) -> Result<T, Error> {
    match parse_frame(frame, limits)?.without_attributes() {
        Value::Error(e) => Err(Error::Redis(e)),
        value => T::from_value(value),
    }
}

impl<T: FromValue> FromValue for Result<T, Error> {
    /// An error reply is `Ok(Err(Error::Redis(..)))`; anything else is `Ok` of `T`'s
    /// conversion result, so one bad element does not fail a whole list.
    fn from_value(value: Value) -> Result<Self, Error> {
        match strip_attributes(value) {
            Value::Error(e) => Ok(Err(Error::Redis(e))),
            other => Ok(T::from_value(other)),
        }
    }
}

#[cfg(test)]
#[path = "scalar_tests.rs"]
mod tests;
