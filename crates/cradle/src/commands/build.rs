//! `cradle build --workspace <WS> --out <DIR> [--tag NAME:VERSION]`:
//! validates the workspace, then writes `<DIR>/image.tar` (an OCI image
//! with the data inside), `compose.yaml`, `k8s/` and `build.json`.

use anyhow::Result;
use cradle_deploy::BuildError;
use cradle_image::BuildOptions;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::progress::{ImageProgress, short_digest};

#[derive(clap::Args)]
pub struct Args {
    /// The customer's workspace (ingested and indexed; enriched for vector search).
    #[arg(long, short)]
    pub workspace: PathBuf,
    /// Where image.tar, compose.yaml, k8s/ and build.json go.
    #[arg(long)]
    pub out: PathBuf,
    /// The image's NAME:VERSION (default cradle-<customer>:<delivery>).
    #[arg(long)]
    pub tag: Option<String>,
    /// A statically linked cradle for the image (default: this one if it is
    /// static, else $CRADLE_STATIC_BINARY; `bash scripts/static.sh` builds one).
    #[arg(long)]
    pub binary: Option<PathBuf>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let options = BuildOptions {
        out_dir: args.out.clone(),
        tag: args.tag,
        binary: args.binary,
        source_date_epoch: cradle_image::source_date_epoch_from_env()?,
    };
    let progress = ImageProgress::new(args.quiet);
    let built = cradle_deploy::build(&args.workspace, &options, &progress);
    progress.finish();
    let (validation, report) = match built {
        Ok(built) => built,
        Err(BuildError::Invalid { validation }) => {
            eprint!("{}", super::validate::human(&validation));
            anyhow::bail!(
                "the workspace is not valid; nothing was built\nhint: fix the errors above (each names its command), then build again"
            );
        }
        Err(error) => return Err(error.into()),
    };
    for warning in validation.problems() {
        eprintln!("warning: {}: {}", warning.name, warning.detail);
    }
    println!(
        "Built {} ({}) in {:.1} s",
        report.tag, report.digest, report.seconds
    );
    println!(
        "  image: {:.1} MB unpacked for {:.1} MB of data; archive {:.1} MB: {}",
        report.uncompressed_size as f64 / 1e6,
        report.data_size as f64 / 1e6,
        report.size as f64 / 1e6,
        report.image.display()
    );
    for layer in &report.layers {
        println!(
            "  {:<14} {:>9.1} MB → {:>8.1} MB  {}  {}",
            layer.name,
            layer.uncompressed_size as f64 / 1e6,
            layer.size as f64 / 1e6,
            short_digest(&layer.digest),
            layer.holds
        );
    }
    println!("  compose: {}", report.compose.display());
    println!("  kubernetes: {}", args.out.join("k8s").display());
    println!(
        "  report: {}",
        args.out.join(cradle_image::BUILD_FILE).display()
    );
    println!(
        "Next: docker load -i {} && docker compose -f {} up -d",
        report.image.display(),
        report.compose.display()
    );
    Ok(ExitCode::SUCCESS)
}
