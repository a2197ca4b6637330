//! What happens when a connection attempt fails or an established connection is lost:
//! which requests fail (and whether they may have run), which go back to the offline queue,
//! which are resent, and when to reconnect. A part of [`Session`](super::Session), split off
//! to keep each file readable.

use std::collections::VecDeque;

use super::request::{Parked, Slot};
use super::*;
use crate::proto::outbuf::Encoded;

impl<R> Session<R> {
    /// A connection attempt (transport or handshake) failed: report it and back off.
    pub(super) fn attempt_failed(&mut self, err: Error, now: u64) {
        // Handshake entries and anything written during the attempt are dropped; requests
        // only reach the wire after the handshake, so none of them was sent.
        self.requeue_unanswered(&err, None);
        self.events.push_back(Event::ConnectFailed(err.clone()));
        self.after_loss(err, now);
    }

    /// Fails or requeues what was waiting on a connection that is gone, then reconnects.
    pub(super) fn lose_connection(
        &mut self,
        err: &Error,
        timed_out_at: Option<u64>,
        now: u64,
        why: DisconnectReason,
    ) {
        if matches!(self.state, State::Connecting { .. } | State::Handshaking { .. }) {
            // A bad reply during the handshake: this attempt failed (connect waiters hear
            // `ConnectFailed`); no connection that had been up was lost.
            self.attempt_failed(err.clone(), now);
            return;
        }
        self.requeue_unanswered(err, timed_out_at);
        self.note_link_failure(err);
        if self.was_ready {
            self.events.push_back(Event::Lost(why, err.clone()));
        }
        self.after_loss(err.clone(), now);
    }

    /// What was in flight fails or goes back to the front of the offline queue, in order
    /// and as many as `queue_size` allows, to be sent once on the next connection, by each
    /// request's resend policy: `Never` fails; `IfUnwritten` goes back if nothing of it
    /// could have run (no byte of a command, or of a transaction's EXEC, reached the socket
    /// whole); `IfIdempotent` goes back even then, within `max_attempts`. On an exclusive
    /// connection inside MULTI or with keys WATCHed, everything fails: the transaction state
    /// is gone with the connection.
    pub(super) fn requeue_unanswered(&mut self, err: &Error, timed_out_at: Option<u64>) {
        let tx_loss = self.take_tx_loss();
        let mut stuck = std::mem::take(&mut self.stuck_write);
        let written = self.out.written();
        // Every waiting entry still has its command in the out buffer, in the same order.
        let mut commands: VecDeque<Encoded> = self.out.take_all().into();
        let mut resend = Vec::new();
        for w in self.waiting.drain() {
            let bytes = commands.pop_front();
            let sent_whole = w.end <= written;
            let (reply, props, attempts, ran) = match w.slot {
                Slot::Request { reply, props, attempts, ran, .. } => (reply, props, attempts, ran),
                Slot::Abandoned { .. } => {
                    // Its caller was answered; a stalled write in it is consumed here.
                    stuck &= sent_whole;
                    continue;
                }
                Slot::Handshake(_) | Slot::Resubscribe { .. } => continue,
            };
            // This send may have run (a command, or a plain group's first, written whole).
            let this_may_run = w.runs_at <= written;
            let maybe = this_may_run || ran;
            let expired = timed_out_at.is_some_and(|now| w.deadline.is_some_and(|d| d <= now));
            let stuck_here = stuck && !sent_whole;
            stuck &= !stuck_here;
            // The blind resend is for a send that may have run: the one a write stalled in
            // fails even when idempotent, or it would stall the same way again.
            let may_resend = tx_loss.is_none()
                && !stuck_here
                && match props.resend {
                    Resend::Never => false,
                    _ if !this_may_run => true,
                    Resend::IfIdempotent => attempts < self.cfg.max_attempts,
                    Resend::IfUnwritten => false,
                };
            match bytes {
                Some(bytes) if may_resend && !expired => {
                    let req = Request {
                        bytes,
                        reply,
                        deadline: w.deadline,
                        props,
                        // A send that never reached the socket whole is not an attempt: it
                        // must not use up the resends after LOADING & co.
                        attempts: if sent_whole { attempts } else { attempts - 1 },
                    };
                    resend.push(Parked { req, ran: maybe });
                }
                _ => {
                    let e = if expired {
                        Error::Timeout {
                            message: "request timed out; the connection was reset".into(),
                            maybe_executed: maybe,
                        }
                    } else if let Some(why) = &tx_loss {
                        Error::Connection {
                            message: why.clone(),
                            maybe_executed: maybe,
                            source: None,
                        }
                    } else if timed_out_at.is_some() {
                        Error::Connection {
                            message: "connection reset after another request on it timed out"
                                .into(),
                            maybe_executed: maybe,
                            source: None,
                        }
                    } else if !maybe
                        || matches!(err, Error::Connection { .. } | Error::Timeout { .. })
                    {
                        err.clone().with_maybe_executed(maybe)
                    } else {
                        // A protocol error has no `maybe_executed`: say that the command was
                        // written and the connection reset, with the cause.
                        Error::Connection {
                            message: format!("the connection was reset: {err}"),
                            maybe_executed: true,
                            source: None,
                        }
                    };
                    self.events.push_back(Event::Reply(reply, Err(e)));
                }
            }
        }
        if let Some(why) = &tx_loss {
            // Held back after LOADING & co: part of the lost transaction too.
            for (_, p) in self.delayed.drain(..) {
                let e =
                    Error::Connection { message: why.clone(), maybe_executed: p.ran, source: None };
                self.events.push_back(Event::Reply(p.req.reply, Err(e)));
            }
        }
        // The offline queue holds at most `queue_size`: the oldest go back in it, the rest
        // fail as a submission to a full queue would (saying so when they may have run).
        let room = self.cfg.queue_size.saturating_sub(self.queue.len());
        if resend.len() > room {
            let e = Error::Disconnected(format!(
                "the connection was lost and the offline queue is full (queue_size = {}): the \
                 command was not sent again",
                self.cfg.queue_size
            ));
            for p in resend.drain(room..) {
                self.events.push_back(Event::Reply(p.req.reply, Err(if_ran(e.clone(), p.ran))));
            }
        }
        for p in resend.into_iter().rev() {
            self.queue_deadline = min_opt(self.queue_deadline, p.req.deadline);
            self.queue.push_front(p);
        }
    }

