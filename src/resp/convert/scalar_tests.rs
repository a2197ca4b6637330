//! Unit tests of the scalar conversions.

use super::*;
use crate::error::ServerError;

fn bulk(s: &str) -> Value {
    Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
}

fn simple(s: &str) -> Value {
    Value::SimpleString(Bytes::copy_from_slice(s.as_bytes()))
}

fn attr(v: Value) -> Value {
    Value::Attribute { attributes: vec![(bulk("ttl"), Value::Int(3))], value: Box::new(v) }
}

fn server_error() -> Value {
    Value::Error(ServerError::new("WRONGTYPE Operation against a key holding the wrong kind"))
}

/// The conversion error's (expected, actual), or a panic naming what came instead.
fn conversion<T: FromValue + std::fmt::Debug>(v: Value) -> (String, String) {
    match T::from_value(v) {
        Err(Error::Conversion { expected, actual }) => (expected, actual),
        other => panic!("expected a conversion error, got {other:?}"),
    }
}

#[test]
fn integers_from_int_reply() {
    assert_eq!(i64::from_value(Value::Int(-5)).unwrap(), -5);
    assert_eq!(i8::from_value(Value::Int(-128)).unwrap(), -128);
    assert_eq!(i16::from_value(Value::Int(32767)).unwrap(), 32767);
    assert_eq!(i32::from_value(Value::Int(-7)).unwrap(), -7);
    assert_eq!(i128::from_value(Value::Int(i64::MIN)).unwrap(), i128::from(i64::MIN));
    assert_eq!(isize::from_value(Value::Int(9)).unwrap(), 9);
    assert_eq!(u8::from_value(Value::Int(255)).unwrap(), 255);
    assert_eq!(u16::from_value(Value::Int(65535)).unwrap(), 65535);
    assert_eq!(u32::from_value(Value::Int(4_000_000_000)).unwrap(), 4_000_000_000);
    assert_eq!(u64::from_value(Value::Int(i64::MAX)).unwrap(), i64::MAX as u64);
    assert_eq!(u128::from_value(Value::Int(1)).unwrap(), 1);
    assert_eq!(usize::from_value(Value::Int(3)).unwrap(), 3);
}

#[test]
fn integers_are_range_checked() {
    assert_eq!(
        conversion::<u8>(Value::Int(300)),
        ("u8".to_string(), "integer (out of range)".to_string())
    );
    assert_eq!(conversion::<u32>(Value::Int(-1)).1, "integer (out of range)");
    assert_eq!(conversion::<i8>(Value::Int(128)).1, "integer (out of range)");
    assert_eq!(conversion::<usize>(Value::Int(-1)).0, "usize");
    assert_eq!(conversion::<u64>(Value::Int(i64::MIN)).0, "u64");
}

#[test]
fn integers_from_decimal_strings() {
    assert_eq!(i64::from_value(bulk("42")).unwrap(), 42);
    assert_eq!(i64::from_value(bulk("-42")).unwrap(), -42);
    assert_eq!(i64::from_value(simple("7")).unwrap(), 7);
    assert_eq!(i64::from_value(Value::BigNumber("-12".into())).unwrap(), -12);
    let verbatim = Value::Verbatim { format: *b"txt", text: "99".into() };
    assert_eq!(u8::from_value(verbatim).unwrap(), 99);
    assert_eq!(
        u128::from_value(Value::BigNumber("340282366920938463463374607431768211455".into()))
            .unwrap(),
        u128::MAX
    );
    assert_eq!(i64::from_value(bulk("9223372036854775807")).unwrap(), i64::MAX);
}

#[test]
fn integers_refuse_strings_that_are_not_integers() {
    assert_eq!(
        conversion::<i64>(bulk("4x2")),
        ("i64".to_string(), "bulk string of 3 bytes (not an integer)".to_string())
    );
    assert_eq!(conversion::<i64>(bulk("")).1, "bulk string of 0 bytes (not an integer)");
    assert_eq!(conversion::<i64>(bulk("1.5")).1, "bulk string of 3 bytes (not an integer)");
    assert_eq!(conversion::<i64>(bulk(" 1")).1, "bulk string of 2 bytes (not an integer)");
    assert_eq!(conversion::<i64>(bulk("-")).1, "bulk string of 1 byte (not an integer)");
    let invalid_utf8 = Value::BulkString(Bytes::from_static(b"\xff1"));
    assert_eq!(conversion::<i64>(invalid_utf8).1, "bulk string of 2 bytes (not an integer)");
}

