//! Pub/sub, sans-IO: telling a pushed frame's kind from its first bytes without parsing it
//! into values ([`classify`]), and the registry of what a connection is subscribed to and
//! for whom ([`Registry`]): channels, patterns and shard channels, each with the sinks (the
//! `Subscription`s) that asked for it. The registry decides which names go to the server
//! (the first sink to want a name subscribes it, the last to let go unsubscribes it), routes
//! each message to its sinks, and lists everything to subscribe again on a new connection.

use std::collections::HashMap;

use bytes::Bytes;

use crate::resp::CommandBuf;

/// What a subscription is to: a channel (SUBSCRIBE), a pattern (PSUBSCRIBE) or a shard
/// channel (SSUBSCRIBE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    pub(crate) const ALL: [Kind; 3] = [Kind::Channel, Kind::Pattern, Kind::Shard];

    /// The command that subscribes (`true`) or unsubscribes names of this kind.
    pub(crate) fn command(self, subscribe: bool) -> &'static [u8] {
        match (self, subscribe) {
            (Kind::Channel, true) => b"SUBSCRIBE",
            (Kind::Channel, false) => b"UNSUBSCRIBE",
            (Kind::Pattern, true) => b"PSUBSCRIBE",
            (Kind::Pattern, false) => b"PUNSUBSCRIBE",
            (Kind::Shard, true) => b"SSUBSCRIBE",
            (Kind::Shard, false) => b"SUNSUBSCRIBE",
        }
    }
}

/// What a frame is, from pub/sub's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frame<'a> {
    /// A published message: `message`/`smessage` with its channel, `pmessage` with the
    /// pattern it matched (what the registry routes by).
    Message { kind: Kind, name: &'a [u8] },
    /// The server confirmed one name (`None` for an UNSUBSCRIBE of nothing) of a
    /// (P|S)SUBSCRIBE (`subscribe`) or of an (P|S)UNSUBSCRIBE.
    Confirm { kind: Kind, subscribe: bool, name: Option<&'a [u8]> },
    /// Any other frame: a reply, or a push that is not pub/sub (an invalidation).
    Other,
}

/// Classifies a complete frame: a RESP3 push (`>`), or in RESP2 subscriber mode an array
/// (`*`, when `arrays` is set: outside subscriber mode an array is an ordinary reply whatever
/// it holds). Reads only the header and the first two elements; never allocates.
pub(crate) fn classify(frame: &[u8], arrays: bool) -> Frame<'_> {
    match frame.first() {
        Some(b'>') => {}
        Some(b'*') if arrays => {}
        _ => return Frame::Other,
    }
    let Some((count, rest)) = line_int(&frame[1..]) else { return Frame::Other };
    let Some((first, rest)) = bulk(rest) else { return Frame::Other };
    let (kind, message, subscribe) = match first {
        b"message" => (Kind::Channel, true, false),
        b"pmessage" => (Kind::Pattern, true, false),
        b"smessage" => (Kind::Shard, true, false),
        b"subscribe" => (Kind::Channel, false, true),
        b"psubscribe" => (Kind::Pattern, false, true),
        b"ssubscribe" => (Kind::Shard, false, true),
        b"unsubscribe" => (Kind::Channel, false, false),
        b"punsubscribe" => (Kind::Pattern, false, false),
        b"sunsubscribe" => (Kind::Shard, false, false),
        _ => return Frame::Other,
    };
    if !message {
        return if count == 3 {
            Frame::Confirm { kind, subscribe, name: bulk(rest).map(|(name, _)| name) }
        } else {
            Frame::Other
        };
    }
    let expected = if kind == Kind::Pattern { 4 } else { 3 };
    match bulk(rest) {
        Some((name, _)) if count == expected => Frame::Message { kind, name },
        _ => Frame::Other,
    }
}

/// An integer line (`123\r\n`) and what follows it.
fn line_int(b: &[u8]) -> Option<(i64, &[u8])> {
    let end = memchr::memchr(b'\r', b)?;
    let n = std::str::from_utf8(&b[..end]).ok()?.parse().ok()?;
    Some((n, b.get(end + 2..)?))
}

