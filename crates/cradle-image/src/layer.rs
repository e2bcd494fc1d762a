//! Writing one layer: a tar stream of the planned entries, gzip-compressed,
//! streamed into the archive while both digests are taken: the DiffID
//! (sha256 of the uncompressed tar, which the image config lists and
//! `docker load` checks) and the blob digest (sha256 of the compressed
//! bytes, which the manifest names). Files are read in pieces; no layer is
//! ever held in memory.
//!
//! The compressor is pinned: flate2 over the zlib-rs version in
//! `Cargo.lock`, level [`GZIP_LEVEL`], a gzip header without name or time.
//! Another deflate implementation or version may compress the same bytes
//! differently, which changes every digest; the golden-digest test below
//! fails when that happens, so such a change is made on purpose.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

use crate::binary::hex;
use crate::plan::{EntryKind, FILE_TIME, LayerPlan, Source};
use crate::{ImageError, Progress};

/// The gzip level of every layer. Level 6 (zlib's default) compressed the
/// scale-1 data 2 % smaller than level 1 at half the speed (see
/// `bench/README.md`); the data is mostly compressed already.
pub const GZIP_LEVEL: u32 = 6;

/// The gzip header's operating-system byte: 255, "unknown", so the bytes do
/// not say which system compressed them.
const GZIP_OS_UNKNOWN: u8 = 255;

/// Read and hash in pieces of this size.
const PIECE: usize = 1 << 20;

/// What writing a layer produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerDigests {
    /// `sha256:<hex>` of the compressed blob.
    pub digest: String,
    /// Bytes of the compressed blob.
    pub size: u64,
    /// `sha256:<hex>` of the uncompressed tar.
    pub diff_id: String,
    /// Bytes of the uncompressed tar.
    pub tar_size: u64,
}

/// Writes `layer` to `out`, compressed; returns its digests.
pub fn write_layer(
    layer: &LayerPlan,
    out: &mut dyn Write,
    advance: &dyn Progress,
) -> Result<LayerDigests, ImageError> {
    let compressed = Hashing::new(out, Some(advance));
    let encoder = GzBuilder::new()
        .mtime(0)
        .operating_system(GZIP_OS_UNKNOWN)
        .write(compressed, Compression::new(GZIP_LEVEL));
    let tar_stream = Hashing::new(encoder, None);
    let mut builder = tar::Builder::new(tar_stream);
    let write_error = |source| ImageError::WriteLayer {
        layer: layer.name.clone(),
        source,
    };
    for entry in &layer.entries {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(FILE_TIME);
        header.set_uid(entry.uid);
        header.set_gid(entry.uid);
        header.set_mode(entry.mode);
        match &entry.kind {
            EntryKind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                builder
                    .append_data(&mut header, format!("{}/", entry.path), io::empty())
                    .map_err(write_error)?;
            }
            EntryKind::File { source, size } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(*size);
                match source {
                    Source::Bytes(bytes) => {
                        builder
                            .append_data(&mut header, &entry.path, &bytes[..])
                            .map_err(write_error)?;
                        advance.advance(bytes.len() as u64, 0);
                    }
                    Source::Disk(path) => {
                        let file = File::open(path).map_err(|source| ImageError::Read {
                            path: path.clone(),
                            source,
                        })?;
                        let mut reader = Exact {
                            file,
                            path,
                            remaining: *size,
                            problem: None,
                            advance,
                        };
                        let appended = builder.append_data(&mut header, &entry.path, &mut reader);
                        if let Some(problem) = reader.problem.take() {
                            return Err(problem);
                        }
                        appended.map_err(write_error)?;
                        reader.ensure_ended()?;
                    }
                }
            }
        }
    }
    let tar_stream = builder.into_inner().map_err(write_error)?;
    let (encoder, tar_hash, tar_size) = tar_stream.finish();
    let compressed = encoder.finish().map_err(write_error)?;
    let (_, blob_hash, size) = compressed.finish();
    Ok(LayerDigests {
        digest: format!("sha256:{blob_hash}"),
        size,
        diff_id: format!("sha256:{tar_hash}"),
        tar_size,
    })
}

/// A writer that hashes and counts what passes through it, and tells
/// `advance` (on the compressed side) how much was written.
struct Hashing<'a, W> {
    inner: W,
    hasher: Sha256,
    count: u64,
    advance: Option<&'a dyn Progress>,
}

