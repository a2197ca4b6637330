//! Unit tests of the collection conversions.

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;

use bytes::Bytes;

use super::*;
use crate::error::ServerError;

fn bulk(s: &str) -> Value {
    Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
}

fn arr(items: Vec<Value>) -> Value {
    Value::Array(items)
}

fn bulks(items: &[&str]) -> Value {
    arr(items.iter().map(|s| bulk(s)).collect())
}

fn attr(v: Value) -> Value {
    Value::Attribute { attributes: vec![], value: Box::new(v) }
}

fn server_error() -> Value {
    Value::Error(ServerError::new("EXECABORT Transaction discarded"))
}

fn conversion<T: FromValue + std::fmt::Debug>(v: Value) -> (String, String) {
    match T::from_value(v) {
        Err(Error::Conversion { expected, actual }) => (expected, actual),
        other => panic!("expected a conversion error, got {other:?}"),
    }
}

fn pairs(items: &[(&str, f64)]) -> Vec<(String, f64)> {
    items.iter().map(|(m, s)| (m.to_string(), *s)).collect()
}

#[test]
fn vec_u8_reads_a_string_as_its_bytes() {
    assert_eq!(Vec::<u8>::from_value(bulk("abc")).unwrap(), b"abc");
    assert_eq!(Vec::<u8>::from_value(Value::SimpleString("OK".into())).unwrap(), b"OK");
    let verbatim = Value::Verbatim { format: *b"txt", text: "v".into() };
    assert_eq!(Vec::<u8>::from_value(verbatim).unwrap(), b"v");
    assert_eq!(Vec::<u8>::from_value(Value::Int(12)).unwrap(), b"12");
    let binary = Value::BulkString(Bytes::from_static(b"\x00\xff"));
    assert_eq!(Vec::<u8>::from_value(attr(binary)).unwrap(), b"\x00\xff");
    // An array is still one u8 per element.
    let v = arr(vec![Value::Int(1), bulk("2"), Value::Int(255)]);
    assert_eq!(Vec::<u8>::from_value(v).unwrap(), [1, 2, 255]);
    assert_eq!(conversion::<Vec<u8>>(arr(vec![Value::Int(256)])).1, "integer (out of range)");
    assert_eq!(Vec::<u8>::from_value(Value::Nil).unwrap(), b"");
    assert_eq!(VecDeque::<u8>::from_value(bulk("xy")).unwrap(), [b'x', b'y']);
}

#[test]
fn vec_of_other_types_refuses_a_string() {
    assert_eq!(
        conversion::<Vec<String>>(bulk("abc")),
        ("a list".to_string(), "bulk string of 3 bytes".to_string())
    );
    assert_eq!(conversion::<Vec<i64>>(Value::Int(3)).1, "integer");
    assert_eq!(conversion::<VecDeque<i64>>(Value::Boolean(true)).0, "a list");
    assert_eq!(conversion::<Vec<(String, i64)>>(bulk("x")).0, "a list of tuples of 2");
}

#[test]
fn vec_reads_arrays_sets_pushes_and_nil() {
    let v = bulks(&["a", "b"]);
    assert_eq!(Vec::<String>::from_value(v).unwrap(), ["a", "b"]);
    let v = Value::Set(vec![bulk("x")]);
    assert_eq!(Vec::<String>::from_value(v).unwrap(), ["x"]);
    let v = Value::Push(vec![bulk("message"), bulk("ch"), bulk("hi")]);
    assert_eq!(Vec::<Bytes>::from_value(v).unwrap(), ["message", "ch", "hi"]);
    assert!(Vec::<String>::from_value(Value::Nil).unwrap().is_empty());
    assert!(Vec::<String>::from_value(attr(Value::Nil)).unwrap().is_empty());
    let v = arr(vec![bulk("1"), Value::Nil, Value::Int(3)]);
    assert_eq!(Vec::<Option<i64>>::from_value(v).unwrap(), [Some(1), None, Some(3)]);
    let v = arr(vec![attr(bulk("1")), Value::Int(2)]);
    assert_eq!(Vec::<i64>::from_value(attr(v)).unwrap(), [1, 2]);
    let v = VecDeque::<String>::from_value(bulks(&["q", "r"])).unwrap();
    assert_eq!(v, ["q", "r"]);
}