/// A bulk string (`$3\r\nabc\r\n`) and what follows it.
fn bulk(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = line_int(b.strip_prefix(b"$")?)?;
    let len = usize::try_from(len).ok()?;
    let body = rest.get(..len)?;
    Some((body, rest.get(len + 2..)?))
}

/// The parts of a message frame, as slices of it (zero copy): `(kind, pattern, channel,
/// payload)`. `None` for anything that is not a well-formed message.
pub(crate) fn split_message(frame: &Bytes) -> Option<(Kind, Option<Bytes>, Bytes, Bytes)> {
    let (_, rest) = line_int(frame.get(1..)?)?;
    let (first, rest) = bulk(rest)?;
    let kind = match first {
        b"message" => Kind::Channel,
        b"pmessage" => Kind::Pattern,
        b"smessage" => Kind::Shard,
        _ => return None,
    };
    let slice = |part: &[u8]| frame.slice_ref(part);
    let (a, rest) = bulk(rest)?;
    let (b, rest) = bulk(rest)?;
    if kind == Kind::Pattern {
        let (c, _) = bulk(rest)?;
        Some((kind, Some(slice(a)), slice(b), slice(c)))
    } else {
        Some((kind, None, slice(a), slice(b)))
    }
}

/// Encodes `(P|S)(UN)SUBSCRIBE name…`.
pub(crate) fn encode(kind: Kind, subscribe: bool, names: &[Bytes]) -> Bytes {
    let mut c = CommandBuf::new();
    c.push(kind.command(subscribe));
    for name in names {
        c.push(name);
    }
    c.finish()
}

/// One name of the registry.
#[derive(Debug, Default)]
struct Entry {
    /// The sinks that want it (empty only while `pending` requests are on their way: the
    /// entry keeps their count for a sink that wants the name again).
    sinks: Vec<u64>,
    /// The last confirmation the server sent for it was a subscribe: a new connection
    /// subscribes it again as part of its setup. A name not confirmed yet is still in its
    /// subscribe requests, which are sent again (or fail) by themselves.
    confirmed: bool,
    /// The subscribe requests (their ids) that carry the name and have not been confirmed
    /// nor refused: a refusal forgets an unconfirmed name only once no other request may
    /// still succeed. A request that failed otherwise stays (it keeps the entry, harmless).
    pending: Vec<u32>,
}

/// The names a connection is subscribed to (or is subscribing to), and for which sinks.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    /// Per kind (`Kind as usize`).
    names: [HashMap<Bytes, Entry>; 3],
}

impl Registry {
    fn map(&mut self, kind: Kind) -> &mut HashMap<Bytes, Entry> {
        &mut self.names[kind as usize]
    }

    /// True when no sink holds a name.
    pub(crate) fn is_empty(&self) -> bool {
        self.names.iter().flat_map(HashMap::values).all(|e| e.sinks.is_empty())
    }

    /// Sink `sink` wants `names`: returns them without repeats, to go to the server even when
    /// another sink holds them already (subscribing twice is harmless there, and the caller
    /// is answered by a confirmation of its own, in order with the server's other answers:
    /// never ahead of an UNSUBSCRIBE still on its way).
    pub(crate) fn subscribe(
        &mut self,
        sink: u64,
        kind: Kind,
        names: &[Bytes],
        request: u32,
    ) -> Vec<Bytes> {
        let mut new = Vec::new();
        let map = self.map(kind);
        for name in names {
            let entry = map.entry(name.clone()).or_default();
            if !new.contains(name) {
                entry.pending.push(request);
                new.push(name.clone());
            }
            if !entry.sinks.contains(&sink) {
                entry.sinks.push(sink);
            }
        }
        new
    }

    /// The server confirmed `name` (a `subscribe` confirmation; `request` the id of the
    /// request it answers, `None` for a setup step); false when no sink holds it any more (every sink
    /// let go, or was forgotten, while the request was on its way): the server is then
    /// subscribed for nobody, and the caller unsubscribes it again (an UNSUBSCRIBE written
    /// before the request reached the server does not undo it; a second one is harmless).
    pub(crate) fn confirm(&mut self, kind: Kind, name: &[u8], request: Option<u32>) -> bool {
        let map = &mut self.names[kind as usize];
        let Some(entry) = map.get_mut(name) else { return false };
        if let Some(id) = request {
            entry.pending.retain(|p| *p != id);
        }
        if entry.sinks.is_empty() {
            if entry.pending.is_empty() {
                map.remove(name);
            }
            return false;
        }
        entry.confirmed = true;
        true
    }

