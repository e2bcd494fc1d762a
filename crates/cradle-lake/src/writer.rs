//! Streaming writes: [`TableWriter`] turns record batches into snappy
//! parquet data files in the table root (`part-00000-<uuid>-c000.snappy.parquet`),
//! rolling to a new file every `target_file_rows` rows, so memory stays
//! bounded by one row group per column. [`TableWriter::finish`] yields a
//! [`StagedWrite`]: files on disk that no reader sees until
//! [`StagedWrite::commit`] publishes the next log version.
//!
//! A writer or staged write dropped without committing deletes its data
//! files; files left by a killed process are invisible to readers and are
//! removed by [`crate::Table::vacuum_uncommitted`].

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use serde_json::Value;

use crate::LakeError;
use crate::commit::{commit_info, put_if_absent};
use crate::protocol::{Action, AddFile, Format, Metadata, Protocol, RemoveFile, now_ms};
use crate::schema::{DeltaSchema, to_delta};
use crate::snapshot::Snapshot;

/// Whether a write replaces the table content or adds to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// The new files become the complete content of the table; the schema
    /// may change.
    Overwrite,
    /// The new files are added to the current ones; the schema must not
    /// change.
    Append,
}

impl WriteMode {
    fn as_str(self) -> &'static str {
        match self {
            WriteMode::Overwrite => "Overwrite",
            WriteMode::Append => "Append",
        }
    }
}

/// Options of a write.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    pub mode: WriteMode,
    /// Rows per data file before rolling to the next one.
    pub target_file_rows: usize,
    /// Rows per parquet row group.
    pub row_group_rows: usize,
    /// Extra `commitInfo.operationParameters` (`mode` is always set).
    pub operation_parameters: BTreeMap<String, String>,
    /// Stored as `commitInfo.appMetadata` (e.g. the cradle delivery).
    pub app_metadata: Option<Value>,
    /// Columns written without dictionary encoding: values that rarely
    /// repeat gain nothing from a dictionary and cost a hash per value.
    pub plain_columns: Vec<String>,
    /// Columns written without min/max statistics: computing them costs a
    /// comparison per value, and for free text they never prune a file.
    pub columns_without_statistics: Vec<String>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            mode: WriteMode::Overwrite,
            target_file_rows: 1_000_000,
            row_group_rows: 128 * 1024,
            operation_parameters: BTreeMap::new(),
            app_metadata: None,
            plain_columns: Vec::new(),
            columns_without_statistics: Vec::new(),
        }
    }
}

impl WriteOptions {
    /// Default options for an overwrite.
    pub fn overwrite() -> Self {
        WriteOptions::default()
    }

    /// Default options for an append.
    pub fn append() -> Self {
        WriteOptions {
            mode: WriteMode::Append,
            ..WriteOptions::default()
        }
    }
}

/// What the commit must contain besides the new files, fixed when the
/// writer starts from the then-latest snapshot.
#[derive(Debug)]
struct Base {
    read_version: Option<u64>,
    protocol: Option<Protocol>,
    metadata: Option<Metadata>,
    removes: Vec<AddFile>,
}

struct OpenFile {
    name: String,
    writer: ArrowWriter<BufWriter<File>>,
    rows: usize,
}

/// Writes batches into new data files; see the module docs.
pub struct TableWriter {
    root: PathBuf,
    schema: SchemaRef,
    options: WriteOptions,
    props: WriterProperties,
    base: Option<Base>,
    current: Option<OpenFile>,
    done: Vec<AddFile>,
    rows: u64,
}

impl std::fmt::Debug for TableWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableWriter")
            .field("root", &self.root)
            .field("files", &self.done.len())
            .field("rows", &self.rows)
            .finish()
    }
}

impl TableWriter {
    pub(crate) fn new(
        root: &Path,
        schema: SchemaRef,
        options: WriteOptions,
    ) -> Result<TableWriter, LakeError> {
        let delta = to_delta(root, &schema)?;
        let latest = match Snapshot::load(root, None) {
            Ok(s) => Some(s),
            Err(LakeError::NoTable { .. }) => None,
            Err(e) => return Err(e),
        };
        let base = base_for(root, &delta, options.mode, latest)?;
        std::fs::create_dir_all(root).map_err(|source| LakeError::CreateDir {
            table: root.to_path_buf(),
            dir: root.to_path_buf(),
            source,
        })?;
        let mut props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_dictionary_enabled(true)
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_max_row_group_row_count(Some(options.row_group_rows.max(1)))
            .set_created_by(format!("cradle-lake {}", env!("CARGO_PKG_VERSION")));
        for column in &options.plain_columns {
            props = props.set_column_dictionary_enabled(column.as_str().into(), false);
        }
        for column in &options.columns_without_statistics {
            props = props
                .set_column_statistics_enabled(column.as_str().into(), EnabledStatistics::None);
        }
        let props = props.build();
        Ok(TableWriter {
            root: root.to_path_buf(),
            schema,
            options,
            props,
            base: Some(base),
            current: None,
            done: Vec::new(),
            rows: 0,
        })
    }

