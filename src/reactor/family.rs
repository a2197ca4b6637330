//! Pools of exclusive connections on the I/O thread: a `Pool`'s, and a client's set of
//! dedicated connections (blocking commands each run alone on one, so `BLPOP k 0` never
//! delays the shared connection; `Client::dedicated` lends one to an owner). The set's
//! bookkeeping ([`Spares`]) decides which to reuse, open or close; this file carries it out:
//! it opens `min` connections ahead of demand and replaces those destroyed, checks a
//! connection idle longer than `health_check_after` with a PING before lending it, destroys
//! one given back dirty (or cleans it with DISCARD/UNWATCH when asked to), and keeps the
//! pool's figures ([`PoolCounters`]).
//!
//! A connection is opened like the client's shared one, in the exclusive mode; a client's
//! set does without the user's hooks (those describe the shared connection), a pool's
//! connections carry them.

use std::sync::Arc;

use bytes::Bytes;

use super::conn::Role;
use super::TlsConnector;
use super::{CommandMeta, Hooks, IoThread, LeaseRx, LeaseTx, Lent, Open, ReplyTx, TcpOptions};
use crate::config::ServerAddr;
use crate::error::Error;
use crate::oneshot;
use crate::pool::stats::{DestroyReason, PoolCounters};
use crate::proto::outbuf::Encoded;
use crate::proto::session::{DirtyReason, Effect, Mode, Props, Request, SessionConfig};
use crate::proto::spares::{Grant, Spares, SparesConfig};

/// Who waits for a dedicated connection.
pub(super) enum Waiter {
    /// A blocking command, with its absolute deadline.
    Command { bytes: Encoded, reply: ReplyTx, meta: CommandMeta, deadline: Option<u64> },
    /// An owner (`Client::dedicated`, `Pool::acquire`).
    Lease(LeaseTx),
}

/// How a pool treats its connections beyond the bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolPolicy {
    /// An idle connection unused this long (ms) is PINGed before it is lent.
    pub(crate) health_ms: Option<u64>,
    /// The health check's deadline, ms.
    pub(crate) check_ms: u64,
    /// Given back inside MULTI or watching: DISCARD/UNWATCH within this many ms
    /// (`OnDirty::Cleanup`); `None`: destroyed.
    pub(crate) cleanup_ms: Option<u64>,
    /// The option that bounds the set, for error messages: `max` or `max_dedicated`.
    pub(crate) bound: &'static str,
}

/// One set of exclusive connections.
pub(super) struct Family {
    target: ServerAddr,
    tcp: TcpOptions,
    tls: Option<TlsConnector>,
    session: SessionConfig,
    hooks: Option<Arc<Hooks>>,
    spares: Spares<Waiter>,
    policy: PoolPolicy,
    pub(super) counters: Arc<PoolCounters>,
    /// Subscriptions share the shared connection (RESP3).
    pub(super) pubsub_on_shared: bool,
    /// The RESP2 subscriber connection, while one is open.
    pub(super) subscriber: Option<u64>,
}

/// A connection busy with the pool's own commands: a health check before it is lent, or a
/// cleanup after it was given back. Its replies are polled after each turn's work.
pub(super) struct Probe {
    family: u64,
    conn: u64,
    replies: Vec<oneshot::Receiver<Result<Bytes, Error>>>,
    then: Then,
}

enum Then {
    /// A health check: lend it to this waiter if it answered.
    Lend(Waiter),
    /// A cleanup: keep it if it is clean afterwards.
    Keep,
}

impl Family {
    pub(super) fn new(open: &Open, cfg: SparesConfig) -> Self {
        let mut session = open.session.clone();
        session.mode = Mode::Exclusive;
        Family {
            target: open.target.clone(),
            tcp: open.tcp.clone(),
            tls: open.tls.clone(),
            session,
            hooks: if open.shared { None } else { open.hooks.clone() },
            spares: Spares::new(cfg),
            policy: open.policy,
            counters: open.counters.clone(),
            pubsub_on_shared: open.pubsub_on_shared,
            subscriber: None,
        }
    }

