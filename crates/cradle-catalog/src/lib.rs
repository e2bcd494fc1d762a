//! The console's product catalog: a SQLite file (`catalog.db`) built once
//! from the published delivery of a lakehouse ([`build`]), opened
//! read-only, immutable and memory-mapped ([`Catalog::open`]), answering
//! product pages in milliseconds ([`Catalog::product`]), listings and
//! counts, and bounded read-only SQL for power users and AI agents
//! ([`Catalog::sql`], on connections of its own, read-only as SQLite's
//! authorizer decides; see `sql/mod.rs`).
//!
//! Why SQLite: the console serves from data baked read-only into an image
//! and must not rebuild anything at startup. A query engine over parquet
//! (DataFusion) would cost far more build time and binary size; SQLite via
//! sqlx is needed for the state database anyway.
//!
//! What is in the file: see `schema.rs` (the four lakehouse tables with
//! their Delta columns, plus deliveries, product history, relations, media,
//! a features view and `catalog_info`); what is derived and by which rules:
//! see `derive.rs`.
//!
//! Architecture invariant: the catalog reads only the table versions named
//! by published delivery records (`_cradle/deliveries/<n>.json`), never a
//! table's latest version, which may belong to an unpublished ingest.
//!
//! Architecture invariant: opening and querying never write to the file or
//! its directory (no journal, no WAL, no locks); only [`build`] writes, to
//! a temporary file renamed into place.

mod build;
mod catalog;
pub mod delivery;
pub mod derive;
mod error;
mod schema;
mod sql;
mod values;

pub use build::{CatalogBuildReport, build};
pub use catalog::{
    Alternative, AttributeGroup, AttributeValue, Catalog, CatalogStats, Classification, Feature,
    HistoryEvent, MAX_PAGE, MappedFeature, Media, Page, Product, ProductFilter, ProductSummary,
    Provenance, RelatedProduct,
};
pub use delivery::DeliveryRecord;
pub use error::{CatalogError, SqlError};
pub use sql::{
    MAX_QUERY_BYTES, MAX_VALUE_BYTES, SQL_CONNECTIONS, SqlLimits, SqlResult, Truncation, sql_text,
};

/// The catalog file format; a catalog of another format is not opened.
pub const FORMAT: u32 = 2;
