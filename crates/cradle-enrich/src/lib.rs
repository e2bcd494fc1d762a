//! The enrich stage: from the published delivery to chunks, embeddings,
//! an ANN index, ETIM classes and text from media.
//!
//! ```text
//! lakehouse products + attributes ──► chunks (per product, DE/EN)
//! lakehouse files (kind media) ─────► text from PDFs / OCR ──► media chunks
//! chunks ──► embeddings (only content hashes without a vector of this model)
//!        ──► lakehouse chunks, embeddings      ──► index/vectors.idx (ANN)
//! products + neighbours on embeddings ──► classifications, etim_features
//! ```
//!
//! The embedder is handed in (`cradle_embed::Embedder`): this crate does
//! not know whether vectors are computed locally or remotely.

pub mod checkpoint;
pub mod chunk;
pub mod classify;
pub mod embed;
pub mod eval;
pub mod media;
pub mod read;
pub mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use cradle_classify::EtimModel;
use cradle_embed::{Embedder, ModelInfo};
use cradle_fs::Workspace;
use cradle_media::MediaTools;
use cradle_vector::{BuildParams, VectorIndex};
use serde::Serialize;

pub use media::MediaFailure;

/// Progress of long stages; the binary draws bars, tests ignore it.
pub trait Progress: Sync {
    fn stage(&self, name: &str, total: u64);
    fn advance(&self, n: u64);
    fn finish_stage(&self);
}

/// No progress output.
#[derive(Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish_stage(&self) {}
}

#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error(
        "{lakehouse} holds no published delivery\nhint: run `cradle ingest <DELIVERY> --workspace <WS>` first"
    )]
    NoDelivery { lakehouse: PathBuf },
    #[error("cannot read the delivery records")]
    DeliveryRecord {
        #[source]
        source: cradle_lakehouse::deliveries::DeliveryError,
    },
    #[error("the published delivery in {lakehouse} names no `{table}` table")]
    MissingTable { lakehouse: PathBuf, table: String },
    #[error("table {table}")]
    Lake {
        table: PathBuf,
        #[source]
        source: cradle_lake::LakeError,
    },
    #[error("table {table}: column {column} has an unexpected type")]
    Column { table: String, column: String },
    #[error("building a batch of table {table}")]
    Arrow {
        table: String,
        #[source]
        source: arrow_schema::ArrowError,
    },
    #[error("embedding failed")]
    Embed {
        #[source]
        source: cradle_embed::EmbedError,
    },
    #[error("the embedder returned {received} vectors for {sent} texts")]
    EmbedCount { sent: usize, received: usize },
    #[error("the embedder returned vectors of dimension {received}, its model says {expected}")]
    EmbedDimension { expected: usize, received: usize },
    #[error("the vector index {path}")]
    Vectors {
        path: PathBuf,
        #[source]
        source: cradle_vector::VectorError,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "no products of {lakehouse} came with a valid ETIM class code, so there is nothing to hold out\nhint: --eval needs a delivery in which some products are classified"
    )]
    NothingToEvaluate { lakehouse: PathBuf },
    #[error(
        "{path} is missing\nhint: run `cradle enrich --workspace <WS>` before `cradle classify --eval`"
    )]
    NotEnriched { path: PathBuf },
}

/// The chunk kinds embedded unless configured otherwise: short texts that
/// say what a product is. Technical tables and tender texts are stored as
/// chunks for language models but not embedded by default: they hold most
/// of a product's tokens (about 6x the identity and description), and a
/// local model on a CPU would take hours for a full catalogue; keyword
/// search and filters serve them well.
pub const DEFAULT_EMBED_KINDS: [&str; 3] = ["identity", "description", "media"];

/// Every chunk kind.
pub const CHUNK_KINDS: [&str; 5] = ["identity", "description", "technical", "tender", "media"];

/// What to do besides chunking and embedding.
pub struct EnrichOptions {
    /// Chunk kinds that get a vector.
    pub embed_kinds: Vec<String>,
    pub etim: EtimModel,
    /// Media extraction; `None` skips media.
    pub media: Option<MediaTools>,
    /// Where the ETIM model came from, for the report.
    pub etim_source: String,
    /// Fit the (distilled, static) embedder to this delivery's texts first.
    pub fit: Option<FitTarget>,
}

