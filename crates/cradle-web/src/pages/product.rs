//! A product (`/products/{article_no}`): canonical fields, the ETIM class
//! with its confidence and source and its features, every attribute value
//! with its provenance (file, sheet, row, column, original text), media
//! with the text enrich extracted from them, relations and the product's
//! history across deliveries; and the editor's class correction, stored in
//! the state database, shown with who and when. The class shown is the one
//! the query layer answers, a correction already applied (as the API and
//! MCP answer it).

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use cradle_state::{ClassCorrection, Role};
use serde::Deserialize;
use serde_json::Value;

use crate::Web;
use crate::error::WebError;
use crate::pages::search::path_segment;
use crate::pages::{data, display, render, state_error};
use crate::session::{Chrome, Signed};

/// The product as the catalog answers it (the fields the page shows).
#[derive(Debug, Deserialize)]
struct Product {
    article_no: String,
    #[serde(default)]
    fields: BTreeMap<String, Value>,
    etim_class: Option<String>,
    #[serde(default)]
    etim_class_source: Option<String>,
    #[serde(default)]
    etim_class_confidence: Option<f64>,
    #[serde(default)]
    classification: Option<Classification>,
    #[serde(default)]
    corrected_by: Option<String>,
    #[serde(default)]
    corrected_at: Option<String>,
    #[serde(default)]
    features: Vec<Feature>,
    #[serde(default)]
    attributes: Vec<AttributeGroup>,
    #[serde(default)]
    media: Vec<Media>,
    #[serde(default)]
    relations: Vec<Relation>,
    #[serde(default)]
    history: Vec<HistoryEvent>,
}

