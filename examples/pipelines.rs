//! Pipelines, transactions, scripts and SCAN: `cargo run --example pipelines`.
//!
//! A pipeline sends many commands as one group with a result per command; `transaction`
//! wraps them in MULTI…EXEC; `watch_multi` is an optimistic transaction that retries when a
//! watched key changes; `Script` runs Lua by its SHA-1 and sends the code only when the
//! server does not know it; `scan_iter` walks the keyspace a page at a time. Talks to
//! `REDIS_URL`, or to a throwaway redis-server it starts and stops itself.

#[path = "support/throwaway.rs"]
mod throwaway;

use redpoll::{Client, Error, FromValue, Script, Value};

fn main() -> Result<(), Error> {
    let server = throwaway::Server::start();
    // Every key of this client is under `ex:`; the server sees `ex:a`, we write `a`.
    let client = Client::builder().url(server.url()).prefix("ex:").build()?;

    // A pipeline: chained or one per line, one round trip, a result per command.
    let mut p = client.pipeline();
    p.set("a", 1).incr("a");
    p.set("text", "hello").incr("text"); // INCR of a string: its error stays in its slot
    p.get("a");
    for (i, slot) in p.execute().wait()?.iter().enumerate() {
        println!("slot {i}: {slot:?}");
    }
    // Typed: one tuple element per command; `.ignore()` leaves a reply out.
    let mut p = client.pipeline();
    p.set("b", 10).ignore().incrby("b", 5);
    p.get("b");
    let (n, s): (i64, String) = p.query().wait()?;
    println!("typed: {n} {s}");

    // MULTI … EXEC as one group.
    let (x, y): (i64, i64) = client
        .transaction(|tx| {
            tx.incr("counter");
            tx.incr("counter");
        })
        .decode()
        .wait()?;
    println!("transaction: {x} then {y}");

    // WATCH: the closure sees the watched values and queues the writes; on a conflict the
    // whole thing runs again (up to 5 times here).
    client.set("balance", 250).wait()?;
    let done = client
        .watch_multi(&["balance"], |tx, watched: &[Value]| {
            let balance: i64 = FromValue::from_value(watched[0].clone()).unwrap_or(0);
            if balance >= 100 {
                tx.decrby("balance", 100);
            }
            Ok(())
        })
        .retry(5)
        .wait()?;
    println!("watch_multi: {done:?}");

    // A script: EVALSHA first, EVAL once if the server does not have it yet.
    let swap = Script::new(
        "local old = redis.call('GET', KEYS[1]); redis.call('SET', KEYS[1], ARGV[1]); return old",
    );
    let old: Option<String> = swap.key("b").arg("new").invoke(&client).decode().wait()?;
    println!("script {} swapped out {old:?}", &swap.hash()[..8]);

    // SCAN: a page at a time, keys without the prefix; an element may come more than once.
    let mut p = client.pipeline();
    for i in 0..1_000 {
        p.set(format!("user:{i}"), i).ignore();
    }
    p.execute().wait()?;
    let mut users = std::collections::HashSet::new();
    for key in client.scan_iter().pattern("user:*").count(200).iter() {
        users.insert(key?);
    }
    println!("scan: {} user keys", users.len());
    Ok(())
}
