//! The RESP tokenizer shared by [`Decoder::scan`](super::Decoder::scan) and
//! [`parse_frame`](super::parse_frame): reads one element (a scalar, or the header of a blob or
//! an aggregate) at a given offset, validating it completely, without allocating.
//!
//! Because both drivers read through this one function, a frame that `scan` accepts is a
//! frame that `parse_frame` accepts, and the two report the same faults. The hot path returns
//! small values: a fault is boxed and built out of line, and the common headers (`$5\r\n`,
//! `*3\r\n`, `:42\r\n`) are read by an inline fast path that hands anything unusual (a sign,
//! 19 digits, a partial or broken line) to the general reader.

use std::fmt;

use memchr::memchr2;

use super::parse::Limits;
use crate::error::Error;

/// The three length-prefixed ("blob") types.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Blob {
    /// `$`: bulk string.
    #[default]
    Bulk,
    /// `!`: RESP3 bulk error.
    Error,
    /// `=`: RESP3 verbatim string (`fmt:` prefix).
    Verbatim,
}

/// The aggregate types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Agg {
    /// `*`
    Array,
    /// `%`
    Map,
    /// `~`
    Set,
    /// `|`: attribute pairs, followed by the value they annotate.
    Attribute,
    /// `>`
    Push,
}

/// One element read from the buffer. Ranges are absolute offsets into the buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Token {
    /// `+`: the line content is `start..end`.
    Simple { start: usize, end: usize },
    /// `-`: the line content is `start..end`.
    ErrorLine { start: usize, end: usize },
    /// `:`
    Int(i64),
    /// `,`
    Double(f64),
    /// `#t` / `#f`
    Boolean(bool),
    /// `(`: the digits are `start..end`.
    BigNumber { start: usize, end: usize },
    /// `_`, `$-1`, `*-1`
    Nil,
    /// A blob header: the payload is `start..start + len`, followed by CRLF (not yet checked:
    /// see [`blob_end`] and [`finish_blob`]).
    Blob { kind: Blob, start: usize, len: usize },
    /// An aggregate header with `entries` entries (pairs for maps and attributes) and
    /// `children` elements to read (a map has `2 * entries`, an attribute `2 * entries + 1`:
    /// its pairs and the annotated value).
    Aggregate { kind: Agg, entries: usize, children: u64 },
}

/// The field being read when a fault is found, named in its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    BulkLen,
    BulkErrorLen,
    VerbatimLen,
    ArrayLen,
    MapLen,
    SetLen,
    AttributeLen,
    PushLen,
    Integer,
    Boolean,
    Null,
    SimpleString,
    ErrorLine,
    Double,
    BigNumber,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::BulkLen => "bulk string length",
            Field::BulkErrorLen => "bulk error length",
            Field::VerbatimLen => "verbatim string length",
            Field::ArrayLen => "array length",
            Field::MapLen => "map length",
            Field::SetLen => "set length",
            Field::AttributeLen => "attribute length",
            Field::PushLen => "push length",
            Field::Integer => "integer",
            Field::Boolean => "boolean",
            Field::Null => "null",
            Field::SimpleString => "simple string",
            Field::ErrorLine => "error",
            Field::Double => "double",
            Field::BigNumber => "big number",
        }
    }
}

/// What was wrong with the input, and where (boxed: faults are rare and the hot path returns
/// `Result`s of them). Turned into [`Error::Protocol`] by [`Fault::into_error`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Fault(Box<FaultAt>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FaultAt {
    /// Byte offset from the start of the frame.
    at: usize,
    kind: FaultKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FaultKind {
    UnknownType(u8),
    BareLf(Field),
    CrWithoutLf(u8, Field),
    InvalidByte(u8, Field),
    Empty(Field),
    TooManyDigits(Field),
    Overflow(Field),
    NegativeLength(Field),
    BulkOverLimit { len: u64, max: usize },
    AggregateOverLimit { field: Field, len: u64, max: usize },
    LineOverLimit(usize),
    DepthOverLimit(usize),
    BadDouble,
    BadBigNumber,
    BadBoolean(u8),
    BadNull(u8),
    VerbatimTooShort(u64),
    VerbatimNoColon(u8),
    BlobWithoutCrlf,
    Truncated,
    Trailing(usize),
    BufferShrank { was: usize, now: usize },
}

