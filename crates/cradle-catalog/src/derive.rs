//! What the catalog derives from attribute rows while loading them: ETIM
//! features, relations between products and media references. Simple,
//! documented rules on the header and attribute names and the values; no
//! configuration.
//!
//! - **Features**: an attribute named like an ETIM feature code
//!   (`EF` and six digits, e.g. `EF009346`).
//! - **Relations**: an attribute whose header or name mentions an accessory
//!   (`Zubehör`, `accessory`), a successor (`Nachfolger`, `successor`) or a
//!   generic target (`Ziel`, `target`), and whose value, or a token of it
//!   split at `,`, `;`, `|` or white space, is the article number of a
//!   product in the delivery. A generic target takes its kind from a
//!   sibling cell of the same record whose header mentions the relation
//!   (`Beziehung`, `relation`, e.g. `relation_type: Zubehör`); without one
//!   it is `related`.
//! - **Media**: a value that names an image (`.jpg`, `.jpeg`, `.png`,
//!   `.gif`, `.webp`, `.svg`, `.tif`, `.tiff`, `.bmp`) or a PDF, or is an
//!   `http(s)://` link (kind `link` when it is neither).

use cradle_core::media::MediaType;

/// How an attribute (by header and name) takes part in derivations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Values are article numbers of related products of this kind (`None`:
    /// the kind is in a sibling cell of the record, else `related`).
    RelationTarget(Option<Relation>),
    /// Values name the kind of relation of the record's target cell.
    RelationType,
    /// Nothing special (may still be media or a feature).
    Plain,
}

/// A kind of relation between two products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Relation {
    Accessory,
    Successor,
    Related,
}

impl Relation {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Relation::Accessory => "accessory",
            Relation::Successor => "successor",
            Relation::Related => "related",
        }
    }

    /// The kind named by a free text such as a relation-type cell.
    pub(crate) fn from_text(text: &str) -> Option<Relation> {
        let text = text.to_lowercase();
        if ["zubehör", "zubehoer", "accessor"]
            .iter()
            .any(|k| text.contains(k))
        {
            Some(Relation::Accessory)
        } else if ["nachfolger", "successor", "ersatz", "replacement"]
            .iter()
            .any(|k| text.contains(k))
        {
            Some(Relation::Successor)
        } else {
            None
        }
    }
}

/// The role of an attribute, from its header and (normalized) name.
pub(crate) fn role(attribute: &str, header: &str) -> Role {
    let text = format!("{header} {attribute}").to_lowercase();
    if let Some(kind) = Relation::from_text(&text) {
        return Role::RelationTarget(Some(kind));
    }
    if text.contains("ziel") || text.contains("target") {
        return Role::RelationTarget(None);
    }
    if text.contains("beziehung") || text.contains("relation") {
        return Role::RelationType;
    }
    Role::Plain
}

/// Whether an attribute name is an ETIM feature code (`^EF\d{6}$`).
pub fn is_feature(attribute: &str) -> bool {
    let bytes = attribute.as_bytes();
    bytes.len() == 8 && bytes.starts_with(b"EF") && bytes[2..].iter().all(u8::is_ascii_digit)
}

/// The SQL condition equivalent to [`is_feature`] on `attributes.attribute`.
pub(crate) const FEATURE_CONDITION: &str = "attribute GLOB 'EF[0-9][0-9][0-9][0-9][0-9][0-9]'";

/// The media kind of a value (`image`, `pdf`, `link`), if it names one.
pub fn media_kind(value: &str) -> Option<&'static str> {
    let value = value.trim();
    if value.is_empty() || value.len() > 1000 || value.contains('\n') {
        return None;
    }
    let link = ["http://", "https://"].iter().any(|scheme| {
        value
            .get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
    });
    match MediaType::from_name(value) {
        Some(media) if media != MediaType::Document => Some(media.family()),
        _ if link => Some("link"),
        _ => None,
    }
}

/// The article numbers a relation value names, given a test for existing
/// products: the whole value, or else each token.
pub(crate) fn relation_targets(value: &str, exists: impl Fn(&str) -> bool) -> Vec<&str> {
    let value = value.trim();
    if value.is_empty() {
        return Vec::new();
    }
    if exists(value) {
        return vec![value];
    }
    value
        .split(|c: char| c == ',' || c == ';' || c == '|' || c.is_whitespace())
        .map(str::trim)
        .filter(|token| !token.is_empty() && exists(token))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features() {
        assert!(is_feature("EF009346"));
        assert!(!is_feature("EF00934"));
        assert!(!is_feature("EF0093467"));
        assert!(!is_feature("ef009346"));
        assert!(!is_feature("EC001744"));
        assert!(!is_feature("EF00934x"));
    }

    #[test]
    fn roles() {
        let check = |attribute: &str, header: &str, expected: Role| {
            assert_eq!(
                role(attribute, header),
                expected,
                "{header:?} / {attribute:?}"
            );
        };
        check(
            "nachfolger_artikelnummer",
            "Nachfolger-Artikelnummer",
            Role::RelationTarget(Some(Relation::Successor)),
        );
        check(
            "zubehoer",
            "Zubehör",
            Role::RelationTarget(Some(Relation::Accessory)),
        );
        check(
            "accessory_article",
            "Accessory article",
            Role::RelationTarget(Some(Relation::Accessory)),
        );
        check("ziel_artnr", "Ziel-ArtNr", Role::RelationTarget(None));
        check(
            "target_article_no",
            "target_article_no",
            Role::RelationTarget(None),
        );
        check("beziehung", "Beziehung", Role::RelationType);
        check("relation_type", "relation_type", Role::RelationType);
        check("leistung", "Leistung (W)", Role::Plain);
    }

    #[test]
    fn relation_kinds_from_text() {
        assert_eq!(
            Relation::from_text("Zubehör (optional)"),
            Some(Relation::Accessory)
        );
        assert_eq!(
            Relation::from_text("Ersatzartikel"),
            Some(Relation::Successor)
        );
        assert_eq!(Relation::from_text("successor"), Some(Relation::Successor));
        assert_eq!(Relation::from_text("Variante"), None);
    }

    #[test]
    fn media() {
        let check = |value: &str, expected: Option<&str>| {
            assert_eq!(media_kind(value), expected, "{value:?}");
        };
        check("LW-100234_01.jpg", Some("image"));
        check("milieu_ronda_3.JPEG", Some("image"));
        check("https://lwx.example/db/LW-100234.pdf", Some("pdf"));
        check("MA_Ronda.pdf", Some("pdf"));
        check("https://lwx.example/img/a.png?size=large", Some("image"));
        check("http://lwx.example/produkt/LW-100234", Some("link"));
        check("LW-100234.ldt", None);
        check(".jpg", None);
        check("Einbauleuchte LED 12 W", None);
        check("", None);
    }

    #[test]
    fn targets() {
        let products = ["LW-100234", "LW-1002", "SL 200"];
        let exists = |a: &str| products.contains(&a);
        assert_eq!(relation_targets(" LW-100234 ", exists), ["LW-100234"]);
        assert_eq!(relation_targets("SL 200", exists), ["SL 200"]);
        assert_eq!(
            relation_targets("LW-100234; LW-1002, XX-1", exists),
            ["LW-100234", "LW-1002"]
        );
        assert!(relation_targets("kein Nachfolger", exists).is_empty());
    }
}
