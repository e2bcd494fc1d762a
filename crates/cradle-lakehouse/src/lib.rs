//! cradle's lakehouse: the Delta tables of one workspace and the rules
//! that make several of them one delivery.
//!
//! - [`schema`]: every table's name, schema and column names; the one
//!   place a table's shape is written down.
//! - [`deliveries`]: the delivery records that make the four ingest
//!   tables one version ([`Lakehouse::publish`], [`Lakehouse::recover`]).
//! - [`compare`]: products added, changed and removed between deliveries.
//! - [`ParallelWriter`]: one table written from many threads, one commit.
//! - [`enriched_version`]: the version of an enrich table that belongs to
//!   a delivery, if any.
//!
//! Architecture invariant: a delivery becomes visible by its record
//! appearing whole, after every table it names is committed; readers use
//! the versions of the newest record, never a table's latest version. A
//! process killed in between leaves tables ahead of the newest record;
//! [`Lakehouse::recover`] restores them before anything else writes.

pub mod compare;
pub mod deliveries;
mod enriched;
mod parallel;
pub mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cradle_lake::Table;

pub use compare::{Changes, compare};
pub use deliveries::{DeliveryError, DeliveryRecord};
pub use enriched::enriched_version;
pub use parallel::ParallelWriter;
pub use schema::{ARTICLE_NO, DELIVERY_TABLES, ENRICH_TABLES, Stage, TABLES, TableSpec};

/// What can go wrong with the lakehouse as a whole.
#[derive(Debug, thiserror::Error)]
pub enum LakehouseError {
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error("table {table}")]
    Table {
        table: PathBuf,
        #[source]
        source: cradle_lake::LakeError,
    },
    #[error("cannot restore table {table} to version {version}")]
    Restore {
        table: PathBuf,
        version: u64,
        #[source]
        source: cradle_lake::LakeError,
    },
    #[error("cannot publish delivery record {path}")]
    Publish {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the products table has no column {column:?} of the expected type")]
    Column { column: &'static str },
    #[error("a table writer panicked")]
    WriterPanicked,
}

/// The lakehouse folder of a workspace (`<WS>/lakehouse`).
#[derive(Debug, Clone)]
pub struct Lakehouse {
    dir: PathBuf,
}

impl Lakehouse {
    pub fn new(dir: impl Into<PathBuf>) -> Lakehouse {
        Lakehouse { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The table `name` (see [`schema`] for the names).
    pub fn table(&self, name: &str) -> Table {
        Table::at(self.dir.join(name))
    }

    /// The newest published delivery, if any.
    pub fn latest(&self) -> Result<Option<DeliveryRecord>, DeliveryError> {
        Ok(deliveries::latest(&self.dir)?.map(|(record, _)| record))
    }

    /// Rolls back table commits of a delivery that was never published and
    /// deletes data files a killed run left behind. Only call it while
    /// holding the workspace lock: no other writer may be running. Returns
    /// one line per table that was restored or cleaned.
    pub fn recover(&self) -> Result<Vec<String>, LakehouseError> {
        let latest = self.latest()?;
        let mut restored = Vec::new();
        for name in DELIVERY_TABLES {
            let table = self.table(name);
            let error = |source| LakehouseError::Table {
                table: table.path().to_path_buf(),
                source,
            };
            let current = table.latest_version().map_err(error)?;
            let recorded = latest.as_ref().and_then(|r| r.tables.get(name).copied());
            if let (Some(current), Some(recorded)) = (current, recorded)
                && current > recorded
            {
                let version =
                    table
                        .restore(recorded)
                        .map_err(|source| LakehouseError::Restore {
                            table: table.path().to_path_buf(),
                            version: recorded,
                            source,
                        })?;
                restored.push(format!(
                    "{name}: version {current} belonged to an interrupted ingest; restored version {recorded} as {version}"
                ));
            }
            if table.path().exists() {
                let orphans = table.vacuum_uncommitted(Duration::ZERO).map_err(error)?;
                if !orphans.is_empty() {
                    restored.push(format!(
                        "{name}: removed {} data files of an interrupted ingest",
                        orphans.len()
                    ));
                }
            }
        }
        Ok(restored)
    }

    /// Publishes a delivery whose tables are all committed: its record is
    /// written atomically, and from then on readers see it.
    pub fn publish(&self, record: &DeliveryRecord) -> Result<(), LakehouseError> {
        let path = deliveries::record_file(&self.dir, record.delivery);
        let bytes = serde_json::to_vec_pretty(record).expect("a delivery record serialises");
        cradle_fs::write_atomic(&path, &bytes)
            .map_err(|source| LakehouseError::Publish { path, source })
    }
}
