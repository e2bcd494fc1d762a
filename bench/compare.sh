#!/usr/bin/env bash
# Before and after in one run: two cradle binaries (say, a build of an
# earlier commit and one of this checkout) on the same deliveries and the
# same machine, side by side, so a change can be judged against noise
# rather than against numbers from another day.
#
#   bash bench/compare.sh --baseline BIN [--scale S] [--vector-scale S]
#                         [--runs N] [--duration S] [--note TEXT]
#
#   --baseline BIN     the "before" binary (e.g. a release build of an
#                      earlier commit: git worktree add /tmp/before REV &&
#                      cargo build --release in it)
#   --scale S          ingest and keyword serving (default 1.0: 105,000
#                      products)
#   --vector-scale S   keyword, vector and hybrid serving on an enriched
#                      delivery (default 0.02: 2,100 products, which the
#                      transformer enriches in minutes; at 1.0 it takes
#                      most of an hour per binary)
#   --runs N           ingest runs per binary, alternating (default 5)
#   --duration S       seconds of load per mode (default 10)
#   --parts LIST       any of ingest,keyword,enriched (default all three)
#   --after-first      serve the "after" binary first (a second run with
#                      the order swapped tells order effects from changes)
#   --note TEXT        a line for the results file
#
# Environment: CRADLE_BIN (the "after" binary; default: a release build of
# this checkout), CARGO_TARGET_DIR. Each binary builds its own workspaces
# (workspace formats may differ between versions); both read the same
# generated deliveries and answer the same labelled queries.
#
# Prints ingest (bench/ingest.sh --tools cradle,baseline), then per binary
# start-up, p50/p99 latency, requests/s under load and relevance, and a
# before/after table; writes bench/results/compare-<date>-<time>.txt.
set -euo pipefail

