//! Read-only, bounded SQL over the catalog for power users and AI agents
//! (the console's `/api/sql`, the MCP tool `run_sql`).
//!
//! Read-only is decided by SQLite itself, in layers that each suffice for
//! writes:
//! 1. every statement is compiled under an authorizer (`authorizer.rs`)
//!    that allows SELECT, reading tables, recursive CTEs, an allow-list of
//!    functions and the PRAGMAs that only describe the schema, and denies
//!    everything else while the statement is being prepared, before any
//!    PRAGMA takes effect;
//! 2. a statement SQLite does not call read-only (`sqlite3_stmt_readonly`;
//!    `VACUUM INTO`, which no authorizer sees) is never stepped;
//! 3. the connections open the file read-only and immutable, with
//!    `query_only`, SQLite's defensive mode, and no attaching.
//!
//! Bounds, all enforced while the query runs: the text is checked before
//! SQLite sees it (`text.rs`); each connection limits what SQLite may
//! build ([`MAX_VALUE_BYTES`] for any string or blob, statement length,
//! expression depth, columns); rows are converted one at a time and stop
//! at `max_rows` or `max_bytes` of JSON, so memory stays near the bound;
//! one deadline covers waiting for a connection, running and converting.
//!
//! Isolation: user SQL runs on its own pool of [`SQL_CONNECTIONS`]
//! connections (`engine.rs`), never on those of product pages and never
//! on the state database's, so slow queries cannot starve either.

mod authorizer;
mod engine;
mod text;

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

pub(crate) use engine::SqlPool;
pub use engine::{MAX_VALUE_BYTES, SQL_CONNECTIONS};
pub use text::{MAX_QUERY_BYTES, sql_text};

use crate::{Catalog, SqlError};

/// Bounds of one SQL query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlLimits {
    /// Rows returned at most; more make the result `truncated`.
    pub max_rows: usize,
    /// Bytes of the rows' JSON at most; more make the result `truncated`
    /// (or the error `sql_too_large` when not even one row fits).
    pub max_bytes: usize,
    /// Wall-clock time from the call to the last row converted, waiting
    /// for a free connection included; longer is the error `sql_timeout`.
    pub timeout: Duration,
}

impl Default for SqlLimits {
    fn default() -> Self {
        SqlLimits {
            max_rows: 1000,
            max_bytes: 8 << 20,
            timeout: Duration::from_secs(5),
        }
    }
}

/// Which bound cut a result short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Truncation {
    /// More rows than `max_rows`.
    Rows,
    /// The next row would have passed `max_bytes`.
    Bytes,
}

/// The result of a SQL query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SqlResult {
    pub columns: Vec<String>,
    /// Each row's values in column order: integers, reals, text, null;
    /// blobs as lowercase hex strings.
    pub rows: Vec<Vec<Value>>,
    /// Whether rows were left out (see `truncated_by`).
    pub truncated: bool,
    /// The bound that left rows out, if one did.
    pub truncated_by: Option<Truncation>,
    /// Bytes of the rows' JSON (what `max_bytes` bounds).
    pub bytes: usize,
    pub elapsed_ms: u64,
}

impl Catalog {
    /// Runs one read-only statement within `limits` on the SQL pool.
    ///
    /// The text is checked with [`sql_text`] first; errors carry a stable
    /// code and an HTTP status ([`SqlError::code`],
    /// [`SqlError::http_status`]).
    pub async fn sql(&self, query: &str, limits: &SqlLimits) -> Result<SqlResult, SqlError> {
        let started = std::time::Instant::now();
        let text = sql_text(query.as_bytes())?;
        self.sql.run(text, limits, started).await
    }
}
