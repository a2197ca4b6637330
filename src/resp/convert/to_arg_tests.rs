//! Unit tests of the argument encodings.

use super::*;

/// The arguments `value` writes, read back from the encoded command.
fn args<T: ToArg + ?Sized>(value: &T) -> Vec<Vec<u8>> {
    let mut cmd = CommandBuf::new();
    value.write_args(&mut cmd);
    let argc = cmd.argc();
    let bytes = cmd.finish();
    let mut rest = &bytes[..];
    let header = format!("*{argc}\r\n");
    assert!(rest.starts_with(header.as_bytes()), "bad header");
    rest = &rest[header.len()..];
    let mut out = Vec::new();
    while !rest.is_empty() {
        assert_eq!(rest[0], b'$');
        let eol = rest.iter().position(|&b| b == b'\r').unwrap();
        let len: usize = std::str::from_utf8(&rest[1..eol]).unwrap().parse().unwrap();
        let start = eol + 2;
        out.push(rest[start..start + len].to_vec());
        assert_eq!(&rest[start + len..start + len + 2], b"\r\n");
        rest = &rest[start + len + 2..];
    }
    assert_eq!(out.len(), argc);
    out
}

fn text(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.as_bytes().to_vec()).collect()
}

#[test]
fn strings_and_bytes_are_one_argument() {
    assert_eq!(args("héllo"), text(&["héllo"]));
    assert_eq!(args(&"x"), text(&["x"]));
    assert_eq!(args(&String::from("s")), text(&["s"]));
    assert_eq!(args(&&String::from("s")), text(&["s"]));
    assert_eq!(args(&b"\x00\xff"[..]), vec![vec![0u8, 255]]);
    assert_eq!(args(&vec![1u8, 2, 3]), vec![vec![1u8, 2, 3]]);
    assert_eq!(args(&[7u8; 4]), vec![vec![7u8; 4]]);
    assert_eq!(args(b"ab"), text(&["ab"]));
    assert_eq!(args(&Bytes::from_static(b"payload")), text(&["payload"]));
    assert_eq!(args(""), text(&[""]));
    assert_eq!(args(&Vec::<u8>::new()), text(&[""]));
}

#[test]
fn integers_in_decimal() {
    assert_eq!(args(&-5i8), text(&["-5"]));
    assert_eq!(args(&i16::MIN), text(&["-32768"]));
    assert_eq!(args(&7i32), text(&["7"]));
    assert_eq!(args(&i64::MIN), text(&["-9223372036854775808"]));
    assert_eq!(args(&-3isize), text(&["-3"]));
    assert_eq!(args(&255u8), text(&["255"]));
    assert_eq!(args(&65535u16), text(&["65535"]));
    assert_eq!(args(&0u32), text(&["0"]));
    assert_eq!(args(&u64::MAX), text(&["18446744073709551615"]));
    assert_eq!(args(&12usize), text(&["12"]));
    assert_eq!(args(&i128::MIN), text(&["-170141183460469231731687303715884105728"]));
    assert_eq!(args(&i128::MAX), text(&["170141183460469231731687303715884105727"]));
    assert_eq!(args(&-1i128), text(&["-1"]));
    assert_eq!(args(&u128::MAX), text(&["340282366920938463463374607431768211455"]));
    assert_eq!(args(&5u128), text(&["5"]));
}

#[test]
fn floats_in_redis_syntax() {
    assert_eq!(args(&1.5f64), text(&["1.5"]));
    assert_eq!(args(&f64::INFINITY), text(&["inf"]));
    assert_eq!(args(&f64::NEG_INFINITY), text(&["-inf"]));
    assert_eq!(args(&-0.25f64), text(&["-0.25"]));
    assert_eq!(args(&0.1f32), text(&["0.1"]));
    assert_eq!(args(&f32::INFINITY), text(&["inf"]));
    assert_eq!(args(&f32::NEG_INFINITY), text(&["-inf"]));
    assert_eq!(args(&3.0f32), text(&["3"]));
    // The longest f32 texts fit the stack buffer and read back exactly.
    for x in [f32::MAX, f32::MIN, f32::MIN_POSITIVE, -f32::from_bits(1), f32::from_bits(1)] {
        let written = args(&x);
        let back: f32 = std::str::from_utf8(&written[0]).unwrap().parse().unwrap();
        assert_eq!(back, x);
    }
}

#[test]
fn collections_write_each_element() {
    assert_eq!(args(&["a", "b"]), text(&["a", "b"]));
    assert_eq!(args(&["a", "b"][..]), text(&["a", "b"]));
    assert_eq!(args(&vec!["a".to_string(), "b".to_string()]), text(&["a", "b"]));
    assert_eq!(args(&[1u16, 2, 3]), text(&["1", "2", "3"]));
    assert_eq!(args(&vec![-1i64, 2]), text(&["-1", "2"]));
    assert_eq!(args(&Vec::<String>::new()), Vec::<Vec<u8>>::new());
    // A list of byte strings is one argument per byte string.
    assert_eq!(args(&[&b"k1"[..], &b"k2"[..]]), text(&["k1", "k2"]));
    assert_eq!(args(&vec![vec![1u8], vec![2u8, 3]]), vec![vec![1u8], vec![2, 3]]);
    let set: BTreeSet<&str> = ["b", "a"].into();
    assert_eq!(args(&set), text(&["a", "b"]));
    let set: HashSet<i32> = [4].into();
    assert_eq!(args(&set), text(&["4"]));
}

#[test]
fn maps_write_keys_and_values_in_turn() {
    let map: BTreeMap<&str, i64> = [("b", 2), ("a", 1)].into();
    assert_eq!(args(&map), text(&["a", "1", "b", "2"]));
    let map: HashMap<String, String> = [("f".to_string(), "v".to_string())].into();
    assert_eq!(args(&map), text(&["f", "v"]));
}

#[test]
fn tuples_write_each_part() {
    assert_eq!(args(&("k", 1)), text(&["k", "1"]));
    assert_eq!(args(&[("k1", "v1"), ("k2", "v2")]), text(&["k1", "v1", "k2", "v2"]));
    assert_eq!(args(&("a", 2u8, 1.5f64)), text(&["a", "2", "1.5"]));
    assert_eq!(args(&("a", "b", "c", vec!["d", "e"])), text(&["a", "b", "c", "d", "e"]));
}

#[test]
fn options_write_nothing_for_none() {
    assert_eq!(args(&Some("x")), text(&["x"]));
    assert_eq!(args(&None::<&str>), Vec::<Vec<u8>>::new());
    assert_eq!(args(&("k", None::<i64>, Some(5))), text(&["k", "5"]));
}

#[test]
fn smart_pointers_forward() {
    let boxed: Box<str> = "b".into();
    assert_eq!(args(&boxed), text(&["b"]));
    let shared: Arc<str> = "a".into();
    assert_eq!(args(&shared), text(&["a"]));
    let rc: Rc<[u8]> = Rc::from(&b"r"[..]);
    assert_eq!(args(&rc), text(&["r"]));
    let cow: Cow<'_, str> = Cow::Borrowed("c");
    assert_eq!(args(&cow), text(&["c"]));
    let cow: Cow<'_, [u8]> = Cow::Owned(vec![1, 2]);
    assert_eq!(args(&cow), vec![vec![1u8, 2]]);
    let mut s = String::from("m");
    assert_eq!(args(&&mut s), text(&["m"]));
}
