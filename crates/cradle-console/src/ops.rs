//! Operations routes, none of which needs a key: `/health` (liveness: the
//! process answers), `/ready` (the data is open), `/metrics` (Prometheus,
//! see `metrics.rs`) and `/api/stats` (what is being served).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::openapi::{json_response, text_response};
use crate::routes::{Access, Route};
use crate::{AppState, metrics};

pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new("GET", "/health", Access::Public, health_doc, get(health)),
        Route::new("GET", "/ready", Access::Public, ready_doc, get(ready)),
        Route::new(
            "GET",
            "/metrics",
            Access::Public,
            metrics_doc,
            get(metrics::metrics),
        ),
        Route::new("GET", "/api/stats", Access::Public, stats_doc, get(stats)),
    ]
}

async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn ready(State(state): State<AppState>) -> Response {
    match state.data() {
        Ok(data) => Json(json!({
            "status": "ready",
            "index_documents": data.index_stats().documents,
            "opened_in_ms": data.opened_in().as_secs_f64() * 1000.0,
        }))
        .into_response(),
        Err(_) if state.failed() => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "failed",
                "message": "the data could not be opened; the server log has the cause",
            })),
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "starting"})),
        )
            .into_response(),
    }
}

async fn stats(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    let data = state.data()?;
    let store = data
        .store()
        .stats()
        .await
        .map_err(|source| AppError::internal("cannot read the catalog statistics", source))?;
    let index = data.index_stats();
    let reports = data.reports();
    let ingest = reports.ingest.as_ref();
    let enrich = reports.enrich.as_ref();
    let from = |report: Option<&Value>, key: &str| report.and_then(|r| r.get(key)).cloned();
    let delivery = store.delivery.or(index.built_from.delivery);
    let vectors = data.vectors_if_any();
    Ok(Json(json!({
        "customer": from(ingest, "customer").unwrap_or(Value::Null),
        "products": store.products,
        "data_points": from(ingest, "data_points").unwrap_or(Value::Null),
        "chunks": from(enrich, "chunks").unwrap_or(json!(0)),
        "embeddings": from(enrich, "embeddings").unwrap_or(json!(0)),
        "version": delivery,
        "attributes": store.attributes,
        "delivery": delivery,
        "vectors": vectors.map(|v| json!({
            "count": v.len(),
            "size_bytes": v.file_bytes(),
            "model": v.model().name,
            "dimension": v.model().dimension,
        })),
        "built_at": store.built_at.as_deref().unwrap_or(&index.built_at),
        "index": {
            "documents": index.documents,
            "size_bytes": index.size_bytes,
            "built_at": index.built_at,
            "built_from": index.built_from,
            "attribute_keys": index.attribute_keys,
            "facet_attributes": index.facet_attributes,
        },
        "catalog": {
            "size_bytes": data.catalog_size_bytes(),
        },
        "uptime_seconds": state.uptime().as_secs(),
    })))
}

fn health_doc() -> Value {
    json!({
        "summary": "Liveness: the process answers",
        "tags": ["operations"],
        "security": [],
        "responses": {"200": json_response("Always", json!({
            "type": "object",
            "properties": {"status": {"const": "ok"}},
        }))},
    })
}

fn ready_doc() -> Value {
    json!({
        "summary": "Readiness: the search index and catalog are open",
        "tags": ["operations"],
        "security": [],
        "responses": {
            "200": json_response("Ready", json!({
                "type": "object",
                "properties": {
                    "status": {"const": "ready"},
                    "index_documents": {"type": "integer"},
                    "opened_in_ms": {"type": "number"},
                },
            })),
            "503": json_response("Still opening (`starting`) or the data could not be opened (`failed`)", json!({
                "type": "object",
                "properties": {"status": {"enum": ["starting", "failed"]}},
            })),
        },
    })
}

fn metrics_doc() -> Value {
    json!({
        "summary": "Prometheus metrics (text exposition format 0.0.4); no key, meant for an internal scraper",
        "tags": ["operations"],
        "security": [],
        "responses": {"200": text_response("The metrics")},
    })
}

fn stats_doc() -> Value {
    json!({
        "summary": "What is served: product and attribute counts, delivery, index and catalog sizes, uptime",
        "tags": ["operations"],
        "security": [],
        "responses": {
            "200": json_response("Statistics", json!({"$ref": "#/components/schemas/Stats"})),
            "503": {"$ref": "#/components/responses/NotReady"},
        },
    })
}
