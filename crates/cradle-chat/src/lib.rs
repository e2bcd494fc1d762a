//! Chat over the catalogue: a question is answered from the products the
//! search finds, streamed as [`ChatEvent`]s with numbered citations, and
//! kept in a conversation of its owner.
//!
//! - Retrieval (`retrieve.rs`): the search of `cradle-query` (hybrid
//!   when the data has vectors, keyword otherwise), the top products, and
//!   per product its facts (attribute values as delivered, with the cell
//!   they came from), the ones matching the question first, numbered.
//! - With a language model (`[chat]` in cradle.toml: `endpoint`,
//!   `model`, `api_key_env`): any OpenAI-compatible chat completions
//!   server, streamed through `cradle-openai`. The facts reach it only as
//!   quoted data (`prompt.rs`); a citation event goes out before the text
//!   that first cites its number (`cite.rs`).
//! - Without one: an extractive answer (`extractive.rs`): the matching
//!   products and the facts that matched, cited, and a note saying which
//!   setting makes written answers.
//! - Conversations and their messages live in the state database
//!   (`cradle-state`), always read and written with their owner
//!   (`user:<id>` or `key:<api key id>`), so nobody sees another's.
//!
//! Architecture invariant: no HTTP serving and no HTML here; the console
//! (pages and `POST /api/chat`) is a thin adapter over [`Chat`].

mod cite;
mod event;
mod extractive;
pub mod prompt;
mod retrieve;

use std::sync::Arc;
use std::time::Duration;

use cradle_openai::{Endpoint, OpenAiError, StreamEnd};
use cradle_query::{DataSlot, QueryError};
use cradle_state::{StateDb, StateDbError};
use serde_json::json;
use tokio::sync::mpsc;

pub use cradle_core::config::ChatConfig;
pub use event::{ChatEvent, Citation, Conversation, ConversationSummary, Message, Source};
pub use retrieve::{MAX_FACTS, MAX_PRODUCTS};

/// Time limit of one answer of the language model, from the request to
/// its last piece.
pub const MODEL_TIMEOUT: Duration = Duration::from_secs(120);
/// Retries of a request the model's server refused for the moment (429,
/// 5xx) or could not be connected for.
pub const MODEL_RETRIES: u32 = 2;
/// The longest answer asked of the model, in tokens.
pub const MAX_ANSWER_TOKENS: u32 = 1024;
/// The longest question, in characters.
pub const MAX_QUESTION_CHARS: usize = 4000;
/// The most conversations listed.
pub const MAX_CONVERSATIONS: u32 = 200;

/// Where the settings are, for messages.
const SETTINGS: &str = "[chat] in cradle.toml";

/// The owner string of a signed-in user.
pub fn user_owner(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// The owner string of an API key (its id, not the key).
pub fn key_owner(key_id: &str) -> String {
    format!("key:{key_id}")
}

/// Why conversations could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("cannot read the conversations")]
    State {
        #[source]
        source: StateDbError,
    },
}

/// The language model, as the settings describe it.
#[derive(Debug)]
enum Model {
    /// No `endpoint`: extractive answers.
    None,
    Ready {
        client: cradle_openai::Client,
        name: String,
    },
    /// The settings are wrong; every question is answered with this.
    Misconfigured(String),
}

#[derive(Debug)]
struct Inner {
    data: Arc<DataSlot>,
    store: StateDb,
    model: Model,
}

/// The chat of one server; cheap to clone.
#[derive(Debug, Clone)]
pub struct Chat {
    inner: Arc<Inner>,
}

impl Chat {
    /// The chat over `data` with conversations in `store`. The API key is
    /// read from the environment now; settings that cannot work (a model
    /// missing, a key variable unset, an endpoint that is no URL) are
    /// reported by [`Chat::problem`] and answered with an error event.
    pub fn new(config: ChatConfig, data: Arc<DataSlot>, store: StateDb) -> Chat {
        let model = model(&config);
        Chat {
            inner: Arc::new(Inner { data, store, model }),
        }
    }

    /// What is wrong with the `[chat]` settings, if anything.
    pub fn problem(&self) -> Option<&str> {
        match &self.inner.model {
            Model::Misconfigured(problem) => Some(problem),
            _ => None,
        }
    }

    /// The model answers are written with; `None` when answers are
    /// extractive.
    pub fn model(&self) -> Option<&str> {
        match &self.inner.model {
            Model::Ready { name, .. } => Some(name),
            _ => None,
        }
    }

