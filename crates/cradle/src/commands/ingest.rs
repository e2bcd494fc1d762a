//! `cradle ingest <PATH>... --workspace <WS>`: a delivery into the lakehouse
//! as one new, atomically published version (`cradle_pipeline::ingest`),
//! with its summary on stdout.

use crate::progress::IngestProgress;
use anyhow::Result;
use cradle_fs::Workspace;
use cradle_pipeline::ingest::{IngestRequest, ingest, summary};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Files, folders or ZIP archives the customer delivered.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The customer's workspace; created on first use.
    #[arg(long, short)]
    pub workspace: PathBuf,
    /// Customer id (default: `customer` in cradle.toml, else the workspace folder name).
    #[arg(long)]
    pub customer: Option<String>,
    /// No progress output; the summary is still printed.
    #[arg(long, short)]
    pub quiet: bool,
    /// Publish nothing (exit 1) when any file could not be read at all;
    /// without it such files are listed and the run exits 4.
    #[arg(long)]
    pub strict: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let request = IngestRequest {
        paths: args.paths,
        workspace: Workspace::new(&args.workspace),
        customer: args.customer,
        strict: args.strict,
    };
    let progress = IngestProgress::new(args.quiet);
    let report = ingest(&request, &progress);
    progress.finish();
    let report = report?;
    print!("{}", summary(&report, &args.workspace));
    Ok(ExitCode::from(report.exit_code()))
}
