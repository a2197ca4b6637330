//! What one run measures: the timed window (warm-up, then measurement), per-operation
//! latencies, and the CPU time of the client process (getrusage) and of the server process
//! (/proc/<pid>/stat) over exactly that window.

use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The phase every caller checks before each operation.
const WARMUP: u8 = 0;
const MEASURE: u8 = 1;
const STOP: u8 = 2;

/// Shared between the controlling thread and the callers of one run.
#[derive(Debug, Default)]
pub struct Control {
    phase: AtomicU8,
    /// Operations completed inside the measured window, counted only until `min_ops` (a
    /// shared counter written on every operation would itself cost client CPU).
    done: AtomicU64,
    min_ops: u64,
    /// Callers that finished their setup (connections, threads) and entered their loop.
    ready: AtomicUsize,
    callers: usize,
}

impl Control {
    /// A control for a run of `callers` callers that must complete at least `min_ops`
    /// operations.
    pub fn new(callers: usize, min_ops: u64) -> Control {
        Control { phase: AtomicU8::new(WARMUP), min_ops, callers, ..Control::default() }
    }

    /// A caller finished its setup; the warm-up starts once all have.
    pub fn ready(&self) {
        self.ready.fetch_add(1, Ordering::Relaxed);
    }

    /// True once the run is over: callers leave their loop.
    pub fn stopped(&self) -> bool {
        self.phase.load(Ordering::Relaxed) == STOP
    }

    /// Whether an operation started now counts.
    pub fn measuring(&self) -> bool {
        self.phase.load(Ordering::Relaxed) == MEASURE
    }

    /// Records one operation completed in the window (while the minimum is not reached).
    pub fn count(&self) {
        if self.done.load(Ordering::Relaxed) < self.min_ops {
            self.done.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Stops the run (also used by a caller that failed, so the others end too).
    pub fn stop(&self) {
        self.phase.store(STOP, Ordering::Relaxed);
    }
}

/// One caller's loop: runs `$op` (an expression that may `?` or `.await`) until the run
/// stops, recording the latency of every operation that started inside the measured window.
/// Evaluates to the recorded latencies (ns), one per operation.
#[macro_export]
macro_rules! timed_loop {
    ($ctl:expr, $op:expr) => {{
        let ctl: &$crate::measure::Control = &$ctl;
        let mut lat: Vec<u64> = Vec::with_capacity(1024);
        ctl.ready();
        loop {
            if ctl.stopped() {
                break;
            }
            let counted = ctl.measuring();
            let t0 = std::time::Instant::now();
            $op;
            if counted {
                lat.push(t0.elapsed().as_nanos() as u64);
                ctl.count();
            }
        }
        lat
    }};
}

/// How long a run warms up and measures.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub warmup: Duration,
    pub measure: Duration,
    /// The window is extended (up to `cap`) until the control's minimum of operations
    /// completed.
    pub cap: Duration,
}

/// How long callers may take to connect before the warm-up starts anyway.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);

/// What the controlling thread saw over the measured window.
#[derive(Debug, Clone, Copy)]
pub struct WindowResult {
    pub elapsed: Duration,
    pub client_cpu: Duration,
    pub server_cpu: Option<Duration>,
    /// CPU time the rest of the machine used meanwhile (see [`Others`]).
    pub others_cpu: Option<Duration>,
}

/// Runs the phases from the controlling thread (which only sleeps): warm-up, then the
/// measured window with CPU readings at both ends, then stop.
pub fn drive(ctl: &Control, w: &Window, server_pid: Option<u32>) -> WindowResult {
    let setup = Instant::now();
    while ctl.ready.load(Ordering::Relaxed) < ctl.callers
        && !ctl.stopped()
        && setup.elapsed() < SETUP_TIMEOUT
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    sleep_unless_stopped(ctl, w.warmup);
    let others = Others::start(server_pid);
    let cpu0 = cpu_self();
    let srv0 = server_pid.and_then(proc_cpu);
    let t0 = Instant::now();
    ctl.phase.store(MEASURE, Ordering::Relaxed);
    sleep_unless_stopped(ctl, w.measure);
    while ctl.done.load(Ordering::Relaxed) < ctl.min_ops && t0.elapsed() < w.cap && !ctl.stopped() {
        std::thread::sleep(Duration::from_millis(5));
    }
    ctl.stop();
    let elapsed = t0.elapsed();
    let client_cpu = cpu_self().saturating_sub(cpu0);
    let server_cpu = match (srv0, server_pid.and_then(proc_cpu)) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let others_cpu = others.finish(client_cpu);
    WindowResult { elapsed, client_cpu, server_cpu, others_cpu }
}

/// Measures the CPU time the rest of the machine (other people's builds, the hypervisor's
/// steal) uses during a run: the whole machine's busy time from `/proc/stat` minus this
/// process and the server. A run during which others used much CPU is disturbed: on a small
/// shared machine that changes results several-fold, so such runs are repeated.
#[derive(Debug, Clone, Copy)]
pub struct Others {
    machine: Option<Duration>,
    server: Option<Duration>,
    server_pid: Option<u32>,
}

impl Others {
    pub fn start(server_pid: Option<u32>) -> Others {
        Others { machine: machine_busy(), server: server_pid.and_then(proc_cpu), server_pid }
    }

    /// Others' CPU since `start`, given this process's (or its child's) CPU meanwhile.
    pub fn finish(&self, ours: Duration) -> Option<Duration> {
        let machine = machine_busy()?.checked_sub(self.machine?)?;
        let server = match (self.server, self.server_pid.and_then(proc_cpu)) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => Duration::ZERO,
        };
        Some(machine.saturating_sub(ours).saturating_sub(server))
    }
}

