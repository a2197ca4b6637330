//! One connection as the I/O thread drives it: its transport, its read buffer, its timer,
//! and the sans-IO session that decides everything else.

use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use crossbeam_channel::Sender;
use mio::Registry;

use super::io::{self, Stream, TcpOptions};
use super::notify::{Hooks, Notice, Notifier};
use super::resolve::{self, Resolved};
use super::tls::{self, HandshakeError, TlsConnector};
use super::token;
use super::IdHasher;
use crate::config::ServerAddr;
use crate::error::Error;
use crate::oneshot;
use crate::proto::session::{Event, Session};
use crate::pubsub::{Delivered, Delivery, SinkTx};
use crate::timer::{TimerKey, Wheel};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// Where a reply (or a failure) travels to its caller.
pub(crate) type ReplyTx = oneshot::Sender<Result<Bytes, Error>>;

/// The reply a `connect()` waiter gets once the handshake is done.
pub(crate) const CONNECTED: &[u8] = b"+OK\r\n";

/// How much one connection may read in one turn before others get their share.
const READ_BUDGET: usize = 4 * 1024 * 1024;
/// A read buffer larger than this is dropped once empty, so memory returns to a steady size.
const KEEP_BUFFER: usize = 256 * 1024;
/// Slices handed to one vectored write (Linux's `UIO_MAXIOV`).
const IOV_MAX: usize = 1024;

/// An empty slice list reusing `v`'s storage, for any lifetime: the in-place collect of an
/// emptied `Vec` keeps its allocation (`IoSlice`s of any lifetime have the same layout).
fn recycle<'b>(mut v: Vec<IoSlice<'_>>) -> Vec<IoSlice<'b>> {
    v.clear();
    v.into_iter().map(|_| IoSlice::new(&[])).collect()
}

#[derive(Debug)]
enum Link {
    Down,
    Resolving,
    Connecting { stream: Stream, addr: String, rest: Vec<SocketAddr> },
    // TCP is up and the TLS handshake runs; the session still sees a connect in progress.
    Securing(Stream),
    Up(Stream),
}

/// The I/O thread's shared tools, borrowed by every connection operation.
pub(crate) struct Ctx {
    pub(crate) registry: Registry,
    pub(crate) wheel: Wheel<(usize, u32)>,
    pub(crate) now: u64,
    pub(crate) resolved_tx: Sender<Resolved>,
    pub(crate) waker: Arc<mio::Waker>,
    /// Connections with bytes to write this turn.
    pub(crate) dirty: Vec<usize>,
    /// Connections that stopped reading on their budget and must read again.
    pub(crate) read_again: Vec<usize>,
    /// Connections that were handed commands this turn and are pumped once after them.
    pub(crate) touched: Vec<usize>,
    /// Where the users' callbacks are sent to run.
    pub(crate) notifier: Notifier,
    /// Resolver threads started and not yet answered (each sends exactly one `Resolved`):
    /// the resolver channel is polled only while this is not zero.
    pub(crate) lookups: usize,
    /// Storage for the slice list of one vectored write, reused by every flush.
    pub(crate) iov: Vec<IoSlice<'static>>,
    /// Dedicated connections that finished the blocking command they were lent for: given
    /// back to their client's set once the turn's work is done.
    /// (slot, connection id): the id tells a slot reused since from the connection that
    /// was freed.
    pub(crate) freed: Vec<(usize, u64)>,
    /// Idle pooled connections whose link failed: destroyed (and replaced) once the turn's
    /// work is done.
    pub(crate) lost_idle: Vec<(usize, u64)>,
}

/// What a connection is to its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The client's shared, multiplexed connection.
    Shared,
    /// A dedicated connection in the client's set, unused.
    Idle,
    /// A dedicated connection running one blocking command: back to the set when answered.
    Command,
    /// A dedicated connection lent to one owner (`Client::dedicated`) until given back.
    Lease,
    /// A pooled connection running the pool's own commands: a health check before it is
    /// lent, DISCARD/UNWATCH after it was given back.
    Probe,
    /// The client's RESP2 subscriber connection, carrying all its subscriptions.
    Subscriber,
}

