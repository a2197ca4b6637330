//! The command surface on a receiver of its own: every generated method and option works on
//! any receiver that implements the seam, with nothing copied.

use std::cell::RefCell;

use super::*;
use crate::commands::args::Side;
use crate::error::Error;

/// A receiver that keeps what it is given, as a pipeline will.
struct Recorder {
    prefix: Option<&'static [u8]>,
    log: RefCell<Vec<Vec<String>>>,
}

impl sealed::Sealed for Recorder {}
impl Receiver for Recorder {
    type Built<'r, T, O> = Cmd<'r, T, Recorder, O>;

    fn build<'r, T, O>(_: &'r Commands<Self>, cmd: Cmd<'r, T, Self, O>) -> Self::Built<'r, T, O> {
        cmd
    }
}
impl Exclusive for Recorder {}

impl<T, O> Cmd<'_, T, Recorder, O> {
    /// The receiver's finishing method: the arguments as they would be sent.
    fn record(self) -> Result<Vec<String>, Error> {
        let receiver = self.receiver_for_tests();
        let (_, buf) = self.prepare(receiver.prefix)?;
        let args: Vec<String> =
            buf.args().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        receiver.log.borrow_mut().push(args.clone());
        Ok(args)
    }
}

fn recorder(prefix: Option<&'static [u8]>) -> Commands<Recorder> {
    Commands::new(Recorder { prefix, log: RefCell::new(Vec::new()) })
}

fn args(cmd: impl FnOnce() -> Result<Vec<String>, Error>) -> Vec<String> {
    cmd().unwrap()
}

#[test]
fn options_come_out_in_syntax_order_whatever_the_call_order() {
    let r = recorder(None);
    assert_eq!(
        args(|| r.set("k", "v").ex(10).nx().get().record()),
        ["SET", "k", "v", "NX", "GET", "EX", "10"]
    );
    assert_eq!(
        args(|| r.set("k", "v").ex(10).px(5).xx().nx().record()),
        ["SET", "k", "v", "NX", "PX", "5"]
    );
    assert_eq!(
        args(|| r.zrange("z", 0, -1).withscores().rev().record()),
        ["ZRANGE", "z", "0", "-1", "REV", "WITHSCORES"]
    );
    assert_eq!(
        args(|| r.zrange("z", "(1", "+inf").limit(0, 10).by_score().record()),
        ["ZRANGE", "z", "(1", "+inf", "BYSCORE", "LIMIT", "0", "10"]
    );
    assert_eq!(
        args(|| r.xadd("s", "*", [("f", "v")]).maxlen_approx(1000).nomkstream().record()),
        ["XADD", "s", "NOMKSTREAM", "MAXLEN", "~", "1000", "*", "f", "v"]
    );
    assert_eq!(
        args(|| r.scan(0).type_("hash").count(100).match_("user:*").record()),
        ["SCAN", "0", "MATCH", "user:*", "COUNT", "100", "TYPE", "hash"]
    );
    assert_eq!(args(|| r.expire("k", 10).nx().record()), ["EXPIRE", "k", "10", "NX"]);
    assert_eq!(
        args(|| r.lmove("a", "b", Side::Left, Side::Right).record()),
        ["LMOVE", "a", "b", "LEFT", "RIGHT"]
    );
    assert_eq!(
        args(|| r.sort("l").get("#").get("o_*").alpha().record()),
        ["SORT", "l", "GET", "#", "GET", "o_*", "ALPHA"]
    );
    assert_eq!(
        args(|| r
            .bitfield("b")
            .incrby("u8", 0, 1)
            .overflow(crate::commands::args::Overflow::Sat)
            .get("i4", 8)
            .record()),
        ["BITFIELD", "b", "INCRBY", "u8", "0", "1", "OVERFLOW", "SAT", "GET", "i4", "8"]
    );
}

#[test]
fn key_counts_are_computed() {
    let r = recorder(None);
    assert_eq!(
        args(|| r.eval("return 1", ["a", "b"]).arg("x").record()),
        ["EVAL", "return 1", "2", "a", "b", "x"]
    );
    assert_eq!(
        args(|| r.zunionstore("d", ["a", "b"]).weights([1, 2]).record()),
        ["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"]
    );
    assert_eq!(
        args(|| r.lmpop(["a"], Side::Left).count(2).record()),
        ["LMPOP", "1", "a", "LEFT", "COUNT", "2"]
    );
}

#[test]
fn a_prefix_applies_on_every_receiver_and_path() {
    let r = recorder(Some(b"app:"));
    assert_eq!(args(|| r.set("k", "v").ex(1).record()), ["SET", "app:k", "v", "EX", "1"]);
    assert_eq!(
        args(|| r.xadd("s", "*", [("f", "v")]).maxlen(5).record()),
        ["XADD", "app:s", "MAXLEN", "5", "*", "f", "v"]
    );
    assert_eq!(args(|| r.cmd("GET").arg("k").record()), ["GET", "app:k"]);
    assert_eq!(
        args(|| r.cmd("MODULE.CMD").key("k").arg("v").record()),
        ["MODULE.CMD", "app:k", "v"]
    );
    assert_eq!(args(|| r.get("global").no_prefix().record()), ["GET", "global"]);
    assert!(matches!(r.cmd("MODULE.CMD").arg("k").record(), Err(Error::Usage(_))));
    assert_eq!(r.receiver.log.borrow().len(), 5);
}

#[test]
fn a_prefix_with_glob_characters_is_escaped_in_key_patterns_only() {
    let r = recorder(Some(b"t[1]:"));
    assert_eq!(args(|| r.keys("u*").record()), ["KEYS", "t\\[1\\]:u*"]);
    assert_eq!(
        args(|| r.scan(0).count(10).match_("u*").record()),
        ["SCAN", "0", "MATCH", "t\\[1\\]:u*", "COUNT", "10"]
    );
    assert_eq!(args(|| r.cmd("scan").arg(0).arg("match").arg("x").record())[3], "t\\[1\\]:x");
    assert_eq!(args(|| r.get("k").record()), ["GET", "t[1]:k"], "keys are not globs");
    assert_eq!(
        args(|| r.sort("l").by("w_*").get("#").record()),
        ["SORT", "t[1]:l", "BY", "t[1]:w_*", "GET", "#"]
    );
    let r = recorder(Some(b"a*:"));
    assert!(matches!(r.sort("l").by("w_*").record(), Err(Error::Usage(_))));
    assert!(matches!(r.sort_ro("l").get("o_*").record(), Err(Error::Usage(_))));
    assert_eq!(args(|| r.sort("l").get("#").record()), ["SORT", "a*:l", "GET", "#"]);
    assert_eq!(args(|| r.keys("*").record()), ["KEYS", "a\\*:*"]);
}

#[test]
fn exclusive_receivers_get_the_connection_state_commands() {
    let r = recorder(None);
    assert_eq!(args(|| r.multi().record()), ["MULTI"]);
    assert_eq!(args(|| r.watch(["a", "b"]).record()), ["WATCH", "a", "b"]);
    assert_eq!(args(|| r.client_reply(crate::commands::args::ReplyMode::On).record()).len(), 3);
}
