//! A tour of redpoll: `cargo run --example tour`.
//!
//! Talks to `REDIS_URL`, or to a throwaway redis-server it starts and stops itself.

#[path = "support/throwaway.rs"]
mod throwaway;

use std::time::Duration;

use bytes::Bytes;
use redpoll::{Client, Error, Value};

fn main() -> Result<(), Error> {
    let server = throwaway::Server::start();

    // Validates the URI and starts connecting in the background; returns at once.
    let client = Client::builder()
        .url(server.url())
        .request_timeout(Duration::from_secs(5))
        .client_name("redpoll-tour")
        .build()?;
    client.connect().wait()?; // optional: the handshake is done (or its error says why)

    // Plain calls from a plain thread: `.wait()`.
    client.set("tour:greeting", "hello").wait()?;
    let hits: i64 = client.incr("tour:hits").wait()?;
    let greeting: Option<Bytes> = client.get("tour:greeting").wait()?;
    let as_text: Option<String> = client.get("tour:greeting").decode().wait()?;
    println!("hits = {hits}, greeting = {greeting:?} / {as_text:?}");

    // Any command by name; the reply as a Value unless you ask for a type.
    let encoding: Value = client.cmd("OBJECT").arg("ENCODING").arg("tour:greeting").wait()?;
    println!("OBJECT ENCODING tour:greeting -> {encoding:?}");

    // Implicit pipelining: handles sent back to back travel in one write.
    let handles: Vec<_> = (0..100).map(|i| client.incrby("tour:sum", i).send()).collect();
    let mut last = 0;
    for h in handles {
        last = h.wait()?;
    }
    println!("sum of 0..100 through 100 pipelined INCRBYs = {last}");

    // The same calls as futures, in any executor.
    let echoed = pollster::block_on(async {
        let a = client.echo("async").send();
        let b = client.ping().await?;
        Ok::<_, Error>((a.await?, b))
    })?;
    println!("awaited: {echoed:?}");

    // Errors are typed.
    client.cmd("LPUSH").arg("tour:list").arg("x").wait()?;
    match client.get("tour:list").wait() {
        Err(e) => println!("GET on a list -> {} (code {:?})", e, e.server_code()),
        Ok(v) => println!("unexpected: {v:?}"),
    }

    client.del(["tour:greeting", "tour:hits", "tour:sum", "tour:list"]).wait()?;
    println!("done");
    Ok(())
}
