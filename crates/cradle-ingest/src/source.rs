//! Finding the files of a delivery: walking folders, opening archives (ZIP
//! and gzip), hashing content.
//!
//! Every file that is found becomes a [`Source`], including the ones that
//! cannot be read: those carry the error, so the report can name them.
//! Every path that is passed over on purpose (hidden files, editor lock
//! files, links, devices) becomes a [`Skipped`] with the reason.
//!
//! Archives are bounded as a whole delivery, not one by one: all archives
//! of a delivery share one [`ArchiveBudget`] (inflated bytes and entries),
//! nesting stops at [`ArchiveLimits::depth`], and every entry, small or
//! large, must keep to [`ArchiveLimits::ratio`]. Entries are inflated to a
//! scratch folder one at a time and read from there; only the entry being
//! read is ever in memory.

use crate::detect::{self, Format};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// One archive entry may expand to at most this many bytes.
pub const MAX_ENTRY_EXPANDED: u64 = 1 << 30;
/// No entry, however small, may be compressed more than this: deflate
/// reaches about 1,000 only on runs of one byte, real exports stay far
/// below 100.
pub const MAX_COMPRESSION_RATIO: u64 = 200;
/// Archives inside archives are opened to this depth.
pub const MAX_ARCHIVE_DEPTH: usize = 2;

/// Limits on what the archives of one delivery may expand to.
#[derive(Debug, Clone, Copy)]
pub struct ArchiveLimits {
    /// Bytes all archives of the delivery may inflate to, together.
    pub delivery_bytes: u64,
    /// Entries all archives of the delivery may hold, together.
    pub delivery_entries: u64,
    /// Bytes one entry may inflate to.
    pub entry_bytes: u64,
    /// Inflated bytes per compressed byte, for every entry.
    pub ratio: u64,
    /// Archives inside archives are opened to this depth (1: no nesting).
    pub depth: usize,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            delivery_bytes: 16 << 30,
            delivery_entries: 100_000,
            entry_bytes: MAX_ENTRY_EXPANDED,
            ratio: MAX_COMPRESSION_RATIO,
            depth: MAX_ARCHIVE_DEPTH,
        }
    }
}

/// What the archives of a delivery may still inflate; shared by all
/// workers.
#[derive(Debug)]
pub struct ArchiveBudget {
    limits: ArchiveLimits,
    bytes: AtomicU64,
    entries: AtomicU64,
}

impl ArchiveBudget {
    pub fn new(limits: ArchiveLimits) -> ArchiveBudget {
        ArchiveBudget {
            limits,
            bytes: AtomicU64::new(0),
            entries: AtomicU64::new(0),
        }
    }

    pub fn limits(&self) -> &ArchiveLimits {
        &self.limits
    }

    /// Inflated bytes and entries taken so far.
    pub fn used(&self) -> (u64, u64) {
        (
            self.bytes.load(Ordering::Relaxed),
            self.entries.load(Ordering::Relaxed),
        )
    }

    fn take_entry(&self) -> bool {
        let taken = self.entries.fetch_add(1, Ordering::Relaxed);
        if taken >= self.limits.delivery_entries {
            self.entries.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Takes up to `wanted` bytes; returns how many were granted.
    fn take_bytes(&self, wanted: u64) -> u64 {
        let mut current = self.bytes.load(Ordering::Relaxed);
        loop {
            let granted = wanted.min(self.limits.delivery_bytes.saturating_sub(current));
            match self.bytes.compare_exchange_weak(
                current,
                current + granted,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return granted,
                Err(now) => current = now,
            }
        }
    }

    fn give_back(&self, bytes: u64) {
        self.bytes.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// One delivered file, or one entry of a delivered archive.
#[derive(Debug)]
pub struct Source {
    /// Relative to the delivery root, `/`-separated; archive entries are
    /// `archive.zip/inner/path.csv`.
    pub path: String,
    /// The bytes to read. An archive's own source holds none: its entries
    /// follow as sources of their own.
    pub content: Result<Vec<u8>, SourceError>,
    pub sha256: String,
    /// Size of the file or entry.
    pub bytes: u64,
    /// `zip` or `gz` when this is an archive whose entries follow.
    pub archive: Option<&'static str>,
    /// Where the bytes are on disk, for an archive (its raw copy is made
    /// from there) and for a streamed catalogue.
    pub file: Option<PathBuf>,
    /// A BMEcat or ETIM xChange catalogue: `content` is empty and the
    /// reader streams `file` (a catalogue can be larger than memory).
    pub catalog: Option<crate::catalog::CatalogFormat>,
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
    #[error("archive nesting deeper than {depth} levels; `{entry}` is skipped")]
    TooDeep { entry: String, depth: usize },
    #[error(
        "the archives of this delivery used up their budget ({limit}); {unread} entries of this archive were not read\nhint: deliver the files themselves instead of archives, or split the delivery"
    )]
    BudgetExhausted { limit: String, unread: u64 },
}

/// A path of the delivery that was passed over on purpose.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: &'static str,
}

impl Source {
    fn new(path: String, content: Result<Vec<u8>, SourceError>) -> Source {
        let (sha256, bytes) = match &content {
            Ok(bytes) => (hex(&Sha256::digest(bytes)), bytes.len() as u64),
            Err(_) => (String::new(), 0),
        };
        Source {
            path,
            content,
            sha256,
            bytes,
            archive: None,
            file: None,
            catalog: None,
        }
    }