    /// What a new connection of this client needs: target, TCP, TLS and session settings.
    pub(super) fn spec(&self) -> (ServerAddr, TcpOptions, Option<TlsConnector>, SessionConfig) {
        (self.target.clone(), self.tcp.clone(), self.tls.clone(), self.session.clone())
    }

    fn publish(&self) {
        self.counters.set_gauges(self.spares.counts());
    }
}

fn closed() -> Error {
    Error::Disconnected("the client was closed".into())
}

const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
const DISCARD: &[u8] = b"*1\r\n$7\r\nDISCARD\r\n";
const UNWATCH: &[u8] = b"*1\r\n$7\r\nUNWATCH\r\n";

impl IoThread {
    /// A blocking command for client `family`: on an idle dedicated connection, a new one,
    /// or in line for the next one given back.
    pub(super) fn on_spare(
        &mut self,
        family: u64,
        bytes: Encoded,
        reply: ReplyTx,
        meta: CommandMeta,
    ) {
        let now = self.ctx.now;
        let deadline = meta.timeout_ms.map(|t| now.saturating_add(t));
        let Some(f) = self.families.get_mut(&family) else {
            let _ = reply.send(Err(closed()));
            return;
        };
        let waiter = Waiter::Command { bytes, reply, meta, deadline };
        let got = f.spares.acquire(waiter, deadline);
        f.publish();
        if let Ok((grant, waiter)) = got {
            self.assign(family, grant, waiter);
        }
    }

    /// An owner asks for a connection of pool `family`.
    pub(super) fn on_lease(&mut self, family: u64, reply: LeaseTx, timeout_ms: Option<u64>) {
        let deadline = timeout_ms.map(|t| self.ctx.now.saturating_add(t));
        let Some(f) = self.families.get_mut(&family) else {
            let _ = reply.send(Err(closed()));
            return;
        };
        let got = f.spares.acquire(Waiter::Lease(reply), deadline);
        f.publish();
        if let Ok((grant, waiter)) = got {
            self.assign(family, grant, waiter);
        }
    }

    /// An `acquire()` was dropped before it got its connection: the one it was lent, if the
    /// answer was sent already, goes back; else it leaves the line. (Its receiver is dropped
    /// here, on the only thread that sends to it, so no answer can be lost in between.)
    pub(super) fn on_abandon(&mut self, family: u64, mut rx: LeaseRx) {
        if let Ok(Ok(lent)) = rx.try_recv() {
            return self.on_release(lent.id);
        }
        drop(rx);
        if let Some(f) = self.families.get_mut(&family) {
            f.spares.retain_waiting(|w| !matches!(w, Waiter::Lease(tx) if tx.is_closed()));
            f.publish();
        }
    }

    /// The owner of connection `id` let go: it serves the next waiter, or waits idle, if
    /// clean; a dirty one (a transaction open, keys watched, replies outstanding, its state
    /// changed, its link failed) is destroyed, or cleaned first if the pool says so.
    pub(super) fn on_release(&mut self, id: u64) {
        let Some(idx) = self.lookup(id) else { return };
        let conn = &mut self.conns[idx];
        if conn.role != Role::Lease {
            return;
        }
        let family = conn.family;
        let reason = dirt(&conn.session);
        let cleanup = self.families.get(&family).and_then(|f| f.policy.cleanup_ms);
        match (reason, cleanup) {
            (None, _) => {
                conn.role = Role::Idle;
                self.released(family, id, true);
            }
            (Some(DirtyReason::Multi | DirtyReason::Watch), Some(ms))
                if conn.session.is_ready() =>
            {
                self.start_cleanup(family, idx, ms);
            }
            (Some(r), _) => self.destroy(family, idx, DestroyReason::Dirty(r)),
        }
    }

    /// Destroys connection `idx` of `family` (counted), freeing its place for a waiter or
    /// a replacement.
    fn destroy(&mut self, family: u64, idx: usize, reason: DestroyReason) {
        let id = self.conns[idx].id;
        if let Some(f) = self.families.get(&family) {
            f.counters.destroyed(reason);
        }
        self.close(idx);
        self.released(family, id, false);
    }

