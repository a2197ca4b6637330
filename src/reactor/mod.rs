//! The reactor: ONE I/O thread running a mio poll loop over a slab of connections.
//!
//! Callers hand it [`Submission`]s through a lock-free queue (`submit.rs`; short commands'
//! bytes travel in an arena of the caller's thread) and wake it only when it is parked. Each turn it (1) polls with a timeout up to
//! the next timer, (2) reads from every ready connection until it would block (or a short
//! read says the socket is drained), completing reply slots, (3) handles the submissions
//! (bounded per turn) and pumps each connection they touched once, (4) writes every
//! connection that has bytes queued, up to 1024 commands per `writev` — commands from many
//! callers travel together, (5) fires due timers and the 100 ms sweep. Nothing on this thread blocks: DNS runs on helper threads, and no user code
//! runs here.

mod conn;
mod family;
mod io;
mod notify;
mod pubsub;
mod resolve;
mod submit;
mod tls;
mod token;

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, Weak};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use mio::{Events, Poll};
use slab::Slab;

pub(crate) use conn::ReplyTx;
pub(crate) use io::TcpOptions;
pub(crate) use notify::Hooks;
pub(crate) use tls::TlsConnector;

use crate::config::ServerAddr;
use crate::error::Error;
use crate::pool::stats::PoolCounters;
use crate::proto::outbuf::Encoded;
use crate::proto::pubsub::Kind;
use crate::proto::session::{Props, Request, Session, SessionConfig};
use crate::proto::spares::SparesConfig;
use crate::pubsub::SinkTx;
use crate::timer::Wheel;
use bytes::Bytes;
use conn::{Conn, Ctx};
use family::Family;
pub(crate) use family::PoolPolicy;
use resolve::Resolved;
pub(crate) use submit::share_short;
use submit::{SubmitQueue, WakeState};

/// Submissions taken per turn before sockets get their turn again.
const DRAIN_PER_TURN: usize = 4096;
/// The sweep period.
const SWEEP_MS: u64 = 100;

/// What the caller worked out about a command, so the I/O thread does not have to.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CommandMeta {
    /// Client-side timeout in ms; `None` for no deadline.
    pub(crate) timeout_ms: Option<u64>,
    /// Send only after this many ms (a retry chosen by the user's retry policy).
    pub(crate) delay_ms: u64,
    /// Blocking, resend policy, on-timeout rule, group shape, effect on an exclusive
    /// connection.
    pub(crate) props: Props,
}

/// Where a lent dedicated connection's id travels to the caller of `Client::dedicated`.
pub(crate) type LeaseTx = crate::oneshot::Sender<Result<Lent, Error>>;
/// The caller's end of a [`LeaseTx`].
pub(crate) type LeaseRx = crate::oneshot::Receiver<Result<Lent, Error>>;

/// A connection lent to an owner.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lent {
    pub(crate) id: u64,
    /// Its handshake was complete when it was lent: the owner need not wait for it.
    pub(crate) ready: bool,
}

/// A connection to register and start connecting.
pub(crate) struct Open {
    pub(crate) id: u64,
    pub(crate) target: ServerAddr,
    pub(crate) tcp: TcpOptions,
    /// TLS over the TCP connection, when configured.
    pub(crate) tls: Option<TlsConnector>,
    pub(crate) session: SessionConfig,
    pub(crate) hooks: Option<Arc<Hooks>>,
    /// For a client's shared connection: the bounds of its set of dedicated connections
    /// (opened like this one, in the exclusive mode, without the hooks).
    pub(crate) spares: Option<SparesConfig>,
    /// False for a `Pool`: only the set of exclusive connections, no shared one.
    pub(crate) shared: bool,
    /// How the set checks, cleans and names its connections.
    pub(crate) policy: PoolPolicy,
    /// The set's figures, read by `Pool::stats`.
    pub(crate) counters: Arc<PoolCounters>,
    /// RESP3: subscriptions share this connection (pushes); else a subscriber connection
    /// of their own is opened beside it.
    pub(crate) pubsub_on_shared: bool,
}

