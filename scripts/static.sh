#!/usr/bin/env bash
# Builds the statically linked cradle that images carry and prints its path.
#
# An image is FROM scratch: no C library. glibc cannot be linked statically
# for this (its DNS resolver loads NSS modules at run time, so a compose
# service name would not resolve); musl can, and its resolver reads
# /etc/resolv.conf itself. Installs what the build needs: the Rust musl
# target and musl-tools (musl-gcc, for the C in mimalloc, SQLite and ring).
#
#   bash scripts/static.sh              # release build
#   CRADLE_STATIC_PROFILE=dev bash scripts/static.sh   # faster to build (tests)
#
# Then: cradle build --workspace WS --out DIR --binary "$(bash scripts/static.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."

case "$(uname -m)" in
  x86_64) target=x86_64-unknown-linux-musl ;;
  aarch64) target=aarch64-unknown-linux-musl ;;
  *) echo "error: no static build for $(uname -m)" >&2; exit 1 ;;
esac
profile="${CRADLE_STATIC_PROFILE:-release}"

if ! rustup target list --installed | grep -qx "$target"; then
  echo "installing the Rust target $target" >&2
  rustup target add "$target" >&2
fi
if ! command -v musl-gcc >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing musl-tools" >&2
    (export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq musl-tools >&2 || { apt-get update -qq >&2 && apt-get install -y -qq musl-tools >&2; })
  else
    echo "error: musl-gcc is missing; install musl-tools (apt-get install musl-tools)" >&2
    exit 1
  fi
fi

cargo build --quiet --locked --profile "$profile" --target "$target" -p cradle >&2
case "$profile" in
  dev) dir=debug ;;
  *) dir="$profile" ;;
esac
binary="${CARGO_TARGET_DIR:-$PWD/target}/$target/$dir/cradle"
if [ ! -x "$binary" ]; then
  echo "error: the build did not leave $binary" >&2
  exit 1
fi
realpath "$binary"
