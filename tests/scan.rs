//! SCAN iterators against a real redis-server, with a key prefix (what the server holds is
//! read through a client without one): every key visited, patterns, TYPE, the hash, set and
//! sorted-set scans, async pages, a dedicated connection, and 1,000,000 keys in bounded
//! memory.

mod support;

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use bytes::Bytes;
use redpoll::{Client, Error};
use support::RedisServer;

fn clients(server: &RedisServer) -> (Client, Client) {
    let client = Client::builder().url(server.url()).prefix("sc:").build().unwrap();
    (client, Client::open(&server.url()).unwrap())
}

fn fill(client: &Client, n: u32, name: impl Fn(u32) -> String) {
    let mut p = client.pipeline();
    p.timeout(Duration::from_secs(120));
    for i in 0..n {
        p.set(name(i), i).ignore();
    }
    p.execute().wait().unwrap();
}

#[test]
fn scan_visits_every_key_of_this_prefix_and_strips_it() {
    let server = RedisServer::new();
    let (client, raw) = clients(&server);
    fill(&client, 10_000, |i| format!("k{i}"));
    raw.set("other", "not ours").wait().unwrap();
    let seen: HashSet<Bytes> =
        client.scan_iter().count(500).iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(seen.len(), 10_000, "every key once (duplicates folded by the set)");
    for i in 0..10_000 {
        assert!(seen.contains(format!("k{i}").as_bytes()), "k{i} visited, without the prefix");
    }
    assert!(!seen.contains(&b"other"[..]), "keys outside the prefix are not ours");
    // the raw client sees them with the prefix
    let raw_keys: Vec<Bytes> =
        raw.scan_iter().pattern("sc:k1*").iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(raw_keys.len(), 1_111);
    assert!(raw_keys.iter().all(|k| k.starts_with(b"sc:k1")));
}

#[test]
fn pattern_and_type() {
    let server = RedisServer::new();
    let (client, _raw) = clients(&server);
    fill(&client, 300, |i| format!("user:{i}"));
    fill(&client, 200, |i| format!("order:{i}"));
    client.hset("user:hash", [("f", "v")]).wait().unwrap();
    let users: BTreeSet<Bytes> =
        client.scan_iter().pattern("user:*").iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(users.len(), 301);
    let hashes: Vec<Bytes> =
        client.scan_iter().type_("hash").iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(hashes, [Bytes::from_static(b"user:hash")]);
    let err = client.hscan_iter("user:hash").type_("hash").iter().next().unwrap().unwrap_err();
    assert!(matches!(err, Error::Usage(_)), "{err:?}");
    // an empty database: no page at all
    let empty_server = RedisServer::new();
    let empty = Client::open(&empty_server.url()).unwrap();
    assert_eq!(empty.scan_iter().iter().count(), 0);
}

#[test]
fn hscan_sscan_zscan() {
    let server = RedisServer::new();
    let (client, raw) = clients(&server);
    let fields: Vec<(String, String)> =
        (0..1_000).map(|i| (format!("f{i}"), format!("v{i}"))).collect();
    client.hset("h", &fields[..]).wait().unwrap();
    let members: Vec<String> = (0..1_000).map(|i| format!("m{i}")).collect();
    client.sadd("s", &members[..]).wait().unwrap();
    let scored: Vec<(f64, String)> =
        (0..1_000).map(|i| (i as f64 / 2.0, format!("z{i}"))).collect();
    client.zadd("z", &scored[..]).wait().unwrap();
    assert_eq!(raw.hlen("sc:h").wait().unwrap(), 1_000, "the key took the prefix");

    let pairs: Vec<(Bytes, Bytes)> =
        client.hscan_iter("h").iter().collect::<Result<_, _>>().unwrap();
    let pairs: BTreeSet<(Bytes, Bytes)> = pairs.into_iter().collect();
    assert_eq!(pairs.len(), 1_000);
    assert!(pairs.contains(&(Bytes::from_static(b"f7"), Bytes::from_static(b"v7"))));

    let set: BTreeSet<Bytes> =
        client.sscan_iter("s").count(100).iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(set.len(), 1_000);

    let z: Vec<(Bytes, f64)> =
        client.zscan_iter("z").pattern("z1*").iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(z.len(), 111, "the pattern matches members");
    assert!(z.contains(&(Bytes::from_static(b"z10"), 5.0)));

    // a scan of a key of another type fails once and ends
    client.set("str", "x").wait().unwrap();
    let mut it = client.sscan_iter("str").iter();
    let err = it.next().unwrap().unwrap_err();
    assert_eq!(err.server_code(), Some("WRONGTYPE"), "{err}");
    assert!(it.next().is_none());
}

#[test]
fn async_pages_and_items_and_a_dedicated_connection() {
    let server = RedisServer::new();
    let (client, _raw) = clients(&server);
    fill(&client, 2_000, |i| format!("a{i}"));
    futures::executor::block_on(async {
        let mut it = client.scan_iter().count(100);
        let mut keys = HashSet::new();
        let mut pages = 0;
        while let Some(batch) = it.next_batch().await.unwrap() {
            assert!(!batch.is_empty(), "empty pages are skipped");
            pages += 1;
            keys.extend(batch);
        }
        assert!(pages > 1);
        assert_eq!(keys.len(), 2_000);
        assert_eq!(it.next_batch().await.unwrap(), None, "done stays done");

        let mut it = client.scan_iter().pattern("a1*");
        let mut n = 0;
        while let Some(key) = it.next().await.unwrap() {
            assert!(key.starts_with(b"a1"));
            n += 1;
        }
        assert!(n >= 1_111, "{n}");
    });
    let conn = client.dedicated().wait().unwrap();
    let keys: HashSet<Bytes> =
        conn.scan_iter().count(1000).iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(keys.len(), 2_000);
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
fn a_million_keys_in_bounded_memory() {
    // filled by the server itself, so this process's memory holds only what the scan takes
    let server = RedisServer::builder().arg("enable-debug-command", "yes").start();
    let (client, raw) = clients(&server);
    raw.cmd("DEBUG").arg("POPULATE").arg(1_000_000).arg("sc:m").wait().unwrap();
    reset_peak_rss();
    let before = peak_rss_kib();
    let mut n = 0u64;
    let mut longest = 0;
    let mut it = client.scan_iter().count(1_000);
    while let Some(batch) = it.next_batch_blocking().unwrap() {
        n += batch.len() as u64;
        longest = longest.max(batch.len());
    }
    let grew = peak_rss_kib().saturating_sub(before);
    println!("scanned {n} keys, pages of up to {longest}, peak RSS grew by {grew} KiB");
    assert!(n >= 1_000_000, "{n}");
    // pages, not the keyspace: far below the ~40 MB the keys would take
    assert!(grew < 16 * 1024, "peak RSS grew by {grew} KiB");
}
