//! Before and after the image: [`validate`] checks a workspace before an
//! image is built from it, [`build`] validates and builds, [`health`] asks a
//! deployment whether it is ready (the image's health check), [`verify`]
//! proves a running deployment serves its workspace, and [`deploy`] puts a
//! workspace onto the local Docker engine and proves it.
//!
//! Each is a library call that `cradle run` and the commands share; the
//! commands only parse arguments and print.

mod build;
pub mod deploy;
pub mod docker;
pub mod health;
mod http;
pub mod validate;
pub mod verify;

pub use build::{BuildError, build};
pub use deploy::{
    DeployError, DeployOptions, DeployProgress, DeployReport, Phase, create_api_key, deploy,
};
pub use health::{DEFAULT_URL, HealthError};
pub use validate::{Check, Status, Validation, validate};
pub use verify::{CheckOutcome, VerifyError, VerifyOptions, VerifyReport, verify};
