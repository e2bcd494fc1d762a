//! Deliveries for tests, written as `cradle ingest` writes them: the four
//! tables in the schemas of `cradle-lakehouse`, committed with
//! `cradle-lake`, then published with a delivery record; and what enrich
//! makes of one ([`Enriched`], written as `cradle enrich` writes it).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float32Array, Float64Array, Int64Array, RecordBatch,
    StringArray,
};
use arrow_schema::DataType;
use cradle_lake::WriteOptions;
use cradle_lakehouse::schema::{
    attributes, chunks, classifications, etim_features, files, products, rejects,
};
use cradle_lakehouse::{ARTICLE_NO, DeliveryRecord, Lakehouse};

/// A product: its article number and its text or number columns by name
/// (`name_de`, `family`, `price_eur`, ...); numbers are given as text.
/// `content_hash` defaults to `hash`, the counters to 1.
#[derive(Debug, Clone, Default)]
pub struct ProductRow {
    pub article_no: String,
    pub fields: Vec<(String, String)>,
}

impl ProductRow {
    pub fn new(article_no: &str, fields: &[(&str, &str)]) -> ProductRow {
        ProductRow {
            article_no: article_no.to_owned(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn get(&self, column: &str) -> Option<&str> {
        if column == ARTICLE_NO {
            return Some(&self.article_no);
        }
        self.fields
            .iter()
            .find(|(name, _)| name == column)
            .map(|(_, value)| value.as_str())
    }
}

/// One loaded cell with its provenance.
#[derive(Debug, Clone, Default)]
pub struct AttributeRow {
    pub article_no: String,
    pub attribute: String,
    pub header: String,
    pub field: Option<String>,
    pub original: String,
    pub number: Option<f64>,
    pub boolean: Option<bool>,
    pub date: Option<i32>,
    pub unit: Option<String>,
    pub no_value: bool,
    pub file: String,
    pub sheet: Option<String>,
    pub row: i64,
    pub column: String,
}

impl AttributeRow {
    /// A text cell of `file` at `row`, `column`.
    pub fn text(
        article_no: &str,
        attribute: &str,
        header: &str,
        original: &str,
        file: &str,
        row: i64,
        column: &str,
    ) -> AttributeRow {
        AttributeRow {
            article_no: article_no.to_owned(),
            attribute: attribute.to_owned(),
            header: header.to_owned(),
            original: original.to_owned(),
            file: file.to_owned(),
            row,
            column: column.to_owned(),
            ..AttributeRow::default()
        }
    }

    pub fn number(mut self, value: f64, unit: Option<&str>) -> AttributeRow {
        self.number = Some(value);
        self.unit = unit.map(str::to_owned);
        self
    }

    pub fn boolean(mut self, value: bool) -> AttributeRow {
        self.boolean = Some(value);
        self
    }
}

/// A rejected record.
#[derive(Debug, Clone)]
pub struct RejectRow {
    pub file: String,
    pub sheet: Option<String>,
    pub row: Option<i64>,
    pub reason: String,
    pub detail: String,
    pub cells: i64,
    pub content: String,
}

/// A delivered file (detection and accounting).
#[derive(Debug, Clone)]
pub struct FileRow {
    pub path: String,
    pub sha256: String,
    pub bytes: i64,
    pub error: Option<String>,
}

impl FileRow {
    pub fn new(path: &str, sha256: &str, bytes: i64) -> FileRow {
        FileRow {
            path: path.to_owned(),
            sha256: sha256.to_owned(),
            bytes,
            error: None,
        }
    }
}

fn text<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(values))
}

/// The `products` batch of `rows`.
pub fn products_batch(rows: &[ProductRow]) -> RecordBatch {
    let schema = products::schema();
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|field| -> ArrayRef {
            let name = field.name().as_str();
            match field.data_type() {
                DataType::Utf8 => text(rows.iter().map(|row| {
                    row.get(name)
                        .or((name == products::CONTENT_HASH).then_some("hash"))
                })),
                DataType::Float64 => Arc::new(Float64Array::from_iter(rows.iter().map(|row| {
                    row.get(name).map(|v| {
                        v.parse::<f64>()
                            .unwrap_or_else(|_| panic!("{name} of {}: {v}", row.article_no))
                    })
                }))),
                DataType::Int64 => {
                    Arc::new(Int64Array::from_iter_values(rows.iter().map(|row| {
                        row.get(name).map_or(1, |v| v.parse().expect("a count"))
                    })))
                }
                other => panic!("unexpected products column type {other}"),
            }
        })
        .collect();
    RecordBatch::try_new(schema, columns).expect("products batch")
}

