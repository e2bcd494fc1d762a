//! Who is asking: the session cookie, the signed-in user with their role
//! and language, the CSRF token of their forms, and what a page needs to
//! draw its frame ([`Chrome`]).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use cradle_state::{Role, User};

use crate::Web;
use crate::error::WebError;
use crate::i18n::{Lang, Text};

/// The cookie naming the session.
pub const SESSION_COOKIE: &str = "cradle_session";
/// The cookie holding the sign-in form's CSRF token (no session yet).
pub const LOGIN_COOKIE: &str = "cradle_login";

/// The value of cookie `name`, if sent.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// Whether the client reached us over TLS (directly, or through a proxy
/// that says so).
pub fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("https")
        })
}

/// A `Set-Cookie` value; `Secure` when the page came over TLS.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: i64,
    same_site: &str,
    secure: bool,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The address the client used for this server, for links it can open:
/// `X-Forwarded-Host` and `-Proto` from a proxy, else `Host`.
pub fn base_url(headers: &HeaderMap) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or("").trim().to_owned())
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_graphic()))
    };
    let host = header("x-forwarded-host")
        .or_else(|| header("host"))
        .unwrap_or_else(|| cradle_console::DEFAULT_BIND.to_string());
    let scheme = if over_tls(headers) { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// The language from `Accept-Language`: German if the client prefers it
/// over English, else English.
pub fn browser_lang(headers: &HeaderMap) -> Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for part in accept.split(',') {
        let tag = part
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if tag.starts_with("de") {
            return Lang::De;
        }
        if tag.starts_with("en") {
            return Lang::En;
        }
    }
    Lang::En
}

/// A signed-in user, found from the session cookie.
#[derive(Debug, Clone)]
pub struct Signed {
    pub user: User,
    pub csrf: String,
    pub token: String,
    pub lang: Lang,
    pub secure: bool,
    pub base_url: String,
}

impl Signed {
    /// `Forbidden` unless the user's role allows `permission`.
    pub fn require(&self, permission: fn(Role) -> bool) -> Result<(), WebError> {
        if permission(self.user.role) {
            Ok(())
        } else {
            Err(WebError::Forbidden { lang: self.lang })
        }
    }

    /// `Forbidden` unless a form carried this session's CSRF token.
    pub fn check_csrf(&self, sent: &str) -> Result<(), WebError> {
        if constant_time_eq(sent.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(WebError::Csrf { lang: self.lang })
        }
    }

    /// The frame of a page for this user.
    pub fn chrome(&self, active: &'static str, title: impl Into<String>) -> Chrome {
        Chrome {
            t: self.lang.text(),
            lang: self.lang.code(),
            title: title.into(),
            active,
            user: Some(self.user.clone()),
            csrf: self.csrf.clone(),
            css: crate::assets::css_path(),
            js: crate::assets::js_path(),
        }
    }

    /// `user:<email>`, as the audit log names the user.
    pub fn actor(&self) -> String {
        format!("user:{}", self.user.email)
    }
}

/// Equality whose time depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

impl FromRequestParts<Web> for Signed {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Signed, WebError> {
        let next = parts
            .uri
            .path_and_query()
            .map_or("/".to_owned(), |pq| pq.as_str().to_owned());
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(WebError::SignIn { next });
        };
        let session = web
            .app
            .state_db()
            .session(token)
            .await
            .map_err(|source| WebError::internal("cannot read the session", source))?;
        let Some(session) = session else {
            return Err(WebError::SignIn { next });
        };
        let lang = session
            .user
            .language
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or_else(|| browser_lang(&parts.headers));
        Ok(Signed {
            token: token.to_owned(),
            csrf: session.csrf,
            user: session.user,
            lang,
            secure: over_tls(&parts.headers),
            base_url: base_url(&parts.headers),
        })
    }
}

/// What the frame of every page shows: navigation for the user's role,
/// their language, the sign-out form's token and the asset paths.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub t: &'static Text,
    pub lang: &'static str,
    pub title: String,
    /// The navigation entry to mark as current.
    pub active: &'static str,
    pub user: Option<User>,
    pub csrf: String,
    pub css: &'static str,
    pub js: &'static str,
}

impl Chrome {
    /// The frame of a page shown without a session (sign-in, errors).
    pub fn anonymous(lang: Lang, title: impl Into<String>) -> Chrome {
        Chrome {
            t: lang.text(),
            lang: lang.code(),
            title: title.into(),
            active: "",
            user: None,
            csrf: String::new(),
            css: crate::assets::css_path(),
            js: crate::assets::js_path(),
        }
    }

    pub fn develops(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.develops())
    }

    pub fn manages_users(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.manages_users())
    }

    /// `aria-current` for the navigation entry `name`.
    pub fn current(&self, name: &str) -> &'static str {
        if self.active == name { "page" } else { "false" }
    }
}

/// 32 random bytes in hex (two v4 UUIDs: the operating system's generator).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies_languages_and_addresses() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; cradle_session=abc ; b=2"),
        );
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("fr, de-DE;q=0.9, en;q=0.8"),
        );
        headers.insert(
            header::HOST,
            HeaderValue::from_static("console.example:9314"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
        assert_eq!(browser_lang(&headers), Lang::De);
        assert_eq!(base_url(&headers), "http://console.example:9314");
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(base_url(&headers), "https://console.example:9314");
        assert!(
            set_cookie("n", "v", 10, "Lax", true)
                .to_str()
                .unwrap_or("")
                .ends_with("; Secure")
        );
    }
}
