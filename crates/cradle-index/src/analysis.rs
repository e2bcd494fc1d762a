//! Text analysis: the tokenizer chains the index registers under fixed
//! names, and the normalisations of article numbers, attribute names and
//! units that the builder and the query side must apply identically.
//!
//! German folding writes umlauts as their two-letter forms (`ä` → `ae`,
//! `ß` → `ss`) rather than dropping the dots: deliveries spell the same
//! word both ways ("Lüfter" and "Luefter", "Straßenleuchte" and
//! "Strassenleuchte"), and only the two-letter form makes both spellings
//! one term. The folding runs before the Snowball stemmer, on the index and
//! the query side alike, so the stems agree.

use std::mem;

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer,
    Stemmer, StopWordFilter, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
    TokenizerManager,
};

/// German text: lowercase, stop words, umlaut folding, Snowball stemming.
pub(crate) const GERMAN: &str = "cradle_de";
/// English text: lowercase, stop words, folding, Snowball stemming.
pub(crate) const ENGLISH: &str = "cradle_en";
/// Character n-grams of every word, for parts of compound words.
pub(crate) const NGRAM: &str = "cradle_ngram";
/// A whole value as one lowercased, folded term (attribute equality).
pub(crate) const KEYWORD: &str = "cradle_keyword";

/// Shortest and longest n-gram indexed per word.
pub(crate) const NGRAM_MIN: usize = 3;
pub(crate) const NGRAM_MAX: usize = 5;

/// Tokens longer than this (in bytes) are dropped: they are hashes, URLs
/// or glued-together garbage, never words a person searches for.
const LONGEST_TOKEN: usize = 60;

/// Registers the analyzers under their names; done on build and on open
/// (tokenizers are code, not part of the index files).
pub(crate) fn register(manager: &TokenizerManager) {
    manager.register(GERMAN, german());
    manager.register(ENGLISH, english());
    manager.register(NGRAM, ngram());
    manager.register(KEYWORD, keyword());
}

pub(crate) fn german() -> TextAnalyzer {
    let stop_words = StopWordFilter::new(Language::German).expect("German stop words are built in");
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(LONGEST_TOKEN))
        .filter(LowerCaser)
        .filter(stop_words)
        .filter(UmlautFolding)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::German))
        .build()
}

pub(crate) fn english() -> TextAnalyzer {
    let stop_words =
        StopWordFilter::new(Language::English).expect("English stop words are built in");
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(LONGEST_TOKEN))
        .filter(LowerCaser)
        .filter(stop_words)
        .filter(UmlautFolding)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Words, lowercased and folded, not stemmed: the base of the n-grams.
pub(crate) fn plain() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(LONGEST_TOKEN))
        .filter(LowerCaser)
        .filter(UmlautFolding)
        .filter(AsciiFoldingFilter)
        .build()
}

pub(crate) fn ngram() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(LONGEST_TOKEN))
        .filter(LowerCaser)
        .filter(UmlautFolding)
        .filter(AsciiFoldingFilter)
        .filter(WordNgrams)
        .build()
}

pub(crate) fn keyword() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .filter(UmlautFolding)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The terms `analyzer` makes of `text`, in order.
pub(crate) fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// The n-grams a query word must all hit to match a word containing it:
/// its n-grams of the longest indexed length (fewer, more selective terms
/// than all lengths), or the word itself if it is no longer than that.
/// Words shorter than [`NGRAM_MIN`] have none.
pub(crate) fn query_ngrams(plain_word: &str) -> Vec<String> {
    let chars: Vec<char> = plain_word.chars().collect();
    if chars.len() < NGRAM_MIN {
        return Vec::new();
    }
    if chars.len() <= NGRAM_MAX {
        return vec![plain_word.to_owned()];
    }
    let mut grams: Vec<String> = chars
        .windows(NGRAM_MAX)
        .map(|w| w.iter().collect())
        .collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// Article numbers and manufacturer numbers as matched: lowercase,
/// alphanumeric characters only ("LW-100 234/B" → "lw100234b"), so that
/// the separators people type or leave out do not matter.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A whole name as matched exactly: its lowercase alphanumeric words
/// joined by one space, umlauts and ß spelled out ("Wand-/Deckenleuchte
/// CUBO 5 W weiß" → "wand deckenleuchte cubo 5 w weiss"), so case,
/// punctuation, spacing and a keyboard without umlauts do not matter. `None` when nothing is left or the name is longer than anyone
/// types (a term has a size limit, and such a key would only bloat the
/// term dictionary).
pub fn normalize_name(name: &str) -> Option<String> {
    let mut key = String::new();
    for word in name.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if !key.is_empty() {
            key.push(' ');
        }
        for ch in word.chars().flat_map(char::to_lowercase) {
            match ch {
                'ä' => key.push_str("ae"),
                'ö' => key.push_str("oe"),
                'ü' => key.push_str("ue"),
                'ß' => key.push_str("ss"),
                _ => key.push(ch),
            }
        }
        if key.len() > MAX_NAME_KEY {
            return None;
        }
    }
    (!key.is_empty()).then_some(key)
}

