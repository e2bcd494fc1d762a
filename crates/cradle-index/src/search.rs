//! Opening an index read-only and answering searches: the query is planned
//! from the words of the request (per-language terms, compound n-grams,
//! typo fallback, article number and GTIN matches), filtered, counted,
//! faceted, and its hits are explained (`matched`) and highlighted.
//!
//! Ranking, from strongest to weakest: an exact article number or GTIN
//! (boost 100), a manufacturer number or the whole query as a product's
//! whole name, ignoring case, punctuation and spacing (50), an
//! article-number prefix (20, constant), then BM25 of the words (names ×3, family/series/brand ×2,
//! descriptions ×1, attribute text ×0.7), then parts of compound words
//! (n-grams, scaled to ×0.3 over all n-grams of a word) and typo matches
//! (constant 0.5). Every word must match somewhere (AND); when that finds
//! nothing, any word may (OR), so a stray word does not empty the page.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, DocSetCollector, FacetCollector, FacetCounts, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EnableScoring, FuzzyTermQuery, Occur, Query, RangeQuery,
    RegexQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{SimpleTokenizer, TextAnalyzer, TokenStream, Tokenizer};
use tantivy::{
    DocAddress, DocId, DocSet, Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term,
};

use crate::IndexError;
use crate::analysis::{
    self, fact_key, normalize_attribute, normalize_code, normalize_name, query_ngrams, terms,
};
use crate::meta::{BuiltFrom, IndexMetadata};
use crate::readonly::ReadOnlyDirectory;
use crate::schema::{FACET_FIELDS, Fields};

/// Boosts; see the module docs for the ranking they make.
const EXACT_CODE: f32 = 100.0;
const MANUFACTURER_CODE: f32 = 50.0;
/// Names are not unique ("Einbauleuchte" may name hundreds of products),
/// so an exact name ranks below a code but above any sum of word matches:
/// a variant whose name is typed out ("… 5 W 6500 K weiß") comes before
/// its siblings whose descriptions share more of the words.
const EXACT_NAME: f32 = 50.0;
const PREFIX_CODE: f32 = 20.0;
const NAME: f32 = 3.0;
const TAXONOMY: f32 = 2.0;
const DESCRIPTION: f32 = 1.0;
const ATTRIBUTE_TEXT: f32 = 0.7;
const NGRAM_TOTAL: f32 = 0.3;
const TYPO: f32 = 0.5;

/// Codes shorter than this are not matched as prefixes: "12" would match
/// every article number starting with 12.
const SHORTEST_PREFIX: usize = 3;

/// Facet values returned per facet at most.
const FACET_VALUES: usize = 200;

/// Filter field names that mean the same attribute; a filter on one of
/// them matches facts under any of them (the console speaks English, the
/// deliveries mostly German).
const ATTRIBUTE_ALIASES: &[&[&str]] = &[
    &["leistung", "power", "wattage"],
    &["lichtstrom", "luminous_flux"],
    &[
        "farbtemperatur",
        "colour_temperature",
        "color_temperature",
        "cct",
    ],
    &["dimmbar", "dimmable"],
];

/// Units of one quantity with their size in its base unit; keys are
/// normalised as in fact keys (`mw` is milliwatt: catalogues list no
/// megawatt luminaires).
const UNIT_SCALES: &[&[(&str, f64)]] = &[
    &[("mw", 1e-3), ("w", 1.0), ("kw", 1e3)],
    &[("mm", 1e-3), ("cm", 1e-2), ("dm", 1e-1), ("m", 1.0)],
    &[("mg", 1e-6), ("g", 1e-3), ("kg", 1.0), ("t", 1e3)],
    &[("lm", 1.0), ("klm", 1e3)],
    &[("mv", 1e-3), ("v", 1.0), ("kv", 1e3)],
    &[("ua", 1e-6), ("ma", 1e-3), ("a", 1.0)],
    &[("hz", 1.0), ("khz", 1e3)],
    &[("s", 1.0), ("min", 60.0), ("h", 3600.0)],
];

/// The units a range given in `unit` is searched in, each with the factor
/// that turns a bound in `unit` into one in that unit; just `unit` itself
/// when it is not a known quantity's.
fn convertible_units(unit: &str) -> Vec<(Option<String>, f64)> {
    let normalized = crate::analysis::normalize_unit(unit);
    for family in UNIT_SCALES {
        if let Some(&(_, size)) = family.iter().find(|(u, _)| *u == normalized) {
            return family
                .iter()
                .map(|&(other, other_size)| (Some(other.to_owned()), size / other_size))
                .collect();
        }
    }
    vec![(Some(unit.to_owned()), 1.0)]
}

