//! (f) The RESP parsers alone, in process, on the shapes of `perf/benches/parsers.rs` (keep
//! the two in step): redpoll (`Decoder::scan` + `parse_frame`), redpoll's scan alone (what
//! its I/O thread runs), the `redis` crate's parser, and `redis-protocol` (zero-copy
//! `decode_bytes`, and `decode_range`). The criterion bench stays the precise tool; this
//! gives the same ratios in the same run and report as the client comparison.

use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use redis_protocol::{resp2, resp3};
use redpoll::resp::{encode_value, parse_frame, Decoder, Limits};
use redpoll::Value;

use crate::measure::{self, Percentiles, Sample};

/// One input: the wire bytes and how many top-level frames they hold.
pub struct Shape {
    pub name: &'static str,
    pub wire: Bytes,
    pub frames: usize,
    resp3: bool,
}

/// The shapes of `perf/benches/parsers.rs`.
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

/// The parsers compared, in report order.
pub const PARSERS: [&str; 5] =
    ["redpoll", "redpoll_scan", "redis", "redis_protocol_bytes", "redis_protocol_range"];

/// Parses every frame of `shape` once with parser `name`; returns the frames seen.
pub fn parse_once(name: &str, shape: &Shape, decoder: &mut Decoder, limits: &Limits) -> usize {
    let wire = &shape.wire;
    let mut at = 0;
    let mut frames = 0;
    match name {
        "redis" if shape.frames == 1 => {
            black_box(redis::parse_redis_value(wire).expect("redis parses"));
            return 1;
        }
        "redis" => {
            let mut parser = redis::Parser::new();
            let mut reader: &[u8] = wire;
            for _ in 0..shape.frames {
                black_box(parser.parse_value(&mut reader).expect("redis parses"));
            }
            return shape.frames;
        }
        _ => {}
    }
    while at < wire.len() {
        let len = match name {
            "redpoll" => {
                let len = decoder.scan(&wire[at..]).expect("valid").expect("complete");
                black_box(parse_frame(&wire.slice(at..at + len), limits).expect("parses"));
                len
            }
            "redpoll_scan" => decoder.scan(&wire[at..]).expect("valid").expect("complete"),
            "redis_protocol_bytes" => {
                let rest = wire.slice(at..);
                if shape.resp3 {
                    let (f, len) = resp3::decode::complete::decode_bytes(&rest)
                        .expect("valid")
                        .expect("complete");
                    black_box(f);
                    len
                } else {
                    let (f, len) =
                        resp2::decode::decode_bytes(&rest).expect("valid").expect("complete");
                    black_box(f);
                    len
                }
            }
            "redis_protocol_range" => {
                let rest = &wire[at..];
                if shape.resp3 {
                    let (f, len) = resp3::decode::complete::decode_range(rest)
                        .expect("valid")
                        .expect("complete");
                    black_box(f);
                    len
                } else {
                    let (f, len) =
                        resp2::decode::decode_range(rest).expect("valid").expect("complete");
                    black_box(f);
                    len
                }
            }
            other => unreachable!("unknown parser {other}"),
        };
        at += len;
        frames += 1;
    }
    frames
}

/// Parses `shape` with `name` repeatedly for `secs` seconds; `ops` are frames (no latency
/// percentiles: a pass over the input is no request).
pub fn measure(name: &str, shape: &Shape, secs: f64) -> Sample {
    let limits = Limits::default();
    let mut decoder = Decoder::new();
    // Warm-up: one pass (also checks the frame count).
    assert_eq!(parse_once(name, shape, &mut decoder, &limits), shape.frames, "{name}");
    let others = measure::Others::start(None);
    let cpu0 = measure::cpu_self();
    let t0 = Instant::now();
    let mut passes = 0u64;
    while t0.elapsed().as_secs_f64() < secs || passes < 3 {
        black_box(parse_once(name, shape, &mut decoder, &limits));
        passes += 1;
    }
    let elapsed = t0.elapsed();
    let client_cpu = measure::cpu_self().saturating_sub(cpu0);
    Sample {
        ops: passes * shape.frames as u64,
        elapsed,
        client_cpu,
        server_cpu: None,
        others_cpu: others.finish(client_cpu),
        latency: Percentiles::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parser_sees_every_frame() {
        let limits = Limits::default();
        for shape in shapes() {
            for name in PARSERS {
                let mut d = Decoder::new();
                assert_eq!(parse_once(name, &shape, &mut d, &limits), shape.frames, "{name}");
            }
        }
    }
}
