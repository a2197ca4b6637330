//! Key positions of a concrete command: Redis's `getKeysFromCommandWithSpecs`, without
//! allocating.
//!
//! # What is handled, and how
//!
//! [`key_indices`] returns what `COMMAND GETKEYS` of Redis 7.2.6 returns, in the same order:
//!
//! 1. When the command has a key spec that is not `not_key` and none with `variable_flags`,
//!    the key specs are run exactly as `getKeysUsingKeySpecs` (`src/db.c`) runs them: `index`
//!    and `keyword` begin-searches (`startfrom` > 0 forwards, < 0 backwards, the keyword missing
//!    means no keys from that spec), `range` (`lastkey` >= 0, -1/-2 from the end, `limit`
//!    halves for XREAD/XREADGROUP) and `keynum` (the count parsed as strictly as `string2ll`).
//!    This alone is exact for every command but the five below, including the keyword commands
//!    (XREAD, XREADGROUP, GEORADIUS, GEORADIUSBYMEMBER), all 18 keynum commands (EVAL, FCALL,
//!    LMPOP, ZUNIONSTORE, ...) and the keystep-2 ones (MSET, MSETNX).
//! 2. When a spec is `unknown` or `incomplete`, `variable_flags` is set, or the specs do not fit
//!    the arguments (a keynum count of 0, a missing argument), the server falls back to the
//!    command's hand-written `get_keys_function`, and so does this module (all 15 of them):
//!    - `SORT`: the sorted key and the last `STORE` destination; the `BY`/`GET` patterns are
//!      not keys (the server derives key names from them at run time) and are skipped;
//!    - `SORT_RO`: the sorted key;
//!    - `MIGRATE`: argv\[3\], or with `KEYS` only the keys after it (argv\[3\] is then `""`);
//!    - `SET`, `BITFIELD` (`variable_flags`): argv\[1\];
//!    - the others only matter for malformed input (e.g. `EVAL s 0`: no keys).
//!
//! Every index returned is `< args.len()`, even for arguments that break the arity.
//!
//! # Not covered (the caller must special-case these where it matters)
//!
//! - Shard channels (`SPUBLISH`, `SSUBSCRIBE`, `SUNSUBSCRIBE`, `not_key` specs) are not keys:
//!   [`key_indices`] omits them, [`slot_indices`] includes them for cluster routing.
//! - Key names inside non-key arguments: `KEYS pattern` and `SCAN ... MATCH pattern` (key
//!   patterns), `SORT`/`SORT_RO` `BY`/`GET` patterns (prefix them, except `GET #`), `CLIENT
//!   TRACKING ... PREFIX p`, `CLUSTER KEYSLOT key`, `DEBUG OBJECT key` (DEBUG has no spec),
//!   whole commands embedded in `COMMAND GETKEYS`/`GETKEYSANDFLAGS` and `ACL DRYRUN`, ACL key
//!   patterns in `ACL SETUSER`; keys that scripts and functions build internally.
//! - Key names in replies (KEYS, SCAN, BLPOP, XREAD, ... see the specs' README §5.8).

use super::flags::KeySpecFlags;
use super::info::{BeginSearch, CommandInfo, FindKeys, GetKeys};
use super::table::MAX_KEY_SPECS;

/// A run of key positions `next ..= last`, every `step` arguments (empty once `next > last`).
#[derive(Clone, Copy, Debug, Default)]
struct Run {
    next: usize,
    last: usize,
    step: usize,
}

impl Run {
    fn len(&self) -> usize {
        if self.next > self.last {
            0
        } else {
            (self.last - self.next) / self.step + 1
        }
    }
}

/// The key positions of one command, as an iterator of argv indexes (argv\[0\] is the
/// command name). Returned by [`key_indices`] and [`slot_indices`]; holds at most a few
/// ranges inline, never allocates.
#[derive(Clone, Debug, Default)]
pub struct KeyIndices {
    runs: [Run; MAX_KEY_SPECS],
    len: usize,
    pos: usize,
}

impl KeyIndices {
    /// Appends `first ..= last` every `step` (`step >= 1`). Callers stay within the capacity.
    fn push(&mut self, first: usize, last: usize, step: usize) {
        if let Some(run) = self.runs.get_mut(self.len) {
            *run = Run { next: first, last, step: step.max(1) };
            self.len += 1;
        }
    }

