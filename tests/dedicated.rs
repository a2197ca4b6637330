//! `client.dedicated()`: an exclusive connection with WATCH/MULTI/EXEC, its dirty state
//! tracked, closed (never reused) when dropped dirty, its transaction failed (never re-run
//! without its WATCH) when the connection is lost.

mod support;

use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redpoll::{Client, Error, Value};
use support::RedisServer;

fn client(server: &RedisServer) -> Client {
    let client = Client::open(&server.url()).unwrap();
    client.connect().wait().unwrap();
    client
}

/// The ids of the connections the server has open.
fn client_ids(observer: &Client) -> Vec<i64> {
    observer.client_list().wait().unwrap().iter().map(|c| c.id).collect()
}

fn wait_gone(observer: &Client, id: i64) {
    let started = Instant::now();
    while client_ids(observer).contains(&id) {
        assert!(started.elapsed() < Duration::from_secs(5), "connection {id} still open");
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn watch_multi_exec_commits_when_nothing_changed_and_aborts_when_a_key_did() {
    let server = RedisServer::new();
    let client = client(&server);
    client.set("balance", 100).wait().unwrap();

    let conn = client.dedicated().wait().unwrap();
    conn.watch(["balance"]).wait().unwrap();
    let balance: i64 = conn.get("balance").decode::<Option<i64>>().wait().unwrap().unwrap();
    conn.multi().wait().unwrap();
    let queued: Value = conn.set("balance", balance - 10).decode().wait().unwrap();
    assert_eq!(queued, Value::SimpleString("QUEUED".into()));
    let done: Option<Vec<Value>> = conn.exec().decode().wait().unwrap();
    assert_eq!(done.map(|v| v.len()), Some(1));
    assert_eq!(client.get("balance").decode::<Option<i64>>().wait().unwrap(), Some(90));

    // Someone else changes the key between WATCH and EXEC: the transaction aborts.
    conn.watch(["balance"]).wait().unwrap();
    client.set("balance", 0).wait().unwrap();
    conn.multi().wait().unwrap();
    let _: Value = conn.set("balance", 80).decode().wait().unwrap();
    let aborted: Option<Vec<Value>> = conn.exec().decode().wait().unwrap();
    assert_eq!(aborted, None);
    assert_eq!(client.get("balance").decode::<Option<i64>>().wait().unwrap(), Some(0));
}

#[test]
fn a_clean_connection_is_reused_and_a_dirty_one_is_closed() {
    let server = RedisServer::new();
    let client = client(&server);
    let observer = Client::open(&server.url()).unwrap();

    let conn = client.dedicated().wait().unwrap();
    let clean = conn.client_id().wait().unwrap();
    conn.set("k", "v").wait().unwrap();
    drop(conn);
    let conn = client.dedicated().wait().unwrap();
    assert_eq!(conn.client_id().wait().unwrap(), clean, "a clean connection is reused");

    // Dropped inside MULTI: closed, and the queued SET never runs.
    conn.multi().wait().unwrap();
    let _: Value = conn.set("k", "changed").decode().wait().unwrap();
    drop(conn);
    wait_gone(&observer, clean);
    let conn = client.dedicated().wait().unwrap();
    let in_multi = conn.client_id().wait().unwrap();
    assert_ne!(in_multi, clean, "a connection dropped in MULTI is never reused");
    assert_eq!(client.get("k").decode::<Option<String>>().wait().unwrap().as_deref(), Some("v"));

    // Dropped while WATCHing: closed too.
    conn.watch(["k"]).wait().unwrap();
    drop(conn);
    wait_gone(&observer, in_multi);
    let conn = client.dedicated().wait().unwrap();
    let watching = conn.client_id().wait().unwrap();
    assert_ne!(watching, in_multi);

    // Watching ended by UNWATCH: clean again, reused.
    conn.watch(["k"]).wait().unwrap();
    conn.unwatch().wait().unwrap();
    drop(conn);
    let conn = client.dedicated().wait().unwrap();
    assert_eq!(conn.client_id().wait().unwrap(), watching);
}

#[test]
fn a_connection_whose_database_changed_is_not_handed_to_the_next_owner() {
    let server = RedisServer::new();
    let client = client(&server);
    let observer = Client::open(&server.url()).unwrap();
    let conn = client.dedicated().wait().unwrap();
    conn.select(3).wait().unwrap();
    let id = conn.client_id().wait().unwrap();
    drop(conn);
    wait_gone(&observer, id);
    let conn = client.dedicated().wait().unwrap();
    conn.set("where", "db0").wait().unwrap();
    assert_eq!(
        client.get("where").decode::<Option<String>>().wait().unwrap().as_deref(),
        Some("db0")
    );
}

#[test]
fn select_is_replayed_when_the_connection_comes_back() {
    let server = RedisServer::new();
    let client = client(&server);
    let observer = Client::open(&server.url()).unwrap();
    let conn = client.dedicated().wait().unwrap();
    conn.select(2).wait().unwrap();
    conn.set("db2-key", "here").wait().unwrap();
    let id = conn.client_id().wait().unwrap();
    observer.client_kill().id(id).wait().unwrap();
    // The next command finds the connection gone, reconnects, SELECTs 2 again.
    let started = Instant::now();
    let value = loop {
        match conn.get("db2-key").decode::<Option<String>>().wait() {
            Ok(v) => break v,
            Err(e) => {
                assert!(matches!(e, Error::Connection { .. }), "{e:?}");
                assert!(started.elapsed() < Duration::from_secs(5), "{e:?}");
            }
        }
    };
    assert_eq!(value.as_deref(), Some("here"));
    assert_ne!(conn.client_id().wait().unwrap(), id, "a new connection");
    assert_eq!(client.get("db2-key").decode::<Option<String>>().wait().unwrap(), None);
}

#[test]
fn watch_lost_on_reconnect_fails_the_transaction_until_exec() {
    let server = RedisServer::new();
    let client = client(&server);
    let observer = Client::open(&server.url()).unwrap();
    client.set("stock", 5).wait().unwrap();
    let conn = client.dedicated().wait().unwrap();
    conn.watch(["stock"]).wait().unwrap();
    let id = conn.client_id().wait().unwrap();
    observer.client_kill().id(id).wait().unwrap();
    thread::sleep(Duration::from_millis(100));

    // Every command of the transaction fails with the same reason, up to its EXEC: it never
    // runs on the new connection without its WATCH.
    let err = conn.get("stock").wait().unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    assert!(err.to_string().contains("WATCH"), "{err}");
    let err = conn.multi().wait().unwrap_err();
    assert!(err.to_string().contains("WATCH"), "{err}");
    let err = conn.set("stock", 4).wait().unwrap_err();
    assert!(err.to_string().contains("WATCH"), "{err}");
    let err = conn.exec().wait().unwrap_err();
    assert!(err.to_string().contains("WATCH"), "{err}");
    assert_eq!(client.get("stock").decode::<Option<i64>>().wait().unwrap(), Some(5));

    // After EXEC the connection serves again, as a fresh one.
    let value: Option<Bytes> = conn.get("stock").wait().unwrap();
    assert_eq!(value.as_deref(), Some(&b"5"[..]));
    assert_ne!(conn.client_id().wait().unwrap(), id);
}

#[test]
fn a_connection_lost_inside_multi_fails_the_transaction() {
    let server = RedisServer::new();
    let client = client(&server);
    let observer = Client::open(&server.url()).unwrap();
    let conn = client.dedicated().wait().unwrap();
    let id = conn.client_id().wait().unwrap();
    conn.multi().wait().unwrap();
    let _: Value = conn.set("m", 1).decode().wait().unwrap();
    observer.client_kill().id(id).wait().unwrap();
    thread::sleep(Duration::from_millis(100));
    let err = conn.set("m", 2).wait().unwrap_err();
    assert!(err.to_string().contains("MULTI"), "{err}");
    let err = conn.exec().wait().unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    assert_eq!(client.get("m").decode::<Option<i64>>().wait().unwrap(), None);
    assert_eq!(conn.ping().wait().unwrap(), "PONG");
}

#[test]
fn the_shared_connection_refuses_transactions_and_points_at_dedicated() {
    let server = RedisServer::new();
    let client = client(&server);
    let err = client.cmd("MULTI").wait().unwrap_err();
    assert!(matches!(err, Error::Usage(_)), "{err:?}");
    assert!(err.to_string().contains("dedicated()"), "{err}");
    let err = client.cmd("WATCH").arg("k").wait().unwrap_err();
    assert!(err.to_string().contains("dedicated()"), "{err}");
}

#[test]
fn dedicated_refuses_pub_sub_with_a_pointer_to_subscribe() {
    let server = RedisServer::new();
    let client = client(&server);
    let conn = client.dedicated().wait().unwrap();
    let err = conn.cmd("SUBSCRIBE").arg("ch").wait().unwrap_err();
    assert!(matches!(err, Error::Usage(_)), "{err:?}");
    assert!(err.to_string().contains("client.subscribe()"), "{err}");
    // The refusal cost nothing: the connection still serves.
    assert_eq!(conn.ping().wait().unwrap(), "PONG");
}

#[test]
fn acquiring_beyond_the_bound_waits_then_times_out() {
    let server = RedisServer::new();
    let client = Client::builder().url(server.url()).max_dedicated(1).build().unwrap();
    client.connect().wait().unwrap();
    let held = client.dedicated().wait().unwrap();
    let err = client.dedicated().timeout(Duration::from_millis(200)).wait().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("max_dedicated"), "{err}");
    let id = held.client_id().wait().unwrap();
    // One waiting when it is given back gets it.
    let waiter = thread::spawn({
        let client = client.clone();
        move || {
            client.dedicated().timeout(Duration::from_secs(5)).wait().map(|c| c.client_id().wait())
        }
    });
    thread::sleep(Duration::from_millis(100));
    drop(held);
    assert_eq!(waiter.join().unwrap().unwrap().unwrap(), id);
}

#[test]
fn blocking_commands_on_a_dedicated_connection_block_only_it() {
    let server = RedisServer::new();
    let client = client(&server);
    let conn = client.dedicated().wait().unwrap();
    let pending = conn.blpop("q", 0.0).send();
    for _ in 0..100 {
        assert_eq!(client.ping().wait().unwrap(), "PONG");
    }
    client.rpush("q", "x").wait().unwrap();
    assert_eq!(&pending.wait().unwrap().unwrap().1[..], b"x");
}
