//! Tests of the test harness itself (`tests/support/`), over raw sockets: the client under
//! test is not involved.

mod support;

use std::ffi::OsStr;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use support::*;

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Reads until EOF (or error) and returns what came, with the error kind if any.
fn read_to_close(s: &mut TcpStream) -> (Vec<u8>, Option<ErrorKind>) {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Some(e.kind())),
        }
    }
}

#[test]
fn server_starts_and_answers_ping() {
    let server = RedisServer::new();
    assert!(server.is_running());
    assert_ne!(server.port(), 6379, "tests never use the default port");
    assert_eq!(server.addr(), format!("127.0.0.1:{}", server.port()));
    assert_eq!(server.url(), format!("redis://127.0.0.1:{}", server.port()));
    assert_eq!(server.raw_cmd(&["PING"]), RawReply::Simple("PONG".into()));
    assert!(server.answers_ping());

    // The options the harness promises: no persistence, its own dir, loopback only.
    let mut c = server.raw();
    let save = c.cmd(&["CONFIG", "GET", "save"]);
    assert_eq!(save.expect_array()[1].expect_str(), "");
    let aof = c.cmd(&["CONFIG", "GET", "appendonly"]);
    assert_eq!(aof.expect_array()[1].expect_str(), "no");
    let dir = c.cmd(&["CONFIG", "GET", "dir"]);
    assert_eq!(Path::new(dir.expect_array()[1].expect_str()), server.dir());
    let bind = c.cmd(&["CONFIG", "GET", "bind"]);
    assert_eq!(bind.expect_array()[1].expect_str(), "127.0.0.1");
    assert!(server.log_path().exists());
    assert!(server.log_tail(50).contains("Ready to accept connections"));
}

#[test]
fn raw_helper_round_trips_values_and_debug_is_enabled() {
    let server = RedisServer::new();
    let mut c = server.raw();
    c.cmd(&["SET", "k", "v\r\n with CRLF"]).expect_ok();
    assert_eq!(c.command(&[b"GET", b"k"]).as_bytes(), Some(&b"v\r\n with CRLF"[..]));
    assert_eq!(c.cmd(&["GET", "missing"]), RawReply::Nil);
    assert_eq!(c.cmd(&["INCRBY", "n", "41"]).expect_int(), 41);
    assert_eq!(server.raw_command(&[b"INCR", b"n"]), RawReply::Int(42));
    assert_eq!(server.raw_cmd(&["GET", "n"]).expect_int(), 42);
    c.cmd(&["RPUSH", "l", "a", "b"]);
    let l = c.cmd(&["LRANGE", "l", "0", "-1"]);
    assert_eq!(
        l,
        RawReply::Array(vec![RawReply::Bulk(b"a".to_vec()), RawReply::Bulk(b"b".to_vec())])
    );
    assert_eq!(c.cmd(&["INCR", "l"]).error_code(), Some("WRONGTYPE"));
    // DEBUG is enabled on 7.x (tests use DEBUG SLEEP to make the server slow).
    let t = Instant::now();
    c.cmd(&["DEBUG", "SLEEP", "0.05"]).expect_ok();
    assert!(t.elapsed() >= Duration::from_millis(50));
    // RESP3 through the raw parser.
    let hello = c.cmd(&["HELLO", "3"]);
    assert!(matches!(hello, RawReply::Map(_)), "{hello:?}");
    c.cmd(&["HSET", "h", "f", "1"]);
    assert_eq!(
        c.cmd(&["HGETALL", "h"]),
        RawReply::Map(vec![(RawReply::Bulk(b"f".to_vec()), RawReply::Bulk(b"1".to_vec()))])
    );
    assert_eq!(c.cmd(&["GET", "missing"]), RawReply::Nil);
}

