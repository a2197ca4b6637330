//! The conversions through the public API only, the way `API.md` writes them.
//!
//! Every reply is built in both protocols' shapes, following
//! `shared/redis-commands/reply-shapes.md`: the rows marked ⚠ there (a structure change)
//! are written out in both forms; the others are written in RESP3 and lowered to RESP2 by
//! [`resp2`], which applies the table's general rules.

use std::collections::{BTreeMap, HashMap, HashSet};

use bytes::Bytes;
use redpoll::resp::CommandBuf;
use redpoll::{Error, FromValue, ServerError, ToArg, Value};

fn b(s: &str) -> Value {
    Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
}

fn simple(s: &str) -> Value {
    Value::SimpleString(Bytes::copy_from_slice(s.as_bytes()))
}

fn arr(items: Vec<Value>) -> Value {
    Value::Array(items)
}

fn bulks(items: &[&str]) -> Value {
    arr(items.iter().map(|s| b(s)).collect())
}

fn map(pairs: Vec<(Value, Value)>) -> Value {
    Value::Map(pairs)
}

/// How a RESP2 client receives a RESP3 reply (the general rules of reply-shapes.md): map →
/// flat array, set and push → array, double → bulk, boolean → integer, verbatim → bulk.
fn resp2(v: &Value) -> Value {
    match v {
        Value::Map(pairs) => arr(pairs.iter().flat_map(|(k, v)| [resp2(k), resp2(v)]).collect()),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            arr(items.iter().map(resp2).collect())
        }
        Value::Double(x) if x.is_infinite() => b(if *x > 0.0 { "inf" } else { "-inf" }),
        Value::Double(x) => b(&x.to_string()),
        Value::Boolean(t) => Value::Int(i64::from(*t)),
        Value::Verbatim { text, .. } => Value::BulkString(text.clone()),
        other => other.clone(),
    }
}