BASELINE=
SCALE=1.0
VECTOR_SCALE=0.02
RUNS=5
DURATION=10
NOTE=
PARTS=ingest,keyword,enriched
ORDER="before after"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --baseline) BASELINE="$2"; shift 2 ;;
        --scale) SCALE="$2"; shift 2 ;;
        --vector-scale) VECTOR_SCALE="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --note) NOTE="$2"; shift 2 ;;
        --parts) PARTS="$2"; shift 2 ;;
        --after-first) ORDER="after before"; shift ;;
        -h|--help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ -x "$BASELINE" ]] || { echo "error: --baseline needs an executable cradle binary" >&2; exit 2; }

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
say() { printf '\n==> %s\n' "$*" >&2; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
if [[ -z "${CRADLE_BIN:-}" ]]; then
    say "building cradle (cargo build --release -p cradle) in $CARGO_TARGET_DIR"
    (cd "$ROOT" && cargo build --release -q -p cradle)
    CRADLE_BIN="$CARGO_TARGET_DIR/release/cradle"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/cradle-compare.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$BENCH/results"
RESULT="$BENCH/results/compare-$(date -u +%Y-%m-%d-%H%M%S).txt"
out() { tee -a "$RESULT"; }
PY="${CRADLE_VENV:-$HOME/.cache/cradle/venv}/bin/python"
"$PY" -c "import deltalake" 2>/dev/null || { echo "error: $PY lacks deltalake; run bash scripts/test.sh once (it makes the venv)" >&2; exit 1; }
MODEL="$(bash "$ROOT/scripts/model.sh")"
if ! command -v wrk >/dev/null && [[ $(id -u) -eq 0 ]]; then
    apt-get install -y -q wrk >/dev/null 2>&1 || echo "wrk not installable; Python threads make the load" >&2
fi

{
    echo "# bench/compare.sh $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GB"
    [[ -n "$NOTE" ]] && echo "note: $NOTE"
    echo "before: $BASELINE ($("$BASELINE" --version))"
    echo "after:  $CRADLE_BIN ($("$CRADLE_BIN" --version))"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | out

echo "serving order: $ORDER" | out
if [[ ",$PARTS," == *,ingest,* ]]; then
    say "ingest at scale $SCALE, $RUNS runs each, alternating"
    CRADLE_BIN="$CRADLE_BIN" CRADLE_BASELINE_BIN="$BASELINE" \
        bash "$BENCH/ingest.sh" --scale "$SCALE" --runs "$RUNS" --tools cradle,baseline 2>&1 \
        | sed -n '/^Delivery:/,$p' | out
fi

# serve SCALE MODES LABEL: each binary ingests, (enriches,) indexes and
# serves its own workspace of the same delivery.
serve() {
    local scale="$1" modes="$2" label="$3"
    local delivery="$WORK/delivery-$label"
    say "serving at scale $scale ($modes)"
    "$CRADLE_BIN" demo-data "$delivery" --scale "$scale" >/dev/null
    local queries=
    for who in $ORDER; do
        local bin="$BASELINE" ws="$WORK/ws-$label-$who"
        [[ $who == after ]] && bin="$CRADLE_BIN"
        "$bin" ingest "$delivery" --workspace "$ws" --quiet >/dev/null
        if [[ $modes != keyword ]]; then
            "$bin" enrich --workspace "$ws" --model "$MODEL" --quiet >/dev/null
        fi
        "$bin" index --workspace "$ws" >/dev/null
        if [[ -z "$queries" ]]; then
            local products
            products=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["products"])' "$ws/reports/ingest.json")
            queries="$BENCH/queries/serve-${products}p-seed42.json"
            if [[ ! -f "$queries" ]]; then
                "$PY" "$BENCH/serve_queries.py" "$ws" "$WORK" --seed 42 --per-type 25 >/dev/null
                queries="$WORK/queries.json"
            fi
        fi
        local key
        key="$("$bin" api-key create --workspace "$ws" --name compare 2>/dev/null | head -1)"
        mkdir -p "$WORK/out-$label-$who"
        {
            echo
            echo "[$who, scale $scale] load average $(cut -d' ' -f1-3 /proc/loadavg)"
            "$PY" "$BENCH/serve_client.py" "$bin" "$ws" "$queries" "$key" "$WORK/out-$label-$who" \
                --modes "$modes" --duration "$DURATION" | sed 's/^/  /'
        } | out
        rm -rf "$ws"
    done
    "$PY" - "$WORK/out-$label-before/summary.json" "$WORK/out-$label-after/summary.json" "$scale" <<'PY' | out
import json, sys
before, after = (json.load(open(p)) for p in sys.argv[1:3])
print(f"\nbefore -> after at scale {sys.argv[3]} (latency: sequential, one connection; load: req/s)")
print(f"{'':<28}{'before':>10}{'after':>10}{'after/before':>14}")
def row(name, a, b):
    print(f"{name:<28}{a:>10.2f}{b:>10.2f}{b / a if a else float('nan'):>14.2f}")
row("start-up to /ready ms", before["startup_ms"], after["startup_ms"])
for mode in after["latency"]:
    row(f"{mode} p50 ms", before["latency"][mode]["p50_ms"], after["latency"][mode]["p50_ms"])
    row(f"{mode} p99 ms", before["latency"][mode]["p99_ms"], after["latency"][mode]["p99_ms"])
    row(f"{mode} req/s", before["load"][mode]["requests_per_s"], after["load"][mode]["requests_per_s"])
    for k, name in (("recall_at_10", "R@10"), ("mrr", "MRR")):
        row(f"{mode} {name}", before["relevance"][mode][k], after["relevance"][mode][k])
PY
}

[[ ",$PARTS," == *,keyword,* ]] && serve "$SCALE" keyword full
[[ ",$PARTS," == *,enriched,* ]] && serve "$VECTOR_SCALE" keyword,vector,hybrid enriched
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | out
say "written to $RESULT"