/// The `attributes` batch of `rows`.
pub fn attributes_batch(rows: &[AttributeRow]) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        text(rows.iter().map(|r| Some(r.article_no.as_str()))),
        text(rows.iter().map(|r| Some(r.attribute.as_str()))),
        text(rows.iter().map(|r| Some(r.header.as_str()))),
        text(rows.iter().map(|r| r.field.as_deref())),
        text(rows.iter().map(|r| Some(r.original.as_str()))),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.number))),
        Arc::new(BooleanArray::from_iter(rows.iter().map(|r| r.boolean))),
        Arc::new(Date32Array::from_iter(rows.iter().map(|r| r.date))),
        text(rows.iter().map(|r| r.unit.as_deref())),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.no_value)),
        )),
        text(rows.iter().map(|r| Some(r.file.as_str()))),
        text(rows.iter().map(|r| r.sheet.as_deref())),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.row))),
        text(rows.iter().map(|r| Some(r.column.as_str()))),
    ];
    RecordBatch::try_new(attributes::schema(), columns).expect("attributes batch")
}

/// The `rejects` batch of `rows`.
pub fn rejects_batch(rows: &[RejectRow]) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        text(rows.iter().map(|r| Some(r.file.as_str()))),
        text(rows.iter().map(|r| r.sheet.as_deref())),
        Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.row))),
        text(rows.iter().map(|r| Some(r.reason.as_str()))),
        text(rows.iter().map(|r| Some(r.detail.as_str()))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.cells))),
        text(rows.iter().map(|r| Some(r.content.as_str()))),
    ];
    RecordBatch::try_new(rejects::schema(), columns).expect("rejects batch")
}

/// The `files` batch of `rows` (counts 0, `table`, CSV, balanced).
pub fn files_batch(rows: &[FileRow]) -> RecordBatch {
    let schema = files::schema();
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|field| -> ArrayRef {
            let name = field.name().as_str();
            match name {
                files::PATH => text(rows.iter().map(|r| Some(r.path.as_str()))),
                files::SHA256 => text(rows.iter().map(|r| Some(r.sha256.as_str()))),
                files::BYTES => {
                    Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.bytes)))
                }
                files::FORMAT => text(rows.iter().map(|_| Some("csv"))),
                files::KIND => text(rows.iter().map(|_| Some("table"))),
                files::ERROR => text(rows.iter().map(|r| r.error.as_deref())),
                files::SHEETS => text(rows.iter().map(|_| Some("[]"))),
                files::BALANCE_OK => Arc::new(BooleanArray::from(vec![true; rows.len()])),
                _ => match field.data_type() {
                    DataType::Int64 => Arc::new(Int64Array::from(vec![0; rows.len()])),
                    _ => text(rows.iter().map(|_| None)),
                },
            }
        })
        .collect();
    RecordBatch::try_new(schema, columns).expect("files batch")
}

/// One delivery's four tables.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    pub products: Vec<ProductRow>,
    pub attributes: Vec<AttributeRow>,
    pub rejects: Vec<RejectRow>,
    pub files: Vec<FileRow>,
    pub customer: String,
}

/// Writes `delivery` as the next delivery of the lakehouse at
/// `lakehouse_dir` (each table overwritten, as every ingest does) and
/// publishes its record; returns the record.
pub fn publish(lakehouse_dir: &Path, delivery: &Delivery) -> DeliveryRecord {
    let lakehouse = Lakehouse::new(lakehouse_dir);
    let number = lakehouse
        .latest()
        .expect("the delivery records")
        .map_or(1, |r| r.delivery + 1);
    let mut tables = BTreeMap::new();
    for (name, batch) in [
        (rejects::NAME, rejects_batch(&delivery.rejects)),
        (files::NAME, files_batch(&delivery.files)),
        (attributes::NAME, attributes_batch(&delivery.attributes)),
        (products::NAME, products_batch(&delivery.products)),
    ] {
        let mut writer = lakehouse
            .table(name)
            .writer(batch.schema(), WriteOptions::overwrite())
            .expect("table writer");
        writer.write(&batch).expect("write");
        let version = writer.finish().expect("finish").commit().expect("commit");
        tables.insert(name.to_owned(), version);
    }
    let record = DeliveryRecord {
        delivery: number,
        tables,
        customer: delivery.customer.clone(),
        committed_at: format!("2026-03-{:02}T10:00:00Z", number.min(28)),
    };
    lakehouse.publish(&record).expect("publish");
    record
}