    /// Appends `index` when it is a valid position of `argc` arguments.
    fn push_one(&mut self, index: usize, argc: usize) {
        if index < argc {
            self.push(index, index, 1);
        }
    }
}

impl Iterator for KeyIndices {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while let Some(run) = self.runs[..self.len].get_mut(self.pos) {
            if run.next <= run.last {
                let index = run.next;
                match index.checked_add(run.step) {
                    Some(next) => run.next = next,
                    None => *run = Run { next: 1, last: 0, step: 1 },
                }
                return Some(index);
            }
            self.pos += 1;
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.runs[..self.len].iter().skip(self.pos).map(Run::len).sum();
        (n, Some(n))
    }
}

impl ExactSizeIterator for KeyIndices {}

/// The argv indexes of the keys of a command, as `COMMAND GETKEYS` reports them (see the
/// module docs for exactly which commands are covered and how). `info` must be the command
/// that `args` runs, normally `lookup(args)`.
///
/// To fill a buffer: `buf.extend(key_indices(info, args))`.
///
/// # Examples
///
/// ```
/// use redpoll::commands::{key_indices, lookup};
/// let args = ["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"];
/// let info = lookup(&args).unwrap();
/// assert_eq!(key_indices(info, &args).collect::<Vec<_>>(), [4, 5]);
///
/// let args = ["SORT", "list", "BY", "w_*", "GET", "o_*", "STORE", "dst"];
/// assert_eq!(key_indices(lookup(&args).unwrap(), &args).collect::<Vec<_>>(), [1, 7]);
/// ```
pub fn key_indices<A: AsRef<[u8]>>(info: &CommandInfo, args: &[A]) -> KeyIndices {
    find(info, args, false)
}

/// Like [`key_indices`], but also returns the `not_key` arguments that are hashed for cluster
/// slot routing: the shard channel of `SPUBLISH`, `SSUBSCRIBE` and `SUNSUBSCRIBE`.
///
/// # Examples
///
/// ```
/// use redpoll::commands::{key_indices, lookup, slot_indices};
/// let args = ["SPUBLISH", "chan", "hello"];
/// let info = lookup(&args).unwrap();
/// assert_eq!(key_indices(info, &args).count(), 0);
/// assert_eq!(slot_indices(info, &args).collect::<Vec<_>>(), [1]);
/// ```
pub fn slot_indices<A: AsRef<[u8]>>(info: &CommandInfo, args: &[A]) -> KeyIndices {
    find(info, args, true)
}

/// `getKeysFromCommandWithSpecs`.
fn find<A: AsRef<[u8]>>(info: &CommandInfo, args: &[A], include_not_keys: bool) -> KeyIndices {
    let specs = info.key_specs;
    let has_keyspec =
        specs.iter().any(|s| include_not_keys || !s.flags.contains(KeySpecFlags::NOT_KEY));
    let has_varflags = specs.iter().any(|s| s.flags.contains(KeySpecFlags::VARIABLE_FLAGS));
    if has_keyspec && !has_varflags {
        if let Some(keys) = from_specs(info, args, include_not_keys) {
            return keys;
        }
    }
    match info.get_keys {
        Some(get_keys) => fallback(get_keys, args),
        None => KeyIndices::default(),
    }
}

