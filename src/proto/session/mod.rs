//! The protocol state of one logical connection, across reconnects: setup steps (the
//! handshake and what layers add to it), in-flight FIFO, offline queue, deadlines, resend
//! policies, groups, the exclusive mode's transaction state, and backoff. Sans-IO: bytes and
//! time in, bytes, timers and completions out.
//!
//! One responsibility per file: this one holds the state and the calls that move it; the
//! requests and their policies are in `request.rs`, reading replies in `input.rs`, deadlines
//! and stall checks in `timeouts.rs`, what a loss does in `recovery.rs`, the exclusive
//! mode's transaction state in `mode.rs`.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use super::backoff::Backoff;
use super::handshake::Handshake;
use super::inflight::Fifo;
use super::outbuf::OutBuf;
use crate::config::DisconnectReason;
use crate::error::Error;
use crate::proto::pubsub::Registry;
use crate::resp::{Decoder, Limits};

mod input;
mod mode;
#[cfg(test)]
mod mode_tests;
mod pubsub;
#[cfg(test)]
mod pubsub_tests;
mod recovery;
mod request;
#[cfg(test)]
mod tests;
mod timeouts;

use mode::TxState;
pub(crate) use mode::{DirtyReason, Mode};
use request::{if_ran, Parked, Slot, Waiting};
pub(crate) use request::{Effect, Props, Request, Resend};

/// Settings of a session, in milliseconds where they are durations.
#[derive(Debug, Clone)]
pub(crate) struct SessionConfig {
    /// The setup steps every connection runs before any request (AUTH, HELLO, SELECT, …),
    /// replayed on every reconnect; an exclusive connection's SELECT replaces its step.
    pub(crate) handshake: Handshake,
    pub(crate) connect_timeout: u64,
    pub(crate) read_timeout: Option<u64>,
    pub(crate) write_timeout: Option<u64>,
    /// Reconnect by itself after a loss; when false, a lost connection stays closed.
    pub(crate) reconnect: bool,
    pub(crate) backoff: Backoff,
    /// Requests that may wait for a connection; more fail at once with `Disconnected`.
    pub(crate) queue_size: usize,
    pub(crate) limits: Limits,
    /// How many times one request is sent at most (resends after a loss, or after a
    /// `LOADING`/`BUSY`/`TRYAGAIN` reply).
    pub(crate) max_attempts: u8,
    pub(crate) mode: Mode,
}

/// What the session asks of its driver, or tells it. Drained with [`Session::poll_event`].
#[derive(Debug)]
pub(crate) enum Event<R> {
    /// A request finished: the raw reply frame (a group's frames back to back; an error
    /// reply is still `Ok` here: the caller turns it into `Error::Redis` when decoding), or
    /// why it failed.
    Reply(R, Result<Bytes, Error>),
    /// Open a transport now and report with `handle_connected` / `handle_connect_failed`.
    Connect,
    /// Close the transport now (timeout, protocol error, client closed).
    Disconnect,
    /// The handshake finished; the connection serves requests.
    Ready { server_version: Option<String> },
    /// A connection attempt failed (connect waiters want this reason).
    ConnectFailed(Error),
    /// The established connection was lost: why, and the error (for `on_disconnect` and
    /// `on_error`).
    Lost(DisconnectReason, Error),
    /// A pub/sub message frame for the sink with this id (a frame held by several sinks
    /// comes once for each, the same `Bytes`).
    Message(u64, Bytes),
    /// Everything the sink holds was subscribed again on a new connection: messages
    /// published while the connection was down are lost.
    Resubscribed(u64),
    /// The sink's stream ends with this error (its names were refused, or the session
    /// failed for good); the registry no longer holds it.
    SinkEnd(u64, Error),
    /// A RESP3 push frame that is not pub/sub (a client-side caching invalidation): the
    /// seam for client-side caching, which is planned; the reactor drops it for now.
    #[allow(dead_code)]
    Push(Bytes),
}

#[derive(Debug)]
enum State {
    /// No transport and nothing scheduled: before `start`.
    Idle,
    /// Waiting until `until` to reconnect.
    Backoff {
        until: u64,
    },
    /// The driver is opening a transport; fail it at `deadline`.
    Connecting {
        deadline: u64,
    },
    /// The handshake is on the wire; `remaining` replies to go.
    Handshaking {
        deadline: u64,
        remaining: usize,
        version: Option<String>,
    },
    Ready,
    /// Refused for a reason that will not change: every request fails with this.
    Failed(Error),
    /// Closed for good (client dropped, or lost with reconnect off).
    Closed(Error),
}

