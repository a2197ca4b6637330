//! RESP codec throughput: `Decoder::scan` alone (what the I/O thread does), `scan` followed by
//! `parse_frame` (I/O thread plus caller), command encoding, and a bare `memchr` pass over
//! 1 MiB as the reference for "touching every byte once".
//!
//! Two groups measure the same functions: `resp_bytes` reports bytes per second,
//! `resp_frames` frames per second (a 10,000-element array is one frame).
//!
//! Run: `cargo bench --bench resp -- --warm-up-time 1 --measurement-time 3`

use bytes::Bytes;
use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput,
};
use redpoll::resp::{parse_frame, CommandBuf, Decoder, Limits};

// `resp3` matters only to the peers of perf/, which parse RESP2 and RESP3 apart.
#[allow(dead_code)]
#[path = "shapes.rs"]
mod shapes;
use shapes::shapes;

/// Delimits every frame of `wire`; returns the number of frames.
fn scan_all(decoder: &mut Decoder, wire: &[u8]) -> usize {
    let mut at = 0;
    let mut frames = 0;
    while at < wire.len() {
        let len = decoder.scan(&wire[at..]).unwrap().unwrap();
        at += len;
        frames += 1;
    }
    frames
}

/// Delimits and builds every frame of `wire`.
fn parse_all(decoder: &mut Decoder, wire: &Bytes, limits: &Limits) -> usize {
    let mut at = 0;
    let mut frames = 0;
    while at < wire.len() {
        let len = decoder.scan(&wire[at..]).unwrap().unwrap();
        let value = parse_frame(&wire.slice(at..at + len), limits).unwrap();
        black_box(value);
        at += len;
        frames += 1;
    }
    frames
}

fn encode_sets() -> usize {
    let mut total = 0;
    let mut key = [0u8; 16];
    for i in 0..1000u32 {
        let len = write_key(&mut key, i);
        let mut cmd = CommandBuf::new();
        cmd.push(b"SET");
        cmd.push(&key[..len]);
        cmd.push(b"value");
        total += black_box(cmd.finish()).len();
    }
    total
}

/// Writes `key:{i}` into `out` without allocating; returns its length.
fn write_key(out: &mut [u8; 16], mut i: u32) -> usize {
    out[..4].copy_from_slice(b"key:");
    let mut digits = [0u8; 10];
    let mut n = 0;
    loop {
        digits[n] = b'0' + (i % 10) as u8;
        n += 1;
        i /= 10;
        if i == 0 {
            break;
        }
    }
    for (j, d) in digits[..n].iter().rev().enumerate() {
        out[4 + j] = *d;
    }
    4 + n
}

fn run_group(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, bytes: bool) {
    let limits = Limits::default();
    let throughput = |wire_len: usize, frames: u64| {
        if bytes {
            Throughput::Bytes(wire_len as u64)
        } else {
            Throughput::Elements(frames)
        }
    };
    for shape in shapes() {
        group.throughput(throughput(shape.wire.len(), shape.frames as u64));
        let mut decoder = Decoder::new();
        group.bench_function(format!("scan/{}", shape.name), |b| {
            b.iter(|| scan_all(&mut decoder, black_box(&shape.wire)))
        });
        group.bench_function(format!("scan+parse/{}", shape.name), |b| {
            b.iter(|| parse_all(&mut decoder, black_box(&shape.wire), &limits))
        });
        if shape.name == "bulk_1MiB" {
            let payload = &shape.wire[10..];
            group.bench_function("memchr_reference/bulk_1MiB", |b| {
                b.iter(|| memchr::memchr(b'\r', black_box(payload)))
            });
        }
    }
    group.throughput(throughput(encode_sets(), 1000));
    group.bench_function("encode/set_x1000", |b| b.iter(encode_sets));
}

fn resp(c: &mut Criterion) {
    let mut group = c.benchmark_group("resp_bytes");
    run_group(&mut group, true);
    group.finish();
    let mut group = c.benchmark_group("resp_frames");
    run_group(&mut group, false);
    group.finish();
}

criterion_group!(benches, resp);
criterion_main!(benches);
