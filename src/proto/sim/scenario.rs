//! What one seed simulates: the session's settings, the server's behaviour, the network's
//! faults and the callers' schedule, all drawn from the seed.
//!
//! The resend features (attempts, idempotent requests, refusal windows, delayed submissions)
//! are drawn from a second generator, after the rest: the base scenario of a seed is what it
//! was before they existed, only the extras are new.

use bytes::Bytes;

use super::check::Kind;
use super::net::NetCfg;
use super::rng::Rng;
use super::server::{Refusal, ServerCfg, Window};
use crate::proto::backoff::Backoff;
use crate::proto::handshake::{Handshake, HandshakeConfig};
use crate::proto::session::{Mode, SessionConfig};
use crate::resp::{CommandBuf, Limits};

/// One request a caller will submit.
#[derive(Debug, Clone)]
pub(super) struct Spec {
    pub(super) kind: Kind,
    /// Deadline relative to submission, ms.
    pub(super) timeout: Option<u64>,
    /// An earlier request whose key this one reads, deletes or pushes to.
    pub(super) other: u64,
    /// BLPOP's own timeout, ms (> 0), and when another client pushes to its list, if ever
    /// (relative to submission).
    pub(super) blpop: (u64, Option<u64>),
    /// Extra bytes in SET's value (large values arrive in many reads).
    pub(super) pad: usize,
    /// Submitted as idempotent (GET, ECHO, PING always; SET and INCR when the scenario
    /// declares them so): the session may run it again after a lost connection.
    pub(super) idempotent: bool,
    /// Submitted with `submit_at`, to be sent this long after submission (a caller's retry
    /// policy); its deadline counts from then.
    pub(super) delay: Option<u64>,
    /// Submitted with `Resend::Never`: sent at most once, a refusal delivered as it is.
    pub(super) never: bool,
    /// Submitted with `OnTimeout::Abandon`: its deadline fails it alone.
    pub(super) abandon: bool,
}

/// How the requests of one arrival go to the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Batch {
    /// Each its own request (one, or a burst).
    Single,
    /// One group: written contiguously, answered as one unit (a pipeline).
    Pipeline,
    /// One atomic group: MULTI … EXEC/DISCARD.
    Transaction,
    /// On an exclusive connection: one owner's steps, each submitted once the one before it
    /// was answered (WATCH, GET, MULTI, commands, EXEC), cleaned up after a failure.
    Chain,
}

/// Requests submitted together at one instant (a transaction is submitted as a batch).
#[derive(Debug, Clone)]
pub(super) struct Arrival {
    pub(super) at: u64,
    pub(super) specs: Vec<Spec>,
    pub(super) batch: Batch,
}

#[derive(Debug, Clone)]
pub(super) struct Scenario {
    pub(super) session: SessionConfig,
    pub(super) server: ServerCfg,
    pub(super) net: NetCfg,
    pub(super) arrivals: Vec<Arrival>,
    /// The reactor's timer wheel fires up to this late, ms.
    pub(super) timer_lateness: u64,
    /// Call `close()` on the session at this time (the client was dropped).
    pub(super) close_at: Option<u64>,
    /// Percent of SET and INCR requests declared idempotent.
    pub(super) idempotent_writes: u64,
    /// Percent of requests submitted with a delay (`submit_at`).
    pub(super) delayed: u64,
    /// Idempotent requests are submitted with `Resend::IfIdempotent` (the client's
    /// `retry_maybe_executed`), the others with `Resend::IfUnwritten`.
    pub(super) retry_written: bool,
    /// Percent of requests submitted with `Resend::Never`, and with `OnTimeout::Abandon`.
    pub(super) never: u64,
    pub(super) abandon: u64,
}

