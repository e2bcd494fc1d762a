//! Deliveries: a cradle lakehouse holds several Delta tables that change
//! together, and Delta has no multi-table transactions. After all tables of
//! a delivery are committed, a record `_cradle/deliveries/<n>.json` names
//! the version of each; it is written to a temporary file and renamed, so
//! it appears whole or not at all. Readers use the versions of the newest
//! record, never a table's latest version, which may belong to an ingest
//! that was killed before it published.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One published delivery.
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

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("cannot read the delivery records in {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the delivery record {path} is damaged\nhint: delete it to fall back to the delivery before"
    )]
    Damaged {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// Where the records of the lakehouse at `lakehouse_dir` live.
pub fn records_dir(lakehouse_dir: &Path) -> PathBuf {
    lakehouse_dir.join("_cradle").join("deliveries")
}

/// The file name of delivery `n`'s record.
pub fn record_file(lakehouse_dir: &Path, delivery: u64) -> PathBuf {
    records_dir(lakehouse_dir).join(format!("{delivery:010}.json"))
}

/// Every published delivery, oldest first, each with the path of its
/// record. Empty if none was published.
pub fn published(lakehouse_dir: &Path) -> Result<Vec<(DeliveryRecord, PathBuf)>, DeliveryError> {
    let mut records = Vec::new();
    for (_, path) in numbered_records(lakehouse_dir)? {
        records.push((read_record(&path)?, path));
    }
    Ok(records)
}

/// The newest published delivery, if any; reads only its record.
pub fn latest(lakehouse_dir: &Path) -> Result<Option<(DeliveryRecord, PathBuf)>, DeliveryError> {
    match numbered_records(lakehouse_dir)?.pop() {
        Some((_, path)) => Ok(Some((read_record(&path)?, path))),
        None => Ok(None),
    }
}

/// `<number>.json` files, sorted by number. Temporary files
/// (`.<name>.tmp-<pid>`) and anything else are not records.
fn numbered_records(lakehouse_dir: &Path) -> Result<Vec<(u64, PathBuf)>, DeliveryError> {
    let dir = records_dir(lakehouse_dir);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(DeliveryError::Read { path: dir, source }),
    };
    let mut numbered = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| DeliveryError::Read {
                path: dir.clone(),
                source,
            })?
            .path();
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
    Ok(numbered)
}

fn read_record(path: &Path) -> Result<DeliveryRecord, DeliveryError> {
    let text = std::fs::read_to_string(path).map_err(|source| DeliveryError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| DeliveryError::Damaged {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_oldest_first_and_strays_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let records = records_dir(dir.path());
        std::fs::create_dir_all(&records).unwrap();
        let record = |n: u64| format!(r#"{{"delivery": {n}, "tables": {{"products": {n}}}}}"#);
        std::fs::write(records.join("0000000010.json"), record(10)).unwrap();
        std::fs::write(records.join("0000000002.json"), record(2)).unwrap();
        std::fs::write(records.join(".0000000011.json.tmp-7"), "{").unwrap();
        std::fs::write(records.join("notes.txt"), "x").unwrap();
        let found = published(dir.path()).unwrap();
        let numbers: Vec<u64> = found.iter().map(|(r, _)| r.delivery).collect();
        assert_eq!(numbers, [2, 10]);
        assert_eq!(
            latest(dir.path()).unwrap().unwrap().0.tables["products"],
            10
        );
    }

    #[test]
    fn no_records_is_none_and_damage_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        assert!(latest(dir.path()).unwrap().is_none());
        std::fs::create_dir_all(records_dir(dir.path())).unwrap();
        std::fs::write(record_file(dir.path(), 1), "{ not json").unwrap();
        assert!(matches!(
            latest(dir.path()),
            Err(DeliveryError::Damaged { .. })
        ));
    }
}
