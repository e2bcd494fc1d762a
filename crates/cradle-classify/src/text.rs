//! Text matching for German and English product texts: folding (case,
//! umlauts), tokens, a light stemmer (plural and inflection endings), and
//! class names found as whole words, phrases or heads of compounds
//! ("Einbaudownlight" ends in "downlight", "LED-Pendelleuchte" holds
//! "Pendelleuchte").

use crate::model::EtimClass;

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

/// Where `term` occurs in `words`: the word position and how.
pub(crate) fn find(term: &Term, words: &[String]) -> Option<(usize, Found)> {
    let n = term.words.len();
    if n <= words.len()
        && let Some(at) = (0..=words.len() - n).find(|&i| words[i..i + n] == term.words[..])
    {
        return Some((at, Found::Words));
    }
    // Compound heads: only single words long enough not to hide in others.
    if n == 1 {
        let head = &term.words[0];
        if head.chars().count() >= 5 {
            for (at, word) in words.iter().enumerate() {
                if word.len() >= head.len() + 3 && word.ends_with(head.as_str()) {
                    return Some((at, Found::Compound));
                }
            }
        }
    }
    None
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

    fn term(text: &str) -> Term {
        Term {
            class: 0,
            words: tokens(text),
            weight: 1.0,
        }
    }

    #[test]
    fn words_phrases_and_compounds() {
        let words = tokens("Einbaudownlight AERO 120 weiß");
        assert_eq!(find(&term("Downlight"), &words), Some((0, Found::Compound)));
        let words = tokens("Flexible LED strips, 5 m");
        assert_eq!(find(&term("LED strip"), &words), Some((1, Found::Words)));
        // "Spot" is too short to be found inside other words.
        assert_eq!(find(&term("Spot"), &tokens("Hotspot")), None);
        // No match across a word that merely starts with the term.
        assert_eq!(find(&term("Pendel"), &tokens("Pendelleuchte")), None);
    }
}
