//! The queries over one customer's data that every transport shares: the
//! console's HTTP API, its web pages and the MCP server are thin adapters
//! over this crate.
//!
//! - [`Data`]: the read-only data (search index, product catalog, vector
//!   index and query model, reports), opened without building anything;
//!   [`DataSlot`] holds it while a server opens it in the background.
//! - [`search`]: keyword, vector and hybrid search with filters and
//!   facets, and the text syntax of search parameters.
//! - [`ops`]: one product, a page, classes, families, read-only SQL.
//! - [`store`]: the narrow [`ProductStore`] interface over the catalog
//!   (and an in-memory store for tests).
//! - [`QueryError`]: typed failures with stable codes.
//!
//! Architecture invariant: no HTTP, no MCP, no HTML here; nothing is
//! written to the data folder.

mod catalog;
pub mod data;
mod error;
pub mod filter;
pub mod ops;
pub mod search;
pub mod store;
pub mod vectors;

pub use catalog::SQL_TIMEOUT;
pub use data::{Data, DataSlot, OpenError, Reports};
pub use error::{QueryError, chain};
pub use filter::FilterSpec;
pub use search::Mode;
pub use store::{
    Count, MemoryStore, ProductQuery, ProductStore, SqlAnswer, StoreError, StoreStats,
};
pub use vectors::Vectors;