#[test]
fn raw_parser_reads_every_resp3_type() {
    let bytes: &[u8] =
        b"+OK\r\n-ERR bad\r\n:-7\r\n$4\r\na\r\nb\r\n$-1\r\n*-1\r\n_\r\n,1.5\r\n#t\r\n\
        (123456789012345678901234567890\r\n=7\r\ntxt:abc\r\n%1\r\n+k\r\n:1\r\n~1\r\n:2\r\n\
        >2\r\n+message\r\n$1\r\nx\r\n|1\r\n+ttl\r\n:3\r\n:4\r\n!5\r\nERR x\r\n";
    let all = parse_all(bytes).unwrap();
    assert_eq!(
        all,
        vec![
            RawReply::Simple("OK".into()),
            RawReply::Error("ERR bad".into()),
            RawReply::Int(-7),
            RawReply::Bulk(b"a\r\nb".to_vec()),
            RawReply::Nil,
            RawReply::Nil,
            RawReply::Nil,
            RawReply::Double(1.5),
            RawReply::Boolean(true),
            RawReply::BigNumber("123456789012345678901234567890".into()),
            RawReply::Verbatim("txt".into(), b"abc".to_vec()),
            RawReply::Map(vec![(RawReply::Simple("k".into()), RawReply::Int(1))]),
            RawReply::Set(vec![RawReply::Int(2)]),
            RawReply::Push(vec![RawReply::Simple("message".into()), RawReply::Bulk(b"x".to_vec())]),
            RawReply::Attribute(
                vec![(RawReply::Simple("ttl".into()), RawReply::Int(3))],
                Box::new(RawReply::Int(4))
            ),
            RawReply::Error("ERR x".into()),
        ]
    );
    // Partial input is "need more", garbage is an error, and nothing panics.
    assert_eq!(parse_one(b"$5\r\nab").unwrap_err().kind(), ErrorKind::UnexpectedEof);
    assert_eq!(parse_one(b"*2\r\n:1\r\n").unwrap_err().kind(), ErrorKind::UnexpectedEof);
    assert_eq!(parse_one(b"?what\r\n").unwrap_err().kind(), ErrorKind::InvalidData);
    assert_eq!(parse_one(b"$-5\r\n").unwrap_err().kind(), ErrorKind::InvalidData);
    assert_eq!(parse_one(b":1\r\n:2\r\n").unwrap(), (RawReply::Int(1), 4));
    assert_eq!(
        encode_command(&["SET", "k", ""]),
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n".to_vec()
    );
}

#[test]
fn requirepass_refuses_commands_before_auth_and_accepts_after() {
    let server = RedisServer::builder().requirepass("s3cret").start();
    assert_eq!(server.password(), Some("s3cret"));
    let mut c = server.raw_unauthenticated();
    assert_eq!(c.cmd(&["GET", "k"]).error_code(), Some("NOAUTH"));
    assert!(c.cmd(&["AUTH", "wrong"]).as_error().is_some());
    c.cmd(&["AUTH", "s3cret"]).expect_ok();
    c.cmd(&["SET", "k", "1"]).expect_ok();
    // The raw helper authenticates by itself.
    assert_eq!(server.raw_cmd(&["GET", "k"]).expect_int(), 1);
}

#[test]
fn acl_user_authenticates_and_wrong_password_is_wrongpass() {
    let server = RedisServer::builder().acl_user("ada", "lovelace").start();
    let mut c = server.raw_unauthenticated();
    assert_eq!(c.cmd(&["AUTH", "ada", "nope"]).error_code(), Some("WRONGPASS"));
    c.cmd(&["AUTH", "ada", "lovelace"]).expect_ok();
    assert_eq!(c.cmd(&["ACL", "WHOAMI"]).expect_str(), "ada");
    c.cmd(&["SET", "k", "v"]).expect_ok();
    // `default` stays usable unless asked otherwise.
    let mut d = server.raw_unauthenticated();
    assert_eq!(d.cmd(&["GET", "k"]).expect_str(), "v");
    assert_eq!(d.cmd(&["ACL", "WHOAMI"]).expect_str(), "default");
}

#[test]
fn default_user_off_requires_the_acl_user() {
    let server = RedisServer::builder().acl_user("ada", "lovelace").default_user_off().start();
    let mut c = server.raw_unauthenticated();
    assert_eq!(c.cmd(&["PING"]).error_code(), Some("NOAUTH"));
    assert!(c.cmd(&["AUTH", "default", ""]).as_error().is_some());
    // The raw helper authenticates as the ACL user.
    assert_eq!(server.raw_cmd(&["ACL", "WHOAMI"]).expect_str(), "ada");
}

#[test]
fn restricted_acl_user_gets_noperm() {
    let server = RedisServer::builder()
        .acl_user_rules("reader", Some("pw"), "on >pw ~* +get +auth +ping")
        .start();
    let mut c = server.raw_unauthenticated();
    c.cmd(&["AUTH", "reader", "pw"]).expect_ok();
    assert_eq!(c.cmd(&["GET", "k"]), RawReply::Nil);
    assert_eq!(c.cmd(&["SET", "k", "v"]).error_code(), Some("NOPERM"));
}

#[test]
fn unix_socket_answers_with_mode_700() {
    let server = RedisServer::builder().unix_socket().start();
    let path = server.unix_path();
    assert!(path.starts_with(server.dir()));
    assert_eq!(server.unix_url(), format!("redis+unix://{}", path.display()));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let mut c = RawConn::connect_unix(&path).unwrap();
    assert_eq!(c.cmd(&["PING"]), RawReply::Simple("PONG".into()));
    // TCP still works alongside.
    assert!(server.answers_ping());
}

