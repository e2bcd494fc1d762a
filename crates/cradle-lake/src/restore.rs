//! Delta RESTORE: a new commit that makes the active files (and schema) of
//! an earlier version current again, by removing the files added since and
//! re-adding the ones removed since. The data files of the restored version
//! must still exist.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use crate::LakeError;
use crate::commit::{commit_info, put_if_absent};
use crate::protocol::{Action, RemoveFile, now_ms};
use crate::snapshot::Snapshot;

/// Commits the state of `version` as the next version and returns it.
pub(crate) fn restore(root: &Path, version: u64) -> Result<u64, LakeError> {
    let current = Snapshot::load(root, None)?;
    let target = Snapshot::load(root, Some(version))?;
    for file in &target.files {
        if !root.join(&file.path).is_file() {
            return Err(LakeError::RestoreMissingFile {
                table: root.to_path_buf(),
                version,
                file: file.path.clone(),
            });
        }
    }
    let now = now_ms();
    let params = BTreeMap::from([("version".to_owned(), version.to_string())]);
    let mut actions = vec![Action::CommitInfo(commit_info(
        now,
        "RESTORE",
        &params,
        Some(current.version),
        false,
        None,
    ))];
    if target.protocol != current.protocol {
        actions.push(Action::Protocol(target.protocol.clone()));
    }
    if target.metadata != current.metadata {
        actions.push(Action::Metadata(target.metadata.clone()));
    }
    let target_paths: HashSet<&str> = target.files.iter().map(|f| f.path.as_str()).collect();
    let current_paths: HashSet<&str> = current.files.iter().map(|f| f.path.as_str()).collect();
    for file in &current.files {
        if !target_paths.contains(file.path.as_str()) {
            actions.push(Action::Remove(RemoveFile::of(file, now)));
        }
    }
    for file in &target.files {
        if !current_paths.contains(file.path.as_str()) {
            let mut add = file.clone();
            add.data_change = true;
            actions.push(Action::Add(add));
        }
    }
    let new_version = current.version + 1;
    put_if_absent(root, new_version, &actions, || {})?;
    Ok(new_version)
}
