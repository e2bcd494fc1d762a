//! `build`: plans the layers of a workspace's image, writes the archive,
//! the compose and Kubernetes files and `build.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};

use cradle_embed::ModelLocation;
use cradle_fs::Workspace;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::archive::Archive;
use crate::binary::{StaticBinary, find_static_binary, hex, sha256_file};
use crate::certs::{CA_BUNDLE_PATH, ca_bundle};
use crate::contents::{
    BINARY_PATH, DATA_DIR, Group, MODEL_DIR, Need, STATE_DIR, files_of, is_enriched, served_data,
};
use crate::oci::{Healthcheck, LayerRecord, RunConfig, Tag};
use crate::plan::{
    Entry, EntryKind, File, LAYER_TARGET, LayerPlan, MAX_LAYERS, SERVER_UID, STATE_UID, Source,
    split,
};
use crate::settings::Settings;
use crate::{ImageError, Progress};

/// The file names written into the output directory.
pub const IMAGE_FILE: &str = "image.tar";
pub const BUILD_FILE: &str = "build.json";

/// How often Docker runs the health check. Docker (before 25, which knows
/// a start interval) runs the first check one interval after the start,
/// so the interval bounds how soon a container is healthy; the check is a
/// static executable making one local request (2.5 ms of CPU, measured by
/// `bench/image.sh`).
pub const HEALTH_INTERVAL_MS: u64 = 1_000;
pub const HEALTH_TIMEOUT_MS: u64 = 5_000;
/// Failures during this time after the start do not count.
pub const HEALTH_START_PERIOD_MS: u64 = 60_000;
pub const HEALTH_RETRIES: u32 = 3;

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Where `image.tar`, `compose.yaml`, `k8s/` and `build.json` go.
    pub out_dir: PathBuf,
    /// `NAME:VERSION`; default `<image name>:<delivery>`.
    pub tag: Option<String>,
    /// A static cradle; default the running one if static, else
    /// `CRADLE_STATIC_BINARY`.
    pub binary: Option<PathBuf>,
    /// Seconds since 1970 for the image's creation time (the
    /// `SOURCE_DATE_EPOCH` convention); default the delivery's publication.
    pub source_date_epoch: Option<u64>,
}

/// `SOURCE_DATE_EPOCH` from the environment, if set.
pub fn source_date_epoch_from_env() -> Result<Option<u64>, ImageError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ImageError::SourceDateEpoch { value }),
        _ => Ok(None),
    }
}

/// One layer in `build.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerReport {
    pub name: String,
    /// What the layer holds.
    pub holds: String,
    /// `sha256:…` of the compressed blob.
    pub digest: String,
    /// Bytes of the compressed blob.
    pub size: u64,
    /// `sha256:…` of the uncompressed tar (the DiffID).
    pub diff_id: String,
    /// Bytes of the uncompressed tar.
    pub uncompressed_size: u64,
    pub files: usize,
    /// Bytes of file content.
    pub content_size: u64,
}

/// The executable in the image, in `build.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryReport {
    pub path: PathBuf,
    pub version: String,
    pub sha256: String,
    pub size: u64,
}

/// `build.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildReport {
    /// `sha256:…` of the image manifest: the image's digest.
    pub digest: String,
    /// `sha256:…` of the image config (the image id `docker images` shows).
    pub config_digest: String,
    /// `NAME:VERSION`.
    pub tag: String,
    /// Bytes of `image.tar`.
    pub size: u64,
    /// Bytes of data the image carries (everything below `/data`).
    pub data_size: u64,
    /// Bytes of the unpacked image (the layers' uncompressed tars).
    pub uncompressed_size: u64,
    pub layers: Vec<LayerReport>,
    pub seconds: f64,
    pub customer: String,
    pub delivery: u64,
    pub port: u16,
    pub architecture: String,
    pub created: String,
    pub binary: BinaryReport,
    /// Where the files were written.
    pub image: PathBuf,
    pub compose: PathBuf,
    pub k8s: Vec<PathBuf>,
    /// A digest of everything the build read (paths, sizes, times of the
    /// files, the executable, the settings): equal inputs, equal image, so
    /// `cradle deploy` builds again only when it changed.
    pub inputs: String,
}

