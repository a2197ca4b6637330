//! The incremental, zero-copy RESP2/RESP3 parser, in two passes.
//!
//! [`Decoder::scan`] runs on the I/O thread: it only delimits frames, resuming where it
//! stopped when a frame arrives in pieces, and allocates nothing in steady state.
//! [`parse_frame`] runs on the caller's thread and builds the [`Value`] of one delimited frame,
//! its payloads sharing the frame's [`Bytes`]. [`Decoder::decode`] does both in one call.
//!
//! Both passes read through one tokenizer (`scan.rs`), so they accept exactly the same frames
//! and report the same faults.

use std::mem;

use bytes::{Bytes, BytesMut};

use super::scan::{self, Agg, Blob, Fault, Token};
use super::value::Value;
use crate::error::{Error, ServerError};

/// Limits that protect the client from a hostile or broken server.
///
/// Every limit is checked when a header is read, before anything is allocated for it.
///
/// # Examples
///
/// ```
/// use redpoll::resp::{Decoder, Limits};
///
/// let limits = Limits { max_bulk_len: 1024, ..Limits::default() };
/// let mut decoder = Decoder::with_limits(limits);
/// assert!(decoder.scan(b"$2048\r\n").is_err()); // rejected at the header
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest bulk string, bulk error or verbatim string payload, in bytes. Also bounds
    /// the line of a simple string, error, double or big number. Default 512 MiB (Redis's
    /// `proto-max-bulk-len`).
    pub max_bulk_len: usize,
    /// How many aggregates (arrays, maps, sets, pushes, attributes) may be nested in each
    /// other: with 2, `*1\r\n*0\r\n` is accepted and `*1\r\n*1\r\n*0\r\n` rejected. An
    /// attribute counts as one level around the value it annotates. Default 128.
    pub max_depth: usize,
    /// The most entries of one aggregate: elements of an array, set or push, pairs of a map or
    /// attribute. Default `i32::MAX` (2^31 - 1), the largest count Redis itself accepts.
    /// Counts are never trusted for allocation, so this only bounds how long a frame may claim
    /// to be.
    pub max_aggregate_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bulk_len: 512 << 20, max_depth: 128, max_aggregate_len: i32::MAX as usize }
    }
}

/// Delimits RESP frames in a byte stream that arrives in pieces, without rescanning.
///
/// Call [`scan`](Decoder::scan) with the buffer of unparsed bytes each time more arrive. The
/// decoder remembers how far it got: the header of a 64 MiB bulk string is read once and the
/// calls after it cost O(1) until the payload is complete; an array arriving in pieces is read
/// once overall. Its only allocation is a stack of open aggregates, reused across frames and
/// never longer than [`Limits::max_depth`].
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use redpoll::{resp::Decoder, Value};
///
/// let mut decoder = Decoder::new();
/// let mut buf = BytesMut::from(&b"*2\r\n$5\r\nhel"[..]);
/// assert_eq!(decoder.decode(&mut buf)?, None); // incomplete: wait for more bytes
/// buf.extend_from_slice(b"lo\r\n:42\r\n+OK\r\n");
/// let v = decoder.decode(&mut buf)?.unwrap();
/// assert_eq!(v, Value::Array(vec![Value::BulkString("hello".into()), Value::Int(42)]));
/// assert_eq!(&buf[..], b"+OK\r\n"); // the next frame stays in the buffer
/// # Ok::<(), redpoll::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct Decoder {
    limits: Limits,
    /// Where scanning resumes in the caller's buffer: everything before it is validated.
    pos: usize,
    /// While a blob payload is outstanding: the buffer length that completes it; else 0.
    need: usize,
    /// The outstanding blob's type and payload start.
    blob: Blob,
    blob_start: usize,
    /// Where the search for the end of an incomplete line resumes (0: at the line's start).
    line_resume: usize,
    /// Elements still to read in each open aggregate, innermost last.
    stack: Vec<u64>,
    /// Tokens read since creation, to let tests prove that nothing is read twice.
    #[cfg(test)]
    tokens_read: u64,
}

