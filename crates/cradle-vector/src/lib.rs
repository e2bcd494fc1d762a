//! Approximate nearest-neighbour search over the enrich stage's embeddings,
//! from one file that the server memory-maps at startup without
//! rebuilding anything.
//!
//! Build once with [`build`] (or [`VectorIndexBuilder`]), open with
//! [`VectorIndex::open`], query with [`VectorIndex::search`] (cosine, best
//! first). Rows are the positions in the build input; [`VectorIndex::key`]
//! gives back the key stored with each (`<article_no>#<chunk_id>`).
//!
//! ```no_run
//! # use cradle_vector::{build, BuildParams, VectorIndex};
//! # fn main() -> Result<(), cradle_vector::VectorError> {
//! # let (keys, vectors, path) = (vec![String::from("A1#0")], vec![1.0f32, 0.0], std::path::Path::new("v.idx"));
//! build(path, 2, &keys, &vectors, r#"{"model":"m"}"#, &BuildParams::default())?;
//! let index = VectorIndex::open(path)?; // cheap: maps, validates the tables
//! for hit in index.search(&[0.6, 0.8], 10)? {
//!     println!("{} {:.3}", index.key(hit.row), hit.score);
//! }
//! # Ok(()) }
//! ```
//!
//! `VectorIndex` is `Send + Sync`; share it in an `Arc` and call `search`
//! from blocking threads. [`VectorIndex::search_many`] runs a batch on the
//! rayon pool; [`VectorIndex::search_filtered`] takes a row predicate;
//! [`VectorIndex::vector`] returns a stored vector (to search for a row's
//! neighbours); [`VectorIndex::search_with`] overrides the probes and the
//! re-ranking depth per query.
//!
//! # The algorithm: IVF with int8 codes and exact re-ranking
//!
//! The vectors are clustered into `L ≈ 2·√n` lists with spherical k-means;
//! a query scores the `L` centroids, scans the int8 codes of the best
//! `probes` lists (1/16 of them by default, at least 8) and re-ranks the best 100
//! candidates with the exact f32 vectors. The file holds the centroids,
//! the codes and the f32 vectors in list order, the keys and the model
//! description (see `format.rs`).
//!
//! Why this and not HNSW:
//! - **Build time on 2 cores.** k-means on a 64-per-list sample plus one
//!   assignment pass is a few dense, blocked passes over the data (27 s for
//!   300k × 384 on a loaded 2-core machine); HNSW inserts every vector with
//!   thousands of random-access distance computations (M = 16,
//!   ef_construction = 100: ~10^9 dot products for 300k), which is minutes
//!   on two cores, and its graph is sequential in spirit.
//! - **Determinism.** The same inputs give the same bytes; a parallel HNSW
//!   build depends on thread timing.
//! - **Memory-mapped serving.** The lists are contiguous ranges, so a query
//!   reads a few megabytes sequentially plus ~100 random vectors; nothing
//!   is loaded or rebuilt at open (open validates the small tables only).
//! - **Filters** are cheap: a rejected row is skipped during the scan, and
//!   more lists are probed until `k` rows pass.
//! - **Recall is tunable per query** (`probes`, `rerank`) without a
//!   rebuild, and the re-ranking makes the scores exact cosines.
//!
//! The cost: the f32 vectors are kept for re-ranking and exact search, so
//! the file is about `n·d·5` bytes (1.25x the raw f32 vectors).
//!
//! # Measured
//!
//! `bench/vector.sh` (results in `bench/results/vector-*.txt`), on the
//! 2-core development machine while other builds ran (load average 6 to
//! 10, so latencies include preemption; p99 most of all). Queries are 1,000
//! held-out vectors moved a little; recall@10 is against exact search on
//! the same file; latency is a single-threaded loop after a warm-up pass.
//!
//! 300,000 × 384 clustered synthetic unit vectors (2,000 clusters of
//! skewed sizes and spreads), 1,095 lists:
//!
//! | | build | size | recall@10 | p50 | p99 |
//! |---|---|---|---|---|---|
//! | cradle, default (69 lists, re-rank 100) | 27 s | 585 MB | 0.994 | 1.08 ms | 6.2 ms |
//! | cradle, 35 lists | | | 0.991 | 0.57 ms | 4.8 ms |
//! | cradle, exact scan (1 thread) | | | 1 | 50 ms | |
//! | LanceDB 0.40 IVF_PQ (its default index) | 112 s | 470 MB | 0.22 | 9.6 ms | 18 ms |
//! | LanceDB IVF_PQ, refine_factor 10 | | | 0.82 | 6.7 ms | 19 ms |
//! | LanceDB IVF_PQ, nprobes 50, refine 50 | | | 0.98 | 12.4 ms | 28 ms |
//! | LanceDB brute force | | | 1 | 824 ms | |
//!
//! 40,000 real all-MiniLM-L6-v2 embeddings of demo product texts (DE and
//! EN, many near-duplicates): cradle 5 s build, recall 1.000, p50 0.09 ms;
//! LanceDB IVF_PQ recall 0.25 at p50 4.0 ms, 0.96 at 5.1 ms with
//! refine_factor 10.
//!
//! 100,000 × 1024 synthetic (the multilingual-e5-large dimension): 29 s
//! build, 517 MB, recall 1.000, p50 1.04 ms.
//!
//! Both data sets are easier than free text (clear clusters; templated
//! product names). If recall on real chunks turns out lower, raise
//! `probes` (per query or in [`BuildParams`]): doubling it costs about
//! twice the scan, which is most of the query time.
//!
//! Open takes 1.5 ms for the 585 MB file (it reads the header, the list,
//! row and key tables). Only the f32 kernels' AVX2 path was measured; on a
//! CPU without AVX2 the portable loops are slower by about 2-3x.
//!
//! Architecture invariant: opening and searching never write to the file;
//! only [`build`] writes, to a temporary file renamed over the old index.

mod build;
mod error;
mod format;
mod kernels;
mod mapped;
mod search;

pub use build::{
    BuildParams, BuildStats, DEFAULT_RERANK, VectorIndexBuilder, build, default_lists,
    default_probes,
};
pub use error::VectorError;
pub use search::{SearchParams, VectorHit, VectorIndex};
