//! `POST /api/sql`: one read-only SQL statement against the catalog,
//! bounded in rows (and in time by the catalog). Body
//! `{"query": "...", "max_rows": 100}`; answer
//! `{"columns", "rows", "truncated", "elapsed_ms"}`. The requester's
//! mistakes (not read-only, several statements, a syntax error, a
//! timeout) are 400s with the catalog's stable codes.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::openapi::json_response;
use crate::products::store_error;
use crate::routes::{Access, Route};
use crate::store::SqlAnswer;

/// Rows returned when `max_rows` is not given.
pub const DEFAULT_MAX_ROWS: usize = 100;
/// The most rows one query may return.
pub const MAX_ROWS: usize = 10_000;

pub(crate) fn routes() -> Vec<Route> {
    vec![Route::new(
        "POST",
        "/api/sql",
        Access::ApiKey,
        sql_doc,
        post(sql),
    )]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SqlRequest {
    query: String,
    max_rows: Option<usize>,
}

async fn sql(
    State(state): State<AppState>,
    body: Result<Json<SqlRequest>, JsonRejection>,
) -> Result<Json<SqlAnswer>, AppError> {
    let Json(request) = body.map_err(|rejection| {
        AppError::bad_request(
            "invalid_body",
            format!(
                "{}; expected {{\"query\": \"SELECT ...\", \"max_rows\": 100}}",
                rejection.body_text()
            ),
        )
    })?;
    let max_rows = request.max_rows.unwrap_or(DEFAULT_MAX_ROWS);
    if !(1..=MAX_ROWS).contains(&max_rows) {
        return Err(AppError::bad_request(
            "invalid_parameter",
            format!("max_rows must be from 1 to {MAX_ROWS}, got {max_rows}"),
        ));
    }
    let data = state.data()?;
    data.store()
        .sql(&request.query, max_rows)
        .await
        .map(Json)
        .map_err(|e| store_error("the SQL query failed", e))
}

fn sql_doc() -> Value {
    json!({
        "summary": "Run one read-only SQL statement (SQLite dialect) against the product catalog",
        "tags": ["sql"],
        "requestBody": {
            "required": true,
            "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["query"],
                "additionalProperties": false,
                "properties": {
                    "query": {"type": "string", "example": "SELECT family, count(*) FROM products GROUP BY family"},
                    "max_rows": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS, "default": DEFAULT_MAX_ROWS},
                },
            }}},
        },
        "responses": {
            "200": json_response("The result", json!({"$ref": "#/components/schemas/SqlAnswer"})),
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "503": {"$ref": "#/components/responses/NotReady"},
        },
    })
}