#[test]
fn vec_element_errors_propagate() {
    let v = arr(vec![Value::Int(1), bulk("x")]);
    assert_eq!(conversion::<Vec<i64>>(v).1, "bulk string of 1 byte (not an integer)");
    let v = arr(vec![Value::Int(1), server_error()]);
    let err = Vec::<i64>::from_value(v).unwrap_err();
    assert_eq!(err.server_code(), Some("EXECABORT"));
}

#[test]
fn vec_of_value_and_result_keep_errors_in_place() {
    let v = arr(vec![Value::Int(1), server_error()]);
    let values = Vec::<Value>::from_value(v.clone()).unwrap();
    assert_eq!(values[1], server_error());
    let slots = Vec::<Result<i64, Error>>::from_value(v).unwrap();
    assert_eq!(*slots[0].as_ref().unwrap(), 1);
    assert_eq!(slots[1].as_ref().unwrap_err().server_code(), Some("EXECABORT"));
}

#[test]
fn map_into_plain_vec_gives_keys_and_values_in_turn() {
    let v = Value::Map(vec![(bulk("k1"), bulk("v1")), (bulk("k2"), bulk("v2"))]);
    assert_eq!(Vec::<String>::from_value(v).unwrap(), ["k1", "v1", "k2", "v2"]);
}

#[test]
fn vec_of_pairs_reads_flat_nested_and_map_shapes() {
    // ZRANGE … WITHSCORES: RESP2 flat, RESP3 array of pairs.
    let flat = bulks(&["a", "1", "b", "2.5"]);
    let nested = arr(vec![
        arr(vec![bulk("a"), Value::Double(1.0)]),
        arr(vec![bulk("b"), Value::Double(2.5)]),
    ]);
    let map = Value::Map(vec![(bulk("a"), bulk("1")), (bulk("b"), Value::Double(2.5))]);
    let want = pairs(&[("a", 1.0), ("b", 2.5)]);
    assert_eq!(Vec::<(String, f64)>::from_value(flat).unwrap(), want);
    assert_eq!(Vec::<(String, f64)>::from_value(nested).unwrap(), want);
    assert_eq!(Vec::<(String, f64)>::from_value(map).unwrap(), want);
    assert!(Vec::<(String, f64)>::from_value(arr(vec![])).unwrap().is_empty());
    assert!(Vec::<(String, f64)>::from_value(Value::Nil).unwrap().is_empty());
}

#[test]
fn vec_of_triples_chunks_by_three() {
    let flat = bulks(&["k", "m", "1", "k2", "m2", "2"]);
    let got = Vec::<(String, String, i64)>::from_value(flat).unwrap();
    assert_eq!(got, [("k".into(), "m".into(), 1), ("k2".into(), "m2".into(), 2)]);
    assert_eq!(
        conversion::<Vec<(String, String, i64)>>(bulks(&["a", "b", "1", "c"])),
        ("a list of tuples of 3".to_string(), "array of 4 elements".to_string())
    );
    let map = Value::Map(vec![(bulk("a"), bulk("b"))]);
    assert_eq!(
        conversion::<Vec<(String, String, String)>>(map),
        ("a list of tuples of 3".to_string(), "map of 1 entry".to_string())
    );
}

#[test]
fn one_tuples_read_flat_and_nested() {
    let got = Vec::<(i64,)>::from_value(arr(vec![Value::Int(1), Value::Int(2)])).unwrap();
    assert_eq!(got, [(1,), (2,)]);
    let nested = arr(vec![arr(vec![Value::Int(1)]), arr(vec![Value::Int(2)])]);
    assert_eq!(Vec::<(i64,)>::from_value(nested).unwrap(), [(1,), (2,)]);
}

