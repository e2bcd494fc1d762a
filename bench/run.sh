#!/usr/bin/env bash
# The whole run, measured: `cradle run --until STEP` on a generated demo
# delivery, printing the wall time of each step and of the run (from
# reports/run.json) and the peak memory of the process (GNU time).
#
#   bash bench/run.sh [--scale F] [--until STEP] [--seed N] [--keep]
#
#   --scale F     size of the demo delivery (default 1.0 = ~105,000 products)
#   --until STEP  last step (default index; build and later need a static
#                 cradle in CRADLE_STATIC_BINARY, deploy a Docker engine)
#   --seed N      generator seed (default 42)
#   --model DIR   embed with this model ([enrich] model in the workspace's
#                 cradle.toml), e.g. a static one from `cradle model distill`
#   --keep        keep the temporary folder (delivery, workspace, events)
#
# Environment:
#   CRADLE_BIN        use this cradle binary instead of building a release one
#   CARGO_TARGET_DIR  where cargo builds
#
# Writes bench/results/run-<date>.txt, with the relevance of the finished
# workspace (recall@10, MRR on the labelled queries of bench/queries/ for
# its product count, through the real server) when it was indexed.
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=1.0
UNTIL=index
SEED=42
KEEP=0
MODEL=
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scale) SCALE="$2"; shift 2 ;;
        --until) UNTIL="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        --model) MODEL="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

if [[ -z "${CRADLE_BIN:-}" ]]; then
    cargo build --quiet --release -p cradle >&2
    CRADLE_BIN="${CARGO_TARGET_DIR:-target}/release/cradle"
fi
[[ -x /usr/bin/time ]] || { echo "error: GNU time is missing (apt-get install time)" >&2; exit 1; }

dir=$(mktemp -d)
[[ "$KEEP" == 1 ]] || trap 'rm -rf "$dir"' EXIT
"$CRADLE_BIN" demo-data "$dir/delivery" --scale "$SCALE" --seed "$SEED" >/dev/null

if [[ -n "$MODEL" ]]; then
    mkdir -p "$dir/ws"
    printf '[enrich]\nmodel = "%s"\n' "$MODEL" >"$dir/ws/cradle.toml"
fi

status=0
/usr/bin/time -f '%M %e' -o "$dir/time" \
    "$CRADLE_BIN" run "$dir/delivery" --customer bench --workspace "$dir/ws" \
    --out "$dir/out" --until "$UNTIL" --events "$dir/events.jsonl" \
    >"$dir/stdout" 2>"$dir/stderr" || status=$?
read -r rss_kb wall <"$dir/time"

mkdir -p bench/results
out="bench/results/run-$(date -u +%Y-%m-%d-%H%M%S).txt"
python3 - "$dir/ws/reports/run.json" "$rss_kb" "$wall" "$SCALE" "$(nproc)" <<'PY' | tee "$out"
import json, sys
record = json.load(open(sys.argv[1]))
rss_mb = int(sys.argv[2]) / 1024
print(f"cradle run at scale {sys.argv[4]} on {sys.argv[5]} cores: "
      f"{record['products']} products, {record['files']} files, "
      f"{record.get('vectors') or 0} vectors")
for step in record["steps"]:
    print(f"  {step['name']:<9} {step['state']:<8} {step['seconds']:>9.1f} s  {step['message'].splitlines()[0][:90]}")
print(f"  whole run {record['seconds']:>17.1f} s (wall {sys.argv[3]} s), peak RSS {rss_mb:.0f} MB")
if record.get("embedded_now"):
    print(f"  embedded now {record['embedded_now']}, reused {record.get('embeddings_reused', 0)}")
PY
echo "  against the old process: 9 hours for the first customer (target: under 10 minutes at scale 1.0)" | tee -a "$out"
grep -h -E '^  (embeddings|model):' "$dir/ws/reports/enrich.txt" 2>/dev/null | tee -a "$out" || true

# Relevance of what the run made, through the real server, when a labelled
# query set exists for this many products (bench/queries/).
products=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["products"])' "$dir/ws/reports/run.json" 2>/dev/null || echo 0)
queries="bench/queries/serve-${products}p-seed${SEED}.json"
if [[ "$status" == 0 && -f "$queries" && -d "$dir/ws/index/search" ]]; then
    key="$("$CRADLE_BIN" api-key create --workspace "$dir/ws" --name run-bench 2>/dev/null | head -1)"
    mkdir -p "$dir/relevance"
    python3 bench/serve_client.py "$CRADLE_BIN" "$dir/ws" "$queries" "$key" "$dir/relevance" \
        --relevance-only | sed -n '/^relevance:/,$p' | tee -a "$out"
fi
[[ "$KEEP" == 1 ]] && echo "kept $dir (workspace $dir/ws)" >&2

if [[ "$status" != 0 ]]; then
    echo "cradle run exited $status:" >&2
    tail -20 "$dir/stderr" >&2
    exit "$status"
fi
