//! Encoding: commands as RESP arrays of bulk strings, and values in their RESP3 form.

use std::io::Write as _;

use bytes::{Buf as _, Bytes};

use super::value::Value;

/// Room reserved in front of a command for its `*<argc>\r\n` header: `*`, up to 10 digits of
/// a `u32`, CRLF.
const HEADER_ROOM: usize = 13;

/// One command being encoded: a RESP array of bulk strings, built argument by argument in a
/// single buffer that becomes the bytes to send without another copy.
///
/// The array header, whose count is known only at the end, is written into room reserved at
/// the front of the buffer by [`finish`](CommandBuf::finish). Integers are formatted without
/// `format!` or any allocation.
///
/// # Examples
///
/// ```
/// use redpoll::resp::CommandBuf;
///
/// let mut cmd = CommandBuf::new();
/// cmd.push(b"SET");
/// cmd.push(b"k");
/// cmd.push_int(-42);
/// assert_eq!(&cmd.finish()[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n-42\r\n");
/// ```
#[derive(Debug, Clone)]
pub struct CommandBuf {
    buf: Vec<u8>,
    argc: u32,
    /// Large `Bytes` arguments kept as they are instead of copied: each with the offset in
    /// `buf` where its payload belongs (`buf` holds its `$<len>\r\n` before and `\r\n`
    /// after that point). Empty for almost every command.
    shared: Vec<(usize, Bytes)>,
}

/// A `Bytes` argument at least this long is shared with the caller, not copied
/// ([`CommandBuf::push_bytes`]).
const SHARE_MIN: usize = 64 * 1024;

impl Default for CommandBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl CommandBuf {
    /// An empty command with room for a few short arguments.
    pub fn new() -> Self {
        Self::with_capacity(64)
    }

    /// An empty command whose buffer holds `bytes` of encoded arguments before growing.
    pub fn with_capacity(bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(HEADER_ROOM + bytes);
        buf.resize(HEADER_ROOM, 0);
        CommandBuf { buf, argc: 0, shared: Vec::new() }
    }

    /// An empty command in `buf`'s storage (a buffer kept from an earlier command).
    #[inline]
    pub(crate) fn reuse(mut buf: Vec<u8>) -> Self {
        buf.clear();
        if buf.capacity() == 0 {
            return Self::new();
        }
        buf.resize(HEADER_ROOM, 0);
        CommandBuf { buf, argc: 0, shared: Vec::new() }
    }

    /// The storage, for [`reuse`](CommandBuf::reuse).
    #[inline]
    pub(crate) fn into_storage(self) -> Vec<u8> {
        self.buf
    }

    /// Appends one argument (binary-safe).
    pub fn push(&mut self, arg: &[u8]) {
        let len = arg.len();
        self.buf.reserve(len + 25);
        // Short arguments (keys, small values) get their `$<len>\r\n` as one fixed-size
        // store instead of a digit loop and three appends.
        if len < 10 {
            self.buf.extend_from_slice(&[b'$', b'0' + len as u8, b'\r', b'\n']);
        } else if len < 100 {
            let (tens, ones) = (b'0' + (len / 10) as u8, b'0' + (len % 10) as u8);
            self.buf.extend_from_slice(&[b'$', tens, ones, b'\r', b'\n']);
        } else {
            self.buf.push(b'$');
            push_decimal(&mut self.buf, len as u64, false);
            self.buf.extend_from_slice(b"\r\n");
        }
        self.buf.extend_from_slice(arg);
        self.buf.extend_from_slice(b"\r\n");
        self.argc += 1;
    }

    /// Appends one argument held in [`Bytes`]: a large one (64 KiB or more) is kept as a
    /// reference to the same memory and written from there, not copied into the command.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use redpoll::resp::CommandBuf;
    ///
    /// let value = Bytes::from(vec![b'x'; 100_000]);
    /// let mut cmd = CommandBuf::new();
    /// cmd.push(b"SET");
    /// cmd.push(b"k");
    /// cmd.push_bytes(&value);
    /// assert_eq!(cmd.args().nth(2), Some(&value[..]));
    /// assert!(cmd.finish().ends_with(b"xxx\r\n"));
    /// ```
    #[inline]
    pub fn push_bytes(&mut self, arg: &Bytes) {
        if arg.len() < SHARE_MIN {
            return self.push(arg);
        }
        self.buf.push(b'$');
        push_decimal(&mut self.buf, arg.len() as u64, false);
        self.buf.extend_from_slice(b"\r\n");
        self.shared.push((self.buf.len(), arg.clone()));
        self.buf.extend_from_slice(b"\r\n");
        self.argc += 1;
    }