    /// Hands the connections freed during the turn (blocking commands answered) back to
    /// their sets; finishes health checks and cleanups that were answered; destroys idle
    /// connections whose link failed.
    pub(super) fn settle(&mut self) {
        if !self.probes.is_empty() {
            self.poll_probes();
        }
        while let Some((idx, id)) = self.ctx.freed.pop() {
            // A slot closed this turn may hold another connection by now: the id tells.
            let Some(conn) = self.conns.get(idx).filter(|c| c.id == id && c.role == Role::Idle)
            else {
                continue;
            };
            let (id, family) = (conn.id, conn.family);
            match dirt(&conn.session) {
                None => self.released(family, id, true),
                Some(r) => self.destroy(family, idx, DestroyReason::Dirty(r)),
            }
        }
        while let Some((idx, id)) = self.ctx.lost_idle.pop() {
            let Some(conn) = self.conns.get(idx).filter(|c| c.id == id && c.role == Role::Idle)
            else {
                continue;
            };
            let (id, family) = (conn.id, conn.family);
            let Some(f) = self.families.get_mut(&family) else { continue };
            if f.spares.forget(id) {
                // Replaced by the next sweep, not now: a server that drops every connection
                // it accepts gets at most `min` new ones per 100 ms, not a loop at its pace.
                f.counters.destroyed(DestroyReason::LostIdle);
                f.publish();
                self.close(idx);
            }
        }
    }

    fn released(&mut self, family: u64, id: u64, reusable: bool) {
        let now = self.ctx.now;
        let Some(f) = self.families.get_mut(&family) else { return };
        let next = f.spares.release(id, reusable, now);
        f.publish();
        if let Some((grant, waiter)) = next {
            self.assign(family, grant, waiter);
        }
        self.replenish(family);
    }

    /// Opens connections ahead of demand until `min` are open.
    pub(super) fn replenish(&mut self, family: u64) {
        let now = self.ctx.now;
        let Some(f) = self.families.get(&family) else { return };
        let n = f.spares.deficit();
        for _ in 0..n {
            let idx = self.open_member(family);
            let id = self.conns[idx].id;
            self.conns[idx].role = Role::Idle;
            if let Some(f) = self.families.get_mut(&family) {
                f.spares.add_idle(id, now);
            }
        }
        if let Some(f) = self.families.get(&family) {
            f.publish();
        }
    }

    /// Registers and starts a new connection of `family` (the family exists).
    fn open_member(&mut self, family: u64) -> usize {
        let now = self.ctx.now;
        let f = &self.families[&family];
        f.counters.created();
        let (target, tcp, tls, session) = f.spec();
        let hooks = f.hooks.clone();
        let id = crate::client::next_id();
        let idx = self.insert(id, family, target, tcp, tls, session, hooks);
        self.conns[idx].session.start(now);
        self.conns[idx].pump(idx, &mut self.ctx);
        idx
    }

    /// Runs `waiter` on the connection `grant` names: opening it if new, checking it first
    /// if it was idle longer than `health_check_after`.
    fn assign(&mut self, family: u64, grant: Grant, waiter: Waiter) {
        let now = self.ctx.now;
        let Some(f) = self.families.get(&family) else { return fail(waiter, closed()) };
        let policy = f.policy;
        // An idle connection is in the set until it is closed, so its id resolves; were it
        // gone, a new one takes its place (its slot in the bound is already counted).
        let idle = match grant {
            Grant::Idle { id, since } => self.lookup(id).map(|idx| (idx, since)),
            Grant::Open => None,
        };
        let idx = match idle {
            Some((idx, _)) if self.conns[idx].session.terminal_error().is_some() => {
                // It failed for good while idle (a refused handshake, `reconnect(false)`):
                // the waiter gets a new attempt in its place.
                if let Some(f) = self.families.get(&family) {
                    f.counters.destroyed(DestroyReason::LostIdle);
                }
                self.close(idx);
                self.open_member(family)
            }
            Some((idx, since)) => {
                let due = policy.health_ms.is_some_and(|h| now.saturating_sub(since) >= h);
                if due && self.conns[idx].session.is_ready() {
                    return self.start_check(family, idx, policy.check_ms, waiter);
                }
                idx
            }
            None => self.open_member(family),
        };
        self.lend(family, idx, waiter);
    }

