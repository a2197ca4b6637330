//! The command surface: `cargo run --example commands`.
//!
//! Every Redis command has a method with typed arguments, typed options and a reply type of
//! its own; a key prefix applies to every key. Talks to `REDIS_URL`, or to a throwaway
//! redis-server it starts and stops itself.

#[path = "support/throwaway.rs"]
mod throwaway;

use bytes::Bytes;
use redpoll::commands::args::Side;
use redpoll::{Client, Error};

fn main() -> Result<(), Error> {
    let server = throwaway::Server::start();
    let client = Client::open(server.url())?;

    // Options are methods that can only produce a valid command, and some change the reply
    // type: SET … NX answers whether it was applied, SET … GET the previous value.
    client.set("ex:greeting", "hello").ex(60).wait()?;
    let applied: bool = client.set("ex:greeting", "again").nx().wait()?;
    let previous: Option<Bytes> = client.set("ex:greeting", "hi").get().wait()?;
    println!("SET NX applied: {applied}; SET GET gave back {previous:?}");
    let fresh: bool = client.expire("ex:greeting", 30).nx().wait()?;
    println!("EXPIRE NX applied (the plain SET cleared the TTL): {fresh}");

    // Sorted sets: WITHSCORES gives (member, score) pairs in RESP2 and RESP3 alike.
    client.zadd("ex:board", [(10.0, "ada"), (7.5, "bob"), (12.0, "cy")]).wait()?;
    let top: Vec<(Bytes, f64)> = client.zrange("ex:board", 0, -1).rev().withscores().wait()?;
    let mid: Vec<Bytes> =
        client.zrange("ex:board", "(7.5", "+inf").by_score().limit(0, 10).wait()?;
    println!("leaderboard: {top:?}; above 7.5: {mid:?}");
    let total: i64 =
        client.zunionstore("ex:sum", ["ex:board", "ex:board"]).weights([1, 2]).wait()?;
    println!("ZUNIONSTORE (key count computed) stored {total} members");

    // Lists with typed directions; key counts are computed for you.
    client.rpush("ex:queue", ["a", "b", "c"]).wait()?;
    let moved: Option<Bytes> =
        client.lmove("ex:queue", "ex:done", Side::Left, Side::Right).wait()?;
    let popped: Option<(Bytes, Vec<Bytes>)> =
        client.lmpop(["ex:queue"], Side::Left).count(5).wait()?;
    println!("LMOVE moved {moved:?}; LMPOP took {popped:?}");

    // Streams: options come out in the order the syntax wants (MAXLEN before the id).
    for i in 0..5 {
        client.xadd("ex:events", "*", [("n", i)]).maxlen_approx(1000).wait()?;
    }
    println!("XLEN = {}", client.xlen("ex:events").wait()?);

    let last_two = client.xrevrange("ex:events", "+", "-").count(2).wait()?;
    for entry in &last_two {
        println!("entry {:?}: n = {:?}", entry.id, entry.get("n"));
    }

    // Typed replies where the raw one is awkward: SCAN pages, INFO, TIME, HGETALL, CLIENT INFO.
    let page = client.scan(0).match_("ex:*").count(100).type_("zset").wait()?;
    println!("SCAN: cursor {}, zsets {:?}", page.cursor, page.items);
    let info = client.info().sections("server").wait()?;
    println!("redis {:?}, up {:?} s", info.redis_version(), info.uptime_in_seconds());
    let now: std::time::SystemTime = client.time().wait()?.into();
    println!("server clock: {now:?}");
    client.hset("ex:user", [("name", "ada"), ("lang", "en")]).wait()?;
    let user = client.hgetall("ex:user").wait()?;
    let me = client.client_info().wait()?;
    println!("HGETALL: {user:?}; this connection is client {} on db {}", me.id, me.db);

    // A key prefix applies to every key of every command, and comes off the keys that
    // replies return; values are never prefixed.
    let tenant = Client::builder().url(server.url()).prefix("tenant1:").build()?;
    tenant.set("name", "ada").wait()?;
    tenant.lpush("jobs", "j1").wait()?;
    let job: Option<(Bytes, Bytes)> = tenant.blpop(["jobs"], 1.0).wait()?;
    let keys: Vec<Bytes> = tenant.keys("*").wait()?;
    let raw: Option<Bytes> = client.get("tenant1:name").wait()?;
    println!("tenant sees {keys:?} and popped {job:?}; the raw key tenant1:name holds {raw:?}");
    // A command the specs do not know must say where its keys are.
    match tenant.cmd("MODULE.CMD").arg("k").wait() {
        Err(e) => println!("unknown command with a prefix: {e}"),
        Ok(v) => println!("unexpected: {v:?}"),
    }

    client
        .del(["ex:greeting", "ex:board", "ex:sum", "ex:queue", "ex:done", "ex:events", "ex:user"])
        .wait()?;
    client.del("tenant1:name").wait()?;
    println!("done");
    Ok(())
}
