//! Approximate nearest-neighbour search over the enrich stage's embeddings,
//! from one file that the server memory-maps at startup without
//! rebuilding anything.
//!
//! Build once with [`build`] (or [`VectorIndexBuilder`]), open with
//! [`VectorIndex::open`], query with [`VectorIndex::search`] (cosine, best
//! first). Rows are the positions in the build input; [`VectorIndex::key`]
//! gives back the key stored with each (`<article_no>#<chunk_id>`).
//!
//! # The algorithm: IVF with int8 codes and exact re-ranking
//!
//! The vectors are clustered into `L ≈ 2·√n` lists with spherical k-means;
//! a query scores the `L` centroids, scans the int8 codes of the best
//! `probes` lists (1/16 of them by default) and re-ranks the best 100
//! candidates with the exact f32 vectors. The file holds the centroids,
//! the codes and the f32 vectors in list order, the keys and the model
//! description (see `format.rs`).
//!
//! Why this and not HNSW:
//! - **Build time on 2 cores.** k-means on a 64-per-list sample plus one
//!   assignment pass is a few dense passes over the data (MEASURE_BUILD);
//!   HNSW inserts every vector with hundreds of random-access distance
//!   computations each and is sequential in spirit — minutes for 300k on
//!   two cores.
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
//! MEASURED
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
