//! `cradle demo-data <DIR>`: the built-in demo delivery and its ground truth.

use anyhow::{Context, Result};
use cradle_pipeline::text::group_thousands;
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
    let manifest = cradle_demo::generate(
        &args.dir,
        &cradle_demo::DemoOptions {
            scale: args.scale,
            seed: args.seed,
        },
    )
    .with_context(|| format!("cannot write the demo delivery to {}", args.dir.display()))?;
    println!(
        "Wrote {} files ({:.1} MB) to {}: {} products, {} data points, {} records of which {} bad",
        manifest.files.len(),
        manifest.total_bytes as f64 / 1e6,
        args.dir.display(),
        group_thousands(manifest.products),
        group_thousands(manifest.data_points),
        group_thousands(manifest.rows),
        group_thousands(manifest.rejected_rows),
    );
    println!(
        "  ground truth: {}",
        args.dir.join("manifest.json").display()
    );
    Ok(ExitCode::SUCCESS)
}
