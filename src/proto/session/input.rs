//! Reading replies: frames split off the read buffer and matched, in order, to the in-flight
//! FIFO: a request's reply, one reply of a group (kept until the group is whole), a reply
//! nobody waits for any more (an abandoned request's), or a setup step's.

use bytes::{Buf as _, Bytes, BytesMut};

use super::request::{common_frame, retry_delay, retry_later, Parked, Slot};
use super::{Event, Request, Session, State};
use crate::config::DisconnectReason;
use crate::error::Error;
use crate::proto::handshake::{self, Step, Verdict};
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
                    let kept = if buf.first() == Some(&b'>') {
                        // A RESP3 push (pub/sub message, invalidation) answers no request, so
                        // it takes no FIFO entry. Nothing subscribes yet: it is dropped here.
                        buf.advance(len);
                        true
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

    /// True when the next reply belongs to a group that has more to come.
    fn front_is_group(&self) -> bool {
        matches!(
            self.waiting.front(),
            Some(w) if matches!(w.slot, Slot::Request { left: 2.., .. } | Slot::Abandoned { left: 2.., .. })
        )
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
            Slot::Handshake(_) => {}
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
        match w.slot {
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
                    if props.ends_in_exec() && leaves_multi_open(&frame) {
                        let behind = self.out.written() > w.end;
                        return self.reset_after_refused_exec(
                            None,
                            frame.clone(),
                            &frame,
                            behind,
                            now,
                        );
                    }
                    return true;
                }
                if props.replies > 1 {
                    // A group: its replies in order, as one unit; an error reply stays in its
                    // place (never resent alone: that would split the group).
                    let mut frames = frames;
                    frames.extend_from_slice(&frame);
                    if props.ends_in_exec() && leaves_multi_open(&frame) {
                        let behind = self.out.written() > w.end;
                        let exec = frame.clone();
                        return self.reset_after_refused_exec(
                            Some(reply),
                            frames.freeze(),
                            &exec,
                            behind,
                            now,
                        );
                    }
                    self.events.push_back(Event::Reply(reply, Ok(frames.freeze())));
                    return true;
                }
                if props.ends_in_exec() && leaves_multi_open(&frame) {
                    // Not resent after BUSY & co: the refusal left the MULTI open.
                    let behind = self.out.written() > w.end;
                    return self.reset_after_refused_exec(
                        Some(reply),
                        frame.clone(),
                        &frame,
                        behind,
                        now,
                    );
                }
                // Only an error reply can ask for a resend: other replies skip the checks.
                let due = now + retry_delay(attempts);
                let retry = frame.first() == Some(&b'-')
                    && props.resend != super::Resend::Never
                    && attempts < self.cfg.max_attempts
                    && w.deadline.is_none_or(|d| due < d)
                    && retry_later(&frame);
                match bytes {
                    Some(bytes) if retry => {
                        let req = Request { bytes, reply, deadline: w.deadline, props, attempts };
                        self.delay(due, Parked { req, ran });
                    }
                    bytes => {
                        if frame.first() != Some(&b'-') {
                            self.answered(props.effect, bytes);
                        }
                        self.events.push_back(Event::Reply(reply, Ok(frame)));
                    }
                }
                true
            }
            Slot::Abandoned { effect, ends_in_exec, .. } => {
                self.tx_answered(effect);
                if ends_in_exec && leaves_multi_open(&frame) {
                    let behind = self.out.written() > w.end;
                    return self.reset_after_refused_exec(None, frame.clone(), &frame, behind, now);
                }
                true
            }
            Slot::Handshake(step) => self.handshake_reply(step, &frame, now),
        }
    }

    /// An EXEC refused before it ran (`-BUSY`, `-NOPERM`, …) leaves its MULTI open on the
    /// server, which queues every later command instead of running it: the connection is
    /// reset, so that nothing more joins the transaction, and the server drops it. When
    /// nothing was written behind the EXEC, the transaction surely did not run: its caller
    /// gets the replies as they came, the refusal in EXEC's place. Otherwise a command
    /// behind it may have been another EXEC, which would have run the whole queue: the
    /// transaction fails with `maybe_executed`, as do the commands behind it.
    fn reset_after_refused_exec(
        &mut self,
        reply: Option<R>,
        frames: Bytes,
        exec: &[u8],
        behind: bool,
        now: u64,
    ) -> bool {
        let line = String::from_utf8_lossy(exec.strip_prefix(b"-").unwrap_or(exec));
        let line = line.trim_end();
        match reply {
            // Abandoned: its caller was answered already.
            None => {}
            Some(reply) if behind => {
                let e = Error::Connection {
                    message: format!(
                        "EXEC was refused ({line}) with commands already written behind it, \
                         which the server's still open transaction took in (another EXEC among \
                         them would have run it); the connection was reset"
                    ),
                    maybe_executed: true,
                    source: None,
                };
                self.events.push_back(Event::Reply(reply, Err(e)));
            }
            Some(reply) => self.events.push_back(Event::Reply(reply, Ok(frames))),
        }
        let e = Error::Connection {
            message: format!(
                "the connection was reset: an EXEC before this command was refused ({line}) and \
                 the server kept its transaction open, which queued this command instead of \
                 running it (unless another EXEC ran the queue)"
            ),
            maybe_executed: false,
            source: None,
        };
        self.lose_connection(&e, None, now, DisconnectReason::ConnectionLost);
        self.events.push_back(Event::Disconnect);
        false
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
}

/// True for an EXEC reply that is a refusal of the EXEC itself, after which the server is
/// still inside MULTI: any error but the two that end or never had a transaction.
fn leaves_multi_open(frame: &[u8]) -> bool {
    frame.first() == Some(&b'-')
        && !frame.starts_with(b"-EXECABORT")
        && !frame.starts_with(b"-ERR EXEC without MULTI")
}
