"""LanceDB, the old stack's vector store, on the vectors and queries that
`vector_bench` (crates/cradle-vector/examples/vector_bench.rs) wrote: build
time, size on disk, recall@k against the same exact answers, and
single-threaded query latency, for its default ANN index (IVF_PQ), that
index with exact re-ranking (refine_factor), and a brute-force scan.

    python bench/vector_lancedb.py DIR --dimension D [--k K] [--brute-queries B]

DIR holds base.f32, queries.f32 (little-endian f32) and truth.u32 (the
exact answers, K rows per query, best first). Prints `name: value` lines.
"""

import argparse
import os

# lance logs a deprecation warning per query otherwise.
os.environ.setdefault("LANCE_LOG", "error")

import shutil
import tempfile
import time

import numpy as np
import pyarrow as pa
import lancedb
from lancedb.index import IvfPq


def size_of(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def percentile(sorted_ms, share):
    index = round((len(sorted_ms) - 1) * share)
    return sorted_ms[min(index, len(sorted_ms) - 1)]


def measure(table, queries, truth, k, configure, warm=True):
    """Recall@k and latencies (ms) of one search configuration."""

    def one(query):
        builder = table.search(query).distance_type("cosine").limit(k).select(["id"])
        builder = configure(builder)
        return builder.to_arrow().column("id").to_numpy()

    if warm:
        for query in queries:
            one(query)
    found = 0
    times = []
    for query, exact in zip(queries, truth):
        started = time.perf_counter()
        ids = one(query)
        times.append((time.perf_counter() - started) * 1e3)
        found += len(set(ids.tolist()) & set(exact.tolist()))
    times.sort()
    recall = found / (k * len(queries))
    return recall, times


def report(name, recall, times, k):
    mean = sum(times) / len(times)
    print(
        f"lancedb[{name}]: recall@{k}={recall:.4f} p50_ms={percentile(times, 0.5):.3f} "
        f"p99_ms={percentile(times, 0.99):.3f} mean_ms={mean:.3f} ({len(times)} queries)",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--dimension", type=int, required=True)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--brute-queries", type=int, default=50)
    args = parser.parse_args()
    d, k = args.dimension, args.k

    base = np.fromfile(os.path.join(args.dir, "base.f32"), dtype="<f4").reshape(-1, d)
    queries = np.fromfile(os.path.join(args.dir, "queries.f32"), dtype="<f4").reshape(-1, d)
    truth = np.fromfile(os.path.join(args.dir, "truth.u32"), dtype="<u4").reshape(-1, k)
    n = base.shape[0]
    print(f"lancedb_version: {lancedb.__version__}")
    print(f"lancedb_vectors: {n}")

    folder = tempfile.mkdtemp(prefix="lancedb-bench-")
    try:
        db = lancedb.connect(folder)
        data = pa.table(
            {
                "id": pa.array(np.arange(n, dtype=np.uint32)),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(base.ravel()), d),
            }
        )
        started = time.perf_counter()
        table = db.create_table("vectors", data=data)
        write_seconds = time.perf_counter() - started
        print(f"lancedb_write_seconds: {write_seconds:.2f}")
        print(f"lancedb_table_bytes: {size_of(folder)}")

        # Brute force (no index yet): a scan of every vector per query.
        brute = min(args.brute_queries, len(queries))
        recall, times = measure(
            table, queries[:brute], truth[:brute], k, lambda b: b, warm=False
        )
        report("brute force", recall, times, k)

        started = time.perf_counter()
        # The default ANN index (IVF_PQ, default partitions and sub-vectors).
        table.create_index("vector", config=IvfPq(distance_type="cosine"))
        index_seconds = time.perf_counter() - started
        total = size_of(folder)
        print(f"lancedb_index_seconds: {index_seconds:.2f}")
        print(f"lancedb_build_seconds: {write_seconds + index_seconds:.2f} (write + index)")
        print(f"lancedb_bytes: {total} ({total / 1e6:.1f} MB, table and index)")

        recall, times = measure(table, queries, truth, k, lambda b: b)
        report("IVF_PQ default", recall, times, k)
        recall, times = measure(table, queries, truth, k, lambda b: b.refine_factor(10))
        report("IVF_PQ refine_factor=10", recall, times, k)
        recall, times = measure(
            table, queries, truth, k, lambda b: b.nprobes(50).refine_factor(50)
        )
        report("IVF_PQ nprobes=50 refine_factor=50", recall, times, k)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
