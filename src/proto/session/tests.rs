//! Sans-IO scenarios of the session found in review: each failed before its fix.

use bytes::{Bytes, BytesMut};

use super::{Event, Mode, Request, Session, SessionConfig};
use crate::proto::backoff::Backoff;
use crate::proto::handshake::Handshake;
use crate::resp::Limits;

pub(super) fn cfg(reconnect: bool) -> SessionConfig {
    SessionConfig {
        handshake: Handshake::default(),
        connect_timeout: 1_000,
        read_timeout: Some(3_000),
        write_timeout: Some(3_000),
        reconnect,
        backoff: Backoff::new(100, 1_000, 0.0, 1),
        queue_size: 1_000_000,
        limits: Limits::default(),
        max_attempts: 5,
        mode: Mode::Shared,
    }
}

pub(super) fn req(id: u32, bytes: &'static [u8], deadline: Option<u64>) -> Request<u32> {
    Request::new(Bytes::from_static(bytes), id, deadline)
}

pub(super) fn drain(s: &mut Session<u32>) -> Vec<(u32, Result<Bytes, crate::Error>)> {
    let mut out = Vec::new();
    while let Some(ev) = s.poll_event() {
        if let Event::Reply(id, r) = ev {
            out.push((id, r));
        }
    }
    out
}

pub(super) fn ready(reconnect: bool) -> Session<u32> {
    let mut s = Session::new(cfg(reconnect));
    s.start(0);
    s.handle_connected(0);
    assert!(s.is_ready());
    drain(&mut s);
    s
}

/// A request delayed after -LOADING is orphaned when the session then closes for good
/// (reconnect off): `fail_for_good_as` drains `queue` but not `delayed`; at its due time
/// `resend_due` moves it into the queue of a Closed session, where nothing ever answers it.
#[test]
fn delayed_retry_is_answered_when_the_session_closes_for_good() {
    let mut s = ready(false);
    // A blocking command without a deadline (BLPOP k 0).
    let mut r = req(1, b"*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n", None);
    r.props.blocking = true;
    s.submit(r, 0);
    s.handle_written(29, 0);
    let mut buf = BytesMut::from(&b"-LOADING Redis is loading the dataset in memory\r\n"[..]);
    s.handle_input(&mut buf, 1);
    assert!(drain(&mut s).is_empty(), "delayed for a retry");
    s.handle_closed(crate::Error::connection("reset"), true, 5);
    let mut answered = drain(&mut s);
    for t in [21, 100, 10_000, 1_000_000] {
        s.handle_timeout(t);
        answered.extend(drain(&mut s));
    }
    assert_eq!(s.poll_timeout(), None, "nothing scheduled any more");
    assert_eq!(answered.len(), 1, "request 1 never resolves: {answered:?}");
}

/// Same with a deadline: it resolves, but only at its deadline, with a misleading Timeout
/// ("waiting for a connection") instead of the terminal error at once.
#[test]
fn delayed_retry_with_deadline_fails_at_once_when_closed_for_good() {
    let mut s = ready(false);
    s.submit(req(1, b"*1\r\n$4\r\nPING\r\n", Some(5_000)), 0);
    s.handle_written(14, 0);
    let mut buf = BytesMut::from(&b"-LOADING loading\r\n"[..]);
    s.handle_input(&mut buf, 1);
    s.handle_closed(crate::Error::connection("reset"), true, 5);
    let mut answered = drain(&mut s);
    s.handle_timeout(21);
    answered.extend(drain(&mut s));
    assert_eq!(
        answered.len(),
        1,
        "still pending at t=21 although the session is closed: {answered:?}"
    );
}

/// read_timeout counts from the last byte read, not from when the awaited command finished
/// being written: a big command written slowly (with progress) right after a reply is
/// declared stalled the moment its last byte goes out.
#[test]
fn slow_but_progressing_write_is_not_a_read_stall() {
    let mut s = ready(true);
    s.submit(req(1, b"*1\r\n$4\r\nPING\r\n", None), 0);
    static BIG: [u8; 4000] = [b'x'; 4000];
    s.submit(Request::new(Bytes::from_static(&BIG), 2, None), 0);
    s.handle_written(14, 0);
    let mut buf = BytesMut::from(&b"+PONG\r\n"[..]);
    s.handle_input(&mut buf, 10);
    assert_eq!(drain(&mut s).len(), 1);
    // 1000 bytes a second: progress every second, never a write stall.
    for t in 1..=4u64 {
        s.handle_written(1000, t * 1000);
        s.handle_sweep(t * 1000);
    }
    s.handle_sweep(4_100);
    let failed = drain(&mut s);
    assert!(failed.is_empty(), "request 2 failed 100 ms after it was written: {failed:?}");
}