    fn failed(path: String, error: SourceError) -> Source {
        Source::new(path, Err(error))
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
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

/// Why a name is not part of a delivery, if it is not.
fn clutter(name: &str, folder: bool) -> Option<&'static str> {
    Some(if name == "__MACOSX" {
        "macOS archive metadata (resource forks), not delivered files"
    } else if name.eq_ignore_ascii_case(".DS_Store")
        || name.eq_ignore_ascii_case("Thumbs.db")
        || name.eq_ignore_ascii_case("desktop.ini")
    {
        "operating-system metadata, not a delivered file"
    } else if name.starts_with('.') {
        if folder {
            "hidden folder; nothing in it is read"
        } else {
            "hidden file"
        }
    } else if name.starts_with("~$") {
        "lock file of an open document, not the document"
    } else if name == "manifest.json" && !folder {
        "delivery manifest (ground truth of a generated delivery), not product data"
    } else {
        return None;
    })
}

/// Lists every file under the given paths (files or folders), sorted by
/// relative path so that results never depend on the order of arguments,
/// and every path passed over, with the reason.
pub fn discover(inputs: &[PathBuf]) -> std::io::Result<Delivery> {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        let metadata = std::fs::metadata(input).map_err(|error| {
            std::io::Error::new(error.kind(), format!("{}: {error}", input.display()))
        })?;
        let name = input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| input.display().to_string());
        if metadata.is_dir() {
            walk(input, input, &mut found, &mut skipped);
        } else if metadata.is_file() {
            found.push((name, input.clone()));
        } else {
            skipped.push(Skipped {
                path: name,
                reason: "not a regular file (a device, pipe or socket)",
            });
        }
    }
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    skipped.sort();
    skipped.dedup();
    Ok(Delivery {
        files: found,
        skipped,
    })
}

/// The files of a delivery, by relative path, and what was passed over.
#[derive(Debug, Default)]
pub struct Delivery {
    pub files: Vec<(String, PathBuf)>,
    pub skipped: Vec<Skipped>,
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<(String, PathBuf)>, skipped: &mut Vec<Skipped>) {
    let relative = |path: &Path| {
        path.strip_prefix(root)
            .unwrap_or(path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    };
    let entries = std::fs::read_dir(dir).and_then(|entries| entries.collect::<Result<Vec<_>, _>>());
    let mut entries = match entries {
        Ok(entries) => entries,
        Err(error) => {
            skipped.push(Skipped {
                path: format!("{}/", relative(dir)),
                reason: leak_reason(format!("the folder cannot be read: {error}")),
            });
            return;
        }
    };
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            skipped.push(Skipped {
                path: relative(&path),
                reason: "its type cannot be read",
            });
            continue;
        };
        let skip = |reason| Skipped {
            path: relative(&path),
            reason,
        };
        if let Some(reason) = clutter(&name, file_type.is_dir()) {
            skipped.push(skip(reason));
        } else if file_type.is_symlink() {
            skipped.push(skip(
                "symbolic link; links are never followed (deliver the file itself)",
            ));
        } else if file_type.is_dir() {
            walk(root, &path, found, skipped);
        } else if file_type.is_file() {
            found.push((relative(&path), path));
        } else {
            skipped.push(skip("not a regular file (a device, pipe or socket)"));
        }
    }
}

