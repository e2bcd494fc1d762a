//! `QueryError`: every failure a query can end in, each with a stable
//! code. The requester's mistakes say what was wrong and how to fix it;
//! internal faults carry their cause for the log. Transports map it: the
//! console to an HTTP status and JSON body, MCP to a tool error.

use std::error::Error;

use crate::store::StoreError;

/// A query that did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The request is wrong (a parameter, a filter, the SQL).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// The thing asked for does not exist.
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// The request or its answer is larger than allowed (a SQL statement,
    /// a result).
    #[error("{message}")]
    TooLarge { code: &'static str, message: String },
    /// Every connection for this kind of work is busy; retry shortly.
    #[error("{message}")]
    Busy { code: &'static str, message: String },
    /// The data is still being opened, or could not be.
    #[error("the data is not open yet")]
    NotReady,
    /// A fault of the server; `context` says what was being done.
    #[error("{context}")]
    Internal {
        context: &'static str,
        #[source]
        source: Box<dyn Error + Send + Sync>,
    },
}

impl QueryError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> QueryError {
        QueryError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// A bad parameter, named in the message (`invalid_parameter`).
    pub fn invalid(parameter: &str, message: impl std::fmt::Display) -> QueryError {
        QueryError::bad_request(
            "invalid_parameter",
            format!("parameter {parameter:?}: {message}"),
        )
    }

    pub fn internal(
        context: &'static str,
        source: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> QueryError {
        QueryError::Internal {
            context,
            source: source.into(),
        }
    }

    /// A store failure in `context`: the requester's mistakes keep their
    /// code (`not_found` becomes [`QueryError::NotFound`]).
    pub fn from_store(context: &'static str, error: StoreError) -> QueryError {
        match error {
            StoreError::Request {
                code: "not_found",
                message,
            } => QueryError::NotFound {
                code: "not_found",
                message,
            },
            StoreError::Request {
                code: code @ ("sql_too_large" | "sql_too_long"),
                message,
            } => QueryError::TooLarge { code, message },
            StoreError::Request {
                code: code @ "sql_busy",
                message,
            } => QueryError::Busy { code, message },
            StoreError::Request { code, message } => QueryError::BadRequest { code, message },
            internal @ StoreError::Internal { .. } => QueryError::internal(context, internal),
        }
    }

    /// The stable code clients can match on.
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::BadRequest { code, .. }
            | QueryError::NotFound { code, .. }
            | QueryError::TooLarge { code, .. }
            | QueryError::Busy { code, .. } => code,
            QueryError::NotReady => "not_ready",
            QueryError::Internal { .. } => "internal",
        }
    }
}

/// The error and its sources, `: `-separated, for logs.
pub fn chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
