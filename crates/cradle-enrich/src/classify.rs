//! ETIM classification of every product: a valid class code from the
//! delivery first; otherwise the classifier, which weighs the classes of
//! the nearest already-classified products (on the identity chunks'
//! embeddings), class names and synonyms in the product's texts, and
//! attribute evidence.

use std::collections::BTreeMap;

use cradle_classify::{Classification, CodeCheck, EtimModel, Evidence, SourceAttribute};
use cradle_vector::VectorIndex;
use rayon::prelude::*;

use crate::Progress;
use crate::read::{Delivery, ProductText};
use crate::tables::{ClassRow, FeatureRow};

/// Neighbours asked of the index per product; hits of the same product and
/// of unlabelled products are dropped from these.
const NEIGHBOUR_CANDIDATES: usize = 48;
/// Neighbours handed to the classifier.
const NEIGHBOURS: usize = 10;

/// Where each product's vectors are in the vector index.
pub struct VectorLookup<'a> {
    pub index: &'a VectorIndex,
    /// Index row → product index (in `Delivery::products`).
    pub row_product: Vec<u32>,
    /// Product index → the row of its first identity chunk, if any.
    pub identity_row: Vec<Option<u32>>,
}

/// A product's valid delivered class, if it has one.
pub fn delivered_label(model: &EtimModel, product: &ProductText) -> Option<String> {
    let raw = product.etim_class.as_deref()?;
    cradle_classify::validate_code(model, raw)
        .valid()
        .map(str::to_owned)
}

pub fn source_attributes(delivery: &Delivery, product: &ProductText) -> Vec<SourceAttribute> {
    product
        .attributes
        .iter()
        .map(|attr| SourceAttribute {
            name: delivery.name(attr).to_owned(),
            unit: delivery.unit(attr).map(str::to_owned),
            text: product.value(attr).to_owned(),
            number: attr.number,
        })
        .collect()
}

fn texts(product: &ProductText) -> Vec<&str> {
    [
        &product.name_de,
        &product.name_en,
        &product.family,
        &product.description_de,
        &product.description_en,
    ]
    .into_iter()
    .flatten()
    .map(String::as_str)
    .collect()
}

/// The classes of the nearest labelled products other than `product`,
/// with their cosine similarity; `hidden` products do not count as
/// labelled (their labels are what an evaluation tries to predict).
pub fn neighbours(
    lookup: &VectorLookup<'_>,
    labels: &[Option<String>],
    product: usize,
    hidden: &dyn Fn(usize) -> bool,
) -> Vec<(String, f32)> {
    let Some(row) = lookup.identity_row[product] else {
        return Vec::new();
    };
    let Some(query) = lookup.index.vector(row) else {
        return Vec::new();
    };
    let Ok(hits) = lookup.index.search(query, NEIGHBOUR_CANDIDATES) else {
        return Vec::new();
    };
    let mut best: Vec<(usize, f32)> = Vec::new();
    for hit in hits {
        let other = lookup.row_product[hit.row as usize] as usize;
        if other == u32::MAX as usize
            || other == product
            || labels[other].is_none()
            || hidden(other)
        {
            continue;
        }
        match best.iter_mut().find(|(p, _)| *p == other) {
            Some(entry) => entry.1 = entry.1.max(hit.score),
            None => best.push((other, hit.score)),
        }
    }
    best.sort_by(|a, b| b.1.total_cmp(&a.1));
    best.truncate(NEIGHBOURS);
    best.into_iter()
        .filter_map(|(p, score)| Some((labels[p].clone()?, score)))
        .collect()
}

/// Classifies one product with its delivered code hidden or not;
/// `attributes` are the product's [`source_attributes`].
pub fn classify_product(
    model: &EtimModel,
    product: &ProductText,
    attributes: &[SourceAttribute],
    neighbours: &[(String, f32)],
    use_delivered_code: bool,
) -> Option<Classification> {
    let evidence = Evidence {
        delivered_code: if use_delivered_code {
            product.etim_class.as_deref()
        } else {
            None
        },
        texts: texts(product),
        attributes,
        neighbours,
    };
    cradle_classify::classify(model, &evidence)
}

