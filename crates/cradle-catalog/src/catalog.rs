//! The read side: [`Catalog`] opens `catalog.db` read-only and immutable
//! (no locks, no journal, nothing written next to it, so it can live in a
//! read-only image), memory-mapped, and answers the console's product
//! pages, listings and counts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{Column, Row};

use crate::derive::is_feature;
use crate::sql::SqlPool;
use crate::{CatalogError, FORMAT, values};

/// Bytes of the catalog file SQLite maps into memory (more than any
/// catalog is; the OS pages in what queries touch).
const MMAP_BYTES: u64 = 1 << 34;
/// Connections for product pages, listings and counts. User SQL has a
/// pool of its own ([`crate::SQL_CONNECTIONS`]), so it never holds these.
const CONNECTIONS: u32 = 4;
/// Most rows a listing returns per page.
pub const MAX_PAGE: u32 = 1000;

/// Products (`p`) with enrich's classification (`c`) where there is one.
const CLASSIFIED: &str = "products p LEFT JOIN classifications c ON c.article_no = p.article_no";
/// A product's class, as [`Product::etim_class`] says: enrich's when it
/// classified the product, else the delivered one.
const CLASS: &str = "(CASE WHEN c.article_no IS NULL THEN p.etim_class ELSE c.etim_class END)";

/// Names with their product counts, most products first.
type Counts = Vec<(String, u64)>;

/// The read-only catalog of the published delivery.
#[derive(Debug, Clone)]
pub struct Catalog {
    pool: SqlitePool,
    pub(crate) sql: Arc<SqlPool>,
    path: PathBuf,
    /// Counts per class, family and brand, computed once: the file never
    /// changes while it is open, and counting classes joins every product
    /// with its classification (about 100 ms at 105,000 products, which
    /// every product page an editor opens would otherwise pay).
    counted: Arc<std::sync::Mutex<std::collections::HashMap<&'static str, Counts>>>,
}

/// One product with everything the catalog knows about it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Product {
    pub article_no: String,
    /// The other columns of `products` that have a value (canonical
    /// fields such as `name_de`, `family`, `price`, and the counts
    /// `records`, `attributes`, `conflicts`, `content_hash`).
    pub fields: BTreeMap<String, Value>,
    /// The product's ETIM class: enrich's when the delivery was enriched
    /// (see [`Classification`]), else the one delivered.
    pub etim_class: Option<String>,
    /// Where [`Self::etim_class`] came from: enrich's source (`delivered`,
    /// `neighbours`, `names`, `attributes`), or `delivered` for a class
    /// that came with a delivery that was not enriched; none without class.
    pub etim_class_source: Option<String>,
    /// How sure enrich's classifier is, from 0 to 1.
    pub etim_class_confidence: Option<f32>,
    /// What enrich decided; absent when the delivery was not enriched.
    pub classification: Option<Classification>,
    /// ETIM features (attributes named `EF` + six digits), one per code,
    /// from the first source that gives it.
    pub features: Vec<Feature>,
    /// All attribute values, grouped by attribute name (sorted), each with
    /// its provenance.
    pub attributes: Vec<AttributeGroup>,
    pub media: Vec<Media>,
    /// Relations from and to this product.
    pub relations: Vec<RelatedProduct>,
    /// What happened to the product in each delivery (only deliveries in
    /// which it was added, changed or removed), oldest first.
    pub history: Vec<HistoryEvent>,
}

impl Product {
    /// A text field such as `name_de`, if present.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Value::as_str)
    }
}

/// The values of one attribute.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AttributeGroup {
    pub name: String,
    pub values: Vec<AttributeValue>,
}

/// One attribute value: the original text, its typed reading and where it
/// came from.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AttributeValue {
    pub header: String,
    /// The canonical field the column maps to, if any.
    pub field: Option<String>,
    pub original: String,
    /// The typed value: a number, a boolean, an ISO date, the text, or null
    /// for a "no value" marker.
    pub value: Value,
    pub unit: Option<String>,
    pub no_value: bool,
    pub provenance: Provenance,
}

