//! Snapshot reconstruction (replaying the JSON commits `0..=version`,
//! reconciling `add`/`remove` by path) and streaming scans of a snapshot's
//! data files.
//!
//! No checkpoints are read or written: reconstruction cost is linear in
//! the number of commits, which is fine for the hundreds of commits a
//! cradle table accumulates.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderOptions, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};

use crate::LakeError;
use crate::protocol::{Action, AddFile, Metadata, Protocol, list_versions, read_commit};
use crate::schema::from_schema_string;

/// Rows per batch returned by [`Snapshot::scan`].
const SCAN_BATCH_ROWS: usize = 65_536;

/// The state of a table at one version.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Table root.
    pub root: PathBuf,
    pub version: u64,
    /// The Arrow schema the table is read as.
    pub schema: SchemaRef,
    /// Active data files, in the order they were added.
    pub files: Vec<AddFile>,
    pub metadata: Metadata,
    pub protocol: Protocol,
}

impl Snapshot {
    /// Replays the log up to `version` (latest if `None`).
    pub(crate) fn load(root: &Path, version: Option<u64>) -> Result<Snapshot, LakeError> {
        let versions = list_versions(root)?;
        let Some(&latest) = versions.last() else {
            return Err(LakeError::NoTable {
                table: root.to_path_buf(),
            });
        };
        let target = version.unwrap_or(latest);
        if target > latest {
            return Err(LakeError::VersionNotFound {
                table: root.to_path_buf(),
                version: target,
                latest,
            });
        }
        let mut protocol = None;
        let mut metadata = None;
        // path -> (order of addition, add action)
        let mut active: BTreeMap<String, (u64, AddFile)> = BTreeMap::new();
        let mut seq = 0u64;
        for v in 0..=target {
            for action in read_commit(root, v)? {
                match action {
                    Action::Protocol(p) => protocol = Some(p),
                    Action::Metadata(m) => metadata = Some(m),
                    Action::Add(a) => {
                        seq += 1;
                        active.insert(a.path.clone(), (seq, a));
                    }
                    Action::Remove(r) => {
                        active.remove(&r.path);
                    }
                    Action::CommitInfo(_) | Action::Other => {}
                }
            }
        }
        let (Some(protocol), Some(metadata)) = (protocol, metadata) else {
            return Err(LakeError::MissingMetadata {
                table: root.to_path_buf(),
                version: target,
            });
        };
        if protocol.min_reader_version > 1 {
            return Err(LakeError::UnsupportedProtocol {
                table: root.to_path_buf(),
                min_reader_version: protocol.min_reader_version,
            });
        }
        let schema = from_schema_string(root, &metadata.schema_string)?;
        let mut files: Vec<(u64, AddFile)> = active.into_values().collect();
        files.sort_by_key(|(seq, _)| *seq);
        let mut files: Vec<AddFile> = files.into_iter().map(|(_, a)| a).collect();
        for file in &mut files {
            if file.num_records.is_none() {
                file.num_records = Some(footer_rows(root, &file.path)?);
            }
        }
        Ok(Snapshot {
            root: root.to_path_buf(),
            version: target,
            schema,
            files,
            metadata,
            protocol,
        })
    }

    /// Total rows of the active files (from their statistics).
    pub fn num_rows(&self) -> u64 {
        self.files.iter().filter_map(|f| f.num_records).sum()
    }

    /// Reads the footer of every active data file and checks its row count
    /// against the log's statistics: that the version can be read, without
    /// reading its rows. Returns the rows.
    pub fn check_data_files(&self) -> Result<u64, LakeError> {
        let mut rows = 0;
        for file in &self.files {
            let found = footer_rows(&self.root, &file.path)?;
            if let Some(logged) = file.num_records
                && logged != found
            {
                return Err(LakeError::RowCountMismatch {
                    table: self.root.clone(),
                    file: file.path.clone(),
                    logged,
                    found,
                });
            }
            rows += found;
        }
        Ok(rows)
    }

