//! Sans-IO scenarios of pub/sub: confirmations counted against their request between
//! messages, routing to sinks, the subscriber mode's refusals, RESP3 pushes beside replies,
//! refusals of a subscribe, and the resubscribe setup after a lost connection.

use bytes::{Bytes, BytesMut};

use super::tests::{cfg, req};
use super::{Event, Mode, Session};
use crate::proto::pubsub::Kind;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn session(mode: Mode) -> Session<u32> {
    let mut c = cfg(true);
    c.mode = mode;
    let mut s = Session::new(c);
    s.start(0);
    s.handle_connected(0);
    assert!(s.is_ready());
    while s.poll_event().is_some() {}
    s
}

fn input(s: &mut Session<u32>, bytes: &[u8], now: u64) {
    s.handle_input(&mut BytesMut::from(bytes), now);
}

/// Writes everything queued; returns it.
fn written(s: &mut Session<u32>, now: u64) -> Vec<u8> {
    let mut io = Vec::new();
    s.out().slices(&mut io, 1024);
    let bytes: Vec<u8> = io.iter().flat_map(|b| b.iter().copied()).collect();
    s.handle_written(bytes.len(), now);
    bytes
}

#[derive(Debug, PartialEq)]
enum Seen {
    Reply(u32, String),
    Failed(u32, String),
    Message(u64, String),
    Resubscribed(u64),
    End(u64),
    Push(String),
    Disconnect,
}

fn events(s: &mut Session<u32>) -> Vec<Seen> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).replace("\r\n", " ");
    let mut out = Vec::new();
    while let Some(ev) = s.poll_event() {
        out.push(match ev {
            Event::Reply(id, Ok(f)) => Seen::Reply(id, text(&f)),
            Event::Reply(id, Err(e)) => Seen::Failed(id, e.to_string()),
            Event::Message(sink, f) => Seen::Message(sink, text(&f)),
            Event::Resubscribed(sink) => Seen::Resubscribed(sink),
            Event::SinkEnd(sink, _) => Seen::End(sink),
            Event::Push(f) => Seen::Push(text(&f)),
            Event::Disconnect => Seen::Disconnect,
            _ => continue,
        });
    }
    out
}

const SUB_A: &[u8] = b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n";
const SUB_B: &[u8] = b"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n";
const MSG_A: &[u8] = b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n";

