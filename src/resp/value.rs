//! `Value`: one RESP2 or RESP3 reply, with its payloads shared from the read buffer.

use bytes::Bytes;

use crate::error::ServerError;

/// One reply from the server, in any RESP2 or RESP3 shape.
///
/// String payloads are [`Bytes`] slices of the buffer the reply was read into: building a
/// `Value` copies no payload. RESP2 replies map onto the same variants (a RESP2 null bulk
/// string and a null array are both [`Value::Nil`]).
///
/// A top-level error reply is delivered as [`Error::Redis`](crate::Error::Redis); an error
/// nested inside an aggregate (a failed command inside `EXEC`, a slot of a pipeline) stays in
/// place as [`Value::Error`].
///
/// # Examples
///
/// ```
/// use redpoll::Value;
///
/// let v = Value::Array(vec![Value::Int(1), Value::BulkString("two".into()), Value::Nil]);
/// assert_eq!(v.kind(), "array");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// RESP3 null (`_`), RESP2 null bulk string (`$-1`) or null array (`*-1`).
    Nil,
    /// A simple string (`+OK`, `+PONG`, `+string` from TYPE).
    SimpleString(Bytes),
    /// A bulk string (`$`): binary-safe.
    BulkString(Bytes),
    /// An integer (`:`).
    Int(i64),
    /// A RESP3 double (`,`), including `inf`, `-inf` and `nan`.
    Double(f64),
    /// A RESP3 boolean (`#t` / `#f`).
    Boolean(bool),
    /// A RESP3 big number (`(`): the decimal digits as sent, with an optional leading `-`.
    BigNumber(Bytes),
    /// A RESP3 verbatim string (`=`): a three-letter format (`txt`, `mkd`) and the text.
    Verbatim {
        /// The format, such as `*b"txt"`.
        format: [u8; 3],
        /// The text after the `xxx:` prefix.
        text: Bytes,
    },
    /// An array (`*`).
    Array(Vec<Value>),
    /// A RESP3 map (`%`), in the order the server sent it.
    Map(Vec<(Value, Value)>),
    /// A RESP3 set (`~`), in the order the server sent it.
    Set(Vec<Value>),
    /// A RESP3 attribute (`|`) and the value it annotates.
    Attribute {
        /// The attribute map.
        attributes: Vec<(Value, Value)>,
        /// The reply the attributes describe.
        value: Box<Value>,
    },
    /// A RESP3 push (`>`): pub/sub messages, invalidations. Never the reply to a request.
    Push(Vec<Value>),
    /// An error reply (`-` or RESP3 `!`) nested inside an aggregate.
    Error(ServerError),
}

impl Value {
    /// The name of this value's shape, as used in conversion errors: `"nil"`, `"simple
    /// string"`, `"bulk string"`, `"integer"`, `"double"`, `"boolean"`, `"big number"`,
    /// `"verbatim string"`, `"array"`, `"map"`, `"set"`, `"attribute"`, `"push"`, `"error"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::SimpleString(_) => "simple string",
            Value::BulkString(_) => "bulk string",
            Value::Int(_) => "integer",
            Value::Double(_) => "double",
            Value::Boolean(_) => "boolean",
            Value::BigNumber(_) => "big number",
            Value::Verbatim { .. } => "verbatim string",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Set(_) => "set",
            Value::Attribute { .. } => "attribute",
            Value::Push(_) => "push",
            Value::Error(_) => "error",
        }
    }

    /// True for [`Value::Nil`].
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The bytes of a string-like value (simple, bulk, verbatim text, big number digits).
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Value::SimpleString(b) | Value::BulkString(b) | Value::BigNumber(b) => Some(b),
            Value::Verbatim { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The value an attribute annotates; any other value is returned as it is.
    pub fn without_attributes(self) -> Value {
        match self {
            Value::Attribute { value, .. } => value.without_attributes(),
            other => other,
        }
    }
}

impl From<ServerError> for Value {
    fn from(e: ServerError) -> Self {
        Value::Error(e)
    }
}