/// A connection slot.
pub(crate) struct Conn {
    pub(crate) id: u64,
    pub(crate) generation: u32,
    target: ServerAddr,
    tcp: TcpOptions,
    /// TLS on top of every TCP connection, when configured.
    tls: Option<TlsConnector>,
    pub(crate) session: Session<ReplyTx>,
    link: Link,
    read_buf: BytesMut,
    /// The armed wheel entry and its time.
    timer: Option<(TimerKey, u64)>,
    connect_waiters: Vec<ReplyTx>,
    hooks: Option<Arc<Hooks>>,
    attempt: u64,
    in_dirty: bool,
    in_read_again: bool,
    /// Listed in `Ctx::touched`: commands were submitted and `pump` has not run since.
    pub(crate) in_touched: bool,
    /// The last event said the peer closed its side: read to the end.
    drain_fully: bool,
    /// A resolver thread is looking the host up.
    resolving: bool,
    /// What it is to its client.
    pub(crate) role: Role,
    /// The id of its client's shared connection (its own id for that one).
    pub(crate) family: u64,
    /// The subscriptions whose messages this connection carries, by sink id.
    pub(crate) sinks: HashMap<u64, SinkTx, BuildHasherDefault<IdHasher>>,
    /// Sinks delivered to since they were last woken (woken once per pump).
    woken: Vec<u64>,
}

impl Conn {
    pub(crate) fn new(
        id: u64,
        generation: u32,
        target: ServerAddr,
        tcp: TcpOptions,
        tls: Option<TlsConnector>,
        session: Session<ReplyTx>,
        hooks: Option<Arc<Hooks>>,
    ) -> Self {
        Conn {
            id,
            generation,
            target,
            tcp,
            tls,
            session,
            link: Link::Down,
            read_buf: BytesMut::new(),
            timer: None,
            connect_waiters: Vec::new(),
            hooks,
            attempt: 0,
            in_dirty: false,
            in_read_again: false,
            in_touched: false,
            drain_fully: false,
            resolving: false,
            role: Role::Shared,
            family: id,
            sinks: HashMap::default(),
            woken: Vec::new(),
        }
    }

    /// A `connect()` caller: answered now if the outcome is known, else on the next one.
    pub(crate) fn add_connect_waiter(&mut self, tx: ReplyTx) {
        if self.session.is_ready() {
            let _ = tx.send(Ok(Bytes::from_static(CONNECTED)));
        } else if let Some(e) = self.session.terminal_error() {
            let _ = tx.send(Err(e.clone()));
        } else {
            self.connect_waiters.push(tx);
        }
    }

    /// Delivers what the session produced and carries out what it asked for; then arms the
    /// timer and schedules a write if there are bytes to send.
    pub(crate) fn pump(&mut self, idx: usize, ctx: &mut Ctx) {
        while let Some(ev) = self.session.poll_event() {
            match ev {
                Event::Reply(tx, result) => {
                    let _ = tx.send(result);
                }
                Event::Connect => self.start_connect(idx, ctx),
                Event::Disconnect => self.drop_link(ctx),
                Event::Ready { server_version } => {
                    for tx in self.connect_waiters.drain(..) {
                        let _ = tx.send(Ok(Bytes::from_static(CONNECTED)));
                    }
                    if let Some(hooks) = &self.hooks {
                        ctx.notifier.send(Notice::Connected(hooks.clone(), server_version));
                    }
                }
                Event::ConnectFailed(e) => {
                    for tx in self.connect_waiters.drain(..) {
                        let _ = tx.send(Err(e.clone()));
                    }
                    if let Some(hooks) = &self.hooks {
                        ctx.notifier.send(Notice::Failed(hooks.clone(), e));
                    }
                }
                Event::Lost(reason, e) => {
                    if self.role == Role::Idle {
                        ctx.lost_idle.push((idx, self.id));
                    }
                    if let Some(hooks) = &self.hooks {
                        ctx.notifier.send(Notice::Disconnected(hooks.clone(), reason));
                        ctx.notifier.send(Notice::Failed(hooks.clone(), e));
                    }
                }
                Event::Message(sink, frame) => self.deliver(sink, frame, ctx.now),
                Event::Resubscribed(sink) => {
                    if let Some(s) = self.sinks.get_mut(&sink) {
                        if s.notify(Delivery::Resubscribed) == Delivered::Queued {
                            self.woken.push(sink);
                        }
                    }
                }
                Event::SinkEnd(sink, e) => {
                    if let Some(mut s) = self.sinks.remove(&sink) {
                        s.end(Some(e));
                    }
                }
                // Not pub/sub (a client-side caching invalidation): nothing consumes these
                // yet, so they are dropped here without disturbing the replies.
                Event::Push(_) => {}
            }
        }
        for sink in self.woken.drain(..) {
            if let Some(s) = self.sinks.get_mut(&sink) {
                s.wake();
            }
        }
        if !self.sinks.is_empty() {
            if let Some(e) = self.session.terminal_error() {
                // The session failed or closed for good: no message will come again.
                let e = e.clone();
                for (_, mut s) in self.sinks.drain() {
                    s.end(Some(e.clone()));
                }
            }
        }
        if self.role == Role::Command && !self.session.is_dirty() {
            // Its command was answered: the connection can serve the next one.
            self.role = Role::Idle;
            ctx.freed.push((idx, self.id));
        }
        if !self.session.out().is_empty() && matches!(self.link, Link::Up(_)) && !self.in_dirty {
            self.in_dirty = true;
            ctx.dirty.push(idx);
        }
        self.rearm(idx, ctx);
    }

