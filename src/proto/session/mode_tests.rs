//! Sans-IO scenarios of groups, resend policies, `OnTimeout::Abandon` and the exclusive
//! mode: what each promises, checked call by call.

use bytes::{Bytes, BytesMut};

use super::tests::{cfg, drain, ready, req};
use super::{Effect, Event, Mode, Props, Request, Resend, Session};
use crate::config::OnTimeout;
use crate::proto::handshake::Step;

const MULTI: &[u8] = b"*1\r\n$5\r\nMULTI\r\n";
const SET: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
const EXEC: &[u8] = b"*1\r\n$4\r\nEXEC\r\n";
const GET: &[u8] = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
const WATCH: &[u8] = b"*2\r\n$5\r\nWATCH\r\n$1\r\nk\r\n";
const SELECT: &[u8] = b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n";

fn group(id: u32, parts: &[&[u8]], atomic: bool) -> Request<u32> {
    let bytes: Vec<u8> = parts.concat();
    let props = Props {
        replies: parts.len() as u32,
        atomic,
        first_len: parts[0].len() as u32,
        ..Props::default()
    };
    Request::new(Bytes::from(bytes), id, None).with(props)
}

fn with(mut r: Request<u32>, f: impl FnOnce(&mut Props)) -> Request<u32> {
    f(&mut r.props);
    r
}

fn input(s: &mut Session<u32>, bytes: &[u8], now: u64) {
    s.handle_input(&mut BytesMut::from(bytes), now);
}

fn out_bytes(s: &Session<u32>) -> Vec<u8> {
    let mut io = Vec::new();
    s.out().slices(&mut io, 1024);
    io.iter().flat_map(|b| b.iter().copied()).collect()
}

/// The replies the session delivered, and whether it asked for the transport to be closed.
type Replies = Vec<(u32, Result<Bytes, crate::Error>)>;
fn drain_watching(s: &mut Session<u32>) -> (Replies, bool) {
    let mut answered = Vec::new();
    let mut disconnected = false;
    while let Some(ev) = s.poll_event() {
        match ev {
            Event::Reply(id, r) => answered.push((id, r)),
            Event::Disconnect => disconnected = true,
            _ => {}
        }
    }
    (answered, disconnected)
}

fn exclusive() -> Session<u32> {
    let mut c = cfg(true);
    c.mode = Mode::Exclusive;
    let mut s = Session::new(c);
    s.start(0);
    s.handle_connected(0);
    assert!(s.is_ready());
    drain(&mut s);
    s
}

/// Runs backoff and connect until the session is ready again, answering each setup step
/// with +OK; returns the time and the setup bytes it sent.
fn reconnect(s: &mut Session<u32>, mut now: u64) -> (u64, Vec<u8>) {
    let mut setup = Vec::new();
    for _ in 0..10 {
        if s.is_ready() {
            return (now, setup);
        }
        now = s.poll_timeout().expect("a reconnect is scheduled");
        s.handle_timeout(now);
        s.handle_connected(now);
        let pending = s.in_flight();
        if pending > 0 && !s.is_ready() {
            setup = out_bytes(s);
            s.handle_written(setup.len(), now);
            for _ in 0..pending {
                input(s, b"+OK\r\n", now);
            }
        }
    }
    panic!("never ready again");
}

#[test]
fn a_group_resolves_once_with_its_replies_in_order() {
    let mut s = ready(true);
    s.submit(group(1, &[PING, GET, PING], false), 0);
    s.submit(req(2, GET, None), 0);
    s.handle_written(out_bytes(&s).len(), 1);
    input(&mut s, b"+PONG\r\n$1\r\na\r\n", 2);
    assert!(drain(&mut s).is_empty(), "two of three replies: nothing yet");
    input(&mut s, b"+PONG\r\n$1\r\nb\r\n", 3);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 2);
    assert_eq!(answered[0].0, 1);
    assert_eq!(answered[0].1.as_deref().unwrap(), b"+PONG\r\n$1\r\na\r\n+PONG\r\n");
    assert_eq!(answered[1].0, 2);
    assert_eq!(answered[1].1.as_deref().unwrap(), b"$1\r\nb\r\n");
}

