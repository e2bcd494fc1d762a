//! A product (`/products/{article_no}`): canonical fields, the ETIM class
//! and its features, every attribute value with its provenance (file,
//! sheet, row, column, original text), media, relations and the product's
//! history across deliveries; and the editor's class correction, stored in
//! the state database, shown with who and when, and shown instead of the
//! delivered or classified class.

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
    delivered_class: String,
    corrections: Vec<ClassCorrection>,
    can_correct: bool,
    classes: Vec<String>,
    features: Vec<Feature>,
    attributes: Vec<AttributeGroup>,
    media: Vec<Media>,
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
    let delivered_class = product.etim_class.clone().unwrap_or_default();
    let etim_class = corrections
        .first()
        .map_or(delivered_class.clone(), |c| c.etim_class.clone());
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
        delivered_class,
        corrections,
        can_correct,
        classes,
        features: product.features,
        attributes: product.attributes,
        media: product.media,
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
    let previous = match db
        .class_corrections(&article_no)
        .await
        .map_err(state_error)?
        .first()
    {
        Some(latest) => Some(latest.etim_class.clone()),
        None => value
            .get("etim_class")
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
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