/// Longest name key indexed, in bytes.
const MAX_NAME_KEY: usize = 512;

/// An attribute name as a key of the attribute facts: lowercase ASCII
/// letters, digits and `_` ("Lichtstrom (Bemessung)" → "lichtstrom_bemessung",
/// "Größe" → "groesse"). Filter field names go through the same function.
pub fn normalize_attribute(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for ch in name.chars().flat_map(char::to_lowercase) {
        let folded = match ch {
            'ä' => Some("ae"),
            'ö' => Some("oe"),
            'ü' => Some("ue"),
            'ß' => Some("ss"),
            _ => None,
        };
        match folded {
            Some(text) => {
                push_gap(&mut out, &mut gap);
                out.push_str(text);
            }
            None if ch.is_ascii_alphanumeric() => {
                push_gap(&mut out, &mut gap);
                out.push(ch);
            }
            None => match fold_latin(ch) {
                Some(c) => {
                    push_gap(&mut out, &mut gap);
                    out.push(c);
                }
                None => gap = true,
            },
        }
    }
    out
}

fn push_gap(out: &mut String, gap: &mut bool) {
    if *gap && !out.is_empty() {
        out.push('_');
    }
    *gap = false;
}

/// A unit as the suffix of a fact key: "W" → "w", "°C" → "c", "lm/W" →
/// "lm_w". Units differing only in case (e.g. "mW" and "MW") collide; the
/// deliveries cradle reads do not use both for one attribute.
pub fn normalize_unit(unit: &str) -> String {
    let unit = unit.trim();
    match unit {
        "%" => "percent".to_owned(),
        "Ω" | "ohm" => "ohm".to_owned(),
        "µ" | "μ" => "u".to_owned(),
        _ => normalize_attribute(&unit.replace(['µ', 'μ'], "u")),
    }
}

/// The key of a fact: the attribute name, and with a unit `<name>_<unit>`.
pub fn fact_key(attribute: &str, unit: Option<&str>) -> String {
    let name = normalize_attribute(attribute);
    match unit.map(normalize_unit).filter(|u| !u.is_empty()) {
        Some(unit) => format!("{name}_{unit}"),
        None => name,
    }
}

fn fold_latin(ch: char) -> Option<char> {
    Some(match ch {
        'à' | 'á' | 'â' | 'ã' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ø' => 'o',
        'ù' | 'ú' | 'û' => 'u',
        'ý' | 'ÿ' => 'y',
        _ => return None,
    })
}

/// Token filter writing German umlauts and `ß` as two letters; expects
/// lowercased tokens.
#[derive(Clone)]
pub(crate) struct UmlautFolding;

