//! Pub/sub against a real redis-server: 100,000 messages in order (RESP2 and RESP3), pattern
//! and shard messages, partial and total unsubscribe, refusals, RESP3 pushes beside GETs on
//! one connection, a server restart (resubscribed, then messages again), the slow-consumer
//! bound and both of its policies, sync and async consumers side by side, and the I/O loop
//! serving others through a flood.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use redpoll::{Client, Error, Message, MessageKind, OnFull, Subscription};
use support::{RedisServer, Ticker};

const WAIT: Duration = Duration::from_secs(10);

/// The tests that flood a subscriber take turns: the ticker test measures whether the I/O
/// loop keeps serving, which a neighbouring flood on this 2-core machine would distort.
static FLOODS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn flood_turn() -> std::sync::MutexGuard<'static, ()> {
    FLOODS.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn client(server: &RedisServer, protocol: u8) -> Client {
    Client::builder().url(server.url()).protocol(protocol).build().unwrap()
}

/// The next message, within `WAIT`.
fn next(sub: &Subscription) -> Message {
    sub.next_timeout(WAIT).expect("a message within 10 s").expect("a message, not an error")
}

/// Publishes `count` messages `0`, `1`, … to `channel`, in pipelines of 1,000.
fn publish_numbers(publisher: &Client, channel: &str, count: u32) {
    let mut i = 0;
    while i < count {
        let mut p = publisher.pipeline();
        for _ in 0..1_000.min(count - i) {
            p.publish(channel, i).ignore();
            i += 1;
        }
        p.execute().wait().unwrap();
    }
}

fn numsub(client: &Client, channel: &str) -> i64 {
    let counts: Vec<(Bytes, i64)> = client.pubsub_numsub().channels(channel).wait().unwrap();
    counts[0].1
}

/// Waits until `f` holds (the server applies an unsubscribe when it reads it).
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < WAIT, "{what}: not within 10 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn receive_in_order(protocol: u8) {
    let _turn = flood_turn();
    let server = RedisServer::new();
    let subscriber = client(&server, protocol);
    let publisher = Client::open(&server.url()).unwrap();
    let sub = subscriber.subscribe(&["numbers"]).capacity(200_000).wait().unwrap();
    let n = 100_000;
    let publishing = std::thread::spawn(move || publish_numbers(&publisher, "numbers", n));
    for i in 0..n {
        let msg = next(&sub);
        assert_eq!(msg.kind, MessageKind::Message);
        assert_eq!(&msg.channel[..], b"numbers");
        assert_eq!(msg.payload, i.to_string().as_bytes(), "message {i} in order");
    }
    publishing.join().unwrap();
    assert_eq!(sub.dropped(), 0);
    assert!(sub.try_next().is_none(), "nothing more");
}

#[test]
fn resp2_receives_100_000_messages_in_order() {
    receive_in_order(2);
}

#[test]
fn resp3_receives_100_000_messages_in_order() {
    receive_in_order(3);
}

#[test]
fn pattern_and_shard_messages_carry_their_fields() {
    let server = RedisServer::new();
    let c = Client::open(&server.url()).unwrap();
    let psub = c.psubscribe(&["orders:*"]).wait().unwrap();
    let ssub = c.ssubscribe(&["shard:{1}"]).wait().unwrap();
    assert_eq!(c.publish("orders:eu", "42").wait().unwrap(), 1, "one receiver");
    let m = next(&psub);
    assert_eq!(m.kind, MessageKind::PMessage);
    assert_eq!(m.pattern.as_deref(), Some(&b"orders:*"[..]));
    assert_eq!((&m.channel[..], &m.payload[..]), (&b"orders:eu"[..], &b"42"[..]));
    assert_eq!(c.spublish("shard:{1}", "s").wait().unwrap(), 1);
    let m = next(&ssub);
    assert_eq!(m.kind, MessageKind::SMessage);
    assert_eq!((m.pattern, &m.channel[..], &m.payload[..]), (None, &b"shard:{1}"[..], &b"s"[..]));
    // Binary names and payloads are carried as they are.
    let bsub = c.subscribe(&[&b"bin\x00\xff"[..]]).wait().unwrap();
    c.publish(&b"bin\x00\xff"[..], &b"\r\n\x00"[..]).wait().unwrap();
    let m = next(&bsub);
    assert_eq!((&m.channel[..], &m.payload[..]), (&b"bin\x00\xff"[..], &b"\r\n\x00"[..]));
    let shards: Vec<Bytes> = c.pubsub_shardchannels().wait().unwrap();
    assert_eq!(shards, [Bytes::from_static(b"shard:{1}")]);
}

