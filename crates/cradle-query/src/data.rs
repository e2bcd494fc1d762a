//! The read-only data a server serves (search index, product store,
//! vectors, reports), opened from a data folder without building anything,
//! and [`DataSlot`], where it waits until it is open.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use cradle_fs::Workspace;
use cradle_index::{IndexError, IndexStats, SearchIndex};

use crate::corrections::{ClassCorrections, Overlay};
use crate::error::QueryError;
use crate::store::{ProductStore, StoreError};
use crate::vectors::Vectors;

/// The read-only data of one customer, open and ready.
pub struct Data {
    index: Arc<SearchIndex>,
    index_stats: IndexStats,
    store: Arc<dyn ProductStore>,
    catalog_size_bytes: u64,
    opened_in: Duration,
    vectors: Option<Arc<Vectors>>,
    /// Why vector search is off although the data has vectors.
    vectors_problem: Option<String>,
    reports: Reports,
    /// Editors' class corrections, applied over the read-only data.
    corrections: Option<Arc<dyn ClassCorrections>>,
    /// The data folder, when opened from one.
    data_dir: Option<PathBuf>,
}

/// The workspace reports served by `/api/stats`: `reports/ingest.json` and
/// `reports/enrich.json`, as written by the runs that made the data.
#[derive(Debug, Clone, Default)]
pub struct Reports {
    pub ingest: Option<serde_json::Value>,
    pub enrich: Option<serde_json::Value>,
}

impl Reports {
    fn read(data: &Workspace) -> Reports {
        let read = |name: &str| {
            let text = std::fs::read_to_string(data.report(name)).ok()?;
            serde_json::from_str(&text).ok()
        };
        Reports {
            ingest: read("ingest.json"),
            enrich: read("enrich.json"),
        }
    }
}

impl std::fmt::Debug for Data {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Data")
            .field("index", &self.index)
            .field("catalog_size_bytes", &self.catalog_size_bytes)
            .field("vectors", &self.vectors)
            .finish_non_exhaustive()
    }
}

/// Why the data could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the search index")]
    Index {
        #[source]
        source: IndexError,
    },
    #[error("cannot open the product catalog {path}")]
    Catalog {
        path: PathBuf,
        #[source]
        source: StoreError,
    },
    #[error("opening the data was interrupted")]
    Interrupted {
        #[source]
        source: tokio::task::JoinError,
    },
}

impl Data {
    /// Data from an open index and store; `catalog_size_bytes` is reported
    /// in the metrics.
    pub fn new(index: SearchIndex, store: Arc<dyn ProductStore>, catalog_size_bytes: u64) -> Data {
        let index_stats = index.stats();
        Data {
            index: Arc::new(index),
            index_stats,
            store,
            catalog_size_bytes,
            opened_in: Duration::ZERO,
            vectors: None,
            vectors_problem: None,
            reports: Reports::default(),
            corrections: None,
            data_dir: None,
        }
    }

    /// The same data with editors' class corrections winning over the
    /// catalog's and the index's classes (see `corrections.rs`).
    pub fn with_corrections(mut self, corrections: Arc<dyn ClassCorrections>) -> Data {
        self.corrections = Some(corrections);
        self
    }

    /// The corrections in force now (none without a source).
    pub async fn corrections(&self) -> Result<Overlay, QueryError> {
        match &self.corrections {
            None => Ok(Overlay::default()),
            Some(source) => source
                .current()
                .await
                .map(Overlay::new)
                .map_err(|e| QueryError::from_store("cannot read the class corrections", e)),
        }
    }

    /// The same data with vector search.
    pub fn with_vectors(mut self, vectors: Vectors) -> Data {
        self.vectors = Some(Arc::new(vectors));
        self
    }

