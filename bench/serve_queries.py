"""The labelled query set of bench/serve.sh, built from a workspace's
lakehouse tables with a fixed seed, and the export of its embeddings.

    python bench/serve_queries.py WS OUT_DIR [--seed 42] [--per-type 25]

Reads `<WS>/lakehouse/products`, `attributes` and `embeddings` (Delta, with
the `deltalake` package) and writes to OUT_DIR:

- `queries.json`: `{"meta": {...}, "queries": [{"id", "type", "q",
  "expected": [article_no, ...]}]}`. Types:
  - `article_no`, `gtin`: an exact article number or GTIN; expected: that
    product;
  - `name_de`, `name_en`: a product's German or English name; expected:
    every product with exactly that name (case-insensitive);
  - `typo_de`, `typo_en`: the same with one letter dropped or two
    neighbouring letters swapped in one word of five letters or more;
  - `technical_de`, `technical_en`: family word, colour temperature and
    protection (`Downlight 3000 K IP44`, `pendant light 4000K dimmable`);
    expected: every product of that family whose attributes have that
    colour temperature (`Farbtemperatur` or ETIM `EF009345`, in K) and that
    IP rating (`IP-Schutzart`) or are dimmable (`Dimmbar` = yes).
- `vectors.f32` (little-endian f32 rows), `vectors.keys` (`article#chunk`,
  one per line): the `embeddings` table, for LanceDB and `vector_bench`.
- `queries.txt`: the query texts, one per line, to embed.
"""

import argparse
import collections
import json
import os
import random
import re

import numpy as np
from deltalake import DeltaTable

# Family -> (German query word, English query word). Families not listed
# (modules, control gear, accessories, tracks) get no technical queries.
FAMILY_WORDS = {
    "Downlights": ("Downlight", "downlight"),
    "Strahler": ("Strahler", "spotlight"),
    "Wand- und Deckenleuchten": ("Wandleuchte", "wall light"),
    "Pendelleuchten": ("Pendelleuchte", "pendant light"),
    "Lichtbandsysteme": ("Lichtband", "light line"),
    "Außenleuchten": ("Außenleuchte", "outdoor light"),
    "Notleuchten": ("Notleuchte", "emergency light"),
}
TEMPERATURE_ATTRIBUTES = ("Farbtemperatur", "EF009345")


