//! Chat (`/chat`): questions about the catalogue, answered by
//! `cradle-chat` (retrieval through the hybrid search, a language model
//! when `[chat]` names one, an extractive answer otherwise) under the
//! signed-in user's own conversation. The page is rendered when the
//! answer is complete; numbered citations link to the product pages with
//! the file, sheet, row and column of each fact. API clients get the same
//! answer streamed from `POST /api/chat`.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::Response;
use cradle_chat::ChatEvent;
use futures_core::Stream;
use serde::Deserialize;

use crate::Web;
use crate::error::WebError;
use crate::pages::render;
use crate::session::{Chrome, Signed};

/// Longest question accepted (the chat engine bounds it too).
const MAX_QUESTION_CHARS: usize = 2000;

#[derive(Template)]
#[template(path = "chat.html")]
struct ChatPage {
    chrome: Chrome,
    question: String,
    conversation: String,
    answer: Option<Answer>,
    error: Option<String>,
}

/// A complete answer, as the page shows it.
struct Answer {
    text: String,
    notes: Vec<String>,
    citations: Vec<Cited>,
    mode: String,
}

struct Cited {
    n: usize,
    article_no: String,
    /// The product page's path.
    href: String,
    attribute: String,
    value: String,
    place: String,
}

#[derive(Debug, Deserialize)]
pub struct ChatForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    question: String,
    #[serde(default)]
    conversation: String,
}

pub async fn page(signed: Signed) -> Result<Response, WebError> {
    render(&ChatPage {
        chrome: signed.chrome("chat", signed.lang.text().nav_chat),
        question: String::new(),
        conversation: String::new(),
        answer: None,
        error: None,
    })
}

pub async fn ask(
    State(web): State<Web>,
    signed: Signed,
    Form(form): Form<ChatForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let question = form.question.trim().to_owned();
    let mut page = ChatPage {
        chrome: signed.chrome("chat", signed.lang.text().nav_chat),
        question: question.clone(),
        conversation: form.conversation.clone(),
        answer: None,
        error: None,
    };
    if question.is_empty() || question.chars().count() > MAX_QUESTION_CHARS {
        page.error = Some(format!(
            "a question has 1 to {MAX_QUESTION_CHARS} characters"
        ));
        return render(&page);
    }
    let owner = cradle_chat::user_owner(&signed.user.id);
    let conversation = Some(form.conversation.as_str()).filter(|c| !c.is_empty());
    let mut events = web.app.chat().ask(&owner, conversation, &question);
    let mut answer = Answer {
        text: String::new(),
        notes: Vec::new(),
        citations: Vec::new(),
        mode: String::new(),
    };
    while let Some(event) = next(&mut events).await {
        match event {
            ChatEvent::Conversation { id } => page.conversation = id,
            ChatEvent::Delta { text } => answer.text.push_str(&text),
            ChatEvent::Citation {
                n,
                article_no,
                source,
            } => answer.citations.push(Cited {
                n,
                href: format!(
                    "/products/{}",
                    crate::pages::search::path_segment(&article_no)
                ),
                article_no,
                attribute: source.attribute,
                value: source.value,
                place: [
                    source.file,
                    source.sheet,
                    source.row.map(|r| r.to_string()),
                    source.column,
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
            }),
            ChatEvent::Note { text } => answer.notes.push(text),
            ChatEvent::Done { mode, .. } => answer.mode = mode,
            ChatEvent::Error { message, .. } => page.error = Some(message),
        }
    }
    if !answer.text.is_empty() || !answer.citations.is_empty() {
        page.answer = Some(answer);
    }
    page.question = String::new();
    render(&page)
}

/// The next event of the answer's stream.
async fn next<S: Stream<Item = ChatEvent> + Unpin>(stream: &mut S) -> Option<ChatEvent> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}