/// Builds a fault, out of the hot path.
#[cold]
#[inline(never)]
fn fault<T>(at: usize, kind: FaultKind) -> Result<T, Fault> {
    Err(Fault(Box::new(FaultAt { at, kind })))
}

impl Fault {
    /// The [`Error::Protocol`] describing this fault.
    #[cold]
    pub(super) fn into_error(self) -> Error {
        Error::protocol(self.to_string())
    }
}

/// A byte shown in a message: `'x'` when printable, `0x0d` otherwise.
struct Shown(u8);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_ascii_graphic() || self.0 == b' ' {
            write!(f, "'{}'", self.0 as char)
        } else {
            write!(f, "0x{:02x}", self.0)
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use FaultKind::*;
        match self.0.kind {
            UnknownType(b) => write!(f, "unknown RESP type byte {}", Shown(b))?,
            BareLf(field) => write!(f, "{} line ends with a bare \\n (missing \\r)", field.name())?,
            CrWithoutLf(b, field) => {
                write!(f, "\\r followed by {} instead of \\n in {} line", Shown(b), field.name())?
            }
            InvalidByte(b, field) => write!(f, "invalid byte {} in {}", Shown(b), field.name())?,
            Empty(field) => write!(f, "empty {}", field.name())?,
            TooManyDigits(field) => {
                write!(f, "{} has more than 19 digits (overflows a 64-bit integer)", field.name())?
            }
            Overflow(field) => write!(f, "{} overflows a signed 64-bit integer", field.name())?,
            NegativeLength(field) => {
                write!(f, "negative {} (only $-1 and *-1 are allowed)", field.name())?
            }
            BulkOverLimit { len, max } => {
                write!(f, "blob length {len} exceeds max_bulk_len ({max})")?
            }
            AggregateOverLimit { field, len, max } => {
                write!(f, "{} {len} exceeds max_aggregate_len ({max})", field.name())?
            }
            LineOverLimit(max) => {
                write!(f, "line longer than max_bulk_len ({max}) without \\r\\n")?
            }
            DepthOverLimit(max) => write!(f, "aggregate nested deeper than max_depth ({max})")?,
            BadDouble => write!(f, "invalid double")?,
            BadBigNumber => write!(f, "invalid big number (expected an optional '-' and digits)")?,
            BadBoolean(b) => write!(f, "invalid boolean {} (expected 't' or 'f')", Shown(b))?,
            BadNull(b) => write!(f, "null '_' followed by {} instead of \\r\\n", Shown(b))?,
            VerbatimTooShort(len) => {
                write!(f, "verbatim string of length {len} cannot hold its 4-byte 'fmt:' prefix")?
            }
            VerbatimNoColon(b) => {
                write!(f, "verbatim string format not followed by ':' (found {})", Shown(b))?
            }
            BlobWithoutCrlf => write!(f, "blob payload not followed by \\r\\n")?,
            Truncated => write!(f, "frame ends in the middle of a value")?,
            Trailing(n) => write!(f, "{n} bytes after the end of the frame")?,
            BufferShrank { was, now } => write!(
                f,
                "buffer of {now} bytes is shorter than the {was} already scanned \
                 (pass the same bytes plus what arrived, or reset the decoder)"
            )?,
        }
        write!(f, " at byte {}", self.0.at)
    }
}

/// The result of reading one token: `Ok(None)` when the buffer ends before the token does.
pub(super) type Read = Result<Option<(Token, usize)>, Fault>;