    /// Answers `question` for `owner`, in `conversation` (one of the
    /// owner's) or a new one. The answer is worked out on a task of its
    /// own (call this inside a Tokio runtime) and stored when complete;
    /// dropping the stream stops it.
    pub fn ask(
        &self,
        owner: &str,
        conversation: Option<&str>,
        question: &str,
    ) -> impl futures_core::Stream<Item = ChatEvent> + Send + Unpin + use<> {
        let (sender, receiver) = mpsc::channel(64);
        let inner = self.inner.clone();
        let owner = owner.to_owned();
        let conversation = conversation.map(str::to_owned);
        let question = question.to_owned();
        tokio::spawn(async move {
            let events = Events { sender };
            match answer(&inner, &owner, conversation, &question, &events).await {
                Ok(()) | Err(Stop::Gone) => {}
                Err(Stop::Event(event)) => {
                    let _ = events.send(event).await;
                }
            }
        });
        Stream { receiver }
    }

    /// The owner's conversations, most recently active first.
    pub async fn conversations(&self, owner: &str) -> Result<Vec<ConversationSummary>, ChatError> {
        let listed = self
            .inner
            .store
            .list_conversations(owner, MAX_CONVERSATIONS)
            .await
            .map_err(|source| ChatError::State { source })?;
        Ok(listed
            .into_iter()
            .map(|c| ConversationSummary {
                id: c.id,
                title: c.title,
                created_at: c.created_at,
                updated_at: c.updated_at,
            })
            .collect())
    }

    /// One conversation of the owner with its messages; `None` when there
    /// is none with this id or it is someone else's.
    pub async fn conversation(
        &self,
        owner: &str,
        id: &str,
    ) -> Result<Option<Conversation>, ChatError> {
        let state = |source| ChatError::State { source };
        let store = &self.inner.store;
        let Some(info) = store.conversation(owner, id).await.map_err(state)? else {
            return Ok(None);
        };
        let Some(messages) = store.chat_messages(owner, id).await.map_err(state)? else {
            return Ok(None);
        };
        Ok(Some(Conversation {
            id: info.id,
            title: info.title,
            created_at: info.created_at,
            updated_at: info.updated_at,
            messages: messages
                .into_iter()
                .map(|m| Message {
                    citations: serde_json::from_str(&m.citations).unwrap_or_default(),
                    id: m.id,
                    role: m.role,
                    content: m.content,
                    created_at: m.created_at,
                })
                .collect(),
        }))
    }
}

/// The model the settings describe.
fn model(config: &ChatConfig) -> Model {
    let Some(endpoint) = config
        .endpoint
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    else {
        return Model::None;
    };
    if config.model.trim().is_empty() {
        return Model::Misconfigured(format!(
            "the chat endpoint {endpoint} is set but no model\nhint: set `model` (the name the server serves) under {SETTINGS}"
        ));
    }
    let mut settings = Endpoint::new(endpoint);
    settings.timeout = MODEL_TIMEOUT;
    settings.max_retries = MODEL_RETRIES;
    if let Some(variable) = config
        .api_key_env
        .as_deref()
        .filter(|v| !v.trim().is_empty())
    {
        match std::env::var(variable) {
            Ok(key) if !key.trim().is_empty() => settings.api_key = Some(key.trim().to_owned()),
            _ => {
                return Model::Misconfigured(format!(
                    "the environment variable {variable} (`api_key_env` under {SETTINGS}) is not set\nhint: set it to the chat server's API key before `cradle serve`, or remove `api_key_env`"
                ));
            }
        }
    }
    match settings.client() {
        Ok(client) => Model::Ready {
            client,
            name: config.model.trim().to_owned(),
        },
        Err(error) => Model::Misconfigured(format!(
            "the chat endpoint is unusable: {error}\nhint: set `endpoint` under {SETTINGS} to the server's http:// or https:// URL"
        )),
    }
}

/// The events of one answer as a stream.
struct Stream {
    receiver: mpsc::Receiver<ChatEvent>,
}

impl futures_core::Stream for Stream {
    type Item = ChatEvent;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<ChatEvent>> {
        self.receiver.poll_recv(context)
    }
}

/// Why an answer stopped early.
enum Stop {
    /// Nobody listens any more.
    Gone,
    /// This event ends the answer.
    Event(ChatEvent),
}

