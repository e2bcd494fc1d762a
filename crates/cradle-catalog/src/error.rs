//! The error types of cradle-catalog: one variant per failure, the cause
//! attached as `#[source]`, and a stable `code()` for the API.
//! [`CatalogError`] covers building, opening and product pages;
//! [`SqlError`] a user's SQL query, where mistakes in a request (a write,
//! a query that runs too long, a typo in a column) are separate variants
//! from faults, each with the HTTP status a transport answers with.

use std::path::PathBuf;
use std::time::Duration;

/// The tables a SQL user can query, named in hints.
pub(crate) const QUERYABLE: &str = "products, attributes, features, relations, media, \
     product_history, deliveries, rejects, files, catalog_info";

/// Everything that can go wrong building, opening or querying a catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("no catalog at {path}\nhint: run `cradle index --workspace <WS>`")]
    Missing { path: PathBuf },
    #[error(
        "cannot open the catalog {path}\nhint: rebuild it with `cradle index --workspace <WS>`"
    )]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "{path} is not a cradle catalog or was built by another cradle version\n\
         hint: rebuild it with `cradle index --workspace <WS>`"
    )]
    Incompatible { path: PathBuf },
    #[error(
        "the lakehouse {path} has no published delivery\n\
         hint: run `cradle ingest` first"
    )]
    NoDelivery { path: PathBuf },
    #[error("cannot read the delivery records in {path}")]
    DeliveryRecord {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the delivery record {path} is damaged\n\
         hint: delete it to fall back to the delivery before"
    )]
    DamagedDeliveryRecord {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the delivery record {path} names no version of table {table:?}")]
    DeliveryWithoutTable { path: PathBuf, table: String },
    #[error("cannot read the lakehouse table {table}")]
    Lake {
        table: PathBuf,
        #[source]
        source: cradle_lake::LakeError,
    },
    #[error("table {table}: column {column:?} has the unsupported type {data_type}")]
    UnsupportedColumn {
        table: PathBuf,
        column: String,
        data_type: String,
    },
    #[error("table {table}: column {column:?} is missing or has an unexpected type")]
    Column { table: PathBuf, column: String },
    #[error("cannot write the catalog {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot prepare the catalog file {path}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the catalog query failed")]
    Query {
        #[source]
        source: sqlx::Error,
    },
    #[error("no product {article_no:?}")]
    NotFound { article_no: String },
    #[error(
        "cannot open a SQL connection to the catalog {path}\n\
         hint: rebuild it with `cradle index --workspace <WS>`"
    )]
    OpenSql {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

/// Everything that can go wrong with a user's SQL query
/// ([`Catalog::sql`](crate::Catalog::sql)): each with a stable
/// [`code`](SqlError::code) and the HTTP status a transport answers with
/// ([`http_status`](SqlError::http_status)). All but `Busy` and `Internal`
/// are the requester's doing.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("the query is empty\nhint: try `SELECT * FROM products LIMIT 10`")]
    Empty,
    #[error(
        "the query is not valid text: {what} at byte {position}\n\
         hint: send the query as UTF-8 without NUL or control characters"
    )]
    InvalidText { what: String, position: usize },
    #[error(
        "the query is {length} bytes long, more than the {limit} allowed\n\
         hint: shorten it; large lists of values belong in a WHERE on a column"
    )]
    TooLong { length: usize, limit: usize },
    #[error(
        "only one statement is allowed per query\n\
         hint: remove everything after the first `;`"
    )]
    MultipleStatements,
    #[error(
        "only read-only queries are allowed; not allowed: {what}\n\
         hint: SELECT, WITH, VALUES and EXPLAIN read; table information is in \
         `SELECT * FROM pragma_table_info('products')`"
    )]
    NotReadOnly { what: String },
    #[error(
        "the query ran longer than {} s; add a WHERE or LIMIT",
        format_seconds(*limit)
    )]
    Timeout { limit: Duration },
    #[error(
        "the result is larger than {limit} bytes before its first row is complete\n\
         hint: select fewer or shorter columns (substr, length)"
    )]
    ResultTooLarge { limit: usize },
    #[error(
        "the query made a value larger than {limit} bytes\n\
         hint: select fewer or shorter columns (substr, length)"
    )]
    ValueTooLarge {
        limit: usize,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "all {connections} SQL connections stayed busy for the query's whole time limit\n\
         hint: retry in a moment"
    )]
    Busy { connections: usize },
    #[error(
        "{message}{}\nhint: the tables are {QUERYABLE}",
        position.map(|p| format!(" (at byte {p})")).unwrap_or_default()
    )]
    Invalid {
        message: String,
        /// Where in the query SQLite stopped, if it says.
        position: Option<usize>,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the SQL engine failed")]
    Internal {
        #[source]
        source: rusqlite::Error,
    },
    #[error("the SQL worker thread failed")]
    Worker {
        #[source]
        source: tokio::task::JoinError,
    },
}

