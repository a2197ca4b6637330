//! The generated command methods against a real redis-server, one test per command group,
//! each over RESP2 and RESP3: typed arguments, typed options, default reply types.

mod support;

use bytes::Bytes;
use redpoll::commands::args::{BitOp, Overflow, Pivot, Side};
use redpoll::{Client, Error};
use support::RedisServer;

/// Runs `f` over a RESP2 and a RESP3 client, each on keys of its own (`p` is their prefix
/// in the key names), and checks both give the same result.
fn both<T: PartialEq + std::fmt::Debug>(f: impl Fn(&Client, &str) -> T) -> T {
    let server = RedisServer::new();
    let results: Vec<T> = [(2u8, "r2:"), (3, "r3:")]
        .into_iter()
        .map(|(protocol, p)| {
            let client = Client::builder().url(server.url()).protocol(protocol).build().unwrap();
            f(&client, p)
        })
        .collect();
    assert_eq!(results[0], results[1], "RESP2 and RESP3 disagree");
    results.into_iter().next().unwrap()
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[test]
fn strings() {
    both(|c, p| {
        let k = format!("{p}s");
        c.set(&k, "v1").ex(100).wait().unwrap();
        assert!(!c.set(&k, "v2").nx().wait().unwrap(), "NX on an existing key");
        assert!(c.set(&k, "v2").xx().keepttl().wait().unwrap());
        assert_eq!(c.set(&k, "v3").get().wait().unwrap(), Some(b("v2")));
        assert_eq!(c.set(&k, "v4").nx().get().wait().unwrap(), Some(b("v3")), "not set");
        assert_eq!(c.getex(&k).persist().wait().unwrap(), Some(b("v3")));
        assert_eq!(c.ttl(&k).wait().unwrap(), -1);
        assert_eq!(c.append(&k, "!").wait().unwrap(), 3);
        assert_eq!(c.setrange(&k, 0, "V").wait().unwrap(), 3);
        assert_eq!(c.getrange(&k, 0, 1).wait().unwrap(), b("V3"));
        assert_eq!(c.strlen(&k).wait().unwrap(), 3);
        let n = format!("{p}n");
        assert_eq!(c.incrbyfloat(&n, 1.5).wait().unwrap(), 1.5);
        assert_eq!(c.decrby(format!("{p}d"), 3).wait().unwrap(), -3);
        let (a, z) = (format!("{p}a"), format!("{p}z"));
        c.mset([(&a, "1"), (&z, "2")]).wait().unwrap();
        assert!(!c.msetnx([(a.clone(), "x"), (format!("{p}new"), "y")]).wait().unwrap());
        assert_eq!(
            c.mget([&a, &z, &format!("{p}none")]).wait().unwrap(),
            [Some(b("1")), Some(b("2")), None]
        );
        assert_eq!(c.getdel(&a).wait().unwrap(), Some(b("1")));
        let (l1, l2) = (format!("{p}l1"), format!("{p}l2"));
        c.mset([(&l1, "ohmytext"), (&l2, "mynewtext")]).wait().unwrap();
        let lcs: Bytes = c.lcs(&l1, &l2).decode().wait().unwrap();
        assert_eq!(lcs, b("mytext"));
        assert_eq!(c.lcs(&l1, &l2).len().wait().unwrap(), 6);
    });
}

#[test]
fn keys() {
    both(|c, p| {
        let (k, k2) = (format!("{p}k"), format!("{p}k2"));
        c.set(&k, "v").wait().unwrap();
        assert!(c.expire(&k, 100).nx().wait().unwrap());
        assert!(!c.expire(&k, 100).nx().wait().unwrap());
        assert!(c.expire(&k, 200).gt().wait().unwrap());
        assert!(!c.expire(&k, 50).gt().wait().unwrap());
        assert!(c.ttl(&k).wait().unwrap() > 100);
        assert!(c.pttl(&k).wait().unwrap() > 100_000);
        assert!(c.expiretime(&k).wait().unwrap() > 0);
        assert!(c.persist(&k).wait().unwrap());
        assert!(c.copy(&k, &k2).wait().unwrap());
        assert!(!c.copy(&k, &k2).wait().unwrap());
        assert!(c.copy(&k, &k2).replace().wait().unwrap());
        assert_eq!(c.exists([&k, &k2, &k]).wait().unwrap(), 3);
        assert_eq!(c.type_(&k).wait().unwrap(), "string");
        assert_eq!(c.object_encoding(&k).wait().unwrap().as_deref(), Some("embstr"));
        assert_eq!(c.object_encoding(format!("{p}none")).wait().unwrap(), None);
        let dump = c.dump(&k).wait().unwrap().unwrap();
        let k3 = format!("{p}k3");
        c.restore(&k3, 0, dump.clone()).wait().unwrap();
        assert!(matches!(c.restore(&k3, 0, dump.clone()).wait(), Err(Error::Redis(_))));
        c.restore(&k3, 0, dump).replace().wait().unwrap();
        c.rename(&k3, format!("{p}k4")).wait().unwrap();
        assert!(!c.renamenx(format!("{p}k4"), &k).wait().unwrap());
        assert_eq!(c.touch([&k, &k2]).wait().unwrap(), 2);
        let mut keys = c.keys(format!("{p}k*")).wait().unwrap();
        keys.sort();
        assert_eq!(keys.len(), 3);
        let list = format!("{p}list");
        c.rpush(&list, ["3", "1", "2"]).wait().unwrap();
        c.mset([(format!("{p}w_1"), "30"), (format!("{p}w_2"), "10"), (format!("{p}w_3"), "20")])
            .wait()
            .unwrap();
        assert_eq!(c.sort(&list).wait().unwrap(), [b("1"), b("2"), b("3")]);
        assert_eq!(c.sort(&list).desc().limit(0, 2).wait().unwrap(), [b("3"), b("2")]);
        assert_eq!(c.sort(&list).by(format!("{p}w_*")).wait().unwrap(), [b("2"), b("3"), b("1")]);
        let got = c.sort(&list).by("nosort").get("#").get(format!("{p}w_*")).wait().unwrap();
        assert_eq!(got.len(), 6);
        assert_eq!(c.sort(&list).alpha().store(format!("{p}sorted")).wait().unwrap(), 3);
        assert_eq!(c.sort_ro(&list).wait().unwrap().len(), 3);
        assert_eq!(c.unlink([&k, &k2]).wait().unwrap(), 2);
        assert_eq!(c.del(format!("{p}none")).wait().unwrap(), 0);
    });
}

#[test]
fn hashes() {
    both(|c, p| {
        let h = format!("{p}h");
        assert_eq!(c.hset(&h, [("a", "1"), ("b", "2")]).wait().unwrap(), 2);
        assert!(!c.hsetnx(&h, "a", "x").wait().unwrap());
        assert!(c.hexists(&h, "a").wait().unwrap());
        assert_eq!(c.hget(&h, "a").wait().unwrap(), Some(b("1")));
        assert_eq!(c.hmget(&h, ["a", "zz"]).wait().unwrap(), [Some(b("1")), None]);
        assert_eq!(c.hincrby(&h, "a", 9).wait().unwrap(), 10);
        assert_eq!(c.hincrbyfloat(&h, "b", 0.5).wait().unwrap(), 2.5);
        assert_eq!(c.hlen(&h).wait().unwrap(), 2);
        assert_eq!(c.hstrlen(&h, "a").wait().unwrap(), 2);
        let mut fields = c.hkeys(&h).wait().unwrap();
        fields.sort();
        assert_eq!(fields, [b("a"), b("b")]);
        assert_eq!(c.hvals(&h).wait().unwrap().len(), 2);
        assert!(c.hrandfield(&h).wait().unwrap().is_some());
        assert_eq!(c.hrandfield(&h).count(5).wait().unwrap().len(), 2);
        assert_eq!(c.hrandfield(&h).count_withvalues(-3).wait().unwrap().len(), 3);
        assert_eq!(c.hdel(&h, ["a", "zz"]).wait().unwrap(), 1);
        c.hgetall(&h).wait().unwrap()
    });
}

#[test]
fn lists() {
    both(|c, p| {
        let (l, m) = (format!("{p}l"), format!("{p}m"));
        assert_eq!(c.rpush(&l, ["a", "b", "a", "c"]).wait().unwrap(), 4);
        assert_eq!(c.lpushx(format!("{p}none"), "x").wait().unwrap(), 0);
        assert_eq!(c.lpos(&l, "a").count(0).wait().unwrap(), [0, 2]);
        assert_eq!(c.linsert(&l, Pivot::Before, "c", "bc").wait().unwrap(), 5);
        assert_eq!(c.lindex(&l, -1).wait().unwrap(), Some(b("c")));
        assert_eq!(c.lmove(&l, &m, Side::Right, Side::Left).wait().unwrap(), Some(b("c")));
        assert_eq!(c.lpop(&l).wait().unwrap(), Some(b("a")));
        assert_eq!(c.rpop(&l).count(2).wait().unwrap(), [b("bc"), b("a")]);
        assert_eq!(c.lpop(format!("{p}none")).count(2).wait().unwrap(), Vec::<Bytes>::new());
        c.lset(&l, 0, "B").wait().unwrap();
        assert_eq!(c.lrange(&l, 0, -1).wait().unwrap(), [b("B")]);
        c.rpush(&l, ["x", "y", "z"]).wait().unwrap();
        c.ltrim(&l, 0, 2).wait().unwrap();
        assert_eq!(c.lrem(&l, 0, "x").wait().unwrap(), 1);
        assert_eq!(c.llen(&l).wait().unwrap(), 2);
        let popped = c.lmpop([&format!("{p}none"), &l], Side::Left).count(5).wait().unwrap();
        assert_eq!(popped, Some((b(&l), vec![b("B"), b("y")])));
        assert_eq!(c.blpop([&m], 0.5).wait().unwrap(), Some((b(&m), b("c"))));
        assert_eq!(c.brpop([&m], 0.1).wait().unwrap(), None, "timed out");
    });
}

#[test]
fn sets() {
    both(|c, p| {
        let (s, t) = (format!("{p}s"), format!("{p}t"));
        assert_eq!(c.sadd(&s, ["a", "b", "c"]).wait().unwrap(), 3);
        c.sadd(&t, ["b", "c", "d"]).wait().unwrap();
        assert!(c.sismember(&s, "a").wait().unwrap());
        assert_eq!(c.smismember(&s, ["a", "z"]).wait().unwrap(), [true, false]);
        assert_eq!(c.scard(&s).wait().unwrap(), 3);
        assert_eq!(c.sintercard([&s, &t]).wait().unwrap(), 2);
        assert_eq!(c.sintercard([&s, &t]).limit(1).wait().unwrap(), 1);
        let mut inter = c.sinter([&s, &t]).wait().unwrap();
        inter.sort();
        assert_eq!(inter, [b("b"), b("c")]);
        assert_eq!(c.sunionstore(format!("{p}u"), [&s, &t]).wait().unwrap(), 4);
        assert_eq!(c.sdiff([&s, &t]).wait().unwrap(), [b("a")]);
        assert!(c.smove(&s, &t, "a").wait().unwrap());
        assert_eq!(c.srandmember(&t).count(10).wait().unwrap().len(), 4);
        assert!(c.srandmember(&t).wait().unwrap().is_some());
        assert_eq!(c.spop(&s).count(5).wait().unwrap().len(), 2);
        assert_eq!(c.spop(&s).wait().unwrap(), None);
        assert_eq!(c.srem(&t, ["a", "zz"]).wait().unwrap(), 1);
        let mut all = c.smembers(&t).wait().unwrap();
        all.sort();
        all
    });
}

#[test]
fn sorted_sets() {
    both(|c, p| {
        let (z, y) = (format!("{p}z"), format!("{p}y"));
        assert_eq!(c.zadd(&z, [(1.0, "a"), (2.0, "b"), (3.0, "c")]).wait().unwrap(), 3);
        assert_eq!(c.zadd(&z, [(5.0, "a")]).xx().ch().wait().unwrap(), 1);
        assert_eq!(c.zadd(&z, [(0.0, "a")]).gt().wait().unwrap(), 0);
        assert_eq!(c.zadd(&z, [(1.0, "a")]).incr().wait().unwrap(), Some(6.0));
        assert_eq!(c.zadd(&z, [(1.0, "a")]).nx().incr().wait().unwrap(), None);
        assert_eq!(c.zincrby(&z, 0.5, "b").wait().unwrap(), 2.5);
        assert_eq!(c.zscore(&z, "b").wait().unwrap(), Some(2.5));
        assert_eq!(c.zmscore(&z, ["b", "zz"]).wait().unwrap(), [Some(2.5), None]);
        assert_eq!(c.zcard(&z).wait().unwrap(), 3);
        assert_eq!(c.zcount(&z, "(2.5", "+inf").wait().unwrap(), 2);
        assert_eq!(c.zrange(&z, 0, -1).wait().unwrap(), [b("b"), b("c"), b("a")]);
        assert_eq!(c.zrange(&z, 0, 0).rev().wait().unwrap(), [b("a")]);
        assert_eq!(c.zrange(&z, "(2.5", "+inf").by_score().limit(0, 1).wait().unwrap(), [b("c")]);
        c.zadd(&y, [(0.0, "a"), (0.0, "b"), (0.0, "c")]).wait().unwrap();
        assert_eq!(c.zrange(&y, "[b", "+").by_lex().wait().unwrap(), [b("b"), b("c")]);
        #[allow(deprecated)]
        let below_b = c.zrangebylex(&y, "-", "(b").wait().unwrap();
        assert_eq!(below_b, [b("a")]);
        assert_eq!(c.zlexcount(&y, "-", "+").wait().unwrap(), 3);
        assert_eq!(c.zrank(&z, "c").wait().unwrap(), Some(1));
        assert_eq!(c.zrevrank(&z, "zz").wait().unwrap(), None);
        assert_eq!(c.zrangestore(format!("{p}st"), &z, 0, 1).wait().unwrap(), 2);
        let u = format!("{p}u");
        assert_eq!(
            c.zunionstore(&u, [&z, &y])
                .weights([1, 10])
                .aggregate(redpoll::commands::args::Aggregate::Max)
                .wait()
                .unwrap(),
            3
        );
        assert_eq!(c.zscore(&u, "a").wait().unwrap(), Some(6.0));
        assert_eq!(c.zinterstore(format!("{p}i"), [&z, &y]).wait().unwrap(), 3);
        assert_eq!(c.zintercard([&z, &y]).limit(2).wait().unwrap(), 2);
        assert_eq!(c.zdiffstore(format!("{p}d"), [&z, &y]).wait().unwrap(), 0);
        assert_eq!(c.zrandmember(&z).count(2).wait().unwrap().len(), 2);
        assert_eq!(c.zpopmin(&z).wait().unwrap(), [(b("b"), 2.5)]);
        assert_eq!(c.zpopmax(&z).count(1).wait().unwrap(), [(b("a"), 6.0)]);
        let popped = c.zmpop([&z], redpoll::commands::args::MinMax::Min).wait().unwrap();
        assert_eq!(popped, Some((b(&z), vec![(b("c"), 3.0)])));
        assert_eq!(c.bzpopmin([&y], 0.5).wait().unwrap(), Some((b(&y), b("a"), 0.0)));
        assert_eq!(c.zrem(&y, ["b", "zz"]).wait().unwrap(), 1);
        assert_eq!(c.zremrangebyscore(&y, "-inf", "+inf").wait().unwrap(), 1);
    });
}

#[test]
fn streams() {
    both(|c, p| {
        let s = format!("{p}s");
        assert_eq!(
            c.xadd(format!("{p}none"), "*", [("f", "v")]).nomkstream().wait().unwrap(),
            None
        );
        for i in 1..=5 {
            let id = c.xadd(&s, format!("{i}-0"), [("n", i)]).maxlen(4).wait().unwrap();
            assert_eq!(id, Some(b(&format!("{i}-0"))));
        }
        assert_eq!(c.xlen(&s).wait().unwrap(), 4);
        c.xadd(&s, "*", [("n", 6)]).maxlen_approx(1000).wait().unwrap();
        c.xadd(&s, "*", [("n", 7)]).minid_approx("0").limit(10).wait().unwrap();
        assert_eq!(c.xtrim(&s).minid("3-0").wait().unwrap(), 1);
        assert_eq!(c.xtrim(&s).maxlen(3).wait().unwrap(), 2);
        assert_eq!(c.xdel(&s, ["4-0", "9-9"]).wait().unwrap(), 0);
        c.xgroup_create(format!("{p}new"), "g", "$").mkstream().wait().unwrap();
        c.xgroup_create(&s, "g", "0").wait().unwrap();
        assert!(c.xgroup_createconsumer(&s, "g", "alice").wait().unwrap());
        let read = c.xreadgroup("g", "alice", [&s], [">"]).count(2).wait().unwrap();
        let ids: Vec<Bytes> = read[0].entries.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids.len(), 2);
        let claimed = c.xclaim(&s, "g", "bob", 0, ids.clone()).justid().wait().unwrap();
        assert_eq!(claimed, ids);
        assert_eq!(c.xack(&s, "g", ids).wait().unwrap(), 2);
        c.xgroup_setid(&s, "g", "0").wait().unwrap();
        assert_eq!(c.xgroup_delconsumer(&s, "g", "bob").wait().unwrap(), 0);
        assert!(c.xgroup_destroy(&s, "g").wait().unwrap());
    });
}

