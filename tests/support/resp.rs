//! A raw RESP client over a plain blocking std socket, independent of the crate under test:
//! tests use it to set up and check server state (GET a counter, CONFIG SET, DEBUG SLEEP,
//! CLIENT KILL) without trusting the client they are testing.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// How long a raw connection waits for a reply before the read fails (tests never hang).
pub const RAW_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Deepest nesting the raw parser accepts.
const MAX_DEPTH: usize = 32;

/// Largest bulk string or aggregate the raw parser accepts.
const MAX_LEN: usize = 512 * 1024 * 1024;

/// One reply, parsed by the harness's own small RESP2/RESP3 parser.
#[derive(Debug, Clone, PartialEq)]
pub enum RawReply {
    /// `+text`
    Simple(String),
    /// `-text` (the whole line, code included), also `!` blob errors.
    Error(String),
    /// `:n`
    Int(i64),
    /// `$n` with its bytes.
    Bulk(Vec<u8>),
    /// `$-1`, `*-1` or RESP3 `_`.
    Nil,
    /// `*n`
    Array(Vec<RawReply>),
    /// RESP3 `,`
    Double(f64),
    /// RESP3 `#t` / `#f`
    Boolean(bool),
    /// RESP3 `(` (kept as its decimal text).
    BigNumber(String),
    /// RESP3 `=` : format (e.g. `txt`) and text.
    Verbatim(String, Vec<u8>),
    /// RESP3 `%`
    Map(Vec<(RawReply, RawReply)>),
    /// RESP3 `~`
    Set(Vec<RawReply>),
    /// RESP3 `>`
    Push(Vec<RawReply>),
    /// RESP3 `|` attributes and the value they annotate.
    Attribute(Vec<(RawReply, RawReply)>, Box<RawReply>),
}

impl RawReply {
    /// True for `+OK`.
    pub fn is_ok(&self) -> bool {
        matches!(self, RawReply::Simple(s) if s == "OK")
    }

    /// The bytes of a simple string, bulk string or verbatim string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            RawReply::Simple(s) => Some(s.as_bytes()),
            RawReply::Bulk(b) | RawReply::Verbatim(_, b) => Some(b),
            _ => None,
        }
    }

    /// The text of a simple string, bulk string or verbatim string, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// An integer reply, or a string reply holding a decimal integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            RawReply::Int(n) => Some(*n),
            _ => self.as_str().and_then(|s| s.parse().ok()),
        }
    }

    /// The elements of an array, set or push reply.
    pub fn as_array(&self) -> Option<&[RawReply]> {
        match self {
            RawReply::Array(v) | RawReply::Set(v) | RawReply::Push(v) => Some(v),
            _ => None,
        }
    }

    /// The line of an error reply (e.g. `WRONGPASS invalid username-password pair ...`).
    pub fn as_error(&self) -> Option<&str> {
        match self {
            RawReply::Error(s) => Some(s),
            _ => None,
        }
    }

    /// The first word of an error reply (e.g. `NOAUTH`).
    pub fn error_code(&self) -> Option<&str> {
        self.as_error().map(|s| s.split(' ').next().unwrap_or(""))
    }

    /// Asserts the reply is `+OK`.
    ///
    /// # Panics
    ///
    /// If it is anything else.
    #[track_caller]
    pub fn expect_ok(&self) {
        assert!(self.is_ok(), "expected +OK, got {self:?}");
    }

    /// The reply as an integer.
    ///
    /// # Panics
    ///
    /// If it is not one (see [`as_int`](RawReply::as_int)).
    #[track_caller]
    pub fn expect_int(&self) -> i64 {
        self.as_int().unwrap_or_else(|| panic!("expected an integer, got {self:?}"))
    }

    /// The reply as text.
    ///
    /// # Panics
    ///
    /// If it is not a UTF-8 string reply.
    #[track_caller]
    pub fn expect_str(&self) -> &str {
        self.as_str().unwrap_or_else(|| panic!("expected a string, got {self:?}"))
    }

    /// The reply's elements.
    ///
    /// # Panics
    ///
    /// If it is not an array, set or push.
    #[track_caller]
    pub fn expect_array(&self) -> &[RawReply] {
        self.as_array().unwrap_or_else(|| panic!("expected an array, got {self:?}"))
    }

    /// The error line.
    ///
    /// # Panics
    ///
    /// If it is not an error reply.
    #[track_caller]
    pub fn expect_error(&self) -> &str {
        self.as_error().unwrap_or_else(|| panic!("expected an error reply, got {self:?}"))
    }
}

