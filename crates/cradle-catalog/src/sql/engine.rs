//! The SQL pool: connections of their own for user SQL, each opened
//! read-only and immutable with SQLite's limits and the authorizer, and
//! the run of one query on one of them, on a blocking thread.
//!
//! Why not the product pages' sqlx pool: sqlx has no authorizer and no
//! per-connection limits, its statement splitter looped forever on a NUL
//! byte, and sharing its four connections let four slow queries stall
//! every product page. `rusqlite` exposes SQLite's authorizer, progress
//! handler, interrupt and limits through a safe API; it links the same
//! `libsqlite3-sys` as sqlx (one SQLite in the process).
//!
//! The deadline is kept twice: a progress handler stops the statement
//! from inside SQLite every [`PROGRESS_STEPS`] steps, and the rows are
//! converted only while time is left; a watchdog interrupts a statement
//! that still runs [`WATCHDOG_GRACE`] after the deadline (one long step)
//! and discards its connection, whose interrupt could otherwise reach the
//! next query.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use serde_json::Value;
use tokio::sync::Semaphore;

use super::authorizer::{self, Denial};
use super::text::MAX_QUERY_BYTES;
use super::{SqlLimits, SqlResult, Truncation};
use crate::{SqlError, values};

/// Connections for user SQL; at most this many queries run at once, the
/// others wait (within their time limit) for one. Two keep one core free
/// for product pages and search on a two-core server.
pub const SQL_CONNECTIONS: usize = 2;
/// The longest string or blob SQLite may make on a SQL connection
/// (`SQLITE_LIMIT_LENGTH`): `zeroblob(50000000)` fails at once instead of
/// allocating 50 MB per row.
pub const MAX_VALUE_BYTES: usize = 8 << 20;
/// SQLite virtual machine steps between two looks at the clock (a few
/// microseconds of work; reading the clock costs nanoseconds).
const PROGRESS_STEPS: i32 = 1000;
/// How long after the deadline the watchdog interrupts a statement that
/// has not stopped by itself.
const WATCHDOG_GRACE: Duration = Duration::from_millis(250);
/// Bytes of the file SQLite maps into memory, as for product pages.
const MMAP_BYTES: u64 = 1 << 34;

/// SQLite's per-connection limits on a SQL connection, beyond SQLite's
/// defaults where a user's query needs far less.
fn limits() -> [(Limit, usize); 12] {
    [
        (Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES),
        (Limit::SQLITE_LIMIT_SQL_LENGTH, MAX_QUERY_BYTES),
        (Limit::SQLITE_LIMIT_COLUMN, 500),
        (Limit::SQLITE_LIMIT_EXPR_DEPTH, 200),
        (Limit::SQLITE_LIMIT_COMPOUND_SELECT, 100),
        (Limit::SQLITE_LIMIT_VDBE_OP, 1_000_000),
        (Limit::SQLITE_LIMIT_FUNCTION_ARG, 100),
        (Limit::SQLITE_LIMIT_ATTACHED, 0),
        (Limit::SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 1000),
        (Limit::SQLITE_LIMIT_VARIABLE_NUMBER, 32),
        (Limit::SQLITE_LIMIT_TRIGGER_DEPTH, 1),
        (Limit::SQLITE_LIMIT_WORKER_THREADS, 0),
    ]
}

/// One connection for user SQL and what its authorizer denied.
#[derive(Debug)]
struct SqlConnection {
    connection: Connection,
    denial: Denial,
}

