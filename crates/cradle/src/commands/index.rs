//! `cradle index --workspace <WS>`: builds what the server opens
//! memory-mapped (the full-text index and the SQLite catalog) from the
//! published delivery, once, so that starting the server rebuilds nothing.

use anyhow::{Context, Result};
use cradle_core::workspace::Workspace;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// The customer's workspace (after `cradle ingest`).
    #[arg(long, short)]
    pub workspace: PathBuf,
}

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
    pub warnings: Vec<String>,
    pub duration_ms: u64,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let report = build(&args.workspace)?;
    println!(
        "Indexed delivery {} of {}: {} products, {} attributes",
        report.delivery,
        args.workspace.display(),
        super::ingest::group_thousands(report.products),
        super::ingest::group_thousands(report.attributes)
    );
    println!(
        "  search index: {} documents, {:.1} MB in {:.1} s",
        report.search_documents,
        report.search_index_bytes as f64 / 1e6,
        report.search_index_seconds
    );
    println!(
        "  catalog: {:.1} MB in {:.1} s ({} relations, {} media, {} history events)",
        report.catalog_bytes as f64 / 1e6,
        report.catalog_seconds,
        report.relations,
        report.media,
        report.history_events
    );
    for warning in &report.warnings {
        println!("  warning: {warning}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn build(workspace: &Path) -> Result<IndexReport> {
    let started = Instant::now();
    let workspace = Workspace::new(workspace);
    let _lock = crate::delivery::WorkspaceLock::acquire(workspace.root())?;
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
        warnings: catalog.warnings.clone(),
        duration_ms: started.elapsed().as_millis() as u64,
    };
    crate::delivery::write_atomically(
        &workspace.reports_dir().join("index.json"),
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;
    Ok(report)
}
