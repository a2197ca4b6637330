//! Reading replies: frames split off the read buffer and matched, in order, to the in-flight
//! FIFO: a request's reply, one reply of a group (kept until the group is whole), a reply
//! nobody waits for any more (an abandoned request's), or a setup step's.

use bytes::{Buf as _, Bytes, BytesMut};

use super::request::{common_frame, retry_delay, retry_later, Parked, Slot};
use super::{Effect, Event, Mode, Request, Session, State};
use crate::config::DisconnectReason;
use crate::error::Error;
use crate::proto::handshake::{self, Step, Verdict};
use crate::proto::pubsub;
use crate::resp::parse_frame;

impl<R> Session<R> {
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
                    let first = buf.first().copied();
                    let subscriber = self.cfg.mode == Mode::Subscriber;
                    let kept = if first == Some(b'>') || (subscriber && first == Some(b'*')) {
                        // A RESP3 push, or any frame of a RESP2 subscriber connection: a
                        // message (no FIFO entry), a confirmation (counted against the
                        // request at the front), else a reply or another kind of push.
                        let frame = buf.split_to(len).freeze();
                        match pubsub::classify(&frame, subscriber) {
                            pubsub::Frame::Message { kind, .. } => {
                                self.route_message(kind, frame);
                                true
                            }
                            pubsub::Frame::Confirm { kind, subscribe, name } => {
                                let orphan = match (subscribe, name) {
                                    (true, Some(name))
                                        if !self.pubsub.confirm(
                                            kind,
                                            name,
                                            self.front_subscribe(),
                                        ) =>
                                    {
                                        Some(frame.slice_ref(name))
                                    }
                                    (false, Some(name)) => {
                                        self.pubsub.unsubscribed(kind, name);
                                        None
                                    }
                                    _ => None,
                                };
                                let kept = self.confirmed(now);
                                if let Some(name) = orphan {
                                    // Subscribed for nobody: let go of it on the server too.
                                    self.unsubscribe_unanswered(kind, &[name]);
                                }
                                kept
                            }
                            pubsub::Frame::Other if first == Some(b'>') => {
                                self.events.push_back(Event::Push(frame));
                                true
                            }
                            pubsub::Frame::Other => self.dispatch(frame, now),
                        }
                    } else if self.front_is_group() {
                        // A group's replies stay in one buffer: consecutive frames of one read
                        // join without a copy.
                        let part = buf.split_to(len);
                        self.group_frame(part, now)
                    } else {
                        let frame = match common_frame(&buf[..len]) {
                            Some(frame) => {
                                buf.advance(len);
                                frame
                            }
                            None => buf.split_to(len).freeze(),
                        };
                        self.dispatch(frame, now)
                    };
                    if !kept {
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

    /// The input length at which the partial frame at the front will be complete, when known
    /// (0 otherwise): lets the driver size one read for a large reply.
    pub(crate) fn input_needed(&self) -> usize {
        self.decoder.bytes_needed().unwrap_or(0)
    }

    /// True when the next reply belongs to a group that has more to come (a pub/sub
    /// request's confirmations are counted apart: an ordinary reply in their place is its
    /// refusal).
    fn front_is_group(&self) -> bool {
        match self.waiting.front().map(|w| &w.slot) {
            Some(Slot::Request { left, props, .. }) => *left >= 2 && props.effect != Effect::PubSub,
            Some(Slot::Abandoned { left, effect, .. }) => *left >= 2 && *effect != Effect::PubSub,
            _ => false,
        }
    }

    /// The registry id of the subscribe request at the front, whose confirmations come now
    /// (`None` for a setup step that subscribes again, or anything else).
    fn front_subscribe(&self) -> Option<u32> {
        match self.waiting.front().map(|w| &w.slot) {
            Some(Slot::Request { props, .. }) if props.subscribe_id != 0 => {
                Some(props.subscribe_id)
            }
            _ => None,
        }
    }

    /// One reply of a group that expects more: kept with the others (or dropped, when the
    /// group was abandoned).
    fn group_frame(&mut self, part: BytesMut, now: u64) -> bool {
        let Some(w) = self.waiting.front_mut() else { return self.unexpected(now) };
        match &mut w.slot {
            Slot::Request { left, frames, .. } => {
                *left -= 1;
                frames.unsplit(part);
            }
            Slot::Abandoned { left, .. } => *left -= 1,
            Slot::Handshake(_) | Slot::Resubscribe { .. } => {}
        }
        true
    }

    fn unexpected(&mut self, now: u64) -> bool {
        let e = Error::protocol("the server sent a reply nobody asked for");
        self.lose_connection(&e, None, now, DisconnectReason::ConnectionLost);
        self.events.push_back(Event::Disconnect);
        false
    }

    /// Handles the frame that completes the front entry; false when the connection was
    /// dropped because of it.
    fn dispatch(&mut self, frame: Bytes, now: u64) -> bool {
        let Some(w) = self.waiting.pop() else { return self.unexpected(now) };
        let bytes = self.out.pop_answered();
        if self.reset_backoff_on_reply {
            self.reset_backoff_on_reply = false;
            self.cfg.backoff.reset();
        }
        // An EXEC refused before it ran leaves the server inside MULTI: whoever waits for
        // the reply, the connection is reset once it is delivered.
        let ends_in_exec = match &w.slot {
            Slot::Request { props, .. } => props.ends_in_exec(),
            Slot::Abandoned { ends_in_exec, .. } => *ends_in_exec,
            Slot::Handshake(_) | Slot::Resubscribe { .. } => false,
        };
        let refused_exec =
            (ends_in_exec && leaves_multi_open(&frame)).then(|| refusal_line(&frame));
        let behind = self.out.written() > w.end;
        match w.slot {
            Slot::Request { reply, props, .. } if props.effect == Effect::PubSub => {
                // An ordinary reply where confirmations were due: the server refused the
                // whole command (`-NOPERM`, a shard channel of another slot, ...).
                if frame.first() == Some(&b'-') {
                    self.pubsub_refused(bytes.map(|b| b.concat()), props.subscribe_id);
                }
                self.events.push_back(Event::Reply(reply, Ok(frame)));
            }
            Slot::Request { reply, props, attempts, ran, left: _, frames } => {
                self.tx_answered(props.effect);
                // A reply that comes once the deadline has passed is a timeout, as it would
                // have been had the timer fired first: the driver's timer may fire late, or
                // after the read in the same turn.
                if w.deadline.is_some_and(|d| d <= now) {
                    let e = Error::Timeout {
                        message: "request timed out; its reply came after the deadline".into(),
                        maybe_executed: true,
                    };
                    self.events.push_back(Event::Reply(reply, Err(e)));
                } else if props.replies > 1 {
                    // A group: its replies in order, as one unit; an error reply stays in its
                    // place (never resent alone: that would split the group).
                    let mut frames = frames;
                    frames.extend_from_slice(&frame);
                    let outcome = refused_exec_outcome(
                        frames.freeze(),
                        &frame,
                        refused_exec.is_some() && behind,
                    );
                    self.events.push_back(Event::Reply(reply, outcome));
                } else if refused_exec.is_some() {
                    // Not resent after BUSY & co: the refusal left the MULTI open.
                    let outcome = refused_exec_outcome(frame.clone(), &frame, behind);
                    self.events.push_back(Event::Reply(reply, outcome));
                } else {
                    // Only an error reply can ask for a resend: other replies skip the checks.
                    let due = now + retry_delay(attempts);
                    let retry = frame.first() == Some(&b'-')
                        && props.resend != super::Resend::Never
                        && attempts < self.cfg.max_attempts
                        && w.deadline.is_none_or(|d| due < d)
                        && retry_later(&frame);
                    match bytes {
                        Some(bytes) if retry => {
                            let req =
                                Request { bytes, reply, deadline: w.deadline, props, attempts };
                            self.delay(due, Parked { req, ran });
                        }
                        bytes => {
                            if frame.first() != Some(&b'-') {
                                self.answered(props.effect, bytes);
                            }
                            self.events.push_back(Event::Reply(reply, Ok(frame)));
                        }
                    }
                }
            }
            Slot::Abandoned { effect, .. } => self.tx_answered(effect),
            Slot::Handshake(step) => return self.handshake_reply(step, &frame, now),
            Slot::Resubscribe { kind, .. } => return self.resubscribe_refused(kind, &frame, now),
        }
        match refused_exec {
            Some(line) => {
                self.reset_for_open_multi(&line, now);
                false
            }
            None => true,
        }
    }

    /// Resets the connection after a refused EXEC (`-BUSY`, `-NOPERM`, …), which leaves its
    /// MULTI open on the server: every later command would be queued instead of run. The
    /// reset keeps anything more from joining the transaction, and the server drops it.
    fn reset_for_open_multi(&mut self, refusal: &str, now: u64) {
        let e = Error::Connection {
            message: format!(
                "the connection was reset: an EXEC before this command was refused ({refusal}) and \
                 the server kept its transaction open, which queued this command instead of \
                 running it (unless another EXEC ran the queue)"
            ),
            maybe_executed: false,
            source: None,
        };
        self.lose_connection(&e, None, now, DisconnectReason::ConnectionLost);
        self.events.push_back(Event::Disconnect);
    }

    /// Holds a request back to send again at `due`, in order of due time.
    pub(super) fn delay(&mut self, due: u64, p: Parked<R>) {
        let at = self.delayed.iter().position(|(t, _)| *t > due).unwrap_or(self.delayed.len());
        self.delayed.insert(at, (due, p));
    }

    fn handshake_reply(&mut self, step: Step, frame: &Bytes, now: u64) -> bool {
        let verdict = match parse_frame(frame, &self.cfg.limits) {
            Ok(value) => handshake::judge(step, value),
            Err(e) => Verdict::Transient(e),
        };
        match verdict {
            Verdict::Ok { server_version } => {
                if let State::Handshaking { version, .. } = &mut self.state {
                    if server_version.is_some() {
                        *version = server_version;
                    }
                }
                self.setup_step_done(now)
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
}

impl<R> Session<R> {
    /// One setup step (handshake or resubscribe) completed: the connection is ready after
    /// the last.
    pub(super) fn setup_step_done(&mut self, now: u64) -> bool {
        if let State::Handshaking { remaining, .. } = &mut self.state {
            *remaining -= 1;
            if *remaining == 0 {
                self.become_ready(now);
            }
        }
        true
    }
}

/// True for an EXEC reply that is a refusal of the EXEC itself, after which the server is
/// still inside MULTI: any error but the two that end or never had a transaction.
fn leaves_multi_open(frame: &[u8]) -> bool {
    frame.first() == Some(&b'-')
        && !frame.starts_with(b"-EXECABORT")
        && !frame.starts_with(b"-ERR EXEC without MULTI")
}

/// What the caller of a transaction whose EXEC was refused gets: its replies as they came
/// (the refusal in EXEC's place: the transaction did not run), unless commands were written
/// behind it, which the still open MULTI took in; another EXEC among them would have run the
/// queue, so then it fails with `maybe_executed`.
fn refused_exec_outcome(frames: Bytes, exec: &[u8], behind: bool) -> Result<Bytes, Error> {
    if !behind {
        return Ok(frames);
    }
    Err(Error::Connection {
        message: format!(
            "EXEC was refused ({}) with commands already written behind it, which the server's \
             still open transaction took in (another EXEC among them would have run it); the \
             connection was reset",
            refusal_line(exec)
        ),
        maybe_executed: true,
        source: None,
    })
}

/// An error reply's line without its `-` and CRLF.
fn refusal_line(frame: &[u8]) -> String {
    let line = frame.strip_prefix(b"-").unwrap_or(frame);
    String::from_utf8_lossy(line).trim_end().to_string()
}
