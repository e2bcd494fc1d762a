//! The narrow interface the routes need from the product catalog, so the
//! HTTP layer does not depend on how products are stored:
//! [`ProductStore`], implemented for the SQLite catalog in `catalog.rs`
//! and by [`MemoryStore`] for tests.
//!
//! Products, listings, classes and families travel as JSON values: the
//! console passes them through, it does not interpret them.

use std::error::Error;
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A boxed, sendable future: what the trait's methods return so the trait
/// stays object-safe (`Arc<dyn ProductStore>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Which products to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductQuery {
    pub family: Option<String>,
    pub brand: Option<String>,
    pub etim_class: Option<String>,
    pub limit: usize,
    pub offset: usize,
    /// With `etim_class`: products that pass it whatever their stored
    /// class, and products that do not whatever their stored class (what
    /// editors' corrections say; set by the query layer, see
    /// `corrections.rs`).
    #[serde(skip)]
    pub class_also: Vec<String>,
    #[serde(skip)]
    pub class_not: Vec<String>,
}

/// A class or family with the number of its products: the items of
/// [`ProductStore::classes`] and [`ProductStore::families`].
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Count {
    pub name: String,
    pub products: u64,
}

/// Counts and provenance of the store, for `/api/stats` and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StoreStats {
    pub products: u64,
    pub attributes: u64,
    pub delivery: Option<u64>,
    pub built_at: Option<String>,
    pub size_bytes: u64,
}

/// The answer to a read-only SQL query.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SqlAnswer {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// Whether rows beyond `max_rows` were left out.
    pub truncated: bool,
    pub elapsed_ms: f64,
}

/// A failure of the store: the requester's mistake (answered 400 with its
/// stable code) or a fault (answered 500, cause logged).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{message}")]
    Request { code: &'static str, message: String },
    #[error("the product store failed")]
    Internal {
        #[source]
        source: Box<dyn Error + Send + Sync>,
    },
}

/// What the console reads products from.
pub trait ProductStore: Send + Sync + 'static {
    /// One product by article number; `None` if there is none.
    fn product<'a>(
        &'a self,
        article_no: &'a str,
    ) -> BoxFuture<'a, Result<Option<Value>, StoreError>>;
    /// A page of products: `{"items": [...], "total", "limit", "offset"}`.
    fn products<'a>(&'a self, query: &'a ProductQuery) -> BoxFuture<'a, Result<Value, StoreError>>;
    /// ETIM classes with their product counts: `[{"name", "products"}]`,
    /// most products first.
    fn classes(&self) -> BoxFuture<'_, Result<Value, StoreError>>;
    /// Product families with their product counts, like [`Self::classes`].
    fn families(&self) -> BoxFuture<'_, Result<Value, StoreError>>;
    fn stats(&self) -> BoxFuture<'_, Result<StoreStats, StoreError>>;
    /// Whether the store still answers (a cheap read); a store held in
    /// memory always does.
    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
    /// Runs one read-only statement, at most `max_rows` rows back.
    fn sql<'a>(
        &'a self,
        query: &'a str,
        max_rows: usize,
    ) -> BoxFuture<'a, Result<SqlAnswer, StoreError>>;
}

/// Products held in memory: for tests and for serving without a catalog.
/// Each product is a JSON object with at least `article_no`.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    products: Vec<Value>,
}

impl MemoryStore {
    pub fn new(products: Vec<Value>) -> MemoryStore {
        MemoryStore { products }
    }

    fn field<'v>(product: &'v Value, name: &str) -> Option<&'v str> {
        product.get(name).and_then(Value::as_str)
    }

    /// (value, count) of a field over all products, most frequent first.
    fn counts(&self, field: &str) -> Value {
        let mut counts = std::collections::BTreeMap::<&str, u64>::new();
        for product in &self.products {
            if let Some(value) = Self::field(product, field) {
                *counts.entry(value).or_default() += 1;
            }
        }
        let mut counts: Vec<_> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        Value::Array(
            counts
                .into_iter()
                .map(|(name, products)| json!({"name": name, "products": products}))
                .collect(),
        )
    }
}

impl ProductStore for MemoryStore {
    fn product<'a>(
        &'a self,
        article_no: &'a str,
    ) -> BoxFuture<'a, Result<Option<Value>, StoreError>> {
        Box::pin(async move {
            Ok(self
                .products
                .iter()
                .find(|p| Self::field(p, "article_no") == Some(article_no))
                .cloned())
        })
    }

    fn products<'a>(&'a self, query: &'a ProductQuery) -> BoxFuture<'a, Result<Value, StoreError>> {
        Box::pin(async move {
            let selected: Vec<&Value> = self
                .products
                .iter()
                .filter(|p| {
                    let article = Self::field(p, "article_no").unwrap_or_default();
                    let class = match &query.etim_class {
                        None => true,
                        Some(_) if query.class_also.iter().any(|a| a == article) => true,
                        Some(_) if query.class_not.iter().any(|a| a == article) => false,
                        Some(wanted) => Self::field(p, "etim_class") == Some(wanted.as_str()),
                    };
                    class
                        && [("family", &query.family), ("brand", &query.brand)]
                            .iter()
                            .all(|(field, wanted)| {
                                wanted.is_none() || Self::field(p, field) == wanted.as_deref()
                            })
                })
                .collect();
            let page: Vec<&Value> = selected
                .iter()
                .skip(query.offset)
                .take(query.limit)
                .copied()
                .collect();
            Ok(json!({
                "items": page,
                "total": selected.len(),
                "limit": query.limit,
                "offset": query.offset,
            }))
        })
    }

    fn classes(&self) -> BoxFuture<'_, Result<Value, StoreError>> {
        Box::pin(async move { Ok(self.counts("etim_class")) })
    }

    fn families(&self) -> BoxFuture<'_, Result<Value, StoreError>> {
        Box::pin(async move { Ok(self.counts("family")) })
    }

    fn stats(&self) -> BoxFuture<'_, Result<StoreStats, StoreError>> {
        Box::pin(async move {
            Ok(StoreStats {
                products: self.products.len() as u64,
                ..StoreStats::default()
            })
        })
    }

    fn sql<'a>(
        &'a self,
        _query: &'a str,
        _max_rows: usize,
    ) -> BoxFuture<'a, Result<SqlAnswer, StoreError>> {
        Box::pin(async move {
            Err(StoreError::Request {
                code: "sql_unsupported",
                message: "this server holds its products in memory and cannot run SQL".to_owned(),
            })
        })
    }
}
