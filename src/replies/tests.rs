//! Each typed reply reads the RESP2 and the RESP3 shape of its reply the same, and no input
//! makes one panic.

use bytes::Bytes;

use super::*;
use crate::resp::{FromValue, Value};

fn b(s: &str) -> Value {
    Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
}

fn arr(v: Vec<Value>) -> Value {
    Value::Array(v)
}

/// RESP3's map of a RESP2 flat record.
fn map_of(flat: &[Value]) -> Value {
    Value::Map(flat.chunks(2).map(|kv| (kv[0].clone(), kv[1].clone())).collect())
}

fn same<T: FromValue + PartialEq + std::fmt::Debug>(resp2: Value, resp3: Value) -> T {
    let a = T::from_value(resp2).expect("RESP2 shape");
    let c = T::from_value(resp3).expect("RESP3 shape");
    assert_eq!(a, c);
    a
}

#[test]
fn info_reads_bulk_and_verbatim_text() {
    let text =
        "# Server\r\nredis_version:7.0.15\r\nrole:master\r\n\r\n# Memory\r\nused_memory:1024\r\n";
    let verbatim = Value::Verbatim { format: *b"txt", text: Bytes::from(text) };
    let info: Info = same(b(text), verbatim);
    assert_eq!(info.role(), Some("master"));
    assert_eq!(info.used_memory(), Some(1024));
    assert_eq!(info.section_names().collect::<Vec<_>>(), ["Server", "Memory"]);
    assert_eq!(info.raw(), text);
    let bare = Info::parse("a:1\nb:2");
    assert_eq!(bare.get("b"), Some("2"));
    assert!(Info::from_value(Value::Int(1)).is_err());
}

#[test]
fn time_reads_both_protocols_and_refuses_nonsense() {
    let t: ServerTime = same(arr(vec![b("100"), b("5")]), arr(vec![b("100"), b("5")]));
    assert_eq!(t.as_duration_since_epoch().as_micros(), 100_000_005);
    assert!(ServerTime::from_value(arr(vec![b("1"), b("1000000")])).is_err());
    assert!(ServerTime::from_value(arr(vec![b("99999999999999999"), b("0")])).is_err());
    assert!(ServerTime::from_value(arr(vec![b("1")])).is_err());
    let far = ServerTime { seconds: u64::MAX, microseconds: 0 };
    let _ = far.to_system_time(); // saturates, never panics
}

fn entry(id: &str, kv: &[&str]) -> Value {
    arr(vec![b(id), arr(kv.iter().map(|s| b(s)).collect())])
}

#[test]
fn stream_entries_and_reads() {
    let entries = arr(vec![entry("1-0", &["f", "v"]), arr(vec![b("2-0"), Value::Nil])]);
    let read2 = arr(vec![arr(vec![b("s"), entries.clone()])]);
    let read3 = Value::Map(vec![(b("s"), entries)]);
    let read: Vec<StreamKeyEntries> = same(read2, read3);
    assert_eq!(read[0].entries.len(), 2);
    assert_eq!(read[0].entries[0].get("f").map(|v| &v[..]), Some(&b"v"[..]));
    assert!(read[0].entries[1].fields.is_empty(), "a deleted entry has no fields");
    let none: Vec<StreamKeyEntries> = FromValue::from_value(Value::Nil).unwrap();
    assert!(none.is_empty());

    let claim2 = arr(vec![b("0-0"), arr(vec![entry("1-0", &["a", "b"])])]);
    let claim: AutoClaim = FromValue::from_value(claim2).unwrap();
    assert!(claim.is_done() && claim.deleted.is_empty());

    let pending = arr(vec![Value::Int(0), Value::Nil, Value::Nil, Value::Nil]);
    let p: Pending = FromValue::from_value(pending).unwrap();
    assert_eq!((p.count, p.min_id, p.consumers.len()), (0, None, 0));
    let one = arr(vec![b("1-0"), b("alice"), Value::Int(10), Value::Int(2)]);
    let e: Vec<PendingEntry> = FromValue::from_value(arr(vec![one])).unwrap();
    assert_eq!((e[0].idle_ms, e[0].deliveries), (10, 2));
}

