//! Mapping a product's source attributes (columns as the customer named
//! them) to the ETIM features of its class, where the evidence is clear: the
//! header is a known German or English name of the feature (or the feature's
//! own ETIM description or code), and the delivered unit measures the same
//! quantity as the feature's unit. Everything else stays unmapped; a wrong
//! mapping is worse than none.

use crate::model::{EtimModel, FeatureType};
use crate::text::{fold, tokens};
use std::collections::HashMap;

/// One attribute of a product as delivered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceAttribute {
    /// The column header (or feature name) as delivered: `Leistung [W]`.
    pub name: String,
    /// The unit delivered with the value, if any (`W`, `mm`).
    pub unit: Option<String>,
    /// The cell's original text.
    pub text: String,
    /// The typed number, when the cell is a number.
    pub number: Option<f64>,
}

/// A source attribute mapped to a feature of the class.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatch {
    /// Index into the attributes given to [`map_features`].
    pub attribute: usize,
    /// The ETIM feature (EF code).
    pub feature: String,
    pub kind: FeatureType,
    /// The class feature's unit (EU code).
    pub unit: Option<String>,
    /// Numeric and range features: the value in the feature's unit.
    pub number: Option<f64>,
    /// Logical features.
    pub logical: Option<bool>,
    /// Alphanumeric features: the value code when the text names one.
    pub value: Option<String>,
    /// Why this mapping was made, for reports.
    pub reason: String,
}

/// Header names of features, German and English, as customers write them.
/// Matched against the whole header (units in brackets removed), so
/// `Ausgangsspannung` is not taken for the nominal voltage nor
/// `Bruttogewicht` for the product's weight.
const HEADERS: &[(&str, &[&str])] = &[
    (
        "EF000004",
        &["Schutzklasse", "Protection class", "Safety class", "SK"],
    ),
    ("EF000008", &["Breite", "Width", "B"]),
    (
        "EF000015",
        &[
            "Durchmesser",
            "Außendurchmesser",
            "Diameter",
            "Outer diameter",
            "Ø",
        ],
    ),
    (
        "EF000136",
        &[
            "Farbe",
            "Gehäusefarbe",
            "Colour",
            "Color",
            "Housing colour",
            "Housing color",
            "Oberfläche",
            "Finish",
        ],
    ),
    ("EF000137", &["Dimmbar", "Dimmable"]),
    (
        "EF000167",
        &[
            "Gewicht",
            "Nettogewicht",
            "Weight",
            "Net weight",
            "Produktgewicht",
        ],
    ),
    ("EF000187", &["Spannungsart", "Stromart", "Voltage type"]),
    (
        "EF000280",
        &[
            "Leistung",
            "Lampenleistung",
            "Nennleistung",
            "Systemleistung",
            "Power",
            "Rated power",
            "Lamp power",
            "Wattage",
        ],
    ),
    (
        "EF000442",
        &[
            "CRI",
            "Ra",
            "Farbwiedergabe",
            "Farbwiedergabeindex",
            "Colour rendering index",
            "Color rendering index",
            "Colour rendering",
        ],
    ),
    ("EF001438", &["Länge", "Length", "L"]),
    ("EF001456", &["Höhe", "Height", "Bauhöhe", "H"]),
    (
        "EF001596",
        &[
            "Material",
            "Gehäusematerial",
            "Housing material",
            "Werkstoff",
        ],
    ),
    (
        "EF003118",
        &[
            "Schutzart",
            "IP-Schutzart",
            "IP",
            "IP rating",
            "Degree of protection",
            "IP code",
        ],
    ),
    (
        "EF004293",
        &[
            "Schlagfestigkeit",
            "IK",
            "IK-Code",
            "Impact strength",
            "Impact resistance",
        ],
    ),
    (
        "EF005127",
        &[
            "Spannung",
            "Nennspannung",
            "Betriebsspannung",
            "Voltage",
            "Nominal voltage",
            "Rated voltage",
            "Input voltage",
            "Eingangsspannung",
        ],
    ),
    (
        "EF005474",
        &[
            "Schutzart",
            "IP-Schutzart",
            "IP",
            "IP rating",
            "Degree of protection",
            "IP code",
        ],
    ),
    (
        "EF005905",
        &[
            "Mit Leuchtmittel",
            "With light source",
            "Leuchtmittel inklusive",
        ],
    ),
    (
        "EF007556",
        &[
            "Mit Betriebsgerät",
            "With control gear",
            "Driver included",
            "Treiber inklusive",
        ],
    ),
    (
        "EF008157",
        &["Abstrahlwinkel", "Ausstrahlwinkel", "Beam angle"],
    ),
    (
        "EF009346",
        &[
            "Farbtemperatur",
            "Lichtfarbe",
            "Colour temperature",
            "Color temperature",
            "CCT",
        ],
    ),
    (
        "EF009351",
        &["Schwenkbar", "Einstellbar", "Adjustable", "Adjustability"],
    ),
    (
        "EF010795",
        &[
            "Einbautiefe",
            "Einbauhöhe",
            "Built-in height",
            "Recess depth",
            "Installation depth",
        ],
    ),
    ("EF012154", &["DALI", "Dimmung DALI", "Dimming DALI"]),
    (
        "EF018714",
        &[
            "Lichtstrom",
            "Bemessungslichtstrom",
            "Luminous flux",
            "Rated luminous flux",
            "Lumen",
            "Flux",
        ],
    ),
    ("EF023168", &["Einbaulänge", "Built-in length"]),
];

