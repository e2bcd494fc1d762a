//! `cradle enrich --workspace <WS>`: chunks, embeddings (only what
//! changed), the vector index, ETIM classes and text from media, for the
//! newest published delivery.

use anyhow::Result;
use cradle_fs::Workspace;
use cradle_pipeline::enrich::{EnrichRequest, ModelChoice};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Clone, Default)]
pub struct ModelArgs {
    /// Embedding model: a local Hugging Face-format directory or a hub id
    /// (default: [enrich] model in cradle.toml, else a static model
    /// distilled once from the one `bash scripts/model.sh` installs and
    /// fitted to the workspace's texts).
    #[arg(long)]
    pub model: Option<String>,
    /// Compute embeddings with an OpenAI-compatible endpoint instead
    /// (base URL, e.g. http://localhost:8080).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// The model name sent to --endpoint.
    #[arg(long)]
    pub remote_model: Option<String>,
    /// Texts per forward pass or request.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Threads of the local model.
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(clap::Args)]
pub struct Args {
    /// The customer's workspace (after `cradle ingest`).
    #[arg(long, short)]
    pub workspace: PathBuf,
    #[command(flatten)]
    pub model: ModelArgs,
    /// A directory with an ETIM CSV export (default: [enrich] etim, else
    /// the built-in lighting excerpt).
    #[arg(long)]
    pub etim: Option<PathBuf>,
    /// Chunk kinds that get a vector, comma-separated, or `all` (default:
    /// [enrich] embed_kinds, else identity,description,media).
    #[arg(long, value_delimiter = ',')]
    pub embed_kinds: Vec<String>,
    /// Do not read text from media files.
    #[arg(long)]
    pub no_media: bool,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

impl From<ModelArgs> for ModelChoice {
    fn from(args: ModelArgs) -> ModelChoice {
        ModelChoice {
            model: args.model,
            endpoint: args.endpoint,
            remote_model: args.remote_model,
            batch_size: args.batch_size,
            threads: args.threads,
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let workspace = Workspace::new(&args.workspace);
    let request = EnrichRequest {
        workspace: workspace.clone(),
        model: args.model.into(),
        etim: args.etim,
        embed_kinds: args.embed_kinds,
        media: !args.no_media,
    };
    let progress = crate::progress::StageProgress::new(args.quiet);
    let report = cradle_pipeline::enrich::enrich(&request, &progress)?;
    print!("{}", cradle_enrich::summary(&report));
    println!("Report: {}", workspace.report("enrich.json").display());
    Ok(ExitCode::SUCCESS)
}
