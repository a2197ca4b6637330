//! The pub/sub simulation's server: one connection at a time, taking `HELLO 3`, `GET` and
//! the six (P|S)(UN)SUBSCRIBE commands, publishing numbered messages to what the connection
//! is subscribed to, and refusing names an ACL denies (`-NOPERM`, the whole command, as
//! Redis does). It encodes in RESP2 (a subscriber connection: every frame an array) or RESP3
//! (confirmations and messages as push frames beside replies).

use std::collections::{BTreeSet, VecDeque};

use bytes::{Bytes, BytesMut};

use crate::proto::pubsub::Kind;
use crate::resp::{Decoder, Value};

/// Channels, patterns and shard channels the callers use; names starting with `x` are
/// denied from the start, and [`REVOCABLE`] ones may be denied later (an ACL change).
pub(super) const NAMES: [&[&str]; 3] =
    [&["c0", "c1", "c2", "c3", "x0"], &["c*", "c[01]", "x*"], &["s0", "s1", "xs"]];
pub(super) const REVOCABLE: [(Kind, &str); 3] =
    [(Kind::Channel, "c3"), (Kind::Pattern, "c[01]"), (Kind::Shard, "s1")];
/// Where messages are published: every allowed channel and shard channel, and one no pattern
/// matches.
pub(super) const TARGETS: [(Kind, &str); 7] = [
    (Kind::Channel, "c0"),
    (Kind::Channel, "c1"),
    (Kind::Channel, "c2"),
    (Kind::Channel, "c3"),
    (Kind::Channel, "d0"),
    (Kind::Shard, "s0"),
    (Kind::Shard, "s1"),
];

/// A message frame the server wrote: its number, how it is routed (kind and channel, or the
/// pattern it matched), and where in the connection's output stream it ends.
#[derive(Debug, Clone)]
pub(super) struct Sent {
    pub(super) seq: u64,
    pub(super) kind: Kind,
    pub(super) name: Bytes,
    pub(super) end: u64,
}

/// One server-side connection.
#[derive(Debug)]
pub(super) struct ServerConn {
    resp3: bool,
    decoder: Decoder,
    input: BytesMut,
    /// Bytes not yet delivered to the client, and how many were produced before them.
    pub(super) output: VecDeque<u8>,
    pub(super) produced: u64,
    pub(super) delivered: u64,
    /// What the connection is subscribed to, per kind.
    pub(super) subs: [BTreeSet<Bytes>; 3],
    /// Message frames written and not yet delivered whole.
    pub(super) messages: VecDeque<Sent>,
    /// Commands this connection ran, with their arguments (for the trace).
    pub(super) commands: Vec<Vec<u8>>,
}

impl ServerConn {
    pub(super) fn new(resp3: bool) -> Self {
        ServerConn {
            resp3,
            decoder: Decoder::new(),
            input: BytesMut::new(),
            output: VecDeque::new(),
            produced: 0,
            delivered: 0,
            subs: Default::default(),
            messages: VecDeque::new(),
            commands: Vec::new(),
        }
    }

    /// Bytes the client wrote.
    pub(super) fn receive(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
    }

    /// Runs every complete command received; `denied` says which names the ACL refuses.
    /// Returns an error for a command the client must never send on this connection.
    pub(super) fn run(&mut self, denied: &BTreeSet<(Kind, String)>) -> Result<(), String> {
        loop {
            let value = match self.decoder.decode(&mut self.input) {
                Ok(Some(v)) => v,
                Ok(None) => return Ok(()),
                Err(e) => return Err(format!("the client wrote something that is not RESP: {e}")),
            };
            let Value::Array(items) = value else {
                return Err("the client wrote a command that is not an array".into());
            };
            let args: Vec<Bytes> = items.iter().filter_map(|v| v.as_bytes().cloned()).collect();
            let Some(name) = args.first() else { return Err("an empty command".into()) };
            let name = name.to_ascii_uppercase();
            let mut line = name.clone();
            for a in &args[1..] {
                line.push(b' ');
                line.extend_from_slice(a);
            }
            self.commands.push(line);
            self.execute(&name, &args[1..], denied)?;
        }
    }

    fn execute(
        &mut self,
        name: &[u8],
        args: &[Bytes],
        denied: &BTreeSet<(Kind, String)>,
    ) -> Result<(), String> {
        let pubsub = |s: &[u8]| -> Option<(Kind, bool)> {
            Some(match s {
                b"SUBSCRIBE" => (Kind::Channel, true),
                b"UNSUBSCRIBE" => (Kind::Channel, false),
                b"PSUBSCRIBE" => (Kind::Pattern, true),
                b"PUNSUBSCRIBE" => (Kind::Pattern, false),
                b"SSUBSCRIBE" => (Kind::Shard, true),
                b"SUNSUBSCRIBE" => (Kind::Shard, false),
                _ => return None,
            })
        };
        if let Some((kind, subscribe)) = pubsub(name) {
            if args.is_empty() {
                return Err("a (un)subscribe of no names (the session never sends one)".into());
            }
            let refused = args
                .iter()
                .find(|a| subscribe && denied.contains(&(kind, String::from_utf8_lossy(a).into())));
            if let Some(a) = refused {
                let line = format!(
                    "-NOPERM this user has no permissions to access the '{}' channel\r\n",
                    String::from_utf8_lossy(a)
                );
                self.write(line.as_bytes());
                return Ok(());
            }
            let verb = String::from_utf8_lossy(name).to_ascii_lowercase();
            for a in args {
                if subscribe {
                    self.subs[kind as usize].insert(a.clone());
                } else {
                    self.subs[kind as usize].remove(a);
                }
                let count = self.count(kind);
                let frame = self.array(&[verb.as_bytes(), a], Some(count));
                self.write(&frame);
            }
            return Ok(());
        }
        match name {
            b"HELLO" if self.resp3 => {
                self.write(b"%1\r\n$7\r\nversion\r\n$5\r\n7.2.6\r\n");
                Ok(())
            }
            b"GET" if self.resp3 => {
                let key = args.first().ok_or("GET without a key")?;
                let value = [b"v:", &key[..]].concat();
                let mut out = format!("${}\r\n", value.len()).into_bytes();
                out.extend_from_slice(&value);
                out.extend_from_slice(b"\r\n");
                self.write(&out);
                Ok(())
            }
            other => Err(format!(
                "the {} connection received {} (never to be sent there)",
                if self.resp3 { "RESP3" } else { "RESP2 subscriber" },
                String::from_utf8_lossy(other)
            )),
        }
    }