/// A search.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchRequest {
    /// What the user typed; empty lists everything that passes the filters.
    pub query: String,
    pub filters: Vec<Filter>,
    pub limit: usize,
    pub offset: usize,
    /// Facets to count over all matches: `family`, `brand`, `series`,
    /// `etim_class`, or an attribute with few distinct values (see
    /// [`IndexStats::facet_attributes`]), e.g. `IP-Schutzart`, `Leistung`.
    pub facets: Vec<String>,
    /// Whether hits carry highlighted snippets of names and descriptions.
    pub highlight: bool,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            query: String::new(),
            filters: Vec::new(),
            limit: 20,
            offset: 0,
            facets: Vec::new(),
            highlight: false,
        }
    }
}

impl SearchRequest {
    /// A request for `query` with the defaults.
    pub fn new(query: impl Into<String>) -> SearchRequest {
        SearchRequest {
            query: query.into(),
            ..SearchRequest::default()
        }
    }
}

/// A condition every hit must meet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Filter {
    /// `family`, `brand`, `series`, `etim_class` (exact value), `article_no`,
    /// `gtin`, or an attribute name (case and umlaut spelling do not matter;
    /// numbers compare as numbers).
    Equals { field: String, value: String },
    /// A numeric attribute between `min` and `max` (inclusive), in `unit`
    /// if given (as delivered: "W", "lm", "K"), e.g. `Leistung` 10..20 W.
    Range {
        field: String,
        min: Option<f64>,
        max: Option<f64>,
        unit: Option<String>,
    },
    /// A yes/no attribute, e.g. `dimmbar` = true.
    Bool { field: String, value: bool },
    /// Only these products (by article number): how vector candidates are
    /// checked against the other filters.
    Articles { article_nos: Vec<String> },
    /// At least one of these (none: nothing passes).
    Any { filters: Vec<Filter> },
    /// Everything this one does not let through.
    Not { filter: Box<Filter> },
}

/// The answer to a search.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SearchResponse {
    /// Matches in all (the hits are one page of them).
    pub total: usize,
    pub hits: Vec<Hit>,
    /// Requested facet to (value, count) pairs, most frequent first.
    pub facets: BTreeMap<String, Vec<(String, u64)>>,
}

/// One product found.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Hit {
    pub article_no: String,
    pub score: f32,
    /// The German name, else the English one.
    pub name: Option<String>,
    pub family: Option<String>,
    pub brand: Option<String>,
    pub etim_class: Option<String>,
    /// Where `etim_class` came from when not from the index: `correction`
    /// (an editor's, applied by the query layer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etim_class_source: Option<String>,
    /// (field, HTML snippet with `<b>` around matched words).
    pub highlights: Vec<(String, String)>,
    /// Why the product matched: `article_no`, `article_no prefix`, `gtin`,
    /// `manufacturer_no`, `name_de`, `name_en`, `description_de`,
    /// `description_en`, `family`, `series`, `brand`, `etim_class`,
    /// `attributes`, `name part` (inside a compound word), `typo`.
    pub matched: Vec<String>,
}

/// A product in a ranking, without its stored document: what hybrid
/// search fuses before it loads the one page it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub article_no: String,
    pub score: f32,
    /// As [`Hit::matched`].
    pub matched: Vec<String>,
}

/// A search's matches as article numbers (see [`SearchIndex::rank`]).
#[derive(Debug, Clone)]
pub struct Ranking {
    pub total: usize,
    /// One page, best first.
    pub ranked: Vec<Ranked>,
    pub facets: BTreeMap<String, Vec<(String, u64)>>,
}

/// What an open index holds.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct IndexStats {
    pub documents: u64,
    pub size_bytes: u64,
    pub built_from: BuiltFrom,
    pub built_at: String,
    /// Typed attribute keys usable in range and boolean filters.
    pub attribute_keys: Vec<String>,
    /// Attribute keys that can be requested as facets.
    pub facet_attributes: Vec<String>,
}

/// An index opened for searching: memory-mapped, read-only, never changed.
pub struct SearchIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    metadata: IndexMetadata,
    size_bytes: u64,
    german: TextAnalyzer,
    english: TextAnalyzer,
    plain: TextAnalyzer,
    keyword: TextAnalyzer,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("dir", &self.dir)
            .field("documents", &self.metadata.documents)
            .finish()
    }
}

/// Sum of the sizes of the files in `dir` (not recursive: the index is flat).
pub(crate) fn directory_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Per word of the query: its terms in each analysis.
#[derive(Debug)]
struct Word {
    /// Characters of the word as typed (decides the typo distance).
    chars: usize,
    raw: String,
    german: Option<String>,
    english: Option<String>,
    plain: Option<String>,
}

/// Total, the page of (score, address), and the facet counts if asked.
type Collected = (usize, Vec<(f32, DocAddress)>, Option<FacetCounts>);

