//! `cradle demo`: the whole job on the built-in demo delivery, checked
//! against its ground truth, with no servers or settings.

use anyhow::{Context, Result};
use cradle_fs::Workspace;
use cradle_pipeline::enrich::EnrichRequest;
use cradle_pipeline::ingest::{IngestRequest, summary};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Folder for the demo delivery (`delivery/`) and workspace (`workspace/`).
    #[arg(long, default_value = "demo")]
    pub dir: PathBuf,
    /// Size relative to the reference delivery (1.0: ~105,000 products).
    /// The default keeps the demo to a few minutes on two cores: most of
    /// the time goes into computing embeddings on the CPU.
    #[arg(long, default_value_t = 0.1)]
    pub scale: f64,
    /// Stop after the search index (no embeddings, classes or media).
    #[arg(long)]
    pub no_enrich: bool,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let delivery = args.dir.join("delivery");
    let workspace = args.dir.join("workspace");
    println!("1/4 generating the demo delivery in {}", delivery.display());
    let manifest = cradle_demo::generate(
        &delivery,
        &cradle_demo::DemoOptions {
            scale: args.scale,
            seed: args.seed,
        },
    )
    .with_context(|| format!("cannot write the demo delivery to {}", delivery.display()))?;
    println!("2/4 ingesting it into {}", workspace.display());
    let ws = Workspace::new(&workspace);
    let request = IngestRequest {
        paths: vec![delivery.clone()],
        workspace: ws.clone(),
        customer: Some("demo".to_owned()),
        strict: false,
    };
    let progress = crate::progress::IngestProgress::new(false);
    let report = cradle_pipeline::ingest::ingest(&request, &progress);
    progress.finish();
    let report = report?;
    print!("{}", summary(&report, &workspace));
    let checks = [
        ("products", manifest.products, report.products),
        ("data points", manifest.data_points, report.data_points),
        ("records", manifest.rows, report.rows),
        (
            "rejected records",
            manifest.rejected_rows,
            report.rejected_rows,
        ),
    ];
    println!(
        "\nAgainst the ground truth ({}):",
        delivery.join("manifest.json").display()
    );
    let mut ok = report.balance_ok;
    for (name, expected, actual) in checks {
        let mark = if expected == actual { "ok" } else { "MISMATCH" };
        ok &= expected == actual;
        println!("  {name:<17} expected {expected:>10}  got {actual:>10}  {mark}");
    }
    if !ok {
        println!("The ingest does not match the ground truth.");
        return Ok(ExitCode::from(3));
    }
    println!("Every product arrived; every cell is accounted for.");
    if !args.no_enrich {
        println!(
            "\n3/4 enriching: chunks, embeddings, vector index, ETIM classes, text from media"
        );
        let progress = crate::progress::StageProgress::new(false);
        let report = cradle_pipeline::enrich::enrich(&EnrichRequest::new(ws.clone()), &progress)?;
        print!("{}", cradle_enrich::summary(&report));
    }
    // After enrich: the catalog carries its classes and media texts.
    println!(
        "\n4/4 building the search index and catalog in {}",
        ws.index_dir().display()
    );
    let index = cradle_pipeline::index::build(&ws)?;
    println!(
        "  {} documents searchable, catalog {:.1} MB, in {:.1} s",
        index.search_documents,
        index.catalog_bytes as f64 / 1e6,
        index.duration_ms as f64 / 1000.0
    );
    if args.no_enrich {
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "\nNext: cradle api-key create --workspace {ws} --name me\n      cradle serve --workspace {ws}",
        ws = workspace.display()
    );
    Ok(ExitCode::SUCCESS)
}
