//! Which commands block server-side, and for how long: the reactor sets the client deadline of
//! a blocking command to the server timeout plus `blocking_timeout_buffer`, and none when the
//! server blocks forever.

use std::ptr;

use super::flags::CommandFlags;
use super::info::CommandInfo;
use super::table;

/// The server-side timeout of a blocking command (see [`is_blocking`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockTimeout {
    /// The timeout is 0: the server blocks until the command can be served.
    Forever,
    /// The server replies after at most this many milliseconds (a nil or a count) if nothing
    /// arrives before.
    Millis(u64),
    /// The arity is wrong or the timeout is not valid (negative, not a number, out of range):
    /// the server replies an error at once, so an ordinary request deadline applies.
    Invalid,
}

/// Whether the command blocks the connection server-side and, if so, its timeout.
///
/// Blocking: `BLPOP`, `BRPOP`, `BRPOPLPUSH`, `BLMOVE`, `BLMPOP`, `BZPOPMIN`, `BZPOPMAX`,
/// `BZMPOP` (timeout in seconds, a float: at the end, or argv\[1\] for the `MPOP`s), `XREAD`
/// and `XREADGROUP` only with `BLOCK ms`, `WAIT` (argv\[2\], ms) and `WAITAOF` (argv\[3\], ms).
/// Returns `None` for every other command. `info` must be the command that `args` runs.
///
/// The value is parsed as the server does (seconds × 1000 rounded up; `string2ll` for
/// milliseconds; with several `BLOCK` options the last one counts). Float seconds are computed
/// in `f64` where the server uses `long double`, which can differ by 1 ms, and values below
/// 1e-308 s read as 0. Inside `MULTI` or a script these commands do not block; callers that
/// queue them in a transaction should not treat them as blocking.
///
/// # Examples
///
/// ```
/// use redpoll::commands::{is_blocking, lookup, BlockTimeout};
/// let check = |args: &[&str]| is_blocking(lookup(args).unwrap(), args);
/// assert_eq!(check(&["BLPOP", "a", "b", "1.5"]), Some(BlockTimeout::Millis(1500)));
/// assert_eq!(check(&["BLPOP", "a", "0"]), Some(BlockTimeout::Forever));
/// assert_eq!(check(&["XREAD", "BLOCK", "250", "STREAMS", "s", "$"]), Some(BlockTimeout::Millis(250)));
/// assert_eq!(check(&["XREAD", "STREAMS", "s", "0"]), None);
/// assert_eq!(check(&["GET", "k"]), None);
/// ```
pub fn is_blocking<A: AsRef<[u8]>>(info: &CommandInfo, args: &[A]) -> Option<BlockTimeout> {
    let is = |command: &CommandInfo| ptr::eq(info, command);
    if !info.flags.contains(CommandFlags::BLOCKING) && !is(&table::WAIT) && !is(&table::WAITAOF) {
        return None;
    }
    if is(&table::XREAD) || is(&table::XREADGROUP) {
        return xread_block(args, is(&table::XREADGROUP));
    }
    if !info.accepts_argc(args.len()) {
        return Some(BlockTimeout::Invalid);
    }
    let timeout = |index: usize, parse: fn(&[u8]) -> BlockTimeout| {
        Some(args.get(index).map_or(BlockTimeout::Invalid, |a| parse(a.as_ref())))
    };
    if is(&table::WAIT) {
        timeout(2, millis)
    } else if is(&table::WAITAOF) {
        timeout(3, millis)
    } else if is(&table::BLMPOP) || is(&table::BZMPOP) {
        timeout(1, seconds)
    } else {
        // BLPOP BRPOP BRPOPLPUSH BLMOVE BZPOPMIN BZPOPMAX: the timeout is the last argument.
        // A future command with the blocking flag that this code does not know lands here
        // too; its last argument may not be a timeout, so only trust a valid one.
        timeout(args.len().wrapping_sub(1), seconds)
    }
}

/// `xreadCommand`'s option scan: `None` without `BLOCK`.
fn xread_block<A: AsRef<[u8]>>(args: &[A], group: bool) -> Option<BlockTimeout> {
    let mut block = None;
    let mut i = 1;
    let argc = args.len();
    while i < argc {
        let more = argc - i - 1;
        let arg = args[i].as_ref();
        if arg.eq_ignore_ascii_case(b"BLOCK") && more > 0 {
            i += 1;
            let timeout = millis(args[i].as_ref());
            block = Some(timeout);
            if timeout == BlockTimeout::Invalid {
                return block;
            }
        } else if arg.eq_ignore_ascii_case(b"COUNT") && more > 0 {
            i += 1;
            if string2ll(args[i].as_ref()).is_none() {
                return block.map(|_| BlockTimeout::Invalid);
            }
        } else if arg.eq_ignore_ascii_case(b"STREAMS") && more > 0 {
            return if more % 2 == 0 { block } else { block.map(|_| BlockTimeout::Invalid) };
        } else if group && arg.eq_ignore_ascii_case(b"GROUP") && more >= 2 {
            i += 2;
        } else if !(group && arg.eq_ignore_ascii_case(b"NOACK")) {
            break; // a syntax error
        }
        i += 1;
    }
    // No STREAMS: the server replies a syntax error.
    block.map(|_| BlockTimeout::Invalid)
}

