//! The pub/sub simulation (issue 14): one session in the RESP2 subscriber mode or on a RESP3
//! connection, with up to four sinks (the `Subscription`s of one client) subscribing,
//! unsubscribing and going away at random, GETs beside them, a server publishing numbered
//! messages to channels, patterns and shard channels ([`super::pubsub_server`]), bytes cut
//! at random in both directions, lost connections, failed connects, deadlines, and ACL
//! changes that deny a subscribed name (the server closes the connection, and the
//! resubscribe after it is refused).
//!
//! The model bounds what each sink may hear: `may` is what it asked for (from the call on,
//! until it lets go or ends), `must` what it was told it has (its subscribe was answered
//! `+OK`, and it has not let go since). The invariants, checked after every step:
//! - every request completes exactly once, and none is left when the session closes;
//! - nothing but pub/sub commands reaches a RESP2 subscriber connection (a GET there fails
//!   unsent with the subscriber mode's error), and a GET on a RESP3 connection gets its own
//!   value: no push is taken for a reply;
//! - every message frame read goes to every sink that must hear its channel or pattern and
//!   to none that may not (none lost, none invented, none to a sink that let go or ended),
//!   and each sink sees the messages of one channel or pattern in the order they were
//!   published;
//! - a push that is not pub/sub comes out as a push event, only on RESP3;
//! - `Resubscribed` comes only right after a reconnect's `Ready`, to sinks that asked for
//!   names, and to every sink that must hear one; at that `Ready` the server holds every
//!   name a sink must hear;
//! - a sink ends (`SinkEnd`) once, and hears nothing after;
//! - once everything settled, the server is subscribed to nothing no sink asked for, and to
//!   every name a sink must hear.
//!
//! Found by this simulation (pinned in `regress.rs`): a refused subscribe forgot its names
//! for every sink, also those another request then subscribed (told `+OK`, never routed):
//! the registry keeps the ids of the requests on their way per name, through unsubscribes,
//! forgetting and resends (a count went wrong when a request confirmed in part was sent
//! again); a second sink's subscribe of a held name was answered at once, ahead of an
//! UNSUBSCRIBE still on its way: every subscribe now goes to the server; a confirmation for
//! a name nobody holds any more left the server subscribed for nobody: it is unsubscribed
//! again; an unsubscribe during the setup waited in the offline queue and could time out
//! unsent: it goes out with the setup.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::{Bytes, BytesMut};

use super::pubsub_server::{self as server, Sent, ServerConn};
use super::rng::Rng;
use crate::error::Error;
use crate::proto::backoff::Backoff;
use crate::proto::handshake::{Handshake, HandshakeConfig};
use crate::proto::pubsub::{split_message, Kind};
use crate::proto::session::{Event, Mode, Request, Session, SessionConfig};
use crate::resp::{CommandBuf, Limits};

/// Steps with callers, faults and publishes, then up to `SETTLE` more to let things finish.
const STEPS: usize = 400;
const SETTLE: usize = 20_000;
const SWEEP_MS: u64 = 100;
const INVALIDATE: &[u8] = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk0\r\n";

/// What the pub/sub runs went through (summed over seeds; the seed test asserts each is
/// reached).
#[derive(Debug, Default, Clone)]
pub(super) struct PubSubStats {
    pub(super) resp3_seeds: u64,
    pub(super) resp2_seeds: u64,
    /// Message frames delivered, and those delivered to two sinks or more.
    pub(super) messages: u64,
    pub(super) fanned_out: u64,
    pub(super) resubscribed: u64,
    pub(super) refused: u64,
    pub(super) sinks_ended: u64,
    pub(super) subscribe_failed: u64,
    pub(super) gets_ok: u64,
    pub(super) gets_refused: u64,
    pub(super) pushes: u64,
    pub(super) lost: u64,
    pub(super) revoked: u64,
}

impl PubSubStats {
    pub(super) fn add(&mut self, o: &PubSubStats) {
        self.resp3_seeds += o.resp3_seeds;
        self.resp2_seeds += o.resp2_seeds;
        self.messages += o.messages;
        self.fanned_out += o.fanned_out;
        self.resubscribed += o.resubscribed;
        self.refused += o.refused;
        self.sinks_ended += o.sinks_ended;
        self.subscribe_failed += o.subscribe_failed;
        self.gets_ok += o.gets_ok;
        self.gets_refused += o.gets_refused;
        self.pushes += o.pushes;
        self.lost += o.lost;
        self.revoked += o.revoked;
    }
}

