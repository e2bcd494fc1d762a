//! Building `catalog.db` from the published delivery: copy the four tables
//! at the versions of the newest delivery record, derive relations, media
//! and the product history, index, analyze, and move the file into place.
//!
//! Speed: the attributes table has millions of rows. Parquet is decoded and
//! statement parameters are built on a blocking thread while SQLite's worker
//! thread inserts (two cores, two busy threads); one transaction, multi-row
//! `INSERT`s of up to 500 rows, no journal and no syncs while building
//! (a failed build is thrown away, never repaired), indexes created after
//! the load. No `VACUUM`: nothing is ever deleted, so there are no free
//! pages to reclaim.
//!
//! The file is built beside the target as `.<name>.tmp-<pid>` and renamed
//! over it at the end, so the console never sees a half catalog and a
//! reader of the old file keeps its memory map.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch, StringArray};
use arrow_schema::{DataType, SchemaRef};
use cradle_lake::{Snapshot, Table};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous,
};
use sqlx::{Arguments, AssertSqlSafe, ConnectOptions, Connection};
use tokio::sync::mpsc;

use crate::delivery::{self, DeliveryRecord};
use crate::derive::{self, Relation, Role};
use crate::values;
use crate::{CatalogError, FORMAT};
use cradle_lakehouse::ARTICLE_NO;
use cradle_lakehouse::schema::{
    attributes, chunks, classifications, etim_features, files, products, rejects,
};

/// SQLite allows at most 32766 parameters per statement.
const MAX_PARAMETERS: usize = 32_766;
/// Rows per `INSERT` statement (fewer when a row has many columns).
const ROWS_PER_STATEMENT: usize = 500;

/// What a build did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CatalogBuildReport {
    /// The published delivery that was read.
    pub delivery: u64,
    /// Table name to the Delta version read.
    pub tables: BTreeMap<String, u64>,
    pub products: u64,
    pub attributes: u64,
    pub rejects: u64,
    pub files: u64,
    pub relations: u64,
    pub media: u64,
    /// Rows of `product_history` (added, changed and removed events).
    pub history_events: u64,
    /// Rows of enrich's tables copied: products classified, features
    /// mapped, media text parts. Zero when the delivery was not enriched.
    pub classifications: u64,
    pub etim_features: u64,
    pub media_texts: u64,
    /// Things the build could not do but that did not stop it, e.g. an old
    /// delivery's products whose data files were vacuumed.
    pub warnings: Vec<String>,
    /// Reading the lakehouse and inserting rows.
    pub load_time: Duration,
    /// Creating indexes and `ANALYZE`.
    pub index_time: Duration,
    pub total_time: Duration,
    /// Bytes of the finished catalog file.
    pub size_bytes: u64,
}

impl CatalogBuildReport {
    /// Attribute rows inserted per second of the load phase.
    pub fn attribute_rows_per_second(&self) -> f64 {
        self.attributes as f64 / self.load_time.as_secs_f64().max(1e-9)
    }
}

/// Builds the catalog file `out` (e.g. `<WS>/index/catalog.db`) from the
/// newest published delivery of the lakehouse at `lakehouse_dir`,
/// replacing a previous catalog there.
pub async fn build(lakehouse_dir: &Path, out: &Path) -> Result<CatalogBuildReport, CatalogError> {
    let started = Instant::now();
    let records = delivery::published(lakehouse_dir)?;
    if records.is_empty() {
        return Err(CatalogError::NoDelivery {
            path: lakehouse_dir.to_path_buf(),
        });
    }
    let staging = cradle_fs::temporary_name(out).map_err(|source| CatalogError::File {
        path: out.to_path_buf(),
        source,
    })?;
    let file_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CatalogError::File { path, source }
    };
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(file_error(parent))?;
    }
    remove_if_present(&staging)?;
    let options = SqliteConnectOptions::new()
        .filename(&staging)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Off)
        .synchronous(SqliteSynchronous::Off)
        .foreign_keys(false)
        // Index creation sorts millions of keys; give it memory.
        .pragma("cache_size", "-262144")
        .pragma("temp_store", "MEMORY");
    let mut conn = options
        .connect()
        .await
        .map_err(|source| CatalogError::Write {
            path: staging.clone(),
            source,
        })?;
    let mut builder = Builder {
        conn: &mut conn,
        path: staging.clone(),
        statements: HashMap::new(),
    };
    let result = builder.run(lakehouse_dir, &records).await;
    let closed = conn.close().await;
    let mut report = match (result, closed) {
        (Ok(report), Ok(())) => report,
        (Err(error), _) => {
            let _ = std::fs::remove_file(&staging);
            return Err(error);
        }
        (Ok(_), Err(source)) => {
            let _ = std::fs::remove_file(&staging);
            return Err(CatalogError::Write {
                path: staging,
                source,
            });
        }
    };
    report.size_bytes = std::fs::metadata(&staging)
        .map_err(file_error(&staging))?
        .len();
    cradle_fs::persist(&staging, out).map_err(file_error(out))?;
    report.total_time = started.elapsed();
    Ok(report)
}