impl SqlError {
    /// A stable code for API responses (`sql_timeout`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            SqlError::Empty => "sql_empty",
            SqlError::InvalidText { .. } => "sql_invalid_text",
            SqlError::TooLong { .. } => "sql_too_long",
            SqlError::MultipleStatements => "sql_multiple_statements",
            SqlError::NotReadOnly { .. } => "sql_not_read_only",
            SqlError::Timeout { .. } => "sql_timeout",
            SqlError::ResultTooLarge { .. } | SqlError::ValueTooLarge { .. } => "sql_too_large",
            SqlError::Busy { .. } => "sql_busy",
            SqlError::Invalid { .. } => "sql_error",
            SqlError::Internal { .. } | SqlError::Worker { .. } => "sql_internal",
        }
    }

    /// The HTTP status for this error: 400 for a query that cannot run,
    /// 408 when it ran out of time, 413 when the query or its result is
    /// too large, 503 when no connection was free, 500 for faults.
    pub fn http_status(&self) -> u16 {
        match self {
            SqlError::Empty
            | SqlError::InvalidText { .. }
            | SqlError::MultipleStatements
            | SqlError::NotReadOnly { .. }
            | SqlError::Invalid { .. } => 400,
            SqlError::Timeout { .. } => 408,
            SqlError::TooLong { .. }
            | SqlError::ResultTooLarge { .. }
            | SqlError::ValueTooLarge { .. } => 413,
            SqlError::Busy { .. } => 503,
            SqlError::Internal { .. } | SqlError::Worker { .. } => 500,
        }
    }

    /// Whether the error is the requester's mistake (answer 4xx) rather
    /// than the server's state or fault (5xx; log the cause).
    pub fn is_request_error(&self) -> bool {
        self.http_status() < 500
    }
}

fn format_seconds(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds.fract() == 0.0 {
        format!("{seconds:.0}")
    } else {
        format!("{seconds}")
    }
}

impl CatalogError {
    /// A stable code for API responses (`not_found`, `sql_timeout`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            CatalogError::Missing { .. } => "catalog_missing",
            CatalogError::Open { .. } | CatalogError::OpenSql { .. } => "catalog_open",
            CatalogError::Incompatible { .. } => "catalog_incompatible",
            CatalogError::NoDelivery { .. } => "no_delivery",
            CatalogError::DeliveryRecord { .. }
            | CatalogError::DamagedDeliveryRecord { .. }
            | CatalogError::DeliveryWithoutTable { .. } => "delivery_record",
            CatalogError::Lake { .. }
            | CatalogError::UnsupportedColumn { .. }
            | CatalogError::Column { .. } => "lakehouse",
            CatalogError::Write { .. } | CatalogError::File { .. } => "catalog_write",
            CatalogError::Query { .. } => "catalog_query",
            CatalogError::NotFound { .. } => "not_found",
        }
    }

    /// Whether the error is the requester's mistake (answer 4xx) rather
    /// than a fault of the catalog (answer 5xx and log the cause).
    pub fn is_request_error(&self) -> bool {
        matches!(self, CatalogError::NotFound { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_message_names_the_limit() {
        let error = SqlError::Timeout {
            limit: Duration::from_secs(5),
        };
        assert_eq!(
            error.to_string(),
            "the query ran longer than 5 s; add a WHERE or LIMIT"
        );
        assert_eq!(error.http_status(), 408);
        let error = SqlError::Timeout {
            limit: Duration::from_millis(200),
        };
        assert!(error.to_string().contains("0.2 s"));
        assert_eq!(error.code(), "sql_timeout");
    }
}