/// Where the embedder handed to [`enrich`] came from, so it can be fitted
/// to the delivery's texts (`cradle_embed::fit`) and the fitted model used
/// instead. A model fitted before from the same base is reused as it is:
/// its weights stay frozen, so the vectors of unchanged chunks stay valid
/// across deliveries. Delete `dir` to fit again.
#[derive(Debug, Clone)]
pub struct FitTarget {
    /// The distilled model's directory.
    pub base: PathBuf,
    /// Where the fitted model lives (`<WS>/model`).
    pub dir: PathBuf,
    pub local: cradle_embed::LocalOptions,
}

/// What fitting did, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct FitOutcome {
    pub dir: String,
    /// Fitted to the texts of this run, or reused from an earlier one.
    pub reused: bool,
    /// Texts counted (0 when reused).
    pub texts: u64,
    pub seconds: f64,
}

/// `<WS>/reports/enrich.json`.
#[derive(Debug, Clone, Serialize)]
pub struct EnrichReport {
    pub customer: String,
    pub delivery: u64,
    pub products: u64,
    pub chunks: u64,
    pub chunks_by_kind: BTreeMap<String, u64>,
    pub embeddings: u64,
    /// The chunk kinds that get a vector.
    pub embedded_kinds: Vec<String>,
    /// Chunks whose vector was computed in this run.
    pub embedded_now: u64,
    /// Chunks whose vector was reused (content unchanged, same model).
    pub embeddings_reused: u64,
    /// Why everything was embedded again, if it was.
    pub model_changed_from: Option<String>,
    pub model: String,
    pub model_backend: String,
    pub model_revision: String,
    /// The model was fitted to the workspace's texts (see [`FitTarget`]).
    pub fitted: Option<FitOutcome>,
    pub dimension: usize,
    pub embed_seconds: f64,
    /// Distinct texts embedded per second in this run.
    pub embed_rate: f64,
    pub vector_index: String,
    pub vector_index_bytes: u64,
    pub classified: u64,
    pub unclassified: u64,
    pub classification_sources: BTreeMap<String, u64>,
    pub invalid_class_codes: u64,
    pub etim_model: String,
    pub etim_features: u64,
    pub media_files: u64,
    pub media_processed: u64,
    pub media_failed: u64,
    pub media_unlinked: u64,
    pub media_chunks: u64,
    pub media_methods: BTreeMap<String, u64>,
    pub media_failures: Vec<MediaFailure>,
    pub tables: BTreeMap<String, u64>,
    pub stage_seconds: BTreeMap<String, f64>,
    pub started_at: String,
    pub duration_ms: u64,
}

/// The fitted model of `target`: the one fitted before from the same base
/// weights, else one fitted now to the texts of `chunks`.
fn fit_model(
    target: &FitTarget,
    base: &ModelInfo,
    chunks: &[&chunk::Chunk],
    progress: &dyn Progress,
) -> Result<(cradle_embed::LocalEmbedder, FitOutcome), EnrichError> {
    let started = Instant::now();
    let name = format!("{}+fit", base.name);
    let reused = cradle_embed::fitted_from(&target.dir).as_deref() == Some(base.revision.as_str());
    let mut texts = 0;
    if !reused {
        progress.stage("fitting the model to the texts", 0);
        let all: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
        texts = all.len() as u64;
        cradle_embed::fit(&target.base, &all, &target.dir, &target.local)
            .map_err(|source| EnrichError::Embed { source })?;
        progress.finish_stage();
    }
    let model = cradle_embed::LocalEmbedder::open_named(&target.dir, &name, &target.local)
        .map_err(|source| EnrichError::Embed { source })?;
    Ok((
        model,
        FitOutcome {
            dir: target.dir.display().to_string(),
            reused,
            texts,
            seconds: started.elapsed().as_secs_f64(),
        },
    ))
}

