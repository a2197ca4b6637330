//! TLS against a real `redis-server --tls-port`, with a CA, a server certificate for
//! localhost/127.0.0.1 and a client certificate generated at test time (rcgen): verification
//! with the test CA, refusal without it (once, not in a reconnect loop), mutual TLS, the
//! server name, `danger_accept_invalid_certs`, reconnect after a restart, bad files at
//! `build()`, and a stuck handshake that must not stall other connections.

#![cfg(feature = "tls")]

mod support;

use std::thread;
use std::time::{Duration, Instant};

use redpoll::{Client, Error, Tls};
use support::{Certs, Listener, RawConn, RedisServer};

/// Every connection the server accepted: `total_connections_received` from INFO stats
/// counts those whose TLS handshake succeeded (Redis 7.0 counts a TLS client once its
/// handshake is over), and the log has a line for each one that failed.
fn connections_received(server: &RedisServer, raw: &mut RawConn) -> u64 {
    let info = raw.cmd(&["INFO", "stats"]);
    let text = info.expect_str();
    let accepted: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("total_connections_received:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no total_connections_received in {text}"));
    let log = std::fs::read_to_string(server.log_path()).unwrap_or_default();
    let failed = log.matches("Error accepting a client connection").count() as u64;
    accepted + failed
}

/// The message of an `Error::Tls`; panics on any other kind.
fn tls_message(e: Error) -> String {
    match e {
        Error::Tls(m) => m,
        other => panic!("expected Error::Tls, got {other:?}"),
    }
}

#[test]
fn commands_run_over_tls_with_the_test_ca() {
    let certs = Certs::new();
    let server = certs.server(false);
    assert!(server.url().starts_with("rediss://"));
    let client = Client::builder().url(server.url()).tls(certs.tls()).build().unwrap();
    // Sent before the handshake: it waits in the offline queue and goes out over TLS.
    let early = client.set("early", "bird").send();
    early.wait().unwrap();
    assert_eq!(client.ping().wait().unwrap(), "PONG");
    let got: Option<String> = client.get("early").decode().wait().unwrap();
    assert_eq!(got.as_deref(), Some("bird"));

    // 1 MiB each way: many TLS records, partial writes, reads across record boundaries.
    let value: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    client.set("big", value.as_slice()).wait().unwrap();
    let back = client.get("big").wait().unwrap().unwrap();
    assert!(back[..] == value[..], "the 1 MiB value came back different");
    // The server saw the same bytes.
    let mut raw = server.raw();
    assert_eq!(raw.cmd(&["STRLEN", "big"]).expect_int(), 1 << 20);

    // Many small commands in flight at once share records.
    let replies: Vec<_> = (0..200).map(|i| client.incrby("n", i).send()).collect();
    let last = replies.into_iter().map(|r| r.wait().unwrap()).last();
    assert_eq!(last, Some((0..200).sum::<i64>()));
}

#[test]
fn small_socket_buffers_force_partial_tls_writes_and_reads() {
    let certs = Certs::new();
    let server = certs.server(false);
    // Tiny kernel buffers: rustls's records rarely fit whole, so encrypted bytes wait in
    // rustls for writable events and replies arrive a few bytes of a record at a time.
    let client = Client::builder()
        .url(server.url())
        .tls(certs.tls())
        .send_buffer_size(4096)
        .recv_buffer_size(4096)
        .build()
        .unwrap();
    client.connect().wait().unwrap();

    // Alone, while the server sleeps and reads nothing: the socket fills up, encrypted
    // records wait in rustls, and the write resumes only through writable events once the
    // server reads again.
    let solo: Vec<u8> = (0..16 << 20).map(|i: u32| (i % 249) as u8).collect();
    let mut raw = server.raw();
    let sleeper = thread::spawn(move || raw.cmd(&["DEBUG", "SLEEP", "0.5"]).expect_ok());
    thread::sleep(Duration::from_millis(100));
    client.set("solo", solo.as_slice()).wait().unwrap();
    sleeper.join().unwrap();
    assert_eq!(server.raw().cmd(&["STRLEN", "solo"]).expect_int(), 16 << 20);

    let value: Vec<u8> = (0..8 << 20).map(|i: u32| (i % 253) as u8).collect();
    let writes: Vec<_> =
        (0..4).map(|i| client.set(format!("big{i}"), value.as_slice()).send()).collect();
    for w in writes {
        w.wait().unwrap();
    }
    for i in 0..4 {
        let back = client.get(format!("big{i}")).wait().unwrap().unwrap();
        assert!(back[..] == value[..], "big{i} came back different");
    }
}

