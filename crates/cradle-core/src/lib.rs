//! The shared vocabulary of cradle: canonical product fields, reject reasons,
//! the cell-accounting rules, the demo manifest and the
//! per-customer configuration.
//!
//! Architecture invariant: this crate does no IO except reading `cradle.toml`,
//! and knows nothing of file formats, Arrow or Delta.

pub mod accounting;
pub mod config;
pub mod dates;
pub mod fields;
pub mod manifest;
pub mod media;

pub use accounting::{Balance, RejectReason};
pub use fields::CanonicalField;
