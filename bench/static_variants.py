"""Variants of a static model made by `cradle model distill`, for trying
ideas before they go into the distiller: more or fewer principal
directions taken out, and token weights from a catalogue's own document
frequencies instead of the vocabulary's order.

    python bench/static_variants.py STATIC_DIR OUT_DIR [--remove N]
        [--weights rank|idf --texts TEXTS.json]

TEXTS.json is a JSON list of the texts enrich embeds (the `text` of the
`chunks` table where `embedded` is true). Needs numpy and tokenizers
(pip install numpy tokenizers). Score the result with
`bash bench/enrich.sh --model REFERENCE_DIR --model OUT_DIR`.

The distiller's table is `(vector - mean) * rank_weight`; this undoes the
weight, applies the variant and writes a model2vec directory.
"""

import argparse
import json
import os
import shutil
import struct

import numpy as np

SMOOTHING = 1e-4  # the distiller's RARITY_SMOOTHING


def load(path):
    data = open(path, "rb").read()
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    entry = header["embeddings"]
    start, end = entry["data_offsets"]
    return np.frombuffer(data[8 + size + start:8 + size + end], dtype=np.float32) \
        .reshape(entry["shape"]).copy()


def save(path, table):
    table = np.ascontiguousarray(table, dtype=np.float32)
    header = json.dumps({"embeddings": {"dtype": "F32", "shape": list(table.shape),
                                        "data_offsets": [0, table.nbytes]}}).encode()
    header += b" " * ((8 - len(header) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        f.write(table.tobytes())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("static_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--remove", type=int, default=0,
                        help="principal directions to take out (beyond the distiller's)")
    parser.add_argument("--weights", choices=["rank", "idf"], default="rank")
    parser.add_argument("--texts")
    args = parser.parse_args()

    table = load(os.path.join(args.static_dir, "model.safetensors"))
    vocabulary = table.shape[0]
    rank = np.arange(vocabulary, dtype=np.float64)
    probability = 1.0 / (rank + 2.0)
    probability /= probability.sum()
    rank_weight = SMOOTHING / (SMOOTHING + probability)
    centred = table / rank_weight[:, None]
    if args.remove:
        _, _, directions = np.linalg.svd(centred, full_matrices=False)
        top = directions[:args.remove]
        centred = centred - (centred @ top.T) @ top
    if args.weights == "rank":
        weight = rank_weight
    else:
        from tokenizers import Tokenizer
        tokenizer = Tokenizer.from_file(os.path.join(args.static_dir, "tokenizer.json"))
        texts = json.load(open(args.texts, encoding="utf-8"))
        frequency = np.zeros(vocabulary)
        for encoding in tokenizer.encode_batch(texts, add_special_tokens=False):
            for token in set(encoding.ids):
                frequency[token] += 1
        weight = np.log((len(texts) + 1) / (frequency + 1)) + 1
    os.makedirs(args.out_dir, exist_ok=True)
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(os.path.join(args.static_dir, name), args.out_dir)
    save(os.path.join(args.out_dir, "model.safetensors"), centred * weight[:, None])
    print(f"wrote {args.out_dir}: {vocabulary} x {table.shape[1]}, weights {args.weights}, "
          f"{args.remove} more directions removed")


if __name__ == "__main__":
    main()