/// Enrich's class of one product.
#[derive(Debug, Clone)]
pub struct ClassificationRow {
    pub article_no: String,
    pub etim_class: Option<String>,
    pub class_name: Option<String>,
    pub confidence: Option<f32>,
    /// `delivered`, `neighbours`, `names`, `attributes` or `none`.
    pub source: String,
    /// `EC001744:0.930;EC002892:0.050`
    pub alternatives: String,
    pub delivered_code: Option<String>,
}

/// A source attribute enrich mapped to an ETIM feature.
#[derive(Debug, Clone)]
pub struct FeatureRow {
    pub article_no: String,
    pub etim_class: String,
    pub code: String,
    pub name: String,
    pub value: String,
    pub unit: Option<String>,
    pub attribute: String,
}

/// A chunk of text enrich made; `kind` `media` for text read from a
/// delivered file (`source` its path), with `chunk_id` `media.<sha8>` or
/// `media.<sha8>.<part>`.
#[derive(Debug, Clone)]
pub struct ChunkRow {
    pub article_no: String,
    pub chunk_id: String,
    pub kind: String,
    pub language: String,
    pub text: String,
    pub source: String,
}

/// What enrich wrote for one delivery.
#[derive(Debug, Clone, Default)]
pub struct Enriched {
    pub classifications: Vec<ClassificationRow>,
    pub features: Vec<FeatureRow>,
    pub chunks: Vec<ChunkRow>,
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn optional<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(values))
}

/// Writes `enriched` as enrich's tables of `delivery` (each stamped with
/// the delivery it was made from, as `cradle enrich` stamps them).
pub fn publish_enriched(lakehouse_dir: &Path, delivery: u64, enriched: &Enriched) {
    let c = &enriched.classifications;
    let f = &enriched.features;
    let k = &enriched.chunks;
    let batches = [
        (
            classifications::NAME,
            RecordBatch::try_new(
                classifications::schema(),
                vec![
                    strings(c.iter().map(|r| r.article_no.as_str())),
                    optional(c.iter().map(|r| r.etim_class.as_deref())),
                    optional(c.iter().map(|r| r.class_name.as_deref())),
                    Arc::new(Float32Array::from_iter(c.iter().map(|r| r.confidence))),
                    strings(c.iter().map(|r| r.source.as_str())),
                    strings(c.iter().map(|r| r.alternatives.as_str())),
                    optional(c.iter().map(|r| r.delivered_code.as_deref())),
                    optional(c.iter().map(|_| None)),
                ],
            ),
        ),
        (
            etim_features::NAME,
            RecordBatch::try_new(
                etim_features::schema(),
                vec![
                    strings(f.iter().map(|r| r.article_no.as_str())),
                    strings(f.iter().map(|r| r.etim_class.as_str())),
                    strings(f.iter().map(|r| r.code.as_str())),
                    strings(f.iter().map(|r| r.name.as_str())),
                    strings(f.iter().map(|r| r.value.as_str())),
                    optional(f.iter().map(|r| r.unit.as_deref())),
                    strings(f.iter().map(|r| r.attribute.as_str())),
                    strings(f.iter().map(|_| "name")),
                ],
            ),
        ),
        (
            chunks::NAME,
            RecordBatch::try_new(
                chunks::schema(),
                vec![
                    strings(k.iter().map(|r| r.article_no.as_str())),
                    strings(k.iter().map(|r| r.chunk_id.as_str())),
                    strings(k.iter().map(|r| r.kind.as_str())),
                    strings(k.iter().map(|r| r.language.as_str())),
                    strings(k.iter().map(|r| r.text.as_str())),
                    strings(k.iter().map(|r| r.source.as_str())),
                    strings(k.iter().map(|r| r.chunk_id.as_str())),
                    Arc::new(BooleanArray::from_iter(k.iter().map(|_| Some(false)))),
                ],
            ),
        ),
    ];
    let lakehouse = Lakehouse::new(lakehouse_dir);
    for (name, batch) in batches {
        let batch = batch.expect("an enrich batch");
        let mut options = WriteOptions::overwrite();
        options.app_metadata = Some(serde_json::json!({ "delivery": delivery, "stage": "enrich" }));
        let mut writer = lakehouse
            .table(name)
            .writer(batch.schema(), options)
            .expect("table writer");
        writer.write(&batch).expect("write");
        writer.finish().expect("finish").commit().expect("commit");
    }
}
