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

/// The model enrich embeds with unless told otherwise: a static model
/// distilled from the installed transformer ([`default_model_dir`]), made
/// once (about 15 s in a release build) into `<name>-static` beside it and
/// made again only when the transformer's weights change. Enrich then fits
/// it to each workspace's texts ([`fit`](crate::fit)): ~400 times faster
/// than the transformer at the same search relevance (`bench/enrich.sh`).
/// `note` hears when distilling starts. `Ok(None)`: no transformer is
/// installed.
pub fn default_static_model(
    local: &LocalOptions,
    note: &dyn Fn(&str),
) -> Result<Option<PathBuf>, EmbedError> {
    let Some(transformer) = default_model_dir() else {
        return Ok(None);
    };
    let name = transformer
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let dir = transformer.with_file_name(format!("{name}-static"));
    let revision = crate::local::sha256_file(&transformer.join("model.safetensors"))?;
    let current = |dir: &std::path::Path| {
        crate::local::distilled_from(dir).as_deref() == Some(revision.as_str())
    };
    if current(&dir) {
        return Ok(Some(dir));
    }
    // One process distills; others wait for it and take its model.
    let lock_path = transformer.with_file_name(format!(".{name}-static.lock"));
    let write = |source| EmbedError::Write {
        path: lock_path.clone(),
        source,
    };
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(write)?;
    lock.lock().map_err(write)?;
    if !current(&dir) {
        note(&format!(
            "distilling the default static model from {} into {} (once)",
            transformer.display(),
            dir.display()
        ));
        crate::distill(&transformer, &dir, local)?;
    }
    Ok(Some(dir))
}
