//! Search in every mode over the open [`Data`], and the text syntax of
//! search parameters that the console's pages and API share.
//!
//! Parameters: `q` (the words), `family`, `brand`, `series`, `etim_class`
//! (exact values), `filter` (repeatable, see below), `facets`
//! (comma-separated: `family,brand,series,etim_class` or attributes with
//! few distinct values, e.g. `IP-Schutzart,Leistung`), `highlight`
//! (`true`/`false`), `limit` (1..=100, default 20), `offset` (at most
//! 10 000), `mode`. Unknown parameters are refused so a typo is not
//! silently ignored.
//!
//! A `filter` is `field:value` (equality), `field:min..max` or with a unit
//! `field:min..max:unit` (numeric range, either bound may be left out:
//! `leistung_w:10..`; a unit converts within its quantity, so
//! `leistung:0.01..0.02:kW` finds 10–20 W), or `field:true` /
//! `field:false` (yes/no attribute).
//!
//! `mode` is `keyword` (default: BM25 with German and English analysis),
//! `vector` (the query embedded with the enrich stage's model, nearest
//! chunks in the ANN index, one hit per product) or `hybrid` (both, fused
//! by reciprocal rank fusion of the article numbers; see `vectors.rs`;
//! only the page's documents are then loaded). Filters apply in every
//! mode (vector search scans only products that pass them); in `vector`
//! mode facets count the vector candidates, in `hybrid` mode the keyword
//! matches, and `total` is the keyword matches plus the vector-only
//! candidates.
//!
//! Searches run on the blocking pool: tantivy is synchronous.

use std::sync::Arc;

use cradle_index::{Filter, IndexError, Ranked, SearchRequest, SearchResponse};

use crate::data::Data;
use crate::error::QueryError;
use crate::filter::FilterSpec;

/// The longest query text, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// The longest word of a query, in characters (the longest German
/// compounds of the trade have about 50; longer ones are not words, and
/// would make the prefix and typo automata explode).
pub const MAX_WORD_CHARS: usize = 100;
/// The most filters and facets one search may ask for.
pub const MAX_FILTERS: usize = 50;
pub const MAX_FACETS: usize = 20;
/// The longest filter value, in characters.
pub const MAX_FILTER_CHARS: usize = 1_000;

/// The largest page of hits.
pub const MAX_LIMIT: usize = 100;
/// How deep paging may go.
pub const MAX_OFFSET: usize = 10_000;

/// How hits are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Keyword,
    Vector,
    Hybrid,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Keyword => "keyword",
            Mode::Vector => "vector",
            Mode::Hybrid => "hybrid",
        }
    }

    /// `keyword`, `vector` or `hybrid`.
    pub fn parse(text: &str) -> Option<Mode> {
        match text.trim() {
            "keyword" | "" => Some(Mode::Keyword),
            "vector" => Some(Mode::Vector),
            "hybrid" => Some(Mode::Hybrid),
            _ => None,
        }
    }
}

/// Refuses a request whose size would only cost time or memory: the
/// query's length and its longest word, the number of filters and facets
/// and the length of a filter's text; each refusal names the parameter.
pub fn check_bounds(request: &SearchRequest) -> Result<(), QueryError> {
    let chars = request.query.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(QueryError::bad_request(
            "query_too_long",
            format!("parameter \"q\": {chars} characters; at most {MAX_QUERY_CHARS}"),
        ));
    }
    if let Some(word) = request
        .query
        .split_whitespace()
        .find(|w| w.chars().count() > MAX_WORD_CHARS)
    {
        return Err(QueryError::bad_request(
            "query_too_long",
            format!(
                "parameter \"q\": a word of {} characters; words have at most {MAX_WORD_CHARS}",
                word.chars().count()
            ),
        ));
    }
    if request.filters.len() > MAX_FILTERS {
        return Err(QueryError::invalid(
            "filter",
            format!("{} filters; at most {MAX_FILTERS}", request.filters.len()),
        ));
    }
    if request.facets.len() > MAX_FACETS {
        return Err(QueryError::invalid(
            "facets",
            format!("{} facets; at most {MAX_FACETS}", request.facets.len()),
        ));
    }
    for filter in &request.filters {
        let text = match filter {
            Filter::Equals { field, value } => field.chars().count() + value.chars().count(),
            Filter::Range { field, unit, .. } => {
                field.chars().count() + unit.as_deref().map_or(0, |u| u.chars().count())
            }
            Filter::Bool { field, .. } => field.chars().count(),
            Filter::Articles { .. } | Filter::Any { .. } | Filter::Not { .. } => 0,
        };
        if text > MAX_FILTER_CHARS {
            return Err(QueryError::invalid(
                "filter",
                format!("a filter of {text} characters; at most {MAX_FILTER_CHARS}"),
            ));
        }
    }
    Ok(())
}

