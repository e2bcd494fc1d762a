//! Owner-only files and folders, whatever the umask: a workspace holds the
//! customer's raw files and the state database holds key hashes and the
//! audit trail, so neither may be readable by other users of the machine.

use std::io;
use std::path::Path;

/// Folder mode: read, write and enter for the owner only.
pub const DIR_MODE: u32 = 0o700;
/// File mode: read and write for the owner only.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and its missing parents owner-only (0700); an existing
/// `dir` is narrowed to 0700 too (parents that exist are left alone: they
/// may be shared folders such as `/tmp`).
pub fn create_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)?;
        restrict(dir, DIR_MODE)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Creates `path` empty and owner-only (0600) if it does not exist, and
/// narrows it to owner-only if it does; its content is left alone.
pub fn create_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    options.open(path)?;
    restrict(path, FILE_MODE)
}

/// Narrows an existing file to owner-only (0600).
pub fn restrict_file(path: &Path) -> io::Result<()> {
    restrict(path, FILE_MODE)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_owner_only_whatever_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("a").join("ws");
        create_dir(&ws).unwrap();
        assert_eq!(mode(&ws), 0o700);
        std::fs::set_permissions(&ws, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_dir(&ws).unwrap();
        assert_eq!(mode(&ws), 0o700);
        let created = ws.join("new.db");
        create_file(&created).unwrap();
        assert_eq!(mode(&created), 0o600);
        let file = ws.join("state.db");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        restrict_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        create_file(&file).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"x", "content is kept");
    }
}
