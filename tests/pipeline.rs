//! Pipelines against a real redis-server: results per slot, typed queries, ignored slots, a
//! key prefix (what the server holds is read through a client without one), a transport cut
//! through the fault proxy, and a pipeline of 1,000,000 commands beside the ticker.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use redpoll::{Client, Error, Value};
use support::{FaultProxy, RedisServer, Ticker};

fn ok() -> Value {
    Value::SimpleString(Bytes::from_static(b"OK"))
}

fn prefixed(server: &RedisServer, prefix: &str) -> Client {
    Client::builder().url(server.url()).prefix(prefix).build().unwrap()
}

#[test]
fn ten_thousand_commands_each_in_its_slot() {
    let server = RedisServer::new();
    let client = prefixed(&server, "p:");
    let raw = Client::open(&server.url()).unwrap();
    let mut p = client.pipeline();
    for i in 0..5_000 {
        p.set(format!("k{i}"), i);
        p.incr(format!("k{i}"));
    }
    assert_eq!(p.len(), 10_000);
    let slots = p.execute().wait().unwrap();
    assert_eq!(slots.len(), 10_000);
    for (i, pair) in slots.chunks(2).enumerate() {
        assert_eq!(pair[0].as_ref().unwrap(), &ok(), "SET k{i}");
        assert_eq!(pair[1].as_ref().unwrap(), &Value::Int(i as i64 + 1), "INCR k{i}");
    }
    assert_eq!(raw.get("p:k4999").wait().unwrap(), Some(Bytes::from_static(b"5000")));
    assert_eq!(raw.get("k4999").wait().unwrap(), None, "every key took the prefix");
    assert_eq!(raw.dbsize().wait().unwrap(), 5_000);
}

#[test]
fn a_server_error_stays_in_its_slot() {
    let server = RedisServer::new();
    let client = prefixed(&server, "p:");
    let mut p = client.pipeline();
    p.set("s", "text").incr("s").lpush("s", ["x"]);
    p.get("s");
    let slots = p.execute().wait().unwrap();
    assert_eq!(slots.len(), 4);
    assert_eq!(slots[0].as_ref().unwrap(), &ok());
    let incr = slots[1].as_ref().unwrap_err();
    assert_eq!(incr.server_code(), Some("ERR"), "{incr}");
    assert_eq!(slots[2].as_ref().unwrap_err().server_code(), Some("WRONGTYPE"));
    assert_eq!(slots[3].as_ref().unwrap(), &Value::BulkString(Bytes::from_static(b"text")));
}

#[test]
fn typed_query_ignore_and_options() {
    let server = RedisServer::new();
    let client = prefixed(&server, "q:");
    let raw = Client::open(&server.url()).unwrap();
    let mut p = client.pipeline();
    p.set("a", 41).ex(100).ignore().incr("a");
    p.get("a");
    p.exists(["a", "missing"]);
    let (n, a, e): (i64, String, i64) = p.query().wait().unwrap();
    assert_eq!((n, a.as_str(), e), (42, "42", 1));
    let ttl = raw.ttl("q:a").wait().unwrap();
    assert!((1..=100).contains(&ttl), "the EX option went with the SET: ttl {ttl}");

    // keys in replies come back without the prefix
    let mut p = client.pipeline();
    p.keys("*");
    let (keys,): (Vec<String>,) = p.query().wait().unwrap();
    assert_eq!(keys, ["a"]);

    // strict: the first error reply fails the query
    let mut p = client.pipeline();
    p.set("t", "x").incr("t");
    let err = p.query::<(String, i64)>().wait().unwrap_err();
    assert_eq!(err.server_code(), Some("ERR"), "{err}");
    // the replies do not fit the type
    let mut p = client.pipeline();
    p.get("a").get("a");
    let err = p.query::<(i64,)>().wait().unwrap_err();
    assert!(matches!(err, Error::Conversion { .. }), "{err:?}");
}

