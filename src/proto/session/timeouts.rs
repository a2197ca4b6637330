//! Time: the earliest moment the session has work, connect and request deadlines (a late
//! request resets the connection, or with `OnTimeout::Abandon` fails alone and its reply is
//! dropped when it comes), and the sweep's read and write stall checks.

use super::request::Slot;
use super::{Event, Session, State};
use crate::config::{DisconnectReason, OnTimeout};
use crate::error::Error;

impl<R> Session<R> {
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
        if expired && matches!(self.state, State::Ready) && self.abandon_expired(now) {
            let err = Error::Timeout {
                message: "request timed out; the connection was reset".into(),
                maybe_executed: false,
            };
            self.lose_connection(&err, Some(now), now, DisconnectReason::Timeout);
            self.events.push_back(Event::Disconnect);
        }
    }

    /// Fails every late request that asked to be abandoned, leaving its FIFO entry to drop its
    /// reply when it comes; true when a late request asks for the reset instead (a blocking
    /// command always does: its connection cannot serve anyone until it answers).
    fn abandon_expired(&mut self, now: u64) -> bool {
        let mut reset = false;
        let events = &mut self.events;
        self.waiting.expire(now, |w| {
            let abandon = matches!(
                &w.slot,
                Slot::Request { props, .. }
                    if props.on_timeout == OnTimeout::Abandon && !props.blocking
            );
            if !abandon {
                reset = true;
                return false;
            }
            let Slot::Request { left, props, .. } = w.slot else { return false };
            let effect = props.effect;
            let ends_in_exec = props.ends_in_exec();
            let Slot::Request { reply, .. } =
                std::mem::replace(&mut w.slot, Slot::Abandoned { left, effect, ends_in_exec })
            else {
                return false;
            };
            let e = Error::Timeout {
                message: "request timed out (on_timeout: Abandon): it stays on the connection, \
                          which was kept, and its reply is dropped when it comes"
                    .into(),
                // Written or still to be written: it runs either way.
                maybe_executed: true,
            };
            events.push_back(Event::Reply(reply, Err(e)));
            w.deadline = None;
            true
        });
        reset
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

    /// True when a written request waits for its reply and silence is not expected.
    fn awaiting_reply(&self) -> bool {
        match self.waiting.front() {
            Some(w) => {
                w.end <= self.out.written()
                    && !matches!(&w.slot, Slot::Request { props, .. } if props.blocking)
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
