//! One runner per client: set up the client, start the callers, let `measure::drive` time the
//! window, collect the latencies.

mod fred_rs;
mod redis_rs;
mod redpoll_rs;

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;

use crate::measure::{self, Control, Sample, Window};
use crate::scenario::{ClientKind, Scenario, Transport};

/// What every runner needs.
pub struct Env {
    /// `redis://host:port` of the server under test.
    pub url: String,
    pub server_pid: Option<u32>,
    /// The TLS server of the (e) rows, when it runs.
    pub tls: Option<TlsEnv>,
    /// The runtime of the tokio clients (multi-threaded, one worker per core).
    pub rt: tokio::runtime::Runtime,
    pub window: Window,
}

/// Where the TLS scenarios connect and what their clients trust.
pub struct TlsEnv {
    /// `rediss://127.0.0.1:port`.
    pub url: String,
    pub server_pid: Option<u32>,
    /// The CA certificate (PEM file) that signed the server's certificate.
    pub ca: std::path::PathBuf,
}

impl TlsEnv {
    /// The CA certificate's PEM text.
    pub fn ca_pem(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.ca).map_err(|e| format!("reading {}: {e}", self.ca.display()))
    }
}

/// The server one scenario talks to.
pub enum Target<'a> {
    Tcp { url: &'a str },
    Tls(&'a TlsEnv),
}

impl Env {
    /// The server `sc` runs against: the plain one, or the TLS one for (e).
    pub fn target(&self, sc: &Scenario) -> Result<Target<'_>, String> {
        match sc.transport {
            Transport::Tcp => Ok(Target::Tcp { url: &self.url }),
            Transport::Tls => self
                .tls
                .as_ref()
                .map(Target::Tls)
                .ok_or_else(|| "no TLS server in this run".to_owned()),
        }
    }

    /// The pid of the server `sc` runs against (for its CPU time).
    pub fn server_pid(&self, sc: &Scenario) -> Option<u32> {
        match self.target(sc) {
            Ok(Target::Tls(t)) => t.server_pid,
            _ => self.server_pid,
        }
    }
}

pub use redis_rs::client as redis_client;

/// Runs one client on one scenario (not redis-benchmark, which has its own module).
pub fn run(kind: ClientKind, sc: &Scenario, env: &Env, value: &Bytes) -> Result<Sample, String> {
    match kind {
        ClientKind::RedpollWait => redpoll_rs::run_wait(sc, env, value),
        ClientKind::RedpollAwait => redpoll_rs::run_await(sc, env, value),
        ClientKind::RedisBlocking => redis_rs::run_blocking(sc, env, value),
        ClientKind::RedisMultiplexed => redis_rs::run_multiplexed(sc, env, value),
        ClientKind::Fred => fred_rs::run(sc, env, value),
        ClientKind::RedisBenchmark => Err("redis-benchmark runs through benchmark_tool".into()),
    }
}

/// At least this many operations complete in a window (one big value may take longer than
/// the window in `--quick` mode).
fn min_ops(sc: &Scenario) -> u64 {
    if sc.payload().is_some() {
        3
    } else {
        1
    }
}

/// Runs `sc.callers()` OS threads, each executing `caller` (which sets up, then loops with
/// `timed_loop!`), and times the window from this thread.
fn run_threads<F>(sc: &Scenario, env: &Env, caller: F) -> Result<Sample, String>
where
    F: Fn(&Control) -> Result<Vec<u64>, String> + Sync,
{
    let ctl = Control::new(sc.callers(), min_ops(sc));
    let (w, results) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..sc.callers())
            .map(|_| {
                scope.spawn(|| {
                    let r = caller(&ctl);
                    if r.is_err() {
                        ctl.stop();
                    }
                    r
                })
            })
            .collect();
        let w = measure::drive(&ctl, &env.window, env.server_pid(sc));
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a caller thread panicked".into())))
            .collect();
        (w, results)
    });
    measure::collect(w, sc.per_op(), results)
}

/// Runs `sc.callers()` tokio tasks made by `task`, and times the window from this thread
/// (which is not a runtime thread: it only sleeps).
fn run_tasks<F, Fut>(sc: &Scenario, env: &Env, task: F) -> Result<Sample, String>
where
    F: Fn(Arc<Control>) -> Fut,
    Fut: Future<Output = Result<Vec<u64>, String>> + Send + 'static,
{
    let ctl = Arc::new(Control::new(sc.callers(), min_ops(sc)));
    let handles: Vec<_> = (0..sc.callers())
        .map(|_| {
            let ctl2 = ctl.clone();
            let fut = task(ctl.clone());
            env.rt.spawn(async move {
                let r = fut.await;
                if r.is_err() {
                    ctl2.stop();
                }
                r
            })
        })
        .collect();
    let w = measure::drive(&ctl, &env.window, env.server_pid(sc));
    let results = env.rt.block_on(async {
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            out.push(h.await.unwrap_or_else(|e| Err(format!("a caller task failed: {e}"))));
        }
        out
    });
    measure::collect(w, sc.per_op(), results)
}

/// Any displayable error as the harness's error string.
fn err<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: {e}")
}
