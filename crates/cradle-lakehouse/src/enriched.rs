//! Which version of an enrich table belongs to a delivery: enrich rewrites
//! its tables whole and stamps each commit with the delivery it read
//! (`appMetadata.delivery`), so a reader of the newest delivery takes an
//! enrich table only when its latest commit names that delivery. A table
//! enriched from an older delivery, or never written, is absent to it.

use std::path::Path;

use cradle_lake::{LakeError, Table};

/// The latest version of the enrich table `name` under `lakehouse` if it
/// was written from `delivery`; `None` when there is no such table or it
/// belongs to another delivery.
pub fn enriched_version(
    lakehouse: &Path,
    name: &str,
    delivery: u64,
) -> Result<Option<u64>, LakeError> {
    let table = Table::at(lakehouse.join(name));
    let Some(latest) = table.latest_version()? else {
        return Ok(None);
    };
    let written_from = table
        .history()?
        .into_iter()
        .find(|commit| commit.version == latest)
        .and_then(|commit| commit.app_metadata)
        .and_then(|meta| meta.get("delivery").and_then(serde_json::Value::as_u64));
    Ok((written_from == Some(delivery)).then_some(latest))
}