impl Decoder {
    /// A decoder with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Decoder { limits, ..Self::default() }
    }

    /// The limits this decoder enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Scans `buf` from its start for one complete frame.
    ///
    /// `Ok(Some(len))`: the first `len` bytes are one complete frame; the decoder is reset and
    /// the caller removes those bytes (and may hand them to [`parse_frame`]). `Ok(None)`: the
    /// frame is incomplete; the next call must pass the same bytes plus whatever arrived
    /// after, and the decoder resumes where it stopped.
    ///
    /// # Errors
    ///
    /// [`Error::Protocol`] for bytes that are not valid RESP or break a [`Limits`]; the message
    /// says what was wrong and at which byte offset. The stream cannot be resynchronised after
    /// that: close the connection. The decoder is reset, so it can serve a new stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use redpoll::resp::Decoder;
    ///
    /// let mut decoder = Decoder::new();
    /// assert_eq!(decoder.scan(b"$5\r\nhel")?, None);
    /// assert_eq!(decoder.scan(b"$5\r\nhello\r\n:1\r\n")?, Some(11));
    /// assert!(decoder.scan(b"?").is_err());
    /// # Ok::<(), redpoll::Error>(())
    /// ```
    #[inline]
    pub fn scan(&mut self, buf: &[u8]) -> Result<Option<usize>, Error> {
        // A reply that is one complete bulk string, met in a fresh state (at offset 0 no
        // aggregate is open): the most common frame, answered without touching the state.
        if self.pos == 0 && self.need == 0 {
            let quick = match buf.first() {
                Some(b'$') => scan::quick_bulk(buf, 0, &self.limits).map(|(_, _, len)| len),
                // `+OK` and other short status lines, small integers: the commonest replies
                // after bulk strings.
                Some(b'+') => scan::quick_line(buf, &self.limits),
                Some(b':') => scan::quick_digits(buf, 1).map(|(_, next)| next),
                _ => None,
            };
            if let Some(len) = quick {
                #[cfg(test)]
                {
                    self.tokens_read += 1;
                }
                // The frame may have arrived in parts: where an earlier call stopped looking
                // for its line end belongs to this frame, not to the next one.
                self.line_resume = 0;
                return Ok(Some(len));
            }
        }
        self.scan_general(buf)
    }

    #[inline(never)]
    fn scan_general(&mut self, buf: &[u8]) -> Result<Option<usize>, Error> {
        match self.scan_inner(buf) {
            Ok(done) => Ok(done),
            Err(fault) => {
                self.reset();
                Err(fault.into_error())
            }
        }
    }

    /// [`scan`](Decoder::scan), then on completion splits the frame off the front of `buf`
    /// (without copying) and builds its [`Value`] with [`parse_frame`].
    ///
    /// A top-level error reply comes back as `Ok(Some(Value::Error(..)))`: the caller decides
    /// whether that is an [`Error::Redis`].
    ///
    /// # Errors
    ///
    /// [`Error::Protocol`], as for [`scan`](Decoder::scan).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Value>, Error> {
        match self.scan(buf)? {
            None => Ok(None),
            Some(len) => {
                let frame = buf.split_to(len).freeze();
                parse_frame(&frame, &self.limits).map(Some)
            }
        }
    }

    /// Forgets the frame in progress (keeping the limits and the stack's capacity), as after
    /// a reconnect.
    pub fn reset(&mut self) {
        self.pos = 0;
        self.need = 0;
        self.blob = Blob::Bulk;
        self.blob_start = 0;
        self.line_resume = 0;
        self.stack.clear();
    }

    /// While the decoder waits for the payload of a bulk string: the buffer length at which
    /// that payload (and its CRLF) will be complete, so an I/O loop can reserve room for it
    /// at once. `None` when it is not inside a payload.
    ///
    /// # Examples
    ///
    /// ```
    /// use redpoll::resp::Decoder;
    ///
    /// let mut decoder = Decoder::new();
    /// assert_eq!(decoder.scan(b"$1000\r\nabc").unwrap(), None);
    /// assert_eq!(decoder.bytes_needed(), Some(7 + 1000 + 2));
    /// ```
    pub fn bytes_needed(&self) -> Option<usize> {
        (self.need != 0).then_some(self.need)
    }

    fn scan_inner(&mut self, buf: &[u8]) -> Result<Option<usize>, Fault> {
        if self.need != 0 {
            if buf.len() < self.need {
                return Ok(None);
            }
            scan::finish_blob(buf, self.blob, self.blob_start, self.need)?;
            self.pos = self.need;
            self.need = 0;
            if self.close_element() {
                return Ok(Some(self.complete()));
            }
        } else if buf.len() < self.pos {
            return scan::shrank(self.pos, buf.len());
        }
        loop {
            // Runs of short bulk strings inside an aggregate; the last element takes the path
            // below, which closes the aggregate.
            if let Some(top) = self.stack.last_mut() {
                let (mut left, mut pos, limits) = (*top, self.pos, self.limits);
                while left > 1 {
                    let Some((_, _, next)) = scan::quick_bulk(buf, pos, &limits) else { break };
                    #[cfg(test)]
                    {
                        self.tokens_read += 1;
                    }
                    left -= 1;
                    pos = next;
                }
                (*top, self.pos) = (left, pos);
            }
            #[cfg(test)]
            {
                self.tokens_read += 1;
            }
            if let Some((_, _, next)) = scan::quick_bulk(buf, self.pos, &self.limits) {
                self.pos = next;
                if self.close_element() {
                    return Ok(Some(self.complete()));
                }
                continue;
            }
            let read = scan::read_token(buf, self.pos, &self.limits, &mut self.line_resume)?;
            let Some((token, next)) = read else { return Ok(None) };
            match token {
                Token::Blob { kind, start, len } => {
                    let end = scan::blob_end(start, len)?;
                    if buf.len() < end {
                        self.pos = start;
                        self.need = end;
                        self.blob = kind;
                        self.blob_start = start;
                        return Ok(None);
                    }
                    scan::finish_blob(buf, kind, start, end)?;
                    self.pos = end;
                }
                Token::Aggregate { children, .. } => {
                    scan::check_depth(self.stack.len(), &self.limits, self.pos)?;
                    self.pos = next;
                    if children > 0 {
                        self.stack.push(children);
                        continue;
                    }
                }
                _ => self.pos = next,
            }
            if self.close_element() {
                return Ok(Some(self.complete()));
            }
        }
    }

    /// Counts one finished element against the open aggregates; true when that finished the
    /// top-level value.
    #[inline]
    fn close_element(&mut self) -> bool {
        while let Some(left) = self.stack.last_mut() {
            *left -= 1;
            if *left != 0 {
                return false;
            }
            self.stack.pop();
        }
        true
    }

    fn complete(&mut self) -> usize {
        let len = self.pos;
        self.reset();
        len
    }
}

