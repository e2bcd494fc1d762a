#!/usr/bin/env bash
# Image benchmark: validate, build and load times, image size against the
# data it carries, the compressed archive, time from `docker run` to
# healthy, and the whole validate -> build -> deploy -> verify wall time,
# on an enriched demo workspace; next to the same files built the
# Dockerfile way (`docker build` FROM scratch, classic builder, then
# `docker save | gzip`) in the same run.
#
#   bash bench/image.sh [--scale S] [--workspace WS] [--runs N] [--note TEXT]
#
#   --scale S       demo delivery scale (default 1.0: 105,000 products);
#                   the setup ingests, indexes and enriches it (enrich at
#                   1.0 takes an hour or more on 2 cores)
#   --workspace WS  skip the setup: an existing indexed (ideally enriched)
#                   workspace; it is copied, never changed
#   --runs N        `docker run` to healthy, timed N times (default 5, median)
#   --note TEXT     a line for the results file
#
# Environment: CRADLE_STATIC_BINARY (skip the build: a static cradle, which
# runs every step here as well), CARGO_TARGET_DIR.
#
# Targets (issue 17): image <= data + 50 MB; healthy < 2 s after docker run;
# validate -> build -> deploy -> verify < 2 minutes on 2 cores. The old
# process: a 4.2 GB image (1.8 GB compressed), up to 2 minutes to healthy,
# 9 hours for the first customer.
set -euo pipefail

SCALE=1.0
WS=
RUNS=5
NOTE=
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scale) SCALE="$2"; shift 2 ;;
        --workspace) WS="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --note) NOTE="$2"; shift 2 ;;
        -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
