//! Key prefixing: which arguments of a command get the client's prefix, and which parts of
//! its reply are keys to take it off again.
//!
//! One path for every command, however it was built (a generated method or `cmd()`): the
//! key positions come from the command specs, exactly as the server's `COMMAND GETKEYS`
//! finds them ([`key_indices`]), plus the key *patterns* that are not key arguments in the
//! specs (`KEYS pattern`, `SCAN … MATCH pattern`, `SORT … BY/GET pattern`) and any argument
//! the caller marked with `.key()`. Values, fields, members and channel names are never
//! prefixed.
//!
//! Patterns are written so that they match the prefix literally: in KEYS and SCAN … MATCH
//! globs the prefix's glob characters are escaped; a prefix holding `*` is refused for SORT's
//! BY/GET patterns, which cannot escape it ([`pattern_prefix`]).
//!
//! A prefix that silently does not apply would write into another tenant's keys, so a
//! command whose keys cannot be found is refused with [`Error::Usage`]: a command the specs
//! do not know (a module's) without marked keys, a call with the wrong number of arguments,
//! a key count (`numkeys`) larger than the arguments that follow it.

use bytes::Bytes;

use super::getkeys::string2ll;
use super::info::{CommandInfo, FindKeys};
use super::key_indices;
use crate::error::Error;
use crate::resp::Value;