/// Reads the token starting at `pos`. On success returns the token and the offset just after
/// it (for a blob: just after its header, where the payload starts).
///
/// `resume` lets a long `+`/`-`/`,`/`(` line that arrives in pieces be searched once overall:
/// when the line is incomplete it is set to where the search for its end stopped, and the next
/// call (with the same bytes plus more) continues from there. It never needs clearing within
/// a frame: a value left from an earlier line lies before `pos`, where it has no effect.
///
/// Inlined into its two callers so that the token never goes through memory.
#[inline(always)]
pub(super) fn read_token(buf: &[u8], pos: usize, limits: &Limits, resume: &mut usize) -> Read {
    let Some(&marker) = buf.get(pos) else { return Ok(None) };
    match marker {
        b'$' => blob(buf, pos, Blob::Bulk, limits),
        b'*' => aggregate(buf, pos, Agg::Array, limits),
        b':' => integer(buf, pos),
        b'+' => Ok(line(buf, pos, Field::SimpleString, limits, resume)?
            .map(|(end, next)| (Token::Simple { start: pos + 1, end }, next))),
        b'-' => Ok(line(buf, pos, Field::ErrorLine, limits, resume)?
            .map(|(end, next)| (Token::ErrorLine { start: pos + 1, end }, next))),
        b'%' => aggregate(buf, pos, Agg::Map, limits),
        b'_' => match buf.get(pos + 1) {
            None => Ok(None),
            Some(b'\r') => Ok(crlf(buf, pos + 1, Field::Null)?.map(|next| (Token::Nil, next))),
            Some(&b) => fault(pos + 1, FaultKind::BadNull(b)),
        },
        b'#' => boolean(buf, pos),
        b',' => double(buf, pos, limits, resume),
        b'(' => big_number(buf, pos, limits, resume),
        b'!' => blob(buf, pos, Blob::Error, limits),
        b'=' => blob(buf, pos, Blob::Verbatim, limits),
        b'~' => aggregate(buf, pos, Agg::Set, limits),
        b'|' => aggregate(buf, pos, Agg::Attribute, limits),
        b'>' => aggregate(buf, pos, Agg::Push, limits),
        other => fault(pos, FaultKind::UnknownType(other)),
    }
}

/// The fast path for the most common element, a complete bulk string with a short length:
/// returns (payload start, payload end, offset after the CRLF). `None` when anything is
/// unusual (another type, a partial or long header, a length over the limit, a payload not
/// yet complete or without its CRLF): the caller then takes the general path, which reads
/// the same bytes and reaches the same verdict.
#[inline(always)]
pub(super) fn quick_bulk(buf: &[u8], pos: usize, limits: &Limits) -> Option<(usize, usize, usize)> {
    if buf.get(pos) != Some(&b'$') {
        return None;
    }
    let (len, start) = quick_digits(buf, pos + 1)?;
    if len > limits.max_bulk_len as u64 {
        return None;
    }
    let end = start.checked_add(len as usize)?;
    if buf.get(end..end.checked_add(2)?) != Some(b"\r\n") {
        return None;
    }
    Some((start, end, end + 2))
}

/// The fast path for a complete short simple-string line at offset 0 (`+OK\r\n`): the
/// offset after its CRLF. `None` when the line is longer than 32 bytes, incomplete, or
/// anything unusual (a bare LF, a CR without LF, over the limit): the general path then
/// reads the same bytes and reaches the same verdict.
#[inline(always)]
pub(super) fn quick_line(buf: &[u8], limits: &Limits) -> Option<usize> {
    let head = buf.get(1..buf.len().min(33))?;
    let end = head.iter().position(|&b| b == b'\r' || b == b'\n')?;
    if head[end] != b'\r' || head.get(end + 1) != Some(&b'\n') || end > limits.max_bulk_len {
        return None;
    }
    Some(end + 3)
}

/// The offset just after a blob's payload and its CRLF, or a fault if that overflows.
#[inline]
pub(super) fn blob_end(start: usize, len: usize) -> Result<usize, Fault> {
    match start.checked_add(len).and_then(|e| e.checked_add(2)) {
        Some(end) => Ok(end),
        None => fault(start, FaultKind::BulkOverLimit { len: len as u64, max: usize::MAX }),
    }
}

