"""Reference vectors for crates/cradle-embed/tests/parity.rs, made with
sentence-transformers (PyTorch, CPU) the way bench/embed_reference.py
makes them (normalised, batches of 32). Run by bench/parity-reference.sh.

    python parity_reference.py MODEL_DIR TEXTS.json OUT_PREFIX \
        --name NAME --source TEXT [--count N]

Embeds the first N texts of TEXTS.json (all by default) and writes
OUT_PREFIX.f32 (little-endian f32, one row of the model's dimension per
text) and OUT_PREFIX.json: the texts, the model's name and source, the
sha256 of every file of the model folder, the package versions and the
settings, so the test can tell exactly which files and which reference
the vectors belong to.
"""
import argparse
import hashlib
import json
import os
import platform
import sys
from importlib import metadata

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("texts")
parser.add_argument("out")
parser.add_argument("--name", required=True)
parser.add_argument("--source", required=True)
parser.add_argument("--count", type=int)
args = parser.parse_args()


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


with open(args.texts, encoding="utf-8") as f:
    texts = json.load(f)
if args.count is not None:
    texts = texts[: args.count]

files = {}
for root, _, names in os.walk(args.model):
    for name in names:
        path = os.path.join(root, name)
        files[os.path.relpath(path, args.model)] = sha256(path)

torch.set_num_threads(1)
model = SentenceTransformer(args.model, device="cpu")
batch_size = 32
with torch.inference_mode():
    vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True)
vectors = np.asarray(vectors, dtype="<f4")
vectors.tofile(args.out + ".f32")

packages = {
    name: metadata.version(name)
    for name in ["sentence-transformers", "transformers", "tokenizers", "torch", "safetensors", "numpy"]
}
packages["python"] = platform.python_version()
manifest = {
    "model": args.name,
    "source": args.source,
    "files": dict(sorted(files.items())),
    "made_with": packages,
    "settings": {
        "device": "cpu",
        "batch_size": batch_size,
        "normalize_embeddings": True,
        "max_seq_length": model.max_seq_length,
    },
    "command": "bash bench/parity-reference.sh",
    "dimension": int(vectors.shape[1]),
    "vectors": os.path.basename(args.out) + ".f32",
    "vectors_sha256": sha256(args.out + ".f32"),
    "texts": texts,
}
with open(args.out + ".json", "w", encoding="utf-8") as f:
    json.dump(manifest, f, ensure_ascii=False, indent=1)
    f.write("\n")
print(f"{args.name}: {len(texts)} texts x {vectors.shape[1]} -> {args.out}.f32", file=sys.stderr)
