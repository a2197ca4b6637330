//! A loopback TCP proxy that injects network faults between a client and a real server:
//! latency, cuts (everywhere, or after n bytes in one direction, mid-frame), resets, stalls
//! (blackhole), refused connects, and one-byte-at-a-time forwarding.
//!
//! Threads: one acceptor plus one per connection, each a mio poll loop over its two
//! non-blocking sockets with a waker, so a control call from the test thread reaches live
//! connections at once (and within [`PROXY_TICK`] at worst). Thread names start with
//! `fp<port>-` (`fp<port>-accept`, `fp<port>-c<n>`), so a test can find them in
//! `/proc/self/task/*/comm`.

use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr, TcpListener as StdListener, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, sleep, JoinHandle};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use socket2::{Domain, SockRef, Socket, Type};

use conn::{serve, CLIENT};

mod conn;

/// A proxy stops by itself (acceptor and every connection) this long after it started.
pub const PROXY_LIFETIME: Duration = Duration::from_secs(600);

/// Connections open at once; more are accepted and closed at once.
pub const PROXY_MAX_CONNECTIONS: usize = 256;

/// Connections over the proxy's lifetime; later ones are accepted and closed at once.
pub const PROXY_MAX_ACCEPTED: usize = 10_000;

/// Bytes read and not yet forwarded, over all connections of a proxy (latency queues and
/// blackholed data). At the cap the proxy stops reading: the senders see TCP backpressure,
/// nothing is dropped.
pub const PROXY_MAX_HELD: usize = 64 * 1024 * 1024;

/// The same cap for one direction of one connection.
pub const PROXY_MAX_HELD_PER_DIRECTION: usize = 16 * 1024 * 1024;

/// The longest a proxy thread sleeps before it looks at the controls again (control calls
/// also wake it at once).
pub const PROXY_TICK: Duration = Duration::from_millis(20);

/// How long `Drop` waits for the threads to end.
const DROP_WAIT: Duration = Duration::from_secs(2);

const LISTEN_BACKLOG: i32 = 128;
const WAKE: Token = Token(0);
const LISTENER: Token = Token(1);

/// A direction of traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// Client to server.
    Up = 0,
    /// Server to client.
    Down = 1,
}

/// A one-shot "cut after n bytes" armed by the test thread.
#[derive(Default)]
struct Trigger {
    armed: AtomicBool,
    /// (generation, bytes): a new generation restarts every connection's count.
    state: Mutex<(u64, Option<usize>)>,
}

struct ConnEntry {
    waker: Arc<Waker>,
    thread: JoinHandle<()>,
}

struct Shared {
    upstream: Mutex<SocketAddr>,
    deadline: Instant,
    stop: AtomicBool,
    latency_ns: AtomicU64,
    blackhole: AtomicBool,
    one_byte: AtomicBool,
    cut_epoch: AtomicU64,
    reset_epoch: AtomicU64,
    triggers: [Trigger; 2],
    open: AtomicUsize,
    accepted: AtomicUsize,
    cuts: AtomicUsize,
    bytes: [AtomicU64; 2],
    writes: AtomicU64,
    held: AtomicUsize,
    acceptor_waker: Waker,
    conns: Mutex<Vec<ConnEntry>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(SeqCst) || Instant::now() >= self.deadline
    }

    fn latency(&self) -> Duration {
        Duration::from_nanos(self.latency_ns.load(SeqCst))
    }

    fn wake_all(&self) {
        let _ = self.acceptor_waker.wake();
        for c in lock(&self.conns).iter() {
            let _ = c.waker.wake();
        }
    }

    fn arm(&self, dir: Dir, n: usize) {
        let t = &self.triggers[dir as usize];
        let mut st = lock(&t.state);
        st.0 += 1;
        st.1 = Some(n);
        t.armed.store(true, SeqCst);
    }

    fn disarm(&self, dir: Dir) {
        let t = &self.triggers[dir as usize];
        let mut st = lock(&t.state);
        st.1 = None;
        t.armed.store(false, SeqCst);
    }
}