#[test]
fn confirmations_complete_their_request_between_messages() {
    let mut s = session(Mode::Subscriber);
    s.subscribe(7, Kind::Channel, &[b("a"), b("b")], 1, None, 0);
    assert_eq!(written(&mut s, 0), b"*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n");
    input(&mut s, &[SUB_A, MSG_A].concat(), 1);
    assert_eq!(events(&mut s), [Seen::Message(7, "*3 $7 message $1 a $2 hi ".into())]);
    input(&mut s, SUB_B, 2);
    assert_eq!(events(&mut s), [Seen::Reply(1, "+OK ".into())]);
    // A second sink on a held channel: sent again (answered by its own confirmation, in
    // order with the server's other answers); messages reach both from the call on.
    s.subscribe(8, Kind::Channel, &[b("a")], 2, None, 3);
    assert_eq!(written(&mut s, 3), b"*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n");
    input(&mut s, &[MSG_A, SUB_A].concat(), 4);
    let seen = events(&mut s);
    assert!(matches!(seen[..2], [Seen::Message(7, _), Seen::Message(8, _)]), "{seen:?}");
    assert_eq!(seen[2], Seen::Reply(2, "+OK ".into()));
    // Sink 7 lets go of `a`: sink 8 still holds it, so no UNSUBSCRIBE; 7 stops hearing it.
    s.unsubscribe(7, Kind::Channel, Some(&[b("a")]), Some(3), None, 5);
    assert!(written(&mut s, 5).is_empty());
    input(&mut s, MSG_A, 6);
    assert!(matches!(events(&mut s)[..], [Seen::Reply(3, _), Seen::Message(8, _)]));
    // The last holder goes: UNSUBSCRIBE, confirmations read and dropped.
    s.drop_sink(8, 7);
    assert_eq!(written(&mut s, 7), b"*2\r\n$11\r\nUNSUBSCRIBE\r\n$1\r\na\r\n");
    input(&mut s, b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n", 8);
    assert_eq!(events(&mut s), []);
    assert_eq!(s.in_flight(), 0);
}

#[test]
fn the_subscriber_mode_refuses_other_commands_without_sending_them() {
    let mut s = session(Mode::Subscriber);
    s.submit(req(1, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", None), 0);
    let seen = events(&mut s);
    assert!(matches!(&seen[..], [Seen::Failed(1, e)] if e.contains("subscriber mode")), "{seen:?}");
    assert!(written(&mut s, 0).is_empty(), "never written");
    // And a dedicated (exclusive) connection takes no subscription.
    let mut s = session(Mode::Exclusive);
    s.subscribe(1, Kind::Channel, &[b("a")], 2, None, 0);
    assert!(matches!(&events(&mut s)[..], [Seen::Failed(2, _)]));
    assert!(written(&mut s, 0).is_empty());
}

#[test]
fn resp3_pushes_pass_beside_replies() {
    let mut s = session(Mode::Shared);
    s.submit(req(1, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", None), 0);
    s.subscribe(5, Kind::Pattern, &[b("p*")], 2, None, 0);
    s.submit(req(3, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", None), 0);
    written(&mut s, 0);
    let pmsg = b">4\r\n$8\r\npmessage\r\n$2\r\np*\r\n$2\r\npx\r\n$1\r\nm\r\n";
    let inval = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n";
    let confirm = b">3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:1\r\n";
    // An invalidation before the first reply, the confirmation, a message between replies.
    input(&mut s, &[&inval[..], b"$1\r\nv\r\n", confirm, pmsg, b"$1\r\nw\r\n"].concat(), 1);
    let seen = events(&mut s);
    assert_eq!(seen[0], Seen::Push("2 $10 invalidate *1 $1 k ".replace('2', ">2")));
    assert_eq!(seen[1], Seen::Reply(1, "$1 v ".into()));
    assert_eq!(seen[2], Seen::Reply(2, "+OK ".into()));
    assert!(matches!(seen[3], Seen::Message(5, _)));
    assert_eq!(seen[4], Seen::Reply(3, "$1 w ".into()));
    // In RESP2 outside the subscriber mode an array that looks like a message is a reply.
    s.submit(req(4, b"*3\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n", None), 2);
    written(&mut s, 2);
    input(&mut s, MSG_A, 3);
    assert!(matches!(&events(&mut s)[..], [Seen::Reply(4, _)]));
}

#[test]
fn a_refused_subscribe_forgets_its_names() {
    let mut s = session(Mode::Subscriber);
    s.subscribe(1, Kind::Channel, &[b("x"), b("y")], 1, None, 0);
    written(&mut s, 0);
    input(&mut s, b"-NOPERM this user has no permissions to access the 'x' channel\r\n", 1);
    let seen = events(&mut s);
    assert!(matches!(&seen[..], [Seen::Reply(1, r)] if r.starts_with("-NOPERM")), "{seen:?}");
    assert!(!s.has_subscriptions(), "x and y forgotten");
    // So subscribing again sends them again.
    s.subscribe(1, Kind::Channel, &[b("x")], 2, None, 2);
    assert_eq!(written(&mut s, 2), b"*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nx\r\n");
}

#[test]
fn a_new_connection_subscribes_everything_again_before_requests() {
    let mut s = session(Mode::Subscriber);
    s.subscribe(1, Kind::Channel, &[b("a")], 1, None, 0);
    s.subscribe(2, Kind::Pattern, &[b("p*")], 2, None, 0);
    written(&mut s, 0);
    input(&mut s, SUB_A, 1);
    input(&mut s, b"*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:2\r\n", 1);
    events(&mut s);
    s.handle_closed(crate::Error::connection("gone"), true, 2);
    // A subscribe while down waits for the connection: the setup replays only what the
    // server had confirmed, the request goes out by itself once ready.
    s.subscribe(1, Kind::Shard, &[b("s")], 3, None, 2);
    let now = s.poll_timeout().unwrap();
    s.handle_timeout(now);
    s.handle_connected(now);
    assert!(!s.is_ready(), "the resubscribe is part of the setup");
    let setup = written(&mut s, now);
    assert_eq!(
        setup,
        [&b"*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n"[..], b"*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\np*\r\n",]
            .concat()
    );
    input(&mut s, SUB_A, now);
    input(&mut s, b"*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:2\r\n", now);
    assert!(s.is_ready());
    let seen = events(&mut s);
    assert!(seen.contains(&Seen::Resubscribed(1)) && seen.contains(&Seen::Resubscribed(2)));
    // The queued request goes out once ready and gets its own confirmation.
    assert_eq!(written(&mut s, now), b"*2\r\n$10\r\nSSUBSCRIBE\r\n$1\r\ns\r\n");
    input(&mut s, b"*3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:3\r\n", now);
    assert_eq!(events(&mut s), [Seen::Reply(3, "+OK ".into())]);
}

#[test]
fn a_refused_resubscribe_ends_its_sinks_and_the_setup_goes_on() {
    let mut s = session(Mode::Subscriber);
    s.subscribe(1, Kind::Channel, &[b("a")], 1, None, 0);
    written(&mut s, 0);
    input(&mut s, SUB_A, 1);
    events(&mut s);
    s.handle_closed(crate::Error::connection("gone"), true, 2);
    let now = s.poll_timeout().unwrap();
    s.handle_timeout(now);
    s.handle_connected(now);
    written(&mut s, now);
    input(&mut s, b"-NOPERM no permissions to access the 'a' channel\r\n", now);
    assert!(s.is_ready());
    assert_eq!(events(&mut s), [Seen::End(1)]);
    assert!(!s.has_subscriptions());
}

#[test]
fn unsubscribing_while_down_sends_nothing() {
    let mut s = session(Mode::Subscriber);
    s.subscribe(1, Kind::Channel, &[b("a")], 1, None, 0);
    written(&mut s, 0);
    input(&mut s, SUB_A, 1);
    events(&mut s);
    s.handle_closed(crate::Error::connection("gone"), true, 2);
    s.unsubscribe(1, Kind::Channel, None, Some(2), None, 2);
    assert_eq!(events(&mut s), [Seen::Reply(2, "+OK ".into())]);
    let now = s.poll_timeout().unwrap();
    s.handle_timeout(now);
    s.handle_connected(now);
    assert!(s.is_ready(), "nothing to subscribe again");
    assert!(written(&mut s, now).is_empty());
}
