//! The scheduler: a virtual clock that jumps to the next thing due (session timer, the
//! 100 ms sweep, network deliveries, server timers, caller arrivals), runs one of the things
//! due at that instant — chosen at random, so every interleaving the reactor could produce
//! gets tried — drives the session the way `reactor/conn.rs` does, and checks the invariants
//! after every step.

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};

use std::collections::{HashMap, VecDeque};

use super::check::{retry_delay, Entry, GroupPos, Kind, Ledger, Outcome, Tally, TxExpect};
use super::net::{Action, Due, Net};
use super::rng::Rng;
use super::scenario::{encode, Batch, Scenario, Spec};
use super::server::{show, Seg, Server, Tag};
use super::trace::{Step, Trace};
use crate::config::OnTimeout;
use crate::error::Error;
use crate::proto::outbuf::Encoded;
use crate::proto::session::{Effect, Event, Mode, Props, Request, Resend, Session};

/// The reactor's sweep period.
const SWEEP_MS: u64 = 100;
/// Commands handed to one vectored write (small, so long queues take several writes).
const IOV: usize = 16;
/// Virtual time allowed to finish the requests once faults stop.
const QUIESCE_MS: u64 = 600_000;
/// Steps before a run is declared stuck.
const MAX_STEPS: u64 = 1_000_000;

/// What happened in one run, for the report.
#[derive(Debug, Default, Clone)]
pub(super) struct Stats {
    pub(super) tally: Tally,
    pub(super) steps: u64,
    pub(super) virtual_ms: u64,
    pub(super) connects: u64,
    pub(super) ready: u64,
    pub(super) lost: u64,
    pub(super) connect_failed: u64,
    pub(super) faults: u64,
    pub(super) exec_without_multi: u64,
    /// Commands the server refused with `-LOADING`/`-BUSY`.
    pub(super) refusals: u64,
    /// Requests submitted with `submit_at`.
    pub(super) delayed_submits: u64,
    /// Requests submitted in two or three chunks.
    pub(super) chunked: u64,
    /// Groups (pipelines and transactions) submitted, and exclusive chains' steps.
    pub(super) groups: u64,
    pub(super) chain_steps: u64,
    /// Seeds run with an exclusive connection.
    pub(super) exclusive_seeds: u64,
    /// Exclusive: chains ended with the session clean, the connection handed to a new
    /// owner (`Session::new_owner`), as a pool does; and checks that a session calling itself
    /// clean is clean on the server (not in MULTI, no WATCH, not blocked).
    pub(super) owner_changes: u64,
    pub(super) clean_checks: u64,
    /// Exclusive: checks that a link failed since the owner took it keeps the session dirty.
    pub(super) failed_link_checks: u64,
    /// The pub/sub simulation's run of the same seed.
    pub(super) pubsub: super::pubsub::PubSubStats,
}

impl Stats {
    pub(super) fn add(&mut self, o: &Stats) {
        self.tally.add(&o.tally);
        self.refusals += o.refusals;
        self.delayed_submits += o.delayed_submits;
        self.chunked += o.chunked;
        self.groups += o.groups;
        self.chain_steps += o.chain_steps;
        self.exclusive_seeds += o.exclusive_seeds;
        self.owner_changes += o.owner_changes;
        self.clean_checks += o.clean_checks;
        self.failed_link_checks += o.failed_link_checks;
        self.steps += o.steps;
        self.virtual_ms += o.virtual_ms;
        self.connects += o.connects;
        self.ready += o.ready;
        self.lost += o.lost;
        self.connect_failed += o.connect_failed;
        self.faults += o.faults;
        self.exec_without_multi += o.exec_without_multi;
        self.pubsub.add(&o.pubsub);
    }
}

/// Something the driver can do at the current instant.
#[derive(Debug, Clone, Copy)]
pub(super) enum Act {
    Arrival,
    Timer,
    Sweep,
    Net(Due),
    ServerTimer,
    Write,
    Close,
    /// The owner of the exclusive connection submits its chain's next step.
    Chain,
}

/// One owner's transaction on the exclusive connection, step by step.
#[derive(Debug)]
struct ChainRun {
    steps: Vec<Spec>,
    next: usize,
    /// The step submitted and not answered yet.
    current: Option<u64>,
    multi: Option<u64>,
    watch: Option<u64>,
    queued: Vec<u64>,
    /// A step failed: the cleanup (DISCARD or UNWATCH) was added and the chain ends after it.
    ending: bool,
    /// EXEC or DISCARD was submitted: the transaction is over.
    closed: bool,
}