    /// Fails the delayed requests whose deadline passed; sends again those whose time came.
    pub(super) fn resend_due(&mut self, now: u64) {
        // Expired ones first: one sent now would time out at once, and its deadline would
        // reset the connection under every other request on it.
        if self.delayed.iter().any(|(_, p)| p.req.deadline.is_some_and(|d| d <= now)) {
            let mut keep = VecDeque::with_capacity(self.delayed.len());
            for (at, p) in self.delayed.drain(..) {
                if p.req.deadline.is_some_and(|d| d <= now) {
                    let e = Error::Timeout {
                        message: "request timed out while waiting to be retried (LOADING/BUSY)"
                            .into(),
                        maybe_executed: p.ran,
                    };
                    self.events.push_back(Event::Reply(p.req.reply, Err(e)));
                } else {
                    keep.push_back((at, p));
                }
            }
            self.delayed = keep;
        }
        while self.delayed.front().is_some_and(|(at, _)| *at <= now) {
            let Some((_, p)) = self.delayed.pop_front() else { break };
            // As a fresh submission: written when ready, else queued within `queue_size`.
            self.enqueue(p, now);
        }
    }

    pub(super) fn after_loss(&mut self, err: Error, now: u64) {
        if matches!(self.state, State::Failed(_) | State::Closed(_)) {
            return;
        }
        if self.cfg.reconnect {
            let delay = self.cfg.backoff.next_delay();
            self.state = State::Backoff { until: now + delay };
        } else {
            let e = match err {
                Error::Redis(_) => err,
                other => {
                    Error::Disconnected(format!("connection lost and reconnect is off: {other}"))
                }
            };
            self.fail_for_good_as(e, false);
        }
    }

    pub(super) fn fail_for_good(&mut self, err: Error) {
        self.fail_for_good_as(err, true);
    }

    pub(super) fn fail_for_good_as(&mut self, err: Error, refused: bool) {
        self.requeue_unanswered(&err, None);
        if refused {
            self.events.push_back(Event::ConnectFailed(err.clone()));
        }
        for p in self.queue.drain(..).chain(self.delayed.drain(..).map(|(_, p)| p)) {
            self.events.push_back(Event::Reply(p.req.reply, Err(if_ran(err.clone(), p.ran))));
        }
        self.end_sinks(&err);
        self.state = if refused { State::Failed(err) } else { State::Closed(err) };
    }

    pub(super) fn expire_queued(&mut self, now: u64) {
        if self.queue_deadline.is_none_or(|d| d > now) {
            return;
        }
        let mut keep = VecDeque::with_capacity(self.queue.len());
        for p in self.queue.drain(..) {
            if p.req.deadline.is_some_and(|d| d <= now) {
                let e = Error::Timeout {
                    message: "request timed out while waiting for a connection".into(),
                    maybe_executed: p.ran,
                };
                self.events.push_back(Event::Reply(p.req.reply, Err(e)));
            } else {
                keep.push_back(p);
            }
        }
        self.queue_deadline = keep.iter().filter_map(|p| p.req.deadline).min();
        self.queue = keep;
    }
}
