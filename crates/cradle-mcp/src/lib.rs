//! The Model Context Protocol server of the console, built on the official
//! Rust SDK (`rmcp`): one customer's product catalogue as six read-only
//! tools (`search_products`, `get_product`, `filter_products`, `run_sql`,
//! `list_classes`, `list_families`) for AI assistants.
//!
//! Two transports:
//! - Streamable HTTP at `/mcp` ([`router`]), mounted into the console's
//!   port, guarded by an allowed-hosts check and the console's API keys;
//! - stdio ([`serve_stdio`]) for `cradle mcp --workspace <WS>`, a local
//!   process started by the client, which needs no key.
//!
//! Protocol revisions: whatever rmcp 3.11 negotiates — 2024-11-05,
//! 2025-03-26, 2025-06-18 and 2025-11-25 with the `initialize` handshake,
//! and 2026-07-28 (per-request `_meta`, `server/discover`, stateless).
//!
//! Architecture invariant: the tools only read, through `cradle-query`
//! (the same queries the console's HTTP API runs), never files directly;
//! this crate knows nothing of the console.

mod http;
mod server;

use cradle_query::Data;
use rmcp::ServiceExt;

pub use http::{MCP_PATH, McpOptions, router};
pub use server::{
    CradleMcp, DEFAULT_LIMIT, DEFAULT_MAX_ROWS, FilterProductsInput, GetProductInput, MAX_LIMIT,
    MAX_OFFSET, MAX_ROWS, RunSqlInput, SearchProductsInput,
};

/// Why the stdio server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    #[error("the MCP client did not complete the handshake on stdin/stdout")]
    Start {
        #[source]
        source: Box<rmcp::service::ServerInitializeError>,
    },
    #[error("the MCP server on stdin/stdout failed")]
    Serve {
        #[source]
        source: tokio::task::JoinError,
    },
}

/// Serves MCP on stdin/stdout over `data` until the client closes stdin.
/// Logs must go to stderr: stdout carries the protocol.
pub async fn serve_stdio(data: Data) -> Result<(), StdioError> {
    let server = CradleMcp::for_data(data);
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|source| StdioError::Start {
            source: Box::new(source),
        })?;
    running
        .waiting()
        .await
        .map_err(|source| StdioError::Serve { source })?;
    Ok(())
}
