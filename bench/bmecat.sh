#!/usr/bin/env bash
# BMEcat benchmark: ingest a generated BMEcat 2005 catalogue of N products
# (about 10 KB each: 100,000 products are about 1 GB) and the XLSX price
# list of the same products, and print wall time and peak RSS of each.
#
#   bash bench/bmecat.sh [PRODUCTS]     (default 100000)
#
# Environment:
#   CRADLE_BIN         use this cradle binary instead of building one
#   CARGO_TARGET_DIR   where cargo builds (default <repo>/target)
#   CARGO_PROFILE      profile for cradle and the generator (default release)
#   TRADE_GENERATOR    use this build of the trade_delivery example instead
#                      of building one
#   TMPDIR             where the delivery is generated (deleted afterwards)
#
# The catalogue is streamed a product at a time, so its peak RSS should not
# grow with the file: compare it with the file's size.
set -euo pipefail

PRODUCTS=${1:-100000}
[[ "$PRODUCTS" =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/bmecat.sh [PRODUCTS]" >&2; exit 2; }
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
PROFILE=${CARGO_PROFILE:-release}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PROFILE_DIR=$([[ "$PROFILE" == dev ]] && echo debug || echo "$PROFILE")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cradle-bmecat-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
if [[ -z "${CRADLE_BIN:-}" ]]; then
    echo "==> building cradle ($PROFILE) in $CARGO_TARGET_DIR"
    (cd "$ROOT" && cargo build --profile "$PROFILE" -p cradle)
    # A shared target directory may be rebuilt from another checkout while
    # the generator builds: keep this build's binary.
    cp "$CARGO_TARGET_DIR/$PROFILE_DIR/cradle" "$WORK/cradle"
    CRADLE_BIN="$WORK/cradle"
fi
if [[ -n "${TRADE_GENERATOR:-}" ]]; then
    GENERATOR=$TRADE_GENERATOR
else
    echo "==> building the generator ($PROFILE)"
    (cd "$ROOT" && cargo build --profile "$PROFILE" -p cradle-ingest --example trade_delivery)
    cp "$CARGO_TARGET_DIR/$PROFILE_DIR/examples/trade_delivery" "$WORK/trade_delivery"
    GENERATOR="$WORK/trade_delivery"
fi

echo "==> generating $PRODUCTS products into $WORK"
"$GENERATOR" "$PRODUCTS" "$WORK/delivery"

measure() { # name folder
    local name=$1 folder=$2 log="$WORK/$1.time"
    local start end
    start=$(date +%s.%N)
    if /usr/bin/time -v true >/dev/null 2>&1; then
        /usr/bin/time -v -o "$log" "$CRADLE_BIN" ingest "$folder" --workspace "$WORK/ws-$name" --quiet >/dev/null
    else
        python3 "$BENCH/measure.py" "$log" "$CRADLE_BIN" ingest "$folder" --workspace "$WORK/ws-$name" --quiet >/dev/null
    fi
    end=$(date +%s.%N)
    local rss_kb bytes
    rss_kb=$(grep 'Maximum resident set size' "$log" | awk '{print $NF}')
    bytes=$(du -sb "$folder" | cut -f1)
    printf '%-8s %12s %10.1f s %10.1f MiB peak RSS\n' "$name" "$(numfmt --to=iec "$bytes")" \
        "$(echo "$end - $start" | bc)" "$(echo "$rss_kb / 1024" | bc -l)"
    # The catalogue must have been read as one, not as text.
    if [[ $name == bmecat ]] && ! grep -q '"format": *"bmecat"' "$WORK/ws-$name/reports/ingest.json"; then
        echo "error: $CRADLE_BIN did not read the catalogue as BMEcat (a build without catalogue support?)" >&2
        exit 1
    fi
    rm -rf "$WORK/ws-$name"
}

echo
printf '%-8s %12s %12s %22s\n' delivery size time memory
measure bmecat "$WORK/delivery/bmecat"
measure xlsx "$WORK/delivery/xlsx"