#[test]
fn geo_bitmaps_and_hyperloglog() {
    both(|c, p| {
        let g = format!("{p}g");
        assert_eq!(
            c.geoadd(&g, [(13.361389, 38.115556, "Palermo"), (15.087269, 37.502669, "Catania")])
                .wait()
                .unwrap(),
            2
        );
        assert_eq!(c.geoadd(&g, [(13.0, 38.0, "Palermo")]).xx().ch().wait().unwrap(), 1);
        assert_eq!(c.geoadd(&g, [(13.0, 38.0, "Palermo")]).nx().wait().unwrap(), 0);
        let km = c.geodist(&g, "Palermo", "Catania").km().wait().unwrap();
        assert!(km.is_some_and(|d| d > 100.0 && d < 250.0));
        assert_eq!(c.geodist(&g, "Palermo", "Nowhere").wait().unwrap(), None);
        assert_eq!(c.geohash(&g, ["Catania"]).wait().unwrap().len(), 1);
        let stored = c
            .geosearchstore(format!("{p}near"), &g)
            .from_member("Catania")
            .by_radius(300.0, redpoll::commands::args::GeoUnit::Km)
            .wait()
            .unwrap();
        assert_eq!(stored, 2);

        let (x, y) = (format!("{p}x"), format!("{p}y"));
        assert!(!c.setbit(&x, 7, 1).wait().unwrap(), "the bit was 0");
        assert!(c.getbit(&x, 7).wait().unwrap());
        c.set(&y, "\u{ff}").wait().unwrap();
        assert_eq!(c.bitcount(&x).wait().unwrap(), 1);
        assert_eq!(c.bitpos(&x, 1).wait().unwrap(), 7);
        assert_eq!(c.bitop(BitOp::Or, format!("{p}o"), [&x, &y]).wait().unwrap(), 2);
        let fields = c
            .bitfield(&x)
            .set("u8", 0, 200)
            .incrby("u8", 0, 100)
            .overflow(Overflow::Sat)
            .incrby("u8", 0, 100)
            .get("u4", 0)
            .wait()
            .unwrap();
        assert_eq!(fields, [Some(1), Some(44), Some(144), Some(9)]);

        let (h1, h2) = (format!("{p}h1"), format!("{p}h2"));
        assert!(c.pfadd(&h1, ["a", "b"]).wait().unwrap());
        assert!(!c.pfadd(&h1, ["a"]).wait().unwrap());
        c.pfadd(&h2, ["c"]).wait().unwrap();
        c.pfmerge(format!("{p}hm"), [&h1, &h2]).wait().unwrap();
        c.pfcount([format!("{p}hm")]).wait().unwrap()
    });
}

