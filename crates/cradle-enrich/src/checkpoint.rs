//! Vectors computed but not yet published, kept on disk as they are
//! computed (`<WS>/tmp/enrich/vectors.bin`), so an enrich that stops
//! midway (killed, an endpoint that stopped answering) computes none of
//! them again when it runs next. Removed once the embeddings table that
//! holds them is committed.
//!
//! The file starts with a line naming the model (name, revision,
//! dimension); a file of another model is dropped. Then entries, each
//! `[hash length u32][hash][dimension × f32][crc32 of both]`, little
//! endian. An entry cut short or damaged (a kill while writing) ends the
//! file there: it is cut back to the last whole entry.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use cradle_embed::ModelInfo;

/// The on-disk vectors of one model.
pub struct Checkpoint {
    path: PathBuf,
    dimension: usize,
    out: BufWriter<File>,
}

fn header(model: &ModelInfo) -> Vec<u8> {
    format!(
        "cradle enrich vectors v1 {} {} {}\n",
        model.name.replace(char::is_whitespace, "_"),
        model.revision.replace(char::is_whitespace, "_"),
        model.dimension
    )
    .into_bytes()
}

impl Checkpoint {
    /// Opens (or starts) the checkpoint at `path` for `model`; the vectors
    /// it already holds, by content hash.
    pub fn open(
        path: &Path,
        model: &ModelInfo,
    ) -> std::io::Result<(Checkpoint, HashMap<String, Vec<f32>>)> {
        if let Some(parent) = path.parent() {
            cradle_fs::private::create_dir(parent)?;
        }
        let header = header(model);
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let mut vectors = HashMap::new();
        let mut valid = 0;
        if bytes.starts_with(&header) {
            valid = header.len();
            let mut at = valid;
            while let Some((hash, vector, next)) = entry(&bytes, at, model.dimension) {
                vectors.insert(hash, vector);
                at = next;
                valid = next;
            }
        }
        if valid == 0 {
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
            file.write_all(&header)?;
        } else {
            file.set_len(valid as u64)?;
            file.seek(SeekFrom::Start(valid as u64))?;
        }
        Ok((
            Checkpoint {
                path: path.to_path_buf(),
                dimension: model.dimension,
                out: BufWriter::new(file),
            },
            vectors,
        ))
    }

    /// Keeps one vector; [`Checkpoint::flush`] hands it to the system.
    pub fn add(&mut self, hash: &str, vector: &[f32]) -> std::io::Result<()> {
        debug_assert_eq!(vector.len(), self.dimension);
        let mut entry = Vec::with_capacity(8 + hash.len() + 4 * vector.len());
        entry.extend_from_slice(&(hash.len() as u32).to_le_bytes());
        entry.extend_from_slice(hash.as_bytes());
        for value in vector {
            entry.extend_from_slice(&value.to_le_bytes());
        }
        let crc = crc32fast::hash(&entry);
        entry.extend_from_slice(&crc.to_le_bytes());
        self.out.write_all(&entry)
    }

    /// What was added so far survives the process.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// The vectors are published: the file goes.
    pub fn remove(self) -> std::io::Result<()> {
        let path = self.path.clone();
        drop(self);
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }
}

/// The entry at `at`, if it is whole: hash, vector, where the next starts.
fn entry(bytes: &[u8], at: usize, dimension: usize) -> Option<(String, Vec<f32>, usize)> {
    let length = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
    if length > 1024 {
        return None;
    }
    let hash_end = at + 4 + length;
    let vector_end = hash_end + 4 * dimension;
    let crc_end = vector_end + 4;
    let body = bytes.get(at..vector_end)?;
    let crc = u32::from_le_bytes(bytes.get(vector_end..crc_end)?.try_into().ok()?);
    if crc32fast::hash(body) != crc {
        return None;
    }
    let hash = std::str::from_utf8(&bytes[at + 4..hash_end])
        .ok()?
        .to_owned();
    let vector = bytes[hash_end..vector_end]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Some((hash, vector, crc_end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(revision: &str) -> ModelInfo {
        ModelInfo {
            name: "m".into(),
            backend: "local".into(),
            dimension: 3,
            revision: revision.into(),
        }
    }

    #[test]
    fn vectors_survive_a_torn_tail_and_not_a_change_of_model() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tmp/enrich/vectors.bin");
        let (mut checkpoint, found) = Checkpoint::open(&path, &model("a")).unwrap();
        assert!(found.is_empty());
        checkpoint.add("h1", &[1.0, 2.0, 3.0]).unwrap();
        checkpoint.add("h2", &[4.0, 5.0, 6.0]).unwrap();
        checkpoint.flush().unwrap();
        drop(checkpoint);
        // A kill in the middle of the third entry.
        let mut bytes = std::fs::read(&path).unwrap();
        let whole = bytes.len();
        bytes.extend_from_slice(&[2, 0, 0, 0, b'h', b'3', 0, 0]);
        std::fs::write(&path, &bytes).unwrap();

        let (mut checkpoint, found) = Checkpoint::open(&path, &model("a")).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found["h2"], vec![4.0, 5.0, 6.0]);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), whole as u64);
        checkpoint.add("h3", &[7.0, 8.0, 9.0]).unwrap();
        checkpoint.flush().unwrap();
        drop(checkpoint);
        let (checkpoint, found) = Checkpoint::open(&path, &model("a")).unwrap();
        assert_eq!(found.len(), 3);
        drop(checkpoint);

        // Another model's vectors are not used.
        let (checkpoint, found) = Checkpoint::open(&path, &model("b")).unwrap();
        assert!(found.is_empty());
        checkpoint.remove().unwrap();
        assert!(!path.exists());
    }
}
