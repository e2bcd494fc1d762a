//! The index step: what the server opens memory-mapped (the full-text
//! index and the SQLite catalog), built once from the published delivery
//! (and, for the catalog, enrich's classes and media texts when enrich has
//! run on it: run `cradle index` again after `cradle enrich`) so that
//! starting the server rebuilds nothing.

use anyhow::{Context, Result};
use cradle_fs::{Workspace, WorkspaceLock};
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Serialize)]
pub struct IndexReport {
    pub delivery: u64,
    pub products: u64,
    pub attributes: u64,
    pub search_documents: u64,
    pub search_index_bytes: u64,
    pub search_index_seconds: f64,
    pub catalog_bytes: u64,
    pub catalog_seconds: f64,
    pub relations: u64,
    pub media: u64,
    pub history_events: u64,
    /// Enrich's outputs carried into the catalog (zero when the delivery
    /// was not enriched): classified products, mapped features, media
    /// text parts.
    pub classifications: u64,
    pub etim_features: u64,
    pub media_texts: u64,
    pub warnings: Vec<String>,
    pub duration_ms: u64,
}

/// The index step: the full-text index and the catalog of the newest
/// published delivery, each built aside and renamed into place; writes
/// `reports/index.json`.
pub fn build(workspace: &Workspace) -> Result<IndexReport> {
    let started = Instant::now();
    let _lock = WorkspaceLock::acquire(workspace.root())?;
    crate::recover(workspace)?;
    let lakehouse = workspace.lakehouse_dir();
    anyhow::ensure!(
        lakehouse.exists(),
        "{} has no lakehouse\nhint: run `cradle ingest <DELIVERY> --workspace {}` first",
        workspace.root().display(),
        workspace.root().display()
    );
    std::fs::create_dir_all(workspace.index_dir())
        .with_context(|| format!("cannot create {}", workspace.index_dir().display()))?;
    let search_started = Instant::now();
    let search = cradle_index::build(
        &lakehouse,
        &workspace.search_index_dir(),
        &cradle_index::BuildOptions::default(),
    )
    .context("cannot build the search index")?;
    let search_seconds = search_started.elapsed().as_secs_f64();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let catalog = runtime
        .block_on(cradle_catalog::build(&lakehouse, &workspace.catalog_file()))
        .context("cannot build the catalog")?;
    let report = IndexReport {
        delivery: catalog.delivery,
        products: catalog.products,
        attributes: catalog.attributes,
        search_documents: search.documents,
        search_index_bytes: search.size_bytes,
        search_index_seconds: search_seconds,
        catalog_bytes: catalog.size_bytes,
        catalog_seconds: catalog.total_time.as_secs_f64(),
        relations: catalog.relations,
        media: catalog.media,
        history_events: catalog.history_events,
        classifications: catalog.classifications,
        etim_features: catalog.etim_features,
        media_texts: catalog.media_texts,
        warnings: catalog.warnings.clone(),
        duration_ms: started.elapsed().as_millis() as u64,
    };
    let path = workspace.report("index.json");
    cradle_fs::write_atomic(&path, &serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(report)
}
