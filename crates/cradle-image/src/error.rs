//! Everything that can stop an image build, each with what to do about it.

use std::path::PathBuf;

use crate::binary::STATIC_BUILD_HINT;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the layer `{layer}`")]
    WriteLayer {
        layer: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} changed while the image was being written ({found})\nhint: wait until no other cradle command works on the workspace, then build again"
    )]
    Changed { path: PathBuf, found: String },
    #[error("{path} is not a name an image can hold (not UTF-8)")]
    Name { path: PathBuf },
    #[error(
        "{path} cannot go into the image: {why}; a FROM scratch image has no C library\nhint: run `{STATIC_BUILD_HINT}` and pass the path it prints with --binary"
    )]
    NotStatic { path: PathBuf, why: String },
    #[error(
        "the running cradle ({path}) is dynamically linked, and a FROM scratch image has no C library for it\nhint: run `{STATIC_BUILD_HINT}` and pass the path it prints with --binary (or set CRADLE_STATIC_BINARY to it)"
    )]
    RunningNotStatic { path: PathBuf },
    #[error(
        "{path} does not run as cradle: {why}\nhint: run `{STATIC_BUILD_HINT}` to build a static cradle for this machine"
    )]
    BinaryVersion { path: PathBuf, why: String },
    #[error("{what} is missing ({path})\nhint: run `{fix}`")]
    Missing {
        what: String,
        path: PathBuf,
        fix: String,
    },
    #[error(
        "{workspace} has no published delivery\nhint: run `cradle ingest <DELIVERY> --workspace {workspace}` first"
    )]
    NoDelivery { workspace: PathBuf },
    #[error("cannot read the delivery records")]
    Delivery {
        #[source]
        source: cradle_lakehouse::deliveries::DeliveryError,
    },
    #[error("{path} is damaged")]
    Report {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the query model cannot go into the image")]
    Model {
        #[source]
        source: cradle_embed::EmbedError,
    },
    #[error(transparent)]
    Config(#[from] cradle_core::config::ConfigError),
    #[error(
        "the customer id {customer:?} cannot name an image or a deployment: {why}\nhint: set `customer = \"<id>\"` in {config} (lowercase letters, digits and -, at most 40)"
    )]
    Customer {
        customer: String,
        why: String,
        config: PathBuf,
    },
    #[error(
        "the tag {tag:?} is not valid: {why}\nhint: --tag NAME:VERSION, e.g. --tag cradle-acme:3"
    )]
    Tag { tag: String, why: String },
    #[error("[deploy] {setting} in {config}: {why}")]
    Setting {
        setting: &'static str,
        why: String,
        config: PathBuf,
    },
    #[error(
        "the image would have {layers} layers, more than the {max} a container runtime stacks\nhint: the data has too many large files; report this with build.json"
    )]
    TooManyLayers { layers: usize, max: usize },
    #[error("SOURCE_DATE_EPOCH={value:?} is not a number of seconds since 1970")]
    SourceDateEpoch { value: String },
    #[error("the template {template} is broken: {what}")]
    Template { template: String, what: String },
}
