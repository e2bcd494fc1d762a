//! What a reader of the catalogue can ask besides search: one product, a
//! filtered page, the classes and families with their counts, read-only
//! SQL. Each answers a [`QueryError`] with the same stable codes for every
//! transport.

use serde_json::Value;

use crate::data::Data;
use crate::error::QueryError;
use crate::store::{ProductQuery, SqlAnswer};

/// Rows returned by SQL when no bound is given.
pub const DEFAULT_MAX_ROWS: usize = 100;
/// The most rows one SQL query may return.
pub const MAX_ROWS: usize = 10_000;

/// `value` within `range`, or a 400 that names `name` and the range.
pub fn within(
    name: &str,
    value: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, QueryError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(QueryError::invalid(
            name,
            format!(
                "must be from {} to {}, got {value}",
                range.start(),
                range.end()
            ),
        ))
    }
}

impl Data {
    /// One product with every attribute and its provenance, its class
    /// as an editor corrected it if one did.
    pub async fn product(&self, article_no: &str) -> Result<Value, QueryError> {
        match self.store().product(article_no).await {
            Ok(Some(mut product)) => {
                self.corrections().await?.apply_to_product(&mut product);
                Ok(product)
            }
            Ok(None) => Err(QueryError::NotFound {
                code: "not_found",
                message: format!("no product with the article number {article_no:?}"),
            }),
            Err(error) => Err(QueryError::from_store("cannot read the product", error)),
        }
    }

    /// A page of products: `{"items", "total", "limit", "offset"}`; the
    /// class filter and the classes follow editors' corrections.
    pub async fn products(&self, query: &ProductQuery) -> Result<Value, QueryError> {
        let overlay = self.corrections().await?;
        let mut query = query.clone();
        overlay.apply_to_query(&mut query);
        let mut page = self
            .store()
            .products(&query)
            .await
            .map_err(|e| QueryError::from_store("cannot list the products", e))?;
        overlay.apply_to_page(&mut page);
        Ok(page)
    }

    /// ETIM classes with their product counts, most products first; a
    /// corrected product counts under the editor's class.
    pub async fn classes(&self) -> Result<Value, QueryError> {
        let overlay = self.corrections().await?;
        let mut counts = self
            .store()
            .classes()
            .await
            .map_err(|e| QueryError::from_store("cannot list the classes", e))?;
        if !overlay.is_empty() {
            let mut before = std::collections::HashMap::new();
            for article in overlay.articles() {
                let product = self
                    .store()
                    .product(article)
                    .await
                    .map_err(|e| QueryError::from_store("cannot list the classes", e))?;
                if let Some(product) = product {
                    let class = product
                        .get("etim_class")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    before.insert(article.to_owned(), class);
                }
            }
            overlay.apply_to_counts(&mut counts, &before);
        }
        Ok(counts)
    }

    /// Product families with their product counts, most products first.
    pub async fn families(&self) -> Result<Value, QueryError> {
        self.store()
            .families()
            .await
            .map_err(|e| QueryError::from_store("cannot list the families", e))
    }

    /// One read-only SQL statement, at most `max_rows` rows (1 to
    /// [`MAX_ROWS`]).
    pub async fn sql(&self, query: &str, max_rows: usize) -> Result<SqlAnswer, QueryError> {
        let max_rows = within("max_rows", max_rows, 1..=MAX_ROWS)?;
        self.store()
            .sql(query, max_rows)
            .await
            .map_err(|e| QueryError::from_store("the SQL query failed", e))
    }

    /// A search in any mode (see [`crate::search`]).
    pub async fn search(
        &self,
        request: cradle_index::SearchRequest,
        mode: crate::Mode,
    ) -> Result<cradle_index::SearchResponse, QueryError> {
        crate::search::run(self, request, mode).await
    }
}
