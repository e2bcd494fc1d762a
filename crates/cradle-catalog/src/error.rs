//! The error type of cradle-catalog: one variant per failure, the cause
//! attached as `#[source]`, and a stable [`CatalogError::code`] for the
//! console's API. Mistakes in a request (a write in the SQL console, a
//! query that runs too long, a typo in a column) are separate variants from
//! faults of the catalog, so the console can answer them with a 400.

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
        "only read-only queries are allowed: {reason}\n\
         hint: start with SELECT, WITH, VALUES or EXPLAIN; table information is in \
         `SELECT * FROM pragma_table_info('products')`"
    )]
    SqlNotReadOnly { reason: String },
    #[error(
        "only one statement is allowed per query\n\
         hint: remove everything after the first `;`"
    )]
    SqlMultipleStatements,
    #[error("the query is empty\nhint: try `SELECT * FROM products LIMIT 10`")]
    SqlEmpty,
    #[error(
        "the query ran longer than {} s; add a WHERE or LIMIT",
        format_seconds(*limit)
    )]
    SqlTimeout { limit: Duration },
    #[error("{message}\nhint: the tables are {QUERYABLE}")]
    Sql {
        message: String,
        #[source]
        source: sqlx::Error,
    },
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
            CatalogError::Open { .. } => "catalog_open",
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
            CatalogError::SqlNotReadOnly { .. } => "sql_not_read_only",
            CatalogError::SqlMultipleStatements => "sql_multiple_statements",
            CatalogError::SqlEmpty => "sql_empty",
            CatalogError::SqlTimeout { .. } => "sql_timeout",
            CatalogError::Sql { .. } => "sql_error",
        }
    }

    /// Whether the error is the requester's mistake (answer 4xx) rather
    /// than a fault of the catalog (answer 5xx and log the cause).
    pub fn is_request_error(&self) -> bool {
        matches!(
            self,
            CatalogError::NotFound { .. }
                | CatalogError::SqlNotReadOnly { .. }
                | CatalogError::SqlMultipleStatements
                | CatalogError::SqlEmpty
                | CatalogError::SqlTimeout { .. }
                | CatalogError::Sql { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_message_names_the_limit() {
        let error = CatalogError::SqlTimeout {
            limit: Duration::from_secs(5),
        };
        assert_eq!(
            error.to_string(),
            "the query ran longer than 5 s; add a WHERE or LIMIT"
        );
        let error = CatalogError::SqlTimeout {
            limit: Duration::from_millis(200),
        };
        assert!(error.to_string().contains("0.2 s"));
        assert_eq!(error.code(), "sql_timeout");
    }
}
