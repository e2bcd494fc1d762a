//! Atomic, put-if-absent publication of a commit file.
//!
//! The commit is first written in full to `_delta_log/.tmp-<uuid>.json` and
//! fsynced, then `std::fs::hard_link`ed to `_delta_log/<version>.json`. The
//! link either creates the version file with its complete content or fails
//! because another writer created it first (→ [`LakeError::ConcurrentCommit`]).
//! Finally the temp name is removed and the log directory fsynced.
//!
//! Atomicity: a process killed at any point before the link leaves the
//! previous version intact and readable (at worst a `.tmp-*` file and
//! unreferenced parquet files remain, which readers ignore and
//! [`crate::Table::vacuum_uncommitted`] deletes); after the link the new
//! version is complete, because its content was fsynced before it got its
//! name.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use serde_json::{Map, Value};

use crate::LakeError;
use crate::protocol::{Action, commit_path, log_dir};

/// Prefix of uncommitted log files.
pub(crate) const TMP_PREFIX: &str = ".tmp-";

/// Serializes `actions` and publishes them as `version`, failing with
/// [`LakeError::ConcurrentCommit`] if that version already exists.
/// `on_published` runs as soon as the version file exists (before the
/// directory fsync, which can still fail).
pub(crate) fn put_if_absent(
    root: &Path,
    version: u64,
    actions: &[Action],
    on_published: impl FnOnce(),
) -> Result<(), LakeError> {
    let mut body = String::new();
    for action in actions {
        let line = action
            .to_json()
            .map_err(|source| LakeError::SerializeCommit {
                table: root.to_path_buf(),
                version,
                source,
            })?;
        body.push_str(&line);
        body.push('\n');
    }
    let io_err = |source| LakeError::WriteLogEntry {
        table: root.to_path_buf(),
        version,
        source,
    };
    let dir = log_dir(root);
    fs::create_dir_all(&dir).map_err(io_err)?;
    let target = commit_path(root, version);
    // Cheap early check; the hard link below is the real arbiter.
    if target.exists() {
        return Err(LakeError::ConcurrentCommit {
            table: root.to_path_buf(),
            version,
        });
    }
    let tmp = dir.join(format!("{TMP_PREFIX}{}.json", uuid::Uuid::new_v4()));
    let written = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(body.as_bytes())?;
        file.sync_all()
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(source));
    }
    let linked = fs::hard_link(&tmp, &target);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => on_published(),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(LakeError::ConcurrentCommit {
                table: root.to_path_buf(),
                version,
            });
        }
        Err(source) => return Err(io_err(source)),
    }
    sync_dir(&dir).map_err(io_err)
}

/// fsyncs a directory so that new entries in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The `commitInfo` action of a commit.
pub(crate) fn commit_info(
    timestamp_ms: i64,
    operation: &str,
    parameters: &BTreeMap<String, String>,
    read_version: Option<u64>,
    is_blind_append: bool,
    app_metadata: Option<Value>,
) -> Value {
    let mut info = Map::new();
    info.insert("timestamp".into(), Value::from(timestamp_ms));
    info.insert("operation".into(), Value::from(operation));
    let params: Map<String, Value> = parameters
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    info.insert("operationParameters".into(), Value::Object(params));
    if let Some(v) = read_version {
        info.insert("readVersion".into(), Value::from(v));
    }
    info.insert("isBlindAppend".into(), Value::from(is_blind_append));
    info.insert(
        "clientVersion".into(),
        Value::from(format!("cradle-{}", env!("CARGO_PKG_VERSION"))),
    );
    if let Some(app) = app_metadata {
        info.insert("appMetadata".into(), app);
    }
    Value::Object(info)
}
