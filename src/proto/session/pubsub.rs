//! Pub/sub on a session: subscribing and unsubscribing sinks through the connection's
//! [`Registry`], matching the server's confirmations to the requests that asked for them
//! (one per name, in order with ordinary replies), routing messages to their sinks as
//! events (never through the one-shot reply slots), and subscribing everything again on a
//! new connection as part of its setup, before any request or message flows.
//!
//! Where the frames arrive: on a RESP2 connection in the subscriber mode every frame is an
//! array and only pub/sub commands may be sent ([`Mode::Subscriber`]); on a RESP3 connection
//! messages and confirmations are push frames beside ordinary replies.

use bytes::Bytes;

use super::request::{Slot, Waiting};
use super::{Effect, Event, Mode, Props, Request, Resend, Session, State};
use crate::error::Error;
use crate::proto::pubsub::{self, Kind};
use crate::resp::{parse_frame, Value};

/// The reply a confirmed subscribe or unsubscribe gets.
pub(crate) const CONFIRMED: &[u8] = b"+OK\r\n";

impl<R> Session<R> {
    /// Sink `sink` subscribes to `names` of `kind`: they go to the server as one
    /// (P|S)SUBSCRIBE (also those another sink holds: the answer then comes in order with
    /// the server's others), and `reply` gets `+OK` once each is confirmed, or the server's
    /// error (and the names are forgotten unless confirmed or asked for again). While
    /// disconnected the request waits in the offline queue; once confirmed, the names are
    /// part of every later connection's setup.
    pub(crate) fn subscribe(
        &mut self,
        sink: u64,
        kind: Kind,
        names: &[Bytes],
        reply: R,
        deadline: Option<u64>,
        now: u64,
    ) {
        if let Some(e) = self.pubsub_refusal() {
            self.events.push_back(Event::Reply(reply, Err(e)));
            return;
        }
        self.subscribe_ids = self.subscribe_ids.wrapping_add(1).max(1);
        let id = self.subscribe_ids;
        let new = self.pubsub.subscribe(sink, kind, names, id);
        if new.is_empty() {
            self.events.push_back(Event::Reply(reply, Ok(Bytes::from_static(CONFIRMED))));
            return;
        }
        let props = Props { subscribe_id: id, ..pubsub_props(new.len()) };
        let req = Request::new(pubsub::encode(kind, true, &new), reply, deadline).with(props);
        self.submit(req, now);
    }

    /// Sink `sink` lets go of `names` of `kind` (`None`: all it holds). The names nobody
    /// else holds are unsubscribed on the server; `reply` (if any) gets `+OK` once that is
    /// confirmed, or at once when nothing had to be sent (no other sink's messages stop) or
    /// the connection is still in its setup (the UNSUBSCRIBE follows the setup's commands).
    /// Messages for the names stop reaching the sink at once.
    pub(crate) fn unsubscribe(
        &mut self,
        sink: u64,
        kind: Kind,
        names: Option<&[Bytes]>,
        reply: Option<R>,
        deadline: Option<u64>,
        now: u64,
    ) {
        let gone = self.pubsub.unsubscribe(sink, kind, names);
        let connected = matches!(self.state, State::Ready | State::Handshaking { .. });
        if gone.is_empty() || !connected {
            // Not connected: the server holds nothing, and the next setup leaves them out.
            if let Some(reply) = reply {
                self.events.push_back(Event::Reply(reply, Ok(Bytes::from_static(CONFIRMED))));
            }
            return;
        }
        match reply {
            Some(reply) if matches!(self.state, State::Ready) => {
                let bytes = pubsub::encode(kind, false, &gone);
                let props = pubsub_props(gone.len());
                self.submit(Request::new(bytes, reply, deadline).with(props), now);
            }
            reply => {
                // During the setup it goes out with it, not through the offline queue, where
                // its deadline could pass and leave the server subscribed for nobody.
                self.unsubscribe_unanswered(kind, &gone);
                if let Some(reply) = reply {
                    self.events.push_back(Event::Reply(reply, Ok(Bytes::from_static(CONFIRMED))));
                }
            }
        }
    }

    /// Writes an (P|S)UNSUBSCRIBE of `names` nobody waits for: its confirmations are read
    /// and dropped. Only on a connected session (a new connection holds nothing).
    pub(super) fn unsubscribe_unanswered(&mut self, kind: Kind, names: &[Bytes]) {
        let end = self.out.push(pubsub::encode(kind, false, names).into());
        let slot = Slot::Abandoned {
            left: pubsub_props(names.len()).replies,
            effect: Effect::PubSub,
            ends_in_exec: false,
        };
        self.waiting.push(None, Waiting { slot, end, runs_at: end, deadline: None });
    }

    /// Sink `sink` is gone: every name only it held is unsubscribed.
    pub(crate) fn drop_sink(&mut self, sink: u64, now: u64) {
        for kind in Kind::ALL {
            self.unsubscribe(sink, kind, None, None, None, now);
        }
    }

    /// True when a name is subscribed (or being subscribed) for some sink.
    pub(crate) fn has_subscriptions(&self) -> bool {
        !self.pubsub.is_empty()
    }

    /// Why this session takes no pub/sub request, if it takes none.
    fn pubsub_refusal(&self) -> Option<Error> {
        match &self.state {
            State::Failed(e) | State::Closed(e) => Some(e.clone()),
            _ if self.cfg.mode == Mode::Exclusive => Some(Error::Usage(
                "pub/sub on a connection with one owner: use client.subscribe()".into(),
            )),
            _ => None,
        }
    }

