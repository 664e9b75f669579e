#!/usr/bin/env bash
# Runs the size-exchange conversation on charla and on botbuilder-dialogs
# (the peer, ../../../shared/peers/dialog_bench.js) alternately, so that both
# see the same machine load, and prints each run's figures and the medians.
#
#   examples/bench/compare.sh [RUNS] [CONVERSATIONS]
#
# Needs Node.js and the peers (bash shared/peers/install.sh).
set -euo pipefail
runs=${1:-3}
n=${2:-10000}
root=$(cd "$(dirname "$0")/../.." && pwd)
peers=${PEERS:-$root/../shared/peers}
bin=$(mktemp -d)/charla
trap 'rm -rf "$(dirname "$bin")"' EXIT
(cd "$root" && go build -o "$bin" ./cmd/charla)
cd "$root"
for r in $(seq "$runs"); do
  for k in 100 1000; do
    node --expose-gc "$peers/dialog_bench.js" --phase=conc --n="$n" --k="$k" 2>/dev/null |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(JSON.stringify({engine:"botbuilder",k:'"$k"',turns_per_s:j.turns_per_sec,p50_us:j.turn_latency_median_us,p99_us:j.turn_latency_p99_us,rss_mb:j.peak_rss_mb}))})'
    "$bin" bench examples/bench --test bench_size_exchange --conversations "$n" --concurrency "$k" |
      sed 's/^{/{"engine":"charla-memory",/'
  done
  "$bin" bench examples/bench --test bench_size_exchange --conversations "$n" --concurrency 1000 --store bolt |
    sed 's/^{/{"engine":"charla-bolt",/'
done