/// `getKeysUsingKeySpecs`: `None` when a spec is invalid for these arguments (unknown,
/// incomplete, out of bounds, bad key count), which makes the caller fall back.
fn from_specs<A: AsRef<[u8]>>(
    info: &CommandInfo,
    args: &[A],
    include_not_keys: bool,
) -> Option<KeyIndices> {
    let argc = i64::try_from(args.len()).ok()?;
    let mut keys = KeyIndices::default();
    for spec in info.key_specs {
        if spec.flags.contains(KeySpecFlags::NOT_KEY) && !include_not_keys {
            continue;
        }
        let mut first = match spec.begin {
            BeginSearch::Index(index) => i64::from(index),
            BeginSearch::Keyword { keyword, start_from } => {
                match search_keyword(args, keyword.as_bytes(), start_from) {
                    Some(found) => found + 1,
                    None => continue,
                }
            }
            BeginSearch::Unknown => return None,
        };
        let (last, step) = match spec.find {
            FindKeys::Range { last_key, step, limit } => {
                let last_key = i64::from(last_key);
                let last = if last_key >= 0 {
                    first + last_key
                } else if limit == 0 {
                    argc + last_key
                } else {
                    first + ((argc - first) / i64::from(limit) + last_key)
                };
                (last, step)
            }
            FindKeys::Keynum { keynum_idx, first_key, step } => {
                // Redis checks `keynumidx >= argc` (before adding `first`), then reads
                // argv[first + keynumidx]: with the arity checked first that is the same as
                // this bounds check, which also holds for unchecked arguments.
                let count_at = usize::try_from(first + i64::from(keynum_idx)).ok()?;
                let count = string2ll(args.get(count_at)?.as_ref()).filter(|n| *n >= 0)?;
                first += i64::from(first_key);
                // `(int)numkeys` in C: truncated to 32 bits.
                (first + i64::from(count as i32) - 1, step)
            }
            FindKeys::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        // 0 <= first <= last < argc here.
        keys.push(first as usize, last as usize, usize::from(step));
        if spec.flags.contains(KeySpecFlags::INCOMPLETE) {
            return None;
        }
    }
    Some(keys)
}

/// The keyword search of a `keyword` begin-search, with Redis's loop bounds: forwards from
/// `start_from` to the second-to-last argument, or backwards from `argc + start_from` down to
/// argv\[2\]; argv\[0\] and the end point are never compared.
fn search_keyword<A: AsRef<[u8]>>(args: &[A], keyword: &[u8], start_from: i16) -> Option<i64> {
    let argc = i64::try_from(args.len()).ok()?;
    let start_from = i64::from(start_from);
    let (start, end) = if start_from > 0 { (start_from, argc - 1) } else { (argc + start_from, 1) };
    let mut i = start;
    while i != end {
        if i >= argc || i < 1 {
            break;
        }
        if args[i as usize].as_ref().eq_ignore_ascii_case(keyword) {
            return Some(i);
        }
        i = if start <= end { i + 1 } else { i - 1 };
    }
    None
}

/// Redis's `string2ll`: optional `-`, digits without leading zeros, no spaces, no overflow.
pub(super) fn string2ll(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    match digits {
        [b'0'] if !negative => return Some(0),
        [b'1'..=b'9', ..] => {}
        _ => return None,
    }
    let mut value: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        value = if negative {
            value.checked_mul(10)?.checked_sub(d)?
        } else {
            value.checked_mul(10)?.checked_add(d)?
        };
    }
    Some(value)
}

/// glibc's `atoi`: leading whitespace, optional sign, digits up to the first non-digit; the
/// value saturates to 64 bits (strtol) and is truncated to 32 (the cast to int).
fn atoi(s: &[u8]) -> i32 {
    let s = match s.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')) {
        Some(start) => &s[start..],
        None => return 0,
    };
    let (negative, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    let mut value: i64 = 0;
    for &d in digits.iter().take_while(|d| d.is_ascii_digit()) {
        let d = i64::from(d - b'0');
        value = if negative {
            value.saturating_mul(10).saturating_sub(d)
        } else {
            value.saturating_mul(10).saturating_add(d)
        };
    }
    value as i32
}

/// The server's hand-written key finders (`src/db.c`), for when the specs cannot answer.
fn fallback<A: AsRef<[u8]>>(get_keys: GetKeys, args: &[A]) -> KeyIndices {
    let argc = args.len();
    let mut keys = KeyIndices::default();
    match get_keys {
        GetKeys::Set | GetKeys::Bitfield | GetKeys::SortRo => keys.push_one(1, argc),
        GetKeys::Sort => {
            keys.push_one(1, argc);
            if let Some(store) = sort_store(args) {
                keys.push_one(store, argc);
            }
        }
        GetKeys::Migrate => {
            let (first, num) = migrate_keys(args);
            if num > 0 && first < argc {
                keys.push(first, (first + num - 1).min(argc - 1), 1);
            }
        }
        GetKeys::Georadius => {
            keys.push_one(1, argc);
            let mut stored = None;
            let mut i = 5;
            while i < argc {
                let arg = args[i].as_ref();
                if (is(arg, b"store") || is(arg, b"storedist")) && i + 1 < argc {
                    stored = Some(i + 1);
                    i += 1;
                }
                i += 1;
            }
            if let Some(stored) = stored {
                keys.push_one(stored, argc);
            }
        }
        GetKeys::Xread => {
            if let Some(streams) = xread_streams(args) {
                let num = argc - streams - 1;
                if num > 0 && num % 2 == 0 {
                    keys.push(streams + 1, streams + num / 2, 1);
                }
            }
        }
        GetKeys::Eval | GetKeys::Function | GetKeys::Blmpop => generic(&mut keys, args, 0, 2, 3),
        GetKeys::Lmpop | GetKeys::Zmpop | GetKeys::Sintercard | GetKeys::ZunionInterDiff => {
            generic(&mut keys, args, 0, 1, 2);
        }
        GetKeys::ZunionInterDiffStore => generic(&mut keys, args, 1, 2, 3),
    }
    keys
}

