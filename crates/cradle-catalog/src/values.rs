//! Values between Arrow, SQLite and JSON: the SQLite column type of each
//! Arrow type, binding an Arrow cell as a statement parameter, and a
//! SQLite value as JSON.
//!
//! Dates are stored as ISO text (`2026-03-01`) so SQL users can compare
//! and read them; booleans as 0/1 (SQLite has no boolean type).

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, Field};
use serde_json::Value;
use sqlx::sqlite::{SqliteArguments, SqliteRow, SqliteValueRef};
use sqlx::{Decode, Row, TypeInfo, ValueRef};

use crate::CatalogError;

/// The SQLite column type an Arrow field is stored as.
pub(crate) fn sqlite_type(table: &Path, field: &Field) -> Result<&'static str, CatalogError> {
    Ok(match field.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Date32 => "TEXT",
        DataType::Float64 | DataType::Float32 => "REAL",
        DataType::Int64 | DataType::Int32 | DataType::Boolean => "INTEGER",
        other => {
            return Err(CatalogError::UnsupportedColumn {
                table: table.to_path_buf(),
                column: field.name().clone(),
                data_type: other.to_string(),
            });
        }
    })
}

/// Binds the cell at `row` of an Arrow column (of a type [`sqlite_type`]
/// accepts) to the next parameter.
pub(crate) fn bind(arguments: &mut SqliteArguments, column: &ArrayRef, row: usize) {
    use sqlx::Arguments;
    // Adding a parameter of these types cannot fail (the error is for
    // encoders that reject a value).
    let result = if column.is_null(row) {
        arguments.add(None::<i64>)
    } else {
        match column.data_type() {
            DataType::Utf8 => arguments.add(column.as_string::<i32>().value(row).to_owned()),
            DataType::LargeUtf8 => arguments.add(column.as_string::<i64>().value(row).to_owned()),
            DataType::Utf8View => arguments.add(column.as_string_view().value(row).to_owned()),
            DataType::Float64 => arguments.add(column.as_primitive::<Float64Type>().value(row)),
            DataType::Float32 => {
                arguments.add(f64::from(column.as_primitive::<Float32Type>().value(row)))
            }
            DataType::Int64 => arguments.add(column.as_primitive::<Int64Type>().value(row)),
            DataType::Int32 => arguments.add(column.as_primitive::<Int32Type>().value(row)),
            DataType::Boolean => arguments.add(i64::from(column.as_boolean().value(row))),
            DataType::Date32 => {
                arguments.add(iso_date(column.as_primitive::<Date32Type>().value(row)))
            }
            _ => arguments.add(None::<i64>),
        }
    };
    debug_assert!(result.is_ok(), "binding a plain value failed");
}

/// Days since 1970-01-01 as `YYYY-MM-DD`.
pub(crate) fn iso_date(days: i32) -> String {
    cradle_core::dates::format_days(i64::from(days))
}

pub(crate) use cradle_core::dates::now_rfc3339;

/// Column `index` of a row as JSON by the value's own storage class:
/// integer, real, text, null; a blob becomes a lowercase hex string.
pub(crate) fn json(row: &SqliteRow, index: usize) -> Value {
    match row.try_get_raw(index) {
        Ok(raw) => raw_json(raw),
        Err(_) => Value::Null,
    }
}

fn raw_json(raw: SqliteValueRef<'_>) -> Value {
    if raw.is_null() {
        return Value::Null;
    }
    let storage = raw.type_info().name().to_owned();
    match storage.as_str() {
        "INTEGER" | "BOOLEAN" => <i64 as Decode<sqlx::Sqlite>>::decode(raw)
            .map(Value::from)
            .unwrap_or(Value::Null),
        "REAL" => <f64 as Decode<sqlx::Sqlite>>::decode(raw)
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        "BLOB" => <Vec<u8> as Decode<sqlx::Sqlite>>::decode(raw)
            .map(|bytes| Value::String(hex(&bytes)))
            .unwrap_or(Value::Null),
        _ => <String as Decode<sqlx::Sqlite>>::decode(raw)
            .map(Value::String)
            .unwrap_or(Value::Null),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 15)] as char);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(19_782), "2024-02-29");
        assert_eq!(iso_date(-1), "1969-12-31");
    }

    #[test]
    fn blobs_as_hex() {
        assert_eq!(hex(&[0, 15, 16, 255]), "000f10ff");
    }
}
