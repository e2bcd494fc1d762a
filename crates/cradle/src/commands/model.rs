//! `cradle model distill <SOURCE> --out <DIR>`: a static embedding model
//! made from a transformer (see `cradle_embed::distill`), for enrich and
//! search where embedding every chunk with the transformer would take too
//! long (`[enrich] model = "<DIR>"`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Distill a static model (one vector per token) from a transformer.
    Distill(DistillArgs),
}

#[derive(clap::Args)]
pub struct DistillArgs {
    /// The transformer's directory (config.json, tokenizer.json,
    /// model.safetensors); default: the installed model (scripts/model.sh).
    pub source: Option<PathBuf>,
    /// Where to write the static model (replaced as a whole).
    #[arg(long)]
    pub out: PathBuf,
    /// Threads for the transformer; default: all cores.
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Distill(args) => distill(args),
    }
}

fn distill(args: DistillArgs) -> Result<ExitCode> {
    let source = match args.source {
        Some(source) => source,
        None => cradle_embed::default_model_dir().context(
            "no embedding model is installed\nhint: run `bash scripts/model.sh`, or name the transformer's directory",
        )?,
    };
    let options = cradle_embed::LocalOptions {
        threads: args.threads,
        ..cradle_embed::LocalOptions::default()
    };
    let distilled = cradle_embed::distill(&source, &args.out, &options).with_context(|| {
        format!(
            "cannot distill {} into {}",
            source.display(),
            args.out.display()
        )
    })?;
    println!(
        "Distilled {} into {}: {} tokens × {} dimensions in {:.1} s",
        source.display(),
        distilled.dir.display(),
        distilled.vocabulary,
        distilled.dimension,
        distilled.seconds
    );
    println!(
        "use it: [enrich] model = \"{}\" in cradle.toml, or cradle enrich --model {}",
        distilled.dir.display(),
        distilled.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