    /// Subscriptions counted the way Redis does: channels and patterns together, shard
    /// channels apart.
    fn count(&self, kind: Kind) -> i64 {
        let n = match kind {
            Kind::Shard => self.subs[Kind::Shard as usize].len(),
            _ => self.subs[0].len() + self.subs[1].len(),
        };
        n as i64
    }

    /// A pub/sub frame: an array in RESP2, a push in RESP3.
    fn array(&self, parts: &[&[u8]], count: Option<i64>) -> Vec<u8> {
        let n = parts.len() + usize::from(count.is_some());
        let mut out = format!("{}{n}\r\n", if self.resp3 { '>' } else { '*' }).into_bytes();
        for p in parts {
            out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
            out.extend_from_slice(p);
            out.extend_from_slice(b"\r\n");
        }
        if let Some(c) = count {
            out.extend_from_slice(format!(":{c}\r\n").as_bytes());
        }
        out
    }

    fn write(&mut self, bytes: &[u8]) {
        self.output.extend(bytes.iter().copied());
        self.produced += bytes.len() as u64;
    }

    /// Publishes message `seq` on `(kind, channel)`: one frame for the channel (or shard
    /// channel) when subscribed, and one per subscribed pattern that matches a channel.
    pub(super) fn publish(&mut self, seq: u64, kind: Kind, channel: &str) {
        let payload = seq.to_string();
        let ch = Bytes::copy_from_slice(channel.as_bytes());
        if self.subs[kind as usize].contains(&ch) {
            let verb: &[u8] = if kind == Kind::Shard { b"smessage" } else { b"message" };
            let frame = self.array(&[verb, &ch, payload.as_bytes()], None);
            self.write(&frame);
            self.messages.push_back(Sent { seq, kind, name: ch.clone(), end: self.produced });
        }
        if kind == Kind::Channel {
            let patterns: Vec<Bytes> = self.subs[Kind::Pattern as usize]
                .iter()
                .filter(|p| matches(p, channel.as_bytes()))
                .cloned()
                .collect();
            for p in patterns {
                let frame = self.array(&[b"pmessage", &p, &ch, payload.as_bytes()], None);
                self.write(&frame);
                self.messages.push_back(Sent {
                    seq,
                    kind: Kind::Pattern,
                    name: p,
                    end: self.produced,
                });
            }
        }
    }

    /// A push that is not pub/sub (a client-side caching invalidation); RESP3 only.
    pub(super) fn invalidate(&mut self) {
        self.write(b">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk0\r\n");
    }

    /// Takes up to `n` bytes for the client; returns them and the message frames they
    /// complete.
    pub(super) fn take(&mut self, n: usize) -> (Vec<u8>, Vec<Sent>) {
        let n = n.min(self.output.len());
        let bytes: Vec<u8> = self.output.drain(..n).collect();
        self.delivered += n as u64;
        let mut done = Vec::new();
        while self.messages.front().is_some_and(|m| m.end <= self.delivered) {
            done.extend(self.messages.pop_front());
        }
        (bytes, done)
    }

    /// True when a name the ACL now denies is subscribed (Redis then closes the connection).
    pub(super) fn holds_denied(&self, denied: &BTreeSet<(Kind, String)>) -> bool {
        denied.iter().any(|(k, n)| self.subs[*k as usize].contains(n.as_bytes()))
    }
}

/// The glob subset the patterns use: `*` and one `[..]` class.
fn matches(pattern: &[u8], s: &[u8]) -> bool {
    match pattern.first() {
        None => s.is_empty(),
        Some(b'*') => (0..=s.len()).any(|i| matches(&pattern[1..], &s[i..])),
        Some(b'[') => {
            let Some(close) = pattern.iter().position(|&c| c == b']') else { return false };
            match s.first() {
                Some(c) if pattern[1..close].contains(c) => matches(&pattern[close + 1..], &s[1..]),
                _ => false,
            }
        }
        Some(&c) => s.first() == Some(&c) && matches(&pattern[1..], &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs_match_as_redis_does_for_the_patterns_used() {
        assert!(matches(b"c*", b"c0") && matches(b"c*", b"c") && !matches(b"c*", b"d0"));
        assert!(matches(b"c[01]", b"c1") && !matches(b"c[01]", b"c2"));
        assert!(!matches(b"x*", b"c0"));
    }
}