say() { printf '\n==> %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
mb() { echo "scale=1; $1 / 1000000" | bc; }
docker version >/dev/null 2>&1 || { echo "error: the Docker engine does not answer" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cradle-image-bench.XXXXXX")"
ID="b$$"
cleanup() {
    docker rm -f -v "$ID-run" "cradle-$ID" >/dev/null 2>&1 || true
    docker-compose -f "$WORK/ws/image/compose.yaml" -p "cradle-$ID" down >/dev/null 2>&1 || true
    docker volume rm -f "cradle-$ID-state" >/dev/null 2>&1 || true
    docker image rm -f "cradle-$ID:bench" "cradle-$ID:1" "cradle-$ID-dockerfile:bench" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$BENCH/results"
RESULT="$BENCH/results/image-$(date -u +%Y-%m-%d-%H%M%S).txt"
out() { tee -a "$RESULT"; }

if [[ -z "${CRADLE_STATIC_BINARY:-}" ]]; then
    say "building the static cradle (release)"
    CRADLE_STATIC_BINARY="$(bash "$ROOT/scripts/static.sh")"
fi
CRADLE="$CRADLE_STATIC_BINARY"

if [[ -z "$WS" ]]; then
    say "setup: demo delivery at scale $SCALE, ingest, index, enrich"
    "$CRADLE" demo-data "$WORK/delivery" --scale "$SCALE" >/dev/null
    "$CRADLE" ingest "$WORK/delivery" --workspace "$WORK/ws" --customer demo --quiet >/dev/null
    "$CRADLE" index --workspace "$WORK/ws" >/dev/null
    CRADLE_MODEL_DIR="${CRADLE_MODEL_DIR:-$(bash "$ROOT/scripts/model.sh")}" \
        "$CRADLE" enrich --workspace "$WORK/ws" --quiet >/dev/null
else
    say "copying $WS"
    cp -a "$WS" "$WORK/ws"
fi
rm -rf "$WORK/ws/image" "$WORK/ws/state"
# The workspace's own [enrich] section stays: validate checks the vectors
# against the model it names.
ENRICH_SECTION="$(awk '/^\[/{keep=($0=="[enrich]")} keep' "$WORK/ws/cradle.toml" 2>/dev/null || true)"
printf 'customer = "%s"\n[deploy]\nport = 9314\n%s\n' "$ID" "$ENRICH_SECTION" >"$WORK/ws/cradle.toml"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

say "validate"
t=$(now); "$CRADLE" validate --workspace "$WORK/ws" >"$WORK/validate.txt"; VALIDATE=$(since "$t")

say "build"
t=$(now); "$CRADLE" build --workspace "$WORK/ws" --out "$WORK/out" --tag "cradle-$ID:bench" --quiet >/dev/null; BUILD=$(since "$t")
read -r DIGEST SIZE DATA UNPACKED LAYERS < <(python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
print(r["digest"], r["size"], r["data_size"], r["uncompressed_size"], len(r["layers"]))' "$WORK/out/build.json")
t=$(now); "$CRADLE" build --workspace "$WORK/ws" --out "$WORK/again" --tag "cradle-$ID:bench" --quiet >/dev/null; REBUILD=$(since "$t")
AGAIN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$WORK/again/build.json")
SAME=$([[ "$AGAIN" == "$DIGEST" ]] && echo same || echo DIFFERENT)
rm -rf "$WORK/again"

say "docker load"
t=$(now); docker load -i "$WORK/out/image.tar" >/dev/null; LOAD=$(since "$t")

say "docker run to healthy, $RUNS times"
HEALTHY=()
for i in $(seq 1 "$RUNS"); do
    docker rm -f -v "$ID-run" >/dev/null 2>&1 || true
    t=$(now)
    docker run -d --name "$ID-run" -p "127.0.0.1:$PORT:9314" "cradle-$ID:bench" >/dev/null
    until [[ "$(docker inspect -f '{{.State.Health.Status}}' "$ID-run")" == healthy ]]; do sleep 0.02; done
    HEALTHY+=("$(since "$t")")
done
HEALTHY_MEDIAN=$(printf '%s\n' "${HEALTHY[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
# One health check: the image's own `cradle health`, CPU time per run.
HEALTH_CPU=$( { /usr/bin/time -f '%U %S' sh -c "for i in \$(seq 20); do '$CRADLE' health http://127.0.0.1:$PORT >/dev/null; done"; } 2>&1 | tail -1 | awk '{printf "%.1f", ($1+$2)*1000/20}')
docker rm -f -v "$ID-run" >/dev/null
docker image rm -f "cradle-$ID:bench" >/dev/null

say "deploy from scratch: validate -> build -> load -> up -> healthy -> key -> verify"
t=$(now)
"$CRADLE" deploy --workspace "$WORK/ws" --port "$PORT" --quiet >"$WORK/deploy.txt" 2>&1 || { cat "$WORK/deploy.txt"; exit 1; }
DEPLOY=$(since "$t")
VERIFIED=$(grep -E '^http://.* passed' "$WORK/deploy.txt" | head -1)

say "reference: the same files the Dockerfile way (classic builder, FROM scratch) and docker save | gzip"
CTX="$WORK/context"
mkdir -p "$CTX"
python3 - "$WORK/out/image.tar" "$CTX" <<'EOF'
# The image's own layers, unpacked into a build context: exactly its files.
import gzip, json, sys, tarfile
archive, ctx = sys.argv[1], sys.argv[2]
with tarfile.open(archive) as outer:
    manifest = json.load(outer.extractfile("manifest.json"))[0]
    for layer in manifest["Layers"]:
        with tarfile.open(fileobj=gzip.open(outer.extractfile(layer))) as inner:
            inner.extractall(ctx + "/root", filter="tar")
EOF
cat >"$CTX/Dockerfile" <<EOF
FROM scratch
COPY root/ /
USER 65532:65532
EXPOSE 9314
HEALTHCHECK --interval=1s CMD ["/usr/local/bin/cradle", "health", "http://127.0.0.1:9314"]
ENTRYPOINT ["/usr/local/bin/cradle", "serve", "--workspace", "/data", "--state", "/state", "--bind", "0.0.0.0"]
EOF
t=$(now); DOCKER_BUILDKIT=0 docker build -q -t "cradle-$ID-dockerfile:bench" "$CTX" >/dev/null; DOCKERFILE_BUILD=$(since "$t")
t=$(now); docker save "cradle-$ID-dockerfile:bench" | gzip -6 >"$WORK/dockerfile.tar.gz"; DOCKERFILE_SAVE=$(since "$t")
DOCKERFILE_SIZE=$(stat -c %s "$WORK/dockerfile.tar.gz")
DOCKERFILE_UNPACKED=$(docker image inspect -f '{{.Size}}' "cradle-$ID-dockerfile:bench")

BINARY=$(stat -c %s "$CRADLE")
{
    echo "image benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, Docker $(docker version -f '{{.Server.Version}}')"
    [[ -n "$NOTE" ]] && echo "note: $NOTE"
    echo "workspace: ${WS:-demo scale $SCALE}; $(grep -c '^ok' "$WORK/validate.txt") checks ok, $(grep -c '^warning' "$WORK/validate.txt" || true) warnings"
    echo "cradle: $("$CRADLE" --version), static executable $(mb "$BINARY") MB"
    printf '%-44s %12s   %s\n' "measure" "cradle" "reference / target"
    printf '%-44s %10.2f s\n' "validate" "$VALIDATE"
    printf '%-44s %10.2f s   %.2f s docker build + %.2f s docker save|gzip\n' "build (image.tar, $LAYERS layers)" "$BUILD" "$DOCKERFILE_BUILD" "$DOCKERFILE_SAVE"
    printf '%-44s %10.2f s   digest %s\n' "build again (unchanged workspace)" "$REBUILD" "$SAME"
    printf '%-44s %10.2f s\n' "docker load" "$LOAD"
    printf '%-44s %10s MB   data %s MB; target <= data + 50 MB = %s MB\n' "image size (unpacked)" "$(mb "$UNPACKED")" "$(mb "$DATA")" "$(mb $((DATA + 50000000)))"
    printf '%-44s %10s MB\n' "the same files built by a Dockerfile" "$(mb "$DOCKERFILE_UNPACKED")"
    printf '%-44s %10s MB   Dockerfile image saved and gzipped %s MB\n' "compressed archive (image.tar)" "$(mb "$SIZE")" "$(mb "$DOCKERFILE_SIZE")"
    printf '%-44s %10.2f s   median of %s (%s); target < 2 s, old image up to 120 s\n' "docker run to healthy" "$HEALTHY_MEDIAN" "$RUNS" "$(printf '%.2f ' "${HEALTHY[@]}")"
    printf '%-44s %10s ms\n' "one health check (cradle health), CPU, mean of 20" "$HEALTH_CPU"
    printf '%-44s %10.1f s   target < 120 s, old process 9 h\n' "validate -> build -> deploy -> verify" "$DEPLOY"
    echo "verify: $VERIFIED"
    echo "deploy phases:"
    grep -E '^  (engine|validate|build|load|up|healthy|api key|verify) ' "$WORK/deploy.txt"
} | out
echo "written to $RESULT" >&2
