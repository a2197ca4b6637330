//! (f) The RESP parsers alone, in process, on the shapes of `perf/benches/parsers.rs` (keep
//! the two in step): redpoll (`Decoder::scan` + `parse_frame`), redpoll's scan alone (what
//! its I/O thread runs), the `redis` crate's parser, and `redis-protocol` (zero-copy
//! `decode_bytes`, and `decode_range`). The criterion bench stays the precise tool; this
//! gives the same ratios in the same run and report as the client comparison.

use std::hint::black_box;
use std::time::Instant;

use redis_protocol::{resp2, resp3};
use redpoll::resp::{parse_frame, Decoder, Limits};

use crate::measure::{self, Percentiles, Sample};

#[path = "../../benches/shapes.rs"]
mod shapes;
pub use shapes::{shapes, Shape};

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
