//! Command metadata on the hot path: `lookup` (every command), `key_indices` (prefixing and
//! cluster routing), `is_blocking`.
//!
//! `lookup/*` is compared with `bsearch/*`, the obvious alternative: a binary search over the
//! sorted top-level names with the argument upper-cased into a stack buffer.
//!
//! Run: `cargo bench --bench commands`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use redpoll::commands::{all, is_blocking, key_indices, lookup};

/// The binary-search baseline over sorted upper-case top-level names.
struct Sorted(Vec<&'static str>);

impl Sorted {
    fn new() -> Sorted {
        let mut names: Vec<&'static str> =
            all().map(|c| c.name.split(' ').next().unwrap_or(c.name)).collect();
        names.sort_unstable();
        names.dedup();
        Sorted(names)
    }

    fn find(&self, name: &[u8]) -> Option<usize> {
        let mut buf = [0u8; 32];
        let upper = buf.get_mut(..name.len())?;
        for (u, b) in upper.iter_mut().zip(name) {
            *u = b.to_ascii_uppercase();
        }
        let upper = &*upper;
        self.0.binary_search_by(|n| n.as_bytes().cmp(upper)).ok()
    }
}

fn bench_lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("lookup");
    for (label, args) in [
        ("get", &["get", "key"][..]),
        ("ZREVRANGEBYSCORE", &["ZREVRANGEBYSCORE", "z", "+inf", "-inf"]),
        ("client setname", &["client", "setname", "app"]),
        ("unknown", &["NOSUCHCMD", "x"]),
    ] {
        g.bench_function(label, |b| b.iter(|| lookup(black_box(args))));
    }
    g.finish();

    let sorted = Sorted::new();
    let mut g = c.benchmark_group("bsearch");
    for (label, name) in
        [("get", "get"), ("ZREVRANGEBYSCORE", "ZREVRANGEBYSCORE"), ("unknown", "NOSUCHCMD")]
    {
        g.bench_function(label, |b| b.iter(|| sorted.find(black_box(name.as_bytes()))));
    }
    g.finish();
}

fn bench_keys(c: &mut Criterion) {
    let mut g = c.benchmark_group("key_indices");
    for (label, args) in [
        ("GET", &["GET", "k"][..]),
        ("MSET 3 pairs", &["MSET", "a", "1", "b", "2", "c", "3"]),
        ("XREAD", &["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"]),
        ("EVAL 2 keys", &["EVAL", "return 1", "2", "k1", "k2", "a"]),
        ("SORT STORE", &["SORT", "k", "BY", "w_*", "GET", "#", "STORE", "d"]),
    ] {
        let info = lookup(args).expect("known command");
        let mut buf = Vec::with_capacity(8);
        g.bench_function(label, |b| {
            b.iter(|| {
                buf.clear();
                buf.extend(key_indices(info, black_box(args)));
                buf.len()
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("is_blocking");
    for (label, args) in [("GET", &["GET", "k"][..]), ("BLPOP", &["BLPOP", "a", "b", "1.5"])] {
        let info = lookup(args).expect("known command");
        g.bench_function(label, |b| b.iter(|| is_blocking(info, black_box(args))));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = bench_lookup, bench_keys
}
criterion_main!(benches);
