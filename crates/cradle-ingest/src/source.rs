//! Finding the files of a delivery: walking folders, opening ZIP archives
//! (with limits against bombs and paths that escape), hashing content.
//!
//! Every file that is found becomes a [`Source`], including the ones that
//! cannot be read: those carry the error, so the report can name them.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// An archive may expand to at most this many bytes in total.
pub const MAX_ARCHIVE_EXPANDED: u64 = 4 << 30;
/// One archive entry may expand to at most this many bytes.
pub const MAX_ENTRY_EXPANDED: u64 = 1 << 30;
/// Entries larger than 1 MiB may not be compressed more than this.
pub const MAX_COMPRESSION_RATIO: u64 = 200;
/// Archives inside archives are opened to this depth.
pub const MAX_ARCHIVE_DEPTH: usize = 2;

/// One delivered file, or one entry of a delivered archive.
#[derive(Debug)]
pub struct Source {
    /// Relative to the delivery root, `/`-separated; archive entries are
    /// `archive.zip/inner/path.csv`.
    pub path: String,
    /// Where it came from on disk (the archive, for an entry).
    pub origin: PathBuf,
    pub content: Result<Vec<u8>, SourceError>,
    pub sha256: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error("the archive is damaged or truncated: {0}")]
    BrokenArchive(String),
    #[error(
        "archive entry `{entry}` points outside the archive; skipped (a path with `..` or an absolute path is never followed)"
    )]
    UnsafeEntryPath { entry: String },
    #[error(
        "archive entry `{entry}` expands to {expanded} bytes from {compressed} ({ratio}x); this looks like a ZIP bomb and is skipped"
    )]
    ZipBomb {
        entry: String,
        compressed: u64,
        expanded: u64,
        ratio: u64,
    },
    #[error("archive nesting deeper than {MAX_ARCHIVE_DEPTH} levels; `{entry}` is skipped")]
    TooDeep { entry: String },
}

impl Source {
    fn new(path: String, origin: PathBuf, content: Result<Vec<u8>, SourceError>) -> Source {
        let sha256 = match &content {
            Ok(bytes) => hex(&Sha256::digest(bytes)),
            Err(_) => String::new(),
        };
        Source {
            path,
            origin,
            content,
            sha256,
        }
    }

    pub fn bytes(&self) -> u64 {
        self.content.as_ref().map_or(0, |c| c.len() as u64)
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// Hidden files, editor lock files and OS clutter are not part of a delivery.
fn is_clutter(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with("~$")
        || name.eq_ignore_ascii_case("Thumbs.db")
        || name.eq_ignore_ascii_case("desktop.ini")
        || name == "__MACOSX"
        || name == "manifest.json"
}

/// Lists every file under the given paths (files or folders), sorted by
/// relative path so that results never depend on the order of arguments.
pub fn discover(inputs: &[PathBuf]) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    for input in inputs {
        let metadata = std::fs::metadata(input).map_err(|error| {
            std::io::Error::new(error.kind(), format!("{}: {error}", input.display()))
        })?;
        if metadata.is_dir() {
            walk(input, input, &mut found)?;
        } else {
            let name = input
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| input.display().to_string());
            found.push((name, input.clone()));
        }
    }
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    Ok(found)
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_clutter(&name) {
            continue;
        }
        let path = entry.path();
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            walk(root, &path, found)?;
        } else if file_type.is_file() {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            found.push((relative, path));
        }
    }
    Ok(())
}