/// A request waiting for its reply.
#[derive(Debug)]
enum Op {
    Get {
        key: String,
    },
    /// Each name with the sink's count of unsubscribes of it at the call: an answer tells
    /// the sink it holds a name only if it has not let go of it since.
    Subscribe {
        sink: u64,
        kind: Kind,
        names: Vec<(Bytes, u64)>,
    },
    Unsubscribe,
}

/// What one sink may and must hear, per kind; and the last message number it saw per
/// channel or pattern.
#[derive(Debug, Default)]
struct SinkModel {
    may: [BTreeSet<Bytes>; 3],
    must: [BTreeSet<Bytes>; 3],
    last: BTreeMap<(Kind, Bytes), u64>,
    /// Unsubscribes per name.
    cuts: BTreeMap<(Kind, Bytes), u64>,
}

/// Message events of one frame, gathered until the next event of another frame.
struct Group {
    frame: Bytes,
    sinks: Vec<u64>,
}

pub(super) struct PubSubSim {
    rng: Rng,
    now: u64,
    resp3: bool,
    session: Session<u64>,
    conn: Option<ServerConn>,
    /// The client's read buffer (a partial frame stays there between reads).
    rbuf: BytesMut,
    /// A connect in progress: when it completes and whether it succeeds.
    connecting: Option<(u64, bool)>,
    denied: BTreeSet<(Kind, String)>,
    sinks: BTreeMap<u64, SinkModel>,
    next_sink: u64,
    ops: BTreeMap<u64, Op>,
    next_id: u64,
    seq: u64,
    was_ready: bool,
    next_sweep: u64,
    /// Message frames the last read completed, in order, not yet matched to events.
    expected: VecDeque<Sent>,
    trace: VecDeque<String>,
    traced: bool,
    pub(super) stats: PubSubStats,
}

impl PubSubSim {
    pub(super) fn new(seed: u64, traced: bool) -> Self {
        let mut rng = Rng::new(seed ^ 0x7B5C_0E11_9D3A_4F27);
        let resp3 = rng.chance(50);
        let handshake = if resp3 {
            Handshake::new(&HandshakeConfig { protocol: 3, ..HandshakeConfig::default() })
        } else {
            Handshake::default()
        };
        let cfg = SessionConfig {
            handshake,
            connect_timeout: 1_000,
            read_timeout: Some(2_000),
            write_timeout: Some(2_000),
            reconnect: true,
            backoff: Backoff::new(1, 40, 0.5, seed),
            queue_size: 1_000,
            limits: Limits::default(),
            max_attempts: rng.range(1, 4) as u8,
            mode: if resp3 { Mode::Shared } else { Mode::Subscriber },
        };
        let mut session = Session::new(cfg);
        session.start(0);
        let denied = server::NAMES
            .iter()
            .zip(Kind::ALL)
            .flat_map(|(names, kind)| {
                names.iter().filter(|n| n.starts_with('x')).map(move |n| (kind, n.to_string()))
            })
            .collect();
        let mut stats = PubSubStats::default();
        if resp3 {
            stats.resp3_seeds = 1;
        } else {
            stats.resp2_seeds = 1;
        }
        PubSubSim {
            rng,
            now: 0,
            resp3,
            session,
            conn: None,
            rbuf: BytesMut::new(),
            connecting: None,
            denied,
            sinks: BTreeMap::new(),
            next_sink: 1,
            ops: BTreeMap::new(),
            next_id: 1,
            seq: 0,
            was_ready: false,
            next_sweep: SWEEP_MS,
            expected: VecDeque::new(),
            trace: VecDeque::new(),
            traced,
            stats,
        }
    }

