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
use crate::openapi::Schemas;
use crate::openapi::{json_response, text_response};
use crate::params::NoParameters;
use crate::routes::{Access, Route};
use crate::{AppState, metrics};
use schemars::JsonSchema;
use serde::Serialize;

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

/// `/health`: the process answers.
#[derive(Debug, Serialize, JsonSchema)]
struct Health {
    /// Always `ok`.
    status: &'static str,
}

/// `/ready`: whether the data is open.
#[derive(Debug, Serialize, JsonSchema)]
struct Ready {
    /// `ready`, `starting`, `failed` (the data could not be opened) or
    /// `unhealthy` (it was, but the catalog no longer answers).
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    index_documents: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    opened_in_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'static str>,
}

/// `/api/stats`: what is served.
#[derive(Debug, Serialize, JsonSchema)]
struct Stats {
    /// From `reports/ingest.json`.
    customer: Option<String>,
    products: u64,
    /// Loaded cells, from `reports/ingest.json`.
    data_points: Option<u64>,
    /// From `reports/enrich.json`; 0 before enrich.
    chunks: u64,
    /// From `reports/enrich.json`; 0 before enrich.
    embeddings: u64,
    /// The lakehouse version: the published delivery served.
    version: Option<u64>,
    attributes: u64,
    delivery: Option<u64>,
    /// The ANN index, if the data has one.
    vectors: Option<VectorStats>,
    built_at: String,
    index: cradle_index::IndexStats,
    catalog: CatalogStats,
    uptime_seconds: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
struct VectorStats {
    count: usize,
    size_bytes: u64,
    model: String,
    dimension: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
struct CatalogStats {
    size_bytes: u64,
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// How long `/ready` waits for the catalog to answer.
const READY_PING: std::time::Duration = std::time::Duration::from_secs(2);

async fn ready(State(state): State<AppState>) -> Response {
    match state.data() {
        Ok(data) => {
            // Open is not enough: the catalog must still answer, or an
            // orchestrator should restart the server.
            let answered = tokio::time::timeout(READY_PING, data.store().ping()).await;
            if let Err(problem) = match answered {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err(format!("no answer within {} s", READY_PING.as_secs())),
            } {
                tracing::error!(%problem, "the catalog does not answer; /ready says unhealthy");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(Ready {
                        status: "unhealthy",
                        index_documents: None,
                        opened_in_ms: None,
                        message: Some("the catalog does not answer; the server log has the cause"),
                    }),
                )
                    .into_response();
            }
            ready_answer(&data)
        }
        Err(_) if state.failed() => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Ready {
                status: "failed",
                index_documents: None,
                opened_in_ms: None,
                message: Some("the data could not be opened; the server log has the cause"),
            }),
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Ready {
                status: "starting",
                index_documents: None,
                opened_in_ms: None,
                message: None,
            }),
        )
            .into_response(),
    }
}

fn ready_answer(data: &cradle_query::Data) -> Response {
    Json(Ready {
        status: "ready",
        index_documents: Some(data.index_stats().documents),
        opened_in_ms: Some(data.opened_in().as_secs_f64() * 1000.0),
        message: None,
    })
    .into_response()
}

async fn stats(State(state): State<AppState>, _: NoParameters) -> Result<Json<Stats>, AppError> {
    let data = state.data()?;
    let store = data
        .store()
        .stats()
        .await
        .map_err(|source| AppError::internal("cannot read the catalog statistics", source))?;
    let index = data.index_stats();
    let reports = data.reports();
    let field =
        |report: &Option<Value>, key: &str| report.as_ref().and_then(|r| r.get(key)).cloned();
    let count = |report: &Option<Value>, key: &str| field(report, key).and_then(|v| v.as_u64());
    let delivery = store.delivery.or(index.built_from.delivery);
    Ok(Json(Stats {
        customer: field(&reports.ingest, "customer").and_then(|v| v.as_str().map(str::to_owned)),
        products: store.products,
        data_points: count(&reports.ingest, "data_points"),
        chunks: count(&reports.enrich, "chunks").unwrap_or(0),
        embeddings: count(&reports.enrich, "embeddings").unwrap_or(0),
        version: delivery,
        attributes: store.attributes,
        delivery,
        vectors: data.vectors_if_any().map(|v| VectorStats {
            count: v.len(),
            size_bytes: v.file_bytes(),
            model: v.model().name.clone(),
            dimension: v.model().dimension,
        }),
        built_at: store
            .built_at
            .clone()
            .unwrap_or_else(|| index.built_at.clone()),
        index: index.clone(),
        catalog: CatalogStats {
            size_bytes: data.catalog_size_bytes(),
        },
        uptime_seconds: state.uptime().as_secs(),
    }))
}

fn health_doc(schemas: &mut Schemas) -> Value {
    json!({
        "summary": "Liveness: the process answers",
        "tags": ["operations"],
        "security": [],
        "responses": {"200": json_response("Always", schemas.of::<Health>())},
    })
}

fn ready_doc(schemas: &mut Schemas) -> Value {
    json!({
        "summary": "Readiness: the search index and catalog are open",
        "tags": ["operations"],
        "security": [],
        "responses": {
            "200": json_response("Ready", schemas.of::<Ready>()),
            "503": json_response("Still opening (`starting`) or the data could not be opened (`failed`)", schemas.of::<Ready>()),
        },
    })
}

fn metrics_doc(_schemas: &mut Schemas) -> Value {
    json!({
        "summary": "Prometheus metrics (text exposition format 0.0.4); no key, meant for an internal scraper",
        "tags": ["operations"],
        "security": [],
        "responses": {"200": text_response("The metrics")},
    })
}

fn stats_doc(schemas: &mut Schemas) -> Value {
    json!({
        "summary": "What is served: product and attribute counts, delivery, index and catalog sizes, uptime",
        "tags": ["operations"],
        "security": [],
        "responses": {
            "200": json_response("Statistics", schemas.of::<Stats>()),
            "503": {"$ref": "#/components/responses/NotReady"},
        },
    })
}
