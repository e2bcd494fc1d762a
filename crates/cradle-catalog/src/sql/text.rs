//! The text of a query, checked before any SQL library sees it: valid
//! UTF-8, no NUL (SQLite would end the statement there, and sqlx's
//! statement splitter looped forever on one), no other control character
//! (none belongs in SQL; tab, line feed, carriage return and form feed are
//! white space), and at most [`MAX_QUERY_BYTES`].

use crate::SqlError;

/// The longest query text accepted, in bytes; also SQLite's
/// `SQLITE_LIMIT_SQL_LENGTH` on the SQL connections.
pub const MAX_QUERY_BYTES: usize = 100_000;

/// `bytes` as query text, or the first reason it is not.
///
/// Transports that receive raw bytes call this before anything else;
/// [`Catalog::sql`](crate::Catalog::sql) calls it on every query.
pub fn sql_text(bytes: &[u8]) -> Result<&str, SqlError> {
    if bytes.len() > MAX_QUERY_BYTES {
        return Err(SqlError::TooLong {
            length: bytes.len(),
            limit: MAX_QUERY_BYTES,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|error| SqlError::InvalidText {
        what: "invalid UTF-8".to_owned(),
        position: error.valid_up_to(),
    })?;
    if let Some((position, character)) = text
        .char_indices()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
    {
        let what = if character == '\0' {
            "a NUL byte".to_owned()
        } else {
            format!("the control character U+{:04X}", u32::from(character))
        };
        return Err(SqlError::InvalidText { what, position });
    }
    if text.trim().is_empty() {
        return Err(SqlError::Empty);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8], expected: Result<&str, &str>) {
        let got = sql_text(bytes).map_err(|e| e.to_string());
        match (&got, expected) {
            (Ok(text), Ok(want)) => assert_eq!(*text, want),
            (Err(message), Err(want)) => assert!(message.starts_with(want), "{message}"),
            _ => panic!("{bytes:?}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn text_is_checked() {
        check(b"SELECT 1", Ok("SELECT 1"));
        check(
            "SELECT 'Leuchte\tweiß'\r\n".as_bytes(),
            Ok("SELECT 'Leuchte\tweiß'\r\n"),
        );
        check(
            b"SELECT 1\0; DROP TABLE products",
            Err("the query is not valid text: a NUL byte at byte 8"),
        );
        check(
            b"SELECT '\xff'",
            Err("the query is not valid text: invalid UTF-8 at byte 8"),
        );
        check(
            b"SELECT '\x07'",
            Err("the query is not valid text: the control character U+0007 at byte 8"),
        );
        check(b"  \n ", Err("the query is empty"));
        let long = format!("SELECT '{}'", "x".repeat(MAX_QUERY_BYTES));
        check(long.as_bytes(), Err("the query is 100009 bytes long"));
        assert_eq!(
            sql_text(long.as_bytes()).unwrap_err().code(),
            "sql_too_long"
        );
    }
}