/// A request planned and run, before any document is loaded.
struct Found {
    total: usize,
    top: Vec<(f32, DocAddress)>,
    reasons: Vec<Vec<String>>,
    facets: BTreeMap<String, Vec<(String, u64)>>,
    plan: Plan,
}

/// A query and, per reason, the part of it that gives that reason.
struct Plan {
    query: Box<dyn Query>,
    /// The query of the words alone, for snippets.
    text: Option<Box<dyn Query>>,
    reasons: Vec<(&'static str, Box<dyn Query>)>,
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, boost))
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
}

fn any(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        queries.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

fn all(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        queries.into_iter().map(|q| (Occur::Must, q)).collect(),
    ))
}

/// Collects sub-queries per reason while a plan is built.
#[derive(Default)]
struct Reasons(Vec<(&'static str, Vec<Box<dyn Query>>)>);

impl Reasons {
    fn add(&mut self, reason: &'static str, query: &dyn Query) {
        match self.0.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, list)) => list.push(query.box_clone()),
            None => self.0.push((reason, vec![query.box_clone()])),
        }
    }

    fn finish(self) -> Vec<(&'static str, Box<dyn Query>)> {
        self.0.into_iter().map(|(r, qs)| (r, any(qs))).collect()
    }
}

impl SearchIndex {
    /// Opens the index in `index_dir` without writing anything there: the
    /// files are memory-mapped, tokenizers registered, nothing rebuilt.
    pub fn open(index_dir: &Path) -> Result<SearchIndex, IndexError> {
        let metadata = IndexMetadata::read(index_dir)?;
        let open_err = |source| IndexError::Open {
            path: index_dir.to_path_buf(),
            source,
        };
        let directory =
            MmapDirectory::open(index_dir).map_err(|e| open_err(tantivy::TantivyError::from(e)))?;
        let index = Index::open(ReadOnlyDirectory::new(directory)).map_err(open_err)?;
        analysis::register(index.tokenizers());
        let fields = Fields::resolve(&index.schema(), index_dir)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(open_err)?;
        Ok(SearchIndex {
            dir: index_dir.to_path_buf(),
            index,
            reader,
            fields,
            size_bytes: directory_size(index_dir),
            metadata,
            german: analysis::german(),
            english: analysis::english(),
            plain: analysis::plain(),
            keyword: analysis::keyword(),
        })
    }

    /// Documents, size and provenance of the index.
    pub fn stats(&self) -> IndexStats {
        IndexStats {
            documents: self.reader.searcher().num_docs(),
            size_bytes: self.size_bytes,
            built_from: self.metadata.built_from.clone(),
            built_at: self.metadata.built_at.clone(),
            attribute_keys: self.metadata.attribute_keys.clone(),
            facet_attributes: self.metadata.facet_attributes.clone(),
        }
    }

