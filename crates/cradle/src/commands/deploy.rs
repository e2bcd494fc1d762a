//! `cradle deploy --workspace <WS> [--port P]`: the workspace onto the
//! local Docker engine: build if needed, load, compose up, wait until
//! healthy, create an API key in the deployment, verify. Prints the URL,
//! the container, the key (shown once) and the time of each phase.

use anyhow::Result;
use cradle_deploy::DeployOptions;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::progress::ImageProgress;

#[derive(clap::Args)]
pub struct Args {
    /// The customer's workspace.
    #[arg(long, short)]
    pub workspace: PathBuf,
    /// The port on this machine (default the image's, `[deploy] port`, 9314).
    #[arg(long)]
    pub port: Option<u16>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let mut options = DeployOptions::new(&args.workspace);
    options.port = args.port;
    let progress = ImageProgress::new(args.quiet);
    let report = cradle_deploy::deploy(&options, &progress)?;
    progress.finish();
    if let Some(verified) = &report.verify {
        print!("{}", super::verify::human(verified, &report.url));
    }
    if let Some(logs) = &report.logs {
        eprintln!("last log lines of {}:\n{logs}", report.container);
    }
    println!("Deployed {} ({})", report.image, report.digest);
    println!("  url:       {}", report.url);
    println!("  container: {}", report.container);
    println!("  api key:   {}   (shown only now)", report.api_key);
    println!("  first console user: {}", report.first_user_command);
    for phase in &report.phases {
        println!(
            "  {:<9} {:>6.1} s  {}",
            phase.name, phase.seconds, phase.detail
        );
    }
    println!(
        "  healthy {:.1} s after compose up; {:.1} s in all",
        report.healthy_ms / 1000.0,
        report.seconds
    );
    if report.verify.as_ref().is_some_and(|v| v.all_passed()) {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: the deployment runs but failed verification\nhint: `cradle verify {} --workspace {} --api-key <key>` repeats the checks",
            report.url,
            args.workspace.display()
        );
        Ok(ExitCode::from(1))
    }
}
