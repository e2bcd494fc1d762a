//! `cradle mcp --workspace <WS>`: the MCP server over stdin/stdout, for an
//! agent that starts cradle as a local process (no API key: the process is
//! the user's own). Logs go to stderr; stdout carries the protocol.
//! Editors' class corrections are applied when the workspace has a state
//! database (`<WS>/state/state.db`, or `DATABASE_URL`), as `cradle serve`
//! applies them; none is created here.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The workspace (or read-only data directory) holding `index/`.
    #[arg(long, short)]
    pub workspace: PathBuf,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        cradle_console::init_logging(cradle_console::LogFormat::Human);
        let data = cradle_query::Data::open(&args.workspace)
            .await
            .with_context(|| {
                format!(
                    "cannot open the data in {}\nhint: run `cradle index --workspace {}` first",
                    args.workspace.display(),
                    args.workspace.display()
                )
            })?;
        let state = cradle_state::StateConfig::from_env(args.workspace.join("state"));
        let exists = match &state {
            cradle_state::StateConfig::Dir(dir) => dir.join("state.db").is_file(),
            cradle_state::StateConfig::DatabaseUrl(_) => true,
        };
        let data = if exists {
            let db = cradle_state::StateDb::open(&state)
                .await
                .context("cannot open the state database (class corrections)")?;
            data.with_corrections(std::sync::Arc::new(db))
        } else {
            data
        };
        cradle_mcp::serve_stdio(data)
            .await
            .context("the MCP session failed")
    })?;
    Ok(ExitCode::SUCCESS)
}
