//! Blocking commands run on the client's dedicated connections: a BLPOP that waits blocks
//! only its own caller, never the shared connection's other callers.

mod support;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redpoll::{Client, Error};
use support::RedisServer;

fn client(server: &RedisServer) -> Client {
    let client = Client::open(&server.url()).unwrap();
    client.connect().wait().unwrap();
    client
}

/// Waits until the server reports `n` clients blocked in a blocking command.
fn wait_blocked(observer: &Client, n: usize) {
    let started = Instant::now();
    loop {
        let info: String = observer.info().arg("clients").decode().wait().unwrap();
        let blocked = info
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap();
        if blocked >= n {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{blocked} of {n} clients blocked");
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn blpop_forever_does_not_delay_other_callers() {
    let server = RedisServer::new();
    let client = client(&server);
    let observer = Client::open(&server.url()).unwrap();
    let waiter = client.clone();
    let pending = waiter.blpop("queue", 0.0).send();
    wait_blocked(&observer, 1);

    let other = client.clone();
    let mut worst = Duration::ZERO;
    let started = Instant::now();
    for i in 0..1000 {
        let began = Instant::now();
        let value: Option<Bytes> = other.get(format!("k{i}")).wait().unwrap();
        assert!(value.is_none());
        worst = worst.max(began.elapsed());
    }
    eprintln!("1000 GETs beside BLPOP 0 in {:?}, slowest {worst:?}", started.elapsed());
    // A GET queued behind the BLPOP would wait until the push below: forever.
    assert!(worst < Duration::from_secs(1), "slowest GET took {worst:?}");

    client.rpush("queue", "job").wait().unwrap();
    let (key, value) = pending.wait().unwrap().unwrap();
    assert_eq!((&key[..], &value[..]), (&b"queue"[..], &b"job"[..]));
}

#[test]
fn eight_waiters_each_get_one_element_pushed_through_the_same_client() {
    let server = RedisServer::new();
    let client = client(&server);
    let observer = Client::open(&server.url()).unwrap();
    let waiters: Vec<_> = (0..8).map(|_| client.blpop("jobs", 10.0).send()).collect();
    wait_blocked(&observer, 8);
    // The shared connection still answers while eight dedicated ones block.
    assert_eq!(client.ping().wait().unwrap(), "PONG");
    let items: Vec<String> = (0..8).map(|i| format!("job{i}")).collect();
    assert_eq!(client.rpush("jobs", &items).wait().unwrap(), 8);
    let mut got: Vec<String> = waiters
        .into_iter()
        .map(|w| {
            let (_, value) = w.wait().unwrap().expect("each waiter gets an element");
            String::from_utf8(value.to_vec()).unwrap()
        })
        .collect();
    got.sort();
    assert_eq!(got, items);
}

#[test]
fn xread_block_beside_gets() {
    let server = RedisServer::new();
    let client = client(&server);
    let observer = Client::open(&server.url()).unwrap();
    let reading = client.xread(["stream"], ["$"]).block(5000).send();
    wait_blocked(&observer, 1);
    let started = Instant::now();
    for i in 0..100 {
        let _: Option<Bytes> = client.get(format!("k{i}")).wait().unwrap();
    }
    let took = started.elapsed();
    eprintln!("100 GETs beside XREAD BLOCK 5000 in {took:?}");
    assert!(took < Duration::from_secs(2), "100 GETs took {took:?}");
    client.xadd("stream", "*", [("field", "value")]).wait().unwrap();
    let entries = reading.wait().unwrap();
    assert_eq!(entries.len(), 1);
}

#[test]
fn awaited_blpop_does_not_block_other_tasks() {
    let server = RedisServer::new();
    let client = client(&server);
    let observer = Client::open(&server.url()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let waiter = client.clone();
        let blocked = tokio::spawn(async move { waiter.blpop("tasks", 0.0).await });
        let pinger = client.clone();
        let pings = tokio::spawn(async move {
            let mut n = 0;
            for _ in 0..200 {
                assert_eq!(pinger.ping().await.unwrap(), "PONG");
                n += 1;
            }
            n
        });
        // On one runtime thread: the pings finish while the BLPOP still waits.
        assert_eq!(pings.await.unwrap(), 200);
        assert!(!blocked.is_finished());
        tokio::task::spawn_blocking(move || wait_blocked(&observer, 1)).await.unwrap();
        client.rpush("tasks", "t").await.unwrap();
        let popped = blocked.await.unwrap().unwrap().unwrap();
        assert_eq!(&popped.1[..], b"t");
    });
}

#[test]
fn beyond_the_bound_blocking_commands_queue_in_order() {
    let server = RedisServer::new();
    let client = Client::builder().url(server.url()).max_dedicated(2).build().unwrap();
    client.connect().wait().unwrap();
    let observer = Client::open(&server.url()).unwrap();
    let first = client.blpop("a", 0.0).send();
    let second = client.blpop("b", 0.0).send();
    wait_blocked(&observer, 2);
    // Two connections are busy: the third waits for one, first come first served.
    let third = client.blpop("c", 0.0).send();
    let fourth = client.blpop("d", 0.0).send();
    thread::sleep(Duration::from_millis(200));
    let clients: String = observer.info().arg("clients").decode().wait().unwrap();
    assert!(clients.contains("blocked_clients:2"), "{clients}");
    // Free one connection: the third (not the fourth) runs on it.
    client.rpush("a", "1").wait().unwrap();
    assert!(first.wait().unwrap().is_some());
    wait_blocked(&observer, 2);
    client.rpush("c", "3").wait().unwrap();
    assert_eq!(&third.wait().unwrap().unwrap().1[..], b"3");
    client.rpush("b", "2").wait().unwrap();
    client.rpush("d", "4").wait().unwrap();
    assert!(second.wait().unwrap().is_some());
    assert_eq!(&fourth.wait().unwrap().unwrap().1[..], b"4");
    // Never more than the bound on the server.
    let list = observer.client_list().wait().unwrap();
    assert!(list.len() <= 4, "{} connections: shared, observer and 2 dedicated", list.len());
}

#[test]
fn queued_beyond_the_bound_a_blocking_command_times_out_within_its_deadline() {
    let server = RedisServer::new();
    let client = Client::builder().url(server.url()).max_dedicated(1).build().unwrap();
    client.connect().wait().unwrap();
    let observer = Client::open(&server.url()).unwrap();
    let _forever = client.blpop("a", 0.0).send();
    wait_blocked(&observer, 1);
    let started = Instant::now();
    // 0.2 s server timeout plus the blocking buffer: it never got a connection.
    let err = client.blpop("b", 0.2).wait().unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("max_dedicated"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The shared connection was never involved.
    assert_eq!(client.ping().wait().unwrap(), "PONG");
}

#[test]
fn a_blocking_command_timing_out_on_the_server_returns_none_and_frees_its_connection() {
    let server = RedisServer::new();
    let client = Client::builder().url(server.url()).max_dedicated(1).build().unwrap();
    client.connect().wait().unwrap();
    let id: Arc<Client> = Arc::new(client);
    assert_eq!(id.blpop("none", 0.05).wait().unwrap(), None);
    // Reused: the same connection serves the next one.
    assert_eq!(id.blpop("none", 0.05).wait().unwrap(), None);
    let observer = Client::open(&server.url()).unwrap();
    let list = observer.client_list().wait().unwrap();
    assert_eq!(list.len(), 3, "shared, observer and one dedicated");
}