    /// The server confirmed an UNSUBSCRIBE of `name`: it holds the name no more (until a
    /// SUBSCRIBE written after that UNSUBSCRIBE is confirmed in turn).
    pub(crate) fn unsubscribed(&mut self, kind: Kind, name: &[u8]) {
        if let Some(entry) = self.names[kind as usize].get_mut(name) {
            entry.confirmed = false;
        }
    }

    /// The server refused subscribe request `request` of `names`: each is forgotten (for
    /// every sink) unless it is confirmed or another request for it is still on its way.
    pub(crate) fn refused(&mut self, kind: Kind, names: &[Bytes], request: u32) {
        let map = self.map(kind);
        for name in names {
            let Some(entry) = map.get_mut(name) else { continue };
            entry.pending.retain(|p| *p != request);
            if entry.pending.is_empty() && !entry.confirmed {
                map.remove(name);
            }
        }
    }

    /// Sink `sink` lets go of `names` (`None`: all of its names of `kind`): returns those
    /// nobody wants any more, which the server must unsubscribe.
    pub(crate) fn unsubscribe(
        &mut self,
        sink: u64,
        kind: Kind,
        names: Option<&[Bytes]>,
    ) -> Vec<Bytes> {
        let mine: Vec<Bytes> = match names {
            Some(names) => names.to_vec(),
            None => self.names_of(sink, kind),
        };
        let map = self.map(kind);
        let mut gone = Vec::new();
        for name in mine {
            let Some(entry) = map.get_mut(&name) else { continue };
            let held = !entry.sinks.is_empty();
            entry.sinks.retain(|s| *s != sink);
            if held && entry.sinks.is_empty() {
                // Kept while requests are on their way, so that their answers still count.
                entry.confirmed = false;
                if entry.pending.is_empty() {
                    map.remove(&name);
                }
                gone.push(name);
            }
        }
        gone
    }

    /// The names of `kind` sink `sink` holds, sorted.
    pub(crate) fn names_of(&self, sink: u64, kind: Kind) -> Vec<Bytes> {
        let mut v: Vec<Bytes> = self.names[kind as usize]
            .iter()
            .filter(|(_, e)| e.sinks.contains(&sink))
            .map(|(n, _)| n.clone())
            .collect();
        v.sort();
        v
    }

    /// The sinks a message for `(kind, name)` goes to (a lookup by slice: no copy).
    pub(crate) fn sinks(&self, kind: Kind, name: &[u8]) -> &[u64] {
        self.names[kind as usize].get(name).map_or(&[], |e| e.sinks.as_slice())
    }

    /// Every confirmed name of `kind`, sorted: what a new connection subscribes again.
    pub(crate) fn confirmed(&self, kind: Kind) -> Vec<Bytes> {
        let mut v: Vec<Bytes> = self.names[kind as usize]
            .iter()
            .filter(|(_, e)| e.confirmed && !e.sinks.is_empty())
            .map(|(n, _)| n.clone())
            .collect();
        v.sort();
        v
    }