/// What callers ask of the I/O thread.
pub(crate) enum Submission {
    /// Register a connection and start connecting (boxed: it is rare, and every submission
    /// is as large as the largest kind).
    Open(Box<Open>),
    /// Send a command on connection `id`.
    Command { id: u64, bytes: Encoded, reply: ReplyTx, meta: CommandMeta },
    /// Run a blocking command on a dedicated connection of the client whose shared
    /// connection is `family`, waiting for one if all are busy.
    Spare { family: u64, bytes: Encoded, reply: ReplyTx, meta: CommandMeta },
    /// Lend a dedicated connection of client `family` to one owner; waits up to `timeout_ms`
    /// for one.
    Lease { family: u64, reply: LeaseTx, timeout_ms: Option<u64> },
    /// The owner of dedicated connection `id` let go: reuse it, or close it if dirty.
    Release { id: u64 },
    /// An `acquire()` of pool `family` was dropped before it resolved: `rx` is its end of
    /// the answer (a connection lent already goes back).
    Abandon { family: u64, rx: LeaseRx },
    /// Subscribe sink `sink` of client `family` to `names`; `new` registers the sink (a new
    /// subscription).
    Subscribe {
        family: u64,
        sink: u64,
        new: Option<Box<SinkTx>>,
        kind: Kind,
        names: Vec<Bytes>,
        reply: ReplyTx,
        timeout_ms: Option<u64>,
    },
    /// Unsubscribe sink `sink` from `names` (`None`: all it holds of `kind`); `end`: then end
    /// its stream.
    Unsubscribe {
        family: u64,
        sink: u64,
        kind: Kind,
        names: Option<Vec<Bytes>>,
        reply: ReplyTx,
        end: bool,
        timeout_ms: Option<u64>,
    },
    /// The subscription `sink` was dropped: unsubscribe what only it held.
    DropSink { family: u64, sink: u64 },
    /// Answer `reply` once connection `id` has completed its handshake (or failed).
    Connect { id: u64, reply: ReplyTx },
    /// Close connection `id`; its pending requests fail with `Disconnected`.
    Close { id: u64 },
    /// Stop the thread.
    Shutdown,
}

thread_local! {
    static ON_IO_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// True on the reactor's I/O thread, where blocking on a reply would deadlock.
pub(crate) fn on_io_thread() -> bool {
    ON_IO_THREAD.with(|f| f.get())
}

/// A handle to a running I/O thread; the thread stops when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct Reactor {
    shared: Arc<Shared>,
}

struct Shared {
    queue: SubmitQueue,
    thread: Mutex<Option<JoinHandle<()>>>,
    thread_id: ThreadId,
    /// The fork generation this reactor's thread runs in (see `crate::fork`).
    generation: u64,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let _ = self.queue.push(Submission::Shutdown);
        self.queue.wake();
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(handle) = handle {
            if std::thread::current().id() != self.thread_id {
                let _ = handle.join();
            }
        }
    }
}

static GLOBAL: Mutex<Weak<Shared>> = Mutex::new(Weak::new());

impl Reactor {
    /// The process-wide reactor, started on first use and again after it stopped.
    pub(crate) fn global() -> Result<Reactor, Error> {
        let mut slot = GLOBAL.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(shared) = slot.upgrade() {
            if shared.generation == crate::fork::generation() {
                return Ok(Reactor { shared });
            }
            // Inherited through fork(): its thread does not exist here, so it must never be
            // joined or shut down from this process. Leak this reference.
            std::mem::forget(shared);
        }
        let reactor = Reactor::spawn()?;
        *slot = Arc::downgrade(&reactor.shared);
        Ok(reactor)
    }

    /// Starts a new I/O thread of its own.
    pub(crate) fn spawn() -> Result<Reactor, Error> {
        let poll = Poll::new().map_err(|e| Error::io("create the poll instance", e))?;
        let waker = mio::Waker::new(poll.registry(), token::WAKER)
            .map_err(|e| Error::io("create the poll waker", e))?;
        let wake = Arc::new(WakeState::new(waker));
        let (queue, rx) = SubmitQueue::new(wake.clone());
        let registry =
            poll.registry().try_clone().map_err(|e| Error::io("clone the registry", e))?;
        let thread = std::thread::Builder::new()
            .name("redpoll-io".into())
            .spawn(move || IoThread::new(poll, registry, rx, wake).run())
            .map_err(|e| Error::io("spawn the I/O thread", e))?;
        let thread_id = thread.thread().id();
        let generation = crate::fork::generation();
        let shared = Shared { queue, thread: Mutex::new(Some(thread)), thread_id, generation };
        Ok(Reactor { shared: Arc::new(shared) })
    }