#[test]
fn odd_flat_array_into_pairs_is_an_error() {
    assert_eq!(
        conversion::<Vec<(String, f64)>>(bulks(&["a", "1", "b"])),
        ("a list of tuples of 2".to_string(), "array of 3 elements".to_string())
    );
    assert_eq!(
        conversion::<HashMap<String, String>>(bulks(&["a", "1", "b"])),
        ("a map".to_string(), "array of 3 elements".to_string())
    );
}

#[test]
fn nested_detection_treats_nil_as_a_missing_pair() {
    // GEOPOS: positions or nil.
    let v = arr(vec![
        arr(vec![bulk("13.36"), bulk("38.11")]),
        Value::Nil,
        arr(vec![Value::Double(15.0), Value::Double(37.5)]),
    ]);
    let got = Vec::<Option<(f64, f64)>>::from_value(v.clone()).unwrap();
    assert_eq!(got, [Some((13.36, 38.11)), None, Some((15.0, 37.5))]);
    // Without the Option, the nil element is named in the error.
    assert_eq!(conversion::<Vec<(f64, f64)>>(v), ("a tuple of 2".to_string(), "nil".to_string()));
    // All-nil is not nested: read flat.
    let v = arr(vec![Value::Nil, Value::Nil]);
    let got = Vec::<(Option<String>, Option<String>)>::from_value(v).unwrap();
    assert_eq!(got, [(None, None)]);
}

#[test]
fn mixed_elements_are_read_flat() {
    // A flat list whose keys happen to be arrays of the tuple's size.
    let v = arr(vec![bulks(&["a", "b"]), Value::Int(1), bulks(&["c", "d"]), Value::Int(2)]);
    let got = Vec::<(Vec<String>, i64)>::from_value(v).unwrap();
    assert_eq!(got, [(vec!["a".to_string(), "b".into()], 1), (vec!["c".into(), "d".into()], 2)]);
}

#[test]
fn nested_pairs_with_attributes_are_recognised() {
    let v = arr(vec![attr(arr(vec![bulk("a"), Value::Int(1)]))]);
    assert_eq!(Vec::<(String, i64)>::from_value(v).unwrap(), [("a".to_string(), 1)]);
}

#[test]
fn hashmap_from_every_shape() {
    let want: HashMap<String, i64> = [("a".to_string(), 1), ("b".to_string(), 2)].into();
    let map = Value::Map(vec![(bulk("a"), Value::Int(1)), (bulk("b"), bulk("2"))]);
    let flat = arr(vec![bulk("a"), Value::Int(1), bulk("b"), bulk("2")]);
    let nested =
        arr(vec![arr(vec![bulk("a"), Value::Int(1)]), arr(vec![bulk("b"), Value::Int(2)])]);
    assert_eq!(HashMap::<String, i64>::from_value(map).unwrap(), want);
    assert_eq!(HashMap::<String, i64>::from_value(flat).unwrap(), want);
    assert_eq!(HashMap::<String, i64>::from_value(attr(nested)).unwrap(), want);
    assert!(HashMap::<String, i64>::from_value(Value::Nil).unwrap().is_empty());
    assert!(HashMap::<String, i64>::from_value(Value::Map(vec![])).unwrap().is_empty());
}

#[test]
fn hashmap_with_a_custom_hasher_and_repeated_keys() {
    type Fixed = HashMap<String, String, BuildHasherDefault<DefaultHasher>>;
    let flat = bulks(&["k", "old", "k", "new"]);
    let map = Fixed::from_value(flat).unwrap();
    assert_eq!(map.len(), 1);
    assert_eq!(map["k"], "new");
}

#[test]
fn btreemap_from_every_shape() {
    let map = Value::Map(vec![(bulk("b"), bulk("2")), (bulk("a"), bulk("1"))]);
    let got = BTreeMap::<String, u32>::from_value(map).unwrap();
    assert_eq!(got.into_iter().collect::<Vec<_>>(), [("a".to_string(), 1), ("b".to_string(), 2)]);
    let got = BTreeMap::<String, u32>::from_value(bulks(&["x", "9"])).unwrap();
    assert_eq!(got["x"], 9);
    assert!(BTreeMap::<String, u32>::from_value(Value::Nil).unwrap().is_empty());
    assert_eq!(
        conversion::<BTreeMap<String, u32>>(bulks(&["x"])),
        ("a map".to_string(), "array of 1 element".to_string())
    );
}