/// True when the bytes are a ZIP archive to open, not an Office or
/// OpenDocument file that happens to be a ZIP inside.
pub fn is_plain_zip(name: &str, bytes: &[u8]) -> bool {
    const ZIP_BASED: &[&str] = &[
        ".xlsx", ".xlsm", ".xlsb", ".ods", ".docx", ".pptx", ".odt", ".jar",
    ];
    let lower = name.to_ascii_lowercase();
    (bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06"))
        && !ZIP_BASED.iter().any(|ext| lower.ends_with(ext))
}

/// Reads one discovered file; archives are expanded into their entries.
pub fn load(relative: String, path: PathBuf) -> Vec<Source> {
    let content = std::fs::read(&path).map_err(|e| SourceError::Io(e.to_string()));
    let mut out = Vec::new();
    match content {
        Ok(bytes)
            if is_plain_zip(&relative, &bytes)
                || relative.to_ascii_lowercase().ends_with(".zip") =>
        {
            // The archive itself is kept (for raw storage and the report),
            // then its entries follow as sources of their own.
            let entries = expand_archive(&relative, &path, &bytes, 1);
            out.push(Source::new(relative, path, Ok(bytes)));
            out.extend(entries);
        }
        content => out.push(Source::new(relative, path, content)),
    }
    out
}

fn expand_archive(prefix: &str, origin: &Path, bytes: &[u8], depth: usize) -> Vec<Source> {
    let mut out = Vec::new();
    let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(archive) => archive,
        Err(error) => {
            out.push(Source::new(
                format!("{prefix}/"),
                origin.to_path_buf(),
                Err(SourceError::BrokenArchive(error.to_string())),
            ));
            return out;
        }
    };
    let mut expanded_total = 0u64;
    let mut names: Vec<(usize, String)> = (0..archive.len())
        .filter_map(|i| {
            archive
                .name_for_index(i)
                .and_then(|n| n.ok())
                .map(|n| (i, n.into_owned()))
        })
        .collect();
    names.sort_by(|a, b| a.1.cmp(&b.1));
    for (index, raw_name) in names {
        let display = format!("{prefix}/{raw_name}");
        let mut entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(error) => {
                out.push(Source::new(
                    display,
                    origin.to_path_buf(),
                    Err(SourceError::BrokenArchive(error.to_string())),
                ));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let Some(safe) = entry
            .enclosed_name()
            .filter(|p| !raw_name.contains("..") && p.is_relative())
        else {
            out.push(Source::new(
                display,
                origin.to_path_buf(),
                Err(SourceError::UnsafeEntryPath { entry: raw_name }),
            ));
            continue;
        };
        let file_name = safe
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if is_clutter(&file_name) || raw_name.starts_with("__MACOSX/") {
            continue;
        }
        let relative = format!(
            "{prefix}/{}",
            safe.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        );
        let compressed = entry.compressed_size().max(1);
        let declared = entry.size();
        let ratio = declared / compressed;
        if declared > MAX_ENTRY_EXPANDED
            || expanded_total + declared > MAX_ARCHIVE_EXPANDED
            || (declared > 1 << 20 && ratio > MAX_COMPRESSION_RATIO)
        {
            out.push(Source::new(
                relative,
                origin.to_path_buf(),
                Err(SourceError::ZipBomb {
                    entry: raw_name,
                    compressed,
                    expanded: declared,
                    ratio,
                }),
            ));
            continue;
        }
        // The declared size can lie: never read more than it promised.
        let mut content = Vec::with_capacity(declared.min(64 << 20) as usize);
        let read = (&mut entry).take(declared + 1).read_to_end(&mut content);
        expanded_total += content.len() as u64;
        let content = match read {
            Ok(_) if content.len() as u64 > declared => Err(SourceError::ZipBomb {
                entry: raw_name,
                compressed,
                expanded: content.len() as u64,
                ratio: content.len() as u64 / compressed,
            }),
            Ok(_) => Ok(content),
            Err(error) => Err(SourceError::BrokenArchive(format!("{raw_name}: {error}"))),
        };
        drop(entry);
        match content {
            Ok(bytes) if is_plain_zip(&relative, &bytes) => {
                if depth >= MAX_ARCHIVE_DEPTH {
                    out.push(Source::new(
                        relative.clone(),
                        origin.to_path_buf(),
                        Err(SourceError::TooDeep { entry: relative }),
                    ));
                } else {
                    let nested = expand_archive(&relative, origin, &bytes, depth + 1);
                    out.push(Source::new(relative, origin.to_path_buf(), Ok(bytes)));
                    out.extend(nested);
                }
            }
            content => out.push(Source::new(relative, origin.to_path_buf(), content)),
        }
    }
    out
}

/// Keeps a copy of delivered bytes under `raw/<sha256>`, written to a
/// temporary name first so a crash never leaves a partial file under the
/// final name.
pub fn store_raw(raw_dir: &Path, sha256: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let target = raw_dir.join(sha256);
    if target.exists() {
        return Ok(target);
    }
    std::fs::create_dir_all(raw_dir)?;
    let temporary = raw_dir.join(format!(".tmp-{sha256}-{}", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, &target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buffer = std::io::Cursor::new(Vec::new());
        {
            let mut writer = zip::ZipWriter::new(&mut buffer);
            let options = zip::write::SimpleFileOptions::default();
            for (name, content) in entries {
                writer.start_file(*name, options).unwrap();
                writer.write_all(content).unwrap();
            }
            writer.finish().unwrap();
        }
        buffer.into_inner()
    }

    #[test]
    fn archives_expand_and_unsafe_entries_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = zip_with(&[("ok/a.csv", b"ArtNr;Name\n1;x\n"), ("../evil.csv", b"x")]);
        let path = dir.path().join("d.zip");
        std::fs::write(&path, &bytes).unwrap();
        let sources = load("d.zip".into(), path);
        let paths: Vec<_> = sources.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["d.zip", "d.zip/../evil.csv", "d.zip/ok/a.csv"]);
        assert!(matches!(
            sources[1].content,
            Err(SourceError::UnsafeEntryPath { .. })
        ));
        assert_eq!(sources[2].content.as_deref().unwrap(), b"ArtNr;Name\n1;x\n");
    }

    #[test]
    fn a_bomb_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let zeros = vec![0u8; 64 << 20];
        let bytes = zip_with(&[("bomb.csv", &zeros)]);
        assert!(bytes.len() < 1 << 20);
        let path = dir.path().join("bomb.zip");
        std::fs::write(&path, &bytes).unwrap();
        let sources = load("bomb.zip".into(), path);
        assert!(
            matches!(sources[1].content, Err(SourceError::ZipBomb { .. })),
            "{:?}",
            sources[1].content
        );
    }

    #[test]
    fn a_truncated_archive_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = zip_with(&[("a.csv", b"ArtNr;Name\n1;x\n")]);
        let path = dir.path().join("t.zip");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let sources = load("t.zip".into(), path);
        assert!(
            sources
                .iter()
                .any(|s| matches!(s.content, Err(SourceError::BrokenArchive(_))))
        );
    }
}
