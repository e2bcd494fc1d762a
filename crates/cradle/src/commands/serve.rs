//! `cradle serve`: the console for one customer, one process, one port.
//! Data is opened read-only and memory-mapped (a workspace, or an image's
//! data directory); mutable state lives in `--state DIR` or `DATABASE_URL`.
//! The chat's language model is the `[chat]` section of `<WS>/cradle.toml`.

use anyhow::{Context, Result};
use cradle_console::{LogFormat, ServerConfig};
use cradle_state::StateConfig;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The workspace (or read-only data directory) holding `index/` and `lakehouse/`.
    #[arg(long, short)]
    pub workspace: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    #[arg(long, default_value_t = 9314)]
    pub port: u16,
    /// Directory of the state database (API keys, users, audit log); default
    /// `<WS>/state`. `DATABASE_URL` (postgres://...) takes precedence.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = Logs::Human)]
    pub log: Logs,
    /// A Host header the MCP endpoint `/mcp` accepts besides localhost,
    /// e.g. `console:9314` behind a compose service name; repeatable.
    #[arg(long = "mcp-allowed-host")]
    pub mcp_allowed_hosts: Vec<String>,
    /// Requests per second one API key may send to a limited class of
    /// routes (search, sql, chat), e.g. `search=200`; repeatable. Default
    /// search=50, sql=2 (2 at once), chat=0.5; beyond: 429 with Retry-After.
    #[arg(long = "rate", value_name = "CLASS=PER_SECOND")]
    pub rates: Vec<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Logs {
    Json,
    Human,
}

pub fn run(args: Args) -> Result<ExitCode> {
    // A mistyped path would otherwise become a new, empty state database
    // and a server that never gets ready. A workspace whose index is not
    // built yet is different: the server starts and waits (/ready 503).
    anyhow::ensure!(
        cradle_fs::Workspace::new(&args.workspace).exists(),
        "{} holds no cradle workspace (no lakehouse, index, reports or cradle.toml)\nhint: check the path, or make one with `cradle ingest <DELIVERY> --workspace {}` and `cradle index --workspace {}`",
        args.workspace.display(),
        args.workspace.display(),
        args.workspace.display()
    );
    let settings = cradle_core::config::Config::load(
        &cradle_fs::Workspace::new(&args.workspace).config_file(),
    )?;
    let mut config = ServerConfig::for_workspace(&args.workspace);
    if let Some(state) = args.state {
        config.state = StateConfig::from_env(state);
    }
    config.bind = SocketAddr::new(args.bind, args.port);
    for setting in &args.rates {
        config
            .rates
            .set(setting)
            .map_err(|message| anyhow::anyhow!("--rate {message}"))?;
    }
    config.log_format = match args.log {
        Logs::Json => LogFormat::Json,
        Logs::Human => LogFormat::Human,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut mcp = cradle_mcp::McpOptions::default();
    mcp.allowed_hosts.extend(args.mcp_allowed_hosts);
    runtime.block_on(async {
        cradle_console::init_logging(config.log_format);
        let server = cradle_console::Server::bind(config).await?;
        let state = server.state();
        state.configure_chat(settings.chat);
        let mcp = cradle_mcp::router(state.data_slot().clone(), state.state_db().clone(), mcp);
        let web = cradle_web::router(state.clone());
        server.run_with(mcp.merge(web), shutdown_signal()).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM: what `docker stop` and Kubernetes send. In a
/// container the server is process 1, which the kernel does not stop on an
/// unhandled SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
