//! The chat over the catalogue for API clients, a thin adapter over
//! `cradle-chat`: `POST /api/chat` (body `{"question", "conversation"?}`)
//! answers with server-sent events named after the event's `type`
//! (`conversation`, `citation`, `delta`, `note`, `done`, `error`), each
//! carrying the event as JSON; `GET /api/chat/conversations` and
//! `GET /api/chat/conversations/{id}` list and show the caller's
//! conversations. The caller is the API key (owner `key:<key id>`): a key
//! sees only the conversations it started. [`answer_stream`] is the one
//! encoding of an answer as server-sent events; the console's chat page
//! streams through it too, under a session instead of a key.
//!
//! A question that cannot start (empty, too long, an unknown
//! conversation, data not open) is answered with the usual JSON error
//! and status before any event; once events flow, failures are `error`
//! events.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Extension;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cradle_chat::{Chat, ChatConfig, ChatEvent, Conversation, ConversationSummary};
use cradle_state::ApiKeyInfo;
use futures_core::Stream;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::openapi::{Schemas, json_response};
use crate::routes::{Access, Route};

pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new("POST", "/api/chat", Access::ApiKey, chat_doc, post(ask)),
        Route::new(
            "GET",
            "/api/chat/conversations",
            Access::ApiKey,
            conversations_doc,
            get(conversations),
        ),
        Route::new(
            "GET",
            "/api/chat/conversations/{id}",
            Access::ApiKey,
            conversation_doc,
            get(conversation),
        ),
    ]
}

impl AppState {
    /// Sets the `[chat]` settings; before the server answers, once (later
    /// calls change nothing). The chat is made on first use, extractive
    /// unless this was called. Logs how the chat will answer.
    pub fn configure_chat(&self, config: ChatConfig) -> &Chat {
        self.chat_cell().get_or_init(|| {
            let chat = Chat::new(config, self.data_slot().clone(), self.state_db().clone());
            match (chat.problem(), chat.model()) {
                (Some(problem), _) => tracing::warn!("chat: {problem}"),
                (None, Some(model)) => tracing::info!(model, "chat answers with a language model"),
                (None, None) => tracing::info!(
                    "chat answers extractively; set `endpoint` and `model` under [chat] in cradle.toml for a language model"
                ),
            }
            chat
        })
    }

    /// The chat over this server's data and state.
    pub fn chat(&self) -> &Chat {
        self.configure_chat(ChatConfig::default())
    }
}

/// The body of `POST /api/chat`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ChatRequest {
    /// The question, 1 to 4000 characters.
    #[schemars(example = "Welche Einbauleuchten sind dimmbar?")]
    question: String,
    /// A conversation of the caller to continue (its `id` from the
    /// `conversation` event); a new one when left out.
    conversation: Option<String>,
}

/// The owner of the caller's conversations.
fn owner(key: &ApiKeyInfo) -> String {
    cradle_chat::key_owner(&key.id)
}

async fn ask(
    State(state): State<AppState>,
    Extension(key): Extension<ApiKeyInfo>,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let Json(request) = body.map_err(|rejection| {
        AppError::bad_request(
            "invalid_body",
            format!(
                "{}; expected {{\"question\": \"...\", \"conversation\": \"<id>\" (optional)}}",
                rejection.body_text()
            ),
        )
    })?;
    let events = state.chat().ask(
        &owner(&key),
        request.conversation.as_deref(),
        &request.question,
    );
    answer_stream(events).await
}

