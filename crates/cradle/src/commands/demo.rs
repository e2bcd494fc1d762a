//! `cradle demo`: the whole job on the built-in demo delivery, checked
//! against its ground truth, with no servers or settings.

use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Folder for the demo delivery (`delivery/`) and workspace (`workspace/`).
    #[arg(long, default_value = "demo")]
    pub dir: PathBuf,
    /// Size relative to the reference delivery.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let delivery = args.dir.join("delivery");
    let workspace = args.dir.join("workspace");
    println!("1/3 generating the demo delivery in {}", delivery.display());
    let manifest = super::demo_data::generate(&delivery, args.scale, args.seed)?;
    println!("2/3 ingesting it into {}", workspace.display());
    let report = super::ingest::ingest(
        std::slice::from_ref(&delivery),
        &workspace,
        Some("demo"),
        false,
    )?;
    print!("{}", super::ingest::summary(&report, &workspace));
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
    println!(
        "\n3/3 building the search index and catalog in {}",
        workspace.join("index").display()
    );
    let index = super::index::build(&workspace)?;
    println!(
        "  {} documents searchable, catalog {:.1} MB, in {:.1} s",
        index.search_documents,
        index.catalog_bytes as f64 / 1e6,
        index.duration_ms as f64 / 1000.0
    );
    Ok(ExitCode::SUCCESS)
}
