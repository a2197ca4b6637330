//! The non-blocking proof every capability reuses: a PING every 10 ms on a connection of its
//! own (its own `redis-server`, so that only the client's I/O thread stands between the
//! PINGs), counted against the ticks expected in the time it ran.
//!
//! ```ignore
//! let ticker = Ticker::start();
//! // … the capability under test: a 64 MiB reply, BLPOP 0, a black-hole connect …
//! ticker.stop().assert_kept_up("a 64 MiB reply");
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redpoll::Client;

use super::RedisServer;

/// How often the ticker PINGs.
pub const TICK: Duration = Duration::from_millis(10);
/// The share of expected ticks that must complete, in percent.
pub const MIN_TICKS_PERCENT: u64 = 80;
/// The ticker stops by itself after this long (every load loop is bounded in time).
pub const TICKER_LIMIT: Duration = Duration::from_secs(30);

/// A running ticker; [`Ticker::stop`] ends it and reports.
pub struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<TickReport>>,
    _server: RedisServer,
}

/// What a ticker measured.
#[derive(Debug, Clone)]
pub struct TickReport {
    /// 10 ms slots in the time it ran.
    pub expected: u64,
    /// Slots in which a PING completed.
    pub ticks: u64,
    /// The longest time between two completed PINGs.
    pub longest_gap: Duration,
    pub ran_for: Duration,
}

impl Ticker {
    /// Starts a server and a client of their own and PINGs every [`TICK`] until stopped.
    pub fn start() -> Ticker {
        let server = RedisServer::new();
        let client = Client::open(&server.url()).expect("ticker client");
        client.connect().wait().expect("ticker connects");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || tick(&client, &flag));
        Ticker { stop, thread: Some(thread), _server: server }
    }

    /// Stops the ticker and returns what it measured.
    pub fn stop(mut self) -> TickReport {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().expect("running").join().expect("ticker thread")
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn tick(client: &Client, stop: &AtomicBool) -> TickReport {
    let started = Instant::now();
    let mut last = started;
    let mut longest_gap = Duration::ZERO;
    let mut ticks = 0;
    let mut slot = 0u32;
    while !stop.load(Ordering::Relaxed) && started.elapsed() < TICKER_LIMIT {
        // The next slot not yet begun: a PING that took longer than a tick costs the slots
        // it overran.
        slot = slot.max((started.elapsed().as_nanos() / TICK.as_nanos()) as u32 + 1);
        let at = started + TICK * slot;
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        match client.ping().timeout(Duration::from_secs(5)).wait() {
            Ok(pong) => assert_eq!(pong, "PONG"),
            Err(e) => panic!("the ticker's PING failed: {e}"),
        }
        longest_gap = longest_gap.max(last.elapsed());
        last = Instant::now();
        ticks += 1;
    }
    let ran_for = started.elapsed();
    let expected = (ran_for.as_nanos() / TICK.as_nanos()) as u64;
    TickReport { expected, ticks, longest_gap, ran_for }
}

impl TickReport {
    /// Prints the figures and asserts that at least [`MIN_TICKS_PERCENT`] of the expected
    /// ticks completed while `what` ran. The longest gap is reported, not asserted.
    pub fn assert_kept_up(&self, what: &str) {
        eprintln!(
            "ticker during {what}: {} of {} ticks in {:?}, longest gap {:?}",
            self.ticks, self.expected, self.ran_for, self.longest_gap
        );
        assert!(self.expected >= 10, "the ticker ran only {:?}", self.ran_for);
        assert!(
            self.ticks * 100 >= self.expected * MIN_TICKS_PERCENT,
            "during {what} the ticker completed {} of {} ticks (longest gap {:?}): the I/O thread stalled",
            self.ticks,
            self.expected,
            self.longest_gap
        );
    }
}
