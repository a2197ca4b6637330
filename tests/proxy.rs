//! Tests of the fault-injection proxy (`tests/support/proxy.rs`) with a real redis-server
//! behind it and raw sockets in front: the client under test is not involved.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::*;

const WAIT: Duration = Duration::from_secs(5);

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn raw(proxy: &FaultProxy) -> RawConn {
    RawConn::connect_tcp(&proxy.addr()).expect("connect through the proxy")
}

/// Reads until EOF (or an error) and returns what came, with the error kind if any.
fn read_to_close(s: &mut TcpStream) -> (Vec<u8>, Option<ErrorKind>) {
    let mut out = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Some(e.kind())),
        }
    }
}

fn wait_for(timeout: Duration, cond: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while !cond() {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
    true
}

/// A key no other test (or earlier run) uses.
fn unique_key(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{tag}:{nanos}:{}", N.fetch_add(1, Ordering::Relaxed))
}

/// Threads of this process whose name starts with `prefix`.
fn threads_named(prefix: &str) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return 0 };
    dir.filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

fn clients_on(server: &RedisServer) -> usize {
    let list = server.raw_cmd(&["CLIENT", "LIST"]);
    // Minus the connection that asks.
    list.expect_str().lines().count() - 1
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 23) as u8).collect()
}

#[test]
fn ping_round_trips_and_counters_move() {
    fn shareable<T: Send + Sync>() {}
    shareable::<FaultProxy>(); // tests may drive faults from another thread
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    assert_ne!(proxy.port(), server.port());
    assert_eq!(proxy.addr(), format!("127.0.0.1:{}", proxy.port()));
    assert_eq!(proxy.url(), format!("redis://127.0.0.1:{}", proxy.port()));
    assert_eq!((proxy.accepted(), proxy.connections()), (0, 0));

    let mut c = raw(&proxy);
    assert_eq!(c.cmd(&["PING"]), RawReply::Simple("PONG".into()));
    // *1\r\n$4\r\nPING\r\n up, +PONG\r\n down.
    assert!(proxy.wait_until(WAIT, |p| p.bytes_up() == 14 && p.bytes_down() == 7));
    assert_eq!((proxy.accepted(), proxy.connections()), (1, 1));
    assert!(proxy.writes() >= 2);
    assert_eq!(proxy.held(), 0);

    c.cmd(&["SET", "k", "through the proxy"]).expect_ok();
    assert_eq!(server.raw_cmd(&["GET", "k"]).expect_str(), "through the proxy");

    let mut c2 = raw(&proxy);
    assert_eq!(c2.cmd(&["GET", "k"]).expect_str(), "through the proxy");
    assert!(proxy.wait_until(WAIT, |p| p.accepted() == 2 && p.connections() == 2));
    drop(c);
    drop(c2);
    assert!(proxy.wait_until(WAIT, |p| p.connections() == 0), "closed connections still counted");
    assert_eq!(proxy.accepted(), 2);
    assert_eq!(proxy.cuts(), 0);
    assert!(wait_for(WAIT, || clients_on(&server) == 0), "the server side was not closed");
}

#[test]
fn latency_delays_each_direction_and_zero_releases_held_chunks() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let mut c = raw(&proxy);
    c.cmd(&["PING"]);

    let latency = Duration::from_millis(60);
    proxy.set_latency(latency);
    assert_eq!(proxy.latency(), latency);
    let t = Instant::now();
    assert_eq!(c.cmd(&["PING"]), RawReply::Simple("PONG".into()));
    let rtt = t.elapsed();
    assert!(rtt >= 2 * latency, "round trip {rtt:?} < twice the latency {latency:?}");

    // Commands sent at different times keep their order.
    for _ in 0..3 {
        c.send(&["INCR", "n"]).unwrap();
        thread::sleep(Duration::from_millis(5));
    }
    let got: Vec<i64> = (0..3).map(|_| c.read_reply().unwrap().expect_int()).collect();
    assert_eq!(got, [1, 2, 3]);

    // A chunk held under a long latency goes out as soon as latency is turned off.
    proxy.set_latency(Duration::from_secs(60));
    c.send(&["PING"]).unwrap();
    assert!(proxy.wait_until(WAIT, |p| p.held() == 14), "the PING should be held");
    proxy.set_latency(Duration::ZERO);
    assert_eq!(c.read_reply().unwrap(), RawReply::Simple("PONG".into()));
}

