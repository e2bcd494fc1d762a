//! Chat (`/chat`): questions about the catalogue, answered by
//! `cradle-chat` (retrieval through the hybrid search, a language model
//! when `[chat]` names one, an extractive answer otherwise) under the
//! signed-in user's own conversation. Numbered citations link to the
//! product pages with the file, sheet, row and column of each fact.
//!
//! The page lists the user's own conversations (most recently active
//! first) and shows one with `?conversation=<id>`; someone else's id is a
//! 404, as the store answers only with the owner named. The question form
//! posts to `/chat`, which renders the page when the answer is complete;
//! with the script, the same form posts to `/chat/stream` instead, which
//! answers with the server-sent events of `POST /api/chat` (the same
//! encoding, `cradle_console::answer_stream`) under the session and its
//! CSRF token, and the script writes the answer into the page as it
//! arrives.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use cradle_chat::{ChatEvent, Source};
use cradle_console::AppError;
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
    /// The conversation the form continues (empty: a new one).
    conversation: String,
    conversations: Vec<Listed>,
    /// The conversation's questions and answers, oldest first.
    thread: Vec<Shown>,
    error: Option<String>,
}

/// A conversation in the list.
struct Listed {
    title: String,
    href: String,
    updated_at: String,
    /// `aria-current` of its link.
    current: &'static str,
}

/// A question or an answer, as the page shows it.
struct Shown {
    question: bool,
    text: String,
    citations: Vec<Cited>,
    /// Notes and the mode of an answer just written (stored answers have
    /// neither).
    notes: Vec<String>,
    mode: String,
}

impl Shown {
    fn question(text: String) -> Shown {
        Shown {
            question: true,
            text,
            citations: Vec::new(),
            notes: Vec::new(),
            mode: String::new(),
        }
    }
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

impl Cited {
    fn new(n: usize, article_no: String, source: Source) -> Cited {
        Cited {
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
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ChatQuery {
    #[serde(default)]
    conversation: String,
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

impl Web {
    /// The user's conversations for the list, `current` marked.
    async fn conversations(&self, signed: &Signed, current: &str) -> Result<Vec<Listed>, WebError> {
        let owner = cradle_chat::user_owner(&signed.user.id);
        let listed = self
            .app
            .chat()
            .conversations(&owner)
            .await
            .map_err(|source| WebError::internal("cannot list the conversations", source))?;
        Ok(listed
            .into_iter()
            .map(|c| Listed {
                href: format!("/chat?conversation={}", urlencode(&c.id)),
                current: if c.id == current { "page" } else { "false" },
                title: c.title,
                updated_at: c.updated_at,
            })
            .collect())
    }

    /// The user's conversation `id` as a thread; `None` when it is not
    /// theirs (or does not exist).
    async fn thread(&self, signed: &Signed, id: &str) -> Result<Option<Vec<Shown>>, WebError> {
        let owner = cradle_chat::user_owner(&signed.user.id);
        let conversation = self
            .app
            .chat()
            .conversation(&owner, id)
            .await
            .map_err(|source| WebError::internal("cannot read the conversation", source))?;
        Ok(conversation.map(|conversation| {
            conversation
                .messages
                .into_iter()
                .map(|message| Shown {
                    question: message.role == "user",
                    text: message.content,
                    citations: message
                        .citations
                        .into_iter()
                        .map(|c| Cited::new(c.n, c.article_no, c.source))
                        .collect(),
                    notes: Vec::new(),
                    mode: String::new(),
                })
                .collect()
        }))
    }
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|pair| pair.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// `GET /chat[?conversation=<id>]`.
pub async fn page(
    State(web): State<Web>,
    signed: Signed,
    Query(query): Query<ChatQuery>,
) -> Result<Response, WebError> {
    let thread = if query.conversation.is_empty() {
        Vec::new()
    } else {
        web.thread(&signed, &query.conversation)
            .await?
            .ok_or_else(|| WebError::NotFound {
                lang: signed.lang,
                message: format!("no conversation {:?} of yours", query.conversation),
            })?
    };
    render(&ChatPage {
        chrome: signed.chrome("chat", signed.lang.text().nav_chat),
        question: String::new(),
        conversations: web.conversations(&signed, &query.conversation).await?,
        conversation: query.conversation,
        thread,
        error: None,
    })
}

/// `POST /chat`: the answer worked out whole, then the page with it.
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
        conversations: Vec::new(),
        thread: Vec::new(),
        error: None,
    };
    if !form.conversation.is_empty() {
        // Someone else's conversation shows nothing; the chat refuses it
        // below.
        page.thread = web
            .thread(&signed, &form.conversation)
            .await?
            .unwrap_or_default();
    }
    if let Err(message) = check_question(&question) {
        page.error = Some(message);
        page.conversations = web.conversations(&signed, &page.conversation).await?;
        return render(&page);
    }
    let owner = cradle_chat::user_owner(&signed.user.id);
    let conversation = Some(form.conversation.as_str()).filter(|c| !c.is_empty());
    let mut events = web.app.chat().ask(&owner, conversation, &question);
    let mut answer = Shown {
        question: false,
        text: String::new(),
        citations: Vec::new(),
        notes: Vec::new(),
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
            } => answer.citations.push(Cited::new(n, article_no, source)),
            ChatEvent::Note { text } => answer.notes.push(text),
            ChatEvent::Done { mode, .. } => answer.mode = mode,
            ChatEvent::Error { message, .. } => page.error = Some(message),
        }
    }
    if !answer.text.is_empty() || !answer.citations.is_empty() {
        page.thread.push(Shown::question(question));
        page.thread.push(answer);
    }
    page.question = String::new();
    page.conversations = web.conversations(&signed, &page.conversation).await?;
    render(&page)
}

/// `POST /chat/stream`: the form of the page, answered as server-sent
/// events for the page's script. Needs the session and its CSRF token;
/// refusals are JSON errors like the API's (a missing session is a 401
/// here, not a redirect, since a script reads the answer).
pub async fn stream(
    State(web): State<Web>,
    signed: Result<Signed, WebError>,
    Form(form): Form<ChatForm>,
) -> Result<Response, WebError> {
    let signed = match signed {
        Ok(signed) => signed,
        Err(WebError::SignIn { .. }) => {
            return Ok(AppError::Unauthorized {
                message: "the session has ended; sign in again".to_owned(),
            }
            .into_response());
        }
        Err(other) => return Err(other),
    };
    signed.check_csrf(&form.csrf)?;
    let question = form.question.trim();
    if let Err(message) = check_question(question) {
        return Ok(AppError::bad_request("invalid_question", message).into_response());
    }
    let owner = cradle_chat::user_owner(&signed.user.id);
    let conversation = Some(form.conversation.as_str()).filter(|c| !c.is_empty());
    let events = web.app.chat().ask(&owner, conversation, question);
    Ok(cradle_console::answer_stream(events).await.into_response())
}

/// The page's bound on a question.
fn check_question(question: &str) -> Result<(), String> {
    if question.is_empty() || question.chars().count() > MAX_QUESTION_CHARS {
        Err(format!(
            "a question has 1 to {MAX_QUESTION_CHARS} characters"
        ))
    } else {
        Ok(())
    }
}

/// The next event of the answer's stream.
async fn next<S: Stream<Item = ChatEvent> + Unpin>(stream: &mut S) -> Option<ChatEvent> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}