impl TokenFilter for UmlautFolding {
    type Tokenizer<T: Tokenizer> = UmlautFoldingTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> UmlautFoldingTokenizer<T> {
        UmlautFoldingTokenizer {
            inner: tokenizer,
            buffer: String::new(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct UmlautFoldingTokenizer<T> {
    inner: T,
    buffer: String,
}

impl<T: Tokenizer> Tokenizer for UmlautFoldingTokenizer<T> {
    type TokenStream<'a> = UmlautFoldingStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        self.buffer.clear();
        UmlautFoldingStream {
            tail: self.inner.token_stream(text),
            buffer: &mut self.buffer,
        }
    }
}

pub(crate) struct UmlautFoldingStream<'a, T> {
    tail: T,
    buffer: &'a mut String,
}

impl<T: TokenStream> TokenStream for UmlautFoldingStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let text = &self.tail.token().text;
        if !text.is_ascii() && text.contains(['ä', 'ö', 'ü', 'ß']) {
            self.buffer.clear();
            for ch in text.chars() {
                match ch {
                    'ä' => self.buffer.push_str("ae"),
                    'ö' => self.buffer.push_str("oe"),
                    'ü' => self.buffer.push_str("ue"),
                    'ß' => self.buffer.push_str("ss"),
                    c => self.buffer.push(c),
                }
            }
            mem::swap(&mut self.tail.token_mut().text, self.buffer);
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// Token filter replacing every word by its character n-grams of
/// [`NGRAM_MIN`]`..=`[`NGRAM_MAX`] characters (a word shorter than the
/// minimum is dropped); the n-grams keep the word's position and offsets.
#[derive(Clone)]
pub(crate) struct WordNgrams;

impl TokenFilter for WordNgrams {
    type Tokenizer<T: Tokenizer> = WordNgramsTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> WordNgramsTokenizer<T> {
        WordNgramsTokenizer { inner: tokenizer }
    }
}

#[derive(Clone)]
pub(crate) struct WordNgramsTokenizer<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for WordNgramsTokenizer<T> {
    type TokenStream<'a> = WordNgramsStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        WordNgramsStream {
            tail: self.inner.token_stream(text),
            chars: Vec::new(),
            start: 0,
            len: NGRAM_MIN,
            token: Token::default(),
        }
    }
}

pub(crate) struct WordNgramsStream<T> {
    tail: T,
    /// The characters of the current word.
    chars: Vec<char>,
    /// Start (in characters) and length of the next n-gram.
    start: usize,
    len: usize,
    token: Token,
}

impl<T: TokenStream> TokenStream for WordNgramsStream<T> {
    fn advance(&mut self) -> bool {
        loop {
            if self.start + self.len <= self.chars.len() && self.len <= NGRAM_MAX {
                self.token.text.clear();
                self.token
                    .text
                    .extend(&self.chars[self.start..self.start + self.len]);
                self.len += 1;
                if self.len > NGRAM_MAX || self.start + self.len > self.chars.len() {
                    self.start += 1;
                    self.len = NGRAM_MIN;
                }
                return true;
            }
            if !self.tail.advance() {
                return false;
            }
            let word = self.tail.token();
            self.chars.clear();
            self.chars.extend(word.text.chars());
            self.start = 0;
            self.len = NGRAM_MIN;
            self.token.offset_from = word.offset_from;
            self.token.offset_to = word.offset_to;
            self.token.position = word.position;
            self.token.position_length = 1;
        }
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_folds_umlauts_and_stems() {
        let mut de = german();
        assert_eq!(
            terms(&mut de, "Straßenleuchte"),
            terms(&mut de, "strassenleuchte")
        );
        assert_eq!(terms(&mut de, "Lüfter"), terms(&mut de, "Luefter"));
        assert_eq!(terms(&mut de, "Leuchten"), terms(&mut de, "Leuchte"));
        assert!(terms(&mut de, "und").is_empty());
    }

    #[test]
    fn name_keys_ignore_case_punctuation_spacing_and_umlauts() {
        let key = normalize_name("Wand-/Deckenleuchte CUBO 717 5 W weiß").unwrap();
        assert_eq!(key, "wand deckenleuchte cubo 717 5 w weiss");
        assert_eq!(
            normalize_name(" wand - / DECKENLEUCHTE  cubo 717 5 w WEISS ").as_deref(),
            Some(key.as_str())
        );
        assert_eq!(normalize_name("Lüfter").as_deref(), Some("luefter"));
        // Different numbers stay different names.
        assert_ne!(
            normalize_name("CUBO 7 175 W"),
            normalize_name("CUBO 71 75 W")
        );
        assert_eq!(normalize_name(" -/ "), None);
        assert_eq!(normalize_name(&"x ".repeat(1_000)), None);
    }

    #[test]
    fn english_stems() {
        let mut en = english();
        assert_eq!(terms(&mut en, "drivers"), terms(&mut en, "driver"));
    }

    #[test]
    fn ngrams_of_each_word() {
        let mut ngram = ngram();
        let grams = terms(&mut ngram, "Abcdef x");
        assert_eq!(
            grams,
            [
                "abc", "abcd", "abcde", "bcd", "bcde", "bcdef", "cde", "cdef", "def"
            ]
        );
        assert_eq!(query_ngrams("einbau"), ["einba", "inbau"]);
        assert_eq!(query_ngrams("led"), ["led"]);
        assert!(query_ngrams("xy").is_empty());
    }

    #[test]
    fn normalizations() {
        assert_eq!(normalize_code("LW-100 234/B."), "lw100234b");
        assert_eq!(
            normalize_attribute("Lichtstrom (Bemessung)"),
            "lichtstrom_bemessung"
        );
        assert_eq!(normalize_attribute("Größe"), "groesse");
        assert_eq!(fact_key("Leistung", Some("W")), "leistung_w");
        assert_eq!(
            fact_key("Betriebstemperatur", Some("°C")),
            "betriebstemperatur_c"
        );
        assert_eq!(fact_key("Dimmbar", None), "dimmbar");
    }
}
