//! Round trips through redpoll against a real `redis-server`: what a command costs end to
//! end (caller thread → I/O thread → server → I/O thread → caller).
//!
//! `cargo bench --bench roundtrip -- --warm-up-time 1 --measurement-time 3`
//!
//! The bench starts its own `redis-server` (the project's test launcher: a free loopback
//! port, `--save '' --appendonly no`, killed by pid on drop) unless `REDIS_URL` is set.
//!
//! - `roundtrip_tcp/get_sequential`: one caller, `get().wait()` after `get().wait()`: latency.
//! - `roundtrip_tcp/get_64_threads`: 64 threads sharing one client, each `get().wait()` in a
//!   loop; throughput in GETs per second (one element = one GET).
//! - `roundtrip_tcp/set_send_1000_then_wait`: 1,000 `set().send()` handles, then `.wait()` on
//!   each (implicit pipelining); one element = one SET.
//! - `roundtrip_tls/…`: the same three over TLS (a TLS redis-server of the bench's own, with
//!   certificates generated for the run; `REDIS_URL` does not apply to it).
//!
//! The side-by-side comparison with redis-rs, fred and redis-benchmark is
//! `cargo run --release -p perf -- compare`.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use redpoll::Client;

/// The project's own `redis-server` launcher, shared with the integration tests (only the
/// files it needs).
#[allow(dead_code, unused_imports)]
#[path = "../tests/support"]
mod support {
    mod certs;
    mod redis_server;
    mod resp;
    mod tempdir;

    pub use certs::Certs;
    pub use redis_server::RedisServer;
    pub use tempdir::TempDir;
}

const KEY: &str = "roundtrip:key";
const VALUE: &str = "0123456789abcdef";
const THREADS: usize = 64;
const BATCH: usize = 1000;

/// The server under test: `REDIS_URL`, or our own (kept alive as long as this value).
struct Target {
    url: String,
    _own: Option<support::RedisServer>,
}

fn target() -> Target {
    match std::env::var("REDIS_URL") {
        Ok(url) => Target { url, _own: None },
        Err(_) => {
            let server = support::RedisServer::new();
            Target { url: server.url(), _own: Some(server) }
        }
    }
}

/// `iters` GETs spread over `threads` threads sharing `client`; the time from the moment all
/// threads are ready until the last one finishes (thread start-up is not counted).
fn get_on_threads(client: &Client, threads: usize, iters: u64) -> Duration {
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads as u64)
            .map(|t| {
                let n = iters / threads as u64 + u64::from(t < iters % threads as u64);
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    for _ in 0..n {
                        client.get(KEY).wait().expect("GET");
                    }
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for w in workers {
            w.join().expect("worker");
        }
        start.elapsed()
    })
}

/// The three round-trip benches over one transport (`tcp`, `tls`).
fn bench_transport(c: &mut Criterion, transport: &str, client: &Client) {
    client.connect().wait().expect("connect");
    client.set(KEY, VALUE).wait().expect("SET");
    let mut g = c.benchmark_group(format!("roundtrip_{transport}"));
    g.throughput(Throughput::Elements(1));
    g.bench_function("get_sequential", |b| b.iter(|| client.get(KEY).wait().expect("GET")));
    g.bench_function(format!("get_{THREADS}_threads"), |b| {
        b.iter_custom(|iters| get_on_threads(client, THREADS, iters))
    });
    g.throughput(Throughput::Elements(BATCH as u64));
    let mut replies = Vec::with_capacity(BATCH);
    g.bench_function(format!("set_send_{BATCH}_then_wait"), |b| {
        b.iter(|| {
            replies.extend((0..BATCH).map(|_| client.set(KEY, VALUE).send()));
            for r in replies.drain(..) {
                r.wait().expect("SET");
            }
        })
    });
    g.finish();
}

fn roundtrip(c: &mut Criterion) {
    let target = target();
    let client = Client::open(&target.url).expect("open");
    bench_transport(c, "tcp", &client);

    // The same three over TLS: a TLS redis-server with certificates generated for this run
    // (rcgen), verified against the run's CA. Ratios against `roundtrip_tcp` come from one run.
    let certs = support::Certs::new();
    let tls_server = certs.server(false);
    let tls_client =
        Client::builder().url(tls_server.url()).tls(certs.tls()).build().expect("TLS client");
    bench_transport(c, "tls", &tls_client);
}

criterion_group!(benches, roundtrip);
criterion_main!(benches);
