//! The stylesheet and the script, embedded in the binary and served under
//! names that carry a hash of their content, so browsers may cache them
//! for a year and a new build is fetched at once. No CDN, no build step.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const CSS: &str = include_str!("../assets/console.css");
const JS: &str = include_str!("../assets/console.js");

fn hashed(name: &str, extension: &str, content: &str) -> String {
    let digest = Sha256::digest(content.as_bytes());
    let short: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    format!("/assets/{name}-{short}.{extension}")
}

/// `/assets/console-<hash>.css`.
pub fn css_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| hashed("console", "css", CSS))
}

/// `/assets/console-<hash>.js`.
pub fn js_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| hashed("console", "js", JS))
}

/// Every asset with its path: for the benchmark's byte count and tests.
pub fn all() -> [(&'static str, usize); 2] {
    [(css_path(), CSS.len()), (js_path(), JS.len())]
}

pub(crate) async fn serve(Path(name): Path<String>) -> Response {
    let path = format!("/assets/{name}");
    let (content, kind) = if path == css_path() {
        (CSS, "text/css; charset=utf-8")
    } else if path == js_path() {
        (JS, "text/javascript; charset=utf-8")
    } else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut response = content.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}