#[test]
fn unsubscribe_is_partial_and_unsubscribe_all_ends_the_stream() {
    for protocol in [2, 3] {
        let server = RedisServer::new();
        let c = client(&server, protocol);
        let sub = c.subscribe(&["a", "b"]).wait().unwrap();
        sub.psubscribe(&["p*"]).wait().unwrap();
        sub.unsubscribe(&["a"]).wait().unwrap();
        assert_eq!(numsub(&c, "a"), 0, "RESP{protocol}: a was unsubscribed on the server");
        assert_eq!(numsub(&c, "b"), 1);
        c.publish("a", "lost").wait().unwrap();
        c.publish("b", "kept").wait().unwrap();
        let m = next(&sub);
        assert_eq!((&m.channel[..], &m.payload[..]), (&b"b"[..], &b"kept"[..]), "RESP{protocol}");
        // The stream takes more after a partial unsubscribe.
        sub.subscribe(&["c"]).wait().unwrap();
        c.publish("c", "new").wait().unwrap();
        assert_eq!(&next(&sub).channel[..], b"c");
        c.publish("b", "buffered").wait().unwrap();
        eventually("the message is buffered", || sub.buffered() == 1);
        sub.unsubscribe_all().wait().unwrap();
        assert_eq!(&next(&sub).payload[..], b"buffered", "RESP{protocol}: read before the end");
        assert!(sub.iter().next().is_none(), "RESP{protocol}: the stream ended");
        assert!(sub.is_ended());
        let nums: i64 = c.pubsub_numpat().wait().unwrap();
        assert_eq!((numsub(&c, "b"), numsub(&c, "c"), nums), (0, 0, 0), "RESP{protocol}");
        let e = sub.subscribe(&["d"]).wait().unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "RESP{protocol}: {e}");
    }
}

#[test]
fn subscriptions_sharing_a_channel_each_get_every_message() {
    let server = RedisServer::new();
    let c = Client::open(&server.url()).unwrap();
    let one = c.subscribe(&["shared"]).wait().unwrap();
    let two = c.subscribe(&["shared", "own"]).wait().unwrap();
    assert_eq!(numsub(&c, "shared"), 1, "subscribed once on the client's connection");
    c.publish("shared", "x").wait().unwrap();
    assert_eq!(&next(&one).payload[..], b"x");
    assert_eq!(&next(&two).payload[..], b"x");
    one.unsubscribe(&["shared"]).wait().unwrap();
    assert_eq!(numsub(&c, "shared"), 1, "still held by the other subscription");
    drop(two);
    eventually("the dropped subscription's channels are unsubscribed", || {
        numsub(&c, "shared") == 0 && numsub(&c, "own") == 0
    });
    // With nothing subscribed the sweep closes the RESP2 subscriber connection.
    drop(one);
    eventually("only the shared connection is left", || {
        let list: String = c.cmd("CLIENT").arg("LIST").decode().wait().unwrap();
        list.lines().count() == 1
    });
}

