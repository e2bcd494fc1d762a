//! One module per page (or group of forms), each with its template struct
//! and handlers.

pub mod account;
pub mod admin;
pub mod chat;
pub mod dashboard;
pub mod developers;
pub mod login;
pub mod product;
pub mod search;
pub mod sql;
pub mod users;

use askama::Template;
use axum::response::{Html, IntoResponse, Response};

use crate::error::WebError;

/// Renders a page, or answers an internal error.
pub fn render(page: &impl Template) -> Result<Response, WebError> {
    page.render()
        .map(|html| Html(html).into_response())
        .map_err(|source| WebError::internal("cannot render the page", source))
}

/// The form field every form carries.
#[derive(Debug, serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

/// A JSON value as text for a page: strings as they are, `null` as empty.
pub fn display(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The open data, or the "still starting" page.
pub fn data(
    web: &crate::Web,
    lang: crate::Lang,
) -> Result<std::sync::Arc<cradle_query::Data>, WebError> {
    web.app
        .data_slot()
        .get()
        .map_err(|error| WebError::query(lang, error))
}

/// Rows of a read-only SQL query over the catalog, for the pages' own
/// aggregate queries.
pub async fn rows(
    data: &cradle_query::Data,
    lang: crate::Lang,
    query: &str,
) -> Result<Vec<Vec<serde_json::Value>>, WebError> {
    data.sql(query, cradle_query::ops::MAX_ROWS)
        .await
        .map(|answer| answer.rows)
        .map_err(|error| WebError::query(lang, error))
}

/// A state-database failure as an internal error.
pub fn state_error(source: cradle_state::StateDbError) -> WebError {
    WebError::internal("the state database failed", source)
}
