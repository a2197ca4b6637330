//! (g) Pub/sub throughput: how many messages per second ONE subscriber receives while a
//! publisher pipelines PUBLISH into the same server, for each client's subscriber.
//!
//! The publisher is the same for every client: a thread of its own with a redis-rs blocking
//! connection sending pipelines of [`PIPELINE`] PUBLISHes of [`PAYLOAD`] bytes on [`CHANNEL`].
//! A run: the subscriber subscribes (its subscribe call returns once the server confirmed),
//! the harness checks with `PUBSUB NUMSUB` that it is the channel's only subscriber, a warm-up
//! burst of [`WARM`] messages goes through, then the measured burst of `messages`. The rate
//! is the measured messages over the time from the first measured PUBLISH to the last message
//! received; client CPU is getrusage(RUSAGE_SELF) over the same span less the publisher
//! thread's own (RUSAGE_THREAD), so what is left is the subscriber's, its runtime's and its
//! client's background threads'. Every wait is bounded: a subscriber that has not received
//! everything by the deadline is told to stop (a flag, and a few more PUBLISHes to wake it
//! up) and the run is reported as failed; one that still does not return is left behind.

mod subscribers;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clients::Env;
use crate::measure::{self, Others, Percentiles, Sample};
use crate::report::{self, Results, Row, Side};
use crate::{Disturbed, Options};

/// The scenario's id (`--only pubsub`) and report section.
pub const ID: &str = "pubsub";
const SECTION: &str = "g";
pub const CHANNEL: &str = "perf:ps";
pub const PAYLOAD: usize = 32;
/// PUBLISHes per pipeline.
pub const PIPELINE: u64 = 1000;
/// Messages of the warm-up burst (one pipeline).
pub const WARM: u64 = PIPELINE;
/// Measured messages per run.
const MESSAGES: u64 = 200_000;
const QUICK_MESSAGES: u64 = 20_000;
/// How long the subscriber may take to connect and subscribe, and the warm-up to arrive.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stopped subscriber may take to return before it is left behind.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// The side figure: the publisher's own rate in the same run.
const PUBLISHER_RATE: &str = "publisher_msgs_per_sec";
/// The side figure: how long after the publisher's last reply the last message arrived.
const TAIL_MS: &str = "tail_ms";

/// The subscribers compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sub {
    /// redpoll `Subscription`, consumed on a thread with `for m in sub.iter()`.
    RedpollIter,
    /// redpoll `Subscription`, consumed by a tokio task with `sub.next().await`.
    RedpollNext,
    /// redis-rs blocking `Connection::as_pubsub()`, `get_message()` on a thread.
    RedisBlocking,
    /// redis-rs `Client::get_async_pubsub()`, its `on_message()` stream in a tokio task.
    RedisAsync,
    /// fred `Client` (i-pubsub), `message_rx()` in a tokio task.
    Fred,
}

impl Sub {
    pub const ALL: [Sub; 5] =
        [Sub::RedpollIter, Sub::RedpollNext, Sub::RedisBlocking, Sub::RedisAsync, Sub::Fred];

    /// The `--clients` and CSV identifier (the same as the other sections' where they match).
    pub fn id(self) -> &'static str {
        match self {
            Sub::RedpollIter => "redpoll_wait",
            Sub::RedpollNext => "redpoll_await",
            Sub::RedisBlocking => "redis_blocking",
            Sub::RedisAsync => "redis_async",
            Sub::Fred => "fred",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Sub::RedpollIter => "redpoll sub.iter()",
            Sub::RedpollNext => "redpoll sub.next().await",
            Sub::RedisBlocking => "redis-rs PubSub get_message()",
            Sub::RedisAsync => "redis-rs aio::PubSub on_message()",
            Sub::Fred => "fred message_rx()",
        }
    }
}

/// What a subscriber is told about its run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Messages of the warm-up burst: the subscriber raises `Shared::warmed` at this count.
    pub warm: u64,
    /// Warm-up and measured messages: the subscriber returns at this count.
    pub total: u64,
    /// Buffered messages the client may hold (redpoll's capacity, fred's broadcast channel):
    /// the whole run, so that no client drops a message.
    pub capacity: usize,
    /// The subscriber gives up by itself at this instant (the harness stops it earlier).
    pub deadline: Instant,
}

