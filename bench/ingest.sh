#!/usr/bin/env bash
# Ingest benchmark: cradle vs the old Python stack (pandas + openpyxl +
# deltalake) vs polars, on the same generated demo delivery, in one run.
#
#   bash bench/ingest.sh [--scale F] [--runs N] [--seed N] [--tools LIST] [--keep]
#
#   --scale F     size of the demo delivery (default 1.0 = ~105,000 products)
#   --runs N      runs per tool; the medians are reported (default 3)
#   --seed N      generator seed (default 42)
#   --tools LIST  comma-separated subset of cradle,old_stack,polars (default
#                 all), plus baseline: another cradle binary (CRADLE_BASELINE_BIN,
#                 e.g. a build of an earlier commit), its runs interleaved
#                 with cradle's so both see the same machine
#   --keep        keep the temporary folder (delivery, workspaces, logs)
#
# Environment:
#   CRADLE_BIN         use this cradle binary instead of building one
#   CRADLE_BASELINE_BIN  the binary the baseline tool runs
#   CARGO_TARGET_DIR   where cargo builds (default <repo>/target)
#   CRADLE_BENCH_VENV  Python venv for the Python stacks
#                      (default ~/.cache/cradle/bench-venv; created if missing)
#
# Prints a table (median wall time, median peak RSS, rows loaded, ratios vs
# cradle) and writes bench/results/ingest-<date>.json. See bench/README.md.
set -euo pipefail

SCALE=1.0
RUNS=3
SEED=42
TOOLS=cradle,old_stack,polars
KEEP=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scale) SCALE="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        --tools) TOOLS="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "error: --runs needs a positive integer" >&2; exit 2; }

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
say() { printf '\n==> %s\n' "$*"; }

# --- cradle -----------------------------------------------------------------
if [[ -n "${CRADLE_BIN:-}" ]]; then
    say "using CRADLE_BIN=$CRADLE_BIN"
else
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
    say "building cradle (release) in $CARGO_TARGET_DIR"
    (cd "$ROOT" && cargo build --release -p cradle)
    CRADLE_BIN="$CARGO_TARGET_DIR/release/cradle"
fi
[[ -x "$CRADLE_BIN" ]] || { echo "error: $CRADLE_BIN is not an executable" >&2; exit 1; }