    /// Appends a batch; its columns must have the writer schema's names and
    /// types.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), LakeError> {
        let batch = self.conform(batch)?;
        let target = self.options.target_file_rows.max(1);
        let mut offset = 0;
        while offset < batch.num_rows() {
            if self.current.is_none() {
                self.current = Some(self.open_file()?);
            }
            let Some(file) = self.current.as_mut() else {
                unreachable!("a file was just opened")
            };
            let take = (target - file.rows).min(batch.num_rows() - offset);
            let slice = batch.slice(offset, take);
            file.writer
                .write(&slice)
                .map_err(|source| LakeError::WriteParquet {
                    table: self.root.clone(),
                    file: file.name.clone(),
                    source,
                })?;
            file.rows += take;
            offset += take;
            self.rows += take as u64;
            if file.rows >= target {
                self.close_file()?;
            }
        }
        Ok(())
    }

    /// Closes the data files and returns the uncommitted write.
    pub fn finish(mut self) -> Result<StagedWrite, LakeError> {
        self.close_file()?;
        let base = self
            .base
            .take()
            .unwrap_or_else(|| unreachable!("base taken once"));
        Ok(StagedWrite {
            root: self.root.clone(),
            mode: self.options.mode,
            operation_parameters: std::mem::take(&mut self.options.operation_parameters),
            app_metadata: self.options.app_metadata.take(),
            base,
            adds: std::mem::take(&mut self.done),
            rows: self.rows,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Checks the batch against the writer schema and relabels it with it.
    fn conform(&self, batch: &RecordBatch) -> Result<RecordBatch, LakeError> {
        let mismatch = |detail: String| LakeError::BatchSchemaMismatch {
            table: self.root.clone(),
            detail,
        };
        let (expected, got) = (self.schema.fields(), batch.schema_ref().fields());
        if expected.len() != got.len() {
            return Err(mismatch(format!(
                "{} columns expected, batch has {}",
                expected.len(),
                got.len()
            )));
        }
        for ((e, g), column) in expected.iter().zip(got.iter()).zip(batch.columns()) {
            if e.name() != g.name() || e.data_type() != g.data_type() {
                return Err(mismatch(format!(
                    "expected column {:?}: {}, got {:?}: {}",
                    e.name(),
                    e.data_type(),
                    g.name(),
                    g.data_type()
                )));
            }
            if !e.is_nullable() && column.null_count() > 0 {
                return Err(LakeError::NullInNonNullable {
                    table: self.root.clone(),
                    column: e.name().clone(),
                });
            }
        }
        RecordBatch::try_new(self.schema.clone(), batch.columns().to_vec())
            .map_err(|e| mismatch(e.to_string()))
    }

    fn open_file(&self) -> Result<OpenFile, LakeError> {
        let name = format!("part-00000-{}-c000.snappy.parquet", uuid::Uuid::new_v4());
        let file =
            File::create(self.root.join(&name)).map_err(|source| LakeError::CreateDataFile {
                table: self.root.clone(),
                file: name.clone(),
                source,
            })?;
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 20, file),
            self.schema.clone(),
            Some(self.props.clone()),
        );
        let writer = match writer {
            Ok(w) => w,
            Err(source) => {
                let _ = std::fs::remove_file(self.root.join(&name));
                return Err(LakeError::WriteParquet {
                    table: self.root.clone(),
                    file: name,
                    source,
                });
            }
        };
        Ok(OpenFile {
            name,
            writer,
            rows: 0,
        })
    }

    /// Finishes the open file (if any) and records its add action.
    fn close_file(&mut self) -> Result<(), LakeError> {
        let Some(mut open) = self.current.take() else {
            return Ok(());
        };
        let path = self.root.join(&open.name);
        // Until it is recorded in `done`, the file is ours to delete on error.
        let result = (|| {
            let parquet_err = |source| LakeError::WriteParquet {
                table: self.root.clone(),
                file: open.name.clone(),
                source,
            };
            let meta = open.writer.finish().map_err(parquet_err)?;
            let sync_err = |source| LakeError::SyncDataFile {
                table: self.root.clone(),
                file: open.name.clone(),
                source,
            };
            let buffered = open.writer.inner_mut();
            std::io::Write::flush(buffered).map_err(sync_err)?;
            let file = buffered.get_ref();
            file.sync_all().map_err(sync_err)?;
            let size = file.metadata().map_err(sync_err)?.len();
            let (rows, stats) = crate::stats::file_stats(&self.schema, &meta);
            Ok(AddFile {
                path: open.name.clone(),
                partition_values: BTreeMap::new(),
                size: size as i64,
                modification_time: now_ms(),
                data_change: true,
                stats: Some(stats),
                num_records: Some(rows),
            })
        })();
        match result {
            Ok(add) => {
                self.done.push(add);
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(path);
                Err(e)
            }
        }
    }
}