/// Flags between the harness and one run's subscriber and publisher.
#[derive(Debug, Default)]
pub struct Shared {
    /// The subscribe call returned (the server confirmed).
    pub subscribed: AtomicBool,
    /// The warm-up burst has arrived.
    pub warmed: AtomicBool,
    /// The run is over: leave the loop at the next message.
    pub abort: AtomicBool,
}

/// What a subscriber tells the harness: its count as soon as it stopped counting (before it
/// unsubscribes and closes: that is not measured), then that it closed.
#[derive(Debug)]
pub enum Event {
    Done(Result<Outcome, String>),
    Closed,
}

/// What a subscriber saw.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub received: u64,
    pub payload_bytes: u64,
    /// When the last of `Plan::total` messages arrived (None: they did not all arrive).
    pub last: Option<Instant>,
    /// Messages the client reports it dropped (redpoll `dropped()`, fred's lag).
    pub dropped: u64,
}

/// The per-message work every subscriber does: count, add the payload's length, raise the
/// warm-up flag, note the time of the last message. `add` returns true when the loop ends.
pub struct Counter<'a> {
    plan: Plan,
    shared: &'a Shared,
    received: u64,
    payload_bytes: u64,
    last: Option<Instant>,
}

impl<'a> Counter<'a> {
    pub fn new(plan: Plan, shared: &'a Shared) -> Counter<'a> {
        Counter { plan, shared, received: 0, payload_bytes: 0, last: None }
    }

    #[inline]
    pub fn add(&mut self, payload_len: usize) -> bool {
        self.received += 1;
        self.payload_bytes += payload_len as u64;
        if self.received == self.plan.warm {
            self.shared.warmed.store(true, Ordering::Release);
        }
        if self.received >= self.plan.total {
            self.last = Some(Instant::now());
            return true;
        }
        self.shared.abort.load(Ordering::Relaxed)
    }

    /// Whether the loop should end without a message (a blocking read timed out).
    pub fn give_up(&self) -> bool {
        self.shared.abort.load(Ordering::Relaxed) || Instant::now() >= self.plan.deadline
    }

    pub fn finish(self, dropped: u64) -> Outcome {
        Outcome {
            received: self.received,
            payload_bytes: self.payload_bytes,
            last: self.last,
            dropped,
        }
    }
}

/// Any displayable error as the harness's error string.
pub fn err<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: {e}")
}

/// A redis-rs client with TCP_NODELAY, as the other sections' redis-rs clients.
pub fn redis_client(url: &str) -> Result<redis::Client, String> {
    use redis::IntoConnectionInfo;
    let info = url.into_connection_info().map_err(err("redis-rs url"))?;
    let info = info.set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
    redis::Client::open(info).map_err(err("redis-rs open"))
}

/// The publisher's thread: connected before the subscriber subscribes, then told how many
/// messages to publish; answers with its thread's CPU time for the burst and when it ended.
struct Publisher {
    bursts: Sender<u64>,
    done: Receiver<Result<(Duration, Instant), String>>,
}

type Burst = Result<(Duration, Instant), String>;

impl Publisher {
    fn start(url: &str, shared: Arc<Shared>) -> Result<Publisher, String> {
        let e = err("publisher");
        let mut con = redis_client(url)?.get_connection().map_err(&e)?;
        con.set_read_timeout(Some(Duration::from_secs(10))).map_err(&e)?;
        con.set_write_timeout(Some(Duration::from_secs(10))).map_err(&e)?;
        let (bursts, burst_rx) = mpsc::channel::<u64>();
        let (done_tx, done) = mpsc::channel();
        std::thread::Builder::new()
            .name("perf-publisher".into())
            .spawn(move || {
                let payload = crate::value_of(PAYLOAD);
                let full = pipeline(PIPELINE, &payload);
                // Ends when the harness drops its sender.
                for n in burst_rx {
                    let r = publish(&mut con, n, &full, &payload, &shared);
                    if done_tx.send(r).is_err() {
                        break;
                    }
                }
            })
            .map_err(err("publisher thread"))?;
        Ok(Publisher { bursts, done })
    }