/// Reasons are static text but for IO errors, which are few: keeping them
/// for the run costs nothing worth a second type.
fn leak_reason(reason: String) -> &'static str {
    Box::leak(reason.into_boxed_str())
}

/// Where and how a file's archives are unpacked.
pub struct Unpack<'a> {
    pub budget: &'a ArchiveBudget,
    /// Entries are inflated below this folder (a temporary folder of the
    /// system when `None`).
    pub scratch: Option<&'a Path>,
}

/// Hands every source of the delivered file `path` to `each`: the file
/// itself and, for an archive, every entry after it (nested archives too).
/// Paths passed over inside archives go to `skipped`.
pub fn visit<E>(
    relative: &str,
    path: &Path,
    unpack: &Unpack<'_>,
    skipped: &mut Vec<Skipped>,
    each: &mut dyn FnMut(Source) -> Result<(), E>,
) -> Result<(), E> {
    let mut walker = Walker {
        unpack,
        folder: None,
        next_file: 0,
        skipped,
    };
    walker.file(relative.to_owned(), path, None, 0, each)
}

struct Walker<'a, 'b> {
    unpack: &'a Unpack<'a>,
    /// Scratch folder for this file's entries, made on first use and
    /// removed when the file is done.
    folder: Option<tempfile::TempDir>,
    next_file: u64,
    skipped: &'b mut Vec<Skipped>,
}

/// What a file on disk holds, by its first bytes (and a ZIP's part names).
enum Opened {
    Zip(zip::ZipArchive<std::fs::File>),
    Gzip,
    /// A ZIP that does not open: the error, and whether it is an archive
    /// by its name (a damaged workbook is reported by the workbook reader).
    BrokenZip(String, bool),
    /// A BMEcat or ETIM xChange catalogue, streamed from the file.
    Catalog(crate::catalog::CatalogFormat),
    Other,
}

impl Walker<'_, '_> {
    /// One file: a delivered one (`depth` 0) or an inflated entry.
    /// `known` is its hash and size when it was just written.
    fn file<E>(
        &mut self,
        relative: String,
        path: &Path,
        known: Option<(String, u64)>,
        depth: usize,
        each: &mut dyn FnMut(Source) -> Result<(), E>,
    ) -> Result<(), E> {
        let opened = match open(&relative, path) {
            Ok(opened) => opened,
            Err(error) => {
                return each(Source::failed(relative, SourceError::Io(error.to_string())));
            }
        };
        if let Opened::Catalog(kind) = opened {
            let (sha256, bytes) = match known {
                Some(known) => known,
                None => match hash_file(path) {
                    Ok(known) => known,
                    Err(error) => {
                        return each(Source::failed(relative, SourceError::Io(error.to_string())));
                    }
                },
            };
            return each(Source {
                path: relative,
                content: Ok(Vec::new()),
                sha256,
                bytes,
                archive: None,
                file: Some(path.to_path_buf()),
                catalog: Some(kind),
            });
        }
        let archive = match &opened {
            Opened::Catalog(_) => unreachable!("handled above"),
            Opened::Zip(_) | Opened::BrokenZip(_, true) => "zip",
            Opened::Gzip => "gz",
            Opened::BrokenZip(_, false) | Opened::Other => {
                let content = std::fs::read(path).map_err(|e| SourceError::Io(e.to_string()));
                return each(Source::new(relative, content));
            }
        };
        let limits = *self.unpack.budget.limits();
        if depth >= limits.depth {
            return each(Source::failed(
                relative.clone(),
                SourceError::TooDeep {
                    entry: relative,
                    depth: limits.depth,
                },
            ));
        }
        let (sha256, bytes) = match known {
            Some(known) => known,
            None => match hash_file(path) {
                Ok(known) => known,
                Err(error) => {
                    return each(Source::failed(relative, SourceError::Io(error.to_string())));
                }
            },
        };
        each(Source {
            path: relative.clone(),
            content: Ok(Vec::new()),
            sha256,
            bytes,
            archive: Some(archive),
            file: Some(path.to_path_buf()),
            catalog: None,
        })?;
        match opened {
            Opened::Zip(archive) => self.zip_entries(&relative, archive, depth, each),
            Opened::Gzip => self.gzip_entry(&relative, path, bytes, depth, each),
            Opened::BrokenZip(error, _) => each(Source::failed(
                format!("{relative}/"),
                SourceError::BrokenArchive(error),
            )),
            Opened::Other | Opened::Catalog(_) => Ok(()),
        }
    }