/// The argument indexes (argv\[0\] is the command name) that get the prefix, sorted.
///
/// # Errors
///
/// [`Error::Usage`] when the command's keys cannot be told (see the module docs).
pub(crate) fn positions(
    info: Option<&CommandInfo>,
    args: &[&[u8]],
    marked: &[usize],
) -> Result<Vec<usize>, Error> {
    let name = || String::from_utf8_lossy(args.first().copied().unwrap_or_default()).into_owned();
    let Some(info) = info else {
        if marked.is_empty() {
            return Err(Error::Usage(format!(
                "{} is not in the command specs, so a client with a key prefix cannot tell \
                 which arguments are keys: add them with .key(k), or send it unprefixed with \
                 .no_prefix()",
                name()
            )));
        }
        let mut out = marked.to_vec();
        out.sort_unstable();
        out.dedup();
        return Ok(out);
    };
    if info.has_keys() || has_patterns(info) {
        if !info.accepts_argc(args.len()) {
            return Err(Error::Usage(format!(
                "{} with {} arguments does not fit its syntax (arity {}), so the key prefix \
                 cannot be applied",
                info.name,
                args.len().saturating_sub(1),
                info.arity
            )));
        }
        check_key_counts(info, args)?;
    }
    let mut out: Vec<usize> = key_indices(info, args).collect();
    patterns(info, args, &mut out);
    out.extend_from_slice(marked);
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Argument positions (sorted) and the escaped prefix they get.
pub(crate) type EscapedPatterns = (Vec<usize>, Vec<u8>);

/// The KEYS and SCAN … MATCH patterns among the prefixed arguments, which need the prefix
/// written differently, and how: they are globs, so a prefix holding glob characters
/// (`*?[]\`) goes on them escaped, to match only itself (`t[1]:` as `t\[1\]:`; unescaped it
/// would match `t1:`, another tenant's keys, and not its own). `None` when the plain prefix
/// will do.
///
/// # Errors
///
/// [`Error::Usage`] for a SORT or SORT_RO `BY`/`GET` pattern when the prefix holds a `*`:
/// SORT replaces the first `*` of a pattern, which would be the prefix's, and has no escape.
pub(crate) fn pattern_prefix(
    info: Option<&CommandInfo>,
    args: &[&[u8]],
    prefix: &[u8],
) -> Result<Option<EscapedPatterns>, Error> {
    const GLOB: &[u8] = b"*?[]\\";
    let Some(info) = info else { return Ok(None) };
    let mut at = Vec::new();
    patterns(info, args, &mut at);
    if at.is_empty() {
        return Ok(None);
    }
    if matches!(info.name, "SORT" | "SORT_RO") {
        if prefix.contains(&b'*') {
            return Err(Error::Usage(format!(
                "{}: the key prefix holds a '*', which SORT would take for the pattern's \
                 (BY/GET patterns have no escape), so the prefix cannot be applied",
                info.name
            )));
        }
        return Ok(None);
    }
    if !prefix.iter().any(|b| GLOB.contains(b)) {
        return Ok(None);
    }
    let mut escaped = Vec::with_capacity(prefix.len() * 2);
    for &b in prefix {
        if GLOB.contains(&b) {
            escaped.push(b'\\');
        }
        escaped.push(b);
    }
    at.sort_unstable();
    at.dedup();
    Ok(Some((at, escaped)))
}

fn has_patterns(info: &CommandInfo) -> bool {
    matches!(info.name, "KEYS" | "SCAN")
}

/// A `numkeys` argument that is not a count, or a count larger than the arguments after it,
/// would leave keys unprefixed (the server rejects the call anyway, but it must not be sent
/// half-prefixed).
fn check_key_counts(info: &CommandInfo, args: &[&[u8]]) -> Result<(), Error> {
    for spec in info.key_specs {
        let FindKeys::Keynum { keynum_idx, first_key, .. } = spec.find else { continue };
        let super::info::BeginSearch::Index(begin) = spec.begin else { continue };
        let at = usize::from(begin) + usize::from(keynum_idx);
        let Some(count) = args.get(at).and_then(|a| string2ll(a)) else {
            return Err(Error::Usage(format!(
                "{}: the key count (argument {at}) is missing or not a number, so the key \
                 prefix cannot be applied",
                info.name
            )));
        };
        let first = usize::from(begin) + usize::from(first_key);
        let fits = usize::try_from(count)
            .is_ok_and(|n| first.checked_add(n).is_some_and(|end| end <= args.len()));
        if !fits {
            return Err(Error::Usage(format!(
                "{}: the key count {count} does not fit the {} arguments after it, so the key \
                 prefix cannot be applied",
                info.name,
                args.len().saturating_sub(first)
            )));
        }
    }
    Ok(())
}

/// Key patterns in arguments that the specs do not call keys.
fn patterns(info: &CommandInfo, args: &[&[u8]], out: &mut Vec<usize>) {
    let is = |i: usize, word: &[u8]| args.get(i).is_some_and(|a| a.eq_ignore_ascii_case(word));
    match info.name {
        "KEYS" => out.push(1),
        "SCAN" => {
            // SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
            let mut i = 2;
            while i + 1 < args.len() {
                if is(i, b"MATCH") {
                    out.push(i + 1);
                }
                i += 2;
            }
        }
        "SORT" | "SORT_RO" => {
            // SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
            // [STORE destination]
            let mut i = 2;
            while i < args.len() {
                if (is(i, b"BY") || is(i, b"GET")) && i + 1 < args.len() {
                    // `GET #` is the element itself, not a key.
                    if args[i + 1] != b"#" {
                        out.push(i + 1);
                    }
                    i += 2;
                } else if is(i, b"LIMIT") {
                    i += 3;
                } else if is(i, b"STORE") {
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }
        _ => {}
    }
}

/// Where a command's reply holds key names, which a prefixed client gives back without the
/// prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplyKeys {
    /// The reply is a key (RANDOMKEY).
    Whole,
    /// Every element is a key (KEYS, CLUSTER GETKEYSINSLOT).
    Elements,
    /// Element 0 is a key (BLPOP, BZPOPMIN, LMPOP, ZMPOP, ...).
    First,
    /// Element 1 is an array of keys (SCAN).
    SecondElements,
    /// Stream names: RESP3 map keys, or element 0 of each RESP2 pair (XREAD, XREADGROUP).
    StreamNames,
}

/// The keys in the reply of `info`'s command, if any.
pub(crate) fn reply_keys(info: &CommandInfo) -> Option<ReplyKeys> {
    Some(match info.name {
        "RANDOMKEY" => ReplyKeys::Whole,
        "KEYS" | "CLUSTER GETKEYSINSLOT" => ReplyKeys::Elements,
        "BLPOP" | "BRPOP" | "LMPOP" | "BLMPOP" | "BZPOPMIN" | "BZPOPMAX" | "ZMPOP" | "BZMPOP" => {
            ReplyKeys::First
        }
        "SCAN" => ReplyKeys::SecondElements,
        "XREAD" | "XREADGROUP" => ReplyKeys::StreamNames,
        _ => return None,
    })
}

impl ReplyKeys {
    /// The reply with `prefix` taken off the keys it holds (keys without it are left as
    /// they are).
    pub(crate) fn strip(self, value: Value, prefix: &[u8]) -> Value {
        match (self, value) {
            (ReplyKeys::Whole, v) => strip_one(v, prefix),
            (ReplyKeys::Elements, v) => map_items(v, |v| strip_one(v, prefix)),
            (ReplyKeys::First, v) => {
                let mut first = true;
                map_items(v, |v| {
                    let v = if first { strip_one(v, prefix) } else { v };
                    first = false;
                    v
                })
            }
            (ReplyKeys::SecondElements, v) => {
                let mut index = 0;
                map_items(v, |v| {
                    index += 1;
                    if index == 2 {
                        map_items(v, |v| strip_one(v, prefix))
                    } else {
                        v
                    }
                })
            }
            (ReplyKeys::StreamNames, Value::Map(pairs)) => {
                Value::Map(pairs.into_iter().map(|(k, v)| (strip_one(k, prefix), v)).collect())
            }
            (ReplyKeys::StreamNames, v) => {
                map_items(v, |pair| ReplyKeys::First.strip(pair, prefix))
            }
        }
    }
}

fn map_items(value: Value, mut f: impl FnMut(Value) -> Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(&mut f).collect()),
        Value::Set(items) => Value::Set(items.into_iter().map(&mut f).collect()),
        other => other,
    }
}

fn strip_one(value: Value, prefix: &[u8]) -> Value {
    let strip = |b: Bytes| if b.starts_with(prefix) { b.slice(prefix.len()..) } else { b };
    match value {
        Value::BulkString(b) => Value::BulkString(strip(b)),
        Value::SimpleString(b) => Value::SimpleString(strip(b)),
        other => other,
    }
}

#[cfg(test)]
#[path = "prefix_tests.rs"]
mod tests;
