//! The enrich stage's Delta tables: `chunks`, `embeddings`,
//! `classifications` and `etim_features`. Each run overwrites them with the
//! whole current state (Delta keeps the earlier versions).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Float32Builder, ListBuilder, StringBuilder};
use arrow_array::{
    Array, BooleanArray, Float32Array, Int32Array, ListArray, RecordBatch, StringArray,
};
use arrow_schema::SchemaRef;
use cradle_embed::ModelInfo;
use cradle_lake::{Table, WriteOptions};

use crate::EnrichError;
use crate::chunk::Chunk;
use crate::read::{column, scan, strings};

pub use cradle_lakehouse::schema::chunks::NAME as CHUNKS;
pub use cradle_lakehouse::schema::classifications::NAME as CLASSIFICATIONS;
pub use cradle_lakehouse::schema::embeddings::NAME as EMBEDDINGS;
pub use cradle_lakehouse::schema::etim_features::NAME as ETIM_FEATURES;
use cradle_lakehouse::schema::{chunks, classifications, embeddings, etim_features};

const ROWS_PER_BATCH: usize = 8192;

/// Writes one table version from batches; returns the version.
pub fn write_table(
    lakehouse: &Path,
    name: &str,
    schema: SchemaRef,
    batches: impl IntoIterator<Item = Result<RecordBatch, EnrichError>>,
    delivery: u64,
) -> Result<u64, EnrichError> {
    let path = lakehouse.join(name);
    let lake = |source| EnrichError::Lake {
        table: path.clone(),
        source,
    };
    let mut options = WriteOptions::overwrite();
    options.app_metadata = Some(serde_json::json!({ "delivery": delivery, "stage": "enrich" }));
    options.plain_columns = vec![
        chunks::TEXT.into(),
        chunks::CONTENT_HASH.into(),
        chunks::CHUNK_ID.into(),
    ];
    options.columns_without_statistics =
        vec![chunks::TEXT.into(), classifications::ALTERNATIVES.into()];
    let mut writer = Table::at(&path).writer(schema, options).map_err(lake)?;
    for batch in batches {
        writer.write(&batch?).map_err(lake)?;
    }
    writer
        .finish()
        .and_then(|staged| staged.commit())
        .map_err(lake)
}

/// Batches of the `chunks` table.
pub fn chunk_batches<'a>(
    chunks: &'a [Chunk],
    embedded: &'a dyn Fn(&Chunk) -> bool,
) -> impl Iterator<Item = Result<RecordBatch, EnrichError>> + 'a {
    chunks.chunks(ROWS_PER_BATCH).map(move |group| {
        let column = |f: &dyn Fn(&Chunk) -> &str| -> Arc<dyn Array> {
            Arc::new(StringArray::from_iter_values(group.iter().map(f)))
        };
        RecordBatch::try_new(
            chunks::schema(),
            vec![
                column(&|c| &c.article_no),
                column(&|c| &c.chunk_id),
                column(&|c| c.kind),
                column(&|c| c.language),
                column(&|c| &c.text),
                column(&|c| &c.source),
                column(&|c| &c.content_hash),
                Arc::new(BooleanArray::from_iter(
                    group.iter().map(|c| Some(embedded(c))),
                )),
            ],
        )
        .map_err(|source| EnrichError::Arrow {
            table: CHUNKS.into(),
            source,
        })
    })
}

/// Batches of the `embeddings` table: one row per chunk, its vector from
/// `vectors` (row-major, `dimension` values per chunk).
pub fn embedding_batches<'a>(
    chunks: &'a [&'a Chunk],
    vectors: &'a [f32],
    model: &'a ModelInfo,
) -> impl Iterator<Item = Result<RecordBatch, EnrichError>> + 'a {
    let dim = model.dimension;
    chunks
        .chunks(ROWS_PER_BATCH)
        .enumerate()
        .map(move |(i, group)| {
            let first = i * ROWS_PER_BATCH;
            let mut list = ListBuilder::new(Float32Builder::with_capacity(group.len() * dim))
                .with_field(embeddings::vector_item());
            for row in 0..group.len() {
                let at = (first + row) * dim;
                list.values().append_slice(&vectors[at..at + dim]);
                list.append(true);
            }
            let strings = |f: &dyn Fn(&Chunk) -> &str| -> Arc<dyn Array> {
                Arc::new(StringArray::from_iter_values(group.iter().map(|c| f(c))))
            };
            let repeat = |s: &str| -> Arc<dyn Array> {
                Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                    s,
                    group.len(),
                )))
            };
            RecordBatch::try_new(
                embeddings::schema(),
                vec![
                    strings(&|c| &c.article_no),
                    strings(&|c| &c.chunk_id),
                    strings(&|c| &c.content_hash),
                    repeat(&model.name),
                    repeat(&model.revision),
                    Arc::new(Int32Array::from(vec![dim as i32; group.len()])),
                    Arc::new(list.finish()),
                ],
            )
            .map_err(|source| EnrichError::Arrow {
                table: EMBEDDINGS.into(),
                source,
            })
        })
}

/// Earlier vectors by content hash, and the model that made others (if
/// any were made by a different one).
pub type Previous = (HashMap<String, Vec<f32>>, Option<String>);