impl<'a, W: Write> Hashing<'a, W> {
    fn new(inner: W, advance: Option<&'a dyn Progress>) -> Hashing<'a, W> {
        Hashing {
            inner,
            hasher: Sha256::new(),
            count: 0,
            advance,
        }
    }

    /// The inner writer, the hex digest and the byte count.
    fn finish(self) -> (W, String, u64) {
        (self.inner, hex(&self.hasher.finalize()), self.count)
    }
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        if let Some(advance) = self.advance {
            advance.advance(0, n as u64);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Reads exactly the size the header promised: a file that changed size
/// while the image was written would make a broken archive, so it is an
/// error instead.
struct Exact<'a> {
    file: File,
    path: &'a Path,
    remaining: u64,
    problem: Option<ImageError>,
    advance: &'a dyn Progress,
}

impl Exact<'_> {
    fn changed(&self, found: &str) -> ImageError {
        ImageError::Changed {
            path: self.path.to_path_buf(),
            found: found.to_owned(),
        }
    }

    /// Fails if the file has more bytes than it had when planned.
    fn ensure_ended(&mut self) -> Result<(), ImageError> {
        let mut one = [0u8; 1];
        match self.file.read(&mut one) {
            Ok(0) => Ok(()),
            Ok(_) => Err(self.changed("it grew")),
            Err(source) => Err(ImageError::Read {
                path: self.path.to_path_buf(),
                source,
            }),
        }
    }
}

impl Read for Exact<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let want = buf.len().min(PIECE).min(self.remaining as usize);
        let n = match self.file.read(&mut buf[..want]) {
            Ok(n) => n,
            Err(source) => {
                let error = io::Error::new(source.kind(), source.to_string());
                self.problem = Some(ImageError::Read {
                    path: self.path.to_path_buf(),
                    source,
                });
                return Err(error);
            }
        };
        if n == 0 {
            self.problem = Some(self.changed("it shrank"));
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank"));
        }
        self.remaining -= n as u64;
        self.advance.advance(n as u64, 0);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{File as PlanFile, LayerPlan};
    use std::sync::Arc;

    use crate::NoProgress as Quiet;

    fn layer(files: &[(&str, &[u8])]) -> LayerPlan {
        let files = files
            .iter()
            .map(|(path, bytes)| PlanFile {
                path: (*path).to_owned(),
                source: Source::Bytes(Arc::from(bytes.to_vec())),
                size: bytes.len() as u64,
                executable: false,
            })
            .collect();
        LayerPlan::new("test", "test", files, Vec::new())
    }

    /// The digests of a fixed layer, as the pinned compressor makes them.
    /// If this fails, the tar or gzip bytes changed (a new flate2 or
    /// zlib-rs, another level, another header): every image digest changes
    /// with it. Make that change on purpose and update the constants.
    #[test]
    fn golden_digests() {
        let text: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("{i} Einbauleuchte LED 3000K IP44\n").into_bytes())
            .collect();
        let layer = layer(&[("data/a.txt", &text), ("data/b/c.bin", &[0, 1, 2, 255])]);
        let mut out = Vec::new();
        let digests = write_layer(&layer, &mut out, &Quiet).unwrap();
        assert_eq!(digests.size, out.len() as u64);
        assert_eq!(
            digests.digest,
            format!("sha256:{}", hex(&Sha256::digest(&out)))
        );
        assert_eq!(
            (
                digests.diff_id.as_str(),
                digests.digest.as_str(),
                digests.size
            ),
            (
                "sha256:29a6f72a5c3b680b7be9d57dddd5cb24d33ab9a20ab72fe341ac778f0e423cf4",
                "sha256:b342f2beb125b26ed37d3e85f41a26d12e0ede2a9729cb422e33c0f2f3347fff",
                47445
            )
        );
    }

    #[test]
    fn the_diff_id_is_the_digest_of_the_uncompressed_tar() {
        let layer = layer(&[("data/x", b"hello")]);
        let mut out = Vec::new();
        let digests = write_layer(&layer, &mut out, &Quiet).unwrap();
        let mut tar_bytes = Vec::new();
        flate2::read::GzDecoder::new(&out[..])
            .read_to_end(&mut tar_bytes)
            .unwrap();
        assert_eq!(digests.tar_size, tar_bytes.len() as u64);
        assert_eq!(
            digests.diff_id,
            format!("sha256:{}", hex(&Sha256::digest(&tar_bytes)))
        );
        let mut archive = tar::Archive::new(&tar_bytes[..]);
        let entries: Vec<(String, u64, u64, u32)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mtime().unwrap(),
                    h.uid().unwrap(),
                    h.mode().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            [
                ("data/".into(), 0, 0, 0o755),
                ("data/x".into(), 0, 0, 0o644)
            ]
        );
    }

    #[test]
    fn a_file_that_changes_while_written_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        let plan = LayerPlan::new(
            "t",
            "t",
            vec![PlanFile {
                path: "data/f".into(),
                source: Source::Disk(path.clone()),
                size: 20,
                executable: false,
            }],
            Vec::new(),
        );
        let error = write_layer(&plan, &mut Vec::new(), &Quiet)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("changed while the image was being written"),
            "{error}"
        );
        let plan = LayerPlan::new(
            "t",
            "t",
            vec![PlanFile {
                path: "data/f".into(),
                source: Source::Disk(path),
                size: 5,
                executable: false,
            }],
            Vec::new(),
        );
        let error = write_layer(&plan, &mut Vec::new(), &Quiet)
            .unwrap_err()
            .to_string();
        assert!(error.contains("it grew"), "{error}");
    }
}