/// An answer's events as a server-sent event response: each event named
/// after its `type`, the event as JSON data. Waits for the first event,
/// so a question that cannot start (empty, too long, an unknown
/// conversation, data not open) is the usual JSON error with its status
/// instead of a stream. `POST /api/chat` and the console's chat page
/// both answer through this.
pub async fn answer_stream<S>(mut events: S) -> Result<Response, AppError>
where
    S: Stream<Item = ChatEvent> + Send + Unpin + 'static,
{
    let first = std::future::poll_fn(|context| Pin::new(&mut events).poll_next(context)).await;
    let first = match first {
        Some(ChatEvent::Error { code, message }) => return Err(refusal(&code, message)),
        Some(event) => event,
        None => {
            return Err(AppError::internal(
                "the chat ended without an answer",
                std::io::Error::other("no event"),
            ));
        }
    };
    let stream = SseEvents {
        first: Some(first),
        rest: events,
    };
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// An error before the first event as the status it deserves.
fn refusal(code: &str, message: String) -> AppError {
    match code {
        "invalid_question" => AppError::bad_request("invalid_question", message),
        "conversation_not_found" => AppError::NotFound {
            code: "conversation_not_found",
            message,
        },
        "not_ready" => AppError::NotReady,
        _ => AppError::internal("the chat failed", std::io::Error::other(message)),
    }
}

/// Chat events as server-sent events: the event's type as its name, the
/// event as JSON data.
struct SseEvents<S> {
    first: Option<ChatEvent>,
    rest: S,
}

fn sse_event(event: &ChatEvent) -> Event {
    let data = serde_json::to_string(event).expect("chat events serialise");
    Event::default().event(event.name()).data(data)
}

impl<S: Stream<Item = ChatEvent> + Unpin> Stream for SseEvents<S> {
    type Item = Result<Event, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(sse_event(&first))));
        }
        Pin::new(&mut self.rest)
            .poll_next(context)
            .map(|event| event.map(|event| Ok(sse_event(&event))))
    }
}

async fn conversations(
    State(state): State<AppState>,
    Extension(key): Extension<ApiKeyInfo>,
) -> Result<Json<Vec<ConversationSummary>>, AppError> {
    let listed = state
        .chat()
        .conversations(&owner(&key))
        .await
        .map_err(|source| AppError::internal("cannot list the conversations", source))?;
    Ok(Json(listed))
}

async fn conversation(
    State(state): State<AppState>,
    Extension(key): Extension<ApiKeyInfo>,
    Path(id): Path<String>,
) -> Result<Json<Conversation>, AppError> {
    state
        .chat()
        .conversation(&owner(&key), &id)
        .await
        .map_err(|source| AppError::internal("cannot read the conversation", source))?
        .map(Json)
        .ok_or_else(|| AppError::NotFound {
            code: "conversation_not_found",
            message: format!("no conversation {id:?} of this API key"),
        })
}

fn chat_doc(schemas: &mut Schemas) -> Value {
    json!({
        "summary": "Ask a question about the catalogue; the answer streams as server-sent events",
        "description": "Products are found by the same search as /api/search (hybrid when the data has \
            vectors); the answer is written by the language model set under [chat] in cradle.toml, or, \
            without one, lists the matching products and facts (with a `note` event saying so). Events, \
            each named after its `type` and carrying the event as JSON: `conversation` (first), \
            `citation` (number `n`, article number and source of a fact, before the text that first \
            cites [n]), `delta` (text), `note`, and `done` or `error` (last). Conversations belong to \
            the API key that started them.",
        "tags": ["chat"],
        "requestBody": {
            "required": true,
            "content": {"application/json": {"schema": schemas.of::<ChatRequest>()}},
        },
        "responses": {
            "200": {
                "description": "The answer as server-sent events; each event's data is one of these",
                "content": {"text/event-stream": {"schema": schemas.of::<ChatEvent>()}},
            },
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "404": {"$ref": "#/components/responses/NotFound"},
            "503": {"$ref": "#/components/responses/NotReady"},
        },
    })
}

fn conversations_doc(schemas: &mut Schemas) -> Value {
    json!({
        "summary": "The caller's chat conversations, most recently active first",
        "tags": ["chat"],
        "responses": {
            "200": json_response("The conversations", schemas.of::<Vec<ConversationSummary>>()),
            "401": {"$ref": "#/components/responses/Unauthorized"},
        },
    })
}

fn conversation_doc(schemas: &mut Schemas) -> Value {
    json!({
        "summary": "One of the caller's conversations with its questions, answers and citations",
        "tags": ["chat"],
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
            "200": json_response("The conversation", schemas.of::<Conversation>()),
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "404": {"$ref": "#/components/responses/NotFound"},
        },
    })
}
