//! [`FromValue`] for tuples of 1 to 12 elements: an array (or set, or push) of exactly that
//! many elements, and a group of that many elements of a flat array inside a collection.

use super::shape::{into_elements, mismatch, missing_element, peel};
use super::FromValue;
use crate::error::Error;
use crate::resp::value::Value;

macro_rules! impl_tuple {
    ($($n:literal => ($($name:ident),+);)+) => {$(
        impl<$($name: FromValue),+> FromValue for ($($name,)+) {
            const GROUP: usize = $n;

            fn from_value(value: Value) -> Result<Self, Error> {
                const EXPECTED: &str = concat!("a tuple of ", $n);
                let value = peel(value)?;
                let fits = matches!(
                    &value,
                    Value::Array(v) | Value::Set(v) | Value::Push(v) if v.len() == $n
                );
                if !fits {
                    return Err(mismatch(EXPECTED, &value));
                }
                let mut items = into_elements(value).unwrap_or_default().into_iter();
                Self::from_group(&mut items)
            }

            fn from_group<Items: Iterator<Item = Value>>(items: &mut Items) -> Result<Self, Error> {
                Ok(($($name::from_value(items.next().ok_or_else(missing_element)?)?,)+))
            }
        }
    )+};
}

impl_tuple! {
    1 => (A);
    2 => (A, B);
    3 => (A, B, C);
    4 => (A, B, C, D);
    5 => (A, B, C, D, E);
    6 => (A, B, C, D, E, F);
    7 => (A, B, C, D, E, F, G);
    8 => (A, B, C, D, E, F, G, H);
    9 => (A, B, C, D, E, F, G, H, I);
    10 => (A, B, C, D, E, F, G, H, I, J);
    11 => (A, B, C, D, E, F, G, H, I, J, K);
    12 => (A, B, C, D, E, F, G, H, I, J, K, L);
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::error::ServerError;

    fn bulk(s: &str) -> Value {
        Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn conversion<T: FromValue + std::fmt::Debug>(v: Value) -> (String, String) {
        match T::from_value(v) {
            Err(Error::Conversion { expected, actual }) => (expected, actual),
            other => panic!("expected a conversion error, got {other:?}"),
        }
    }

    #[test]
    fn tuples_read_arrays_of_their_size() {
        let v = Value::Array(vec![bulk("q1"), bulk("job")]);
        assert_eq!(<(String, String)>::from_value(v).unwrap(), ("q1".into(), "job".into()));
        let v = Value::Array(vec![Value::Int(1)]);
        assert_eq!(<(i64,)>::from_value(v).unwrap(), (1,));
        let v = Value::Push(vec![bulk("message"), bulk("news"), bulk("hi")]);
        let (kind, channel, payload) = <(String, String, Bytes)>::from_value(v).unwrap();
        assert_eq!(
            (kind.as_str(), channel.as_str(), &payload[..]),
            ("message", "news", &b"hi"[..])
        );
        let v = Value::Set(vec![Value::Int(1), Value::Int(2)]);
        assert_eq!(<(u8, u8)>::from_value(v).unwrap(), (1, 2));
        let v = Value::Attribute {
            attributes: vec![],
            value: Box::new(Value::Array(vec![Value::Int(1), Value::Nil])),
        };
        assert_eq!(<(i64, Option<i64>)>::from_value(v).unwrap(), (1, None));
    }

    #[test]
    fn twelve_elements() {
        let v = Value::Array((1..=12).map(Value::Int).collect());
        type Twelve = (u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, String);
        let t = Twelve::from_value(v).unwrap();
        assert_eq!(t.0, 1);
        assert_eq!(t.10, 11);
        assert_eq!(t.11, "12");
        assert_eq!(<Twelve as FromValue>::GROUP, 12);
    }

    #[test]
    fn wrong_sizes_and_shapes_are_errors() {
        assert_eq!(
            conversion::<(i64, i64, i64)>(Value::Array(vec![Value::Int(1), Value::Int(2)])),
            ("a tuple of 3".to_string(), "array of 2 elements".to_string())
        );
        assert_eq!(
            conversion::<(i64,)>(Value::Array(vec![])),
            ("a tuple of 1".to_string(), "array of 0 elements".to_string())
        );
        assert_eq!(conversion::<(i64, i64)>(Value::Nil).1, "nil");
        assert_eq!(conversion::<(i64, i64)>(bulk("ab")).1, "bulk string of 2 bytes");
        let map = Value::Map(vec![(Value::Int(1), Value::Int(2))]);
        assert_eq!(conversion::<(i64, i64)>(map).1, "map of 1 entry");
        let v = Value::Array(vec![Value::Int(1), bulk("x")]);
        assert_eq!(conversion::<(i64, i64)>(v).1, "bulk string of 1 byte (not an integer)");
    }

    #[test]
    fn errors_inside_and_around_tuples() {
        let e = Value::Error(ServerError::new("NOPERM no"));
        let err = <(i64, i64)>::from_value(e.clone()).unwrap_err();
        assert_eq!(err.server_code(), Some("NOPERM"));
        let err =
            <(i64, i64)>::from_value(Value::Array(vec![Value::Int(1), e.clone()])).unwrap_err();
        assert_eq!(err.server_code(), Some("NOPERM"));
        let (n, v) =
            <(i64, Value)>::from_value(Value::Array(vec![Value::Int(1), e.clone()])).unwrap();
        assert_eq!((n, v), (1, e));
    }

    #[test]
    fn from_group_stops_at_the_end_of_the_input() {
        let mut short = vec![Value::Int(1)].into_iter();
        let err = <(i64, i64)>::from_group(&mut short).unwrap_err();
        assert!(matches!(err, Error::Conversion { .. }));
        let mut empty = std::iter::empty();
        assert!(i64::from_group(&mut empty).is_err());
        let mut one = std::iter::once(Value::Int(4));
        assert_eq!(i64::from_group(&mut one).unwrap(), 4);
    }
}
