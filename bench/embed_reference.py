"""sentence-transformers (PyTorch, CPU) side of bench/embed.sh.

    python embed_reference.py MODEL_DIR SENTENCES.txt VECTORS.f32 \
        --batch 32 --max-length 256 --threads 2 --runs 3

Encodes all sentences `--runs` times, prints one JSON line with the
sentences per second of each run and the peak RSS, and writes the last
run's vectors as little-endian f32 (rows of the model's dimension).
"""
import argparse
import json
import resource
import time

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("sentences")
parser.add_argument("vectors")
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--max-length", type=int, default=256)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--runs", type=int, default=3)
args = parser.parse_args()

torch.set_num_threads(args.threads)
with open(args.sentences, encoding="utf-8") as f:
    sentences = [line.rstrip("\n") for line in f]
model = SentenceTransformer(args.model, device="cpu")
model.max_seq_length = args.max_length
rates = []
for _ in range(args.runs):
    start = time.perf_counter()
    with torch.inference_mode():
        vectors = model.encode(sentences, batch_size=args.batch, normalize_embeddings=True)
    rates.append(len(sentences) / (time.perf_counter() - start))
np.asarray(vectors, dtype="<f4").tofile(args.vectors)
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"tool": "sentence-transformers", "rates": rates, "peak_rss_mib": peak_kib / 1024,
                  "torch": torch.__version__, "threads": torch.get_num_threads()}))
