//! redpoll's RESP parser against its peers, on the same input bytes, one criterion group per
//! shape so that the ratios come from one run.
//!
//! - `redpoll`: `Decoder::scan` then `parse_frame` (a `Value` whose payloads share the input).
//! - `redpoll_scan`: `Decoder::scan` alone, the part that runs on redpoll's I/O thread.
//! - `redis`: the `redis` crate's parser (`Parser::parse_value` over a stream of replies, as
//!   its sync connection does; `parse_redis_value` for a single reply). Copies payloads.
//! - `redis_protocol_bytes`: `redis-protocol`'s zero-copy `decode_bytes` (frames of `Bytes`).
//! - `redis_protocol_range`: `redis-protocol`'s `decode_range` (frames of offsets, no `Bytes`).
//!
//! RESP2 shapes go through `redis-protocol`'s RESP2 decoder, the map through its RESP3 one.
//!
//! Run: `cargo bench -p perf --bench parsers -- --warm-up-time 1 --measurement-time 3`

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use redis_protocol::{resp2, resp3};
use redpoll::resp::{parse_frame, Decoder, Limits};

#[path = "../../benches/shapes.rs"]
mod shapes;
use shapes::{shapes, Shape};

fn redpoll_parse(decoder: &mut Decoder, wire: &Bytes, limits: &Limits) -> usize {
    let mut at = 0;
    let mut frames = 0;
    while at < wire.len() {
        let len = decoder.scan(&wire[at..]).unwrap().unwrap();
        black_box(parse_frame(&wire.slice(at..at + len), limits).unwrap());
        at += len;
        frames += 1;
    }
    frames
}

fn redpoll_scan(decoder: &mut Decoder, wire: &[u8]) -> usize {
    let mut at = 0;
    let mut frames = 0;
    while at < wire.len() {
        at += decoder.scan(&wire[at..]).unwrap().unwrap();
        frames += 1;
    }
    frames
}

fn redis_parse(wire: &[u8], frames: usize) -> usize {
    if frames == 1 {
        black_box(redis::parse_redis_value(wire).unwrap());
        return 1;
    }
    let mut parser = redis::Parser::new();
    let mut reader = wire;
    for _ in 0..frames {
        black_box(parser.parse_value(&mut reader).unwrap());
    }
    frames
}

fn rp_bytes(wire: &Bytes, resp3: bool) -> usize {
    let mut at = 0;
    let mut frames = 0;
    while at < wire.len() {
        let rest = wire.slice(at..);
        let len = if resp3 {
            let (frame, len) = resp3::decode::complete::decode_bytes(&rest).unwrap().unwrap();
            black_box(frame);
            len
        } else {
            let (frame, len) = resp2::decode::decode_bytes(&rest).unwrap().unwrap();
            black_box(frame);
            len
        };
        at += len;
        frames += 1;
    }
    frames
}

fn rp_range(wire: &[u8], resp3: bool) -> usize {
    let mut at = 0;
    let mut frames = 0;
    while at < wire.len() {
        let rest = &wire[at..];
        let len = if resp3 {
            let (frame, len) = resp3::decode::complete::decode_range(rest).unwrap().unwrap();
            black_box(frame);
            len
        } else {
            let (frame, len) = resp2::decode::decode_range(rest).unwrap().unwrap();
            black_box(frame);
            len
        };
        at += len;
        frames += 1;
    }
    frames
}

fn parsers(c: &mut Criterion) {
    let limits = Limits::default();
    for shape in shapes() {
        let Shape { name, wire, frames, resp3 } = shape;
        // Every parser must see the same number of frames in the same bytes.
        let mut decoder = Decoder::new();
        assert_eq!(redpoll_parse(&mut decoder, &wire, &limits), frames);
        assert_eq!(redis_parse(&wire, frames), frames);
        assert_eq!(rp_bytes(&wire, resp3), frames);
        assert_eq!(rp_range(&wire, resp3), frames);

        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.bench_function("redpoll", |b| {
            b.iter(|| redpoll_parse(&mut decoder, black_box(&wire), &limits))
        });
        group.bench_function("redpoll_scan", |b| {
            b.iter(|| redpoll_scan(&mut decoder, black_box(&wire)))
        });
        group.bench_function("redis", |b| b.iter(|| redis_parse(black_box(&wire), frames)));
        group.bench_function("redis_protocol_bytes", |b| {
            b.iter(|| rp_bytes(black_box(&wire), resp3))
        });
        group.bench_function("redis_protocol_range", |b| {
            b.iter(|| rp_range(black_box(&wire), resp3))
        });
        if name == "bulk_1MiB" {
            let payload = &wire[10..];
            group
                .bench_function("memchr_reference", |b| b.iter(|| memchr_scan(black_box(payload))));
        }
        group.finish();
    }
}

/// One `memchr` pass over the payload, to the `\r` that ends it.
fn memchr_scan(payload: &[u8]) -> Option<usize> {
    memchr::memchr(b'\r', payload)
}

criterion_group!(benches, parsers);
criterion_main!(benches);
