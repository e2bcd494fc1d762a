//! What the steps consume, digested: the delivered files (every byte, so
//! a changed file is seen whatever its time), the workspace's
//! `cradle.toml`, the embedding model, the static executable.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::record::{Stamp, digest_bytes};

/// Every file below the delivery paths with its size and sha256, in path
/// order: `[{"path", "files": [[relative, size, sha256], ...]}]`. Paths
/// are made absolute, so the same files named from another folder digest
/// the same.
pub fn delivery(paths: &[PathBuf], progress: &dyn Fn(u64, u64)) -> Result<(Value, u64)> {
    let mut listed: Vec<(PathBuf, Vec<(String, PathBuf)>)> = Vec::new();
    for path in paths {
        let absolute = std::fs::canonicalize(path).with_context(|| {
            format!(
                "cannot read the delivery {}\nhint: name the delivered files, folders or ZIP archives that exist",
                path.display()
            )
        })?;
        let mut files = Vec::new();
        walk(&absolute, &absolute, &mut files)?;
        files.sort();
        listed.push((absolute, files));
    }
    let total: u64 = listed
        .iter()
        .flat_map(|(_, files)| files)
        .filter_map(|(_, path)| std::fs::metadata(path).ok())
        .map(|m| m.len())
        .sum();
    let mut done = 0;
    let mut out = Vec::new();
    for (root, files) in listed {
        let mut entries = Vec::new();
        for (relative, path) in files {
            let (size, sha256) = file_digest(&path)?;
            done += size;
            progress(done, total);
            entries.push(json!([relative, size, sha256]));
        }
        out.push(json!({ "path": root, "files": entries }));
    }
    Ok((Value::Array(out), total))
}

fn walk(root: &Path, path: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let metadata = std::fs::symlink_metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if metadata.is_dir() {
        for entry in
            std::fs::read_dir(path).with_context(|| format!("cannot list {}", path.display()))?
        {
            let entry = entry.with_context(|| format!("cannot list {}", path.display()))?;
            walk(root, &entry.path(), out)?;
        }
    } else if metadata.is_file() {
        let relative = path
            .strip_prefix(root)
            .map(|r| r.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push((relative, path.to_path_buf()));
    }
    // Links and devices: ingest passes over them, so their content is not
    // an input.
    Ok(())
}

/// Size and `sha256:` of a file's bytes.
pub fn file_digest(path: &Path) -> Result<(u64, String)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buffer)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    let mut hex = String::from("sha256:");
    for byte in hasher.finalize() {
        hex.push_str(&format!("{byte:02x}"));
    }
    Ok((size, hex))
}

/// `sha256:` of the workspace's `cradle.toml`, or `null` without one.
pub fn config(path: &Path) -> Value {
    match std::fs::read(path) {
        Ok(bytes) => Value::String(digest_bytes(&bytes)),
        Err(_) => Value::Null,
    }
}

/// The embedding model as far as it decides the vectors, without loading
/// it: an endpoint and model name, or a directory with the size and time
/// of its weights.
pub fn model(settings: &cradle_core::config::EnrichConfig) -> Value {
    if let Some(endpoint) = &settings.endpoint {
        return json!({ "endpoint": endpoint, "model": settings.remote_model });
    }
    let dir = match &settings.model {
        Some(model) if Path::new(model).is_dir() => Some(PathBuf::from(model)),
        Some(model) => return json!({ "hub": model, "revision": settings.revision }),
        None => cradle_embed::default_model_dir(),
    };
    match dir {
        Some(dir) => {
            let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
            let weights = Stamp::of(&dir.join("model.safetensors"));
            json!({ "dir": dir, "weights": weights })
        }
        None => Value::Null,
    }
}