/// Times a fixed piece of single-threaded work (about half a millisecond here). Another
/// virtual machine on the same host can slow this one down several-fold without any process
/// of ours showing it in `/proc/stat`; this probe, taken before and after each run and compared
/// with the fastest seen, shows it.
pub fn cpu_probe() -> Duration {
    let t = Instant::now();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..400_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x);
    t.elapsed()
}

/// Busy CPU time of the whole machine (all cores): user, nice, system, irq, softirq and steal
/// from the first line of `/proc/stat` (in clock ticks).
pub fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let f: Vec<u64> = line.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal ...
    let ticks = f.first()? + f.get(1)? + f.get(2)? + f.get(5)? + f.get(6)? + f.get(7)?;
    Some(ticks_to_duration(ticks))
}

fn ticks_to_duration(ticks: u64) -> Duration {
    // SAFETY: sysconf reads a configuration value and has no memory effects.
    #[allow(unsafe_code)]
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as u64 } else { 100 };
    Duration::from_nanos(ticks.saturating_mul(1_000_000_000) / hz)
}

fn sleep_unless_stopped(ctl: &Control, d: Duration) {
    let end = Instant::now() + d;
    while !ctl.stopped() {
        let now = Instant::now();
        if now >= end {
            return;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(20)));
    }
}

/// User + system CPU time of this whole process (every thread), from getrusage.
pub fn cpu_self() -> Duration {
    rusage(libc::RUSAGE_SELF)
}

/// User + system CPU time of the calling thread only (the pub/sub publisher's share, taken
/// out of the process's).
pub fn cpu_thread() -> Duration {
    rusage(libc::RUSAGE_THREAD)
}

/// User + system CPU time of the waited-for children (redis-benchmark).
pub fn cpu_children() -> Duration {
    rusage(libc::RUSAGE_CHILDREN)
}

fn rusage(who: libc::c_int) -> Duration {
    // SAFETY: `getrusage` only writes the struct we pass, which is a plain C struct for which
    // all-zero bytes are a valid value.
    #[allow(unsafe_code)]
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        if libc::getrusage(who, &mut ru) != 0 {
            return Duration::ZERO;
        }
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// User + system CPU time of another process, from `/proc/<pid>/stat` (clock ticks, usually
/// 10 ms: fine over windows of a second or more, coarse below).
pub fn proc_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields after its ')' are plain.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks_to_duration(ticks))
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub p999: Option<f64>,
}

impl Percentiles {
    /// From raw latencies in nanoseconds (sorted in place).
    pub fn from_ns(lat: &mut [u64]) -> Percentiles {
        if lat.is_empty() {
            return Percentiles::default();
        }
        lat.sort_unstable();
        let at = |q: f64| {
            let i = ((lat.len() as f64 * q).ceil() as usize).clamp(1, lat.len()) - 1;
            Some(lat[i] as f64 / 1000.0)
        };
        Percentiles { p50: at(0.50), p99: at(0.99), p999: at(0.999) }
    }
}

/// One run of one client on one scenario.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Commands completed in the window.
    pub ops: u64,
    pub elapsed: Duration,
    pub client_cpu: Duration,
    pub server_cpu: Option<Duration>,
    /// CPU time other processes of the machine used during the run.
    pub others_cpu: Option<Duration>,
    /// Per operation (per batch in batch scenarios).
    pub latency: Percentiles,
}

impl Sample {
    /// Builds a sample from the window and every caller's latencies.
    pub fn new(w: WindowResult, ops: u64, mut lat: Vec<u64>) -> Sample {
        Sample {
            ops,
            elapsed: w.elapsed,
            client_cpu: w.client_cpu,
            server_cpu: w.server_cpu,
            others_cpu: w.others_cpu,
            latency: Percentiles::from_ns(&mut lat),
        }
    }

    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Client CPU per command, in microseconds.
    pub fn client_cpu_us(&self) -> Option<f64> {
        (self.ops > 0).then(|| self.client_cpu.as_secs_f64() * 1e6 / self.ops as f64)
    }

    /// How many cores' worth of CPU other processes used during the run.
    pub fn others_cores(&self) -> Option<f64> {
        Some(self.others_cpu?.as_secs_f64() / self.elapsed.as_secs_f64().max(1e-9))
    }

    /// Server CPU per command, in microseconds.
    pub fn server_cpu_us(&self) -> Option<f64> {
        let s = self.server_cpu?;
        (self.ops > 0).then(|| s.as_secs_f64() * 1e6 / self.ops as f64)
    }
}

/// Collects the callers' latency vectors and the window into a sample; the first error wins.
/// `per_op` is how many commands one operation is (1, or the batch size).
pub fn collect(
    w: WindowResult,
    per_op: u64,
    per_caller: Vec<Result<Vec<u64>, String>>,
) -> Result<Sample, String> {
    let mut all = Vec::new();
    for r in per_caller {
        all.extend(r?);
    }
    let ops = all.len() as u64 * per_op;
    Ok(Sample::new(w, ops, all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_ranks() {
        let mut lat: Vec<u64> = (1..=1000).map(|i| i * 1000).collect();
        let p = Percentiles::from_ns(&mut lat);
        assert_eq!(p.p50, Some(500.0));
        assert_eq!(p.p99, Some(990.0));
        assert_eq!(p.p999, Some(999.0));
        assert!(Percentiles::from_ns(&mut []).p50.is_none());
    }

    #[test]
    fn own_cpu_time_grows() {
        let a = cpu_self();
        let mut x = 0u64;
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        assert!(cpu_self() > a);
        assert!(proc_cpu(std::process::id()).is_some());
        assert!(machine_busy().is_some());
    }
}
