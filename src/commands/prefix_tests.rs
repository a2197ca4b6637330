use super::*;
use crate::commands::lookup;
use crate::error::Error;

/// The arguments with `p:` written in front of the ones that get the prefix.
fn prefixed(args: &[&str]) -> Result<Vec<String>, Error> {
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let info = lookup(&bytes);
    let at = positions(info, &bytes, &[])?;
    Ok(args
        .iter()
        .enumerate()
        .map(|(i, a)| if at.contains(&i) { format!("p:{a}") } else { (*a).to_owned() })
        .collect())
}

fn ok(args: &[&str]) -> Vec<String> {
    prefixed(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn usage(args: &[&str]) -> String {
    match prefixed(args) {
        Err(Error::Usage(why)) => why,
        other => panic!("{args:?}: expected a usage error, got {other:?}"),
    }
}

#[test]
fn keys_and_only_keys_are_prefixed() {
    assert_eq!(ok(&["SET", "k", "v", "EX", "10"]), ["SET", "p:k", "v", "EX", "10"]);
    assert_eq!(ok(&["MSET", "a", "1", "b", "2"]), ["MSET", "p:a", "1", "p:b", "2"]);
    assert_eq!(ok(&["HSET", "h", "f", "v"]), ["HSET", "p:h", "f", "v"]);
    assert_eq!(ok(&["PUBLISH", "chan", "msg"]), ["PUBLISH", "chan", "msg"]);
    assert_eq!(ok(&["PING"]), ["PING"]);
}

#[test]
fn bitop_prefixes_destination_and_sources() {
    assert_eq!(ok(&["BITOP", "AND", "dst", "a", "b"]), ["BITOP", "AND", "p:dst", "p:a", "p:b"]);
}

#[test]
fn numkeys_commands_prefix_exactly_their_keys() {
    assert_eq!(
        ok(&["EVAL", "return 1", "2", "a", "b", "arg"]),
        ["EVAL", "return 1", "2", "p:a", "p:b", "arg"]
    );
    assert_eq!(ok(&["EVALSHA", "abc", "0", "arg"]), ["EVALSHA", "abc", "0", "arg"]);
    assert_eq!(ok(&["FCALL", "f", "1", "k", "x"]), ["FCALL", "f", "1", "p:k", "x"]);
    assert_eq!(ok(&["LMPOP", "2", "a", "b", "LEFT"]), ["LMPOP", "2", "p:a", "p:b", "LEFT"]);
    assert_eq!(
        ok(&["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"]),
        ["ZUNIONSTORE", "p:d", "2", "p:a", "p:b", "WEIGHTS", "1", "2"]
    );
}

#[test]
fn numkeys_larger_than_the_arguments_is_refused_not_half_prefixed() {
    assert!(usage(&["EVAL", "return 1", "3", "a"]).contains("key count 3"));
    assert!(usage(&["FCALL", "f", "x", "a"]).contains("not a number"));
    assert!(usage(&["LMPOP", "-1", "a", "LEFT"]).contains("key count"));
    assert!(usage(&["ZUNIONSTORE", "d", "99999999999999999999", "a"]).contains("key count"));
}

#[test]
fn stream_keys_follow_streams() {
    assert_eq!(
        ok(&["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"]),
        ["XREAD", "COUNT", "2", "STREAMS", "p:a", "p:b", "0", "0"]
    );
    assert_eq!(
        ok(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]),
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "p:s", ">"]
    );
}

#[test]
fn migrate_prefixes_its_key_or_its_keys() {
    assert_eq!(ok(&["MIGRATE", "h", "1", "k", "0", "5"]), ["MIGRATE", "h", "1", "p:k", "0", "5"]);
    assert_eq!(
        ok(&["MIGRATE", "h", "1", "", "0", "5", "COPY", "KEYS", "a", "b"]),
        ["MIGRATE", "h", "1", "", "0", "5", "COPY", "KEYS", "p:a", "p:b"]
    );
}

#[test]
fn sort_patterns_are_prefixed_but_not_get_hash() {
    assert_eq!(
        ok(&[
            "SORT", "l", "BY", "w_*", "LIMIT", "0", "5", "GET", "#", "GET", "o_*->f", "STORE", "d"
        ]),
        [
            "SORT", "p:l", "BY", "p:w_*", "LIMIT", "0", "5", "GET", "#", "GET", "p:o_*->f",
            "STORE", "p:d"
        ]
    );
    assert_eq!(ok(&["SORT_RO", "l", "BY", "nosort"]), ["SORT_RO", "p:l", "BY", "p:nosort"]);
}

#[test]
fn georadius_store_is_a_key() {
    assert_eq!(
        ok(&["GEORADIUS", "g", "1", "2", "3", "km", "STORE", "d"]),
        ["GEORADIUS", "p:g", "1", "2", "3", "km", "STORE", "p:d"]
    );
}