#[test]
fn extra_args_reach_the_server() {
    let server = RedisServer::builder().arg("maxmemory", "1mb").arg("--databases", "4").start();
    let mm = server.raw_cmd(&["CONFIG", "GET", "maxmemory"]);
    assert_eq!(mm.expect_array()[1].expect_str(), "1048576");
    let mut c = server.raw();
    c.cmd(&["SELECT", "3"]).expect_ok();
    assert!(c.cmd(&["SELECT", "4"]).as_error().is_some());
}

#[test]
fn restart_keeps_the_port_and_loses_the_data() {
    let mut server = RedisServer::builder().unix_socket().start();
    let port = server.port();
    let pid = server.pid();
    server.raw_cmd(&["SET", "before", "1"]).expect_ok();
    server.restart();
    assert_eq!(server.port(), port);
    assert_ne!(server.pid(), pid);
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "old process reaped");
    assert_eq!(server.raw_cmd(&["GET", "before"]), RawReply::Nil);
    assert!(RawConn::connect_unix(&server.unix_path()).is_ok());
}

#[test]
fn stop_holds_the_server_down_until_start_again() {
    let mut server = RedisServer::new();
    let addr = server.addr();
    let mut held = server.raw();
    server.stop();
    assert!(!server.is_running());
    assert!(!server.answers_ping());
    assert_eq!(TcpStream::connect(&addr).unwrap_err().kind(), ErrorKind::ConnectionRefused);
    // A connection open at the time of the kill sees the close.
    assert!(held.try_command(&["PING"]).is_err());
    server.stop(); // idempotent
    server.start_again();
    assert!(server.is_running());
    assert_eq!(server.addr(), addr);
    assert!(server.answers_ping());
}

#[test]
fn drop_kills_the_process_and_removes_its_dir() {
    let server = RedisServer::builder().unix_socket().start();
    let pid = server.pid();
    let dir = server.dir().to_path_buf();
    let addr = server.addr();
    let proc_dir = format!("/proc/{pid}");
    assert!(Path::new(&proc_dir).exists());
    drop(server);
    // Killed and reaped: no process, not even a zombie, under that pid.
    assert!(!Path::new(&proc_dir).exists(), "pid {pid} still present after drop");
    assert!(!dir.exists(), "temp dir {} left behind", dir.display());
    assert!(TcpStream::connect(&addr).is_err());
}

#[test]
fn many_servers_in_parallel_get_distinct_ports() {
    let handles: Vec<_> = (0..6).map(|_| std::thread::spawn(RedisServer::new)).collect();
    let servers: Vec<RedisServer> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut ports: Vec<u16> = servers.iter().map(RedisServer::port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), servers.len());
    for s in &servers {
        // Each port is answered by that server's own process.
        let info = s.raw_cmd(&["INFO", "server"]);
        assert!(info.expect_str().contains(&format!("process_id:{}", s.pid())));
        s.raw_cmd(&["SET", "owner", &s.port().to_string()]).expect_ok();
    }
    for s in &servers {
        assert_eq!(s.raw_cmd(&["GET", "owner"]).expect_int(), i64::from(s.port()));
    }
}

#[test]
fn missing_redis_server_gives_the_install_hint() {
    let err = find_redis_server_in(OsStr::new("/nonexistent-dir-for-redpoll")).unwrap_err();
    assert!(err.contains("redis-server not found on PATH"), "{err}");
    assert!(err.contains("sudo apt-get install redis-server redis-tools"), "{err}");
    let found = find_redis_server_in(&std::env::var_os("PATH").unwrap()).unwrap();
    assert_eq!(found, redis_server_path());
    assert!(redis_version() >= (6, 0, 0), "{:?}", redis_version());
}

#[test]
fn temp_dirs_are_distinct_and_removed_on_drop() {
    let a = TempDir::new();
    let b = TempDir::new();
    assert_ne!(a.path(), b.path());
    let name = a.path().file_name().unwrap().to_str().unwrap().to_owned();
    assert!(name.starts_with(&format!("redpoll-test-{}-", std::process::id())), "{name}");
    std::fs::write(a.join("f"), b"x").unwrap();
    let path = a.path().to_path_buf();
    drop(a);
    assert!(!path.exists());
    assert!(b.path().exists());
}

#[test]
fn fake_server_replies_with_its_script() {
    let fake = FakeServer::start(Script::reply_once(b"+HELLO\r\n"));
    let mut s = connect(&fake.addr());
    s.write_all(&encode_command(&["PING"])).unwrap();
    let mut buf = [0u8; 8];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+HELLO\r\n");
    // After the script: silence, not a close.
    s.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let err = s.read(&mut buf).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut), "{err}");
    assert_eq!(fake.accepted(), 1);
    assert_eq!(fake.received_commands(0), vec![vec!["PING".to_owned()]]);
    assert_eq!(fake.url(), format!("redis://127.0.0.1:{}", fake.port()));
}

