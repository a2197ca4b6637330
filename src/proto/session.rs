//! The protocol state of one logical connection, across reconnects: handshake, in-flight
//! FIFO, offline queue, deadlines and backoff. Sans-IO: bytes and time in, bytes, timers and
//! completions out.

use std::collections::VecDeque;

use bytes::{Buf as _, Bytes, BytesMut};

use super::backoff::Backoff;
use super::handshake::{self, Handshake, Step, Verdict};
use super::inflight::Fifo;
use super::outbuf::{Encoded, OutBuf};
use crate::config::DisconnectReason;
use crate::error::Error;
use crate::resp::{parse_frame, Decoder, Limits};

#[path = "session_recovery.rs"]
mod recovery;

/// Settings of a session, in milliseconds where they are durations.
#[derive(Debug, Clone)]
pub(crate) struct SessionConfig {
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
    /// Resend an idempotent request that was written whole when its connection is lost
    /// (`retry_maybe_executed`); otherwise it fails with `maybe_executed()`.
    pub(crate) retry_written: bool,
    /// How many times one request is sent at most (resends after a loss, or after a
    /// `LOADING`/`BUSY`/`TRYAGAIN` reply).
    pub(crate) max_attempts: u8,
}

/// Delay before resending after a `LOADING`/`BUSY`/`TRYAGAIN` reply: 10 ms doubling per
/// attempt, at most 1 s; the request's own deadline still bounds the whole.
fn retry_delay(attempts: u8) -> u64 {
    (10u64 << attempts.min(7)).min(1_000)
}

/// True for the error replies that mean "not executed, try again soon": the server is loading
/// its dataset, is busy running a script, or a multi-key operation met a resharding slot.
/// (`-BUSYKEY` and other codes that merely start alike do not match.)
fn retry_later(frame: &[u8]) -> bool {
    [&b"-LOADING"[..], b"-BUSY", b"-TRYAGAIN"].iter().any(|code| {
        frame.starts_with(code) && matches!(frame.get(code.len()), Some(b' ') | Some(b'\r'))
    })
}

/// One request handed to the session.
#[derive(Debug)]
pub(crate) struct Request<R> {
    /// The encoded command.
    pub(crate) bytes: Encoded,
    /// Where the reply goes (the reactor's completion slot; anything in tests).
    pub(crate) reply: R,
    /// Absolute deadline in ms, `None` for none.
    pub(crate) deadline: Option<u64>,
    /// A blocking command (BLPOP & co): its silence is expected, so the read-stall check
    /// does not apply while it waits.
    pub(crate) blocking: bool,
    /// Safe to run twice (read-only, or declared so): may be resent after a loss when
    /// `retry_written` is on.
    pub(crate) idempotent: bool,
    /// How many times it was sent already.
    pub(crate) attempts: u8,
}