    /// Runs a search; see the module docs for the ranking.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse, IndexError> {
        let searcher = self.reader.searcher();
        let found = self.find(&searcher, request)?;
        let generators = if request.highlight {
            self.snippet_generators(&searcher, found.plan.text.as_deref())?
        } else {
            Vec::new()
        };
        let hits = found
            .top
            .into_iter()
            .zip(found.reasons)
            .map(|((score, address), matched)| {
                self.hit(&searcher, address, score, matched, &generators)
            })
            .collect::<Result<Vec<Hit>, IndexError>>()?;
        Ok(SearchResponse {
            total: found.total,
            hits,
            facets: found.facets,
        })
    }

    /// Runs a search like [`SearchIndex::search`] but answers with article
    /// numbers (read from a fast column) instead of stored documents.
    pub fn rank(&self, request: &SearchRequest) -> Result<Ranking, IndexError> {
        let searcher = self.reader.searcher();
        let found = self.find(&searcher, request)?;
        let articles = self.article_numbers(&searcher, found.top.iter().map(|(_, a)| *a))?;
        let ranked = found
            .top
            .iter()
            .zip(articles)
            .zip(found.reasons)
            .map(|(((score, _), article_no), matched)| Ranked {
                article_no,
                score: *score,
                matched,
            })
            .collect();
        Ok(Ranking {
            total: found.total,
            ranked,
            facets: found.facets,
        })
    }

    /// The hits of ranked products, in their order, with names and (when
    /// `highlight`) snippets of where `query`'s words occur. Products the
    /// index does not hold are left out.
    pub fn hits(
        &self,
        query: &str,
        ranked: Vec<Ranked>,
        highlight: bool,
    ) -> Result<Vec<Hit>, IndexError> {
        let search_err = |source| IndexError::Search { source };
        if ranked.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let generators = if highlight && !query.trim().is_empty() {
            let words = self.words(query);
            let plan = self.plan(&searcher, query, &words, false, &[])?;
            self.snippet_generators(&searcher, plan.text.as_deref())?
        } else {
            Vec::new()
        };
        let terms = ranked.iter().map(|r| {
            Term::from_field_text(self.fields.article_key, &normalize_code(&r.article_no))
        });
        let addresses: Vec<DocAddress> = searcher
            .search(&TermSetQuery::new(terms), &DocSetCollector)
            .map_err(search_err)?
            .into_iter()
            .collect();
        let articles = self.article_numbers(&searcher, addresses.iter().copied())?;
        let at: std::collections::HashMap<&str, DocAddress> = articles
            .iter()
            .map(String::as_str)
            .zip(addresses.iter().copied())
            .collect();
        let mut hits = Vec::with_capacity(ranked.len());
        for Ranked {
            article_no,
            score,
            matched,
        } in ranked
        {
            if let Some(&address) = at.get(article_no.as_str()) {
                hits.push(self.hit(&searcher, address, score, matched, &generators)?);
            }
        }
        Ok(hits)
    }

    /// Plans and runs a request: total, the page, why each hit matched,
    /// and the facet counts.
    fn find(&self, searcher: &Searcher, request: &SearchRequest) -> Result<Found, IndexError> {
        let facet_roots = request
            .facets
            .iter()
            .map(|name| self.facet_root(name))
            .collect::<Result<Vec<Facet>, IndexError>>()?;
        let filters = request
            .filters
            .iter()
            .map(|f| self.filter_query(f))
            .collect::<Result<Vec<_>, _>>()?;
        let words = self.words(&request.query);
        let mut plan = self.plan(searcher, &request.query, &words, true, &filters)?;
        let mut result = self.collect(searcher, &plan, request, &facet_roots)?;
        if result.0 == 0 && words.len() > 1 {
            plan = self.plan(searcher, &request.query, &words, false, &filters)?;
            result = self.collect(searcher, &plan, request, &facet_roots)?;
        }
        let (total, top, facet_counts) = result;
        let reasons = self.reasons(searcher, &plan, &top)?;
        let mut facets = BTreeMap::new();
        if let Some(counts) = facet_counts {
            for (name, root) in request.facets.iter().zip(&facet_roots) {
                let mut values: Vec<(String, u64)> = counts
                    .get(root.clone())
                    .map(|(facet, count)| {
                        let value = facet.to_path().last().copied().unwrap_or_default();
                        (value.to_owned(), count)
                    })
                    .collect();
                values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                values.truncate(FACET_VALUES);
                facets.insert(name.clone(), values);
            }
        }
        Ok(Found {
            total,
            top,
            reasons,
            facets,
            plan,
        })
    }

    /// One hit from its stored document.
    fn hit(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        score: f32,
        matched: Vec<String>,
        generators: &[(&'static str, SnippetGenerator)],
    ) -> Result<Hit, IndexError> {
        let doc: TantivyDocument = searcher
            .doc(address)
            .map_err(|source| IndexError::Search { source })?;
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let highlights = generators
            .iter()
            .filter_map(|(name, generator)| {
                let snippet = generator.snippet_from_doc(&doc);
                (!snippet.highlighted().is_empty()).then(|| ((*name).to_owned(), snippet.to_html()))
            })
            .collect();
        Ok(Hit {
            article_no: text(self.fields.article_no).unwrap_or_default(),
            score,
            name: text(self.fields.name_de).or_else(|| text(self.fields.name_en)),
            family: text(self.fields.family),
            brand: text(self.fields.brand),
            etim_class: text(self.fields.etim_class),
            etim_class_source: None,
            highlights,
            matched,
        })
    }

    /// The article number of each document, from the fast column.
    fn article_numbers(
        &self,
        searcher: &Searcher,
        addresses: impl IntoIterator<Item = DocAddress>,
    ) -> Result<Vec<String>, IndexError> {
        let search_err = |source| IndexError::Search { source };
        let mut articles = Vec::new();
        let mut column: Option<(u32, tantivy::columnar::StrColumn)> = None;
        let mut bytes = Vec::new();
        for address in addresses {
            if column
                .as_ref()
                .is_none_or(|(s, _)| *s != address.segment_ord)
            {
                let found = self.article_column(searcher, address.segment_ord)?;
                column = Some((address.segment_ord, found));
            }
            let (_, column) = column.as_ref().expect("set above");
            bytes.clear();
            if let Some(ord) = column.ords().first(address.doc_id) {
                column
                    .ord_to_bytes(ord, &mut bytes)
                    .map_err(|e| search_err(tantivy::TantivyError::from(e)))?;
            }
            articles.push(String::from_utf8_lossy(&bytes).into_owned());
        }
        Ok(articles)
    }

    /// A segment's `article_no` fast column; an index without it predates
    /// format 2 and is refused with the rebuild hint.
    fn article_column(
        &self,
        searcher: &Searcher,
        segment: u32,
    ) -> Result<tantivy::columnar::StrColumn, IndexError> {
        searcher
            .segment_reader(segment)
            .fast_fields()
            .str(crate::schema::ARTICLE_NO)
            .map_err(|source| IndexError::Search { source })?
            .ok_or_else(|| IndexError::IncompatibleFormat {
                path: self.dir.clone(),
                found: 0,
                expected: crate::meta::FORMAT,
            })
    }

    /// The article numbers of the products that pass every filter (all
    /// products when there is none): what a vector search is restricted
    /// to when a request has filters. Reads the `article_no` fast column,
    /// not the stored documents.
    pub fn matching_articles(&self, filters: &[Filter]) -> Result<HashSet<String>, IndexError> {
        let search_err = |source| IndexError::Search { source };
        let query: Box<dyn Query> = if filters.is_empty() {
            Box::new(AllQuery)
        } else {
            let clauses = filters
                .iter()
                .map(|f| Ok((Occur::Must, self.filter_query(f)?)))
                .collect::<Result<Vec<_>, IndexError>>()?;
            Box::new(BooleanQuery::new(clauses))
        };
        let searcher = self.reader.searcher();
        let docs = searcher
            .search(query.as_ref(), &DocSetCollector)
            .map_err(search_err)?;
        let mut by_segment: BTreeMap<u32, Vec<DocId>> = BTreeMap::new();
        for address in docs {
            by_segment
                .entry(address.segment_ord)
                .or_default()
                .push(address.doc_id);
        }
        let mut articles = HashSet::new();
        for (segment, doc_ids) in by_segment {
            let column = self.article_column(&searcher, segment)?;
            let mut ords: Vec<u64> = doc_ids
                .iter()
                .filter_map(|&doc| column.ords().first(doc))
                .collect();
            ords.sort_unstable();
            ords.dedup();
            column
                .dictionary()
                .sorted_ords_to_term_cb(&ords, |bytes| {
                    articles.insert(String::from_utf8_lossy(bytes).into_owned());
                })
                .map_err(|e| search_err(tantivy::TantivyError::from(e)))?;
        }
        Ok(articles)
    }

    /// The facet path counted for a requested facet: a canonical field
    /// (`family`), or an attribute with few distinct values by any of its
    /// names (`IP-Schutzart`, `ip_schutzart`, `Leistung` for `leistung_w`).
    fn facet_root(&self, name: &str) -> Result<Facet, IndexError> {
        if FACET_FIELDS.contains(&name) {
            return Ok(Facet::from_path([name]));
        }
        let known = &self.metadata.facet_attributes;
        let key = normalize_attribute(name);
        let found = aliases(&key)
            .into_iter()
            .find_map(|alias| {
                known.iter().find(|k| **k == alias).or_else(|| {
                    known.iter().find(|k| {
                        k.strip_prefix(alias.as_str())
                            .is_some_and(|r| r.starts_with('_'))
                    })
                })
            })
            .filter(|_| !key.is_empty());
        match found {
            Some(key) => Ok(Facet::from_path([
                crate::build::ATTRIBUTE_FACET,
                key.as_str(),
            ])),
            None => Err(IndexError::UnknownFacet {
                facet: name.to_owned(),
                attributes: self.metadata.facet_attributes.len(),
            }),
        }
    }

    fn collect(
        &self,
        searcher: &Searcher,
        plan: &Plan,
        request: &SearchRequest,
        facet_roots: &[Facet],
    ) -> Result<Collected, IndexError> {
        let top = (request.limit > 0).then(|| {
            TopDocs::with_limit(request.limit)
                .and_offset(request.offset)
                .order_by_score()
        });
        let facets = (!request.facets.is_empty()).then(|| {
            let mut collector = FacetCollector::for_field(crate::schema::FACETS);
            for root in facet_roots {
                collector.add_facet(root.clone());
            }
            collector
        });
        let (total, top, facets) = searcher
            .search(plan.query.as_ref(), &(Count, top, facets))
            .map_err(|source| IndexError::Search { source })?;
        Ok((total, top.unwrap_or_default(), facets))
    }

    /// The words of a query with their terms in each analysis; words that
    /// analyse to nothing anywhere (stop words, punctuation) are dropped.
    fn words(&self, query: &str) -> Vec<Word> {
        let mut german = self.german.clone();
        let mut english = self.english.clone();
        let mut plain = self.plain.clone();
        let mut tokenizer = SimpleTokenizer::default();
        let mut stream = tokenizer.token_stream(query);
        let mut words = Vec::new();
        while stream.advance() {
            let raw = stream.token().text.clone();
            let first = |analyzer: &mut TextAnalyzer| terms(analyzer, &raw).into_iter().next();
            let word = Word {
                chars: raw.chars().count(),
                german: first(&mut german),
                english: first(&mut english),
                plain: first(&mut plain),
                raw,
            };
            if word.german.is_some() || word.english.is_some() {
                words.push(word);
            }
        }
        words
    }

    fn plan(
        &self,
        searcher: &Searcher,
        query: &str,
        words: &[Word],
        every_word: bool,
        filters: &[Box<dyn Query>],
    ) -> Result<Plan, IndexError> {
        let f = &self.fields;
        let mut reasons = Reasons::default();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();

        // Codes: the whole query as one article number, then each
        // whitespace-separated part.
        let mut codes: Vec<(String, bool)> = Vec::new();
        let whole = normalize_code(query);
        if !whole.is_empty() {
            codes.push((whole, true));
        }
        let parts: Vec<&str> = query.split_whitespace().collect();
        if parts.len() > 1 {
            for part in parts {
                let code = normalize_code(part);
                if !code.is_empty() && !codes.iter().any(|(c, _)| *c == code) {
                    codes.push((code, false));
                }
            }
        }
        let mut code_queries: Vec<Box<dyn Query>> = Vec::new();
        for (code, whole) in &codes {
            let exact = boosted(
                term_query(Term::from_field_text(f.article_key, code)),
                EXACT_CODE,
            );
            reasons.add("article_no", exact.as_ref());
            code_queries.push(exact);
            let manufacturer = boosted(
                term_query(Term::from_field_text(f.manufacturer_key, code)),
                MANUFACTURER_CODE,
            );
            reasons.add("manufacturer_no", manufacturer.as_ref());
            code_queries.push(manufacturer);
            if code.bytes().all(|b| b.is_ascii_digit()) && (8..=14).contains(&code.len()) {
                let gtin = boosted(term_query(Term::from_field_text(f.gtin, code)), EXACT_CODE);
                reasons.add("gtin", gtin.as_ref());
                code_queries.push(gtin);
            }
            if *whole && code.chars().count() >= SHORTEST_PREFIX {
                // Codes are alphanumeric (normalize_code), so they need no
                // escaping in a pattern.
                let prefix = RegexQuery::from_pattern(&format!("{code}.*"), f.article_key)
                    .map_err(|source| IndexError::Search { source })?;
                let prefix = boosted(Box::new(prefix), PREFIX_CODE);
                reasons.add("article_no prefix", prefix.as_ref());
                code_queries.push(prefix);
            }
        }

        if let Some(name) = normalize_name(query) {
            let exact = boosted(
                term_query(Term::from_field_text(f.name_key, &name)),
                EXACT_NAME,
            );
            reasons.add("exact name", exact.as_ref());
            code_queries.push(exact);
        }

        // Words.
        let mut word_clauses: Vec<Box<dyn Query>> = Vec::new();
        let mut text_terms: Vec<Box<dyn Query>> = Vec::new();
        for word in words {
            let mut alternatives: Vec<Box<dyn Query>> = Vec::new();
            let mut exact_hits = 0u64;
            let mut add = |reason: &'static str,
                           field: Field,
                           text: &Option<String>,
                           boost: f32,
                           reasons: &mut Reasons|
             -> Result<(), IndexError> {
                if let Some(text) = text {
                    let term = Term::from_field_text(field, text);
                    exact_hits += searcher
                        .doc_freq(&term)
                        .map_err(|source| IndexError::Search { source })?;
                    let query = boosted(term_query(term), boost);
                    reasons.add(reason, query.as_ref());
                    alternatives.push(query);
                }
                Ok(())
            };
            add("name_de", f.name_de, &word.german, NAME, &mut reasons)?;
            add("name_en", f.name_en, &word.english, NAME, &mut reasons)?;
            add(
                "description_de",
                f.description_de,
                &word.german,
                DESCRIPTION,
                &mut reasons,
            )?;
            add(
                "description_en",
                f.description_en,
                &word.english,
                DESCRIPTION,
                &mut reasons,
            )?;
            add("family", f.family, &word.german, TAXONOMY, &mut reasons)?;
            add("series", f.series, &word.german, TAXONOMY, &mut reasons)?;
            add("brand", f.brand, &word.german, TAXONOMY, &mut reasons)?;
            add(
                "attributes",
                f.attributes,
                &word.german,
                ATTRIBUTE_TEXT,
                &mut reasons,
            )?;
            add(
                "etim_class",
                f.etim_class,
                &Some(word.raw.to_uppercase()),
                TAXONOMY,
                &mut reasons,
            )?;
            text_terms.extend(alternatives.iter().map(|q| q.box_clone()));

            let grams = word.plain.as_deref().map(query_ngrams).unwrap_or_default();
            if !grams.is_empty() {
                let boost = NGRAM_TOTAL / grams.len() as f32;
                let parts = all(grams
                    .iter()
                    .map(|g| term_query(Term::from_field_text(f.ngram, g)))
                    .collect());
                let parts = boosted(parts, boost);
                reasons.add("name part", parts.as_ref());
                alternatives.push(parts);
            }

            let distance = match word.chars {
                0..5 => 0,
                5..9 => 1,
                _ => 2,
            };
            if exact_hits == 0 && distance > 0 {
                for (field, text) in [(f.name_de, &word.german), (f.name_en, &word.english)] {
                    if let Some(text) = text {
                        let term = Term::from_field_text(field, text);
                        let fuzzy =
                            boosted(Box::new(FuzzyTermQuery::new(term, distance, true)), TYPO);
                        reasons.add("typo", fuzzy.as_ref());
                        alternatives.push(fuzzy);
                    }
                }
            }
            word_clauses.push(any(alternatives));
        }

        let text_query = (!word_clauses.is_empty()).then(|| {
            if every_word {
                all(word_clauses)
            } else {
                any(word_clauses)
            }
        });
        let mut matchers = code_queries;
        matchers.extend(text_query);
        if matchers.is_empty() {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        } else {
            clauses.push((Occur::Must, any(matchers)));
        }
        for filter in filters {
            // Filters select, they do not rank.
            clauses.push((Occur::Must, boosted(filter.box_clone(), 0.0)));
        }
        Ok(Plan {
            query: Box::new(BooleanQuery::new(clauses)),
            text: (!text_terms.is_empty()).then(|| any(text_terms)),
            reasons: reasons.finish(),
        })
    }

    /// A range in a unit the index knows for the attribute (delivered in
    /// it, or convertible from a unit it was delivered in); otherwise the
    /// range could only ever be empty, so the request is refused with the
    /// units the attribute does have.
    fn check_unit(
        &self,
        field: &str,
        keys: &[String],
        asked: &str,
        units: &[(Option<String>, f64)],
    ) -> Result<(), IndexError> {
        let known = &self.metadata.attribute_keys;
        let present = |key: &str| known.binary_search_by(|k| k.as_str().cmp(key)).is_ok();
        let found = keys.iter().any(|key| {
            units
                .iter()
                .any(|(unit, _)| present(&fact_key(key, unit.as_deref())))
        });
        if found {
            return Ok(());
        }
        let mut delivered: Vec<String> = keys
            .iter()
            .flat_map(|key| {
                let prefix = format!("{key}_");
                known
                    .iter()
                    .filter_map(move |k| k.strip_prefix(&prefix).map(str::to_owned))
            })
            .collect();
        delivered.sort();
        delivered.dedup();
        Err(IndexError::UnknownUnit {
            field: field.to_owned(),
            unit: asked.to_owned(),
            delivered,
        })
    }

    fn filter_query(&self, filter: &Filter) -> Result<Box<dyn Query>, IndexError> {
        let f = &self.fields;
        let field = match filter {
            Filter::Equals { field, .. }
            | Filter::Range { field, .. }
            | Filter::Bool { field, .. } => field,
            Filter::Articles { article_nos } => {
                let terms = article_nos
                    .iter()
                    .map(|a| Term::from_field_text(f.article_key, &normalize_code(a)));
                return Ok(Box::new(TermSetQuery::new(terms)));
            }
            Filter::Any { filters } => {
                let clauses = filters
                    .iter()
                    .map(|f| Ok((Occur::Should, self.filter_query(f)?)))
                    .collect::<Result<Vec<_>, IndexError>>()?;
                return Ok(Box::new(BooleanQuery::new(clauses)));
            }
            Filter::Not { filter } => {
                return Ok(Box::new(BooleanQuery::new(vec![
                    (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
                    (Occur::MustNot, self.filter_query(filter)?),
                ])));
            }
        };
        let key = normalize_attribute(field);
        if key.is_empty() {
            return Err(IndexError::EmptyFilterField {
                field: field.clone(),
            });
        }
        let keys = aliases(&key);
        let json = |path: &str| Term::from_field_json_path(f.attrs, path, false);
        let number_range = |path: &str, min: Option<f64>, max: Option<f64>| -> Box<dyn Query> {
            let bound = |value: Option<f64>| match value {
                Some(v) => {
                    let mut term = json(path);
                    term.append_type_and_fast_value(v);
                    Bound::Included(term)
                }
                None => Bound::Unbounded,
            };
            Box::new(RangeQuery::new(bound(min), bound(max)))
        };
        Ok(match filter {
            Filter::Equals { field, value } => {
                if FACET_FIELDS.contains(&field.as_str()) {
                    let facet = Facet::from_path([field.as_str(), value.as_str()]);
                    term_query(Term::from_facet(f.facets, &facet))
                } else if key == "article_no" {
                    term_query(Term::from_field_text(f.article_key, &normalize_code(value)))
                } else if key == "gtin" {
                    term_query(Term::from_field_text(f.gtin, value.trim()))
                } else {
                    let mut keyword = self.keyword.clone();
                    let text = terms(&mut keyword, value.trim()).into_iter().next();
                    let number = value.trim().replace(',', ".").parse::<f64>().ok();
                    let mut options: Vec<Box<dyn Query>> = Vec::new();
                    for key in &keys {
                        if let Some(text) = &text {
                            let mut term = json(key);
                            term.append_type_and_str(text);
                            options.push(term_query(term));
                        }
                        if let Some(n) = number.filter(|n| n.is_finite()) {
                            options.push(number_range(key, Some(n), Some(n)));
                        }
                    }
                    any(options)
                }
            }
            Filter::Range {
                field,
                min,
                max,
                unit,
            } => {
                if min.is_none() && max.is_none() {
                    return Err(IndexError::EmptyRange {
                        field: field.clone(),
                    });
                }
                // A range in kW also finds values delivered in W (and mm
                // in cm, g in kg, ...): one range per unit of the quantity.
                let units = match unit.as_deref() {
                    Some(unit) => convertible_units(unit),
                    None => vec![(None, 1.0)],
                };
                if let Some(asked) = unit.as_deref() {
                    self.check_unit(field, &keys, asked, &units)?;
                }
                let mut options = Vec::new();
                for key in &keys {
                    for (unit, factor) in &units {
                        // Converted bounds are widened by a rounding
                        // error, so 0.3 kW still includes 300 W.
                        let slack = if *factor == 1.0 { 0.0 } else { 1e-9 };
                        let scale = |v: Option<f64>, side: f64| {
                            v.map(|v| v * factor + side * slack * (v * factor).abs())
                        };
                        options.push(number_range(
                            &fact_key(key, unit.as_deref()),
                            scale(*min, -1.0),
                            scale(*max, 1.0),
                        ));
                    }
                }
                any(options)
            }
            Filter::Bool { value, .. } => any(keys
                .iter()
                .map(|key| {
                    let mut term = json(key);
                    term.append_type_and_fast_value(*value);
                    term_query(term)
                })
                .collect()),
            Filter::Articles { .. } | Filter::Any { .. } | Filter::Not { .. } => {
                unreachable!("handled above")
            }
        })
    }

    fn snippet_generators(
        &self,
        searcher: &Searcher,
        text: Option<&dyn Query>,
    ) -> Result<Vec<(&'static str, SnippetGenerator)>, IndexError> {
        let Some(text) = text else {
            return Ok(Vec::new());
        };
        let f = &self.fields;
        [
            ("name_de", f.name_de),
            ("name_en", f.name_en),
            ("description_de", f.description_de),
            ("description_en", f.description_en),
        ]
        .into_iter()
        .map(|(name, field)| {
            SnippetGenerator::create(searcher, text, field)
                .map(|generator| (name, generator))
                .map_err(|source| IndexError::Search { source })
        })
        .collect()
    }

    /// Per hit, the reasons whose query matches it: each reason's query is
    /// run once per segment, seeking to the hits in doc id order.
    fn reasons(
        &self,
        searcher: &Searcher,
        plan: &Plan,
        top: &[(f32, DocAddress)],
    ) -> Result<Vec<Vec<String>>, IndexError> {
        let search_err = |source| IndexError::Search { source };
        let mut matched = vec![Vec::new(); top.len()];
        let mut order: Vec<usize> = (0..top.len()).collect();
        order.sort_by_key(|&i| (top[i].1.segment_ord, top[i].1.doc_id));
        for (reason, query) in &plan.reasons {
            let weight = query
                .weight(EnableScoring::disabled_from_searcher(searcher))
                .map_err(search_err)?;
            let mut current: Option<(u32, Box<dyn tantivy::query::Scorer>)> = None;
            for &i in &order {
                let address = top[i].1;
                if current
                    .as_ref()
                    .is_none_or(|(s, _)| *s != address.segment_ord)
                {
                    let reader = searcher.segment_reader(address.segment_ord);
                    current = Some((
                        address.segment_ord,
                        weight.scorer(reader, 1.0).map_err(search_err)?,
                    ));
                }
                let (_, scorer) = current.as_mut().expect("set above");
                let doc: DocId = address.doc_id;
                if scorer.doc() < doc {
                    scorer.seek(doc);
                }
                if scorer.doc() == doc {
                    matched[i].push((*reason).to_owned());
                }
            }
        }
        Ok(matched)
    }

    /// The tantivy index, for callers that need more than [`SearchIndex::search`].
    pub fn index(&self) -> &Index {
        &self.index
    }
}

fn aliases(key: &str) -> Vec<String> {
    ATTRIBUTE_ALIASES
        .iter()
        .find(|group| group.contains(&key))
        .map(|group| group.iter().map(|k| (*k).to_owned()).collect())
        .unwrap_or_else(|| vec![key.to_owned()])
}