/// One simulated world.
pub(super) struct Sim {
    now: u64,
    rng: Rng,
    session: Session<u64>,
    server: Server,
    net: Net,
    ledger: Ledger,
    pub(super) trace: Trace,
    sc: Scenario,
    next_arrival: usize,
    /// The armed wheel entry: (time it was armed for, time it fires).
    timer: Option<(u64, u64)>,
    next_sweep: u64,
    read_buf: BytesMut,
    /// Start address of every command's bytes → (length, tag).
    owners: BTreeMap<usize, (usize, Tag)>,
    hs_bytes: usize,
    hs_steps: usize,
    healed_at: Option<u64>,
    closed: bool,
    /// The request being submitted, the queue length before, and whether the session had
    /// failed for good.
    in_submit: Option<(u64, usize, bool)>,
    /// Between `Event::Ready` and the `Event::Lost` that must follow it.
    up: bool,
    /// The link whose bytes `handle_input` is being fed (successes come only from there).
    reading: Option<u64>,
    /// The error of the last `Event::Lost`.
    lost: Option<String>,
    /// Whether the pump saw the connection go (Disconnect, Lost or ConnectFailed).
    dropped: bool,
    /// Requests the session holds back to send later, and when they are due: submitted with
    /// `submit_at`, or refused (the client read the refusal). They leave at the first timer
    /// at or after that time.
    parked: BTreeMap<u64, u64>,
    /// Decides which commands travel in chunks (as a large value does: `Encoded::Chunks`), on
    /// a stream of its own so that every other draw of a seed stays what it was.
    chunker: Rng,
    /// First request id of each group → its parts.
    groups: HashMap<u64, Vec<u64>>,
    /// The exclusive connection's owner: its chains, oldest first.
    chains: VecDeque<ChainRun>,
    /// Requests failed by `OnTimeout::Abandon` whose replies may still come, and their bytes
    /// (still in flight in the session: the bounds of `check` allow for them).
    abandoned: (usize, usize),
    /// Exclusive: a link was lost since the connection's current owner took it.
    link_failed: bool,
    stats: Stats,
}

impl Sim {
    pub(super) fn new(seed: u64, traced: bool) -> Sim {
        let mut rng = Rng::new(seed);
        let mut extra = Rng::new(seed ^ 0x5E5E_2D0F_0A77_E3B1);
        let mut sc = Scenario::draw(&mut rng, &mut extra);
        sc.draw_modes(&mut Rng::new(seed ^ 0x3A11_D0C5_7E4B_9F21));
        let mut server = Server::new(sc.server.clone(), rng.fork());
        let net = Net::new(sc.net.clone(), rng.fork());
        let mut owners = BTreeMap::new();
        let mut hs_bytes = 0;
        let steps = sc.session.handshake.steps();
        for (i, (_, bytes)) in steps.iter().enumerate() {
            owners.insert(bytes.as_ptr() as usize, (bytes.len(), Tag::Hs(i)));
            server.expect(Tag::Hs(i), bytes.clone(), false);
            hs_bytes += bytes.len();
        }
        let hs_steps = steps.len();
        if traced {
            server.log = Some(Vec::new());
        }
        Sim {
            now: 0,
            rng: rng.fork(),
            session: Session::new(sc.session.clone()),
            server,
            net,
            ledger: Ledger::new(sc.session.max_attempts, sc.retry_written),
            trace: Trace::new(trace_len(), traced),
            sc,
            next_arrival: 0,
            timer: None,
            next_sweep: SWEEP_MS,
            read_buf: BytesMut::new(),
            owners,
            hs_bytes,
            hs_steps,
            healed_at: None,
            closed: false,
            in_submit: None,
            up: false,
            reading: None,
            lost: None,
            dropped: false,
            parked: BTreeMap::new(),
            chunker: Rng::new(seed ^ 0xC4A2_71B3_9D05_E6F8),
            groups: HashMap::new(),
            chains: VecDeque::new(),
            abandoned: (0, 0),
            link_failed: false,
            stats: Stats::default(),
        }
    }

    /// The scenario, for a failure report.
    pub(super) fn describe(&self) -> String {
        let s = &self.sc;
        format!(
            "session: {:?} connect_timeout={} read_timeout={:?} write_timeout={:?} reconnect={} queue_size={} max_bulk_len={} max_attempts={} retry_written={}\n\
             server: {:?}\nnet: {:?}\ntimer lateness ≤ {} ms, close at {:?}, {} arrivals, {}% of SET/INCR idempotent, {}% delayed",
            s.session.handshake,
            s.session.connect_timeout,
            s.session.read_timeout,
            s.session.write_timeout,
            s.session.reconnect,
            s.session.queue_size,
            s.session.limits.max_bulk_len,
            s.session.max_attempts,
            s.retry_written,
            s.server,
            s.net,
            s.timer_lateness,
            s.close_at,
            s.arrivals.len(),
            s.idempotent_writes,
            s.delayed,
        )
    }

    fn step(&mut self, step: impl FnOnce() -> Step) {
        if self.trace.on {
            self.trace.push(self.now, step());
        }
    }

