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
use crate::openapi::Schemas;
use crate::openapi::json_response;
use crate::routes::{Access, Route};
use cradle_query::SqlAnswer;
use cradle_query::ops::DEFAULT_MAX_ROWS;

pub(crate) fn routes() -> Vec<Route> {
    vec![Route::new(
        "POST",
        "/api/sql",
        Access::ApiKey,
        sql_doc,
        post(sql),
    )]
}

/// The body of `POST /api/sql`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SqlRequest {
    /// One read-only statement in the SQLite dialect.
    #[schemars(example = "SELECT family, count(*) FROM products GROUP BY family")]
    query: String,
    /// The most rows to return, 1 to 10000 (default 100).
    #[schemars(range(min = 1, max = 10_000))]
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
    let data = state.data()?;
    Ok(Json(data.sql(&request.query, max_rows).await?))
}

fn sql_doc(schemas: &mut Schemas) -> Value {
    json!({
        "summary": "Run one read-only SQL statement (SQLite dialect) against the product catalog",
        "tags": ["sql"],
        "requestBody": {
            "required": true,
            "content": {"application/json": {"schema": schemas.of::<SqlRequest>()}},
        },
        "responses": {
            "200": json_response("The result", schemas.of::<SqlAnswer>()),
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "503": {"$ref": "#/components/responses/NotReady"},
        },
    })
}
