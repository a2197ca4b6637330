//! Network and server faults: restarts, cuts, black holes, refused connects, LOADING replies.
//! Faults come from the fault-injection proxy in front of a real redis-server, or from
//! restarting the server itself; a scripted fake server only for LOADING.

// The API documents slices passed by reference (`&["a", "b"]`); the tests keep that form.
#![allow(clippy::needless_borrows_for_generic_args)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redpoll::{Client, DisconnectReason, Error};
use support::{FakeServer, FaultProxy, RedisServer, Script};

/// Polls `cond` every 10 ms until it holds or `within` passes.
fn eventually(within: Duration, cond: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

#[test]
fn a_restarted_server_gets_the_handshake_again_and_events_fire() {
    let mut server = RedisServer::builder().requirepass("pw").start();
    let connects = Arc::new(AtomicUsize::new(0));
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let client = Client::builder()
        .url(format!("redis://:pw@127.0.0.1:{}/3", server.port()))
        .reconnect_delay(Duration::from_millis(20))
        .on_connect({
            let connects = connects.clone();
            move |_| {
                connects.fetch_add(1, Ordering::SeqCst);
            }
        })
        .on_disconnect({
            let reasons = reasons.clone();
            move |r| reasons.lock().unwrap().push(*r)
        })
        .build()
        .unwrap();
    client.connect().wait().unwrap();
    client.set("before", "1").wait().unwrap();
    assert!(eventually(Duration::from_secs(2), || connects.load(Ordering::SeqCst) == 1));

    server.restart();
    // AUTH and SELECT were replayed: the key lands in db 3 of the new server.
    let mut ok = false;
    for _ in 0..100 {
        if client.set("after", "2").wait().is_ok() {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(ok, "no command succeeded after the restart");
    let mut raw = server.raw();
    raw.try_command(&["SELECT", "3"]).unwrap().expect_ok();
    assert_eq!(raw.try_command(&["GET", "after"]).unwrap().as_str(), Some("2"));
    assert!(eventually(Duration::from_secs(2), || connects.load(Ordering::SeqCst) == 2));
    let reasons = reasons.lock().unwrap().clone();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        matches!(reasons[0], DisconnectReason::ServerClosed | DisconnectReason::ConnectionLost),
        "{reasons:?}"
    );
}

#[test]
fn commands_issued_while_down_run_once_when_the_server_returns() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let client = Client::builder()
        .url(proxy.url())
        .reconnect_delay(Duration::from_millis(20))
        .reconnect_delay_max(Duration::from_millis(100))
        .queue_size(50)
        .request_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    client.connect().wait().unwrap();
    proxy.refuse(true);
    proxy.cut_all();
    // Wait until the client noticed and is reconnecting.
    assert!(eventually(Duration::from_secs(2), || proxy.connections() == 0));
    std::thread::sleep(Duration::from_millis(100));
    let queued: Vec<_> = (0..50).map(|_| client.incr("while-down").send()).collect();
    let rejected = client.incr("while-down").send();
    let err = rejected.wait().unwrap_err();
    assert!(matches!(err, Error::Disconnected(_)), "{err:?}");
    proxy.refuse(false);
    let mut seen: Vec<i64> = queued.into_iter().map(|h| h.wait().unwrap()).collect();
    seen.sort_unstable();
    assert_eq!(seen, (1..=50).collect::<Vec<i64>>(), "each queued INCR ran exactly once");
    assert_eq!(server.raw_cmd(&["GET", "while-down"]).as_str(), Some("50"));
}

#[test]
fn a_cut_after_the_command_was_written_reports_maybe_executed() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let client = Client::open(&proxy.url()).unwrap();
    client.connect().wait().unwrap();
    // The INCR reaches the server; its reply is cut after one byte.
    proxy.cut_after_upstream_bytes(1);
    let err = client.incr("cut").wait().unwrap_err();
    assert!(err.is_connection(), "{err:?}");
    assert!(err.maybe_executed(), "{err:?}");
    assert_eq!(server.raw_cmd(&["GET", "cut"]).as_str(), Some("1"), "INCR ran once");
    // The client carries on over a fresh connection.
    assert_eq!(client.incr("cut").timeout(Duration::from_secs(5)).wait().unwrap(), 2);
}