    /// Runs the seed; the error says which invariant broke.
    pub(super) fn run(&mut self) -> Result<(), String> {
        self.events(false)?;
        for _ in 0..STEPS {
            self.step(true)?;
        }
        let mut settled = false;
        for _ in 0..SETTLE {
            if self.settled() {
                settled = true;
                break;
            }
            self.step(false)?;
        }
        if !settled {
            return Err(format!("nothing settled after {SETTLE} quiet steps"));
        }
        self.check_settled()?;
        self.session.close(self.now);
        self.events(false)?;
        if let Some((id, op)) = self.ops.iter().next() {
            return Err(format!("request {id} ({op:?}) never completed"));
        }
        // A sink that holds nothing is not in the registry: nothing ends it.
        if let Some((sink, s)) =
            self.sinks.iter().find(|(_, s)| s.must.iter().any(|h| !h.is_empty()))
        {
            return Err(format!(
                "sink {sink} holding {:?} did not end when the session closed",
                s.must
            ));
        }
        Ok(())
    }

    /// The last steps, for a failure's report.
    pub(super) fn render_trace(&self) -> String {
        let mode = if self.resp3 { "RESP3 shared" } else { "RESP2 subscriber" };
        let steps: Vec<&str> = self.trace.iter().map(String::as_str).collect();
        format!("pub/sub sim, {mode} connection\n{}", steps.join("\n"))
    }

    fn note(&mut self, line: impl FnOnce() -> String) {
        if self.traced {
            if self.trace.len() == 200 {
                self.trace.pop_front();
            }
            let line = format!("{:>6} ms  {}", self.now, line());
            self.trace.push_back(line);
        }
    }

    fn settled(&self) -> bool {
        self.ops.is_empty()
            && self.session.in_flight() == 0
            && self.session.out().is_empty()
            && self.session.is_ready()
            && self.conn.as_ref().is_some_and(|c| c.output.is_empty() && c.messages.is_empty())
    }

    /// One step: time moves on a little, and one thing happens.
    fn step(&mut self, busy: bool) -> Result<(), String> {
        self.now += self.rng.below(4);
        if let Some((due, ok)) = self.connecting {
            if due <= self.now {
                self.connecting = None;
                self.connect_done(ok)?;
            }
        }
        if self.session.poll_timeout().is_some_and(|t| t <= self.now) {
            self.session.handle_timeout(self.now);
            self.events(false)?;
        }
        if self.next_sweep <= self.now {
            self.next_sweep = self.now + SWEEP_MS;
            self.session.handle_sweep(self.now);
            self.events(false)?;
        }
        let roll = self.rng.below(100);
        match roll {
            0..=11 if busy => self.caller()?,
            12..=35 => self.write()?,
            36..=55 => self.serve()?,
            56..=79 => self.read()?,
            80..=91 if busy => self.publish(),
            92..=93 if busy && self.resp3 => {
                if let Some(c) = &mut self.conn {
                    c.invalidate();
                }
            }
            94 if busy && self.rng.chance(50) => self.kill("fault")?,
            95 if busy && self.rng.chance(5) => self.revoke()?,
            _ => {}
        }
        Ok(())
    }

    fn connect_done(&mut self, ok: bool) -> Result<(), String> {
        if ok {
            self.note(|| "connected".into());
            self.conn = Some(ServerConn::new(self.resp3));
            self.rbuf.clear();
            self.session.handle_connected(self.now);
        } else {
            self.note(|| "connect failed".into());
            self.session.handle_connect_failed(Error::connection("refused"), self.now);
        }
        self.events(false)
    }

