//! Key positions against hand-checked answers, and robustness on malformed arguments.

use super::*;

/// The key indices of `args`, which must name a known command.
fn keys(args: &[&str]) -> Vec<usize> {
    let info = lookup(args).unwrap_or_else(|| panic!("unknown command {args:?}"));
    key_indices(info, args).collect()
}

#[test]
fn single_and_multi_key() {
    assert_eq!(keys(&["GET", "k"]), [1]);
    assert_eq!(keys(&["get", "k"]), [1]);
    assert_eq!(keys(&["SET", "k", "v", "EX", "10", "GET"]), [1]);
    assert_eq!(keys(&["MSET", "a", "1", "b", "2", "c", "3"]), [1, 3, 5]);
    assert_eq!(keys(&["MGET", "a", "b", "c"]), [1, 2, 3]);
    assert_eq!(keys(&["DEL", "a", "b"]), [1, 2]);
    assert_eq!(keys(&["LCS", "a", "b", "LEN"]), [1, 2]);
    assert_eq!(keys(&["OBJECT", "ENCODING", "k"]), [2]);
    assert_eq!(keys(&["object", "freq", "k"]), [2]);
    assert_eq!(keys(&["PING"]), [] as [usize; 0]);
}

#[test]
fn range_from_the_end() {
    assert_eq!(keys(&["BLPOP", "k1", "k2", "5"]), [1, 2]);
    assert_eq!(keys(&["BRPOP", "k1", "0"]), [1]);
    assert_eq!(keys(&["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"]), [1, 2]);
    assert_eq!(keys(&["BITOP", "AND", "dst", "a", "b"]), [2, 3, 4]);
}

#[test]
fn keynum() {
    assert_eq!(keys(&["ZUNIONSTORE", "dst", "2", "a", "b", "WEIGHTS", "1", "2"]), [1, 3, 4]);
    assert_eq!(keys(&["EVAL", "return 1", "0"]), [] as [usize; 0]);
    assert_eq!(keys(&["EVAL", "return 1", "0", "arg"]), [] as [usize; 0]);
    assert_eq!(keys(&["EVAL", "s", "2", "k1", "k2", "a1"]), [3, 4]);
    assert_eq!(keys(&["FCALL_RO", "f", "1", "k", "a"]), [3]);
    assert_eq!(keys(&["LMPOP", "2", "a", "b", "LEFT", "COUNT", "3"]), [2, 3]);
    assert_eq!(keys(&["BLMPOP", "0", "2", "a", "b", "LEFT"]), [3, 4]);
    assert_eq!(keys(&["ZINTERCARD", "2", "a", "b", "LIMIT", "1"]), [2, 3]);
    assert_eq!(keys(&["SINTERCARD", "1", "a"]), [2]);
    // More keys announced than given: no keys (the server replies a syntax error).
    assert_eq!(keys(&["EVAL", "s", "3", "k1"]), [] as [usize; 0]);
    // "01" fails the spec's strict parse; the server's fallback uses atoi and finds 1 key.
    assert_eq!(keys(&["EVAL", "s", "01", "k1"]), [3]);
    assert_eq!(keys(&["EVAL", "s", "-1", "k1"]), [] as [usize; 0]);
    // Truncated to 32 bits as in C: 2^32 + 1 keys is 1 key.
    assert_eq!(keys(&["EVAL", "s", "4294967297", "k1"]), [3]);
}

