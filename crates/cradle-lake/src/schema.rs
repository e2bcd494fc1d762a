//! Conversion between Arrow schemas and the Delta `schemaString` (a JSON
//! `struct` of primitive fields; cradle tables are flat).
//!
//! Arrow → Delta: Utf8 / LargeUtf8 / Dictionary(Int32, Utf8) → `string`,
//! Int64 → `long`, Int32 → `integer`, Int16 → `short`, Int8 → `byte`,
//! Float64 → `double`, Float32 → `float`, Boolean → `boolean`,
//! Date32 → `date`, Timestamp(Microsecond, "UTC") → `timestamp`, and a
//! List of one of those primitives → `array` (embedding vectors are
//! `array<float>`). Everything else (unsigned ints, structs, maps, lists of
//! lists, timestamps without a time zone, which would need the
//! `timestampNtz` table feature) is rejected.
//!
//! Delta → Arrow maps each Delta type to the first Arrow type above; an
//! `array` becomes a List whose item field is named `element`, as Delta's
//! Parquet convention names it.

use std::path::Path;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::LakeError;

/// A field of the Delta schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeltaField {
    pub name: String,
    /// A primitive type name (`"string"`, `"long"`, ...) or, in tables not
    /// written by cradle, a nested type object.
    #[serde(rename = "type")]
    pub data_type: Value,
    pub nullable: bool,
    #[serde(default)]
    pub metadata: serde_json::Map<String, Value>,
}

/// The Delta schema: `{"type":"struct","fields":[...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeltaSchema {
    #[serde(rename = "type")]
    pub type_name: String,
    pub fields: Vec<DeltaField>,
}

/// Characters Delta (without column mapping) does not allow in column names.
const INVALID_NAME_CHARS: &[char] = &[' ', ',', ';', '{', '}', '(', ')', '\n', '\t', '='];

/// The Delta type name of an Arrow type, if cradle-lake can store it.
fn delta_type_name(data_type: &DataType) -> Option<&'static str> {
    Some(match data_type {
        DataType::Utf8 | DataType::LargeUtf8 => "string",
        DataType::Dictionary(key, value)
            if **key == DataType::Int32 && **value == DataType::Utf8 =>
        {
            "string"
        }
        DataType::Int64 => "long",
        DataType::Int32 => "integer",
        DataType::Int16 => "short",
        DataType::Int8 => "byte",
        DataType::Float64 => "double",
        DataType::Float32 => "float",
        DataType::Boolean => "boolean",
        DataType::Date32 => "date",
        DataType::Timestamp(TimeUnit::Microsecond, Some(tz))
            if matches!(tz.as_ref(), "UTC" | "+00:00" | "Etc/UTC") =>
        {
            "timestamp"
        }
        _ => return None,
    })
}

/// The Arrow type a Delta primitive type is read as.
fn arrow_type(delta_type: &str) -> Option<DataType> {
    Some(match delta_type {
        "string" => DataType::Utf8,
        "long" => DataType::Int64,
        "integer" => DataType::Int32,
        "short" => DataType::Int16,
        "byte" => DataType::Int8,
        "double" => DataType::Float64,
        "float" => DataType::Float32,
        "boolean" => DataType::Boolean,
        "date" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        _ => return None,
    })
}

/// The Delta type of an Arrow type: a primitive's name, or an `array`
/// object for a list of primitives.
fn delta_type(data_type: &DataType) -> Option<Value> {
    match data_type {
        DataType::List(item) => {
            let element = delta_type_name(item.data_type())?;
            Some(serde_json::json!({
                "type": "array",
                "elementType": element,
                "containsNull": item.is_nullable(),
            }))
        }
        other => delta_type_name(other).map(|name| Value::String(name.to_owned())),
    }
}

/// The Arrow type of a Delta type: a primitive's name or an `array` of one.
fn arrow_type_of(delta_type: &Value) -> Option<DataType> {
    match delta_type {
        Value::String(name) => arrow_type(name),
        Value::Object(object) if object.get("type")?.as_str()? == "array" => {
            let element = arrow_type(object.get("elementType")?.as_str()?)?;
            let nullable = object
                .get("containsNull")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            Some(DataType::List(Arc::new(Field::new(
                "element", element, nullable,
            ))))
        }
        _ => None,
    }
}

