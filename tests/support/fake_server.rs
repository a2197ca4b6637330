//! A tiny scripted loopback TCP server for protocol faults no real server produces (garbage,
//! truncated replies, silence, resets), and listeners that never accept.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, sleep, JoinHandle};
use std::time::{Duration, Instant};

use super::resp::{parse_one, RawReply};

/// A fake server stops by itself this long after it started (tests never hang on it).
pub const FAKE_SERVER_LIFETIME: Duration = Duration::from_secs(120);

/// Connections beyond this many are accepted and closed at once.
pub const FAKE_SERVER_MAX_CONNECTIONS: usize = 64;

/// How often blocked threads look at the stop flag.
const TICK: Duration = Duration::from_millis(10);

/// Largest request [`Step::ReadRequest`] buffers.
const MAX_PENDING: usize = 16 * 1024 * 1024;

/// Answers one request (its arguments) with bytes to send, or `None` to close.
pub type Handler = Arc<dyn Fn(&[Vec<u8>]) -> Option<Vec<u8>> + Send + Sync>;

/// One step of a connection's script.
#[derive(Clone)]
pub enum Step {
    /// Wait for at least one byte and consume whatever has arrived (no framing).
    Read,
    /// Consume exactly this many bytes.
    ReadBytes(usize),
    /// Consume one complete request (a RESP array, or an inline command line).
    ReadRequest,
    /// Write these bytes.
    Send(Vec<u8>),
    /// Pause.
    Sleep(Duration),
    /// Close the connection (FIN).
    Close,
    /// Close the connection with a reset (RST: `SO_LINGER` 0).
    Reset,
    /// Read and discard everything and never answer, until the peer closes or the server
    /// is dropped. This is also what happens after the last step.
    Hold,
    /// Answer every request with the handler until it returns `None` (then close) or the
    /// peer closes.
    Serve(Handler),
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Read => f.write_str("Read"),
            Step::ReadBytes(n) => write!(f, "ReadBytes({n})"),
            Step::ReadRequest => f.write_str("ReadRequest"),
            Step::Send(b) => write!(f, "Send({:?})", String::from_utf8_lossy(b)),
            Step::Sleep(d) => write!(f, "Sleep({d:?})"),
            Step::Close => f.write_str("Close"),
            Step::Reset => f.write_str("Reset"),
            Step::Hold => f.write_str("Hold"),
            Step::Serve(_) => f.write_str("Serve(..)"),
        }
    }
}

/// What one connection does, step by step: `Script::new().read_request().send(b"+OK\r\n")`.
#[derive(Debug, Clone, Default)]
pub struct Script {
    steps: Vec<Step>,
}

impl Script {
    /// An empty script (accept, then [`Step::Hold`]).
    pub fn new() -> Script {
        Script::default()
    }

    /// Appends any step.
    pub fn step(mut self, step: Step) -> Script {
        self.steps.push(step);
        self
    }

    /// [`Step::Read`]
    pub fn read(self) -> Script {
        self.step(Step::Read)
    }

    /// [`Step::ReadBytes`]
    pub fn read_bytes(self, n: usize) -> Script {
        self.step(Step::ReadBytes(n))
    }

    /// [`Step::ReadRequest`]
    pub fn read_request(self) -> Script {
        self.step(Step::ReadRequest)
    }

    /// [`Step::Send`]
    pub fn send(self, bytes: impl AsRef<[u8]>) -> Script {
        self.step(Step::Send(bytes.as_ref().to_vec()))
    }

    /// [`Step::Sleep`]
    pub fn sleep(self, d: Duration) -> Script {
        self.step(Step::Sleep(d))
    }

    /// [`Step::Close`]
    pub fn close(self) -> Script {
        self.step(Step::Close)
    }

    /// [`Step::Reset`]
    pub fn reset(self) -> Script {
        self.step(Step::Reset)
    }

    /// [`Step::Hold`]
    pub fn hold(self) -> Script {
        self.step(Step::Hold)
    }

    /// [`Step::Serve`] with `handler(args) -> Some(reply bytes) | None (close)`.
    pub fn serve<F>(self, handler: F) -> Script
    where
        F: Fn(&[Vec<u8>]) -> Option<Vec<u8>> + Send + Sync + 'static,
    {
        self.step(Step::Serve(Arc::new(handler)))
    }

    /// Reply to the first request with these raw bytes, then hold.
    pub fn reply_once(bytes: impl AsRef<[u8]>) -> Script {
        Script::new().read_request().send(bytes)
    }

    /// Reply to the first request with bytes that are not RESP, then hold.
    pub fn garbage() -> Script {
        Script::reply_once(b"\x00\xffnot resp at all\r\n")
    }

    /// Reply to the first request with the first `n` bytes of `bytes`, then close.
    pub fn close_after(bytes: impl AsRef<[u8]>, n: usize) -> Script {
        let bytes = bytes.as_ref();
        Script::new().read_request().send(&bytes[..n.min(bytes.len())]).close()
    }