#[test]
fn refusals_are_clear_and_nothing_is_sent() {
    let server = RedisServer::new();
    let c = Client::open(&server.url()).unwrap();
    let e = c.subscribe(&Vec::<&str>::new()).wait().unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e}");
    // The raw commands would turn a shared or dedicated connection into a subscriber.
    let e = c.cmd("SUBSCRIBE").arg("x").wait().unwrap_err();
    assert!(e.to_string().contains("client.subscribe"), "{e}");
    let conn = c.dedicated().wait().unwrap();
    let e = conn.cmd("SUBSCRIBE").arg("x").wait().unwrap_err();
    assert!(e.to_string().contains("client.subscribe"), "{e}");
    drop(conn);
    assert_eq!(numsub(&c, "x"), 0);
    // An ACL refusal comes back as the server's error, and the subscription is not made.
    let server = RedisServer::builder()
        .acl_user_rules("limited", Some("pw"), "on >pw ~* +@all &ok:*")
        .start();
    let url = format!("redis://limited:pw@{}", server.addr());
    for protocol in [2, 3] {
        let c = Client::builder().url(&url).protocol(protocol).build().unwrap();
        let e = c.subscribe(&["secret"]).wait().unwrap_err();
        assert_eq!(e.server_code(), Some("NOPERM"), "RESP{protocol}: {e}");
        let sub = c.subscribe(&["ok:1"]).wait().unwrap();
        let e = sub.subscribe(&["secret"]).wait().unwrap_err();
        assert_eq!(e.server_code(), Some("NOPERM"), "RESP{protocol}: {e}");
        c.publish("ok:1", "fine").wait().unwrap();
        assert_eq!(&next(&sub).payload[..], b"fine", "RESP{protocol}: the subscription goes on");
    }
}

#[test]
fn resp3_pushes_share_the_connection_with_gets() {
    let _turn = flood_turn();
    let server = RedisServer::new();
    let c = Client::builder().url(server.url()).protocol(3).client_name("r3").build().unwrap();
    let publisher = Client::open(&server.url()).unwrap();
    let sub = c.subscribe(&["events"]).capacity(100_000).wait().unwrap();
    let n = 20_000u32;
    let publishing = std::thread::spawn(move || publish_numbers(&publisher, "events", n));
    for i in 0..2_000u32 {
        c.set(format!("k{i}"), i).wait().unwrap();
        let v: Option<u32> = c.get(format!("k{i}")).decode().wait().unwrap();
        assert_eq!(v, Some(i), "a GET beside the messages gets its own reply");
    }
    publishing.join().unwrap();
    for i in 0..n {
        assert_eq!(next(&sub).payload, i.to_string().as_bytes());
    }
    let list: String = c.cmd("CLIENT").arg("LIST").decode().wait().unwrap();
    let mine = list.lines().filter(|l| l.contains("name=r3 ")).count();
    assert_eq!(mine, 1, "one connection for commands and messages: {list}");
}

#[test]
fn a_server_restart_is_announced_and_messages_flow_again() {
    for protocol in [2, 3] {
        let mut server = RedisServer::new();
        let c = client(&server, protocol);
        let sub = c.subscribe(&["ch"]).wait().unwrap();
        sub.psubscribe(&["pat:*"]).wait().unwrap();
        sub.ssubscribe(&["sh"]).wait().unwrap();
        c.publish("ch", "before").wait().unwrap();
        assert_eq!(&next(&sub).payload[..], b"before");
        server.restart();
        let m = next(&sub);
        assert_eq!(m.kind, MessageKind::Resubscribed, "RESP{protocol}: {m:?}");
        for (publish, channel) in [("PUBLISH", "ch"), ("PUBLISH", "pat:x"), ("SPUBLISH", "sh")] {
            let receivers: i64 = c.cmd(publish).arg(channel).arg("after").decode().wait().unwrap();
            assert_eq!(receivers, 1, "RESP{protocol}: {channel} subscribed again");
            let m = next(&sub);
            assert_eq!((&m.channel[..], &m.payload[..]), (channel.as_bytes(), &b"after"[..]));
        }
    }
}

