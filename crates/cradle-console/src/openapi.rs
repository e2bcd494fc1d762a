//! `GET /api/openapi.json`: an OpenAPI 3.1 document of every route, built
//! from the same list as the router (`routes.rs`), each operation written
//! beside its handler. The schemas of request and response bodies are
//! derived from the Rust types the handlers read and answer (schemars,
//! JSON Schema 2020-12, which OpenAPI 3.1 uses), so a field added to a
//! response is documented by the same change. Public (no key), like
//! `/api/stats`, so clients can discover the API before they have a key.

use std::sync::OnceLock;

use axum::Json;
use axum::routing::get;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use crate::error::ErrorBody;

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

async fn openapi(_: crate::params::NoParameters) -> Json<Value> {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    Json(DOCUMENT.get_or_init(|| document(&routes::specs())).clone())
}

/// The schemas the operations refer to, collected while the document is
/// built: each type once, under `#/components/schemas/<name>`.
pub struct Schemas {
    generator: SchemaGenerator,
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schemas").finish_non_exhaustive()
    }
}

impl Schemas {
    fn new() -> Schemas {
        let settings = SchemaSettings::draft2020_12().with(|settings| {
            settings.definitions_path = "/components/schemas".into();
        });
        Schemas {
            generator: settings.into_generator(),
        }
    }

    /// A reference to the schema of `T`, registered in the components.
    pub fn of<T: schemars::JsonSchema>(&mut self) -> Value {
        self.generator.subschema_for::<T>().to_value()
    }

    fn into_components(mut self) -> Value {
        Value::Object(self.generator.take_definitions(true).into_iter().collect())
    }
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
    let mut schemas = Schemas::new();
    let error = schemas.of::<ErrorBody>();
    for spec in specs {
        let mut operation = (spec.operation)(&mut schemas);
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
        "components": components(error, schemas.into_components()),
    })
}

fn components(error: Value, schemas: Value) -> Value {
    let error_response = |description: &str| json_response(description, error.clone());
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
        "schemas": schemas,
    })
}

fn openapi_doc(_schemas: &mut Schemas) -> Value {
    json!({
        "summary": "This document (OpenAPI 3.1)",
        "tags": ["operations"],
        "responses": {"200": json_response("The document", json!({"type": "object"}))},
    })
}
