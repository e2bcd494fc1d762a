//! Atomic replacement of files and folders.
//!
//! The recipe is the same everywhere: write a temporary file next to the
//! target (same folder, so the rename cannot cross filesystems), flush and
//! `fsync` it, rename it over the target, then `fsync` the folder so the
//! rename itself is durable. Readers see the old or the new content, never
//! a half-written file; a crash leaves at most a hidden temporary file,
//! named `.<name>.tmp-<pid>-<n>`, which nothing reads.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically (creating its folder if needed).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// A file being written under a temporary name; [`AtomicFile::commit`]
/// puts it in place, dropping it uncommitted removes it.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temporary: PathBuf,
    out: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `target`; its folder is created if missing.
    pub fn create(target: &Path) -> io::Result<AtomicFile> {
        let temporary = temporary_name(target)?;
        if let Some(dir) = parent(target) {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::create(&temporary)?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            temporary,
            out: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The temporary file's path (for error messages).
    pub fn temporary_path(&self) -> &Path {
        &self.temporary
    }

    /// Flushes and syncs the file, renames it over the target and syncs
    /// the folder.
    pub fn commit(mut self) -> io::Result<()> {
        let out = self.out.take().expect("an uncommitted file has a writer");
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        persist_renamed(&self.temporary, &self.target)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer().flush()
    }
}

impl AtomicFile {
    fn writer(&mut self) -> &mut BufWriter<File> {
        self.out.as_mut().expect("an uncommitted file has a writer")
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.is_some() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

/// Puts a file that another library wrote completely (a SQLite database,
/// a download) at `target`: syncs it, renames it over `target`, syncs the
/// folder. `written` must be in the same folder as `target`.
pub fn persist(written: &Path, target: &Path) -> io::Result<()> {
    File::open(written)?.sync_all()?;
    persist_renamed(written, target)
}

fn persist_renamed(temporary: &Path, target: &Path) -> io::Result<()> {
    std::fs::rename(temporary, target)?;
    sync_dir(parent(target).unwrap_or(Path::new(".")))
}

/// Replaces the folder `target` by the fully written folder `staging` (a
/// sibling): the old folder is moved aside, the new one renamed in, the old
/// one deleted. Readers that hold files of the old folder open keep them.
/// Between the two renames the target is briefly absent; readers that need
/// it retry or fail, they never see a mix.
pub fn replace_dir(staging: &Path, target: &Path) -> io::Result<()> {
    sync_tree(staging)?;
    let old = if target.exists() {
        let old = temporary_name(target)?;
        std::fs::rename(target, &old)?;
        Some(old)
    } else {
        None
    };
    std::fs::rename(staging, target)?;
    sync_dir(parent(target).unwrap_or(Path::new(".")))?;
    if let Some(old) = old {
        // A failure here leaves only a hidden folder behind.
        let _ = std::fs::remove_dir_all(old);
    }
    Ok(())
}

/// Makes a fresh, empty, hidden sibling folder of `target` to build a
/// replacement in (see [`replace_dir`]); creates `target`'s parent.
pub fn staging_dir(target: &Path) -> io::Result<PathBuf> {
    let staging = temporary_name(target)?;
    if let Some(dir) = parent(target) {
        std::fs::create_dir_all(dir)?;
    }
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir(&staging)?;
    Ok(staging)
}

/// A fresh hidden name next to `path`: `.<name>.tmp-<pid>-<n>`; nothing
/// is created.
pub fn temporary_name(path: &Path) -> io::Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        )
    })?;
    let mut temporary = OsString::from(".");
    temporary.push(name);
    temporary.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    Ok(path.with_file_name(temporary))
}

fn parent(path: &Path) -> Option<&Path> {
    path.parent().filter(|p| !p.as_os_str().is_empty())
}

/// Syncs a folder so renames and new entries in it are durable. Not every
/// filesystem can sync a folder; those that cannot say so with an error
/// that is not a failure of the write.
fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::PermissionDenied
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Syncs every file and folder below `dir` (a freshly built index).
fn sync_tree(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            sync_tree(&entry.path())?;
        } else if kind.is_file() {
            File::open(entry.path())?.sync_all()?;
        }
    }
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_replace_whole_files_and_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("report.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(names(&dir.path().join("sub")), ["report.json"]);
    }

    #[test]
    fn an_uncommitted_file_disappears_and_the_old_content_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectors.idx");
        write_atomic(&path, b"old").unwrap();
        {
            let mut file = AtomicFile::create(&path).unwrap();
            file.write_all(b"half of the new").unwrap();
            assert!(file.temporary_path().exists());
        }
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["vectors.idx"]);
    }

    #[test]
    fn folders_are_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("search");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("old-segment"), b"1").unwrap();
        let staging = dir.path().join(".search.building");
        std::fs::create_dir_all(staging.join("nested")).unwrap();
        std::fs::write(staging.join("nested").join("new-segment"), b"2").unwrap();
        replace_dir(&staging, &target).unwrap();
        assert_eq!(names(&target), ["nested"]);
        assert_eq!(names(dir.path()), ["search"]);
    }

    #[test]
    fn persist_moves_a_finished_file_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("catalog.db");
        let written = temporary_name(&target).unwrap();
        std::fs::write(&written, b"db").unwrap();
        persist(&written, &target).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"db");
        assert_eq!(names(dir.path()), ["catalog.db"]);
    }
}