/// A search in any mode: what every transport runs. Editors' class
/// corrections win over the index's classes in the `etim_class` filter,
/// its facet and the hits (see `corrections.rs`).
pub async fn run(
    data: &Data,
    mut request: SearchRequest,
    mode: Mode,
) -> Result<SearchResponse, QueryError> {
    check_bounds(&request)?;
    let overlay = Arc::new(data.corrections().await?);
    request.filters = overlay.rewrite_filters(std::mem::take(&mut request.filters));
    let (mut response, counted) = search(data, request, mode).await?;
    overlay.apply_to_hits(&mut response.hits);
    if !overlay.is_empty() && !response.facets.is_empty() {
        let mut facets = std::mem::take(&mut response.facets);
        let adjust = overlay.clone();
        response.facets = blocking(data, move |index| {
            adjust
                .adjust_class_facet(index, &counted, &mut facets)
                .map(|()| facets)
        })
        .await?;
    }
    Ok(response)
}

/// A search in any mode, and the request whose matches its facets count.
async fn search(
    data: &Data,
    request: SearchRequest,
    mode: Mode,
) -> Result<(SearchResponse, SearchRequest), QueryError> {
    Ok(match mode {
        Mode::Keyword => (keyword(data, request.clone()).await?, request),
        Mode::Vector | Mode::Hybrid => {
            if request.query.trim().is_empty() {
                return Err(QueryError::invalid(
                    "q",
                    format!("mode={} needs a query text", mode.as_str()),
                ));
            }
            let vectors = data.vectors()?.clone();
            // Three things at once: the query's vector (model thread), the
            // products the filters let through, and the keyword ranking.
            let allowed = async {
                if request.filters.is_empty() {
                    return Ok(None);
                }
                let filters = request.filters.clone();
                blocking(data, move |index| index.matching_articles(&filters))
                    .await
                    .map(|set| Some(Arc::new(set)))
            };
            let keyword_side = async {
                if mode != Mode::Hybrid {
                    return Ok(None);
                }
                let mut wide = request.clone();
                wide.limit = crate::vectors::FUSION_DEPTH;
                wide.offset = 0;
                blocking(data, move |index| index.rank(&wide))
                    .await
                    .map(Some)
            };
            let (vector, allowed, keyword_side) =
                tokio::join!(vectors.embed_query(&request.query), allowed, keyword_side);
            // The ANN scan skips products the filters reject, so every
            // candidate passes them.
            let nearest: Vec<Ranked> = vectors
                .nearest_products(vector?, allowed?)
                .await?
                .into_iter()
                .map(|(article_no, score)| Ranked {
                    article_no,
                    score,
                    matched: vec!["vector".to_owned()],
                })
                .collect();
            let (ranked, total, facets, counted) = match keyword_side? {
                None => {
                    // Facets count the candidates.
                    let mut count = request.clone();
                    count.query.clear();
                    count.limit = 0;
                    count.offset = 0;
                    count.filters = vec![Filter::Articles {
                        article_nos: nearest.iter().map(|r| r.article_no.clone()).collect(),
                    }];
                    let facets = if request.facets.is_empty() {
                        Default::default()
                    } else {
                        let counting = count.clone();
                        blocking(data, move |index| index.rank(&counting))
                            .await?
                            .facets
                    };
                    (nearest, None, facets, count)
                }
                Some(keyword_side) => {
                    let weight = crate::vectors::vector_weight(&request.query);
                    let fused = crate::vectors::fuse(keyword_side.ranked, nearest, weight);
                    // Every keyword match, plus the vector candidates the
                    // keyword search did not find (facets count the former).
                    let vector_only = fused
                        .iter()
                        .filter(|r| r.matched.iter().all(|m| m == "vector"))
                        .count();
                    (
                        fused,
                        Some(keyword_side.total + vector_only),
                        keyword_side.facets,
                        request.clone(),
                    )
                }
            };
            // Only the page's documents are loaded.
            let candidates = ranked.len();
            let page: Vec<Ranked> = ranked
                .into_iter()
                .skip(request.offset)
                .take(request.limit)
                .collect();
            let query = request.query.clone();
            let highlight = request.highlight;
            let hits = blocking(data, move |index| index.hits(&query, page, highlight)).await?;
            (
                SearchResponse {
                    total: total.unwrap_or(candidates),
                    hits,
                    facets,
                },
                counted,
            )
        }
    })
}

