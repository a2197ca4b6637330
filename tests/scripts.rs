//! Lua scripts and functions against a real redis-server: EVALSHA with the EVAL fallback
//! after SCRIPT FLUSH (on a client, a dedicated connection, in a pipeline), a transaction
//! after loading, FCALL after FUNCTION LOAD, and the key prefix on script keys.

mod support;

use bytes::Bytes;
use redpoll::{Client, Script, Value};
use support::RedisServer;

const GET_AND_SET: &str = "local old = redis.call('GET', KEYS[1]); \
                           redis.call('SET', KEYS[1], ARGV[1]); return old";

fn clients(server: &RedisServer) -> (Client, Client) {
    let client = Client::builder().url(server.url()).prefix("sc:").build().unwrap();
    (client, Client::open(&server.url()).unwrap())
}

#[test]
fn the_hash_is_the_servers() {
    let server = RedisServer::new();
    let (client, _raw) = clients(&server);
    let script = Script::new(GET_AND_SET);
    let loaded = script.load(&client).wait().unwrap();
    assert_eq!(loaded, script.hash().as_bytes(), "SCRIPT LOAD answers the local SHA-1");
    let sha = client.script_load(GET_AND_SET).wait().unwrap();
    assert_eq!(sha, script.hash().as_bytes());
}

#[test]
fn evalsha_falls_back_to_eval_after_script_flush() {
    let server = RedisServer::new();
    let (client, raw) = clients(&server);
    let script = Script::new(GET_AND_SET);
    raw.script_flush().wait().unwrap();
    let old: Option<String> = script.key("k").arg("one").invoke(&client).decode().wait().unwrap();
    assert_eq!(old, None, "NOSCRIPT, then EVAL ran it");
    assert_eq!(raw.get("sc:k").wait().unwrap(), Some(Bytes::from_static(b"one")), "key prefixed");
    let old: Option<String> = script.key("k").arg("two").invoke(&client).decode().wait().unwrap();
    assert_eq!(old.as_deref(), Some("one"), "EVALSHA now that EVAL cached it");

    raw.script_flush().wait().unwrap();
    let old: Option<String> =
        futures::executor::block_on(script.key("k").arg("three").invoke(&client).decode().send())
            .unwrap();
    assert_eq!(old.as_deref(), Some("two"), "awaited, after another flush");

    let conn = client.dedicated().wait().unwrap();
    raw.script_flush().wait().unwrap();
    let old: Option<String> = script.key("k").arg("four").invoke(&conn).decode().wait().unwrap();
    assert_eq!(old.as_deref(), Some("three"), "on a dedicated connection");

    // a script error is not a NOSCRIPT: it comes back as it is
    let bad = Script::new("return redis.call('INCR', KEYS[1])");
    let err = bad.key("k").invoke(&client).wait().unwrap_err();
    assert_eq!(err.server_code(), Some("ERR"), "{err}");
}

#[test]
fn a_pipeline_falls_back_too() {
    let server = RedisServer::new();
    let (client, raw) = clients(&server);
    let script = Script::new(GET_AND_SET);
    let echo = Script::new("return ARGV[1]");
    echo.load(&client).wait().unwrap();
    raw.script_flush().wait().unwrap();
    let mut p = client.pipeline();
    p.set("k", "zero");
    script.key("k").arg("one").invoke(&p);
    echo.arg("hi").invoke(&p);
    p.incr("n");
    let slots = p.execute().wait().unwrap();
    assert_eq!(slots.len(), 4);
    assert_eq!(slots[1].as_ref().unwrap(), &Value::BulkString(Bytes::from_static(b"zero")));
    assert_eq!(slots[2].as_ref().unwrap(), &Value::BulkString(Bytes::from_static(b"hi")));
    assert_eq!(slots[3].as_ref().unwrap(), &Value::Int(1));
    assert_eq!(raw.get("sc:k").wait().unwrap(), Some(Bytes::from_static(b"one")));

    // typed, with the script cached now
    let mut p = client.pipeline();
    script.key("k").arg("two").invoke(&p);
    p.get("k");
    let (old, now): (String, String) = p.query().wait().unwrap();
    assert_eq!((old.as_str(), now.as_str()), ("one", "two"));
}

#[test]
fn in_a_transaction_the_script_is_loaded_first() {
    let server = RedisServer::new();
    let (client, raw) = clients(&server);
    let script = Script::new(GET_AND_SET);
    raw.script_flush().wait().unwrap();
    // not loaded: NOSCRIPT in its slot (MULTI cannot retry it)
    let r = client
        .transaction(|tx| {
            script.key("k").arg("x").invoke(tx);
            tx.incr("n");
        })
        .wait()
        .unwrap();
    assert!(matches!(&r[0], Value::Error(e) if e.code() == "NOSCRIPT"), "{:?}", r[0]);
    assert_eq!(r[1], Value::Int(1));
    script.load(&client).wait().unwrap();
    let r = client
        .transaction(|tx| {
            script.key("k").arg("x").invoke(tx);
            tx.get("k");
        })
        .wait()
        .unwrap();
    assert_eq!(r, [Value::Nil, Value::BulkString(Bytes::from_static(b"x"))]);
}

#[test]
fn fcall_after_function_load() {
    let server = RedisServer::new();
    let (client, raw) = clients(&server);
    let library = "#!lua name=redpolltest\n\
                   redis.register_function('setget', function(keys, args) \
                   redis.call('SET', keys[1], args[1]); return redis.call('GET', keys[1]) end)\n\
                   redis.register_function{function_name='peek', \
                   callback=function(keys) return redis.call('GET', keys[1]) end, \
                   flags={'no-writes'}}";
    let name = client.function_load(library).wait().unwrap();
    assert_eq!(name, "redpolltest");
    let v: String = client.fcall("setget", ["f"]).arg("value").decode().wait().unwrap();
    assert_eq!(v, "value");
    assert_eq!(raw.get("sc:f").wait().unwrap(), Some(Bytes::from_static(b"value")), "prefixed");
    let v: String = client.fcall_ro("peek", ["f"]).decode().wait().unwrap();
    assert_eq!(v, "value");
    let mut p = client.pipeline();
    p.fcall("setget", ["g"]).arg("piped");
    p.fcall_ro("peek", ["g"]);
    let (a, b): (String, String) = p.query().wait().unwrap();
    assert_eq!((a.as_str(), b.as_str()), ("piped", "piped"));
}