    /// Hands a submission to the I/O thread. A command whose thread is gone fails at once.
    pub(crate) fn submit(&self, s: Submission) {
        if let Err(s) = self.shared.queue.push(s) {
            fail(s, stopped());
        }
    }
}

fn stopped() -> Error {
    Error::Disconnected("the I/O thread has stopped".into())
}

/// Answers a submission that cannot be carried out with `err` (if it expects an answer).
pub(crate) fn fail(s: Submission, err: Error) {
    match s {
        Submission::Command { reply, .. }
        | Submission::Spare { reply, .. }
        | Submission::Subscribe { reply, .. }
        | Submission::Unsubscribe { reply, .. }
        | Submission::Connect { reply, .. } => {
            let _ = reply.send(Err(err));
        }
        Submission::Lease { reply, .. } => {
            let _ = reply.send(Err(err));
        }
        _ => {}
    }
}

/// Hashes connection ids (already unique integers) by a multiply: no SipHash on the hot path.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

struct IoThread {
    poll: Poll,
    events: Events,
    rx: Receiver<Submission>,
    resolved_rx: Receiver<Resolved>,
    wake: Arc<WakeState>,
    conns: Slab<Conn>,
    ids: HashMap<u64, usize, BuildHasherDefault<IdHasher>>,
    /// Per client (keyed by its shared connection's id): its dedicated connections.
    families: HashMap<u64, Family, BuildHasherDefault<IdHasher>>,
    /// Pooled connections busy with a health check or a cleanup.
    probes: Vec<family::Probe>,
    /// The last id looked up and its slot: consecutive commands mostly share a connection.
    last: Option<(u64, usize)>,
    next_generation: u32,
    ctx: Ctx,
    start: Instant,
    next_sweep: u64,
    running: bool,
}

