//! Reading the published delivery records
//! `lakehouse/_cradle/deliveries/<n>.json` that the `cradle` binary writes
//! after committing a delivery's tables.
//!
//! A table's latest Delta version may belong to an ingest that was killed
//! before it published; only the versions a record names are a whole
//! delivery. So the catalog always reads the versions of the newest record
//! (and of every older record, for the product history), never a table's
//! latest version.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::CatalogError;

/// One published delivery (the fields of the binary's record the catalog
/// uses; others are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// 1 for the first delivery into a workspace.
    pub delivery: u64,
    /// Table name to its Delta version.
    pub tables: BTreeMap<String, u64>,
    #[serde(default)]
    pub customer: String,
    #[serde(default)]
    pub committed_at: String,
}

impl DeliveryRecord {
    /// The version of `table` this delivery consists of.
    pub(crate) fn version(&self, table: &str, path: &Path) -> Result<u64, CatalogError> {
        self.tables
            .get(table)
            .copied()
            .ok_or_else(|| CatalogError::DeliveryWithoutTable {
                path: path.to_path_buf(),
                table: table.to_owned(),
            })
    }
}

/// Every published delivery of the lakehouse at `lakehouse_dir`, oldest
/// first, each with the path of its record. Empty if none was published.
pub fn published(lakehouse_dir: &Path) -> Result<Vec<(DeliveryRecord, PathBuf)>, CatalogError> {
    let dir = lakehouse_dir.join("_cradle").join("deliveries");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(CatalogError::DeliveryRecord { path: dir, source }),
    };
    let mut numbered = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| CatalogError::DeliveryRecord {
            path: dir.clone(),
            source,
        })?;
        let path = entry.path();
        // Temporary files (`.<name>.tmp-<pid>`) and anything else that is
        // not `<number>.json` are not records.
        let number = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(number) = number {
            numbered.push((number, path));
        }
    }
    numbered.sort();
    let mut records = Vec::with_capacity(numbered.len());
    for (_, path) in numbered {
        let text =
            std::fs::read_to_string(&path).map_err(|source| CatalogError::DeliveryRecord {
                path: path.clone(),
                source,
            })?;
        let record: DeliveryRecord =
            serde_json::from_str(&text).map_err(|source| CatalogError::DamagedDeliveryRecord {
                path: path.clone(),
                source,
            })?;
        records.push((record, path));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_oldest_first_and_strays_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let records = dir.path().join("_cradle").join("deliveries");
        std::fs::create_dir_all(&records).unwrap();
        let record = |n: u64| {
            format!(
                r#"{{"delivery": {n}, "tables": {{"products": {n}}}, "customer": "c", "committed_at": "t"}}"#
            )
        };
        std::fs::write(records.join("0000000010.json"), record(10)).unwrap();
        std::fs::write(records.join("0000000002.json"), record(2)).unwrap();
        std::fs::write(records.join(".0000000011.json.tmp-7"), "{").unwrap();
        std::fs::write(records.join("notes.txt"), "x").unwrap();
        let found = published(dir.path()).unwrap();
        let numbers: Vec<u64> = found.iter().map(|(r, _)| r.delivery).collect();
        assert_eq!(numbers, [2, 10]);
        assert_eq!(found[1].0.tables["products"], 10);
    }

    #[test]
    fn no_records_is_empty_and_damage_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        assert!(published(dir.path()).unwrap().is_empty());
        let records = dir.path().join("_cradle").join("deliveries");
        std::fs::create_dir_all(&records).unwrap();
        std::fs::write(records.join("1.json"), "{ not json").unwrap();
        let error = published(dir.path()).unwrap_err();
        assert!(matches!(error, CatalogError::DamagedDeliveryRecord { .. }));
        assert!(error.to_string().contains("hint:"));
    }
}