/// Checks what a blob header could not: the CRLF after the payload and, for a verbatim
/// string, the `:` after its format. `buf` must hold `end` bytes.
#[inline]
pub(super) fn finish_blob(buf: &[u8], kind: Blob, start: usize, end: usize) -> Result<(), Fault> {
    if buf.get(end - 2..end) != Some(b"\r\n") {
        return fault(end - 2, FaultKind::BlobWithoutCrlf);
    }
    if kind == Blob::Verbatim {
        let colon = buf.get(start + 3).copied().unwrap_or(0);
        if colon != b':' {
            return fault(start + 3, FaultKind::VerbatimNoColon(colon));
        }
    }
    Ok(())
}

/// The fault for an aggregate header at `at` opened inside `open` aggregates, if that is too
/// deep. An aggregate may sit inside at most `max_depth - 1` others (so `max_depth` levels).
#[inline]
pub(super) fn check_depth(open: usize, limits: &Limits, at: usize) -> Result<(), Fault> {
    if open >= limits.max_depth {
        fault(at, FaultKind::DepthOverLimit(limits.max_depth))
    } else {
        Ok(())
    }
}

/// The fault for a frame that ends before its value does (parse_frame only).
pub(super) fn truncated<T>(at: usize) -> Result<T, Fault> {
    fault(at, FaultKind::Truncated)
}

/// The fault for bytes left after a complete value (parse_frame only).
pub(super) fn trailing<T>(at: usize, count: usize) -> Result<T, Fault> {
    fault(at, FaultKind::Trailing(count))
}

/// The fault for a caller that passed fewer bytes than already scanned.
pub(super) fn shrank<T>(was: usize, now: usize) -> Result<T, Fault> {
    fault(now, FaultKind::BufferShrank { was, now })
}

/// Expects CRLF at `at`; returns the offset after it.
#[inline]
fn crlf(buf: &[u8], at: usize, field: Field) -> Result<Option<usize>, Fault> {
    match buf.get(at) {
        None => Ok(None),
        Some(b'\r') => match buf.get(at + 1) {
            None => Ok(None),
            Some(b'\n') => Ok(Some(at + 2)),
            Some(&b) => fault(at + 1, FaultKind::CrWithoutLf(b, field)),
        },
        Some(b'\n') => fault(at, FaultKind::BareLf(field)),
        Some(&b) => fault(at, FaultKind::InvalidByte(b, field)),
    }
}

/// The fast path for a header or integer: up to 18 digits followed by CRLF, all in `buf`.
/// Returns (value, offset after CRLF); `None` sends the caller to the general reader.
/// One and two digits, the usual header sizes, are unrolled.
#[inline(always)]
pub(super) fn quick_digits(buf: &[u8], start: usize) -> Option<(u64, usize)> {
    let head = buf.get(start..start + 3)?;
    let d0 = head[0].wrapping_sub(b'0');
    if d0 > 9 {
        return None;
    }
    if head[1] == b'\r' {
        return (head[2] == b'\n').then_some((u64::from(d0), start + 3));
    }
    let d1 = head[1].wrapping_sub(b'0');
    if d1 > 9 {
        return None;
    }
    let mut n = u64::from(d0) * 10 + u64::from(d1);
    if head[2] == b'\r' {
        return (buf.get(start + 3) == Some(&b'\n')).then_some((n, start + 4));
    }
    let stop = buf.len().min(start + 19);
    let mut i = start + 2;
    while i < stop {
        let d = buf[i].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        n = n * 10 + u64::from(d);
        i += 1;
    }
    // Up to 18 digits fit an i64 without checking.
    if i - start > 18 || buf.get(i..i + 2) != Some(b"\r\n") {
        return None;
    }
    Some((n, i + 2))
}

