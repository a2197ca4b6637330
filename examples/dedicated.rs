//! Connections with modes: `cargo run --example dedicated`.
//!
//! Blocking commands (BLPOP & co, XREAD … BLOCK) run on dedicated connections of the client
//! by themselves, so a `BLPOP k 0` never delays anyone else; `client.dedicated()` lends one
//! out for an optimistic WATCH/MULTI/EXEC transaction; `OnTimeout::Abandon` lets one slow
//! request fail alone. Talks to `REDIS_URL`, or to a throwaway redis-server it starts and
//! stops itself.

#[path = "support/throwaway.rs"]
mod throwaway;

use std::time::{Duration, Instant};

use redpoll::{Client, Error, OnTimeout, Value};

fn main() -> Result<(), Error> {
    let server = throwaway::Server::start();
    let client = Client::builder().url(server.url()).max_dedicated(4).build()?;
    client.del(["ex:jobs", "ex:balance"]).wait()?;

    // A worker waits for a job on a dedicated connection; the shared one keeps serving.
    let worker = client.blpop("ex:jobs", 0.0).send();
    let started = Instant::now();
    for i in 0..100 {
        client.set("ex:tick", i).wait()?;
    }
    println!("100 SETs beside a BLPOP 0 in {:?}", started.elapsed());
    client.rpush("ex:jobs", "job-1").wait()?;
    let (list, job) = worker.wait()?.expect("pushed");
    println!(
        "the worker got {} from {}",
        String::from_utf8_lossy(&job),
        String::from_utf8_lossy(&list)
    );

    // An optimistic transaction: WATCH, read, MULTI, write, EXEC; EXEC answers nil if the
    // key changed in between, and the loop tries again.
    client.set("ex:balance", 100).wait()?;
    let conn = client.dedicated().wait()?;
    for attempt in 1.. {
        conn.watch(["ex:balance"]).wait()?;
        let balance: i64 = conn.get("ex:balance").decode::<Option<i64>>().wait()?.unwrap_or(0);
        if attempt == 1 {
            // Someone else writes between our read and our EXEC: this attempt aborts.
            client.incrby("ex:balance", 5).wait()?;
        }
        conn.multi().wait()?;
        let _: Value = conn.set("ex:balance", balance - 30).decode().wait()?;
        let done: Option<Vec<Value>> = conn.exec().decode().wait()?;
        match done {
            Some(_) => {
                println!("attempt {attempt}: committed, {balance} -> {}", balance - 30);
                break;
            }
            None => println!("attempt {attempt}: the balance changed under WATCH, trying again"),
        }
    }
    // Dropped clean, it goes back to the client's set; dropped inside MULTI or while
    // watching, it would be closed instead of handed to the next owner.
    drop(conn);
    let balance: Option<i64> = client.get("ex:balance").decode().wait()?;
    println!("balance now {balance:?}");

    // A slow request that fails alone: the connection and the requests behind it are kept.
    // (A script that keeps the server busy for 300 ms stands in for a slow KEYS.)
    let busy = "local t = redis.call('TIME') local t0 = t[1] * 1e6 + t[2] \
                repeat t = redis.call('TIME') until t[1] * 1e6 + t[2] - t0 > 300000";
    let slow = client
        .cmd("EVAL")
        .arg(busy)
        .arg(0)
        .timeout(Duration::from_millis(100))
        .on_timeout(OnTimeout::Abandon)
        .send();
    let behind = client.get("ex:balance").decode::<Option<i64>>().send();
    match slow.wait() {
        Err(e) if e.is_timeout() => println!("the slow script gave up alone: {e}"),
        other => println!("the slow script: {other:?}"),
    }
    println!("the GET behind it still got {:?}", behind.wait()?);
    Ok(())
}