/// What the session asks of its driver, or tells it. Drained with [`Session::poll_event`].
#[derive(Debug)]
pub(crate) enum Event<R> {
    /// A request finished: the raw reply frame (an error reply is still `Ok` here; the caller
    /// turns it into `Error::Redis` when decoding), or why it failed.
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

#[derive(Debug)]
enum Slot<R> {
    /// `ran`: see [`Parked::ran`].
    Request {
        reply: R,
        blocking: bool,
        idempotent: bool,
        attempts: u8,
        ran: bool,
    },
    Handshake(Step),
}

/// A request off the wire: in the offline queue, or waiting to be resent or sent later.
#[derive(Debug)]
struct Parked<R> {
    req: Request<R>,
    /// An earlier send of it was written whole and got no reply, so it may have run (an
    /// idempotent request resent after a lost connection): if it fails, its error says so.
    ran: bool,
}

/// `err` for a request that may have run already (`ran`): one whose `maybe_executed()` is
/// true, a connection error when `err`'s kind cannot say so.
fn if_ran(err: Error, ran: bool) -> Error {
    match err {
        e if !ran => e,
        e @ (Error::Connection { .. } | Error::Timeout { .. }) => e.with_maybe_executed(true),
        other => Error::Connection {
            message: format!("{other}; an earlier send of the command got no reply"),
            maybe_executed: true,
            source: None,
        },
    }
}

#[derive(Debug)]
struct Waiting<R> {
    slot: Slot<R>,
    /// Stream offset just past this command's last byte: written whole once `written >= end`.
    end: u64,
    deadline: Option<u64>,
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
        let at = self.delayed.iter().position(|(t, _)| *t > due).unwrap_or(self.delayed.len());
        self.delayed.insert(at, (due, Parked { req, ran: false }));
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
                Waiting { slot: Slot::Handshake(step), end, deadline: Some(deadline) },
            );
        }
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

    /// Feeds bytes read from the transport. Complete frames are split off the front of `buf`
    /// (zero copy) and matched to the oldest waiting request; a partial frame stays in `buf`.
    pub(crate) fn handle_input(&mut self, buf: &mut BytesMut, now: u64) {
        if !matches!(self.state, State::Ready | State::Handshaking { .. }) {
            buf.clear();
            return;
        }
        if !buf.is_empty() {
            self.last_input = now;
        }
        loop {
            match self.decoder.scan(buf) {
                Ok(Some(len)) => {
                    let frame = match common_frame(&buf[..len]) {
                        Some(frame) => {
                            buf.advance(len);
                            frame
                        }
                        None => buf.split_to(len).freeze(),
                    };
                    if !self.dispatch(frame, now) {
                        buf.clear();
                        return;
                    }
                    if buf.is_empty() {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    buf.clear();
                    self.lose_connection(&e, None, now, DisconnectReason::ConnectionLost);
                    self.events.push_back(Event::Disconnect);
                    return;
                }
            }
        }
    }

    /// The earliest time at which [`handle_timeout`](Session::handle_timeout) has work.
    pub(crate) fn poll_timeout(&self) -> Option<u64> {
        let state = match self.state {
            State::Backoff { until } => Some(until),
            State::Connecting { deadline } | State::Handshaking { deadline, .. } => Some(deadline),
            _ => None,
        };
        let queued = self.queue_deadline;
        let retry =
            self.delayed.iter().map(|(at, p)| p.req.deadline.map_or(*at, |d| d.min(*at))).min();
        [state, self.waiting.earliest_deadline(), queued, retry].into_iter().flatten().min()
    }

    /// The input length at which the partial frame at the front will be complete, when known
    /// (0 otherwise): lets the driver size one read for a large reply.
    pub(crate) fn input_needed(&self) -> usize {
        self.decoder.bytes_needed().unwrap_or(0)
    }

    /// Runs whatever is due at `now`: deadlines, stall checks, reconnect.
    pub(crate) fn handle_timeout(&mut self, now: u64) {
        match self.state {
            State::Backoff { until } if now >= until => self.begin_connect(now),
            State::Connecting { deadline } | State::Handshaking { deadline, .. }
                if now >= deadline =>
            {
                let err = Error::Timeout {
                    message: format!(
                        "connect (TCP, TLS and handshake) took longer than connect_timeout ({} ms)",
                        self.cfg.connect_timeout
                    ),
                    maybe_executed: false,
                };
                self.events.push_back(Event::Disconnect);
                self.attempt_failed(err, now);
            }
            _ => {}
        }
        self.expire_queued(now);
        self.resend_due(now);
        let expired = self.waiting.earliest_deadline().is_some_and(|d| d <= now);
        if expired && matches!(self.state, State::Ready) {
            let err = Error::Timeout {
                message: "request timed out; the connection was reset".into(),
                maybe_executed: false,
            };
            self.lose_connection(&err, Some(now), now, DisconnectReason::Timeout);
            self.events.push_back(Event::Disconnect);
        }
    }

    /// The periodic sweep: read and write stall checks (silence while a reply is awaited for
    /// `read_timeout`, a flush with no progress for `write_timeout`). They move with every
    /// byte, so they are checked every 100 ms rather than kept as timers.
    pub(crate) fn handle_sweep(&mut self, now: u64) {
        if matches!(self.state, State::Ready) {
            if let Some((reason, writing)) = self.stalled(now) {
                let err = Error::Timeout { message: reason, maybe_executed: false };
                if writing {
                    // The command the write stalled in fails; sending it again would stall
                    // the same way until its deadline.
                    self.stuck_write = true;
                }
                self.lose_connection(&err, None, now, DisconnectReason::Timeout);
                self.events.push_back(Event::Disconnect);
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
                self.events.push_back(Event::Reply(reply, Err(closed(ran || w.end <= written))));
            }
        }
        for p in self.queue.drain(..).chain(self.delayed.drain(..).map(|(_, p)| p)) {
            self.events.push_back(Event::Reply(p.req.reply, Err(closed(p.ran))));
        }
        self.out.take_all();
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
        let end = self.out.push(req.bytes);
        self.waiting.push(
            req.deadline,
            Waiting {
                slot: Slot::Request {
                    reply: req.reply,
                    blocking: req.blocking,
                    idempotent: req.idempotent,
                    attempts: req.attempts.saturating_add(1),
                    ran,
                },
                end,
                deadline: req.deadline,
            },
        );
    }

    /// Handles one complete frame; false when the connection was dropped because of it.
    fn dispatch(&mut self, frame: Bytes, now: u64) -> bool {
        if frame.first() == Some(&b'>') {
            // A RESP3 push (pub/sub message, invalidation) answers no request, so it takes no
            // FIFO entry. Nothing subscribes yet, so it is dropped here.
            return true;
        }
        let Some(w) = self.waiting.pop() else {
            let e = Error::protocol("the server sent a reply nobody asked for");
            self.lose_connection(&e, None, now, DisconnectReason::ConnectionLost);
            self.events.push_back(Event::Disconnect);
            return false;
        };
        let bytes = self.out.pop_answered();
        if self.reset_backoff_on_reply {
            self.reset_backoff_on_reply = false;
            self.cfg.backoff.reset();
        }
        match w.slot {
            Slot::Request { reply, blocking, idempotent, attempts, ran } => {
                // A reply that comes once the deadline has passed is a timeout, as it would
                // have been had the timer fired first: the driver's timer may fire late, or
                // after the read in the same turn.
                if w.deadline.is_some_and(|d| d <= now) {
                    let e = Error::Timeout {
                        message: "request timed out; its reply came after the deadline".into(),
                        maybe_executed: true,
                    };
                    self.events.push_back(Event::Reply(reply, Err(e)));
                    return true;
                }
                // Only an error reply can ask for a resend: other replies skip the checks.
                let due = now + retry_delay(attempts);
                let retry = frame.first() == Some(&b'-')
                    && attempts < self.cfg.max_attempts
                    && w.deadline.is_none_or(|d| due < d)
                    && retry_later(&frame);
                match bytes {
                    Some(bytes) if retry => {
                        let req = Request {
                            bytes,
                            reply,
                            deadline: w.deadline,
                            blocking,
                            idempotent,
                            attempts,
                        };
                        let at = self
                            .delayed
                            .iter()
                            .position(|(t, _)| *t > due)
                            .unwrap_or(self.delayed.len());
                        self.delayed.insert(at, (due, Parked { req, ran }));
                    }
                    _ => self.events.push_back(Event::Reply(reply, Ok(frame))),
                }
                true
            }
            Slot::Handshake(step) => self.handshake_reply(step, &frame, now),
        }
    }

    fn handshake_reply(&mut self, step: Step, frame: &Bytes, now: u64) -> bool {
        let verdict = match parse_frame(frame, &self.cfg.limits) {
            Ok(value) => handshake::judge(step, value),
            Err(e) => Verdict::Transient(e),
        };
        match verdict {
            Verdict::Ok { server_version } => {
                if let State::Handshaking { remaining, version, .. } = &mut self.state {
                    *remaining -= 1;
                    if server_version.is_some() {
                        *version = server_version;
                    }
                    if *remaining == 0 {
                        self.become_ready(now);
                    }
                }
                true
            }
            Verdict::Transient(e) => {
                self.events.push_back(Event::Disconnect);
                self.attempt_failed(e, now);
                false
            }
            Verdict::Permanent(e) => {
                self.events.push_back(Event::Disconnect);
                self.fail_for_good(e);
                false
            }
        }
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

    /// True when a written request waits for its reply and silence is not expected.
    fn awaiting_reply(&self) -> bool {
        match self.waiting.front() {
            Some(w) => {
                w.end <= self.out.written()
                    && !matches!(w.slot, Slot::Request { blocking: true, .. })
            }
            None => false,
        }
    }

    /// Why the connection counts as stalled, and whether it was the write side.
    fn stalled(&self, now: u64) -> Option<(String, bool)> {
        if let Some(t) = self.cfg.read_timeout {
            if self.awaiting_reply() && now >= self.last_input + t {
                return Some((
                    format!("no reply for read_timeout ({t} ms); the connection was reset"),
                    false,
                ));
            }
        }
        if let Some(t) = self.cfg.write_timeout {
            if !self.out.is_empty() && now >= self.last_output + t {
                let reason = format!(
                    "writing made no progress for write_timeout ({t} ms); the connection was reset"
                );
                return Some((reason, true));
            }
        }
        None
    }
}

/// The commonest short replies, as static `Bytes`: handing one to a caller takes no
/// reference to the read buffer, whose shared count the caller's thread would otherwise
/// have to decrement (a cache line passed between the two threads for every reply).
fn common_frame(frame: &[u8]) -> Option<Bytes> {
    let common: &'static [u8] = match frame {
        b"+OK\r\n" => b"+OK\r\n",
        b":0\r\n" => b":0\r\n",
        b":1\r\n" => b":1\r\n",
        b"$-1\r\n" => b"$-1\r\n",
        b"_\r\n" => b"_\r\n",
        b"+PONG\r\n" => b"+PONG\r\n",
        b"+QUEUED\r\n" => b"+QUEUED\r\n",
        _ => return None,
    };
    Some(Bytes::from_static(common))
}

fn min_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