    fn zip_entries<E>(
        &mut self,
        prefix: &str,
        mut archive: zip::ZipArchive<std::fs::File>,
        depth: usize,
        each: &mut dyn FnMut(Source) -> Result<(), E>,
    ) -> Result<(), E> {
        let budget = self.unpack.budget;
        let limits = *budget.limits();
        let mut names: Vec<(usize, String)> = (0..archive.len())
            .filter_map(|i| {
                archive
                    .name_for_index(i)
                    .and_then(|n| n.ok())
                    .map(|n| (i, n.into_owned()))
            })
            .collect();
        names.sort_by(|a, b| a.1.cmp(&b.1));
        let count = names.len();
        for (position, (index, raw_name)) in names.into_iter().enumerate() {
            let display = format!("{prefix}/{raw_name}");
            let mut entry = match archive.by_index(index) {
                Ok(entry) => entry,
                Err(error) => {
                    each(Source::failed(
                        display,
                        SourceError::BrokenArchive(error.to_string()),
                    ))?;
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
                each(Source::failed(
                    display,
                    SourceError::UnsafeEntryPath { entry: raw_name },
                ))?;
                continue;
            };
            let components: Vec<String> = safe
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let relative = format!("{prefix}/{}", components.join("/"));
            let last = components.len().saturating_sub(1);
            let passed_over = components
                .iter()
                .enumerate()
                .find_map(|(i, name)| clutter(name, i < last));
            if let Some(reason) = passed_over {
                self.skipped.push(Skipped {
                    path: relative,
                    reason,
                });
                continue;
            }
            if !budget.take_entry() {
                return each(exhausted(
                    prefix,
                    format!("{} entries", limits.delivery_entries),
                    (count - position) as u64,
                ));
            }
            let compressed = entry.compressed_size().max(1);
            let declared = entry.size();
            let ratio = declared / compressed;
            if declared > limits.entry_bytes || ratio > limits.ratio {
                each(Source::failed(
                    relative,
                    SourceError::ZipBomb {
                        entry: raw_name,
                        compressed,
                        expanded: declared,
                        ratio,
                    },
                ))?;
                continue;
            }
            // The declared size can lie: never inflate more than it promised.
            let granted = budget.take_bytes(declared + 1);
            if granted < declared + 1 {
                budget.give_back(granted);
                return each(exhausted(
                    prefix,
                    format!("{} inflated bytes", limits.delivery_bytes),
                    (count - position) as u64,
                ));
            }
            let written = self.inflate(&mut entry, declared + 1);
            drop(entry);
            let (target, sha256, length) = match written {
                Ok(written) => written,
                Err(error) => {
                    budget.give_back(granted);
                    each(Source::failed(
                        relative,
                        SourceError::BrokenArchive(format!("{raw_name}: {error}")),
                    ))?;
                    continue;
                }
            };
            budget.give_back(granted - length.min(granted));
            if length > declared {
                let _ = std::fs::remove_file(&target);
                each(Source::failed(
                    relative,
                    SourceError::ZipBomb {
                        entry: raw_name,
                        compressed,
                        expanded: length,
                        ratio: length / compressed,
                    },
                ))?;
                continue;
            }
            let result = self.file(relative, &target, Some((sha256, length)), depth + 1, each);
            let _ = std::fs::remove_file(&target);
            result?;
        }
        Ok(())
    }

    /// The one file inside a gzip file, named like it without `.gz`.
    fn gzip_entry<E>(
        &mut self,
        prefix: &str,
        path: &Path,
        compressed: u64,
        depth: usize,
        each: &mut dyn FnMut(Source) -> Result<(), E>,
    ) -> Result<(), E> {
        let budget = self.unpack.budget;
        let limits = *budget.limits();
        let file_name = prefix.rsplit('/').next().unwrap_or(prefix);
        let lower = file_name.to_ascii_lowercase();
        let inner = if lower.ends_with(".tgz") {
            format!("{}.tar", &file_name[..file_name.len() - 4])
        } else if let Some(cut) = [".gz", ".gzip"].iter().find(|e| lower.ends_with(*e)) {
            file_name[..file_name.len() - cut.len()].to_owned()
        } else {
            format!("{file_name}.content")
        };
        let relative = format!("{prefix}/{inner}");
        if !budget.take_entry() {
            return each(exhausted(
                prefix,
                format!("{} entries", limits.delivery_entries),
                1,
            ));
        }
        let compressed = compressed.max(1);
        // A gzip file says its size only modulo 4 GiB, at its end: the
        // limits apply while inflating.
        let allowed = limits
            .entry_bytes
            .min(compressed.saturating_mul(limits.ratio));
        let granted = budget.take_bytes(allowed + 1);
        let input = std::fs::File::open(path)
            .map(|file| flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file)));
        let written = match input {
            Ok(mut decoder) => self.inflate(&mut decoder, granted),
            Err(error) => Err(error),
        };
        let (target, sha256, length) = match written {
            Ok(written) => written,
            Err(error) => {
                budget.give_back(granted);
                return each(Source::failed(
                    relative,
                    SourceError::BrokenArchive(format!("{inner}: {error}")),
                ));
            }
        };
        budget.give_back(granted - length.min(granted));
        if length > allowed {
            let _ = std::fs::remove_file(&target);
            return each(Source::failed(
                relative,
                SourceError::ZipBomb {
                    entry: inner,
                    compressed,
                    expanded: length,
                    ratio: length / compressed,
                },
            ));
        }
        if length >= granted {
            let _ = std::fs::remove_file(&target);
            return each(exhausted(
                prefix,
                format!("{} inflated bytes", limits.delivery_bytes),
                1,
            ));
        }
        let result = self.file(relative, &target, Some((sha256, length)), depth + 1, each);
        let _ = std::fs::remove_file(&target);
        result
    }

    /// Inflates `input` into a new scratch file, at most `limit` bytes;
    /// returns the file, the hash and the length of what was written.
    fn inflate(
        &mut self,
        input: &mut dyn Read,
        limit: u64,
    ) -> std::io::Result<(PathBuf, String, u64)> {
        if self.folder.is_none() {
            let mut builder = tempfile::Builder::new();
            builder.prefix("archive-");
            self.folder = Some(match self.unpack.scratch {
                Some(dir) => {
                    std::fs::create_dir_all(dir)?;
                    builder.tempdir_in(dir)?
                }
                None => builder.tempdir()?,
            });
        }
        let folder = self.folder.as_ref().map(|f| f.path().to_path_buf());
        let folder = folder.unwrap_or_default();
        self.next_file += 1;
        let target = folder.join(format!("entry-{}", self.next_file));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&target)?);
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 64 * 1024];
        let mut length = 0u64;
        let mut limited = input.take(limit);
        loop {
            let read = match limited.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    drop(out);
                    let _ = std::fs::remove_file(&target);
                    return Err(error);
                }
            };
            hasher.update(&buffer[..read]);
            out.write_all(&buffer[..read])?;
            length += read as u64;
        }
        out.flush()?;
        Ok((target, hex(&hasher.finalize()), length))
    }
}

