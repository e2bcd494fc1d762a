//! `cradle index --workspace <WS>`: builds what the server opens
//! memory-mapped (the full-text index and the SQLite catalog) from the
//! published delivery (`cradle_pipeline::index`).

use anyhow::Result;
use cradle_fs::Workspace;
use cradle_pipeline::text::group_thousands;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The customer's workspace (after `cradle ingest`).
    #[arg(long, short)]
    pub workspace: PathBuf,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let report = cradle_pipeline::index::build(&Workspace::new(&args.workspace))?;
    println!(
        "Indexed delivery {} of {}: {} products, {} attributes",
        report.delivery,
        args.workspace.display(),
        group_thousands(report.products),
        group_thousands(report.attributes)
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
