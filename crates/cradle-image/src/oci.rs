//! The image's JSON documents: the config (what runs, as whom, with which
//! health check, labels, the DiffIDs of the layers), the manifest (config
//! and layer blobs), the OCI `index.json` and Docker's `manifest.json`.
//! All are written as canonical JSON (`json.rs`), so equal inputs give
//! equal digests.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::binary::hex;
use crate::json::canonical;
use crate::layer::LayerDigests;

pub const MEDIA_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const MEDIA_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// How the container runs.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub architecture: String,
    /// RFC 3339; the same for equal inputs (never the time of the build).
    pub created: String,
    /// `uid:gid`.
    pub user: String,
    pub entrypoint: Vec<String>,
    pub env: Vec<String>,
    pub port: u16,
    pub volumes: Vec<String>,
    pub healthcheck: Healthcheck,
    pub labels: BTreeMap<String, String>,
    /// The signal `docker stop` sends.
    pub stop_signal: String,
}

/// Docker's `HEALTHCHECK`, kept in the config as Docker keeps it
/// (`config.Healthcheck`, durations in nanoseconds); runtimes that do not
/// know it ignore it.
#[derive(Debug, Clone)]
pub struct Healthcheck {
    /// `["CMD", program, args...]`: exec'd directly, no shell.
    pub test: Vec<String>,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub start_period_ms: u64,
    pub retries: u32,
}

/// A layer as the config and manifest name it, with the history line that
/// says what it holds.
#[derive(Debug, Clone)]
pub struct LayerRecord {
    pub digests: LayerDigests,
    pub holds: String,
}

/// A written JSON document: its canonical bytes and their digest.
#[derive(Debug, Clone)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub digest: String,
}

impl Blob {
    fn of(value: &Value) -> Blob {
        let bytes = canonical(value);
        let digest = format!("sha256:{}", hex(&Sha256::digest(&bytes)));
        Blob { bytes, digest }
    }
}

/// The image config.
pub fn config(run: &RunConfig, layers: &[LayerRecord]) -> Blob {
    let ns = |ms: u64| ms * 1_000_000;
    let history: Vec<Value> = layers
        .iter()
        .map(|layer| json!({"created": run.created, "created_by": format!("cradle build: {}", layer.holds)}))
        .collect();
    let volumes: serde_json::Map<String, Value> =
        run.volumes.iter().map(|v| (v.clone(), json!({}))).collect();
    Blob::of(&json!({
        "architecture": run.architecture,
        "os": "linux",
        "created": run.created,
        "config": {
            "User": run.user,
            "Entrypoint": run.entrypoint,
            "Env": run.env,
            "ExposedPorts": {format!("{}/tcp", run.port): {}},
            "Volumes": volumes,
            "WorkingDir": "/",
            "Labels": run.labels,
            "StopSignal": run.stop_signal,
            "Healthcheck": {
                "Test": run.healthcheck.test,
                "Interval": ns(run.healthcheck.interval_ms),
                "Timeout": ns(run.healthcheck.timeout_ms),
                "StartPeriod": ns(run.healthcheck.start_period_ms),
                "Retries": run.healthcheck.retries,
            },
        },
        "rootfs": {
            "type": "layers",
            "diff_ids": layers.iter().map(|l| l.digests.diff_id.clone()).collect::<Vec<_>>(),
        },
        "history": history,
    }))
}

/// The image manifest.
pub fn manifest(
    config: &Blob,
    layers: &[LayerRecord],
    annotations: &BTreeMap<String, String>,
) -> Blob {
    Blob::of(&json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {
            "mediaType": MEDIA_CONFIG,
            "digest": config.digest,
            "size": config.bytes.len(),
        },
        "layers": layers.iter().map(|l| json!({
            "mediaType": MEDIA_LAYER,
            "digest": l.digests.digest,
            "size": l.digests.size,
        })).collect::<Vec<_>>(),
        "annotations": annotations,
    }))
}

