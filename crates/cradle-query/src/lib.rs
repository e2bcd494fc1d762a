//! The queries over one customer's data that every transport shares: the
//! console's HTTP API, its web pages and the MCP server are thin adapters
//! over this crate.
//!
//! - [`Data`]: the read-only data (search index, product catalog, vector
//!   index and query model, reports), opened without building anything;
//!   [`DataSlot`] holds it while a server opens it in the background.
//! - [`search`]: keyword, vector and hybrid search with filters and
//!   facets, and the text syntax of search parameters.
//! - [`corrections`]: editors' class corrections from the state database,
//!   applied over the read-only data to products, hits, the class filter
//!   and its facet ([`Overlay`]).
//! - [`ops`]: one product, a page, classes, families, read-only SQL.
//! - [`runs`]: the history of `cradle run` (`reports/runs.jsonl`) for
//!   the admin page.
//! - [`store`]: the narrow [`ProductStore`] interface over the catalog
//!   (and an in-memory store for tests).
//! - [`QueryError`]: typed failures with stable codes.
//!
//! Architecture invariant: no HTTP, no MCP, no HTML here; nothing is
//! written to the data folder.

mod catalog;
pub mod corrections;
pub mod data;
mod error;
pub mod filter;
pub mod ops;
pub mod runs;
pub mod search;
pub mod store;
pub mod vectors;

pub use catalog::SQL_TIMEOUT;
pub use corrections::{ClassCorrection, ClassCorrections, Overlay};
pub use data::{Data, DataSlot, OpenError, Reports};
pub use error::{QueryError, chain};
pub use filter::FilterSpec;
pub use search::Mode;
pub use store::{
    Count, MemoryStore, ProductQuery, ProductStore, SqlAnswer, StoreError, StoreStats,
};
pub use vectors::Vectors;
