//! Chunks: per product a few texts that a search or a language model can
//! use on their own, each in one language.
//!
//! | kind          | id                | text                                               |
//! |---------------|-------------------|----------------------------------------------------|
//! | `identity`    | `identity.de/en`  | name, family, series, brand, article number, GTIN, key values with units |
//! | `description` | `description.de/en` | the long description                             |
//! | `technical`   | `technical.1..n`  | every other attribute as `name: value unit`        |
//! | `tender`      | `tender.de/en[.n]`| tender texts (`Ausschreibungstext`, `tender text`) |
//! | `media`       | `media.<sha8>[.n]`| text read from a datasheet or image                |
//!
//! Texts longer than [`MAX_CHUNK_CHARS`] are split at line or sentence
//! boundaries, so a model with a 256-token window sees all of them.

use sha2::{Digest, Sha256};

use crate::read::{Delivery, ProductText};

/// About 256 word-piece tokens of German technical text.
pub const MAX_CHUNK_CHARS: usize = 900;

/// One chunk of one product.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub article_no: String,
    pub chunk_id: String,
    pub kind: &'static str,
    /// `de`, `en` or `und` (undetermined).
    pub language: &'static str,
    pub text: String,
    /// Where the text came from: `products`, attribute names, or the media
    /// file's path in the delivery.
    pub source: String,
    /// sha256 of the text (hex, 32 digits): the embedding of a chunk is
    /// reused as long as this is unchanged.
    pub content_hash: String,
}

impl Chunk {
    pub fn new(
        article_no: &str,
        chunk_id: String,
        kind: &'static str,
        language: &'static str,
        text: String,
        source: String,
    ) -> Chunk {
        let content_hash = content_hash(&text);
        Chunk {
            article_no: article_no.to_owned(),
            chunk_id,
            kind,
            language,
            text,
            source,
            content_hash,
        }
    }

    /// `<article_no>#<chunk_id>`: the key of the chunk's vector.
    pub fn key(&self) -> String {
        format!("{}#{}", self.article_no, self.chunk_id)
    }
}

pub fn content_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Units whose values identify a product at a glance.
const KEY_UNITS: [&str; 6] = ["W", "lm", "K", "°", "V", "mA"];

/// Attribute names that hold tender (long) texts.
fn is_tender(name: &str) -> bool {
    let lower = name.to_lowercase();
    ["ausschreibung", "tender", "langtext", "long text"]
        .iter()
        .any(|marker| lower.contains(marker))
}

/// A language for a text: from a `DE`/`EN` suffix of its attribute name if
/// there is one, else from its words.
fn language_of(name: &str, text: &str) -> &'static str {
    let lower = name.to_lowercase();
    if lower.ends_with(" de") || lower.ends_with("_de") || lower.ends_with("(de)") {
        return "de";
    }
    if lower.ends_with(" en") || lower.ends_with("_en") || lower.ends_with("(en)") {
        return "en";
    }
    guess_language(text)
}

/// German or English by common function words; `und` when neither shows.
pub fn guess_language(text: &str) -> &'static str {
    const DE: [&str; 16] = [
        "der", "die", "das", "und", "mit", "für", "aus", "ein", "eine", "den", "im", "zur", "zum",
        "bei", "nicht", "auf",
    ];
    const EN: [&str; 16] = [
        "the", "and", "with", "for", "of", "a", "an", "in", "to", "on", "by", "is", "not", "from",
        "at", "or",
    ];
    let (mut de, mut en) = (0, 0);
    for word in text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .take(400)
    {
        let word = word.to_lowercase();
        de += usize::from(DE.contains(&word.as_str()));
        en += usize::from(EN.contains(&word.as_str()));
    }
    if text.contains(['ä', 'ö', 'ü', 'ß', 'Ä', 'Ö', 'Ü']) {
        de += 1;
    }
    match de.cmp(&en) {
        std::cmp::Ordering::Greater => "de",
        std::cmp::Ordering::Less => "en",
        std::cmp::Ordering::Equal => "und",
    }
}

