//! One module per subcommand.

pub mod api_key;
pub mod classify;
pub mod demo;
pub mod demo_data;
pub mod enrich;
pub mod index;
pub mod ingest;
pub mod mcp;
pub mod serve;