    /// Why a request is refused on a subscriber connection, if it is.
    pub(super) fn refused_by_subscriber_mode(&self, props: &Props) -> Option<Error> {
        (self.cfg.mode == Mode::Subscriber && props.effect != Effect::PubSub).then(|| {
            Error::Usage(
                "the connection is in the RESP2 subscriber mode, where the server takes only \
                 (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING and RESET: the command was not sent \
                 (send it on the client, or use protocol(3), where pub/sub shares the \
                 connection with commands)"
                    .into(),
            )
        })
    }

    /// Writes the setup steps that subscribe every confirmed name of the registry again (one
    /// command per kind); returns how many were written. A name whose confirmation has not
    /// come yet is left to its own request, which is sent again after the setup (or fails,
    /// and then the caller knows it is not subscribed).
    pub(super) fn write_resubscribe(&mut self, deadline: u64) -> usize {
        let mut written = 0;
        for kind in Kind::ALL {
            let names = self.pubsub.confirmed(kind);
            if names.is_empty() {
                continue;
            }
            let end = self.out.push(pubsub::encode(kind, true, &names).into());
            let slot = Slot::Resubscribe { kind, left: names.len() as u32 };
            self.waiting.push(
                Some(deadline),
                Waiting { slot, end, runs_at: end, deadline: Some(deadline) },
            );
            written += 1;
        }
        written
    }

    /// Routes a message frame to every sink that holds its channel or pattern (none: it was
    /// just unsubscribed, and is dropped).
    pub(super) fn route_message(&mut self, kind: Kind, frame: Bytes) {
        if let pubsub::Frame::Message { name, .. } = pubsub::classify(&frame, true) {
            for &sink in self.pubsub.sinks(kind, name) {
                self.events.push_back(Event::Message(sink, frame.clone()));
            }
        }
    }

    /// The server confirmed one name: counts it against the request at the front of the
    /// in-flight FIFO, and completes that request with its last name. A confirmation that no
    /// request waits for (the server unsubscribed on its own) is dropped.
    pub(super) fn confirmed(&mut self, now: u64) -> bool {
        let done = match self.waiting.front_mut().map(|w| &mut w.slot) {
            Some(
                Slot::Request { props: Props { effect: Effect::PubSub, .. }, left, .. }
                | Slot::Abandoned { effect: Effect::PubSub, left, .. }
                | Slot::Resubscribe { left, .. },
            ) => {
                *left = left.saturating_sub(1);
                *left == 0
            }
            _ => return true,
        };
        if !done {
            return true;
        }
        let Some(w) = self.waiting.pop() else { return true };
        let _ = self.out.pop_answered();
        match w.slot {
            Slot::Request { reply, .. } => {
                self.events.push_back(Event::Reply(reply, Ok(Bytes::from_static(CONFIRMED))));
            }
            Slot::Resubscribe { .. } => return self.setup_step_done(now),
            _ => {}
        }
        true
    }

    /// A subscribe request was refused (an error reply in place of its confirmations): its
    /// names are forgotten unless confirmed or asked for by a request still on its way, and
    /// the error goes to its caller.
    pub(super) fn pubsub_refused(&mut self, bytes: Option<Bytes>, request: u32) {
        let Some(bytes) = bytes else { return };
        let Ok(Value::Array(args)) = parse_frame(&bytes, &self.cfg.limits) else { return };
        let mut args = args.into_iter().filter_map(|v| v.as_bytes().cloned());
        let kind = match args.next().as_deref() {
            Some(b"SUBSCRIBE") => Kind::Channel,
            Some(b"PSUBSCRIBE") => Kind::Pattern,
            Some(b"SSUBSCRIBE") => Kind::Shard,
            _ => return,
        };
        let names: Vec<Bytes> = args.collect();
        self.pubsub.refused(kind, &names, request);
    }

    /// A setup step that subscribes again was refused (an ACL change took a channel away):
    /// the sinks that held names of its kind end with the server's error; the setup goes on.
    pub(super) fn resubscribe_refused(&mut self, kind: Kind, frame: &Bytes, now: u64) -> bool {
        let names = self.pubsub.confirmed(kind);
        let line = String::from_utf8_lossy(frame.strip_prefix(b"-").unwrap_or(frame));
        let e = Error::Redis(crate::error::ServerError::new(format!(
            "{} (subscribing again after a reconnect)",
            line.trim_end()
        )));
        for sink in self.pubsub.forget(kind, &names) {
            // An ended sink lets go of its other names too (other kinds, pending ones).
            self.drop_sink(sink, now);
            self.events.push_back(Event::SinkEnd(sink, e.clone()));
        }
        self.setup_step_done(now)
    }

    /// Ends every sink with `err` (the session failed or closed for good).
    pub(super) fn end_sinks(&mut self, err: &Error) {
        for sink in self.pubsub.clear() {
            self.events.push_back(Event::SinkEnd(sink, err.clone()));
        }
    }
}

/// A (P|S)(UN)SUBSCRIBE of `names` names: one confirmation each; sent again on a new
/// connection whatever happened (subscribing twice is harmless).
fn pubsub_props(names: usize) -> Props {
    Props {
        replies: u32::try_from(names).unwrap_or(u32::MAX),
        resend: Resend::IfIdempotent,
        effect: Effect::PubSub,
        ..Props::default()
    }
}
