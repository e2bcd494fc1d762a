//! `cradle health [URL]`: exit 0 when the server at URL (default
//! `http://127.0.0.1:9314`) is ready (`/ready` answers 200). The image's
//! `HEALTHCHECK` runs it: there is no shell or curl in the image.

use anyhow::Result;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// The server, e.g. http://127.0.0.1:9314.
    #[arg(default_value = cradle_deploy::DEFAULT_URL)]
    pub url: String,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 5)]
    pub timeout: u64,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let ready = cradle_deploy::health::check(&args.url, Duration::from_secs(args.timeout))?;
    println!("{}", ready.body.trim());
    Ok(ExitCode::SUCCESS)
}
