//! Proof that the I/O thread never blocks: while one connection receives a 64 MiB reply and
//! another connects to a listener that never answers, a third keeps completing PINGs.

mod support;

use std::time::{Duration, Instant};

use redpoll::Client;
use support::{Listener, RedisServer};

#[test]
fn other_connections_keep_flowing() {
    let server = RedisServer::new();
    let big = Client::open(&server.url()).unwrap();
    big.connect().wait().unwrap();
    let payload = vec![b'x'; 64 << 20];
    big.set("big", payload.as_slice()).wait().unwrap();

    // A server of its own, so that only the client's loop stands between the PINGs.
    let other = RedisServer::new();
    let pinger = Client::open(&other.url()).unwrap();
    pinger.connect().wait().unwrap();

    let blackhole = Listener::blackhole();
    let stuck = Client::builder()
        .url(blackhole.url())
        .connect_timeout(Duration::from_secs(3))
        .build()
        .unwrap();

    let reply = big.get("big").send();
    let connecting = stuck.connect().send();
    let started = Instant::now();
    let mut last = Instant::now();
    let mut worst = Duration::ZERO;
    let mut pings = 0;
    while started.elapsed() < Duration::from_millis(1500) {
        assert_eq!(pinger.ping().wait().unwrap(), "PONG");
        worst = worst.max(last.elapsed());
        last = Instant::now();
        pings += 1;
    }
    let value = reply.wait().unwrap().unwrap();
    assert_eq!(value.len(), 64 << 20);
    eprintln!("{pings} PINGs in 1.5 s, longest gap {worst:?}");
    // A blocked loop would show a gap of seconds (the 3 s connect timeout, or the whole
    // 64 MiB transfer); scheduling noise on a loaded 2-core machine stays far below this.
    assert!(worst < Duration::from_millis(500), "longest gap between PINGs: {worst:?}");
    assert!(pings > 20, "only {pings} PINGs completed");
    drop(connecting);
}
