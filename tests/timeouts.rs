//! Deadlines: request timeouts reset the connection (or, with `OnTimeout::Abandon`, fail the
//! late request alone), blocking commands get their server timeout plus a buffer, connects give
//! up after `connect_timeout`.

// The API documents slices passed by reference (`&["a", "b"]`); the tests keep that form.
#![allow(clippy::needless_borrows_for_generic_args)]

mod support;

use std::time::{Duration, Instant};

use redpoll::{Client, Error, OnTimeout};
use support::{Listener, RedisServer};

#[test]
fn a_request_timeout_fails_it_and_resets_the_connection() {
    let server = RedisServer::new();
    let client = Client::builder()
        .url(&server.url())
        .request_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    client.connect().wait().unwrap();
    let slow = client.cmd("DEBUG").arg("SLEEP").arg("1").send();
    // Sent later, so its own deadline has not passed when the first one fires.
    std::thread::sleep(Duration::from_millis(100));
    let behind = client.ping().send();
    let started = Instant::now();
    let err = slow.wait().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.maybe_executed(), "DEBUG SLEEP was written: {err:?}");
    assert!(started.elapsed() < Duration::from_millis(900), "the deadline fired late");
    let err = behind.wait().unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    assert!(err.maybe_executed(), "PING was written behind it: {err:?}");
    // The client reconnects by itself and serves the next command.
    assert_eq!(client.ping().timeout(Duration::from_secs(5)).wait().unwrap(), "PONG");
}

#[test]
fn a_command_timeout_override_applies_by_name() {
    let server = RedisServer::new();
    let client = Client::builder()
        .url(&server.url())
        .request_timeout(Duration::from_millis(100))
        .command_timeout("DEBUG", Duration::from_secs(5))
        .build()
        .unwrap();
    client.cmd("DEBUG").arg("SLEEP").arg("0.3").wait().unwrap();
}

#[test]
fn blpop_outlives_the_request_timeout() {
    let server = RedisServer::new();
    let client = Client::builder()
        .url(&server.url())
        .request_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = Instant::now();
    let popped = client.blpop(&["empty-list"], 1.0).wait().unwrap();
    assert_eq!(popped, None);
    assert!(started.elapsed() >= Duration::from_millis(900));
    client.cmd("RPUSH").arg("q").arg("job").wait().unwrap();
    let popped: Option<(String, String)> = client.blpop(&["q"], 1.0).decode().wait().unwrap();
    assert_eq!(popped, Some(("q".into(), "job".into())));
}

#[test]
fn connect_timeout_against_a_listener_that_never_answers() {
    let listener = Listener::blackhole();
    let client = Client::builder()
        .url(&listener.url())
        .connect_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.connect().wait().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[test]
fn a_handshake_that_never_answers_is_bounded_by_connect_timeout() {
    let listener = Listener::new();
    let client = Client::builder()
        .url(&listener.url())
        .client_name("never-answered")
        .connect_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = client.connect().wait().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[test]
fn queued_commands_time_out_when_no_connection_comes() {
    let listener = Listener::blackhole();
    let client = Client::builder()
        .url(&listener.url())
        .connect_timeout(Duration::from_secs(10))
        .request_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = client.ping().wait().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(!err.maybe_executed(), "it never left the queue: {err:?}");
}

#[test]
fn a_full_offline_queue_fails_at_once() {
    let listener = Listener::blackhole();
    let client = Client::builder().url(&listener.url()).queue_size(2).build().unwrap();
    let _a = client.ping().send();
    let _b = client.ping().send();
    let err = client.ping().wait().unwrap_err();
    assert!(matches!(err, Error::Disconnected(_)), "{err:?}");
}

#[test]
fn read_timeout_resets_a_silent_connection() {
    let server = RedisServer::new();
    let client = Client::builder()
        .url(&server.url())
        .request_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    client.connect().wait().unwrap();
    let started = Instant::now();
    let err = client.cmd("DEBUG").arg("SLEEP").arg("2").wait().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("read_timeout"), "{err}");
    // The 100 ms sweep notices the silence: between 300 ms and well under the 2 s sleep.
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300) && took < Duration::from_millis(1500), "{took:?}");
}

#[test]
fn write_timeout_resets_a_connection_whose_writes_make_no_progress() {
    // Accepted by the kernel, never read: once the socket buffers fill, writing stalls.
    let listener = Listener::new();
    let client = Client::builder()
        .url(listener.url())
        .request_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(30))
        .write_timeout(Duration::from_millis(300))
        .send_buffer_size(16 * 1024)
        .build()
        .unwrap();
    client.connect().wait().unwrap();
    let big = vec![b'x'; 32 << 20];
    let started = Instant::now();
    let err = client.set("big", big.as_slice()).wait().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("write_timeout"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn an_abandoned_request_fails_alone_and_the_connection_keeps_serving() {
    let server = RedisServer::new();
    let client = Client::builder().url(&server.url()).build().unwrap();
    client.set("k", "v").wait().unwrap();
    let before = client.client_id().wait().unwrap();

    let slow = client
        .cmd("DEBUG")
        .arg("SLEEP")
        .arg("0.5")
        .timeout(Duration::from_millis(100))
        .on_timeout(OnTimeout::Abandon)
        .send();
    let behind: Vec<_> =
        (0..8).map(|_| client.get("k").decode::<Option<String>>().send()).collect();
    let err = slow.wait().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.maybe_executed(), "DEBUG SLEEP was written and still runs: {err:?}");
    // The requests behind it get their own replies (the late +OK was dropped, not handed on).
    for get in behind {
        assert_eq!(get.wait().unwrap().as_deref(), Some("v"));
    }
    assert_eq!(client.client_id().wait().unwrap(), before, "the connection was not reset");
}

#[test]
fn abandon_as_the_client_rule_still_resets_a_stalled_connection() {
    let server = RedisServer::new();
    let client = Client::builder()
        .url(&server.url())
        .request_timeout(Duration::from_millis(100))
        .read_timeout(Duration::from_millis(400))
        .on_timeout(OnTimeout::Abandon)
        .build()
        .unwrap();
    let before = client.client_id().wait().unwrap();
    let slept = Instant::now();
    let err = client.cmd("DEBUG").arg("SLEEP").arg("1").wait().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    // The connection then says nothing for read_timeout while the abandoned reply is owed:
    // a GET behind it fails with the reset instead of waiting out the whole sleep.
    let started = Instant::now();
    let err = client.get("k").timeout(Duration::from_secs(5)).wait().unwrap_err();
    assert!(err.to_string().contains("read_timeout"), "{err}");
    assert!(started.elapsed() < Duration::from_millis(900), "{:?}", started.elapsed());
    // DEBUG SLEEP stalls the whole server; once it is over the new connection serves.
    std::thread::sleep(Duration::from_millis(1100).saturating_sub(slept.elapsed()));
    let after = client.client_id().timeout(Duration::from_secs(5)).wait().unwrap();
    assert_ne!(after, before, "a new connection serves after the reset");
}
