//! Signing in and out: the email and password form (rate limited, its
//! CSRF token in a cookie of its own), the one-time link that `cradle user
//! add` and the users page hand out, and signing out.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use cradle_state::{LinkPurpose, SESSION_SECONDS};
use serde::Deserialize;

use crate::Web;
use crate::error::WebError;
use crate::pages::{CsrfOnly, render};
use crate::session::{
    Chrome, LOGIN_COOKIE, SESSION_COOKIE, Signed, browser_lang, constant_time_eq, cookie, over_tls,
    random_token, set_cookie,
};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    csrf: String,
    next: String,
    email: String,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
}

/// Only a path on this server, never another site (`//host`).
fn local_path(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/"
    }
}

/// The sign-in form, with a fresh CSRF token in its cookie.
fn login_page(
    headers: &HeaderMap,
    next: &str,
    email: &str,
    message: Option<String>,
) -> Result<Response, WebError> {
    let lang = browser_lang(headers);
    let csrf = random_token();
    let page = LoginPage {
        chrome: Chrome::anonymous(lang, lang.text().sign_in),
        csrf: csrf.clone(),
        next: local_path(next).to_owned(),
        email: email.to_owned(),
        message,
    };
    let mut response = render(&page)?;
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, &csrf, 3600, "Strict", over_tls(headers)),
    );
    Ok(response)
}

pub async fn form(
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Result<Response, WebError> {
    login_page(&headers, &query.next, "", None)
}

/// Signs in with a new session and goes to `next`.
async fn start_session(
    web: &Web,
    headers: &HeaderMap,
    user_id: &str,
    next: &str,
) -> Result<Response, WebError> {
    let session = web
        .app
        .state_db()
        .create_session(user_id)
        .await
        .map_err(|source| WebError::internal("cannot start a session", source))?;
    let mut response = Redirect::to(local_path(next)).into_response();
    let secure = over_tls(headers);
    let cookies = response.headers_mut();
    cookies.append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            &session.token,
            SESSION_SECONDS,
            "Lax",
            secure,
        ),
    );
    cookies.append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, "", 0, "Strict", secure),
    );
    Ok(response)
}

pub async fn submit(
    State(web): State<Web>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let lang = browser_lang(&headers);
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if !constant_time_eq(form.csrf.as_bytes(), expected.as_bytes()) {
        return Err(WebError::Csrf { lang });
    }
    let email = form.email.trim().to_lowercase();
    if let Err(retry_after) = web.limiter.check(&email) {
        return Err(WebError::TooManyAttempts { lang, retry_after });
    }
    let db = web.app.state_db();
    let user = db
        .check_password(&email, &form.password)
        .await
        .map_err(|source| WebError::internal("cannot check the password", source))?;
    let Some(user) = user else {
        web.limiter.failed(&email);
        db.audit("anonymous", "sign_in_failed", Some(&email), None)
            .await
            .map_err(|source| WebError::internal("cannot write the audit log", source))?;
        let mut response = login_page(
            &headers,
            &form.next,
            &email,
            Some(lang.text().sign_in_failed.to_owned()),
        )?;
        *response.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
        return Ok(response);
    };
    web.limiter.succeeded(&email);
    db.audit(
        &format!("user:{}", user.email),
        "sign_in",
        None,
        Some("password"),
    )
    .await
    .map_err(|source| WebError::internal("cannot write the audit log", source))?;
    start_session(&web, &headers, &user.id, &form.next).await
}

/// A one-time link: signs in and leads to the dashboard (or, for a reset
/// link, to the form that sets a new password).
pub async fn link(
    State(web): State<Web>,
    headers: HeaderMap,
    Query(query): Query<LinkQuery>,
) -> Result<Response, WebError> {
    let lang = browser_lang(&headers);
    let db = web.app.state_db();
    let redeemed = db
        .redeem_link(&query.token)
        .await
        .map_err(|source| WebError::internal("cannot check the link", source))?;
    let Some((user, purpose)) = redeemed else {
        return Err(WebError::BadRequest {
            lang,
            message: lang.text().link_invalid.to_owned(),
        });
    };
    let how = match purpose {
        LinkPurpose::SignIn => "link",
        LinkPurpose::Reset => "reset_link",
    };
    db.audit(&format!("user:{}", user.email), "sign_in", None, Some(how))
        .await
        .map_err(|source| WebError::internal("cannot write the audit log", source))?;
    let next = match purpose {
        LinkPurpose::SignIn => "/",
        LinkPurpose::Reset => "/account",
    };
    start_session(&web, &headers, &user.id, next).await
}

pub async fn logout(
    State(web): State<Web>,
    signed: Signed,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let db = web.app.state_db();
    db.end_session(&signed.token)
        .await
        .map_err(|source| WebError::internal("cannot end the session", source))?;
    db.audit(&signed.actor(), "sign_out", None, None)
        .await
        .map_err(|source| WebError::internal("cannot write the audit log", source))?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, "Lax", signed.secure),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goes_only_to_local_paths() {
        assert_eq!(local_path("/search?q=a"), "/search?q=a");
        assert_eq!(local_path("//evil.example"), "/");
        assert_eq!(local_path("https://evil.example"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
    }
}
