//! Table history (one [`CommitInfo`] per version) and cleanup of files left
//! behind by writers that never committed.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::LakeError;
use crate::commit::TMP_PREFIX;
use crate::protocol::{Action, list_versions, log_dir, read_commit};

/// The `commitInfo` of one version.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitInfo {
    pub version: u64,
    /// Milliseconds since the epoch.
    pub timestamp_ms: Option<i64>,
    /// `WRITE`, `RESTORE`, ...
    pub operation: Option<String>,
    /// Non-string parameter values are given as their JSON text.
    pub operation_parameters: BTreeMap<String, String>,
    pub read_version: Option<u64>,
    pub client_version: Option<String>,
    /// What the writer passed as [`crate::WriteOptions::app_metadata`].
    pub app_metadata: Option<Value>,
    /// The whole action, for fields not modelled above.
    pub raw: Value,
}

impl CommitInfo {
    fn from_json(version: u64, raw: Value) -> CommitInfo {
        let operation_parameters = raw
            .get("operationParameters")
            .and_then(Value::as_object)
            .map(|params| {
                params
                    .iter()
                    .map(|(k, v)| {
                        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        (k.clone(), v)
                    })
                    .collect()
            })
            .unwrap_or_default();
        CommitInfo {
            version,
            timestamp_ms: raw.get("timestamp").and_then(Value::as_i64),
            operation: raw
                .get("operation")
                .and_then(Value::as_str)
                .map(str::to_owned),
            operation_parameters,
            read_version: raw.get("readVersion").and_then(Value::as_u64),
            client_version: raw
                .get("clientVersion")
                .and_then(Value::as_str)
                .map(str::to_owned),
            app_metadata: raw.get("appMetadata").cloned(),
            raw,
        }
    }
}

/// The commitInfo of every version, oldest first. A commit without a
/// commitInfo action yields an entry with only `version` set.
pub(crate) fn history(root: &Path) -> Result<Vec<CommitInfo>, LakeError> {
    let mut out = Vec::new();
    for version in list_versions(root)? {
        let info = read_commit(root, version)?
            .into_iter()
            .find_map(|a| match a {
                Action::CommitInfo(v) => Some(v),
                _ => None,
            })
            .unwrap_or(Value::Object(Default::default()));
        out.push(CommitInfo::from_json(version, info));
    }
    Ok(out)
}

/// Deletes data files no version of the log references and `.tmp-*` log
/// files, both only if last modified more than `min_age` ago (so that
/// writers still running are not disturbed). Returns the deleted paths,
/// relative to the table root.
pub(crate) fn vacuum_uncommitted(root: &Path, min_age: Duration) -> Result<Vec<String>, LakeError> {
    let mut referenced = HashSet::new();
    for version in list_versions(root)? {
        for action in read_commit(root, version)? {
            match action {
                Action::Add(a) => referenced.insert(a.path),
                Action::Remove(r) => referenced.insert(r.path),
                _ => continue,
            };
        }
    }
    let now = SystemTime::now();
    let old_enough = |path: &Path| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age >= min_age)
    };
    let mut candidates = Vec::new();
    for (dir, prefix) in [(root.to_path_buf(), ""), (log_dir(root), "_delta_log/")] {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(LakeError::ListLog {
                    table: root.to_path_buf(),
                    source,
                });
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let orphan = if prefix.is_empty() {
                name.starts_with("part-")
                    && name.ends_with(".parquet")
                    && !referenced.contains(&name)
            } else {
                name.starts_with(TMP_PREFIX)
            };
            if orphan && old_enough(&entry.path()) {
                candidates.push((entry.path(), format!("{prefix}{name}")));
            }
        }
    }
    let mut deleted = Vec::new();
    for (path, rel) in candidates {
        std::fs::remove_file(&path).map_err(|source| LakeError::DeleteOrphan {
            table: root.to_path_buf(),
            file: rel.clone(),
            source,
        })?;
        deleted.push(rel);
    }
    deleted.sort();
    Ok(deleted)
}