fn exhausted(prefix: &str, limit: String, unread: u64) -> Source {
    Source::failed(
        format!("{prefix}/"),
        SourceError::BudgetExhausted { limit, unread },
    )
}

/// Sniffs a file on disk without reading it whole: a ZIP is looked into
/// (its part names say whether it is a workbook or an archive).
fn open(relative: &str, path: &Path) -> std::io::Result<Opened> {
    let mut file = std::fs::File::open(path)?;
    // Enough to see past an XML declaration, comments and a DOCTYPE to
    // the root element, or to a JSON catalogue's first fields.
    let mut head = vec![0u8; 8 * 1024];
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    let head = &head[..filled];
    if detect::is_zip(head) {
        file.rewind()?;
        return Ok(match zip::ZipArchive::new(file) {
            Ok(mut archive) => match detect::zip_format(relative, &mut archive) {
                (Format::Archive, _) => Opened::Zip(archive),
                _ => Opened::Other,
            },
            Err(error) => {
                let named = detect::Format::detect(relative, b"PK\x05\x06").0 == Format::Archive;
                Opened::BrokenZip(error.to_string(), named)
            }
        });
    }
    if detect::is_gzip(head) {
        return Ok(Opened::Gzip);
    }
    if let Some(kind) = crate::catalog::CatalogFormat::sniff(head) {
        return Ok(Opened::Catalog(kind));
    }
    Ok(Opened::Other)
}