/// Vectors of the latest `embeddings` version made by `model`, by content
/// hash; empty when there is none or it was made by another model (which
/// means everything is embedded again).
pub fn previous_vectors(lakehouse: &Path, model: &ModelInfo) -> Result<Previous, EnrichError> {
    let path = lakehouse.join(EMBEDDINGS);
    let table = Table::at(&path);
    let version = match table.latest_version() {
        Ok(Some(version)) => version,
        Ok(None) => return Ok((HashMap::new(), None)),
        Err(source) => {
            return Err(EnrichError::Lake {
                table: path,
                source,
            });
        }
    };
    let mut vectors = HashMap::new();
    let mut other_model = None;
    let columns = [
        embeddings::CONTENT_HASH,
        embeddings::MODEL,
        embeddings::MODEL_REVISION,
        embeddings::DIMENSION,
        embeddings::VECTOR,
    ];
    for batch in scan(lakehouse, EMBEDDINGS, version, &columns)? {
        let batch = batch.map_err(|source| EnrichError::Lake {
            table: path.clone(),
            source,
        })?;
        let hashes = strings(&batch, 0, EMBEDDINGS)?;
        let names = strings(&batch, 1, EMBEDDINGS)?;
        let revisions = strings(&batch, 2, EMBEDDINGS)?;
        let lists = column::<ListArray>(&batch, 4, EMBEDDINGS)?;
        for row in 0..batch.num_rows() {
            if names.value(row) != model.name || revisions.value(row) != model.revision {
                other_model.get_or_insert_with(|| {
                    format!("{} ({})", names.value(row), short(revisions.value(row)))
                });
                continue;
            }
            let values = lists.value(row);
            let Some(values) = values.as_any().downcast_ref::<Float32Array>() else {
                continue;
            };
            if values.len() != model.dimension {
                continue;
            }
            vectors.insert(hashes.value(row).to_owned(), values.values().to_vec());
        }
    }
    Ok((vectors, other_model))
}

fn short(revision: &str) -> &str {
    &revision[..revision.len().min(12)]
}

/// One product's classification row.
#[derive(Debug, Clone)]
pub struct ClassRow {
    pub article_no: String,
    pub class: Option<String>,
    pub class_name: Option<String>,
    pub confidence: Option<f32>,
    pub source: String,
    /// `EC001744:0.93;EC002892:0.05`
    pub alternatives: String,
    pub delivered_code: Option<String>,
    pub delivered_code_problem: Option<String>,
}

pub fn classification_batches(
    rows: &[ClassRow],
) -> impl Iterator<Item = Result<RecordBatch, EnrichError>> + '_ {
    rows.chunks(ROWS_PER_BATCH).map(|group| {
        let opt = |f: &dyn Fn(&ClassRow) -> Option<&str>| -> Arc<dyn Array> {
            let mut b = StringBuilder::new();
            for row in group {
                b.append_option(f(row));
            }
            Arc::new(b.finish())
        };
        RecordBatch::try_new(
            classifications::schema(),
            vec![
                Arc::new(StringArray::from_iter_values(
                    group.iter().map(|r| &r.article_no),
                )),
                opt(&|r| r.class.as_deref()),
                opt(&|r| r.class_name.as_deref()),
                Arc::new(Float32Array::from_iter(group.iter().map(|r| r.confidence))),
                Arc::new(StringArray::from_iter_values(
                    group.iter().map(|r| &r.source),
                )),
                Arc::new(StringArray::from_iter_values(
                    group.iter().map(|r| &r.alternatives),
                )),
                opt(&|r| r.delivered_code.as_deref()),
                opt(&|r| r.delivered_code_problem.as_deref()),
            ],
        )
        .map_err(|source| EnrichError::Arrow {
            table: CLASSIFICATIONS.into(),
            source,
        })
    })
}

/// One source attribute mapped to an ETIM feature.
#[derive(Debug, Clone)]
pub struct FeatureRow {
    pub article_no: String,
    pub class: String,
    pub feature_code: String,
    pub feature_name: String,
    pub value: String,
    pub unit: Option<String>,
    pub attribute: String,
    pub reason: String,
}

pub fn feature_batches(
    rows: &[FeatureRow],
) -> impl Iterator<Item = Result<RecordBatch, EnrichError>> + '_ {
    rows.chunks(ROWS_PER_BATCH * 4).map(|group| {
        let col = |f: &dyn Fn(&FeatureRow) -> &str| -> Arc<dyn Array> {
            Arc::new(StringArray::from_iter_values(group.iter().map(f)))
        };
        let mut units = StringBuilder::new();
        for row in group {
            units.append_option(row.unit.as_deref());
        }
        RecordBatch::try_new(
            etim_features::schema(),
            vec![
                col(&|r| &r.article_no),
                col(&|r| &r.class),
                col(&|r| &r.feature_code),
                col(&|r| &r.feature_name),
                col(&|r| &r.value),
                Arc::new(units.finish()),
                col(&|r| &r.attribute),
                col(&|r| &r.reason),
            ],
        )
        .map_err(|source| EnrichError::Arrow {
            table: ETIM_FEATURES.into(),
            source,
        })
    })
}

/// Counts of a table's latest version, for reports.
pub fn latest_versions(lakehouse: &Path) -> BTreeMap<String, u64> {
    cradle_lakehouse::ENRICH_TABLES
        .into_iter()
        .filter_map(|name| {
            let version = Table::at(lakehouse.join(name)).latest_version().ok()??;
            Some((name.to_owned(), version))
        })
        .collect()
}