/// What a unit measures and its factor to the base unit of that quantity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Quantity {
    dimension: &'static str,
    factor: f64,
}

const UNITS: &[(&[&str], &str, &str, f64)] = &[
    // (spellings, symbol, dimension, factor to base)
    (&["mm", "millimetre", "millimeter"], "mm", "length", 0.001),
    (&["cm", "centimetre", "centimeter"], "cm", "length", 0.01),
    (&["m", "metre", "meter"], "m", "length", 1.0),
    (&["w", "watt"], "W", "power", 1.0),
    (&["kw", "kilowatt"], "kW", "power", 1000.0),
    (&["v", "volt", "vac", "vdc"], "V", "voltage", 1.0),
    (&["k", "kelvin"], "K", "temperature", 1.0),
    (&["lm", "lumen"], "lm", "flux", 1.0),
    (&["kg", "kilogram", "kilogramm"], "kg", "mass", 1.0),
    (&["g", "gram", "gramm"], "g", "mass", 0.001),
    (&["ma", "milliampere"], "mA", "current", 0.001),
    (&["a", "ampere"], "A", "current", 1.0),
    (
        &["h", "hour", "hours", "stunde", "stunden"],
        "h",
        "time",
        1.0,
    ),
    (&["°", "deg", "degree", "grad"], "°", "angle", 1.0),
];

fn lookup(
    unit: &str,
) -> Option<&'static (&'static [&'static str], &'static str, &'static str, f64)> {
    let folded = unit.trim().to_lowercase();
    let folded = folded.trim_matches(|c: char| c == '[' || c == ']' || c == '(' || c == ')');
    UNITS
        .iter()
        .find(|(spellings, ..)| spellings.contains(&folded))
}

/// The symbol of a unit named by its description (`Millimetre` → `mm`).
pub(crate) fn unit_symbol(description: &str) -> Option<&'static str> {
    lookup(description).map(|(_, symbol, ..)| *symbol)
}

fn quantity(unit: &str) -> Option<Quantity> {
    lookup(unit).map(|(_, _, dimension, factor)| Quantity {
        dimension,
        factor: *factor,
    })
}

/// Splits `Leistung [W]` / `Weight (kg)` into the name and the unit.
fn split_header(header: &str) -> (&str, Option<&str>) {
    for (open, close) in [('[', ']'), ('(', ')')] {
        if let (Some(start), Some(end)) = (header.rfind(open), header.rfind(close))
            && start < end
        {
            let unit = header[start + 1..end].trim();
            if quantity(unit).is_some() {
                return (header[..start].trim(), Some(unit));
            }
        }
    }
    (header.trim(), None)
}

/// Header words → the features they name, with the reason. Built once per
/// model: the model's feature descriptions (every language), then the
/// header table.
pub(crate) type HeaderIndex = HashMap<Vec<String>, Vec<(String, &'static str)>>;

pub(crate) fn header_index<'f>(features: impl Iterator<Item = &'f crate::Feature>) -> HeaderIndex {
    let mut index: HeaderIndex = HashMap::new();
    let mut known = Vec::new();
    for feature in features {
        known.push(feature.code.clone());
        for description in &feature.descriptions {
            let entry = index.entry(tokens(&description.text)).or_default();
            if !entry.iter().any(|(c, _)| *c == feature.code) {
                entry.push((
                    feature.code.clone(),
                    "the header is the feature's ETIM name",
                ));
            }
        }
    }
    for (code, names) in HEADERS {
        if !known.iter().any(|k| k == code) {
            continue;
        }
        for name in *names {
            let entry = index.entry(tokens(name)).or_default();
            if !entry.iter().any(|(c, _)| c == code) {
                entry.push((
                    (*code).to_owned(),
                    "the header is a known name of the feature",
                ));
            }
        }
    }
    index.remove(&Vec::new());
    index
}

/// The features an attribute's name designates, whatever the class: ETIM
/// codes as names, the model's feature descriptions and the header table.
pub(crate) fn candidates(model: &EtimModel, name: &str) -> Vec<(String, &'static str)> {
    let (name, _) = split_header(name);
    let code = name.trim().to_ascii_uppercase();
    if model.feature(&code).is_some() {
        return vec![(code, "the attribute is named by its ETIM feature code")];
    }
    model
        .headers
        .get(&tokens(name))
        .cloned()
        .unwrap_or_default()
}

