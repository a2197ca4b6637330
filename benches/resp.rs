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
use redpoll::resp::{encode_value, parse_frame, CommandBuf, Decoder, Limits};
use redpoll::Value;

/// One input shape: its wire bytes and how many top-level frames they hold.
struct Shape {
    name: &'static str,
    wire: Bytes,
    frames: u64,
}

fn shapes() -> Vec<Shape> {
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
        Shape { name: "small_bulk_x1000", wire: small.into(), frames: 1000 },
        Shape { name: "array_10k_bulk", wire: encoded(&array), frames: 1 },
        Shape { name: "bulk_1MiB", wire: bulk.into(), frames: 1 },
        Shape { name: "map_1k_resp3", wire: encoded(&map), frames: 1 },
    ]
}

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
        group.throughput(throughput(shape.wire.len(), shape.frames));
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