impl SqlConnection {
    fn open(path: &Path) -> rusqlite::Result<SqlConnection> {
        let connection = Connection::open_with_flags(
            file_uri(path),
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        for (limit, value) in limits() {
            connection.set_limit(limit, i32::try_from(value).unwrap_or(i32::MAX))?;
        }
        for (setting, on) in [
            // No writable schema, no writes to shadow tables or raw pages.
            (DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true),
            (DbConfig::SQLITE_DBCONFIG_ENABLE_ATTACH_CREATE, false),
            (DbConfig::SQLITE_DBCONFIG_ENABLE_ATTACH_WRITE, false),
            (DbConfig::SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, false),
            (DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false),
        ] {
            connection.set_db_config(setting, on)?;
        }
        connection.execute_batch(&format!(
            "PRAGMA query_only = ON; PRAGMA mmap_size = {MMAP_BYTES};"
        ))?;
        let denial = Denial::default();
        authorizer::install(&connection, denial.clone())?;
        // Reads the schema now, so a file SQLite cannot read fails here.
        connection.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
        Ok(SqlConnection { connection, denial })
    }
}

/// `path` as a SQLite URI opening it read-only and immutable (no locks, no
/// journal, nothing written next to it), every byte that could end or
/// change the path percent-encoded.
fn file_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::from("file:");
    for &byte in path.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri.push_str("?mode=ro&immutable=1");
    uri
}

/// The connections for user SQL, separate from those of product pages.
#[derive(Debug)]
pub(crate) struct SqlPool {
    path: PathBuf,
    idle: Mutex<Vec<SqlConnection>>,
    /// One per connection: held from before taking a connection until it
    /// is back (or discarded), so at most [`SQL_CONNECTIONS`] exist.
    permits: Arc<Semaphore>,
    closed: AtomicBool,
}

impl SqlPool {
    /// Opens the first connection (the others when needed), so a catalog
    /// SQLite cannot read for SQL fails at open, not at the first query.
    pub(crate) fn open(path: &Path) -> rusqlite::Result<Arc<SqlPool>> {
        let first = SqlConnection::open(path)?;
        Ok(Arc::new(SqlPool {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![first]),
            permits: Arc::new(Semaphore::new(SQL_CONNECTIONS)),
            closed: AtomicBool::new(false),
        }))
    }

    /// Drops the idle connections; those in use are dropped when done.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn take(&self) -> rusqlite::Result<SqlConnection> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(connection) => Ok(connection),
            None => SqlConnection::open(&self.path),
        }
    }

    fn give_back(&self, connection: SqlConnection) {
        if !self.closed.load(Ordering::Relaxed) {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(connection);
        }
    }

    /// Runs `text` within `limits`, the deadline counted from `started`.
    pub(crate) async fn run(
        self: &Arc<Self>,
        text: &str,
        limits: &SqlLimits,
        started: Instant,
    ) -> Result<SqlResult, SqlError> {
        let deadline = started + limits.timeout;
        let permit = match tokio::time::timeout_at(
            deadline.into(),
            Arc::clone(&self.permits).acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => permit,
            // The semaphore is never closed, so only the deadline ends the wait.
            Ok(Err(_)) | Err(_) => {
                return Err(SqlError::Busy {
                    connections: SQL_CONNECTIONS,
                });
            }
        };
        let connection = self
            .take()
            .map_err(|source| SqlError::Internal { source })?;
        let interrupt = connection.connection.get_interrupt_handle();
        let state = Arc::new(RunState::default());
        // Stops the statement when the caller stops waiting (a client that
        // went away), not only at the deadline.
        let _cancel = CancelOnDrop(Arc::clone(&state));
        let task = {
            let pool = Arc::clone(self);
            let state = Arc::clone(&state);
            let text = text.to_owned();
            let limits = *limits;
            tokio::task::spawn_blocking(move || {
                let _permit = permit;
                let result = execute(&connection, &text, &limits, deadline, &state.cancelled);
                let mut phase = state.phase.lock().unwrap_or_else(PoisonError::into_inner);
                let interrupted = *phase == Phase::Interrupted;
                *phase = Phase::Finished;
                if !interrupted && reusable(&result) {
                    pool.give_back(connection);
                }
                result
            })
        };
        match tokio::time::timeout_at((deadline + WATCHDOG_GRACE).into(), task).await {
            Ok(Ok(result)) => result.map(|rows| SqlResult {
                columns: rows.columns,
                rows: rows.rows,
                truncated: rows.truncated_by.is_some(),
                truncated_by: rows.truncated_by,
                bytes: rows.bytes,
                elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            }),
            Ok(Err(source)) => Err(SqlError::Worker { source }),
            Err(_) => {
                let mut phase = state.phase.lock().unwrap_or_else(PoisonError::into_inner);
                if *phase == Phase::Running {
                    interrupt.interrupt();
                    *phase = Phase::Interrupted;
                }
                Err(SqlError::Timeout {
                    limit: limits.timeout,
                })
            }
        }
    }
}