#[test]
fn scripting() {
    both(|c, p| {
        let k = format!("{p}k");
        let v: String = c
            .eval("redis.call('SET', KEYS[1], ARGV[1]) return ARGV[1]", [&k])
            .arg("hi")
            .decode()
            .wait()
            .unwrap();
        assert_eq!(v, "hi");
        let none: i64 = c.eval("return #KEYS", ()).decode().wait().unwrap();
        assert_eq!(none, 0);
        let sha = c.script_load("return redis.call('GET', KEYS[1])").wait().unwrap();
        assert_eq!(c.script_exists([&sha[..], b"0000"]).wait().unwrap(), [true, false]);
        let got: Option<String> = c.evalsha(&sha[..], [&k]).decode().wait().unwrap();
        assert_eq!(got.as_deref(), Some("hi"));
        let ro: Option<String> = c.evalsha_ro(&sha[..], [&k]).decode().wait().unwrap();
        assert_eq!(ro.as_deref(), Some("hi"));
        let lib = format!("#!lua name={}lib\nredis.register_function('{}echo', function(keys, args) return args[1] end)\nredis.register_function{{function_name='{}get', callback=function(keys) return redis.call('GET', keys[1]) end, flags={{'no-writes'}}}}", &p[..2], &p[..2], &p[..2]);
        let name = c.function_load(&lib).wait().unwrap();
        assert_eq!(name, b(&format!("{}lib", &p[..2])));
        assert!(c.function_load(&lib).wait().is_err(), "exists");
        c.function_load(&lib).replace().wait().unwrap();
        let echoed: String =
            c.fcall(format!("{}echo", &p[..2]), ()).arg("x").decode().wait().unwrap();
        assert_eq!(echoed, "x");
        let read: String = c.fcall_ro(format!("{}get", &p[..2]), [&k]).decode().wait().unwrap();
        assert_eq!(read, "hi");
        c.function_delete(format!("{}lib", &p[..2])).wait().unwrap();
    });
}

