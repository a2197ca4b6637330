//! Shared helpers of the conversions: unwrapping attributes and error replies, and
//! describing a reply by its shape and size (never by its contents) for conversion errors.

use crate::error::Error;
use crate::resp::value::Value;

/// The value with its attributes removed; a nested error reply becomes [`Error::Redis`].
///
/// Every conversion except those into [`Value`] and `Result<T, Error>` starts here.
pub(crate) fn peel(value: Value) -> Result<Value, Error> {
    match strip_attributes(value) {
        Value::Error(e) => Err(Error::Redis(e)),
        other => Ok(other),
    }
}

/// The value an attribute annotates, however deeply attributes are stacked (a loop, so
/// hostile nesting cannot exhaust the stack).
pub(super) fn strip_attributes(mut value: Value) -> Value {
    loop {
        match value {
            Value::Attribute { value: inner, .. } => value = *inner,
            other => return other,
        }
    }
}

/// [`strip_attributes`] on a borrowed value.
pub(super) fn strip_attributes_ref(mut value: &Value) -> &Value {
    while let Value::Attribute { value: inner, .. } = value {
        value = inner;
    }
    value
}

/// The reply's shape and size: `"bulk string of 5 bytes"`, `"array of 1 element"`,
/// `"map of 2 entries"`, `"integer"`.
pub(crate) fn describe(value: &Value) -> String {
    let value = strip_attributes_ref(value);
    let kind = value.kind();
    match value {
        Value::SimpleString(b) | Value::BulkString(b) | Value::BigNumber(b) => {
            sized(kind, b.len(), "byte", "bytes")
        }
        Value::Verbatim { text, .. } => sized(kind, text.len(), "byte", "bytes"),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            sized(kind, items.len(), "element", "elements")
        }
        Value::Map(pairs) => sized(kind, pairs.len(), "entry", "entries"),
        _ => kind.to_string(),
    }
}

/// The shape of a string payload of `len` bytes: `"bulk string of 5 bytes"`.
pub(super) fn text_shape(kind: &str, len: usize) -> String {
    sized(kind, len, "byte", "bytes")
}

fn sized(kind: &str, n: usize, one: &str, many: &str) -> String {
    format!("{kind} of {n} {}", if n == 1 { one } else { many })
}

/// [`Error::Conversion`] for `value` into `expected`.
pub(crate) fn mismatch(expected: impl Into<String>, value: &Value) -> Error {
    Error::conversion(expected, describe(value))
}

/// [`Error::Conversion`] for `value` into `expected`, with the reason in parentheses:
/// `"bulk string of 3 bytes (not an integer)"`.
pub(super) fn mismatch_because(expected: impl Into<String>, value: &Value, reason: &str) -> Error {
    Error::conversion(expected, format!("{} ({reason})", describe(value)))
}

/// The error for a group read past the end of a flat array; the collection impls check
/// lengths first, so this is a safety net rather than a path users see.
pub(super) fn missing_element() -> Error {
    Error::conversion("one more element", "the end of the array")
}

/// The elements of a sequence-shaped reply (array, set, push), or the value back.
pub(super) fn into_elements(value: Value) -> Result<Vec<Value>, Value> {
    match value {
        Value::Array(items) | Value::Set(items) | Value::Push(items) => Ok(items),
        other => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ServerError;

    #[test]
    fn describe_names_shape_and_size_only() {
        assert_eq!(describe(&Value::BulkString("secret".into())), "bulk string of 6 bytes");
        assert_eq!(describe(&Value::SimpleString("x".into())), "simple string of 1 byte");
        assert_eq!(describe(&Value::BigNumber("123".into())), "big number of 3 bytes");
        let verbatim = Value::Verbatim { format: *b"txt", text: "hello".into() };
        assert_eq!(describe(&verbatim), "verbatim string of 5 bytes");
        assert_eq!(describe(&Value::Array(vec![Value::Nil])), "array of 1 element");
        assert_eq!(describe(&Value::Set(vec![])), "set of 0 elements");
        assert_eq!(describe(&Value::Push(vec![Value::Nil, Value::Nil])), "push of 2 elements");
        assert_eq!(describe(&Value::Map(vec![(Value::Nil, Value::Nil)])), "map of 1 entry");
        assert_eq!(describe(&Value::Map(vec![])), "map of 0 entries");
        assert_eq!(describe(&Value::Int(99)), "integer");
        assert_eq!(describe(&Value::Double(1.5)), "double");
        assert_eq!(describe(&Value::Boolean(true)), "boolean");
        assert_eq!(describe(&Value::Nil), "nil");
        assert_eq!(describe(&Value::Error(ServerError::new("ERR x"))), "error");
    }

    #[test]
    fn describe_looks_through_attributes() {
        let v = Value::Attribute {
            attributes: vec![],
            value: Box::new(Value::Attribute {
                attributes: vec![],
                value: Box::new(Value::BulkString("ab".into())),
            }),
        };
        assert_eq!(describe(&v), "bulk string of 2 bytes");
    }

    #[test]
    fn peel_unwraps_attributes_and_raises_errors() {
        let v = Value::Attribute { attributes: vec![], value: Box::new(Value::Int(1)) };
        assert_eq!(peel(v).unwrap(), Value::Int(1));
        let v = Value::Attribute {
            attributes: vec![],
            value: Box::new(Value::Error(ServerError::new("WRONGTYPE bad"))),
        };
        let err = peel(v).unwrap_err();
        assert_eq!(err.server_code(), Some("WRONGTYPE"));
    }

    #[test]
    fn deeply_stacked_attributes_do_not_recurse() {
        let mut v = Value::Int(7);
        for _ in 0..100_000 {
            v = Value::Attribute { attributes: vec![], value: Box::new(v) };
        }
        assert_eq!(describe(&v), "integer");
        // Dropping 100 000 nested boxes recurses in Box's drop glue; unwrap first instead.
        assert_eq!(strip_attributes(v), Value::Int(7));
    }

    #[test]
    fn mismatch_formats_expected_and_actual() {
        let err = mismatch_because("i64", &Value::BulkString("abc".into()), "not an integer");
        assert_eq!(
            err.to_string(),
            "cannot convert bulk string of 3 bytes (not an integer) into i64"
        );
        let err = mismatch("a map", &Value::Int(1));
        assert_eq!(err.to_string(), "cannot convert integer into a map");
        assert!(missing_element().to_string().contains("end of the array"));
    }

    #[test]
    fn into_elements_accepts_sequences_only() {
        assert_eq!(into_elements(Value::Set(vec![Value::Nil])).unwrap(), vec![Value::Nil]);
        assert_eq!(into_elements(Value::Push(vec![])).unwrap(), vec![]);
        assert_eq!(into_elements(Value::Int(1)).unwrap_err(), Value::Int(1));
    }
}
