//! The image archive: one uncompressed tar holding an OCI image layout
//! (`oci-layout`, `index.json`, `blobs/sha256/<hex>`) and Docker's legacy
//! `manifest.json`, which names the same blobs. `skopeo`, `umoci` and newer
//! Docker read the layout; Docker before 25 reads only `manifest.json` (an
//! archive without it fails with `open .../blobs/json: no such file`).
//!
//! A layer's name is its digest, known only after it was written. Rather
//! than compress each layer into a temporary file and copy it, the archive
//! reserves the entry's 512-byte header, streams the layer into the archive
//! after it, and goes back to write the header once the digest and size are
//! known: every byte is written once.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::ImageError;
use crate::Progress;
use crate::layer::{LayerDigests, write_layer};
use crate::plan::LayerPlan;

const BLOCK: u64 = 512;

/// An image archive being written.
pub struct Archive {
    out: BufWriter<File>,
    path: PathBuf,
    /// Blobs already in the archive (a blob is stored once).
    blobs: BTreeSet<String>,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive").field("path", &self.path).finish()
    }
}

impl Archive {
    /// Starts the archive at `path` (created or truncated).
    pub fn create(path: &Path) -> Result<Archive, ImageError> {
        let file = File::create(path).map_err(|source| ImageError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Archive {
            out: BufWriter::with_capacity(1 << 20, file),
            path: path.to_path_buf(),
            blobs: BTreeSet::new(),
        })
    }

    fn error(&self, source: std::io::Error) -> ImageError {
        ImageError::Write {
            path: self.path.clone(),
            source,
        }
    }

    /// Writes `layer` as a blob; returns its digests.
    pub fn add_layer(
        &mut self,
        layer: &LayerPlan,
        advance: &dyn Progress,
    ) -> Result<LayerDigests, ImageError> {
        let start = self.out.stream_position().map_err(|e| self.error(e))?;
        self.out
            .write_all(&[0u8; BLOCK as usize])
            .map_err(|e| self.error(e))?;
        let digests = write_layer(layer, &mut self.out, advance)?;
        if self.blobs.contains(&digests.digest) {
            // The same bytes are already stored: take this copy back.
            self.out.flush().map_err(|e| self.error(e))?;
            self.out
                .get_ref()
                .set_len(start)
                .map_err(|e| self.error(e))?;
            self.out
                .seek(SeekFrom::Start(start))
                .map_err(|e| self.error(e))?;
            return Ok(digests);
        }
        pad(&mut self.out, digests.size).map_err(|e| self.error(e))?;
        let end = self.out.stream_position().map_err(|e| self.error(e))?;
        let header = header(&blob_path(&digests.digest), digests.size)?;
        self.out
            .seek(SeekFrom::Start(start))
            .map_err(|e| self.error(e))?;
        self.out
            .write_all(header.as_bytes())
            .map_err(|e| self.error(e))?;
        self.out
            .seek(SeekFrom::Start(end))
            .map_err(|e| self.error(e))?;
        self.blobs.insert(digests.digest.clone());
        Ok(digests)
    }

    /// Stores small JSON as a blob named by `digest`.
    pub fn add_blob(&mut self, digest: &str, bytes: &[u8]) -> Result<(), ImageError> {
        if self.blobs.insert(digest.to_owned()) {
            self.add_file(&blob_path(digest), bytes)?;
        }
        Ok(())
    }

    /// Stores a small file at `path` in the archive.
    pub fn add_file(&mut self, path: &str, bytes: &[u8]) -> Result<(), ImageError> {
        let header = header(path, bytes.len() as u64)?;
        self.out
            .write_all(header.as_bytes())
            .and_then(|()| self.out.write_all(bytes))
            .and_then(|()| pad(&mut self.out, bytes.len() as u64))
            .map_err(|e| self.error(e))
    }

    /// Ends the archive (two zero blocks), flushes and syncs it; returns its
    /// size.
    pub fn finish(mut self) -> Result<u64, ImageError> {
        self.out
            .write_all(&[0u8; 2 * BLOCK as usize])
            .map_err(|e| self.error(e))?;
        self.out.flush().map_err(|e| self.error(e))?;
        let size = self.out.stream_position().map_err(|e| self.error(e))?;
        self.out.get_ref().sync_all().map_err(|e| self.error(e))?;
        Ok(size)
    }
}

/// `blobs/sha256/<hex>` of `sha256:<hex>`.
pub fn blob_path(digest: &str) -> String {
    format!("blobs/{}", digest.replacen(':', "/", 1))
}

/// A ustar header for a regular file of the archive: root, mode 0644,
/// time 0, like every entry of the image.
fn header(path: &str, size: u64) -> Result<tar::Header, ImageError> {
    let mut header = tar::Header::new_ustar();
    header.set_path(path).map_err(|source| ImageError::Write {
        path: PathBuf::from(path),
        source,
    })?;
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    Ok(header)
}

fn pad(out: &mut impl Write, size: u64) -> std::io::Result<()> {
    let rest = (BLOCK - size % BLOCK) % BLOCK;
    out.write_all(&[0u8; BLOCK as usize][..rest as usize])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{File as PlanFile, Source};
    use std::io::Read;
    use std::sync::Arc;

    use crate::NoProgress as Quiet;

    #[test]
    fn blobs_are_named_by_digest_and_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("image.tar");
        let plan = LayerPlan::new(
            "t",
            "t",
            vec![PlanFile {
                path: "data/x".into(),
                source: Source::Bytes(Arc::from(b"hello".to_vec())),
                size: 5,
                executable: false,
            }],
            Vec::new(),
        );
        let mut archive = Archive::create(&path).unwrap();
        let first = archive.add_layer(&plan, &Quiet).unwrap();
        let again = archive.add_layer(&plan, &Quiet).unwrap();
        assert_eq!(first, again);
        archive.add_file("index.json", b"{}").unwrap();
        let size = archive.finish().unwrap();
        assert_eq!(size, std::fs::metadata(&path).unwrap().len());

        let mut names = Vec::new();
        let mut tar = tar::Archive::new(File::open(&path).unwrap());
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().display().to_string();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            if name.starts_with("blobs/") {
                assert_eq!(bytes.len() as u64, first.size);
                use sha2::Digest;
                let digest = crate::binary::hex(&sha2::Sha256::digest(&bytes));
                assert_eq!(format!("sha256:{digest}"), first.digest);
            }
            names.push(name);
        }
        assert_eq!(names, [blob_path(&first.digest), "index.json".to_owned()]);
    }
}
