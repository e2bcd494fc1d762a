//! The user's own account (`/account`): set a password (where a reset
//! link leads) and choose the interface language.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::Web;
use crate::error::WebError;
use crate::pages::{render, state_error};
use crate::session::{Chrome, Signed};

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    message: Option<String>,
    error: Option<String>,
    language: String,
}

async fn show(
    signed: &Signed,
    message: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let failed = error.is_some();
    let mut response = render(&AccountPage {
        chrome: signed.chrome("account", signed.lang.text().nav_account),
        message,
        error,
        language: signed.user.language.clone().unwrap_or_default(),
    })?;
    if failed {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

pub async fn page(signed: Signed) -> Result<Response, WebError> {
    show(&signed, None, None).await
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

pub async fn password(
    State(web): State<Web>,
    signed: Signed,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let t = signed.lang.text();
    if form.password != form.repeat {
        return show(&signed, None, Some(t.passwords_differ.to_owned())).await;
    }
    let db = web.app.state_db();
    match db.set_password(&signed.user.id, &form.password).await {
        Ok(()) => {}
        Err(cradle_state::StateDbError::WeakPassword) => {
            return show(
                &signed,
                None,
                Some(format!(
                    "{} {}",
                    t.password_too_short,
                    cradle_state::MIN_PASSWORD_CHARS
                )),
            )
            .await;
        }
        Err(other) => return Err(state_error(other)),
    }
    db.audit(&signed.actor(), "password_set", None, None)
        .await
        .map_err(state_error)?;
    show(&signed, Some(t.password_saved.to_owned()), None).await
}

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    language: String,
}

pub async fn language(
    State(web): State<Web>,
    signed: Signed,
    Form(form): Form<LanguageForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let language = crate::Lang::parse(&form.language).map(|l| l.code());
    web.app
        .state_db()
        .set_language(&signed.user.id, language)
        .await
        .map_err(state_error)?;
    Ok(Redirect::to("/account").into_response())
}
