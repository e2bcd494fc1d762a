//! Delta Lake tables on the local filesystem, hand-rolled on `arrow` +
//! `parquet` (protocol reader version 1, writer version 2: no partitions,
//! deletion vectors, column mapping or checkpoints).
//!
//! A [`Table`] is a directory: snappy parquet data files in the root and the
//! transaction log in `_delta_log/`. Writes stream record batches into new
//! data files ([`TableWriter`]), which become visible only when
//! [`StagedWrite::commit`] atomically publishes the next log version
//! (put-if-absent via `hard_link`, see [`commit`]). Readers replay the log
//! into a [`Snapshot`] of any version (time travel) and scan its files.
//!
//! Atomicity: a process killed at any point before the log file is linked
//! leaves the previous version intact and readable; after the link the new
//! version is complete. Orphaned data files never affect readers and are
//! removed by [`Table::vacuum_uncommitted`].

pub mod commit;
mod error;
pub mod history;
pub mod protocol;
mod restore;
pub mod schema;
pub mod snapshot;
mod stats;
pub mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use arrow_schema::SchemaRef;

pub use error::LakeError;
pub use history::CommitInfo;
pub use protocol::{AddFile, Metadata, Protocol, RemoveFile};
pub use snapshot::{Scan, Snapshot};
pub use writer::{StagedWrite, TableWriter, WriteMode, WriteOptions};

/// A Delta table rooted at a directory (which need not exist yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    root: PathBuf,
}

impl Table {
    /// The table at `path`; does no IO.
    pub fn at(path: impl Into<PathBuf>) -> Table {
        Table { root: path.into() }
    }

    /// The table root directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The latest committed version, `None` if there is no table yet.
    pub fn latest_version(&self) -> Result<Option<u64>, LakeError> {
        Ok(protocol::list_versions(&self.root)?.last().copied())
    }

    /// The table at `version` (`None` = latest).
    pub fn snapshot(&self, version: Option<u64>) -> Result<Snapshot, LakeError> {
        Snapshot::load(&self.root, version)
    }

    /// Starts a write (overwrite or append, per `options.mode`) based on the
    /// current latest version; creates the table on first commit.
    pub fn writer(
        &self,
        schema: SchemaRef,
        options: WriteOptions,
    ) -> Result<TableWriter, LakeError> {
        TableWriter::new(&self.root, schema, options)
    }

    /// Delta RESTORE: commits a new version whose active files and schema
    /// are those of `version`; returns the new version.
    pub fn restore(&self, version: u64) -> Result<u64, LakeError> {
        restore::restore(&self.root, version)
    }

    /// The commitInfo of every version, oldest first.
    pub fn history(&self) -> Result<Vec<CommitInfo>, LakeError> {
        history::history(&self.root)
    }

    /// Deletes data files that no commit references and abandoned
    /// `_delta_log/.tmp-*` files, if older than `min_age` (pass a margin
    /// longer than any write can take while writers may be running).
    /// Returns the deleted paths relative to the table root.
    pub fn vacuum_uncommitted(&self, min_age: Duration) -> Result<Vec<String>, LakeError> {
        history::vacuum_uncommitted(&self.root, min_age)
    }
}
