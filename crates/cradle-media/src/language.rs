//! German or English, guessed from the words of a text: enough to pick the
//! analyser and the chunk language, not a general language detector.

/// Frequent function words and the catalogue's own vocabulary.
const GERMAN: &[&str] = &[
    "der",
    "die",
    "das",
    "und",
    "mit",
    "für",
    "fur",
    "ist",
    "nicht",
    "ein",
    "eine",
    "einer",
    "von",
    "zu",
    "im",
    "auf",
    "bei",
    "oder",
    "aus",
    "nach",
    "den",
    "dem",
    "des",
    "wird",
    "sind",
    "leistung",
    "lichtstrom",
    "farbtemperatur",
    "schutzart",
    "artikelnummer",
    "leuchte",
    "datenblatt",
    "gewicht",
    "farbe",
    "abmessungen",
    "lichtfarbe",
    "weiß",
    "weiss",
    "schwarz",
    "gehäuse",
    "betriebsgerät",
    "dimmbar",
    "montage",
    "technische",
    "daten",
    "bezeichnung",
];
const ENGLISH: &[&str] = &[
    "the",
    "and",
    "with",
    "for",
    "is",
    "not",
    "a",
    "an",
    "of",
    "to",
    "in",
    "on",
    "at",
    "or",
    "from",
    "by",
    "are",
    "be",
    "this",
    "that",
    "power",
    "luminous",
    "flux",
    "colour",
    "color",
    "temperature",
    "rating",
    "article",
    "number",
    "luminaire",
    "datasheet",
    "weight",
    "white",
    "black",
    "dimensions",
    "housing",
    "driver",
    "dimmable",
    "mounting",
    "technical",
    "data",
];

/// `de` or `en` when the text says so clearly (at least two telling words,
/// and a third more of one language than of the other); else `None`.
pub fn guess_language(text: &str) -> Option<&'static str> {
    let mut german = 0usize;
    let mut english = 0usize;
    for word in text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .take(20_000)
    {
        let word = word.to_lowercase();
        if word.contains(['ä', 'ö', 'ü', 'ß']) {
            german += 1;
        }
        if GERMAN.contains(&word.as_str()) {
            german += 1;
        }
        if ENGLISH.contains(&word.as_str()) {
            english += 1;
        }
    }
    let clear = |winner: usize, other: usize| winner >= 2 && winner * 3 > other * 4;
    if clear(german, english) {
        Some("de")
    } else if clear(english, german) {
        Some("en")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_cases() {
        assert_eq!(
            guess_language("Die Leuchte ist mit einem dimmbaren Betriebsgerät ausgestattet."),
            Some("de")
        );
        assert_eq!(
            guess_language("Luminous flux: 1200 lm. The housing is made of aluminium."),
            Some("en")
        );
        assert_eq!(
            guess_language("Lichtstrom 1.200 lm, Schutzart IP44"),
            Some("de")
        );
    }

    #[test]
    fn unclear_cases() {
        assert_eq!(guess_language(""), None);
        assert_eq!(guess_language("LW-100123 4061230001234"), None);
        assert_eq!(guess_language("Leistung / Power"), None);
    }
}