impl Scenario {
    /// Draws the base scenario from `rng` and the resend extras from `extra`.
    pub(super) fn draw(rng: &mut Rng, extra: &mut Rng) -> Scenario {
        let protocol = if rng.chance(40) { 3 } else { 2 };
        // Auth: none, right, wrong (WRONGPASS), or missing (NOAUTH on every command).
        let (server_pw, client_pw) = match rng.below(20) {
            0..=10 => (None, None),
            11..=17 => (Some("pw"), Some("pw")),
            18 => (Some("pw"), Some("bad")),
            _ => (Some("pw"), None),
        };
        let db = match rng.below(40) {
            0..=23 => 0,
            39 => 16 + rng.below(3) as i64, // out of range: refused for good
            _ => 1 + rng.below(3) as i64,
        };
        let handshake = Handshake::new(&HandshakeConfig {
            protocol,
            username: (client_pw.is_some() && rng.chance(30)).then(|| "default".into()),
            password: client_pw.map(|p| p.as_bytes().to_vec()),
            db,
            client_name: rng.chance(40).then(|| "sim".into()),
        });
        let blackholes = rng.chance(40);
        let timeout =
            |rng: &mut Rng, forced: bool| (forced || rng.chance(70)).then(|| rng.range(50, 3_000));
        let base = rng.range(1, 100);
        let session = SessionConfig {
            handshake,
            connect_timeout: rng.range(20, 2_000),
            read_timeout: timeout(rng, blackholes),
            write_timeout: timeout(rng, blackholes),
            reconnect: rng.chance(95),
            backoff: Backoff::new(
                base,
                rng.range(base, 2_000),
                rng.below(50) as f64 / 100.0,
                rng.next_u64(),
            ),
            queue_size: if rng.chance(40) { rng.below(12) as usize } else { 1_000 },
            // Sometimes lower than the largest value (a GET of it is a protocol error that
            // resets the connection), never lower than the handshake's replies (the longest
            // is NOAUTH's line) or every attempt would fail the same way.
            limits: if rng.chance(5) {
                Limits { max_bulk_len: rng.range(300, 20_000) as usize, ..Limits::default() }
            } else {
                Limits::default()
            },
            // Drawn with the extras below.
            max_attempts: 1,
            mode: Mode::Shared,
        };
        let loading = rng.chance(15);
        let loading_until = if loading { rng.range(1, 2_000) } else { 0 };
        let server = ServerCfg {
            password: server_pw.map(String::from),
            windows: if loading {
                vec![Window { from: 0, until: loading_until, why: Refusal::Loading }]
            } else {
                Vec::new()
            },
            loading_blocks_handshake: rng.chance(50),
            push_noise: if protocol == 3 && rng.chance(50) { rng.range(1, 30) } else { 0 },
            garbage: if rng.chance(10) { rng.range(1, 20) } else { 0 },
            db: usize::try_from(db).unwrap_or(0).min(15),
        };
        let slow = rng.chance(20);
        let faulty = rng.chance(70);
        let net = NetCfg {
            latency: if slow { (0, rng.range(1, 300)) } else { (0, rng.range(0, 5)) },
            split: rng.below(60),
            connect_delay: rng.range(0, 50),
            refuse: if faulty { rng.below(30) } else { 0 },
            connect_blackhole: if faulty && blackholes { rng.below(10) } else { 0 },
            fault: if faulty { rng.range(20, 80) } else { 0 },
            blackhole: if blackholes { rng.range(10, 50) } else { 0 },
            window: if rng.chance(30) { (1, 40) } else { (40, 64 * 1024) },
            short_write: rng.below(50),
            linger: rng.below(100),
        };
        let arrivals = callers(rng);
        let last = arrivals.last().map_or(0, |a| a.at);
        let mut sc = Scenario {
            session,
            server,
            net,
            arrivals,
            timer_lateness: match rng.below(10) {
                0..=4 => 0,
                5..=8 => 3,
                _ => 60,
            },
            close_at: rng.chance(5).then(|| rng.below(last + 1)),
            idempotent_writes: 0,
            delayed: 0,
            retry_written: false,
            never: 0,
            abandon: 0,
        };
        sc.draw_resends(extra, last);
        sc
    }