/// Decrements the open-connection count when a connection thread ends (or never starts).
struct OpenGuard(Arc<Shared>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, SeqCst);
    }
}

/// A fault-injecting TCP proxy on a loopback port in front of `upstream`; stops on drop.
///
/// Every control call applies to live connections (and bytes already held) as well as new
/// ones. Faults combine: e.g. latency plus one byte at a time.
///
/// # Examples
///
/// ```ignore
/// let server = RedisServer::new();
/// let proxy = FaultProxy::start(&server.addr());
/// let mut c = RawConn::connect_tcp(&proxy.addr())?;
/// assert_eq!(c.cmd(&["PING"]), RawReply::Simple("PONG".into()));
/// proxy.cut_all();                   // c now reads EOF
/// ```
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// A second handle on the listening socket, to stop and restart listening from the
    /// test thread (`refuse`) without waiting for the acceptor.
    listen_ctl: Socket,
    refusing: Mutex<bool>,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("upstream", &*lock(&self.shared.upstream))
            .finish_non_exhaustive()
    }
}

fn resolve(addr: &str) -> SocketAddr {
    addr.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| panic!("FaultProxy: cannot resolve upstream {addr:?}"))
}

/// A listening socket on an explicitly chosen loopback port, so that the port stays bound
/// while listening is shut down (`refuse`): Linux keeps an explicitly bound port reserved.
fn bind_listener() -> Socket {
    let mut last = None;
    for _ in 0..16 {
        let port = match StdListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(a) => a.port(),
            Err(e) => panic!("FaultProxy: bind 127.0.0.1:0: {e}"),
        };
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        socket.set_reuse_address(true).expect("SO_REUSEADDR");
        let addr: SocketAddr = SocketAddr::from(([127, 0, 0, 1], port));
        match socket.bind(&addr.into()).and_then(|()| socket.listen(LISTEN_BACKLOG)) {
            Ok(()) => {
                socket.set_nonblocking(true).expect("set_nonblocking");
                return socket;
            }
            Err(e) => last = Some(e), // taken in between: try another
        }
    }
    panic!("FaultProxy: no loopback port after 16 attempts: {last:?}");
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards every accepted connection to `upstream`
    /// (e.g. `server.addr()`), both ways, until told otherwise.
    ///
    /// # Panics
    ///
    /// If `upstream` does not resolve or no loopback port can be bound.
    pub fn start(upstream: &str) -> FaultProxy {
        let upstream = resolve(upstream);
        let socket = bind_listener();
        let listen_ctl = socket.try_clone().expect("dup listening socket");
        let std_listener: StdListener = socket.into();
        let addr = std_listener.local_addr().expect("local_addr");
        let mut listener = TcpListener::from_std(std_listener);
        let poll = Poll::new().expect("mio Poll");
        let acceptor_waker = Waker::new(poll.registry(), WAKE).expect("mio Waker");
        poll.registry().register(&mut listener, LISTENER, Interest::READABLE).expect("register");
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            deadline: Instant::now() + PROXY_LIFETIME,
            stop: AtomicBool::new(false),
            latency_ns: AtomicU64::new(0),
            blackhole: AtomicBool::new(false),
            one_byte: AtomicBool::new(false),
            cut_epoch: AtomicU64::new(0),
            reset_epoch: AtomicU64::new(0),
            triggers: Default::default(),
            open: AtomicUsize::new(0),
            accepted: AtomicUsize::new(0),
            cuts: AtomicUsize::new(0),
            bytes: Default::default(),
            writes: AtomicU64::new(0),
            held: AtomicUsize::new(0),
            acceptor_waker,
            conns: Mutex::new(Vec::new()),
        });
        let sh = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name(format!("fp{}-accept", addr.port()))
            .spawn(move || accept_loop(poll, listener, sh, addr.port()))
            .expect("spawn proxy acceptor");
        FaultProxy {
            addr,
            shared,
            listen_ctl,
            refusing: Mutex::new(false),
            acceptor: Some(acceptor),
        }
    }

    /// `"127.0.0.1:<port>"`.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `"redis://127.0.0.1:<port>"`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Where new connections go from now on (live ones keep their server).
    ///
    /// # Panics
    ///
    /// If `upstream` does not resolve.
    pub fn set_upstream(&self, upstream: &str) {
        *lock(&self.shared.upstream) = resolve(upstream);
    }

    /// Delays every forwarded chunk, in each direction, by `latency` after it was read
    /// (so a round trip gains twice that); order is kept. Applies to chunks already held:
    /// `Duration::ZERO` releases them at once.
    pub fn set_latency(&self, latency: Duration) {
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.shared.latency_ns.store(ns, SeqCst);
        self.shared.wake_all();
    }

    /// The current latency.
    pub fn latency(&self) -> Duration {
        self.shared.latency()
    }

    /// Cuts every open connection: bytes already forwarded still arrive, then both sides
    /// see the connection closed (the client reads EOF; bytes held by the proxy are lost).
    /// New connections are accepted as usual.
    pub fn cut_all(&self) {
        self.shared.cut_epoch.fetch_add(1, SeqCst);
        self.shared.wake_all();
    }

    /// Resets every open connection: both sides get a RST (`SO_LINGER` 0), so the client's
    /// next read or write fails with `ConnectionReset` (bytes in flight may be lost).
    pub fn reset_all(&self) {
        self.shared.reset_epoch.fetch_add(1, SeqCst);
        self.shared.wake_all();
    }

    /// One shot: the first connection on which `n` more bytes from the server have been
    /// forwarded (counted from this call) is cut right there, as by [`cut_all`]: the client
    /// gets exactly those bytes, then EOF. `n == 0` cuts the next connection that has any
    /// server bytes to forward, forwarding none of them. A new call re-arms with a new count.
    ///
    /// [`cut_all`]: FaultProxy::cut_all
    pub fn cut_after_upstream_bytes(&self, n: usize) {
        self.shared.arm(Dir::Down, n);
    }

    /// As [`cut_after_upstream_bytes`](Self::cut_after_upstream_bytes) for client-to-server
    /// bytes: the server sees exactly `n` more bytes of that connection, then EOF.
    pub fn cut_after_client_bytes(&self, n: usize) {
        self.shared.arm(Dir::Up, n);
    }

    /// Stalls every connection, new ones included, in both directions while `on`:
    /// connections stay open (new ones are accepted and connected upstream), bytes are read
    /// and held up to [`PROXY_MAX_HELD`] (then the proxy stops reading), and `false`
    /// forwards everything held, in order.
    pub fn blackhole(&self, on: bool) {
        self.shared.blackhole.store(on, SeqCst);
        self.shared.wake_all();
    }

    /// While `on`, the proxy keeps its port bound but does not listen: connects fail fast
    /// with `ConnectionRefused` (connections queued but not yet accepted are reset). Open
    /// connections are not touched (add [`cut_all`](Self::cut_all) for "server down").
    ///
    /// # Panics
    ///
    /// If listening cannot be restarted on the port.
    pub fn refuse(&self, on: bool) {
        let mut refusing = lock(&self.refusing);
        if on && !*refusing {
            // Linux: shutting down a listening socket stops listening, keeps the port.
            self.listen_ctl.shutdown(Shutdown::Read).expect("FaultProxy: stop listening");
        } else if !on && *refusing {
            self.listen_ctl.listen(LISTEN_BACKLOG).expect("FaultProxy: listen again");
        }
        *refusing = on;
        self.shared.wake_all();
    }

    /// While `on`, every forwarded byte is its own write (with `TCP_NODELAY`), so that the
    /// peer can see every frame split at every point.
    pub fn one_byte_at_a_time(&self, on: bool) {
        self.shared.one_byte.store(on, SeqCst);
        self.shared.wake_all();
    }

    /// Back to a plain proxy: no latency, no blackhole, no refusal, no one-byte mode, both
    /// cut triggers disarmed. Open connections stay open.
    pub fn heal(&self) {
        self.shared.disarm(Dir::Up);
        self.shared.disarm(Dir::Down);
        self.shared.one_byte.store(false, SeqCst);
        self.shared.latency_ns.store(0, SeqCst);
        self.refuse(false);
        self.blackhole(false);
    }

    /// Connections open right now.
    pub fn connections(&self) -> usize {
        self.shared.open.load(SeqCst)
    }

    /// Connections accepted since start (including those closed at once by a cap).
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(SeqCst)
    }

    /// Connections ended by a cut or reset (all kinds).
    pub fn cuts(&self) -> usize {
        self.shared.cuts.load(SeqCst)
    }

    /// Client-to-server bytes forwarded (written to the server) since start.
    pub fn bytes_up(&self) -> u64 {
        self.shared.bytes[Dir::Up as usize].load(SeqCst)
    }

    /// Server-to-client bytes forwarded (written to clients) since start.
    pub fn bytes_down(&self) -> u64 {
        self.shared.bytes[Dir::Down as usize].load(SeqCst)
    }

    /// Successful write calls, both directions, since start (one per byte in one-byte mode).
    pub fn writes(&self) -> u64 {
        self.shared.writes.load(SeqCst)
    }

    /// Bytes read and not yet forwarded, over all connections.
    pub fn held(&self) -> usize {
        self.shared.held.load(SeqCst)
    }

    /// Polls `cond` every millisecond until it holds (true) or `timeout` passes (false).
    pub fn wait_until(&self, timeout: Duration, cond: impl Fn(&FaultProxy) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if cond(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, SeqCst);
        self.shared.wake_all();
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
        // The acceptor is gone: the list is complete.
        let conns = std::mem::take(&mut *lock(&self.shared.conns));
        let deadline = Instant::now() + DROP_WAIT;
        for c in conns {
            let _ = c.waker.wake();
            while !c.thread.is_finished() && Instant::now() < deadline {
                sleep(Duration::from_millis(1));
            }
            if c.thread.is_finished() {
                let _ = c.thread.join();
            }
        }
        // `listen_ctl` closes with the struct; the acceptor closed its handle on exit.
    }
}