#[test]
fn a_loading_reply_inside_a_group_stays_in_its_place_and_is_not_retried() {
    let mut s = ready(true);
    s.submit(group(1, &[PING, GET, PING], false), 0);
    s.handle_written(out_bytes(&s).len(), 1);
    input(&mut s, b"+PONG\r\n-LOADING loading\r\n+PONG\r\n", 2);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].1.as_deref().unwrap(), b"+PONG\r\n-LOADING loading\r\n+PONG\r\n");
    assert!(s.out().is_empty(), "nothing of the group was sent again");
}

#[test]
fn a_transaction_cut_before_its_exec_went_out_is_resent_whole() {
    let mut s = ready(true);
    s.submit(group(1, &[MULTI, SET, EXEC], true), 0);
    // MULTI and SET written, EXEC not whole: nothing of it can have run.
    s.handle_written(MULTI.len() + SET.len() + 3, 1);
    s.handle_closed(crate::Error::connection("reset"), false, 2);
    assert!(drain(&mut s).is_empty(), "kept for a resend");
    let (now, _) = reconnect(&mut s, 2);
    assert_eq!(out_bytes(&s), [MULTI, SET, EXEC].concat(), "resent whole, in order");
    s.handle_written(MULTI.len() + SET.len() + EXEC.len(), now);
    input(&mut s, b"+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n", now + 1);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].1.as_deref().unwrap(), b"+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n");
}

#[test]
fn a_transaction_whose_exec_was_written_fails_maybe_executed_and_is_never_rerun() {
    let mut s = ready(true);
    s.submit(group(1, &[MULTI, SET, EXEC], true), 0);
    s.handle_written(MULTI.len() + SET.len() + EXEC.len(), 1);
    input(&mut s, b"+OK\r\n+QUEUED\r\n", 2);
    s.handle_closed(crate::Error::connection("reset"), false, 3);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 1);
    let err = answered[0].1.as_ref().unwrap_err();
    assert!(err.maybe_executed(), "{err:?}");
    reconnect(&mut s, 3);
    assert!(s.out().is_empty(), "never sent again");
}

#[test]
fn a_pipeline_whose_first_command_went_out_may_have_run() {
    let mut s = ready(true);
    s.submit(group(1, &[SET, GET], false), 0);
    s.handle_written(SET.len(), 1);
    s.handle_closed(crate::Error::connection("reset"), false, 2);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 1, "not resent: its SET may have run");
    assert!(answered[0].1.as_ref().unwrap_err().maybe_executed());
}

#[test]
fn resend_never_fails_even_unwritten_and_delivers_loading_as_it_is() {
    let mut s = ready(true);
    s.submit(with(req(1, PING, None), |p| p.resend = Resend::Never), 0);
    s.submit(with(req(2, GET, None), |p| p.resend = Resend::Never), 0);
    s.handle_written(PING.len(), 1);
    input(&mut s, b"-LOADING loading\r\n", 2);
    let answered = drain(&mut s);
    assert_eq!(answered[0].1.as_deref().unwrap(), b"-LOADING loading\r\n");
    s.handle_closed(crate::Error::connection("reset"), false, 3);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 1, "GET fails although it never went out");
    assert!(!answered[0].1.as_ref().unwrap_err().maybe_executed());
    reconnect(&mut s, 3);
    assert!(s.out().is_empty());
}

#[test]
fn resend_if_idempotent_sends_a_written_command_again() {
    let mut s = ready(true);
    s.submit(with(req(1, GET, None), |p| p.resend = Resend::IfIdempotent), 0);
    s.handle_written(GET.len(), 1);
    s.handle_closed(crate::Error::connection("reset"), false, 2);
    assert!(drain(&mut s).is_empty());
    let (now, _) = reconnect(&mut s, 2);
    assert_eq!(out_bytes(&s), GET);
    s.handle_written(GET.len(), now);
    input(&mut s, b"$1\r\nv\r\n", now);
    assert_eq!(drain(&mut s)[0].1.as_deref().unwrap(), b"$1\r\nv\r\n");
}

