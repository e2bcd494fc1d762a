//! One writer per workspace: an OS file lock on `<WS>/.cradle.lock`, held
//! for as long as the [`WorkspaceLock`] lives and released by the kernel
//! when the process ends, however it ends.

use std::fs::File;
use std::path::{Path, PathBuf};

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another cradle process is writing to workspace {workspace}\nhint: wait for it to finish"
    )]
    Busy { workspace: PathBuf },
    #[error("cannot lock {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Holds the workspace lock until dropped.
#[derive(Debug)]
pub struct WorkspaceLock {
    _file: File,
}

impl WorkspaceLock {
    /// Takes the lock of the workspace at `root` (creating the workspace
    /// owner-only if it does not exist), or says who holds it.
    pub fn acquire(root: &Path) -> Result<WorkspaceLock, LockError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LockError::Io { path, source }
        };
        crate::private::create_dir(root).map_err(io(root))?;
        let path = root.join(".cradle.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(WorkspaceLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(LockError::Busy {
                workspace: root.to_path_buf(),
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(LockError::Io { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_told_to_wait() {
        let dir = tempfile::tempdir().unwrap();
        let first = WorkspaceLock::acquire(dir.path()).unwrap();
        let second = WorkspaceLock::acquire(dir.path());
        assert!(matches!(second, Err(LockError::Busy { .. })), "{second:?}");
        drop(first);
        WorkspaceLock::acquire(dir.path()).unwrap();
    }
}
