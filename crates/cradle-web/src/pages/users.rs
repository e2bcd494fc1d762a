//! Users (`/users`, customer admins): add a user (the page shows their
//! one-time sign-in link), change a role, disable or enable, and issue a
//! one-time reset link. Every action goes to the audit log.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use cradle_state::{LinkPurpose, Role, StateDbError, User};
use serde::Deserialize;

use crate::error::WebError;
use crate::pages::{render, state_error};
use crate::session::{Chrome, Signed};
use crate::{Web, sign_in_link};

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<User>,
    roles: Vec<&'static str>,
    /// A link just issued: (for whom, the link).
    link: Option<(String, String)>,
    error: Option<String>,
}

async fn show(
    web: &Web,
    signed: &Signed,
    link: Option<(String, String)>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let users = web.app.state_db().users().await.map_err(state_error)?;
    let failed = error.is_some();
    let mut response = render(&UsersPage {
        chrome: signed.chrome("users", signed.lang.text().nav_users),
        users,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        link,
        error,
    })?;
    if failed {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

pub async fn page(State(web): State<Web>, signed: Signed) -> Result<Response, WebError> {
    signed.require(Role::manages_users)?;
    show(&web, &signed, None, None).await
}

#[derive(Debug, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// The requester's mistakes as a message on the page; faults as errors.
fn mistake(error: StateDbError) -> Result<String, WebError> {
    match error {
        StateDbError::InvalidEmail { .. }
        | StateDbError::InvalidRole { .. }
        | StateDbError::DuplicateEmail { .. }
        | StateDbError::UserDisabled { .. } => Ok(error.to_string()),
        other => Err(state_error(other)),
    }
}

pub async fn add(
    State(web): State<Web>,
    signed: Signed,
    Form(form): Form<AddForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    signed.require(Role::manages_users)?;
    let db = web.app.state_db();
    let role: Role = match form.role.parse() {
        Ok(role) => role,
        Err(error) => return show(&web, &signed, None, Some(mistake(error)?)).await,
    };
    let user = match db.create_user(&form.email, role).await {
        Ok(user) => user,
        Err(error) => return show(&web, &signed, None, Some(mistake(error)?)).await,
    };
    let token = db
        .issue_link(&user.id, LinkPurpose::SignIn)
        .await
        .map_err(state_error)?;
    db.audit(
        &signed.actor(),
        "user_added",
        Some(&user.email),
        Some(role.as_str()),
    )
    .await
    .map_err(state_error)?;
    show(
        &web,
        &signed,
        Some((user.email, sign_in_link(&signed.base_url, &token))),
        None,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
}

/// `disable`, `enable`, `reset` or `role` for the user with this id.
pub async fn act(
    State(web): State<Web>,
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    signed.require(Role::manages_users)?;
    let lang = signed.lang;
    let db = web.app.state_db();
    let Some(user) = db.user(&id).await.map_err(state_error)? else {
        return Err(WebError::NotFound {
            lang,
            message: lang.text().no_such_user.to_owned(),
        });
    };
    if user.id == signed.user.id && action != "reset" {
        return show(
            &web,
            &signed,
            None,
            Some(lang.text().not_yourself.to_owned()),
        )
        .await;
    }
    let actor = signed.actor();
    match action.as_str() {
        "disable" => {
            db.disable_user(&user.id).await.map_err(state_error)?;
            db.audit(&actor, "user_disabled", Some(&user.email), None)
                .await
                .map_err(state_error)?;
        }
        "enable" => {
            db.enable_user(&user.id).await.map_err(state_error)?;
            db.audit(&actor, "user_enabled", Some(&user.email), None)
                .await
                .map_err(state_error)?;
        }
        "role" => {
            let role: Role = match form.role.parse() {
                Ok(role) => role,
                Err(error) => return show(&web, &signed, None, Some(mistake(error)?)).await,
            };
            db.set_role(&user.id, role).await.map_err(state_error)?;
            db.audit(
                &actor,
                "role_changed",
                Some(&user.email),
                Some(role.as_str()),
            )
            .await
            .map_err(state_error)?;
        }
        "reset" => {
            let token = match db.issue_link(&user.id, LinkPurpose::Reset).await {
                Ok(token) => token,
                Err(error) => return show(&web, &signed, None, Some(mistake(error)?)).await,
            };
            db.audit(&actor, "reset_link_issued", Some(&user.email), None)
                .await
                .map_err(state_error)?;
            return show(
                &web,
                &signed,
                Some((user.email, sign_in_link(&signed.base_url, &token))),
                None,
            )
            .await;
        }
        _ => {
            return Err(WebError::NotFound {
                lang,
                message: format!("no action {action:?}"),
            });
        }
    }
    Ok(Redirect::to("/users").into_response())
}
