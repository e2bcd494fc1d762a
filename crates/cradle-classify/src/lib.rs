//! ETIM classification for cradle: the ETIM model loaded from ETIM
//! International's CSV export ([`EtimModel`]; a lighting excerpt is built
//! in), source attributes mapped to ETIM features ([`map_features`]), a
//! classifier that combines a delivered code, neighbour votes, class names
//! and attribute evidence ([`classify`]), and its evaluation ([`holdout`],
//! [`Evaluation`]).
//!
//! The crate reads files only to load a model; products, embeddings and
//! tables are the caller's.
//!
//! ```
//! use cradle_classify::{EtimModel, Evidence, Source, SourceAttribute, classify, map_features};
//!
//! let model = EtimModel::builtin(); // or EtimModel::load_dir(path)?
//! let attributes = [SourceAttribute {
//!     name: "Lichtstrom [lm]".to_owned(),
//!     unit: None,
//!     text: "1.450".to_owned(),
//!     number: Some(1450.0),
//! }];
//! // Neighbours: classes of similar, already classified products of the
//! // same customer with their cosine similarity.
//! let neighbours = [("EC001743".to_owned(), 0.91)];
//! let evidence = Evidence {
//!     delivered_code: Some("EC01743"), // malformed: reported, not used
//!     texts: vec!["LED-Pendelleuchte SOLA 7,5 W", "Pendant luminaire SOLA"],
//!     attributes: &attributes,
//!     neighbours: &neighbours,
//! };
//! let found = classify(&model, &evidence).unwrap();
//! assert_eq!(found.class, "EC001743");
//! assert_eq!(found.source, Source::Names);
//! assert!(found.confidence > 0.9);
//! assert!(found.delivered.unwrap().valid().is_none());
//! let features = map_features(&model, &found.class, &attributes);
//! assert_eq!(features[0].feature, "EF018714");
//! ```

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
