//! Where the model that embedded a workspace's chunks can be found again,
//! so queries are embedded with the same one: `<WS>/index/model.json`,
//! written by `cradle enrich`, read by the server. It holds no secrets: a
//! remote API key is named by its environment variable.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{EmbedError, Embedder, LocalOptions, ModelSpec, RemoteOptions, WeightsStamp};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum ModelLocation {
    Local {
        /// Absolute, or relative to the workspace when the model lives in
        /// it (a fitted model, `<WS>/model`), so that a copied or moved
        /// workspace still finds it; [`load`](Self::load) resolves it.
        dir: PathBuf,
        name: String,
        /// The weights' hash as enrich computed it, trusted while the file
        /// is unchanged.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weights: Option<WeightsStamp>,
    },
    Remote {
        endpoint: String,
        model: String,
        api_key_env: Option<String>,
        dimension: usize,
    },
}

impl ModelLocation {
    /// Reads `model.json`.
    pub fn load(path: &Path) -> Result<ModelLocation, EmbedError> {
        let bad = |what: String| EmbedError::Model {
            path: path.display().to_string(),
            what,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        let mut location: ModelLocation = serde_json::from_str(&text)
            .map_err(|e| bad(format!("it is not a model location: {e}")))?;
        if let ModelLocation::Local { dir, .. } = &mut location
            && dir.is_relative()
        {
            // Relative to the workspace (`<WS>/index/model.json`).
            let root = path
                .parent()
                .and_then(Path::parent)
                .unwrap_or(Path::new(""));
            *dir = root.join(&*dir);
        }
        Ok(location)
    }

    /// Where this model is once its files have been copied into `dir` with
    /// the modification time `modified` (the files of an image all carry
    /// one fixed time): the server opens it there. `weights_sha256` and
    /// `weights_bytes` are those of the weights as copied; the copy's stamp
    /// vouches for that hash, so a server starting on the copy does not
    /// hash the weights again, however the copy's times were set. A remote
    /// model stays where it is.
    ///
    /// Refuses weights that differ from the ones that made the vectors
    /// (the hash recorded by enrich): queries would be embedded by another
    /// model than the chunks.
    pub fn copied_to(
        &self,
        dir: &Path,
        weights_sha256: &str,
        weights_bytes: u64,
        modified: SystemTime,
    ) -> Result<ModelLocation, EmbedError> {
        let ModelLocation::Local { name, weights, .. } = self else {
            return Ok(self.clone());
        };
        if let Some(recorded) = weights
            && recorded.sha256 != weights_sha256
        {
            return Err(EmbedError::Model {
                path: dir.join("model.safetensors").display().to_string(),
                what: format!(
                    "the weights (sha256 {weights_sha256}) are not the ones that made the vectors (sha256 {})\nhint: run `cradle enrich` again with this model",
                    recorded.sha256
                ),
            });
        }
        let modified_ns = modified
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|since| u64::try_from(since.as_nanos()).ok())
            .unwrap_or(0);
        Ok(ModelLocation::Local {
            dir: dir.to_path_buf(),
            name: name.clone(),
            weights: Some(WeightsStamp {
                sha256: weights_sha256.to_owned(),
                bytes: weights_bytes,
                modified_ns,
            }),
        })
    }

    /// Opens the model for query embedding.
    pub fn open(&self, local: &LocalOptions) -> Result<Box<dyn Embedder>, EmbedError> {
        match self {
            ModelLocation::Local { dir, name, weights } => Ok(Box::new(
                crate::LocalEmbedder::open_stamped(dir, name, local, weights.as_ref())?,
            )),
            ModelLocation::Remote {
                endpoint,
                model,
                api_key_env,
                dimension,
            } => {
                let mut options = RemoteOptions::new(endpoint, model);
                options.dimension = Some(*dimension);
                options.api_key = api_key_env
                    .as_ref()
                    .and_then(|variable| std::env::var(variable).ok());
                crate::open(&ModelSpec::Remote(options), local)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_stamped_for_its_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let weights = dir.path().join("model.safetensors");
        std::fs::write(&weights, b"weights").unwrap();
        let file = std::fs::File::options().write(true).open(&weights).unwrap();
        file.set_modified(UNIX_EPOCH).unwrap();
        let original = ModelLocation::Local {
            dir: PathBuf::from("/elsewhere"),
            name: "m".into(),
            weights: Some(WeightsStamp {
                sha256: "abc".into(),
                bytes: 7,
                modified_ns: 1_700_000_000_000_000_000,
            }),
        };
        let copy = original
            .copied_to(dir.path(), "abc", 7, UNIX_EPOCH)
            .unwrap();
        let ModelLocation::Local {
            dir: at, weights, ..
        } = &copy
        else {
            panic!("{copy:?}");
        };
        assert_eq!(at, dir.path());
        // The copy's file, with the time the copy has, matches its stamp.
        assert!(weights.as_ref().unwrap().matches(&weights_path(at)));
        // Other weights than those that made the vectors are refused.
        let error = original
            .copied_to(dir.path(), "def", 7, UNIX_EPOCH)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("not the ones that made the vectors"),
            "{error}"
        );
    }

    #[test]
    fn a_relative_dir_is_the_workspaces() {
        let ws = tempfile::tempdir().unwrap();
        std::fs::create_dir(ws.path().join("index")).unwrap();
        let path = ws.path().join("index/model.json");
        let location = ModelLocation::Local {
            dir: PathBuf::from("model"),
            name: "m+fit".into(),
            weights: None,
        };
        std::fs::write(&path, serde_json::to_vec(&location).unwrap()).unwrap();
        let ModelLocation::Local { dir, .. } = ModelLocation::load(&path).unwrap() else {
            panic!("local");
        };
        assert_eq!(dir, ws.path().join("model"));
    }

    fn weights_path(dir: &Path) -> PathBuf {
        dir.join("model.safetensors")
    }
}
