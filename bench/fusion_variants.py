"""Hybrid ranking variants tried offline: asks a running `cradle serve` for
the keyword and the vector ranking of every labelled query once, then
fuses them in Python under several rules and prints recall@10 and MRR of
each next to the server's own hybrid answer, so a fusion rule can be
judged before it goes into `cradle-query/src/vectors.rs`.

    python bench/fusion_variants.py URL API_KEY QUERIES.json

Standard library only. The first variant, `server rule`, re-implements
the server's rule and must agree with `server hybrid` (a check that the
simulation is faithful); the rest change one thing each.
"""

import json
import statistics
import sys
import urllib.parse
import urllib.request

K = 10
RRF_K = 60.0
DEPTH = 100


def search(url, key, query, mode, limit):
    path = "/api/search?" + urllib.parse.urlencode({"q": query, "mode": mode, "limit": limit})
    request = urllib.request.Request(url + path, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["hits"]


def has_digit(query):
    return any(c.isdigit() for c in query)


def fuse(keyword, vector, weight, pin_names=True):
    """keyword, vector: lists of (article, matched) best first."""
    pinned = keyword[0][0] if keyword and {"article_no", "gtin"} & set(keyword[0][1]) else None
    score, order, names = {}, {}, set()
    for rank, (article, matched) in enumerate(keyword[:DEPTH]):
        score[article] = 1.0 / (RRF_K + rank + 1)
        order[article] = rank
        if pin_names and "exact name" in matched:
            names.add(article)
    for rank, (article, _) in enumerate(vector[:DEPTH]):
        score[article] = score.get(article, 0.0) + weight / (RRF_K + rank + 1)
        order.setdefault(article, 10**9)

    def key(article):
        pin = 2 if article == pinned else 1 if article in names else 0
        return (-pin, -score[article], order[article])
    return sorted(score, key=key)


def measure(ranked, expected):
    hits = ranked[:K]
    found = len(expected & set(hits))
    recall = found / min(K, len(expected))
    rank = next((i + 1 for i, a in enumerate(hits) if a in expected), None)
    return recall, (1 / rank if rank else 0.0)


def main():
    url, key, queries_path = sys.argv[1:4]
    queries = json.load(open(queries_path, encoding="utf-8"))["queries"]
    rows = []
    for q in queries:
        keyword = [(h["article_no"], h.get("matched", [])) for h in search(url, key, q["q"], "keyword", DEPTH)]
        vector = [(h["article_no"], h.get("matched", [])) for h in search(url, key, q["q"], "vector", DEPTH)]
        hybrid = [h["article_no"] for h in search(url, key, q["q"], "hybrid", K)]
        rows.append((q, keyword, vector, hybrid))

    server_weight = lambda q: 0.5 if has_digit(q) else 1.0
    variants = {
        "server hybrid": lambda q, kw, vec, hy: hy,
        "keyword only": lambda q, kw, vec, hy: [a for a, _ in kw],
        "server rule": lambda q, kw, vec, hy: fuse(kw, vec, server_weight(q)),
        "no name pin": lambda q, kw, vec, hy: fuse(kw, vec, server_weight(q), pin_names=False),
        "vector x0.5, digits x0.25": lambda q, kw, vec, hy: fuse(kw, vec, server_weight(q) / 2),
        "vector x0.75, digits x0.375": lambda q, kw, vec, hy: fuse(kw, vec, server_weight(q) * 0.75),
        "digits x0 (keyword order)": lambda q, kw, vec, hy: fuse(kw, vec, 0.0 if has_digit(q) else 1.0),
        "vector 1.0 always": lambda q, kw, vec, hy: fuse(kw, vec, 1.0),
    }
    types = sorted({q["type"] for q in queries})
    print(f"{'variant':<30}{'R@10':>7}{'MRR':>7}   " + "  ".join(f"{t[:12]:>12}" for t in types))
    for name, rule in variants.items():
        scores = [(q["type"],) + measure(rule(q["q"], kw, vec, hy), set(q["expected"]))
                  for q, kw, vec, hy in rows]
        per_type = "  ".join(
            f"{statistics.mean(s[2] for s in scores if s[0] == t):>12.3f}" for t in types)
        print(f"{name:<30}{statistics.mean(s[1] for s in scores):>7.3f}"
              f"{statistics.mean(s[2] for s in scores):>7.3f}   {per_type}")
    print("(per type: MRR)")


if __name__ == "__main__":
    main()
