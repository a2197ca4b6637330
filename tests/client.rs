//! The client against a real redis-server: commands, binary safety, many callers, every
//! executor, and the handshake.

// The API documents slices passed by reference (`&["a", "b"]`); the tests keep that form.
#![allow(clippy::needless_borrows_for_generic_args)]

mod support;

use std::time::Duration;

use bytes::Bytes;
use redpoll::{Client, Error, Value};
use support::{FakeServer, RedisServer, Script};

fn client_for(server: &RedisServer) -> Client {
    let client = Client::open(&server.url()).expect("open");
    client.connect().wait().expect("connect");
    client
}

#[test]
fn the_first_commands_round_trip() {
    let server = RedisServer::new();
    let client = client_for(&server);
    client.set("greeting", "hello").wait().unwrap();
    let v: Option<Bytes> = client.get("greeting").wait().unwrap();
    assert_eq!(v.as_deref(), Some(&b"hello"[..]));
    let s: Option<String> = client.get("greeting").decode().wait().unwrap();
    assert_eq!(s.as_deref(), Some("hello"));
    assert_eq!(client.get("missing").wait().unwrap(), None);
    assert_eq!(client.incr("hits").wait().unwrap(), 1);
    assert_eq!(client.incrby("hits", 41).wait().unwrap(), 42);
    assert_eq!(client.exists(&["hits", "greeting", "missing"]).wait().unwrap(), 2);
    assert!(client.expire("hits", 100).wait().unwrap());
    assert!(!client.expire("missing", 100).wait().unwrap());
    assert_eq!(client.ping().wait().unwrap(), "PONG");
    assert_eq!(&client.echo("echo").wait().unwrap()[..], b"echo");
    client.mset(&[("a", "1"), ("b", "2")]).wait().unwrap();
    let got: Vec<Option<String>> = client.mget(&["a", "b", "c"]).decode().wait().unwrap();
    assert_eq!(got, [Some("1".to_string()), Some("2".to_string()), None]);
    assert_eq!(client.del(&["a", "b", "c"]).wait().unwrap(), 2);
    let raw: Value = client.cmd("OBJECT").arg("ENCODING").arg("greeting").wait().unwrap();
    assert_eq!(raw, Value::BulkString(Bytes::from_static(b"embstr")));
    // The server confirms what the client wrote.
    assert_eq!(server.raw_cmd(&["GET", "hits"]).as_str(), Some("42"));
}

#[test]
fn server_errors_are_typed_and_the_connection_carries_on() {
    let server = RedisServer::new();
    let client = client_for(&server);
    client.set("s", "text").wait().unwrap();
    let err = client.incr("s").wait().unwrap_err();
    assert_eq!(err.server_code(), Some("ERR"), "{err}");
    client.cmd("LPUSH").arg("list").arg("x").wait().unwrap();
    let err = client.get("list").wait().unwrap_err();
    assert_eq!(err.server_code(), Some("WRONGTYPE"));
    assert!(!err.maybe_executed() && !err.is_connection());
    let err = client.get("s").decode::<i64>().wait().unwrap_err();
    assert!(matches!(err, Error::Conversion { .. }), "{err:?}");
    assert_eq!(client.ping().wait().unwrap(), "PONG");
}

#[test]
fn values_are_binary_safe() {
    let server = RedisServer::new();
    let client = client_for(&server);
    let every_byte: Vec<u8> = (0..=255u8).collect();
    client.set("bytes", every_byte.as_slice()).wait().unwrap();
    assert_eq!(client.get("bytes").wait().unwrap().unwrap(), every_byte);
    client.set(&b"key\0with\r\nnul"[..], &b"\0"[..]).wait().unwrap();
    assert_eq!(&client.get(&b"key\0with\r\nnul"[..]).wait().unwrap().unwrap()[..], b"\0");
    for size in [1 << 20, 64 << 20] {
        let big: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        client.set("big", big.as_slice()).wait().unwrap();
        let back = client.get("big").wait().unwrap().unwrap();
        assert_eq!(back.len(), size);
        assert!(back == big, "{size}-byte value came back different");
    }
}

#[test]
fn large_bytes_values_are_sent_from_the_callers_memory_intact() {
    let server = RedisServer::new();
    let client = client_for(&server);
    let big = bytes::Bytes::from((0..3 << 20).map(|i| (i * 7 % 253) as u8).collect::<Vec<u8>>());
    let small = bytes::Bytes::from_static(b"small");
    // Pipelined, between short commands, several shared values in one command.
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let key = format!("big:{i}");
            let value = big.slice(i * 1000..);
            (key.clone(), value.clone(), client.set(key, &value).send(), client.get("x").send())
        })
        .collect();
    client
        .cmd("MSET")
        .arg("m1")
        .arg(&big)
        .arg("m2")
        .arg(&small)
        .arg("m3")
        .arg(&big)
        .wait()
        .unwrap();
    for (key, value, set, get) in handles {
        set.wait().unwrap();
        get.wait().unwrap();
        assert!(client.get(key.as_str()).wait().unwrap().unwrap() == value, "{key}");
    }
    assert!(client.get("m1").wait().unwrap().unwrap() == big);
    assert_eq!(client.get("m2").wait().unwrap().unwrap(), small);
    assert!(client.get("m3").wait().unwrap().unwrap() == big);
}

