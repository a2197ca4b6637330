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
            if let Some((_, _, len)) = scan::quick_bulk(buf, 0, &self.limits) {
                #[cfg(test)]
                {
                    self.tokens_read += 1;
                }
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
mod tests {
    use super::*;

    fn b(s: &'static str) -> Value {
        Value::BulkString(Bytes::from_static(s.as_bytes()))
    }

    fn s(s: &'static str) -> Value {
        Value::SimpleString(Bytes::from_static(s.as_bytes()))
    }

    /// Decodes one frame that must span the whole input, through both `scan` on the whole
    /// input and `parse_frame`, and through a byte-at-a-time `decode`; all must agree.
    fn one(input: &[u8]) -> Value {
        let mut decoder = Decoder::new();
        assert_eq!(decoder.scan(input).unwrap(), Some(input.len()), "{input:?}");
        let value = parse_frame(&Bytes::copy_from_slice(input), &Limits::default()).unwrap();
        let mut buf = BytesMut::new();
        for (i, &byte) in input.iter().enumerate() {
            buf.extend_from_slice(&[byte]);
            let got = decoder.decode(&mut buf).unwrap();
            if i + 1 < input.len() {
                assert_eq!(got, None, "complete after {} of {} bytes", i + 1, input.len());
            } else {
                // Debug text, so that NaN compares equal to itself.
                assert_eq!(format!("{got:?}"), format!("{:?}", Some(&value)));
            }
        }
        assert!(buf.is_empty());
        value
    }

    #[test]
    fn simple_string() {
        assert_eq!(one(b"+OK\r\n"), s("OK"));
        assert_eq!(one(b"+\r\n"), s(""));
    }

    #[test]
    fn error_line_is_a_value_error() {
        let Value::Error(e) = one(b"-WRONGTYPE Operation against a key\r\n") else { panic!() };
        assert_eq!(e.code(), "WRONGTYPE");
        assert_eq!(e.detail(), "Operation against a key");
    }

    #[test]
    fn integers() {
        assert_eq!(one(b":0\r\n"), Value::Int(0));
        assert_eq!(one(b":-42\r\n"), Value::Int(-42));
        assert_eq!(one(b":+7\r\n"), Value::Int(7));
        assert_eq!(one(b":9223372036854775807\r\n"), Value::Int(i64::MAX));
        assert_eq!(one(b":-9223372036854775808\r\n"), Value::Int(i64::MIN));
    }

    #[test]
    fn bulk_strings_and_resp2_nulls() {
        assert_eq!(one(b"$5\r\nhello\r\n"), b("hello"));
        assert_eq!(one(b"$0\r\n\r\n"), b(""));
        assert_eq!(one(b"$4\r\na\r\nb\r\n"), b("a\r\nb"));
        assert_eq!(one(b"$-1\r\n"), Value::Nil);
        assert_eq!(one(b"*-1\r\n"), Value::Nil);
        assert_eq!(one(b"_\r\n"), Value::Nil);
    }

    #[test]
    fn doubles() {
        assert_eq!(one(b",1.5\r\n"), Value::Double(1.5));
        assert_eq!(one(b",-0.25\r\n"), Value::Double(-0.25));
        assert_eq!(one(b",10\r\n"), Value::Double(10.0));
        assert_eq!(one(b",1e3\r\n"), Value::Double(1000.0));
        assert_eq!(one(b",-1.5E-3\r\n"), Value::Double(-0.0015));
        assert_eq!(one(b",2.5e+2\r\n"), Value::Double(250.0));
        assert_eq!(one(b",inf\r\n"), Value::Double(f64::INFINITY));
        assert_eq!(one(b",-inf\r\n"), Value::Double(f64::NEG_INFINITY));
        let Value::Double(x) = one(b",nan\r\n") else { panic!() };
        assert!(x.is_nan());
    }

    #[test]
    fn booleans() {
        assert_eq!(one(b"#t\r\n"), Value::Boolean(true));
        assert_eq!(one(b"#f\r\n"), Value::Boolean(false));
    }

    #[test]
    fn big_numbers_keep_their_digits() {
        let digits = "3492890328409238509324850943850943825024385";
        let frame = format!("({digits}\r\n");
        assert_eq!(one(frame.as_bytes()), Value::BigNumber(digits.into()));
        assert_eq!(one(b"(-12\r\n"), Value::BigNumber("-12".into()));
    }

    #[test]
    fn verbatim_strings() {
        let v = one(b"=15\r\ntxt:Some string\r\n");
        assert_eq!(v, Value::Verbatim { format: *b"txt", text: "Some string".into() });
        let v = one(b"=4\r\nmkd:\r\n");
        assert_eq!(v, Value::Verbatim { format: *b"mkd", text: "".into() });
    }

    #[test]
    fn bulk_errors() {
        let Value::Error(e) = one(b"!21\r\nSYNTAX invalid syntax\r\n") else { panic!() };
        assert_eq!(e.code(), "SYNTAX");
        assert_eq!(e.detail(), "invalid syntax");
    }

    #[test]
    fn arrays_nested_and_empty() {
        let v = one(b"*3\r\n:1\r\n*2\r\n$1\r\na\r\n*0\r\n_\r\n");
        let inner = Value::Array(vec![b("a"), Value::Array(vec![])]);
        assert_eq!(v, Value::Array(vec![Value::Int(1), inner, Value::Nil]));
        assert_eq!(one(b"*0\r\n"), Value::Array(vec![]));
    }

    #[test]
    fn maps() {
        let v = one(b"%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n#f\r\n");
        let want =
            Value::Map(vec![(s("first"), Value::Int(1)), (b("second"), Value::Boolean(false))]);
        assert_eq!(v, want);
        assert_eq!(one(b"%0\r\n"), Value::Map(vec![]));
    }

    #[test]
    fn sets() {
        assert_eq!(one(b"~2\r\n+a\r\n+b\r\n"), Value::Set(vec![s("a"), s("b")]));
        assert_eq!(one(b"~0\r\n"), Value::Set(vec![]));
    }

    #[test]
    fn pushes() {
        let v = one(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
        assert_eq!(v, Value::Push(vec![b("message"), b("ch"), b("hi")]));
    }

    #[test]
    fn attributes_annotate_the_following_value() {
        let v = one(
            b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n*2\r\n:2039123\r\n:9543892\r\n",
        );
        let want = Value::Attribute {
            attributes: vec![(
                s("key-popularity"),
                Value::Map(vec![(b("a"), Value::Double(0.1923))]),
            )],
            value: Box::new(Value::Array(vec![Value::Int(2039123), Value::Int(9543892)])),
        };
        assert_eq!(v, want);
        // Inside an aggregate, the attribute and its value are one element.
        let v = one(b"*2\r\n|0\r\n:1\r\n:2\r\n");
        let attr = Value::Attribute { attributes: vec![], value: Box::new(Value::Int(1)) };
        assert_eq!(v, Value::Array(vec![attr, Value::Int(2)]));
    }

    #[test]
    fn payloads_share_the_frame() {
        let frame = Bytes::from_static(b"*2\r\n$3\r\nabc\r\n+de\r\n");
        let Value::Array(items) = parse_frame(&frame, &Limits::default()).unwrap() else {
            panic!()
        };
        let Value::BulkString(abc) = &items[0] else { panic!() };
        assert_eq!(abc.as_ptr(), frame[8..].as_ptr());
    }

    /// A buffer of many frames of every type, and the values it holds.
    fn stream() -> (Vec<u8>, Vec<Value>) {
        let frames: &[&[u8]] = &[
            b"+OK\r\n",
            b"-ERR no\r\n",
            b":-5\r\n",
            b"$3\r\nfoo\r\n",
            b"$-1\r\n",
            b"*-1\r\n",
            b"_\r\n",
            b",3.25\r\n",
            b"#t\r\n",
            b"(123456789012345678901234567890\r\n",
            b"!3\r\nERR\r\n",
            b"=7\r\ntxt:abc\r\n",
            b"*2\r\n*1\r\n+x\r\n%1\r\n:1\r\n~1\r\n#f\r\n",
            b"|1\r\n+ttl\r\n:3\r\n$2\r\nhi\r\n",
            b">2\r\n+pubsub\r\n$0\r\n\r\n",
            b"*0\r\n",
        ];
        let values = frames
            .iter()
            .map(|f| parse_frame(&Bytes::copy_from_slice(f), &Limits::default()).unwrap())
            .collect();
        (frames.concat(), values)
    }

    fn decode_pieces(pieces: &[&[u8]]) -> Vec<Value> {
        let mut decoder = Decoder::new();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in pieces {
            buf.extend_from_slice(piece);
            while let Some(v) = decoder.decode(&mut buf).unwrap() {
                out.push(v);
            }
        }
        assert!(buf.is_empty());
        out
    }

    #[test]
    fn every_split_one_byte_at_a_time() {
        let (wire, values) = stream();
        let pieces: Vec<&[u8]> = wire.chunks(1).collect();
        assert_eq!(decode_pieces(&pieces), values);
    }

    #[test]
    fn every_split_in_two_pieces() {
        let (wire, values) = stream();
        for cut in 0..=wire.len() {
            let (a, b) = wire.split_at(cut);
            assert_eq!(decode_pieces(&[a, b]), values, "cut at {cut}");
        }
    }

    #[test]
    fn big_bulk_in_small_reads_reads_its_header_once() {
        const LEN: usize = 64 << 20;
        let mut wire = b"$67108864\r\n".to_vec();
        wire.resize(wire.len() + LEN, b'x');
        wire.extend_from_slice(b"\r\n");
        let mut decoder = Decoder::new();
        let mut buf = BytesMut::with_capacity(wire.len());
        let mut calls = 0;
        let mut done = None;
        for chunk in wire.chunks(16 << 10) {
            buf.extend_from_slice(chunk);
            calls += 1;
            done = decoder.scan(&buf).unwrap();
            if done.is_none() {
                // The decoder remembers where the payload ends and has read one token only.
                assert_eq!(decoder.bytes_needed(), Some(wire.len()));
                assert_eq!(decoder.tokens_read, 1);
            }
        }
        assert_eq!(calls, 4097);
        assert_eq!(done, Some(wire.len()));
        assert_eq!(decoder.tokens_read, 1);
        assert_eq!(decoder.bytes_needed(), None);
        let v = parse_frame(&buf.freeze(), &Limits::default()).unwrap();
        assert_eq!(v.as_bytes().map(|b| b.len()), Some(LEN));
    }

    #[test]
    fn array_in_small_reads_is_read_once() {
        let mut cmd = crate::resp::CommandBuf::new();
        for i in 0..10_000 {
            cmd.push_int(i);
        }
        let wire = cmd.finish();
        let mut decoder = Decoder::new();
        let mut buf = BytesMut::new();
        let mut calls = 0u64;
        let mut done = None;
        for chunk in wire.chunks(16) {
            buf.extend_from_slice(chunk);
            calls += 1;
            done = decoder.scan(&buf).unwrap();
        }
        assert_eq!(done, Some(wire.len()));
        // 10,001 tokens, plus at most one partial token re-read per call.
        assert!(decoder.tokens_read <= 10_001 + calls, "{} tokens", decoder.tokens_read);
    }

    #[test]
    fn long_line_in_pieces_resumes_its_search() {
        let mut decoder = Decoder::new();
        let mut buf = b"+".to_vec();
        for _ in 0..100 {
            buf.extend_from_slice(&[b'a'; 1000]);
            assert_eq!(decoder.scan(&buf).unwrap(), None);
            assert_eq!(decoder.line_resume, buf.len());
        }
        buf.extend_from_slice(b"\r");
        assert_eq!(decoder.scan(&buf).unwrap(), None);
        assert_eq!(decoder.line_resume, buf.len() - 1);
        buf.extend_from_slice(b"\n");
        assert_eq!(decoder.scan(&buf).unwrap(), Some(buf.len()));
    }

    fn nested(depth: usize) -> Vec<u8> {
        let mut wire = b"*1\r\n".repeat(depth - 1);
        wire.extend_from_slice(b"*0\r\n");
        wire
    }

    #[test]
    fn nesting_at_the_limit_is_accepted() {
        let wire = nested(128);
        assert_eq!(Decoder::new().scan(&wire).unwrap(), Some(wire.len()));
        let mut v = parse_frame(&Bytes::from(wire), &Limits::default()).unwrap();
        let mut depth = 1;
        while let Value::Array(mut items) = v {
            let Some(inner) = items.pop() else { break };
            v = inner;
            depth += 1;
        }
        assert_eq!(depth, 128);
    }

    #[test]
    fn nesting_over_the_limit_is_rejected() {
        let wire = nested(129);
        let e = Decoder::new().scan(&wire).unwrap_err().to_string();
        assert!(e.contains("deeper than max_depth (128) at byte 512"), "{e}");
        let e = parse_frame(&Bytes::from(wire), &Limits::default()).unwrap_err().to_string();
        assert!(e.contains("deeper than max_depth (128) at byte 512"), "{e}");
        // Maps and attributes count as levels too.
        let limits = Limits { max_depth: 2, ..Limits::default() };
        let wire = b"%1\r\n:1\r\n|1\r\n:1\r\n:1\r\n*0\r\n";
        assert!(Decoder::with_limits(limits).scan(wire).is_err());
        assert!(parse_frame(&Bytes::from_static(wire), &limits).is_err());
    }

    #[test]
    fn deep_nesting_with_a_raised_limit_does_not_recurse() {
        let limits = Limits { max_depth: 20_000, ..Limits::default() };
        let wire = Bytes::from(nested(20_000));
        assert_eq!(Decoder::with_limits(limits).scan(&wire).unwrap(), Some(wire.len()));
        let v = parse_frame(&wire, &limits).unwrap();
        // Dropping a Value recurses, so take it apart level by level.
        let mut v = Some(v);
        while let Some(Value::Array(mut items)) = v {
            v = items.pop();
        }
    }

    #[test]
    fn reset_forgets_the_frame_in_progress() {
        let mut decoder = Decoder::new();
        assert_eq!(decoder.scan(b"*2\r\n$10\r\nabc").unwrap(), None);
        decoder.reset();
        assert_eq!(decoder.bytes_needed(), None);
        assert_eq!(decoder.scan(b":1\r\n").unwrap(), Some(4));
    }
}
