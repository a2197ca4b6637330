//! Key prefixing against a real redis-server, over RESP2 and RESP3: what the server holds is
//! read through a client without a prefix, so every key the prefixed client writes is seen
//! as it really is.

mod support;

use bytes::Bytes;
use redpoll::commands::args::{BitOp, GeoUnit, Side};
use redpoll::{Client, Error, Value};
use support::RedisServer;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// A prefixed client per protocol (prefix `t2:` / `t3:`) and the raw client, on one server.
fn each_protocol(f: impl Fn(&Client, &Client, &str)) {
    let server = RedisServer::new();
    let raw = Client::open(&server.url()).unwrap();
    for protocol in [2u8, 3] {
        let prefix = format!("t{protocol}:");
        let client = Client::builder()
            .url(server.url())
            .protocol(protocol)
            .prefix(prefix.as_str())
            .build()
            .unwrap();
        f(&client, &raw, &prefix);
    }
}

#[test]
fn keys_are_prefixed_values_are_not() {
    each_protocol(|c, raw, p| {
        c.set("s", "v").ex(100).wait().unwrap();
        assert_eq!(raw.get(format!("{p}s")).wait().unwrap(), Some(b("v")), "value untouched");
        assert_eq!(raw.get("s").wait().unwrap(), None);
        assert_eq!(c.get("s").wait().unwrap(), Some(b("v")));
        c.mset([("a", "1"), ("b", "2")]).wait().unwrap();
        assert_eq!(
            raw.mget([format!("{p}a"), format!("{p}b")]).wait().unwrap(),
            [Some(b("1")), Some(b("2"))]
        );
        assert_eq!(c.incr("n").wait().unwrap(), 1);
        c.rename("n", "n2").wait().unwrap();
        assert!(c.expire("n2", 100).wait().unwrap());
        assert_eq!(raw.exists([format!("{p}n2")]).wait().unwrap(), 1);
        assert_eq!(c.del(["a", "b"]).wait().unwrap(), 2);

        c.hset("h", [("field", "value")]).wait().unwrap();
        assert_eq!(
            raw.hget(format!("{p}h"), "field").wait().unwrap(),
            Some(b("value")),
            "fields untouched"
        );
        c.sadd("s1", ["m"]).wait().unwrap();
        c.sadd("s2", ["m"]).wait().unwrap();
        assert_eq!(c.sinterstore("s3", ["s1", "s2"]).wait().unwrap(), 1);
        assert_eq!(raw.smembers(format!("{p}s3")).wait().unwrap(), [b("m")], "members untouched");

        c.zadd("z1", [(1.0, "m")]).wait().unwrap();
        c.zadd("z2", [(2.0, "m")]).wait().unwrap();
        assert_eq!(c.zunionstore("zu", ["z1", "z2"]).wait().unwrap(), 1);
        assert_eq!(raw.zscore(format!("{p}zu"), "m").wait().unwrap(), Some(3.0));
        let popped = c.bzpopmin(["none", "zu"], 1.0).wait().unwrap();
        assert_eq!(popped, Some((b("zu"), b("m"), 3.0)), "the reply's key comes back unprefixed");

        c.geoadd("g", [(13.361389, 38.115556, "Palermo")]).wait().unwrap();
        let n = c
            .geosearchstore("gs", "g")
            .from_lonlat(13.0, 38.0)
            .by_radius(100.0, GeoUnit::Km)
            .wait()
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(raw.exists([format!("{p}gs")]).wait().unwrap(), 1);

        c.set("x", "a").wait().unwrap();
        assert_eq!(c.bitop(BitOp::Not, "xn", ["x"]).wait().unwrap(), 1);
        assert_eq!(raw.strlen(format!("{p}xn")).wait().unwrap(), 1);
        c.pfadd("h1", ["e"]).wait().unwrap();
        c.pfmerge("hm", ["h1"]).wait().unwrap();
        assert_eq!(raw.pfcount([format!("{p}hm")]).wait().unwrap(), 1);

        let n = c.publish("chan", "msg").wait().unwrap();
        assert_eq!(n, 0);
        let channels: Vec<Bytes> = raw.pubsub_channels().wait().unwrap();
        assert!(channels.is_empty());
    });
}