    fn lend(&mut self, family: u64, idx: usize, waiter: Waiter) {
        let now = self.ctx.now;
        if let Waiter::Lease(_) = waiter {
            self.new_loan_id(idx);
        }
        let conn = &mut self.conns[idx];
        conn.session.new_owner();
        match waiter {
            Waiter::Command { bytes, reply, meta, deadline } => {
                conn.role = Role::Command;
                conn.session.submit(Request::new(bytes, reply, deadline).with(meta.props), now);
            }
            Waiter::Lease(reply) => {
                conn.role = Role::Lease;
                let lent = Lent { id: conn.id, ready: conn.session.is_ready() };
                if reply.send(Ok(lent)).is_err() {
                    // The caller gave up waiting: the connection is free again.
                    conn.role = Role::Idle;
                    let id = conn.id;
                    conn.pump(idx, &mut self.ctx);
                    return self.released(family, id, true);
                }
            }
        }
        conn.pump(idx, &mut self.ctx);
    }

    /// Gives connection `idx` a new id for a new loan: whatever still holds the last owner's
    /// id (a resend its retry policy sends later, a stray release) no longer reaches it.
    fn new_loan_id(&mut self, idx: usize) {
        let id = crate::client::next_id();
        let old = std::mem::replace(&mut self.conns[idx].id, id);
        self.ids.remove(&old);
        self.ids.insert(id, idx);
        if self.last.is_some_and(|(last, _)| last == old) {
            self.last = None;
        }
    }