fn accept_loop(mut poll: Poll, listener: TcpListener, shared: Arc<Shared>, port: u16) {
    let mut events = Events::with_capacity(16);
    while !shared.stopping() {
        loop {
            match listener.accept() {
                Ok((stream, _)) => spawn_conn(stream, &shared, port),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // WouldBlock, or EINVAL while refusing (not listening), or a transient error.
                Err(_) => break,
            }
        }
        lock(&shared.conns).retain(|c| !c.thread.is_finished());
        let _ = poll.poll(&mut events, Some(PROXY_TICK));
    }
    // Past the lifetime the proxy's owner still holds a handle on the socket: stop
    // listening, so that connects are refused rather than queued forever.
    let _ = SockRef::from(&listener).shutdown(Shutdown::Read);
}

fn spawn_conn(mut client: TcpStream, shared: &Arc<Shared>, port: u16) {
    let n = shared.accepted.fetch_add(1, SeqCst);
    if n >= PROXY_MAX_ACCEPTED || shared.open.load(SeqCst) >= PROXY_MAX_CONNECTIONS {
        return; // dropped: closed at once
    }
    shared.open.fetch_add(1, SeqCst);
    let guard = OpenGuard(Arc::clone(shared));
    let epochs = (shared.cut_epoch.load(SeqCst), shared.reset_epoch.load(SeqCst));
    let Ok(poll) = Poll::new() else { return };
    let Ok(waker) = Waker::new(poll.registry(), WAKE) else { return };
    if poll
        .registry()
        .register(&mut client, CLIENT, Interest::READABLE | Interest::WRITABLE)
        .is_err()
    {
        return;
    }
    let _ = client.set_nodelay(true);
    let sh = Arc::clone(shared);
    let spawned = thread::Builder::new().name(format!("fp{port}-c{n}")).spawn(move || {
        let _guard = guard;
        serve(poll, client, sh, epochs);
    });
    if let Ok(thread) = spawned {
        lock(&shared.conns).push(ConnEntry { waker: Arc::new(waker), thread });
    }
}
