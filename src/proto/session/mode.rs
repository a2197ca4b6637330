//! The connection's mode. A shared connection multiplexes many callers, so it never carries
//! state between commands (the client refuses the commands that would create some). An
//! exclusive connection has one owner at a time and carries the owner's state: inside MULTI,
//! keys WATCHed, a changed setup (SELECT, CLIENT SETNAME), replies outstanding. The session
//! tracks that state so that (1) a connection lost while it matters fails the transaction
//! instead of running the rest of it without its MULTI or WATCH on a new connection, and
//! (2) its owner can tell whether the connection may serve someone else ([`Session::is_dirty`]).
//! The subscriber mode is pub/sub's (see `pubsub.rs`).

use super::request::{Effect, Parked, Slot};
use super::{Event, Session};
use crate::error::Error;
use crate::proto::outbuf::Encoded;

/// Who a connection serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Many callers, multiplexed; no state between commands.
    Shared,
    /// One owner at a time, whose transaction state the session tracks.
    Exclusive,
    /// A RESP2 connection subscribed to channels: it takes pub/sub commands only, and every
    /// frame it reads is a message or a confirmation (see `pubsub.rs`).
    Subscriber,
}

/// The transaction state of an exclusive connection.
#[derive(Debug, Default)]
pub(super) struct TxState {
    /// MULTI was written, and no EXEC or DISCARD since.
    multi: bool,
    /// WATCH was written, and no EXEC, DISCARD or UNWATCH since.
    watch: bool,
    /// EXEC, DISCARD and UNWATCH written and not answered yet: until their replies come, the
    /// transaction they end may still be lost with the connection.
    ends_unanswered: u32,
    /// The connection was lost while `multi` or `watch`: every request fails with this until
    /// one that ends the transaction (EXEC, DISCARD, UNWATCH), which fails with it too.
    broken: Option<String>,
    /// A SELECT or CLIENT SETNAME changed what every reconnect sets up.
    setup_changed: bool,
    /// The link failed since its owner took it (a protocol error, or lost): the session
    /// reconnected, but a connection that misbehaved is not handed to anyone else.
    link_failed: Option<DirtyReason>,
}

/// Why an exclusive connection may not serve another owner: the first that applies, in
/// this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirtyReason {
    /// A request unanswered or waiting to be sent.
    Outstanding,
    /// Subscribed to channels.
    Subscribed,
    /// Inside MULTI.
    Multi,
    /// Keys WATCHed.
    Watch,
    /// The server sent something unparsable or unexpected.
    Protocol,
    /// The link was lost (and the transaction with it, or the session reconnected).
    Lost,
    /// A SELECT or CLIENT SETNAME changed its setup.
    StateChanged,
}

impl<R> Session<R> {
    /// True when the connection holds its owner's state: a request unanswered or waiting, a
    /// transaction open or keys watched (or lost while so), its setup changed. A dirty
    /// exclusive connection is closed when its owner lets go, never handed to someone else.
    pub(crate) fn is_dirty(&self) -> bool {
        self.busy_reason().is_some()
            || self.tx.multi
            || self.tx.watch
            || self.tx.broken.is_some()
            || self.tx.setup_changed
    }

    /// Why the connection may not serve another owner, if it may not: [`is_dirty`]'s
    /// reasons, and a link that failed since [`new_owner`](Session::new_owner).
    ///
    /// [`is_dirty`]: Session::is_dirty
    pub(crate) fn dirty_reason(&self) -> Option<DirtyReason> {
        if let Some(r) = self.busy_reason() {
            return Some(r);
        }
        let t = &self.tx;
        if t.multi {
            Some(DirtyReason::Multi)
        } else if t.watch {
            Some(DirtyReason::Watch)
        } else if let Some(r) = t.link_failed {
            Some(r)
        } else if t.broken.is_some() {
            Some(DirtyReason::Lost)
        } else if t.setup_changed {
            Some(DirtyReason::StateChanged)
        } else {
            None
        }
    }

    /// Requests still to be answered, or subscriptions held.
    fn busy_reason(&self) -> Option<DirtyReason> {
        let outstanding = self.tx.ends_unanswered > 0
            || !self.queue.is_empty()
            || !self.delayed.is_empty()
            || self
                .waiting
                .iter()
                .any(|w| !matches!(w.slot, Slot::Handshake(_) | Slot::Resubscribe { .. }));
        if outstanding {
            Some(DirtyReason::Outstanding)
        } else if self.has_subscriptions() {
            Some(DirtyReason::Subscribed)
        } else {
            None
        }
    }