/// Where a query's run is; the watchdog interrupts only a running one,
/// under the same lock the worker takes to finish, so an interrupt never
/// reaches a connection that is back in the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Phase {
    #[default]
    Running,
    Interrupted,
    Finished,
}

#[derive(Debug, Default)]
struct RunState {
    phase: Mutex<Phase>,
    cancelled: Arc<AtomicBool>,
}

struct CancelOnDrop(Arc<RunState>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancelled.store(true, Ordering::Relaxed);
    }
}

/// Whether a connection may serve the next query after this result: not
/// after a fault of the engine, whose state is unknown.
fn reusable(result: &Result<Rows, SqlError>) -> bool {
    match result {
        Ok(_) => true,
        Err(error) => error.is_request_error(),
    }
}

/// The rows of a query, bounded.
#[derive(Debug)]
struct Rows {
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
    truncated_by: Option<Truncation>,
    bytes: usize,
}

fn execute(
    connection: &SqlConnection,
    text: &str,
    limits: &SqlLimits,
    deadline: Instant,
    cancelled: &Arc<AtomicBool>,
) -> Result<Rows, SqlError> {
    let stop = Arc::clone(cancelled);
    connection
        .connection
        .progress_handler(
            PROGRESS_STEPS,
            Some(move || Instant::now() >= deadline || stop.load(Ordering::Relaxed)),
        )
        .map_err(|source| SqlError::Internal { source })?;
    connection.denial.take();
    let result = rows(connection, text, limits, deadline);
    // A handler left behind would stop the next query at this deadline.
    connection
        .connection
        .progress_handler(0, None::<fn() -> bool>)
        .map_err(|source| SqlError::Internal { source })?;
    result
}

fn rows(
    connection: &SqlConnection,
    text: &str,
    limits: &SqlLimits,
    deadline: Instant,
) -> Result<Rows, SqlError> {
    let failed = |error| classify(error, &connection.denial, limits.timeout);
    // Preparing runs the authorizer, and prepares what follows the first
    // statement too (an error if it is a statement).
    let mut statement = connection.connection.prepare(text).map_err(failed)?;
    if statement.expanded_sql().is_none() {
        // Only comments: SQLite prepared nothing.
        return Err(SqlError::Empty);
    }
    if !statement.readonly() {
        return Err(SqlError::NotReadOnly {
            what: "a statement that writes (VACUUM and the like)".to_owned(),
        });
    }
    let columns: Vec<String> = statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let width = columns.len();
    let mut rows = statement.raw_query();
    let mut out = Vec::new();
    // `[` and `]` around the rows.
    let mut bytes = 2;
    let mut truncated_by = None;
    'rows: while let Some(row) = rows.next().map_err(failed)? {
        if out.len() == limits.max_rows {
            truncated_by = Some(Truncation::Rows);
            break;
        }
        if Instant::now() >= deadline {
            return Err(SqlError::Timeout {
                limit: limits.timeout,
            });
        }
        // `[`, `]`, the commas between values and the one before the row.
        let mut row_bytes = 2 + width.saturating_sub(1) + usize::from(!out.is_empty());
        let mut values = Vec::with_capacity(width);
        for index in 0..width {
            let value = row.get_ref(index).map_err(failed)?;
            // Measured before it is converted, so nothing beyond the
            // bound is ever built.
            row_bytes += json_len(value);
            if bytes + row_bytes > limits.max_bytes {
                if out.is_empty() {
                    return Err(SqlError::ResultTooLarge {
                        limit: limits.max_bytes,
                    });
                }
                truncated_by = Some(Truncation::Bytes);
                break 'rows;
            }
            values.push(json(value));
        }
        bytes += row_bytes;
        out.push(values);
    }
    Ok(Rows {
        columns,
        rows: out,
        truncated_by,
        bytes,
    })
}

