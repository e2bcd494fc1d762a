//! Editors' class corrections over the read-only data: the catalog and
//! the search index are baked into an image and never change, while an
//! editor's correction lives in the state database and wins at once.
//! [`Overlay`] is the one place a correction is applied: to a product's
//! answer, to search hits, to the `etim_class` filter and to its facet,
//! to listings filtered by class and to the class counts, so the console's
//! API, its pages and MCP all answer the same class.
//!
//! The corrections are read per request ([`ClassCorrections::current`]):
//! they are few (people make them one by one), and a cache would have to
//! be told about each new one.

use std::collections::{BTreeMap, HashMap};

use cradle_index::{Filter, Hit, SearchIndex, SearchRequest};
use serde_json::{Value, json};

pub use cradle_state::ClassCorrection;

use crate::store::{BoxFuture, ProductQuery, StoreError};

/// Where corrections come from: the state database, or a list in tests.
pub trait ClassCorrections: Send + Sync + 'static {
    /// The newest correction of every corrected product.
    fn current(&self) -> BoxFuture<'_, Result<Vec<ClassCorrection>, StoreError>>;
}

impl ClassCorrections for cradle_state::StateDb {
    fn current(&self) -> BoxFuture<'_, Result<Vec<ClassCorrection>, StoreError>> {
        Box::pin(async move {
            self.current_class_corrections()
                .await
                .map_err(|source| StoreError::Internal {
                    source: Box::new(source),
                })
        })
    }
}

impl ClassCorrections for Vec<ClassCorrection> {
    fn current(&self) -> BoxFuture<'_, Result<Vec<ClassCorrection>, StoreError>> {
        Box::pin(async move { Ok(self.clone()) })
    }
}

/// `source` of a class an editor set.
pub const CORRECTION: &str = "correction";

/// The corrections in force, by article number.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    by_article: HashMap<String, ClassCorrection>,
}

