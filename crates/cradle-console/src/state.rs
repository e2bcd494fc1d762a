//! What every handler shares: the state database, the metrics, and the
//! slot of the data (search index and product store), which is opened in
//! the background after the port is bound and is absent until then.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cradle_query::{Data, DataSlot};
use cradle_state::StateDb;

use crate::error::AppError;
use crate::limits::{Limiter, Rates};
use crate::metrics::Metrics;

#[derive(Debug)]
struct Inner {
    state_db: StateDb,
    data: Arc<DataSlot>,
    metrics: Metrics,
    limiter: Limiter,
    started: Instant,
    /// Made on first use (see `chat.rs`).
    chat: std::sync::OnceLock<cradle_chat::Chat>,
}

/// The state of the router; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl AppState {
    /// A state whose data is not open yet (`/ready` answers 503).
    pub fn new(state_db: StateDb) -> AppState {
        AppState::with_rates(state_db, Rates::default())
    }

    /// [`AppState::new`] with the per-key rates of search, SQL and chat.
    pub fn with_rates(state_db: StateDb, rates: Rates) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                state_db,
                data: Arc::new(DataSlot::default()),
                metrics: Metrics::default(),
                limiter: Limiter::new(rates),
                started: Instant::now(),
                chat: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Makes the data available: from now on the server is ready. Editors'
    /// class corrections in the state database win over its classes for
    /// every transport that shares the slot (API, pages, MCP).
    pub fn set_data(&self, data: Data) {
        let corrections = Arc::new(self.inner.state_db.clone());
        self.inner.data.set_data(data.with_corrections(corrections));
    }

    /// Records that the data could not be opened (`/ready` says `failed`).
    pub fn set_failed(&self) {
        self.inner.data.set_failed();
    }

    /// The open data, or `NotReady`.
    pub fn data(&self) -> Result<Arc<Data>, AppError> {
        Ok(self.inner.data.get()?)
    }

    /// The slot the data opens into, shared with other transports (MCP).
    pub fn data_slot(&self) -> &Arc<DataSlot> {
        &self.inner.data
    }

    /// Whether opening the data failed.
    pub fn failed(&self) -> bool {
        self.inner.data.failed()
    }

    pub fn state_db(&self) -> &StateDb {
        &self.inner.state_db
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub(crate) fn chat_cell(&self) -> &std::sync::OnceLock<cradle_chat::Chat> {
        &self.inner.chat
    }

    /// The per-key limits of search, SQL and chat.
    pub fn limiter(&self) -> &Limiter {
        &self.inner.limiter
    }

    /// Time since this state was created (the server started).
    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed()
    }
}
