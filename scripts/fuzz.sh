#!/usr/bin/env bash
# Fuzzes cradle-ingest with cargo-fuzz (libFuzzer) on stable Rust.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 60; without TARGETs every target in
# fuzz/Cargo.toml runs, one after the other. Corpora grow in
# fuzz/corpus/<target> (seeded from fuzz/seeds/<target>), crashes land in
# fuzz/artifacts/<target>. Exits 1 when this run produced a crash, OOM or
# timeout artifact, and says how to reproduce it. fuzz/dict/<target>.dict, if
# there is one, is passed to libFuzzer as its dictionary.
#
# Environment:
#   CARGO_TARGET_DIR  build directory (default ~/.cache/cradle-fuzz-target)
#   FUZZ_SANITIZER    none (default: the code under test is safe Rust, and
#                     without ASan it runs ~4x faster) or address
#   FUZZ_JOBS         parallel libFuzzer jobs per target (default 1)
#   FUZZ_ARGS         extra libFuzzer flags, e.g. "-dict=... -max_len=65536"
set -uo pipefail

cd "$(dirname "$0")/../fuzz" || exit 2
FUZZ_DIR=$(pwd)
SECONDS_PER_TARGET=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cradle-fuzz-target}
SANITIZER=${FUZZ_SANITIZER:-none}
# Release speed; debug assertions and overflow checks come from
# [profile.release] in fuzz/Cargo.toml (an integer overflow is a finding).
BUILD_FLAGS=(-O --sanitizer "$SANITIZER")
JOBS=${FUZZ_JOBS:-1}

if ! [[ $SECONDS_PER_TARGET =~ ^[0-9]+$ ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> cargo-fuzz is missing; installing it from crates.io: cargo install cargo-fuzz --locked"
    cargo install cargo-fuzz --locked || exit 2
fi

# cargo-fuzz passes -Z flags (sanitizers, coverage instrumentation) to rustc.
# Stable rustc accepts them with RUSTC_BOOTSTRAP=1; a nightly needs nothing.
if ! rustc --version | grep -q nightly; then
    echo "==> stable $(rustc --version | cut -d' ' -f2): setting RUSTC_BOOTSTRAP=1 so rustc takes cargo-fuzz's -Z flags"
    export RUSTC_BOOTSTRAP=1
fi

if (( $# > 0 )); then
    TARGETS=("$@")
else
    mapfile -t TARGETS < <(cargo fuzz list)
fi

echo "==> building ${TARGETS[*]} (${BUILD_FLAGS[*]}) into $CARGO_TARGET_DIR"
cargo fuzz build "${BUILD_FLAGS[@]}" || exit 2

status=0
summary=()
for target in "${TARGETS[@]}"; do
    corpus="$FUZZ_DIR/corpus/$target"
    artifacts="$FUZZ_DIR/artifacts/$target"
    mkdir -p "$corpus" "$artifacts"
    if [[ -d "$FUZZ_DIR/seeds/$target" ]]; then
        cp -n "$FUZZ_DIR/seeds/$target"/* "$corpus"/ 2>/dev/null
    fi
    before=$(ls "$artifacts")
    log="$FUZZ_DIR/artifacts/$target.log"
    echo "==> $target for ${SECONDS_PER_TARGET}s (corpus: $(ls "$corpus" | wc -l) files, log: $log)"
    # -timeout: one input taking longer than 30 s is a finding.
    # -rss_limit_mb: ingest allocates ~20 MB of batch builders per file; a
    #  workbook that makes calamine allocate gigabytes is a finding too.
    dict=()
    if [[ -f "$FUZZ_DIR/dict/$target.dict" ]]; then
        dict=(-dict="$FUZZ_DIR/dict/$target.dict")
    fi
    # shellcheck disable=SC2086
    cargo fuzz run "${BUILD_FLAGS[@]}" --jobs "$JOBS" "$target" "$corpus" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=30 -rss_limit_mb=2560 \
        -print_final_stats=1 "${dict[@]}" ${FUZZ_ARGS:-} >"$log" 2>&1
    code=$?
    stats=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1)
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    speed=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
    cov=$(sed -nE 's/.* cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+)\/.*/cov \1, features \2, corpus \3/p' <<<"$stats")
    summary+=("$target: ${execs:-?} runs, ${speed:-?} exec/s, ${cov:-no stats}")
    new=$(comm -13 <(sort <<<"$before") <(ls "$artifacts" | sort) | sed '/^$/d')
    if [[ -n $new ]]; then
        status=1
        echo "!!! $target produced artifacts:"
        while read -r file; do
            echo "    $artifacts/$file"
            cp "$log" "$artifacts/$file.log"
        done <<<"$new"
        grep -E -m1 -A3 "panicked at|ERROR: (AddressSanitizer|libFuzzer)" "$log" | sed 's/^/    /'
        echo "    reproduce: (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run ${BUILD_FLAGS[*]} $target artifacts/$target/<file>)"
        echo "    minimize:  (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz tmin ${BUILD_FLAGS[*]} $target artifacts/$target/<file>)"
        echo "    log with the backtrace: $artifacts/<file>.log"
    elif (( code != 0 )); then
        status=1
        echo "!!! $target: cargo fuzz exited with $code without an artifact; see $log"
        tail -20 "$log" | sed 's/^/    /'
    fi
done

echo "==> summary"
printf '    %s\n' "${summary[@]}"
exit $status