fn remove_if_present(path: &Path) -> Result<(), CatalogError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(CatalogError::File {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// A parameter of the small tables the build writes itself.
#[derive(Debug, Clone)]
enum Param {
    Text(String),
    Int(i64),
    Null,
}

impl Param {
    fn bind(&self, arguments: &mut SqliteArguments) {
        let result = match self {
            Param::Text(text) => arguments.add(text.clone()),
            Param::Int(number) => arguments.add(*number),
            Param::Null => arguments.add(None::<i64>),
        };
        debug_assert!(result.is_ok(), "binding a plain value failed");
    }
}

/// Statement parameters for `rows` rows, built off the async runtime.
struct Chunk {
    rows: usize,
    arguments: SqliteArguments,
}

struct Builder<'c> {
    conn: &'c mut SqliteConnection,
    path: PathBuf,
    /// `INSERT` statements by (table, rows), built once.
    statements: HashMap<(String, usize), Arc<str>>,
}

impl Builder<'_> {
    async fn run(
        &mut self,
        lakehouse_dir: &Path,
        records: &[(DeliveryRecord, PathBuf)],
    ) -> Result<CatalogBuildReport, CatalogError> {
        let load_started = Instant::now();
        let (newest, newest_path) = records.last().expect("checked non-empty");
        let snapshot = |name: &str| -> Result<Snapshot, CatalogError> {
            let version = delivery::version(newest, name, newest_path)?;
            let table = lakehouse_dir.join(name);
            Table::at(&table)
                .snapshot(Some(version))
                .map_err(|source| CatalogError::Lake { table, source })
        };
        let products = snapshot(products::NAME)?;
        let attributes = snapshot(attributes::NAME)?;
        let rejects = snapshot(rejects::NAME)?;
        let files = snapshot(files::NAME)?;
        // Enrich's tables, when enrich has run on this delivery.
        let enriched = |name: &str| -> Result<Option<Snapshot>, CatalogError> {
            let table = lakehouse_dir.join(name);
            let lake = |source| CatalogError::Lake {
                table: table.clone(),
                source,
            };
            match cradle_lakehouse::enriched_version(lakehouse_dir, name, newest.delivery)
                .map_err(lake)?
            {
                Some(version) => Table::at(&table)
                    .snapshot(Some(version))
                    .map(Some)
                    .map_err(lake),
                None => Ok(None),
            }
        };
        let classified = enriched(classifications::NAME)?;
        let mapped = enriched(etim_features::NAME)?;
        let chunked = enriched(chunks::NAME)?;

        for (name, snapshot) in [
            (products::NAME, &products),
            (attributes::NAME, &attributes),
            (rejects::NAME, &rejects),
            (files::NAME, &files),
        ] {
            let sql = create_table(name, &snapshot.root, &snapshot.schema)?;
            self.execute(&sql).await?;
        }
        // Created whether or not enrich ran, so readers need not ask.
        for (name, snapshot, schema) in [
            (
                classifications::NAME,
                &classified,
                classifications::schema(),
            ),
            (etim_features::NAME, &mapped, etim_features::schema()),
        ] {
            let schema = snapshot.as_ref().map_or(schema, |s| s.schema.clone());
            let sql = create_table(name, &lakehouse_dir.join(name), &schema)?;
            self.execute(&sql).await?;
        }
        // After the copied tables: the `features` view reads `attributes`.
        self.execute(&crate::schema::fixed_tables()).await?;
        self.execute("BEGIN").await?;

        let products_table = products.root.clone();
        let (products_count, article_numbers) = self
            .load(
                products::NAME,
                products,
                ArticleCollector {
                    table: products_table,
                    articles: HashSet::new(),
                },
            )
            .await?;
        let article_numbers = Arc::new(article_numbers.articles);
        let attributes_table = attributes.root.clone();
        let (attributes_count, deriver) = self
            .load(
                attributes::NAME,
                attributes,
                Deriver::new(attributes_table, article_numbers.clone()),
            )
            .await?;
        let (rejects_count, ()) = self.load(rejects::NAME, rejects, ()).await?;
        let (files_count, ()) = self.load(files::NAME, files, ()).await?;
        let classifications_count = match classified {
            Some(snapshot) => self.load(classifications::NAME, snapshot, ()).await?.0,
            None => 0,
        };
        let features_count = match mapped {
            Some(snapshot) => self.load(etim_features::NAME, snapshot, ()).await?.0,
            None => 0,
        };
        let media_text_rows = match chunked {
            Some(snapshot) => tokio::task::spawn_blocking(move || media_texts(&snapshot))
                .await
                .expect("the lakehouse reader does not panic")?,
            None => Vec::new(),
        };
        let media_texts_count = media_text_rows.len() as u64;
        self.insert_params(
            "media_texts",
            &["article_no", "source", "part", "language", "text"],
            media_text_rows,
        )
        .await?;

        let (relations, media) = deriver.finish();
        let relation_rows: Vec<Vec<Param>> = relations
            .into_iter()
            .map(|((article, relation, target), attribute)| {
                vec![
                    Param::Text(article),
                    Param::Text(relation.as_str().to_owned()),
                    Param::Text(target),
                    Param::Text(attribute),
                ]
            })
            .collect();
        let relations_count = relation_rows.len() as u64;
        self.insert_params(
            "relations",
            &["article_no", "relation", "target", "attribute"],
            relation_rows,
        )
        .await?;
        let media_rows: Vec<Vec<Param>> = media
            .into_iter()
            .map(|((article, kind, reference), attribute)| {
                vec![
                    Param::Text(article),
                    Param::Text(kind.to_owned()),
                    Param::Text(reference),
                    Param::Text(attribute),
                ]
            })
            .collect();
        let media_count = media_rows.len() as u64;
        self.insert_params(
            "media",
            &["article_no", "kind", "reference", "attribute"],
            media_rows,
        )
        .await?;

        let delivery_rows = records
            .iter()
            .map(|(record, _)| {
                vec![
                    Param::Int(record.delivery as i64),
                    Param::Text(serde_json::to_string(&record.tables).unwrap_or_default()),
                    Param::Text(record.customer.clone()),
                    Param::Text(record.committed_at.clone()),
                ]
            })
            .collect();
        self.insert_params(
            "deliveries",
            &["delivery", "tables", "customer", "committed_at"],
            delivery_rows,
        )
        .await?;

        let mut warnings = Vec::new();
        let history = history(lakehouse_dir, records, &mut warnings).await?;
        let history_count = history.len() as u64;
        self.insert_params(
            "product_history",
            &["article_no", "delivery", "status", "content_hash"],
            history,
        )
        .await?;

        let info: Vec<(&str, String)> = vec![
            ("format", FORMAT.to_string()),
            ("delivery", newest.delivery.to_string()),
            ("customer", newest.customer.clone()),
            ("committed_at", newest.committed_at.clone()),
            (
                "tables",
                serde_json::to_string(&newest.tables).unwrap_or_default(),
            ),
            ("built_at", values::now_rfc3339()),
            ("products", products_count.to_string()),
            ("attributes", attributes_count.to_string()),
            ("rejects", rejects_count.to_string()),
            ("files", files_count.to_string()),
            ("relations", relations_count.to_string()),
            ("media", media_count.to_string()),
            ("history_events", history_count.to_string()),
            ("classifications", classifications_count.to_string()),
            ("etim_features", features_count.to_string()),
            ("media_texts", media_texts_count.to_string()),
        ];
        let info_rows = info
            .into_iter()
            .map(|(key, value)| vec![Param::Text(key.to_owned()), Param::Text(value)])
            .collect();
        self.insert_params("catalog_info", &["key", "value"], info_rows)
            .await?;
        self.execute("COMMIT").await?;
        let load_time = load_started.elapsed();

        let index_started = Instant::now();
        self.execute(crate::schema::INDEXES).await?;
        self.execute("ANALYZE").await?;
        let index_time = index_started.elapsed();

        Ok(CatalogBuildReport {
            delivery: newest.delivery,
            tables: newest.tables.clone(),
            products: products_count,
            attributes: attributes_count,
            rejects: rejects_count,
            files: files_count,
            relations: relations_count,
            media: media_count,
            history_events: history_count,
            classifications: classifications_count,
            etim_features: features_count,
            media_texts: media_texts_count,
            warnings,
            load_time,
            index_time,
            total_time: Duration::ZERO,
            size_bytes: 0,
        })
    }

    async fn execute(&mut self, sql: &str) -> Result<(), CatalogError> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(&mut *self.conn)
            .await
            .map_err(|source| CatalogError::Write {
                path: self.path.clone(),
                source,
            })?;
        Ok(())
    }

    /// The multi-row `INSERT` of `rows` rows into `table`.
    fn statement(&mut self, table: &str, columns: &[String], rows: usize) -> Arc<str> {
        self.statements
            .entry((table.to_owned(), rows))
            .or_insert_with(|| {
                let names: Vec<String> = columns.iter().map(|c| quote(c)).collect();
                let row = format!("({})", vec!["?"; columns.len()].join(","));
                format!(
                    "INSERT INTO {} ({}) VALUES {}",
                    quote(table),
                    names.join(","),
                    vec![row; rows].join(",")
                )
                .into()
            })
            .clone()
    }

    async fn insert(
        &mut self,
        table: &str,
        columns: &[String],
        chunk: Chunk,
    ) -> Result<(), CatalogError> {
        let sql = self.statement(table, columns, chunk.rows);
        sqlx::query_with(AssertSqlSafe(sql), chunk.arguments)
            .execute(&mut *self.conn)
            .await
            .map_err(|source| CatalogError::Write {
                path: self.path.clone(),
                source,
            })?;
        Ok(())
    }

    /// Copies a Delta snapshot into the table of the same name, showing
    /// every batch to `inspector` on the reading thread. Returns the rows
    /// copied and the inspector.
    async fn load<I: Inspector>(
        &mut self,
        table: &str,
        snapshot: Snapshot,
        inspector: I,
    ) -> Result<(u64, I), CatalogError> {
        let columns: Vec<String> = snapshot
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let rows_per_statement = ROWS_PER_STATEMENT.min(MAX_PARAMETERS / columns.len().max(1));
        let (sender, mut receiver) = mpsc::channel::<Result<Chunk, CatalogError>>(8);
        let reader = tokio::task::spawn_blocking(move || {
            read_chunks(snapshot, rows_per_statement, inspector, &sender)
        });
        let mut rows = 0u64;
        let mut failure = None;
        while let Some(chunk) = receiver.recv().await {
            let inserted = match chunk {
                Ok(chunk) => {
                    rows += chunk.rows as u64;
                    self.insert(table, &columns, chunk).await
                }
                Err(error) => Err(error),
            };
            if let Err(error) = inserted {
                failure = Some(error);
                break;
            }
        }
        // Dropping the receiver stops the reader at its next send.
        drop(receiver);
        let inspector = reader.await.expect("the lakehouse reader does not panic")?;
        match failure {
            Some(error) => Err(error),
            None => Ok((rows, inspector)),
        }
    }

    /// Inserts rows the build computed itself.
    async fn insert_params(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Param>>,
    ) -> Result<(), CatalogError> {
        let columns: Vec<String> = columns.iter().map(|c| (*c).to_owned()).collect();
        let rows_per_statement = ROWS_PER_STATEMENT.min(MAX_PARAMETERS / columns.len().max(1));
        for group in rows.chunks(rows_per_statement) {
            let mut arguments = SqliteArguments::default();
            for row in group {
                for param in row {
                    param.bind(&mut arguments);
                }
            }
            let chunk = Chunk {
                rows: group.len(),
                arguments,
            };
            self.insert(table, &columns, chunk).await?;
        }
        Ok(())
    }
}