#[test]
fn fake_server_waits_for_a_whole_request_before_replying() {
    let fake = FakeServer::start(Script::reply_once(b":1\r\n"));
    let mut s = connect(&fake.addr());
    let req = encode_command(&["GET", "key"]);
    s.write_all(&req[..7]).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut buf = [0u8; 4];
    assert!(s.read(&mut buf).is_err(), "replied to half a request");
    s.write_all(&req[7..]).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b":1\r\n");
}

#[test]
fn fake_server_garbage_close_after_and_reset() {
    let fake = FakeServer::start_each(vec![
        Script::garbage(),
        Script::close_after(b"$10\r\n0123456789\r\n", 7),
        Script::new().read().reset(),
    ]);
    let mut g = connect(&fake.addr());
    g.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 4];
    g.read_exact(&mut buf).unwrap();
    assert!(parse_one(&buf).is_err() || buf[0] == 0);

    let mut c = connect(&fake.addr());
    c.write_all(&encode_command(&["GET", "k"])).unwrap();
    let (got, err) = read_to_close(&mut c);
    assert_eq!(got, b"$10\r\n01");
    assert_eq!(err, None, "a clean close");

    let mut r = connect(&fake.addr());
    r.write_all(b"x").unwrap();
    let (got, err) = read_to_close(&mut r);
    assert!(got.is_empty());
    assert_eq!(err, Some(ErrorKind::ConnectionReset));
    assert_eq!(fake.accepted(), 3);
}

#[test]
fn fake_server_serves_with_a_handler_and_later_connections_reuse_the_last_script() {
    let fake = FakeServer::start(Script::new().serve(|args| match args[0].as_slice() {
        b"PING" => Some(b"+PONG\r\n".to_vec()),
        b"QUIT" => None,
        _ => Some(b"-ERR unknown\r\n".to_vec()),
    }));
    for _ in 0..2 {
        let mut c = RawConn::connect_tcp(&fake.addr()).unwrap();
        assert_eq!(c.cmd(&["PING"]), RawReply::Simple("PONG".into()));
        assert_eq!(c.cmd(&["GET", "k"]).error_code(), Some("ERR"));
        c.send(&["QUIT"]).unwrap();
        assert_eq!(c.read_reply().unwrap_err().kind(), ErrorKind::UnexpectedEof);
    }
    assert!(fake.wait_for_connections(2, Duration::from_secs(1)));
    assert_eq!(fake.received_commands(1)[1], vec!["GET".to_owned(), "k".to_owned()]);
}

#[test]
fn fake_server_never_answers_and_stops_on_drop() {
    let fake = FakeServer::start(Script::never_answer());
    let mut s = connect(&fake.addr());
    s.write_all(&encode_command(&["PING"])).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(150))).unwrap();
    let mut buf = [0u8; 1];
    let err = s.read(&mut buf).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut), "{err}");
    let addr = fake.addr();
    let t = Instant::now();
    drop(fake);
    assert!(t.elapsed() < Duration::from_secs(2), "drop took {:?}", t.elapsed());
    // Its connections are closed and its port no longer accepts.
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    assert!(matches!(s.read(&mut buf), Ok(0) | Err(_)));
    assert!(TcpStream::connect(&addr).is_err());
}

#[test]
fn listener_accepts_at_tcp_level_but_never_answers() {
    let l = Listener::new();
    let mut s = TcpStream::connect_timeout(&l.addr().parse().unwrap(), Duration::from_secs(2))
        .expect("the kernel completes the connect");
    s.write_all(&encode_command(&["PING"])).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(150))).unwrap();
    let mut buf = [0u8; 1];
    let err = s.read(&mut buf).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut), "{err}");
    assert_eq!(l.url(), format!("redis://127.0.0.1:{}", l.port()));
}

#[test]
fn blackhole_listener_makes_connect_time_out() {
    let l = Listener::blackhole();
    let addr: SocketAddr = l.addr().parse().unwrap();
    let t = Instant::now();
    let err = TcpStream::connect_timeout(&addr, Duration::from_millis(300)).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock), "{err}");
    assert!(t.elapsed() >= Duration::from_millis(250));
}

#[test]
fn start_again_waits_until_the_port_is_free() {
    let mut server = RedisServer::new();
    server.stop();
    // Someone else holds the port for a while; start_again waits instead of failing.
    let squatter = std::net::TcpListener::bind(server.addr()).expect("port free after stop");
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(squatter);
    });
    let t = Instant::now();
    server.start_again();
    assert!(t.elapsed() >= Duration::from_millis(250), "started while the port was held");
    release.join().unwrap();
    assert!(server.answers_ping());
    let info = server.raw_cmd(&["INFO", "server"]);
    assert!(info.expect_str().contains(&format!("process_id:{}", server.pid())));
}
