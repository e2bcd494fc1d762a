//! Text matching for German and English product texts: folding (case,
//! umlauts), tokens, a light stemmer (plural and inflection endings), and
//! class names found as whole words, phrases or heads of compounds
//! ("Einbaudownlight" ends in "downlight", "LED-Pendelleuchte" holds
//! "Pendelleuchte").

use crate::model::EtimClass;
use std::collections::HashMap;

/// Lower case, umlauts and ß spelled out, common accents dropped.
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            'ä' | 'Ä' => out.push_str("ae"),
            'ö' | 'Ö' => out.push_str("oe"),
            'ü' | 'Ü' => out.push_str("ue"),
            'ß' | 'ẞ' => out.push_str("ss"),
            'à' | 'á' | 'â' | 'À' | 'Á' | 'Â' => out.push('a'),
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ò' | 'ó' | 'ô' => out.push('o'),
            'ù' | 'ú' | 'û' => out.push('u'),
            'ç' => out.push('c'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Strips one inflection ending so that singular and plural, German and
/// English, meet: Leuchte/Leuchten → leucht, luminaire/luminaires →
/// luminair, spots → spot. Short words are left alone.
pub(crate) fn stem(word: &str) -> std::borrow::Cow<'_, str> {
    // English plurals in -ies: accessories → accessory.
    if let Some(base) = word.strip_suffix("ies")
        && base.chars().count() >= 4
    {
        return format!("{base}y").into();
    }
    for suffix in ["en", "es", "e", "n", "s"] {
        if let Some(base) = word.strip_suffix(suffix)
            && base.chars().count() >= 4
        {
            return base.into();
        }
    }
    word.into()
}

/// Folded, stemmed words of a text; anything but letters and digits
/// separates words.
pub(crate) fn tokens(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| stem(w).into_owned())
        .collect()
}

/// How a term was found in a text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Found {
    /// The whole words of the term, in order.
    Words,
    /// The term is the head (end) of a compound word.
    Compound,
}

/// A class name or synonym prepared for matching.
#[derive(Debug, Clone)]
pub(crate) struct Term {
    pub class: usize,
    pub words: Vec<String>,
    /// Class descriptions count a little more than synonyms.
    pub weight: f32,
}

/// Every description part and synonym of every class. A description such as
/// "Downlight/spot/floodlight" gives one term per part; the shared endings of
/// "Decken-/Wandleuchte" are left to the synonyms, which spell words out.
pub(crate) fn terms(classes: &[EtimClass]) -> Vec<Term> {
    let mut terms = Vec::new();
    for (index, class) in classes.iter().enumerate() {
        let mut push = |text: &str, weight: f32| {
            let words = tokens(text);
            if words.is_empty() || (words.len() == 1 && words[0].chars().count() < 3) {
                return;
            }
            if terms
                .iter()
                .any(|t: &Term| t.class == index && t.words == words)
            {
                return;
            }
            terms.push(Term {
                class: index,
                words,
                weight,
            });
        };
        for description in &class.descriptions {
            push(&description.text, 1.0);
            if description.text.contains('/') {
                for part in description.text.split('/') {
                    push(
                        part.trim_matches(|c: char| c == '-' || c.is_whitespace()),
                        1.0,
                    );
                }
            }
        }
        for synonym in &class.synonyms {
            push(&synonym.text, 0.9);
        }
    }
    terms
}

/// Terms by their first word (phrases) and by their word (compound heads),
/// so that a text is matched in time proportional to its length, not to the
/// size of the model (the full ETIM release has 5,000 classes and 37,000
/// synonyms).
#[derive(Debug, Clone, Default)]
pub(crate) struct TermIndex {
    by_first: HashMap<String, Vec<usize>>,
    heads: HashMap<String, Vec<usize>>,
}

/// Compound heads are single words long enough not to hide in others.
const MIN_HEAD: usize = 5;
/// A compound has at least this many bytes before its head.
const MIN_MODIFIER: usize = 3;

pub(crate) fn index(terms: &[Term]) -> TermIndex {
    let mut index = TermIndex::default();
    for (i, term) in terms.iter().enumerate() {
        index
            .by_first
            .entry(term.words[0].clone())
            .or_default()
            .push(i);
        if term.words.len() == 1 && term.words[0].chars().count() >= MIN_HEAD {
            index
                .heads
                .entry(term.words[0].clone())
                .or_default()
                .push(i);
        }
    }
    index
}

/// Every term found in `words`, once, at its first position: as whole
/// words where it occurs so, else as the head of a compound.
pub(crate) fn matches(
    terms: &[Term],
    index: &TermIndex,
    words: &[String],
) -> Vec<(usize, usize, Found)> {
    let mut found: Vec<(usize, usize, Found)> = Vec::new();
    for (at, word) in words.iter().enumerate() {
        for &t in index.by_first.get(word).into_iter().flatten() {
            if words[at..].starts_with(&terms[t].words) && !found.iter().any(|f| f.0 == t) {
                found.push((t, at, Found::Words));
            }
        }
    }
    for (at, word) in words.iter().enumerate() {
        for (start, _) in word.char_indices().filter(|(i, _)| *i >= MIN_MODIFIER) {
            for &t in index.heads.get(&word[start..]).into_iter().flatten() {
                if !found.iter().any(|f| f.0 == t) {
                    found.push((t, at, Found::Compound));
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_and_stemming() {
        assert_eq!(tokens("LED-Pendelleuchten"), ["led", "pendelleucht"]);
        assert_eq!(tokens("Pendant luminaires"), ["pendant", "luminair"]);
        assert_eq!(tokens("Straßenleuchte"), ["strassenleucht"]);
        assert_eq!(tokens("Zubehör"), ["zubehoer"]);
        assert_eq!(tokens("Spots"), ["spot"]);
        assert_eq!(tokens("Spot"), ["spot"]);
        assert_eq!(tokens("Accessories"), tokens("Accessory"));
    }

    /// Where `text` (a single term) is found in `words`.
    fn find(text: &str, words: &str) -> Option<(usize, Found)> {
        let terms = vec![Term {
            class: 0,
            words: tokens(text),
            weight: 1.0,
        }];
        let index = index(&terms);
        matches(&terms, &index, &tokens(words))
            .first()
            .map(|(_, at, how)| (*at, *how))
    }

    #[test]
    fn words_phrases_and_compounds() {
        assert_eq!(
            find("Downlight", "Einbaudownlight AERO 120 weiß"),
            Some((0, Found::Compound))
        );
        assert_eq!(
            find("LED strip", "Flexible LED strips, 5 m"),
            Some((1, Found::Words))
        );
        // Whole words win over an earlier compound.
        assert_eq!(
            find("Strahler", "Bodenstrahler und Strahler"),
            Some((2, Found::Words))
        );
        // "Spot" is too short to be found inside other words.
        assert_eq!(find("Spot", "Hotspot"), None);
        // No match across a word that merely starts with the term.
        assert_eq!(find("Pendel", "Pendelleuchte"), None);
        assert_eq!(find("Leuchte", "Pendelleuchte"), Some((0, Found::Compound)));
    }
}