/// The cell an attribute value was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Provenance {
    pub file: String,
    pub sheet: Option<String>,
    pub row: i64,
    pub column: String,
}

/// An ETIM feature value.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Feature {
    /// `EF` and six digits.
    pub code: String,
    /// The header it was delivered under.
    pub name: String,
    pub value: Value,
    pub original: String,
    pub unit: Option<String>,
}

/// An image, PDF or link of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Media {
    /// `image`, `pdf` or `link`.
    pub kind: String,
    /// The file name or URL as delivered.
    pub reference: String,
    /// The attribute it was delivered as; empty for a delivered file that
    /// no attribute names (linked by the article number in its name).
    pub attribute: String,
    /// The text enrich extracted from the delivered file (PDF text layer,
    /// OCR, caption); absent when there is none or it was not enriched.
    pub text: Option<String>,
    /// The file in the delivery the text was read from.
    pub text_source: Option<String>,
}

/// A product's ETIM class as enrich decided it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Classification {
    /// None when no class could be decided.
    pub etim_class: Option<String>,
    pub class_name: Option<String>,
    /// From 0 to 1.
    pub confidence: Option<f32>,
    /// `delivered` (the delivered code is valid), `neighbours` (classes of
    /// the nearest products by embedding), `names` (class names and
    /// synonyms in the product's texts), `attributes` (fit of the
    /// attributes to the class's features), or `none`.
    pub source: String,
    /// The runners-up with their confidence, best first.
    pub alternatives: Vec<Alternative>,
    /// The class code as delivered, and what is wrong with it, if anything.
    pub delivered_code: Option<String>,
    pub delivered_code_problem: Option<String>,
    /// Source attributes mapped to the features of the class.
    pub features: Vec<MappedFeature>,
}

/// Another class the classifier considered.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Alternative {
    pub etim_class: String,
    pub confidence: f32,
}

/// A source attribute mapped to an ETIM feature of the product's class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MappedFeature {
    /// `EF` and six digits.
    pub code: String,
    pub name: String,
    pub value: String,
    pub unit: Option<String>,
    /// The delivered attribute the value came from.
    pub attribute: String,
    /// Why the attribute was taken for the feature.
    pub reason: String,
}

/// Another product related to this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RelatedProduct {
    /// `accessory`, `successor` or `related`.
    pub relation: String,
    /// `outgoing`: this product names the other (the other is its
    /// accessory or successor); `incoming`: the other names this one (this
    /// is the other's accessory or successor).
    pub direction: String,
    pub article_no: String,
    pub name_de: Option<String>,
    pub name_en: Option<String>,
}

/// A delivery in which a product was added, changed or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct HistoryEvent {
    pub delivery: u64,
    pub committed_at: Option<String>,
    /// `added`, `changed` or `removed`.
    pub status: String,
    /// The product's content hash after the delivery (none if removed).
    pub content_hash: Option<String>,
}

/// Which products to list; all conditions must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductFilter {
    pub family: Option<String>,
    pub brand: Option<String>,
    pub etim_class: Option<String>,
    /// With `etim_class`: these products pass it whatever their class,
    /// and these do not (what editors' corrections decide elsewhere).
    pub class_also: Vec<String>,
    pub class_not: Vec<String>,
    /// At most [`MAX_PAGE`].
    pub limit: u32,
    pub offset: u64,
}

impl Default for ProductFilter {
    fn default() -> Self {
        ProductFilter {
            family: None,
            brand: None,
            etim_class: None,
            class_also: Vec::new(),
            class_not: Vec::new(),
            limit: 50,
            offset: 0,
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Items matching the filter over all pages.
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
}

/// A product in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ProductSummary {
    pub article_no: String,
    pub name_de: Option<String>,
    pub name_en: Option<String>,
    pub family: Option<String>,
    pub series: Option<String>,
    pub brand: Option<String>,
    pub etim_class: Option<String>,
    pub gtin: Option<String>,
}

/// What the catalog holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogStats {
    pub products: u64,
    pub attributes: u64,
    pub rejects: u64,
    pub files: u64,
    pub relations: u64,
    pub media: u64,
    /// The published delivery the catalog was built from.
    pub delivery: u64,
    pub customer: String,
    pub committed_at: String,
    /// Table name to the Delta version read.
    pub tables: BTreeMap<String, u64>,
    pub built_at: String,
    pub size_bytes: u64,
}