/// Looks at every batch of a table as it is read.
trait Inspector: Send + 'static {
    fn inspect(&mut self, batch: &RecordBatch) -> Result<(), CatalogError>;
}

impl Inspector for () {
    fn inspect(&mut self, _batch: &RecordBatch) -> Result<(), CatalogError> {
        Ok(())
    }
}

/// Runs on a blocking thread: scans the snapshot and sends parameter
/// chunks until done or the receiver is gone.
fn read_chunks<I: Inspector>(
    snapshot: Snapshot,
    rows_per_statement: usize,
    mut inspector: I,
    sender: &mpsc::Sender<Result<Chunk, CatalogError>>,
) -> Result<I, CatalogError> {
    let table = snapshot.root.clone();
    let scan = snapshot.scan(None).map_err(|source| CatalogError::Lake {
        table: table.clone(),
        source,
    })?;
    for batch in scan {
        let batch = batch.map_err(|source| CatalogError::Lake {
            table: table.clone(),
            source,
        })?;
        inspector.inspect(&batch)?;
        let mut start = 0;
        while start < batch.num_rows() {
            let rows = rows_per_statement.min(batch.num_rows() - start);
            let mut arguments = SqliteArguments::default();
            arguments.reserve(rows * batch.num_columns(), 0);
            for row in start..start + rows {
                for column in batch.columns() {
                    values::bind(&mut arguments, column, row);
                }
            }
            if sender.blocking_send(Ok(Chunk { rows, arguments })).is_err() {
                return Ok(inspector);
            }
            start += rows;
        }
    }
    Ok(inspector)
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// `CREATE TABLE` with the columns of a Delta table's schema.
fn create_table(name: &str, table: &Path, schema: &SchemaRef) -> Result<String, CatalogError> {
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let kind = values::sqlite_type(table, field)?;
        let null = if field.is_nullable() { "" } else { " NOT NULL" };
        columns.push(format!("{} {kind}{null}", quote(field.name())));
    }
    Ok(format!(
        "CREATE TABLE {} ({})",
        quote(name),
        columns.join(", ")
    ))
}