/// The state machine of one logical connection.
///
/// # Call order
/// The driver (the reactor, or a simulation) calls [`start`](Session::start) once, then in
/// any order as things happen: [`submit`](Session::submit),
/// [`handle_connected`](Session::handle_connected) /
/// [`handle_connect_failed`](Session::handle_connect_failed) /
/// [`handle_connect_refused`](Session::handle_connect_refused) after a `Connect` event,
/// [`handle_input`](Session::handle_input) with bytes read,
/// [`handle_written`](Session::handle_written) after writing from
/// [`out`](Session::out), [`handle_closed`](Session::handle_closed) when the transport
/// breaks, and [`handle_timeout`](Session::handle_timeout) once
/// [`poll_timeout`](Session::poll_timeout) has passed. After each call it drains
/// [`poll_event`](Session::poll_event) until `None`.
#[derive(Debug)]
pub(crate) struct Session<R> {
    cfg: SessionConfig,
    state: State,
    decoder: Decoder,
    waiting: Fifo<Waiting<R>>,
    queue: VecDeque<Parked<R>>,
    /// No later than the earliest deadline in `queue` (may be stale-early: a timer then fires
    /// for nothing and `expire_queued` recomputes it). Keeps `poll_timeout` O(1).
    queue_deadline: Option<u64>,
    /// Requests to send again at a time (after `LOADING` & co), ordered by that time.
    delayed: VecDeque<(u64, Parked<R>)>,
    out: OutBuf,
    events: VecDeque<Event<R>>,
    last_input: u64,
    last_output: u64,
    /// Set once a handshake completed: a later loss is reported as `Lost`.
    was_ready: bool,
    /// A write stalled: the first command not written whole fails instead of being resent.
    stuck_write: bool,
    /// Ready without having heard from the server (no handshake step): the backoff resets
    /// on the first reply instead, so accept-then-close servers are still backed off from.
    reset_backoff_on_reply: bool,
    /// An exclusive connection's transaction state (see `mode.rs`).
    tx: TxState,
    /// What the connection is subscribed to, for which sinks (see `pubsub.rs`).
    pubsub: Registry,
    /// The setup being written subscribes again after a lost connection: the sinks hear of
    /// it once it is done.
    announce_resubscribe: bool,
    /// The last id given to a subscribe request (see `Props::subscribe_id`).
    subscribe_ids: u32,
}

/// Entries each idle queue keeps room for after [`Session::release_idle_memory`].
const IDLE_KEEP: usize = 256;

impl<R> Session<R> {
    /// A session that has not started connecting.
    pub(crate) fn new(cfg: SessionConfig) -> Self {
        let decoder = Decoder::with_limits(cfg.limits);
        Session {
            cfg,
            state: State::Idle,
            decoder,
            waiting: Fifo::default(),
            queue: VecDeque::new(),
            queue_deadline: None,
            delayed: VecDeque::new(),
            out: OutBuf::default(),
            events: VecDeque::new(),
            last_input: 0,
            last_output: 0,
            was_ready: false,
            stuck_write: false,
            reset_backoff_on_reply: false,
            tx: TxState::default(),
            pubsub: Registry::default(),
            announce_resubscribe: false,
            subscribe_ids: 0,
        }
    }

    /// Begins the first connection attempt.
    pub(crate) fn start(&mut self, now: u64) {
        if matches!(self.state, State::Idle) {
            self.begin_connect(now);
        }
    }

    /// True once the handshake completed and the connection serves requests.
    pub(crate) fn is_ready(&self) -> bool {
        matches!(self.state, State::Ready)
    }

    /// The error every request gets, when the session failed or closed for good.
    pub(crate) fn terminal_error(&self) -> Option<&Error> {
        match &self.state {
            State::Failed(e) | State::Closed(e) => Some(e),
            _ => None,
        }
    }

    /// Requests waiting in the offline queue for a connection.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Requests written or being written and not yet answered.
    pub(crate) fn in_flight(&self) -> usize {
        self.waiting.len()
    }

    /// Gives back the storage of queues that a burst grew and that are empty now, down to
    /// room for `IDLE_KEEP` entries each: the I/O thread calls it on its 100 ms sweep, off the
    /// command path, so a burst of a million commands does not pin its queues' memory forever.
    pub(crate) fn release_idle_memory(&mut self) {
        self.waiting.shrink_idle(IDLE_KEEP);
        self.out.shrink_idle(IDLE_KEEP);
        if self.events.is_empty() {
            self.events.shrink_to(IDLE_KEEP);
        }
        if self.queue.is_empty() {
            self.queue.shrink_to(IDLE_KEEP);
        }
        if self.delayed.is_empty() {
            self.delayed.shrink_to(IDLE_KEEP);
        }
    }