#[test]
fn an_abandoned_request_fails_alone_and_its_reply_is_dropped() {
    let mut s = ready(true);
    let slow = with(req(1, PING, Some(100)), |p| p.on_timeout = OnTimeout::Abandon);
    s.submit(slow, 0);
    s.submit(req(2, GET, Some(10_000)), 50);
    s.handle_written(PING.len() + GET.len(), 50);
    assert_eq!(s.poll_timeout(), Some(100));
    s.handle_timeout(100);
    let (answered, disconnected) = drain_watching(&mut s);
    assert!(!disconnected, "the connection is kept");
    assert_eq!(answered.len(), 1);
    let err = answered[0].1.as_ref().unwrap_err();
    assert!(err.is_timeout() && err.maybe_executed(), "{err:?}");
    assert_eq!(s.poll_timeout(), Some(10_000), "its deadline is gone");
    input(&mut s, b"+PONG\r\n$1\r\nv\r\n", 200);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 1, "the late +PONG went to nobody");
    assert_eq!(answered[0].0, 2);
    assert_eq!(answered[0].1.as_deref().unwrap(), b"$1\r\nv\r\n");
}

#[test]
fn an_abandoned_request_still_lets_read_timeout_reset_a_silent_connection() {
    let mut s = ready(true);
    s.submit(with(req(1, PING, Some(100)), |p| p.on_timeout = OnTimeout::Abandon), 0);
    s.submit(req(2, GET, None), 0);
    s.handle_written(PING.len() + GET.len(), 0);
    s.handle_timeout(100);
    assert_eq!(drain(&mut s).len(), 1);
    s.handle_sweep(2_900);
    assert!(drain(&mut s).is_empty(), "still within read_timeout");
    s.handle_sweep(3_000);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].0, 2);
    assert!(answered[0].1.as_ref().unwrap_err().to_string().contains("read_timeout"));
}

#[test]
fn one_late_request_asking_for_reset_resets_whatever_the_others_ask() {
    let mut s = ready(true);
    s.submit(with(req(1, PING, Some(100)), |p| p.on_timeout = OnTimeout::Abandon), 0);
    s.submit(req(2, GET, Some(100)), 0);
    s.submit(req(3, GET, None), 0);
    s.handle_written(PING.len() + 2 * GET.len(), 0);
    s.handle_timeout(100);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 3, "the reset fails everyone in flight: {answered:?}");
}

#[test]
fn a_blocking_request_resets_even_when_asked_to_abandon() {
    let mut s = ready(true);
    let blpop = with(req(1, GET, Some(100)), |p| {
        p.on_timeout = OnTimeout::Abandon;
        p.blocking = true;
    });
    s.submit(blpop, 0);
    s.handle_written(GET.len(), 0);
    s.handle_timeout(100);
    let (_, disconnected) = drain_watching(&mut s);
    assert!(disconnected);
}

#[test]
fn exclusive_watch_lost_fails_everything_until_the_transaction_ends() {
    let mut s = exclusive();
    assert!(!s.is_dirty());
    s.submit(with(req(1, WATCH, None), |p| p.effect = Effect::Watch), 0);
    s.handle_written(WATCH.len(), 1);
    input(&mut s, b"+OK\r\n", 2);
    assert!(drain(&mut s)[0].1.is_ok());
    assert!(s.is_dirty(), "keys watched");
    s.submit(req(2, GET, None), 3);
    s.handle_closed(crate::Error::connection("reset"), false, 4);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 1, "the GET behind the WATCH fails, not resent");
    assert!(answered[0].1.as_ref().unwrap_err().to_string().contains("WATCHed"));
    let (now, _) = reconnect(&mut s, 4);
    s.submit(with(req(3, MULTI, None), |p| p.effect = Effect::Multi), now);
    s.submit(with(req(4, EXEC, None), |p| p.effect = Effect::Exec), now);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 2, "MULTI and EXEC fail without reaching the server");
    assert!(answered.iter().all(|(_, r)| r.is_err()));
    assert!(s.out().is_empty());
    assert!(!s.is_dirty(), "EXEC ended the broken transaction");
    s.submit(req(5, GET, None), now);
    assert_eq!(out_bytes(&s), GET, "served again");
}