#[test]
fn keyword_streams() {
    assert_eq!(keys(&["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"]), [4, 5]);
    assert_eq!(keys(&["XREAD", "BLOCK", "0", "STREAMS", "a", "$"]), [4]);
    assert_eq!(keys(&["xread", "streams", "a", "b", "c", "0", "0", "0"]), [2, 3, 4]);
    assert_eq!(
        keys(&["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "a", "b", ">", ">"]),
        [7, 8]
    );
    // A consumer named STREAMS sits before argv[4], where the search starts.
    assert_eq!(keys(&["XREADGROUP", "GROUP", "g", "STREAMS", "STREAMS", "s", ">"]), [5]);
    // Odd count after STREAMS: the spec still takes the floor of the half.
    assert_eq!(keys(&["XREAD", "STREAMS", "a", "b", "0"]), [2]);
    // Nothing after STREAMS: the spec is out of bounds and the fallback finds nothing.
    assert_eq!(keys(&["XREAD", "COUNT", "1", "STREAMS"]), [] as [usize; 0]);
}

#[test]
fn keyword_georadius_store() {
    assert_eq!(keys(&["GEORADIUS", "k", "15", "37", "200", "km", "STORE", "dst"]), [1, 7]);
    assert_eq!(keys(&["GEORADIUS", "k", "15", "37", "200", "km", "WITHDIST"]), [1]);
    assert_eq!(
        keys(&["GEORADIUS", "k", "15", "37", "200", "km", "STORE", "d1", "STOREDIST", "d2"]),
        [1, 7, 9]
    );
    assert_eq!(keys(&["GEORADIUSBYMEMBER", "k", "m", "10", "km", "storedist", "d"]), [1, 6]);
}

#[test]
fn sort_skips_patterns() {
    assert_eq!(keys(&["SORT", "k"]), [1]);
    let args =
        ["SORT", "k", "BY", "w_*", "GET", "o_*", "GET", "#", "LIMIT", "0", "10", "STORE", "dst"];
    assert_eq!(keys(&args), [1, 12]);
    assert_eq!(keys(&["SORT", "k", "STORE", "d1", "ALPHA", "STORE", "d2"]), [1, 6], "last STORE");
    // "store" as a BY or GET pattern is not the option.
    assert_eq!(keys(&["SORT", "k", "BY", "store", "GET", "STORE"]), [1]);
    assert_eq!(keys(&["SORT", "k", "STORE"]), [1]);
    assert_eq!(keys(&["SORT_RO", "k", "BY", "w_*", "GET", "#"]), [1]);
}

#[test]
fn migrate() {
    assert_eq!(keys(&["MIGRATE", "host", "6379", "k", "0", "5000"]), [3]);
    assert_eq!(keys(&["MIGRATE", "host", "6379", "k", "0", "5000", "COPY", "REPLACE"]), [3]);
    assert_eq!(keys(&["MIGRATE", "host", "6379", "", "0", "5000", "KEYS", "a", "b"]), [7, 8]);
    let args = ["MIGRATE", "h", "1", "", "0", "5", "COPY", "AUTH2", "keys", "pw", "KEYS", "a"];
    assert_eq!(keys(&args), [11], "AUTH2's username is skipped even when it reads KEYS");
    assert_eq!(
        keys(&["MIGRATE", "h", "1", "k", "0", "5", "KEYS", "a"]),
        [] as [usize; 0],
        "KEYS with a non-empty key is a syntax error"
    );
}

#[test]
fn shard_channels_are_not_keys() {
    let args = ["SSUBSCRIBE", "c1", "c2"];
    let info = lookup(&args).unwrap();
    assert_eq!(key_indices(info, &args).count(), 0);
    assert_eq!(slot_indices(info, &args).collect::<Vec<_>>(), [1, 2]);
    let args = ["GET", "k"];
    assert_eq!(slot_indices(lookup(&args).unwrap(), &args).collect::<Vec<_>>(), [1]);
}

#[test]
fn exact_size() {
    let args = ["MSET", "a", "1", "b", "2"];
    let mut it = key_indices(lookup(&args).unwrap(), &args);
    assert_eq!(it.len(), 2);
    it.next();
    assert_eq!(it.len(), 1);
    let mut buf: Vec<usize> = Vec::with_capacity(4);
    buf.extend(key_indices(lookup(&args).unwrap(), &args));
    assert_eq!(buf, [1, 3]);
}

/// Every command with every short combination of awkward arguments: no panic, and every index
/// is a valid argument position.
#[test]
fn malformed_arguments_are_safe() {
    const WORDS: [&str; 9] =
        ["STORE", "KEYS", "STREAMS", "2", "0", "-1", "", "BLOCK", "99999999999"];
    let mut checked = 0;
    for info in all() {
        let base: Vec<&str> = info.name.split(' ').collect();
        for extra in 0..6usize {
            for seed in 0..WORDS.len() {
                let mut args = base.clone();
                args.extend((0..extra).map(|i| WORDS[(seed + i * 7) % WORDS.len()]));
                for i in key_indices(info, &args).chain(slot_indices(info, &args)) {
                    assert!(i < args.len() && i >= base.len(), "{args:?} gave {i}");
                }
                let _ = is_blocking(info, &args);
                checked += 1;
            }
        }
    }
    assert!(checked > 10_000);
}

#[test]
fn table_matches_the_specs() {
    let movable: Vec<&str> =
        all().filter(|c| c.flags.contains(CommandFlags::MOVABLEKEYS)).map(|c| c.name).collect();
    assert_eq!(movable.len(), 25);
    assert_eq!(all().filter(|c| c.deprecated).count(), 22);
    assert_eq!(all().filter(|c| c.sentinel_only).count(), 21, "SENTINEL alone is a container");
    assert_eq!(all().filter(|c| !c.key_specs.is_empty()).count(), 193);
    let set = lookup(&["SET"]).unwrap();
    assert_eq!(set.since, (1, 0, 0));
    assert_eq!(set.group, Group::String);
    assert!(set.key_specs[0].flags.contains(KeySpecFlags::VARIABLE_FLAGS));
    let dbsize = lookup(&["DBSIZE"]).unwrap();
    assert_eq!(dbsize.request_policy, RequestPolicy::AllShards);
    assert_eq!(dbsize.response_policy, ResponsePolicy::AggSum);
    assert!(lookup(&["RANDOMKEY"]).unwrap().tips.contains(Tips::NONDETERMINISTIC_OUTPUT));
    assert_eq!(
        lookup(&["XREAD"]).unwrap().key_specs[0].begin,
        BeginSearch::Keyword { keyword: "STREAMS", start_from: 1 }
    );
    assert_eq!(
        lookup(&["EVAL"]).unwrap().key_specs[0].find,
        FindKeys::Keynum { keynum_idx: 0, first_key: 1, step: 1 }
    );
}