/// Index work on the blocking pool, with request errors as 400.
async fn blocking<T: Send + 'static>(
    data: &Data,
    work: impl FnOnce(&cradle_index::SearchIndex) -> Result<T, IndexError> + Send + 'static,
) -> Result<T, QueryError> {
    let index = data.index().clone();
    let result = tokio::task::spawn_blocking(move || work(&index))
        .await
        .map_err(|source| QueryError::internal("the search task failed", source))?;
    result.map_err(index_error)
}

/// A keyword search on the blocking pool, with request errors as 400.
async fn keyword(data: &Data, request: SearchRequest) -> Result<SearchResponse, QueryError> {
    blocking(data, move |index| index.search(&request)).await
}

/// An index error as a response: 400 for what the request got wrong.
fn index_error(error: IndexError) -> QueryError {
    if error.is_request_error() {
        let code = match error {
            IndexError::UnknownFacet { .. } => "unknown_facet",
            IndexError::UnknownUnit { .. } => "unknown_unit",
            _ => "invalid_filter",
        };
        QueryError::bad_request(code, error.to_string())
    } else {
        QueryError::internal("the search failed", error)
    }
}

/// The search request and mode the parameters describe.
pub fn parse_search(parameters: &[(String, String)]) -> Result<(SearchRequest, Mode), QueryError> {
    let mut mode = Mode::Keyword;
    let mut rest = Vec::with_capacity(parameters.len());
    for (name, value) in parameters {
        if name == "mode" {
            mode = Mode::parse(value).ok_or_else(|| {
                QueryError::invalid(
                    "mode",
                    format!("expected keyword, vector or hybrid, got {value:?}"),
                )
            })?;
        } else {
            rest.push((name.clone(), value.clone()));
        }
    }
    Ok((parse_request(&rest)?, mode))
}