    /// Storage held by the in-flight, output and offline queues, in entries.
    #[cfg(test)]
    pub(crate) fn queue_capacities(&self) -> [usize; 3] {
        [self.waiting.capacity(), self.out.capacity(), self.queue.capacity()]
    }

    /// Hands a request to the session: written now when connected, queued while connecting,
    /// failed at once when the queue is full or the session has failed.
    pub(crate) fn submit(&mut self, req: Request<R>, now: u64) {
        self.enqueue(Parked { req, ran: false }, now);
    }

    /// [`submit`](Session::submit) of a request that may have been sent before.
    fn enqueue(&mut self, p: Parked<R>, now: u64) {
        let Err(p) = self.refused_after_tx_loss(p) else { return };
        if let Some(e) = self.refused_by_subscriber_mode(&p.req.props) {
            self.events.push_back(Event::Reply(p.req.reply, Err(e)));
            return;
        }
        match &self.state {
            State::Ready => self.write_request(p, now),
            State::Failed(e) | State::Closed(e) => {
                let e = if_ran(e.clone(), p.ran);
                self.events.push_back(Event::Reply(p.req.reply, Err(e)));
            }
            State::Idle
            | State::Backoff { .. }
            | State::Connecting { .. }
            | State::Handshaking { .. } => {
                if self.queue.len() >= self.cfg.queue_size {
                    let e = Error::Disconnected(format!(
                        "not connected and the offline queue is full (queue_size = {})",
                        self.cfg.queue_size
                    ));
                    self.events.push_back(Event::Reply(p.req.reply, Err(if_ran(e, p.ran))));
                } else {
                    self.enqueue_back(p);
                }
            }
        }
    }

    fn enqueue_back(&mut self, p: Parked<R>) {
        self.queue_deadline = min_opt(self.queue_deadline, p.req.deadline);
        self.queue.push_back(p);
    }

    /// Hands a request to the session to send at `due` (a retry the caller's policy delayed).
    pub(crate) fn submit_at(&mut self, req: Request<R>, due: u64, now: u64) {
        if due <= now {
            return self.submit(req, now);
        }
        if let State::Failed(e) | State::Closed(e) = &self.state {
            let e = e.clone();
            self.events.push_back(Event::Reply(req.reply, Err(e)));
            return;
        }
        self.delay(due, Parked { req, ran: false });
    }

    /// The transport is open (TCP connected, TLS done): send the handshake.
    pub(crate) fn handle_connected(&mut self, now: u64) {
        let State::Connecting { deadline } = self.state else { return };
        self.decoder.reset();
        self.last_input = now;
        self.last_output = now;
        let steps = self.cfg.handshake.steps().len();
        for i in 0..steps {
            let (step, bytes) = self.cfg.handshake.steps()[i].clone();
            let end = self.out.push(bytes.into());
            self.waiting.push(
                Some(deadline),
                Waiting {
                    slot: Slot::Handshake(step),
                    end,
                    runs_at: end,
                    deadline: Some(deadline),
                },
            );
        }
        // Then everything the connection was subscribed to, before any request or message.
        let resubscribe = self.write_resubscribe(deadline);
        self.announce_resubscribe = resubscribe > 0 && self.was_ready;
        let steps = steps + resubscribe;
        self.state = State::Handshaking { deadline, remaining: steps, version: None };
        if steps == 0 {
            self.become_ready(now);
        }
    }

    /// The transport could not be opened.
    pub(crate) fn handle_connect_failed(&mut self, err: Error, now: u64) {
        if matches!(self.state, State::Connecting { .. } | State::Handshaking { .. }) {
            self.attempt_failed(err, now);
        }
    }

    /// The transport was refused for a reason that will not change (a TLS certificate failed
    /// verification, on either side): the session fails for good, like a wrong password,
    /// instead of reconnecting in a loop. Outside a connection attempt it is a plain
    /// [`handle_closed`](Session::handle_closed).
    pub(crate) fn handle_connect_refused(&mut self, err: Error, now: u64) {
        match self.state {
            State::Connecting { .. } | State::Handshaking { .. } => self.fail_for_good(err),
            _ => self.handle_closed(err, false, now),
        }
    }

    /// The transport broke: EOF (`server_closed`) or an I/O error.
    pub(crate) fn handle_closed(&mut self, err: Error, server_closed: bool, now: u64) {
        match self.state {
            State::Connecting { .. } | State::Handshaking { .. } => self.attempt_failed(err, now),
            State::Ready => {
                let reason = if server_closed {
                    DisconnectReason::ServerClosed
                } else {
                    DisconnectReason::ConnectionLost
                };
                self.lose_connection(&err, None, now, reason);
            }
            _ => {}
        }
    }

