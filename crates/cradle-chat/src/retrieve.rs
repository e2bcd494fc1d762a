//! Retrieval: the products that answer a question, found by the search
//! every transport uses (hybrid when the data has vectors, keyword
//! otherwise), each with its facts numbered for citation. A fact is an
//! attribute value as delivered, with the cell it came from, or a product
//! field; facts that match the question's words (or the fields the
//! search matched on) come first.

use std::collections::BTreeSet;

use cradle_index::SearchRequest;
use cradle_query::{Data, Mode};
use serde_json::Value;

use crate::event::{Citation, Source};

/// Products given to the model (or listed) per question.
pub const MAX_PRODUCTS: usize = 6;
/// Facts per product given to the model.
pub const MAX_FACTS: usize = 12;
/// Facts per product in an extractive answer, besides the name.
pub const MAX_EXTRACTIVE_FACTS: usize = 5;
/// The longest text of one fact, in characters.
const MAX_VALUE_CHARS: usize = 600;

/// Product fields shown as facts when no attribute carries them.
const FIELDS: &[&str] = &[
    "name_de",
    "name_en",
    "family",
    "brand",
    "series",
    "description_de",
    "description_en",
];

/// A product found for a question, with its numbered facts.
#[derive(Debug, Clone)]
pub struct Found {
    pub article_no: String,
    pub name: Option<String>,
    pub family: Option<String>,
    pub brand: Option<String>,
    pub etim_class: Option<String>,
    /// The fact of the product's name, if it has one.
    pub name_fact: Option<usize>,
    pub facts: Vec<Fact>,
}

/// One fact of a product, numbered across the whole answer.
#[derive(Debug, Clone)]
pub struct Fact {
    pub n: usize,
    /// Whether the fact matches the question (or the search matched it).
    pub matched: bool,
    pub source: Source,
}

/// The products for `question` and how they were searched.
#[derive(Debug, Clone)]
pub struct Retrieved {
    pub products: Vec<Found>,
    pub mode: Mode,
}

impl Retrieved {
    /// The citation of fact `n`, if there is one.
    pub fn citation(&self, n: usize) -> Option<Citation> {
        self.products.iter().find_map(|product| {
            product
                .facts
                .iter()
                .find(|fact| fact.n == n)
                .map(|fact| Citation {
                    n,
                    article_no: product.article_no.clone(),
                    source: fact.source.clone(),
                })
        })
    }
}

/// Words that carry no meaning for a search (German and English question
/// words, articles, auxiliaries), folded as [`fold`] folds.
const STOP_WORDS: &[&str] = &[
    "fur", "a", "about", "all", "alle", "an", "and", "any", "are", "auch", "bitte", "can", "das",
    "dem", "den", "der", "des", "die", "do", "does", "ein", "eine", "einen", "einer", "es", "for",
    "gibt", "give", "gib", "habt", "has", "have", "haben", "hat", "how", "i", "ich", "ihr", "in",
    "is", "ist", "it", "list", "liste", "me", "mir", "mit", "many", "of", "oder", "or", "please",
    "show", "sind", "the", "there", "to", "und", "uns", "viele", "was", "we", "welche", "welcher",
    "welches", "wie", "wir", "what", "which", "who", "with", "you", "zeig", "zeige", "zu",
];

/// The question's words for matching, folded (lower case, umlauts as
/// their base letters, ß as ss), without stop words.
pub fn terms(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .filter(|w| w.chars().count() >= 3 || w.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => folded.push('a'),
            'ö' => folded.push('o'),
            'ü' => folded.push('u'),
            'ß' => folded.push_str("ss"),
            c => folded.push(c),
        }
    }
    folded
}

/// Whether a question term and a word of a fact are the same word, or
/// one a short inflection of the other (`einbauleuchten`,
/// `einbauleuchte`).
fn same_word(term: &str, word: &str) -> bool {
    if term == word {
        return true;
    }
    let (short, long) = if term.len() <= word.len() {
        (term, word)
    } else {
        (word, term)
    };
    short.chars().count() >= 4 && long.starts_with(short) && long.len() - short.len() <= 3
}

fn matches_terms(terms: &[String], text: &str) -> bool {
    let words = words(text);
    terms
        .iter()
        .any(|term| words.iter().any(|word| same_word(term, word)))
}

/// The words of a question to search with: without stop words, or the
/// question itself when nothing else is left.
pub fn search_text(question: &str) -> String {
    let kept: Vec<&str> = question
        .split_whitespace()
        .filter(|word| {
            let folded = fold(word.trim_matches(|c: char| !c.is_alphanumeric()));
            !folded.is_empty() && !STOP_WORDS.contains(&folded.as_str())
        })
        .collect();
    if kept.is_empty() {
        question.trim().to_owned()
    } else {
        kept.join(" ")
    }
}

/// Finds the products for `question` and numbers their facts.
pub async fn retrieve(data: &Data, question: &str) -> Result<Retrieved, cradle_query::QueryError> {
    let mut request = SearchRequest::new(search_text(question));
    request.limit = MAX_PRODUCTS;
    let mode = if data.vectors_if_any().is_some() {
        Mode::Hybrid
    } else {
        Mode::Keyword
    };
    let response = match data.search(request.clone(), mode).await {
        Ok(response) => response,
        Err(error) if mode == Mode::Hybrid => {
            // The keyword side still answers when the query model fails.
            tracing::warn!(error = %cradle_query::chain(&error), "hybrid search failed; keyword search instead");
            return Box::pin(keyword_only(data, request, question)).await;
        }
        Err(error) => return Err(error),
    };
    let terms = terms(question);
    let mut products = Vec::new();
    let mut next = 1;
    for hit in response.hits {
        let product = match data.product(&hit.article_no).await {
            Ok(product) => product,
            Err(cradle_query::QueryError::NotFound { .. }) => continue,
            Err(error) => return Err(error),
        };
        products.push(found(&product, &hit, &terms, &mut next));
    }
    Ok(Retrieved { products, mode })
}

