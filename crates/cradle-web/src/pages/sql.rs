//! The SQL console (`/sql`, developers and admins): one read-only
//! statement over the catalog through `cradle-query` (SQLite's authorizer
//! decides what may run; rows, bytes and time are bounded), the result as
//! a table, or as CSV (`POST /sql/csv`).

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use cradle_query::SqlAnswer;
use cradle_state::Role;
use serde::Deserialize;

use crate::Web;
use crate::error::WebError;
use crate::pages::{data, display, render};
use crate::session::{Chrome, Signed};

/// Rows shown on the page; the CSV may have up to the query's bound.
const PAGE_ROWS: usize = 1000;
const EXAMPLE: &str =
    "SELECT family, count(*) AS products FROM products GROUP BY family ORDER BY products DESC";

#[derive(Template)]
#[template(path = "sql.html")]
struct SqlPage {
    chrome: Chrome,
    query: String,
    answer: Option<Table>,
    error: Option<String>,
}

struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    truncated: bool,
    elapsed_ms: String,
}

#[derive(Debug, Deserialize)]
pub struct SqlForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    query: String,
}

pub async fn form(signed: Signed) -> Result<Response, WebError> {
    signed.require(Role::develops)?;
    render(&SqlPage {
        chrome: signed.chrome("sql", signed.lang.text().nav_sql),
        query: EXAMPLE.to_owned(),
        answer: None,
        error: None,
    })
}

async fn answer(
    web: &Web,
    signed: &Signed,
    form: &SqlForm,
    rows: usize,
) -> Result<Result<SqlAnswer, String>, WebError> {
    signed.check_csrf(&form.csrf)?;
    signed.require(Role::develops)?;
    let data = data(web, signed.lang)?;
    match data.sql(&form.query, rows).await {
        Ok(answer) => Ok(Ok(answer)),
        Err(cradle_query::QueryError::Internal { context, source }) => {
            Err(WebError::Internal { context, source })
        }
        Err(error) => Ok(Err(error.to_string())),
    }
}

pub async fn run(
    State(web): State<Web>,
    signed: Signed,
    Form(form): Form<SqlForm>,
) -> Result<Response, WebError> {
    let result = answer(&web, &signed, &form, PAGE_ROWS).await?;
    let failed = result.is_err();
    let (answer, error) = match result {
        Ok(answer) => (
            Some(Table {
                columns: answer.columns,
                rows: answer
                    .rows
                    .iter()
                    .map(|row| row.iter().map(display).collect())
                    .collect(),
                truncated: answer.truncated,
                elapsed_ms: format!("{:.1}", answer.elapsed_ms),
            }),
            None,
        ),
        Err(message) => (None, Some(message)),
    };
    let mut response = render(&SqlPage {
        chrome: signed.chrome("sql", signed.lang.text().nav_sql),
        query: form.query,
        answer,
        error,
    })?;
    if failed {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

pub async fn csv(
    State(web): State<Web>,
    signed: Signed,
    Form(form): Form<SqlForm>,
) -> Result<Response, WebError> {
    let answer = match answer(&web, &signed, &form, cradle_query::ops::MAX_ROWS).await? {
        Ok(answer) => answer,
        Err(message) => {
            return Err(WebError::BadRequest {
                lang: signed.lang,
                message,
            });
        }
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write = |writer: &mut csv::Writer<Vec<u8>>| -> Result<(), csv::Error> {
        writer.write_record(&answer.columns)?;
        for row in &answer.rows {
            writer.write_record(row.iter().map(display))?;
        }
        writer.flush()?;
        Ok(())
    };
    write(&mut writer).map_err(|source| WebError::internal("cannot write the CSV", source))?;
    let bytes = writer
        .into_inner()
        .map_err(|source| WebError::internal("cannot write the CSV", source.into_error()))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"query.csv\""),
    );
    Ok(response)
}
