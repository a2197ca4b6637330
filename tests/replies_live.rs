//! The typed replies against a real redis-server, over RESP2 and RESP3: the same Rust value
//! from both protocols, whatever shape each sends.

mod support;

use std::collections::HashMap;

use bytes::Bytes;
use redpoll::commands::args::GeoUnit;
use redpoll::replies::{GeoMember, StreamEntry};
use redpoll::Client;
use support::RedisServer;

fn clients(server: &RedisServer) -> [(u8, Client); 2] {
    [2, 3].map(|protocol| {
        let client = Client::builder().url(server.url()).protocol(protocol).build().unwrap();
        client.connect().wait().unwrap();
        (protocol, client)
    })
}

/// Runs `f` with a RESP2 and a RESP3 client on keys of their own, and checks both give the
/// same result.
fn both<T: PartialEq + std::fmt::Debug>(server: &RedisServer, f: impl Fn(&Client, &str) -> T) -> T {
    let [(_, c2), (_, c3)] = clients(server);
    let a = f(&c2, "r2:");
    let b = f(&c3, "r3:");
    assert_eq!(a, b, "RESP2 and RESP3 disagree");
    a
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[test]
fn maps_info_time_and_clients() {
    let server = RedisServer::new();
    let map = both(&server, |c, p| {
        let k = format!("{p}h");
        c.hset(&k, [("a", "1"), ("b", "2")]).wait().unwrap();
        c.hgetall(&k).wait().unwrap()
    });
    assert_eq!(map, HashMap::from([(b("a"), b("1")), (b("b"), b("2"))]));
    let config = both(&server, |c, _| c.config_get("maxmemory-policy").wait().unwrap());
    assert_eq!(config.get("maxmemory-policy").map(String::as_str), Some("noeviction"));
    both(&server, |c, _| {
        let info = c.info().sections(["server", "keyspace"]).wait().unwrap();
        assert!(info.redis_version().is_some_and(|v| v.starts_with('7')));
        assert!(info.uptime_in_seconds().is_some());
        assert!(info.section("Server").is_some());
        info.role().map(str::to_owned)
    });
    both(&server, |c, _| {
        let t = c.time().wait().unwrap();
        let now = std::time::SystemTime::now();
        let diff = now.duration_since(t.to_system_time()).unwrap_or_default();
        assert!(diff.as_secs() < 60, "the server's clock is this machine's");
        t.microseconds < 1_000_000
    });
    let [(_, c2), (_, c3)] = clients(&server);
    c2.client_setname("two").wait().unwrap();
    c3.client_setname("three").wait().unwrap();
    let me2 = c2.client_info().wait().unwrap();
    let me3 = c3.client_info().wait().unwrap();
    assert_eq!((me2.name.as_deref(), me3.name.as_deref()), (Some("two"), Some("three")));
    let list = c3.client_list().wait().unwrap();
    assert!(list.iter().any(|c| c.id == me2.id && c.name.as_deref() == Some("two")));
    assert_eq!(c2.client_list().wait().unwrap().len(), list.len());
}

#[test]
fn every_withscores_form_gives_pairs() {
    let server = RedisServer::new();
    both(&server, |c, p| {
        let (z, y) = (format!("{p}z"), format!("{p}y"));
        c.zadd(&z, [(1.0, "a"), (2.5, "b"), (3.0, "c")]).wait().unwrap();
        c.zadd(&y, [(1.0, "a")]).wait().unwrap();
        let all = c.zrange(&z, 0, -1).withscores().wait().unwrap();
        assert_eq!(all, [(b("a"), 1.0), (b("b"), 2.5), (b("c"), 3.0)]);
        #[allow(deprecated)]
        let by_score = c.zrangebyscore(&z, "(1", "+inf").withscores().wait().unwrap();
        let union = c.zunion([&z, &y]).withscores().wait().unwrap();
        let inter = c.zinter([&z, &y]).withscores().wait().unwrap();
        let diff = c.zdiff([&z, &y]).withscores().wait().unwrap();
        let random = c.zrandmember(&z).count_withscores(-2).wait().unwrap();
        assert_eq!(random.len(), 2);
        let min = c.zpopmin(&z).wait().unwrap();
        let max = c.zpopmax(&z).count(2).wait().unwrap();
        (by_score, union, inter, diff, min, max)
    });
}

#[test]
fn stream_replies() {
    let server = RedisServer::new();
    both(&server, |c, p| {
        let s = format!("{p}s");
        for i in 0..3 {
            c.xadd(&s, format!("{}-0", i + 1), [("n", i)]).wait().unwrap();
        }
        let range = c.xrange(&s, "-", "+").wait().unwrap();
        assert_eq!(range.len(), 3);
        assert_eq!(range[2].get("n").map(|v| &v[..]), Some(&b"2"[..]));
        let rev = c.xrevrange(&s, "+", "-").count(1).wait().unwrap();
        assert_eq!(rev[0].id, b("3-0"));
        let read = c.xread([&s], ["1-0"]).count(10).wait().unwrap();
        assert_eq!((read.len(), read[0].entries.len()), (1, 2));
        assert_eq!(read[0].key, b(&s), "the stream's name");
        let timed_out = c.xread([&s], ["$"]).block(10).wait().unwrap();
        assert!(timed_out.is_empty());

        c.xgroup_create(&s, "g", "0").wait().unwrap();
        let got = c.xreadgroup("g", "alice", [&s], [">"]).count(2).wait().unwrap();
        assert_eq!(got[0].entries.len(), 2);
        let pending = c.xpending(&s, "g").wait().unwrap();
        assert_eq!((pending.count, pending.consumers.len()), (2, 1));
        let detail = c.xpending(&s, "g").filters("-", "+", 10).wait().unwrap();
        assert_eq!(detail.len(), 2);
        assert_eq!(detail[0].consumer, b("alice"));
        let claim = c.xautoclaim(&s, "g", "bob", 0, "0-0").wait().unwrap();
        assert_eq!(claim.entries.len(), 2);
        assert!(claim.is_done());

        let info = c.xinfo_stream(&s).wait().unwrap();
        assert_eq!((info.length, info.groups), (3, 1));
        assert_eq!(info.last_entry.as_ref().map(|e| e.id.clone()), Some(b("3-0")));
        let groups = c.xinfo_groups(&s).wait().unwrap();
        assert_eq!((groups[0].name.clone(), groups[0].pending), (b("g"), 2));
        let consumers = c.xinfo_consumers(&s, "g").wait().unwrap();
        assert_eq!(consumers.len(), 2);
        let first: Vec<StreamEntry> = range.into_iter().take(1).collect();
        (first, info.length, groups[0].consumers)
    });
}

#[test]
fn lpos_geo_and_scans() {
    let server = RedisServer::new();
    both(&server, |c, p| {
        let l = format!("{p}l");
        c.rpush(&l, ["a", "b", "a", "c", "a"]).wait().unwrap();
        assert_eq!(c.lpos(&l, "a").wait().unwrap(), Some(0));
        assert_eq!(c.lpos(&l, "a").rank(2).wait().unwrap(), Some(2));
        assert_eq!(c.lpos(&l, "a").count(0).wait().unwrap(), [0, 2, 4]);
        assert_eq!(c.lpos(&l, "zz").wait().unwrap(), None);
    });
    let members = both(&server, |c, p| {
        let g = format!("{p}g");
        c.geoadd(&g, [(13.361389, 38.115556, "Palermo"), (15.087269, 37.502669, "Catania")])
            .wait()
            .unwrap();
        let pos = c.geopos(&g, ["Palermo", "Nowhere"]).wait().unwrap();
        assert!(pos[0]
            .is_some_and(|(lon, lat)| (lon - 13.36).abs() < 0.01 && (lat - 38.11).abs() < 0.01));
        assert!(pos[1].is_none());
        let plain = c
            .geosearch(&g)
            .from_lonlat(15.0, 37.0)
            .by_radius(200.0, GeoUnit::Km)
            .asc()
            .wait()
            .unwrap();
        assert_eq!(
            plain.iter().map(|m| m.member.clone()).collect::<Vec<_>>(),
            [b("Catania"), b("Palermo")]
        );
        let full: Vec<GeoMember> = c
            .geosearch(&g)
            .from_member("Palermo")
            .by_radius(200.0, GeoUnit::Km)
            .withcoord()
            .withdist()
            .withhash()
            .asc()
            .wait()
            .unwrap();
        assert!(full
            .iter()
            .all(|m| m.distance.is_some() && m.hash.is_some() && m.coordinates.is_some()));
        let dist_only = c
            .geosearch(&g)
            .from_member("Palermo")
            .by_radius(200.0, GeoUnit::Km)
            .withdist()
            .wait()
            .unwrap();
        assert!(dist_only.iter().all(|m| m.distance.is_some() && m.coordinates.is_none()));
        full.into_iter().map(|m| (m.member, m.hash)).collect::<Vec<_>>()
    });
    assert_eq!(members.len(), 2);
    both(&server, |c, p| {
        let (h, s, z) = (format!("{p}hh"), format!("{p}ss"), format!("{p}zz"));
        c.hset(&h, [("f1", "v1"), ("f2", "v2")]).wait().unwrap();
        c.sadd(&s, ["m1", "m2"]).wait().unwrap();
        c.zadd(&z, [(1.0, "m1"), (2.0, "m2")]).wait().unwrap();
        let mut keys = Vec::new();
        let mut cursor = 0;
        for _ in 0..1_000 {
            let page = c.scan(cursor).match_(format!("{p}*")).count(100).wait().unwrap();
            keys.extend(page.items);
            cursor = page.cursor;
            if cursor == 0 {
                break;
            }
        }
        keys.sort();
        keys.dedup();
        let hscan = c.hscan(&h, 0).wait().unwrap();
        let sscan = c.sscan(&s, 0).wait().unwrap();
        let zscan = c.zscan(&z, 0).wait().unwrap();
        let mut fields = hscan.items;
        fields.sort();
        let mut members = sscan.items;
        members.sort();
        let unprefixed: Vec<Bytes> = keys.iter().map(|k| k.slice(p.len()..)).collect();
        (unprefixed, fields, members, zscan.items, hscan.cursor)
    });
}