/// Decodes the same reply in both protocols' shapes and checks both give `want`.
fn both<T: FromValue + PartialEq + std::fmt::Debug>(resp3: &Value, want: T) {
    let three: T = FromValue::from_value(resp3.clone()).expect("RESP3 shape");
    let two: T = FromValue::from_value(resp2(resp3)).expect("RESP2 shape");
    assert_eq!(three, want, "RESP3");
    assert_eq!(two, want, "RESP2");
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

// ---- The API.md forms ----

#[test]
fn api_md_watched_balance() {
    let watched = [b("150")];
    let balance: i64 = FromValue::from_value(watched[0].clone()).unwrap_or(0);
    assert_eq!(balance, 150);
    let watched = [Value::Nil];
    let balance: i64 = FromValue::from_value(watched[0].clone()).unwrap_or(0);
    assert_eq!(balance, 0);
}

#[test]
fn api_md_decode_types() {
    let v: Option<Bytes> = FromValue::from_value(b("hello")).unwrap();
    assert_eq!(v.as_deref(), Some(&b"hello"[..]));
    let s: Option<String> = b("hello").decode().unwrap();
    assert_eq!(s.as_deref(), Some("hello"));
    let raw: Value = b("listpack").decode().unwrap();
    assert_eq!(raw, b("listpack"));
    let item: Option<(String, String)> = bulks(&["q1", "job-7"]).decode().unwrap();
    assert_eq!(item, Some(("q1".to_string(), "job-7".to_string())));
    let item: Option<(String, String)> = Value::Nil.decode().unwrap();
    assert_eq!(item, None);
}

// ---- Rows of reply-shapes.md that change structure (⚠), both shapes written out ----

#[test]
fn hgetall_both_protocols() {
    let two = bulks(&["name", "ada", "lang", "rust"]);
    let three = map(vec![(b("name"), b("ada")), (b("lang"), b("rust"))]);
    for v in [two, three] {
        let m: HashMap<String, String> = v.clone().decode().unwrap();
        assert_eq!(m["name"], "ada");
        assert_eq!(m["lang"], "rust");
        let sorted: BTreeMap<String, String> = v.clone().decode().unwrap();
        assert_eq!(sorted.keys().collect::<Vec<_>>(), ["lang", "name"]);
        let pairs: Vec<(String, String)> = v.clone().decode().unwrap();
        assert_eq!(pairs, owned(&[("name", "ada"), ("lang", "rust")]));
        let flat: Vec<String> = v.decode().unwrap();
        assert_eq!(flat, ["name", "ada", "lang", "rust"]);
    }
    // A missing key: an empty array, or an empty map.
    for v in [arr(vec![]), map(vec![])] {
        assert!(v.decode::<HashMap<String, String>>().unwrap().is_empty());
    }
}

#[test]
fn hrandfield_withvalues_both_protocols() {
    let two = bulks(&["f1", "v1", "f2", "v2"]);
    let three = arr(vec![bulks(&["f1", "v1"]), bulks(&["f2", "v2"])]);
    let want = owned(&[("f1", "v1"), ("f2", "v2")]);
    assert_eq!(two.decode::<Vec<(String, String)>>().unwrap(), want);
    assert_eq!(three.clone().decode::<Vec<(String, String)>>().unwrap(), want);
    assert_eq!(three.decode::<HashMap<String, String>>().unwrap().len(), 2);
}

/// ZRANGE / ZRANGEBYSCORE / ZREVRANGE / ZUNION / ZINTER / ZDIFF … WITHSCORES,
/// ZRANDMEMBER n WITHSCORES and ZPOPMIN / ZPOPMAX count all share these shapes.
#[test]
fn withscores_both_protocols() {
    let two = bulks(&["a", "1", "b", "2.5", "c", "inf"]);
    let three = arr(vec![
        arr(vec![b("a"), Value::Double(1.0)]),
        arr(vec![b("b"), Value::Double(2.5)]),
        arr(vec![b("c"), Value::Double(f64::INFINITY)]),
    ]);
    let want =
        vec![("a".to_string(), 1.0), ("b".to_string(), 2.5), ("c".to_string(), f64::INFINITY)];
    assert_eq!(two.decode::<Vec<(String, f64)>>().unwrap(), want);
    assert_eq!(three.decode::<Vec<(String, f64)>>().unwrap(), want);
    // A single pair (ZRANGE of one member) is still a list of one.
    let one2 = bulks(&["a", "1"]);
    let one3 = arr(vec![arr(vec![b("a"), Value::Double(1.0)])]);
    assert_eq!(one2.decode::<Vec<(String, f64)>>().unwrap(), [("a".to_string(), 1.0)]);
    assert_eq!(one3.decode::<Vec<(String, f64)>>().unwrap(), [("a".to_string(), 1.0)]);
    // Odd flat lengths are refused.
    let err = bulks(&["a", "1", "b"]).decode::<Vec<(String, f64)>>().unwrap_err();
    assert_eq!(err.to_string(), "cannot convert array of 3 elements into a list of tuples of 2");
}

#[test]
fn zpopmin_every_form_reads_as_a_list_of_pairs() {
    // No count: `[m, s]` (bulk score in RESP2, double in RESP3); empty key: empty array.
    both(&arr(vec![b("m"), Value::Double(3.0)]), vec![("m".to_string(), 3.0)]);
    both(&arr(vec![]), Vec::<(String, f64)>::new());
    let pair: (String, f64) = resp2(&arr(vec![b("m"), Value::Double(3.0)])).decode().unwrap();
    assert_eq!(pair, ("m".to_string(), 3.0));
}

#[test]
fn xread_both_protocols() {
    let entries = arr(vec![
        arr(vec![b("1-0"), bulks(&["temp", "20"])]),
        arr(vec![b("2-0"), bulks(&["temp", "21", "hum", "40"])]),
    ]);
    let two = arr(vec![arr(vec![b("sensor"), entries.clone()])]);
    let three = map(vec![(b("sensor"), entries)]);
    type Streams = HashMap<String, Vec<(String, HashMap<String, String>)>>;
    for v in [two.clone(), three.clone()] {
        let streams: Option<Streams> = v.clone().decode().unwrap();
        let sensor = &streams.unwrap()["sensor"];
        assert_eq!(sensor[1].0, "2-0");
        assert_eq!(sensor[1].1["hum"], "40");
        type Ordered = Vec<(String, Vec<(String, Vec<(String, String)>)>)>;
        let ordered: Ordered = v.decode().unwrap();
        assert_eq!(ordered[0].1[0].1, owned(&[("temp", "20")]));
    }
    // Timed out: nil-arr or null.
    assert_eq!(Value::Nil.decode::<Option<Streams>>().unwrap(), None);
}

#[test]
fn xinfo_stream_hello_lcs_both_protocols() {
    let three = map(vec![
        (b("length"), Value::Int(2)),
        (b("radix-tree-keys"), Value::Int(1)),
        (b("last-generated-id"), b("2-0")),
        (b("first-entry"), arr(vec![b("1-0"), bulks(&["f", "v"])])),
    ]);
    for v in [resp2(&three), three] {
        let info: HashMap<String, Value> = v.decode().unwrap();
        assert_eq!(info["length"].clone().decode::<i64>().unwrap(), 2);
        let first: (String, HashMap<String, String>) =
            info["first-entry"].clone().decode().unwrap();
        assert_eq!(first.1["f"], "v");
    }
    let hello = map(vec![
        (b("server"), b("redis")),
        (b("proto"), Value::Int(3)),
        (b("modules"), arr(vec![])),
    ]);
    for v in [resp2(&hello), hello] {
        let info: HashMap<String, Value> = v.decode().unwrap();
        assert_eq!(info["proto"].clone().decode::<u8>().unwrap(), 3);
        assert!(info["modules"].clone().decode::<Vec<Value>>().unwrap().is_empty());
    }
    let lcs = map(vec![
        (
            b("matches"),
            arr(vec![arr(vec![
                arr(vec![Value::Int(4), Value::Int(7)]),
                arr(vec![Value::Int(5), Value::Int(8)]),
            ])]),
        ),
        (b("len"), Value::Int(6)),
    ]);
    for v in [resp2(&lcs), lcs] {
        let idx: HashMap<String, Value> = v.decode().unwrap();
        assert_eq!(idx["len"].clone().decode::<usize>().unwrap(), 6);
        type Ranges = Vec<((u64, u64), (u64, u64))>;
        let matches: Ranges = idx["matches"].clone().decode().unwrap();
        assert_eq!(matches, [((4, 7), (5, 8))]);
    }
}

#[test]
fn config_get_and_command_docs_both_protocols() {
    let config = map(vec![(b("maxmemory"), b("0")), (b("port"), b("6379"))]);
    let want: HashMap<String, String> =
        [("maxmemory".into(), "0".into()), ("port".into(), "6379".into())].into();
    both(&config, want);
    let port: HashMap<String, u16> = config.decode().unwrap();
    assert_eq!(port["port"], 6379);

    let docs = map(vec![(
        b("get"),
        map(vec![
            (b("summary"), b("Returns the string value of a key.")),
            (b("since"), b("1.0.0")),
        ]),
    )]);
    for v in [resp2(&docs), docs] {
        let docs: HashMap<String, HashMap<String, String>> = v.decode().unwrap();
        assert_eq!(docs["get"]["since"], "1.0.0");
    }
}

// ---- Rows whose types change with the protocol (lowered by `resp2`) ----

#[test]
fn scores_and_counters() {
    both(&Value::Double(1.5), Some(1.5f64)); // ZSCORE / ZINCRBY
    both(&Value::Nil, None::<f64>);
    both(&arr(vec![Value::Double(1.0), Value::Nil]), vec![Some(1.0f64), None]); // ZMSCORE
    both(&b("10.5"), 10.5f64); // INCRBYFLOAT: bulk in both
    both(&Value::Int(5), 5i64); // INCR
    both(&b("42"), 42u32); // GET of a counter
    both(&arr(vec![Value::Int(0), Value::Double(2.0)]), Some((0u64, 2.0f64))); // ZRANK … WITHSCORE
    both(&Value::Nil, None::<(u64, f64)>);
}

#[test]
fn booleans() {
    both(&Value::Int(1), true); // SISMEMBER
    both(&arr(vec![Value::Int(1), Value::Int(0)]), vec![true, false]); // SMISMEMBER
    both(&Value::Boolean(true), true); // EVAL after redis.setresp(3)
    both(&simple("OK"), true); // SET … NX applied
    both(&Value::Nil, false); // SET … NX not applied
    let err = Value::Int(2).decode::<bool>().unwrap_err();
    assert_eq!(err.to_string(), "cannot convert integer (not 0 or 1) into bool");
}

#[test]
fn sets_and_lists() {
    let members = Value::Set(vec![b("a"), b("b")]); // SMEMBERS: set in RESP3
    let want: HashSet<String> = ["a".to_string(), "b".to_string()].into();
    both(&members, want);
    both(&members, vec!["a".to_string(), "b".to_string()]);
    both(&arr(vec![b("v"), Value::Nil]), vec![Some("v".to_string()), None]); // MGET
    both(&Value::Nil, None::<Vec<String>>); // LPOP count of a missing key
    both(&Value::Nil, Vec::<String>::new());
}

#[test]
fn blocking_pops() {
    both(&bulks(&["q", "job"]), Some(("q".to_string(), "job".to_string()))); // BLPOP
    both(&Value::Nil, None::<(String, String)>);
    let lmpop = arr(vec![b("q"), bulks(&["a", "b"])]);
    both(&lmpop, Some(("q".to_string(), vec!["a".to_string(), "b".to_string()])));
    let bzpopmin = arr(vec![b("z"), b("m"), Value::Double(2.0)]);
    both(&bzpopmin, Some(("z".to_string(), "m".to_string(), 2.0f64)));
    // ZMPOP: nested pairs in both protocols.
    let zmpop = arr(vec![b("z"), arr(vec![arr(vec![b("m"), Value::Double(1.0)])])]);
    both(&zmpop, Some(("z".to_string(), vec![("m".to_string(), 1.0f64)])));
}

#[test]
fn geo() {
    let pos = arr(vec![arr(vec![Value::Double(13.5), Value::Double(38.25)]), Value::Nil]);
    both(&pos, vec![Some((13.5f64, 38.25f64)), None]); // GEOPOS
    both(&b("166274.1516"), Some(166274.1516f64)); // GEODIST
    let search = arr(vec![arr(vec![
        b("Palermo"),
        b("190.4424"),
        arr(vec![Value::Double(13.5), Value::Double(38.25)]),
    ])]);
    both(&search, vec![("Palermo".to_string(), 190.4424f64, (13.5f64, 38.25f64))]);
}

#[test]
fn scans_and_streams() {
    let scan = arr(vec![b("17"), bulks(&["k1", "k2"])]);
    both(&scan, (17u64, vec!["k1".to_string(), "k2".to_string()]));
    let hscan = arr(vec![b("0"), bulks(&["f", "v"])]);
    let (cursor, fields): (u64, HashMap<String, String>) = hscan.decode().unwrap();
    assert_eq!((cursor, fields["f"].as_str()), (0, "v"));
    let zscan = arr(vec![b("0"), bulks(&["m", "1.5"])]);
    let (_, scored): (u64, Vec<(String, f64)>) = zscan.decode().unwrap();
    assert_eq!(scored, [("m".to_string(), 1.5)]);
    let pending = arr(vec![Value::Int(2), b("1-0"), b("2-0"), arr(vec![bulks(&["alice", "2"])])]);
    type Summary = (u64, Option<String>, Option<String>, Option<Vec<(String, u64)>>);
    let (n, _, last, consumers): Summary = pending.decode().unwrap();
    assert_eq!((n, last.as_deref()), (2, Some("2-0")));
    assert_eq!(consumers.unwrap(), [("alice".to_string(), 2)]);
    let empty = arr(vec![Value::Int(0), Value::Nil, Value::Nil, Value::Nil]);
    let (n, first, _, consumers): Summary = empty.decode().unwrap();
    assert_eq!((n, first, consumers), (0, None, None));
    let autoclaim =
        arr(vec![b("0-0"), arr(vec![arr(vec![b("1-0"), bulks(&["f", "v"])])]), arr(vec![])]);
    type Claim = (String, Vec<(String, HashMap<String, String>)>, Vec<String>);
    let (next, claimed, deleted): Claim = autoclaim.decode().unwrap();
    assert_eq!((next.as_str(), claimed.len(), deleted.len()), ("0-0", 1, 0));
}

#[test]
fn server_info_and_time() {
    let info = Value::Verbatim { format: *b"txt", text: "# Server\r\nredis_version:7.0.15".into() };
    both(&info, "# Server\r\nredis_version:7.0.15".to_string());
    both(&bulks(&["1714000000", "123456"]), (1_714_000_000u64, 123_456u32)); // TIME
    both(&arr(vec![Value::Int(1), Value::Int(0)]), (1i64, 0i64)); // WAITAOF
}

#[test]
fn pubsub_shapes() {
    let confirm = Value::Push(vec![b("subscribe"), b("news"), Value::Int(1)]);
    both(&confirm, ("subscribe".to_string(), "news".to_string(), 1i64));
    let pmessage = Value::Push(vec![b("pmessage"), b("n*"), b("news"), b("hi")]);
    let (_, pattern, channel, payload): (String, String, String, Bytes) =
        pmessage.decode().unwrap();
    assert_eq!((pattern.as_str(), channel.as_str(), &payload[..]), ("n*", "news", &b"hi"[..]));
    let numsub = bulks(&["news", "2", "alerts", "0"]); // PUBSUB NUMSUB: flat in both
    let counts: HashMap<String, u64> = numsub.decode().unwrap();
    assert_eq!((counts["news"], counts["alerts"]), (2, 0));
}

// ---- Errors inside replies ----

#[test]
fn exec_with_a_failed_command() {
    let exec = arr(vec![
        Value::Int(1),
        Value::Error(ServerError::new(
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        )),
    ]);
    let err = exec.clone().decode::<Vec<i64>>().unwrap_err();
    assert_eq!(err.server_code(), Some("WRONGTYPE"));
    assert!(matches!(err, Error::Redis(_)));
    let err = exec.clone().decode::<(i64, i64)>().unwrap_err();
    assert_eq!(err.server_code(), Some("WRONGTYPE"));
    let slots: Vec<Result<i64, Error>> = exec.clone().decode().unwrap();
    assert_eq!(*slots[0].as_ref().unwrap(), 1);
    assert_eq!(slots[1].as_ref().unwrap_err().server_code(), Some("WRONGTYPE"));
    let raw: Vec<Value> = exec.decode().unwrap();
    assert!(matches!(raw[1], Value::Error(_)));
}

#[test]
fn attributes_are_transparent() {
    let annotated = Value::Attribute {
        attributes: vec![(b("key-popularity"), map(vec![(b("a"), Value::Double(0.19))]))],
        value: Box::new(arr(vec![Value::Int(2039), Value::Int(9543)])),
    };
    assert_eq!(annotated.decode::<(u32, u32)>().unwrap(), (2039, 9543));
}

#[test]
fn conversion_errors_describe_without_contents() {
    let err = b("s3cr3t-token").decode::<i64>().unwrap_err();
    match &err {
        Error::Conversion { expected, actual } => {
            assert_eq!(expected, "i64");
            assert_eq!(actual, "bulk string of 12 bytes (not an integer)");
        }
        other => panic!("{other:?}"),
    }
    assert!(!format!("{err} {err:?}").contains("s3cr3t"));
    let err = bulks(&["a", "b"]).decode::<(String, String, String)>().unwrap_err();
    assert_eq!(err.to_string(), "cannot convert array of 2 elements into a tuple of 3");
    let err = Value::Int(300).decode::<u8>().unwrap_err();
    assert_eq!(err.to_string(), "cannot convert integer (out of range) into u8");
}

// ---- ToArg ----

fn encode(write: impl FnOnce(&mut CommandBuf)) -> Bytes {
    let mut cmd = CommandBuf::new();
    write(&mut cmd);
    cmd.finish()
}

/// Writes an argument the way a command method taking `impl ToArg` does.
fn put<T: ToArg>(cmd: &mut CommandBuf, value: T) {
    value.write_args(cmd);
}

#[test]
fn mset_from_a_slice_of_pairs() {
    let bytes = encode(|cmd| {
        put(cmd, "MSET");
        let pairs: &[(&str, &str)] = &[("k1", "v1"), ("k2", "v2")];
        put(cmd, pairs);
    });
    assert_eq!(&bytes[..], b"*5\r\n$4\r\nMSET\r\n$2\r\nk1\r\n$2\r\nv1\r\n$2\r\nk2\r\n$2\r\nv2\r\n");
}

#[test]
fn arguments_of_every_documented_kind() {
    let key = String::from("key");
    let bytes = encode(|cmd| {
        put(cmd, "SET");
        put(cmd, key.clone());
        put(cmd, &key);
        put(cmd, &b"\x00\x01"[..]);
        put(cmd, vec![b'v']);
        put(cmd, Bytes::from_static(b"shared"));
        put(cmd, 10u64);
        put(cmd, -1i32);
        put(cmd, 2.5f64);
        put(cmd, f64::NEG_INFINITY);
        put(cmd, None::<&str>);
        put(cmd, Some("EX"));
    });
    assert_eq!(
        &bytes[..],
        &b"*11\r\n$3\r\nSET\r\n$3\r\nkey\r\n$3\r\nkey\r\n$2\r\n\x00\x01\r\n$1\r\nv\r\n\
           $6\r\nshared\r\n$2\r\n10\r\n$2\r\n-1\r\n$3\r\n2.5\r\n$4\r\n-inf\r\n$2\r\nEX\r\n"[..]
    );
}

#[test]
fn many_keys_from_slices_and_vecs() {
    let keys = vec!["a".to_string(), "b".to_string()];
    let bytes = encode(|cmd| {
        "DEL".write_args(cmd);
        keys.write_args(cmd);
        ["c", "d"].write_args(cmd);
        keys[..1].write_args(cmd);
    });
    assert!(bytes.starts_with(b"*6\r\n$3\r\nDEL\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"));
}

// ---- Properties: what ToArg writes, FromValue reads back ----

/// The single argument `value` writes, as the bulk string a server would echo.
fn echoed<T: ToArg>(value: T) -> Value {
    let bytes = encode(|cmd| value.write_args(cmd));
    // `*1\r\n$<len>\r\n<payload>\r\n`
    let text = &bytes[4..];
    let eol = text.iter().position(|&c| c == b'\r').expect("length line");
    Value::BulkString(Bytes::copy_from_slice(&text[eol + 2..text.len() - 2]))
}

proptest::proptest! {
    #[test]
    fn integers_round_trip(n: i128, m: u128, k: i64) {
        proptest::prop_assert_eq!(echoed(n).decode::<i128>().unwrap(), n);
        proptest::prop_assert_eq!(echoed(m).decode::<u128>().unwrap(), m);
        proptest::prop_assert_eq!(echoed(k).decode::<i64>().unwrap(), k);
        proptest::prop_assert_eq!(Value::Int(k).decode::<i64>().unwrap(), k);
    }

    #[test]
    fn narrowing_is_checked_never_wrapped(k: i64) {
        let fits = u8::try_from(k).ok();
        proptest::prop_assert_eq!(Value::Int(k).decode::<u8>().ok(), fits);
        proptest::prop_assert_eq!(echoed(k).decode::<u8>().ok(), fits);
        proptest::prop_assert_eq!(Value::Double(k as f64).decode::<i128>().ok(), Some(k as f64 as i128));
    }

    #[test]
    fn floats_round_trip(x in proptest::num::f64::ANY, y in proptest::num::f32::ANY) {
        let back = echoed(x).decode::<f64>().unwrap();
        proptest::prop_assert!(back == x || (back.is_nan() && x.is_nan()));
        let back = echoed(y).decode::<f32>().unwrap();
        proptest::prop_assert!(back == y || (back.is_nan() && y.is_nan()));
        let rendered = Value::Double(x).decode::<String>().unwrap();
        let back = b(&rendered).decode::<f64>().unwrap();
        proptest::prop_assert!(back == x || (back.is_nan() && x.is_nan()));
    }

    #[test]
    fn byte_strings_round_trip(payload: Vec<u8>) {
        let v = echoed(payload.clone());
        proptest::prop_assert_eq!(v.clone().decode::<Vec<u8>>().unwrap(), payload.clone());
        proptest::prop_assert_eq!(&v.decode::<Bytes>().unwrap()[..], &payload[..]);
    }

    #[test]
    fn arbitrary_flat_arrays_never_panic(items in proptest::collection::vec(0i64..5, 0..9)) {
        let v = arr(items.iter().map(|&n| if n == 0 { Value::Nil } else { arr(vec![Value::Int(n); n as usize]) }).collect());
        let _ = v.clone().decode::<Vec<(i64, i64)>>();
        let _ = v.clone().decode::<HashMap<i64, Vec<i64>>>();
        let _ = v.decode::<Vec<(Option<(i64, i64)>, Value, Vec<i64>)>>();
    }
}