#[test]
fn cut_all_closes_both_sides_and_new_connections_work() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let mut a = connect(&proxy.addr());
    let mut b = raw(&proxy);
    a.write_all(&encode_command(&["PING"])).unwrap();
    let mut pong = [0u8; 7];
    a.read_exact(&mut pong).unwrap();
    assert_eq!(&pong, b"+PONG\r\n");
    b.cmd(&["PING"]);
    assert_eq!(clients_on(&server), 2);

    proxy.cut_all();
    assert_eq!(read_to_close(&mut a), (Vec::new(), None), "expected a plain EOF");
    let err = b.read_reply().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert!(proxy.wait_until(WAIT, |p| p.connections() == 0));
    assert_eq!(proxy.cuts(), 2);
    assert!(wait_for(WAIT, || clients_on(&server) == 0), "the server side was not closed");

    let mut c = raw(&proxy);
    assert_eq!(c.cmd(&["PING"]), RawReply::Simple("PONG".into()));
    assert_eq!(proxy.connections(), 1);
    assert_eq!(proxy.accepted(), 3);
}

#[test]
fn reset_all_gives_the_client_a_reset() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let mut a = connect(&proxy.addr());
    a.write_all(&encode_command(&["PING"])).unwrap();
    let mut pong = [0u8; 7];
    a.read_exact(&mut pong).unwrap();

    proxy.reset_all();
    let (bytes, err) = read_to_close(&mut a);
    assert!(bytes.is_empty());
    assert_eq!(err, Some(ErrorKind::ConnectionReset));
    assert!(proxy.wait_until(WAIT, |p| p.connections() == 0 && p.cuts() == 1));
    assert!(wait_for(WAIT, || clients_on(&server) == 0), "the server side was not closed");
    assert_eq!(raw(&proxy).cmd(&["PING"]), RawReply::Simple("PONG".into()));
}

#[test]
fn cut_after_upstream_bytes_delivers_exactly_n_bytes_then_eof_once() {
    let server = RedisServer::new();
    let value = pattern(1024 * 1024);
    server.raw_command(&[b"SET", b"big", &value]).expect_ok();
    let mut reply = format!("${}\r\n", value.len()).into_bytes();
    reply.extend_from_slice(&value);
    reply.extend_from_slice(b"\r\n");

    let proxy = FaultProxy::start(&server.addr());
    let mut idle = raw(&proxy);
    idle.cmd(&["PING"]);
    let mut s = connect(&proxy.addr());
    // Traffic before arming does not count.
    s.write_all(&encode_command(&["PING"])).unwrap();
    let mut pong = [0u8; 7];
    s.read_exact(&mut pong).unwrap();

    let n = 100_000;
    proxy.cut_after_upstream_bytes(n);
    s.write_all(&encode_command(&["GET", "big"])).unwrap();
    let (got, err) = read_to_close(&mut s);
    assert_eq!(err, None, "expected EOF after the cut");
    assert_eq!(got.len(), n);
    assert!(got == reply[..n], "the bytes before the cut differ from the reply");
    assert!(proxy.wait_until(WAIT, |p| p.cuts() == 1 && p.connections() == 1));

    // One shot: the other connection gets the whole reply afterwards.
    assert_eq!(idle.command(&[b"GET", b"big"]).as_bytes(), Some(&value[..]));
    assert_eq!(proxy.cuts(), 1);

    // n == 0: cut before forwarding anything of the next reply.
    proxy.cut_after_upstream_bytes(0);
    let err = idle.try_command(&["PING"]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert!(proxy.wait_until(WAIT, |p| p.cuts() == 2 && p.connections() == 0));
}

#[test]
fn cut_after_client_bytes_lets_the_server_see_exactly_n_bytes() {
    let fake = FakeServer::start(Script::never_answer());
    let proxy = FaultProxy::start(&fake.addr());
    let mut s = connect(&proxy.addr());
    let first = encode_command(&["PING"]);
    s.write_all(&first).unwrap();
    assert!(wait_for(WAIT, || fake.received(0).len() == first.len()));

    let cmd = encode_command(&["SET", "some-key", "some value of some length"]);
    let n = cmd.len() - 7;
    proxy.cut_after_client_bytes(n);
    s.write_all(&cmd).unwrap();
    assert_eq!(read_to_close(&mut s), (Vec::new(), None));
    assert!(proxy.wait_until(WAIT, |p| p.connections() == 0 && p.cuts() == 1));
    thread::sleep(Duration::from_millis(50)); // anything more would have arrived by now
    let mut expected = first;
    expected.extend_from_slice(&cmd[..n]);
    assert_eq!(fake.received(0), expected);
}

#[test]
fn cut_inside_a_command_means_it_never_runs_and_after_it_maybe_ran() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());

    // Cut inside the command: the server discards the partial request.
    let key = unique_key("cut-inside");
    let cmd = encode_command(&["SET", key.as_str(), "value"]);
    proxy.cut_after_client_bytes(cmd.len() - 3);
    let mut s = connect(&proxy.addr());
    s.write_all(&cmd).unwrap();
    assert_eq!(read_to_close(&mut s), (Vec::new(), None));
    assert!(wait_for(WAIT, || clients_on(&server) == 0));
    assert_eq!(server.raw_cmd(&["EXISTS", key.as_str()]).expect_int(), 0);

    // Cut right after the whole command: it runs, and the client never sees the reply.
    let key = unique_key("cut-after");
    let cmd = encode_command(&["SET", key.as_str(), "value"]);
    proxy.cut_after_client_bytes(cmd.len());
    let mut s = connect(&proxy.addr());
    s.write_all(&cmd).unwrap();
    assert_eq!(read_to_close(&mut s), (Vec::new(), None));
    assert!(wait_for(WAIT, || server.raw_cmd(&["EXISTS", key.as_str()]).expect_int() == 1));
    assert_eq!(proxy.cuts(), 2);
}

