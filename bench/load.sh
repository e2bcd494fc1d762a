#!/usr/bin/env bash
# Mixed load on `cradle serve` from a second process (wrk): keyword search,
# product pages and read-only SQL interleaved, for 60 s, with the server's
# memory sampled every 5 s. Next to it, in the same run, the reference:
# the same wrk against `/health`, which does no work (the floor of the HTTP
# stack on this machine).
#
#   bash bench/load.sh [--scale S] [--duration S] [--connections N] [--threads N] [--workspace WS]
#
#   --scale S        demo delivery scale (default 0.1, ~10,500 products)
#   --duration S     seconds of mixed load (default 60)
#   --connections N  concurrent connections (default 32)
#   --threads N      wrk threads (default 2)
#   --workspace WS   an existing indexed workspace: skip demo-data, ingest, index
#
# Environment: CRADLE_BIN (skip the build), CARGO_TARGET_DIR.
#
# The per-key rates of search and SQL are lifted (`--rate`), because one key
# makes the whole load; the per-key limit of 2 SQL queries at once stays, so
# some SQL requests are answered 429 by design. The result the hardening asks
# for is the 5xx count: it must be 0. Results go to bench/results/load-<date>.txt.
set -euo pipefail

SCALE=0.1
DURATION=60
CONNECTIONS=32
THREADS=2
WS=
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scale) SCALE="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --connections) CONNECTIONS="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --workspace) WS="$2"; shift 2 ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
say() { printf '\n==> %s\n' "$*" >&2; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
if ! command -v wrk >/dev/null; then
    if [[ $(id -u) -eq 0 ]]; then
        say "installing wrk (apt-get install -y wrk)"
        apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -q wrk >/dev/null; }
    else
        echo "error: wrk is missing; install it with: sudo apt-get install wrk" >&2; exit 1
    fi
fi
if [[ -z "${CRADLE_BIN:-}" ]]; then
    say "building cradle (cargo build --release -p cradle)"
    (cd "$ROOT" && cargo build --release -q -p cradle)
    CRADLE_BIN="$CARGO_TARGET_DIR/release/cradle"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cradle-load-bench.XXXXXX")"
SERVER_PID=
cleanup() { [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
mkdir -p "$BENCH/results"
RESULT="$BENCH/results/load-$(date -u +%Y-%m-%d-%H%M%S).txt"
out() { tee -a "$RESULT"; }

if [[ -z "$WS" ]]; then
    WS="$WORK/ws"
    say "demo delivery at scale $SCALE, ingest, index"
    "$CRADLE_BIN" demo-data "$WORK/delivery" --scale "$SCALE" >/dev/null
    "$CRADLE_BIN" ingest "$WORK/delivery" --workspace "$WS" --quiet >/dev/null
    "$CRADLE_BIN" index --workspace "$WS" >/dev/null
fi
KEY="$("$CRADLE_BIN" api-key create --workspace "$WS" --name load-bench 2>/dev/null | head -1)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$CRADLE_BIN" serve --workspace "$WS" --port "$PORT" --log json \
    --rate search=1000000 --rate sql=1000000 >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null && break
    sleep 0.05
done
curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null || { cat "$WORK/serve.log" >&2; echo "error: the server never got ready" >&2; exit 1; }

# Article numbers and search words from the data itself.
curl -sf -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/products?limit=100" \
    | python3 -c 'import json,sys; print("\n".join(p["article_no"] for p in json.load(sys.stdin)["items"]))' >"$WORK/articles.txt"
cat >"$WORK/mixed.lua" <<LUA
-- One request in ten is SQL, three are product pages, six are searches.
local key = "$KEY"
local articles = {}
for line in io.lines("$WORK/articles.txt") do articles[#articles + 1] = line end
local words = {"leuchte", "einbauleuchte", "LED", "downlight", "strahler", "4000K", "IP65", "panel", "schiene", "dimmbar"}
local sql = {
  '{"query":"SELECT count(*) FROM products"}',
  '{"query":"SELECT article_no, name_de FROM products ORDER BY article_no LIMIT 20"}',
  '{"query":"SELECT family, count(*) FROM products GROUP BY family"}',
}
local n = 0
counts = {}
function request()
  n = n + 1
  local headers = {["Authorization"] = "Bearer " .. key}
  local r = n % 10
  if r == 0 then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", "/api/sql", headers, sql[(n % #sql) + 1])
  elseif r <= 3 then
    return wrk.format("GET", "/api/products/" .. articles[(n % #articles) + 1], headers)
  else
    return wrk.format("GET", "/api/search?q=" .. words[(n % #words) + 1] .. "&limit=10", headers)
  end
end
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for status, count in pairs(c) do total[status] = (total[status] or 0) + count end
  end
  local line = "status_counts:"
  local fivexx = 0
  for status, count in pairs(total) do
    line = line .. " " .. status .. "=" .. count
    if status >= 500 then fivexx = fivexx + count end
  end
  print(line)
  print(string.format("requests=%d seconds=%.1f rps=%.0f p50_ms=%.2f p99_ms=%.2f 5xx=%d socket_errors=%d",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, fivexx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA

rss_mib() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }
{
    echo "# bench/load.sh $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (wrk and the server share them)"
    echo "cradle: $CRADLE_BIN"
    echo "workspace: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["products"], "products")' "$WS/reports/ingest.json")"
    echo "wrk: $THREADS threads, $CONNECTIONS connections"
    echo "rss_mib_ready: $(rss_mib)"
} | out

say "reference: /health for 10 s"
echo "reference (/health, 10 s):" | out
wrk -t"$THREADS" -c"$CONNECTIONS" -d10s --latency "http://127.0.0.1:$PORT/health" \
    | grep -E 'Requests/sec|50%|99%' | sed 's/^ */  /' | out

say "mixed load for $DURATION s (6 search : 3 product : 1 SQL)"
( while kill -0 "$SERVER_PID" 2>/dev/null; do echo "$(date +%s) $(rss_mib)"; sleep 5; done ) >"$WORK/rss.txt" &
SAMPLER=$!
echo "mixed (search, product pages, SQL; $DURATION s):" | out
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/mixed.lua" "http://127.0.0.1:$PORT" \
    | grep -E '^status_counts|^requests=' | sed 's/^/  /' | out
kill "$SAMPLER" 2>/dev/null || true
{
    echo "  rss_mib every 5 s: $(awk '{ printf "%s ", $2 }' "$WORK/rss.txt")"
    echo "  rss_mib_after: $(rss_mib)"
    echo "  still healthy: $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ready") /ready, $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/products?limit=1") with the key"
} | out
say "written to $RESULT"
