//! `cradle`: from a raw customer delivery to a running product-intelligence
//! console. This file only parses the command line and maps errors to exit
//! codes; each subcommand lives in `commands/`.

mod commands;
mod progress;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Ingest and enrich allocate millions of small strings from several
/// threads; the system allocator spent 40 % of ingest's CPU time on them
/// (measured with perf at scale 1.0, see ARCHITECTURE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "cradle",
    version,
    about = "From a raw customer delivery to a running product-intelligence console"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the built-in demo delivery, ingest it and check the result
    /// against its ground truth.
    Demo(commands::demo::Args),
    /// Write a realistic, messy demo delivery with a ground-truth manifest.json.
    DemoData(commands::demo_data::Args),
    /// Read a delivery (files, folders, ZIP archives) into the workspace's lakehouse.
    Ingest(commands::ingest::Args),
    /// Chunks, embeddings, the vector index, ETIM classes and text from media.
    Enrich(commands::enrich::Args),
    /// Evaluate the ETIM classifier on held-out products (--eval).
    Classify(commands::classify::Args),
    /// Build the search index and the catalog the server opens, from the published delivery.
    Index(commands::index::Args),
    /// Serve the console (search, products, SQL, MCP) for one workspace.
    Serve(commands::serve::Args),
    /// Serve the MCP tools over stdin/stdout (for a local agent).
    Mcp(commands::mcp::Args),
    /// Manage API keys of the console.
    #[command(subcommand)]
    ApiKey(commands::api_key::Command),
    /// Embedding models: distill a static model from a transformer.
    #[command(subcommand)]
    Model(commands::model::Command),
    /// Manage the console's users (add prints a one-time sign-in link).
    #[command(subcommand)]
    User(commands::user::Command),
    /// Check a workspace before an image is built from it.
    Validate(commands::validate::Args),
    /// Write the workspace's OCI image (data inside), compose.yaml and Kubernetes manifests.
    Build(commands::build::Args),
    /// Exit 0 when the server at URL is ready (the image's health check).
    Health(commands::health::Args),
    /// Prove a running deployment serves its workspace.
    Verify(commands::verify::Args),
    /// Build, load, start and verify the workspace's image on the local Docker engine.
    Deploy(commands::deploy::Args),
    /// The whole process from a delivery to a verified deployment, resumable:
    /// ingest, enrich, index, validate, build, deploy, verify, connect.
    Run(commands::run::Args),
}

/// Exit codes: 0 success, 1 the run failed, 2 the command line was wrong
/// (clap's own), 3 the run finished but the accounting did not balance,
/// 4 the run finished and published but a file could not be read at all.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => commands::demo::run(args),
        Command::DemoData(args) => commands::demo_data::run(args),
        Command::Ingest(args) => commands::ingest::run(args),
        Command::Enrich(args) => commands::enrich::run(args),
        Command::Classify(args) => commands::classify::run(args),
        Command::Index(args) => commands::index::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::ApiKey(command) => commands::api_key::run(command),
        Command::User(command) => commands::user::run(command),
        Command::Model(command) => commands::model::run(command),
        Command::Mcp(args) => commands::mcp::run(args),
        Command::Validate(args) => commands::validate::run(args),
        Command::Build(args) => commands::build::run(args),
        Command::Health(args) => commands::health::run(args),
        Command::Verify(args) => commands::verify::run(args),
        Command::Deploy(args) => commands::deploy::run(args),
        Command::Run(args) => commands::run::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}
