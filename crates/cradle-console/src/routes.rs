//! The one list of routes: the router and the OpenAPI document are both
//! built from it, so a route cannot be served without being documented.
//! Each API area contributes its routes with their handler and their
//! OpenAPI operation.

use axum::Router;
use axum::routing::MethodRouter;
use serde_json::Value;

use crate::AppState;
use crate::openapi::Schemas;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone who reaches the port.
    Public,
    /// Requests with a valid API key.
    ApiKey,
}

/// A route as documented: what the OpenAPI document and the tests see.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    /// Upper case, e.g. `GET`.
    pub method: &'static str,
    /// axum's path syntax, which is also OpenAPI's: `/api/products/{article_no}`.
    pub path: &'static str,
    pub access: Access,
    /// The OpenAPI operation object (summary, parameters, responses); its
    /// bodies refer to schemas derived from the handler's Rust types.
    pub operation: fn(&mut Schemas) -> Value,
}

/// A route with its handler.
pub(crate) struct Route {
    pub spec: RouteSpec,
    pub handler: MethodRouter<AppState>,
}

impl Route {
    pub fn new(
        method: &'static str,
        path: &'static str,
        access: Access,
        operation: fn(&mut Schemas) -> Value,
        handler: MethodRouter<AppState>,
    ) -> Route {
        Route {
            spec: RouteSpec {
                method,
                path,
                access,
                operation,
            },
            handler,
        }
    }
}

/// Every route the server answers.
pub(crate) fn all() -> Vec<Route> {
    let mut routes = Vec::new();
    routes.extend(crate::ops::routes());
    routes.extend(crate::search::routes());
    routes.extend(crate::products::routes());
    routes.extend(crate::sql::routes());
    routes.extend(crate::chat::routes());
    routes.extend(crate::openapi::routes());
    routes
}

/// Every route the server answers, as documented.
pub fn specs() -> Vec<RouteSpec> {
    all().into_iter().map(|route| route.spec).collect()
}

/// The public and the key-protected routes as two routers (a path may
/// appear in both with different methods).
pub(crate) fn routers() -> (Router<AppState>, Router<AppState>) {
    let mut public = Router::new();
    let mut protected = Router::new();
    for route in all() {
        match route.spec.access {
            Access::Public => public = public.route(route.spec.path, route.handler),
            Access::ApiKey => protected = protected.route(route.spec.path, route.handler),
        }
    }
    (public, protected)
}
