//! Reconnects, the offline queue and retry safety: `cargo run --example resilience`.
//!
//! Talks to `REDIS_URL`, or to a throwaway redis-server it starts and stops itself. The
//! connection is cut from the server side (`CLIENT KILL`) while commands keep flowing; the
//! client reconnects with backoff, replays its handshake, and says what happened to each
//! command that was in flight.

#[path = "support/throwaway.rs"]
mod throwaway;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redpoll::{Client, Error};

fn main() -> Result<(), Error> {
    let server = throwaway::Server::start();
    let connects = Arc::new(AtomicUsize::new(0));
    let client = Client::builder()
        .url(server.url())
        .client_name("resilience-example")
        .request_timeout(Duration::from_secs(2))
        .reconnect_delay(Duration::from_millis(50))
        .reconnect_delay_max(Duration::from_secs(2))
        .retry_maybe_executed(true) // resend idempotent commands (GET, …) after a cut
        .on_connect({
            let connects = connects.clone();
            move |info| {
                let n = connects.fetch_add(1, Ordering::SeqCst) + 1;
                println!(
                    "  [event] connected #{n} to {} (redis {:?})",
                    info.address, info.server_version
                );
            }
        })
        .on_disconnect(|reason| println!("  [event] disconnected: {reason}"))
        .build()?;
    client.connect().wait()?;
    client.set("resilience:key", "still here").wait()?;

    // A second connection cuts the first one from the server side, three times.
    let killer = Client::open(server.url())?;
    for round in 1..=3 {
        let in_flight: Vec<_> = (0..20).map(|_| client.incr("resilience:counter").send()).collect();
        let killed: i64 = killer
            .cmd("CLIENT")
            .arg(["KILL", "TYPE", "normal", "SKIPME", "yes"])
            .decode()
            .wait()?;
        let (mut ok, mut maybe) = (0, 0);
        for reply in in_flight {
            match reply.wait() {
                Ok(_) => ok += 1,
                // Written, and the connection went before the reply: it may have run.
                Err(e) if e.maybe_executed() => maybe += 1,
                Err(e) => return Err(e),
            }
        }
        println!("round {round}: killed {killed} connection(s); INCR: {ok} answered, {maybe} maybe executed");
        // GET is idempotent: even if its connection is cut, it is sent again and answered.
        let v: Option<String> = client.get("resilience:key").decode().wait()?;
        println!("round {round}: GET after the cut -> {v:?}");
    }
    let total: i64 = client.get("resilience:counter").decode::<Option<i64>>().wait()?.unwrap_or(0);
    println!("counter on the server: {total} (every answered INCR plus those that ran unanswered)");
    client.del(["resilience:key", "resilience:counter"]).wait()?;
    Ok(())
}
