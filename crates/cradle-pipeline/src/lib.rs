//! The steps of the gold process as library calls, one entry point each:
//! [`ingest::ingest`], [`enrich::enrich`], [`index::build`]. The command
//! line (`cradle ingest`, `cradle demo`) parses arguments, calls these and
//! prints; `cradle run` calls them through `cradle-run`; commands never
//! call each other.
//!
//! Errors are chains of context for people (`anyhow`): each step names
//! what it was doing, the file or setting involved and a `hint:` with the
//! fix. Every step that writes a workspace holds its lock and first
//! repairs an interrupted ingest ([`recover`]).

pub mod enrich;
pub mod index;
pub mod ingest;
pub mod text;

use anyhow::{Context, Result};
use cradle_fs::Workspace;
use cradle_lakehouse::Lakehouse;

/// Repairs what an interrupted ingest left in the lakehouse (tables ahead
/// of the newest delivery record, orphaned data files). Call it holding
/// the workspace lock. Returns what was repaired, one line each, and says
/// so on stderr.
pub fn recover(workspace: &Workspace) -> Result<Vec<String>> {
    let lakehouse = Lakehouse::new(workspace.lakehouse_dir());
    if !lakehouse.dir().exists() {
        return Ok(Vec::new());
    }
    let repaired = lakehouse.recover().with_context(|| {
        format!(
            "cannot repair the lakehouse {} after an interrupted ingest",
            lakehouse.dir().display()
        )
    })?;
    for line in &repaired {
        eprintln!("recovered: {line}");
    }
    Ok(repaired)
}
