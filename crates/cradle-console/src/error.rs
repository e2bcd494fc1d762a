//! `AppError`: every failure a handler can answer with, each with a stable
//! code. The requester's mistakes say what was wrong and how to fix it;
//! internal faults are logged with their cause and the client sees only a
//! generic message and the request id to quote.
//!
//! Body: `{"error": {"code": "...", "message": "...", "request_id": "..."}}`.

use std::error::Error;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use cradle_query::QueryError;

use crate::request;

/// The body of every error answer.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, with a stable code to match on.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ErrorDetail {
    /// `invalid_parameter`, `unknown_parameter`, `invalid_filter`,
    /// `unknown_facet`, `invalid_body`, `sql_*`, `unauthorized`,
    /// `not_found`, `not_ready`, `internal`, ...
    pub code: String,
    pub message: String,
    /// The request's id (the `x-request-id` header); quote it.
    pub request_id: Option<String>,
}

/// A failure answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is wrong (a parameter, the body, the SQL).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// No or no valid API key.
    #[error("{message}")]
    Unauthorized { message: String },
    /// The thing asked for does not exist.
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// The key sent more requests than its limit allows.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// The route exists but not with this method.
    #[error("{message}")]
    MethodNotAllowed { message: String },
    /// The client did not send its request in time.
    #[error("{message}")]
    RequestTimeout { message: String },
    /// The request or its answer is larger than allowed.
    #[error("{message}")]
    TooLarge { code: &'static str, message: String },
    /// Every connection for this work is busy (answered with
    /// `Retry-After`).
    #[error("{message}")]
    Busy { code: &'static str, message: String },
    /// The data is still being opened, or could not be.
    #[error("the data is not open yet")]
    NotReady,
    /// A fault of the server; `context` says what was being done.
    #[error("{context}")]
    Internal {
        context: &'static str,
        #[source]
        source: Box<dyn Error + Send + Sync>,
    },
}

impl From<QueryError> for AppError {
    fn from(error: QueryError) -> AppError {
        match error {
            QueryError::BadRequest { code, message } => AppError::BadRequest { code, message },
            QueryError::NotFound { code, message } => AppError::NotFound { code, message },
            QueryError::TooLarge { code, message } => AppError::TooLarge { code, message },
            QueryError::Busy { code, message } => AppError::Busy { code, message },
            QueryError::NotReady => AppError::NotReady,
            QueryError::Internal { context, source } => AppError::Internal { context, source },
        }
    }
}

impl AppError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn internal(
        context: &'static str,
        source: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> AppError {
        AppError::Internal {
            context,
            source: source.into(),
        }
    }

    /// The stable code clients can match on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. }
            | AppError::NotFound { code, .. }
            | AppError::TooLarge { code, .. }
            | AppError::Busy { code, .. } => code,
            AppError::Unauthorized { .. } => "unauthorized",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::RequestTimeout { .. } => "body_timeout",
            AppError::TooManyRequests { .. } => "rate_limited",
            AppError::NotReady => "not_ready",
            AppError::Internal { .. } => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let request_id = request::current_id();
        let message = match &self {
            AppError::Internal { .. } => {
                tracing::error!(
                    request_id = request_id.as_deref().unwrap_or("-"),
                    error = %cradle_query::chain(&self),
                    "internal error"
                );
                "internal error; the server log has the cause (quote the request id)".to_owned()
            }
            AppError::NotReady => {
                "the server is still opening its data; retry shortly (GET /ready says when)"
                    .to_owned()
            }
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
                request_id,
            },
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        match self {
            AppError::Unauthorized { .. } => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"cradle\""),
                );
            }
            AppError::TooManyRequests { retry_after, .. } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
            AppError::NotReady | AppError::Busy { .. } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}
