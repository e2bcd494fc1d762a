//! Canonical product fields and the header synonyms that name them.
//!
//! A delivery names the same thing in many ways (`Artikelnummer`, `Art.-Nr.`,
//! `ArtNr`, `article_no`). Headers are compared after [`normalize_header`],
//! so only the spelling of letters and digits matters, and a unit in brackets
//! (`Leistung [W]`) is ignored.

use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// The typed columns of the `products` table besides the article number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CanonicalField {
    ArticleNo,
    Gtin,
    ManufacturerNo,
    NameDe,
    NameEn,
    DescriptionDe,
    DescriptionEn,
    Family,
    Series,
    Brand,
    EtimClass,
    Price,
    Currency,
    PriceEur,
    PriceChf,
}

/// What kind of value a canonical field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
}

impl CanonicalField {
    pub const ALL: [CanonicalField; 15] = [
        CanonicalField::ArticleNo,
        CanonicalField::Gtin,
        CanonicalField::ManufacturerNo,
        CanonicalField::NameDe,
        CanonicalField::NameEn,
        CanonicalField::DescriptionDe,
        CanonicalField::DescriptionEn,
        CanonicalField::Family,
        CanonicalField::Series,
        CanonicalField::Brand,
        CanonicalField::EtimClass,
        CanonicalField::Price,
        CanonicalField::Currency,
        CanonicalField::PriceEur,
        CanonicalField::PriceChf,
    ];

    /// The column name in the `products` table.
    pub fn column(self) -> &'static str {
        match self {
            CanonicalField::ArticleNo => "article_no",
            CanonicalField::Gtin => "gtin",
            CanonicalField::ManufacturerNo => "manufacturer_no",
            CanonicalField::NameDe => "name_de",
            CanonicalField::NameEn => "name_en",
            CanonicalField::DescriptionDe => "description_de",
            CanonicalField::DescriptionEn => "description_en",
            CanonicalField::Family => "family",
            CanonicalField::Series => "series",
            CanonicalField::Brand => "brand",
            CanonicalField::EtimClass => "etim_class",
            CanonicalField::Price => "price",
            CanonicalField::Currency => "currency",
            CanonicalField::PriceEur => "price_eur",
            CanonicalField::PriceChf => "price_chf",
        }
    }

    pub fn from_column(name: &str) -> Option<CanonicalField> {
        CanonicalField::ALL.into_iter().find(|f| f.column() == name)
    }

    pub fn kind(self) -> FieldKind {
        match self {
            CanonicalField::Price | CanonicalField::PriceEur | CanonicalField::PriceChf => {
                FieldKind::Number
            }
            _ => FieldKind::Text,
        }
    }

    /// Header spellings seen in ERP and PIM exports, German and English.
    /// Compared after [`normalize_header`].
    pub fn synonyms(self) -> &'static [&'static str] {
        match self {
            CanonicalField::ArticleNo => &[
                "Artikelnummer",
                "Artikel-Nr.",
                "Art.-Nr.",
                "ArtNr",
                "Art.Nr.",
                "article_no",
                "Article No.",
                "Article number",
                "Item No.",
                "item_number",
                "SKU",
                "Materialnummer",
                "SUPPLIER_PID",
            ],
            CanonicalField::Gtin => &["GTIN", "EAN", "EAN-Code", "GTIN-13", "EAN13", "Barcode"],
            CanonicalField::ManufacturerNo => &[
                "Herstellernummer",
                "Hersteller-Nr.",
                "Hersteller-Artikelnummer",
                "manufacturer_no",
                "Manufacturer part number",
                "MANUFACTURER_PID",
                "MPN",
            ],
            CanonicalField::NameDe => &[
                "Bezeichnung",
                "Artikelbezeichnung",
                "Kurztext",
                "Produktname",
                "Bezeichnung DE",
                "Name DE",
                "Kurzbeschreibung",
            ],
            CanonicalField::NameEn => &[
                "Name",
                "Product name",
                "Description short",
                "name_en",
                "Bezeichnung EN",
                "Name EN",
                "Short description",
                "DESCRIPTION_SHORT",
            ],
            CanonicalField::DescriptionDe => &[
                "Beschreibung",
                "Langtext",
                "Beschreibung DE",
                "Langtext DE",
                "Produktbeschreibung",
            ],
            CanonicalField::DescriptionEn => &[
                "Description",
                "Long description",
                "description_en",
                "Beschreibung EN",
                "Langtext EN",
                "DESCRIPTION_LONG",
            ],
            CanonicalField::Family => &[
                "Familie",
                "Produktfamilie",
                "Family",
                "Product family",
                "Warengruppe",
                "product_family",
            ],
            CanonicalField::Series => &["Serie", "Series", "Produktserie", "Baureihe", "Linie"],
            CanonicalField::Brand => &["Marke", "Brand", "Hersteller", "Manufacturer", "Fabrikat"],
            CanonicalField::EtimClass => &[
                "ETIM-Klasse",
                "ETIM Klasse",
                "ETIM class",
                "ETIM-Class",
                "ETIM",
                "EtimClassCode",
                "ETIM_CLASS",
                "Klasse",
            ],
            CanonicalField::Price => &[
                "Preis",
                "Listenpreis",
                "Price",
                "List price",
                "Bruttopreis",
                "Nettopreis",
            ],
            CanonicalField::Currency => &["Währung", "Currency", "Waehrung", "Whg."],
            CanonicalField::PriceEur => &["Preis EUR", "Listenpreis EUR", "Price EUR", "EUR"],
            CanonicalField::PriceChf => &["Preis CHF", "Listenpreis CHF", "Price CHF", "CHF"],
        }
    }

    /// The field a header names, if it is one of the synonyms.
    pub fn from_header(header: &str) -> Option<CanonicalField> {
        // Normalised once: header detection asks this for every field of
        // the first records under every candidate delimiter.
        static NORMALIZED: LazyLock<Vec<(String, CanonicalField)>> = LazyLock::new(|| {
            CanonicalField::ALL
                .into_iter()
                .flat_map(|field| {
                    field
                        .synonyms()
                        .iter()
                        .map(move |synonym| (normalize_header(synonym), field))
                })
                .collect()
        });
        if header.len() > 64 {
            return None;
        }
        let wanted = normalize_header(header);
        if wanted.is_empty() {
            return None;
        }
        NORMALIZED
            .iter()
            .find(|(synonym, _)| *synonym == wanted)
            .map(|(_, field)| *field)
    }
}

