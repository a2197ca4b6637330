//! The RESP inputs every parser benchmark measures: 1,000 small bulk replies, one array of
//! 10,000 bulk strings, one 1 MiB bulk, a RESP3 map of 1,000 entries. Shared by
//! `benches/resp.rs`, `perf/benches/parsers.rs` and `perf compare`'s parser section, so their
//! figures are about the same bytes.

use bytes::Bytes;
use redpoll::resp::encode_value;
use redpoll::Value;

/// One input shape: its wire bytes, how many top-level frames they hold, and whether a
/// RESP3 parser is needed.
pub struct Shape {
    pub name: &'static str,
    pub wire: Bytes,
    pub frames: usize,
    pub resp3: bool,
}

/// The four shapes, in report order.
pub fn shapes() -> Vec<Shape> {
    let small = b"$5\r\nhello\r\n".repeat(1000);
    let array = Value::Array(
        (0..10_000).map(|i| Value::BulkString(format!("member:{i}").into())).collect(),
    );
    let mut bulk = b"$1048576\r\n".to_vec();
    bulk.resize(bulk.len() + (1 << 20), b'x');
    bulk.extend_from_slice(b"\r\n");
    let map = Value::Map(
        (0..1000)
            .map(|i| {
                let k = Value::BulkString(format!("field:{i}").into());
                (k, Value::BulkString(format!("value:{i}").into()))
            })
            .collect(),
    );
    let encoded = |v: &Value| {
        let mut out = Vec::new();
        encode_value(v, &mut out);
        Bytes::from(out)
    };
    vec![
        Shape { name: "small_bulk_x1000", wire: small.into(), frames: 1000, resp3: false },
        Shape { name: "array_10k_bulk", wire: encoded(&array), frames: 1, resp3: false },
        Shape { name: "bulk_1MiB", wire: bulk.into(), frames: 1, resp3: false },
        Shape { name: "map_1k_resp3", wire: encoded(&map), frames: 1, resp3: true },
    ]
}
