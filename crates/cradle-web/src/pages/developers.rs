//! The developer portal (`/developers`, developers and admins): API keys
//! (create, shown once; revoke; last used), the OpenAPI document as a
//! readable reference, and the configuration an MCP client needs, with
//! this server's address as the browser reached it.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use cradle_state::{ApiKeyInfo, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Web;
use crate::error::WebError;
use crate::pages::{CsrfOnly, display, render, state_error};
use crate::session::{Chrome, Signed};

#[derive(Template)]
#[template(path = "developers.html")]
struct DevelopersPage {
    chrome: Chrome,
    keys: Vec<ApiKeyInfo>,
    created: Option<String>,
    operations: Vec<Operation>,
    base_url: String,
    claude_desktop: String,
    streamable_http: String,
}

struct Operation {
    method: String,
    path: String,
    summary: String,
    needs_key: bool,
    parameters: Vec<(String, String, String)>,
}

fn operations() -> Vec<Operation> {
    let document = cradle_console::openapi::document(&cradle_console::routes::specs());
    let mut operations = Vec::new();
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return operations;
    };
    for (path, methods) in paths {
        let Some(methods) = methods.as_object() else {
            continue;
        };
        for (method, operation) in methods {
            let needs_key = operation
                .get("security")
                .and_then(Value::as_array)
                .is_none_or(|s| !s.is_empty());
            let parameters = operation
                .get("parameters")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .map(|p| {
                            (
                                p.get("name").map(display).unwrap_or_default(),
                                p.get("in").map(display).unwrap_or_default(),
                                p.get("description").map(display).unwrap_or_default(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            operations.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                summary: operation.get("summary").map(display).unwrap_or_default(),
                needs_key,
                parameters,
            });
        }
    }
    operations
}

async fn show(web: &Web, signed: &Signed, created: Option<String>) -> Result<Response, WebError> {
    let keys = web
        .app
        .state_db()
        .list_api_keys()
        .await
        .map_err(state_error)?;
    let mcp = format!("{}/mcp", signed.base_url);
    let claude_desktop = json!({
        "mcpServers": {
            "cradle": {
                "command": "npx",
                "args": ["-y", "mcp-remote", mcp, "--header", "Authorization:${CRADLE_AUTH}"],
                "env": {"CRADLE_AUTH": "Bearer <API key>"}
            }
        }
    });
    let streamable_http = json!({
        "mcpServers": {
            "cradle": {
                "type": "http",
                "url": mcp,
                "headers": {"Authorization": "Bearer <API key>"}
            }
        }
    });
    render(&DevelopersPage {
        chrome: signed.chrome("developers", signed.lang.text().nav_developers),
        keys,
        created,
        operations: operations(),
        base_url: signed.base_url.clone(),
        claude_desktop: serde_json::to_string_pretty(&claude_desktop).unwrap_or_default(),
        streamable_http: serde_json::to_string_pretty(&streamable_http).unwrap_or_default(),
    })
}

pub async fn page(State(web): State<Web>, signed: Signed) -> Result<Response, WebError> {
    signed.require(Role::develops)?;
    show(&web, &signed, None).await
}

#[derive(Debug, Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// Creates a key and shows it once, in this response only.
pub async fn create_key(
    State(web): State<Web>,
    signed: Signed,
    Form(form): Form<KeyForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    signed.require(Role::develops)?;
    let db = web.app.state_db();
    let key = db
        .create_api_key(&form.name)
        .await
        .map_err(|error| match error {
            cradle_state::StateDbError::InvalidName => WebError::BadRequest {
                lang: signed.lang,
                message: error.to_string(),
            },
            other => state_error(other),
        })?;
    db.audit(
        &signed.actor(),
        "api_key_created",
        Some(&key.prefix),
        Some(form.name.trim()),
    )
    .await
    .map_err(state_error)?;
    show(&web, &signed, Some(key.plaintext)).await
}

pub async fn revoke_key(
    State(web): State<Web>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    signed.require(Role::develops)?;
    let db = web.app.state_db();
    if !db.revoke_api_key(&id).await.map_err(state_error)? {
        return Err(WebError::NotFound {
            lang: signed.lang,
            message: signed.lang.text().no_such_key.to_owned(),
        });
    }
    db.audit(&signed.actor(), "api_key_revoked", Some(&id), None)
        .await
        .map_err(state_error)?;
    Ok(Redirect::to("/developers").into_response())
}
