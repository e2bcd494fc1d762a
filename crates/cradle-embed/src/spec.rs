//! One entry point for every backend: a [`ModelSpec`] says which model,
//! [`open`] returns it as a boxed [`Embedder`].

use std::path::PathBuf;

use crate::hub::HubClient;
use crate::{EmbedError, Embedder, LocalEmbedder, LocalOptions, RemoteEmbedder, RemoteOptions};

/// Which model to embed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSpec {
    /// A Hugging Face-format directory on disk.
    Local { dir: PathBuf },
    /// A model on a hub (`HF_ENDPOINT`, default the public one), cached in
    /// `cache_dir`; `HF_HUB_OFFLINE=1` allows only the cache.
    Hub {
        id: String,
        revision: String,
        cache_dir: PathBuf,
    },
    /// An OpenAI-compatible endpoint.
    Remote(RemoteOptions),
}

/// Opens the model `spec` names; `local` applies to local and hub models.
pub fn open(spec: &ModelSpec, local: &LocalOptions) -> Result<Box<dyn Embedder>, EmbedError> {
    Ok(match spec {
        ModelSpec::Local { dir } => Box::new(LocalEmbedder::open(dir, local)?),
        ModelSpec::Hub {
            id,
            revision,
            cache_dir,
        } => {
            let dir = HubClient::from_env().download(id, revision, cache_dir)?;
            Box::new(LocalEmbedder::open_named(&dir, id, local)?)
        }
        ModelSpec::Remote(options) => Box::new(RemoteEmbedder::open(options)?),
    })
}

/// The model the project installs (`scripts/model.sh`): `$CRADLE_MODEL_DIR`
/// when set, else `~/.cache/cradle/models/all-MiniLM-L6-v2` when it holds
/// a `config.json`.
pub fn default_model_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CRADLE_MODEL_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    let dir = PathBuf::from(home).join(".cache/cradle/models/all-MiniLM-L6-v2");
    dir.join("config.json").is_file().then_some(dir)
}
