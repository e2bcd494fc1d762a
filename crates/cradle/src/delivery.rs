//! A delivery spans four Delta tables; this makes it one atomic step.
//!
//! Each table commits on its own (Delta has no multi-table transactions), so
//! a delivery is only *published* when its record
//! `lakehouse/_cradle/deliveries/<n>.json` is written, after all four
//! commits, by an atomic rename. A run killed between the table commits
//! leaves tables ahead of the last record; the next run restores them to the
//! recorded versions before doing anything else. Readers that go through the
//! record (the server, `cradle` itself) never see a half delivery.

use anyhow::{Context, Result};
use cradle_lake::Table;
use std::fs::File;
use std::path::{Path, PathBuf};

pub const TABLES: [&str; 4] = ["products", "attributes", "rejects", "files"];

pub use cradle_lake::deliveries::DeliveryRecord;

pub struct Lakehouse {
    dir: PathBuf,
}

impl Lakehouse {
    pub fn new(dir: impl Into<PathBuf>) -> Lakehouse {
        Lakehouse { dir: dir.into() }
    }

    pub fn table(&self, name: &str) -> Table {
        Table::at(self.dir.join(name))
    }

    /// The last published delivery, if any.
    pub fn latest(&self) -> Result<Option<DeliveryRecord>> {
        Ok(cradle_lake::deliveries::latest(&self.dir)?.map(|(record, _)| record))
    }

    /// Rolls back table commits of a delivery that was never published and
    /// deletes data files a killed run left behind. Only call it while
    /// holding the [`WorkspaceLock`]: no other writer may be running.
    /// Returns one line per table that was restored or cleaned.
    pub fn recover(&self) -> Result<Vec<String>> {
        let latest = self.latest()?;
        let mut restored = Vec::new();
        for name in TABLES {
            let table = self.table(name);
            let current = table
                .latest_version()
                .with_context(|| format!("cannot read table {}", table.path().display()))?;
            let recorded = latest.as_ref().and_then(|r| r.tables.get(name).copied());
            if let (Some(current), Some(recorded)) = (current, recorded)
                && current > recorded
            {
                let version = table.restore(recorded).with_context(|| {
                    format!(
                        "cannot restore {} to version {recorded}",
                        table.path().display()
                    )
                })?;
                restored.push(format!(
                    "{name}: version {current} belonged to an interrupted ingest; restored version {recorded} as {version}"
                ));
            }
            if table.path().exists() {
                let orphans = table
                    .vacuum_uncommitted(std::time::Duration::ZERO)
                    .with_context(|| format!("cannot clean {}", table.path().display()))?;
                if !orphans.is_empty() {
                    restored.push(format!(
                        "{name}: removed {} data files of an interrupted ingest",
                        orphans.len()
                    ));
                }
            }
        }
        Ok(restored)
    }

    /// Publishes a delivery: written to a temporary file, then renamed.
    pub fn publish(&self, record: &DeliveryRecord) -> Result<()> {
        let target = cradle_lake::deliveries::record_file(&self.dir, record.delivery);
        write_atomically(&target, serde_json::to_string_pretty(record)?.as_bytes())
    }
}

/// Writes a file so that readers see either the old or the new content.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let temporary = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let mut file = File::create(&temporary)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Holds the workspace lock: one ingest at a time per workspace.
pub struct WorkspaceLock {
    _file: File,
}

impl WorkspaceLock {
    pub fn acquire(workspace: &Path) -> Result<WorkspaceLock> {
        std::fs::create_dir_all(workspace)
            .with_context(|| format!("cannot create workspace {}", workspace.display()))?;
        let path = workspace.join(".cradle.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(WorkspaceLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                "another cradle process is writing to workspace {}\nhint: wait for it to finish",
                workspace.display()
            ),
            Err(std::fs::TryLockError::Error(error)) => {
                Err(error).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }
}
