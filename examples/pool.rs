//! A pool of exclusive connections: `cargo run --example pool`.
//!
//! Most programs never need one: a `Client` serves every caller on one multiplexed
//! connection, and `client.dedicated()` lends an exclusive connection from its own small set.
//! A `Pool` is for exclusive state at a scale you bound yourself: many WATCH/MULTI/EXEC
//! transactions at once, a SELECTed database per owner, series of blocking commands, warm
//! connections (`min`), health checks before use and figures (`pool.stats()`).
//! Talks to `REDIS_URL`, or to a throwaway redis-server it starts and stops itself.

#[path = "support/throwaway.rs"]
mod throwaway;

use std::time::Duration;

use redpoll::{Error, OnDirty, Pool, Value};

fn main() -> Result<(), Error> {
    let server = throwaway::Server::start();
    let pool = Pool::builder()
        .url(server.url())
        .min(2) // opened at build(), in the background
        .max(4)
        .acquire_timeout(Duration::from_secs(2))
        .idle_timeout(Duration::from_secs(30))
        .health_check_after(Duration::from_secs(10)) // PING before lending a long-idle one
        .build()?;

    // Eight threads share four connections; each WATCH/MULTI/EXEC runs alone on its own.
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| -> Result<(), Error> {
                for _ in 0..25 {
                    let conn = pool.acquire().wait()?; // the guard: given back on drop
                    loop {
                        conn.watch(["balance"]).wait()?;
                        let balance: i64 =
                            conn.get("balance").decode::<Option<i64>>().wait()?.unwrap_or(0);
                        conn.multi().wait()?;
                        let _: Value = conn.set("balance", balance + 1).decode().wait()?;
                        let done: Option<Vec<Value>> = conn.exec().decode().wait()?;
                        if done.is_some() {
                            break; // else another thread changed "balance": run it again
                        }
                    }
                }
                Ok(())
            });
        }
    });
    let conn = pool.acquire().wait()?;
    println!(
        "balance after 200 WATCH transactions: {:?}",
        conn.get("balance").decode::<Option<i64>>().wait()?
    );
    drop(conn);

    // Async: the same handle is awaited.
    let n: i64 = block_on(async {
        let conn = pool.acquire().await?;
        conn.incr("hits").await
    })?;
    println!("hits: {n}");

    // A connection given back dirty is destroyed and replaced, never lent to the next owner.
    let conn = pool.acquire().wait()?;
    conn.select(1).wait()?;
    drop(conn); // its database changed
    let conn = pool.acquire().wait()?;
    conn.multi().wait()?;
    drop(conn); // inside MULTI
    std::thread::sleep(Duration::from_millis(50));
    let s = pool.stats();
    println!(
        "destroyed: {} (state_changed {}, multi {}); {} created; {} idle, {} lent, {} waiting",
        s.destroyed.total(),
        s.destroyed.state_changed,
        s.destroyed.multi,
        s.created,
        s.idle,
        s.active,
        s.waiting
    );

    // Exhaustion: every connection lent, the next acquire() waits acquire_timeout, then fails.
    let held: Vec<_> = (0..4).map(|_| pool.acquire().wait()).collect::<Result<_, _>>()?;
    match pool.acquire().timeout(Duration::from_millis(200)).wait() {
        Err(Error::Timeout { message, .. }) => println!("exhausted: {message}"),
        other => println!("unexpected: {other:?}"),
    }
    drop(held);

    // Cleanup mode: a connection given back inside MULTI or watching is DISCARDed or
    // UNWATCHed and reused, instead of destroyed.
    let cleaning = Pool::builder().url(server.url()).max(1).on_dirty(OnDirty::Cleanup).build()?;
    let conn = cleaning.acquire().wait()?;
    conn.watch(["balance"]).wait()?;
    drop(conn);
    let conn = cleaning.acquire().wait()?;
    conn.ping().wait()?;
    println!(
        "cleanup mode: {} cleaned, {} destroyed",
        cleaning.stats().cleaned,
        cleaning.stats().destroyed.total()
    );
    Ok(())
}

/// A minimal executor for the example (any executor works: the handles are plain futures).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}