    /// The connection goes to a new owner: link failures before now no longer count.
    pub(crate) fn new_owner(&mut self) {
        self.tx.link_failed = None;
    }

    /// The link failed with `err` while the connection was up: remembered for
    /// [`dirty_reason`](Session::dirty_reason) on an exclusive connection.
    pub(super) fn note_link_failure(&mut self, err: &Error) {
        if self.cfg.mode == Mode::Exclusive && self.tx.link_failed.is_none() {
            self.tx.link_failed = Some(match err {
                Error::Protocol(_) => DirtyReason::Protocol,
                _ => DirtyReason::Lost,
            });
        }
    }

    /// On an exclusive connection whose transaction was lost: fails the request (true) until
    /// one ends the transaction, which also clears the state.
    pub(super) fn refused_after_tx_loss(&mut self, p: Parked<R>) -> Result<(), Parked<R>> {
        let Some(why) = &self.tx.broken else { return Err(p) };
        let e = Error::Connection { message: why.clone(), maybe_executed: false, source: None };
        if matches!(p.req.props.effect, Effect::Exec | Effect::Discard | Effect::Unwatch) {
            self.tx.broken = None;
        }
        self.events.push_back(Event::Reply(p.req.reply, Err(e)));
        Ok(())
    }

    /// A request goes on the wire: what it does to the transaction state. Conservatively, a
    /// transaction starts at its MULTI's (or WATCH's) write and is over only once what ends
    /// it was answered ([`tx_answered`](Session::tx_answered)): an EXEC written (or waiting
    /// to be) but unanswered when the connection goes is part of the lost transaction, never
    /// resent on a new connection where its MULTI never ran.
    pub(super) fn track_write(&mut self, effect: Effect) {
        if self.cfg.mode != Mode::Exclusive {
            return;
        }
        let t = &mut self.tx;
        match effect {
            Effect::Multi => t.multi = true,
            Effect::Watch => t.watch = true,
            Effect::Exec | Effect::Discard => {
                // EXEC or DISCARD without a MULTI is refused and keeps the WATCHes.
                if t.multi {
                    t.watch = false;
                }
                t.multi = false;
                t.ends_unanswered += 1;
            }
            Effect::Unwatch => {
                t.watch = false;
                t.ends_unanswered += 1;
            }
            Effect::None | Effect::Setup(_) | Effect::PubSub => {}
        }
    }

    /// A reply came for a request with `effect` (whatever it says: EXECABORT ends the
    /// transaction too, and a refused EXEC resets the connection).
    pub(super) fn tx_answered(&mut self, effect: Effect) {
        if self.cfg.mode == Mode::Exclusive
            && matches!(effect, Effect::Exec | Effect::Discard | Effect::Unwatch)
        {
            self.tx.ends_unanswered = self.tx.ends_unanswered.saturating_sub(1);
        }
    }

    /// A request succeeded: a SELECT or CLIENT SETNAME becomes a setup step, replayed on
    /// every reconnect (it replaces the handshake's own).
    pub(super) fn answered(&mut self, effect: Effect, bytes: Option<Encoded>) {
        let (Effect::Setup(step), Some(bytes), Mode::Exclusive) = (effect, bytes, self.cfg.mode)
        else {
            return;
        };
        self.cfg.handshake.set(step, bytes.concat());
        self.tx.setup_changed = true;
    }

    /// When the connection is lost now: the error for what was in flight if the transaction
    /// state dies with it (exclusive, inside MULTI or watching), which from then on fails
    /// every request until the transaction is ended.
    pub(super) fn take_tx_loss(&mut self) -> Option<String> {
        let t = &mut self.tx;
        if !(t.multi || t.watch || t.ends_unanswered > 0) {
            return None;
        }
        let what = if t.multi {
            "inside MULTI"
        } else if t.watch {
            "with keys WATCHed"
        } else {
            "before its EXEC was answered"
        };
        let why = format!(
            "the connection was lost {what}: the server forgot the transaction, so it fails \
             rather than run without its MULTI/WATCH on a new connection; run it again from the \
             start (the commands up to EXEC, DISCARD or UNWATCH fail with this error)"
        );
        t.multi = false;
        t.watch = false;
        t.ends_unanswered = 0;
        t.broken = Some(why.clone());
        Some(why)
    }
}