#[test]
fn blackhole_stalls_old_and_new_connections_until_released() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let mut a = raw(&proxy);
    a.cmd(&["PING"]);

    proxy.blackhole(true);
    a.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    a.send(&["PING"]).unwrap();
    let err = a.read_reply().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut), "{err}");

    // A new connection is accepted (and stays open) but stalls too.
    let mut b = raw(&proxy);
    b.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    b.send(&["ECHO", "held"]).unwrap();
    let err = b.read_reply().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut), "{err}");
    assert_eq!(proxy.connections(), 2);
    assert_eq!(proxy.bytes_up(), 14, "nothing may be forwarded while blackholed");

    proxy.blackhole(false);
    a.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(a.read_reply().unwrap(), RawReply::Simple("PONG".into()));
    assert_eq!(b.read_reply().unwrap().expect_str(), "held");
    assert_eq!(a.cmd(&["PING"]), RawReply::Simple("PONG".into()));
}

#[test]
fn blackhole_holds_a_bounded_amount_and_releases_it_in_order() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let value = pattern(32 * 1024 * 1024);
    let cmd = encode_command(&[&b"SET"[..], b"huge", &value]);
    let mut s = connect(&proxy.addr());
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    proxy.blackhole(true);

    let mut writer = s.try_clone().unwrap();
    let sender = thread::spawn(move || writer.write_all(&cmd));
    let cap = PROXY_MAX_HELD_PER_DIRECTION;
    assert!(proxy.wait_until(WAIT, |p| p.held() >= cap), "held only {}", proxy.held());
    thread::sleep(Duration::from_millis(100));
    assert!(proxy.held() <= cap + 64 * 1024, "held {} > cap {cap}", proxy.held());
    assert!(!sender.is_finished(), "the sender should feel backpressure");
    assert_eq!(proxy.bytes_up(), 0);

    proxy.blackhole(false);
    sender.join().unwrap().unwrap();
    let mut ok = [0u8; 5];
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.read_exact(&mut ok).unwrap();
    assert_eq!(&ok, b"+OK\r\n");
    assert_eq!(server.raw_cmd(&["STRLEN", "huge"]).expect_int(), value.len() as i64);
    let digest = server.raw_cmd(&["GETRANGE", "huge", "-5", "-1"]);
    assert_eq!(digest.as_bytes(), Some(&value[value.len() - 5..]));
    assert!(proxy.wait_until(WAIT, |p| p.held() == 0));
}

#[test]
fn refuse_fails_new_connects_fast_and_keeps_the_port() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let mut open = raw(&proxy);
    open.cmd(&["PING"]);
    let addr: SocketAddr = proxy.addr().parse().unwrap();

    proxy.refuse(true);
    proxy.refuse(true); // idempotent
    let err = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    // The port stays taken.
    let other = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let err = other.bind(&addr.into()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
    // Open connections are not touched.
    assert_eq!(open.cmd(&["PING"]), RawReply::Simple("PONG".into()));
    assert_eq!(proxy.accepted(), 1);

    proxy.refuse(false);
    let mut c = raw(&proxy);
    assert_eq!(c.cmd(&["PING"]), RawReply::Simple("PONG".into()));
    assert_eq!(proxy.accepted(), 2);
}