#[test]
fn server_and_connection() {
    both(|c, p| {
        c.set(format!("{p}k"), "v").wait().unwrap();
        assert!(c.dbsize().wait().unwrap() >= 1);
        c.config_set([("maxmemory-policy", "allkeys-lru")]).wait().unwrap();
        let got = c.config_get("maxmemory-policy").wait().unwrap();
        assert_eq!(got["maxmemory-policy"], "allkeys-lru");
        c.config_set([("maxmemory-policy", "noeviction")]).wait().unwrap();
        assert!(c.command_count().wait().unwrap() > 200);
        let keys = c.command_getkeys(["MSET", "a", "1", "b", "2"]).wait().unwrap();
        assert_eq!(keys, [b("a"), b("b")]);
        assert!(c.command_list().aclcat("hyperloglog").wait().unwrap().len() >= 3);
        assert!(c.lastsave().wait().unwrap() > 0);
        assert!(c.memory_usage(format!("{p}k")).wait().unwrap().is_some());
        assert_eq!(c.memory_usage(format!("{p}none")).wait().unwrap(), None);
        assert!(c.slowlog_len().wait().unwrap() >= 0);
        assert!(!c.lolwut().version(5).wait().unwrap().is_empty());
        assert_eq!(c.ping().wait().unwrap(), "PONG");
        assert_eq!(c.ping().message("hey").wait().unwrap(), "hey");
        assert_eq!(c.echo("e").wait().unwrap(), b("e"));
        c.client_setname(format!("{}name", &p[..2])).wait().unwrap();
        assert_eq!(c.client_getname().wait().unwrap(), Some(format!("{}name", &p[..2])));
        assert!(c.client_id().wait().unwrap() > 0);
        c.client_no_evict(redpoll::commands::args::OnOff::Off).wait().unwrap();
        // Connection-state commands are not on a shared client; by name they are refused.
        assert!(matches!(c.cmd("MULTI").wait(), Err(Error::Usage(_))));
        assert!(matches!(c.cmd("SELECT").arg(1).wait(), Err(Error::Usage(_))));
    });
}
