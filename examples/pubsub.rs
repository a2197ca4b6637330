//! Pub/sub: `cargo run --example pubsub`.
//!
//! A `Subscription` is a stream of messages from channels (`subscribe`), patterns
//! (`psubscribe`) and shard channels (`ssubscribe`), read with a blocking iterator or
//! awaited; channels can be added and removed while it runs. With RESP2 (the default) the
//! client carries its subscriptions on a subscriber connection of their own; with
//! `protocol(3)` they share the client's connection with ordinary commands. Each subscription
//! buffers at most `capacity` messages for a slow consumer, then drops the oldest (counted)
//! or ends with `Error::Overflow`. Redis pub/sub is at-most-once: after a reconnect the
//! stream says `Resubscribed`, and messages published while the connection was down are lost.
//! Talks to `REDIS_URL`, or to a throwaway redis-server it starts and stops itself.

#[path = "support/throwaway.rs"]
mod throwaway;

use std::time::Duration;

use redpoll::{Client, Error, MessageKind, OnFull};

fn main() -> Result<(), Error> {
    let server = throwaway::Server::start();
    let client = Client::open(server.url())?;

    // Subscribe: the handle resolves once the server confirmed every channel.
    let news = client.subscribe(&["news"]).wait()?;
    let numsub: Vec<(bytes::Bytes, i64)> = client.pubsub_numsub().channels("news").wait()?;
    println!("PUBSUB NUMSUB news: {numsub:?}");

    // A consumer thread with the blocking iterator; the main thread publishes.
    let reader = std::thread::spawn(move || -> Result<Vec<String>, Error> {
        let mut seen = Vec::new();
        for msg in news.iter() {
            let msg = msg?;
            let text = String::from_utf8_lossy(&msg.payload).into_owned();
            let last = text == "bye";
            seen.push(text);
            if last {
                break;
            }
        }
        Ok(seen)
    });
    for text in ["one", "two", "three", "bye"] {
        client.publish("news", text).wait()?;
    }
    println!("thread read: {:?}", reader.join().expect("reader thread")?);

    // Patterns, and channels added and removed while it runs; read with a deadline.
    let orders = client.psubscribe(&["orders:*"]).capacity(1_000).on_full(OnFull::End).wait()?;
    orders.subscribe(&["alerts"]).wait()?;
    client.publish("orders:eu", "42").wait()?;
    client.publish("alerts", "disk full").wait()?;
    for _ in 0..2 {
        if let Some(msg) = orders.next_timeout(Duration::from_secs(2)) {
            let msg = msg?;
            match msg.kind {
                MessageKind::PMessage => {
                    println!(
                        "pmessage {:?} matched {:?}: {:?}",
                        msg.channel, msg.pattern, msg.payload
                    )
                }
                _ => println!("{:?} on {:?}: {:?}", msg.kind, msg.channel, msg.payload),
            }
        }
    }
    orders.unsubscribe(&["alerts"]).wait()?;

    // Shard channels: SSUBSCRIBE and SPUBLISH (a standalone server is one shard).
    let shard = client.ssubscribe(&["orders:{eu}"]).wait()?;
    client.spublish("orders:{eu}", "7").wait()?;
    if let Some(msg) = shard.next_timeout(Duration::from_secs(2)) {
        let msg = msg?;
        println!("{:?} on {:?}: {:?}", msg.kind, msg.channel, msg.payload);
    }

    // The same in any executor, on a RESP3 client: messages are pushes on its one connection,
    // beside ordinary commands.
    let resp3 = Client::builder().url(server.url()).protocol(3).build()?;
    pollster::block_on(async {
        let mut sub = resp3.subscribe(&["news"]).await?;
        resp3.publish("news", "over RESP3").await?;
        let n: i64 = resp3.incr("counter").await?; // the same connection serves commands
        if let Some(msg) = sub.next().await {
            println!("await: {:?} (and INCR said {n})", msg?.payload);
        }
        sub.unsubscribe_all().await?; // and the stream ends
        assert!(sub.next().await.is_none());
        Ok::<(), Error>(())
    })?;

    println!("orders dropped nothing: {} dropped", orders.dropped());
    Ok(())
}