/// Splits a text into parts of at most `max` characters, preferring line
/// ends, then sentence ends, then spaces; never inside a character.
pub fn split_text(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > max {
        let limit = rest
            .char_indices()
            .nth(max)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let window = &rest[..limit];
        let cut = window
            .rfind('\n')
            .or_else(|| window.rfind(". ").map(|i| i + 1))
            .or_else(|| window.rfind(' '))
            .filter(|&i| i > limit / 3)
            .unwrap_or(limit);
        parts.push(rest[..cut].trim().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        parts.push(rest.to_owned());
    }
    parts
}

/// The chunks of one product (media chunks come from the media stage).
pub fn product_chunks(delivery: &Delivery, product: &ProductText) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let key = product.article_no.as_str();

    // Key values with units, the first of each unit, and an IP rating.
    let mut key_values: Vec<String> = Vec::new();
    let mut units_seen: Vec<&str> = Vec::new();
    let mut ip_seen = false;
    for attr in &product.attributes {
        let value = product.value(attr);
        if let Some(unit) = delivery.unit(attr)
            && KEY_UNITS.contains(&unit)
            && attr.number.is_some()
            && !units_seen.contains(&unit)
        {
            units_seen.push(unit);
            key_values.push(format!("{}: {value} {unit}", delivery.label(attr)));
        } else if !ip_seen && is_ip_rating(value) {
            ip_seen = true;
            key_values.push(format!("{}: {value}", delivery.label(attr)));
        }
    }
    for (language, name, label) in [
        ("de", &product.name_de, "Artikelnummer"),
        ("en", &product.name_en, "Article number"),
    ] {
        let Some(name) = name else { continue };
        let mut text = name.clone();
        for part in [&product.family, &product.series, &product.brand]
            .into_iter()
            .flatten()
        {
            if !text.contains(part.as_str()) {
                text.push_str(" | ");
                text.push_str(part);
            }
        }
        text.push_str(&format!("\n{label}: {key}"));
        if let Some(gtin) = &product.gtin {
            text.push_str(&format!(", GTIN: {gtin}"));
        }
        for value in &key_values {
            text.push('\n');
            text.push_str(value);
        }
        chunks.push(Chunk::new(
            key,
            format!("identity.{language}"),
            "identity",
            language,
            text,
            "products".into(),
        ));
    }
    // A product without a name in either language still gets an identity.
    if product.name_de.is_none() && product.name_en.is_none() && !key_values.is_empty() {
        let text = format!("{key}\n{}", key_values.join("\n"));
        chunks.push(Chunk::new(
            key,
            "identity.und".into(),
            "identity",
            "und",
            text,
            "products".into(),
        ));
    }

    for (language, description) in [
        ("de", &product.description_de),
        ("en", &product.description_en),
    ] {
        let Some(description) = description else {
            continue;
        };
        push_split(
            &mut chunks,
            key,
            &format!("description.{language}"),
            "description",
            language,
            description,
            "products",
        );
    }

    // Tender texts by language, then every other attribute as a line.
    let title = product
        .name_de
        .as_deref()
        .or(product.name_en.as_deref())
        .unwrap_or(key);
    let mut technical = String::new();
    let mut tender_seen: Vec<&str> = Vec::new();
    let mut tender_count = [0usize; 3];
    for attr in &product.attributes {
        let name = delivery.name(attr);
        let value = product.value(attr);
        if is_tender(name) && value.len() > 60 {
            if tender_seen.contains(&value) {
                continue;
            }
            tender_seen.push(value);
            let language = language_of(name, value);
            let slot = match language {
                "de" => 0,
                "en" => 1,
                _ => 2,
            };
            tender_count[slot] += 1;
            let id = match tender_count[slot] {
                1 => format!("tender.{language}"),
                n => format!("tender.{language}.{n}"),
            };
            push_split(&mut chunks, key, &id, "tender", language, value, name);
            continue;
        }
        let label = delivery.label(attr);
        let line = match delivery.unit(attr) {
            Some(unit) if !value.ends_with(unit) => format!("{label}: {value} {unit}\n"),
            _ => format!("{label}: {value}\n"),
        };
        if !technical.contains(&line) {
            technical.push_str(&line);
        }
    }
    if !technical.is_empty() {
        let budget = MAX_CHUNK_CHARS.saturating_sub(title.chars().count() + 4);
        for (i, part) in split_text(&technical, budget).into_iter().enumerate() {
            chunks.push(Chunk::new(
                key,
                format!("technical.{}", i + 1),
                "technical",
                guess_technical_language(&part),
                format!("{title} ({key})\n{part}"),
                "attributes".into(),
            ));
        }
    }
    chunks
}

/// Attribute tables are mostly headers and values; the headers decide.
fn guess_technical_language(text: &str) -> &'static str {
    match guess_language(text) {
        "und" => "de",
        other => other,
    }
}

fn is_ip_rating(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 4 && value.starts_with("IP") && bytes[2..].iter().all(u8::is_ascii_digit)
}

