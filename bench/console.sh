#!/usr/bin/env bash
# Console page benchmark: server render time (p50/p95) of the dashboard,
# a search page and a product page, and the bytes of each page with its
# assets (stylesheet and script), as a signed-in user sees them.
#
#   bash bench/console.sh [--scale S] [--workspace WS] [--requests N]
#
#   --scale S       demo delivery scale (default 1.0: 105,000 products);
#                   the setup runs `cradle demo --no-enrich` (ingest and index)
#   --workspace WS  skip the setup: an existing indexed workspace (its
#                   state folder gets one benchmark user)
#   --requests N    requests per page (default 200; the first 10 warm up)
#
# Render time is curl's time to the last byte on the loopback interface,
# after the first byte of a kept-alive connection: the server's work, not
# a network's. Environment: CARGO_TARGET_DIR; CRADLE_BIN to use a built
# cradle (default: a release build).
#
# Targets (issue 13): p95 under 50 ms for all three pages; search and
# product pages under 150 KB with their assets.
set -euo pipefail

SCALE=1.0
WS=
REQUESTS=200
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --workspace) WS=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    *) echo "unknown argument $1 (see the comment at the top of bench/console.sh)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
if [ -z "${CRADLE_BIN:-}" ]; then
  cargo build --release -p cradle >&2
  CRADLE_BIN="${CARGO_TARGET_DIR:-target}/release/cradle"
fi
SCRATCH=$(mktemp -d)
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$SCRATCH"' EXIT
if [ -z "$WS" ]; then
  "$CRADLE_BIN" demo --no-enrich --scale "$SCALE" --dir "$SCRATCH/demo" >&2
  WS="$SCRATCH/demo/workspace"
fi
STATE="$SCRATCH/state"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
LINK=$("$CRADLE_BIN" user add --workspace "$WS" --state "$STATE" --email "bench@example.com" --role customer_admin --url "$BASE" 2>/dev/null)
"$CRADLE_BIN" serve --workspace "$WS" --state "$STATE" --port "$PORT" --log json >"$SCRATCH/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do
  curl -fsS "$BASE/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
JAR="$SCRATCH/cookies"
curl -fsS -c "$JAR" -o /dev/null "$LINK"

# A product and a search that find something in this workspace.
ARTICLE=$(curl -fsS -b "$JAR" "$BASE/search?q=LED" | grep -o 'href="/products/[^"]*"' | head -1 | sed 's/href="\/products\///; s/"$//')
PAGES=("/" "/search?q=LED+Einbauleuchte&family=Einbauleuchten" "/products/$ARTICLE")

printf '%-60s %8s %8s %10s\n' page p50_ms p95_ms kb_total
for page in "${PAGES[@]}"; do
  times="$SCRATCH/times"
  : >"$times"
  for i in $(seq 1 "$REQUESTS"); do
    t=$(curl -fsS -b "$JAR" -o /dev/null -w '%{time_starttransfer} %{time_total}\n' "$BASE$page")
    [ "$i" -gt 10 ] && echo "$t" >>"$times"
  done
  html=$(curl -fsS -b "$JAR" -w '%{size_download}' -o "$SCRATCH/page.html" "$BASE$page")
  assets=0
  for asset in $(grep -o '/assets/[^"]*' "$SCRATCH/page.html" | sort -u); do
    bytes=$(curl -fsS -o /dev/null -w '%{size_download}' "$BASE$asset")
    assets=$((assets + bytes))
  done
  python3 - "$times" "$page" "$html" "$assets" <<'PY'
import statistics, sys
rows = [float(line.split()[1]) * 1000 for line in open(sys.argv[1]) if line.strip()]
rows.sort()
p50 = statistics.median(rows)
p95 = rows[min(len(rows) - 1, int(round(0.95 * (len(rows) - 1))))]
kb = (int(sys.argv[3]) + int(sys.argv[4])) / 1024
print(f"{sys.argv[2][:60]:<60} {p50:8.1f} {p95:8.1f} {kb:10.1f}")
PY
done
