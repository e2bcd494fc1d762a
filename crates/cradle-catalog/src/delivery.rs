//! Reading the published delivery records
//! `lakehouse/_cradle/deliveries/<n>.json` that the `cradle` binary writes
//! after committing a delivery's tables.
//!
//! A table's latest Delta version may belong to an ingest that was killed
//! before it published; only the versions a record names are a whole
//! delivery. So the catalog always reads the versions of the newest record
//! (and of every older record, for the product history), never a table's
//! latest version.

use std::path::{Path, PathBuf};

use crate::CatalogError;

use cradle_lakehouse::deliveries::DeliveryError;
pub use cradle_lakehouse::deliveries::DeliveryRecord;

/// The version of `table` that a delivery consists of.
pub(crate) fn version(
    record: &DeliveryRecord,
    table: &str,
    path: &Path,
) -> Result<u64, CatalogError> {
    record
        .tables
        .get(table)
        .copied()
        .ok_or_else(|| CatalogError::DeliveryWithoutTable {
            path: path.to_path_buf(),
            table: table.to_owned(),
        })
}

/// Every published delivery of the lakehouse at `lakehouse_dir`, oldest
/// first, each with the path of its record. Empty if none was published.
pub fn published(lakehouse_dir: &Path) -> Result<Vec<(DeliveryRecord, PathBuf)>, CatalogError> {
    cradle_lakehouse::deliveries::published(lakehouse_dir).map_err(|error| match error {
        DeliveryError::Read { path, source } => CatalogError::DeliveryRecord { path, source },
        DeliveryError::Damaged { path, source } => {
            CatalogError::DamagedDeliveryRecord { path, source }
        }
    })
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