#[test]
fn a_slow_consumer_loses_the_oldest_by_default_and_they_are_counted() {
    let _turn = flood_turn();
    let server = RedisServer::new();
    let c = Client::open(&server.url()).unwrap();
    let sub = c.subscribe(&["fast"]).capacity(100).wait().unwrap();
    publish_numbers(&c, "fast", 1_000);
    eventually("all 1,000 delivered or dropped", || sub.dropped() == 900);
    for i in 900..1_000 {
        assert_eq!(next(&sub).payload, i.to_string().as_bytes(), "the newest 100 are kept");
    }
    assert!(sub.try_next().is_none());
    assert_eq!(sub.buffered(), 0);
}

#[test]
fn a_slow_consumer_can_end_its_subscription_instead() {
    let _turn = flood_turn();
    let server = RedisServer::new();
    let c = Client::open(&server.url()).unwrap();
    let sub = c.subscribe(&["fast"]).capacity(100).on_full(OnFull::End).wait().unwrap();
    let other = c.subscribe(&["fast"]).capacity(10_000).wait().unwrap();
    publish_numbers(&c, "fast", 1_000);
    // Both sinks are fed in the same pass over each frame: once the other one holds all
    // 1,000, the small one has met its bound (reading it earlier would make room).
    eventually("all 1,000 delivered", || other.buffered() == 1_000);
    for i in 0..100 {
        assert_eq!(next(&sub).payload, i.to_string().as_bytes(), "what was buffered comes first");
    }
    let e = sub.next_timeout(WAIT).expect("the end").unwrap_err();
    assert!(matches!(e, Error::Overflow(_)), "{e}");
    assert!(sub.iter().next().is_none(), "then the stream is over");
    assert_eq!(sub.dropped(), 0);
    for i in 0..1_000 {
        assert_eq!(next(&other).payload, i.to_string().as_bytes(), "the other one is unaffected");
    }
    assert_eq!(numsub(&c, "fast"), 1);
}

#[test]
fn sync_and_async_consumers_side_by_side() {
    let server = RedisServer::new();
    let c = Client::open(&server.url()).unwrap();
    let sync_sub = c.subscribe(&["both"]).capacity(50_000).wait().unwrap();
    let mut async_sub = pollster::block_on(c.subscribe(&["both"]).capacity(50_000)).unwrap();
    let n = 20_000u32;
    let sync_reader = std::thread::spawn(move || {
        for i in 0..n {
            assert_eq!(next(&sync_sub).payload, i.to_string().as_bytes());
        }
    });
    let async_reader = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async {
            for i in 0..n {
                let m = tokio::time::timeout(WAIT, async_sub.next()).await.unwrap();
                assert_eq!(m.unwrap().unwrap().payload, i.to_string().as_bytes());
            }
            async_sub.unsubscribe_all().await.unwrap();
            assert!(async_sub.next().await.is_none());
        });
    });
    publish_numbers(&c, "both", n);
    sync_reader.join().unwrap();
    async_reader.join().unwrap();
}

#[test]
fn the_loop_keeps_serving_while_a_subscriber_is_flooded() {
    let _turn = flood_turn();
    let server = RedisServer::new();
    let c = Client::open(&server.url()).unwrap();
    let sub = c.subscribe(&["flood"]).capacity(1_000).wait().unwrap();
    let ticker = Ticker::start();
    let n = 200_000u32;
    let publisher = Client::open(&server.url()).unwrap();
    let publishing = std::thread::spawn(move || publish_numbers(&publisher, "flood", n));
    // A consumer slower than the flood: the bound holds and the loop goes on serving.
    let mut read = 0u64;
    let start = Instant::now();
    while read + sub.dropped() < u64::from(n) && start.elapsed() < Duration::from_secs(60) {
        if sub.next_timeout(Duration::from_millis(100)).is_some() {
            read += 1;
            if read % 1_000 == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
    publishing.join().unwrap();
    ticker.stop().assert_kept_up("a subscriber flooded with 200,000 messages");
    println!("flood: {read} read, {} dropped, never more than 1,000 buffered", sub.dropped());
    assert_eq!(read + sub.dropped(), u64::from(n));
}
