//! The `perf` tool. For now it only points at the benches; a `compare` harness comes later.

fn main() {
    println!(
        "usage: cargo bench -p perf --bench parsers [-- <criterion options>]  \
         (compares RESP parsers; nothing is measured by this binary)"
    );
}