#[test]
fn integer_strings_out_of_range_say_so() {
    assert_eq!(conversion::<u8>(bulk("300")).1, "bulk string of 3 bytes (out of range)");
    assert_eq!(conversion::<u32>(bulk("-1")).1, "bulk string of 2 bytes (out of range)");
    assert_eq!(
        conversion::<i64>(bulk("9223372036854775808")).1,
        "bulk string of 19 bytes (out of range)"
    );
    let huge = "9".repeat(60);
    assert_eq!(conversion::<u128>(bulk(&huge)).1, "bulk string of 60 bytes (out of range)");
}

#[test]
fn integers_from_exact_doubles_only() {
    assert_eq!(i64::from_value(Value::Double(3.0)).unwrap(), 3);
    assert_eq!(i64::from_value(Value::Double(-0.0)).unwrap(), 0);
    assert_eq!(u8::from_value(Value::Double(255.0)).unwrap(), 255);
    assert_eq!(i128::from_value(Value::Double(-1.7014118346046923e38)).unwrap(), i128::MIN);
    assert_eq!(u128::from_value(Value::Double(1.5 * TWO_POW_127)).unwrap(), 3u128 << 126);
    assert_eq!(conversion::<i64>(Value::Double(2.5)).1, "double (not a whole number)");
    assert_eq!(conversion::<i64>(Value::Double(f64::NAN)).1, "double (not a whole number)");
    assert_eq!(conversion::<i64>(Value::Double(f64::INFINITY)).1, "double (not a whole number)");
    assert_eq!(conversion::<u8>(Value::Double(256.0)).1, "double (out of range)");
    assert_eq!(conversion::<u32>(Value::Double(-1.0)).1, "double (out of range)");
    assert_eq!(conversion::<i64>(Value::Double(1e19)).1, "double (out of range)");
    assert_eq!(conversion::<u128>(Value::Double(1e39)).1, "double (out of range)");
    assert_eq!(conversion::<i128>(Value::Double(-1e39)).1, "double (out of range)");
    // 2^127 fits u128 but not i128.
    assert_eq!(conversion::<i128>(Value::Double(TWO_POW_127)).1, "double (out of range)");
    assert_eq!(u128::from_value(Value::Double(TWO_POW_127)).unwrap(), 1u128 << 127);
}

#[test]
fn integers_from_booleans() {
    assert_eq!(i64::from_value(Value::Boolean(true)).unwrap(), 1);
    assert_eq!(u8::from_value(Value::Boolean(false)).unwrap(), 0);
    assert_eq!(i8::from_value(Value::Boolean(true)).unwrap(), 1);
}

#[test]
fn integers_refuse_other_shapes() {
    assert_eq!(conversion::<i64>(Value::Nil), ("i64".to_string(), "nil".to_string()));
    assert_eq!(conversion::<i64>(Value::Array(vec![Value::Int(1)])).1, "array of 1 element");
    assert_eq!(conversion::<u16>(Value::Map(vec![])).1, "map of 0 entries");
}

#[test]
fn f64_from_every_numeric_shape() {
    assert_eq!(f64::from_value(Value::Double(1.5)).unwrap(), 1.5);
    assert_eq!(f64::from_value(Value::Int(-3)).unwrap(), -3.0);
    assert_eq!(f64::from_value(Value::Boolean(true)).unwrap(), 1.0);
    assert_eq!(f64::from_value(bulk("10.5")).unwrap(), 10.5);
    assert_eq!(f64::from_value(bulk("1e3")).unwrap(), 1000.0);
    assert_eq!(f64::from_value(bulk("inf")).unwrap(), f64::INFINITY);
    assert_eq!(f64::from_value(bulk("+inf")).unwrap(), f64::INFINITY);
    assert_eq!(f64::from_value(bulk("-inf")).unwrap(), f64::NEG_INFINITY);
    assert!(f64::from_value(bulk("nan")).unwrap().is_nan());
    assert_eq!(f64::from_value(simple("2")).unwrap(), 2.0);
    assert_eq!(f64::from_value(Value::BigNumber("12".into())).unwrap(), 12.0);
}

