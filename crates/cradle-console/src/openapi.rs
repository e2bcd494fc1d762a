//! `GET /api/openapi.json`: an OpenAPI 3.1 document of every route, built
//! from the same list as the router (`routes.rs`), each operation written
//! beside its handler. Public (no key), like `/api/stats`, so clients can
//! discover the API before they have a key.

use std::sync::OnceLock;

use axum::Json;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::routes::{self, Access, Route, RouteSpec};

pub(crate) fn routes() -> Vec<Route> {
    vec![Route::new(
        "GET",
        "/api/openapi.json",
        Access::Public,
        openapi_doc,
        get(openapi),
    )]
}

async fn openapi() -> Json<Value> {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    Json(DOCUMENT.get_or_init(|| document(&routes::specs())).clone())
}

/// A `200`-style response with a JSON body of `schema`.
pub(crate) fn json_response(description: &str, schema: Value) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": schema}},
    })
}

/// A response with a plain-text body.
pub(crate) fn text_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"text/plain": {"schema": {"type": "string"}}},
    })
}

/// An optional query parameter.
pub(crate) fn query_parameter(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": schema})
}

/// The OpenAPI document of `specs`.
pub fn document(specs: &[RouteSpec]) -> Value {
    let mut paths = Map::new();
    for spec in specs {
        let mut operation = (spec.operation)();
        if let Some(object) = operation.as_object_mut() {
            let id = format!(
                "{}{}",
                spec.method.to_lowercase(),
                spec.path
                    .split(['/', '{', '}', '.', '_'])
                    .filter(|part| !part.is_empty())
                    .map(|part| {
                        let mut chars = part.chars();
                        chars.next().map_or_else(String::new, |first| {
                            first.to_uppercase().chain(chars).collect()
                        })
                    })
                    .collect::<String>()
            );
            object.insert("operationId".into(), Value::String(id));
            if spec.access == Access::Public {
                object.insert("security".into(), json!([]));
            }
            object
                .entry("responses")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .map(|responses| {
                    responses
                        .entry("default")
                        .or_insert_with(|| json!({"$ref": "#/components/responses/Internal"}))
                });
        }
        paths
            .entry(spec.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("path items are objects")
            .insert(spec.method.to_lowercase(), operation);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "cradle console API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Search, product pages, listings and read-only SQL over one customer's product data. \
                Send an API key as `Authorization: Bearer <key>`; create one with \
                `cradle api-key create --workspace <WS> --name <NAME>`. Every response carries an \
                `x-request-id` header (yours if you sent one); errors are \
                `{\"error\": {\"code\", \"message\", \"request_id\"}}` with stable codes.",
        },
        "paths": paths,
        "security": [{"apiKey": []}],
        "components": components(),
    })
}

fn error_response(description: &str) -> Value {
    json_response(description, json!({"$ref": "#/components/schemas/Error"}))
}

fn components() -> Value {
    json!({
        "securitySchemes": {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key `crdl_...`"},
        },
        "responses": {
            "BadRequest": error_response("The request is wrong; `code` says how (invalid_parameter, unknown_parameter, invalid_filter, unknown_facet, invalid_body, sql_*)"),
            "Unauthorized": error_response("No valid API key (`unauthorized`); the message says how to make one"),
            "NotFound": error_response("No such thing (`not_found`)"),
            "NotReady": error_response("The data is still being opened (`not_ready`); retry"),
            "Internal": error_response("A fault of the server (`internal`); quote the request id"),
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "request_id": {"type": ["string", "null"]},
                    },
                }},
            },
            "SearchResponse": {
                "type": "object",
                "properties": {
                    "total": {"type": "integer"},
                    "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
                    "facets": {
                        "type": "object",
                        "description": "Facet to [value, count] pairs, most frequent first",
                        "additionalProperties": {"type": "array", "items": {
                            "type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
                        }},
                    },
                },
            },
            "Hit": {
                "type": "object",
                "properties": {
                    "article_no": {"type": "string"},
                    "score": {"type": "number"},
                    "name": {"type": ["string", "null"]},
                    "family": {"type": ["string", "null"]},
                    "brand": {"type": ["string", "null"]},
                    "etim_class": {"type": ["string", "null"]},
                    "highlights": {"type": "array", "items": {
                        "type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}],
                    }},
                    "matched": {"type": "array", "items": {"type": "string"}},
                },
            },
            "Product": {
                "type": "object",
                "description": "A product with its fields, ETIM features, attributes with provenance, media, relations and history",
                "properties": {"article_no": {"type": "string"}},
            },
            "ProductSummary": {
                "type": "object",
                "properties": {
                    "article_no": {"type": "string"},
                    "name_de": {"type": ["string", "null"]},
                    "name_en": {"type": ["string", "null"]},
                    "family": {"type": ["string", "null"]},
                    "series": {"type": ["string", "null"]},
                    "brand": {"type": ["string", "null"]},
                    "etim_class": {"type": ["string", "null"]},
                    "gtin": {"type": ["string", "null"]},
                },
            },
            "Counts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "products": {"type": "integer"}},
                },
            },
            "ProductPage": {
                "type": "object",
                "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/ProductSummary"}},
                    "total": {"type": "integer"},
                    "limit": {"type": "integer"},
                    "offset": {"type": "integer"},
                },
            },
            "SqlAnswer": {
                "type": "object",
                "properties": {
                    "columns": {"type": "array", "items": {"type": "string"}},
                    "rows": {"type": "array", "items": {"type": "array"}},
                    "truncated": {"type": "boolean"},
                    "elapsed_ms": {"type": "number"},
                },
            },
            "Stats": {
                "type": "object",
                "properties": {
                    "customer": {"type": ["string", "null"], "description": "From reports/ingest.json"},
                    "products": {"type": "integer"},
                    "data_points": {"type": ["integer", "null"], "description": "From reports/ingest.json"},
                    "chunks": {"type": "integer", "description": "From reports/enrich.json; 0 before enrich"},
                    "embeddings": {"type": "integer", "description": "From reports/enrich.json; 0 before enrich"},
                    "version": {"type": ["integer", "null"], "description": "The lakehouse version: the published delivery served"},
                    "attributes": {"type": "integer"},
                    "delivery": {"type": ["integer", "null"]},
                    "vectors": {"type": ["object", "null"], "description": "The ANN index: count, size_bytes, model, dimension"},
                    "built_at": {"type": "string"},
                    "index": {"type": "object"},
                    "catalog": {"type": "object"},
                    "uptime_seconds": {"type": "integer"},
                },
            },
        },
    })
}

fn openapi_doc() -> Value {
    json!({
        "summary": "This document (OpenAPI 3.1)",
        "tags": ["operations"],
        "responses": {"200": json_response("The document", json!({"type": "object"}))},
    })
}