fn is(arg: &[u8], word: &[u8]) -> bool {
    arg.eq_ignore_ascii_case(word)
}

/// `genericGetKeys` with keystep 1: `num = atoi(argv[count_at])` keys from `first`, then the
/// destination at `store` (0 = none). No keys when `num` does not fit the arguments.
fn generic<A: AsRef<[u8]>>(
    keys: &mut KeyIndices,
    args: &[A],
    store: usize,
    count_at: usize,
    first: usize,
) {
    let argc = args.len();
    let Some(count) = args.get(count_at) else { return };
    let num = i64::from(atoi(count.as_ref()));
    if num < 1 || num > argc as i64 - first as i64 {
        return;
    }
    keys.push(first, first + num as usize - 1, 1);
    if store != 0 {
        keys.push_one(store, argc);
    }
}

/// `sortGetKeys`'s scan for the last `STORE` destination, skipping `LIMIT off count`,
/// `GET p` and `BY p` (quirks included: the word after `STORE` is scanned as an option too).
fn sort_store<A: AsRef<[u8]>>(args: &[A]) -> Option<usize> {
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let arg = args[i].as_ref();
        if is(arg, b"limit") {
            i += 2;
        } else if is(arg, b"store") && i + 1 < args.len() {
            store = Some(i + 1);
        } else if is(arg, b"get") || is(arg, b"by") {
            i += 1;
        }
        i += 1;
    }
    store
}

/// `migrateGetKeys`: `(first, count)` of the keys.
fn migrate_keys<A: AsRef<[u8]>>(args: &[A]) -> (usize, usize) {
    let argc = args.len();
    let (mut first, mut num) = (3, 1);
    let mut i = 6;
    while argc > 6 && i < argc {
        let arg = args[i].as_ref();
        if is(arg, b"keys") {
            if args.get(3).is_some_and(|a| !a.as_ref().is_empty()) {
                num = 0; // a syntax error the command itself reports
            } else {
                first = i + 1;
                num = argc - first;
            }
            break;
        }
        if is(arg, b"auth") {
            i += 1;
        } else if is(arg, b"auth2") {
            i += 2;
        }
        i += 1;
    }
    (first, num)
}

/// `xreadGetKeys`'s scan for `STREAMS` over the options `BLOCK ms`, `COUNT n`,
/// `GROUP g c` and `NOACK`.
fn xread_streams<A: AsRef<[u8]>>(args: &[A]) -> Option<usize> {
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].as_ref();
        if is(arg, b"block") || is(arg, b"count") {
            i += 1;
        } else if is(arg, b"group") {
            i += 2;
        } else if is(arg, b"streams") {
            return Some(i);
        } else if !is(arg, b"noack") {
            return None;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers_match_redis() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"12"), Some(12));
        assert_eq!(string2ll(b"-3"), Some(-3));
        for bad in
            [&b""[..], b"-", b"-0", b"01", b"+1", b" 1", b"1 ", b"1a", b"99999999999999999999"]
        {
            assert_eq!(string2ll(bad), None, "{bad:?}");
        }
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(atoi(b"  +12abc"), 12);
        assert_eq!(atoi(b"-2"), -2);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b"4294967297"), 1);
        assert_eq!(atoi(b"99999999999999999999"), -1);
    }

    #[test]
    fn iterator_is_exact() {
        let mut keys = KeyIndices::default();
        keys.push(1, 5, 2);
        keys.push(7, 7, 1);
        assert_eq!(keys.len(), 4);
        assert_eq!(keys.clone().collect::<Vec<_>>(), [1, 3, 5, 7]);
        keys.next();
        assert_eq!(keys.len(), 3);
        let mut huge = KeyIndices::default();
        huge.push(usize::MAX - 1, usize::MAX, 5);
        assert_eq!(huge.collect::<Vec<_>>(), [usize::MAX - 1]);
    }
}