    fn burst(&self, n: u64, timeout: Duration) -> Burst {
        self.bursts.send(n).map_err(|_| "the publisher thread ended".to_owned())?;
        match self.done.recv_timeout(timeout) {
            Ok(r) => r,
            Err(_) => Err(format!("the publisher did not finish {n} messages in {timeout:?}")),
        }
    }
}

fn pipeline(n: u64, payload: &[u8]) -> redis::Pipeline {
    let mut p = redis::pipe();
    for _ in 0..n {
        p.cmd("PUBLISH").arg(CHANNEL).arg(payload);
    }
    p
}

/// Publishes `n` messages in pipelines; every reply (the number of receivers) must be 1.
fn publish(
    con: &mut redis::Connection,
    n: u64,
    full: &redis::Pipeline,
    payload: &[u8],
    shared: &Shared,
) -> Burst {
    let e = err("publisher");
    let cpu0 = measure::cpu_thread();
    let mut left = n;
    while left > 0 && !shared.abort.load(Ordering::Relaxed) {
        let k = left.min(PIPELINE);
        let receivers: Vec<i64> = if k == PIPELINE {
            full.query(con).map_err(&e)?
        } else {
            pipeline(k, payload).query(con).map_err(&e)?
        };
        if let Some(r) = receivers.iter().find(|&&r| r != 1) {
            return Err(format!("a PUBLISH reached {r} subscribers, not 1"));
        }
        left -= k;
    }
    Ok((measure::cpu_thread().saturating_sub(cpu0), Instant::now()))
}

/// `CONFIG SET client-output-buffer-limit "pubsub 0 0 0"` for the section; puts the server's
/// own limits back on drop.
struct UnlimitedPubsubBuffers {
    con: redis::Connection,
    before: Option<String>,
}

impl UnlimitedPubsubBuffers {
    fn set(url: &str) -> Result<UnlimitedPubsubBuffers, String> {
        let e = err("control connection");
        let mut con = redis_client(url)?.get_connection().map_err(&e)?;
        con.set_read_timeout(Some(Duration::from_secs(5))).map_err(&e)?;
        let before: Option<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("client-output-buffer-limit")
            .query::<Vec<String>>(&mut con)
            .ok()
            .and_then(|v| v.into_iter().nth(1));
        let mut this = UnlimitedPubsubBuffers { con, before: None };
        let set = redis::cmd("CONFIG")
            .arg("SET")
            .arg("client-output-buffer-limit")
            .arg("pubsub 0 0 0")
            .query::<()>(&mut this.con);
        match set {
            Ok(()) => {
                this.before = before;
                Ok(this)
            }
            Err(e) => Err(format!("CONFIG SET client-output-buffer-limit: {e}")),
        }
    }
}

impl Drop for UnlimitedPubsubBuffers {
    fn drop(&mut self) {
        if let Some(before) = &self.before {
            let _ = redis::cmd("CONFIG")
                .arg("SET")
                .arg("client-output-buffer-limit")
                .arg(before)
                .query::<()>(&mut self.con);
        }
    }
}

/// The channel's subscriber count, from a control connection.
fn numsub(con: &mut redis::Connection) -> Result<i64, String> {
    let v: Vec<redis::Value> =
        redis::cmd("PUBSUB").arg("NUMSUB").arg(CHANNEL).query(con).map_err(err("PUBSUB NUMSUB"))?;
    match v.get(1) {
        Some(redis::Value::Int(n)) => Ok(*n),
        other => Err(format!("PUBSUB NUMSUB: unexpected reply {other:?}")),
    }
}