fn push_split(
    chunks: &mut Vec<Chunk>,
    key: &str,
    id: &str,
    kind: &'static str,
    language: &'static str,
    text: &str,
    source: &str,
) {
    let parts = split_text(text, MAX_CHUNK_CHARS);
    let many = parts.len() > 1;
    for (i, part) in parts.into_iter().enumerate() {
        let chunk_id = if many {
            format!("{id}.{}", i + 1)
        } else {
            id.to_owned()
        };
        chunks.push(Chunk::new(
            key,
            chunk_id,
            kind,
            language,
            part,
            source.to_owned(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::AttrRef;

    fn delivery_with(attrs: &[(&str, &str, Option<&str>, Option<f64>)]) -> (Delivery, ProductText) {
        let mut delivery = Delivery {
            units: vec![String::new()],
            ..Delivery::default()
        };
        let mut product = ProductText {
            article_no: "LW-100001".into(),
            gtin: Some("4061230000013".into()),
            name_de: Some("Downlight AERO 12,5 W 3000 K weiß".into()),
            name_en: Some("Downlight AERO 12.5 W 3000 K white".into()),
            family: Some("Downlights".into()),
            series: Some("AERO".into()),
            brand: Some("Luxwerk".into()),
            ..ProductText::default()
        };
        for (name, value, unit, number) in attrs {
            delivery.names.push((*name).into());
            let unit = match unit {
                Some(u) => {
                    delivery.units.push((*u).into());
                    delivery.units.len() as u32 - 1
                }
                None => 0,
            };
            let start = product.values.len() as u32;
            product.values.push_str(value);
            product.attributes.push(AttrRef {
                name: delivery.names.len() as u32 - 1,
                unit,
                start,
                len: value.len() as u32,
                number: *number,
            });
        }
        (delivery, product)
    }

    #[test]
    fn etim_feature_codes_are_named_in_texts() {
        let (mut delivery, product) = delivery_with(&[
            ("EF000280", "32", Some("W"), Some(32.0)),
            ("EF999999", "7", None, Some(7.0)),
            ("Lichtstrom", "3040", Some("lm"), Some(3040.0)),
        ]);
        delivery.label_etim_features(&cradle_classify::EtimModel::builtin());
        let chunks = product_chunks(&delivery, &product);
        let identity = &chunks[0].text;
        assert!(
            identity.contains("Lampenleistung (EF000280): 32 W"),
            "{identity}"
        );
        let technical = &chunks.last().unwrap().text;
        // A code the model does not know stays as delivered.
        assert!(technical.contains("EF999999: 7\n"), "{technical}");
        assert!(technical.contains("Lichtstrom: 3040 lm"), "{technical}");
        // The attribute keeps its delivered name for everything else.
        assert_eq!(delivery.name(&product.attributes[0]), "EF000280");
    }

    #[test]
    fn identity_technical_and_tender_chunks() {
        let tender = "LED-Downlight der Serie AERO aus Aluminium-Druckguss, für den Einbau in Decken, mit DALI-2 dimmbar.";
        let tender_en = "LED downlight of the AERO series made of die-cast aluminium, for recessed mounting in ceilings.";
        let (delivery, product) = delivery_with(&[
            ("Leistung", "12,5", Some("W"), Some(12.5)),
            ("Lichtstrom", "1200", Some("lm"), Some(1200.0)),
            ("Schutzart", "IP44", None, None),
            ("Ausschreibungstext", tender, None, None),
            ("Tender text EN", tender_en, None, None),
            ("Ausschreibungstext DE", tender, None, None),
            ("Material", "Aluminium-Druckguss", None, None),
        ]);
        let chunks = product_chunks(&delivery, &product);
        let ids: Vec<&str> = chunks.iter().map(|c| c.chunk_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "identity.de",
                "identity.en",
                "tender.de",
                "tender.en",
                "technical.1"
            ]
        );
        let identity = &chunks[0];
        assert!(
            identity.text.contains("Artikelnummer: LW-100001"),
            "{}",
            identity.text
        );
        assert!(identity.text.contains("Leistung: 12,5 W"));
        assert!(identity.text.contains("Lichtstrom: 1200 lm"));
        assert!(identity.text.contains("Schutzart: IP44"));
        assert_eq!(chunks[3].language, "en");
        let technical = &chunks[4];
        assert!(
            technical
                .text
                .starts_with("Downlight AERO 12,5 W 3000 K weiß (LW-100001)\n")
        );
        assert!(technical.text.contains("Material: Aluminium-Druckguss"));
        assert!(
            !technical.text.contains("Serie AERO aus"),
            "tender text is not repeated"
        );
        assert_eq!(identity.content_hash, content_hash(&identity.text));
        assert_eq!(identity.key(), "LW-100001#identity.de");
    }

    #[test]
    fn long_texts_are_split_on_boundaries_and_nothing_is_lost() {
        let text: String = (0..200)
            .map(|i| format!("Zeile {i}: Wert äöü {i}\n"))
            .collect();
        let parts = split_text(&text, 300);
        assert!(parts.len() > 5);
        for part in &parts {
            assert!(part.chars().count() <= 300);
            assert!(part.ends_with(|c: char| c.is_ascii_digit()), "{part:?}");
        }
        let rejoined: String = parts.join("\n");
        assert_eq!(rejoined, text.trim());
        // No boundary at all: hard cut at the limit, on a char boundary.
        let word = "ä".repeat(1000);
        let parts = split_text(&word, 300);
        assert_eq!(parts.len(), 4);
        assert_eq!(parts.concat(), word);
    }

    #[test]
    fn languages() {
        assert_eq!(
            guess_language("LED-Downlight aus Aluminium für die Decke"),
            "de"
        );
        assert_eq!(
            guess_language("LED downlight made of aluminium for the ceiling"),
            "en"
        );
        assert_eq!(guess_language("IP44 3000 K"), "und");
        assert_eq!(language_of("Tender text EN", "Downlight"), "en");
    }
}