impl Catalog {
    /// Opens the catalog at `path` read-only, immutable and memory-mapped.
    /// Fast (no scan of the file) and never writes next to it.
    pub async fn open(path: &Path) -> Result<Catalog, CatalogError> {
        if !path.is_file() {
            return Err(CatalogError::Missing {
                path: path.to_path_buf(),
            });
        }
        let open_error = |source| CatalogError::Open {
            path: path.to_path_buf(),
            source,
        };
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .immutable(true)
            .foreign_keys(false)
            .pragma("mmap_size", MMAP_BYTES.to_string())
            .pragma("query_only", "ON");
        let pool = SqlitePoolOptions::new()
            .max_connections(CONNECTIONS)
            .min_connections(1)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        let format: Option<String> =
            sqlx::query_scalar("SELECT value FROM catalog_info WHERE key = 'format'")
                .fetch_optional(&pool)
                .await
                .unwrap_or(None);
        if format.as_deref() != Some(FORMAT.to_string().as_str()) {
            pool.close().await;
            return Err(CatalogError::Incompatible {
                path: path.to_path_buf(),
            });
        }
        let sql = match SqlPool::open(path) {
            Ok(sql) => sql,
            Err(source) => {
                pool.close().await;
                return Err(CatalogError::OpenSql {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Ok(Catalog {
            pool,
            sql,
            path: path.to_path_buf(),
            counted: Arc::default(),
        })
    }

    /// The catalog file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the connections (they also close when the last clone drops).
    pub async fn close(&self) {
        self.sql.close();
        self.pool.close().await;
    }

    /// The product `article_no` (exact), `None` if the published delivery
    /// has no such product.
    pub async fn product(&self, article_no: &str) -> Result<Option<Product>, CatalogError> {
        let query_error = |source| CatalogError::Query { source };
        let Some(row) = sqlx::query("SELECT * FROM products WHERE article_no = ?")
            .bind(article_no)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error)?
        else {
            return Ok(None);
        };
        let mut fields = BTreeMap::new();
        for (index, column) in row.columns().iter().enumerate() {
            let value = values::json(&row, index);
            if column.name() != "article_no" && !value.is_null() {
                fields.insert(column.name().to_owned(), value);
            }
        }
        let rows = sqlx::query(
            "SELECT attribute, header, field, original, value_number, value_bool, value_date, \
                    unit, no_value, source_file, source_sheet, source_row, source_column \
             FROM attributes WHERE article_no = ? \
             ORDER BY attribute, source_file, source_sheet, source_row, source_column",
        )
        .bind(article_no)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error)?;
        let mut attributes: Vec<AttributeGroup> = Vec::new();
        let mut features: Vec<Feature> = Vec::new();
        for row in &rows {
            let name: String = row.try_get("attribute").map_err(query_error)?;
            let value = attribute_value(row).map_err(query_error)?;
            if is_feature(&name) && features.last().is_none_or(|f| f.code != name) {
                features.push(Feature {
                    code: name.clone(),
                    name: value.header.clone(),
                    value: value.value.clone(),
                    original: value.original.clone(),
                    unit: value.unit.clone(),
                });
            }
            match attributes.last_mut() {
                Some(group) if group.name == name => group.values.push(value),
                _ => attributes.push(AttributeGroup {
                    name,
                    values: vec![value],
                }),
            }
        }

        let media = self.media(article_no).await?;
        let classification = self.classification(article_no).await?;
        let delivered = fields
            .get("etim_class")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let (etim_class, etim_class_source, etim_class_confidence) = match &classification {
            Some(c) => (
                c.etim_class.clone(),
                c.etim_class.as_ref().map(|_| c.source.clone()),
                c.confidence,
            ),
            None => (
                delivered.clone(),
                delivered.as_ref().map(|_| "delivered".to_owned()),
                None,
            ),
        };

        let relations =
            sqlx::query_as::<_, (String, String, String, Option<String>, Option<String>)>(
                "SELECT r.relation, 'outgoing', r.target, p.name_de, p.name_en \
             FROM relations r LEFT JOIN products p ON p.article_no = r.target \
             WHERE r.article_no = ?1 \
             UNION ALL \
             SELECT r.relation, 'incoming', r.article_no, p.name_de, p.name_en \
             FROM relations r LEFT JOIN products p ON p.article_no = r.article_no \
             WHERE r.target = ?1 \
             ORDER BY 2 DESC, 1, 3",
            )
            .bind(article_no)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)?
            .into_iter()
            .map(
                |(relation, direction, article_no, name_de, name_en)| RelatedProduct {
                    relation,
                    direction,
                    article_no,
                    name_de,
                    name_en,
                },
            )
            .collect();

        let history = self.history(article_no).await?;
        Ok(Some(Product {
            article_no: article_no.to_owned(),
            fields,
            etim_class,
            etim_class_source,
            etim_class_confidence,
            classification,
            features,
            attributes,
            media,
            relations,
            history,
        }))
    }

    /// The media of a product, each with the text enrich extracted from
    /// its file; a file that no attribute names but whose text belongs to
    /// the product (its article number in the file name) is listed too.
    async fn media(&self, article_no: &str) -> Result<Vec<Media>, CatalogError> {
        let query_error = |source| CatalogError::Query { source };
        let mut media: Vec<Media> = sqlx::query_as::<_, (String, String, String)>(
            "SELECT kind, reference, attribute FROM media WHERE article_no = ? \
             ORDER BY kind, reference",
        )
        .bind(article_no)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error)?
        .into_iter()
        .map(|(kind, reference, attribute)| Media {
            kind,
            reference,
            attribute,
            text: None,
            text_source: None,
        })
        .collect();
        // (source, text) per file, parts in order.
        let mut texts: Vec<(String, String)> = Vec::new();
        for (source, text) in sqlx::query_as::<_, (String, String)>(
            "SELECT source, text FROM media_texts WHERE article_no = ? ORDER BY source, part",
        )
        .bind(article_no)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error)?
        {
            match texts.last_mut() {
                Some((last, whole)) if *last == source => {
                    whole.push_str("\n\n");
                    whole.push_str(&text);
                }
                _ => texts.push((source, text)),
            }
        }
        for (source, text) in texts {
            let name = cradle_core::media::normalise_file_name(&source);
            let mut matched = false;
            for item in media
                .iter_mut()
                .filter(|m| cradle_core::media::normalise_file_name(&m.reference) == name)
            {
                item.text = Some(text.clone());
                item.text_source = Some(source.clone());
                matched = true;
            }
            if !matched {
                media.push(Media {
                    kind: crate::derive::media_kind(&source)
                        .unwrap_or("pdf")
                        .to_owned(),
                    reference: source.clone(),
                    attribute: String::new(),
                    text: Some(text),
                    text_source: Some(source),
                });
            }
        }
        Ok(media)
    }

    /// Enrich's classification of a product, with the features it mapped;
    /// `None` when the delivery was not enriched.
    async fn classification(
        &self,
        article_no: &str,
    ) -> Result<Option<Classification>, CatalogError> {
        let query_error = |source| CatalogError::Query { source };
        let Some(row) = sqlx::query(
            "SELECT etim_class, class_name, confidence, source, alternatives, delivered_code, \
                    delivered_code_problem \
             FROM classifications WHERE article_no = ?",
        )
        .bind(article_no)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error)?
        else {
            return Ok(None);
        };
        let alternatives: String = row.try_get("alternatives").map_err(query_error)?;
        let features =
            sqlx::query_as::<_, (String, String, String, Option<String>, String, String)>(
                "SELECT feature_code, feature_name, value, unit, attribute, reason \
             FROM etim_features WHERE article_no = ? ORDER BY feature_code, attribute",
            )
            .bind(article_no)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)?
            .into_iter()
            .map(
                |(code, name, value, unit, attribute, reason)| MappedFeature {
                    code,
                    name,
                    value,
                    unit,
                    attribute,
                    reason,
                },
            )
            .collect();
        Ok(Some(Classification {
            etim_class: row.try_get("etim_class").map_err(query_error)?,
            class_name: row.try_get("class_name").map_err(query_error)?,
            confidence: row
                .try_get::<Option<f64>, _>("confidence")
                .map_err(query_error)?
                .map(|c| c as f32),
            source: row.try_get("source").map_err(query_error)?,
            alternatives: parse_alternatives(&alternatives),
            delivered_code: row.try_get("delivered_code").map_err(query_error)?,
            delivered_code_problem: row.try_get("delivered_code_problem").map_err(query_error)?,
            features,
        }))
    }

    /// The delivery events of a product (also of one removed since).
    pub async fn history(&self, article_no: &str) -> Result<Vec<HistoryEvent>, CatalogError> {
        let rows = sqlx::query_as::<_, (i64, Option<String>, String, Option<String>)>(
            "SELECT h.delivery, d.committed_at, h.status, h.content_hash \
             FROM product_history h LEFT JOIN deliveries d ON d.delivery = h.delivery \
             WHERE h.article_no = ? ORDER BY h.delivery",
        )
        .bind(article_no)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| CatalogError::Query { source })?;
        Ok(rows
            .into_iter()
            .map(
                |(delivery, committed_at, status, content_hash)| HistoryEvent {
                    delivery: delivery.max(0) as u64,
                    committed_at,
                    status,
                    content_hash,
                },
            )
            .collect())
    }

    /// Products matching `filter`, by article number, one page.
    pub async fn products(
        &self,
        filter: &ProductFilter,
    ) -> Result<Page<ProductSummary>, CatalogError> {
        let query_error = |source| CatalogError::Query { source };
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        for (column, value) in [("p.family", &filter.family), ("p.brand", &filter.brand)] {
            if let Some(value) = value {
                conditions.push(format!("{column} = ?"));
                binds.push(value.as_str());
            }
        }
        if let Some(class) = &filter.etim_class {
            let list = |n: usize| vec!["?"; n].join(",");
            conditions.push(format!(
                "(({CLASS} = ? AND p.article_no NOT IN ({})) OR p.article_no IN ({}))",
                list(filter.class_not.len()),
                list(filter.class_also.len())
            ));
            binds.push(class.as_str());
            binds.extend(filter.class_not.iter().map(String::as_str));
            binds.extend(filter.class_also.iter().map(String::as_str));
        }
        let condition = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let limit = filter.limit.min(MAX_PAGE);
        // Column names are fixed above; values are bound.
        let count_sql = format!("SELECT count(*) FROM {CLASSIFIED}{condition}");
        let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
        for value in &binds {
            count = count.bind(*value);
        }
        let total = count.fetch_one(&self.pool).await.map_err(query_error)?;
        let list_sql = format!(
            "SELECT p.article_no, p.name_de, p.name_en, p.family, p.series, p.brand, \
                    {CLASS}, p.gtin \
             FROM {CLASSIFIED}{condition} ORDER BY p.article_no LIMIT ? OFFSET ?"
        );
        let mut list = sqlx::query_as::<_, SummaryRow>(sqlx::AssertSqlSafe(list_sql));
        for value in &binds {
            list = list.bind(*value);
        }
        let offset = i64::try_from(filter.offset).unwrap_or(i64::MAX);
        let items = list
            .bind(i64::from(limit))
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)?
            .into_iter()
            .map(
                |(article_no, name_de, name_en, family, series, brand, etim_class, gtin)| {
                    ProductSummary {
                        article_no,
                        name_de,
                        name_en,
                        family,
                        series,
                        brand,
                        etim_class,
                        gtin,
                    }
                },
            )
            .collect();
        Ok(Page {
            items,
            total: total.max(0) as u64,
            limit,
            offset: filter.offset,
        })
    }

    /// ETIM classes with their product counts, most products first.
    pub async fn classes(&self) -> Result<Vec<(String, u64)>, CatalogError> {
        self.counts(CLASS).await
    }

    /// Product families with their product counts, most products first.
    pub async fn families(&self) -> Result<Vec<(String, u64)>, CatalogError> {
        self.counts("p.family").await
    }

    /// Brands with their product counts, most products first.
    pub async fn brands(&self) -> Result<Vec<(String, u64)>, CatalogError> {
        self.counts("p.brand").await
    }

    async fn counts(&self, column: &'static str) -> Result<Vec<(String, u64)>, CatalogError> {
        let cached = self
            .counted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(column)
            .cloned();
        if let Some(counts) = cached {
            return Ok(counts);
        }
        let sql = format!(
            "SELECT {column} AS name, count(*) AS n FROM {CLASSIFIED} WHERE {column} IS NOT NULL \
             GROUP BY name ORDER BY n DESC, name"
        );
        let rows = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(|source| CatalogError::Query { source })?;
        let counts: Vec<(String, u64)> = rows
            .into_iter()
            .map(|(name, n)| (name, n.max(0) as u64))
            .collect();
        self.counted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(column, counts.clone());
        Ok(counts)
    }

    /// Whether the catalog still answers: one trivial read on the
    /// product-page connections (what `/ready` asks, so an orchestrator
    /// restarts a server whose catalog went away).
    pub async fn ping(&self) -> Result<(), CatalogError> {
        sqlx::query("SELECT count(*) FROM catalog_info")
            .fetch_one(&self.pool)
            .await
            .map(drop)
            .map_err(|source| CatalogError::Query { source })
    }

    /// Row counts and where the catalog came from (recorded at build time;
    /// costs no scan).
    pub async fn stats(&self) -> Result<CatalogStats, CatalogError> {
        let info: BTreeMap<String, String> =
            sqlx::query_as::<_, (String, String)>("SELECT key, value FROM catalog_info")
                .fetch_all(&self.pool)
                .await
                .map_err(|source| CatalogError::Query { source })?
                .into_iter()
                .collect();
        let number = |key: &str| info.get(key).and_then(|v| v.parse().ok()).unwrap_or(0);
        let text = |key: &str| info.get(key).cloned().unwrap_or_default();
        Ok(CatalogStats {
            products: number("products"),
            attributes: number("attributes"),
            rejects: number("rejects"),
            files: number("files"),
            relations: number("relations"),
            media: number("media"),
            delivery: number("delivery"),
            customer: text("customer"),
            committed_at: text("committed_at"),
            tables: info
                .get("tables")
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default(),
            built_at: text("built_at"),
            size_bytes: std::fs::metadata(&self.path).map_or(0, |m| m.len()),
        })
    }
}

type SummaryRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// `EC001744:0.930;EC002892:0.050`, as enrich writes the runners-up.
fn parse_alternatives(text: &str) -> Vec<Alternative> {
    text.split(';')
        .filter_map(|item| {
            let (class, confidence) = item.trim().rsplit_once(':')?;
            Some(Alternative {
                etim_class: class.to_owned(),
                confidence: confidence.parse().ok()?,
            })
        })
        .collect()
}

fn attribute_value(row: &SqliteRow) -> Result<AttributeValue, sqlx::Error> {
    let original: String = row.try_get("original")?;
    let no_value = row.try_get::<Option<i64>, _>("no_value")?.unwrap_or(0) != 0;
    let value = if no_value {
        Value::Null
    } else if let Some(number) = row.try_get::<Option<f64>, _>("value_number")? {
        serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number)
    } else if let Some(boolean) = row.try_get::<Option<i64>, _>("value_bool")? {
        Value::Bool(boolean != 0)
    } else if let Some(date) = row.try_get::<Option<String>, _>("value_date")? {
        Value::String(date)
    } else {
        Value::String(original.clone())
    };
    Ok(AttributeValue {
        header: row.try_get("header")?,
        field: row.try_get("field")?,
        original,
        value,
        unit: row.try_get("unit")?,
        no_value,
        provenance: Provenance {
            file: row.try_get("source_file")?,
            sheet: row.try_get("source_sheet")?,
            row: row.try_get("source_row")?,
            column: row.try_get("source_column")?,
        },
    })
}
