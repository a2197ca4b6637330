//! Pub/sub on the I/O thread: which connection of a client carries its subscriptions (the
//! shared one with RESP3; with RESP2 a subscriber connection opened beside it on the first
//! subscribe and closed by the sweep once no subscription is left), and the submissions
//! that subscribe, unsubscribe and drop a subscription's sink there.

use bytes::Bytes;

use super::conn::Role;
use super::{IoThread, ReplyTx};
use crate::error::Error;
use crate::proto::pubsub::Kind;
use crate::proto::session::Mode;
use crate::pubsub::SinkTx;

fn closed() -> Error {
    Error::Disconnected("the client was closed".into())
}

impl IoThread {
    /// The connection that carries client `family`'s subscriptions, opened if `open` and
    /// there is none yet.
    fn pubsub_conn(&mut self, family: u64, open: bool) -> Option<usize> {
        let f = self.families.get(&family)?;
        if f.pubsub_on_shared {
            return self.lookup(family);
        }
        let current = f.subscriber;
        if let Some(idx) = current.and_then(|id| self.lookup(id)) {
            return Some(idx);
        }
        let f = self.families.get(&family)?;
        if !open {
            return None;
        }
        let (target, tcp, tls, mut session) = f.spec();
        session.mode = Mode::Subscriber;
        let id = crate::client::next_id();
        if let Some(f) = self.families.get_mut(&family) {
            f.subscriber = Some(id);
        }
        let idx = self.insert(id, family, target, tcp, tls, session, None);
        self.conns[idx].role = Role::Subscriber;
        self.conns[idx].session.start(self.ctx.now);
        Some(idx)
    }

    #[allow(clippy::too_many_arguments)] // the parts of a `Submission::Subscribe`, moved in
    pub(super) fn on_subscribe(
        &mut self,
        family: u64,
        sink: u64,
        new: Option<Box<SinkTx>>,
        kind: Kind,
        names: Vec<Bytes>,
        reply: ReplyTx,
        timeout_ms: Option<u64>,
    ) {
        let now = self.ctx.now;
        let Some(idx) = self.pubsub_conn(family, true) else {
            let _ = reply.send(Err(closed()));
            return;
        };
        let conn = &mut self.conns[idx];
        match new {
            Some(new) => {
                conn.sinks.insert(sink, *new);
            }
            None if !conn.sinks.contains_key(&sink) => {
                let e = Error::Usage("the subscription has ended: subscribe again".into());
                let _ = reply.send(Err(e));
                return;
            }
            None => {}
        }
        let deadline = timeout_ms.map(|t| now.saturating_add(t));
        conn.session.subscribe(sink, kind, &names, reply, deadline, now);
        conn.pump(idx, &mut self.ctx);
    }

    #[allow(clippy::too_many_arguments)] // the parts of a `Submission::Unsubscribe`, moved in
    pub(super) fn on_unsubscribe(
        &mut self,
        family: u64,
        sink: u64,
        kind: Kind,
        names: Option<Vec<Bytes>>,
        reply: ReplyTx,
        end: bool,
        timeout_ms: Option<u64>,
    ) {
        let now = self.ctx.now;
        let Some(idx) = self.pubsub_conn(family, false) else {
            // No subscriber connection: nothing is subscribed.
            let _ = reply.send(Ok(Bytes::from_static(b"+OK\r\n")));
            return;
        };
        let conn = &mut self.conns[idx];
        let deadline = timeout_ms.map(|t| now.saturating_add(t));
        conn.session.unsubscribe(sink, kind, names.as_deref(), Some(reply), deadline, now);
        if end {
            if let Some(mut s) = conn.sinks.remove(&sink) {
                s.end(None);
            }
        }
        conn.pump(idx, &mut self.ctx);
    }

    pub(super) fn on_drop_sink(&mut self, family: u64, sink: u64) {
        let now = self.ctx.now;
        let Some(idx) = self.pubsub_conn(family, false) else { return };
        let conn = &mut self.conns[idx];
        conn.sinks.remove(&sink);
        conn.session.drop_sink(sink, now);
        conn.pump(idx, &mut self.ctx);
    }

    /// The sweep: a RESP2 subscriber connection with no subscription left and nothing in
    /// flight is closed (the next subscribe opens another).
    pub(super) fn sweep_subscribers(&mut self) {
        let mut unused = Vec::new();
        for f in self.families.values_mut() {
            let Some(id) = f.subscriber else { continue };
            match self.ids.get(&id).and_then(|&idx| self.conns.get(idx)) {
                Some(c) if !c.sinks.is_empty() || c.session.in_flight() > 0 => {}
                Some(_) => {
                    f.subscriber = None;
                    unused.push(id);
                }
                None => f.subscriber = None,
            }
        }
        for id in unused {
            if let Some(idx) = self.lookup(id) {
                self.close(idx);
            }
        }
    }
}