    /// Sends the pool's own commands on `idx` and watches for their replies.
    fn probe(&mut self, family: u64, idx: usize, commands: &[(&'static [u8], Effect)], ms: u64) {
        let now = self.ctx.now;
        let conn = &mut self.conns[idx];
        conn.role = Role::Probe;
        let deadline = Some(now.saturating_add(ms));
        let mut replies = Vec::with_capacity(commands.len());
        for &(bytes, effect) in commands {
            let (tx, rx) = oneshot::channel();
            let props = Props { effect, ..Props::default() };
            let bytes = Encoded::from(Bytes::from_static(bytes));
            conn.session.submit(Request::new(bytes, tx, deadline).with(props), now);
            replies.push(rx);
        }
        conn.pump(idx, &mut self.ctx);
        self.probes.push(Probe { family, conn: self.conns[idx].id, replies, then: Then::Keep });
    }

    fn start_check(&mut self, family: u64, idx: usize, ms: u64, waiter: Waiter) {
        self.probe(family, idx, &[(PING, Effect::None)], ms);
        if let Some(p) = self.probes.last_mut() {
            p.then = Then::Lend(waiter);
        }
    }

    fn start_cleanup(&mut self, family: u64, idx: usize, ms: u64) {
        // DISCARD ends MULTI and forgets the WATCHes with it; UNWATCH when only watching.
        let multi = dirt(&self.conns[idx].session) == Some(DirtyReason::Multi);
        let command = if multi { (DISCARD, Effect::Discard) } else { (UNWATCH, Effect::Unwatch) };
        self.probe(family, idx, &[command], ms);
    }

    /// Finishes the probes whose replies all came (or failed).
    fn poll_probes(&mut self) {
        let mut i = 0;
        while i < self.probes.len() {
            if self.probes[i].replies.iter().all(|rx| rx.is_ready()) {
                let p = self.probes.swap_remove(i);
                self.finish_probe(p);
            } else {
                i += 1;
            }
        }
    }

    fn finish_probe(&mut self, p: Probe) {
        let Probe { family, conn, mut replies, then } = p;
        let ok = replies.iter_mut().all(|rx| matches!(rx.try_recv(), Ok(Ok(_))));
        let idx = self.lookup(conn).filter(|&idx| self.conns[idx].role == Role::Probe);
        let Some(idx) = idx else {
            // Closed meanwhile (its pool was closed).
            if let Then::Lend(w) = then {
                fail(w, closed());
            }
            return;
        };
        match then {
            Then::Lend(waiter) if ok => self.lend(family, idx, waiter),
            Then::Lend(waiter) => {
                // It failed the check: destroyed, and the waiter gets a new connection in
                // its place (the place in the bound is the waiter's already).
                if let Some(f) = self.families.get(&family) {
                    f.counters.health_check_failed();
                    f.counters.destroyed(DestroyReason::HealthCheck);
                }
                self.close(idx);
                let idx = self.open_member(family);
                self.lend(family, idx, waiter);
            }
            Then::Keep => match (ok, dirt(&self.conns[idx].session)) {
                (true, None) => {
                    if let Some(f) = self.families.get(&family) {
                        f.counters.cleaned();
                    }
                    self.conns[idx].role = Role::Idle;
                    self.released(family, conn, true);
                }
                (true, Some(r)) => self.destroy(family, idx, DestroyReason::Dirty(r)),
                (false, _) => self.destroy(family, idx, DestroyReason::CleanupFailed),
            },
        }
    }

    /// The sweep: waiters whose deadline passed fail; idle connections unused for the idle
    /// time are closed (down to `min`).
    pub(super) fn sweep_families(&mut self) {
        let now = self.ctx.now;
        let mut expired = Vec::new();
        let mut idle = Vec::new();
        for f in self.families.values_mut() {
            let max = f.spares.max();
            for w in f.spares.expire(now) {
                f.counters.acquire_timeout();
                expired.push((w, max, f.policy.bound));
            }
            for id in f.spares.idle_expired(now) {
                f.counters.destroyed(DestroyReason::Idle);
                idle.push(id);
            }
            if !expired.is_empty() || !idle.is_empty() {
                f.publish();
            }
        }
        for (w, max, bound) in expired {
            let message = if bound == "max" {
                format!(
                    "timed out waiting for a pooled connection: all {max} (max) are lent out \
                     (raise max or acquire_timeout, or give connections back sooner)"
                )
            } else {
                format!(
                    "timed out waiting for a dedicated connection: all {max} (max_dedicated) \
                     are busy with blocking commands or lent out"
                )
            };
            let e = Error::Timeout { message, maybe_executed: false };
            fail(w, e);
        }
        for id in idle {
            if let Some(idx) = self.lookup(id) {
                self.close(idx);
            }
        }
        // Connections destroyed since the last sweep without a waiter to replace them.
        let below_min: Vec<u64> =
            self.families.iter().filter(|(_, f)| f.spares.deficit() > 0).map(|(&k, _)| k).collect();
        for family in below_min {
            self.replenish(family);
        }
    }

    /// Pool or client `family` is closed: its idle and busy connections close, its waiters
    /// fail. (A lent connection cannot outlive its pool: the owner's handle keeps it.)
    pub(super) fn close_family(&mut self, family: u64) {
        let Some(mut f) = self.families.remove(&family) else { return };
        let (_idle, waiters) = f.spares.drain();
        f.counters.set_gauges((0, 0, 0));
        for w in waiters {
            fail(w, closed());
        }
        let mut i = 0;
        while i < self.probes.len() {
            if self.probes[i].family == family {
                if let Then::Lend(w) = self.probes.swap_remove(i).then {
                    fail(w, closed());
                }
            } else {
                i += 1;
            }
        }
        let members: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, c)| c.family == family && c.role != Role::Shared)
            .map(|(idx, _)| idx)
            .collect();
        for idx in members {
            self.close(idx);
        }
    }
}

/// Why a connection may not be reused: its session's reason, or a terminal failure.
fn dirt(session: &crate::proto::session::Session<ReplyTx>) -> Option<DirtyReason> {
    session.dirty_reason().or_else(|| session.terminal_error().map(|_| DirtyReason::Lost))
}

fn fail(w: Waiter, e: Error) {
    match w {
        Waiter::Command { reply, .. } => {
            let _ = reply.send(Err(e));
        }
        Waiter::Lease(reply) => {
            let _ = reply.send(Err(e));
        }
    }
}
