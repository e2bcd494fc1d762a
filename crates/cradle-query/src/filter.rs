//! [`FilterSpec`]: the conditions a user or an agent may put on a search,
//! as the API's `filter` parameter spells them and as MCP clients send
//! them (a JSON object with `kind`). The index's own filter has one more,
//! internal kind (a set of article numbers); this is the public subset.

use cradle_index::Filter;
use serde::Deserialize;

/// A condition every hit must meet.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FilterSpec {
    /// `field` equals `value`. Fields: family, brand, series, etim_class,
    /// article_no, gtin, or an attribute name such as `Leistung` (case and
    /// umlaut spelling do not matter; numbers compare as numbers).
    Equals { field: String, value: String },
    /// A numeric attribute between `min` and `max` inclusive (either may be
    /// left out), in `unit` if given, as delivered ("W", "lm", "K").
    Range {
        field: String,
        min: Option<f64>,
        max: Option<f64>,
        unit: Option<String>,
    },
    /// A yes/no attribute, e.g. `Dimmbar` = true.
    Bool { field: String, value: bool },
}

impl From<FilterSpec> for Filter {
    fn from(spec: FilterSpec) -> Filter {
        match spec {
            FilterSpec::Equals { field, value } => Filter::Equals { field, value },
            FilterSpec::Range {
                field,
                min,
                max,
                unit,
            } => Filter::Range {
                field,
                min,
                max,
                unit,
            },
            FilterSpec::Bool { field, value } => Filter::Bool { field, value },
        }
    }
}