def typo(text, rng):
    """`text` with one letter dropped or two neighbours swapped in one long
    word; None when no word is long enough."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return None
    i = rng.choice(candidates)
    word = words[i]
    at = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5:
        changed = word[:at] + word[at + 1 :]
    else:
        changed = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
    if changed == word:
        changed = word[:at] + word[at + 1 :]
    words[i] = changed
    return " ".join(words)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace")
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--per-type", type=int, default=25)
    args = parser.parse_args()
    lake = os.path.join(args.workspace, "lakehouse")
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)

    products = (
        DeltaTable(os.path.join(lake, "products"))
        .to_pyarrow_table(columns=["article_no", "gtin", "name_de", "name_en", "family"])
        .to_pylist()
    )
    products.sort(key=lambda p: p["article_no"])
    attributes = DeltaTable(os.path.join(lake, "attributes")).to_pyarrow_table(
        columns=["article_no", "attribute", "original", "value_number", "value_bool"]
    )
    temperature = collections.defaultdict(set)
    protection = collections.defaultdict(set)
    dimmable = set()
    for row in attributes.to_pylist():
        name = row["attribute"]
        if name in TEMPERATURE_ATTRIBUTES and row["value_number"] is not None:
            temperature[row["article_no"]].add(int(round(row["value_number"])))
        elif name == "IP-Schutzart" and row["original"]:
            match = re.search(r"IP\s*(\d\d)", row["original"], re.IGNORECASE)
            if match:
                protection[row["article_no"]].add(f"IP{match.group(1)}")
        elif name == "Dimmbar" and row["value_bool"]:
            dimmable.add(row["article_no"])

    by_name = {"de": collections.defaultdict(list), "en": collections.defaultdict(list)}
    for p in products:
        for lang in ("de", "en"):
            if p[f"name_{lang}"]:
                by_name[lang][p[f"name_{lang}"].strip().lower()].append(p["article_no"])

    queries = []

    def add(kind, text, expected):
        queries.append(
            {"id": f"{kind}-{len([q for q in queries if q['type'] == kind]) + 1}",
             "type": kind, "q": text, "expected": sorted(expected)}
        )

    n = args.per_type
    for p in rng.sample(products, n):
        add("article_no", p["article_no"], [p["article_no"]])
    with_gtin = [p for p in products if p["gtin"]]
    for p in rng.sample(with_gtin, min(n, len(with_gtin))):
        add("gtin", p["gtin"], [p["article_no"]])
    for lang in ("de", "en"):
        named = [p for p in products if p[f"name_{lang}"]]
        for p in rng.sample(named, min(n, len(named))):
            name = p[f"name_{lang}"].strip()
            add(f"name_{lang}", name, by_name[lang][name.lower()])
        typos = 0
        for p in rng.sample(named, len(named)):
            if typos == n:
                break
            name = p[f"name_{lang}"].strip()
            changed = typo(name, rng)
            if changed:
                add(f"typo_{lang}", changed, by_name[lang][name.lower()])
                typos += 1

    # Technical queries: every (family, temperature, IP) and (family,
    # temperature, dimmable) combination the data has, a sample of them.
    combos = collections.defaultdict(set)
    for p in products:
        family, article = p["family"], p["article_no"]
        if family not in FAMILY_WORDS:
            continue
        for kelvin in temperature.get(article, ()):
            for ip in protection.get(article, ()):
                combos[(family, kelvin, ip)].add(article)
            if article in dimmable:
                combos[(family, kelvin, "dimmable")].add(article)
    keys = sorted(combos, key=lambda k: (k[0], k[1], k[2]))
    for family, kelvin, extra in rng.sample(keys, min(n, len(keys))):
        de, en = FAMILY_WORDS[family]
        expected = combos[(family, kelvin, extra)]
        if extra == "dimmable":
            add("technical_de", f"{de} {kelvin} K dimmbar", expected)
        else:
            add("technical_de", f"{de} {kelvin}K {extra}", expected)
    for family, kelvin, extra in rng.sample(keys, min(n, len(keys))):
        de, en = FAMILY_WORDS[family]
        expected = combos[(family, kelvin, extra)]
        if extra == "dimmable":
            add("technical_en", f"{en} {kelvin}K dimmable", expected)
        else:
            add("technical_en", f"{en} {kelvin} K {extra}", expected)

    meta = {
        "workspace": os.path.abspath(args.workspace),
        "seed": args.seed,
        "per_type": n,
        "products": len(products),
        "queries": len(queries),
        "generator": "bench/serve_queries.py",
    }
    with open(os.path.join(args.out, "queries.json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "queries": queries}, f, ensure_ascii=False, indent=1)
    with open(os.path.join(args.out, "queries.txt"), "w", encoding="utf-8") as f:
        for q in queries:
            f.write(q["q"].replace("\n", " ") + "\n")

    embeddings = DeltaTable(os.path.join(lake, "embeddings")).to_pyarrow_table(
        columns=["article_no", "chunk_id", "vector"]
    )
    flat = embeddings.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    vectors = np.asarray(flat, dtype="<f4").reshape(embeddings.num_rows, -1)
    vectors.tofile(os.path.join(args.out, "vectors.f32"))
    with open(os.path.join(args.out, "vectors.keys"), "w", encoding="utf-8") as f:
        for a, c in zip(embeddings.column("article_no").to_pylist(),
                        embeddings.column("chunk_id").to_pylist()):
            f.write(f"{a}#{c}\n")
    counts = collections.Counter(q["type"] for q in queries)
    print(f"queries: {len(queries)} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}), "
          f"seed {args.seed}, from {len(products)} products")
    print(f"vectors: {vectors.shape[0]} x {vectors.shape[1]} exported from the embeddings table")


if __name__ == "__main__":
    main()