fn string_column<'b>(
    table: &Path,
    batch: &'b RecordBatch,
    name: &str,
) -> Result<&'b StringArray, CatalogError> {
    batch
        .column_by_name(name)
        .filter(|c| c.data_type() == &DataType::Utf8)
        .map(|c| c.as_string::<i32>())
        .ok_or_else(|| CatalogError::Column {
            table: table.to_path_buf(),
            column: name.to_owned(),
        })
}

/// Collects the article numbers of `products`.
struct ArticleCollector {
    table: PathBuf,
    articles: HashSet<String>,
}

impl Inspector for ArticleCollector {
    fn inspect(&mut self, batch: &RecordBatch) -> Result<(), CatalogError> {
        let articles = string_column(&self.table, batch, "article_no")?;
        self.articles
            .extend(articles.iter().flatten().map(str::to_owned));
        Ok(())
    }
}

/// The cells of one record: (file, sheet, row, article).
type RecordKey = (String, Option<String>, i64, String);

/// A value of a relation-target attribute that names a product.
struct Candidate {
    article: String,
    kind: Option<Relation>,
    target: String,
    attribute: String,
    record: RecordKey,
}

/// Derives relations and media from attribute rows (see `derive.rs`).
struct Deriver {
    table: PathBuf,
    products: Arc<HashSet<String>>,
    /// Role by attribute, then header (few distinct pairs, many rows).
    roles: HashMap<String, HashMap<String, Role>>,
    candidates: Vec<Candidate>,
    /// Relation kinds named by relation-type cells, by record.
    record_kinds: HashMap<RecordKey, Relation>,
    /// (article, kind, reference) to the attribute it came from.
    media: BTreeMap<(String, &'static str, String), String>,
}

impl Deriver {
    fn new(table: PathBuf, products: Arc<HashSet<String>>) -> Deriver {
        Deriver {
            table,
            products,
            roles: HashMap::new(),
            candidates: Vec::new(),
            record_kinds: HashMap::new(),
            media: BTreeMap::new(),
        }
    }