    /// Accept, read everything, never say anything.
    pub fn never_answer() -> Script {
        Script::new().hold()
    }
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    accepted: AtomicUsize,
    /// Bytes received, per connection in accept order.
    received: Mutex<Vec<Vec<u8>>>,
    conns: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn stopping(&self, deadline: Instant) -> bool {
        self.stop.load(Ordering::Relaxed) || Instant::now() >= deadline
    }
}

/// A scripted TCP server on a loopback port, served by its own threads; stops on drop.
///
/// Connection `i` (in accept order) runs `scripts[i]`, or the last script when there are
/// fewer scripts than connections.
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl FakeServer {
    /// Every connection runs `script`.
    pub fn start(script: Script) -> FakeServer {
        FakeServer::start_each(vec![script])
    }

    /// Connection `i` runs `scripts[i]` (the last one for later connections).
    ///
    /// # Panics
    ///
    /// If `scripts` is empty or no loopback port can be bound.
    pub fn start_each(scripts: Vec<Script>) -> FakeServer {
        assert!(!scripts.is_empty(), "FakeServer needs at least one script");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("set_nonblocking");
        let addr = listener.local_addr().expect("local_addr");
        let shared = Arc::new(Shared::default());
        let deadline = Instant::now() + FAKE_SERVER_LIFETIME;
        let sh = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name(format!("fake-server-{}", addr.port()))
            .spawn(move || accept_loop(listener, scripts, sh, deadline))
            .expect("spawn fake server thread");
        FakeServer { addr, shared, acceptor: Some(acceptor) }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `"127.0.0.1:<port>"`.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// `"redis://127.0.0.1:<port>"`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// How many connections were accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Waits up to `timeout` until at least `n` connections were accepted.
    pub fn wait_for_connections(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.accepted() < n {
            if Instant::now() >= deadline {
                return false;
            }
            sleep(Duration::from_millis(2));
        }
        true
    }

    /// Every byte received so far on connection `conn` (accept order, from 0).
    pub fn received(&self, conn: usize) -> Vec<u8> {
        let r = self.shared.received.lock().unwrap();
        r.get(conn).cloned().unwrap_or_default()
    }

    /// The complete requests received so far on connection `conn`, as lossy text
    /// (`[["HELLO", "3"], ["GET", "k"]]`); a trailing partial request is left out.
    pub fn received_commands(&self, conn: usize) -> Vec<Vec<String>> {
        let bytes = self.received(conn);
        let mut rest = &bytes[..];
        let mut out = Vec::new();
        while let Some((args, used)) = parse_request(rest) {
            out.push(args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect());
            rest = &rest[used..];
        }
        out
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
        let conns = std::mem::take(&mut *self.shared.conns.lock().unwrap());
        for t in conns {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, scripts: Vec<Script>, shared: Arc<Shared>, end: Instant) {
    while !shared.stopping(end) {
        match listener.accept() {
            Ok((stream, _)) => {
                let i = shared.accepted.fetch_add(1, Ordering::SeqCst);
                if i >= FAKE_SERVER_MAX_CONNECTIONS {
                    continue; // dropped: closed at once
                }
                shared.received.lock().unwrap().push(Vec::new());
                let script = scripts[i.min(scripts.len() - 1)].clone();
                let sh = Arc::clone(&shared);
                let t = thread::Builder::new()
                    .name(format!("fake-conn-{i}"))
                    .spawn(move || {
                        let mut conn = Conn { stream, index: i, pending: Vec::new(), shared: sh };
                        // An I/O error, the peer closing, or stop: the connection just ends.
                        let _ = conn.run(&script.steps, end);
                    })
                    .expect("spawn fake connection thread");
                shared.conns.lock().unwrap().push(t);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => sleep(Duration::from_millis(2)),
            Err(_) => sleep(TICK),
        }
    }
}

/// Parses one request at the front of `bytes`: a RESP array of bulk strings, or an inline
/// command line. `None` if incomplete. Malformed input counts as one request of one
/// argument holding all of it.
fn parse_request(bytes: &[u8]) -> Option<(Vec<Vec<u8>>, usize)> {
    if bytes.is_empty() {
        return None;
    }
    if bytes[0] != b'*' {
        let end = bytes.iter().position(|&b| b == b'\n')? + 1;
        let line = bytes[..end].strip_suffix(b"\r\n").unwrap_or(&bytes[..end - 1]);
        let args = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|a| !a.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        return Some((args, end));
    }
    match parse_one(bytes) {
        Ok((RawReply::Array(items), used)) => {
            let args = items
                .into_iter()
                .map(|it| match it {
                    RawReply::Bulk(b) => b,
                    other => format!("{other:?}").into_bytes(),
                })
                .collect();
            Some((args, used))
        }
        Ok((_, used)) => Some((vec![bytes[..used].to_vec()], used)),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => None,
        Err(_) => Some((vec![bytes.to_vec()], bytes.len())),
    }
}

struct Conn {
    stream: TcpStream,
    index: usize,
    /// Received and not yet consumed by a step.
    pending: Vec<u8>,
    shared: Arc<Shared>,
}

/// Why a connection ended early.
fn ended() -> io::Error {
    io::Error::other("connection ended")
}

impl Conn {
    fn run(&mut self, steps: &[Step], end: Instant) -> io::Result<()> {
        self.stream.set_nonblocking(false)?;
        self.stream.set_nodelay(true)?;
        self.stream.set_read_timeout(Some(TICK))?;
        for step in steps {
            match step {
                Step::Read => {
                    if self.pending.is_empty() {
                        self.fill(end)?;
                    }
                    self.pending.clear();
                }
                Step::ReadBytes(n) => {
                    while self.pending.len() < *n {
                        self.fill(end)?;
                    }
                    self.pending.drain(..*n);
                }
                Step::ReadRequest => {
                    self.next_request(end)?;
                }
                Step::Send(bytes) => self.stream.write_all(bytes)?,
                Step::Sleep(d) => {
                    let until = Instant::now() + *d;
                    while Instant::now() < until {
                        if self.shared.stopping(end) {
                            return Err(ended());
                        }
                        sleep(TICK.min(until.saturating_duration_since(Instant::now())));
                    }
                }
                Step::Close => {
                    let _ = self.stream.shutdown(Shutdown::Both);
                    return Ok(());
                }
                Step::Reset => {
                    socket2::SockRef::from(&self.stream).set_linger(Some(Duration::ZERO))?;
                    return Ok(());
                }
                Step::Hold => break,
                Step::Serve(handler) => loop {
                    let args = self.next_request(end)?;
                    match handler(&args) {
                        Some(reply) => self.stream.write_all(&reply)?,
                        None => {
                            let _ = self.stream.shutdown(Shutdown::Both);
                            return Ok(());
                        }
                    }
                },
            }
        }
        // Hold: read and discard until the peer closes or the server stops.
        loop {
            self.fill(end)?;
            self.pending.clear();
        }
    }

    fn next_request(&mut self, end: Instant) -> io::Result<Vec<Vec<u8>>> {
        loop {
            if let Some((args, used)) = parse_request(&self.pending) {
                self.pending.drain(..used);
                return Ok(args);
            }
            if self.pending.len() > MAX_PENDING {
                return Err(ended());
            }
            self.fill(end)?;
        }
    }

    /// Reads at least one byte into `pending` (and the received log). Fails when the peer
    /// closed, on an I/O error, or when the server stops.
    fn fill(&mut self, end: Instant) -> io::Result<()> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            if self.shared.stopping(end) {
                return Err(ended());
            }
            match self.stream.read(&mut buf) {
                Ok(0) => return Err(ended()),
                Ok(n) => {
                    self.pending.extend_from_slice(&buf[..n]);
                    let mut r = self.shared.received.lock().unwrap();
                    r[self.index].extend_from_slice(&buf[..n]);
                    return Ok(());
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// A loopback listener that never accepts.
///
/// [`Listener::new`]: connects complete (the kernel queues them) but nothing is ever read or
/// answered: for handshake/read timeouts. [`Listener::blackhole`]: the accept queue is
/// full, so SYNs are dropped and `connect()` itself hangs: for connect timeouts.
#[derive(Debug)]
pub struct Listener {
    _socket: socket2::Socket,
    addr: SocketAddr,
    /// Connections that fill the accept queue (blackhole only).
    _fillers: Vec<TcpStream>,
}

impl Listener {
    /// Bound and listening, never accepting.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound.
    pub fn new() -> Listener {
        Listener::with_backlog(128)
    }

    /// Bound and listening with a full accept queue: new connects get no answer at all.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound, or the queue cannot be filled.
    pub fn blackhole() -> Listener {
        let mut l = Listener::with_backlog(0);
        for _ in 0..8 {
            match TcpStream::connect_timeout(&l.addr, Duration::from_millis(200)) {
                Ok(s) => l._fillers.push(s),
                Err(_) => return l, // the queue is full: this SYN was dropped
            }
        }
        panic!("Listener::blackhole: accept queue on {} never filled", l.addr);
    }

    fn with_backlog(backlog: i32) -> Listener {
        use socket2::{Domain, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        socket.bind(&any.into()).expect("bind 127.0.0.1:0");
        socket.listen(backlog).expect("listen");
        let addr = socket.local_addr().expect("local_addr").as_socket().expect("inet addr");
        Listener { _socket: socket, addr, _fillers: Vec::new() }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `"127.0.0.1:<port>"`.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// `"redis://127.0.0.1:<port>"`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }
}
