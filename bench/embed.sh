#!/usr/bin/env bash
# Embedding benchmark: cradle's local backend vs sentence-transformers
# (PyTorch, CPU) on the same model files and the same 1000 product
# sentences, in one run.
#
#   bash bench/embed.sh [--runs N] [--batch N] [--max-length N] [--threads N]
#
#   --runs N        runs per tool; the median is reported (default 3)
#   --batch N       texts per batch (default 32)
#   --max-length N  tokens per text at most (default 256)
#   --threads N     threads for each tool (default 2)
#
# Needs the model (scripts/model.sh) and the Python reference
# (scripts/embed-venv.sh); both are installed when missing. Prints
# sentences per second (median of the runs), peak memory and the cosine
# between the two tools' vectors, and writes bench/results/embed-<date>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=3
BATCH=32
MAX_LENGTH=256
THREADS=2
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --batch) BATCH="$2"; shift 2 ;;
        --max-length) MAX_LENGTH="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

model="$(bash scripts/model.sh)"
python="$(bash scripts/embed-venv.sh)"
echo "building the benchmark (cargo build --release -p cradle-embed --example embed_bench)" >&2
cargo build --release --quiet -p cradle-embed --example embed_bench
bin="${CARGO_TARGET_DIR:-target}/release/examples/embed_bench"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/embed_sentences.py "$work/sentences.txt" 1000

# One process per tool, so each one's peak memory is its own.
"$bin" "$model" "$work/sentences.txt" "$work/cradle.f32" "$BATCH" "$MAX_LENGTH" "$THREADS" "$RUNS" \
    > "$work/cradle.json"
"$python" bench/embed_reference.py "$model" "$work/sentences.txt" "$work/reference.f32" \
    --batch "$BATCH" --max-length "$MAX_LENGTH" --threads "$THREADS" --runs "$RUNS" \
    2> "$work/reference.log" > "$work/reference.json" \
    || { cat "$work/reference.log" >&2; exit 1; }

mkdir -p bench/results
out="bench/results/embed-$(date -u +%Y-%m-%d-%H%M%S).txt"
"$python" - "$work" "$model" "$BATCH" "$MAX_LENGTH" "$THREADS" "$RUNS" <<'PY' | tee "$out"
import json, os, platform, statistics, sys
import numpy as np

work, model, batch, max_length, threads, runs = sys.argv[1:]
cradle = json.load(open(os.path.join(work, "cradle.json")))
reference = json.load(open(os.path.join(work, "reference.json")))
a = np.fromfile(os.path.join(work, "cradle.f32"), "<f4")
b = np.fromfile(os.path.join(work, "reference.f32"), "<f4")
dim = a.size // 1000
a, b = a.reshape(1000, dim), b.reshape(1000, dim)
cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
load = os.getloadavg()
mc, mr = statistics.median(cradle["rates"]), statistics.median(reference["rates"])
print(f"embedding benchmark, {os.path.basename(model)}, 1000 sentences "
      f"(bench/embed_sentences.py), batch {batch}, max length {max_length}, {threads} threads, "
      f"median of {runs} runs")
print(f"machine: {cpu}, {os.cpu_count()} cores; load average before the summary {load[0]:.2f}")
print(f"{'tool':<24}{'sentences/s':>12}{'runs':>28}{'peak MiB':>10}")
for name, r, m in [("cradle (local, candle)", cradle, mc), (f"sentence-transformers", reference, mr)]:
    runs_text = " ".join(f"{x:.1f}" for x in r["rates"])
    print(f"{name:<24}{m:>12.1f}{runs_text:>28}{r['peak_rss_mib']:>10.0f}")
print(f"speed-up cradle / sentence-transformers: {mc / mr:.2f}x")
print(f"cosine cradle vs sentence-transformers: min {cos.min():.6f}, mean {cos.mean():.6f}")
print(f"torch {reference['torch']}, torch threads {reference['threads']}")
PY
echo "written to $out" >&2
