//! Product pages and listings from the catalog: `GET /api/products/{article_no}`,
//! `GET /api/products` (a filtered page), `GET /api/classes`,
//! `GET /api/families`. The JSON is the catalog's, passed through.

use axum::Json;
use axum::extract::{Query, State};
use axum::routing::get;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::openapi::Schemas;
use crate::openapi::{json_response, query_parameter};
use crate::params::{NoParameters, Segment};
use crate::routes::{Access, Route};
use cradle_query::ProductQuery;
use cradle_query::search::number;

/// The largest page of a listing.
pub const MAX_LIMIT: usize = cradle_catalog::MAX_PAGE as usize;
/// The page size when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 50;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new("GET", "/api/products", Access::ApiKey, list_doc, get(list)),
        Route::new(
            "GET",
            "/api/products/{article_no}",
            Access::ApiKey,
            product_doc,
            get(product),
        ),
        Route::new(
            "GET",
            "/api/classes",
            Access::ApiKey,
            classes_doc,
            get(classes),
        ),
        Route::new(
            "GET",
            "/api/families",
            Access::ApiKey,
            families_doc,
            get(families),
        ),
    ]
}

async fn product(
    State(state): State<AppState>,
    Segment(article_no): Segment,
    _: NoParameters,
) -> Result<Json<Value>, AppError> {
    Ok(Json(state.data()?.product(&article_no).await?))
}

async fn list(
    State(state): State<AppState>,
    Query(parameters): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, AppError> {
    let mut query = ProductQuery {
        limit: DEFAULT_LIMIT,
        ..ProductQuery::default()
    };
    for (name, value) in parameters {
        match name.as_str() {
            "family" => query.family = Some(value),
            "brand" => query.brand = Some(value),
            "etim_class" => query.etim_class = Some(value),
            "limit" => query.limit = number(&name, &value, 1..=MAX_LIMIT)?,
            "offset" => query.offset = number(&name, &value, 0..=usize::MAX)?,
            other => {
                return Err(AppError::bad_request(
                    "unknown_parameter",
                    format!(
                        "unknown parameter {other:?}; known: family, brand, etim_class, limit, offset"
                    ),
                ));
            }
        }
    }
    Ok(Json(state.data()?.products(&query).await?))
}

async fn classes(State(state): State<AppState>, _: NoParameters) -> Result<Json<Value>, AppError> {
    Ok(Json(state.data()?.classes().await?))
}

async fn families(State(state): State<AppState>, _: NoParameters) -> Result<Json<Value>, AppError> {
    Ok(Json(state.data()?.families().await?))
}

fn standard_errors() -> Value {
    json!({
        "400": {"$ref": "#/components/responses/BadRequest"},
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "503": {"$ref": "#/components/responses/NotReady"},
    })
}

fn with_errors(mut responses: Value) -> Value {
    if let (Some(responses), Value::Object(errors)) = (responses.as_object_mut(), standard_errors())
    {
        responses.extend(errors);
    }
    responses
}

fn list_doc(schemas: &mut Schemas) -> Value {
    json!({
        "summary": "A page of products, filtered by family, brand or ETIM class",
        "tags": ["products"],
        "parameters": [
            query_parameter("family", "Only this family (exact)", json!({"type": "string"})),
            query_parameter("brand", "Only this brand (exact)", json!({"type": "string"})),
            query_parameter("etim_class", "Only this ETIM class (exact)", json!({"type": "string"})),
            query_parameter("limit", "Products per page", json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT})),
            query_parameter("offset", "Products to skip", json!({"type": "integer", "minimum": 0, "default": 0})),
        ],
        "responses": with_errors(json!({
            "200": json_response("The page and the total", schemas.of::<cradle_catalog::Page<cradle_catalog::ProductSummary>>()),
        })),
    })
}

fn product_doc(schemas: &mut Schemas) -> Value {
    json!({
        "summary": "One product with its attributes and provenance",
        "tags": ["products"],
        "parameters": [{
            "name": "article_no", "in": "path", "required": true,
            "description": "The article number as delivered (percent-encode `/`)",
            "schema": {"type": "string"},
        }],
        "responses": with_errors(json!({
            "200": json_response("The product", schemas.of::<cradle_catalog::Product>()),
            "404": {"$ref": "#/components/responses/NotFound"},
        })),
    })
}

fn classes_doc(schemas: &mut Schemas) -> Value {
    json!({
        "summary": "ETIM classes with their product counts",
        "tags": ["products"],
        "responses": with_errors(json!({
            "200": json_response("The classes, most products first", schemas.of::<Vec<cradle_query::Count>>()),
        })),
    })
}

fn families_doc(schemas: &mut Schemas) -> Value {
    json!({
        "summary": "Product families with their product counts",
        "tags": ["products"],
        "responses": with_errors(json!({
            "200": json_response("The families, most products first", schemas.of::<Vec<cradle_query::Count>>()),
        })),
    })
}