    /// A caller does something: a GET, a subscribe, an unsubscribe, or a sink goes away.
    fn caller(&mut self) -> Result<(), String> {
        let deadline = self.rng.chance(70).then(|| self.now + self.rng.range(5, 300));
        let id = self.next_id;
        self.next_id += 1;
        match self.rng.below(10) {
            0..=1 => {
                let key = format!("k{}", self.rng.below(10));
                let mut c = CommandBuf::new();
                c.push(b"GET");
                c.push(key.as_bytes());
                self.note(|| format!("#{id} GET {key}"));
                self.ops.insert(id, Op::Get { key });
                self.session.submit(Request::new(c.finish(), id, deadline), self.now);
            }
            2..=6 => {
                let live = self.sinks.len() as u64;
                let sink = if live == 0 || (live < 4 && self.rng.chance(30)) {
                    self.next_sink += 1;
                    self.sinks.insert(self.next_sink, SinkModel::default());
                    self.next_sink
                } else {
                    self.pick_sink()
                };
                let kind = Kind::ALL[self.rng.pick(3)];
                let names = self.pick_names(kind);
                let mut counted = Vec::new();
                if let Some(s) = self.sinks.get_mut(&sink) {
                    s.may[kind as usize].extend(names.iter().cloned());
                    for n in &names {
                        counted.push((
                            n.clone(),
                            s.cuts.get(&(kind, n.clone())).copied().unwrap_or(0),
                        ));
                    }
                }
                self.note(|| format!("#{id} sink {sink} subscribes {kind:?} {names:?}"));
                self.ops.insert(id, Op::Subscribe { sink, kind, names: counted });
                self.session.subscribe(sink, kind, &names, id, deadline, self.now);
            }
            7..=8 if !self.sinks.is_empty() => {
                let sink = self.pick_sink();
                let kind = Kind::ALL[self.rng.pick(3)];
                let names = self.rng.chance(60).then(|| self.pick_names(kind));
                if let Some(s) = self.sinks.get_mut(&sink) {
                    let cut: Vec<Bytes> = match &names {
                        Some(names) => names.clone(),
                        None => s.may[kind as usize].iter().cloned().collect(),
                    };
                    for n in cut {
                        *s.cuts.entry((kind, n)).or_insert(0) += 1;
                    }
                    match &names {
                        Some(names) => names.iter().for_each(|n| {
                            s.may[kind as usize].remove(n);
                            s.must[kind as usize].remove(n);
                        }),
                        None => {
                            s.may[kind as usize].clear();
                            s.must[kind as usize].clear();
                        }
                    }
                }
                self.note(|| format!("#{id} sink {sink} unsubscribes {kind:?} {names:?}"));
                self.ops.insert(id, Op::Unsubscribe);
                self.session.unsubscribe(
                    sink,
                    kind,
                    names.as_deref(),
                    Some(id),
                    deadline,
                    self.now,
                );
            }
            9 if !self.sinks.is_empty() => {
                let sink = self.pick_sink();
                self.note(|| format!("sink {sink} is dropped"));
                self.sinks.remove(&sink);
                self.session.drop_sink(sink, self.now);
            }
            _ => return Ok(()),
        }
        self.events(false)
    }

    fn pick_sink(&mut self) -> u64 {
        let i = self.rng.pick(self.sinks.len());
        *self.sinks.keys().nth(i).unwrap_or(&0)
    }

