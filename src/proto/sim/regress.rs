//! The bugs the simulator found, each pinned twice: by the seed that found it (which depends
//! on the generator and may drift if the generator changes) and by a hand-driven session
//! that shows the same fault in a few calls.
#![cfg(test)]

use bytes::{Bytes, BytesMut};

use super::run_seed;
use crate::error::Error;
use crate::proto::backoff::Backoff;
use crate::proto::handshake::{Handshake, HandshakeConfig};
use crate::proto::session::{Event, Mode, Request, Resend, Session, SessionConfig};
use crate::resp::Limits;

fn config(queue_size: usize, password: bool) -> SessionConfig {
    SessionConfig {
        handshake: Handshake::new(&HandshakeConfig {
            protocol: 2,
            password: password.then(|| b"pw".to_vec()),
            ..Default::default()
        }),
        connect_timeout: 1_000,
        read_timeout: None,
        write_timeout: None,
        reconnect: true,
        backoff: Backoff::new(10, 10, 0.0, 1),
        queue_size,
        limits: Limits::default(),
        max_attempts: 1,
        mode: Mode::Shared,
    }
}

fn request(id: u64, deadline: Option<u64>) -> Request<u64> {
    Request::new(Bytes::from_static(b"*1\r\n$4\r\nPING\r\n"), id, deadline)
}

fn events(s: &mut Session<u64>) -> Vec<Event<u64>> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// A session connected at `now` with its handshake answered.
fn ready(cfg: SessionConfig, now: u64) -> Session<u64> {
    let mut s = Session::new(cfg);
    s.start(now);
    s.handle_connected(now);
    let n = s.out().unwritten() as usize;
    s.handle_written(n, now);
    let steps = s.in_flight();
    let mut input = BytesMut::from(&b"+OK\r\n".repeat(steps)[..]);
    s.handle_input(&mut input, now);
    assert!(s.is_ready());
    events(&mut s);
    s
}

fn input(s: &mut Session<u64>, bytes: &[u8], now: u64) {
    s.handle_input(&mut BytesMut::from(bytes), now);
}

#[test]
fn seed_3_reply_after_the_deadline_fails_with_timeout() {
    run_seed(3).unwrap_or_else(|report| panic!("{report}"));
}

