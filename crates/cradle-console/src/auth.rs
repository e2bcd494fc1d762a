//! API keys on requests: product data (`/api/*` but `/api/stats` and
//! `/api/openapi.json`) needs `Authorization: Bearer <key>`, checked
//! against the state database on every request (an indexed lookup; the
//! database throttles the `last_used_at` writes). A missing or invalid key
//! is a 401 with `WWW-Authenticate: Bearer` and the command that makes a
//! key.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;
use crate::error::AppError;
use cradle_state::CREATE_KEY_HINT;

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    cradle_state::bearer_token(value)
}

pub(crate) async fn require_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let Some(token) = bearer(&request) else {
        return Err(AppError::Unauthorized {
            message: format!("this route needs an API key\n{CREATE_KEY_HINT}"),
        });
    };
    let key = state
        .state_db()
        .verify_api_key(token)
        .await
        .map_err(|source| AppError::internal("cannot check the API key", source))?;
    let Some(key) = key else {
        return Err(AppError::Unauthorized {
            message: format!("the API key is unknown or revoked\n{CREATE_KEY_HINT}"),
        });
    };
    tracing::debug!(key = %key.prefix, "authenticated");
    request.extensions_mut().insert(key);
    Ok(next.run(request).await)
}