    fn rearm(&mut self, idx: usize, ctx: &mut Ctx) {
        let Some(want) = self.session.poll_timeout() else { return };
        // Lazy: an armed timer that fires no later than needed stays; when it fires early the
        // session simply has nothing due and the timer is armed again.
        if let Some((key, at)) = self.timer {
            if at <= want {
                return;
            }
            ctx.wheel.cancel(key);
        }
        let key = ctx.wheel.insert(want, (idx, self.generation));
        self.timer = Some((key, want));
    }

    /// The wheel fired this connection's timer.
    pub(crate) fn on_timer(&mut self, idx: usize, ctx: &mut Ctx) {
        self.timer = None;
        self.session.handle_timeout(ctx.now);
        self.pump(idx, ctx);
    }

    /// The 100 ms sweep: read/write stall checks.
    pub(crate) fn on_sweep(&mut self, idx: usize, ctx: &mut Ctx) {
        if self.session.in_flight() > 0 {
            self.session.handle_sweep(ctx.now);
            self.pump(idx, ctx);
        } else {
            self.session.release_idle_memory();
        }
    }

    /// Readiness reported by mio for this connection.
    pub(crate) fn on_event(
        &mut self,
        idx: usize,
        readable: bool,
        read_closed: bool,
        writable: bool,
        ctx: &mut Ctx,
    ) {
        if let Link::Connecting { .. } = self.link {
            self.on_connect_progress(idx, ctx);
        }
        if let Link::Securing(_) = self.link {
            self.on_tls_progress(idx, ctx);
        }
        if !matches!(self.link, Link::Up(_)) {
            return;
        }
        if readable || read_closed {
            // After the peer's FIN, read until the end whatever a short read suggests.
            self.drain_fully = read_closed;
            self.on_readable(idx, ctx);
        }
        if writable {
            self.flush(idx, ctx);
        }
    }

    /// Reads until the socket would block (or the turn's budget is spent), feeding the session.
    pub(crate) fn on_readable(&mut self, idx: usize, ctx: &mut Ctx) {
        self.in_read_again = false;
        let mut budget = READ_BUDGET;
        loop {
            let Link::Up(stream) = &mut self.link else { return };
            let hint = self.session.input_needed().saturating_sub(self.read_buf.len());
            match io::read_once(stream, &mut self.read_buf, hint) {
                Ok((0, _)) => {
                    let e = Error::connection("the server closed the connection");
                    self.session.handle_closed(e, true, ctx.now);
                    self.drop_link(ctx);
                    self.pump(idx, ctx);
                    return;
                }
                Ok((n, drained)) => {
                    self.session.handle_input(&mut self.read_buf, ctx.now);
                    if self.read_buf.is_empty() && self.read_buf.capacity() > KEEP_BUFFER {
                        self.read_buf = BytesMut::new();
                    }
                    self.pump(idx, ctx);
                    if drained && !self.drain_fully {
                        // Edge-triggered: more data will raise a new event; a read now would
                        // only return WouldBlock (one syscall saved per event).
                        return;
                    }
                    budget = budget.saturating_sub(n);
                    if budget == 0 {
                        // Edge-triggered: nobody will tell us again, so remember to come back.
                        self.in_read_again = true;
                        ctx.read_again.push(idx);
                        return;
                    }
                }
                Err(e) if io::would_block(&e) => return,
                Err(e) => {
                    match tls::refusal(&e) {
                        Some(refused) => self.session.handle_connect_refused(refused, ctx.now),
                        None => {
                            self.session.handle_closed(Error::io("read failed", e), false, ctx.now)
                        }
                    }
                    self.drop_link(ctx);
                    self.pump(idx, ctx);
                    return;
                }
            }
        }
    }

    /// True if a read was cut short by the budget and is still owed.
    pub(crate) fn owes_read(&self) -> bool {
        self.in_read_again
    }