/// An aggregate being built by [`parse_frame`].
enum Open {
    /// An array, set or push: `left` elements to go.
    Seq { kind: Agg, items: Vec<Value>, left: u64 },
    /// A map or an attribute's pairs: `left` pairs to go, `key` waiting for its value.
    Pairs { attribute: bool, items: Vec<(Value, Value)>, key: Option<Value>, left: u64 },
    /// An attribute whose pairs are complete, waiting for the value it annotates.
    Annotated { attributes: Vec<(Value, Value)> },
}

impl Open {
    /// Adds a finished child; returns the aggregate's value when that was its last child.
    #[inline]
    fn push(&mut self, value: Value) -> Option<Value> {
        match self {
            Open::Seq { kind, items, left } => {
                items.push(value);
                *left -= 1;
                if *left != 0 {
                    return None;
                }
                let items = mem::take(items);
                Some(match kind {
                    Agg::Set => Value::Set(items),
                    Agg::Push => Value::Push(items),
                    _ => Value::Array(items),
                })
            }
            Open::Pairs { attribute, items, key, left } => {
                let Some(k) = key.take() else {
                    *key = Some(value);
                    return None;
                };
                items.push((k, value));
                *left -= 1;
                if *left != 0 {
                    return None;
                }
                let items = mem::take(items);
                if *attribute {
                    *self = Open::Annotated { attributes: items };
                    None
                } else {
                    Some(Value::Map(items))
                }
            }
            Open::Annotated { attributes } => {
                Some(Value::Attribute { attributes: mem::take(attributes), value: Box::new(value) })
            }
        }
    }
}

/// Builds the [`Value`] of one complete frame, as delimited by [`Decoder::scan`].
///
/// Payloads are [`Bytes::slice`]s of `frame`: nothing is copied. Capacities are never taken
/// from an untrusted count alone: an aggregate reserves at most one slot per 3 bytes left in
/// the frame. Nesting is handled with an explicit stack, so hostile depth cannot overflow the
/// thread's stack. A top-level error reply gives `Ok(Value::Error(..))`.
///
/// # Errors
///
/// [`Error::Protocol`] when `frame` is not exactly one valid frame within `limits`: invalid
/// RESP, a frame that ends early, or bytes after the end of the value.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use redpoll::{resp::{parse_frame, Limits}, Value};
///
/// let frame = Bytes::from_static(b"%1\r\n+key\r\n,1.5\r\n");
/// let v = parse_frame(&frame, &Limits::default())?;
/// assert_eq!(v, Value::Map(vec![(Value::SimpleString("key".into()), Value::Double(1.5))]));
/// assert!(parse_frame(&Bytes::from_static(b"*2\r\n:1\r\n"), &Limits::default()).is_err());
/// # Ok::<(), redpoll::Error>(())
/// ```
#[inline]
pub fn parse_frame(frame: &Bytes, limits: &Limits) -> Result<Value, Error> {
    match scan::quick_bulk(frame, 0, limits) {
        Some((start, end, len)) if len == frame.len() => {
            Ok(Value::BulkString(frame.slice(start..end)))
        }
        _ => build(frame, limits).map_err(Fault::into_error),
    }
}