/// Class codes compare as the index compares them: trimmed, any case.
fn same_class(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

fn is_class_field(field: &str) -> bool {
    field.trim().eq_ignore_ascii_case("etim_class")
}

impl Overlay {
    pub fn new(corrections: Vec<ClassCorrection>) -> Overlay {
        Overlay {
            by_article: corrections
                .into_iter()
                .map(|c| (c.article_no.clone(), c))
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_article.is_empty()
    }

    pub fn get(&self, article_no: &str) -> Option<&ClassCorrection> {
        self.by_article.get(article_no)
    }

    /// A product's answer with its correction, if it has one: `etim_class`
    /// the editor's, `etim_class_source` `correction`, `corrected_by`,
    /// `corrected_at` and `previous_class` (the class shown before); the
    /// classifier's decision stays in `classification`.
    pub fn apply_to_product(&self, product: &mut Value) {
        let Some(object) = product.as_object_mut() else {
            return;
        };
        let Some(correction) = object
            .get("article_no")
            .and_then(Value::as_str)
            .and_then(|article| self.by_article.get(article))
        else {
            return;
        };
        object.insert("etim_class".into(), json!(correction.etim_class));
        object.insert("etim_class_source".into(), json!(CORRECTION));
        object.insert("etim_class_confidence".into(), Value::Null);
        object.insert("corrected_by".into(), json!(correction.email));
        object.insert("corrected_at".into(), json!(correction.at));
        object.insert("previous_class".into(), json!(correction.previous));
    }

    /// The corrected products, by article number.
    pub fn articles(&self) -> impl Iterator<Item = &str> {
        self.by_article.keys().map(String::as_str)
    }

    /// A listing's class condition following the corrections: products an
    /// editor moved to the class pass it, products moved away do not.
    pub fn apply_to_query(&self, query: &mut ProductQuery) {
        let Some(class) = &query.etim_class else {
            return;
        };
        for correction in self.by_article.values() {
            let list = if same_class(&correction.etim_class, class) {
                &mut query.class_also
            } else {
                &mut query.class_not
            };
            list.push(correction.article_no.clone());
        }
        query.class_also.sort();
        query.class_not.sort();
    }

    /// A listing's page (`{"items": [...]}`) with corrected classes.
    pub fn apply_to_page(&self, page: &mut Value) {
        let Some(items) = page.get_mut("items").and_then(Value::as_array_mut) else {
            return;
        };
        for item in items {
            let Some(correction) = item
                .get("article_no")
                .and_then(Value::as_str)
                .and_then(|article| self.by_article.get(article))
            else {
                continue;
            };
            if let Some(object) = item.as_object_mut() {
                object.insert("etim_class".into(), json!(correction.etim_class));
                object.insert("etim_class_source".into(), json!(CORRECTION));
            }
        }
    }

    /// Class counts (`[{"name", "products"}]`) with each corrected product
    /// moved from the class it had (`before`: article number to the
    /// catalog's class) to the editor's.
    pub fn apply_to_counts(&self, counts: &mut Value, before: &HashMap<String, Option<String>>) {
        let Some(items) = counts.as_array() else {
            return;
        };
        let mut by_class: BTreeMap<String, u64> = items
            .iter()
            .filter_map(|item| {
                Some((
                    item.get("name")?.as_str()?.to_owned(),
                    item.get("products")?.as_u64()?,
                ))
            })
            .collect();
        for (article, correction) in &self.by_article {
            // A correction of a product the data does not hold counts nowhere.
            let Some(previous) = before.get(article) else {
                continue;
            };
            if let Some(previous) = previous
                && let Some(count) = by_class.get_mut(previous)
            {
                *count = count.saturating_sub(1);
            }
            *by_class.entry(correction.etim_class.clone()).or_default() += 1;
        }
        let mut adjusted: Vec<(String, u64)> =
            by_class.into_iter().filter(|(_, n)| *n > 0).collect();
        adjusted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        *counts = adjusted
            .into_iter()
            .map(|(name, products)| json!({"name": name, "products": products}))
            .collect();
    }

    /// Hits with their corrected classes.
    pub fn apply_to_hits(&self, hits: &mut [Hit]) {
        for hit in hits {
            if let Some(correction) = self.by_article.get(&hit.article_no) {
                hit.etim_class = Some(correction.etim_class.clone());
                hit.etim_class_source = Some(CORRECTION.to_owned());
            }
        }
    }

    /// The filters with every `etim_class` condition asking for the
    /// corrected class: a product passes `etim_class = X` when an editor
    /// set X, or when the index says X and no editor changed it.
    pub fn rewrite_filters(&self, filters: Vec<Filter>) -> Vec<Filter> {
        if self.is_empty() {
            return filters;
        }
        let mut rewritten = Vec::with_capacity(filters.len() + 1);
        for filter in filters {
            let Filter::Equals { field, value } = &filter else {
                rewritten.push(filter);
                continue;
            };
            if !is_class_field(field) {
                rewritten.push(filter);
                continue;
            }
            let (to, away): (Vec<&ClassCorrection>, Vec<&ClassCorrection>) = self
                .by_article
                .values()
                .partition(|c| same_class(&c.etim_class, value));
            let articles = |list: Vec<&ClassCorrection>| {
                let mut article_nos: Vec<String> =
                    list.into_iter().map(|c| c.article_no.clone()).collect();
                article_nos.sort();
                article_nos
            };
            if !away.is_empty() {
                rewritten.push(Filter::Not {
                    filter: Box::new(Filter::Articles {
                        article_nos: articles(away),
                    }),
                });
            }
            if to.is_empty() {
                rewritten.push(filter);
            } else {
                rewritten.push(Filter::Any {
                    filters: vec![
                        filter,
                        Filter::Articles {
                            article_nos: articles(to),
                        },
                    ],
                });
            }
        }
        rewritten
    }

    /// The `etim_class` facet of `request`'s matches with corrected
    /// products counted under their corrected class: the corrected
    /// products among the matches are looked up (their classes in the
    /// index), and moved from that count to the editor's. Blocking.
    pub fn adjust_class_facet(
        &self,
        index: &SearchIndex,
        request: &SearchRequest,
        facets: &mut BTreeMap<String, Vec<(String, u64)>>,
    ) -> Result<(), cradle_index::IndexError> {
        if self.is_empty() {
            return Ok(());
        }
        let Some(name) = facets.keys().find(|k| is_class_field(k)).cloned() else {
            return Ok(());
        };
        let mut corrected = request.clone();
        corrected.facets.clear();
        corrected.highlight = false;
        corrected.offset = 0;
        corrected.limit = self.by_article.len();
        let mut article_nos: Vec<String> = self.by_article.keys().cloned().collect();
        article_nos.sort();
        corrected.filters.push(Filter::Articles { article_nos });
        let found = index.search(&corrected)?;
        let counts = facets.get_mut(&name).expect("found above");
        let mut by_class: BTreeMap<String, u64> = counts.drain(..).collect();
        for hit in &found.hits {
            let Some(correction) = self.by_article.get(&hit.article_no) else {
                continue;
            };
            if let Some(before) = &hit.etim_class
                && let Some(count) = by_class.get_mut(before)
            {
                *count = count.saturating_sub(1);
            }
            *by_class.entry(correction.etim_class.clone()).or_default() += 1;
        }
        let mut adjusted: Vec<(String, u64)> =
            by_class.into_iter().filter(|(_, n)| *n > 0).collect();
        adjusted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        *counts = adjusted;
        Ok(())
    }
}