    /// Appends a signed integer argument in decimal.
    pub fn push_int(&mut self, n: i64) {
        let mut digits = [0u8; 20];
        let text = format_decimal(&mut digits, n.unsigned_abs(), n < 0);
        self.push(text);
    }

    /// Appends an unsigned integer argument in decimal.
    pub fn push_uint(&mut self, n: u64) {
        let mut digits = [0u8; 20];
        let text = format_decimal(&mut digits, n, false);
        self.push(text);
    }

    /// Appends a float in the syntax Redis parses: `inf`, `-inf`, or the shortest decimal
    /// that reads back as the same `f64`.
    pub fn push_float(&mut self, x: f64) {
        let mut text = [0u8; 32];
        let len = format_float(&mut text, x);
        if len <= text.len() {
            self.push(&text[..len]);
        } else {
            // Very large or very small magnitudes print longer than the stack buffer.
            let mut long = Vec::with_capacity(len);
            let _ = write!(long, "{x}");
            self.push(&long);
        }
    }

    /// How many arguments were pushed, the command name included.
    pub fn argc(&self) -> usize {
        self.argc as usize
    }

    /// The encoded length of the arguments so far, without the header.
    pub fn body_len(&self) -> usize {
        let shared: usize = self.shared.iter().map(|(_, b)| b.len()).sum();
        self.buf.len() - HEADER_ROOM + shared
    }

    /// The arguments pushed so far, in order (the command name first).
    ///
    /// # Examples
    ///
    /// ```
    /// use redpoll::resp::CommandBuf;
    ///
    /// let mut cmd = CommandBuf::new();
    /// cmd.push(b"GET");
    /// cmd.push(b"key");
    /// assert_eq!(cmd.args().collect::<Vec<_>>(), [&b"GET"[..], b"key"]);
    /// ```
    pub fn args(&self) -> Args<'_> {
        Args { buf: &self.buf, pos: HEADER_ROOM, shared: &self.shared }
    }

    /// Writes the array header and returns the bytes to send.
    pub fn finish(mut self) -> Bytes {
        if self.shared.is_empty() {
            return self.finish_own().0;
        }
        let chunks = self.finish_chunks();
        let mut all = Vec::with_capacity(chunks.iter().map(Bytes::len).sum());
        chunks.iter().for_each(|c| all.extend_from_slice(c));
        Bytes::from(all)
    }

    /// The bytes to send as a list of chunks that concatenate to the command: the large
    /// shared arguments stay the caller's `Bytes`; everything else is one buffer, sliced.
    pub(crate) fn finish_chunks(mut self) -> Vec<Bytes> {
        let shared = std::mem::take(&mut self.shared);
        let (own, start) = self.finish_own();
        let mut chunks = Vec::with_capacity(2 * shared.len() + 1);
        let mut at = 0;
        for (pos, bytes) in shared {
            chunks.push(own.slice(at..pos - start));
            chunks.push(bytes);
            at = pos - start;
        }
        chunks.push(own.slice(at..));
        chunks
    }

    /// The own buffer, header written, as `Bytes`, and the offset in the buffer where it
    /// starts.
    fn finish_own(&mut self) -> (Bytes, usize) {
        let start = self.write_header();
        let mut bytes = Bytes::from(std::mem::take(&mut self.buf));
        bytes.advance(start);
        (bytes, start)
    }

    /// True when large arguments are shared rather than in the own buffer (so
    /// [`encoded`](CommandBuf::encoded) would not be the whole command).
    #[inline]
    pub(crate) fn has_shared(&self) -> bool {
        !self.shared.is_empty()
    }

    /// Writes the array header and returns the whole command, for a caller that copies it
    /// somewhere (no `Bytes` is made). Arguments pushed afterwards need another call. Only
    /// for a command without shared arguments ([`has_shared`](CommandBuf::has_shared)).
    pub(crate) fn encoded(&mut self) -> &[u8] {
        let start = self.write_header();
        &self.buf[start..]
    }

    /// Writes the array header in front of the arguments; returns where it starts.
    fn write_header(&mut self) -> usize {
        let mut digits = [0u8; 20];
        let count = format_decimal(&mut digits, u64::from(self.argc), false);
        let header_len = count.len() + 3;
        let start = HEADER_ROOM - header_len;
        self.buf[start] = b'*';
        self.buf[start + 1..start + 1 + count.len()].copy_from_slice(count);
        self.buf[HEADER_ROOM - 2..HEADER_ROOM].copy_from_slice(b"\r\n");
        start
    }
}

