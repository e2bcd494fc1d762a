//! `cradle demo-data <DIR>`: the built-in demo delivery and its ground truth.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Folder to write the delivery and manifest.json into.
    pub dir: PathBuf,
    /// Size relative to the reference delivery (1.0 = ~105,000 products, ~55 MB).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Seed of the generator: the same seed and scale give the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let manifest = generate(&args.dir, args.scale, args.seed)?;
    println!(
        "Wrote {} files ({:.1} MB) to {}: {} products, {} data points, {} records of which {} bad",
        manifest.files.len(),
        manifest.total_bytes as f64 / 1e6,
        args.dir.display(),
        super::ingest::group_thousands(manifest.products),
        super::ingest::group_thousands(manifest.data_points),
        super::ingest::group_thousands(manifest.rows),
        super::ingest::group_thousands(manifest.rejected_rows),
    );
    println!(
        "  ground truth: {}",
        args.dir.join("manifest.json").display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn generate(
    dir: &std::path::Path,
    scale: f64,
    seed: u64,
) -> Result<cradle_core::manifest::Manifest> {
    anyhow::ensure!(
        scale > 0.0 && scale <= 100.0,
        "--scale {scale} is out of range\nhint: use a value above 0 and at most 100 (1.0 = the reference delivery)"
    );
    cradle_demo::generate(dir, &cradle_demo::DemoOptions { scale, seed })
        .with_context(|| format!("cannot write the demo delivery to {}", dir.display()))
}
