#!/usr/bin/env bash
# The Python side of bench/vector.sh and bench/serve.sh: LanceDB (the old
# stack's vector store) and deltalake (to export the embeddings table), in
# ~/.cache/cradle/venv-bench (or $CRADLE_VECTOR_VENV). Every package is
# pinned; the venv is brought up to date when this list changes. Prints the
# venv's python on stdout.
set -euo pipefail

PINS="lancedb==0.40.0 numpy==2.4.6 pyarrow==26.0.1 deltalake==1.6.6"
venv="${CRADLE_VECTOR_VENV:-$HOME/.cache/cradle/venv-bench}"
stamp="$venv/.cradle-vector-pins"
if [[ ! -x "$venv/bin/python" ]] || [[ "$(cat "$stamp" 2>/dev/null)" != "$PINS" ]]; then
    echo "setting up the Python venv $venv ($PINS)" >&2
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $PINS >&2
    echo "$PINS" > "$stamp"
fi
echo "$venv/bin/python"