#[test]
fn exclusive_multi_lost_fails_what_was_queued_and_written() {
    let mut s = exclusive();
    s.submit(with(req(1, MULTI, None), |p| p.effect = Effect::Multi), 0);
    s.submit(req(2, SET, None), 0);
    // Nothing written yet, but MULTI is on its way: the state counts from the write.
    assert!(s.is_dirty());
    s.handle_written(MULTI.len(), 1);
    s.handle_closed(crate::Error::connection("reset"), false, 2);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 2);
    for (_, r) in &answered {
        assert!(r.as_ref().unwrap_err().to_string().contains("inside MULTI"), "{r:?}");
    }
}

#[test]
fn exclusive_select_becomes_a_setup_step_replayed_on_reconnect() {
    let mut s = exclusive();
    let select = with(req(1, SELECT, None), |p| p.effect = Effect::Setup(Step::Select));
    s.submit(select, 0);
    s.handle_written(SELECT.len(), 1);
    input(&mut s, b"+OK\r\n", 2);
    assert!(drain(&mut s)[0].1.is_ok());
    assert!(s.is_dirty(), "its database changed: not for the next owner");
    s.handle_closed(crate::Error::connection("reset"), false, 3);
    let (_, setup) = reconnect(&mut s, 3);
    assert_eq!(setup, SELECT, "the new connection selects the same database");
}

#[test]
fn shared_mode_does_not_track_transaction_state() {
    let mut s = ready(true);
    s.submit(with(req(1, MULTI, None), |p| p.effect = Effect::Multi), 0);
    s.handle_written(MULTI.len(), 1);
    input(&mut s, b"+OK\r\n", 2);
    drain(&mut s);
    assert!(!s.is_dirty());
}

#[test]
fn a_failed_select_does_not_become_a_setup_step() {
    let mut s = exclusive();
    let select = with(req(1, SELECT, None), |p| p.effect = Effect::Setup(Step::Select));
    s.submit(select, 0);
    s.handle_written(SELECT.len(), 1);
    input(&mut s, b"-ERR DB index is out of range\r\n", 2);
    drain(&mut s);
    assert!(!s.is_dirty());
    s.handle_closed(crate::Error::connection("reset"), false, 3);
    let (_, setup) = reconnect(&mut s, 3);
    assert!(setup.is_empty(), "no step was added: {:?}", String::from_utf8_lossy(&setup));
}

const BUSY: &[u8] = b"-BUSY Redis is busy running a script.\r\n";

#[test]
fn a_refused_exec_resets_the_connection_its_multi_stayed_open_on() {
    let mut s = ready(true);
    s.submit(group(1, &[MULTI, SET, EXEC], true), 0);
    s.handle_written(MULTI.len() + SET.len() + EXEC.len(), 1);
    let reply = [&b"+OK\r\n+QUEUED\r\n"[..], BUSY].concat();
    input(&mut s, &reply, 2);
    let (answered, disconnected) = drain_watching(&mut s);
    assert!(disconnected, "the server still has the MULTI open");
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].1.as_deref().unwrap(), &reply[..], "nothing behind: it did not run");
}

#[test]
fn a_refused_exec_with_commands_behind_it_may_have_run() {
    let mut s = ready(true);
    s.submit(group(1, &[MULTI, SET, EXEC], true), 0);
    s.submit(req(2, GET, None), 0);
    s.handle_written(MULTI.len() + SET.len() + EXEC.len() + GET.len(), 1);
    input(&mut s, &[&b"+OK\r\n+QUEUED\r\n"[..], BUSY, b"+QUEUED\r\n"].concat(), 2);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 2);
    for (_, r) in &answered {
        let err = r.as_ref().unwrap_err();
        assert!(err.maybe_executed(), "{err:?}");
    }
}

#[test]
fn an_exclusive_exec_refused_is_delivered_not_retried_and_resets() {
    let mut s = exclusive();
    s.submit(with(req(1, MULTI, None), |p| p.effect = Effect::Multi), 0);
    s.submit(req(2, SET, None), 0);
    s.submit(with(req(3, EXEC, None), |p| p.effect = Effect::Exec), 0);
    s.handle_written(MULTI.len() + SET.len() + EXEC.len(), 1);
    input(&mut s, &[&b"+OK\r\n+QUEUED\r\n"[..], BUSY].concat(), 2);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 3);
    assert_eq!(answered[2].1.as_deref().unwrap(), BUSY);
    assert!(!s.is_dirty(), "the reset dropped the server's transaction");
    let (now, _) = reconnect(&mut s, 2);
    s.submit(req(4, GET, None), now);
    assert_eq!(out_bytes(&s), GET, "served on the new connection");
}

