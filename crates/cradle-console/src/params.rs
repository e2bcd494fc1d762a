//! Extractors that turn what a client got wrong about a URL into the API's
//! JSON errors: a route that takes no parameters refuses any (a typo is
//! not silently ignored), and a path segment that is not UTF-8 is a 400
//! that says so, not axum's plain-text rejection.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::error::AppError;

/// Refuses a request with a query string: for routes without parameters.
#[derive(Debug, Clone, Copy)]
pub struct NoParameters;

impl<S: Send + Sync> FromRequestParts<S> for NoParameters {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        match parts.uri.query().filter(|q| !q.is_empty()) {
            None => Ok(NoParameters),
            Some(query) => {
                let names: Vec<&str> = query
                    .split('&')
                    .map(|pair| pair.split('=').next().unwrap_or(pair))
                    .filter(|name| !name.is_empty())
                    .take(5)
                    .collect();
                Err(AppError::bad_request(
                    "unknown_parameter",
                    format!(
                        "{} takes no parameters; got {}",
                        parts.uri.path(),
                        names.join(", ")
                    ),
                ))
            }
        }
    }
}

/// One path segment as text (`/api/products/{article_no}`).
#[derive(Debug, Clone)]
pub struct Segment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(segment)) => Ok(Segment(segment)),
            Err(rejection) => Err(path_error(rejection)),
        }
    }
}

fn path_error(rejection: PathRejection) -> AppError {
    AppError::bad_request(
        "invalid_path",
        format!(
            "{}; percent-encode the article number as UTF-8",
            rejection.body_text()
        ),
    )
}
