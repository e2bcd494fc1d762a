//! `cradle verify <URL> --workspace <WS> [--api-key K] [--foreign-key K]
//! [--json]`: proves a running deployment serves its workspace. Exit 0
//! only when every check passed (a check skipped for want of a key has
//! not).

use anyhow::Result;
use cradle_deploy::{VerifyOptions, VerifyReport};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The deployment, e.g. http://127.0.0.1:9314.
    pub url: String,
    /// The workspace the deployment's image was built from.
    #[arg(long, short)]
    pub workspace: PathBuf,
    /// An API key of the deployment (`cradle api-key create`); without it
    /// the checks that need one are skipped.
    #[arg(long)]
    pub api_key: Option<String>,
    /// A key of another customer's deployment, which every data route must
    /// refuse.
    #[arg(long)]
    pub foreign_key: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let mut options = VerifyOptions::new(&args.url, &args.workspace);
    options.api_key = args.api_key;
    options.foreign_key = args.foreign_key;
    let report = cradle_deploy::verify(&options)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", human(&report, &args.url));
    }
    Ok(if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One line per check, then the totals.
pub fn human(report: &VerifyReport, url: &str) -> String {
    let mut out = String::new();
    for check in &report.checks {
        let mark = if check.skipped {
            "skipped"
        } else if check.ok {
            "ok     "
        } else {
            "FAILED "
        };
        out.push_str(&format!(
            "{mark} {} ({:.0} ms): {}\n",
            check.name, check.ms, check.detail
        ));
    }
    out.push_str(&format!(
        "{url}: {} passed, {} failed, {} skipped\n",
        report.passed, report.failed, report.skipped
    ));
    out
}
