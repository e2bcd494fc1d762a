//! [`ProductStore`] for the SQLite product catalog (`cradle-catalog`):
//! the catalog's types serialised as they are, its errors mapped by
//! their stable codes (requester's mistakes to `StoreError::Request`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cradle_catalog::{Catalog, CatalogError, MAX_PAGE, ProductFilter, SqlError, SqlLimits};
use serde_json::{Value, json};

use crate::store::{BoxFuture, ProductQuery, ProductStore, SqlAnswer, StoreError, StoreStats};

/// How long one SQL query may run.
pub const SQL_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the catalog at `path` as the product store.
pub(crate) async fn open_store(path: &Path) -> Result<Arc<dyn ProductStore>, StoreError> {
    let catalog = Catalog::open(path).await.map_err(store_error)?;
    Ok(Arc::new(catalog))
}

fn store_error(error: CatalogError) -> StoreError {
    if error.is_request_error() {
        StoreError::Request {
            code: error.code(),
            message: error.to_string(),
        }
    } else {
        StoreError::Internal {
            source: Box::new(error),
        }
    }
}

/// SQL errors by their stable codes (`QueryError::from_store` gives the
/// too-large and busy ones their own kinds).
fn sql_error(error: SqlError) -> StoreError {
    // Busy is the server's state, not a fault: it keeps its code (503 with
    // Retry-After), where a fault would become a 500.
    if error.is_request_error() || matches!(error, SqlError::Busy { .. }) {
        StoreError::Request {
            code: error.code(),
            message: error.to_string(),
        }
    } else {
        StoreError::Internal {
            source: Box::new(error),
        }
    }
}

fn to_json(value: impl serde::Serialize) -> Result<Value, StoreError> {
    serde_json::to_value(value).map_err(|source| StoreError::Internal {
        source: Box::new(source),
    })
}

/// `[{"name", "products"}]`, as `MemoryStore` answers too.
fn counts(counts: Vec<(String, u64)>) -> Value {
    counts
        .into_iter()
        .map(|(name, products)| json!({"name": name, "products": products}))
        .collect()
}

impl ProductStore for Catalog {
    fn product<'a>(
        &'a self,
        article_no: &'a str,
    ) -> BoxFuture<'a, Result<Option<Value>, StoreError>> {
        Box::pin(async move {
            match Catalog::product(self, article_no).await {
                Ok(Some(product)) => to_json(product).map(Some),
                Ok(None) | Err(CatalogError::NotFound { .. }) => Ok(None),
                Err(error) => Err(store_error(error)),
            }
        })
    }

    fn products<'a>(&'a self, query: &'a ProductQuery) -> BoxFuture<'a, Result<Value, StoreError>> {
        Box::pin(async move {
            let filter = ProductFilter {
                family: query.family.clone(),
                brand: query.brand.clone(),
                etim_class: query.etim_class.clone(),
                class_also: query.class_also.clone(),
                class_not: query.class_not.clone(),
                limit: u32::try_from(query.limit).unwrap_or(MAX_PAGE).min(MAX_PAGE),
                offset: query.offset as u64,
            };
            to_json(
                Catalog::products(self, &filter)
                    .await
                    .map_err(store_error)?,
            )
        })
    }

    fn classes(&self) -> BoxFuture<'_, Result<Value, StoreError>> {
        Box::pin(async move { Ok(counts(Catalog::classes(self).await.map_err(store_error)?)) })
    }

    fn families(&self) -> BoxFuture<'_, Result<Value, StoreError>> {
        Box::pin(async move { Ok(counts(Catalog::families(self).await.map_err(store_error)?)) })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move { Catalog::ping(self).await.map_err(store_error) })
    }

    fn stats(&self) -> BoxFuture<'_, Result<StoreStats, StoreError>> {
        Box::pin(async move {
            let stats = Catalog::stats(self).await.map_err(store_error)?;
            Ok(StoreStats {
                products: stats.products,
                attributes: stats.attributes,
                delivery: Some(stats.delivery),
                built_at: Some(stats.built_at),
                size_bytes: stats.size_bytes,
            })
        })
    }

    fn sql<'a>(
        &'a self,
        query: &'a str,
        max_rows: usize,
    ) -> BoxFuture<'a, Result<SqlAnswer, StoreError>> {
        Box::pin(async move {
            let limits = SqlLimits {
                max_rows,
                timeout: SQL_TIMEOUT,
                ..SqlLimits::default()
            };
            let result = Catalog::sql(self, query, &limits)
                .await
                .map_err(sql_error)?;
            Ok(SqlAnswer {
                columns: result.columns,
                rows: result.rows,
                truncated: result.truncated,
                elapsed_ms: result.elapsed_ms as f64,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QueryError;

    #[test]
    fn busy_sql_is_503_not_a_fault() {
        let busy = QueryError::from_store("sql", sql_error(SqlError::Busy { connections: 4 }));
        assert!(
            matches!(
                busy,
                QueryError::Busy {
                    code: "sql_busy",
                    ..
                }
            ),
            "{busy:?}"
        );
        let timeout =
            QueryError::from_store("sql", sql_error(SqlError::Timeout { limit: SQL_TIMEOUT }));
        assert_eq!(timeout.code(), "sql_timeout");
    }
}
