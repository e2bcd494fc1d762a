//! Full-text search over a cradle lakehouse for the console: one tantivy
//! document per product, built once from the `products` and `attributes`
//! tables ([`build`]), opened read-only and memory-mapped
//! ([`SearchIndex::open`]), searched with filters, facets and highlights
//! ([`SearchIndex::search`]). No HTTP here: the console wraps this.
//!
//! What a search understands:
//! - words in German and English (stemmed, umlauts folded so "Lüfter" and
//!   "Luefter" are one word), ranked by BM25 over names, descriptions,
//!   family, series, brand and the text of all attributes;
//! - parts of compound words ("leuchte" finds "Einbauleuchte") through
//!   character n-grams, ranked below whole words;
//! - typos (Levenshtein 1 from 5 characters, 2 from 9) for words that match
//!   nothing exactly, ranked lower still;
//! - article numbers exactly or by prefix, ignoring case and the
//!   separators `-`, ` `, `.`, `/`; GTINs and manufacturer numbers exactly;
//! - filters on family, brand, series, ETIM class and on typed attributes
//!   (equality, numeric ranges with units, booleans), and facet counts.
//!
//! Index layout: `<index_dir>/` holds the tantivy files (one merged
//! segment) and `cradle-index.json` ([`IndexMetadata`]: format, the
//! delivery and table versions read, build time, document count, typed
//! attribute keys). See `schema.rs` for the fields.
//!
//! Architecture invariant: opening and searching never write to the index
//! directory (it may live on a read-only image); only [`build`] writes, into
//! a staging directory that replaces the old index by rename.

mod analysis;
mod build;
mod error;
mod meta;
mod readonly;
mod schema;
mod search;

pub use analysis::{fact_key, normalize_attribute, normalize_code, normalize_unit};
pub use build::{
    ATTRIBUTE_COLUMNS, BuildOptions, BuildReport, IndexBuilder, PRODUCT_COLUMNS, build,
};
pub use error::IndexError;
pub use meta::{BuiltFrom, FORMAT, IndexMetadata, METADATA_FILE};
pub use schema::FACET_FIELDS;
pub use search::{
    Filter, Hit, IndexStats, Ranked, Ranking, SearchIndex, SearchRequest, SearchResponse,
};
