"""Reference embeddings from sentence-transformers, for the parity test.

Reads {"model": dir, "texts": [...]} as JSON on stdin and writes the
normalised vectors as a JSON list of lists on stdout.
"""
import json
import sys

from sentence_transformers import SentenceTransformer

request = json.load(sys.stdin)
model = SentenceTransformer(request["model"], device="cpu")
vectors = model.encode(request["texts"], batch_size=32, normalize_embeddings=True)
json.dump([[float(x) for x in v] for v in vectors], sys.stdout)
