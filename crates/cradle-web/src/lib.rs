//! The console's web application: the pages the customer's staff use every
//! day, served by the same process and port as the API.
//!
//! Pages are rendered on the server from askama templates (checked when
//! compiled, escaping every value by default); the stylesheet and the one
//! small script are embedded in the binary under content-hashed names
//! (`assets.rs`). Every control is a real link or form; the script only
//! enhances (search as you type, copy buttons, the chat's answer streamed
//! into the page).
//!
//! | page | who |
//! |---|---|
//! | `/login`, `/login/link?token=…` | anyone |
//! | `/` dashboard, `/search`, `/products/{article_no}`, `/chat`, `/chat/stream`, `/account` | every role |
//! | class correction on a product page | editor, customer_admin |
//! | `/sql`, `/developers` (API keys, OpenAPI, MCP set-up) | developer, customer_admin |
//! | `/users`, `/admin` (installation, audit log) | customer_admin |
//!
//! A request without a live session is sent to `/login`. Sessions are
//! cookies (`HttpOnly`, `SameSite=Lax`, `Secure` behind TLS) naming a
//! session in `cradle-state`; every form carries the session's CSRF token
//! (the sign-in form a token of its own cookie). Every response carries a
//! strict Content-Security-Policy without inline script
//! (`headers.rs`).
//!
//! Architecture invariant: no query logic here; pages call `cradle-query`
//! and `cradle-state` like the API does, and show what they answer.

mod assets;
mod charts;
mod error;
mod headers;
mod i18n;
mod limit;
mod pages;
mod session;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};
use cradle_console::AppState;

pub use assets::all as embedded_assets;
pub use error::WebError;
pub use i18n::Lang;

/// The path the one-time links of `cradle user add` and of the users page
/// open.
pub const LINK_PATH: &str = "/login/link";

/// The one-time sign-in link for `token` on the console at `base`
/// (e.g. `http://127.0.0.1:9314`).
pub fn sign_in_link(base: &str, token: &str) -> String {
    format!("{}{LINK_PATH}?token={token}", base.trim_end_matches('/'))
}

/// What the pages share: the console's state, the sign-in limiter and the
/// dashboard's figures for the data they were computed from.
#[derive(Clone)]
pub(crate) struct Web {
    pub app: AppState,
    pub limiter: Arc<limit::SignInLimiter>,
    pub dashboard: Arc<Mutex<Option<pages::dashboard::Cached>>>,
}

/// The pages as a router to merge into the console's
/// (`cradle_console::Server::run_with`).
pub fn router(app: AppState) -> Router {
    let web = Web {
        app,
        limiter: Arc::new(limit::SignInLimiter::default()),
        dashboard: Arc::new(Mutex::new(None)),
    };
    use pages::*;
    Router::new()
        .route("/login", get(login::form).post(login::submit))
        .route(LINK_PATH, get(login::link))
        .route("/logout", post(login::logout))
        .route("/", get(dashboard::page))
        .route("/search", get(search::page))
        .route("/products/{article_no}", get(product::page))
        .route("/products/{article_no}/class", post(product::correct))
        .route("/chat", get(chat::page).post(chat::ask))
        .route("/chat/stream", post(chat::stream))
        .route("/sql", get(sql::form).post(sql::run))
        .route("/sql/csv", post(sql::csv))
        .route("/developers", get(developers::page))
        .route("/developers/keys", post(developers::create_key))
        .route("/developers/keys/{id}/revoke", post(developers::revoke_key))
        .route("/users", get(users::page).post(users::add))
        .route("/users/{id}/{action}", post(users::act))
        .route("/admin", get(admin::page))
        .route("/account", get(account::page))
        .route("/account/password", post(account::password))
        .route("/account/language", post(account::language))
        .route("/assets/{name}", get(assets::serve))
        .layer(axum::middleware::from_fn(headers::secure))
        .with_state(web)
}