/// The OCI layout's `index.json`: the one manifest, named by the tag.
pub fn index(manifest: &Blob, tag: &Tag, architecture: &str) -> Vec<u8> {
    canonical(&json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_INDEX,
        "manifests": [{
            "mediaType": MEDIA_MANIFEST,
            "digest": manifest.digest,
            "size": manifest.bytes.len(),
            "platform": {"architecture": architecture, "os": "linux"},
            "annotations": {
                // The reference skopeo and umoci look the image up by.
                "org.opencontainers.image.ref.name": tag.version,
                // The name containerd (and Docker 25+) import it as.
                "io.containerd.image.name": tag.full_name(),
            },
        }],
    }))
}

/// `oci-layout`: the layout version.
pub fn layout() -> Vec<u8> {
    canonical(&json!({"imageLayoutVersion": "1.0.0"}))
}

/// Docker's legacy `manifest.json`: config and layer blobs by path, and
/// the tag `docker load` gives the image.
pub fn docker_manifest(config: &Blob, layers: &[LayerRecord], tag: &Tag) -> Vec<u8> {
    canonical(&json!([{
        "Config": crate::archive::blob_path(&config.digest),
        "RepoTags": [tag.to_string()],
        "Layers": layers.iter().map(|l| crate::archive::blob_path(&l.digests.digest)).collect::<Vec<_>>(),
    }]))
}

/// `NAME:VERSION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub version: String,
}

impl Tag {
    /// Parses `NAME:VERSION` as Docker accepts it: a lowercase name of
    /// components separated by `/`, a version of letters, digits, `_`, `.`
    /// and `-` (at most 128, not starting with `.` or `-`).
    pub fn parse(text: &str) -> Result<Tag, String> {
        let Some((name, version)) = text.rsplit_once(':').filter(|(_, v)| !v.contains('/')) else {
            return Err("it has no version (NAME:VERSION, e.g. cradle-acme:3)".into());
        };
        let component_ok = |c: &str| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && c.as_bytes()[0].is_ascii_alphanumeric()
                && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
        };
        // A registry host (with a port) may come first: `host:5000/name`.
        let registry_ok = |c: &str| {
            (c.contains('.') || c.contains(':') || c == "localhost")
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b))
        };
        let mut components = name.split('/');
        let first = components.next().unwrap_or_default();
        let first_ok = component_ok(first) || (name.contains('/') && registry_ok(first));
        if name.is_empty() || !first_ok || !components.all(component_ok) {
            return Err(format!(
                "the name {name:?} must be lowercase letters, digits and . _ - (starting and ending with a letter or digit), components separated by /"
            ));
        }
        let version_ok = !version.is_empty()
            && version.len() <= 128
            && version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            && !version.starts_with(['.', '-']);
        if !version_ok {
            return Err(format!(
                "the version {version:?} must be 1 to 128 letters, digits and _ . - (not starting with . or -)"
            ));
        }
        Ok(Tag {
            name: name.to_owned(),
            version: version.to_owned(),
        })
    }

    /// The fully qualified name containerd uses for a name without registry.
    pub fn full_name(&self) -> String {
        let first = self.name.split('/').next().unwrap_or_default();
        let has_registry = self.name.contains('/')
            && (first.contains('.') || first.contains(':') || first == "localhost");
        match (has_registry, self.name.contains('/')) {
            (true, _) => self.to_string(),
            (false, true) => format!("docker.io/{self}"),
            (false, false) => format!("docker.io/library/{self}"),
        }
    }
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.name, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        let tag = Tag::parse("cradle-acme:3").unwrap();
        assert_eq!(
            (tag.name.as_str(), tag.version.as_str()),
            ("cradle-acme", "3")
        );
        assert_eq!(tag.full_name(), "docker.io/library/cradle-acme:3");
        assert_eq!(
            Tag::parse("registry.example:5000/acme/console:v1.2")
                .unwrap()
                .full_name(),
            "registry.example:5000/acme/console:v1.2"
        );
        for bad in [
            "cradle-acme",
            "Cradle:1",
            "a:-1",
            "a:",
            ":1",
            "a//b:1",
            "a-:1",
        ] {
            assert!(Tag::parse(bad).is_err(), "{bad}");
        }
    }
}
