//! MCP over Streamable HTTP at `/mcp`: rmcp's `StreamableHttpService`
//! behind two checks, in this order:
//!
//! 1. the `Host` header must be one of [`McpOptions::allowed_hosts`]
//!    (DNS-rebinding protection), else 403 naming the setting;
//! 2. `Authorization: Bearer <key>` must be a valid API key of the state
//!    database, else 401 with `WWW-Authenticate: Bearer`.
//!
//! The service runs stateless with JSON answers: every POST is answered on
//! its own, no session is kept between requests and no event stream is
//! left open, so several console replicas can serve one client and a
//! graceful shutdown never waits on an idle stream.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header, uri::Authority};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use cradle_query::DataSlot;
use cradle_state::{CREATE_KEY_HINT, StateDb};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;

use crate::server::CradleMcp;

/// Where the MCP endpoint is mounted.
pub const MCP_PATH: &str = "/mcp";

/// How the HTTP endpoint is guarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpOptions {
    /// `Host` header values accepted at `/mcp`: a host name or address
    /// (any port) or `host:port` (that port only); IPv6 addresses with or
    /// without brackets. An empty list accepts every host (not
    /// recommended). Default: `localhost`, `127.0.0.1`, `[::1]`; add the
    /// name clients use, e.g. `console:9314` behind compose.
    pub allowed_hosts: Vec<String>,
}

impl Default for McpOptions {
    fn default() -> McpOptions {
        McpOptions {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()],
        }
    }
}

/// A host (lower case, IPv6 without brackets) and the port if one was given.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostPort {
    host: String,
    port: Option<u16>,
}

impl HostPort {
    fn parse(text: &str) -> Option<HostPort> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let (host, port) = match Authority::try_from(text) {
            Ok(authority) => (authority.host().to_owned(), authority.port_u16()),
            // A bare IPv6 address (`::1`) is not an authority.
            Err(_) => (text.to_owned(), None),
        };
        Some(HostPort {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase(),
            port,
        })
    }

    /// Whether this request host is allowed by `allowed`.
    fn allowed_by(&self, allowed: &HostPort) -> bool {
        allowed.host == self.host && allowed.port.is_none_or(|port| self.port == Some(port))
    }
}

#[derive(Debug)]
struct Guard {
    state_db: StateDb,
    /// `None`: every host is allowed.
    allowed_hosts: Option<Vec<HostPort>>,
}

/// A refusal before the request reaches the MCP service, in the console's
/// error shape.
fn refuse(status: StatusCode, code: &str, message: String) -> Response {
    let body = json!({"error": {"code": code, "message": message}});
    (status, axum::Json(body)).into_response()
}

/// The request's host: the `Host` header, else the URI's authority (HTTP/2).
fn request_host(request: &Request) -> Option<String> {
    match request.headers().get(header::HOST) {
        Some(value) => value.to_str().ok().map(str::to_owned),
        None => request.uri().authority().map(|a| a.as_str().to_owned()),
    }
}

async fn check_host(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let Some(allowed) = &guard.allowed_hosts else {
        return next.run(request).await;
    };
    let host = request_host(&request);
    let parsed = host.as_deref().and_then(HostPort::parse);
    if parsed
        .as_ref()
        .is_some_and(|host| allowed.iter().any(|a| host.allowed_by(a)))
    {
        return next.run(request).await;
    }
    let shown = host.as_deref().unwrap_or("(none)");
    tracing::warn!(
        host = shown,
        "refused an MCP request for a host not allowed"
    );
    refuse(
        StatusCode::FORBIDDEN,
        "host_not_allowed",
        format!(
            "the Host {shown:?} is not allowed for /mcp (protection against DNS rebinding)\n\
             hint: add it to the MCP allowed hosts (`allowed_hosts`, e.g. `--mcp-allowed-host {shown}`)"
        ),
    )
}

fn unauthorized(message: &str) -> Response {
    let mut response = refuse(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        format!("{message}\n{CREATE_KEY_HINT}"),
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"cradle\""),
    );
    response
}

async fn require_key(
    State(guard): State<Arc<Guard>>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(cradle_state::bearer_token);
    let Some(token) = token else {
        return unauthorized("/mcp needs an API key");
    };
    match guard.state_db.verify_api_key(token).await {
        Ok(Some(key)) => {
            tracing::debug!(key = %key.prefix, "MCP request authenticated");
            request.extensions_mut().insert(key);
            next.run(request).await
        }
        Ok(None) => unauthorized("the API key is unknown or revoked"),
        Err(error) => {
            tracing::error!(error = %error, "cannot check the API key");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "cannot check the API key; the server log has the cause".to_owned(),
            )
        }
    }
}

/// The router serving MCP at [`MCP_PATH`] over the data in `data` (which
/// may still be opening), with keys checked against `state_db`: the host
/// check, the key check, then the MCP service. Its state is applied, so
/// it merges into any `Router` (the console's, in `cradle serve`).
pub fn router(data: Arc<DataSlot>, state_db: StateDb, options: McpOptions) -> Router {
    let allowed_hosts = if options.allowed_hosts.is_empty() {
        None
    } else {
        Some(
            options
                .allowed_hosts
                .iter()
                .filter_map(|h| HostPort::parse(h))
                .collect(),
        )
    };
    // The host check is done above, with a message naming our setting;
    // the SDK's own check would only repeat it.
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .disable_allowed_hosts();
    let server = CradleMcp::for_slot(data);
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let guard = Arc::new(Guard {
        state_db,
        allowed_hosts,
    });
    Router::new()
        .route_service(MCP_PATH, service)
        .layer(from_fn_with_state(guard.clone(), require_key))
        .layer(from_fn_with_state(guard, check_host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(request_host: &str, entry: &str) -> bool {
        let host = HostPort::parse(request_host).expect(request_host);
        host.allowed_by(&HostPort::parse(entry).expect(entry))
    }

    #[test]
    fn matches_hosts() {
        assert!(allowed("localhost:9314", "localhost"));
        assert!(allowed("LOCALHOST", "localhost"));
        assert!(allowed("[::1]:9314", "[::1]"));
        assert!(allowed("[::1]:9314", "::1"));
        assert!(allowed("console:9314", "console:9314"));
        assert!(!allowed("console:9315", "console:9314"));
        assert!(!allowed("console", "console:9314"));
        assert!(!allowed("evil.example:9314", "localhost"));
        assert!(!allowed("localhost.evil.example", "localhost"));
    }
}
