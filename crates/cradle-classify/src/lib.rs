//! ETIM classification for cradle: the ETIM model loaded from ETIM
//! International's CSV export ([`EtimModel`]; a lighting excerpt is built
//! in), source attributes mapped to ETIM features ([`map_features`]), a
//! classifier that combines a delivered code, neighbour votes, class names
//! and attribute evidence ([`classify`]), and its evaluation ([`holdout`],
//! [`Evaluation`]).
//!
//! The crate reads files only to load a model; products, embeddings and
//! tables are the caller's.

mod classify;
mod error;
mod eval;
mod features;
mod model;
mod text;

pub use classify::{Classification, CodeCheck, Evidence, Source, classify, validate_code};
pub use error::ClassifyError;
pub use eval::{ConfusionRow, Evaluation, holdout};
pub use features::{FeatureMatch, SourceAttribute, map_features};
pub use model::{ClassFeature, EtimClass, EtimModel, Feature, FeatureType, Text, Unit, Value};