#[test]
fn idempotent_commands_are_resent_after_a_cut_when_allowed() {
    let server = RedisServer::new();
    server.raw_cmd(&["SET", "k", "v"]).expect_ok();
    let proxy = FaultProxy::start(&server.addr());
    let client = Client::builder()
        .url(proxy.url())
        .reconnect_delay(Duration::from_millis(10))
        .retry_maybe_executed(true)
        .idempotent_commands(["INCRBY"])
        .build()
        .unwrap();
    client.connect().wait().unwrap();
    proxy.cut_after_upstream_bytes(1);
    let v: Option<String> = client.get("k").decode().wait().unwrap();
    assert_eq!(v.as_deref(), Some("v"), "GET is read-only: resent on the new connection");
    proxy.cut_after_upstream_bytes(1);
    assert_eq!(client.incrby("n", 5).wait().unwrap() % 5, 0, "INCRBY declared idempotent");
    proxy.cut_after_upstream_bytes(1);
    let err = client.incr("m").wait().unwrap_err();
    assert!(err.maybe_executed(), "INCR is not idempotent: {err:?}");
    proxy.cut_after_upstream_bytes(1);
    let m = client.incr("m").idempotent().wait().unwrap();
    assert!(m >= 2, "declared idempotent on the call: resent and answered ({m})");
}

#[test]
fn a_cut_mid_pipeline_resolves_every_handle_once() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let client = Client::builder()
        .url(proxy.url())
        .reconnect_delay(Duration::from_millis(10))
        .build()
        .unwrap();
    client.connect().wait().unwrap();
    proxy.cut_after_upstream_bytes(2_000);
    let handles: Vec<_> = (0..1_000).map(|i| client.echo(format!("v{i}")).send()).collect();
    let started = Instant::now();
    let (mut ok, mut failed) = (0, 0);
    for (i, h) in handles.into_iter().enumerate() {
        match h.wait() {
            Ok(v) => {
                assert_eq!(v, format!("v{i}").as_bytes(), "reply {i} went to the wrong caller");
                ok += 1;
            }
            Err(e) => {
                assert!(e.is_connection() && e.maybe_executed(), "{e:?}");
                failed += 1;
            }
        }
    }
    assert!(started.elapsed() < Duration::from_secs(10), "handles hung");
    assert_eq!(ok + failed, 1_000);
    assert!(ok > 0 && failed > 0, "the cut fell mid-pipeline: {ok} ok, {failed} failed");
}

#[test]
fn a_black_hole_times_requests_out_and_the_client_recovers() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let client = Client::builder()
        .url(proxy.url())
        .request_timeout(Duration::from_millis(300))
        .connect_timeout(Duration::from_millis(300))
        .reconnect_delay(Duration::from_millis(20))
        .reconnect_delay_max(Duration::from_millis(100))
        .build()
        .unwrap();
    client.connect().wait().unwrap();
    proxy.blackhole(true);
    let err = client.ping().wait().unwrap_err();
    assert!(err.is_timeout() && err.maybe_executed(), "{err:?}");
    proxy.heal();
    let recovered = eventually(Duration::from_secs(5), || client.ping().wait().is_ok());
    assert!(recovered, "the client did not reconnect once forwarding resumed");
}

#[test]
fn reconnect_delays_grow_are_capped_and_vary() {
    // A listener that accepts each connection and closes it at once, noting when: every
    // attempt fails in the handshake (the client name needs a reply), so backoff never resets.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let recorder = std::thread::spawn({
        let accepted = accepted.clone();
        move || {
            for stream in listener.incoming().take(9) {
                accepted.lock().unwrap().push(Instant::now());
                drop(stream);
            }
        }
    });
    let client = Client::builder()
        .url(format!("redis://127.0.0.1:{port}"))
        .client_name("backoff-test")
        .reconnect_delay(Duration::from_millis(40))
        .reconnect_delay_max(Duration::from_millis(320))
        .reconnect_jitter(0.25)
        .build()
        .unwrap();
    recorder.join().unwrap();
    drop(client);
    let at = accepted.lock().unwrap().clone();
    let gaps: Vec<u64> = at.windows(2).map(|w| (w[1] - w[0]).as_millis() as u64).collect();
    // Expected: ~40, 80, 160, 320, 320, … each ±25 %; generous slack for a loaded machine.
    assert!(gaps[0] >= 25 && gaps[0] < 150, "{gaps:?}");
    assert!(gaps[2] > gaps[0], "delays grow: {gaps:?}");
    assert!(gaps[4..].iter().all(|&g| g >= 230), "capped near 320 ms, not less: {gaps:?}");
    assert!(gaps[4..].iter().all(|&g| g < 700), "capped: {gaps:?}");
    let capped = &gaps[4..];
    assert!(capped.iter().any(|&g| g != capped[0]), "jitter varies the delays: {gaps:?}");
}

