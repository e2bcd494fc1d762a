//! Delta transaction-log actions (protocol reader v1 / writer v2) and the
//! layout of `_delta_log`: one newline-delimited JSON file per version,
//! `<20-digit version>.json`, each line a single-key object naming the action.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::LakeError;

/// Name of the transaction-log directory inside a table root.
pub const LOG_DIR: &str = "_delta_log";

/// The `protocol` action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Protocol {
    pub min_reader_version: i64,
    pub min_writer_version: i64,
}

impl Protocol {
    /// The protocol cradle-lake writes: reader 1, writer 2 (no table features).
    pub fn cradle() -> Protocol {
        Protocol {
            min_reader_version: 1,
            min_writer_version: 2,
        }
    }
}

/// `metaData.format`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Format {
    pub provider: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// The `metaData` action: table id, schema and configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub format: Format,
    pub schema_string: String,
    #[serde(default)]
    pub partition_columns: Vec<String>,
    #[serde(default)]
    pub configuration: BTreeMap<String, Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<i64>,
}

/// The `add` action: a data file that becomes part of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddFile {
    /// Path relative to the table root (URL-encoded per the protocol; cradle
    /// names never need encoding).
    pub path: String,
    #[serde(default)]
    pub partition_values: BTreeMap<String, Option<String>>,
    /// File size in bytes.
    pub size: i64,
    /// Milliseconds since the epoch.
    pub modification_time: i64,
    pub data_change: bool,
    /// JSON statistics: `numRecords`, `minValues`, `maxValues`, `nullCount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<String>,
    /// Rows in the file, from `stats` (not part of the JSON action).
    #[serde(skip)]
    pub num_records: Option<u64>,
}

impl AddFile {
    /// Parses `numRecords` out of the stats string.
    pub(crate) fn stats_num_records(&self) -> Option<u64> {
        let stats: Value = serde_json::from_str(self.stats.as_deref()?).ok()?;
        stats.get("numRecords")?.as_u64()
    }
}

/// The `remove` action: a data file that is no longer part of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveFile {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<i64>,
    pub data_change: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_file_metadata: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_values: Option<BTreeMap<String, Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

impl RemoveFile {
    /// The `remove` for a file that is active now, as of `now_ms`.
    pub(crate) fn of(add: &AddFile, now_ms: i64) -> RemoveFile {
        RemoveFile {
            path: add.path.clone(),
            deletion_timestamp: Some(now_ms),
            data_change: true,
            extended_file_metadata: Some(true),
            partition_values: Some(add.partition_values.clone()),
            size: Some(add.size),
        }
    }
}

/// One line of a commit file. Unknown actions (`txn`, `cdc`, ...) are kept
/// as [`Action::Other`] and ignored by snapshot reconstruction.
#[derive(Debug, Clone)]
pub enum Action {
    CommitInfo(Value),
    Protocol(Protocol),
    Metadata(Metadata),
    Add(AddFile),
    Remove(RemoveFile),
    Other,
}

impl Action {
    /// The single-line JSON form of the action.
    pub(crate) fn to_json(&self) -> Result<String, serde_json::Error> {
        let (key, value) = match self {
            Action::CommitInfo(v) => ("commitInfo", v.clone()),
            Action::Protocol(p) => ("protocol", serde_json::to_value(p)?),
            Action::Metadata(m) => ("metaData", serde_json::to_value(m)?),
            Action::Add(a) => ("add", serde_json::to_value(a)?),
            Action::Remove(r) => ("remove", serde_json::to_value(r)?),
            Action::Other => return Ok(String::new()),
        };
        let mut obj = serde_json::Map::new();
        obj.insert(key.to_owned(), value);
        serde_json::to_string(&Value::Object(obj))
    }

    fn parse(line: &str) -> Result<Action, serde_json::Error> {
        let obj: serde_json::Map<String, Value> = serde_json::from_str(line)?;
        let Some((key, value)) = obj.into_iter().next() else {
            return Ok(Action::Other);
        };
        Ok(match key.as_str() {
            "commitInfo" => Action::CommitInfo(value),
            "protocol" => Action::Protocol(serde_json::from_value(value)?),
            "metaData" => Action::Metadata(serde_json::from_value(value)?),
            "add" => {
                let mut add: AddFile = serde_json::from_value(value)?;
                add.num_records = add.stats_num_records();
                Action::Add(add)
            }
            "remove" => Action::Remove(serde_json::from_value(value)?),
            _ => Action::Other,
        })
    }
}

/// `<root>/_delta_log`.
pub(crate) fn log_dir(root: &Path) -> PathBuf {
    root.join(LOG_DIR)
}

/// `<root>/_delta_log/<20-digit version>.json`.
pub(crate) fn commit_path(root: &Path, version: u64) -> PathBuf {
    log_dir(root).join(format!("{version:020}.json"))
}

/// The commit versions present in the log, ascending.
pub(crate) fn list_versions(root: &Path) -> Result<Vec<u64>, LakeError> {
    let dir = log_dir(root);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(LakeError::ListLog {
                table: root.to_path_buf(),
                source,
            });
        }
    };
    let mut versions = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| LakeError::ListLog {
            table: root.to_path_buf(),
            source,
        })?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(digits) = name.strip_suffix(".json")
            && digits.len() == 20
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(v) = digits.parse::<u64>()
        {
            versions.push(v);
        }
    }
    versions.sort_unstable();
    Ok(versions)
}

/// Reads and parses the actions of one commit.
pub(crate) fn read_commit(root: &Path, version: u64) -> Result<Vec<Action>, LakeError> {
    let path = commit_path(root, version);
    let text = std::fs::read_to_string(&path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            return LakeError::LogGap {
                table: root.to_path_buf(),
                version,
            };
        }
        LakeError::ReadCommit {
            table: root.to_path_buf(),
            version,
            source,
        }
    })?;
    let mut actions = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let action = Action::parse(line).map_err(|source| LakeError::ParseCommit {
            table: root.to_path_buf(),
            version,
            line: i + 1,
            source,
        })?;
        actions.push(action);
    }
    Ok(actions)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
