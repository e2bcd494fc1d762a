//! One module per subcommand.

pub mod demo;
pub mod demo_data;
pub mod ingest;
