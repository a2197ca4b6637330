#!/usr/bin/env bash
# Usage: run.sh TREE NAME — instructions per sequential GET and per batched SET (callgrind,
# all threads, start-up subtracted) for the redpoll at TREE.
set -euo pipefail
tree=$(cd "$1" && pwd); name=$2
dir=${BUILD_DIR:-/tmp/redpoll-callgrind}/build-$name
mkdir -p $dir/src; cp "$(dirname "$0")/main.rs" $dir/src/
cat > $dir/Cargo.toml <<TOML
[package]
name = "measure"
version = "0.0.0"
edition = "2021"
[dependencies]
redpoll = { path = "$tree" }
[profile.release]
debug = 1
[workspace]
TOML
(cd $dir && cargo build -q --release)
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
redis-server --port $port --bind 127.0.0.1 --save '' --appendonly no --daemonize no >/dev/null &
pid=$!; trap "kill $pid" EXIT; sleep 0.5
ir() { valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$name.out $dir/target/release/measure redis://127.0.0.1:$port "$@" >/dev/null 2>&1; grep -E "^(summary|totals):" /tmp/cg.$name.out | head -1 | awk '{print $2}'; }
for run in 1 2 3; do
  s=$(ir startup); g=$(ir get 5000); b=$(ir set-batch 20 1000)
  echo "$name run $run: GET $(( (g - s) / 5000 )) Ir/cmd, batched SET $(( (b - s) / 20000 )) Ir/cmd"
done
