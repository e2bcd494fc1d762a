#!/usr/bin/env bash
# Vector search benchmark: the cradle vector index (crates/cradle-vector,
# module `vector`) vs LanceDB, the old stack's vector store, on the same
# vectors and queries in one run.
#
#   bash bench/vector.sh [--vectors N] [--dimension D] [--queries Q] [--k K]
#                        [--seed S] [--input FILE.f32 [--keys FILE.keys]]
#                        [--tools cradle,lancedb] [--note TEXT] [--keep]
#
#   --vectors N    synthetic vectors in the index (default 300000)
#   --dimension D  dimension (default 384, all-MiniLM-L6-v2; 1024 for e5-large)
#   --queries Q    queries: held-out vectors, moved a little (default 1000)
#   --k K          neighbours per query (default 10)
#   --input FILE   real vectors instead: raw little-endian f32, D per vector;
#                  --keys FILE gives one key per line (optional)
#   --tools LIST   cradle alone, or cradle,lancedb (default)
#   --note TEXT    a line for the results file (where real vectors came from)
#   --keep         keep the temporary folder (vectors, queries, answers, index)
#
# Environment:
#   CARGO_TARGET_DIR    where cargo builds (default <repo>/target)
#   CRADLE_VECTOR_VENV  Python venv for LanceDB, pinned in bench/lancedb-venv.sh
#                       (default ~/.cache/cradle/venv-bench; created if missing)
#
# Prints build time, index size, recall@K against exact search and p50/p99
# single-threaded query latency for each tool, and writes the whole output
# to bench/results/vector-<date>-<time>.txt.
set -euo pipefail

VECTORS=300000
DIMENSION=384
QUERIES=1000
K=10
SEED=42
INPUT=
KEYS=
TOOLS=cradle,lancedb
NOTE=
KEEP=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --vectors) VECTORS="$2"; shift 2 ;;
        --dimension) DIMENSION="$2"; shift 2 ;;
        --queries) QUERIES="$2"; shift 2 ;;
        --k) K="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        --input) INPUT="$2"; shift 2 ;;
        --keys) KEYS="$2"; shift 2 ;;
        --tools) TOOLS="$2"; shift 2 ;;
        --note) NOTE="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
say() { printf '\n==> %s\n' "$*" >&2; }

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
say "building the benchmark (release) in $CARGO_TARGET_DIR"
(cd "$ROOT" && cargo build --release -q -p cradle-vector --example vector_bench)
BIN="$CARGO_TARGET_DIR/release/examples/vector_bench"

if [[ ",$TOOLS," == *,lancedb,* ]]; then
    PY="$(bash "$BENCH/lancedb-venv.sh")"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cradle-vector-bench.XXXXXX")"
if [[ $KEEP -eq 0 ]]; then trap 'rm -rf "$WORK"' EXIT; else say "keeping $WORK"; fi
mkdir -p "$BENCH/results"
RESULT="$BENCH/results/vector-$(date -u +%Y-%m-%d-%H%M%S).txt"

{
    echo "# bench/vector.sh $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GB"
    [[ -n "$NOTE" ]] && echo "note: $NOTE"
    echo "load_average_before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RESULT"

args=(--dimension "$DIMENSION" --queries "$QUERIES" --k "$K" --seed "$SEED" --out "$WORK")
if [[ -n "$INPUT" ]]; then
    args+=(--input "$INPUT")
    [[ -n "$KEYS" ]] && args+=(--keys "$KEYS")
else
    args+=(--vectors "$VECTORS")
fi
say "cradle: $BIN ${args[*]}"
"$BIN" "${args[@]}" | grep -v '^out:' | tee -a "$RESULT"

if [[ ",$TOOLS," == *,lancedb,* ]]; then
    say "lancedb"
    "$PY" "$BENCH/vector_lancedb.py" "$WORK" --dimension "$DIMENSION" --k "$K" \
        | tee -a "$RESULT"
fi

{
    echo "load_average_after: $(cut -d' ' -f1-3 /proc/loadavg)"
    cradle_p50=$(sed -n 's/^search\[default\]:.* p50_ms=\([0-9.]*\).*/\1/p' "$RESULT")
    cradle_recall=$(sed -n 's/^search\[default\]:.* recall@[0-9]*=\([0-9.]*\).*/\1/p' "$RESULT")
    lance_p50=$(sed -n 's/^lancedb\[IVF_PQ default\]:.* p50_ms=\([0-9.]*\).*/\1/p' "$RESULT")
    lance_recall=$(sed -n 's/^lancedb\[IVF_PQ default\]:.* recall@[0-9]*=\([0-9.]*\).*/\1/p' "$RESULT")
    if [[ -n "$cradle_p50" && -n "$lance_p50" ]]; then
        echo "summary: cradle p50 ${cradle_p50} ms (recall ${cradle_recall}) vs lancedb default" \
             "p50 ${lance_p50} ms (recall ${lance_recall}): $(awk -v a="$lance_p50" -v b="$cradle_p50" 'BEGIN { printf "%.1fx", a / b }') faster (target: 2x)"
    fi
} | tee -a "$RESULT"
say "written to $RESULT"