impl CommandBuf {
    /// Appends every argument of `other` (its command name included) after this one's.
    ///
    /// # Examples
    ///
    /// ```
    /// use redpoll::resp::CommandBuf;
    ///
    /// let mut keys = CommandBuf::new();
    /// keys.push(b"a");
    /// keys.push(b"b");
    /// let mut cmd = CommandBuf::new();
    /// cmd.push(b"DEL");
    /// cmd.append(keys);
    /// assert_eq!(cmd.args().collect::<Vec<_>>(), [&b"DEL"[..], b"a", b"b"]);
    /// ```
    pub fn append(&mut self, other: CommandBuf) {
        let base = self.buf.len();
        self.buf.extend_from_slice(&other.buf[HEADER_ROOM..]);
        self.shared
            .extend(other.shared.into_iter().map(|(at, bytes)| (at - HEADER_ROOM + base, bytes)));
        self.argc += other.argc;
    }

    /// A new command made of this one's arguments in the order `order` gives (argument
    /// indexes, each at most once), with `prefix` written in front of the arguments whose
    /// index is in `prefixed` (sorted). Large shared arguments stay shared.
    pub(crate) fn rebuild(&self, order: &[usize], prefixed: &[usize], prefix: &[u8]) -> CommandBuf {
        let args: Vec<ArgRef<'_>> = self.arg_refs().collect();
        let mut out = CommandBuf::with_capacity(self.buf.len() + prefixed.len() * prefix.len());
        for &i in order {
            let Some(arg) = args.get(i) else { continue };
            if prefixed.binary_search(&i).is_ok() {
                let bytes = arg.bytes();
                let mut joined = Vec::with_capacity(prefix.len() + bytes.len());
                joined.extend_from_slice(prefix);
                joined.extend_from_slice(bytes);
                out.push(&joined);
            } else {
                match arg {
                    ArgRef::Own(bytes) => out.push(bytes),
                    ArgRef::Shared(bytes) => out.push_bytes(bytes),
                }
            }
        }
        out
    }

    /// The arguments, each either in the own buffer or a shared `Bytes`.
    fn arg_refs(&self) -> impl Iterator<Item = ArgRef<'_>> {
        let mut shared = self.shared.iter().peekable();
        let mut pos = HEADER_ROOM;
        std::iter::from_fn(move || {
            let rest = self.buf.get(pos..)?;
            let digits_end = rest.iter().position(|&b| b == b'\r')?;
            let len =
                rest[1..digits_end].iter().fold(0usize, |n, &d| n * 10 + usize::from(d - b'0'));
            let start = pos + digits_end + 2;
            if let Some((at, bytes)) = shared.peek() {
                if *at == start {
                    pos = start + 2;
                    return shared.next().map(|_| ArgRef::Shared(bytes));
                }
            }
            let arg = self.buf.get(start..start + len)?;
            pos = start + len + 2;
            Some(ArgRef::Own(arg))
        })
    }
}

/// One argument of a [`CommandBuf`]: in its own buffer, or a large shared value.
enum ArgRef<'a> {
    Own(&'a [u8]),
    Shared(&'a Bytes),
}

impl ArgRef<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            ArgRef::Own(b) => b,
            ArgRef::Shared(b) => b,
        }
    }
}

/// The arguments of a [`CommandBuf`], walked in its own encoding.
#[derive(Debug, Clone)]
pub struct Args<'a> {
    buf: &'a [u8],
    pos: usize,
    /// The shared arguments not reached yet.
    shared: &'a [(usize, Bytes)],
}

impl<'a> Iterator for Args<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        // Every argument is `$<len>\r\n<bytes>\r\n`, written by `push` above (a shared
        // argument's bytes are elsewhere, at the offset where they belong).
        let rest = self.buf.get(self.pos..)?;
        let digits_end = rest.iter().position(|&b| b == b'\r')?;
        let len = rest[1..digits_end].iter().fold(0usize, |n, &d| n * 10 + usize::from(d - b'0'));
        let start = self.pos + digits_end + 2;
        if let Some(((at, bytes), later)) = self.shared.split_first() {
            if *at == start {
                self.shared = later;
                self.pos = start + 2;
                return Some(bytes);
            }
        }
        let arg = self.buf.get(start..start + len)?;
        self.pos = start + len + 2;
        Some(arg)
    }
}