/// Reads `[sign]digits\r\n` at `at` (at most 19 digits, so a partial number is re-read at
/// most once per call at bounded cost). Returns (negative, magnitude, offset after CRLF).
#[inline(never)]
fn decimal(
    buf: &[u8],
    at: usize,
    allow_plus: bool,
    field: Field,
) -> Result<Option<(bool, u64, usize)>, Fault> {
    let mut i = at;
    let negative = match buf.get(i) {
        None => return Ok(None),
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') if allow_plus => {
            i += 1;
            false
        }
        Some(_) => false,
    };
    let digits = i;
    let mut n: u64 = 0;
    let stop = loop {
        let Some(&b) = buf.get(i) else { return Ok(None) };
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break b;
        }
        if i - digits == 19 {
            return fault(at, FaultKind::TooManyDigits(field));
        }
        n = n * 10 + u64::from(d);
        i += 1;
    };
    if i == digits {
        let kind = match stop {
            b'\r' | b'\n' => FaultKind::Empty(field),
            b => FaultKind::InvalidByte(b, field),
        };
        return fault(i, kind);
    }
    Ok(crlf(buf, i, field)?.map(|next| (negative, n, next)))
}

/// A non-negative length (or -1, reported as `None` inside the `Some`).
#[inline(always)]
fn length(buf: &[u8], pos: usize, field: Field) -> Result<Option<(Option<u64>, usize)>, Fault> {
    if let Some((n, next)) = quick_digits(buf, pos + 1) {
        return Ok(Some((Some(n), next)));
    }
    slow_length(buf, pos, field)
}

#[inline(never)]
fn slow_length(
    buf: &[u8],
    pos: usize,
    field: Field,
) -> Result<Option<(Option<u64>, usize)>, Fault> {
    let Some((negative, n, next)) = decimal(buf, pos + 1, false, field)? else { return Ok(None) };
    if n > i64::MAX as u64 {
        return fault(pos + 1, FaultKind::Overflow(field));
    }
    if negative {
        if n == 1 {
            return Ok(Some((None, next)));
        }
        return fault(pos + 1, FaultKind::NegativeLength(field));
    }
    Ok(Some((Some(n), next)))
}

#[inline(always)]
fn blob(buf: &[u8], pos: usize, kind: Blob, limits: &Limits) -> Read {
    let field = match kind {
        Blob::Bulk => Field::BulkLen,
        Blob::Error => Field::BulkErrorLen,
        Blob::Verbatim => Field::VerbatimLen,
    };
    let Some((len, next)) = length(buf, pos, field)? else { return Ok(None) };
    let Some(len) = len else {
        return match kind {
            Blob::Bulk => Ok(Some((Token::Nil, next))),
            _ => fault(pos + 1, FaultKind::NegativeLength(field)),
        };
    };
    if len > limits.max_bulk_len as u64 {
        return fault(pos + 1, FaultKind::BulkOverLimit { len, max: limits.max_bulk_len });
    }
    if kind == Blob::Verbatim && len < 4 {
        return fault(pos + 1, FaultKind::VerbatimTooShort(len));
    }
    Ok(Some((Token::Blob { kind, start: next, len: len as usize }, next)))
}

#[inline(always)]
fn aggregate(buf: &[u8], pos: usize, kind: Agg, limits: &Limits) -> Read {
    let field = match kind {
        Agg::Array => Field::ArrayLen,
        Agg::Map => Field::MapLen,
        Agg::Set => Field::SetLen,
        Agg::Attribute => Field::AttributeLen,
        Agg::Push => Field::PushLen,
    };
    let Some((len, next)) = length(buf, pos, field)? else { return Ok(None) };
    let Some(len) = len else {
        return match kind {
            Agg::Array => Ok(Some((Token::Nil, next))),
            _ => fault(pos + 1, FaultKind::NegativeLength(field)),
        };
    };
    if len > limits.max_aggregate_len as u64 {
        let max = limits.max_aggregate_len;
        return fault(pos + 1, FaultKind::AggregateOverLimit { field, len, max });
    }
    // len <= i64::MAX, so doubling and adding one fits in a u64.
    let children = match kind {
        Agg::Map => len * 2,
        Agg::Attribute => len * 2 + 1,
        _ => len,
    };
    Ok(Some((Token::Aggregate { kind, entries: len as usize, children }, next)))
}