/// Cost of a submission while disconnected: `poll_timeout` (called by `Conn::pump` after each
/// submission) scans the whole offline queue, so filling it is quadratic on the I/O thread.
/// Not an assertion on time: prints it.
#[test]
fn offline_submit_cost() {
    let mut s = Session::new(cfg(true));
    s.start(0);
    for n in [10_000u32, 40_000] {
        let mut s2 = Session::new(cfg(true));
        s2.start(0);
        let t = std::time::Instant::now();
        for i in 0..n {
            s2.submit(req(i, b"*1\r\n$4\r\nPING\r\n", Some(5_000)), 0);
            let _ = s2.poll_timeout();
        }
        eprintln!("offline submit of {n} requests with poll_timeout each: {:?}", t.elapsed());
    }
    drain(&mut s);
}

/// With no handshake steps (plain RESP2, no auth, db 0) a TCP connect alone counts as a
/// completed handshake and resets the backoff: a server that accepts and closes at once is
/// redialled every `base` ms forever instead of backing off.
#[test]
fn accept_then_close_backs_off() {
    let mut s = Session::new(cfg(true));
    s.start(0);
    let mut now = 0;
    let mut delays = Vec::new();
    for _ in 0..6 {
        s.handle_connected(now);
        s.handle_closed(crate::Error::connection("closed"), true, now);
        drain(&mut s);
        let until = s.poll_timeout().unwrap();
        delays.push(until - now);
        now = until;
        s.handle_timeout(now);
        drain(&mut s);
    }
    assert!(delays.last() > delays.first(), "no backoff growth: {delays:?}");
}

/// After a burst, the idle session gives its queues' storage back (the I/O thread calls
/// `release_idle_memory` on its sweep) and keeps working; while requests are in flight it
/// keeps everything.
#[test]
fn queues_shrink_after_a_burst_once_idle() {
    const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
    const BURST: u32 = 10_000;
    let mut s = ready(true);
    for i in 0..BURST {
        s.submit(req(i, PING, None), 0);
    }
    s.handle_written(PING.len() * BURST as usize, 0);
    let mut replies = BytesMut::new();
    for _ in 0..BURST - 1 {
        replies.extend_from_slice(b"+PONG\r\n");
    }
    s.handle_input(&mut replies, 1);
    assert_eq!(drain(&mut s).len(), BURST as usize - 1);
    let grown = s.queue_capacities();
    assert!(grown[0] >= BURST as usize && grown[1] >= BURST as usize, "{grown:?}");
    s.release_idle_memory();
    assert_eq!(s.queue_capacities(), grown, "one request still in flight: nothing released");

    s.handle_input(&mut BytesMut::from(&b"+PONG\r\n"[..]), 2);
    assert_eq!(drain(&mut s).len(), 1);
    s.release_idle_memory();
    let idle = s.queue_capacities();
    assert!(idle.iter().all(|&c| c < 1_000), "released: {idle:?} (was {grown:?})");

    s.submit(req(BURST, PING, None), 3);
    s.handle_written(PING.len(), 3);
    s.handle_input(&mut BytesMut::from(&b"+PONG\r\n"[..]), 4);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].1.as_deref().ok(), Some(&b"+PONG\r\n"[..]), "the raw frame");
}

/// A command in three chunks (a large value travels as its own chunk) cut in the middle of
/// its value by a lost connection: it never reached the server whole, so it is sent again
/// after the reconnect, whole and in its chunks' order, and its reply is its own.
#[test]
fn a_chunked_command_cut_mid_value_is_resent_whole_after_a_reconnect() {
    use crate::proto::outbuf::Encoded;
    const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
    let head = Bytes::from_static(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n");
    let chunks = vec![head.clone(), Bytes::from_static(b"0123456789"), Bytes::from_static(b"\r\n")];
    let whole: Vec<u8> = chunks.concat();
    let mut s = ready(true);
    s.submit(req(1, PING, None), 0);
    s.submit(Request::new(Encoded::Chunks(chunks), 2, None), 0);
    s.handle_written(PING.len() + head.len() + 4, 1);
    s.handle_input(&mut BytesMut::from(&b"+PONG\r\n"[..]), 2);
    assert_eq!(drain(&mut s).iter().map(|(id, _)| *id).collect::<Vec<_>>(), [1]);
    s.handle_closed(crate::Error::connection("reset"), false, 3);
    assert!(drain(&mut s).is_empty(), "not written whole: kept for a resend, not failed");
    let mut now = 3;
    while !s.is_ready() {
        now = s.poll_timeout().expect("a reconnect is scheduled");
        s.handle_timeout(now);
        drain(&mut s);
        s.handle_connected(now);
        drain(&mut s);
    }
    let mut io = Vec::new();
    s.out().slices(&mut io, 1024);
    let sent: Vec<u8> = io.iter().flat_map(|b| b.iter().copied()).collect();
    assert_eq!(sent, whole, "resent whole, in order");
    s.handle_written(whole.len(), now);
    s.handle_input(&mut BytesMut::from(&b"+OK\r\n"[..]), now + 1);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].0, 2);
    assert_eq!(answered[0].1.as_deref().ok(), Some(&b"+OK\r\n"[..]));
}