/// Writes `n` (negated when `negative`) in decimal at the end of `digits`, returning the slice.
fn format_decimal(digits: &mut [u8; 20], mut n: u64, negative: bool) -> &[u8] {
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if negative {
        at -= 1;
        digits[at] = b'-';
    }
    &digits[at..]
}

fn push_decimal(out: &mut Vec<u8>, n: u64, negative: bool) {
    let mut digits = [0u8; 20];
    out.extend_from_slice(format_decimal(&mut digits, n, negative));
}

/// Formats `x` into `out`, returning the length; a length over `out.len()` means it did not
/// fit and nothing usable was written.
fn format_float(out: &mut [u8; 32], x: f64) -> usize {
    if x.is_infinite() {
        let text: &[u8] = if x > 0.0 { b"inf" } else { b"-inf" };
        out[..text.len()].copy_from_slice(text);
        return text.len();
    }
    let mut cursor = std::io::Cursor::new(&mut out[..]);
    match write!(cursor, "{x}") {
        Ok(()) => cursor.position() as usize,
        Err(_) => out.len() + 1 + format!("{x}").len(),
    }
}

/// Appends `value` to `out` in its RESP3 wire form (RESP2 shapes are a subset of it).
///
/// Used by test servers and by tools that write replies; the client itself only sends
/// commands ([`CommandBuf`]).
///
/// # Examples
///
/// ```
/// use redpoll::{resp::encode_value, Value};
///
/// let mut out = Vec::new();
/// encode_value(&Value::Array(vec![Value::Int(7), Value::Nil]), &mut out);
/// assert_eq!(out, b"*2\r\n:7\r\n_\r\n");
/// ```
pub fn encode_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Nil => out.extend_from_slice(b"_\r\n"),
        Value::SimpleString(s) => line(out, b'+', s),
        Value::Error(e) => line(out, b'-', e.line().as_bytes()),
        Value::Int(n) => {
            out.push(b':');
            push_decimal(out, n.unsigned_abs(), *n < 0);
            out.extend_from_slice(b"\r\n");
        }
        Value::BulkString(b) => blob(out, b'$', &[], b),
        Value::Double(x) => {
            out.push(b',');
            if x.is_nan() {
                out.extend_from_slice(b"nan");
            } else {
                let mut text = [0u8; 32];
                let len = format_float(&mut text, *x);
                if len <= text.len() {
                    out.extend_from_slice(&text[..len]);
                } else {
                    let _ = write!(out, "{x}");
                }
            }
            out.extend_from_slice(b"\r\n");
        }
        Value::Boolean(b) => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
        Value::BigNumber(digits) => line(out, b'(', digits),
        Value::Verbatim { format, text } => blob(out, b'=', &[&format[..], b":"], text),
        Value::Array(items) => aggregate(out, b'*', items),
        Value::Set(items) => aggregate(out, b'~', items),
        Value::Push(items) => aggregate(out, b'>', items),
        Value::Map(pairs) => pairs_of(out, b'%', pairs),
        Value::Attribute { attributes, value } => {
            pairs_of(out, b'|', attributes);
            encode_value(value, out);
        }
    }
}