#[test]
fn f64_errors() {
    assert_eq!(
        conversion::<f64>(bulk("abc")),
        ("f64".to_string(), "bulk string of 3 bytes (not a number)".to_string())
    );
    let invalid_utf8 = Value::BulkString(Bytes::from_static(b"\xff"));
    assert_eq!(conversion::<f64>(invalid_utf8).1, "bulk string of 1 byte (not a number)");
    assert_eq!(conversion::<f64>(Value::Nil).1, "nil");
    assert_eq!(conversion::<f64>(Value::Set(vec![])).1, "set of 0 elements");
}

#[test]
fn f32_rounds_correctly_and_checks_range() {
    assert_eq!(f32::from_value(bulk("0.1")).unwrap(), 0.1f32);
    assert_eq!(f32::from_value(Value::Double(0.5)).unwrap(), 0.5);
    assert_eq!(f32::from_value(Value::Int(7)).unwrap(), 7.0);
    assert_eq!(f32::from_value(Value::Boolean(false)).unwrap(), 0.0);
    assert_eq!(f32::from_value(bulk("-inf")).unwrap(), f32::NEG_INFINITY);
    assert_eq!(f32::from_value(Value::Double(f64::INFINITY)).unwrap(), f32::INFINITY);
    assert!(f32::from_value(Value::Double(f64::NAN)).unwrap().is_nan());
    assert_eq!(conversion::<f32>(bulk("1e39")).1, "bulk string of 4 bytes (out of range)");
    assert_eq!(conversion::<f32>(Value::Double(1e300)).1, "double (out of range)");
    assert_eq!(conversion::<f32>(bulk("x")).1, "bulk string of 1 byte (not a number)");
    assert_eq!(conversion::<f32>(Value::Nil), ("f32".to_string(), "nil".to_string()));
}

#[test]
fn bool_from_its_redis_forms() {
    assert!(bool::from_value(Value::Boolean(true)).unwrap());
    assert!(!bool::from_value(Value::Boolean(false)).unwrap());
    assert!(bool::from_value(Value::Int(1)).unwrap());
    assert!(!bool::from_value(Value::Int(0)).unwrap());
    assert!(bool::from_value(bulk("1")).unwrap());
    assert!(!bool::from_value(bulk("0")).unwrap());
    assert!(bool::from_value(simple("OK")).unwrap());
    assert!(!bool::from_value(Value::Nil).unwrap());
}

#[test]
fn bool_errors() {
    assert_eq!(
        conversion::<bool>(Value::Int(2)),
        ("bool".to_string(), "integer (not 0 or 1)".to_string())
    );
    assert_eq!(conversion::<bool>(Value::Int(-1)).1, "integer (not 0 or 1)");
    assert_eq!(conversion::<bool>(bulk("true")).1, "bulk string of 4 bytes (not 0 or 1)");
    // OK counts only as the status reply, not as a bulk string.
    assert_eq!(conversion::<bool>(bulk("OK")).1, "bulk string of 2 bytes (not 0 or 1)");
    assert_eq!(conversion::<bool>(Value::Double(1.0)).1, "double");
    assert_eq!(conversion::<bool>(Value::Array(vec![])).1, "array of 0 elements");
}

#[test]
fn string_from_string_likes_and_numbers() {
    assert_eq!(String::from_value(bulk("héllo")).unwrap(), "héllo");
    assert_eq!(String::from_value(simple("OK")).unwrap(), "OK");
    let verbatim = Value::Verbatim { format: *b"txt", text: "# Server".into() };
    assert_eq!(String::from_value(verbatim).unwrap(), "# Server");
    assert_eq!(String::from_value(Value::BigNumber("-123".into())).unwrap(), "-123");
    assert_eq!(String::from_value(Value::Int(-42)).unwrap(), "-42");
    assert_eq!(String::from_value(Value::Double(1.5)).unwrap(), "1.5");
    assert_eq!(String::from_value(Value::Double(3.0)).unwrap(), "3");
    assert_eq!(String::from_value(Value::Double(f64::INFINITY)).unwrap(), "inf");
    assert_eq!(String::from_value(Value::Double(f64::NEG_INFINITY)).unwrap(), "-inf");
    assert_eq!(String::from_value(Value::Double(f64::NAN)).unwrap(), "nan");
    assert_eq!(String::from_value(Value::Boolean(true)).unwrap(), "1");
    assert_eq!(String::from_value(Value::Boolean(false)).unwrap(), "0");
}

