//! Read-only, bounded SQL over the catalog for power users and AI agents.
//!
//! Layers, each enough on its own for writes:
//! 1. the text must be one statement starting with SELECT, WITH, VALUES or
//!    EXPLAIN (comments and a trailing `;` allowed) — so ATTACH, PRAGMA,
//!    INSERT and friends are refused before SQLite sees them;
//! 2. the connection is opened read-only and immutable, with
//!    `PRAGMA query_only=ON` — so `WITH x AS (...) DELETE ...`, which
//!    passes the keyword check, fails in SQLite.
//!
//! Bounds: a progress handler interrupts the statement after the time
//! limit; at most `max_rows + 1` rows are fetched from the row stream (the
//! extra one only tells that the result was truncated).

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use sqlx::{AssertSqlSafe, Column, Executor, Row, SqlSafeStr, Statement};

use crate::{Catalog, CatalogError, values};

/// SQLite virtual machine steps between two looks at the clock.
const PROGRESS_STEPS: i32 = 10_000;
/// SQLite's primary result codes the SQL console tells apart.
const SQLITE_READONLY: i64 = 8;
const SQLITE_INTERRUPT: i64 = 9;

/// Bounds of one SQL query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlLimits {
    /// Rows returned at most; more make the result `truncated`.
    pub max_rows: usize,
    /// Running time at most; longer is the error `sql_timeout`.
    pub timeout: Duration,
}

