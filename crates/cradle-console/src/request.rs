//! The middleware around every request: a request id (the client's
//! `x-request-id` if it is sane, else a new one) that is echoed in the
//! response and available to error responses, one log line per request
//! (method, matched route, status, duration, request id), and the request
//! metrics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::AppState;

/// The header carrying the request id both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The route label of requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled on this task, if any.
pub fn current_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A client's id is kept if it is 1 to 128 characters of `[A-Za-z0-9._:-]`,
/// so it is safe in logs and headers.
fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub(crate) async fn observe(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| acceptable(id))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let method = request.method().clone();
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(request))
        .instrument(span)
        .await;
    let elapsed = started.elapsed();
    let status = response.status();
    state
        .metrics()
        .record(&route, method.as_str(), status.as_u16(), elapsed);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    // Probes (an image's health check runs every second, and Kubernetes
    // asks /ready and /health too) would bury every other line: a probe
    // that succeeds is logged at debug level.
    let probe = matches!(route.as_str(), "/health" | "/ready") && status.is_success();
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    if probe {
        tracing::debug!(request_id = %id, method = %method, route = %route, status = status.as_u16(), duration_ms, "request");
    } else {
        tracing::info!(request_id = %id, method = %method, route = %route, status = status.as_u16(), duration_ms, "request");
    }
    response
}

/// How long a client may take to send a request's body once its head has
/// arrived (the head itself is bounded by the listener's header timeout).
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The largest request body accepted (SQL text, a chat question, an MCP
/// call, a form): far above what any of them needs.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Reads a request's body within [`BODY_READ_TIMEOUT`] and
/// [`MAX_BODY_BYTES`] before the handler runs, so a client that sends its
/// body a byte a minute holds no handler, connection slot or pool
/// connection for longer than that. Requests without a body pass as they
/// are.
pub(crate) async fn read_body(
    request: Request,
    next: Next,
) -> Result<Response, crate::error::AppError> {
    use axum::http::header;
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0");
    if !has_body {
        return Ok(next.run(request).await);
    }
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, MAX_BODY_BYTES);
    let bytes = match tokio::time::timeout(BODY_READ_TIMEOUT, read).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(error)) => {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            return Err(if too_large {
                crate::error::AppError::TooLarge {
                    code: "body_too_large",
                    message: format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
                }
            } else {
                crate::error::AppError::bad_request(
                    "body_unreadable",
                    format!("the request body could not be read: {error}"),
                )
            });
        }
        Err(_) => {
            return Err(crate::error::AppError::RequestTimeout {
                message: format!(
                    "the request body did not arrive within {} s",
                    BODY_READ_TIMEOUT.as_secs()
                ),
            });
        }
    };
    Ok(next
        .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_sane_request_ids() {
        assert!(acceptable("abc-123_x.y:z"));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable("a\u{e4}"));
        assert!(!acceptable(&"a".repeat(129)));
    }
}