    fn role(&mut self, attribute: &str, header: &str) -> Role {
        if let Some(role) = self.roles.get(attribute).and_then(|h| h.get(header)) {
            return *role;
        }
        let role = derive::role(attribute, header);
        self.roles
            .entry(attribute.to_owned())
            .or_default()
            .insert(header.to_owned(), role);
        role
    }

    /// Relations (deduplicated, with the first attribute that named each)
    /// and media.
    #[allow(clippy::type_complexity)]
    fn finish(
        self,
    ) -> (
        BTreeMap<(String, Relation, String), String>,
        BTreeMap<(String, &'static str, String), String>,
    ) {
        let mut relations = BTreeMap::new();
        for candidate in self.candidates {
            let kind = candidate
                .kind
                .or_else(|| self.record_kinds.get(&candidate.record).copied())
                .unwrap_or(Relation::Related);
            relations
                .entry((candidate.article, kind, candidate.target))
                .or_insert(candidate.attribute);
        }
        (relations, self.media)
    }
}

impl Inspector for Deriver {
    fn inspect(&mut self, batch: &RecordBatch) -> Result<(), CatalogError> {
        let table = self.table.clone();
        let article = string_column(&table, batch, ARTICLE_NO)?;
        let attribute = string_column(&table, batch, attributes::ATTRIBUTE)?;
        let header = string_column(&table, batch, attributes::HEADER)?;
        let original = string_column(&table, batch, attributes::ORIGINAL)?;
        let file = string_column(&table, batch, attributes::SOURCE_FILE)?;
        let sheet = string_column(&table, batch, attributes::SOURCE_SHEET)?;
        let row = batch
            .column_by_name(attributes::SOURCE_ROW)
            .and_then(|c| c.as_primitive_opt::<arrow_array::types::Int64Type>())
            .ok_or_else(|| CatalogError::Column {
                table: table.clone(),
                column: attributes::SOURCE_ROW.into(),
            })?;
        let record = |i: usize| -> RecordKey {
            (
                file.value(i).to_owned(),
                (!sheet.is_null(i)).then(|| sheet.value(i).to_owned()),
                row.value(i),
                article.value(i).to_owned(),
            )
        };
        for i in 0..batch.num_rows() {
            let value = original.value(i);
            if let Some(kind) = derive::media_kind(value) {
                self.media
                    .entry((article.value(i).to_owned(), kind, value.trim().to_owned()))
                    .or_insert_with(|| attribute.value(i).to_owned());
            }
            match self.role(attribute.value(i), header.value(i)) {
                Role::Plain => {}
                Role::RelationType => {
                    if let Some(kind) = Relation::from_text(value) {
                        self.record_kinds.insert(record(i), kind);
                    }
                }
                Role::RelationTarget(kind) => {
                    let products = &self.products;
                    let source = article.value(i);
                    for target in derive::relation_targets(value, |a| products.contains(a)) {
                        if target == source {
                            continue;
                        }
                        self.candidates.push(Candidate {
                            article: source.to_owned(),
                            kind,
                            target: target.to_owned(),
                            attribute: attribute.value(i).to_owned(),
                            record: record(i),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// The `media_texts` rows: enrich's media chunks (kind `media`), each
/// with its place in its file's text, taken from the chunk id
/// (`media.<sha>` alone, `media.<sha>.<n>` when the text was split).
fn media_texts(snapshot: &Snapshot) -> Result<Vec<Vec<Param>>, CatalogError> {
    let table = snapshot.root.clone();
    let lake = |source| CatalogError::Lake {
        table: table.clone(),
        source,
    };
    let scan = snapshot
        .scan(Some(&[
            ARTICLE_NO,
            chunks::CHUNK_ID,
            chunks::KIND,
            chunks::LANGUAGE,
            chunks::TEXT,
            chunks::SOURCE,
        ]))
        .map_err(lake)?;
    let mut rows = Vec::new();
    for batch in scan {
        let batch = batch.map_err(lake)?;
        let article = string_column(&table, &batch, ARTICLE_NO)?;
        let chunk_id = string_column(&table, &batch, chunks::CHUNK_ID)?;
        let kind = string_column(&table, &batch, chunks::KIND)?;
        let language = string_column(&table, &batch, chunks::LANGUAGE)?;
        let text = string_column(&table, &batch, chunks::TEXT)?;
        let source = string_column(&table, &batch, chunks::SOURCE)?;
        for i in 0..batch.num_rows() {
            if kind.value(i) != "media" {
                continue;
            }
            let part = chunk_id
                .value(i)
                .strip_prefix("media.")
                .and_then(|rest| rest.split_once('.'))
                .and_then(|(_, n)| n.parse::<i64>().ok())
                .unwrap_or(1);
            rows.push(vec![
                Param::Text(article.value(i).to_owned()),
                Param::Text(source.value(i).to_owned()),
                Param::Int(part),
                Param::Text(language.value(i).to_owned()),
                Param::Text(text.value(i).to_owned()),
            ]);
        }
    }
    Ok(rows)
}

/// Product history: the products table at every published delivery's
/// version (article number and content hash), consecutive deliveries
/// compared. An old delivery whose data can no longer be read is skipped
/// with a warning; the newest must be readable.
async fn history(
    lakehouse_dir: &Path,
    records: &[(DeliveryRecord, PathBuf)],
    warnings: &mut Vec<String>,
) -> Result<Vec<Vec<Param>>, CatalogError> {
    let table = lakehouse_dir.join(products::NAME);
    let mut previous: HashMap<String, String> = HashMap::new();
    let mut events = Vec::new();
    for (index, (record, path)) in records.iter().enumerate() {
        let newest = index + 1 == records.len();
        let version = match delivery::version(record, products::NAME, path) {
            Ok(version) => version,
            Err(error) if !newest => {
                warnings.push(format!(
                    "history: delivery {} skipped: {error}",
                    record.delivery
                ));
                continue;
            }
            Err(error) => return Err(error),
        };
        let reading = table.clone();
        let current = tokio::task::spawn_blocking(move || product_hashes(&reading, version))
            .await
            .expect("the lakehouse reader does not panic");
        let current = match current {
            Ok(current) => current,
            Err(error) if !newest => {
                warnings.push(format!(
                    "history: delivery {} (products version {version}) skipped: {error}",
                    record.delivery
                ));
                continue;
            }
            Err(error) => return Err(error),
        };
        let delivery = Param::Int(record.delivery as i64);
        let mut changes: BTreeSet<(&str, &'static str, Option<&str>)> = BTreeSet::new();
        for (article, hash) in &current {
            match previous.get(article) {
                None => {
                    changes.insert((article, "added", Some(hash)));
                }
                Some(old) if old != hash => {
                    changes.insert((article, "changed", Some(hash)));
                }
                Some(_) => {}
            }
        }
        for article in previous.keys() {
            if !current.contains_key(article) {
                changes.insert((article, "removed", None));
            }
        }
        for (article, status, hash) in changes {
            events.push(vec![
                Param::Text(article.to_owned()),
                delivery.clone(),
                Param::Text(status.to_owned()),
                hash.map_or(Param::Null, |h| Param::Text(h.to_owned())),
            ]);
        }
        previous = current;
    }
    Ok(events)
}

fn product_hashes(table: &Path, version: u64) -> Result<HashMap<String, String>, CatalogError> {
    let lake = |source| CatalogError::Lake {
        table: table.to_path_buf(),
        source,
    };
    let scan = Table::at(table)
        .snapshot(Some(version))
        .and_then(|s| s.scan(Some(&[ARTICLE_NO, products::CONTENT_HASH])))
        .map_err(lake)?;
    let mut hashes = HashMap::new();
    for batch in scan {
        let batch = batch.map_err(lake)?;
        let articles = string_column(table, &batch, ARTICLE_NO)?;
        let content = string_column(table, &batch, products::CONTENT_HASH)?;
        for (article, hash) in articles.iter().zip(content.iter()) {
            if let (Some(article), Some(hash)) = (article, hash) {
                hashes.insert(article.to_owned(), hash.to_owned());
            }
        }
    }
    Ok(hashes)
}
