#!/usr/bin/env bash
# Enrich benchmark: the same delivery enriched with each embedding model,
# in one run: enrich wall time, texts embedded and their rate, peak memory,
# and the search relevance each model gives (recall@10 and MRR on the
# labelled queries of bench/queries/, keyword, vector and hybrid, through
# the real server), each next to the first model's.
#
#   bash bench/enrich.sh [--scale F] [--seed N] [--model DIR]... [--keep]
#
#   --scale F    demo delivery scale (default 0.02 = ~2,100 products; the
#                labelled query sets are for 2,100 and 105,000 products)
#   --seed N     generator seed (default 42)
#   --model DIR  a model directory to enrich with; repeatable; the first is
#                the reference. Default: the installed transformer
#                (scripts/model.sh) and a static model distilled from it
#                (`cradle model distill`, made in the work folder)
#   --keep       keep the work folder
#
# Environment: CRADLE_BIN (skip the release build), CARGO_TARGET_DIR.
# Writes bench/results/enrich-<date>-<time>.txt.
set -euo pipefail

SCALE=0.02
SEED=42
MODELS=()
KEEP=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scale) SCALE="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        --model) MODELS+=("$2"); shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
say() { printf '\n==> %s\n' "$*" >&2; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
[[ -x /usr/bin/time ]] || { echo "error: GNU time is missing (apt-get install time)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cradle-enrich-bench.XXXXXX")"
if [[ $KEEP -eq 0 ]]; then trap 'rm -rf "$WORK"' EXIT; else say "keeping $WORK"; fi
mkdir -p "$BENCH/results"
RESULT="$BENCH/results/enrich-$(date -u +%Y-%m-%d-%H%M%S).txt"
out() { tee -a "$RESULT"; }

if [[ -z "${CRADLE_BIN:-}" ]]; then
    say "building cradle (cargo build --release -p cradle) in $CARGO_TARGET_DIR"
    (cd "$ROOT" && cargo build --release -q -p cradle)
    CRADLE_BIN="$CARGO_TARGET_DIR/release/cradle"
fi
# The test venv has deltalake, which the query-set generator reads with.
PY="${CRADLE_VENV:-$HOME/.cache/cradle/venv}/bin/python"
if ! "$PY" -c "import deltalake" 2>/dev/null; then
    python3 -m venv "${CRADLE_VENV:-$HOME/.cache/cradle/venv}"
    "$PY" -m pip install --quiet -r "$ROOT/scripts/requirements-test.txt"
fi

if [[ ${#MODELS[@]} -eq 0 ]]; then
    TRANSFORMER="$(bash "$ROOT/scripts/model.sh")"
    say "distilling a static model from $TRANSFORMER"
    "$CRADLE_BIN" model distill "$TRANSFORMER" --out "$WORK/models/$(basename "$TRANSFORMER")-static" | out
    MODELS=("$TRANSFORMER" "$WORK/models/$(basename "$TRANSFORMER")-static")
fi

{
    echo "# bench/enrich.sh $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GB"
    echo "cradle: $CRADLE_BIN ($("$CRADLE_BIN" --version))"
    echo "scale: $SCALE, seed $SEED; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | out

say "delivery and ingest (scale $SCALE)"
"$CRADLE_BIN" demo-data "$WORK/delivery" --scale "$SCALE" --seed "$SEED" >/dev/null
"$CRADLE_BIN" ingest "$WORK/delivery" --workspace "$WORK/ingested" --quiet >/dev/null

i=0
for model in "${MODELS[@]}"; do
    i=$((i + 1))
    ws="$WORK/ws$i"
    cp -a "$WORK/ingested" "$ws"
    say "enrich with $model"
    /usr/bin/time -f '%M %e' -o "$WORK/time$i" \
        "$CRADLE_BIN" enrich --workspace "$ws" --model "$model" --quiet >/dev/null
    "$CRADLE_BIN" index --workspace "$ws" >/dev/null
    key="$("$CRADLE_BIN" api-key create --workspace "$ws" --name enrich-bench 2>/dev/null | head -1)"
    products=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["products"])' "$ws/reports/ingest.json")
    queries="$BENCH/queries/serve-${products}p-seed${SEED}.json"
    if [[ ! -f "$queries" ]]; then
        "$PY" "$BENCH/serve_queries.py" "$ws" "$WORK" --seed "$SEED" --per-type 25 >/dev/null
        queries="$WORK/queries.json"
    fi
    mkdir -p "$WORK/out$i"
    "$PY" "$BENCH/serve_client.py" "$CRADLE_BIN" "$ws" "$queries" "$key" "$WORK/out$i" \
        --relevance-only >"$WORK/relevance$i.txt"
    {
        echo
        echo "model $i: $model"
        grep -h -E '^  (chunks|embeddings):' "$ws/reports/enrich.txt" || true
        read -r rss_kb wall <"$WORK/time$i"
        echo "  enrich wall: ${wall} s, peak RSS $((rss_kb / 1024)) MB (load $(cut -d' ' -f1-3 /proc/loadavg))"
        sed -n '/^relevance:/,$p' "$WORK/relevance$i.txt"
    } | out
done

"$PY" - "$WORK" "$i" <<'PY' | out
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
runs = [json.load(open(f"{work}/out{i}/relevance.json")) for i in range(1, n + 1)]
print("\nrelevance against model 1 (the issue allows a drop of at most 0.02 in any mode)")
print(f"{'model':<7}{'mode':<9}{'R@10':>8}{'delta':>8}{'MRR':>8}{'delta':>8}")
for i, run in enumerate(runs, 1):
    for mode, s in run.items():
        ref = runs[0][mode]
        print(f"{i:<7}{mode:<9}{s['recall_at_10']:>8.3f}{s['recall_at_10'] - ref['recall_at_10']:>+8.3f}"
              f"{s['mrr']:>8.3f}{s['mrr'] - ref['mrr']:>+8.3f}")
PY
echo "results: ${RESULT#"$ROOT"/}" >&2