/// A number parameter within `range`.
pub fn number(
    name: &str,
    value: &str,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, QueryError> {
    match value.trim().parse::<usize>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(QueryError::invalid(
            name,
            format!(
                "expected a whole number from {} to {}, got {value:?}",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// The search request the parameters describe.
pub fn parse_request(parameters: &[(String, String)]) -> Result<SearchRequest, QueryError> {
    let mut request = SearchRequest::default();
    for (name, value) in parameters {
        match name.as_str() {
            "q" => request.query = value.clone(),
            "family" | "brand" | "series" | "etim_class" => request.filters.push(Filter::Equals {
                field: name.clone(),
                value: value.clone(),
            }),
            "filter" => request.filters.push(parse_filter(value)?),
            "facets" => request.facets.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
            ),
            "highlight" => {
                request.highlight = match value.as_str() {
                    "true" | "1" | "" => true,
                    "false" | "0" => false,
                    other => {
                        return Err(QueryError::invalid(
                            name,
                            format!("expected true or false, got {other:?}"),
                        ));
                    }
                }
            }
            "limit" => request.limit = number(name, value, 1..=MAX_LIMIT)?,
            "offset" => request.offset = number(name, value, 0..=MAX_OFFSET)?,
            other => {
                return Err(QueryError::bad_request(
                    "unknown_parameter",
                    format!(
                        "unknown parameter {other:?}; known: q, mode, family, brand, series, \
                         etim_class, filter, facets, highlight, limit, offset"
                    ),
                ));
            }
        }
    }
    Ok(request)
}

/// `field:value`, `field:min..max[:unit]`, `field:true|false`.
pub fn parse_filter(text: &str) -> Result<Filter, QueryError> {
    parse_filter_spec(text).map(Filter::from)
}

/// [`parse_filter`] as the public [`FilterSpec`].
pub fn parse_filter_spec(text: &str) -> Result<FilterSpec, QueryError> {
    let hint = "expected field:value, field:min..max, field:min..max:unit or field:true|false";
    let Some((field, rest)) = text.split_once(':') else {
        return Err(QueryError::invalid("filter", format!("{text:?}: {hint}")));
    };
    let field = field.trim().to_owned();
    if field.is_empty() {
        return Err(QueryError::invalid(
            "filter",
            format!("{text:?} names no field; {hint}"),
        ));
    }
    if let Some((min, max)) = rest.split_once("..") {
        let (max, unit) = match max.split_once(':') {
            Some((max, unit)) => (max, Some(unit.trim().to_owned()).filter(|u| !u.is_empty())),
            None => (max, None),
        };
        let bound = |side: &str| -> Result<Option<f64>, QueryError> {
            let side = side.trim();
            if side.is_empty() {
                return Ok(None);
            }
            side.replace(',', ".")
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Some)
                .ok_or_else(|| {
                    QueryError::invalid("filter", format!("{text:?}: {side:?} is not a number"))
                })
        };
        let (min, max) = (bound(min)?, bound(max)?);
        if min.is_none() && max.is_none() {
            return Err(QueryError::invalid(
                "filter",
                format!("{text:?}: a range needs a minimum or a maximum"),
            ));
        }
        return Ok(FilterSpec::Range {
            field,
            min,
            max,
            unit,
        });
    }
    Ok(match rest.trim() {
        "true" => FilterSpec::Bool { field, value: true },
        "false" => FilterSpec::Bool {
            field,
            value: false,
        },
        value => FilterSpec::Equals {
            field,
            value: value.to_owned(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Filter) {
        assert_eq!(parse_filter(text).expect(text), expected, "{text}");
    }

    #[test]
    fn parses_filters() {
        check(
            "brand:Lumatix",
            Filter::Equals {
                field: "brand".into(),
                value: "Lumatix".into(),
            },
        );
        check(
            "leistung_w:10..20",
            Filter::Range {
                field: "leistung_w".into(),
                min: Some(10.0),
                max: Some(20.0),
                unit: None,
            },
        );
        check(
            "Leistung:..12,5:W",
            Filter::Range {
                field: "Leistung".into(),
                min: None,
                max: Some(12.5),
                unit: Some("W".into()),
            },
        );
        check(
            "dimmbar:true",
            Filter::Bool {
                field: "dimmbar".into(),
                value: true,
            },
        );
        for bad in ["nocolon", ":x", "a:..", "a:x..2"] {
            assert!(parse_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_parameters() {
        let parameters: Vec<(String, String)> = [
            ("q", "leuchte"),
            ("facets", "family, brand"),
            ("limit", "5"),
            ("filter", "dimmbar:true"),
            ("family", "Einbauleuchten"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
        let request = parse_request(&parameters).expect("parses");
        assert_eq!(request.query, "leuchte");
        assert_eq!(request.facets, ["family", "brand"]);
        assert_eq!(request.limit, 5);
        assert_eq!(request.filters.len(), 2);
        let unknown = parse_request(&[("qq".into(), "x".into())]).unwrap_err();
        assert_eq!(unknown.code(), "unknown_parameter");
        let big = parse_request(&[("limit".into(), "1000".into())]).unwrap_err();
        assert_eq!(big.code(), "invalid_parameter");
    }
}
