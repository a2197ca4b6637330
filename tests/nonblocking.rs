//! Proof that the I/O thread never blocks, for every mode: while one connection receives a
//! 64 MiB reply, a BLPOP 0 waits, a dedicated connection runs MULTI … EXEC, a connect hangs
//! on a black hole, or a TLS handshake crawls through the proxy a byte at a time, the
//! ticker (`support::Ticker`: a PING every 10 ms on a connection of its own) keeps at least
//! 80% of its ticks. Its longest gap is printed (`--nocapture`), not asserted.

mod support;

use std::time::{Duration, Instant};

use redpoll::Client;
use support::{FaultProxy, Listener, RedisServer, Ticker};

#[test]
fn a_64_mib_reply_does_not_stall_the_loop() {
    let server = RedisServer::new();
    let big = Client::open(&server.url()).unwrap();
    let payload = vec![b'x'; 64 << 20];
    big.set("big", payload.as_slice()).wait().unwrap();
    drop(payload);

    let ticker = Ticker::start();
    let started = Instant::now();
    let mut transfers = 0;
    // At least 1 s of ticks, however fast the transfers go (bounded in count too).
    while (started.elapsed() < Duration::from_secs(1) || transfers == 0) && transfers < 20 {
        let value = big.get("big").timeout(Duration::from_secs(30)).wait().unwrap().unwrap();
        assert_eq!(value.len(), 64 << 20);
        transfers += 1;
    }
    ticker.stop().assert_kept_up(&format!("{transfers} replies of 64 MiB"));
}

#[test]
fn blpop_0_does_not_stall_the_loop() {
    let server = RedisServer::new();
    let client = Client::open(&server.url()).unwrap();
    client.connect().wait().unwrap();
    let waiting = client.blpop("jobs", 0.0).send();

    let ticker = Ticker::start();
    // The same client serves other callers meanwhile.
    for i in 0..50 {
        client.set("k", i).wait().unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = ticker.stop();
    client.rpush("jobs", "done").wait().unwrap();
    let popped = waiting.wait().unwrap().expect("an element");
    assert_eq!(popped.1, b"done".to_vec());
    report.assert_kept_up("BLPOP 0 waiting");
}

#[test]
fn a_dedicated_transaction_does_not_stall_the_loop() {
    let server = RedisServer::new();
    let client = Client::open(&server.url()).unwrap();
    let conn = client.dedicated().wait().unwrap();

    let ticker = Ticker::start();
    let started = Instant::now();
    let mut runs = 0;
    while (started.elapsed() < Duration::from_secs(1) || runs == 0) && runs < 5_000 {
        conn.watch(["n"]).wait().unwrap();
        let n: i64 = conn.get("n").decode::<Option<i64>>().wait().unwrap().unwrap_or(0);
        conn.multi().wait().unwrap();
        let _: redpoll::Value = conn.set("n", n + 1).decode().wait().unwrap();
        let done: Option<Vec<redpoll::Value>> = conn.exec().decode().wait().unwrap();
        assert!(done.is_some(), "nobody else writes n");
        runs += 1;
    }
    ticker.stop().assert_kept_up(&format!("{runs} WATCH/MULTI/EXEC transactions"));
    assert_eq!(client.get("n").decode::<Option<i64>>().wait().unwrap(), Some(runs));
}

#[test]
fn a_connect_to_a_black_hole_does_not_stall_the_loop() {
    let blackhole = Listener::blackhole();
    let stuck = Client::builder()
        .url(blackhole.url())
        .connect_timeout(Duration::from_millis(1500))
        .build()
        .unwrap();

    let ticker = Ticker::start();
    let err = stuck.connect().wait().unwrap_err();
    let report = ticker.stop();
    assert!(err.is_timeout(), "{err:?}");
    report.assert_kept_up("a connect to a black hole");
}

#[cfg(feature = "tls")]
#[test]
fn a_tls_handshake_crawling_through_the_proxy_does_not_stall_the_loop() {
    let certs = support::Certs::new();
    let server = certs.server(false);
    let proxy = FaultProxy::start(&server.addr());
    proxy.one_byte_at_a_time(true);
    proxy.set_latency(Duration::from_millis(150));
    let ticker = Ticker::start();
    let started = Instant::now();
    let client = Client::builder()
        .url(format!("rediss://{}", proxy.addr()))
        .tls(certs.tls())
        .connect_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    client.connect().wait().unwrap();
    assert_eq!(client.ping().timeout(Duration::from_secs(20)).wait().unwrap(), "PONG");
    let took = started.elapsed();
    if took < Duration::from_millis(200) {
        // Let the ticker run long enough to count.
        std::thread::sleep(Duration::from_millis(200) - took);
    }
    ticker.stop().assert_kept_up(&format!("a TLS handshake of {took:?} a byte at a time"));
    assert!(proxy.writes() > 1000, "the handshake crawled: {} writes", proxy.writes());
}
