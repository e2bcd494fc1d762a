//! The error type of cradle-index: one variant per failure, the cause
//! attached as `#[source]`. Mistakes in a request (an unknown facet, a
//! range without bounds) are separate variants from index faults, so the
//! console can answer them with a 400 rather than a 500.

use std::path::PathBuf;

/// Everything that can go wrong building, opening or searching an index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("cannot read the lakehouse table {table}")]
    Lake {
        table: PathBuf,
        #[source]
        source: cradle_lake::LakeError,
    },
    #[error("table {table}: column {column:?} is missing or has an unexpected type")]
    Column { table: PathBuf, column: String },
    #[error("cannot read the delivery record {path}")]
    DeliveryRecord {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the delivery record {path} is damaged")]
    DamagedDeliveryRecord {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the delivery record {path} names no version of table {table:?}")]
    DeliveryWithoutTable { path: PathBuf, table: String },
    #[error("cannot prepare the index directory {path}")]
    Prepare {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} exists and is not a cradle index; refusing to replace it\n\
         hint: pass an empty or new directory"
    )]
    ForeignDirectory { path: PathBuf },
    #[error("cannot write the index in {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: tantivy::TantivyError,
    },
    #[error("cannot write the index metadata {path}")]
    WriteMetadata {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is not a cradle search index (no cradle-index.json)\n\
         hint: build it with `cradle index`"
    )]
    NotAnIndex { path: PathBuf },
    #[error("cannot read the index metadata {path}")]
    ReadMetadata {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the index metadata {path} is damaged")]
    DamagedMetadata {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "the index in {path} has format {found}, this cradle reads format {expected}\n\
         hint: rebuild it with `cradle index`"
    )]
    IncompatibleFormat {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("cannot open the index in {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: tantivy::TantivyError,
    },
    #[error("the index in {path} lacks the field {field:?}\nhint: rebuild it with `cradle index`")]
    MissingField { path: PathBuf, field: String },
    #[error("search failed")]
    Search {
        #[source]
        source: tantivy::TantivyError,
    },
    #[error(
        "cannot facet on {facet:?} (facets: family, brand, series, etim_class, or one of the {attributes} attributes listed as facet_attributes in /api/stats)"
    )]
    UnknownFacet { facet: String, attributes: usize },
    #[error("the range filter on {field:?} has neither a minimum nor a maximum")]
    EmptyRange { field: String },
    #[error("the filter field {field:?} is empty")]
    EmptyFilterField { field: String },
    #[error(
        "no value of {field:?} is in {unit:?} or a unit convertible to it; its values are in: {}",
        if delivered.is_empty() { "no unit (the attribute has no numbers with units)".to_owned() } else { delivered.join(", ") }
    )]
    UnknownUnit {
        field: String,
        unit: String,
        delivered: Vec<String>,
    },
}

impl IndexError {
    /// Whether the error is the requester's mistake (bad filter or facet)
    /// rather than a fault of the index.
    pub fn is_request_error(&self) -> bool {
        matches!(
            self,
            IndexError::UnknownFacet { .. }
                | IndexError::EmptyRange { .. }
                | IndexError::EmptyFilterField { .. }
                | IndexError::UnknownUnit { .. }
        )
    }
}