#[test]
fn single_use_empty_and_async() {
    let server = RedisServer::new();
    let client = Client::open(&server.url()).unwrap();
    let mut p = client.pipeline();
    assert!(p.is_empty());
    assert!(p.execute().wait().unwrap().is_empty());
    let err = p.execute().wait().unwrap_err();
    assert!(matches!(err, Error::Usage(_)), "a pipeline runs once: {err:?}");

    let mut p = client.pipeline();
    p.rpush("l", ["a", "b", "c"]).lrange("l", 0, -1);
    let (n, items): (i64, Vec<String>) = futures::executor::block_on(p.query()).unwrap();
    assert_eq!((n, items), (3, vec!["a".into(), "b".into(), "c".into()]));

    // a command refused before sending fails the pipeline, naming the command
    let mut p = client.pipeline();
    p.get("x");
    p.cmd("MULTI");
    let err = p.execute().wait().unwrap_err();
    assert!(matches!(&err, Error::Usage(m) if m.contains("command 1")), "{err:?}");
    assert_eq!(client.ping().wait().unwrap(), "PONG", "nothing was sent");
}

#[test]
fn one_deadline_for_the_pipeline() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let client =
        Client::builder().url(proxy.url()).request_timeout(Duration::from_secs(5)).build().unwrap();
    client.connect().wait().unwrap();
    proxy.set_latency(Duration::from_millis(400));
    let mut p = client.pipeline();
    p.timeout(Duration::from_millis(100));
    p.incr("n").incr("n");
    let err = p.execute().wait().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    proxy.set_latency(Duration::ZERO);
    // both commands were written: each ran at most once, and the client answers again
    let deadline = Instant::now() + Duration::from_secs(10);
    let n = loop {
        match client.get("n").wait() {
            Ok(n) => break n,
            Err(e) if Instant::now() < deadline => eprintln!("after the timeout: {e}"),
            Err(e) => panic!("the client did not recover: {e}"),
        }
    };
    assert!(matches!(n.as_deref(), None | Some(b"1") | Some(b"2")), "{n:?}");
}

#[test]
fn a_cut_mid_pipeline_fails_it_whole_once() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let client = Client::open(&proxy.url()).unwrap();
    client.connect().wait().unwrap();
    let value = vec![b'v'; 100];
    // the replies to ~100 KiB of SETs: cut after a few thousand of them arrived
    proxy.cut_after_upstream_bytes(5 * 4_000);
    let mut p = client.pipeline();
    for i in 0..20_000 {
        p.set(format!("k{i}"), value.as_slice());
    }
    let err = p.execute().wait().unwrap_err();
    assert!(err.is_connection(), "{err:?}");
    assert!(err.maybe_executed(), "written commands may have run: {err:?}");
    proxy.heal();
    // the connection is reset and the next command runs on a fresh one
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.ping().wait().is_err() {
        assert!(Instant::now() < deadline, "no reconnect after the cut");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut p = client.pipeline();
    p.set("after", 1).get("after");
    let slots = p.execute().wait().unwrap();
    assert_eq!(slots.len(), 2);
    assert_eq!(slots[1].as_ref().unwrap(), &Value::BulkString(Bytes::from_static(b"1")));
}

/// Resets the peak resident set to the current one (Linux: `5` into `clear_refs`).
fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

/// The peak resident set of this process (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_million_commands_in_bounded_memory_beside_the_ticker() {
    let server = RedisServer::new();
    let client = prefixed(&server, "m:");
    let raw = Client::open(&server.url()).unwrap();
    client.connect().wait().unwrap();
    reset_peak_rss();
    let before = peak_rss_kib();
    let ticker = Ticker::start();
    let started = Instant::now();
    let mut p = client.pipeline();
    p.timeout(Duration::from_secs(120));
    for i in 0..1_000_000u32 {
        p.incr(if i % 2 == 0 { "even" } else { "odd" }).ignore();
    }
    p.get("even");
    let (even,): (i64,) = p.query().wait().unwrap();
    let took = started.elapsed();
    ticker.stop().assert_kept_up("a pipeline of 1,000,000 INCRs");
    let grew = peak_rss_kib().saturating_sub(before);
    println!("1,000,000-command pipeline: {took:?}, peak RSS grew by {} MiB", grew / 1024);
    assert_eq!(even, 500_000);
    assert_eq!(raw.get("m:odd").wait().unwrap(), Some(Bytes::from_static(b"500000")));
    // encoded commands (~30 MB) and one reply buffer: bounded by a small multiple of them
    assert!(grew < 512 * 1024, "peak RSS grew by {grew} KiB");
}