/// The hash and length of a file, read in pieces.
fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut length = 0u64;
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => {
                hasher.update(&buffer[..read]);
                length += read as u64;
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok((hex(&hasher.finalize()), length))
}

/// Keeps a copy of delivered bytes under `raw/<sha256>`, written
/// atomically (`cradle_fs`), so a crash never leaves a partial file under
/// the final name.
pub fn store_raw(raw_dir: &Path, sha256: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let target = raw_dir.join(sha256);
    if !target.exists() {
        cradle_fs::write_atomic(&target, bytes)?;
    }
    Ok(target)
}

/// [`store_raw`] for a file on disk (an archive), copied in pieces.
pub fn store_raw_file(raw_dir: &Path, sha256: &str, file: &Path) -> std::io::Result<PathBuf> {
    let target = raw_dir.join(sha256);
    if !target.exists() {
        let mut out = cradle_fs::AtomicFile::create(&target)?;
        std::io::copy(&mut std::fs::File::open(file)?, &mut out)?;
        out.commit()?;
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Every source of one file: (path, content or error).
    fn load(
        name: &str,
        path: &Path,
        limits: ArchiveLimits,
    ) -> (Vec<Source>, Vec<Skipped>, ArchiveBudget) {
        let budget = ArchiveBudget::new(limits);
        let mut sources = Vec::new();
        let mut skipped = Vec::new();
        let unpack = Unpack {
            budget: &budget,
            scratch: None,
        };
        visit::<()>(name, path, &unpack, &mut skipped, &mut |source| {
            sources.push(source);
            Ok(())
        })
        .unwrap();
        (sources, skipped, budget)
    }

    #[test]
    fn archives_expand_and_unsafe_entries_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = zip_with(&[
            ("ok/a.csv", b"ArtNr;Name\n1;x\n"),
            ("../evil.csv", b"x"),
            ("ok/.hidden.csv", b"x"),
        ]);
        let path = dir.path().join("d.zip");
        std::fs::write(&path, &bytes).unwrap();
        let (sources, skipped, _) = load("d.zip", &path, ArchiveLimits::default());
        let paths: Vec<_> = sources.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["d.zip", "d.zip/../evil.csv", "d.zip/ok/a.csv"]);
        assert_eq!(sources[0].archive, Some("zip"));
        assert!(matches!(
            sources[1].content,
            Err(SourceError::UnsafeEntryPath { .. })
        ));
        assert_eq!(sources[2].content.as_deref().unwrap(), b"ArtNr;Name\n1;x\n");
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].path, "d.zip/ok/.hidden.csv");
    }

    #[test]
    fn a_bomb_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let zeros = vec![0u8; 64 << 20];
        let bytes = zip_with(&[("bomb.csv", &zeros)]);
        assert!(bytes.len() < 1 << 20);
        let path = dir.path().join("bomb.zip");
        std::fs::write(&path, &bytes).unwrap();
        let (sources, _, budget) = load("bomb.zip", &path, ArchiveLimits::default());
        assert!(
            matches!(sources[1].content, Err(SourceError::ZipBomb { .. })),
            "{:?}",
            sources[1].content
        );
        assert_eq!(budget.used().0, 0, "nothing was inflated");
    }

    #[test]
    fn small_entries_keep_to_the_ratio_and_the_delivery_budget() {
        let dir = tempfile::tempdir().unwrap();
        // 64 KiB of one byte compresses about 600 times: small, but a bomb.
        let zeros = vec![b'0'; 64 << 10];
        let honest = b"ArtNr;Name\nA-1;Spot\n".repeat(100);
        let mut entries: Vec<(String, &[u8])> = vec![("bomb.csv".into(), &zeros)];
        for i in 0..20 {
            entries.push((format!("ok-{i:02}.csv"), &honest));
        }
        let borrowed: Vec<(&str, &[u8])> = entries.iter().map(|(n, c)| (n.as_str(), *c)).collect();
        let path = dir.path().join("small.zip");
        std::fs::write(&path, zip_with(&borrowed)).unwrap();
        let limits = ArchiveLimits {
            delivery_bytes: 10 * honest.len() as u64 + 20,
            ..ArchiveLimits::default()
        };
        let (sources, _, budget) = load("small.zip", &path, limits);
        assert!(matches!(
            sources[1].content,
            Err(SourceError::ZipBomb { .. })
        ));
        let read = sources
            .iter()
            .filter(|s| s.content.as_ref().is_ok_and(|c| !c.is_empty()));
        assert_eq!(read.count(), 10, "the budget holds ten entries");
        let last = sources.last().unwrap();
        assert_eq!(last.path, "small.zip/");
        assert!(
            matches!(
                last.content,
                Err(SourceError::BudgetExhausted { unread: 10, .. })
            ),
            "{:?}",
            last.content
        );
        assert!(budget.used().0 <= limits.delivery_bytes);
    }

    #[test]
    fn nesting_stops_at_the_depth_limit() {
        let dir = tempfile::tempdir().unwrap();
        let innermost = zip_with(&[("c.csv", b"ArtNr;X\nC-1;1\n")]);
        let inner = zip_with(&[("b.zip", &innermost), ("b.csv", b"ArtNr;X\nB-1;1\n")]);
        let outer = zip_with(&[("a.zip", &inner)]);
        let path = dir.path().join("outer.zip");
        std::fs::write(&path, &outer).unwrap();
        let (sources, _, _) = load("outer.zip", &path, ArchiveLimits::default());
        let paths: Vec<_> = sources.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "outer.zip",
                "outer.zip/a.zip",
                "outer.zip/a.zip/b.csv",
                "outer.zip/a.zip/b.zip"
            ]
        );
        assert!(matches!(
            sources[3].content,
            Err(SourceError::TooDeep { .. })
        ));
    }

    #[test]
    fn gzip_files_are_unpacked_like_an_entry() {
        use flate2::write::GzEncoder;
        let dir = tempfile::tempdir().unwrap();
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"ArtNr;Name\nG-1;Spot\n").unwrap();
        let path = dir.path().join("preise.csv.gz");
        std::fs::write(&path, encoder.finish().unwrap()).unwrap();
        let (sources, _, _) = load("preise.csv.gz", &path, ArchiveLimits::default());
        assert_eq!(sources.len(), 2);
        assert_eq!(sources[0].archive, Some("gz"));
        assert_eq!(sources[1].path, "preise.csv.gz/preise.csv");
        assert_eq!(
            sources[1].content.as_deref().unwrap(),
            b"ArtNr;Name\nG-1;Spot\n"
        );

        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b' '; 8 << 20]).unwrap();
        let bomb = encoder.finish().unwrap();
        std::fs::write(&path, &bomb).unwrap();
        let (sources, _, budget) = load("preise.csv.gz", &path, ArchiveLimits::default());
        assert!(matches!(
            sources[1].content,
            Err(SourceError::ZipBomb { .. })
        ));
        // Inflating stopped at the ratio, long before the 8 MiB.
        assert!(budget.used().0 <= bomb.len() as u64 * MAX_COMPRESSION_RATIO + 1);
    }

    #[test]
    fn a_truncated_archive_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = zip_with(&[("a.csv", b"ArtNr;Name\n1;x\n")]);
        let path = dir.path().join("t.zip");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let (sources, _, _) = load("t.zip", &path, ArchiveLimits::default());
        assert!(
            sources
                .iter()
                .any(|s| matches!(s.content, Err(SourceError::BrokenArchive(_))))
        );
    }

    #[test]
    fn skipped_paths_are_listed_with_their_reason() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/config"), "x").unwrap();
        std::fs::write(root.join("~$liste.xlsx"), "x").unwrap();
        std::fs::write(root.join("liste.csv"), "ArtNr;X\n1;2\n").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("liste.csv"), root.join("link.csv")).unwrap();
        let Delivery {
            files: found,
            skipped,
        } = discover(&[root.to_path_buf()]).unwrap();
        assert_eq!(found.len(), 1);
        let listed: Vec<(&str, &str)> = skipped
            .iter()
            .map(|s| (s.path.as_str(), s.reason.split(';').next().unwrap()))
            .collect();
        let mut expected = vec![
            (".git", "hidden folder"),
            (
                "~$liste.xlsx",
                "lock file of an open document, not the document",
            ),
        ];
        if cfg!(unix) {
            expected.insert(1, ("link.csv", "symbolic link"));
        }
        assert_eq!(listed, expected);
    }
}