    /// One to three names of `kind`: allowed ones, or sometimes one denied from the start.
    fn pick_names(&mut self, kind: Kind) -> Vec<Bytes> {
        let pool = server::NAMES[kind as usize];
        let count = self.rng.range(1, 3) as usize;
        let mut names: Vec<Bytes> = Vec::new();
        for _ in 0..count {
            let name = pool[self.rng.pick(pool.len())];
            let name = Bytes::from_static(name.as_bytes());
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The client writes part of what it has to the server.
    fn write(&mut self) -> Result<(), String> {
        let Some(conn) = &mut self.conn else { return Ok(()) };
        let mut io = Vec::new();
        self.session.out().slices(&mut io, 64);
        let bytes: Vec<u8> = io.iter().flat_map(|s| s.iter().copied()).collect();
        if bytes.is_empty() {
            return Ok(());
        }
        let n = self.rng.range(1, bytes.len() as u64) as usize;
        conn.receive(&bytes[..n]);
        self.note(|| {
            format!("client wrote {n} of {}: {}", bytes.len(), super::wire::show(&bytes[..n]))
        });
        self.session.handle_written(n, self.now);
        self.events(false)
    }

    /// The server runs what it received.
    fn serve(&mut self) -> Result<(), String> {
        let Some(conn) = &mut self.conn else { return Ok(()) };
        let before = conn.commands.len();
        conn.run(&self.denied)?;
        let ran = conn.commands[before..].iter().map(|c| String::from_utf8_lossy(c).into_owned());
        let ran: Vec<String> = ran.collect();
        if !ran.is_empty() {
            self.note(|| format!("server ran {ran:?}"));
        }
        Ok(())
    }

    /// The client reads part of what the server wrote.
    fn read(&mut self) -> Result<(), String> {
        let Some(conn) = &mut self.conn else { return Ok(()) };
        if conn.output.is_empty() {
            return Ok(());
        }
        let n = self.rng.range(1, conn.output.len() as u64) as usize;
        let (bytes, done) = conn.take(n);
        self.expected.extend(done);
        self.rbuf.extend_from_slice(&bytes);
        self.note(|| format!("client read {n} bytes: {}", super::wire::show(&bytes)));
        let mut buf = std::mem::take(&mut self.rbuf);
        self.session.handle_input(&mut buf, self.now);
        self.rbuf = buf;
        self.events(true)
    }

    fn publish(&mut self) {
        let Some(conn) = &mut self.conn else { return };
        self.seq += 1;
        let (kind, channel) = server::TARGETS[self.rng.pick(server::TARGETS.len())];
        conn.publish(self.seq, kind, channel);
    }

    /// The connection breaks under both sides.
    fn kill(&mut self, why: &'static str) -> Result<(), String> {
        if self.conn.take().is_none() {
            return Ok(());
        }
        self.note(|| format!("connection lost ({why})"));
        self.stats.lost += 1;
        self.rbuf.clear();
        self.expected.clear();
        let eof = self.rng.chance(50);
        self.session.handle_closed(Error::connection("reset by the simulation"), eof, self.now);
        self.events(false)
    }

    /// An ACL change denies a name; Redis closes a connection subscribed to it.
    fn revoke(&mut self) -> Result<(), String> {
        let (kind, name) = server::REVOCABLE[self.rng.pick(server::REVOCABLE.len())];
        if !self.denied.insert((kind, name.to_string())) {
            return Ok(());
        }
        self.stats.revoked += 1;
        self.note(|| format!("ACL now denies {kind:?} {name}"));
        if self.conn.as_ref().is_some_and(|c| c.holds_denied(&self.denied)) {
            self.kill("the ACL change closed it")?;
        }
        Ok(())
    }

    /// The sinks that must hear `(kind, name)`.
    fn must(&self, kind: Kind, name: &[u8]) -> Vec<u64> {
        let must = |s: &&u64| self.sinks[*s].must[kind as usize].contains(name);
        self.sinks.keys().filter(must).copied().collect()
    }

    /// The sinks that may hear `(kind, name)`.
    fn may(&self, kind: Kind, name: &[u8]) -> Vec<u64> {
        let may = |s: &&u64| self.sinks[*s].may[kind as usize].contains(name);
        self.sinks.keys().filter(may).copied().collect()
    }

    /// Drains the session's events, checking each; `input` when they follow a read.
    fn events(&mut self, input: bool) -> Result<(), String> {
        let mut group: Option<Group> = None;
        let mut resubscribed: Option<BTreeSet<u64>> = None;
        while let Some(ev) = self.session.poll_event() {
            if !matches!(ev, Event::Message(..)) {
                if let Some(g) = group.take() {
                    self.delivered(g)?;
                }
            }
            if !matches!(ev, Event::Resubscribed(_)) {
                if let Some(got) = resubscribed.take() {
                    self.check_resubscribed(&got)?;
                }
            }
            match ev {
                Event::Message(sink, frame) => match &mut group {
                    Some(g)
                        if g.frame.as_ptr() == frame.as_ptr() && g.frame.len() == frame.len() =>
                    {
                        if g.sinks.contains(&sink) {
                            return Err(format!("sink {sink} got one message frame twice"));
                        }
                        g.sinks.push(sink);
                    }
                    _ => {
                        if let Some(g) = group.take() {
                            self.delivered(g)?;
                        }
                        group = Some(Group { frame, sinks: vec![sink] });
                    }
                },
                Event::Reply(id, result) => self.reply(id, result)?,
                Event::Connect => {
                    let due = self.now + self.rng.range(1, 30);
                    self.connecting = Some((due, self.rng.chance(80)));
                    self.note(|| "session asks to connect".into());
                }
                Event::Disconnect => {
                    if input {
                        return Err(
                            "the session dropped the connection on well-formed input".into()
                        );
                    }
                    self.note(|| "session closes the connection".into());
                    self.conn = None;
                    self.rbuf.clear();
                    self.expected.clear();
                }
                Event::Ready { .. } => {
                    self.note(|| "ready".into());
                    self.check_server_holds_ok("at Ready")?;
                    if self.was_ready {
                        resubscribed = Some(BTreeSet::new());
                    }
                    self.was_ready = true;
                }
                Event::Resubscribed(sink) => {
                    let Some(got) = &mut resubscribed else {
                        return Err(format!("Resubscribed({sink}) not right after a reconnect"));
                    };
                    let holds =
                        self.sinks.get(&sink).is_some_and(|s| s.may.iter().any(|h| !h.is_empty()));
                    if !holds || !got.insert(sink) {
                        return Err(format!(
                            "Resubscribed({sink}) for a sink holding nothing, or twice"
                        ));
                    }
                    self.stats.resubscribed += 1;
                }
                Event::SinkEnd(sink, e) => {
                    self.note(|| format!("sink {sink} ends: {e}"));
                    if self.sinks.remove(&sink).is_none() {
                        return Err(format!("SinkEnd({sink}) for a sink that was gone"));
                    }
                    self.stats.sinks_ended += 1;
                }
                Event::Push(frame) => {
                    if !self.resp3 || &frame[..] != INVALIDATE {
                        return Err(format!("unexpected push {}", super::wire::show(&frame)));
                    }
                    self.stats.pushes += 1;
                }
                Event::Lost(..) | Event::ConnectFailed(_) => {}
            }
        }
        if let Some(g) = group.take() {
            self.delivered(g)?;
        }
        if let Some(got) = resubscribed.take() {
            self.check_resubscribed(&got)?;
        }
        if input {
            let missed: Vec<String> = std::mem::take(&mut self.expected)
                .into_iter()
                .filter(|m| !self.must(m.kind, &m.name).is_empty())
                .map(|m| format!("#{} {:?} {:?}", m.seq, m.kind, m.name))
                .collect();
            if !missed.is_empty() {
                return Err(format!("message frames read and never delivered: {missed:?}"));
            }
        }
        Ok(())
    }

    /// The sinks one message frame went to: all that must hear it, none that may not, in
    /// publication order.
    fn delivered(&mut self, g: Group) -> Result<(), String> {
        let Some((kind, pattern, channel, payload)) = split_message(&g.frame) else {
            return Err(format!("a message event of a frame that is not a message: {:?}", g.frame));
        };
        let name = pattern.unwrap_or_else(|| channel.clone());
        let seq: u64 = std::str::from_utf8(&payload)
            .ok()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("payload {payload:?} is not a message number"))?;
        loop {
            let Some(m) = self.expected.pop_front() else {
                return Err(format!(
                    "message #{seq} {kind:?} {name:?} was never sent (or came twice)"
                ));
            };
            if m.seq == seq && m.kind == kind && m.name == name {
                break;
            }
            let holders = self.must(m.kind, &m.name);
            if !holders.is_empty() {
                return Err(format!(
                    "message #{} {:?} {:?} was read but sinks {holders:?} never got it",
                    m.seq, m.kind, m.name
                ));
            }
        }
        let mut sinks = g.sinks;
        sinks.sort_unstable();
        let (must, may) = (self.must(kind, &name), self.may(kind, &name));
        if !must.iter().all(|s| sinks.contains(s)) || !sinks.iter().all(|s| may.contains(s)) {
            return Err(format!(
                "message #{seq} {kind:?} {name:?} went to sinks {sinks:?}; must: {must:?}, may: {may:?}"
            ));
        }
        for sink in &sinks {
            let Some(s) = self.sinks.get_mut(sink) else { continue };
            let last = s.last.entry((kind, name.clone())).or_insert(0);
            if seq <= *last {
                return Err(format!("sink {sink} got #{seq} on {name:?} after #{last}"));
            }
            *last = seq;
        }
        self.stats.messages += 1;
        if sinks.len() >= 2 {
            self.stats.fanned_out += 1;
        }
        Ok(())
    }

    fn reply(&mut self, id: u64, result: Result<Bytes, Error>) -> Result<(), String> {
        let Some(op) = self.ops.remove(&id) else {
            return Err(format!("a reply for request {id}, which is not waiting (twice?)"));
        };
        let shown = match &result {
            Ok(f) => super::wire::show(f),
            Err(e) => format!("error: {e}"),
        };
        self.note(|| format!("#{id} answered: {shown}"));
        match op {
            Op::Get { key } => match result {
                Ok(frame) => {
                    let value = format!("v:{key}");
                    let want = format!("${}\r\n{value}\r\n", value.len());
                    if !self.resp3 || frame[..] != *want.as_bytes() {
                        return Err(format!("GET {key} got {shown}"));
                    }
                    self.stats.gets_ok += 1;
                }
                Err(Error::Usage(m)) if !self.resp3 && m.contains("subscriber mode") => {
                    self.stats.gets_refused += 1;
                }
                Err(Error::Usage(m)) => return Err(format!("GET {key} refused: {m}")),
                Err(_) if !self.resp3 => {
                    return Err(format!(
                        "GET {key} on a subscriber connection failed otherwise: {shown}"
                    ))
                }
                Err(_) => {}
            },
            Op::Subscribe { sink, kind, names } => match result {
                Ok(frame) if &frame[..] == b"+OK\r\n" => {
                    if let Some(s) = self.sinks.get_mut(&sink) {
                        let k = kind as usize;
                        let told: Vec<Bytes> = names
                            .into_iter()
                            .filter(|(n, cut)| {
                                s.cuts.get(&(kind, n.clone())).copied().unwrap_or(0) == *cut
                            })
                            .map(|(n, _)| n)
                            .collect();
                        s.must[k].extend(told);
                    }
                }
                Ok(frame) if frame.first() == Some(&b'-') => {
                    let denied = names.iter().any(|(n, _)| {
                        self.denied.contains(&(kind, String::from_utf8_lossy(n).into_owned()))
                    });
                    if !denied {
                        return Err(format!("a subscribe of allowed names {names:?} was refused"));
                    }
                    self.stats.refused += 1;
                }
                Ok(_) => return Err(format!("a subscribe answered {shown}")),
                Err(_) => self.stats.subscribe_failed += 1,
            },
            Op::Unsubscribe => {
                if let Ok(frame) = &result {
                    if &frame[..] != b"+OK\r\n" {
                        return Err(format!("an unsubscribe answered {shown}"));
                    }
                }
            }
        }
        Ok(())
    }

    /// After a reconnect's `Ready`: every sink told it holds a name heard of it.
    fn check_resubscribed(&self, got: &BTreeSet<u64>) -> Result<(), String> {
        for (sink, s) in &self.sinks {
            if s.must.iter().any(|o| !o.is_empty()) && !got.contains(sink) {
                return Err(format!(
                    "sink {sink} must hear {:?} and heard of no resubscribe",
                    s.must
                ));
            }
        }
        Ok(())
    }

    /// The server connection holds every name a live sink was told it holds.
    fn check_server_holds_ok(&self, when: &str) -> Result<(), String> {
        let Some(conn) = &self.conn else {
            return Err(format!("{when}: ready without a server connection"));
        };
        for (sink, s) in &self.sinks {
            for kind in Kind::ALL {
                let k = kind as usize;
                if let Some(n) = s.must[k].iter().find(|n| !conn.subs[k].contains(*n)) {
                    return Err(format!(
                        "{when}: sink {sink} was told it holds {kind:?} {n:?}, which the server \
                         connection is not subscribed to ({:?})",
                        conn.subs[k]
                    ));
                }
            }
        }
        Ok(())
    }

    /// Once quiet: no subscription on the server that no sink holds, and every one a sink
    /// was told it has.
    fn check_settled(&self) -> Result<(), String> {
        self.check_server_holds_ok("settled")?;
        let Some(conn) = &self.conn else { return Ok(()) };
        for kind in Kind::ALL {
            let k = kind as usize;
            for n in &conn.subs[k] {
                if !self.sinks.values().any(|s| s.may[k].contains(n)) {
                    return Err(format!("settled: the server is still subscribed to {kind:?} {n:?}, which no sink asked for"));
                }
            }
        }
        Ok(())
    }
}