    /// Streams the table's rows as batches of all columns, or of the named
    /// columns in the order given.
    pub fn scan(&self, columns: Option<&[&str]>) -> Result<Scan, LakeError> {
        let projection = match columns {
            None => None,
            Some(names) => {
                let mut indices = Vec::with_capacity(names.len());
                for name in names {
                    let idx = self
                        .schema
                        .index_of(name)
                        .map_err(|_| LakeError::UnknownColumn {
                            table: self.root.clone(),
                            column: (*name).to_owned(),
                        })?;
                    indices.push(idx);
                }
                Some(indices)
            }
        };
        // The parquet reader yields projected columns in file order; remember
        // how to put them in the requested order.
        let reorder = projection.as_ref().map(|indices| {
            let mut sorted = indices.clone();
            sorted.sort_unstable();
            sorted.dedup();
            let order: Vec<usize> = indices
                .iter()
                .map(|i| sorted.binary_search(i).unwrap_or(0))
                .collect();
            (sorted, order)
        });
        Ok(Scan {
            root: self.root.clone(),
            schema: self.schema.clone(),
            projection: reorder,
            pending: self.files.iter().map(|f| f.path.clone()).collect(),
            current: None,
        })
    }
}

/// Row count from a parquet footer, for add actions without stats.
fn footer_rows(root: &Path, path: &str) -> Result<u64, LakeError> {
    let file = File::open(root.join(path)).map_err(|source| LakeError::OpenDataFile {
        table: root.to_path_buf(),
        file: path.to_owned(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|source| {
        LakeError::ReadParquet {
            table: root.to_path_buf(),
            file: path.to_owned(),
            source,
        }
    })?;
    Ok(builder.metadata().file_metadata().num_rows().max(0) as u64)
}

/// Streaming iterator over a snapshot's batches; opens one file at a time.
pub struct Scan {
    root: PathBuf,
    schema: SchemaRef,
    /// (sorted distinct column indices, position of each requested column).
    projection: Option<(Vec<usize>, Vec<usize>)>,
    pending: VecDeque<String>,
    current: Option<(String, ParquetRecordBatchReader)>,
}

impl std::fmt::Debug for Scan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scan")
            .field("root", &self.root)
            .field("pending_files", &self.pending.len())
            .finish()
    }
}

impl Scan {
    fn open(&self, path: &str) -> Result<ParquetRecordBatchReader, LakeError> {
        let read_err = |source| LakeError::ReadParquet {
            table: self.root.clone(),
            file: path.to_owned(),
            source,
        };
        let file = File::open(self.root.join(path)).map_err(|source| LakeError::OpenDataFile {
            table: self.root.clone(),
            file: path.to_owned(),
            source,
        })?;
        let options = ArrowReaderOptions::new().with_schema(self.schema.clone());
        let mut builder = ParquetRecordBatchReaderBuilder::try_new_with_options(file, options)
            .map_err(read_err)?;
        builder = builder.with_batch_size(SCAN_BATCH_ROWS);
        if let Some((sorted, _)) = &self.projection {
            let mask = ProjectionMask::roots(builder.parquet_schema(), sorted.iter().copied());
            builder = builder.with_projection(mask);
        }
        builder.build().map_err(read_err)
    }
}

impl Iterator for Scan {
    type Item = Result<RecordBatch, LakeError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((path, reader)) = &mut self.current {
                match reader.next() {
                    Some(Ok(batch)) => {
                        let batch = match &self.projection {
                            Some((_, order)) => {
                                batch.project(order).map_err(|source| LakeError::ReadBatch {
                                    table: self.root.clone(),
                                    file: path.clone(),
                                    source,
                                })
                            }
                            None => Ok(batch),
                        };
                        return Some(batch);
                    }
                    Some(Err(source)) => {
                        let err = LakeError::ReadBatch {
                            table: self.root.clone(),
                            file: path.clone(),
                            source,
                        };
                        self.current = None;
                        self.pending.clear();
                        return Some(Err(err));
                    }
                    None => self.current = None,
                }
            }
            let path = self.pending.pop_front()?;
            match self.open(&path) {
                Ok(reader) => self.current = Some((path, reader)),
                Err(e) => {
                    self.pending.clear();
                    return Some(Err(e));
                }
            }
        }
    }
}
