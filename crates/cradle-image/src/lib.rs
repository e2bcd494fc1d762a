//! The OCI image of one customer's deployment, written without Docker and
//! without a Dockerfile: `FROM scratch`, a statically linked `cradle`, CA
//! certificates, the read-only data the server reads below `/data`, state
//! on a volume at `/state`, a non-root numeric user, the port, a
//! `HEALTHCHECK` that runs `cradle health`, and labels naming the customer,
//! the cradle version, the delivery and the digests of the delivered files.
//!
//! [`build`] plans the layers ([`plan`]) and writes one tar holding both an
//! OCI image layout and Docker's legacy `manifest.json`, so `docker load`,
//! `skopeo` and `umoci` all read it, and beside it `compose.yaml`, the
//! Kubernetes manifests (`k8s/`) and `build.json`.
//!
//! Reproducible: the same workspace and executable give the same bytes on
//! any machine at any time. Entries are sorted, owned by root (the state
//! directory by the server's uid), dated [`plan::FILE_TIME`]; the creation
//! time comes from `SOURCE_DATE_EPOCH` or the delivery's publication; JSON
//! is canonical; gzip is one pinned implementation and level (a golden
//! digest test guards it); the history names what each layer holds and
//! nothing of the build (no time, no tool version).
//!
//! Streamed: files are read and compressed in pieces straight into the
//! archive; no layer is held in memory.

mod archive;
pub mod binary;
mod build;
pub mod certs;
pub mod contents;
mod error;
mod json;
mod layer;
pub mod manifests;
pub mod oci;
pub mod plan;
mod progress;
pub mod settings;

pub use binary::{STATIC_BINARY_ENV, STATIC_BUILD_HINT, StaticBinary, find_static_binary};
pub use build::{
    BUILD_FILE, BinaryReport, BuildOptions, BuildReport, HEALTH_INTERVAL_MS, IMAGE_FILE,
    LayerReport, Plan, build, healthcheck, plan, source_date_epoch_from_env, write,
};
pub use contents::{Need, Served, served_data};
pub use error::ImageError;
pub use layer::GZIP_LEVEL;
pub use progress::{NoProgress, Progress};
pub use settings::Settings;