#[test]
fn sixteen_threads_each_get_their_own_replies() {
    let server = RedisServer::new();
    let client = client_for(&server);
    std::thread::scope(|s| {
        for t in 0..16 {
            let client = client.clone();
            s.spawn(move || {
                let handles: Vec<_> =
                    (0..2_000).map(|i| (i, client.echo(format!("{t}:{i}")).send())).collect();
                for (i, h) in handles {
                    let got = h.wait().unwrap();
                    assert_eq!(got, format!("{t}:{i}").as_bytes(), "thread {t} request {i}");
                }
            });
        }
    });
}

#[test]
fn dropped_handles_keep_replies_in_step() {
    let server = RedisServer::new();
    let client = client_for(&server);
    let mut kept = Vec::new();
    for i in 0..500 {
        let h = client.echo(i.to_string()).send();
        if i % 3 == 0 {
            kept.push((i, h));
        }
    }
    for (i, h) in kept {
        assert_eq!(h.wait().unwrap(), i.to_string().as_bytes());
    }
    assert_eq!(client.ping().wait().unwrap(), "PONG");
}

async fn async_round_trip(client: Client, tag: &str) {
    client.set(tag, tag).await.unwrap();
    let v: Option<String> = client.get(tag).decode().await.unwrap();
    assert_eq!(v.as_deref(), Some(tag));
    let counter = format!("{tag}:counter");
    let a = client.incr(counter.as_str()).send();
    let b = client.incr(counter.as_str()).send();
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!(b, a + 1);
}