# --- Python venv for the Python stacks --------------------------------------
VENV="${CRADLE_BENCH_VENV:-$HOME/.cache/cradle/bench-venv}"
REQ="$BENCH/requirements.txt"
if [[ ",$TOOLS," == *,old_stack,* || ",$TOOLS," == *,polars,* ]]; then
    stamp="$VENV/.cradle-bench-requirements"
    if [[ ! -x "$VENV/bin/python" ]] || ! cmp -s "$REQ" "$stamp"; then
        say "setting up the Python venv $VENV from bench/requirements.txt"
        [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
        cp "$REQ" "$stamp"
    else
        say "Python venv $VENV is up to date"
    fi
    PY="$VENV/bin/python"
fi

# --- how peak memory is measured --------------------------------------------
if /usr/bin/time -v true >/dev/null 2>&1; then
    TIMER=gnu
elif [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    say "GNU time (/usr/bin/time) is missing: installing it with apt-get install -y time"
    if apt-get install -y -qq time >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq time >/dev/null 2>&1; }; then
        TIMER=gnu
    else
        TIMER=python
    fi
else
    TIMER=python
fi
if [[ $TIMER == gnu ]]; then
    say "peak RSS: /usr/bin/time -v (Maximum resident set size)"
else
    say "GNU time not available (install it: apt-get install -y time); peak RSS via bench/measure.py (getrusage RUSAGE_CHILDREN)"
fi

# --- the delivery -------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/cradle-bench.XXXXXX")"
if [[ $KEEP -eq 1 ]]; then
    trap 'echo "kept $WORK"' EXIT
else
    trap 'rm -rf "$WORK"' EXIT
fi
DELIVERY="$WORK/delivery"
say "generating the demo delivery (scale $SCALE, seed $SEED) in $DELIVERY"
"$CRADLE_BIN" demo-data "$DELIVERY" --scale "$SCALE" --seed "$SEED"
sync

RUNS_TSV="$WORK/runs.tsv"
: >"$RUNS_TSV"

# measure TOOL RUN RESULT_FILE CMD...: wall time and peak RSS of CMD.
measure() {
    local tool="$1" run="$2" result="$3"; shift 3
    local tf="$WORK/time-$tool-$run.txt" log="$WORK/log-$tool-$run.txt" rc=0 t0 t1
    t0=$(date +%s.%N)
    if [[ $TIMER == gnu ]]; then
        /usr/bin/time -v -o "$tf" "$@" >"$log" 2>&1 || rc=$?
    else
        python3 "$BENCH/measure.py" "$tf" "$@" >"$log" 2>&1 || rc=$?
    fi
    t1=$(date +%s.%N)
    local wall rss
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tf")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$run" "$rc" "$wall" "${rss:-0}" "$result" >>"$RUNS_TSV"
    printf '    %s run %s: %6.2f s, %5d MB peak RSS, exit %s\n' "$tool" "$run" "$wall" "$(( ${rss:-0} / 1024 ))" "$rc"
    if [[ $rc -ne 0 ]]; then
        echo "    (exit $rc; last lines of $log:)"
        tail -n 5 "$log" | sed 's/^/      /'
    fi
}

if [[ ",$TOOLS," == *,baseline,* ]]; then
    [[ -x "${CRADLE_BASELINE_BIN:-}" ]] || { echo "error: --tools baseline needs CRADLE_BASELINE_BIN, an executable cradle" >&2; exit 2; }
    [[ ",$TOOLS," == *,cradle,* ]] || { echo "error: --tools baseline is compared with cradle: add cradle to --tools" >&2; exit 2; }
    say "baseline: $CRADLE_BASELINE_BIN ($("$CRADLE_BASELINE_BIN" --version))"
fi

# cradle and baseline alternate run by run: a before/after comparison
# should not depend on which half of the run was quieter.
ORDER=()
for tool in ${TOOLS//,/ }; do
    [[ $tool == baseline ]] && continue
    if [[ $tool == cradle && ",$TOOLS," == *,baseline,* ]]; then
        ORDER+=(cradle+baseline)
    else
        ORDER+=("$tool")
    fi
done

run_cradle() {
    local tool="$1" bin="$2" run="$3" out="$WORK/out-$1-$3"
    measure "$tool" "$run" "$WORK/$tool-ingest-$run.json" \
        "$bin" ingest "$DELIVERY" --workspace "$out" --quiet
    cp "$out/reports/ingest.json" "$WORK/$tool-ingest-$run.json" 2>/dev/null || true
    [[ $KEEP -eq 1 ]] || rm -rf "$out"
}

for tool in "${ORDER[@]}"; do
    case "$tool" in
        cradle+baseline) say "cradle ingest <delivery> --workspace <fresh> --quiet  x $RUNS, alternating with the baseline" ;;
        cradle) say "cradle ingest <delivery> --workspace <fresh> --quiet  x $RUNS" ;;
        old_stack) say "old stack: bench/old_stack.py <delivery> <out>  x $RUNS (pandas + openpyxl; slow)" ;;
        polars) say "polars: bench/polars_stack.py <delivery> <out>  x $RUNS" ;;
        *) echo "error: unknown tool '$tool' in --tools" >&2; exit 2 ;;
    esac
    for run in $(seq 1 "$RUNS"); do
        out="$WORK/out-$tool-$run"
        case "$tool" in
            cradle) run_cradle cradle "$CRADLE_BIN" "$run" ;;
            cradle+baseline)
                run_cradle baseline "$CRADLE_BASELINE_BIN" "$run"
                run_cradle cradle "$CRADLE_BIN" "$run"
                ;;
            old_stack|polars)
                script="$BENCH/old_stack.py"
                [[ $tool == polars ]] && script="$BENCH/polars_stack.py"
                measure "$tool" "$run" "$WORK/$tool-summary-$run.json" \
                    "$PY" "$script" "$DELIVERY" "$out"
                cp "$out/summary.json" "$WORK/$tool-summary-$run.json" 2>/dev/null || true
                ;;
        esac
        [[ $KEEP -eq 1 ]] || rm -rf "$out"
    done
done

# --- report -------------------------------------------------------------------
STAMP="$(date +%Y-%m-%d-%H%M%S)"
RESULTS="$BENCH/results/ingest-$STAMP.json"
META="$WORK/meta.json"
cat >"$META" <<EOF
{
  "benchmark": "bench/ingest.sh",
  "date": "$(date -Iseconds)",
  "runs": $RUNS,
  "scale": $SCALE,
  "seed": $SEED,
  "git_commit": "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo "+dirty")",
  "cradle_bin": "$CRADLE_BIN",
  "peak_rss_via": "$( [[ $TIMER == gnu ]] && echo "/usr/bin/time -v" || echo "getrusage(RUSAGE_CHILDREN)")",
  "machine": {
    "cpus": $(nproc),
    "memory_gb": $(awk '/MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo),
    "cpu": "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo | tr -d '"')"
  },
  "python_packages": "$( [[ -n "${PY:-}" ]] && "$PY" -m pip freeze --disable-pip-version-check 2>/dev/null | grep -iE '^(pandas|openpyxl|deltalake|pyarrow|polars|fastexcel)==' | tr '\n' ' ' | sed 's/ $//')"
}
EOF
say "results"
python3 "$BENCH/report.py" "$RUNS_TSV" "$DELIVERY" "$RESULTS" "$META"