async fn keyword_only(
    data: &Data,
    request: SearchRequest,
    question: &str,
) -> Result<Retrieved, cradle_query::QueryError> {
    let response = data.search(request, Mode::Keyword).await?;
    let terms = terms(question);
    let mut products = Vec::new();
    let mut next = 1;
    for hit in response.hits {
        if let Ok(product) = data.product(&hit.article_no).await {
            products.push(found(&product, &hit, &terms, &mut next));
        }
    }
    Ok(Retrieved {
        products,
        mode: Mode::Keyword,
    })
}

/// The facts of one product (the catalog's JSON), matched ones first,
/// numbered from `next`.
fn found(product: &Value, hit: &cradle_index::Hit, terms: &[String], next: &mut usize) -> Found {
    let matched_fields: BTreeSet<&str> = hit.matched.iter().map(String::as_str).collect();
    let mut candidates: Vec<(bool, Option<&str>, Source)> = Vec::new();
    let mut covered: BTreeSet<String> = BTreeSet::new();
    for group in product["attributes"].as_array().into_iter().flatten() {
        let name = group["name"].as_str().unwrap_or_default();
        let Some(value) = group["values"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["no_value"] != Value::Bool(true))
        else {
            continue;
        };
        let field = value["field"].as_str();
        if let Some(field) = field {
            covered.insert(field.to_owned());
        }
        let original = value["original"].as_str().unwrap_or_default();
        let text = match value["unit"].as_str() {
            Some(unit) if !unit.is_empty() && !original.contains(unit) => {
                format!("{original} {unit}")
            }
            _ => original.to_owned(),
        };
        let provenance = &value["provenance"];
        let source = Source {
            attribute: name.to_owned(),
            value: shorten(&text),
            file: provenance["file"].as_str().map(str::to_owned),
            sheet: provenance["sheet"].as_str().map(str::to_owned),
            row: provenance["row"].as_i64(),
            column: provenance["column"].as_str().map(str::to_owned),
        };
        let matched = field.is_some_and(|f| matched_fields.contains(f))
            || matches_terms(terms, name)
            || matches_terms(terms, &text);
        candidates.push((matched, field, source));
    }
    let fields = &product["fields"];
    for field in FIELDS {
        if covered.contains(*field) {
            continue;
        }
        if let Some(text) = fields[*field].as_str().filter(|t| !t.trim().is_empty()) {
            let matched = matched_fields.contains(field) || matches_terms(terms, text);
            let source = Source {
                attribute: (*field).to_owned(),
                value: shorten(text),
                file: None,
                sheet: None,
                row: None,
                column: None,
            };
            candidates.push((matched, Some(field), source));
        }
    }
    let is_name = |field: Option<&str>| matches!(field, Some("name_de" | "name_en"));
    // The name first, then what matched, then the rest in attribute order.
    candidates.sort_by_key(|(matched, field, _)| (!is_name(*field), !matched));
    let mut facts = Vec::new();
    let mut name_fact = None;
    for (matched, field, source) in candidates.into_iter().take(MAX_FACTS) {
        if is_name(field) && name_fact.is_none() {
            name_fact = Some(*next);
        }
        facts.push(Fact {
            n: *next,
            matched: matched && !is_name(field),
            source,
        });
        *next += 1;
    }
    let text = |name: &str| fields[name].as_str().map(str::to_owned);
    Found {
        article_no: hit.article_no.clone(),
        name: hit
            .name
            .clone()
            .or_else(|| text("name_de"))
            .or_else(|| text("name_en")),
        family: hit.family.clone().or_else(|| text("family")),
        brand: hit.brand.clone().or_else(|| text("brand")),
        etim_class: hit
            .etim_class
            .clone()
            .or_else(|| product["etim_class"].as_str().map(str::to_owned)),
        name_fact,
        facts,
    }
}

fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_VALUE_CHARS {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(MAX_VALUE_CHARS).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_words_without_stop_words() {
        assert_eq!(
            terms("Welche Einbauleuchten sind dimmbar? Mit 12 W!"),
            ["einbauleuchten", "dimmbar", "12"]
        );
        assert_eq!(
            terms("Straßenleuchte für außen"),
            ["strassenleuchte", "aussen"]
        );
        assert_eq!(
            search_text("Welche Einbauleuchten sind dimmbar?"),
            "Einbauleuchten dimmbar?"
        );
        assert_eq!(search_text("Welche sind es?"), "Welche sind es?");
    }

    #[test]
    fn inflections_match_but_short_words_do_not_overreach() {
        assert!(same_word("einbauleuchten", "einbauleuchte"));
        assert!(same_word("dimmbar", "dimmbar"));
        assert!(!same_word("led", "leduchte"));
        assert!(!same_word("leuchte", "leuchtenkopfhalter"));
        assert!(matches_terms(&terms("dimmbare Leuchten"), "Dimmbar"));
    }
}