#[test]
fn replies_await_in_every_executor() {
    let server = RedisServer::new();
    let client = client_for(&server);
    futures::executor::block_on(async_round_trip(client.clone(), "futures"));
    pollster::block_on(async_round_trip(client.clone(), "pollster"));
    smol::block_on(async_round_trip(client.clone(), "smol"));
    async_std::task::block_on(async_round_trip(client.clone(), "async-std"));
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async_round_trip(client.clone(), "tokio-current"));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let c = client.clone();
                tokio::spawn(async move { async_round_trip(c, &format!("tokio-{i}")).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

#[test]
fn handshake_replays_auth_select_and_name() {
    let server = RedisServer::builder().acl_user("ada", "s3cret").start();
    let url = format!("redis://ada:s3cret@127.0.0.1:{}/3", server.port());
    let client = Client::builder().url(&url).client_name("tour").build().unwrap();
    client.connect().wait().unwrap();
    client.set("in-db-3", "yes").wait().unwrap();
    let name: String = client.cmd("CLIENT").arg("GETNAME").decode().wait().unwrap();
    assert_eq!(name, "tour");
    let who: String = client.cmd("ACL").arg("WHOAMI").decode().wait().unwrap();
    assert_eq!(who, "ada");
    // A fresh raw connection starts in db 0, where the key is not.
    assert_eq!(server.raw_cmd(&["EXISTS", "in-db-3"]).as_int(), Some(0));
    let mut raw = server.raw();
    raw.try_command(&["SELECT", "3"]).unwrap().expect_ok();
    assert_eq!(raw.try_command(&["EXISTS", "in-db-3"]).unwrap().as_int(), Some(1));
}

#[test]
fn resp3_handshake_works_too() {
    let server = RedisServer::builder().requirepass("pw").start();
    let url = format!("redis://:pw@127.0.0.1:{}", server.port());
    let client = Client::builder().url(&url).protocol(3).build().unwrap();
    client.connect().wait().unwrap();
    client.cmd("HSET").arg("h").arg("f").arg("v").wait().unwrap();
    let all: std::collections::HashMap<String, String> =
        client.cmd("HGETALL").arg("h").decode().wait().unwrap();
    assert_eq!(all.get("f").map(String::as_str), Some("v"));
    let raw: Value = client.cmd("HGETALL").arg("h").wait().unwrap();
    assert!(matches!(raw, Value::Map(_)), "RESP3 replies a map: {raw:?}");
}

#[test]
fn wrong_password_fails_connect_and_queued_commands_without_retrying() {
    let server = RedisServer::builder().requirepass("right").start();
    let url = format!("redis://:wrong@127.0.0.1:{}", server.port());
    let client = Client::open(&url).unwrap();
    let queued = client.ping().send();
    let err = client.connect().wait().unwrap_err();
    assert_eq!(err.server_code(), Some("WRONGPASS"), "{err}");
    assert!(!err.to_string().contains("wrong"), "the password leaked: {err}");
    let err = queued.wait().unwrap_err();
    assert_eq!(err.server_code(), Some("WRONGPASS"));
    let err = client.ping().wait().unwrap_err();
    assert_eq!(err.server_code(), Some("WRONGPASS"));
    std::thread::sleep(Duration::from_millis(500));
    let info = server.raw_cmd(&["INFO", "stats"]);
    let text = info.as_str().unwrap_or_default().to_string();
    let connections: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("total_connections_received:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(connections <= 3, "the client kept retrying: {connections} connections");
}

#[test]
fn unknown_database_is_a_permanent_error() {
    let server = RedisServer::new();
    let client = Client::open(&format!("{}/99", server.url())).unwrap();
    let err = client.connect().wait().unwrap_err();
    assert!(matches!(err, Error::Redis(_)), "{err:?}");
    assert!(err.to_string().contains("SELECT"), "{err}");
}

#[test]
fn unix_sockets_work() {
    let server = RedisServer::builder().unix_socket().start();
    let client = Client::open(&server.unix_url()).unwrap();
    client.connect().wait().unwrap();
    assert_eq!(client.incr("over-unix").wait().unwrap(), 1);
}

#[test]
fn ipv6_loopback_works_when_the_server_listens_there() {
    let server = RedisServer::builder().args("bind", &["127.0.0.1", "::1"]).start();
    let client = Client::open(&format!("redis://[::1]:{}", server.port())).unwrap();
    match client.connect().wait() {
        Ok(()) => assert_eq!(client.ping().wait().unwrap(), "PONG"),
        // A machine without IPv6 on loopback refuses; that is the only accepted failure.
        Err(e) => assert!(e.is_connection(), "{e}"),
    }
}

#[test]
fn host_names_resolve_off_the_io_thread() {
    let server = RedisServer::new();
    let client = Client::open(&format!("redis://localhost:{}", server.port())).unwrap();
    client.connect().wait().unwrap();
    assert_eq!(client.ping().wait().unwrap(), "PONG");
}

#[test]
fn dropping_the_client_fails_what_is_pending() {
    let server = RedisServer::new();
    let client = client_for(&server);
    let slow = client.cmd("DEBUG").arg("SLEEP").arg("0.5").send();
    // Let the I/O thread write it before the client goes.
    std::thread::sleep(Duration::from_millis(100));
    // A connection that never completes: its command certainly waits in the offline queue.
    let blackhole = support::Listener::blackhole();
    let never_sent = Client::open(&blackhole.url()).unwrap();
    let queued = never_sent.ping().send();
    drop(never_sent);
    drop(client);
    let err = queued.wait().unwrap_err();
    assert!(matches!(err, Error::Disconnected(_)), "{err:?}");
    let err = slow.wait().unwrap_err();
    assert!(err.is_connection(), "{err:?}");
    assert!(err.maybe_executed(), "DEBUG SLEEP was written: {err:?}");
}

#[test]
fn commands_that_would_hijack_the_shared_connection_are_refused() {
    let server = RedisServer::new();
    let client = client_for(&server);
    client.set("k", "v").wait().unwrap();
    for (name, args) in [
        ("MULTI", &[][..]),
        ("multi", &[][..]),
        ("SUBSCRIBE", &["news"][..]),
        ("MONITOR", &[][..]),
        ("SELECT", &["2"][..]),
        ("CLIENT", &["REPLY", "OFF"][..]),
        ("client", &["reply", "skip"][..]),
    ] {
        let err = client.cmd(name).arg(args).wait().unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{name} {args:?}: {err:?}");
        assert!(!err.maybe_executed());
    }
    // Nothing reached the server: the connection still answers in step.
    let got: Option<String> = client.get("k").decode().wait().unwrap();
    assert_eq!(got.as_deref(), Some("v"));
    // Subcommands of the same containers that do not hijack the connection still go through.
    let name: Option<String> = client.cmd("CLIENT").arg("GETNAME").decode().wait().unwrap();
    assert_eq!(name, None);
}

/// A status reply that arrives in two reads, followed by an array and an integer: each
/// caller gets its own reply (the decoder once carried the split line's search offset over
/// into the next frame, misreading it as a protocol fault and leaving the next caller to time
/// out).
#[test]
fn a_reply_split_across_reads_leaves_the_next_replies_intact() {
    let server = FakeServer::start(
        Script::new()
            .read_request()
            .send(b"+Stringx")
            .sleep(Duration::from_millis(50))
            .send(b"\r\n")
            .read_request()
            .send(b"*2\r\n+a\r\n+b\r\n")
            .read_request()
            .send(b":1\r\n")
            .hold(),
    );
    let client = Client::builder()
        .url(server.url())
        .request_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let kind: String = client.cmd("TYPE").arg("k").decode().wait().unwrap();
    assert_eq!(kind, "Stringx");
    let pair: Vec<String> = client.cmd("LRANGE").arg("l").arg(0).arg(-1).decode().wait().unwrap();
    assert_eq!(pair, ["a", "b"]);
    let n: i64 = client.cmd("EXISTS").arg("k").decode().wait().unwrap();
    assert_eq!(n, 1);
}