    /// The connection modes' extras, from a generator of their own (the seeds' other draws
    /// stay as they were): some seeds run an exclusive connection whose owner runs WATCH/MULTI
    /// chains; the others turn some bursts into pipelines; some requests are submitted with
    /// `Resend::Never` or `OnTimeout::Abandon`.
    pub(super) fn draw_modes(&mut self, rng: &mut Rng) {
        self.never = [0, 0, 10, 50][rng.pick(4)];
        self.abandon = [0, 0, 20, 80][rng.pick(4)];
        if rng.chance(25) {
            self.session.mode = Mode::Exclusive;
            self.session.queue_size = self.session.queue_size.max(8);
            // The owner's steps may have no deadline: a handshake that can never finish
            // within connect_timeout on this network would leave them waiting for good.
            let rtt = 2 * self.net.latency.1 + self.net.connect_delay;
            self.session.connect_timeout = self.session.connect_timeout.max(3 * rtt + 50);
            let mut id = 0;
            let mut at = 0;
            let deadlines = rng.chance(80);
            let mut arrivals = Vec::new();
            for _ in 0..rng.range(1, 12) {
                at += rng.below(400);
                let mut steps = Vec::new();
                let mut step = |rng: &mut Rng, kind| {
                    let s = spec(rng, kind, id, deadlines);
                    id += 1;
                    s
                };
                if rng.chance(60) {
                    let watch = step(rng, Kind::Watch);
                    let mut get = step(rng, Kind::Get);
                    get.other = watch.other;
                    steps.extend([watch, get]);
                }
                steps.push(step(rng, Kind::Multi));
                for _ in 0..rng.range(1, 3) {
                    let kind = [Kind::Set, Kind::Incr, Kind::Echo][rng.pick(3)];
                    steps.push(step(rng, kind));
                }
                let end = match rng.below(10) {
                    0 => Kind::Discard,
                    _ => Kind::Exec,
                };
                steps.push(step(rng, end));
                if rng.chance(30) {
                    steps.push(step(rng, Kind::Incr));
                }
                arrivals.push(Arrival { at, specs: steps, batch: Batch::Chain });
            }
            self.arrivals = arrivals;
            self.close_at = self.close_at.map(|_| rng.below(at + 1));
        } else {
            for a in &mut self.arrivals {
                if a.batch == Batch::Single
                    && a.specs.iter().all(|s| s.kind != Kind::Blpop && s.delay.is_none())
                    && rng.chance(15)
                {
                    a.batch = Batch::Pipeline;
                    let before = a.specs[0].other;
                    for _ in 0..rng.range(1, 4) {
                        let kind =
                            [Kind::Set, Kind::Get, Kind::Echo, Kind::Incr, Kind::Ping][rng.pick(5)];
                        let mut s = spec(rng, kind, before, true);
                        s.timeout = a.specs[0].timeout;
                        a.specs.push(s);
                    }
                }
            }
        }
        for a in &mut self.arrivals {
            let never = rng.chance(self.never);
            let abandon = rng.chance(self.abandon);
            for s in &mut a.specs {
                // A group has one policy; a chain's steps each their own.
                let (never, abandon) = match a.batch {
                    Batch::Chain | Batch::Single => {
                        (rng.chance(self.never), rng.chance(self.abandon))
                    }
                    Batch::Pipeline | Batch::Transaction => (never, abandon),
                };
                s.never = never && !s.idempotent;
                s.abandon = abandon && s.kind != Kind::Blpop;
            }
        }
    }

    /// The resend extras: attempts, `retry_written`, refusal windows, which requests are
    /// idempotent and which are submitted with a delay.
    fn draw_resends(&mut self, rng: &mut Rng, last: u64) {
        self.session.max_attempts = rng.range(1, 4) as u8;
        self.retry_written = rng.chance(50);
        if rng.chance(40) {
            for _ in 0..rng.range(1, 4) {
                let from = rng.below(last + 2_000);
                let until = from + 1 + rng.skewed(800);
                let why = if rng.chance(50) { Refusal::Loading } else { Refusal::Busy };
                self.server.windows.push(Window { from, until, why });
            }
        }
        if rng.chance(10) {
            // Write stalls: small send windows, black holes, a write_timeout that fires first.
            self.net.fault = rng.range(50, 90);
            self.net.blackhole = 100;
            self.net.window = (1, 40);
            let write = rng.range(50, 500);
            self.session.write_timeout = Some(write);
            // Black holes need a read stall check too, or a request with no deadline written
            // whole into one would wait forever (no draw here: the seeds stay as they were).
            self.session.read_timeout = Some(self.session.read_timeout.unwrap_or(write) + 1_000);
        }
        self.idempotent_writes = [0, 0, 50, 100][rng.pick(4)];
        self.delayed = [0, 0, 10, 40][rng.pick(4)];
        for spec in self.arrivals.iter_mut().flat_map(|a| a.specs.iter_mut()) {
            spec.idempotent = match spec.kind {
                Kind::Get | Kind::Echo | Kind::Ping => true,
                Kind::Set | Kind::Incr | Kind::IncrTotal => rng.chance(self.idempotent_writes),
                _ => false,
            };
        }
        // Only requests submitted alone: a transaction's parts go together.
        for a in &mut self.arrivals {
            if let [spec] = &mut a.specs[..] {
                if rng.chance(self.delayed) {
                    spec.delay = Some(1 + rng.skewed(1_000));
                }
            }
        }
    }
}