#[test]
fn xinfo_records_read_flat_arrays_and_maps() {
    let flat = vec![
        b("length"),
        Value::Int(2),
        b("radix-tree-keys"),
        Value::Int(1),
        b("radix-tree-nodes"),
        Value::Int(2),
        b("last-generated-id"),
        b("2-0"),
        b("groups"),
        Value::Int(0),
        b("first-entry"),
        entry("1-0", &["f", "v"]),
        b("last-entry"),
        entry("2-0", &["f", "w"]),
        b("future-field"),
        Value::Int(9),
    ];
    let info: StreamInfo = same(arr(flat.clone()), map_of(&flat));
    assert_eq!(info.length, 2);
    assert_eq!(info.last_entry.map(|e| e.id), Some(Bytes::from("2-0")));
    assert_eq!(info.other.len(), 1, "unknown fields are kept");
    assert!(info.entries_added.is_none(), "a 6.2 server does not send it");

    let group = vec![
        b("name"),
        b("g"),
        b("consumers"),
        Value::Int(1),
        b("pending"),
        Value::Int(0),
        b("last-delivered-id"),
        b("0-0"),
    ];
    let g: StreamGroupInfo = same(arr(group.clone()), map_of(&group));
    assert_eq!((g.lag, g.entries_read), (None, None));
    let consumer = vec![
        b("name"),
        b("c"),
        b("pending"),
        Value::Int(0),
        b("idle"),
        Value::Int(5),
        b("inactive"),
        Value::Int(-1),
    ];
    let c: StreamConsumerInfo = same(arr(consumer.clone()), map_of(&consumer));
    assert_eq!(c.inactive_ms, None, "-1: never read");
    assert!(StreamGroupInfo::from_value(arr(vec![b("name")])).is_err());
}

#[test]
fn client_info_and_list() {
    let line = "id=3 addr=127.0.0.1:1 laddr=127.0.0.1:2 fd=5 name= age=1 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 cmd=client|info user=default lib-name= resp=2\n";
    let verbatim = Value::Verbatim { format: *b"txt", text: Bytes::from(line) };
    let c: ClientInfo = same(b(line), verbatim);
    assert_eq!((c.id, c.name.clone(), c.multi, c.lib_name.clone()), (3, None, Some(-1), None));
    let list: ClientList = FromValue::from_value(b(&format!("{line}{line}"))).unwrap();
    assert_eq!(list.len(), 2);
    assert!(ClientInfo::from_value(b("fd=5")).is_err());
    assert!(ClientList::from_value(b("")).unwrap().is_empty());
}

#[test]
fn geo_members_in_every_with_combination() {
    let coord2 = arr(vec![b("13.36"), b("38.11")]);
    let coord3 = arr(vec![Value::Double(13.36), Value::Double(38.11)]);
    let m: GeoMember = same(
        arr(vec![b("P"), b("1.5"), Value::Int(7), coord2.clone()]),
        arr(vec![b("P"), Value::Double(1.5), Value::Int(7), coord3]),
    );
    assert_eq!((m.distance, m.hash, m.coordinates), (Some(1.5), Some(7), Some((13.36, 38.11))));
    let only_coord: GeoMember = FromValue::from_value(arr(vec![b("P"), coord2])).unwrap();
    assert_eq!((only_coord.distance, only_coord.hash), (None, None));
    let only_hash: GeoMember = FromValue::from_value(arr(vec![b("P"), Value::Int(1)])).unwrap();
    assert_eq!(only_hash.hash, Some(1));
    let positions: Vec<Option<(f64, f64)>> =
        FromValue::from_value(arr(vec![arr(vec![b("1"), b("2")]), Value::Nil])).unwrap();
    assert_eq!(positions, [Some((1.0, 2.0)), None]);
    assert!(GeoMember::from_value(arr(vec![b("P"), Value::Boolean(true)])).is_err());
}