/// The reactor reads before it fires timers, and its timer may fire late: a reply read once
/// the deadline has passed used to complete the request successfully.
#[test]
fn reply_after_the_deadline_fails_with_timeout() {
    let mut s = ready(config(10, false), 0);
    s.submit(request(1, Some(10)), 0);
    s.submit(request(2, Some(20)), 0);
    s.handle_written(s.out().unwritten() as usize, 0);
    input(&mut s, b"+PONG\r\n", 10);
    input(&mut s, b"+PONG\r\n", 19);
    match &events(&mut s)[..] {
        [Event::Reply(1, Err(Error::Timeout { maybe_executed: true, .. })), Event::Reply(2, Ok(_))] =>
            {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn seed_254_requeued_commands_respect_queue_size() {
    run_seed(254).unwrap_or_else(|report| panic!("{report}"));
}

/// Commands not yet written when the connection drops went back to the offline queue all of
/// them, beyond `queue_size`.
#[test]
fn requeued_commands_respect_queue_size() {
    let mut s = ready(config(1, false), 0);
    for id in 1..=3 {
        s.submit(request(id, None), 0);
    }
    s.handle_closed(Error::connection("reset"), false, 1);
    assert_eq!(s.queued(), 1);
    let failed: Vec<u64> = events(&mut s)
        .into_iter()
        .filter_map(|e| match e {
            Event::Reply(id, Err(Error::Disconnected(_))) => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(failed, [2, 3], "the newest fail, never sent");
}

#[test]
fn seed_6_protocol_error_marks_written_commands_maybe_executed() {
    run_seed(6).unwrap_or_else(|report| panic!("{report}"));
}

/// Bytes that are not RESP reset the connection; the commands written on it failed with
/// `Error::Protocol`, whose `maybe_executed()` is false although the server may have run
/// them.
#[test]
fn protocol_error_marks_written_commands_maybe_executed() {
    let mut s = ready(config(10, false), 0);
    s.submit(request(1, None), 0);
    s.submit(request(2, None), 0);
    s.handle_written(s.out().unwritten() as usize, 0);
    input(&mut s, b"?garbage\r\n", 1);
    let replies: Vec<(u64, bool)> = events(&mut s)
        .into_iter()
        .filter_map(|e| match e {
            Event::Reply(id, Err(e)) => Some((id, e.maybe_executed())),
            _ => None,
        })
        .collect();
    assert_eq!(replies, [(1, true), (2, true)]);
}

#[test]
fn seed_275_bad_bytes_during_the_handshake_fail_the_attempt() {
    run_seed(275).unwrap_or_else(|report| panic!("{report}"));
}

/// Bytes that are not RESP during a reconnect's handshake reported `Lost` (a second
/// `on_disconnect` with no `on_connect` between) and no `ConnectFailed`.
#[test]
fn bad_bytes_during_the_handshake_fail_the_attempt() {
    let mut s = ready(config(10, true), 0);
    s.handle_closed(Error::connection("reset"), true, 1);
    assert!(events(&mut s).iter().any(|e| matches!(e, Event::Lost(..))));
    s.handle_timeout(100);
    assert!(matches!(events(&mut s)[..], [Event::Connect]));
    s.handle_connected(100);
    s.handle_written(s.out().unwritten() as usize, 100);
    input(&mut s, b"?garbage\r\n", 101);
    let evs = events(&mut s);
    assert!(evs.iter().any(|e| matches!(e, Event::ConnectFailed(_))), "{evs:?}");
    assert!(!evs.iter().any(|e| matches!(e, Event::Lost(..))), "{evs:?}");
}

// ----- resends (LOADING/BUSY refusals, idempotent requests, submit_at) -----

/// Delayed requests (refused, or `submit_at`) stayed pending forever once the session failed
/// for good; main fixed it in parallel (`session_tests.rs`), this seed pins it in the simulation.
#[test]
fn seed_160_failing_for_good_fails_delayed_requests() {
    run_seed(160).unwrap_or_else(|report| panic!("{report}"));
}

/// `config` with resends: `max_attempts` (idempotent requests resend blind).
fn resending(queue_size: usize, max_attempts: u8) -> SessionConfig {
    SessionConfig { max_attempts, ..config(queue_size, false) }
}

#[test]
fn seed_12_due_requests_respect_queue_size() {
    run_seed(12).unwrap_or_else(|report| panic!("{report}"));
}

/// A delayed request that came due while not connected went into the offline queue beyond
/// `queue_size`.
#[test]
fn due_requests_respect_queue_size() {
    let mut s = Session::new(resending(1, 3));
    s.start(0);
    events(&mut s);
    s.submit(request(1, None), 0);
    s.submit_at(request(2, None), 10, 0);
    s.handle_timeout(10);
    assert_eq!(s.queued(), 1);
    match &events(&mut s)[..] {
        [Event::Reply(2, Err(Error::Disconnected(_)))] => {}
        other => panic!("{other:?}"),
    }
}

/// Reconnects a session that is backing off (backoff 10 ms), handshake answered, at `now`.
fn reconnect(s: &mut Session<u64>, now: u64) {
    s.handle_timeout(now);
    s.handle_connected(now);
    if !s.is_ready() {
        let n = s.out().unwritten() as usize;
        s.handle_written(n, now);
        let steps = s.in_flight();
        input(s, &b"+OK\r\n".repeat(steps), now);
    }
    assert!(s.is_ready());
}

/// Writes everything buffered.
fn flush(s: &mut Session<u64>, now: u64) {
    let n = s.out().unwritten() as usize;
    s.handle_written(n, now);
}

/// The replies among `evs`: (id, Ok or the error's maybe_executed, error text).
fn replies(evs: &[Event<u64>]) -> Vec<(u64, Result<(), bool>, String)> {
    evs.iter()
        .filter_map(|e| match e {
            Event::Reply(id, Ok(_)) => Some((*id, Ok(()), String::new())),
            Event::Reply(id, Err(e)) => Some((*id, Err(e.maybe_executed()), e.to_string())),
            _ => None,
        })
        .collect()
}

#[test]
fn seed_28_unsent_tries_are_not_attempts() {
    run_seed(28).unwrap_or_else(|report| panic!("{report}"));
}

/// A send lost before it was written whole counted as an attempt: with `max_attempts` 2, a
/// request requeued once and then refused with LOADING got the refusal without a resend.
#[test]
fn unsent_tries_are_not_attempts() {
    let mut s = ready(resending(10, 2), 0);
    s.submit(request(1, None), 0);
    s.handle_closed(Error::connection("reset"), true, 1);
    events(&mut s);
    reconnect(&mut s, 11);
    flush(&mut s, 11);
    input(&mut s, b"-LOADING Redis is loading the dataset in memory\r\n", 12);
    let evs = events(&mut s);
    assert!(replies(&evs).is_empty(), "the refusal was delivered: {evs:?}");
    s.handle_timeout(s.poll_timeout().expect("a resend is due"));
    assert!(s.out().unwritten() > 0, "resent");
}

fn idempotent(id: u64, deadline: Option<u64>) -> Request<u64> {
    let mut r = request(id, deadline);
    r.props.resend = Resend::IfIdempotent;
    r
}

#[test]
fn seed_80_resent_requests_that_may_have_run_say_so_when_they_time_out() {
    run_seed(80).unwrap_or_else(|report| panic!("{report}"));
}

/// An idempotent request written whole, then resent after the connection was lost, failed
/// with `maybe_executed: false` when it timed out waiting for the next connection, though
/// the server may have run the first send.
#[test]
fn resent_requests_that_may_have_run_say_so_when_they_time_out() {
    let mut s = ready(resending(10, 3), 0);
    s.submit(idempotent(1, Some(50)), 0);
    flush(&mut s, 0);
    s.handle_closed(Error::connection("reset"), true, 1);
    assert_eq!(s.queued(), 1, "resent");
    events(&mut s);
    s.handle_timeout(50);
    let failed = replies(&events(&mut s));
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!((failed[0].0, failed[0].1), (1, Err(true)), "{failed:?}");
}

#[test]
fn seed_34_requests_that_may_have_run_say_so_when_the_queue_is_full() {
    run_seed(34).unwrap_or_else(|report| panic!("{report}"));
}

/// An idempotent request written whole that did not fit back in the offline queue failed
/// with `Disconnected` ("the command was not sent again"), which is not `maybe_executed`.
#[test]
fn requests_that_may_have_run_say_so_when_the_queue_is_full() {
    let mut s = ready(resending(0, 3), 0);
    s.submit(idempotent(1, None), 0);
    flush(&mut s, 0);
    s.handle_closed(Error::connection("reset"), true, 1);
    let failed = replies(&events(&mut s));
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!((failed[0].0, failed[0].1), (1, Err(true)), "{failed:?}");
}

#[test]
fn seed_1229_a_stalled_write_fails_its_idempotent_request() {
    run_seed(1229).unwrap_or_else(|report| panic!("{report}"));
}

/// The request a write stalled in was resent when it was idempotent (and stalled again).
#[test]
fn a_stalled_write_fails_its_idempotent_request() {
    let mut s = ready(SessionConfig { write_timeout: Some(100), ..resending(10, 3) }, 0);
    s.submit(idempotent(1, None), 0);
    s.handle_written(3, 0);
    s.handle_sweep(100);
    assert_eq!(s.queued(), 0, "not resent");
    let failed = replies(&events(&mut s));
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!((failed[0].0, failed[0].1), (1, Err(false)), "{failed:?}");
}

#[test]
fn seed_76_an_expired_delayed_request_is_not_sent() {
    run_seed(76).unwrap_or_else(|report| panic!("{report}"));
}

/// A request refused with LOADING whose deadline passed before the (late) timer fired was
/// sent anyway, and its deadline then reset the connection under the other requests.
#[test]
fn an_expired_delayed_request_is_not_sent() {
    let mut s = ready(resending(10, 3), 0);
    s.submit(request(1, Some(100)), 0);
    s.submit(request(2, None), 0);
    flush(&mut s, 0);
    input(&mut s, b"-LOADING Redis is loading the dataset in memory\r\n", 0);
    assert!(events(&mut s).is_empty());
    s.handle_timeout(150);
    let evs = events(&mut s);
    assert!(!evs.iter().any(|e| matches!(e, Event::Lost(..) | Event::Disconnect)), "{evs:?}");
    let failed = replies(&evs);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!((failed[0].0, failed[0].1), (1, Err(false)), "{failed:?}");
    assert!(failed[0].2.contains("waiting to be retried"), "{failed:?}");
}

#[test]
fn seed_11_an_expired_queued_request_is_not_sent_on_ready() {
    run_seed(11).unwrap_or_else(|report| panic!("{report}"));
}

/// A queued request whose deadline passed just before the handshake finished (its timer not
/// fired yet) was written on the new connection, whose next timer then reset it.
#[test]
fn an_expired_queued_request_is_not_sent_on_ready() {
    let mut s = ready(config(10, true), 0);
    s.handle_closed(Error::connection("reset"), true, 1);
    events(&mut s);
    s.submit(request(1, Some(20)), 5);
    s.submit(request(2, None), 5);
    s.handle_timeout(11);
    s.handle_connected(11);
    flush(&mut s, 11);
    input(&mut s, b"+OK\r\n", 25);
    assert!(s.is_ready());
    let failed = replies(&events(&mut s));
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!((failed[0].0, failed[0].1), (1, Err(false)), "{failed:?}");
    assert_eq!(s.in_flight(), 1, "only request 2 went on the wire");
    s.handle_timeout(25);
    let evs = events(&mut s);
    assert!(!evs.iter().any(|e| matches!(e, Event::Lost(..) | Event::Disconnect)), "{evs:?}");
}

/// Not a session bug: the simulator expected the request a write stalled in to fail with
/// `maybe_executed: false`, but this one had been written whole on the connection before
/// (idempotent, resent blind) and the server ran it there, so `true` is right.
#[test]
fn seed_28693_a_stalled_resent_request_may_have_run() {
    run_seed(28693).unwrap_or_else(|report| panic!("{report}"));
}

#[test]
fn seed_6334_exec_unwritten_when_the_link_drops_is_not_resent_without_its_multi() {
    run_seed(6334).unwrap_or_else(|report| panic!("{report}"));
}

/// On an exclusive connection the transaction state ended at EXEC's write: an EXEC still in
/// the out buffer when the connection dropped counted as unwritten, went back to the queue,
/// and ran on the new connection, where its MULTI never ran (`-ERR EXEC without MULTI`,
/// the queued commands lost without a word).
#[test]
fn exec_unwritten_when_the_link_drops_fails_with_the_transaction() {
    use crate::proto::session::{Effect, Props};
    let mut cfg = config(10, false);
    cfg.mode = Mode::Exclusive;
    let mut s = ready(cfg, 0);
    let with = |id, bytes: &'static [u8], effect| {
        Request::new(Bytes::from_static(bytes), id, None).with(Props { effect, ..Props::default() })
    };
    s.submit(with(1, b"*1\r\n$5\r\nMULTI\r\n", Effect::Multi), 0);
    s.submit(with(2, b"*2\r\n$4\r\nECHO\r\n$1\r\na\r\n", Effect::None), 0);
    s.handle_written(s.out().unwritten() as usize, 0);
    input(&mut s, b"+OK\r\n+QUEUED\r\n", 1);
    events(&mut s);
    s.submit(with(3, b"*1\r\n$4\r\nEXEC\r\n", Effect::Exec), 2);
    s.handle_closed(Error::connection("reset"), true, 2);
    match &events(&mut s)[..] {
        [Event::Reply(3, Err(e)), ..] => {
            assert!(e.to_string().contains("before its EXEC was answered"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

/// An exclusive owner's EXEC, abandoned at its deadline, was answered after the owner's next
/// MULTI went out: the late reply ended the transaction state the new MULTI had opened, so
/// the loss that followed was taken for a clean one and the next command ran outside MULTI.
#[test]
fn seed_2352_a_late_exec_reply_does_not_end_the_next_transaction() {
    run_seed(2352).unwrap_or_else(|report| panic!("{report}"));
}

/// A transaction group abandoned at its deadline had its EXEC refused (BUSY): the dropped
/// reply left the server's MULTI open, which queued the commands behind it (+QUEUED to a
/// plain INCR). A refused EXEC resets the connection whether its caller still waits or not.
#[test]
fn seed_21090_an_abandoned_transaction_whose_exec_was_refused_resets() {
    run_seed(21090).unwrap_or_else(|report| panic!("{report}"));
}

/// A transaction group whose deadline passed just before its refused EXEC's reply was read
/// failed as late, but the reset for the MULTI the refusal left open was skipped on that
/// path: a later SET got +QUEUED.
#[test]
fn seed_243541_a_late_refused_exec_still_resets() {
    run_seed(243541).unwrap_or_else(|report| panic!("{report}"));
}

/// The pub/sub simulation's finds (issue 14), each also pinned by a registry test in
/// `proto::pubsub` or a session test: a refused subscribe forgot names another request was
/// subscribing (3, 14, 2367); an UNSUBSCRIBE written during the setup landed before a queued
/// SUBSCRIBE, leaving the server subscribed for nobody (20); a stale confirmation left a name
/// confirmed behind an UNSUBSCRIBE (692, 37); an unsubscribe queued during the setup timed
/// out unsent (1836); a request sent again counted its confirmations twice (5,011,650).
#[test]
fn pubsub_seeds_that_found_bugs() {
    for seed in [3, 14, 20, 37, 692, 1836, 2367, 5_011_650] {
        run_seed(seed).unwrap_or_else(|report| panic!("{report}"));
    }
}