#[test]
fn an_abandoned_transaction_whose_exec_is_refused_still_resets() {
    let mut s = ready(true);
    let tx = with(group(1, &[MULTI, SET, EXEC], true), |p| p.on_timeout = OnTimeout::Abandon);
    s.submit(Request { deadline: Some(10), ..tx }, 0);
    s.handle_written(MULTI.len() + SET.len() + EXEC.len(), 1);
    s.handle_timeout(10);
    assert_eq!(drain(&mut s).len(), 1, "abandoned");
    input(&mut s, &[&b"+OK\r\n+QUEUED\r\n"[..], BUSY].concat(), 20);
    let (_, disconnected) = drain_watching(&mut s);
    assert!(disconnected, "the server still has the MULTI open");
}

#[test]
fn a_late_exec_reply_does_not_end_the_transaction_opened_after_it() {
    let mut s = exclusive();
    s.submit(with(req(1, MULTI, None), |p| p.effect = Effect::Multi), 0);
    s.submit(
        with(req(2, EXEC, Some(10)), |p| {
            p.effect = Effect::Exec;
            p.on_timeout = OnTimeout::Abandon;
        }),
        0,
    );
    s.handle_written(MULTI.len() + EXEC.len(), 1);
    s.handle_timeout(10);
    s.submit(with(req(3, MULTI, None), |p| p.effect = Effect::Multi), 11);
    s.handle_written(MULTI.len(), 11);
    input(&mut s, b"+OK\r\n*0\r\n+OK\r\n", 12);
    drain(&mut s);
    s.submit(req(4, SET, None), 13);
    s.handle_closed(crate::Error::connection("reset"), false, 14);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 1);
    assert!(answered[0].1.as_ref().unwrap_err().to_string().contains("inside MULTI"));
}

#[test]
fn discard_without_multi_keeps_the_watches_and_the_connection_dirty() {
    let mut s = exclusive();
    s.submit(with(req(1, WATCH, None), |p| p.effect = Effect::Watch), 0);
    s.submit(with(req(2, b"*1\r\n$7\r\nDISCARD\r\n", None), |p| p.effect = Effect::Discard), 0);
    s.handle_written(out_bytes(&s).len(), 1);
    input(&mut s, b"+OK\r\n-ERR DISCARD without MULTI\r\n", 2);
    drain(&mut s);
    assert!(s.is_dirty(), "the server still watches the key: not for the next owner");
}

#[test]
fn an_atomic_group_after_watch_ends_the_watch_with_its_exec() {
    let mut s = exclusive();
    s.submit(with(req(1, WATCH, None), |p| p.effect = Effect::Watch), 0);
    s.handle_written(WATCH.len(), 1);
    input(&mut s, b"+OK\r\n", 2);
    drain(&mut s);
    assert!(s.is_dirty(), "keys watched");
    // watch_multi's MULTI … EXEC: one atomic group whose effect is the EXEC's
    let tx = with(group(2, &[MULTI, SET, EXEC], true), |p| p.effect = Effect::Exec);
    s.submit(tx, 3);
    let out = out_bytes(&s);
    s.handle_written(out.len(), 4);
    input(&mut s, b"+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n", 5);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 1, "one reply for the group");
    assert!(answered[0].1.is_ok());
    assert!(!s.is_dirty(), "EXEC ended the transaction and the watch");
}

#[test]
fn an_atomic_group_cut_after_watch_fails_as_a_lost_transaction() {
    let mut s = exclusive();
    s.submit(with(req(1, WATCH, None), |p| p.effect = Effect::Watch), 0);
    s.handle_written(WATCH.len(), 1);
    input(&mut s, b"+OK\r\n", 2);
    drain(&mut s);
    let tx = with(group(2, &[MULTI, SET, EXEC], true), |p| p.effect = Effect::Exec);
    s.submit(tx, 3);
    s.handle_written(MULTI.len(), 4);
    s.handle_closed(crate::Error::connection("reset"), false, 5);
    let answered = drain(&mut s);
    assert_eq!(answered.len(), 1);
    assert!(answered[0].1.is_err(), "never rerun without its WATCH");
}