/// Encodes `args` as a RESP array of bulk strings (what a client sends).
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[derive(Debug)]
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
        }
    }
}

/// A blocking RESP connection over TCP or a Unix socket, with a read timeout of
/// [`RAW_READ_TIMEOUT`] unless changed.
#[derive(Debug)]
pub struct RawConn {
    reader: BufReader<Stream>,
}

impl RawConn {
    /// Connects to `addr` (e.g. `"127.0.0.1:6380"`) over TCP.
    ///
    /// # Errors
    ///
    /// The connect error.
    pub fn connect_tcp(addr: &str) -> io::Result<RawConn> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(RAW_READ_TIMEOUT))?;
        s.set_write_timeout(Some(RAW_READ_TIMEOUT))?;
        Ok(RawConn { reader: BufReader::new(Stream::Tcp(s)) })
    }

    /// Connects to a Unix socket.
    ///
    /// # Errors
    ///
    /// The connect error.
    pub fn connect_unix(path: &Path) -> io::Result<RawConn> {
        let s = UnixStream::connect(path)?;
        s.set_read_timeout(Some(RAW_READ_TIMEOUT))?;
        s.set_write_timeout(Some(RAW_READ_TIMEOUT))?;
        Ok(RawConn { reader: BufReader::new(Stream::Unix(s)) })
    }

    /// Changes the read timeout (`None`: wait forever; avoid in tests).
    ///
    /// # Errors
    ///
    /// From the socket option.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match self.reader.get_ref() {
            Stream::Tcp(s) => s.set_read_timeout(timeout),
            Stream::Unix(s) => s.set_read_timeout(timeout),
        }
    }

    /// Sends one command without reading its reply.
    ///
    /// # Errors
    ///
    /// The write error.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        self.send_raw(&encode_command(args))
    }

    /// Writes bytes as they are.
    ///
    /// # Errors
    ///
    /// The write error.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        let s = self.reader.get_mut();
        s.write_all(bytes)?;
        s.flush()
    }

    /// Reads one reply (a push message counts as a reply).
    ///
    /// # Errors
    ///
    /// I/O errors (timeout: `WouldBlock`/`TimedOut`), `UnexpectedEof` if the server closed,
    /// `InvalidData` for malformed RESP.
    pub fn read_reply(&mut self) -> io::Result<RawReply> {
        read_value(&mut self.reader, 0)
    }

    /// Sends a command and reads its reply.
    ///
    /// # Errors
    ///
    /// As [`send`](RawConn::send) and [`read_reply`](RawConn::read_reply); a server error
    /// reply is an `Ok(RawReply::Error(..))`.
    pub fn try_command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<RawReply> {
        self.send(args)?;
        self.read_reply()
    }

    /// Sends a command and reads its reply.
    ///
    /// # Panics
    ///
    /// On an I/O or protocol error (a server error reply is returned, not a panic).
    #[track_caller]
    pub fn command(&mut self, args: &[&[u8]]) -> RawReply {
        self.try_command(args).unwrap_or_else(|e| panic!("raw command {}: {e}", show(args)))
    }

    /// [`command`](RawConn::command) with text arguments: `conn.cmd(&["GET", "k"])`.
    ///
    /// # Panics
    ///
    /// As [`command`](RawConn::command).
    #[track_caller]
    pub fn cmd(&mut self, args: &[&str]) -> RawReply {
        self.try_command(args).unwrap_or_else(|e| panic!("raw command {args:?}: {e}"))
    }
}

/// Arguments for a panic message, lossily as text.
pub fn show(args: &[&[u8]]) -> String {
    let parts: Vec<String> = args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    format!("{parts:?}")
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Reads one CRLF-terminated line, without the CRLF.
fn read_line<R: BufRead>(r: &mut R) -> io::Result<Vec<u8>> {
    // Bound the line: a line of a real reply is short; 64 KiB is generous.
    const MAX_LINE: usize = 64 * 1024;
    let mut line = Vec::new();
    let n = Read::take(&mut *r, MAX_LINE as u64).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"));
    }
    if !line.ends_with(b"\n") {
        if line.len() >= MAX_LINE {
            return Err(invalid("line longer than 64 KiB".into()));
        }
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed mid-line"));
    }
    if !line.ends_with(b"\r\n") {
        return Err(invalid(format!("line without CRLF: {:?}", String::from_utf8_lossy(&line))));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn parse_num<T: std::str::FromStr>(text: &[u8]) -> io::Result<T> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid(format!("bad number {:?}", String::from_utf8_lossy(text))))
}