#[inline(always)]
fn integer(buf: &[u8], pos: usize) -> Read {
    if let Some((n, next)) = quick_digits(buf, pos + 1) {
        return Ok(Some((Token::Int(n as i64), next)));
    }
    slow_integer(buf, pos)
}

#[inline(never)]
fn slow_integer(buf: &[u8], pos: usize) -> Read {
    let field = Field::Integer;
    let Some((negative, n, next)) = decimal(buf, pos + 1, true, field)? else { return Ok(None) };
    let value = if negative {
        if n > 1 << 63 {
            return fault(pos + 1, FaultKind::Overflow(field));
        }
        // n == 2^63 wraps to i64::MIN, which is the right answer.
        (n as i64).wrapping_neg()
    } else {
        if n > i64::MAX as u64 {
            return fault(pos + 1, FaultKind::Overflow(field));
        }
        n as i64
    };
    Ok(Some((Token::Int(value), next)))
}

fn boolean(buf: &[u8], pos: usize) -> Read {
    let value = match buf.get(pos + 1) {
        None => return Ok(None),
        Some(b't') => true,
        Some(b'f') => false,
        Some(&b) => return fault(pos + 1, FaultKind::BadBoolean(b)),
    };
    Ok(crlf(buf, pos + 2, Field::Boolean)?.map(|next| (Token::Boolean(value), next)))
}

/// Finds the CRLF ending the line whose type byte is at `pos`; returns (content end, next).
#[inline]
fn line(
    buf: &[u8],
    pos: usize,
    field: Field,
    limits: &Limits,
    resume: &mut usize,
) -> Result<Option<(usize, usize)>, Fault> {
    let start = pos + 1;
    let from = start.max(*resume);
    let rest = buf.get(from..).unwrap_or(&[]);
    let Some(i) = memchr2(b'\r', b'\n', rest) else {
        if buf.len() - start > limits.max_bulk_len {
            return fault(start, FaultKind::LineOverLimit(limits.max_bulk_len));
        }
        *resume = buf.len();
        return Ok(None);
    };
    let end = from + i;
    if end - start > limits.max_bulk_len {
        return fault(start, FaultKind::LineOverLimit(limits.max_bulk_len));
    }
    if rest[i] == b'\n' {
        return fault(end, FaultKind::BareLf(field));
    }
    match buf.get(end + 1) {
        None => {
            *resume = end;
            Ok(None)
        }
        Some(b'\n') => Ok(Some((end, end + 2))),
        Some(&b) => fault(end + 1, FaultKind::CrWithoutLf(b, field)),
    }
}

fn double(buf: &[u8], pos: usize, limits: &Limits, resume: &mut usize) -> Read {
    let Some((end, next)) = line(buf, pos, Field::Double, limits, resume)? else {
        return Ok(None);
    };
    // RESP3 doubles: `[+|-]digits[.digits][(e|E)[+|-]digits]`, `inf`, `-inf`, `nan`. Rust's
    // `f64` grammar is that, plus any letter case and `infinity`.
    let text = &buf[pos + 1..end];
    match std::str::from_utf8(text).ok().and_then(|s| s.parse::<f64>().ok()) {
        Some(x) => Ok(Some((Token::Double(x), next))),
        None => fault(pos + 1, FaultKind::BadDouble),
    }
}

fn big_number(buf: &[u8], pos: usize, limits: &Limits, resume: &mut usize) -> Read {
    let Some((end, next)) = line(buf, pos, Field::BigNumber, limits, resume)? else {
        return Ok(None);
    };
    let text = &buf[pos + 1..end];
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return fault(pos + 1, FaultKind::BadBigNumber);
    }
    Ok(Some((Token::BigNumber { start: pos + 1, end }, next)))
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