fn parse_bool(text: &str) -> Option<bool> {
    match fold(text.trim()).as_str() {
        "ja" | "yes" | "true" | "wahr" | "1" | "x" | "j" | "y" => Some(true),
        "nein" | "no" | "false" | "falsch" | "0" | "n" | "-" => Some(false),
        _ => None,
    }
}

/// The first number in a text, either decimal convention (`12,5 W`).
fn parse_number(text: &str) -> Option<f64> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let rest = &text[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
        .unwrap_or(rest.len());
    let raw = rest[..end].trim_end_matches(['.', ',']);
    let normalised = if raw.contains(',') && !raw.contains('.') {
        raw.replace(',', ".")
    } else {
        raw.replace(',', "")
    };
    let value: f64 = normalised.parse().ok()?;
    let negative = text[..start].trim_end().ends_with('-') && text[..start].trim().len() == 1;
    Some(if negative { -value } else { value })
}

/// Maps `attributes` to the features of `class`. Each attribute maps to at
/// most one feature, each feature takes the first attribute that fits.
pub fn map_features(
    model: &EtimModel,
    class: &str,
    attributes: &[SourceAttribute],
) -> Vec<FeatureMatch> {
    let class_features = model.features_of(class);
    let mut matches: Vec<FeatureMatch> = Vec::new();
    for (index, attribute) in attributes.iter().enumerate() {
        if attribute.text.trim().is_empty() && attribute.number.is_none() {
            continue;
        }
        let (_, header_unit) = split_header(&attribute.name);
        let unit = attribute
            .unit
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .or(header_unit);
        for (code, why) in candidates(model, &attribute.name) {
            let Some(feature) = class_features.iter().find(|f| f.feature == code) else {
                continue;
            };
            if matches.iter().any(|m| m.feature == code) {
                continue;
            }
            let mut found = FeatureMatch {
                attribute: index,
                feature: code.clone(),
                kind: feature.kind,
                unit: feature.unit.clone(),
                number: None,
                logical: None,
                value: None,
                reason: String::new(),
            };
            let accepted = match feature.kind {
                FeatureType::Numeric | FeatureType::Range => {
                    let target = feature
                        .unit
                        .as_deref()
                        .and_then(|u| model.unit(u))
                        .and_then(|u| u.symbol.as_deref());
                    let number = attribute.number.or_else(|| parse_number(&attribute.text));
                    match (number, target, unit) {
                        (None, ..) => None,
                        (Some(n), Some(target), Some(given)) => {
                            match (quantity(target), quantity(given)) {
                                (Some(t), Some(g)) if t.dimension == g.dimension => {
                                    found.number = Some(n * g.factor / t.factor);
                                    Some(format!("{why}; unit {given} converted to {target}"))
                                }
                                _ => None,
                            }
                        }
                        (Some(n), Some(target), None) => {
                            found.number = Some(n);
                            Some(format!("{why}; no unit delivered, read as {target}"))
                        }
                        (Some(n), None, None) => {
                            found.number = Some(n);
                            Some(why.to_owned())
                        }
                        // A unit where the feature has none: not the same quantity.
                        (Some(_), None, Some(_)) => None,
                    }
                }
                FeatureType::Logical => parse_bool(&attribute.text).map(|b| {
                    found.logical = Some(b);
                    why.to_owned()
                }),
                FeatureType::Alphanumeric => {
                    if unit.is_some() {
                        // A measured value cannot be a value code.
                        None
                    } else {
                        let text = fold(attribute.text.trim());
                        found.value = feature
                            .values
                            .iter()
                            .find(|v| {
                                *v == &attribute.text.trim().to_ascii_uppercase()
                                    || model.value(v).is_some_and(|value| {
                                        value.descriptions.iter().any(|d| fold(&d.text) == text)
                                    })
                            })
                            .cloned();
                        if feature.values.is_empty() || found.value.is_some() {
                            Some(match &found.value {
                                Some(v) => format!("{why}; value {v}"),
                                None => format!("{why}; text kept (the model lists no values)"),
                            })
                        } else {
                            None
                        }
                    }
                }
            };
            if let Some(reason) = accepted {
                found.reason = reason;
                matches.push(found);
                break;
            }
        }
    }
    matches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_units() {
        assert_eq!(split_header("Leistung [W]"), ("Leistung", Some("W")));
        assert_eq!(split_header("Weight (kg)"), ("Weight", Some("kg")));
        assert_eq!(split_header("Garantie (Jahre)"), ("Garantie (Jahre)", None));
        assert_eq!(unit_symbol("Millimetre"), Some("mm"));
        assert_eq!(parse_number("12,5 W"), Some(12.5));
        assert_eq!(parse_number("1,234.5"), Some(1234.5));
        assert_eq!(parse_number("Ra>89"), Some(89.0));
    }
}
