//! The console's HTTP server: one process, one port, serving search,
//! product pages, listings, read-only SQL and an OpenAPI document over one
//! customer's data, with API keys kept in a state database and Prometheus
//! metrics.
//!
//! [`serve`] binds the port first and opens the data (search index and
//! product catalog, both memory-mapped or read-only) in the background, so
//! `/health` answers at once and `/ready` turns 200 when the data is open.
//! Nothing is ever built or rebuilt at startup.
//!
//! Routes (see `routes.rs`, the single list both the router and the
//! OpenAPI document are built from):
//!
//! | route | access |
//! |---|---|
//! | `GET /health`, `GET /ready`, `GET /metrics` | public |
//! | `GET /api/stats`, `GET /api/openapi.json` | public |
//! | `GET /api/search` | API key |
//! | `GET /api/products`, `GET /api/products/{article_no}` | API key |
//! | `GET /api/classes`, `GET /api/families` | API key |
//! | `POST /api/sql` | API key |
//! | `POST /api/chat`, `GET /api/chat/conversations[/{id}]` | API key |
//!
//! Architecture invariant: the server never writes to the data directory;
//! everything mutable lives in the state database.

pub mod auth;
mod chat;
mod error;
pub mod limits;
pub mod listener;
mod logging;
pub mod metrics;
pub mod openapi;
mod ops;
mod params;
mod products;
mod request;
pub use request::{BODY_READ_TIMEOUT, MAX_BODY_BYTES};
pub mod routes;
pub mod search;
mod sql;
mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::middleware::from_fn_with_state;
use cradle_state::{StateConfig, StateDb, StateDbError};
use tokio::net::TcpListener;

pub use chat::answer_stream;
pub use error::AppError;
pub use logging::{LogFormat, init_logging};
pub use request::{REQUEST_ID_HEADER, UNMATCHED_ROUTE, current_id};
pub use state::AppState;

/// The port the console listens on unless told otherwise.
pub const DEFAULT_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9314);

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Read-only data: a workspace or an image's data directory holding
    /// `index/search`, `index/catalog.db` and `lakehouse/`.
    pub data_dir: PathBuf,
    /// Where API keys (and later users, chats, the audit log) live.
    pub state: StateConfig,
    /// Default [`DEFAULT_BIND`] (127.0.0.1:9314).
    pub bind: SocketAddr,
    pub log_format: LogFormat,
    /// Timeouts and the connection cap (see [`listener`]).
    pub limits: listener::Limits,
    /// Per-key rates of search, SQL and chat (see [`limits`]).
    pub rates: limits::Rates,
}

impl ServerConfig {
    /// A configuration for a workspace `<WS>`: data in `<WS>`, state in
    /// `DATABASE_URL` if set, else `<WS>/state/state.db`, on 127.0.0.1:9314.
    pub fn for_workspace(workspace: impl Into<PathBuf>) -> ServerConfig {
        let data_dir = workspace.into();
        ServerConfig {
            state: StateConfig::from_env(data_dir.join("state")),
            data_dir,
            bind: DEFAULT_BIND,
            log_format: LogFormat::default(),
            limits: listener::Limits::default(),
            rates: limits::Rates::default(),
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    StateDb(#[from] StateDbError),
    #[error(
        "cannot listen on {address}\nhint: is another server running there? choose another address with --bind"
    )]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the server failed")]
    Serve {
        #[source]
        source: std::io::Error,
    },
}

/// A server with its port bound and its state database open, not yet
/// answering.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    state: AppState,
    data_dir: PathBuf,
    limits: listener::Limits,
}

impl Server {
    /// Opens the state database (creating and migrating it) and binds the
    /// port. Bind to port 0 to get a free one ([`Server::local_addr`]).
    pub async fn bind(config: ServerConfig) -> Result<Server, ServeError> {
        let state_db = StateDb::open(&config.state).await?;
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| ServeError::Bind {
                address: config.bind,
                source,
            })?;
        Ok(Server {
            listener,
            state: AppState::with_rates(state_db, config.rates),
            data_dir: config.data_dir,
            limits: config.limits,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has an address")
    }

    /// The shared state (to create keys in tests, for instance).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Answers requests until `shutdown` completes, then finishes the
    /// requests in flight. The data is opened in the background.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        self.run_with(Router::new(), shutdown).await
    }

    /// Like [`Server::run`], with more routes (e.g. `/mcp`) served beside
    /// the console's, under the same request ids, logs and metrics.
    pub async fn run_with(
        self,
        extra: Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let Server {
            listener,
            state,
            data_dir,
            limits,
        } = self;
        let address = listener.local_addr().ok();
        tracing::info!(address = ?address, data = %data_dir.display(), state = state.state_db().location(), max_connections = limits.max_connections, "listening");
        tokio::spawn(open_data(state.clone(), data_dir));
        let result = listener::serve(
            listener,
            router_with(state.clone(), extra),
            limits,
            shutdown,
        )
        .await;
        state.state_db().close().await;
        result.map_err(|source| ServeError::Serve { source })
    }
}

/// Opens the data in the background. A workspace whose index or catalog
/// is not built yet is waited for (an orchestrator builds them after
/// starting the server), and the wait is logged once; any other failure
/// leaves `/ready` at 503 with `failed`.
async fn open_data(state: AppState, data_dir: PathBuf) {
    let layout = cradle_fs::Workspace::new(&data_dir);
    let mut said = false;
    while !(layout.search_index_dir().exists() && layout.catalog_file().exists()) {
        if !said {
            tracing::warn!(
                data = %data_dir.display(),
                "waiting for the search index and catalog; /ready says starting until they exist (hint: `cradle index --workspace {}`)",
                data_dir.display()
            );
            said = true;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    match cradle_query::Data::open(&data_dir).await {
        Ok(data) => {
            tracing::info!(
                documents = data.index_stats().documents,
                opened_in_ms = data.opened_in().as_secs_f64() * 1000.0,
                "data open; ready"
            );
            state.set_data(data);
        }
        Err(error) => {
            tracing::error!(
                data = %data_dir.display(),
                error = %cradle_query::chain(&error),
                "cannot open the data; /ready stays 503 (hint: build the index and catalog with `cradle index`)"
            );
            state.set_failed();
        }
    }
}

/// Runs the server until `shutdown` completes: installs logging (unless a
/// subscriber is installed already), opens the state database, binds,
/// opens the data in the background and serves.
pub async fn serve(
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    init_logging(config.log_format);
    Server::bind(config).await?.run(shutdown).await
}

/// The router over `state`: every route of `routes.rs`, the key check on
/// the protected ones, and request ids, logs and metrics on all.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// [`router`] with `extra` routes (which carry their own state) merged in.
pub fn router_with(state: AppState, extra: Router) -> Router {
    let (public, protected) = routes::routers();
    // The key check runs first (the outer layer), then the per-key limits.
    let protected = protected
        .route_layer(from_fn_with_state(state.clone(), limits::limit))
        .route_layer(from_fn_with_state(state.clone(), auth::require_key));
    public
        .merge(protected)
        .with_state(state.clone())
        .merge(extra)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(request::read_body))
        .layer(axum::extract::DefaultBodyLimit::max(
            request::MAX_BODY_BYTES,
        ))
        .layer(from_fn_with_state(state, request::observe))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> AppError {
    AppError::MethodNotAllowed {
        message: format!(
            "{} does not answer {method}; GET /api/openapi.json lists the methods of each route",
            uri.path()
        ),
    }
}

async fn not_found() -> AppError {
    AppError::NotFound {
        code: "no_route",
        message: "no such route; GET /api/openapi.json lists them".to_owned(),
    }
}
