//! `WebError`: what a page answers when it cannot show itself. A missing
//! session is a redirect to `/login`; everything else is a friendly page
//! with the request id to quote, never a cause or a stack trace (internal
//! faults are logged with their cause).

use std::error::Error;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use cradle_query::QueryError;

use crate::i18n::Lang;
use crate::session::Chrome;

/// A page that cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// No live session: sign in, then come back to `next`.
    #[error("sign in first")]
    SignIn { next: String },
    /// The user's role does not allow this.
    #[error("not allowed for this role")]
    Forbidden { lang: Lang },
    /// A form without this session's CSRF token.
    #[error("the form's security token is missing or wrong")]
    Csrf { lang: Lang },
    #[error("{message}")]
    NotFound { lang: Lang, message: String },
    #[error("{message}")]
    BadRequest { lang: Lang, message: String },
    /// Too many failed sign-ins; retry after this many seconds.
    #[error("too many failed sign-ins")]
    TooManyAttempts { lang: Lang, retry_after: u64 },
    /// The data is still being opened (or could not be).
    #[error("the data is not open yet")]
    NotReady { lang: Lang },
    #[error("{context}")]
    Internal {
        context: &'static str,
        #[source]
        source: Box<dyn Error + Send + Sync>,
    },
}

impl WebError {
    pub fn internal(
        context: &'static str,
        source: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> WebError {
        WebError::Internal {
            context,
            source: source.into(),
        }
    }

    /// A query's failure as a page: the requester's mistakes with their
    /// message, faults as internal.
    pub fn query(lang: Lang, error: QueryError) -> WebError {
        match error {
            QueryError::BadRequest { message, .. } | QueryError::TooLarge { message, .. } => {
                WebError::BadRequest { lang, message }
            }
            QueryError::NotFound { message, .. } => WebError::NotFound { lang, message },
            QueryError::NotReady | QueryError::Busy { .. } => WebError::NotReady { lang },
            QueryError::Internal { context, source } => WebError::Internal { context, source },
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            WebError::SignIn { .. } => StatusCode::SEE_OTHER,
            WebError::Forbidden { .. } | WebError::Csrf { .. } => StatusCode::FORBIDDEN,
            WebError::NotFound { .. } => StatusCode::NOT_FOUND,
            WebError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            WebError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebError::NotReady { .. } => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    heading: &'static str,
    message: String,
    request_id: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let request_id = cradle_console::current_id().unwrap_or_default();
        let status = self.status();
        let (lang, heading, message) = match &self {
            WebError::SignIn { next } => {
                let target = if next == "/" || !next.starts_with('/') || next.starts_with("//") {
                    "/login".to_owned()
                } else {
                    format!(
                        "/login?{}",
                        serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default()
                    )
                };
                return Redirect::to(&target).into_response();
            }
            WebError::Forbidden { lang } => (
                *lang,
                lang.text().error_forbidden,
                lang.text().error_forbidden_detail.to_owned(),
            ),
            WebError::Csrf { lang } => (
                *lang,
                lang.text().error_csrf,
                lang.text().error_csrf_detail.to_owned(),
            ),
            WebError::NotFound { lang, message } => {
                (*lang, lang.text().error_not_found, message.clone())
            }
            WebError::BadRequest { lang, message } => {
                (*lang, lang.text().error_bad_request, message.clone())
            }
            WebError::TooManyAttempts { lang, retry_after } => (
                *lang,
                lang.text().error_too_many,
                format!("{} ({retry_after} s)", lang.text().error_too_many_detail),
            ),
            WebError::NotReady { lang } => (
                *lang,
                lang.text().error_not_ready,
                lang.text().error_not_ready_detail.to_owned(),
            ),
            WebError::Internal { .. } => {
                tracing::error!(
                    request_id = request_id.as_str(),
                    error = %cradle_query::chain(&self),
                    "internal error on a page"
                );
                (
                    Lang::En,
                    Lang::En.text().error_internal,
                    Lang::En.text().error_internal_detail.to_owned(),
                )
            }
        };
        let page = ErrorPage {
            chrome: Chrome::anonymous(lang, heading),
            heading,
            message,
            request_id,
        };
        let body = page
            .render()
            .unwrap_or_else(|_| "<!doctype html><title>Error</title><p>Error</p>".to_owned());
        let mut response = (status, Html(body)).into_response();
        if let WebError::TooManyAttempts { retry_after, .. } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