#[test]
fn lists_and_streams_strip_keys_from_replies() {
    each_protocol(|c, raw, p| {
        c.lpush("q", ["job"]).wait().unwrap();
        assert_eq!(c.lmove("q", "q2", Side::Left, Side::Right).wait().unwrap(), Some(b("job")));
        assert_eq!(raw.llen(format!("{p}q2")).wait().unwrap(), 1);
        assert_eq!(c.blpop(["empty", "q2"], 1.0).wait().unwrap(), Some((b("q2"), b("job"))));
        c.rpush("q3", ["a", "b"]).wait().unwrap();
        let popped = c.lmpop(["q3"], Side::Left).count(1).wait().unwrap();
        assert_eq!(popped, Some((b("q3"), vec![b("a")])));

        c.xadd("st", "1-0", [("f", "v")]).wait().unwrap();
        assert_eq!(raw.xlen(format!("{p}st")).wait().unwrap(), 1);
        let read = c.xread(["st"], ["0"]).wait().unwrap();
        assert_eq!(read[0].key, b("st"), "stream names come back unprefixed");
        assert_eq!(read[0].entries[0].get("f"), Some(&b("v")));
        c.xgroup_create("st", "g", "0").wait().unwrap();
        let read = c.xreadgroup("g", "c", ["st"], [">"]).wait().unwrap();
        assert_eq!(read[0].key, b("st"));
    });
}

#[test]
fn patterns_scans_and_random_keys_stay_in_the_namespace() {
    each_protocol(|c, raw, p| {
        raw.set("other:user:1", "not ours").wait().unwrap();
        raw.set("user:9", "not ours either").wait().unwrap();
        c.set("user:1", "1").wait().unwrap();
        c.set("user:2", "2").wait().unwrap();
        let mut keys = c.keys("user:*").wait().unwrap();
        keys.sort();
        assert_eq!(keys, [b("user:1"), b("user:2")]);
        let mut seen = Vec::new();
        let mut cursor = 0;
        for _ in 0..1_000 {
            let page = c.scan(cursor).match_("user:*").count(1000).wait().unwrap();
            seen.extend(page.items);
            cursor = page.cursor;
            if cursor == 0 {
                break;
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen, [b("user:1"), b("user:2")]);
        let random = c.randomkey().wait().unwrap().unwrap();
        assert!(!random.starts_with(p.as_bytes()), "RANDOMKEY comes back unprefixed");

        c.rpush("ids", ["2", "1"]).wait().unwrap();
        c.mset([("w_1", "10"), ("w_2", "5"), ("o_1", "one"), ("o_2", "two")]).wait().unwrap();
        let sorted = c.sort("ids").by("w_*").get("o_*").get("#").wait().unwrap();
        assert_eq!(
            sorted,
            [b("two"), b("2"), b("one"), b("1")],
            "BY and GET patterns are prefixed"
        );

        let v: i64 =
            c.eval("redis.call('SET', KEYS[1], 'x') return #KEYS", ["ek"]).decode().wait().unwrap();
        assert_eq!(v, 1);
        assert_eq!(raw.get(format!("{p}ek")).wait().unwrap(), Some(b("x")));
        let raw_value: Value = c.cmd("GET").arg("ek").wait().unwrap();
        assert_eq!(raw_value, Value::BulkString(b("x")), "cmd() finds the key from the specs");
        assert_eq!(c.get(format!("{p}ek")).no_prefix().wait().unwrap(), Some(b("x")));
    });
}

#[test]
fn commands_whose_keys_cannot_be_told_are_refused_and_not_sent() {
    each_protocol(|c, raw, p| {
        let before = raw.dbsize().wait().unwrap();
        let refused = c.cmd("MYMODULE.SET").arg("k").arg("v").wait();
        assert!(
            matches!(refused, Err(Error::Usage(ref why)) if why.contains(".key(k)")),
            "{refused:?}"
        );
        let bad = c.eval("redis.call('SET', KEYS[1], 1)", ()).wait();
        assert!(bad.is_err());
        let malformed =
            c.cmd("EVAL").arg("redis.call('SET', 'k', 1)").arg(2).arg("only-one").wait();
        assert!(matches!(malformed, Err(Error::Usage(_))), "{malformed:?}");
        assert_eq!(raw.dbsize().wait().unwrap(), before, "nothing was written");
        // With the key marked, the prefix applies (and the server says it knows no such
        // command: it was sent, prefixed).
        let sent = c.cmd("SET").key("marked").arg("v").wait();
        assert!(sent.is_ok());
        assert_eq!(raw.get(format!("{p}marked")).wait().unwrap(), Some(b("v")));
        let unknown = c.cmd("MYMODULE.SET").key("k").arg("v").wait();
        assert!(matches!(unknown, Err(Error::Redis(_))), "{unknown:?}");
    });
}