#[test]
fn one_byte_at_a_time_round_trips_a_multi_kb_value() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let mut c = raw(&proxy);
    c.cmd(&["PING"]);
    assert!(proxy.wait_until(WAIT, |p| p.bytes_down() == 7));
    let total = |p: &FaultProxy| p.bytes_up() + p.bytes_down();

    proxy.one_byte_at_a_time(true);
    let (w0, b0) = (proxy.writes(), total(&proxy));
    let value = pattern(8 * 1024 + 3);
    let set = encode_command(&[&b"SET"[..], b"v", &value]);
    let get = encode_command(&["GET", "v"]);
    c.command(&[b"SET", b"v", &value]).expect_ok();
    assert_eq!(c.command(&[b"GET", b"v"]).as_bytes(), Some(&value[..]));
    let reply_len = format!("${}\r\n", value.len()).len() + value.len() + 2;
    let moved = (set.len() + 5 + get.len() + reply_len) as u64;
    assert!(proxy.wait_until(WAIT, |p| total(p) - b0 == moved));
    assert_eq!(proxy.writes() - w0, moved, "not one write per byte");

    proxy.one_byte_at_a_time(false);
    let (w1, b1) = (proxy.writes(), total(&proxy));
    assert_eq!(c.command(&[b"GET", b"v"]).as_bytes(), Some(&value[..]));
    let moved = (get.len() + reply_len) as u64;
    assert!(proxy.wait_until(WAIT, |p| total(p) - b1 == moved));
    assert!(proxy.writes() - w1 < moved / 100, "still writing byte by byte");
}

#[test]
fn upstream_down_closes_new_connections_and_upstream_can_change() {
    let mut server = RedisServer::new();
    let other = RedisServer::new();
    server.raw_cmd(&["SET", "who", "first"]).expect_ok();
    other.raw_cmd(&["SET", "who", "second"]).expect_ok();
    let proxy = FaultProxy::start(&server.addr());
    let mut old = raw(&proxy);
    assert_eq!(old.cmd(&["GET", "who"]).expect_str(), "first");

    proxy.set_upstream(&other.addr());
    assert_eq!(raw(&proxy).cmd(&["GET", "who"]).expect_str(), "second");
    assert_eq!(old.cmd(&["GET", "who"]).expect_str(), "first", "live connections keep theirs");

    proxy.set_upstream(&server.addr());
    drop(old);
    server.stop();
    let mut s = connect(&proxy.addr());
    let (bytes, _) = read_to_close(&mut s);
    assert!(bytes.is_empty());
    assert!(proxy.wait_until(WAIT, |p| p.connections() == 0));

    server.start_again();
    assert_eq!(raw(&proxy).cmd(&["PING"]), RawReply::Simple("PONG".into()));
}

#[test]
fn heal_clears_every_fault() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    proxy.set_latency(Duration::from_secs(60));
    proxy.blackhole(true);
    proxy.one_byte_at_a_time(true);
    proxy.cut_after_client_bytes(0);
    proxy.cut_after_upstream_bytes(0);
    proxy.refuse(true);

    proxy.heal();
    assert_eq!(proxy.latency(), Duration::ZERO);
    let mut c = raw(&proxy);
    let value = pattern(4096);
    c.command(&[b"SET", b"v", &value]).expect_ok();
    assert_eq!(c.command(&[b"GET", b"v"]).as_bytes(), Some(&value[..]));
    assert_eq!(proxy.cuts(), 0);
    assert!(proxy.writes() < 100, "one-byte mode still on: {} writes", proxy.writes());
}

#[test]
fn drop_ends_every_thread_and_closes_the_port() {
    let server = RedisServer::new();
    let proxy = FaultProxy::start(&server.addr());
    let prefix = format!("fp{}-", proxy.port());
    let addr: SocketAddr = proxy.addr().parse().unwrap();
    let mut a = connect(&proxy.addr());
    let mut b = raw(&proxy);
    b.cmd(&["PING"]);
    // Held bytes and a stall must not keep drop waiting.
    proxy.set_latency(Duration::from_secs(60));
    a.write_all(&encode_command(&["PING"])).unwrap();
    assert!(proxy.wait_until(WAIT, |p| p.held() == 14));
    proxy.blackhole(true);
    assert!(wait_for(WAIT, || threads_named(&prefix) == 3), "acceptor + 2 connections");

    drop(proxy);
    assert!(
        wait_for(Duration::from_millis(100), || threads_named(&prefix) == 0),
        "{} proxy threads left after drop",
        threads_named(&prefix)
    );
    assert_eq!(read_to_close(&mut a).0, Vec::<u8>::new());
    let err = b.try_command(&["PING"]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset), "{err}");
    let err = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}