#[test]
fn string_errors() {
    let invalid = Value::BulkString(Bytes::from_static(b"ab\xff"));
    assert_eq!(
        conversion::<String>(invalid),
        ("String".to_string(), "bulk string of 3 bytes (not UTF-8)".to_string())
    );
    let invalid = Value::SimpleString(Bytes::from_static(b"\xc3"));
    assert_eq!(conversion::<String>(invalid).1, "simple string of 1 byte (not UTF-8)");
    assert_eq!(conversion::<String>(Value::Nil).1, "nil");
    assert_eq!(conversion::<String>(Value::Array(vec![bulk("a")])).1, "array of 1 element");
}

#[test]
fn bytes_are_shared_not_copied() {
    let payload = Bytes::from(vec![0u8, 1, 2, 255]);
    let ptr = payload.as_ptr();
    let out = Bytes::from_value(Value::BulkString(payload)).unwrap();
    assert_eq!(out.as_ptr(), ptr);
    assert_eq!(&out[..], [0, 1, 2, 255]);
    let text = Bytes::from(vec![b'x'; 10]);
    let ptr = text.as_ptr();
    let verbatim = Value::Verbatim { format: *b"txt", text };
    assert_eq!(Bytes::from_value(attr(verbatim)).unwrap().as_ptr(), ptr);
}

#[test]
fn bytes_from_other_scalars() {
    assert_eq!(Bytes::from_value(simple("PONG")).unwrap(), "PONG");
    assert_eq!(Bytes::from_value(Value::Int(12)).unwrap(), "12");
    assert_eq!(Bytes::from_value(Value::Double(-0.25)).unwrap(), "-0.25");
    assert_eq!(Bytes::from_value(Value::BigNumber("1".into())).unwrap(), "1");
    assert_eq!(conversion::<Bytes>(Value::Nil), ("Bytes".to_string(), "nil".to_string()));
    assert_eq!(conversion::<Bytes>(Value::Push(vec![])).1, "push of 0 elements");
}

#[test]
fn unit_accepts_anything_but_an_error() {
    <()>::from_value(simple("OK")).unwrap();
    <()>::from_value(Value::Nil).unwrap();
    <()>::from_value(Value::Array(vec![server_error()])).unwrap();
    <()>::from_value(attr(Value::Int(1))).unwrap();
    let err = <()>::from_value(server_error()).unwrap_err();
    assert_eq!(err.server_code(), Some("WRONGTYPE"));
}

#[test]
fn value_is_the_identity() {
    for v in [server_error(), attr(Value::Int(1)), Value::Nil, bulk("x")] {
        assert_eq!(Value::from_value(v.clone()).unwrap(), v);
    }
}

#[test]
fn option_maps_nil_to_none() {
    assert_eq!(Option::<i64>::from_value(Value::Nil).unwrap(), None);
    assert_eq!(Option::<i64>::from_value(attr(Value::Nil)).unwrap(), None);
    assert_eq!(Option::<i64>::from_value(bulk("5")).unwrap(), Some(5));
    assert_eq!(Option::<Option<i64>>::from_value(Value::Nil).unwrap(), None);
    assert_eq!(conversion::<Option<i64>>(bulk("x")).0, "i64");
    let err = Option::<String>::from_value(server_error()).unwrap_err();
    assert_eq!(err.server_code(), Some("WRONGTYPE"));
}

#[test]
fn result_keeps_a_server_error_in_its_slot() {
    let slot = Result::<i64, Error>::from_value(server_error()).unwrap();
    assert_eq!(slot.unwrap_err().server_code(), Some("WRONGTYPE"));
    let slot = Result::<i64, Error>::from_value(attr(Value::Int(3))).unwrap();
    assert_eq!(slot.unwrap(), 3);
    let slot = Result::<i64, Error>::from_value(bulk("nope")).unwrap();
    assert!(matches!(slot, Err(Error::Conversion { .. })));
}

#[test]
fn attributes_are_transparent_for_every_scalar() {
    assert_eq!(i64::from_value(attr(Value::Int(4))).unwrap(), 4);
    assert_eq!(f64::from_value(attr(bulk("0.5"))).unwrap(), 0.5);
    assert!(bool::from_value(attr(Value::Boolean(true))).unwrap());
    assert_eq!(String::from_value(attr(bulk("s"))).unwrap(), "s");
    assert_eq!(conversion::<i64>(attr(bulk("abc"))).1, "bulk string of 3 bytes (not an integer)");
}