fn build(frame: &Bytes, limits: &Limits) -> Result<Value, Fault> {
    let buf: &[u8] = frame;
    let mut pos = 0;
    let mut stack: Vec<Open> = Vec::new();
    let mut resume = 0;
    loop {
        // Runs of short bulk strings inside an array, set or push (a reply of MGET, LRANGE,
        // KEYS…) go straight into it; the last element takes the general path below, which
        // closes the aggregate.
        if let Some(Open::Seq { items, left, .. }) = stack.last_mut() {
            while *left > 1 {
                let Some((start, end, next)) = scan::quick_bulk(buf, pos, limits) else { break };
                items.push(Value::BulkString(frame.slice(start..end)));
                *left -= 1;
                pos = next;
            }
        }
        let mut value = if let Some((start, end, next)) = scan::quick_bulk(buf, pos, limits) {
            pos = next;
            Value::BulkString(frame.slice(start..end))
        } else {
            let read = scan::read_token(buf, pos, limits, &mut resume)?;
            let Some((token, next)) = read else { return scan::truncated(buf.len()) };
            match token_value(frame, token, next, &mut pos, &mut stack, limits)? {
                Some(value) => value,
                None => continue,
            }
        };
        loop {
            let Some(open) = stack.last_mut() else {
                if pos != buf.len() {
                    return scan::trailing(pos, buf.len() - pos);
                }
                return Ok(value);
            };
            match open.push(value) {
                None => break,
                Some(done) => {
                    stack.pop();
                    value = done;
                }
            }
        }
    }
}

/// The value of a token other than a complete short bulk string, moving `pos` past it. An
/// aggregate header with children opens an aggregate on `stack` and gives `None`.
fn token_value(
    frame: &Bytes,
    token: Token,
    next: usize,
    pos: &mut usize,
    stack: &mut Vec<Open>,
    limits: &Limits,
) -> Result<Option<Value>, Fault> {
    let buf: &[u8] = frame;
    let value = match token {
        Token::Blob { kind, start, len } => {
            let end = scan::blob_end(start, len)?;
            if buf.len() < end {
                return scan::truncated(buf.len());
            }
            scan::finish_blob(buf, kind, start, end)?;
            *pos = end;
            match kind {
                Blob::Bulk => Value::BulkString(frame.slice(start..start + len)),
                Blob::Error => Value::Error(ServerError::from_bytes(&buf[start..start + len])),
                Blob::Verbatim => Value::Verbatim {
                    format: [buf[start], buf[start + 1], buf[start + 2]],
                    text: frame.slice(start + 4..start + len),
                },
            }
        }
        Token::Aggregate { kind, entries, children } => {
            scan::check_depth(stack.len(), limits, *pos)?;
            *pos = next;
            if children == 0 {
                match kind {
                    Agg::Map => Value::Map(Vec::new()),
                    Agg::Set => Value::Set(Vec::new()),
                    Agg::Push => Value::Push(Vec::new()),
                    _ => Value::Array(Vec::new()),
                }
            } else {
                // Each element takes at least 3 bytes (`_\r\n`), each pair at least 6.
                let room = buf.len() - *pos;
                stack.push(match kind {
                    Agg::Map | Agg::Attribute => {
                        let items = Vec::with_capacity(entries.min(room / 6));
                        if entries == 0 {
                            Open::Annotated { attributes: items }
                        } else {
                            let attribute = kind == Agg::Attribute;
                            Open::Pairs { attribute, items, key: None, left: entries as u64 }
                        }
                    }
                    _ => Open::Seq {
                        kind,
                        items: Vec::with_capacity(entries.min(room / 3)),
                        left: children,
                    },
                });
                return Ok(None);
            }
        }
        Token::Simple { start, end } => {
            *pos = next;
            Value::SimpleString(frame.slice(start..end))
        }
        Token::ErrorLine { start, end } => {
            *pos = next;
            Value::Error(ServerError::from_bytes(&buf[start..end]))
        }
        Token::BigNumber { start, end } => {
            *pos = next;
            Value::BigNumber(frame.slice(start..end))
        }
        Token::Int(n) => {
            *pos = next;
            Value::Int(n)
        }
        Token::Double(x) => {
            *pos = next;
            Value::Double(x)
        }
        Token::Boolean(b) => {
            *pos = next;
            Value::Boolean(b)
        }
        Token::Nil => {
            *pos = next;
            Value::Nil
        }
    };
    Ok(Some(value))
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