    /// The bytes waiting to be written.
    pub(crate) fn out(&self) -> &OutBuf {
        &self.out
    }

    /// `n` bytes from the front of [`out`](Session::out) were written.
    pub(crate) fn handle_written(&mut self, n: usize, now: u64) {
        if n > 0 {
            let before = self.out.written();
            self.out.advance(n);
            self.last_output = now;
            // The awaited reply's silence starts when its command went out whole.
            if self.waiting.front().is_some_and(|w| w.end > before && w.end <= self.out.written()) {
                self.last_input = now;
            }
        }
    }

    /// Closes the session for good (the client was dropped): every request fails with
    /// `Disconnected`.
    pub(crate) fn close(&mut self, now: u64) {
        if matches!(self.state, State::Closed(_)) {
            return;
        }
        let err = Error::Disconnected("the client was closed".into());
        let had_transport = matches!(
            self.state,
            State::Connecting { .. } | State::Handshaking { .. } | State::Ready
        );
        // A request that may have run says so; one that surely did not is `Disconnected`.
        let closed = |may_have_run: bool| {
            if may_have_run {
                Error::Connection {
                    message: "the client was closed before the reply arrived".into(),
                    maybe_executed: true,
                    source: None,
                }
            } else {
                err.clone()
            }
        };
        let written = self.out.written();
        for w in self.waiting.drain() {
            if let Slot::Request { reply, ran, .. } = w.slot {
                let may_have_run = ran || w.runs_at <= written;
                self.events.push_back(Event::Reply(reply, Err(closed(may_have_run))));
            }
        }
        for p in self.queue.drain(..).chain(self.delayed.drain(..).map(|(_, p)| p)) {
            self.events.push_back(Event::Reply(p.req.reply, Err(closed(p.ran))));
        }
        self.out.take_all();
        self.end_sinks(&err);
        self.state = State::Closed(err);
        if had_transport {
            self.events.push_back(Event::Disconnect);
        }
        let _ = now;
    }

    /// The next thing the driver must do or deliver.
    #[must_use]
    pub(crate) fn poll_event(&mut self) -> Option<Event<R>> {
        self.events.pop_front()
    }

    // ----- internals -----

    fn write_request(&mut self, Parked { req, ran }: Parked<R>, now: u64) {
        if self.waiting.is_empty() {
            // Silence is measured from the moment something is awaited, not from the last reply.
            self.last_input = now;
        }
        if self.out.is_empty() {
            self.last_output = now;
        }
        let props = req.props;
        let len = req.bytes.len() as u64;
        let end = self.out.push(req.bytes);
        // A plain group's first command may run once it is written; anything else once it
        // is written whole (a transaction: its EXEC).
        let runs_at = if props.replies > 1 && !props.atomic && props.first_len > 0 {
            end - len + u64::from(props.first_len)
        } else {
            end
        };
        if props.atomic {
            // A transaction group opens its MULTI before its EXEC ends it (and the WATCHes).
            self.track_write(Effect::Multi);
        }
        self.track_write(props.effect);
        let slot = Slot::Request {
            reply: req.reply,
            props,
            attempts: req.attempts.saturating_add(1),
            ran,
            left: props.replies.max(1),
            frames: BytesMut::new(),
        };
        self.waiting.push(req.deadline, Waiting { slot, end, runs_at, deadline: req.deadline });
    }

    fn become_ready(&mut self, now: u64) {
        let version = match &mut self.state {
            State::Handshaking { version, .. } => version.take(),
            _ => None,
        };
        self.state = State::Ready;
        self.was_ready = true;
        if self.cfg.handshake.steps().is_empty() {
            self.reset_backoff_on_reply = true;
        } else {
            self.cfg.backoff.reset();
        }
        self.events.push_back(Event::Ready { server_version: version });
        if std::mem::take(&mut self.announce_resubscribe) {
            for sink in self.pubsub.all_sinks() {
                self.events.push_back(Event::Resubscribed(sink));
            }
        }
        // The timer may not have fired yet for a queued request whose deadline passed: sent
        // now, its deadline would reset the new connection under every other request on it.
        self.expire_queued(now);
        while let Some(p) = self.queue.pop_front() {
            self.write_request(p, now);
        }
        self.queue_deadline = None;
    }

    fn begin_connect(&mut self, now: u64) {
        self.state = State::Connecting { deadline: now + self.cfg.connect_timeout };
        self.events.push_back(Event::Connect);
    }
}

fn min_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