/// The `meta` stored in the vector index: which model made the vectors.
pub fn index_meta(model: &ModelInfo, delivery: u64) -> String {
    serde_json::json!({ "model": model, "delivery": delivery }).to_string()
}

/// Runs the whole stage on the workspace's newest published delivery.
pub fn enrich(
    workspace: &Workspace,
    embedder: &dyn Embedder,
    options: &EnrichOptions,
    progress: &dyn Progress,
) -> Result<EnrichReport, EnrichError> {
    let started = Instant::now();
    let started_at = cradle_core::dates::now_rfc3339();
    let lakehouse = workspace.lakehouse_dir();
    let mut stage_seconds = BTreeMap::new();
    let mut lap = Instant::now();
    let mut stage_done = |name: &str, lap: &mut Instant| {
        stage_seconds.insert(name.to_owned(), lap.elapsed().as_secs_f64());
        *lap = Instant::now();
    };

    let mut delivery = read::read(&lakehouse)?;
    delivery.label_etim_features(&options.etim);
    stage_done("read", &mut lap);

    let mut chunks: Vec<chunk::Chunk> = delivery
        .products
        .iter()
        .flat_map(|product| chunk::product_chunks(&delivery, product))
        .collect();
    stage_done("chunk", &mut lap);

    let mut report_media = media::MediaOutcome::default();
    let mut media_files = 0;
    if let Some(tools) = &options.media {
        report_media =
            media::media_chunks(&lakehouse, &workspace.raw_dir(), &delivery, tools, progress)?;
        media_files =
            report_media.processed + report_media.failed + report_media.unlinked.len() as u64;
        chunks.append(&mut report_media.chunks);
    }
    // Product order, then chunk id: the index rows follow this order.
    chunks.sort_by(|a, b| {
        a.article_no
            .cmp(&b.article_no)
            .then_with(|| a.chunk_id.cmp(&b.chunk_id))
    });
    chunks.dedup_by(|a, b| a.article_no == b.article_no && a.chunk_id == b.chunk_id);
    stage_done("media", &mut lap);

    let wanted = |chunk: &chunk::Chunk| options.embed_kinds.iter().any(|k| k == chunk.kind);
    let selected: Vec<&chunk::Chunk> = chunks.iter().filter(|c| wanted(c)).collect();
    let fitted_model;
    let (embedder, fitted): (&dyn Embedder, Option<FitOutcome>) = match &options.fit {
        None => (embedder, None),
        Some(target) => {
            let (model, outcome) = fit_model(target, embedder.info(), &selected, progress)?;
            fitted_model = model;
            (&fitted_model, Some(outcome))
        }
    };
    stage_done("fit", &mut lap);
    let model = embedder.info().clone();
    let (previous, other_model) = tables::previous_vectors(&lakehouse, &model)?;
    // Vectors of an enrich that did not finish wait here until published.
    let checkpoint_path = workspace.scratch_dir().join("enrich").join("vectors.bin");
    let (mut checkpoint, kept) =
        checkpoint::Checkpoint::open(&checkpoint_path, &model).map_err(|source| {
            EnrichError::Write {
                path: checkpoint_path.clone(),
                source,
            }
        })?;
    let embedded = embed::embed_chunks(
        &selected,
        &previous,
        embedder,
        progress,
        Some((&mut checkpoint, kept)),
    )?;
    drop(previous);
    stage_done("embed", &mut lap);

    let chunks_version = tables::write_table(
        &lakehouse,
        tables::CHUNKS,
        cradle_lakehouse::schema::chunks::schema(),
        tables::chunk_batches(&chunks, &wanted),
        delivery.number,
    )?;
    let embeddings_version = tables::write_table(
        &lakehouse,
        tables::EMBEDDINGS,
        cradle_lakehouse::schema::embeddings::schema(),
        tables::embedding_batches(&selected, &embedded.vectors, &model),
        delivery.number,
    )?;
    // Committed: the next enrich finds these vectors in the table.
    checkpoint.remove().map_err(|source| EnrichError::Write {
        path: checkpoint_path.clone(),
        source,
    })?;
    stage_done("write", &mut lap);

    // The ANN index, rows in chunk order.
    let index_path = workspace.vector_index_file();
    std::fs::create_dir_all(workspace.index_dir()).map_err(|source| EnrichError::Write {
        path: workspace.index_dir(),
        source,
    })?;
    let keys: Vec<String> = selected.iter().map(|c| c.key()).collect();
    progress.stage("building the vector index", 0);
    cradle_vector::build(
        &index_path,
        model.dimension,
        &keys,
        &embedded.vectors,
        &index_meta(&model, delivery.number),
        &BuildParams::default(),
    )
    .map_err(|source| EnrichError::Vectors {
        path: index_path.clone(),
        source,
    })?;
    progress.finish_stage();
    let index = VectorIndex::open(&index_path).map_err(|source| EnrichError::Vectors {
        path: index_path.clone(),
        source,
    })?;
    stage_done("vector index", &mut lap);

    let lookup = vector_lookup(&delivery, &index);
    let classified = classify::classify_all(&options.etim, &delivery, Some(&lookup), progress);
    let classifications_version = tables::write_table(
        &lakehouse,
        tables::CLASSIFICATIONS,
        cradle_lakehouse::schema::classifications::schema(),
        tables::classification_batches(&classified.rows),
        delivery.number,
    )?;
    let features_version = tables::write_table(
        &lakehouse,
        tables::ETIM_FEATURES,
        cradle_lakehouse::schema::etim_features::schema(),
        tables::feature_batches(&classified.features),
        delivery.number,
    )?;
    stage_done("classify", &mut lap);

    let mut chunks_by_kind = BTreeMap::new();
    for chunk in &chunks {
        *chunks_by_kind.entry(chunk.kind.to_owned()).or_default() += 1;
    }
    let media_chunks = chunks_by_kind.get("media").copied().unwrap_or(0);
    let tables = BTreeMap::from([
        (tables::CHUNKS.to_owned(), chunks_version),
        (tables::EMBEDDINGS.to_owned(), embeddings_version),
        (tables::CLASSIFICATIONS.to_owned(), classifications_version),
        (tables::ETIM_FEATURES.to_owned(), features_version),
    ]);
    Ok(EnrichReport {
        customer: delivery.customer.clone(),
        delivery: delivery.number,
        products: delivery.products.len() as u64,
        chunks: chunks.len() as u64,
        chunks_by_kind,
        embeddings: selected.len() as u64,
        embedded_kinds: options.embed_kinds.clone(),
        embedded_now: embedded.embedded_now,
        embeddings_reused: embedded.reused,
        model_changed_from: other_model.filter(|_| embedded.reused == 0),
        model: model.name.clone(),
        model_backend: model.backend.clone(),
        model_revision: model.revision.clone(),
        fitted,
        dimension: model.dimension,
        embed_seconds: embedded.seconds,
        embed_rate: if embedded.seconds > 0.0 {
            embedded.distinct_texts as f64 / embedded.seconds
        } else {
            0.0
        },
        vector_index: index_path.display().to_string(),
        vector_index_bytes: index.file_bytes(),
        classified: classified.classified,
        unclassified: classified.unclassified,
        classification_sources: classified.by_source,
        invalid_class_codes: classified.invalid_codes,
        etim_model: options.etim_source.clone(),
        etim_features: classified.features.len() as u64,
        media_files,
        media_processed: report_media.processed,
        media_failed: report_media.failed,
        media_unlinked: report_media.unlinked.len() as u64,
        media_chunks,
        media_methods: report_media
            .methods
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect(),
        media_failures: report_media.failures,
        tables,
        stage_seconds,
        started_at,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// Rows of the vector index per product, from the index's keys
/// (`<article_no>#<chunk_id>`).
pub fn vector_lookup<'a>(
    delivery: &read::Delivery,
    index: &'a VectorIndex,
) -> classify::VectorLookup<'a> {
    let mut row_product = Vec::with_capacity(index.len());
    let mut identity_row = vec![None; delivery.products.len()];
    let mut first_row = vec![None; delivery.products.len()];
    for row in 0..index.len() as u32 {
        let (article, chunk_id) = index
            .key(row)
            .rsplit_once('#')
            .unwrap_or((index.key(row), ""));
        let product = delivery
            .products
            .binary_search_by(|p| p.article_no.as_str().cmp(article))
            .ok();
        // A row of a product this delivery no longer has never matches.
        row_product.push(product.map_or(u32::MAX, |p| p as u32));
        if let Some(p) = product
            && first_row[p].is_none()
        {
            first_row[p] = Some(row);
        }
        if let Some(p) = product
            && chunk_id.starts_with("identity")
            && identity_row[p].is_none()
        {
            identity_row[p] = Some(row);
        }
    }
    // Without an identity chunk, a product's first vector stands for it.
    for (identity, first) in identity_row.iter_mut().zip(first_row) {
        if identity.is_none() {
            *identity = first;
        }
    }
    classify::VectorLookup {
        index,
        row_product,
        identity_row,
    }
}

/// Writes the report as JSON and as text next to it.
pub fn write_report(workspace: &Workspace, report: &EnrichReport) -> Result<PathBuf, EnrichError> {
    let write = |path: &Path, bytes: &[u8]| -> Result<(), EnrichError> {
        cradle_fs::write_atomic(path, bytes).map_err(|source| EnrichError::Write {
            path: path.to_path_buf(),
            source,
        })
    };
    let json_path = workspace.report("enrich.json");
    let json = serde_json::to_vec_pretty(report).unwrap_or_default();
    write(&json_path, &json)?;
    write(&workspace.report("enrich.txt"), summary(report).as_bytes())?;
    Ok(json_path)
}

/// The report for people.
pub fn summary(report: &EnrichReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Enriched delivery {} of {}: {} products",
        report.delivery, report.customer, report.products
    );
    let kinds: Vec<String> = report
        .chunks_by_kind
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let _ = writeln!(s, "  chunks: {} ({})", report.chunks, kinds.join(", "));
    let _ = writeln!(
        s,
        "  embeddings: {} of {} chunks ({}) with {} ({}, dimension {}); {} embedded now, {} reused; {:.0} texts/s",
        report.embeddings,
        report.chunks,
        report.embedded_kinds.join(", "),
        report.model,
        report.model_backend,
        report.dimension,
        report.embedded_now,
        report.embeddings_reused,
        report.embed_rate
    );
    match &report.fitted {
        Some(fit) if fit.reused => {
            let _ = writeln!(
                s,
                "  model: the workspace's fitted model in {} (kept from an earlier delivery, so unchanged chunks keep their vectors)",
                fit.dir
            );
        }
        Some(fit) => {
            let _ = writeln!(
                s,
                "  model: fitted to {} texts of this delivery in {:.1} s, in {}",
                fit.texts, fit.seconds, fit.dir
            );
        }
        None => {}
    }
    if let Some(previous) = &report.model_changed_from {
        let _ = writeln!(
            s,
            "  the model changed (was {previous}): every chunk was embedded again"
        );
    }
    let _ = writeln!(
        s,
        "  vector index: {} ({:.1} MB)",
        report.vector_index,
        report.vector_index_bytes as f64 / 1e6
    );
    let sources: Vec<String> = report
        .classification_sources
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let _ = writeln!(
        s,
        "  ETIM classes: {} classified ({}), {} unclassified, {} delivered codes invalid; {} features mapped ({})",
        report.classified,
        sources.join(", "),
        report.unclassified,
        report.invalid_class_codes,
        report.etim_features,
        report.etim_model
    );
    let _ = writeln!(
        s,
        "  media: {} files, {} read, {} failed, {} not linked to a product, {} chunks",
        report.media_files,
        report.media_processed,
        report.media_failed,
        report.media_unlinked,
        report.media_chunks
    );
    for failure in &report.media_failures {
        let _ = writeln!(s, "    {}: {}", failure.file, failure.error);
    }
    let _ = writeln!(s, "  in {:.1} s", report.duration_ms as f64 / 1000.0);
    s
}