#[derive(Debug, Deserialize)]
pub struct Feature {
    pub code: String,
    pub name: String,
    pub original: String,
    pub unit: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AttributeGroup {
    pub name: String,
    pub values: Vec<AttributeValue>,
}

#[derive(Debug, Deserialize)]
pub struct AttributeValue {
    pub original: String,
    pub unit: Option<String>,
    pub provenance: Provenance,
}

#[derive(Debug, Deserialize)]
pub struct Provenance {
    pub file: String,
    pub sheet: Option<String>,
    pub row: i64,
    pub column: String,
}

#[derive(Debug, Deserialize)]
pub struct Media {
    pub kind: String,
    pub reference: String,
    pub attribute: String,
    #[serde(default)]
    pub text: Option<String>,
}

/// Enrich's decision, as the catalog answers it.
#[derive(Debug, Deserialize)]
struct Classification {
    etim_class: Option<String>,
    #[serde(default)]
    class_name: Option<String>,
    #[serde(default)]
    confidence: Option<f64>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    alternatives: Vec<Alternative>,
    #[serde(default)]
    features: Vec<MappedFeature>,
}

#[derive(Debug, Deserialize)]
struct Alternative {
    etim_class: String,
    confidence: f64,
}

#[derive(Debug, Deserialize)]
pub struct MappedFeature {
    pub code: String,
    pub name: String,
    pub value: String,
    pub unit: Option<String>,
    pub attribute: String,
}

/// Extracted text up to this many characters is shown open; longer text
/// is collapsed behind its first words.
const OPEN_TEXT_CHARS: usize = 400;

/// A media item as the page shows it.
pub struct MediaItem {
    pub media: Media,
    /// The beginning of a long text, shown while it is collapsed.
    pub preview: Option<String>,
}

/// A confidence from 0 to 1 as a whole percentage.
fn percent(confidence: f64) -> String {
    format!("{:.0} %", (confidence * 100.0).clamp(0.0, 100.0))
}

/// What a class source means, in the user's language.
fn source_label(t: &crate::i18n::Text, source: &str) -> String {
    match source {
        "delivered" => t.source_delivered.to_owned(),
        "neighbours" => t.source_neighbours.to_owned(),
        "names" => t.source_names.to_owned(),
        "attributes" => t.source_attributes.to_owned(),
        cradle_query::corrections::CORRECTION => t.source_correction.to_owned(),
        other => other.to_owned(),
    }
}

#[derive(Debug, Deserialize)]
pub struct Relation {
    pub relation: String,
    pub direction: String,
    pub article_no: String,
    pub name_de: Option<String>,
    pub name_en: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct HistoryEvent {
    pub delivery: u64,
    pub committed_at: Option<String>,
    pub status: String,
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    chrome: Chrome,
    article_no: String,
    action: String,
    name: String,
    fields: Vec<(String, String)>,
    /// The class shown: the newest correction, else the catalog's.
    etim_class: String,
    /// Where it came from and how sure, for people; empty when unknown.
    class_source: String,
    confidence: String,
    /// Who corrected it and when, if an editor did.
    corrected: Option<(String, String)>,
    /// The catalog's class (enrich's, else the delivered one).
    catalog_class: String,
    /// Whether enrich classified the delivery.
    enriched: bool,
    /// The class name, runners-up and mapped features enrich gave.
    class_name: String,
    alternatives: Vec<(String, String)>,
    mapped_features: Vec<MappedFeature>,
    corrections: Vec<ClassCorrection>,
    can_correct: bool,
    classes: Vec<String>,
    features: Vec<Feature>,
    attributes: Vec<AttributeGroup>,
    media: Vec<MediaItem>,
    relations: Vec<(Relation, String, String)>,
    history: Vec<HistoryEvent>,
}

pub async fn page(
    State(web): State<Web>,
    signed: Signed,
    Path(article_no): Path<String>,
) -> Result<Response, WebError> {
    let lang = signed.lang;
    let data = data(&web, lang)?;
    let value = data
        .product(&article_no)
        .await
        .map_err(|e| WebError::query(lang, e))?;
    let product: Product = serde_json::from_value(value)
        .map_err(|source| WebError::internal("the catalog's product is not as expected", source))?;
    let corrections = web
        .app
        .state_db()
        .class_corrections(&product.article_no)
        .await
        .map_err(state_error)?;
    let can_correct = signed.user.role.edits_classes();
    let classes = if can_correct {
        data.classes()
            .await
            .map_err(|e| WebError::query(lang, e))?
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.get("name").map(display))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let text = |key: &str| {
        product
            .fields
            .get(key)
            .map(display)
            .filter(|s| !s.is_empty())
    };
    let name = match lang {
        crate::Lang::De => text("name_de").or_else(|| text("name_en")),
        crate::Lang::En => text("name_en").or_else(|| text("name_de")),
    }
    .unwrap_or_else(|| product.article_no.clone());
    let t = lang.text();
    let etim_class = product.etim_class.clone().unwrap_or_default();
    let corrected = product.corrected_by.clone().map(|by| {
        let at = product.corrected_at.clone().unwrap_or_default();
        (by, at)
    });
    let classification = product.classification;
    let catalog_class = match &classification {
        Some(c) => c.etim_class.clone(),
        None => product.fields.get("etim_class").map(display),
    }
    .unwrap_or_default();
    let class_source = product
        .etim_class_source
        .as_deref()
        .map(|s| source_label(t, s))
        .unwrap_or_default();
    let confidence = product
        .etim_class_confidence
        .map(percent)
        .unwrap_or_default();
    let (enriched, class_name, alternatives, mapped_features) = match classification {
        Some(c) => {
            let mut name = c.class_name.unwrap_or_default();
            // Once corrected, the classifier's own view is shown beside it.
            if corrected.is_some()
                && let Some(class) = &c.etim_class
            {
                let how = c.confidence.map(percent).unwrap_or_default();
                name = format!(
                    "{} {class} {name} ({how}, {})",
                    t.classifier_says,
                    source_label(t, &c.source)
                );
            }
            let alternatives = c
                .alternatives
                .into_iter()
                .filter(|a| Some(&a.etim_class) != c.etim_class.as_ref())
                .map(|a| (a.etim_class, percent(a.confidence)))
                .collect();
            (true, name, alternatives, c.features)
        }
        None => (false, String::new(), Vec::new(), Vec::new()),
    };
    let media = product
        .media
        .into_iter()
        .map(|media| {
            let preview = media
                .text
                .as_deref()
                .filter(|text| text.chars().count() > OPEN_TEXT_CHARS)
                .map(|text| {
                    crate::charts::shorten(
                        &text.split_whitespace().collect::<Vec<_>>().join(" "),
                        120,
                    )
                });
            MediaItem { media, preview }
        })
        .collect();
    let relations = product
        .relations
        .into_iter()
        .map(|r| {
            let href = format!("/products/{}", path_segment(&r.article_no));
            let name = r
                .name_de
                .clone()
                .or_else(|| r.name_en.clone())
                .unwrap_or_default();
            (r, href, name)
        })
        .collect();
    let page = ProductPage {
        chrome: signed.chrome("search", name.clone()),
        action: format!("/products/{}/class", path_segment(&product.article_no)),
        article_no: product.article_no,
        name,
        fields: product
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), display(v)))
            .filter(|(_, v)| !v.is_empty())
            .collect(),
        etim_class,
        class_source,
        confidence,
        corrected,
        catalog_class,
        enriched,
        class_name,
        alternatives,
        mapped_features,
        corrections,
        can_correct,
        classes,
        features: product.features,
        attributes: product.attributes,
        media,
        relations,
        history: product.history,
    };
    render(&page)
}

#[derive(Debug, Deserialize)]
pub struct CorrectionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    etim_class: String,
}

/// An editor confirms or corrects the class; back to the product.
pub async fn correct(
    State(web): State<Web>,
    signed: Signed,
    Path(article_no): Path<String>,
    Form(form): Form<CorrectionForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    signed.require(Role::edits_classes)?;
    let lang = signed.lang;
    let data = data(&web, lang)?;
    let value = data
        .product(&article_no)
        .await
        .map_err(|e| WebError::query(lang, e))?;
    let db = web.app.state_db();
    // The class shown now: the newest correction, else the catalog's.
    let previous = value
        .get("etim_class")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let correction = db
        .correct_class(
            &article_no,
            &form.etim_class,
            previous.as_deref(),
            &signed.user,
        )
        .await
        .map_err(|error| match error {
            cradle_state::StateDbError::InvalidClass => WebError::BadRequest {
                lang,
                message: error.to_string(),
            },
            other => state_error(other),
        })?;
    let detail = format!(
        "{} -> {}",
        previous.as_deref().unwrap_or("-"),
        correction.etim_class
    );
    db.audit(
        &signed.actor(),
        "class_corrected",
        Some(&article_no),
        Some(&detail),
    )
    .await
    .map_err(state_error)?;
    Ok(Redirect::to(&format!("/products/{}", path_segment(&article_no))).into_response())
}