/// A length prefix: `None` for -1 (null), else a bounded length.
fn parse_len(text: &[u8]) -> io::Result<Option<usize>> {
    let n: i64 = parse_num(text)?;
    match n {
        -1 => Ok(None),
        n if n < 0 || n as u64 > MAX_LEN as u64 => Err(invalid(format!("bad length {n}"))),
        n => Ok(Some(n as usize)),
    }
}

fn read_blob<R: BufRead>(r: &mut R, len: usize) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    Read::take(&mut *r, len as u64 + 2).read_to_end(&mut data)?;
    if data.len() < len + 2 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed mid-bulk"));
    }
    if &data[len..] != b"\r\n" {
        return Err(invalid("bulk string without CRLF".into()));
    }
    data.truncate(len);
    Ok(data)
}

fn read_many<R: BufRead>(r: &mut R, n: usize, depth: usize) -> io::Result<Vec<RawReply>> {
    (0..n).map(|_| read_value(r, depth + 1)).collect()
}

fn read_pairs<R: BufRead>(
    r: &mut R,
    n: usize,
    depth: usize,
) -> io::Result<Vec<(RawReply, RawReply)>> {
    let mut pairs = Vec::new();
    for _ in 0..n {
        let k = read_value(r, depth + 1)?;
        let v = read_value(r, depth + 1)?;
        pairs.push((k, v));
    }
    Ok(pairs)
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

fn read_value<R: BufRead>(r: &mut R, depth: usize) -> io::Result<RawReply> {
    if depth > MAX_DEPTH {
        return Err(invalid("reply nested too deeply".into()));
    }
    let line = read_line(r)?;
    let (&tag, rest) = line.split_first().ok_or_else(|| invalid("empty line".into()))?;
    Ok(match tag {
        b'+' => RawReply::Simple(text(rest.to_vec())),
        b'-' => RawReply::Error(text(rest.to_vec())),
        b':' => RawReply::Int(parse_num(rest)?),
        b'_' => RawReply::Nil,
        b',' => RawReply::Double(parse_num(rest)?),
        b'(' => RawReply::BigNumber(text(rest.to_vec())),
        b'#' => match rest {
            b"t" => RawReply::Boolean(true),
            b"f" => RawReply::Boolean(false),
            _ => return Err(invalid(format!("bad boolean {:?}", text(rest.to_vec())))),
        },
        b'$' | b'!' | b'=' => match parse_len(rest)? {
            None => RawReply::Nil,
            Some(len) => {
                let data = read_blob(r, len)?;
                match tag {
                    b'$' => RawReply::Bulk(data),
                    b'!' => RawReply::Error(text(data)),
                    _ if data.len() >= 4 && data[3] == b':' => {
                        RawReply::Verbatim(text(data[..3].to_vec()), data[4..].to_vec())
                    }
                    _ => return Err(invalid("verbatim string without format".into())),
                }
            }
        },
        b'*' | b'~' | b'>' => match parse_len(rest)? {
            None => RawReply::Nil,
            Some(n) => {
                let items = read_many(r, n, depth)?;
                match tag {
                    b'*' => RawReply::Array(items),
                    b'~' => RawReply::Set(items),
                    _ => RawReply::Push(items),
                }
            }
        },
        b'%' | b'|' => {
            let n = parse_len(rest)?.ok_or_else(|| invalid("null map".into()))?;
            let pairs = read_pairs(r, n, depth)?;
            if tag == b'%' {
                RawReply::Map(pairs)
            } else {
                RawReply::Attribute(pairs, Box::new(read_value(r, depth + 1)?))
            }
        }
        _ => return Err(invalid(format!("unknown RESP type byte {:?}", tag as char))),
    })
}

/// Parses every reply in `bytes` (for checking what a fake server or encoder produced).
///
/// # Errors
///
/// `UnexpectedEof` if the bytes end mid-reply; `InvalidData` if malformed.
pub fn parse_all(bytes: &[u8]) -> io::Result<Vec<RawReply>> {
    let mut r = bytes;
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(read_value(&mut r, 0)?);
    }
    Ok(out)
}

/// Parses the first reply in `bytes` and says how many bytes it took.
///
/// # Errors
///
/// `UnexpectedEof` if `bytes` holds only part of a reply (read more and retry);
/// `InvalidData` if malformed.
pub fn parse_one(bytes: &[u8]) -> io::Result<(RawReply, usize)> {
    let mut r = bytes;
    let value = read_value(&mut r, 0)?;
    Ok((value, bytes.len() - r.len()))
}