fn line(out: &mut Vec<u8>, marker: u8, text: &[u8]) {
    out.push(marker);
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

fn blob(out: &mut Vec<u8>, marker: u8, prefix: &[&[u8]], payload: &[u8]) {
    let len = prefix.iter().map(|p| p.len()).sum::<usize>() + payload.len();
    out.push(marker);
    push_decimal(out, len as u64, false);
    out.extend_from_slice(b"\r\n");
    for p in prefix {
        out.extend_from_slice(p);
    }
    out.extend_from_slice(payload);
    out.extend_from_slice(b"\r\n");
}

fn header(out: &mut Vec<u8>, marker: u8, count: usize) {
    out.push(marker);
    push_decimal(out, count as u64, false);
    out.extend_from_slice(b"\r\n");
}

fn aggregate(out: &mut Vec<u8>, marker: u8, items: &[Value]) {
    header(out, marker, items.len());
    for item in items {
        encode_value(item, out);
    }
}

fn pairs_of(out: &mut Vec<u8>, marker: u8, pairs: &[(Value, Value)]) {
    header(out, marker, pairs.len());
    for (k, v) in pairs {
        encode_value(k, out);
        encode_value(v, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_cover_the_extremes() {
        let mut cmd = CommandBuf::new();
        cmd.push_int(i64::MIN);
        cmd.push_int(0);
        cmd.push_uint(u64::MAX);
        let bytes = cmd.finish();
        assert_eq!(
            &bytes[..],
            b"*3\r\n$20\r\n-9223372036854775808\r\n$1\r\n0\r\n$20\r\n18446744073709551615\r\n"
        );
    }

    #[test]
    fn argument_headers_at_every_digit_count() {
        for len in [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 65_536] {
            let arg = vec![b'a'; len];
            let mut cmd = CommandBuf::with_capacity(0);
            cmd.push(&arg);
            let mut want = format!("*1\r\n${len}\r\n").into_bytes();
            want.extend_from_slice(&arg);
            want.extend_from_slice(b"\r\n");
            assert_eq!(&cmd.finish()[..], &want[..], "length {len}");
        }
    }

    #[test]
    fn shared_arguments_encode_as_copied_ones() {
        let big = Bytes::from(vec![b'v'; SHARE_MIN]);
        let other = Bytes::from(vec![b'w'; SHARE_MIN + 1]);
        let small = Bytes::from_static(b"small");
        let build = |share: bool| {
            let mut cmd = CommandBuf::new();
            cmd.push(b"MSET");
            for arg in [&big, &small, &other] {
                if share {
                    cmd.push_bytes(arg);
                } else {
                    cmd.push(arg);
                }
            }
            cmd.push_int(7);
            cmd
        };
        let (shared, copied) = (build(true), build(false));
        assert!(shared.has_shared() && !copied.has_shared());
        assert_eq!(shared.body_len(), copied.body_len());
        assert_eq!(shared.args().collect::<Vec<_>>(), copied.args().collect::<Vec<_>>());
        let chunks = shared.clone().finish_chunks();
        assert_eq!(chunks.len(), 5, "own, big, own, other, own");
        assert_eq!(chunks[1].as_ptr(), big.as_ptr(), "the caller's memory, not a copy");
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        let whole = copied.finish();
        assert_eq!(&joined[..], &whole[..]);
        assert_eq!(shared.finish(), whole);
    }

    #[test]
    fn floats_use_redis_syntax() {
        let mut cmd = CommandBuf::new();
        cmd.push_float(f64::INFINITY);
        cmd.push_float(f64::NEG_INFINITY);
        cmd.push_float(1.5);
        cmd.push_float(0.1);
        cmd.push_float(1e300);
        let bytes = cmd.finish();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(text
            .starts_with("*5\r\n$3\r\ninf\r\n$4\r\n-inf\r\n$3\r\n1.5\r\n$3\r\n0.1\r\n$301\r\n1"));
    }

    #[test]
    fn header_fits_large_counts() {
        let mut cmd = CommandBuf::with_capacity(0);
        for _ in 0..12_345 {
            cmd.push(b"");
        }
        let bytes = cmd.finish();
        assert!(bytes.starts_with(b"*12345\r\n$0\r\n\r\n"));
        assert_eq!(bytes.len(), 8 + 12_345 * 6);
    }

    #[test]
    fn values_encode_in_resp3_form() {
        let v = Value::Map(vec![(
            Value::SimpleString("k".into()),
            Value::Verbatim { format: *b"txt", text: "hi".into() },
        )]);
        let mut out = Vec::new();
        encode_value(&v, &mut out);
        assert_eq!(out, b"%1\r\n+k\r\n=6\r\ntxt:hi\r\n");
    }

    #[test]
    fn rebuild_reorders_and_prefixes_keeping_shared_arguments_shared() {
        let big = Bytes::from(vec![b'v'; SHARE_MIN]);
        let mut cmd = CommandBuf::new();
        cmd.push(b"XADD");
        cmd.push(b"s");
        cmd.push(b"*");
        cmd.push(b"f");
        cmd.push_bytes(&big);
        cmd.push(b"MAXLEN");
        cmd.push(b"10");
        let out = cmd.rebuild(&[0, 1, 5, 6, 2, 3, 4], &[1], b"p:");
        assert!(out.has_shared(), "the large value is still the caller's memory");
        let args: Vec<&[u8]> = out.args().collect();
        assert_eq!(args[..6], [&b"XADD"[..], b"p:s", b"MAXLEN", b"10", b"*", b"f"]);
        assert_eq!(args[6], &big[..]);
        let mut tail = CommandBuf::new();
        tail.push(b"x");
        tail.push_bytes(&big);
        let mut head = CommandBuf::new();
        head.push(b"MSET");
        head.append(tail);
        assert_eq!(head.argc(), 3);
        assert_eq!(head.args().nth(2), Some(&big[..]));
        let whole = head.finish();
        assert!(whole.starts_with(b"*3\r\n$4\r\nMSET\r\n$1\r\nx\r\n$65536\r\nvvv"));
    }
}
