//! The answer without a language model: the matching products, each with
//! its name and the facts that matched the question, every fact cited. In
//! German when the question looks German, else in English.

use crate::retrieve::{Found, MAX_EXTRACTIVE_FACTS, Retrieved};

/// The longest value listed when shorter ones matched too.
const SHORT_VALUE_CHARS: usize = 80;

/// Words that make a question German for the few fixed phrases.
const GERMAN: &[&str] = &[
    "welche", "welcher", "welches", "sind", "ist", "gibt", "mit", "der", "die", "das", "und",
    "oder", "haben", "hat", "für", "wie", "viele", "zeige", "leuchte", "leuchten", "ich", "wir",
];

/// Whether the question reads as German.
pub fn is_german(question: &str) -> bool {
    question
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| GERMAN.contains(&w.to_lowercase().as_str()) || w.contains(['ä', 'ö', 'ü', 'ß']))
}

/// The answer's pieces of text, one per line, each with the numbers of
/// the facts it cites (in order).
pub fn answer(retrieved: &Retrieved, question: &str) -> Vec<(String, Vec<usize>)> {
    let german = is_german(question);
    let count = retrieved.products.len();
    if count == 0 {
        let text = if german {
            "Kein Produkt passt zu dieser Frage. Versuchen Sie andere Wörter, eine Artikelnummer oder eine GTIN."
        } else {
            "No product matches this question. Try other words, an article number or a GTIN."
        };
        return vec![(text.to_owned(), Vec::new())];
    }
    let heading = match (german, count) {
        (true, 1) => "Ein Produkt passt zur Frage:\n".to_owned(),
        (true, n) => format!("{n} Produkte passen zur Frage:\n"),
        (false, 1) => "One product matches the question:\n".to_owned(),
        (false, n) => format!("{n} products match the question:\n"),
    };
    let mut pieces = vec![(heading, Vec::new())];
    for (i, product) in retrieved.products.iter().enumerate() {
        pieces.push(line(i + 1, product, german));
    }
    pieces
}

/// `2. Name [4] (LW-100234, Einbauleuchten, Lumatix): Dimmbar: ja [5]; …`
fn line(position: usize, product: &Found, german: bool) -> (String, Vec<usize>) {
    let mut cited = Vec::new();
    let mut text = format!("\n{position}. ");
    match (&product.name, product.name_fact) {
        (Some(name), Some(n)) => {
            text.push_str(&format!("{name} [{n}]"));
            cited.push(n);
        }
        (Some(name), None) => text.push_str(name),
        (None, _) => text.push_str(&product.article_no),
    }
    let context: Vec<&str> = [
        Some(product.article_no.as_str()),
        product.family.as_deref(),
        product.brand.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    text.push_str(&format!(" ({})", context.join(", ")));
    // Short values (Dimmbar: ja) say more in a list than long texts that
    // merely mention a word; those only when nothing short matched.
    let short =
        |fact: &&crate::retrieve::Fact| fact.source.value.chars().count() <= SHORT_VALUE_CHARS;
    let mut matched: Vec<_> = product.facts.iter().filter(|fact| fact.matched).collect();
    if matched.iter().any(short) {
        matched.retain(short);
    }
    matched.truncate(MAX_EXTRACTIVE_FACTS);
    if matched.is_empty() {
        text.push_str(if german {
            ": gefunden über Name oder Beschreibung"
        } else {
            ": found by its name or description"
        });
    } else {
        let facts: Vec<String> = matched
            .iter()
            .map(|fact| {
                cited.push(fact.n);
                format!(
                    "{}: {} [{}]",
                    fact.source.attribute,
                    one_line(&fact.source.value),
                    fact.n
                )
            })
            .collect();
        text.push_str(": ");
        text.push_str(&facts.join("; "));
    }
    (text, cited)
}

/// A value on one line, at most 160 characters.
fn one_line(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= 160 {
        flat
    } else {
        let mut short: String = flat.chars().take(160).collect();
        short.push('…');
        short
    }
}