    /// Opens the index, the catalog and the vectors of a data folder (a
    /// workspace, or an image's data folder). Everything is memory-mapped
    /// or opened read-only: nothing is built or written.
    pub async fn open(data_dir: &Path) -> Result<Data, OpenError> {
        let started = Instant::now();
        let layout = Workspace::new(data_dir);
        let index_dir = layout.search_index_dir();
        let index = tokio::task::spawn_blocking(move || SearchIndex::open(&index_dir));
        let for_vectors = layout.clone();
        let vectors = tokio::task::spawn_blocking(move || Vectors::open(&for_vectors));
        let catalog_path = layout.catalog_file();
        let store = crate::catalog::open_store(&catalog_path)
            .await
            .map_err(|source| OpenError::Catalog {
                path: catalog_path.clone(),
                source,
            })?;
        let index = index
            .await
            .map_err(|source| OpenError::Interrupted { source })?
            .map_err(|source| OpenError::Index { source })?;
        let size = std::fs::metadata(&catalog_path).map_or(0, |m| m.len());
        let mut data = Data::new(index, store, size);
        match vectors
            .await
            .map_err(|source| OpenError::Interrupted { source })?
        {
            Ok(vectors) => data.vectors = vectors.map(Arc::new),
            Err(problem) => {
                tracing::warn!(%problem, "vector search is off");
                data.vectors_problem = Some(problem);
            }
        }
        data.reports = Reports::read(&layout);
        data.data_dir = Some(data_dir.to_path_buf());
        data.opened_in = started.elapsed();
        Ok(data)
    }

    pub fn index(&self) -> &Arc<SearchIndex> {
        &self.index
    }

    /// The index's statistics, taken when it was opened (it never changes).
    pub fn index_stats(&self) -> &IndexStats {
        &self.index_stats
    }

    pub fn store(&self) -> &dyn ProductStore {
        self.store.as_ref()
    }

    pub fn catalog_size_bytes(&self) -> u64 {
        self.catalog_size_bytes
    }

    /// Vector search, if the data has vectors and their model loaded.
    pub fn vectors(&self) -> Result<&Arc<Vectors>, QueryError> {
        self.vectors.as_ref().ok_or_else(|| {
            let message = match &self.vectors_problem {
                Some(problem) => format!("vector search is off: {problem}"),
                None => "this data has no embeddings, so only mode=keyword works; \
                         hint: run `cradle enrich --workspace <WS>` before serving"
                    .to_owned(),
            };
            QueryError::bad_request("vector_search_unavailable", message)
        })
    }

    /// The vector side, if any (for statistics).
    pub fn vectors_if_any(&self) -> Option<&Arc<Vectors>> {
        self.vectors.as_ref()
    }

    pub fn reports(&self) -> &Reports {
        &self.reports
    }

    /// The newest `limit` runs of `cradle run` in the data folder (read
    /// now: runs happen while a server serves); none for data not opened
    /// from a folder or a folder without runs (an image's).
    pub fn run_history(&self, limit: usize) -> crate::runs::RunHistory {
        match &self.data_dir {
            Some(dir) => crate::runs::read(&Workspace::new(dir).run_history_file(), limit),
            None => crate::runs::RunHistory::default(),
        }
    }

    /// How long opening took.
    pub fn opened_in(&self) -> Duration {
        self.opened_in
    }
}

#[derive(Debug)]
enum Status {
    Opening,
    Ready(Arc<Data>),
    Failed,
}

/// Where the data of a running server waits: opening (the port is bound
/// before the data is open), ready, or failed.
#[derive(Debug)]
pub struct DataSlot {
    status: RwLock<Status>,
}

impl Default for DataSlot {
    fn default() -> Self {
        DataSlot {
            status: RwLock::new(Status::Opening),
        }
    }
}

impl DataSlot {
    /// A slot whose data is already open.
    pub fn ready(data: Data) -> DataSlot {
        DataSlot {
            status: RwLock::new(Status::Ready(Arc::new(data))),
        }
    }

    /// Makes the data available: from now on queries are answered.
    pub fn set_data(&self, data: Data) {
        *self.status.write().unwrap_or_else(|e| e.into_inner()) = Status::Ready(Arc::new(data));
    }

    /// Records that the data could not be opened.
    pub fn set_failed(&self) {
        *self.status.write().unwrap_or_else(|e| e.into_inner()) = Status::Failed;
    }

    /// The open data, or [`QueryError::NotReady`].
    pub fn get(&self) -> Result<Arc<Data>, QueryError> {
        match &*self.status.read().unwrap_or_else(|e| e.into_inner()) {
            Status::Ready(data) => Ok(data.clone()),
            Status::Opening | Status::Failed => Err(QueryError::NotReady),
        }
    }

    /// Whether opening the data failed.
    pub fn failed(&self) -> bool {
        matches!(
            &*self.status.read().unwrap_or_else(|e| e.into_inner()),
            Status::Failed
        )
    }
}