/// The error for what SQLite or the authorizer said.
fn classify(error: rusqlite::Error, denial: &Denial, limit: Duration) -> SqlError {
    // Whatever SQLite reports after a denial is due to it (a denied
    // function is a plain SQLITE_ERROR, "not authorized to use function").
    if let Some(what) = denial.take() {
        return SqlError::NotReadOnly { what };
    }
    let (failure, message, position) = match &error {
        rusqlite::Error::SqliteFailure(failure, message) => (*failure, message.clone(), None),
        // Errors of preparing carry the position of the token at fault.
        rusqlite::Error::SqlInputError {
            error: failure,
            msg,
            offset,
            ..
        } => (*failure, Some(msg.clone()), usize::try_from(*offset).ok()),
        rusqlite::Error::MultipleStatement => return SqlError::MultipleStatements,
        _ => return SqlError::Internal { source: error },
    };
    match failure.code {
        ErrorCode::AuthorizationForStatementDenied => SqlError::NotReadOnly {
            what: "what SQLite's authorizer refused".to_owned(),
        },
        ErrorCode::ReadOnly => SqlError::NotReadOnly {
            what: format!(
                "a write (SQLite: {})",
                message.as_deref().unwrap_or("read-only")
            ),
        },
        ErrorCode::OperationInterrupted => SqlError::Timeout { limit },
        ErrorCode::TooBig => SqlError::ValueTooLarge {
            limit: MAX_VALUE_BYTES,
            source: error,
        },
        ErrorCode::Unknown
        | ErrorCode::TypeMismatch
        | ErrorCode::ParameterOutOfRange
        | ErrorCode::ConstraintViolation => SqlError::Invalid {
            message: message.unwrap_or_else(|| error.to_string()),
            position,
            source: error,
        },
        _ => SqlError::Internal { source: error },
    }
}

/// A value as JSON by its storage class: integer, real (non-finite as
/// null), text (invalid UTF-8 replaced), null; a blob as lowercase hex.
fn json(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(integer) => Value::from(integer),
        ValueRef::Real(real) => {
            serde_json::Number::from_f64(real).map_or(Value::Null, Value::Number)
        }
        ValueRef::Text(text) => Value::String(String::from_utf8_lossy(text).into_owned()),
        ValueRef::Blob(blob) => Value::String(values::hex(blob)),
    }
}

/// The length of `json(value)` encoded, without building it for text and
/// blobs (the large ones).
fn json_len(value: ValueRef<'_>) -> usize {
    match value {
        ValueRef::Text(text) => match std::str::from_utf8(text) {
            Ok(text) => 2 + text.bytes().map(escaped_len).sum::<usize>(),
            Err(_) => {
                let text = String::from_utf8_lossy(text);
                2 + text.bytes().map(escaped_len).sum::<usize>()
            }
        },
        ValueRef::Blob(blob) => 2 + 2 * blob.len(),
        small => encoded_len(&json(small)),
    }
}

/// Bytes a byte of a string takes in JSON (as serde_json escapes it).
fn escaped_len(byte: u8) -> usize {
    match byte {
        b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
        0..=0x1f => 6,
        _ => 1,
    }
}

fn encoded_len(value: &Value) -> usize {
    struct Count(usize);
    impl Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a number or null into a counter cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_those_of_the_encoding() {
        let cases: [ValueRef<'_>; 9] = [
            ValueRef::Null,
            ValueRef::Integer(-1234567890123),
            ValueRef::Real(2.5e-300),
            ValueRef::Real(f64::INFINITY),
            ValueRef::Text("Leuchte \"weiß\" \\ \n\t\u{1}\u{7f} ✓".as_bytes()),
            ValueRef::Text(b"bad \xff\xfe utf-8"),
            ValueRef::Text(b""),
            ValueRef::Blob(&[0, 15, 255]),
            ValueRef::Blob(&[]),
        ];
        for value in cases {
            let encoded = serde_json::to_string(&json(value)).unwrap();
            assert_eq!(json_len(value), encoded.len(), "{value:?} as {encoded}");
        }
    }

    #[test]
    fn uris_keep_paths_intact() {
        assert_eq!(
            file_uri(Path::new("/srv/a b/cat?#%.db")),
            "file:/srv/a%20b/cat%3F%23%25.db?mode=ro&immutable=1"
        );
    }
}