    /// Runs the world to the end and checks it.
    pub(super) fn run(&mut self) -> Result<Stats, String> {
        self.session.start(self.now);
        self.pump()?;
        let mut acts = Vec::new();
        loop {
            self.stats.steps += 1;
            if self.stats.steps > MAX_STEPS {
                return Err(format!("still running after {MAX_STEPS} steps"));
            }
            acts.clear();
            self.due(&mut acts);
            if !acts.is_empty() {
                let act = acts[self.rng.pick(acts.len())];
                self.act(act)?;
                for (conn, action) in std::mem::take(&mut self.net.fired) {
                    self.stats.faults += 1;
                    self.step(|| Step::Fault { conn, what: action_name(action) });
                }
                self.check()?;
                self.check_reusable()?;
                continue;
            }
            let all_in = self.next_arrival == self.sc.arrivals.len() && self.chains.is_empty();
            if all_in && self.healed_at.is_none() {
                self.net.heal();
                self.healed_at = Some(self.now);
                self.step(|| Step::Heal);
                continue;
            }
            if all_in && self.healed_at.is_some() && self.ledger.pending() == 0 && !self.net.busy()
            {
                break;
            }
            let Some(next) = self.next_time() else {
                return Err(format!(
                    "nothing left to happen, but {} requests are pending",
                    self.ledger.pending()
                ));
            };
            if self.healed_at.is_some_and(|h| next > h + QUIESCE_MS) {
                return Err(format!(
                    "{} requests still pending {QUIESCE_MS} ms after the faults stopped",
                    self.ledger.pending()
                ));
            }
            self.now = next;
            if self.session.in_flight() == 0 && self.next_sweep < self.now {
                // Sweeps with nothing in flight do nothing: skip them, keeping the cadence.
                let behind = self.now - self.next_sweep;
                self.next_sweep += behind.div_ceil(SWEEP_MS) * SWEEP_MS;
            }
        }
        // Quiesced: closing must find nothing left inside the session.
        self.session.close(self.now);
        self.pump()?;
        self.ledger.finish(&self.server)?;
        self.stats.tally = self.ledger.tally.clone();
        self.stats.virtual_ms = self.now;
        self.stats.exec_without_multi = self.server.exec_without_multi;
        self.stats.refusals = self.server.refusals;
        self.stats.exclusive_seeds = u64::from(self.sc.session.mode == Mode::Exclusive);
        Ok(self.stats.clone())
    }

    fn due(&self, acts: &mut Vec<Act>) {
        let now = self.now;
        if self.sc.arrivals.get(self.next_arrival).is_some_and(|a| a.at <= now) {
            acts.push(Act::Arrival);
        }
        if self.timer.is_some_and(|(_, fire)| fire <= now) {
            acts.push(Act::Timer);
        }
        if self.next_sweep <= now {
            acts.push(Act::Sweep);
        }
        self.net.due(now, acts);
        if self.server.next_timer().is_some_and(|t| t <= now) {
            acts.push(Act::ServerTimer);
        }
        if !self.session.out().is_empty() && self.net.write_room().is_some_and(|r| r > 0) {
            acts.push(Act::Write);
        }
        if !self.closed && self.sc.close_at.is_some_and(|t| t <= now) {
            acts.push(Act::Close);
        }
        if self.chains.front().is_some_and(|c| c.current.is_none()) {
            acts.push(Act::Chain);
        }
    }