    /// Writes until everything is out or the socket would block.
    pub(crate) fn flush(&mut self, idx: usize, ctx: &mut Ctx) {
        self.in_dirty = false;
        loop {
            let Link::Up(stream) = &mut self.link else { return };
            if self.session.out().is_empty() {
                // Nothing new; TLS may still hold records that did not fit in the socket.
                match stream.flush_buffered() {
                    Ok(()) => return,
                    Err(e) if io::would_block(&e) => return,
                    Err(e) if io::interrupted(&e) => continue,
                    Err(e) => {
                        self.session.handle_closed(Error::io("write failed", e), false, ctx.now);
                        self.drop_link(ctx);
                        self.pump(idx, ctx);
                        return;
                    }
                }
            }
            // The slice list's storage is kept in `ctx.iov` between flushes: no allocation,
            // and no 16 KB array to initialise per write.
            let mut iov = recycle(std::mem::take(&mut ctx.iov));
            let offered = self.session.out().slices(&mut iov, IOV_MAX);
            let result = stream.write_vectored(&iov);
            ctx.iov = recycle(iov);
            match result {
                Ok(0) => {
                    let e = Error::connection("the connection accepted no more bytes");
                    self.session.handle_closed(e, false, ctx.now);
                    self.drop_link(ctx);
                    self.pump(idx, ctx);
                    return;
                }
                Ok(k) => {
                    let plain = stream.is_plain();
                    self.session.handle_written(k, ctx.now);
                    if plain && k < offered {
                        // The socket took less than offered: it is full, and a writable event
                        // will say when it has room (one syscall saved).
                        return;
                    }
                }
                Err(e) if io::would_block(&e) => return,
                Err(e) if io::interrupted(&e) => {}
                Err(e) => {
                    self.session.handle_closed(Error::io("write failed", e), false, ctx.now);
                    self.drop_link(ctx);
                    self.pump(idx, ctx);
                    return;
                }
            }
        }
    }

    fn start_connect(&mut self, idx: usize, ctx: &mut Ctx) {
        self.drop_link(ctx);
        self.attempt += 1;
        match self.target.clone() {
            ServerAddr::Unix(path) => match Stream::connect_unix(&path) {
                Ok(stream) => {
                    self.register_connecting(idx, stream, self.target.to_string(), Vec::new(), ctx)
                }
                Err(e) => {
                    let what = format!("connect to {}", self.target);
                    self.session.handle_connect_failed(Error::io(&what, e), ctx.now);
                }
            },
            ServerAddr::Tcp { host, port } => match resolve::literal(&host, port) {
                Some(addrs) => self.connect_addrs(idx, addrs, ctx),
                None => {
                    self.link = Link::Resolving;
                    // A lookup still running (a hanging DNS server outlived the last connect
                    // timeout) answers this attempt too: no second thread piles up behind it.
                    if !self.resolving {
                        self.resolving = true;
                        ctx.lookups += 1;
                        resolve::spawn(
                            host,
                            port,
                            idx,
                            self.generation,
                            self.attempt,
                            ctx.resolved_tx.clone(),
                            ctx.waker.clone(),
                        );
                    }
                }
            },
        }
    }

    /// The resolver answered for this connection.
    pub(crate) fn on_resolved(&mut self, idx: usize, r: Resolved, ctx: &mut Ctx) {
        self.resolving = false;
        // An older attempt's answer serves the current one as well, if it is still resolving.
        if r.attempt > self.attempt || !matches!(self.link, Link::Resolving) {
            return;
        }
        self.link = Link::Down;
        match r.result {
            Ok(addrs) => self.connect_addrs(idx, addrs, ctx),
            Err(e) => {
                let what = format!("resolve {}", self.target);
                self.session.handle_connect_failed(Error::io(&what, e), ctx.now);
            }
        }
        self.pump(idx, ctx);
    }

    /// Tries the addresses in order until one starts connecting.
    fn connect_addrs(&mut self, idx: usize, addrs: Vec<SocketAddr>, ctx: &mut Ctx) {
        let mut addrs = addrs.into_iter();
        let mut last_err = None;
        while let Some(addr) = addrs.next() {
            match Stream::connect_tcp(addr, &self.tcp) {
                Ok(stream) => {
                    self.register_connecting(idx, stream, addr.to_string(), addrs.collect(), ctx);
                    return;
                }
                Err(e) => last_err = Some(Error::io(&format!("connect to {addr}"), e)),
            }
        }
        let e = last_err
            .unwrap_or_else(|| Error::connection(format!("{} has no address", self.target)));
        self.session.handle_connect_failed(e, ctx.now);
    }

