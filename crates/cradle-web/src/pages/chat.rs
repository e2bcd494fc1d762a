//! Chat (`/chat`): the page for asking questions about the catalogue.
//! The chat engine (retrieval, the language model, stored conversations,
//! the streamed `POST /api/chat`) is a crate of its own that this page
//! does not have yet; until it is wired in, the page says so and points to
//! search.

use askama::Template;
use axum::response::Response;

use crate::error::WebError;
use crate::pages::render;
use crate::session::{Chrome, Signed};

#[derive(Template)]
#[template(path = "chat.html")]
struct ChatPage {
    chrome: Chrome,
}

pub async fn page(signed: Signed) -> Result<Response, WebError> {
    render(&ChatPage {
        chrome: signed.chrome("chat", signed.lang.text().nav_chat),
    })
}