/// Converts an Arrow schema to the Delta schema, rejecting unsupported
/// types and column names.
pub fn to_delta(table: &Path, schema: &Schema) -> Result<DeltaSchema, LakeError> {
    let mut seen = std::collections::HashSet::new();
    let mut fields = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let name = field.name();
        let invalid = |reason| LakeError::InvalidColumnName {
            table: table.to_path_buf(),
            column: name.clone(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("empty"));
        }
        if name.contains(INVALID_NAME_CHARS) {
            return Err(invalid("contains one of ' ,;{}()\\n\\t='"));
        }
        if !seen.insert(name.to_lowercase()) {
            return Err(invalid(
                "duplicate (Delta column names are case-insensitive)",
            ));
        }
        let data_type =
            delta_type(field.data_type()).ok_or_else(|| LakeError::UnsupportedArrowType {
                table: table.to_path_buf(),
                column: name.clone(),
                arrow_type: field.data_type().to_string(),
            })?;
        fields.push(DeltaField {
            name: name.clone(),
            data_type,
            nullable: field.is_nullable(),
            metadata: serde_json::Map::new(),
        });
    }
    Ok(DeltaSchema {
        type_name: "struct".to_owned(),
        fields,
    })
}

/// Parses a `schemaString` and converts it to the Arrow schema the table
/// is read as.
pub fn from_schema_string(table: &Path, schema_string: &str) -> Result<SchemaRef, LakeError> {
    let delta: DeltaSchema =
        serde_json::from_str(schema_string).map_err(|source| LakeError::InvalidSchemaString {
            table: table.to_path_buf(),
            source,
        })?;
    let mut fields = Vec::with_capacity(delta.fields.len());
    for field in &delta.fields {
        let data_type =
            arrow_type_of(&field.data_type).ok_or_else(|| LakeError::UnsupportedDeltaType {
                table: table.to_path_buf(),
                column: field.name.clone(),
                delta_type: field.data_type.to_string(),
            })?;
        fields.push(Field::new(&field.name, data_type, field.nullable));
    }
    Ok(Arc::new(Schema::new(fields)))
}

impl DeltaSchema {
    /// The `schemaString` form.
    pub fn to_schema_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_supported_types() {
        let schema = Schema::new(vec![
            Field::new("s", DataType::Utf8, false),
            Field::new("ls", DataType::LargeUtf8, true),
            Field::new("l", DataType::Int64, true),
            Field::new("i", DataType::Int32, true),
            Field::new("h", DataType::Int16, true),
            Field::new("d", DataType::Float64, true),
            Field::new("f", DataType::Float32, true),
            Field::new("b", DataType::Boolean, true),
            Field::new("dt", DataType::Date32, true),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ]);
        let delta = to_delta(Path::new("t"), &schema).unwrap();
        let s = delta.to_schema_string();
        assert!(s.starts_with(r#"{"type":"struct","fields":[{"name":"s","type":"string","nullable":false,"metadata":{}}"#), "{s}");
        let back = from_schema_string(Path::new("t"), &s).unwrap();
        assert_eq!(back.field(1).data_type(), &DataType::Utf8);
        assert_eq!(back.field(9).data_type(), schema.field(9).data_type());
        assert!(!back.field(0).is_nullable());
    }

    #[test]
    fn rejects_unsupported() {
        for dt in [
            DataType::UInt32,
            DataType::Timestamp(TimeUnit::Microsecond, None),
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        ] {
            let schema = Schema::new(vec![Field::new("x", dt, true)]);
            let err = to_delta(Path::new("t"), &schema).unwrap_err();
            assert!(
                matches!(err, LakeError::UnsupportedArrowType { .. }),
                "{err}"
            );
        }
        let schema = Schema::new(vec![Field::new("a b", DataType::Utf8, true)]);
        assert!(matches!(
            to_delta(Path::new("t"), &schema),
            Err(LakeError::InvalidColumnName { .. })
        ));
        let schema = Schema::new(vec![
            Field::new("A", DataType::Utf8, true),
            Field::new("a", DataType::Utf8, true),
        ]);
        assert!(matches!(
            to_delta(Path::new("t"), &schema),
            Err(LakeError::InvalidColumnName { .. })
        ));
    }
}
