#!/usr/bin/env bash
# Runs the size-exchange conversation on charla and on botbuilder-dialogs
# (the peer, ../shared/peers/dialog_bench.js beside the repository)
# alternately, so that both see the same machine load, and prints one JSON
# line per run. Besides wall-clock turns per second, each line has turns
# per CPU second (user+system), which a busy machine disturbs less; for the
# peer it is measured around its process, minus the CPU of a run that only
# loads and verifies the bot, over the measured and warm-up turns.
#
#   examples/bench/compare.sh [RUNS] [CONVERSATIONS]
#
# Needs Node.js and the peers (bash ../shared/peers/install.sh).
set -euo pipefail
runs=${1:-3}
n=${2:-10000}
root=$(cd "$(dirname "$0")/../.." && pwd)
peers=${PEERS:-$root/../shared/peers}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=$tmp/charla
(cd "$root" && go build -o "$bin" ./cmd/charla)
cd "$root"
TIMEFORMAT='%3U %3S'
cpu() { awk '{print $1 + $2}' "$1"; }
{ time node --expose-gc "$peers/dialog_bench.js" --phase=verify >/dev/null 2>&1; } 2>"$tmp/verify.cpu"
base=$(cpu "$tmp/verify.cpu")
for r in $(seq "$runs"); do
  for k in 100 1000; do
    { time node --expose-gc "$peers/dialog_bench.js" --phase=conc --n="$n" --k="$k" >"$tmp/peer.json" 2>/dev/null; } 2>"$tmp/peer.cpu"
    node -e '
      const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const cpu = Number(process.argv[2]) - Number(process.argv[3]);
      const turns = j.turns + 500 * 5; // measured + warm-up conversations
      console.log(JSON.stringify({engine: "botbuilder", k: j.in_flight, turns: j.turns, turns_per_s: j.turns_per_sec,
        turns_per_cpu_s: Math.round(turns / cpu), p50_us: j.turn_latency_median_us, p99_us: j.turn_latency_p99_us, rss_mb: j.peak_rss_mb}));
    ' "$tmp/peer.json" "$(cpu "$tmp/peer.cpu")" "$base"
    "$bin" bench examples/bench --test bench_size_exchange --conversations "$n" --concurrency "$k" |
      sed 's/^{/{"engine":"charla-memory",/'
  done
  "$bin" bench examples/bench --test bench_size_exchange --conversations "$n" --concurrency 1000 --store bolt |
    sed 's/^{/{"engine":"charla-bolt",/'
done