#[test]
fn key_patterns_of_keys_and_scan_match() {
    assert_eq!(ok(&["KEYS", "user:*"]), ["KEYS", "p:user:*"]);
    assert_eq!(
        ok(&["SCAN", "0", "COUNT", "10", "MATCH", "u*", "TYPE", "hash"]),
        ["SCAN", "0", "COUNT", "10", "MATCH", "p:u*", "TYPE", "hash"]
    );
    // HSCAN's MATCH matches fields, not keys.
    assert_eq!(ok(&["HSCAN", "h", "0", "MATCH", "f*"]), ["HSCAN", "p:h", "0", "MATCH", "f*"]);
}

#[test]
fn unknown_commands_and_wrong_arity_are_refused() {
    assert!(usage(&["JSON.GET", "doc", "$"]).contains(".key(k)"));
    assert!(usage(&["GET"]).contains("does not fit its syntax"));
    assert!(usage(&["GET", "a", "b"]).contains("does not fit its syntax"));
    let marked = positions(None, &[b"JSON.GET", b"doc", b"$"], &[1]).unwrap();
    assert_eq!(marked, [1]);
}

#[test]
fn no_input_panics() {
    let words: [&[u8]; 8] = [b"EVAL", b"2", b"-1", b"", b"STREAMS", b"KEYS", b"MATCH", b"x"];
    for info in crate::commands::all().filter(|i| !i.sentinel_only) {
        let mut args: Vec<&[u8]> = info.name.split(' ').map(str::as_bytes).collect();
        for n in 0..6 {
            let _ = positions(Some(info), &args, &[]);
            args.push(words[(n * 3 + info.name.len()) % words.len()]);
        }
    }
}

fn bulk(s: &str) -> Value {
    Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
}

#[test]
fn reply_keys_lose_the_prefix() {
    let keys = |name: &str| reply_keys(lookup(&[name]).unwrap()).unwrap();
    let arr = |v: Vec<Value>| Value::Array(v);
    assert_eq!(keys("RANDOMKEY").strip(bulk("p:k"), b"p:"), bulk("k"));
    assert_eq!(
        keys("KEYS").strip(arr(vec![bulk("p:a"), bulk("other")]), b"p:"),
        arr(vec![bulk("a"), bulk("other")])
    );
    assert_eq!(
        keys("BLPOP").strip(arr(vec![bulk("p:q"), bulk("p:value")]), b"p:"),
        arr(vec![bulk("q"), bulk("p:value")]),
        "the element is a value, left alone"
    );
    assert_eq!(
        keys("SCAN").strip(arr(vec![bulk("0"), arr(vec![bulk("p:x")])]), b"p:"),
        arr(vec![bulk("0"), arr(vec![bulk("x")])])
    );
    let entries = arr(vec![arr(vec![bulk("1-0"), arr(vec![bulk("p:f"), bulk("v")])])]);
    assert_eq!(
        keys("XREAD").strip(arr(vec![arr(vec![bulk("p:s"), entries.clone()])]), b"p:"),
        arr(vec![arr(vec![bulk("s"), entries.clone()])])
    );
    assert_eq!(
        keys("XREAD").strip(Value::Map(vec![(bulk("p:s"), entries.clone())]), b"p:"),
        Value::Map(vec![(bulk("s"), entries)])
    );
    assert_eq!(keys("BLPOP").strip(Value::Nil, b"p:"), Value::Nil);
    assert!(reply_keys(lookup(&["GET"]).unwrap()).is_none());
}

#[test]
fn glob_patterns_get_the_prefix_escaped_and_sort_patterns_refuse_a_star() {
    let plan = |args: &[&str], prefix: &str| {
        let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        pattern_prefix(lookup(&bytes), &bytes, prefix.as_bytes())
    };
    assert_eq!(plan(&["KEYS", "u*"], "t[1]:").unwrap(), Some((vec![1], b"t\\[1\\]:".to_vec())));
    assert_eq!(
        plan(&["SCAN", "0", "MATCH", "u*", "COUNT", "5"], "a*?\\:").unwrap(),
        Some((vec![3], b"a\\*\\?\\\\:".to_vec()))
    );
    assert_eq!(plan(&["KEYS", "u*"], "app:").unwrap(), None, "nothing to escape");
    assert_eq!(plan(&["SCAN", "0"], "a*:").unwrap(), None, "no pattern");
    assert_eq!(plan(&["GET", "k"], "a*:").unwrap(), None, "keys are not globs");
    assert_eq!(plan(&["SORT", "l", "BY", "w_*"], "t[1]:").unwrap(), None, "SORT has no globs");
    assert!(matches!(plan(&["SORT", "l", "BY", "w_*"], "a*:"), Err(Error::Usage(_))));
    assert!(matches!(plan(&["SORT_RO", "l", "GET", "o_*"], "a*:"), Err(Error::Usage(_))));
    assert_eq!(plan(&["SORT", "l", "GET", "#"], "a*:").unwrap(), None, "GET # is no pattern");
    assert_eq!(plan(&["SORT", "l"], "a*:").unwrap(), None);
}
