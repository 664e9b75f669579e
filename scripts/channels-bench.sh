#!/usr/bin/env bash
# Load figures of the channels (docs/benchmarks.md#channels): a fresh
# `charla serve --memory` on loopback per measurement, driven by
# `charla loadgen`. Every run is bounded; nothing leaves 127.0.0.1.
#   bash scripts/channels-bench.sh [RUNS]
set -euo pipefail
runs=${1:-3}
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/charla
go build -o "$bin" ./cmd/charla
bot=channels/server/testdata/tienda
port=18180
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

serve() {
  "$bin" serve "$bot" --memory --addr "127.0.0.1:$port" --log warn 2>/dev/null &
  pid=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "server did not start" >&2; exit 1
}
stop() { kill -INT "$pid"; wait "$pid" || true; }

for i in $(seq "$runs"); do
  serve; "$bin" loadgen --url "http://127.0.0.1:$port" --mode idle --conns 10000 --duration 5s --pid "$pid"; stop
  serve; "$bin" loadgen --url "http://127.0.0.1:$port" --mode ws --conns 500 --rate 2000 --duration 10s --pid "$pid"; stop
  serve; "$bin" loadgen --url "http://127.0.0.1:$port" --mode rest --conns 8 --duration 10s --pid "$pid"; stop
done
