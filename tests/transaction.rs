//! MULTI…EXEC as one group and WATCH transactions against a real redis-server, with a key
//! prefix (raw keys checked through a client without one).

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use redpoll::{Client, Error, FromValue, Value};
use support::{RedisServer, Ticker};

fn clients(server: &RedisServer) -> (Client, Client) {
    let client = Client::builder().url(server.url()).prefix("tx:").build().unwrap();
    (client, Client::open(&server.url()).unwrap())
}

#[test]
fn a_transaction_gives_a_result_per_command() {
    let server = RedisServer::new();
    let (client, raw) = clients(&server);
    let r = client
        .transaction(|tx| {
            tx.incr("c");
            tx.incr("c").get("c");
        })
        .wait()
        .unwrap();
    assert_eq!(r, [Value::Int(1), Value::Int(2), Value::BulkString(Bytes::from_static(b"2"))]);
    assert_eq!(raw.get("tx:c").wait().unwrap(), Some(Bytes::from_static(b"2")));
    let (a, b): (i64, String) = client
        .transaction(|tx| {
            tx.incr("c");
            tx.get("c");
        })
        .decode()
        .wait()
        .unwrap();
    assert_eq!((a, b.as_str()), (3, "3"));
    // an empty transaction
    assert!(client.transaction(|_| {}).wait().unwrap().is_empty());
}

#[test]
fn errors_inside_exec_stay_in_their_slots() {
    let server = RedisServer::new();
    let (client, _raw) = clients(&server);
    let r = client
        .transaction(|tx| {
            tx.set("s", "text");
            tx.incr("s");
            tx.lpush("s", ["x"]);
            tx.append("s", "!");
        })
        .wait()
        .unwrap();
    assert_eq!(r.len(), 4);
    assert!(matches!(&r[1], Value::Error(e) if e.code() == "ERR"), "{:?}", r[1]);
    assert!(matches!(&r[2], Value::Error(e) if e.code() == "WRONGTYPE"), "{:?}", r[2]);
    assert_eq!(r[3], Value::Int(5), "the commands after the errors ran");
}

#[test]
fn execabort_names_the_refused_commands_and_nothing_runs() {
    let server = RedisServer::new();
    let (client, raw) = clients(&server);
    let err = client
        .transaction(|tx| {
            tx.incr("n");
            tx.cmd("ECHO"); // wrong arity: the server refuses to queue it
            tx.incr("n");
        })
        .wait()
        .unwrap_err();
    assert_eq!(err.server_code(), Some("EXECABORT"), "{err}");
    assert!(err.to_string().contains("command 1"), "{err}");
    assert_eq!(raw.get("tx:n").wait().unwrap(), None, "nothing ran");
    assert_eq!(client.incr("n").wait().unwrap(), 1, "the connection goes on");
}

#[test]
fn watch_multi_runs_when_nothing_changed() {
    let server = RedisServer::new();
    let (client, raw) = clients(&server);
    client.set("balance", 150).wait().unwrap();
    let r = client
        .watch_multi(&["balance", "other"], |tx, watched| {
            assert_eq!(watched.len(), 2);
            assert_eq!(watched[1], Value::Nil);
            let balance = i64::from_value(watched[0].clone())?;
            tx.decrby("balance", 100);
            tx.get("balance");
            assert!(balance >= 100);
            Ok(())
        })
        .wait()
        .unwrap();
    assert_eq!(r, Some(vec![Value::Int(50), Value::BulkString(Bytes::from_static(b"50"))]));
    assert_eq!(raw.get("tx:balance").wait().unwrap(), Some(Bytes::from_static(b"50")));
}

#[test]
fn a_change_inside_the_closure_gives_none_and_the_retry_succeeds() {
    let server = RedisServer::new();
    let (client, raw) = clients(&server);
    client.set("k", 1).wait().unwrap();
    let r = client
        .watch_multi(&["k"], |tx, _| {
            raw.incr("tx:k").wait()?; // another client changes the watched key
            tx.set("k", "mine");
            Ok(())
        })
        .wait()
        .unwrap();
    assert_eq!(r, None, "a watched key changed: nothing ran");
    assert_eq!(raw.get("tx:k").wait().unwrap(), Some(Bytes::from_static(b"2")));

    let calls = AtomicU32::new(0);
    let r = client
        .watch_multi(&["k"], |tx, watched| {
            if calls.fetch_add(1, Ordering::Relaxed) < 2 {
                raw.incr("tx:k").wait()?; // conflicts on the first two tries
            }
            let n = i64::from_value(watched[0].clone())?;
            tx.set("k", n * 10);
            Ok(())
        })
        .retry(3)
        .wait()
        .unwrap();
    assert!(r.is_some(), "the third try ran");
    assert_eq!(calls.load(Ordering::Relaxed), 3);
    assert_eq!(raw.get("tx:k").wait().unwrap(), Some(Bytes::from_static(b"40")));

    // too few retries: None after the last
    let r = client
        .watch_multi(&["k"], |tx, _| {
            raw.incr("tx:k").wait()?;
            tx.set("k", 0);
            Ok(())
        })
        .retry(1)
        .wait()
        .unwrap();
    assert_eq!(r, None);
}

#[test]
fn a_closure_error_ends_it_and_unwatches() {
    let server = RedisServer::new();
    let (client, raw) = clients(&server);
    let err = client
        .watch_multi(&["k"], |tx, _| {
            tx.set("k", "never");
            Err(Error::Usage("changed my mind".into()))
        })
        .wait()
        .unwrap_err();
    assert!(err.to_string().contains("changed my mind"), "{err}");
    assert_eq!(raw.get("tx:k").wait().unwrap(), None);
    // nothing queued: UNWATCH, an empty result
    let r = client.watch_multi(&["k"], |_, _| Ok(())).wait().unwrap();
    assert_eq!(r, Some(vec![]));
}

#[test]
fn watch_multi_awaited_and_beside_the_ticker() {
    let server = RedisServer::new();
    let (client, raw) = clients(&server);
    let ticker = Ticker::start();
    let r = futures::executor::block_on(async {
        client
            .watch_multi(&["a"], |tx, _| {
                std::thread::sleep(Duration::from_millis(200)); // a slow closure, off the I/O thread
                tx.incr("a");
                Ok(())
            })
            .await
    })
    .unwrap();
    ticker.stop().assert_kept_up("a watch_multi closure sleeping 200 ms");
    assert_eq!(r, Some(vec![Value::Int(1)]));
    assert_eq!(raw.get("tx:a").wait().unwrap(), Some(Bytes::from_static(b"1")));
    assert_eq!(client.get("a").wait().unwrap(), Some(Bytes::from_static(b"1")));
}

#[test]
fn dedicated_connections_have_transactions_and_pipelines() {
    let server = RedisServer::new();
    let (client, _raw) = clients(&server);
    let conn = client.dedicated().wait().unwrap();
    let r = conn
        .transaction(|tx| {
            tx.incr("d");
            tx.incr("d");
        })
        .wait()
        .unwrap();
    assert_eq!(r, [Value::Int(1), Value::Int(2)]);
    let mut p = conn.pipeline();
    p.incr("d").get("d");
    let (n, s): (i64, String) = p.query().wait().unwrap();
    assert_eq!((n, s.as_str()), (3, "3"));
}