    /// Every sink that holds a name, sorted.
    pub(crate) fn all_sinks(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .names
            .iter()
            .flat_map(HashMap::values)
            .flat_map(|e| e.sinks.iter().copied())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Forgets `names` of `kind` for every sink (the server refused to subscribe them again
    /// after a reconnect): returns their sinks.
    pub(crate) fn forget(&mut self, kind: Kind, names: &[Bytes]) -> Vec<u64> {
        let map = self.map(kind);
        let mut sinks = Vec::new();
        for name in names {
            let Some(e) = map.get_mut(name) else { continue };
            sinks.append(&mut e.sinks);
            e.confirmed = false;
            // Kept while requests are on their way, so that their answers still count.
            if e.pending.is_empty() {
                map.remove(name);
            }
        }
        sinks.sort_unstable();
        sinks.dedup();
        sinks
    }

    /// Forgets everything: returns every sink that held a name.
    pub(crate) fn clear(&mut self) -> Vec<u64> {
        let sinks = self.all_sinks();
        for map in &mut self.names {
            map.clear();
        }
        sinks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn classifies_resp2_and_resp3_frames() {
        let m = b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n";
        assert_eq!(classify(m, true), Frame::Message { kind: Kind::Channel, name: b"news" });
        assert_eq!(classify(m, false), Frame::Other, "an array outside subscriber mode is a reply");
        let p = b">4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n";
        assert_eq!(classify(p, false), Frame::Message { kind: Kind::Pattern, name: b"n*" });
        let s = b">3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$0\r\n\r\n";
        assert_eq!(classify(s, false), Frame::Message { kind: Kind::Shard, name: b"s" });
        let c = b">3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:1\r\n";
        assert_eq!(
            classify(c, false),
            Frame::Confirm { kind: Kind::Pattern, subscribe: true, name: Some(b"n*") }
        );
        let u = b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n";
        assert_eq!(
            classify(u, true),
            Frame::Confirm { kind: Kind::Channel, subscribe: false, name: None }
        );
        let inv = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n";
        assert_eq!(classify(inv, false), Frame::Other);
        assert_eq!(classify(b"*2\r\n$4\r\npong\r\n$0\r\n\r\n", true), Frame::Other);
        assert_eq!(classify(b"+OK\r\n", true), Frame::Other);
        // A message with the wrong element count is not taken for one.
        assert_eq!(classify(b"*2\r\n$7\r\nmessage\r\n$1\r\nx\r\n", true), Frame::Other);
    }

    #[test]
    fn splits_messages_without_copying() {
        let f =
            Bytes::from_static(b">4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
        let (kind, pattern, channel, payload) = split_message(&f).unwrap();
        assert_eq!(kind, Kind::Pattern);
        assert_eq!(pattern.as_deref(), Some(&b"n*"[..]));
        assert_eq!((&channel[..], &payload[..]), (&b"news"[..], &b"hi"[..]));
        assert_eq!(payload.as_ptr(), f[f.len() - 4..].as_ptr(), "a slice of the frame");
        assert!(split_message(&Bytes::from_static(b"*1\r\n$7\r\nmessage\r\n")).is_none());
        assert!(split_message(&Bytes::from_static(b"*3\r\n$7\r\nmessage\r\n$9\r\nx\r\n")).is_none());
    }

    #[test]
    fn every_subscribe_is_sent_and_the_last_sink_unsubscribes() {
        let mut r = Registry::default();
        assert_eq!(r.subscribe(1, Kind::Channel, &[b("a"), b("b"), b("a")], 1), [b("a"), b("b")]);
        assert_eq!(r.subscribe(2, Kind::Channel, &[b("b"), b("c")], 2), [b("b"), b("c")]);
        assert_eq!(r.subscribe(2, Kind::Pattern, &[b("b")], 3), [b("b")], "kinds are apart");
        assert_eq!(r.sinks(Kind::Channel, b"b"), [1, 2]);
        assert_eq!(r.unsubscribe(1, Kind::Channel, Some(&[b("b")])), Vec::<Bytes>::new());
        assert_eq!(r.unsubscribe(1, Kind::Channel, Some(&[b("zz")])), Vec::<Bytes>::new());
        assert_eq!(r.unsubscribe(2, Kind::Channel, None), [b("b"), b("c")]);
        assert_eq!(r.confirmed(Kind::Channel), Vec::<Bytes>::new(), "none confirmed yet");
        assert!(r.confirm(Kind::Channel, b"a", Some(1)));
        assert_eq!(r.confirmed(Kind::Channel), [b("a")]);
        assert!(!r.confirm(Kind::Channel, b"b", Some(1)), "b is held by nobody any more");
        assert_eq!(r.all_sinks(), [1, 2]);
        assert_eq!(r.forget(Kind::Pattern, &[b("b")]), [2]);
        assert_eq!(r.clear(), [1]);
        assert!(r.is_empty());
    }

    /// Pinned from the pub/sub simulation (seed 3): a refused request forgot names that
    /// another request of the same sink then subscribed (answered `+OK`, never routed).
    #[test]
    fn a_refusal_keeps_names_another_request_is_on_its_way_for() {
        let mut r = Registry::default();
        r.subscribe(1, Kind::Shard, &[b("xs"), b("s1")], 4);
        r.subscribe(1, Kind::Shard, &[b("s1")], 5);
        r.refused(Kind::Shard, &[b("xs"), b("s1")], 4);
        assert_eq!(r.sinks(Kind::Shard, b"xs"), Vec::<u64>::new());
        assert_eq!(r.sinks(Kind::Shard, b"s1"), [1]);
        assert!(r.confirm(Kind::Shard, b"s1", Some(5)));
        assert_eq!(r.confirmed(Kind::Shard), [b("s1")]);
        // The count survives the last sink letting go and the name being forgotten.
        r.subscribe(2, Kind::Channel, &[b("x0"), b("c0")], 6);
        r.unsubscribe(2, Kind::Channel, None);
        r.subscribe(3, Kind::Channel, &[b("c0")], 7);
        r.refused(Kind::Channel, &[b("x0"), b("c0")], 6);
        assert_eq!(r.sinks(Kind::Channel, b"c0"), [3], "seed 14");
        r.subscribe(4, Kind::Pattern, &[b("p*")], 8);
        assert_eq!(r.forget(Kind::Pattern, &[b("p*")]), [4]);
        r.subscribe(5, Kind::Pattern, &[b("p*")], 9);
        r.refused(Kind::Pattern, &[b("p*")], 9);
        assert_eq!(r.sinks(Kind::Pattern, b"p*"), [5], "seed 2367");
    }

    /// Pinned from the pub/sub simulation (seed 692): a confirmation of a SUBSCRIBE written
    /// before an UNSUBSCRIBE of the name must not leave it confirmed once the UNSUBSCRIBE's
    /// confirmation came.
    #[test]
    fn an_unsubscribe_confirmation_unconfirms() {
        let mut r = Registry::default();
        r.subscribe(1, Kind::Pattern, &[b("c*")], 10);
        r.confirm(Kind::Pattern, b"c*", Some(10));
        r.unsubscribe(1, Kind::Pattern, None);
        r.subscribe(2, Kind::Pattern, &[b("c*"), b("x*")], 11);
        r.confirm(Kind::Pattern, b"c*", None);
        r.unsubscribed(Kind::Pattern, b"c*");
        assert_eq!(r.confirmed(Kind::Pattern), Vec::<Bytes>::new());
        r.refused(Kind::Pattern, &[b("c*"), b("x*")], 11);
        assert!(r.is_empty(), "forgotten with its only request");
    }

    /// Pinned from the pub/sub simulation (seed 5011650): a request confirmed in part, lost
    /// with its connection and sent again counted its confirmations twice, taking another
    /// request's place; the next refusal then forgot a name that request was subscribing.
    #[test]
    fn a_request_sent_twice_counts_once() {
        let mut r = Registry::default();
        r.subscribe(7, Kind::Pattern, &[b("c[01]"), b("c*")], 12);
        r.confirm(Kind::Pattern, b"c[01]", Some(12));
        r.unsubscribe(7, Kind::Pattern, None);
        r.subscribe(8, Kind::Pattern, &[b("x*"), b("c[01]")], 13);
        r.confirm(Kind::Pattern, b"c[01]", Some(12)); // request 12, sent again
        r.unsubscribed(Kind::Pattern, b"c[01]");
        r.subscribe(8, Kind::Pattern, &[b("c[01]")], 14);
        r.refused(Kind::Pattern, &[b("x*"), b("c[01]")], 13);
        assert_eq!(r.sinks(Kind::Pattern, b"c[01]"), [8]);
        assert!(r.confirm(Kind::Pattern, b"c[01]", Some(14)));
    }

    #[test]
    fn encodes_the_commands() {
        assert_eq!(
            &encode(Kind::Shard, false, &[b("x")])[..],
            b"*2\r\n$12\r\nSUNSUBSCRIBE\r\n$1\r\nx\r\n"
        );
    }
}