#[test]
fn resp3_and_a_password_work_over_tls() {
    let certs = Certs::new();
    let server = RedisServer::builder()
        .requirepass("s3cret")
        .tls(&certs.server_cert, &certs.server_key, &certs.ca, false)
        .start();
    let url = format!("rediss://:s3cret@127.0.0.1:{}/2", server.port());
    let client = Client::builder().url(&url).protocol(3).tls(certs.tls()).build().unwrap();
    client.connect().wait().unwrap();
    client.set("k", "v").wait().unwrap();
    let mut raw = server.raw();
    raw.cmd(&["SELECT", "2"]).expect_ok();
    assert_eq!(raw.cmd(&["GET", "k"]).expect_str(), "v");

    let wrong = format!("rediss://:wrong@127.0.0.1:{}", server.port());
    let client = Client::builder().url(&wrong).tls(certs.tls()).build().unwrap();
    let e = client.connect().wait().unwrap_err();
    assert_eq!(e.server_code(), Some("WRONGPASS"), "{e:?}");
}

#[test]
fn an_unknown_ca_is_refused_once_and_not_retried_in_a_loop() {
    let certs = Certs::new();
    let server = certs.server(false);
    let mut raw = server.raw();
    let before = connections_received(&server, &mut raw);

    // rediss:// alone: the webpki roots, which do not know the test CA.
    let client = Client::builder()
        .url(server.url())
        .reconnect_delay(Duration::from_millis(20))
        .build()
        .unwrap();
    let msg = tls_message(client.connect().wait().unwrap_err());
    assert!(msg.contains("certificate"), "{msg}");
    assert!(msg.contains("UnknownIssuer"), "rustls's reason is kept: {msg}");
    // Commands fail with the same reason at once rather than waiting for a retry.
    let started = Instant::now();
    let msg = tls_message(client.ping().wait().unwrap_err());
    assert!(msg.contains("certificate"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(1));

    // With a 20 ms reconnect delay a retry loop would have connected dozens of times.
    thread::sleep(Duration::from_millis(800));
    let after = connections_received(&server, &mut raw);
    assert_eq!(after - before, 1, "the client connected {} times", after - before);
}

#[test]
fn mutual_tls_needs_the_client_certificate() {
    let certs = Certs::new();
    let server = certs.server(true);

    let with_cert = Client::builder()
        .url(server.url())
        .tls(certs.tls().client_auth_files(&certs.client_cert, &certs.client_key))
        .build()
        .unwrap();
    with_cert.connect().wait().unwrap();
    assert_eq!(with_cert.ping().wait().unwrap(), "PONG");

    let mut raw = server.raw();
    let before = connections_received(&server, &mut raw);
    let without = Client::builder()
        .url(server.url())
        .tls(certs.tls())
        .reconnect_delay(Duration::from_millis(20))
        .build()
        .unwrap();
    let e = without.connect().wait().unwrap_err();
    let msg = tls_message(e);
    assert!(msg.contains("certificate"), "{msg}");
    assert!(without.ping().wait().is_err());
    thread::sleep(Duration::from_millis(500));
    let after = connections_received(&server, &mut raw);
    assert_eq!(after - before, 1, "the client connected {} times", after - before);

    // The client with its certificate is unaffected.
    assert_eq!(with_cert.ping().wait().unwrap(), "PONG");
}

#[test]
fn a_wrong_server_name_is_refused() {
    let certs = Certs::new();
    let server = certs.server(false);
    let client = Client::builder()
        .url(server.url())
        .tls(certs.tls().server_name("other.example"))
        .build()
        .unwrap();
    let msg = tls_message(client.connect().wait().unwrap_err());
    assert!(msg.contains("certificate"), "{msg}");
    assert!(msg.contains("not valid for name \"other.example\""), "{msg}");

    // The right name, given explicitly while connecting by IP address, is accepted.
    let client = Client::builder()
        .url(server.url())
        .tls(certs.tls().server_name("localhost"))
        .build()
        .unwrap();
    assert_eq!(client.ping().wait().unwrap(), "PONG");
}

#[test]
fn danger_accept_invalid_certs_connects_without_the_ca() {
    let certs = Certs::new();
    let server = certs.server(false);
    let client = Client::builder()
        .url(server.url())
        .tls(Tls::new().danger_accept_invalid_certs(true).server_name("other.example"))
        .build()
        .unwrap();
    client.connect().wait().unwrap();
    assert_eq!(client.ping().wait().unwrap(), "PONG");
}

#[test]
fn the_client_reconnects_over_tls_after_a_server_restart() {
    let certs = Certs::new();
    let mut server = certs.server(false);
    let client = Client::builder().url(server.url()).tls(certs.tls()).build().unwrap();
    client.set("k", "before").wait().unwrap();

    server.restart();
    let started = Instant::now();
    let mut last_err = None;
    while started.elapsed() < Duration::from_secs(5) {
        match client.set("k", "after").timeout(Duration::from_secs(1)).wait() {
            Ok(()) => break,
            Err(e) => {
                last_err = Some(e);
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
    let got: Option<String> = client
        .get("k")
        .decode()
        .wait()
        .unwrap_or_else(|e| panic!("no reconnect after 5 s: {e:?} (before: {last_err:?})"));
    assert_eq!(got.as_deref(), Some("after"));
    assert_eq!(server.raw().cmd(&["GET", "k"]).expect_str(), "after");
}

#[test]
fn bad_tls_files_fail_at_build_naming_the_file() {
    let certs = Certs::new();
    let url = "rediss://127.0.0.1:6390";
    let build = |tls: Tls| Client::builder().url(url).tls(tls).build().map(drop).unwrap_err();

    let missing = certs.dir.join("missing-ca.pem");
    let e = build(Tls::new().ca_file(&missing));
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    assert!(e.to_string().contains("missing-ca.pem"), "{e}");

    // A PEM file with a key and no certificate.
    let e = build(Tls::new().ca_file(&certs.client_key));
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    assert!(e.to_string().contains("client.key"), "{e}");

    // A certificate block whose contents are not base64.
    let garbled = certs.dir.join("garbled.pem");
    std::fs::write(&garbled, "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
        .unwrap();
    let e = build(Tls::new().ca_file(&garbled));
    assert!(matches!(e, Error::Tls(_)), "{e:?}");
    assert!(e.to_string().contains("garbled.pem"), "{e}");

    // Valid base64 that is no certificate.
    let not_der = certs.dir.join("not-der.pem");
    std::fs::write(&not_der, "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n")
        .unwrap();
    let e = build(Tls::new().ca_file(&not_der));
    assert!(matches!(e, Error::Tls(_)), "{e:?}");
    assert!(e.to_string().contains("not-der.pem"), "{e}");

    // A key that belongs to another certificate.
    let e = build(certs.tls().client_auth_files(&certs.client_cert, &certs.stray_key));
    assert!(matches!(e, Error::Tls(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("stray.key") && msg.contains("does not match"), "{msg}");

    // A key file that is a certificate.
    let e = build(certs.tls().client_auth_files(&certs.client_cert, &certs.client_cert));
    assert!(matches!(e, Error::Config(_) | Error::Tls(_)), "{e:?}");
    assert!(e.to_string().contains("client.crt"), "{e}");

    // The same files, correct, build fine (nothing connects until the server exists).
    Client::builder()
        .url(url)
        .tls(certs.tls().client_auth_files(&certs.client_cert, &certs.client_key))
        .build()
        .unwrap();
}

#[test]
fn a_stuck_tls_handshake_does_not_stall_other_connections() {
    let certs = Certs::new();
    // Accepts TCP connections (the kernel does) and never answers the ClientHello.
    let silent = Listener::new();
    let stuck = Client::builder()
        .url(format!("rediss://{}", silent.addr()))
        .tls(certs.tls())
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap();

    let other = RedisServer::new();
    let pinger = Client::open(&other.url()).unwrap();
    pinger.connect().wait().unwrap();

    let started = Instant::now();
    let waiter = {
        let stuck = stuck.clone();
        thread::spawn(move || (stuck.connect().wait(), started.elapsed()))
    };
    let mut last = Instant::now();
    let mut worst = Duration::ZERO;
    let mut pings = 0;
    while started.elapsed() < Duration::from_millis(2500) {
        assert_eq!(pinger.ping().wait().unwrap(), "PONG");
        worst = worst.max(last.elapsed());
        last = Instant::now();
        pings += 1;
    }
    let (result, failed_after) = waiter.join().unwrap();
    eprintln!(
        "{pings} PINGs, longest gap {worst:?}; the stuck connect failed after {failed_after:?}"
    );
    let e = result.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(failed_after >= Duration::from_millis(1900), "failed too early: {failed_after:?}");
    assert!(failed_after < Duration::from_secs(5), "failed late: {failed_after:?}");
    assert!(worst < Duration::from_millis(500), "longest gap between PINGs: {worst:?}");
    assert!(pings > 20, "only {pings} PINGs completed");
}

#[test]
fn a_slow_tls_handshake_through_the_proxy_leaves_other_connections_flowing() {
    let certs = Certs::new();
    let server = certs.server(false);
    let proxy = support::FaultProxy::start(&server.addr());
    proxy.set_latency(Duration::from_millis(50));
    let other = RedisServer::new();
    let pinger = Client::open(&other.url()).unwrap();
    pinger.connect().wait().unwrap();

    let slow = Client::builder()
        .url(format!("rediss://{}", proxy.addr()))
        .tls(certs.tls())
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let started = Instant::now();
    let waiter = {
        let slow = slow.clone();
        thread::spawn(move || (slow.connect().wait(), started.elapsed()))
    };
    let (mut last, mut worst, mut pings) = (Instant::now(), Duration::ZERO, 0);
    while !waiter.is_finished() && started.elapsed() < Duration::from_secs(10) {
        assert_eq!(pinger.ping().wait().unwrap(), "PONG");
        worst = worst.max(last.elapsed());
        last = Instant::now();
        pings += 1;
    }
    let (result, took) = waiter.join().unwrap();
    result.unwrap();
    eprintln!(
        "TLS connect through 50 ms/chunk took {took:?}; {pings} PINGs, longest gap {worst:?}"
    );
    // ClientHello, ServerHello…Finished, client Finished + the confirming PING: at least two
    // round trips of 2 × 50 ms.
    assert!(took >= Duration::from_millis(100), "{took:?}");
    assert!(worst < Duration::from_millis(200), "longest gap between PINGs: {worst:?}");
    assert_eq!(slow.ping().wait().unwrap(), "PONG");
}

#[test]
fn a_tls_connect_into_a_black_hole_honours_connect_timeout() {
    let certs = Certs::new();
    let server = certs.server(false);
    let proxy = support::FaultProxy::start(&server.addr());
    proxy.blackhole(true);
    let client = Client::builder()
        .url(format!("rediss://{}", proxy.addr()))
        .tls(certs.tls())
        .connect_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.connect().wait().unwrap_err();
    let took = started.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    assert!(took >= Duration::from_millis(450) && took < Duration::from_secs(3), "{took:?}");
    proxy.heal();
    let recovered = (0..200).any(|_| {
        thread::sleep(Duration::from_millis(20));
        client.ping().wait().is_ok()
    });
    assert!(recovered, "the client did not connect once the black hole closed");
}
