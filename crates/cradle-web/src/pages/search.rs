//! Search (`/search?q=…`): keyword, vector or hybrid search with facets
//! (family, ETIM class, brand and the attributes with few values), filters
//! (equality, ranges with units), highlights and pages. The same
//! parameters as `GET /api/search`, plus `page`, and a unit range given as
//! `range_field`, `range_min`, `range_max`, `range_unit`. With
//! `fragment=1` only the results are rendered (search as you type).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use cradle_index::SearchResponse;

use crate::Web;
use crate::error::WebError;
use crate::pages::{data, render};
use crate::session::{Chrome, Signed};

/// Hits per page.
pub const PAGE_SIZE: usize = 20;
/// Attribute facets shown besides family, ETIM class and brand.
const ATTRIBUTE_FACETS: usize = 6;

#[derive(Debug, Clone)]
pub struct FacetView {
    pub name: String,
    pub values: Vec<FacetValue>,
}

#[derive(Debug, Clone)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
    pub href: String,
}

/// A filter in force, with the link that removes it.
#[derive(Debug, Clone)]
pub struct ActiveFilter {
    pub label: String,
    pub remove: String,
}

#[derive(Debug, Clone)]
pub struct HitView {
    pub article_no: String,
    pub href: String,
    pub name: String,
    pub family: String,
    pub etim_class: String,
    /// Highlighted snippets, checked to hold nothing but escaped text and
    /// `<b>` tags (see [`safe_highlight`]).
    pub highlights: Vec<String>,
    pub matched: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    results: Results,
    modes: Vec<(&'static str, bool)>,
    hidden: Vec<(String, String)>,
    range_fields: Vec<String>,
}

#[derive(Template)]
#[template(path = "search_results.html")]
struct ResultsFragment {
    chrome: Chrome,
    results: Results,
}

#[derive(Debug, Clone, Default)]
struct Results {
    q: String,
    total: usize,
    hits: Vec<HitView>,
    facets: Vec<FacetView>,
    active: Vec<ActiveFilter>,
    error: Option<String>,
    previous: Option<String>,
    next: Option<String>,
    page: usize,
    pages: usize,
}

/// `/search?` and the parameters.
fn url(parameters: &[(String, String)]) -> String {
    format!(
        "/search?{}",
        serde_urlencoded::to_string(parameters).unwrap_or_default()
    )
}

/// The snippet if it is nothing but escaped text and `<b>`/`</b>` (what
/// the index writes); else `None`, and the page shows no snippet.
pub fn safe_highlight(snippet: &str) -> Option<String> {
    let stripped = snippet.replace("<b>", "").replace("</b>", "");
    (!stripped.contains('<') && !stripped.contains('>') && !stripped.contains('"'))
        .then(|| snippet.to_owned())
}

pub async fn page(
    State(web): State<Web>,
    signed: Signed,
    Query(parameters): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let lang = signed.lang;
    let data = data(&web, lang)?;
    let mut fragment = false;
    let mut page = 1usize;
    let mut range = (String::new(), String::new(), String::new(), String::new());
    // What the links keep: the search's own parameters.
    let mut kept: Vec<(String, String)> = Vec::new();
    for (name, value) in parameters {
        match name.as_str() {
            "fragment" => fragment = true,
            "page" => page = value.trim().parse().unwrap_or(1).clamp(1, 500),
            "range_field" => range.0 = value.trim().to_owned(),
            "range_min" => range.1 = value.trim().to_owned(),
            "range_max" => range.2 = value.trim().to_owned(),
            "range_unit" => range.3 = value.trim().to_owned(),
            "facets" | "limit" | "offset" | "highlight" => {}
            "mode" | "q" if value.is_empty() => {}
            _ if value.trim().is_empty() => {}
            _ => kept.push((name, value)),
        }
    }
    if !range.0.is_empty() && (!range.1.is_empty() || !range.2.is_empty()) {
        let unit = if range.3.is_empty() {
            String::new()
        } else {
            format!(":{}", range.3)
        };
        kept.push((
            "filter".to_owned(),
            format!("{}:{}..{}{unit}", range.0, range.1, range.2),
        ));
    }
    let q = kept
        .iter()
        .find(|(n, _)| n == "q")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let stats = data.index_stats();
    let mut facets = vec![
        "family".to_owned(),
        "etim_class".to_owned(),
        "brand".to_owned(),
    ];
    facets.extend(
        stats
            .facet_attributes
            .iter()
            .take(ATTRIBUTE_FACETS)
            .cloned(),
    );
    let mut request = kept.clone();
    request.push(("facets".to_owned(), facets.join(",")));
    request.push(("highlight".to_owned(), "true".to_owned()));
    request.push(("limit".to_owned(), PAGE_SIZE.to_string()));
    request.push(("offset".to_owned(), ((page - 1) * PAGE_SIZE).to_string()));

    let mut results = Results {
        q,
        page,
        ..Results::default()
    };
    for (index, (name, value)) in kept.iter().enumerate() {
        if name == "q" || name == "mode" {
            continue;
        }
        let mut without = kept.clone();
        without.remove(index);
        results.active.push(ActiveFilter {
            label: if name == "filter" {
                value.clone()
            } else {
                format!("{name}: {value}")
            },
            remove: url(&without),
        });
    }
    let answer: Result<SearchResponse, _> = match cradle_query::search::parse_search(&request) {
        Ok((search, mode)) => data.search(search, mode).await,
        Err(error) => Err(error),
    };
    match answer {
        Ok(answer) => {
            results.total = answer.total;
            results.pages = answer.total.div_ceil(PAGE_SIZE).max(1);
            let at = |n: usize| {
                let mut with = kept.clone();
                with.push(("page".to_owned(), n.to_string()));
                url(&with)
            };
            results.previous = (page > 1).then(|| at(page - 1));
            results.next = (page < results.pages).then(|| at(page + 1));
            results.hits = answer
                .hits
                .into_iter()
                .map(|hit| HitView {
                    href: format!("/products/{}", path_segment(&hit.article_no)),
                    name: hit.name.unwrap_or_default(),
                    family: hit.family.unwrap_or_default(),
                    etim_class: hit.etim_class.unwrap_or_default(),
                    highlights: hit
                        .highlights
                        .iter()
                        .filter_map(|(_, snippet)| safe_highlight(snippet))
                        .collect(),
                    matched: hit.matched.join(", "),
                    article_no: hit.article_no,
                })
                .collect();
            for name in &facets {
                let Some(values) = answer.facets.get(name) else {
                    continue;
                };
                if values.is_empty() {
                    continue;
                }
                let canonical = matches!(name.as_str(), "family" | "etim_class" | "brand");
                results.facets.push(FacetView {
                    name: name.clone(),
                    values: values
                        .iter()
                        .take(10)
                        .map(|(value, count)| {
                            let mut with = kept.clone();
                            if canonical {
                                with.push((name.clone(), value.clone()));
                            } else {
                                with.push(("filter".to_owned(), format!("{name}:{value}")));
                            }
                            FacetValue {
                                value: value.clone(),
                                count: *count,
                                href: url(&with),
                            }
                        })
                        .collect(),
                });
            }
        }
        Err(cradle_query::QueryError::Internal { context, source }) => {
            return Err(WebError::Internal { context, source });
        }
        Err(cradle_query::QueryError::NotReady) => return Err(WebError::NotReady { lang }),
        Err(error) => results.error = Some(error.to_string()),
    }
    let chrome = signed.chrome("search", lang.text().nav_search);
    let status = if results.error.is_some() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    let mut response = if fragment {
        render(&ResultsFragment { chrome, results })?
    } else {
        let mode = kept
            .iter()
            .find(|(n, _)| n == "mode")
            .map_or("keyword", |(_, v)| v.as_str());
        let modes = ["keyword", "vector", "hybrid"]
            .into_iter()
            .map(|m| (m, m == mode))
            .collect();
        let hidden = kept
            .iter()
            .filter(|(n, _)| n != "q" && n != "mode")
            .cloned()
            .collect();
        let range_fields = stats.attribute_keys.clone();
        render(&SearchPage {
            chrome,
            results,
            modes,
            hidden,
            range_fields,
        })?
    };
    *response.status_mut() = status;
    Ok(response)
}

/// An article number as one path segment (percent-encoded).
pub fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_bold_tags_in_snippets() {
        assert!(safe_highlight("a <b>lamp</b> &lt;x&gt;").is_some());
        assert!(safe_highlight("<script>alert(1)</script>").is_none());
        assert!(safe_highlight("<b onclick=x>a</b>").is_none());
        assert_eq!(path_segment("A 1/2"), "A%201%2F2");
    }
}
