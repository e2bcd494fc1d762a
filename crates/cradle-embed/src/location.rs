//! Where the model that embedded a workspace's chunks can be found again,
//! so queries are embedded with the same one: `<WS>/index/model.json`,
//! written by `cradle enrich`, read by the server. It holds no secrets: a
//! remote API key is named by its environment variable.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{EmbedError, Embedder, LocalOptions, ModelSpec, RemoteOptions, WeightsStamp};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum ModelLocation {
    Local {
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
        serde_json::from_str(&text).map_err(|e| bad(format!("it is not a model location: {e}")))
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
