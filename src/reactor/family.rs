//! A client's dedicated connections on the I/O thread: blocking commands each run alone on
//! one (so `BLPOP k 0` never delays the shared connection), `Client::dedicated` lends one to
//! an owner, and the set's bookkeeping ([`Spares`]) decides which to reuse, open or close.
//! A connection is opened like the client's shared one, in the exclusive mode, without the
//! user's hooks (those describe the shared connection).

use super::conn::Role;
use super::{CommandMeta, IoThread, LeaseTx, Open, ReplyTx, TcpOptions, TlsConnector};
use crate::config::ServerAddr;
use crate::error::Error;
use crate::proto::outbuf::Encoded;
use crate::proto::session::{Mode, Request, SessionConfig};
use crate::proto::spares::{Grant, Spares, SparesConfig};

/// Who waits for a dedicated connection.
pub(super) enum Waiter {
    /// A blocking command, with its absolute deadline.
    Command { bytes: Encoded, reply: ReplyTx, meta: CommandMeta, deadline: Option<u64> },
    /// An owner (`Client::dedicated`).
    Lease(LeaseTx),
}

/// One client's set of dedicated connections.
pub(super) struct Family {
    target: ServerAddr,
    tcp: TcpOptions,
    tls: Option<TlsConnector>,
    session: SessionConfig,
    spares: Spares<Waiter>,
    /// Subscriptions share the shared connection (RESP3).
    pub(super) pubsub_on_shared: bool,
    /// The RESP2 subscriber connection, while one is open.
    pub(super) subscriber: Option<u64>,
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
            spares: Spares::new(cfg),
            pubsub_on_shared: open.pubsub_on_shared,
            subscriber: None,
        }
    }
}

fn closed() -> Error {
    Error::Disconnected("the client was closed".into())
}

impl Family {
    /// What a new connection of this client needs: target, TCP, TLS and session settings.
    pub(super) fn spec(&self) -> (ServerAddr, TcpOptions, Option<TlsConnector>, SessionConfig) {
        (self.target.clone(), self.tcp.clone(), self.tls.clone(), self.session.clone())
    }
}

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
        if let Ok((grant, waiter)) = f.spares.acquire(waiter, deadline) {
            self.assign(family, grant, waiter);
        }
    }

    /// An owner asks for a dedicated connection of client `family`.
    pub(super) fn on_lease(&mut self, family: u64, reply: LeaseTx, timeout_ms: Option<u64>) {
        let deadline = timeout_ms.map(|t| self.ctx.now.saturating_add(t));
        let Some(f) = self.families.get_mut(&family) else {
            let _ = reply.send(Err(closed()));
            return;
        };
        if let Ok((grant, waiter)) = f.spares.acquire(Waiter::Lease(reply), deadline) {
            self.assign(family, grant, waiter);
        }
    }

    /// The owner of dedicated connection `id` let go: it serves the next waiter, or waits
    /// idle, if clean; a dirty one (a transaction open, keys watched, replies outstanding, its
    /// database changed) is closed.
    pub(super) fn on_release(&mut self, id: u64) {
        let Some(idx) = self.lookup(id) else { return };
        let conn = &mut self.conns[idx];
        if conn.role != Role::Lease {
            return;
        }
        let reusable = !conn.session.is_dirty() && conn.session.terminal_error().is_none();
        conn.role = Role::Idle;
        let family = conn.family;
        if !reusable {
            self.close(idx);
        }
        self.released(family, id, reusable);
    }

    /// Hands the connections freed during the turn (blocking commands answered) back to
    /// their sets.
    pub(super) fn settle(&mut self) {
        while let Some(idx) = self.ctx.freed.pop() {
            let Some(conn) = self.conns.get(idx).filter(|c| c.role == Role::Idle) else {
                continue;
            };
            let (id, family) = (conn.id, conn.family);
            let reusable = conn.session.terminal_error().is_none();
            if !reusable {
                self.close(idx);
            }
            self.released(family, id, reusable);
        }
    }

    fn released(&mut self, family: u64, id: u64, reusable: bool) {
        let now = self.ctx.now;
        let Some(f) = self.families.get_mut(&family) else { return };
        if let Some((grant, waiter)) = f.spares.release(id, reusable, now) {
            self.assign(family, grant, waiter);
        }
    }

    /// Runs `waiter` on the connection `grant` names (opening it if new).
    fn assign(&mut self, family: u64, grant: Grant, waiter: Waiter) {
        let now = self.ctx.now;
        // An idle connection is in the set until the sweep closes it, so its id resolves;
        // were it gone, a new one takes its place (its slot in the bound is already counted).
        let idle = match grant {
            Grant::Idle(id) => self.lookup(id),
            Grant::Open => None,
        };
        let idx = match idle {
            Some(idx) => idx,
            None => {
                let Some(f) = self.families.get(&family) else { return fail(waiter, closed()) };
                let (target, tcp, tls, session) =
                    (f.target.clone(), f.tcp.clone(), f.tls.clone(), f.session.clone());
                let id = crate::client::next_id();
                let idx = self.insert(id, family, target, tcp, tls, session, None);
                self.conns[idx].session.start(now);
                idx
            }
        };
        let conn = &mut self.conns[idx];
        match waiter {
            Waiter::Command { bytes, reply, meta, deadline } => {
                conn.role = Role::Command;
                conn.session.submit(Request::new(bytes, reply, deadline).with(meta.props), now);
            }
            Waiter::Lease(reply) => {
                conn.role = Role::Lease;
                if reply.send(Ok(conn.id)).is_err() {
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

    /// The sweep: waiters whose deadline passed fail; idle connections unused for the idle
    /// time are closed.
    pub(super) fn sweep_families(&mut self) {
        let now = self.ctx.now;
        let mut expired = Vec::new();
        let mut idle = Vec::new();
        for f in self.families.values_mut() {
            let max = f.spares.max();
            for w in f.spares.expire(now) {
                expired.push((w, max));
            }
            idle.extend(f.spares.idle_expired(now));
        }
        for (w, max) in expired {
            let e = Error::Timeout {
                message: format!(
                    "timed out waiting for a dedicated connection: all {max} (max_dedicated) are \
                     busy with blocking commands or lent out"
                ),
                maybe_executed: false,
            };
            fail(w, e);
        }
        for id in idle {
            if let Some(idx) = self.lookup(id) {
                self.close(idx);
            }
        }
    }

    /// Client `family` is closed: its idle and busy dedicated connections close, its waiters
    /// fail. (A lent connection cannot outlive its client: the owner's handle keeps it.)
    pub(super) fn close_family(&mut self, family: u64) {
        let Some(mut f) = self.families.remove(&family) else { return };
        let (_idle, waiters) = f.spares.drain();
        for w in waiters {
            fail(w, closed());
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