/// Waits (bounded) until `ready()`; fails early when the subscriber already returned.
fn wait_for(
    what: &str,
    events: &Receiver<Event>,
    mut ready: impl FnMut() -> bool,
) -> Result<(), String> {
    let start = Instant::now();
    while !ready() {
        match events.try_recv() {
            Ok(Event::Done(Err(e))) => return Err(e),
            Ok(Event::Done(Ok(o))) => {
                return Err(format!(
                    "the subscriber returned before {what} ({} messages)",
                    o.received
                ))
            }
            Ok(Event::Closed) => return Err(format!("the subscriber ended before {what}")),
            Err(TryRecvError::Disconnected) => {
                return Err(format!("the subscriber panicked before {what}"))
            }
            Err(_) if start.elapsed() > SETUP_TIMEOUT => {
                return Err(format!("{what} took more than {SETUP_TIMEOUT:?}"))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    Ok(())
}

/// One run of one subscriber: its sample, the publisher's rate and the tail (ms).
fn run_one(
    sub: Sub,
    env: &Env,
    messages: u64,
    control: &mut redis::Connection,
) -> Result<(Sample, f64, f64), String> {
    let shared = Arc::new(Shared::default());
    let total = WARM + messages;
    let cap = env.window.cap;
    let plan = Plan {
        warm: WARM,
        total,
        capacity: total as usize,
        deadline: Instant::now() + SETUP_TIMEOUT * 2 + cap,
    };
    let publisher = Publisher::start(&env.url, shared.clone())?;
    let (tx, events) = mpsc::channel();
    subscribers::start(sub, &env.url, &env.rt, plan, shared.clone(), tx);
    let r = measured(&shared, &publisher, &events, messages, cap, control, env.server_pid);
    if r.is_err() {
        // Stop the subscriber: the flag, and messages to wake one blocked in a read.
        shared.abort.store(true, Ordering::Relaxed);
        for _ in 0..8 {
            let _ = redis::cmd("PUBLISH").arg(CHANNEL).arg("stop").query::<i64>(control);
        }
    }
    // Let it unsubscribe and close before the next run (bounded: else it is left behind).
    let end = Instant::now() + STOP_GRACE;
    while let Ok(ev) = events.recv_timeout(end.saturating_duration_since(Instant::now())) {
        if matches!(ev, Event::Closed) {
            break;
        }
    }
    r
}

fn measured(
    shared: &Shared,
    publisher: &Publisher,
    events: &Receiver<Event>,
    messages: u64,
    cap: Duration,
    control: &mut redis::Connection,
    server_pid: Option<u32>,
) -> Result<(Sample, f64, f64), String> {
    wait_for("subscribing", events, || shared.subscribed.load(Ordering::Acquire))?;
    // Earlier runs' subscribers may take a moment to close their connections.
    let mut last = 0;
    wait_for("being the channel's only subscriber", events, || {
        last = numsub(control).unwrap_or(-1);
        last == 1
    })
    .map_err(|e| format!("{e} (PUBSUB NUMSUB {CHANNEL}: {last})"))?;
    publisher.burst(WARM, SETUP_TIMEOUT)?;
    wait_for("the warm-up burst", events, || shared.warmed.load(Ordering::Acquire))?;

    let others = Others::start(server_pid);
    let srv0 = server_pid.and_then(measure::proc_cpu);
    let cpu0 = measure::cpu_self();
    let t0 = Instant::now();
    let (pub_cpu, pub_done) = publisher.burst(messages, cap)?;
    let left = cap.saturating_sub(t0.elapsed());
    let outcome = match events.recv_timeout(left) {
        Ok(Event::Done(r)) => r?,
        Ok(Event::Closed) => return Err("the subscriber ended without a count".into()),
        Err(RecvTimeoutError::Timeout) => {
            return Err(format!("not every message arrived within {cap:?}"));
        }
        Err(RecvTimeoutError::Disconnected) => return Err("the subscriber panicked".into()),
    };
    let process_cpu = measure::cpu_self().saturating_sub(cpu0);
    let server_cpu = match (srv0, server_pid.and_then(measure::proc_cpu)) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let others_cpu = others.finish(process_cpu);
    let total = WARM + messages;
    let Some(last) = outcome.last else {
        return Err(format!(
            "{} of {total} messages arrived ({} dropped by the client)",
            outcome.received, outcome.dropped
        ));
    };
    if outcome.dropped > 0 {
        return Err(format!("the client dropped {} messages", outcome.dropped));
    }
    if outcome.payload_bytes != total * PAYLOAD as u64 {
        return Err(format!(
            "payloads: {} bytes, expected {}",
            outcome.payload_bytes,
            total * PAYLOAD as u64
        ));
    }
    let elapsed = last.saturating_duration_since(t0);
    let sample = Sample {
        ops: messages,
        elapsed,
        client_cpu: process_cpu.saturating_sub(pub_cpu),
        server_cpu,
        others_cpu,
        latency: Percentiles::default(),
    };
    let pub_rate = messages as f64 / pub_done.saturating_duration_since(t0).as_secs_f64().max(1e-9);
    let tail_ms = if last >= pub_done {
        last.duration_since(pub_done).as_secs_f64() * 1e3
    } else {
        -(pub_done.duration_since(last).as_secs_f64() * 1e3)
    };
    Ok((sample, pub_rate, tail_ms))
}

/// The subscribers `--clients` asks for.
pub fn subs(o: &Options) -> Vec<Sub> {
    Sub::ALL
        .into_iter()
        .filter(|s| o.clients.as_ref().is_none_or(|l| l.iter().any(|c| c == s.id())))
        .collect()
}

/// Measured messages per run.
pub fn messages(o: &Options) -> u64 {
    if o.quick {
        QUICK_MESSAGES
    } else {
        MESSAGES
    }
}

/// A rough time per run, for the time limit of repeated runs.
pub fn estimate(o: &Options) -> Duration {
    let per_run = Duration::from_millis(if o.quick { 400 } else { 1500 });
    per_run * (subs(o).len() * o.rounds) as u32
}

/// Runs every subscriber, rounds interleaved (A B C … A B C …), into `results`.
pub fn run_all(
    o: &Options,
    env: &Env,
    started: Instant,
    disturbed: &mut Disturbed,
    results: &mut Results,
) {
    let subs = subs(o);
    let messages = messages(o);
    let label = format!(
        "(g) pub/sub, 1 subscriber, {} × {PAYLOAD} B in pipelines of {}",
        report::num(messages as f64),
        report::num(PIPELINE as f64)
    );
    let limits = UnlimitedPubsubBuffers::set(&env.url);
    results.notes.push((
        SECTION,
        match &limits {
            Ok(_) => "The harness's server ran this section with `CONFIG SET \
                      client-output-buffer-limit \"pubsub 0 0 0\"` (no limit: a subscriber that \
                      falls behind is not disconnected, so every client is measured on the \
                      same terms); the server's own limits were put back after it."
                .to_owned(),
            Err(e) => format!(
                "The pub/sub output-buffer limit could not be raised ({e}): measured with the \
                 server's own limits, so a subscriber that falls far behind may be disconnected."
            ),
        },
    ));
    let control = redis_client(&env.url).and_then(|c| c.get_connection().map_err(err("control")));
    let mut control = match control {
        Ok(c) => c,
        Err(e) => {
            for s in &subs {
                push(results, &label, *s, Err(e.clone()));
            }
            return;
        }
    };
    let _ = control.set_read_timeout(Some(Duration::from_secs(5)));
    let total = subs.len() * o.rounds;
    let section_start = Instant::now();
    let mut n = 0;
    for round in 0..o.rounds {
        for &sub in &subs {
            n += 1;
            let per_run = section_start.elapsed() / n as u32;
            let remaining = per_run.max(Duration::from_millis(500)) * (total - n) as u32
                + crate::parsers_estimate(o);
            let mut side = None;
            let sample = crate::guarded(o, started, remaining, disturbed, || {
                run_one(sub, env, messages, &mut control).map(|(s, rate, tail)| {
                    side = Some((rate, tail));
                    s
                })
            });
            let what = match (&sample, side) {
                (Ok(s), Some((rate, tail))) => format!(
                    "{} msgs/s, {} µs CPU/msg (publisher {} msgs/s, tail {tail:.1} ms, \
                     others {:.2} cores)",
                    report::num(s.ops_per_sec()),
                    s.client_cpu_us().map_or("–".into(), report::num),
                    report::num(rate),
                    s.others_cores().unwrap_or(0.0)
                ),
                (Err(e), _) => format!("FAILED: {e}"),
                _ => String::new(),
            };
            eprintln!(
                "[ps {n:>2}/{total}] {label} · {} · round {}/{}: {what}",
                sub.name(),
                round + 1,
                o.rounds
            );
            if let (Ok(_), Some((rate, tail))) = (&sample, side) {
                for (what, value) in [(PUBLISHER_RATE, rate), (TAIL_MS, tail)] {
                    results.side.push(Side {
                        scenario: ID.into(),
                        client_id: sub.id().into(),
                        what,
                        value,
                    });
                }
            }
            push(results, &label, sub, sample);
        }
    }
    drop(limits);
}

fn push(results: &mut Results, label: &str, sub: Sub, sample: Result<Sample, String>) {
    let row = results.row_mut(Row {
        section: SECTION,
        scenario: ID.into(),
        label: label.into(),
        client_id: sub.id().into(),
        client: sub.name().into(),
        bytes_per_op: Some(PAYLOAD as f64),
        samples: Vec::new(),
        errors: Vec::new(),
    });
    match sample {
        Ok(s) => row.samples.push(s),
        Err(e) => row.errors.push(e),
    }
}

/// The section's table: messages/s, ratios to both redpoll rows, CPU per message.
pub fn markdown(results: &Results) -> String {
    let rows: Vec<&Row> = results.rows.iter().filter(|r| r.section == SECTION).collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "### (g) Pub/sub: messages/s one subscriber receives\n\n\
         A redis-rs blocking connection on a thread of its own publishes (the same publisher for \
         every client: pipelines of 1,000 PUBLISH, 32 B payloads, after a warm-up burst of \
         1,000); rate = measured messages / (first measured PUBLISH → last message received). \
         \"× redpoll\" = this row's messages/s ÷ that redpoll row's. Client CPU per message \
         excludes the publisher thread (RUSAGE_THREAD). Publisher msgs/s: its own rate in the \
         same runs, the ceiling the subscriber can reach; tail: how long after the publisher's \
         last reply the last message arrived (negative: before). redpoll's subscription has \
         `.capacity()` and fred's broadcast channel `broadcast_channel_capacity` set to the \
         whole run (fred's default, 32, drops on lag), redis-rs's channels are unbounded.\n\n\
         | scenario | client | msgs/s (median) | min–max | × redpoll .iter() | \
         × redpoll .next().await | publisher msgs/s | tail ms | client CPU µs/msg | \
         server CPU µs/msg |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    let opt = |x: Option<f64>| x.map_or_else(|| "–".into(), report::num);
    let redpoll = |id: &str| results.get(ID, id).map(|s| s.ops);
    let (iter, next) = (redpoll(Sub::RedpollIter.id()), redpoll(Sub::RedpollNext.id()));
    for r in rows {
        let Some(s) = r.summary() else {
            let why = r.errors.first().map(String::as_str).unwrap_or("no sample");
            let _ = writeln!(out, "| {} | {} | failed: {why} ||||||||", r.label, r.client);
            continue;
        };
        let ratio = |base: Option<f64>| match base {
            Some(b) if b > 0.0 => format!("{:.2}×", s.ops / b),
            _ => "–".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}–{} | {} | {} | {} | {} | {} | {} |",
            r.label,
            r.client,
            report::num(s.ops),
            report::num(s.ops_min),
            report::num(s.ops_max),
            ratio(iter),
            ratio(next),
            opt(results.side_median(ID, &r.client_id, PUBLISHER_RATE)),
            results
                .side_median(ID, &r.client_id, TAIL_MS)
                .map_or("–".into(), |t| format!("{t:.1}")),
            opt(s.cpu_us),
            opt(s.server_cpu_us),
        );
        if !r.errors.is_empty() {
            let _ =
                writeln!(out, "| | ({} failed rounds: {}) ||||||||", r.errors.len(), r.errors[0]);
        }
    }
    for (section, note) in &results.notes {
        if *section == SECTION {
            let _ = writeln!(out, "\n{note}");
        }
    }
    out.push('\n');
    out
}