impl From<ChatEvent> for Stop {
    fn from(event: ChatEvent) -> Self {
        Stop::Event(event)
    }
}

struct Events {
    sender: mpsc::Sender<ChatEvent>,
}

impl Events {
    async fn send(&self, event: ChatEvent) -> Result<(), Stop> {
        self.sender.send(event).await.map_err(|_| Stop::Gone)
    }
}

/// A state database failure as the event that ends the answer.
fn state_failed(error: StateDbError) -> Stop {
    tracing::error!(error = %chain(&error), "chat: the state database failed");
    Stop::Event(ChatEvent::error(
        "internal",
        "the conversation could not be stored; see the server's log",
    ))
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn answer(
    inner: &Inner,
    owner: &str,
    conversation: Option<String>,
    question: &str,
    events: &Events,
) -> Result<(), Stop> {
    let question = question.trim();
    if question.is_empty() || question.chars().count() > MAX_QUESTION_CHARS {
        return Err(ChatEvent::error(
            "invalid_question",
            format!("a question must be 1 to {MAX_QUESTION_CHARS} characters"),
        )
        .into());
    }
    let store = &inner.store;
    // The earlier messages, read as the owner: another owner's
    // conversation is not found.
    let (conversation, history) = match conversation {
        Some(id) => match store
            .chat_messages(owner, &id)
            .await
            .map_err(state_failed)?
        {
            Some(messages) => (
                id,
                messages
                    .into_iter()
                    .map(|m| (m.role, m.content))
                    .collect::<Vec<_>>(),
            ),
            None => {
                return Err(ChatEvent::error(
                    "conversation_not_found",
                    format!(
                        "no conversation {id:?} of yours; leave `conversation` out to start one"
                    ),
                )
                .into());
            }
        },
        None => (
            store
                .create_conversation(owner, question)
                .await
                .map_err(state_failed)?
                .id,
            Vec::new(),
        ),
    };
    events
        .send(ChatEvent::Conversation {
            id: conversation.clone(),
        })
        .await?;
    if let Model::Misconfigured(problem) = &inner.model {
        return Err(ChatEvent::error("chat_misconfigured", problem.clone()).into());
    }
    let data = inner.data.get().map_err(|error| match error {
        QueryError::NotReady => ChatEvent::error(
            "not_ready",
            "the data is still being opened; ask again in a moment",
        ),
        other => ChatEvent::error("internal", other.to_string()),
    })?;
    store
        .add_chat_message(owner, &conversation, "user", question, "[]")
        .await
        .map_err(state_failed)?;
    let retrieved = retrieve::retrieve(&data, question).await.map_err(|error| {
        tracing::error!(error = %cradle_query::chain(&error), "chat: the search failed");
        ChatEvent::error(error.code(), format!("the search failed: {error}"))
    })?;

    let mut cited: Vec<Citation> = Vec::new();
    let (text, mode, model_name) = match &inner.model {
        Model::Ready { client, name } => {
            let text = model_answer(
                client, name, &history, &retrieved, question, &mut cited, events,
            )
            .await?;
            (text, "model", Some(name.clone()))
        }
        Model::None | Model::Misconfigured(_) => {
            let mut text = String::new();
            for (piece, numbers) in extractive::answer(&retrieved, question) {
                for n in numbers {
                    cite(&retrieved, n, &mut cited, events).await?;
                }
                text.push_str(&piece);
                events.send(ChatEvent::Delta { text: piece }).await?;
            }
            let note = if extractive::is_german(question) {
                format!(
                    "Kein Sprachmodell ist eingerichtet: Die Antwort zeigt die passenden Produkte und die Angaben, die zur Frage passen. Für ausformulierte Antworten `endpoint` und `model` unter {SETTINGS} setzen (und `api_key_env`, wenn der Server einen Schlüssel braucht)."
                )
            } else {
                format!(
                    "No language model is configured, so this answer lists the matching products and the facts that matched. For written answers, set `endpoint` and `model` under {SETTINGS} (and `api_key_env` if the server needs a key)."
                )
            };
            events.send(ChatEvent::Note { text: note }).await?;
            (text, "extractive", None)
        }
    };
    let citations = serde_json::to_string(&cited).expect("citations serialise");
    let stored = store
        .add_chat_message(owner, &conversation, "assistant", &text, &citations)
        .await
        .map_err(state_failed)?;
    events
        .send(ChatEvent::Done {
            conversation,
            message_id: stored.id,
            mode: mode.to_owned(),
            model: model_name,
        })
        .await
}

/// Sends the citation of fact `n` unless it was sent already or there is
/// no such fact.
async fn cite(
    retrieved: &retrieve::Retrieved,
    n: usize,
    cited: &mut Vec<Citation>,
    events: &Events,
) -> Result<(), Stop> {
    if cited.iter().any(|c| c.n == n) {
        return Ok(());
    }
    let Some(citation) = retrieved.citation(n) else {
        return Ok(());
    };
    cited.push(citation.clone());
    events
        .send(ChatEvent::Citation {
            n: citation.n,
            article_no: citation.article_no,
            source: citation.source,
        })
        .await
}

/// Streams the model's answer; its whole text.
async fn model_answer(
    client: &cradle_openai::Client,
    model: &str,
    history: &[(String, String)],
    retrieved: &retrieve::Retrieved,
    question: &str,
    cited: &mut Vec<Citation>,
    events: &Events,
) -> Result<String, Stop> {
    let request = json!({
        "model": model,
        "messages": prompt::messages(history, retrieved, question),
        "max_tokens": MAX_ANSWER_TOKENS,
        "temperature": 0.2,
    });
    let (pieces, mut received) = mpsc::channel::<String>(64);
    let worker_client = client.clone();
    // The client blocks: it reads the stream on the blocking pool and
    // hands pieces over; when this side stops listening it stops reading.
    let worker = tokio::task::spawn_blocking(move || {
        worker_client.chat_stream(&request, |text| {
            pieces.blocking_send(text.to_owned()).is_ok()
        })
    });
    let mut scanner = cite::Scanner::default();
    while let Some(piece) = received.recv().await {
        for n in scanner.push(&piece) {
            cite(retrieved, n, cited, events).await?;
        }
        events.send(ChatEvent::Delta { text: piece }).await?;
    }
    let url = client.endpoint().url("chat/completions");
    let result = worker.await.map_err(|error| {
        tracing::error!(%error, "chat: the model task failed");
        ChatEvent::error(
            "internal",
            "the answer could not be read; see the server's log",
        )
    })?;
    match result {
        Ok(StreamEnd::Finished { finish_reason }) => {
            if finish_reason.as_deref() == Some("length") {
                events
                    .send(ChatEvent::Note {
                        text: format!("The answer was cut off after {MAX_ANSWER_TOKENS} tokens."),
                    })
                    .await?;
            }
            Ok(scanner.text().to_owned())
        }
        Ok(StreamEnd::Cancelled) => Err(Stop::Gone),
        Err(error) => {
            tracing::warn!(error = %chain(&error), "chat: the language model failed");
            Err(model_error(&url, &error, !scanner.text().is_empty()).into())
        }
    }
}

/// A failure of the language model as an event naming the endpoint and
/// the setting that fixes it.
fn model_error(url: &str, error: &OpenAiError, partial: bool) -> ChatEvent {
    let after = if partial {
        " in the middle of the answer"
    } else {
        ""
    };
    match error {
        OpenAiError::Connection {
            attempts, source, ..
        } => ChatEvent::error(
            "chat_model_unreachable",
            format!(
                "cannot reach the language model at {url} ({attempts} attempts: {source})\nhint: start the server, or set `endpoint` under {SETTINGS} to where it runs"
            ),
        ),
        OpenAiError::Status { status, body, .. } => {
            let hint = match status {
                401 | 403 => format!(
                    "the server refused the key: check the variable named by `api_key_env` under {SETTINGS}"
                ),
                404 => format!(
                    "check `endpoint` (an OpenAI-compatible server) and `model` (a model it serves) under {SETTINGS}"
                ),
                _ => format!("check the server's log, and `endpoint` and `model` under {SETTINGS}"),
            };
            ChatEvent::error(
                "chat_model_failed",
                format!(
                    "the language model at {url} answered {status}{after}: {body}\nhint: {hint}"
                ),
            )
        }
        OpenAiError::Response { what, .. } => ChatEvent::error(
            "chat_model_failed",
            format!(
                "the language model at {url} answered something unexpected{after}: {what}\nhint: `endpoint` under {SETTINGS} must be an OpenAI-compatible chat completions server"
            ),
        ),
        OpenAiError::Setting { what, .. } => ChatEvent::error(
            "chat_misconfigured",
            format!("{what}\nhint: check `endpoint` under {SETTINGS}"),
        ),
    }
}