impl Default for SqlLimits {
    fn default() -> Self {
        SqlLimits {
            max_rows: 1000,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The result of a SQL query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SqlResult {
    pub columns: Vec<String>,
    /// Each row's values in column order: integers, reals, text, null;
    /// blobs as lowercase hex strings.
    pub rows: Vec<Vec<Value>>,
    /// Whether the query had more rows than `max_rows`.
    pub truncated: bool,
    pub elapsed_ms: u64,
}

impl Catalog {
    /// Runs one read-only query within `limits`.
    pub async fn sql(&self, query: &str, limits: &SqlLimits) -> Result<SqlResult, CatalogError> {
        let started = Instant::now();
        let statement = read_only_statement(query)?;
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|source| CatalogError::Query { source })?;
        let interrupted = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + limits.timeout;
        {
            let mut handle = conn
                .lock_handle()
                .await
                .map_err(|source| CatalogError::Query { source })?;
            let flag = interrupted.clone();
            handle.set_progress_handler(PROGRESS_STEPS, move || {
                if Instant::now() < deadline {
                    true
                } else {
                    flag.store(true, Ordering::Relaxed);
                    false
                }
            });
        }
        let result = run(&mut conn, statement, limits.max_rows).await;
        let removed = match conn.lock_handle().await {
            Ok(mut handle) => {
                handle.remove_progress_handler();
                true
            }
            Err(_) => false,
        };
        if !removed {
            // A connection whose deadline cannot be removed is not reused.
            conn.close_on_drop();
        }
        let (columns, rows, truncated) = result.map_err(|error| {
            sql_error(error, interrupted.load(Ordering::Relaxed), limits.timeout)
        })?;
        Ok(SqlResult {
            columns,
            rows,
            truncated,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }
}

type Rows = (Vec<String>, Vec<Vec<Value>>, bool);

async fn run(
    conn: &mut sqlx::SqliteConnection,
    statement: &str,
    max_rows: usize,
) -> Result<Rows, sqlx::Error> {
    // Preparing names the columns even when no row comes back.
    let prepared = (&mut *conn)
        .prepare(AssertSqlSafe(statement.to_owned()).into_sql_str())
        .await?;
    let mut columns: Vec<String> = prepared
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    let mut rows = Vec::new();
    let mut truncated = false;
    let mut stream = sqlx::query(AssertSqlSafe(statement.to_owned())).fetch(&mut *conn);
    while let Some(row) = poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        let row = row?;
        if rows.len() == max_rows {
            truncated = true;
            break;
        }
        if columns.is_empty() {
            columns = row.columns().iter().map(|c| c.name().to_owned()).collect();
        }
        rows.push((0..row.len()).map(|i| values::json(&row, i)).collect());
    }
    Ok((columns, rows, truncated))
}

fn sql_error(error: sqlx::Error, interrupted: bool, limit: Duration) -> CatalogError {
    if interrupted {
        return CatalogError::SqlTimeout { limit };
    }
    let (code, message) = match &error {
        sqlx::Error::Database(database) => (
            database
                .code()
                .and_then(|c| c.parse::<i64>().ok())
                .map(|c| c & 0xff),
            database.message().to_owned(),
        ),
        _ => return CatalogError::Query { source: error },
    };
    match code {
        Some(SQLITE_READONLY) => CatalogError::SqlNotReadOnly {
            reason: format!("SQLite refused to write ({message})"),
        },
        Some(SQLITE_INTERRUPT) => CatalogError::SqlTimeout { limit },
        _ => CatalogError::Sql {
            message,
            source: error,
        },
    }
}

/// The one statement of `query` (without a trailing `;`), if it is a query.
pub(crate) fn read_only_statement(query: &str) -> Result<&str, CatalogError> {
    let bytes = query.as_bytes();
    let mut position = skip_blank(bytes, 0);
    if position >= bytes.len() {
        return Err(CatalogError::SqlEmpty);
    }
    let keyword_end = bytes[position..]
        .iter()
        .position(|b| !b.is_ascii_alphabetic())
        .map_or(bytes.len(), |n| position + n);
    let keyword = query[position..keyword_end].to_ascii_uppercase();
    if !matches!(keyword.as_str(), "SELECT" | "WITH" | "VALUES" | "EXPLAIN") {
        let shown: String = if keyword.is_empty() {
            query[position..].chars().take(20).collect()
        } else {
            keyword
        };
        return Err(CatalogError::SqlNotReadOnly {
            reason: format!("the statement starts with {shown:?}"),
        });
    }
    // Find the end of the statement: a `;` outside literals, quoted names
    // and comments. Anything but blanks after it is a second statement.
    position = keyword_end;
    while position < bytes.len() {
        match bytes[position] {
            b';' => {
                if skip_blank(bytes, position + 1) < bytes.len() {
                    return Err(CatalogError::SqlMultipleStatements);
                }
                return Ok(&query[..position]);
            }
            quote @ (b'\'' | b'"' | b'`') => {
                position = skip_quoted(bytes, position + 1, quote);
            }
            b'[' => {
                position = bytes[position..]
                    .iter()
                    .position(|&b| b == b']')
                    .map_or(bytes.len(), |n| position + n + 1);
            }
            b'-' | b'/' => {
                let after = skip_comment(bytes, position);
                position = if after == position {
                    position + 1
                } else {
                    after
                };
            }
            _ => position += 1,
        }
    }
    Ok(query)
}

/// The position after a quoted literal or name whose opening quote was
/// just before `position` (a doubled quote is an escaped one).
fn skip_quoted(bytes: &[u8], mut position: usize, quote: u8) -> usize {
    while position < bytes.len() {
        if bytes[position] == quote {
            if bytes.get(position + 1) == Some(&quote) {
                position += 2;
                continue;
            }
            return position + 1;
        }
        position += 1;
    }
    bytes.len()
}

/// The position after a comment starting at `position`, or `position` if
/// none starts there.
fn skip_comment(bytes: &[u8], position: usize) -> usize {
    match (bytes.get(position), bytes.get(position + 1)) {
        (Some(b'-'), Some(b'-')) => bytes[position..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |n| position + n + 1),
        (Some(b'/'), Some(b'*')) => bytes[position + 2..]
            .windows(2)
            .position(|w| w == b"*/")
            .map_or(bytes.len(), |n| position + 2 + n + 2),
        _ => position,
    }
}

/// The position of the first byte at or after `position` that is neither
/// white space nor inside a comment.
fn skip_blank(bytes: &[u8], mut position: usize) -> usize {
    loop {
        while position < bytes.len() && bytes[position].is_ascii_whitespace() {
            position += 1;
        }
        let after = skip_comment(bytes, position);
        if after == position {
            return position;
        }
        position = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, expected: Result<&str, &str>) {
        let got = read_only_statement(query).map_err(|e| e.code());
        assert_eq!(got, expected, "{query:?}");
    }

    #[test]
    fn queries_pass() {
        check("SELECT 1", Ok("SELECT 1"));
        check(
            "  select * from products;  ",
            Ok("  select * from products"),
        );
        check(
            "-- why\n/* what */ WITH x AS (SELECT 1) SELECT * FROM x",
            Ok("-- why\n/* what */ WITH x AS (SELECT 1) SELECT * FROM x"),
        );
        check("VALUES (1), (2)", Ok("VALUES (1), (2)"));
        check(
            "EXPLAIN QUERY PLAN SELECT 1;",
            Ok("EXPLAIN QUERY PLAN SELECT 1"),
        );
        check(
            "SELECT ';' AS x, \"a;b\", [c;d] -- ; not here\n",
            Ok("SELECT ';' AS x, \"a;b\", [c;d] -- ; not here\n"),
        );
        check("SELECT 'it''s; fine'; -- done", Ok("SELECT 'it''s; fine'"));
        check("SELECT 4-2/1", Ok("SELECT 4-2/1"));
    }

    #[test]
    fn anything_else_is_refused() {
        check("INSERT INTO products VALUES (1)", Err("sql_not_read_only"));
        check("delete from attributes", Err("sql_not_read_only"));
        check("DROP TABLE products", Err("sql_not_read_only"));
        check("ATTACH DATABASE '/tmp/x.db' AS x", Err("sql_not_read_only"));
        check("PRAGMA query_only = OFF", Err("sql_not_read_only"));
        check(
            "/* SELECT */ UPDATE products SET name_de = ''",
            Err("sql_not_read_only"),
        );
        check("(SELECT 1)", Err("sql_not_read_only"));
        check(
            "SELECT 1; DROP TABLE products",
            Err("sql_multiple_statements"),
        );
        check("SELECT 1;SELECT 2", Err("sql_multiple_statements"));
        check("", Err("sql_empty"));
        check("  -- only a comment", Err("sql_empty"));
    }
}