/// The callers' schedule: requests at random times, some in bursts and transactions.
fn callers(rng: &mut Rng) -> Vec<Arrival> {
    // Some runs have no request timeouts at all: then only the stall checks (read_timeout,
    // write_timeout) find a dead connection.
    let deadlines = rng.chance(80);
    let n = rng.range(1, 40);
    let horizon = rng.range(1, 4_000);
    let mut at = 0;
    let mut out = Vec::new();
    let mut count = 0u64;
    while count < n {
        if !rng.chance(30) {
            at += rng.below(1 + horizon / n);
        }
        let transaction = rng.chance(8);
        let specs = if transaction {
            let mut t = vec![spec(rng, Kind::Multi, count, deadlines)];
            for _ in 0..rng.range(1, 3) {
                let kind = [Kind::Set, Kind::Get, Kind::Echo, Kind::Del][rng.pick(4)];
                t.push(spec(rng, kind, count, deadlines));
            }
            let end = if rng.chance(20) { Kind::Discard } else { Kind::Exec };
            t.push(spec(rng, end, count, deadlines));
            t
        } else {
            let kind = match rng.below(100) {
                0..=11 => Kind::Echo,
                12..=14 => Kind::Ping,
                15..=29 => Kind::Set,
                30..=41 => Kind::Get,
                42..=55 => Kind::Incr,
                56..=63 => Kind::IncrTotal,
                64..=71 => Kind::Del,
                72..=79 => Kind::Rpush,
                80..=85 => Kind::Blpop,
                _ => Kind::Publish,
            };
            vec![spec(rng, kind, count, deadlines)]
        };
        count += specs.len() as u64;
        let batch = if transaction { Batch::Transaction } else { Batch::Single };
        out.push(Arrival { at, specs, batch });
    }
    out
}

fn spec(rng: &mut Rng, kind: Kind, before: u64, deadlines: bool) -> Spec {
    let timeout = match rng.below(100) {
        _ if !deadlines => None,
        0..=34 => None,
        35 => Some(0),
        36..=45 => Some(rng.range(1, 50)),
        46..=69 => Some(rng.range(50, 500)),
        _ => Some(rng.range(500, 3_000)),
    };
    let blpop_ms = rng.range(1, 30) * 50;
    let push = rng.chance(50).then(|| rng.below(blpop_ms * 3 / 2 + 100));
    let timeout = if kind == Kind::Blpop {
        // A blocking command always has a deadline: its own timeout plus a buffer, or an
        // explicit (maybe shorter) one.
        Some(match rng.below(10) {
            0..=8 => blpop_ms + rng.below(500),
            _ => rng.range(1, blpop_ms * 2),
        })
    } else {
        timeout
    };
    let pad = if rng.chance(5) { rng.range(100, 4_000) as usize } else { 0 };
    Spec {
        kind,
        timeout,
        other: rng.below(before + 1),
        blpop: (blpop_ms, push),
        pad,
        idempotent: false,
        delay: None,
        never: false,
        abandon: false,
    }
}

/// The command bytes of request `id`: every request names its own keys, so its effects and
/// replies are its own.
pub(super) fn encode(spec: &Spec, id: u64) -> Bytes {
    let mut c = CommandBuf::new();
    let me = id.to_string();
    let other = spec.other.to_string();
    let arg = |c: &mut CommandBuf, prefix: &str, n: &str| c.push(format!("{prefix}{n}").as_bytes());
    match spec.kind {
        Kind::Echo => {
            c.push(b"ECHO");
            arg(&mut c, "e:", &me);
        }
        Kind::Ping => {
            c.push(b"PING");
            arg(&mut c, "p:", &me);
        }
        Kind::Set => {
            c.push(b"SET");
            arg(&mut c, "k:", &me);
            let mut value = format!("v:{me}:").into_bytes();
            value.resize(value.len() + spec.pad, b'.');
            c.push(&value);
        }
        Kind::Get => {
            c.push(b"GET");
            arg(&mut c, "k:", &other);
        }
        Kind::Incr => {
            c.push(b"INCR");
            arg(&mut c, "c:", &me);
        }
        Kind::IncrTotal => {
            c.push(b"INCR");
            c.push(b"total");
        }
        Kind::Del => {
            c.push(b"DEL");
            arg(&mut c, "k:", &other);
        }
        Kind::Rpush => {
            c.push(b"RPUSH");
            arg(&mut c, "l:", &other);
            arg(&mut c, "r:", &me);
        }
        Kind::Blpop => {
            c.push(b"BLPOP");
            arg(&mut c, "l:", &me);
            c.push(format!("{}.{:03}", spec.blpop.0 / 1000, spec.blpop.0 % 1000).as_bytes());
        }
        Kind::Publish => {
            c.push(b"PUBLISH");
            arg(&mut c, "ch:", &other);
            arg(&mut c, "m:", &me);
        }
        Kind::Watch => {
            c.push(b"WATCH");
            arg(&mut c, "k:", &other);
        }
        Kind::Unwatch => c.push(b"UNWATCH"),
        Kind::Multi => c.push(b"MULTI"),
        Kind::Exec => c.push(b"EXEC"),
        Kind::Discard => c.push(b"DISCARD"),
    }
    c.finish()
}