/// A timeout in milliseconds (`UNIT_MILLISECONDS`): a `string2ll` integer >= 0.
fn millis(arg: &[u8]) -> BlockTimeout {
    match string2ll(arg) {
        Some(0) => BlockTimeout::Forever,
        Some(ms) if ms > 0 => BlockTimeout::Millis(ms as u64),
        _ => BlockTimeout::Invalid,
    }
}

/// A timeout in seconds (`UNIT_SECONDS`): a float, times 1000, rounded up, >= 0.
fn seconds(arg: &[u8]) -> BlockTimeout {
    // string2ld: not empty, < 5 KiB, no leading space, the whole string a finite number.
    let parsed = match std::str::from_utf8(arg) {
        Ok(s) if !s.is_empty() && s.len() < 5 * 1024 && !s.starts_with(char::is_whitespace) => {
            s.parse::<f64>().ok()
        }
        _ => None,
    };
    let Some(secs) = parsed.filter(|v| v.is_finite()) else {
        return BlockTimeout::Invalid;
    };
    let ms = (secs * 1000.0).ceil();
    // "timeout is out of range" / "timeout is negative".
    if !(0.0..9.223_372_036_854_775e18).contains(&ms) {
        BlockTimeout::Invalid
    } else if ms == 0.0 {
        BlockTimeout::Forever // includes -0.0004, which rounds up to -0
    } else {
        BlockTimeout::Millis(ms as u64)
    }
}

fn string2ll(arg: &[u8]) -> Option<i64> {
    super::getkeys::string2ll(arg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::lookup;

    fn check(args: &[&str]) -> Option<BlockTimeout> {
        is_blocking(lookup(args).unwrap(), args)
    }

    #[test]
    fn list_and_zset_pops_in_seconds() {
        use BlockTimeout::*;
        assert_eq!(check(&["BLPOP", "k1", "k2", "5"]), Some(Millis(5000)));
        assert_eq!(check(&["brpop", "k", "0.25"]), Some(Millis(250)));
        assert_eq!(check(&["BZPOPMIN", "z", "0"]), Some(Forever));
        assert_eq!(check(&["BZPOPMAX", "z", "0.0001"]), Some(Millis(1)));
        assert_eq!(check(&["BRPOPLPUSH", "a", "b", "2"]), Some(Millis(2000)));
        assert_eq!(check(&["BLMOVE", "a", "b", "LEFT", "RIGHT", "1e1"]), Some(Millis(10000)));
        assert_eq!(check(&["BLMPOP", "3", "2", "a", "b", "LEFT"]), Some(Millis(3000)));
        assert_eq!(check(&["BZMPOP", "0", "1", "z", "MIN", "COUNT", "2"]), Some(Forever));
        assert_eq!(check(&["BLPOP", "k", "-1"]), Some(Invalid));
        assert_eq!(check(&["BLPOP", "k", "-0.0001"]), Some(Forever));
        for bad in ["x", "", " 1", "1 ", "inf", "nan", "1e300"] {
            assert_eq!(check(&["BLPOP", "k", bad]), Some(Invalid), "{bad:?}");
        }
        assert_eq!(check(&["BLPOP", "k"]), Some(Invalid), "arity");
        assert_eq!(check(&["BLMOVE", "a", "b", "LEFT", "RIGHT"]), Some(Invalid), "arity");
    }

    #[test]
    fn wait_in_millis() {
        use BlockTimeout::*;
        assert_eq!(check(&["WAIT", "1", "100"]), Some(Millis(100)));
        assert_eq!(check(&["WAIT", "1", "0"]), Some(Forever));
        assert_eq!(check(&["WAIT", "1", "1.5"]), Some(Invalid));
        assert_eq!(check(&["WAITAOF", "1", "0", "2000"]), Some(Millis(2000)));
    }

    #[test]
    fn streams_only_with_block() {
        use BlockTimeout::*;
        assert_eq!(check(&["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"]), None);
        assert_eq!(check(&["XREAD", "BLOCK", "0", "STREAMS", "a", "$"]), Some(Forever));
        assert_eq!(
            check(&["xread", "count", "1", "block", "10", "streams", "a", "$"]),
            Some(Millis(10))
        );
        assert_eq!(
            check(&["XREAD", "BLOCK", "10", "BLOCK", "20", "STREAMS", "a", "$"]),
            Some(Millis(20)),
            "the last BLOCK counts"
        );
        assert_eq!(check(&["XREAD", "BLOCK", "-1", "STREAMS", "a", "$"]), Some(Invalid));
        assert_eq!(check(&["XREAD", "BLOCK", "10", "STREAMS", "a", "b", "$"]), Some(Invalid));
        assert_eq!(check(&["XREAD", "BLOCK", "10", "NOACK", "STREAMS", "a", "$"]), Some(Invalid));
        let group = ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "5", "NOACK", "STREAMS", "s", ">"];
        assert_eq!(check(&group), Some(Millis(5)));
        assert_eq!(check(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]), None);
        // "BLOCK" as the group name is not the option.
        assert_eq!(check(&["XREADGROUP", "GROUP", "BLOCK", "c", "STREAMS", "s", ">"]), None);
    }

    #[test]
    fn others_do_not_block() {
        for args in
            [&["GET", "k"][..], &["LPOP", "k"], &["SUBSCRIBE", "c"], &["CLIENT", "PAUSE", "10"]]
        {
            assert_eq!(check(args), None, "{args:?}");
        }
    }
}
