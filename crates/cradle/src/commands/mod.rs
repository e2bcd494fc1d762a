//! One module per subcommand.

pub mod api_key;
pub mod demo;
pub mod demo_data;
pub mod index;
pub mod ingest;
pub mod mcp;
pub mod serve;