/// Lower-case letters and digits only, umlauts folded, a trailing unit in
/// brackets removed: `Leistung [W]` and `leistung` compare equal.
pub fn normalize_header(header: &str) -> String {
    let without_unit = strip_header_unit(header).0;
    let mut out = String::with_capacity(without_unit.len());
    for ch in without_unit.chars() {
        match ch {
            'ä' | 'Ä' => out.push_str("ae"),
            'ö' | 'Ö' => out.push_str("oe"),
            'ü' | 'Ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

/// Splits `Leistung [W]` or `Lichtstrom (lm)` into the name and the unit.
pub fn strip_header_unit(header: &str) -> (&str, Option<&str>) {
    let trimmed = header.trim();
    for (open, close) in [('[', ']'), ('(', ')')] {
        if trimmed.ends_with(close)
            && let Some(start) = trimmed.rfind(open)
        {
            let unit = trimmed[start + 1..trimmed.len() - 1].trim();
            let name = trimmed[..start].trim_end();
            if !unit.is_empty() && !name.is_empty() && unit.len() <= 12 {
                return (name, Some(unit));
            }
        }
    }
    (trimmed, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(header: &str, expected: Option<CanonicalField>) {
        assert_eq!(CanonicalField::from_header(header), expected, "{header}");
    }

    #[test]
    fn article_number_spellings() {
        for header in [
            "Artikelnummer",
            "Art.-Nr.",
            "ArtNr",
            "article_no",
            " ART.-NR. ",
        ] {
            check(header, Some(CanonicalField::ArticleNo));
        }
        check("Ziel-ArtNr", None);
        check("Zubehör-Artikelnummer", None);
    }

    #[test]
    fn units_are_split_from_headers() {
        assert_eq!(strip_header_unit("Leistung [W]"), ("Leistung", Some("W")));
        assert_eq!(
            strip_header_unit("Lichtstrom (lm)"),
            ("Lichtstrom", Some("lm"))
        );
        assert_eq!(strip_header_unit("Preis"), ("Preis", None));
        check("Preis EUR", Some(CanonicalField::PriceEur));
        check("Währung", Some(CanonicalField::Currency));
    }
}