#[test]
fn maps_refuse_scalars_and_propagate_element_errors() {
    assert_eq!(
        conversion::<HashMap<String, String>>(bulk("abc")),
        ("a map".to_string(), "bulk string of 3 bytes".to_string())
    );
    assert_eq!(conversion::<BTreeMap<String, String>>(Value::Int(1)).1, "integer");
    let v = Value::Map(vec![(bulk("a"), bulk("x"))]);
    assert_eq!(conversion::<HashMap<String, i64>>(v).1, "bulk string of 1 byte (not an integer)");
    let v = Value::Map(vec![(bulk("a"), server_error())]);
    let err = HashMap::<String, i64>::from_value(v).unwrap_err();
    assert_eq!(err.server_code(), Some("EXECABORT"));
    let err = HashMap::<String, i64>::from_value(server_error()).unwrap_err();
    assert_eq!(err.server_code(), Some("EXECABORT"));
    let v = Value::Map(vec![(bulk("a"), server_error())]);
    let map = HashMap::<String, Value>::from_value(v).unwrap();
    assert_eq!(map["a"], server_error());
}

#[test]
fn sets_from_sets_arrays_and_nil() {
    let v = Value::Set(vec![bulk("a"), bulk("b"), bulk("a")]);
    let got = HashSet::<String>::from_value(v).unwrap();
    assert_eq!(got, ["a".to_string(), "b".to_string()].into());
    let got = BTreeSet::<i64>::from_value(arr(vec![Value::Int(3), bulk("1")])).unwrap();
    assert_eq!(got.into_iter().collect::<Vec<_>>(), [1, 3]);
    assert!(HashSet::<String>::from_value(Value::Nil).unwrap().is_empty());
    assert!(BTreeSet::<String>::from_value(Value::Nil).unwrap().is_empty());
    assert_eq!(
        conversion::<HashSet<String>>(bulk("a")),
        ("a set".to_string(), "bulk string of 1 byte".to_string())
    );
    assert_eq!(conversion::<BTreeSet<(String, i64)>>(bulks(&["a"])).0, "a set of tuples of 2");
    let got = BTreeSet::<(String, i64)>::from_value(bulks(&["a", "1", "b", "2"])).unwrap();
    assert_eq!(got.len(), 2);
    let err = HashSet::<String>::from_value(arr(vec![server_error()])).unwrap_err();
    assert_eq!(err.server_code(), Some("EXECABORT"));
}

#[test]
fn nested_collections() {
    // XRANGE: array of [id, flat fields].
    let v = arr(vec![
        arr(vec![bulk("1-0"), bulks(&["f", "v", "g", "w"])]),
        arr(vec![bulk("2-0"), bulks(&["f", "x"])]),
    ]);
    let got = Vec::<(String, HashMap<String, String>)>::from_value(v).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, "1-0");
    assert_eq!(got[0].1["g"], "w");
    assert_eq!(got[1].1["f"], "x");
}

#[test]
fn hostile_sizes_do_not_panic() {
    // A big flat array with one element too many.
    let mut items: Vec<Value> = (0..10_001).map(Value::Int).collect();
    let v = arr(std::mem::take(&mut items));
    assert_eq!(conversion::<HashMap<i64, i64>>(v).1, "array of 10001 elements");
    // Deeply nested arrays into a shallow type fail at the first level.
    let mut deep = Value::Int(1);
    for _ in 0..1000 {
        deep = arr(vec![deep]);
    }
    assert_eq!(conversion::<Vec<i64>>(deep.clone()).1, "array of 1 element");
    assert!(Vec::<Value>::from_value(deep).is_ok());
}