impl BuildReport {
    /// Reads a `build.json`.
    pub fn read(path: &Path) -> Result<BuildReport, ImageError> {
        let text = std::fs::read(path).map_err(|source| ImageError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_slice(&text).map_err(|source| ImageError::Report {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Everything decided before writing: the layers, the container's
/// configuration, and the digest of the inputs.
#[derive(Debug)]
pub struct Plan {
    pub settings: Settings,
    pub tag: Tag,
    pub binary: StaticBinary,
    pub layers: Vec<LayerPlan>,
    pub run: RunConfig,
    /// The OCI annotations of the manifest.
    pub annotations: BTreeMap<String, String>,
    pub inputs: String,
    pub out_dir: PathBuf,
}

/// Decides what the image of `workspace` holds. Reads metadata only (and
/// the executable, once, for its digest).
pub fn plan(workspace: &Workspace, options: &BuildOptions) -> Result<Plan, ImageError> {
    let settings = Settings::resolve(workspace)?;
    let tag_text = options
        .tag
        .clone()
        .unwrap_or_else(|| settings.default_tag());
    let tag = Tag::parse(&tag_text).map_err(|why| ImageError::Tag {
        tag: tag_text.clone(),
        why,
    })?;
    let binary = find_static_binary(options.binary.as_deref())?;
    let created = match options.source_date_epoch {
        Some(seconds) => cradle_core::dates::rfc3339(i64::try_from(seconds).unwrap_or(i64::MAX)),
        None => settings.committed_at.clone(),
    };

    let mut layers = vec![base_layer(), binary_layer(&binary)];
    let enriched = is_enriched(workspace);
    let mut groups: BTreeMap<Group, Vec<File>> = BTreeMap::new();
    let mut model_label = None;
    for served in served_data(workspace) {
        let needed = match served.need {
            Need::Always => true,
            Need::Enriched => enriched,
            Need::Optional => false,
        };
        if !served.path.exists() {
            if needed {
                return Err(ImageError::Missing {
                    what: served.holds.to_owned(),
                    path: served.path.clone(),
                    fix: served.fix(workspace),
                });
            }
            continue;
        }
        if served.rewritten {
            let (model_layer, model_json, label) = model(&served.path)?;
            layers.extend(model_layer);
            model_label = Some(label);
            groups.entry(served.group).or_default().push(File {
                path: format!("{DATA_DIR}/{}", served.relative(workspace)),
                size: model_json.len() as u64,
                source: Source::Bytes(Arc::from(model_json)),
                executable: false,
            });
            continue;
        }
        groups
            .entry(served.group)
            .or_default()
            .extend(files_of(workspace, &served)?);
    }
    for (group, files) in groups {
        layers.extend(split(group.name(), group_holds(group), files, LAYER_TARGET));
    }
    if layers.len() > MAX_LAYERS {
        return Err(ImageError::TooManyLayers {
            layers: layers.len(),
            max: MAX_LAYERS,
        });
    }

    let version = binary
        .version
        .strip_prefix("cradle ")
        .unwrap_or(&binary.version)
        .to_owned();
    let sources = sources(workspace)?;
    let mut labels = BTreeMap::new();
    labels.insert(
        "org.opencontainers.image.title".to_owned(),
        format!("cradle console of {}", settings.customer),
    );
    labels.insert(
        "org.opencontainers.image.version".to_owned(),
        settings.delivery.to_string(),
    );
    labels.insert(
        "org.opencontainers.image.created".to_owned(),
        created.clone(),
    );
    let annotations = labels.clone();
    labels.insert("cradle.customer".to_owned(), settings.customer.clone());
    labels.insert("cradle.version".to_owned(), version);
    labels.insert("cradle.delivery".to_owned(), settings.delivery.to_string());
    labels.insert(
        "cradle.delivery.published".to_owned(),
        settings.committed_at.clone(),
    );
    let sources_json =
        String::from_utf8(crate::json::canonical(&json!(sources))).unwrap_or_default();
    labels.insert(
        "cradle.sources.digest".to_owned(),
        format!("sha256:{}", hex(&Sha256::digest(sources_json.as_bytes()))),
    );
    labels.insert("cradle.sources".to_owned(), sources_json);
    if let Some(model) = model_label {
        labels.insert("cradle.model".to_owned(), model);
    }

    let port = settings.port;
    let name = settings.deployment_name().to_owned();
    let binary_path = format!("/{BINARY_PATH}");
    let entrypoint = [
        binary_path.as_str(),
        "serve",
        "--workspace",
        &format!("/{DATA_DIR}"),
        "--state",
        &format!("/{STATE_DIR}"),
        "--bind",
        "0.0.0.0",
        "--port",
        &port.to_string(),
        "--log",
        "json",
        // Agents reach MCP by the compose service or Kubernetes service name.
        "--mcp-allowed-host",
        &format!("console:{port}"),
        "--mcp-allowed-host",
        &format!("{name}:{port}"),
    ]
    .map(str::to_owned)
    .to_vec();
    let run = RunConfig {
        architecture: binary.architecture.to_owned(),
        created,
        user: format!("{SERVER_UID}:{SERVER_UID}"),
        entrypoint,
        env: vec![
            "PATH=/usr/local/bin".to_owned(),
            format!("SSL_CERT_FILE=/{CA_BUNDLE_PATH}"),
        ],
        port,
        volumes: vec![format!("/{STATE_DIR}")],
        healthcheck: healthcheck(port),
        labels,
        stop_signal: "SIGTERM".to_owned(),
    };
    let inputs = fingerprint(&settings, &tag, &binary, &layers, &run);
    Ok(Plan {
        settings,
        tag,
        binary,
        layers,
        run,
        annotations,
        inputs,
        out_dir: options.out_dir.clone(),
    })
}

/// The image's health check: `cradle health` against the server's own
/// port (no shell, no curl in the image).
pub fn healthcheck(port: u16) -> Healthcheck {
    Healthcheck {
        test: vec![
            "CMD".to_owned(),
            format!("/{BINARY_PATH}"),
            "health".to_owned(),
            format!("http://127.0.0.1:{port}"),
        ],
        interval_ms: HEALTH_INTERVAL_MS,
        timeout_ms: HEALTH_TIMEOUT_MS,
        start_period_ms: HEALTH_START_PERIOD_MS,
        retries: HEALTH_RETRIES,
    }
}

fn group_holds(group: Group) -> &'static str {
    match group {
        Group::Vectors => "the vector index",
        Group::Search => "the search index",
        Group::Catalog => "the product catalog",
        Group::Metadata => "reports, configuration and the model location",
    }
}

/// Directories and the CA bundle: the same in every image.
fn base_layer() -> LayerPlan {
    let dir = |path: &str, mode, uid| Entry {
        path: path.to_owned(),
        kind: EntryKind::Dir,
        mode,
        uid,
    };
    let bundle = ca_bundle();
    LayerPlan::new(
        "base",
        "directories and CA certificates",
        vec![File {
            path: CA_BUNDLE_PATH.to_owned(),
            size: bundle.len() as u64,
            source: Source::Bytes(Arc::from(bundle)),
            executable: false,
        }],
        vec![
            dir(DATA_DIR, 0o755, 0),
            // Only the server writes its state.
            dir(STATE_DIR, 0o700, STATE_UID),
            // Temporary files of SQLite and others; sticky like every /tmp.
            dir("tmp", 0o1777, 0),
        ],
    )
}

/// The executable: the same for every image the same cradle builds.
fn binary_layer(binary: &StaticBinary) -> LayerPlan {
    LayerPlan::new(
        "binary",
        "the cradle executable",
        vec![File {
            path: BINARY_PATH.to_owned(),
            source: Source::Disk(binary.path.clone()),
            size: binary.size,
            executable: true,
        }],
        Vec::new(),
    )
}

/// The query model of `model.json`: a layer with its files (for a local
/// model), the `model.json` the image carries, and the label naming it.
fn model(model_json: &Path) -> Result<(Vec<LayerPlan>, Vec<u8>, String), ImageError> {
    let model_error = |source| ImageError::Model { source };
    let location = ModelLocation::load(model_json).map_err(model_error)?;
    let ModelLocation::Local { dir, name, weights } = &location else {
        let label = match &location {
            ModelLocation::Remote {
                endpoint, model, ..
            } => format!("{model} at {endpoint}"),
            ModelLocation::Local { .. } => String::new(),
        };
        let text = serde_json::to_vec_pretty(&location).unwrap_or_default();
        return Ok((Vec::new(), text, label));
    };
    let files = cradle_embed::model_files(dir).map_err(model_error)?;
    let weights_path = dir.join("model.safetensors");
    let weights_bytes = std::fs::metadata(&weights_path)
        .map_err(|source| ImageError::Read {
            path: weights_path.clone(),
            source,
        })?
        .len();
    // The stamp vouches for the hash while the file is unchanged, as it
    // does for the server; otherwise the weights are hashed here.
    let sha256 = match weights {
        Some(stamp) if stamp.matches(&weights_path) => stamp.sha256.clone(),
        _ => sha256_file(&weights_path)?,
    };
    let in_image = PathBuf::from(format!("/{MODEL_DIR}"));
    let copied = location
        .copied_to(
            &in_image,
            &sha256,
            weights_bytes,
            UNIX_EPOCH + std::time::Duration::from_secs(crate::plan::FILE_TIME),
        )
        .map_err(model_error)?;
    let mut layer_files = Vec::new();
    for relative in files {
        let image_path = format!("{MODEL_DIR}/{}", relative.to_string_lossy());
        layer_files.push(crate::contents::disk_file(
            &dir.join(&relative),
            image_path,
        )?);
    }
    let layers = split(
        "model",
        &format!("the query model {name}"),
        layer_files,
        u64::MAX,
    );
    let text = serde_json::to_vec_pretty(&copied).unwrap_or_default();
    Ok((layers, text, format!("{name} sha256:{sha256}")))
}

/// The delivered files and their digests, from the ingest report.
fn sources(workspace: &Workspace) -> Result<BTreeMap<String, String>, ImageError> {
    #[derive(Deserialize)]
    struct Report {
        #[serde(default)]
        files: Vec<FileEntry>,
    }
    #[derive(Deserialize)]
    struct FileEntry {
        path: String,
        sha256: Option<String>,
    }
    let path = workspace.reports_dir().join("ingest.json");
    let text = std::fs::read(&path).map_err(|source| ImageError::Read {
        path: path.clone(),
        source,
    })?;
    let report: Report =
        serde_json::from_slice(&text).map_err(|source| ImageError::Report { path, source })?;
    Ok(report
        .files
        .into_iter()
        .filter_map(|f| Some((f.path, format!("sha256:{}", f.sha256?))))
        .collect())
}

/// A digest of everything the image depends on.
fn fingerprint(
    settings: &Settings,
    tag: &Tag,
    binary: &StaticBinary,
    layers: &[LayerPlan],
    run: &RunConfig,
) -> String {
    let mut hasher = Sha256::new();
    let mut line = |text: String| {
        hasher.update(text.as_bytes());
        hasher.update(b"\n");
    };
    line(format!("builder {}", env!("CARGO_PKG_VERSION")));
    line(format!("{settings:?} {tag}"));
    line(format!("binary {} {}", binary.sha256, binary.size));
    line(format!(
        "{:?} {:?} {}",
        run.entrypoint, run.labels, run.created
    ));
    for layer in layers {
        for entry in &layer.entries {
            match &entry.kind {
                EntryKind::Dir => line(format!("{} dir {:o}", entry.path, entry.mode)),
                EntryKind::File { source, size } => {
                    let origin = match source {
                        Source::Disk(path) => {
                            let modified = std::fs::metadata(path)
                                .and_then(|m| m.modified())
                                .ok()
                                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                                .map_or(0, |d| d.as_nanos());
                            format!("{} {modified}", path.display())
                        }
                        Source::Bytes(bytes) => hex(&Sha256::digest(bytes)),
                    };
                    line(format!("{} {size} {origin}", entry.path));
                }
            }
        }
    }
    format!("sha256:{}", hex(&hasher.finalize()))
}

/// Writes the image of `plan` and the files beside it.
/// `started` is when the build began (for `seconds`).
pub fn write(
    plan: &Plan,
    progress: &dyn Progress,
    started: Instant,
) -> Result<BuildReport, ImageError> {
    let out = &plan.out_dir;
    std::fs::create_dir_all(out).map_err(|source| ImageError::Write {
        path: out.clone(),
        source,
    })?;
    let image = out.join(IMAGE_FILE);
    let partial = out.join(format!(".{IMAGE_FILE}.partial"));
    progress.begin(
        plan.layers.len(),
        plan.layers.iter().map(LayerPlan::content_bytes).sum(),
    );
    let mut archive = Archive::create(&partial)?;
    let mut records = Vec::new();
    let mut reports = Vec::new();
    for layer in &plan.layers {
        let digests = archive.add_layer(layer, progress)?;
        let report = LayerReport {
            name: layer.name.clone(),
            holds: layer.holds.clone(),
            digest: digests.digest.clone(),
            size: digests.size,
            diff_id: digests.diff_id.clone(),
            uncompressed_size: digests.tar_size,
            files: layer.files(),
            content_size: layer.content_bytes(),
        };
        progress.layer_done(&report);
        reports.push(report);
        records.push(LayerRecord {
            digests,
            holds: layer.holds.clone(),
        });
    }
    let config = crate::oci::config(&plan.run, &records);
    let manifest = crate::oci::manifest(&config, &records, &plan.annotations);
    archive.add_blob(&config.digest, &config.bytes)?;
    archive.add_blob(&manifest.digest, &manifest.bytes)?;
    archive.add_file(
        "index.json",
        &crate::oci::index(&manifest, &plan.tag, &plan.run.architecture),
    )?;
    archive.add_file("oci-layout", &crate::oci::layout())?;
    archive.add_file(
        "manifest.json",
        &crate::oci::docker_manifest(&config, &records, &plan.tag),
    )?;
    let size = archive.finish()?;
    publish(&partial, &image)?;

    let mut values: BTreeMap<&str, String> = BTreeMap::new();
    let health = &plan.run.healthcheck;
    values.insert("image", plan.tag.to_string());
    values.insert("name", plan.settings.deployment_name().to_owned());
    values.insert("customer", plan.settings.customer.clone());
    values.insert("delivery", plan.settings.delivery.to_string());
    values.insert("digest", manifest.digest.clone());
    values.insert("port", plan.settings.port.to_string());
    values.insert("memory_mb", plan.settings.memory_mb.to_string());
    values.insert(
        "memory_request_mb",
        (plan.settings.memory_mb / 4).max(64).to_string(),
    );
    values.insert("uid", SERVER_UID.to_string());
    values.insert(
        "health_test",
        serde_json::to_string(&health.test).unwrap_or_default(),
    );
    values.insert("health_interval", format!("{}ms", health.interval_ms));
    values.insert("health_timeout", format!("{}ms", health.timeout_ms));
    values.insert(
        "health_start_period",
        format!("{}ms", health.start_period_ms),
    );
    values.insert("health_retries", health.retries.to_string());
    let mut k8s = Vec::new();
    let mut compose = PathBuf::new();
    for (relative, text) in crate::manifests::render_all(&values)? {
        let path = out.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| ImageError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        write_file(&path, text.as_bytes())?;
        if relative.starts_with("k8s/") {
            k8s.push(path);
        } else {
            compose = path;
        }
    }

    let data_size = plan
        .layers
        .iter()
        .flat_map(|l| &l.entries)
        .filter(|e| e.path.starts_with(&format!("{DATA_DIR}/")))
        .map(|e| match &e.kind {
            EntryKind::File { size, .. } => *size,
            EntryKind::Dir => 0,
        })
        .sum();
    let report = BuildReport {
        digest: manifest.digest.clone(),
        config_digest: config.digest.clone(),
        tag: plan.tag.to_string(),
        size,
        data_size,
        uncompressed_size: reports.iter().map(|l| l.uncompressed_size).sum(),
        layers: reports,
        seconds: started.elapsed().as_secs_f64(),
        customer: plan.settings.customer.clone(),
        delivery: plan.settings.delivery,
        port: plan.settings.port,
        architecture: plan.run.architecture.clone(),
        created: plan.run.created.clone(),
        binary: BinaryReport {
            path: plan.binary.path.clone(),
            version: plan.binary.version.clone(),
            sha256: format!("sha256:{}", plan.binary.sha256),
            size: plan.binary.size,
        },
        image,
        compose,
        k8s,
        inputs: plan.inputs.clone(),
    };
    let text = serde_json::to_vec_pretty(&report).unwrap_or_default();
    write_file(&out.join(BUILD_FILE), &text)?;
    Ok(report)
}

/// Plans and writes the image of `workspace`.
pub fn build(
    workspace: &Workspace,
    options: &BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildReport, ImageError> {
    let started = Instant::now();
    let plan = plan(workspace, options)?;
    write(&plan, progress, started)
}

/// Writes a small file whole (see `cradle_fs::atomic`).
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ImageError> {
    cradle_fs::write_atomic(path, bytes).map_err(|source| ImageError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Puts a complete file in place and syncs its directory, so the name
/// appears with the whole content or not at all.
fn publish(partial: &Path, path: &Path) -> Result<(), ImageError> {
    cradle_fs::persist(partial, path).map_err(|source| ImageError::Write {
        path: path.to_path_buf(),
        source,
    })
}