#[test]
fn scan_pages() {
    let hscan: ScanPage<(Bytes, Bytes)> =
        FromValue::from_value(arr(vec![b("0"), arr(vec![b("f"), b("v")])])).unwrap();
    assert!(hscan.is_last());
    let zscan: ScanPage<(Bytes, f64)> =
        FromValue::from_value(arr(vec![b("18446744073709551615"), arr(vec![b("m"), b("1.5")])]))
            .unwrap();
    assert_eq!((zscan.cursor, zscan.items[0].1), (u64::MAX, 1.5));
    assert!(ScanPage::<Bytes>::from_value(arr(vec![b("x"), arr(vec![])])).is_err());
}

#[test]
fn scored_replies_read_the_same_in_both_protocols() {
    let flat = arr(vec![b("a"), b("1"), b("b"), b("2.5")]);
    let pairs =
        arr(vec![arr(vec![b("a"), Value::Double(1.0)]), arr(vec![b("b"), Value::Double(2.5)])]);
    let z: Vec<(Bytes, f64)> = same(flat, pairs);
    assert_eq!(z.len(), 2);
    // ZPOPMIN without a count: [m, s] in both protocols, one pair.
    let one: Vec<(Bytes, f64)> =
        same(arr(vec![b("a"), b("1")]), arr(vec![b("a"), Value::Double(1.0)]));
    assert_eq!(one.len(), 1);
    // ZMPOP / BZMPOP.
    let zmpop2 = arr(vec![b("k"), arr(vec![arr(vec![b("a"), b("1")])])]);
    let zmpop3 = arr(vec![b("k"), arr(vec![arr(vec![b("a"), Value::Double(1.0)])])]);
    let popped: Option<(Bytes, Vec<(Bytes, f64)>)> = same(zmpop2, zmpop3);
    assert_eq!(popped.map(|(k, v)| (k, v.len())), Some((Bytes::from("k"), 1)));
    let timed_out: Option<(Bytes, Vec<(Bytes, f64)>)> = FromValue::from_value(Value::Nil).unwrap();
    assert!(timed_out.is_none());
    // BZPOPMIN.
    let bz: Option<(Bytes, Bytes, f64)> =
        same(arr(vec![b("k"), b("a"), b("1")]), arr(vec![b("k"), b("a"), Value::Double(1.0)]));
    assert!(bz.is_some());
}

#[test]
fn no_input_panics() {
    let shapes = [
        Value::Nil,
        Value::Int(-1),
        b(""),
        b("="),
        Value::Double(f64::NAN),
        arr(vec![]),
        arr(vec![Value::Nil; 5]),
        arr(vec![b("a"); 3]),
        Value::Map(vec![]),
        Value::Map(vec![(Value::Int(1), Value::Nil)]),
        arr(vec![arr(vec![Value::Nil])]),
        Value::Boolean(true),
    ];
    for v in shapes {
        let _ = Info::from_value(v.clone());
        let _ = ServerTime::from_value(v.clone());
        let _ = ClientInfo::from_value(v.clone());
        let _ = ClientList::from_value(v.clone());
        let _ = StreamEntry::from_value(v.clone());
        let _ = Vec::<StreamKeyEntries>::from_value(v.clone());
        let _ = AutoClaim::from_value(v.clone());
        let _ = Pending::from_value(v.clone());
        let _ = PendingEntry::from_value(v.clone());
        let _ = StreamInfo::from_value(v.clone());
        let _ = StreamGroupInfo::from_value(v.clone());
        let _ = StreamConsumerInfo::from_value(v.clone());
        let _ = ScanPage::<Bytes>::from_value(v.clone());
        let _ = GeoMember::from_value(v);
    }
}