#[test]
fn nested_errors_become_redis_errors() {
    fn check<T: FromValue + std::fmt::Debug>() {
        match T::from_value(server_error()) {
            Err(Error::Redis(e)) => assert_eq!(e.code(), "WRONGTYPE"),
            other => panic!("{other:?}"),
        }
        match T::from_value(attr(server_error())) {
            Err(Error::Redis(e)) => assert_eq!(e.code(), "WRONGTYPE"),
            other => panic!("{other:?}"),
        }
    }
    check::<i8>();
    check::<u128>();
    check::<f64>();
    check::<f32>();
    check::<bool>();
    check::<String>();
    check::<Bytes>();
    check::<()>();
    check::<Option<i64>>();
}

#[test]
fn errors_never_carry_the_payload() {
    let secret = "hunter2-secret-token";
    let replies = [
        bulk(secret),
        simple(secret),
        Value::BigNumber(Bytes::copy_from_slice(secret.as_bytes())),
        Value::Verbatim { format: *b"txt", text: Bytes::copy_from_slice(secret.as_bytes()) },
    ];
    for reply in replies {
        let messages = [
            i64::from_value(reply.clone()).unwrap_err().to_string(),
            u8::from_value(reply.clone()).unwrap_err().to_string(),
            f64::from_value(reply.clone()).unwrap_err().to_string(),
            f32::from_value(reply.clone()).unwrap_err().to_string(),
            bool::from_value(reply.clone()).unwrap_err().to_string(),
            format!("{:?}", i64::from_value(reply.clone()).unwrap_err()),
        ];
        for m in messages {
            assert!(!m.contains("hunter2"), "{m}");
        }
    }
    let bad_utf8 = Value::BulkString(Bytes::from_static(b"hunter2\xff"));
    let m = format!("{:?}", String::from_value(bad_utf8).unwrap_err());
    assert!(!m.contains("hunter2"), "{m}");
}

/// The overrides of `from_reply` (`()`, `i64`, `Option<T>`) agree with the general path on
/// the frames they read in place and on their near misses.
#[test]
fn from_reply_fast_paths_agree_with_the_general_path() {
    fn general<T: FromValue>(frame: &Bytes) -> Result<T, Error> {
        parse_reply(frame, &Limits::default())
    }
    fn same<T: FromValue + PartialEq + std::fmt::Debug>(frame: &[u8]) {
        let frame = Bytes::copy_from_slice(frame);
        let fast = T::from_reply(&frame, &Limits::default());
        let slow = general::<T>(&frame);
        match (&fast, &slow) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{frame:?}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{frame:?}"),
            _ => panic!("{frame:?}: fast {fast:?}, general {slow:?}"),
        }
    }
    let frames: &[&[u8]] = &[
        b"+OK\r\n",
        b"+OK\r",
        b"+OK",
        b"+QUEUED\r\n",
        b"-ERR no\r\n",
        b":0\r\n",
        b":-0\r\n",
        b":42\r\n",
        b":-42\r\n",
        b":+42\r\n",
        b":007\r\n",
        b":\r\n",
        b":-\r\n",
        b":4x\r\n",
        b":42\r\nextra",
        b":123456789012345678\r\n",
        b":-123456789012345678\r\n",
        b":9223372036854775807\r\n",
        b":-9223372036854775808\r\n",
        b":9223372036854775808\r\n",
        b"$-1\r\n",
        b"$-01\r\n",
        b"$-2\r\n",
        b"_\r\n",
        b"*-1\r\n",
        b"$2\r\n42\r\n",
        b"$0\r\n\r\n",
        b"$5\r\nhello\r\n",
        b"$5\r\nhello\r\nextra",
        b"$5\r\nhell\r\n",
        b"$-2\r\n",
        b"$x\r\n",
        b"$-1\r",
        b"|1\r\n+ttl\r\n:3\r\n:7\r\n",
        b"",
    ];
    for frame in frames {
        same::<()>(frame);
        same::<i64>(frame);
        same::<Option<i64>>(frame);
        same::<Option<Bytes>>(frame);
        same::<Option<()>>(frame);
        same::<Bytes>(frame);
        same::<Option<String>>(frame);
        same::<Option<Option<Bytes>>>(frame);
    }
}