impl IoThread {
    fn new(
        poll: Poll,
        registry: mio::Registry,
        rx: Receiver<Submission>,
        wake: Arc<WakeState>,
    ) -> Self {
        let (resolved_tx, resolved_rx) = crossbeam_channel::unbounded();
        let ctx = Ctx {
            registry,
            wheel: Wheel::new(0),
            now: 0,
            resolved_tx,
            waker: wake.waker.clone(),
            dirty: Vec::new(),
            read_again: Vec::new(),
            touched: Vec::new(),
            notifier: Default::default(),
            lookups: 0,
            iov: Vec::new(),
            freed: Vec::new(),
            lost_idle: Vec::new(),
        };
        IoThread {
            poll,
            events: Events::with_capacity(1024),
            rx,
            resolved_rx,
            wake,
            conns: Slab::new(),
            ids: HashMap::default(),
            families: HashMap::default(),
            probes: Vec::new(),
            last: None,
            next_generation: 0,
            ctx,
            start: Instant::now(),
            next_sweep: SWEEP_MS,
            running: true,
        }
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn run(mut self) {
        ON_IO_THREAD.with(|f| f.set(true));
        while self.running {
            self.turn();
        }
        let now = self.now();
        self.ctx.now = now;
        for s in self.rx.try_iter() {
            fail(s, stopped());
        }
        let idxs: Vec<usize> = self.conns.iter().map(|(i, _)| i).collect();
        for idx in idxs {
            self.close(idx);
        }
    }

    fn turn(&mut self) {
        let now = self.now();
        let timeout = self.poll_timeout(now);
        let sleep = timeout != Some(Duration::ZERO) && self.wake.about_to_sleep(&self.rx);
        let timeout = if sleep { timeout } else { Some(Duration::ZERO) };
        if let Err(e) = self.poll.poll(&mut self.events, timeout) {
            if !io::interrupted(&e) {
                // The poll instance is broken: fail everything rather than spin.
                self.running = false;
            }
        }
        self.wake.awake();
        self.ctx.now = self.now();

        for ev in self.events.iter() {
            if ev.token() == token::WAKER {
                continue;
            }
            let (idx, generation) = token::decode(ev.token());
            // A token of a freed or reused slot is stale: its generation differs.
            let Some(conn) = self.conns.get_mut(idx).filter(|c| c.generation == generation) else {
                continue;
            };
            let readable = ev.is_readable() || ev.is_error();
            let read_closed = ev.is_read_closed() || ev.is_error();
            let writable = ev.is_writable() || ev.is_write_closed();
            conn.on_event(idx, readable, read_closed, writable, &mut self.ctx);
        }
        for idx in std::mem::take(&mut self.ctx.read_again) {
            if let Some(conn) = self.conns.get_mut(idx).filter(|c| c.owes_read()) {
                conn.on_readable(idx, &mut self.ctx);
            }
        }

        self.drain_submissions();
        while self.ctx.lookups > 0 {
            let Ok(r) = self.resolved_rx.try_recv() else { break };
            self.ctx.lookups -= 1;
            if let Some(conn) = self.conns.get_mut(r.conn).filter(|c| c.generation == r.generation)
            {
                conn.on_resolved(r.conn, r, &mut self.ctx);
            }
        }

        self.settle();
        self.flush_dirty();
        self.fire_timers();
        self.settle();
        self.flush_dirty();
    }

    /// Handles up to `DRAIN_PER_TURN` submissions, then pumps each connection they touched.
    fn drain_submissions(&mut self) {
        for _ in 0..DRAIN_PER_TURN {
            match self.rx.try_recv() {
                Ok(s) => self.on_submission(s),
                Err(_) => break,
            }
        }
        // Once per connection, not per command: deliver, schedule the write, arm the timer.
        let mut touched = std::mem::take(&mut self.ctx.touched);
        for idx in touched.drain(..) {
            if let Some(conn) = self.conns.get_mut(idx).filter(|c| c.in_touched) {
                conn.in_touched = false;
                conn.pump(idx, &mut self.ctx);
            }
        }
        self.ctx.touched = touched;
    }

    fn poll_timeout(&self, now: u64) -> Option<Duration> {
        // Submissions left in the queue (more than `DRAIN_PER_TURN`) keep the thread awake
        // through `WakeState::about_to_sleep`.
        if !self.ctx.read_again.is_empty() || !self.ctx.dirty.is_empty() {
            return Some(Duration::ZERO);
        }
        let timer = self.ctx.wheel.next_expiration();
        // A pool with no connection left still sweeps: it replaces what it lost up to `min`.
        let sweep =
            (!self.conns.is_empty() || !self.families.is_empty()).then_some(self.next_sweep);
        let at = [timer, sweep].into_iter().flatten().min()?;
        Some(Duration::from_millis(at.saturating_sub(now)))
    }

    fn flush_dirty(&mut self) {
        let mut dirty = std::mem::take(&mut self.ctx.dirty);
        for &idx in &dirty {
            if let Some(conn) = self.conns.get_mut(idx) {
                conn.flush(idx, &mut self.ctx);
            }
        }
        dirty.clear();
        if self.ctx.dirty.is_empty() {
            self.ctx.dirty = dirty;
        }
    }

    fn fire_timers(&mut self) {
        let now = self.ctx.now;
        while let Some((_, (idx, generation))) = self.ctx.wheel.poll_expired(now) {
            if let Some(conn) = self.conns.get_mut(idx).filter(|c| c.generation == generation) {
                conn.on_timer(idx, &mut self.ctx);
            }
        }
        if now >= self.next_sweep {
            self.next_sweep = now + SWEEP_MS;
            for (idx, conn) in self.conns.iter_mut() {
                conn.on_sweep(idx, &mut self.ctx);
            }
            self.sweep_families();
            self.sweep_subscribers();
        }
    }

    fn lookup(&mut self, id: u64) -> Option<usize> {
        if let Some((last_id, idx)) = self.last {
            if last_id == id {
                return Some(idx);
            }
        }
        let idx = *self.ids.get(&id)?;
        self.last = Some((id, idx));
        Some(idx)
    }

    fn on_submission(&mut self, s: Submission) {
        let now = self.ctx.now;
        match s {
            Submission::Command { id, bytes, reply, meta } => {
                let Some(idx) = self.lookup(id) else {
                    let _ = reply.send(Err(Error::Disconnected(
                        "the connection is gone: its client or pool was closed, or it was given \
                         back (a command sent after its guard was dropped, by a retry policy)"
                            .into(),
                    )));
                    return;
                };
                let conn = &mut self.conns[idx];
                let start = now.saturating_add(meta.delay_ms);
                let deadline = meta.timeout_ms.map(|t| start.saturating_add(t));
                let req = Request::new(bytes, reply, deadline).with(meta.props);
                if meta.delay_ms == 0 {
                    conn.session.submit(req, now);
                } else {
                    conn.session.submit_at(req, start, now);
                }
                if !conn.in_touched {
                    conn.in_touched = true;
                    self.ctx.touched.push(idx);
                }
            }
            Submission::Open(open) => {
                let family = open.id;
                if let Some(cfg) = open.spares {
                    self.families.insert(open.id, Family::new(&open, cfg));
                }
                if open.shared {
                    let Open { id, target, tcp, tls, session, hooks, .. } = *open;
                    let idx = self.insert(id, id, target, tcp, tls, session, hooks);
                    let conn = &mut self.conns[idx];
                    conn.session.start(now);
                    conn.pump(idx, &mut self.ctx);
                }
                self.replenish(family);
            }
            Submission::Spare { family, bytes, reply, meta } => {
                self.on_spare(family, bytes, reply, meta);
            }
            Submission::Lease { family, reply, timeout_ms } => {
                self.on_lease(family, reply, timeout_ms);
            }
            Submission::Release { id } => self.on_release(id),
            Submission::Abandon { family, rx } => self.on_abandon(family, rx),
            Submission::Subscribe { family, sink, new, kind, names, reply, timeout_ms } => {
                self.on_subscribe(family, sink, new, kind, names, reply, timeout_ms);
            }
            Submission::Unsubscribe { family, sink, kind, names, reply, end, timeout_ms } => {
                self.on_unsubscribe(family, sink, kind, names, reply, end, timeout_ms);
            }
            Submission::DropSink { family, sink } => self.on_drop_sink(family, sink),
            Submission::Connect { id, reply } => match self.lookup(id) {
                Some(idx) => self.conns[idx].add_connect_waiter(reply),
                None => {
                    let _ = reply.send(Err(Error::Disconnected("the client was closed".into())));
                }
            },
            Submission::Close { id } => match self.lookup(id) {
                Some(idx) => self.close(idx),
                // A pool has no shared connection: its set closes by its own id.
                None => self.close_family(id),
            },
            Submission::Shutdown => self.running = false,
        }
    }

    /// Registers a connection (not started).
    #[allow(clippy::too_many_arguments)] // the parts of an `Open`, moved in
    fn insert(
        &mut self,
        id: u64,
        family: u64,
        target: ServerAddr,
        tcp: TcpOptions,
        tls: Option<TlsConnector>,
        session: SessionConfig,
        hooks: Option<Arc<Hooks>>,
    ) -> usize {
        let generation = self.next_generation;
        self.next_generation = self.next_generation.wrapping_add(1);
        let session = Session::new(session);
        let mut conn = Conn::new(id, generation, target, tcp, tls, session, hooks);
        conn.family = family;
        let idx = self.conns.insert(conn);
        self.ids.insert(id, idx);
        idx
    }

    fn close(&mut self, idx: usize) {
        if self.conns[idx].role == conn::Role::Shared {
            let id = self.conns[idx].id;
            self.close_family(id);
        }
        let Some(conn) = self.conns.try_remove(idx) else { return };
        let mut conn = conn;
        self.ids.remove(&conn.id);
        if self.last.is_some_and(|(_, i)| i == idx) {
            self.last = None;
        }
        conn.session.close(self.ctx.now);
        conn.pump(idx, &mut self.ctx);
        conn.release(&mut self.ctx);
    }
}
