//! One module per subcommand.

pub mod api_key;
pub mod build;
pub mod classify;
pub mod demo;
pub mod demo_data;
pub mod deploy;
pub mod enrich;
pub mod health;
pub mod index;
pub mod ingest;
pub mod mcp;
pub mod model;
pub mod run;
pub mod serve;
pub mod user;
pub mod validate;
pub mod verify;