#[test]
fn loading_replies_are_retried_until_the_server_is_ready() {
    let loading = Arc::new(AtomicUsize::new(0));
    let fake = FakeServer::start(Script::new().serve({
        let loading = loading.clone();
        move |args: &[Vec<u8>]| {
            if args[0].eq_ignore_ascii_case(b"PING") && loading.fetch_add(1, Ordering::SeqCst) < 3 {
                Some(b"-LOADING Redis is loading the dataset in memory\r\n".to_vec())
            } else if args[0].eq_ignore_ascii_case(b"PING") {
                Some(b"+PONG\r\n".to_vec())
            } else {
                Some(
                    b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
                        .to_vec(),
                )
            }
        }
    }));
    let client = Client::open(&fake.url()).unwrap();
    assert_eq!(client.ping().wait().unwrap(), "PONG");
    assert_eq!(loading.load(Ordering::SeqCst), 4, "three LOADING replies, then PONG");
    let err = client.get("k").wait().unwrap_err();
    assert_eq!(err.server_code(), Some("WRONGTYPE"), "never retried: {err:?}");
}

#[test]
fn a_panicking_callback_does_not_take_the_client_down() {
    let server = RedisServer::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let client = Client::builder()
        .url(server.url())
        .on_connect({
            let calls = calls.clone();
            move |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                panic!("a callback bug");
            }
        })
        .build()
        .unwrap();
    client.connect().wait().unwrap();
    assert!(eventually(Duration::from_secs(2), || calls.load(Ordering::SeqCst) == 1));
    assert_eq!(client.ping().wait().unwrap(), "PONG");
    // The callback thread survives too: a second client's callback still runs.
    let again = Client::builder()
        .url(server.url())
        .on_connect({
            let calls = calls.clone();
            move |_| {
                calls.fetch_add(1, Ordering::SeqCst);
            }
        })
        .build()
        .unwrap();
    again.connect().wait().unwrap();
    assert!(eventually(Duration::from_secs(2), || calls.load(Ordering::SeqCst) == 2));
}

#[test]
fn a_user_retry_policy_decides_on_the_callers_thread() {
    let loading = Arc::new(AtomicUsize::new(0));
    let fake = FakeServer::start(Script::new().serve({
        let loading = loading.clone();
        move |args: &[Vec<u8>]| {
            if !args[0].eq_ignore_ascii_case(b"PING") {
                return Some(b"-WRONGTYPE Operation against a key\r\n".to_vec());
            }
            if loading.fetch_add(1, Ordering::SeqCst) % 4 < 3 {
                Some(b"-LOADING Redis is loading the dataset in memory\r\n".to_vec())
            } else {
                Some(b"+PONG\r\n".to_vec())
            }
        }
    }));
    let asked = Arc::new(Mutex::new(Vec::new()));
    let client = Client::builder()
        .url(fake.url())
        .retry_policy({
            let asked = asked.clone();
            move |attempt, err, command| {
                let io = std::thread::current().name() == Some("redpoll-io");
                asked.lock().unwrap().push((attempt, err.server_code().map(str::to_owned), io));
                let name = command.map(|c| c.name);
                (err.server_code() == Some("LOADING") && name == Some("PING"))
                    .then_some(Duration::from_millis(5))
            }
        })
        .build()
        .unwrap();
    assert_eq!(client.ping().wait().unwrap(), "PONG");
    assert_eq!(pollster::block_on(client.ping()).unwrap(), "PONG");
    let err = client.get("k").wait().unwrap_err();
    assert_eq!(err.server_code(), Some("WRONGTYPE"));
    let asked = asked.lock().unwrap().clone();
    let loading_calls =
        asked.iter().filter(|(_, code, _)| code.as_deref() == Some("LOADING")).count();
    assert_eq!(loading_calls, 6, "three LOADING replies per PING: {asked:?}");
    assert_eq!(asked.iter().map(|(a, _, _)| *a).max(), Some(3), "{asked:?}");
    assert!(asked.iter().all(|(_, _, io)| !io), "the policy ran on the I/O thread");
    assert_eq!(asked.last().map(|(a, c, _)| (*a, c.clone())), Some((1, Some("WRONGTYPE".into()))));
}

/// Redis answers a connection over `maxclients` with `-ERR max number of clients reached`
/// and closes it. With any handshake step (a password, a database, RESP3, a name) that
/// reply is judged a permanent refusal: the client fails for good instead of reconnecting.
#[test]
fn maxclients_at_handshake_is_retried() {
    let full = Script::new().send(b"-ERR max number of clients reached\r\n").close();
    let ok = Script::new().serve(|_args| Some(b"+OK\r\n".to_vec()));
    let server = FakeServer::start_each(vec![full, ok]);
    let client = Client::builder()
        .url(&format!("{}/1", server.url()))
        .reconnect_delay(Duration::from_millis(10))
        .build()
        .unwrap();
    // connect() reports the first failure; the client must recover on its own.
    let first = client.connect().wait().unwrap_err();
    assert!(first.to_string().contains("max number of clients"), "{first}");
    let recovered = eventually(Duration::from_secs(3), || client.ping().wait().is_ok());
    assert!(recovered, "the client gave up for good after one maxclients refusal");
}