impl Drop for TableWriter {
    fn drop(&mut self) {
        if let Some(open) = self.current.take() {
            drop(open.writer);
            let _ = std::fs::remove_file(self.root.join(&open.name));
        }
        for add in self.done.drain(..) {
            let _ = std::fs::remove_file(self.root.join(&add.path));
        }
    }
}

/// Decides protocol, metadata and removes of a write against the latest
/// snapshot.
fn base_for(
    root: &Path,
    delta: &DeltaSchema,
    mode: WriteMode,
    latest: Option<Snapshot>,
) -> Result<Base, LakeError> {
    let schema_string = delta.to_schema_string();
    let Some(snap) = latest else {
        return Ok(Base {
            read_version: None,
            protocol: Some(Protocol::cradle()),
            metadata: Some(Metadata {
                id: uuid::Uuid::new_v4().to_string(),
                name: None,
                description: None,
                format: Format {
                    provider: "parquet".to_owned(),
                    options: BTreeMap::new(),
                },
                schema_string,
                partition_columns: Vec::new(),
                configuration: BTreeMap::new(),
                created_time: Some(now_ms()),
            }),
            removes: Vec::new(),
        });
    };
    if snap.protocol.min_writer_version > 2 {
        return Err(LakeError::UnsupportedWriterProtocol {
            table: root.to_path_buf(),
            min_writer_version: snap.protocol.min_writer_version,
        });
    }
    let same_schema = serde_json::from_str::<Value>(&snap.metadata.schema_string).ok()
        == serde_json::to_value(delta).ok();
    match mode {
        WriteMode::Append if !same_schema => Err(LakeError::AppendSchemaChange {
            table: root.to_path_buf(),
        }),
        WriteMode::Append => Ok(Base {
            read_version: Some(snap.version),
            protocol: None,
            metadata: None,
            removes: Vec::new(),
        }),
        WriteMode::Overwrite => Ok(Base {
            read_version: Some(snap.version),
            protocol: None,
            metadata: (!same_schema).then(|| Metadata {
                schema_string,
                ..snap.metadata.clone()
            }),
            removes: snap.files,
        }),
    }
}

/// Data files written but not yet committed; invisible to readers.
pub struct StagedWrite {
    root: PathBuf,
    mode: WriteMode,
    operation_parameters: BTreeMap<String, String>,
    app_metadata: Option<Value>,
    base: Base,
    adds: Vec<AddFile>,
    rows: u64,
}

impl std::fmt::Debug for StagedWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedWrite")
            .field("root", &self.root)
            .field("mode", &self.mode)
            .field("read_version", &self.base.read_version)
            .field("files", &self.adds.len())
            .field("rows", &self.rows)
            .finish()
    }
}

impl StagedWrite {
    /// Rows in the staged files.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The staged data files.
    pub fn files(&self) -> &[AddFile] {
        &self.adds
    }

    /// The version this write was based on (`None` for a new table); the
    /// commit will be that plus one.
    pub fn read_version(&self) -> Option<u64> {
        self.base.read_version
    }

    /// Folds another write of the same table, started from the same
    /// version, into this one, so that both become one commit. Lets several
    /// threads each encode their own data files in parallel.
    pub fn merge(mut self, mut other: StagedWrite) -> Result<StagedWrite, LakeError> {
        if other.root != self.root
            || other.base.read_version != self.base.read_version
            || other.mode != self.mode
        {
            return Err(LakeError::MergeMismatch {
                table: self.root.clone(),
            });
        }
        // The files now belong to `self`; `other` must not delete them on drop.
        self.adds.append(&mut other.adds);
        self.rows += other.rows;
        Ok(self)
    }

    /// Atomically publishes the write as the next version and returns it.
    /// If another writer committed that version first, the staged files are
    /// deleted and [`LakeError::ConcurrentCommit`] is returned.
    pub fn commit(mut self) -> Result<u64, LakeError> {
        let version = self.base.read_version.map_or(0, |v| v + 1);
        let now = now_ms();
        let mut params = std::mem::take(&mut self.operation_parameters);
        params.insert("mode".to_owned(), self.mode.as_str().to_owned());
        let mut actions = vec![Action::CommitInfo(commit_info(
            now,
            "WRITE",
            &params,
            self.base.read_version,
            self.mode == WriteMode::Append,
            self.app_metadata.take(),
        ))];
        if let Some(p) = self.base.protocol.take() {
            actions.push(Action::Protocol(p));
        }
        if let Some(m) = self.base.metadata.take() {
            actions.push(Action::Metadata(m));
        }
        for old in &self.base.removes {
            actions.push(Action::Remove(RemoveFile::of(old, now)));
        }
        for add in &self.adds {
            actions.push(Action::Add(add.clone()));
        }
        let adds = &mut self.adds;
        // Once published, the files belong to the table; on any failure
        // before that, Drop deletes them.
        put_if_absent(&self.root, version, &actions, || adds.clear())?;
        Ok(version)
    }
}

impl Drop for StagedWrite {
    fn drop(&mut self) {
        for add in self.adds.drain(..) {
            let _ = std::fs::remove_file(self.root.join(&add.path));
        }
    }
}
