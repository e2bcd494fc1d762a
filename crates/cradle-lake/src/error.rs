//! The error type of cradle-lake: one variant per failure, each naming the
//! table it happened in, with the underlying cause as `#[source]`.

use std::path::PathBuf;

/// Everything that can go wrong reading or writing a Delta table.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("table {table}: cannot create directory {dir}")]
    CreateDir {
        table: PathBuf,
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("table {table}: cannot list the transaction log")]
    ListLog {
        table: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "table {table}: writes started from different versions or modes cannot become one commit"
    )]
    MergeMismatch { table: PathBuf },
    #[error("table {table}: no Delta table here (no commits in _delta_log)")]
    NoTable { table: PathBuf },
    #[error("table {table}: version {version} does not exist (latest is {latest})")]
    VersionNotFound {
        table: PathBuf,
        version: u64,
        latest: u64,
    },
    #[error("table {table}: transaction log has a gap, commit {version} is missing")]
    LogGap { table: PathBuf, version: u64 },
    #[error("table {table}: cannot read commit {version}")]
    ReadCommit {
        table: PathBuf,
        version: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("table {table}: commit {version}, line {line} is not a valid Delta action")]
    ParseCommit {
        table: PathBuf,
        version: u64,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("table {table}: no protocol or metaData action up to version {version}")]
    MissingMetadata { table: PathBuf, version: u64 },
    #[error(
        "table {table}: protocol requires reader version {min_reader_version}, \
         cradle-lake supports only 1"
    )]
    UnsupportedProtocol {
        table: PathBuf,
        min_reader_version: i64,
    },
    #[error(
        "table {table}: protocol requires writer version {min_writer_version}, \
         cradle-lake writes only version 2"
    )]
    UnsupportedWriterProtocol {
        table: PathBuf,
        min_writer_version: i64,
    },
    #[error("table {table}: the metaData schemaString is not a valid Delta schema")]
    InvalidSchemaString {
        table: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("table {table}: column {column:?} has Delta type {delta_type}, which is not supported")]
    UnsupportedDeltaType {
        table: PathBuf,
        column: String,
        delta_type: String,
    },
    #[error(
        "table {table}: column {column:?} has Arrow type {arrow_type}, which cannot be stored \
         (supported: Utf8, LargeUtf8, Dictionary(Int32, Utf8), Int64, Int32, Int16, Int8, \
         Float64, Float32, Boolean, Date32, Timestamp(Microsecond, \"UTC\"))"
    )]
    UnsupportedArrowType {
        table: PathBuf,
        column: String,
        arrow_type: String,
    },
    #[error("table {table}: invalid column name {column:?}: {reason}")]
    InvalidColumnName {
        table: PathBuf,
        column: String,
        reason: &'static str,
    },
    #[error("table {table}: an append must keep the table schema; use an overwrite to change it")]
    AppendSchemaChange { table: PathBuf },
    #[error("table {table}: batch does not match the writer schema: {detail}")]
    BatchSchemaMismatch { table: PathBuf, detail: String },
    #[error("table {table}: column {column:?} is not nullable but the batch contains nulls")]
    NullInNonNullable { table: PathBuf, column: String },
    #[error("table {table}: cannot create data file {file}")]
    CreateDataFile {
        table: PathBuf,
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("table {table}: cannot write parquet data file {file}")]
    WriteParquet {
        table: PathBuf,
        file: String,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("table {table}: cannot flush data file {file} to disk")]
    SyncDataFile {
        table: PathBuf,
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("table {table}: cannot serialize the commit for version {version}")]
    SerializeCommit {
        table: PathBuf,
        version: u64,
        #[source]
        source: serde_json::Error,
    },
    #[error("table {table}: cannot write the log entry for version {version}")]
    WriteLogEntry {
        table: PathBuf,
        version: u64,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "table {table}: another writer committed version {version} first; \
         this write was discarded, re-read the table and retry"
    )]
    ConcurrentCommit { table: PathBuf, version: u64 },
    #[error("table {table}: cannot open data file {file}")]
    OpenDataFile {
        table: PathBuf,
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "table {table}: data file {file} holds {found} rows, the log says {logged}\nhint: the file was replaced after it was committed; ingest the delivery again"
    )]
    RowCountMismatch {
        table: PathBuf,
        file: String,
        logged: u64,
        found: u64,
    },
    #[error("table {table}: cannot read parquet data file {file}")]
    ReadParquet {
        table: PathBuf,
        file: String,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("table {table}: cannot decode a record batch from data file {file}")]
    ReadBatch {
        table: PathBuf,
        file: String,
        #[source]
        source: arrow_schema::ArrowError,
    },
    #[error("table {table}: no column {column:?} in the table schema")]
    UnknownColumn { table: PathBuf, column: String },
    #[error("table {table}: cannot restore version {version}: its data file {file} is gone")]
    RestoreMissingFile {
        table: PathBuf,
        version: u64,
        file: String,
    },
    #[error("table {table}: cannot delete uncommitted file {file}")]
    DeleteOrphan {
        table: PathBuf,
        file: String,
        #[source]
        source: std::io::Error,
    },
}