    fn next_time(&self) -> Option<u64> {
        let sweep = (self.session.in_flight() > 0).then_some(self.next_sweep);
        [
            self.sc.arrivals.get(self.next_arrival).map(|a| a.at),
            self.timer.map(|(_, fire)| fire),
            sweep,
            self.net.next_time(),
            self.server.next_timer(),
            self.sc.close_at.filter(|_| !self.closed),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn act(&mut self, act: Act) -> Result<(), String> {
        let now = self.now;
        match act {
            Act::Arrival => {
                let arrival = self.sc.arrivals[self.next_arrival].clone();
                self.next_arrival += 1;
                match arrival.batch {
                    Batch::Single => {
                        for spec in &arrival.specs {
                            self.submit(spec, Effect::None, false)?;
                        }
                    }
                    Batch::Pipeline => self.submit_group(&arrival.specs, false)?,
                    Batch::Transaction => self.submit_group(&arrival.specs, true)?,
                    Batch::Chain => self.chains.push_back(ChainRun {
                        steps: arrival.specs,
                        next: 0,
                        current: None,
                        multi: None,
                        watch: None,
                        queued: Vec::new(),
                        ending: false,
                        closed: false,
                    }),
                }
            }
            Act::Timer => {
                self.timer = None;
                self.step(|| Step::Timeout);
                let expired: Vec<u64> = self
                    .parked
                    .keys()
                    .copied()
                    .filter(|&id| {
                        self.ledger.entries[id as usize].deadline.is_some_and(|d| d <= now)
                    })
                    .collect();
                self.session.handle_timeout(now);
                self.pump()?;
                self.check_parked(&expired)?;
                self.parked.retain(|_, due| *due > now);
            }
            Act::Sweep => {
                self.next_sweep = now + SWEEP_MS;
                if self.session.in_flight() > 0 {
                    self.step(|| Step::Sweep);
                    let front = self.front_unwritten();
                    self.lost = None;
                    self.session.handle_sweep(now);
                    self.pump()?;
                    self.check_stuck(front)?;
                }
            }
            Act::Close => {
                self.closed = true;
                self.step(|| Step::Event("close()"));
                self.session.close(now);
                self.pump()?;
            }
            Act::ServerTimer => {
                let touched = self.server.on_timer(now)?;
                self.server_log();
                self.route(touched);
            }
            Act::Write => self.write()?,
            Act::Chain => self.chain_step()?,
            Act::Net(Due::ConnectDone) => match self.net.finish_connect(now, &mut self.server) {
                Ok(conn) => {
                    self.step(|| Step::Connected { conn });
                    self.read_buf.clear();
                    self.session.handle_connected(now);
                    self.pump()?;
                }
                Err(conn) => {
                    self.step(|| Step::ConnectFailed { conn });
                    self.session
                        .handle_connect_failed(Error::connection("connection refused"), now);
                    self.pump()?;
                }
            },
            Act::Net(Due::ToServer(conn)) => {
                let (chunk, close) = self.net.deliver_to_server(conn);
                if let Some((data, segs)) = chunk {
                    self.step(|| Step::ServerRecv { conn, bytes: data.len() });
                    let touched = self.server.feed(conn, &data, &segs, now);
                    self.server_log();
                    self.route(touched?);
                }
                if close {
                    self.server.close(conn);
                }
            }
            Act::Net(Due::ToClient) => {
                let data = self.net.deliver_to_client(now);
                let conn = self.net.current_id().unwrap_or(0);
                let read = self.ledger.read.entry(conn).or_default();
                let before = *read;
                *read += data.len() as u64;
                let after = *read;
                self.read_buf.extend_from_slice(&data);
                self.session.handle_input(&mut self.read_buf, now);
                let left = self.read_buf.len();
                self.step(|| Step::Read { conn, bytes: data.len(), left });
                if left > self.server.max_frame.max(64) {
                    return Err(format!(
                        "{left} bytes stay in the read buffer, more than the largest reply ({})",
                        self.server.max_frame
                    ));
                }
                self.reading = Some(conn);
                self.dropped = false;
                let r = self.pump();
                self.reading = None;
                r?;
                if !self.dropped {
                    // Refusals read whole by a session that kept the connection: it holds
                    // those requests back (unless it delivered the refusal).
                    for &(link, end, id) in &self.server.refusal_ends {
                        let fresh = link == conn && before < end && end <= after;
                        let grouped = self.ledger.entries[id as usize].group.is_some();
                        if fresh && !grouped && self.ledger.outcome(id).is_none() {
                            let attempts = self.ledger.entries[id as usize].whole.len();
                            self.parked.insert(id, now + retry_delay(attempts));
                        }
                    }
                }
            }
            Act::Net(Due::Notice) => {
                let eof = self.net.take_notice().unwrap_or(true);
                let conn = self.net.current_id().unwrap_or(0);
                self.step(|| Step::Closed { conn, eof });
                let err = if eof {
                    Error::connection("the server closed the connection")
                } else {
                    Error::io("read failed", std::io::ErrorKind::ConnectionReset.into())
                };
                self.session.handle_closed(err, eof, now);
                self.detach();
                self.pump()?;
            }
            Act::Net(Due::Fault) => {
                self.net.fire_due(now, &mut self.server);
            }
        }
        Ok(())
    }

    /// Registers request `id`'s bytes with the ledger, the write tracker and the server.
    fn register(
        &mut self,
        spec: &Spec,
        deadline: Option<u64>,
        group: Option<GroupPos>,
        may_queue: bool,
    ) -> (u64, Bytes) {
        let id = self.ledger.entries.len() as u64;
        let bytes = encode(spec, id);
        self.ledger.add(Entry {
            kind: spec.kind,
            bytes: bytes.clone(),
            deadline,
            group,
            may_queue,
            never: spec.never,
            first_link: None,
            idempotent: spec.idempotent,
            delayed: spec.delay.is_some(),
            whole: Vec::new(),
            blind: 0,
            outcome: None,
        });
        self.owners.insert(bytes.as_ptr() as usize, (bytes.len(), Tag::Req(id)));
        self.server.expect(Tag::Req(id), bytes.clone(), spec.delay.is_none());
        (id, bytes)
    }

    fn props(&self, spec: &Spec) -> Props {
        let resend = if spec.never {
            Resend::Never
        } else if spec.idempotent && self.sc.retry_written {
            Resend::IfIdempotent
        } else {
            Resend::IfUnwritten
        };
        let on_timeout = if spec.abandon { OnTimeout::Abandon } else { OnTimeout::Reset };
        Props { blocking: spec.kind == Kind::Blpop, resend, on_timeout, ..Props::default() }
    }

    fn submit(&mut self, spec: &Spec, effect: Effect, may_queue: bool) -> Result<u64, String> {
        let now = self.now;
        // As the reactor does: a delayed request's deadline counts from when it is due.
        let due = now + spec.delay.unwrap_or(0);
        let deadline = spec.timeout.map(|t| due + t);
        let (id, bytes) = self.register(spec, deadline, None, may_queue);
        if spec.kind == Kind::Blpop {
            if let Some(after) = spec.blpop.1 {
                let key = Bytes::from(format!("l:{id}"));
                self.server.schedule_push(now + after, key, Bytes::from(format!("x:{id}")));
            }
        }
        let delay = spec.delay;
        let idempotent = spec.idempotent;
        self.step(|| Step::Submit { id, what: spec.kind.name(), idempotent, deadline, delay });
        let terminal = self.session.terminal_error().is_some();
        self.in_submit = Some((id, self.session.queued(), terminal));
        let bytes = self.maybe_chunked(bytes);
        let props = Props { effect, ..self.props(spec) };
        let req = Request::new(bytes, id, deadline).with(props);
        if delay.is_some() {
            self.stats.delayed_submits += 1;
            self.parked.insert(id, due);
            self.session.submit_at(req, due, now);
        } else {
            self.session.submit(req, now);
        }
        let r = self.pump();
        self.in_submit = None;
        r.map(|()| id)
    }

    /// A pipeline or a transaction as one group: its commands each their own allocation (so
    /// that the server knows every command's request), one deadline and policy for all.
    fn submit_group(&mut self, specs: &[Spec], atomic: bool) -> Result<(), String> {
        let now = self.now;
        let deadline = specs[0].timeout.map(|t| now + t);
        let first = self.ledger.entries.len() as u64;
        let pos = GroupPos { first, len: specs.len() as u64, atomic };
        let mut parts = Vec::with_capacity(specs.len());
        let mut chunks = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            let inside = atomic && i > 0 && i + 1 < specs.len();
            let (id, bytes) = self.register(spec, deadline, Some(pos), inside);
            parts.push(id);
            chunks.push(bytes);
        }
        if atomic {
            let queued = parts[1..parts.len() - 1].to_vec();
            let exec = *parts.last().expect("a transaction has parts");
            self.ledger.txs.insert(exec, TxExpect { multi: first, queued, watch: None });
        }
        self.stats.groups += 1;
        let what = if atomic { "transaction" } else { "pipeline" };
        let idempotent = false;
        self.step(|| Step::Submit { id: first, what, idempotent, deadline, delay: None });
        let props = Props {
            replies: specs.len() as u32,
            atomic,
            first_len: chunks[0].len() as u32,
            // A group is never resent blind: after a loss it goes again only unwritten.
            resend: if specs[0].never { Resend::Never } else { Resend::IfUnwritten },
            ..self.props(&specs[0])
        };
        self.groups.insert(first, parts);
        let terminal = self.session.terminal_error().is_some();
        self.in_submit = Some((first, self.session.queued(), terminal));
        self.session
            .submit(Request::new(Encoded::Chunks(chunks), first, deadline).with(props), now);
        let r = self.pump();
        self.in_submit = None;
        r
    }

    /// The exclusive connection's owner submits the next step of its oldest chain (or ends
    /// the chain).
    fn chain_step(&mut self) -> Result<(), String> {
        let Some(chain) = self.chains.front_mut() else { return Ok(()) };
        let Some(spec) = chain.steps.get(chain.next).cloned() else {
            self.chains.pop_front();
            if self.session.dirty_reason().is_none() {
                // The owner gives the connection back clean: a pool lends it to the next.
                self.session.new_owner();
                self.link_failed = false;
                self.stats.owner_changes += 1;
            }
            return Ok(());
        };
        let effect = match spec.kind {
            Kind::Multi => Effect::Multi,
            Kind::Exec => Effect::Exec,
            Kind::Discard => Effect::Discard,
            Kind::Watch => Effect::Watch,
            Kind::Unwatch => Effect::Unwatch,
            _ => Effect::None,
        };
        let inside =
            chain.multi.is_some() && !chain.closed && effect == Effect::None && !chain.ending;
        let id = self.ledger.entries.len() as u64;
        let chain = self.chains.front_mut().expect("checked");
        chain.current = Some(id);
        match spec.kind {
            Kind::Multi => chain.multi = Some(id),
            Kind::Watch => chain.watch = Some(id),
            _ if inside => chain.queued.push(id),
            _ => {}
        }
        if let (Kind::Exec | Kind::Discard, Some(multi)) = (spec.kind, chain.multi) {
            chain.closed = true;
            let tx = TxExpect { multi, queued: chain.queued.clone(), watch: chain.watch };
            self.ledger.txs.insert(id, tx);
        }
        self.stats.chain_steps += 1;
        let got = self.submit(&spec, effect, inside)?;
        debug_assert_eq!(got, id);
        Ok(())
    }

    /// The chain's current step `id` ended: on to the next one, or after a failure to the
    /// cleanup a careful owner sends (DISCARD inside MULTI, UNWATCH after WATCH), and the end.
    fn chain_answered(&mut self, id: u64, ok: bool) {
        let Some(chain) = self.chains.front_mut() else { return };
        if chain.current != Some(id) {
            return;
        }
        chain.current = None;
        let kind = chain.steps[chain.next].kind;
        chain.next += 1;
        let ended = matches!(kind, Kind::Exec | Kind::Discard | Kind::Unwatch);
        if ok || chain.ending {
            if chain.ending {
                chain.steps.truncate(chain.next);
            }
            return;
        }
        chain.ending = true;
        chain.steps.truncate(chain.next);
        let cleanup = if ended || chain.closed {
            None
        } else if chain.multi.is_some() {
            Some(Kind::Discard)
        } else if chain.watch.is_some() {
            Some(Kind::Unwatch)
        } else {
            None
        };
        if let Some(kind) = cleanup {
            let mut spec = chain.steps[chain.next - 1].clone();
            spec.kind = kind;
            spec.timeout = None;
            spec.abandon = false;
            chain.steps.push(spec);
        }
    }

    /// A third of the commands in two or three chunks cut at random points (slices of the same
    /// bytes, so `owners` still knows every byte's command); the rest whole.
    fn maybe_chunked(&mut self, bytes: Bytes) -> Encoded {
        let len = bytes.len() as u64;
        if len < 3 || !self.chunker.chance(33) {
            return bytes.into();
        }
        // Every chunk holds at least one byte.
        let a = self.chunker.range(1, len - 1);
        self.stats.chunked += 1;
        if a == len - 1 || self.chunker.chance(50) {
            return Encoded::Chunks(vec![bytes.slice(..a as usize), bytes.slice(a as usize..)]);
        }
        let b = self.chunker.range(a + 1, len - 1) as usize;
        let a = a as usize;
        Encoded::Chunks(vec![bytes.slice(..a), bytes.slice(a..b), bytes.slice(b..)])
    }

    /// Writes from the session's out buffer as the reactor's `flush` does, recording which
    /// command every byte came from.
    fn write(&mut self) -> Result<(), String> {
        let now = self.now;
        let conn = self.net.current_id().unwrap_or(0);
        if self.net.current.as_ref().is_some_and(|l| l.broken) {
            self.step(|| Step::WriteFailed { conn });
            let e = std::io::ErrorKind::ConnectionReset.into();
            self.session.handle_closed(Error::io("write failed", e), false, now);
            self.detach();
            return self.pump();
        }
        let mut iov = Vec::with_capacity(IOV);
        let offered = self.session.out().slices(&mut iov, IOV);
        let n = iov.len();
        let k = self.net.accept(offered);
        let mut data = Vec::with_capacity(k);
        let mut segs = Vec::new();
        let mut left = k;
        for s in &iov[..n] {
            if left == 0 {
                break;
            }
            let take = s.len().min(left);
            let ptr = s.as_ptr() as usize;
            let Some((&start, &(len, tag))) = self.owners.range(..=ptr).next_back() else {
                return Err("the session wrote bytes that no command owns".into());
            };
            if ptr + s.len() > start + len {
                return Err(format!("the session wrote bytes past the end of {tag:?}"));
            }
            let off = ptr - start;
            if let Tag::Req(id) = tag {
                let e = &mut self.ledger.entries[id as usize];
                match e.first_link {
                    Some(first) if e.never && first != conn => {
                        return Err(format!(
                        "request {id} (Resend::Never) went out on link {conn} after link {first}"
                    ))
                    }
                    Some(_) => {}
                    None => e.first_link = Some(conn),
                }
            }
            if let (Tag::Req(id), true) = (tag, off + take == len) {
                self.ledger.written_whole(id, conn, &self.server)?;
            }
            segs.push(Seg { tag, off, len: take });
            data.extend_from_slice(&s[..take]);
            left -= take;
        }
        self.step(|| Step::Write { conn, offered, accepted: k });
        self.net.client_write(now, Bytes::from(data), segs, &mut self.server);
        self.session.handle_written(k, now);
        self.pump()
    }

    fn detach(&mut self) {
        if let Some((conn, linger)) = self.net.detach(&mut self.server) {
            self.step(|| Step::Detach { conn, linger });
        }
        self.read_buf = BytesMut::new();
    }

    /// Hands the replies the server produced to the network.
    fn route(&mut self, conns: Vec<u64>) {
        for conn in conns {
            let out = self.server.take_output(conn);
            self.net.server_write(conn, self.now, out, &mut self.server);
        }
    }

    fn server_log(&mut self) {
        let Some(log) = self.server.log.as_mut() else { return };
        let entries = std::mem::take(log);
        for (conn, tag, cmd) in entries {
            let tag = match tag {
                Tag::Req(u64::MAX) => "another client".to_string(),
                tag => format!("{tag:?}"),
            };
            self.step(|| Step::Exec { conn, tag, cmd });
        }
    }

    /// Drains the session's events the way `Conn::pump` does, checking each reply.
    fn pump(&mut self) -> Result<(), String> {
        let mut ready = false;
        while let Some(ev) = self.session.poll_event() {
            match ev {
                Event::Reply(id, result) => {
                    if let Some((sub, queued, terminal)) = self.in_submit {
                        if sub != id {
                            return Err(format!("submitting request {sub} completed request {id}"));
                        }
                        if matches!(result, Err(Error::Disconnected(_))) && !terminal {
                            if queued < self.sc.session.queue_size {
                                return Err(format!(
                                    "request {id} rejected as the queue is full, with {queued} of {} queued",
                                    self.sc.session.queue_size
                                ));
                            }
                            self.ledger.tally.rejected_queue_full += 1;
                        }
                    }
                    let ok = result.is_ok();
                    self.step(|| Step::Reply {
                        id,
                        ok,
                        detail: match &result {
                            Ok(f) => show(f),
                            Err(e) => format!("{e} (maybe_executed: {})", e.maybe_executed()),
                        },
                    });
                    let parts = self.groups.remove(&id).unwrap_or_else(|| vec![id]);
                    if let Err(e) = &result {
                        let text = e.to_string();
                        if text.contains("on_timeout: Abandon") {
                            self.ledger.tally.abandoned += 1;
                            let bytes: usize = parts
                                .iter()
                                .map(|&p| self.ledger.entries[p as usize].bytes.len())
                                .sum();
                            self.abandoned.0 += 1;
                            self.abandoned.1 += bytes;
                        }
                        if text.contains("forgot the transaction") {
                            self.ledger.tally.tx_lost += 1;
                        }
                        let e0 = &self.ledger.entries[id as usize];
                        if e0.never && !e.maybe_executed() && e0.whole.is_empty() {
                            self.ledger.tally.never_failed_unwritten += 1;
                        }
                    }
                    let good = matches!(&result, Ok(f) if f.first() != Some(&b'-'));
                    match result {
                        Ok(frames) if parts.len() > 1 => {
                            let frames = split_frames(&frames, parts.len()).ok_or_else(|| {
                                format!(
                                    "group {id} of {} commands answered with {:?}",
                                    parts.len(),
                                    show(&frames)
                                )
                            })?;
                            self.ledger.tally.groups_ok += 1;
                            let last = frames.last().cloned().unwrap_or_default();
                            if parts.len() > 2 && super::check::refusal(&last) {
                                self.ledger.tally.exec_refused += 1;
                            }
                            for (&part, frame) in parts.iter().zip(frames) {
                                self.ledger.complete(
                                    part,
                                    Ok(frame),
                                    self.now,
                                    &self.server,
                                    self.reading,
                                )?;
                            }
                        }
                        result => {
                            for &part in &parts {
                                self.ledger.complete(
                                    part,
                                    result.clone(),
                                    self.now,
                                    &self.server,
                                    self.reading,
                                )?;
                                self.parked.remove(&part);
                            }
                        }
                    }
                    self.chain_answered(id, good);
                }
                Event::Connect => {
                    self.stats.connects += 1;
                    self.read_buf = BytesMut::new();
                    let (conn, outcome) = self.net.connect(self.now, &mut self.server);
                    self.step(|| Step::Connect { conn, outcome });
                }
                Event::Disconnect => {
                    self.dropped = true;
                    self.step(|| Step::Event("Disconnect"));
                    self.detach();
                }
                Event::Ready { .. } => {
                    self.stats.ready += 1;
                    self.step(|| Step::Event("Ready"));
                    if !self.session.is_ready() || self.up {
                        return Err("Event::Ready while the session is not ready, or twice".into());
                    }
                    self.up = true;
                    ready = true;
                }
                Event::ConnectFailed(_) => {
                    self.dropped = true;
                    self.stats.connect_failed += 1;
                    self.step(|| Step::Event("ConnectFailed"));
                    if self.up {
                        return Err("Event::ConnectFailed for a connection that was ready".into());
                    }
                }
                Event::Lost(_, err) => {
                    self.link_failed = true;
                    self.dropped = true;
                    self.lost = Some(err.to_string());
                    self.stats.lost += 1;
                    self.step(|| Step::Event("Lost"));
                    if !self.up {
                        return Err("Event::Lost for a connection that never became ready".into());
                    }
                    self.up = false;
                }
                // The server's pushes that are not pub/sub (invalidations).
                Event::Push(_) => {}
                Event::Message(..) | Event::Resubscribed(_) | Event::SinkEnd(..) => {
                    return Err("a pub/sub event without a subscription".into());
                }
            }
        }
        if ready {
            // The offline queue went on the wire: none of it may have expired already (its
            // deadline would reset the new connection at the next timer).
            let now = self.now;
            let late = self.ledger.entries.iter().enumerate().find(|(id, e)| {
                e.outcome.is_none()
                    && e.deadline.is_some_and(|d| d <= now)
                    && !self.parked.contains_key(&(*id as u64))
            });
            if let Some((id, e)) = late {
                return Err(format!(
                    "request {id} was sent when the connection became ready, after its deadline {:?}",
                    e.deadline
                ));
            }
        }
        self.rearm();
        Ok(())
    }

    /// `Conn::rearm`: a lazy timer, moved only when the session wants it earlier; it fires
    /// up to the scenario's lateness after its time.
    fn rearm(&mut self) {
        let Some(want) = self.session.poll_timeout() else { return };
        if self.timer.is_some_and(|(armed, _)| armed <= want) {
            return;
        }
        let late = self.rng.below(self.sc.timer_lateness + 1);
        self.timer = Some((want, want.max(self.now) + late));
    }

    /// The command the next write would start in (the one a stalled write is stuck in).
    fn front_unwritten(&self) -> Option<Tag> {
        let mut iov = Vec::with_capacity(1);
        self.session.out().slices(&mut iov, 1);
        let ptr = iov.first()?.as_ptr() as usize;
        self.owners.range(..=ptr).next_back().map(|(_, &(_, tag))| tag)
    }

    /// After a sweep: when it reset the connection because a write stalled, the request the
    /// write stalled in failed instead of going back to the queue.
    fn check_stuck(&mut self, front: Option<Tag>) -> Result<(), String> {
        let Some(lost) = self.lost.take() else { return Ok(()) };
        if !lost.contains("writing made no progress") {
            return Ok(());
        }
        let Some(Tag::Req(id)) = front else {
            return Err(format!("a write stalled with {front:?} at the front of the out buffer"));
        };
        match self.ledger.outcome(id) {
            // Maybe executed only when an earlier send may have run: `complete` checks that.
            // An abandoned request's caller was answered already: the stall is consumed.
            Some(Outcome::Err { text, .. }) if text.contains("on_timeout: Abandon") => Ok(()),
            // Exclusive: the transaction died with the connection, which fails it first.
            Some(Outcome::Err { text, .. }) if text.contains("forgot the transaction") => Ok(()),
            Some(Outcome::Err { text, .. }) if text.contains("writing made no progress") => {
                self.ledger.tally.stuck_writes += 1;
                Ok(())
            }
            other => Err(format!(
                "a write stalled in request {id}, which then ended with {other:?} instead of failing"
            )),
        }
    }

    /// After a timer: requests held back whose deadline passed fail at once, without being
    /// sent (sending one makes its own deadline reset the connection).
    fn check_parked(&mut self, expired: &[u64]) -> Result<(), String> {
        for &id in expired {
            match self.ledger.outcome(id) {
                Some(Outcome::Err { text, .. }) if !text.contains("connection was reset") => {
                    self.ledger.tally.expired_held_back += 1;
                }
                other => {
                    return Err(format!(
                        "request {id}, held back to be sent later, was due to time out but ended with {other:?}"
                    ))
                }
            }
        }
        Ok(())
    }

    /// Exclusive mode: what a pool trusts when it lends a connection again. A session that
    /// says it is clean has nothing open on the server's side of its link (no MULTI, no
    /// WATCH, no blocked command), and one whose link failed since its owner took it says it
    /// is dirty.
    fn check_reusable(&mut self) -> Result<(), String> {
        if self.sc.session.mode != Mode::Exclusive {
            return Ok(());
        }
        let reason = self.session.dirty_reason();
        if self.link_failed {
            self.stats.failed_link_checks += 1;
            if reason.is_none() {
                return Err("the link failed since the owner took the connection, but the \
                            session says it is clean (a pool would lend it again)"
                    .into());
            }
        }
        if reason.is_some() || !self.session.is_ready() {
            return Ok(());
        }
        let Some(link) = self.net.current_id() else { return Ok(()) };
        let Some((multi, watches, blocked)) = self.server.tx_state(link) else { return Ok(()) };
        self.stats.clean_checks += 1;
        if multi || watches > 0 || blocked {
            return Err(format!(
                "the session says the connection is clean, but on the server link {link} is \
                 {}{}{}",
                if multi { "inside MULTI " } else { "" },
                if watches > 0 { "watching keys " } else { "" },
                if blocked { "blocked" } else { "" },
            ));
        }
        Ok(())
    }

    /// The invariants that hold after every step.
    fn check(&self) -> Result<(), String> {
        if let Some(e) = self.session.terminal_error() {
            if self.ledger.pending() > 0 {
                return Err(format!(
                    "the session failed for good ({e}), but {} requests are still pending",
                    self.ledger.pending()
                ));
            }
        }
        let queued = self.session.queued();
        if queued > self.sc.session.queue_size {
            return Err(format!(
                "{queued} requests in the offline queue, more than queue_size {}",
                self.sc.session.queue_size
            ));
        }
        let out = self.session.out().unwritten();
        let bound = (self.ledger.pending_bytes() + self.hs_bytes + self.abandoned.1) as u64;
        if out > bound {
            return Err(format!(
                "{out} bytes buffered to write, more than the {bound} bytes of pending commands and handshake"
            ));
        }
        let in_flight = self.session.in_flight();
        if in_flight > self.ledger.pending() + self.hs_steps + self.abandoned.0 {
            return Err(format!(
                "{in_flight} entries in flight for {} pending requests",
                self.ledger.pending()
            ));
        }
        Ok(())
    }
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Reset => "reset",
        Action::ServerClose => "server close",
        Action::Blackhole => "black hole",
    }
}

fn trace_len() -> usize {
    std::env::var("SIM_TRACE").ok().and_then(|v| v.parse().ok()).unwrap_or(80)
}

/// A group's reply cut into its `n` frames; `None` unless it is exactly `n` frames.
fn split_frames(frames: &Bytes, n: usize) -> Option<Vec<Bytes>> {
    let mut out = Vec::with_capacity(n);
    let mut at = 0;
    while at < frames.len() {
        let len = crate::resp::Decoder::with_limits(crate::resp::Limits::default())
            .scan(&frames[at..])
            .ok()??;
        out.push(frames.slice(at..at + len));
        at += len;
    }
    (out.len() == n).then_some(out)
}
