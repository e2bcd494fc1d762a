//! `GET /api/search`: the search of `cradle-query` behind query
//! parameters (their syntax is documented there, in `search.rs`).

use axum::Json;
use axum::extract::{Query, State};
use axum::routing::get;
use cradle_query::search::{MAX_LIMIT, MAX_OFFSET, parse_search};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::openapi::Schemas;
use crate::openapi::{json_response, query_parameter};
use crate::routes::{Access, Route};

pub(crate) fn routes() -> Vec<Route> {
    vec![Route::new(
        "GET",
        "/api/search",
        Access::ApiKey,
        search_doc,
        get(search),
    )]
}

async fn search(
    State(state): State<AppState>,
    Query(parameters): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, AppError> {
    let (request, mode) = parse_search(&parameters)?;
    let data = state.data()?;
    let response = data.search(request, mode).await?;
    let mut body = serde_json::to_value(&response)
        .map_err(|source| AppError::internal("cannot encode the search response", source))?;
    body["mode"] = json!(mode.as_str());
    Ok(Json(body))
}

fn search_doc(schemas: &mut Schemas) -> Value {
    json!({
        "summary": "Search products: words, article numbers, GTINs; filters, facets, highlights",
        "tags": ["search"],
        "parameters": [
            query_parameter("q", "What the user typed; empty lists everything that passes the filters (keyword mode only)", json!({"type": "string"})),
            query_parameter("mode", "keyword (BM25), vector (nearest chunks by embedding, one hit per product) or hybrid (reciprocal rank fusion of both, k = 60; exact article number or GTIN matches stay first)", json!({"type": "string", "enum": ["keyword", "vector", "hybrid"], "default": "keyword"})),
            query_parameter("family", "Only this product family (exact)", json!({"type": "string"})),
            query_parameter("brand", "Only this brand (exact)", json!({"type": "string"})),
            query_parameter("series", "Only this series (exact)", json!({"type": "string"})),
            query_parameter("etim_class", "Only this ETIM class, e.g. EC001744", json!({"type": "string"})),
            {
                "name": "filter", "in": "query", "explode": true,
                "description": "Repeatable. `field:value` (equality), `field:min..max` or `field:min..max:unit` (numeric range, one bound may be left out), `field:true|false` (yes/no attribute). Fields: family, brand, series, etim_class, article_no, gtin, or an attribute such as leistung_w.",
                "schema": {"type": "array", "items": {"type": "string"}},
                "example": ["leistung_w:10..20", "dimmbar:true"],
            },
            query_parameter("facets", "Comma-separated facets to count: family, brand, series, etim_class, or an attribute with few distinct values (facet_attributes in /api/stats), e.g. IP-Schutzart, Leistung", json!({"type": "string", "example": "family,brand,Leistung"})),
            query_parameter("highlight", "Whether hits carry snippets with <b> around matched words", json!({"type": "boolean", "default": false})),
            query_parameter("limit", "Hits per page", json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20})),
            query_parameter("offset", "Hits to skip", json!({"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0})),
        ],
        "responses": {
            "200": json_response("One page of hits, the total and the facet counts", schemas.of::<cradle_index::SearchResponse>()),
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "503": {"$ref": "#/components/responses/NotReady"},
        },
    })
}