    fn register_connecting(
        &mut self,
        idx: usize,
        mut stream: Stream,
        addr: String,
        rest: Vec<SocketAddr>,
        ctx: &mut Ctx,
    ) {
        match stream.register(&ctx.registry, token::encode(idx, self.generation)) {
            Ok(()) => self.link = Link::Connecting { stream, addr, rest },
            Err(e) => {
                self.session.handle_connect_failed(Error::io("register with the poll", e), ctx.now)
            }
        }
    }

    fn on_connect_progress(&mut self, idx: usize, ctx: &mut Ctx) {
        let Link::Connecting { stream, .. } = &self.link else { return };
        match stream.finish_connect() {
            Ok(false) => {}
            Ok(true) => {
                let Link::Connecting { stream, .. } = std::mem::replace(&mut self.link, Link::Down)
                else {
                    return;
                };
                self.read_buf.clear();
                let Some(tls) = &self.tls else {
                    self.link = Link::Up(stream);
                    self.session.handle_connected(ctx.now);
                    self.pump(idx, ctx);
                    return;
                };
                // The caller (`on_event`) drives the TLS handshake next.
                match stream.start_tls(tls) {
                    Ok(stream) => self.link = Link::Securing(stream),
                    Err((mut stream, e)) => {
                        stream.deregister(&ctx.registry);
                        self.session.handle_connect_refused(e, ctx.now);
                        self.pump(idx, ctx);
                    }
                }
            }
            Err(e) => {
                let Link::Connecting { mut stream, addr, rest } =
                    std::mem::replace(&mut self.link, Link::Down)
                else {
                    return;
                };
                stream.deregister(&ctx.registry);
                drop(stream);
                if rest.is_empty() {
                    self.session.handle_connect_failed(
                        Error::io(&format!("connect to {addr}"), e),
                        ctx.now,
                    );
                } else {
                    self.connect_addrs(idx, rest, ctx);
                }
                self.pump(idx, ctx);
            }
        }
    }

    /// One step of the TLS handshake; once it is over the session starts its own handshake.
    /// A refused certificate fails the session for good; anything else is retried.
    fn on_tls_progress(&mut self, idx: usize, ctx: &mut Ctx) {
        let Link::Securing(stream) = &mut self.link else { return };
        match stream.tls_handshake() {
            Ok(false) => {}
            Ok(true) => {
                let Link::Securing(stream) = std::mem::replace(&mut self.link, Link::Down) else {
                    return;
                };
                self.link = Link::Up(stream);
                self.session.handle_connected(ctx.now);
                self.pump(idx, ctx);
            }
            Err(HandshakeError { error, permanent }) => {
                self.drop_link(ctx);
                match permanent {
                    true => self.session.handle_connect_refused(error, ctx.now),
                    false => self.session.handle_connect_failed(error, ctx.now),
                }
                self.pump(idx, ctx);
            }
        }
    }

    /// Closes the transport, if any.
    pub(crate) fn drop_link(&mut self, ctx: &mut Ctx) {
        match std::mem::replace(&mut self.link, Link::Down) {
            Link::Connecting { mut stream, .. }
            | Link::Securing(mut stream)
            | Link::Up(mut stream) => stream.deregister(&ctx.registry),
            Link::Down | Link::Resolving => {}
        }
        self.read_buf = BytesMut::new();
    }

    /// Hands a message frame to sink `sink`; a sink whose consumer is gone, or that its
    /// bound ended, is unsubscribed.
    fn deliver(&mut self, sink: u64, frame: Bytes, now: u64) {
        let Some(s) = self.sinks.get_mut(&sink) else { return };
        let first = !s.wake_pending;
        match s.deliver(frame) {
            Delivered::Queued => {
                if first {
                    self.woken.push(sink);
                }
            }
            Delivered::Ended | Delivered::Gone => {
                self.sinks.remove(&sink);
                self.session.drop_sink(sink, now);
            }
        }
    }

    /// Cancels the timer before the slot is freed.
    pub(crate) fn release(&mut self, ctx: &mut Ctx) {
        for (_, mut s) in self.sinks.drain() {
            s.end(Some(Error::Disconnected("the client was closed".into())));
        }
        if let Some((key, _)) = self.timer.take() {
            ctx.wheel.cancel(key);
        }
        self.drop_link(ctx);
    }
}