/// Why a delivered class code is not used, if it is not.
fn code_problem(check: &CodeCheck) -> Option<String> {
    match check {
        CodeCheck::Valid { .. } => None,
        CodeCheck::Unknown { code } => Some(format!("{code} is not a class of the ETIM model")),
        CodeCheck::Malformed { raw, suggestion } => Some(match suggestion {
            Some(code) => format!("{raw:?} is not an ETIM class code (perhaps {code})"),
            None => format!("{raw:?} is not an ETIM class code"),
        }),
    }
}

/// What classification produced.
#[derive(Debug, Default)]
pub struct Classified {
    pub rows: Vec<ClassRow>,
    pub features: Vec<FeatureRow>,
    pub by_source: BTreeMap<String, u64>,
    pub classified: u64,
    pub unclassified: u64,
    pub invalid_codes: u64,
}

/// Classifies every product and maps its attributes to the class's ETIM
/// features.
pub fn classify_all(
    model: &EtimModel,
    delivery: &Delivery,
    lookup: Option<&VectorLookup<'_>>,
    progress: &dyn Progress,
) -> Classified {
    let labels: Vec<Option<String>> = delivery
        .products
        .iter()
        .map(|p| delivered_label(model, p))
        .collect();
    progress.stage("classifying products", delivery.products.len() as u64);
    let per_product: Vec<(ClassRow, Vec<FeatureRow>)> = delivery
        .products
        .par_iter()
        .enumerate()
        .map(|(i, product)| {
            let near = match (&labels[i], lookup) {
                (None, Some(lookup)) => neighbours(lookup, &labels, i, &|_| false),
                _ => Vec::new(),
            };
            let attributes = source_attributes(delivery, product);
            let result = classify_product(model, product, &attributes, &near, true);
            let problem = product
                .etim_class
                .as_deref()
                .and_then(|raw| code_problem(&cradle_classify::validate_code(model, raw)));
            let row = ClassRow {
                article_no: product.article_no.clone(),
                class: result.as_ref().map(|c| c.class.clone()),
                class_name: result
                    .as_ref()
                    .and_then(|c| model.class(&c.class))
                    .map(|class| class.name().to_owned()),
                confidence: result.as_ref().map(|c| c.confidence),
                source: result
                    .as_ref()
                    .map_or("none", |c| c.source.as_str())
                    .to_owned(),
                alternatives: result
                    .as_ref()
                    .map(|c| {
                        c.alternatives
                            .iter()
                            .map(|(code, p)| format!("{code}:{p:.3}"))
                            .collect::<Vec<_>>()
                            .join(";")
                    })
                    .unwrap_or_default(),
                delivered_code: product.etim_class.clone(),
                delivered_code_problem: problem,
            };
            let features = match &result {
                Some(c) => cradle_classify::map_features(model, &c.class, &attributes)
                    .into_iter()
                    .map(|m| FeatureRow {
                        article_no: product.article_no.clone(),
                        class: c.class.clone(),
                        feature_name: model
                            .feature(&m.feature)
                            .and_then(|f| f.description("en").or(f.description("de")))
                            .map(str::to_owned)
                            .unwrap_or_default(),
                        feature_code: m.feature,
                        value: attributes[m.attribute].text.clone(),
                        unit: m.unit,
                        attribute: attributes[m.attribute].name.clone(),
                        reason: m.reason,
                    })
                    .collect(),
                None => Vec::new(),
            };
            progress.advance(1);
            (row, features)
        })
        .collect();
    progress.finish_stage();
    let mut out = Classified::default();
    for (row, features) in per_product {
        if row.class.is_some() {
            out.classified += 1;
            *out.by_source.entry(row.source.clone()).or_default() += 1;
        } else {
            out.unclassified += 1;
        }
        if row.delivered_code_problem.is_some() {
            out.invalid_codes += 1;
        }
        out.rows.push(row);
        out.features.extend(features);
    }
    out
}
