#!/usr/bin/env bash
# Measures charla's intent classifier on every dataset in DATASETS (default
# ../shared/datasets beside the repository) and node-nlp on the same data in
# the same session, and prints the Markdown results table of
# docs/benchmarks.md (NLU section).
#
#   bash scripts/nlu-bench.sh            # everything (about 15 minutes on 2 cores)
#   NODE=0 bash scripts/nlu-bench.sh     # charla only
#   bash scripts/nlu-bench.sh shop_es clinc150
#
# Protocol: charla trains on train.jsonl; when the dataset has val.jsonl the
# temperature and the out-of-scope threshold are chosen on it, otherwise on
# a held-out fifth of train. Test is only used to report. node-nlp runs
# through ../shared/peers/nlu_bench.js with its defaults (install it first
# with `bash ../shared/peers/install.sh`). JSON results go to OUT
# (default /tmp/charla-nlu-bench).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATASETS="${DATASETS:-$ROOT/../shared/datasets}"
PEERS="${PEERS:-$ROOT/../shared/peers}"
OUT="${OUT:-/tmp/charla-nlu-bench}"
NODE="${NODE:-1}"
REPEAT="${REPEAT:-1}"
mkdir -p "$OUT"
(cd "$ROOT" && go build -o "$OUT/charla" ./cmd/charla)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for d in "$DATASETS"/*/; do [ -f "$d/train.jsonl" ] && names+=("$(basename "$d")"); done
fi
for name in "${names[@]}"; do
  dir="$DATASETS/$name"
  lang=en
  case "$name" in *_es) lang=es ;; esac
  val=()
  [ -f "$dir/val.jsonl" ] && val=(--val "$dir/val.jsonl")
  echo "$(date +%H:%M:%S) charla $name ($lang)" >&2
  "$OUT/charla" nlu eval --train "$dir/train.jsonl" --test "$dir/test.jsonl" "${val[@]}" --lang "$lang" > "$OUT/charla_$name.json"
  case "$name" in hint3_*)
    # no out-of-scope line in train and no validation file: also report the
    # bot's default threshold (settings.threshold 0.5), chosen without test
    "$OUT/charla" nlu eval --train "$dir/train.jsonl" --test "$dir/test.jsonl" --lang "$lang" --threshold 0.5 > "$OUT/charla_${name}@0.5.json" ;;
  esac
  if [ "$name" = shop_es ] && [ -f "$dir/multi.jsonl" ]; then
    "$OUT/charla" nlu multi --train "$dir/train.jsonl" --multi "$dir/multi.jsonl" --lang es > "$OUT/charla_${name}_multi.json" || true
  fi
  if [ "$NODE" = 1 ]; then
    echo "$(date +%H:%M:%S) node-nlp $name ($lang)" >&2
    node "$PEERS/nlu_bench.js" "$dir" "$lang" --repeat="$REPEAT" --name="$name" --out="$OUT/node_$name.json" > /dev/null 2>"$OUT/node_$name.log" || echo "node-nlp failed on $name (see $OUT/node_$name.log)" >&2
  fi
done
rows=()
for name in "${names[@]}"; do rows+=("$name"); [ -f "$OUT/charla_${name}@0.5.json" ] && rows+=("${name}@0.5"); done
(cd "$ROOT" && go run ./nlu/internal/benchtable "$OUT" "${rows[@]}")
