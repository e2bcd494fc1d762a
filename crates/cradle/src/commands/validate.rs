//! `cradle validate --workspace <WS> [--json]`: the check before an image
//! is built; every problem with the command that fixes it. Exit 0 only
//! when nothing is wrong (warnings allowed).

use anyhow::Result;
use cradle_deploy::{Status, Validation};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The customer's workspace.
    #[arg(long, short)]
    pub workspace: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let validation = cradle_deploy::validate(&args.workspace);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&validation)?);
    } else {
        print!("{}", human(&validation));
    }
    Ok(if validation.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The report for people: one line per check, problems with their fix.
pub fn human(validation: &Validation) -> String {
    let mut out = String::new();
    for check in &validation.checks {
        let mark = match check.status {
            Status::Ok => "ok     ",
            Status::Warning => "warning",
            Status::Error => "ERROR  ",
        };
        out.push_str(&format!("{mark} {}: {}\n", check.name, check.detail));
        if check.status != Status::Ok
            && let Some(fix) = &check.fix
        {
            out.push_str(&format!("        fix: {fix}\n"));
        }
    }
    out.push_str(&format!(
        "{}: {} errors, {} warnings ({})\n",
        validation.workspace.display(),
        validation.errors,
        validation.warnings,
        if validation.ok {
            "ready to build"
        } else {
            "not ready to build"
        }
    ));
    out
}
