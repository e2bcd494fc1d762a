//! What a chat answer streams: [`ChatEvent`]s, serialised with a `type`
//! tag (`{"type": "delta", "text": "..."}`), the same for the web page and
//! for `POST /api/chat`, and the stored shapes of conversations.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One event of an answer, in the order they come: `conversation` first,
/// then `citation`s and `delta`s (a citation before the text that first
/// refers to it), `note`s, and `done` or `error` last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    /// The conversation the question and answer belong to (new or given).
    Conversation { id: String },
    /// The next piece of the answer's text; numbers in square brackets
    /// (`[2]`) refer to citations.
    Delta { text: String },
    /// The fact behind the number `n` of the answer.
    Citation {
        n: usize,
        article_no: String,
        source: Source,
    },
    /// Something the reader should know about the answer (e.g. that no
    /// language model is configured).
    Note { text: String },
    /// The answer is complete and stored.
    Done {
        conversation: String,
        /// The stored answer's id.
        message_id: String,
        /// `model` (written by the language model) or `extractive`
        /// (matching products and facts, no model).
        mode: String,
        /// The model that wrote it, in `model` mode.
        model: Option<String>,
    },
    /// No (complete) answer: `code` is stable, `message` says what to do.
    Error { code: String, message: String },
}

impl ChatEvent {
    /// The name of the event in a server-sent event stream: its `type`.
    pub fn name(&self) -> &'static str {
        match self {
            ChatEvent::Conversation { .. } => "conversation",
            ChatEvent::Delta { .. } => "delta",
            ChatEvent::Citation { .. } => "citation",
            ChatEvent::Note { .. } => "note",
            ChatEvent::Done { .. } => "done",
            ChatEvent::Error { .. } => "error",
        }
    }

    pub(crate) fn error(code: &str, message: impl Into<String>) -> ChatEvent {
        ChatEvent::Error {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Where a cited fact comes from: the attribute and its text as
/// delivered, and the cell it was read from (file, sheet, row, column)
/// when the catalog has its provenance; a product field without a cell
/// (e.g. a name from the product record) has only `attribute` and
/// `value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Source {
    /// The attribute as delivered (`Leistung`) or the product field
    /// (`name_de`, `family`).
    pub attribute: String,
    /// The text as delivered, with its unit; long texts are shortened.
    pub value: String,
    pub file: Option<String>,
    pub sheet: Option<String>,
    /// 1-based, as a spreadsheet shows it.
    pub row: Option<i64>,
    /// The column letter (or header) of the cell.
    pub column: Option<String>,
}

/// A citation of a stored answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Citation {
    pub n: usize,
    pub article_no: String,
    pub source: Source,
}

/// A conversation as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ConversationSummary {
    pub id: String,
    /// The start of the first question.
    pub title: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}

/// A conversation with its messages, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Conversation {
    pub id: String,
    pub title: String,
    pub created_at: String,
    pub updated_at: String,
    pub messages: Vec<Message>,
}

/// A question (`user`) or an answer (`assistant`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Message {
    pub id: String,
    pub role: String,
    pub content: String,
    /// The facts the answer cites (empty for questions).
    pub citations: Vec<Citation>,
    pub created_at: String,
}
