//! What every handler shares: the state database, the metrics, and the
//! data (search index and product store), which is opened in the
//! background after the port is bound and is absent until then.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use cradle_index::{IndexError, IndexStats, SearchIndex};

use crate::error::AppError;
use crate::metrics::Metrics;
use crate::state_db::StateDb;
use crate::store::{ProductStore, StoreError};
use crate::vectors::Vectors;

/// The read-only data a server serves, open and ready.
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
}

/// The workspace reports served by `/api/stats`: `reports/ingest.json` and
/// `reports/enrich.json`, as written by the runs that made the data.
#[derive(Debug, Clone, Default)]
pub struct Reports {
    pub ingest: Option<serde_json::Value>,
    pub enrich: Option<serde_json::Value>,
}

impl Reports {
    fn read(root: &Path) -> Reports {
        let read = |name: &str| {
            let text = std::fs::read_to_string(root.join("reports").join(name)).ok()?;
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
            .finish_non_exhaustive()
    }
}

/// Where the pieces of the data live inside a data directory (a
/// workspace, or the data directory of an image).
#[derive(Debug, Clone)]
pub struct DataLayout {
    pub root: PathBuf,
}

impl DataLayout {
    pub fn new(root: impl Into<PathBuf>) -> DataLayout {
        DataLayout { root: root.into() }
    }

    /// `<data>/index/search`: the tantivy index.
    pub fn search_index(&self) -> PathBuf {
        self.root.join("index").join("search")
    }

    /// `<data>/index/catalog.db`: the SQLite product catalog.
    pub fn catalog(&self) -> PathBuf {
        self.root.join("index").join("catalog.db")
    }

    /// `<data>/lakehouse`: the Delta tables (read by neither route yet).
    pub fn lakehouse(&self) -> PathBuf {
        self.root.join("lakehouse")
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
        }
    }

    /// The same data with vector search.
    pub fn with_vectors(mut self, vectors: Vectors) -> Data {
        self.vectors = Some(Arc::new(vectors));
        self
    }

    /// Opens the index and the catalog of a data directory. Both are
    /// memory-mapped or opened read-only: nothing is built or written.
    pub async fn open(data_dir: &Path) -> Result<Data, OpenError> {
        let started = Instant::now();
        let layout = DataLayout::new(data_dir);
        let index_dir = layout.search_index();
        let index = tokio::task::spawn_blocking(move || SearchIndex::open(&index_dir));
        let vector_dir = layout.root.join("index");
        let vectors = tokio::task::spawn_blocking(move || Vectors::open(&vector_dir));
        let catalog_path = layout.catalog();
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
        data.reports = Reports::read(&layout.root);
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
    pub fn vectors(&self) -> Result<&Arc<Vectors>, AppError> {
        self.vectors.as_ref().ok_or_else(|| {
            let message = match &self.vectors_problem {
                Some(problem) => format!("vector search is off: {problem}"),
                None => "this data has no embeddings, so only mode=keyword works; \
                         hint: run `cradle enrich --workspace <WS>` before serving"
                    .to_owned(),
            };
            AppError::bad_request("vector_search_unavailable", message)
        })
    }

    /// The vector side, if any (for statistics).
    pub fn vectors_if_any(&self) -> Option<&Arc<Vectors>> {
        self.vectors.as_ref()
    }

    pub fn reports(&self) -> &Reports {
        &self.reports
    }

    /// How long opening took.
    pub fn opened_in(&self) -> Duration {
        self.opened_in
    }
}

#[derive(Debug)]
enum DataStatus {
    Starting,
    Ready(Arc<Data>),
    Failed,
}

#[derive(Debug)]
struct Inner {
    state_db: StateDb,
    data: RwLock<DataStatus>,
    metrics: Metrics,
    started: Instant,
}

/// The state of the router; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl AppState {
    /// A state whose data is not open yet (`/ready` answers 503).
    pub fn new(state_db: StateDb) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                state_db,
                data: RwLock::new(DataStatus::Starting),
                metrics: Metrics::default(),
                started: Instant::now(),
            }),
        }
    }

    /// Makes the data available: from now on the server is ready.
    pub fn set_data(&self, data: Data) {
        *self.inner.data.write().unwrap_or_else(|e| e.into_inner()) =
            DataStatus::Ready(Arc::new(data));
    }

    /// Records that the data could not be opened (`/ready` says `failed`).
    pub fn set_failed(&self) {
        *self.inner.data.write().unwrap_or_else(|e| e.into_inner()) = DataStatus::Failed;
    }

    /// The open data, or `NotReady`.
    pub fn data(&self) -> Result<Arc<Data>, AppError> {
        match &*self.inner.data.read().unwrap_or_else(|e| e.into_inner()) {
            DataStatus::Ready(data) => Ok(data.clone()),
            DataStatus::Starting | DataStatus::Failed => Err(AppError::NotReady),
        }
    }

    /// Whether opening the data failed.
    pub fn failed(&self) -> bool {
        matches!(
            &*self.inner.data.read().unwrap_or_else(|e| e.into_inner()),
            DataStatus::Failed
        )
    }

    pub fn state_db(&self) -> &StateDb {
        &self.inner.state_db
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Time since this state was created (the server started).
    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed()
    }
}
