//! Every table of a cradle lakehouse: its name, its Arrow schema and the
//! names of the columns other crates read. Writers build batches in these
//! schemas; readers name columns through these constants, never through
//! string literals of their own.
//!
//! | table | written by | one row per |
//! |---|---|---|
//! | `products` | ingest | product (canonical typed columns) |
//! | `attributes` | ingest | loaded source cell, with provenance |
//! | `rejects` | ingest | rejected record, with its reason |
//! | `files` | ingest | delivered file: detection and cell accounting |
//! | `chunks` | enrich | text of a product to embed or quote |
//! | `embeddings` | enrich | vector of a chunk |
//! | `classifications` | enrich | product's ETIM class |
//! | `etim_features` | enrich | source attribute mapped to an ETIM feature |

use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use cradle_core::fields::{CanonicalField, FieldKind};

/// The key column every table shares.
pub const ARTICLE_NO: &str = "article_no";

/// Which step writes a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Written by every ingest and named in the delivery record.
    Ingest,
    /// Rewritten whole by every enrich of the newest delivery.
    Enrich,
}

/// One table of the lakehouse.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    pub name: &'static str,
    pub stage: Stage,
    pub schema: fn() -> SchemaRef,
}

/// Every table, in the order an ingest commits them and then enrich's.
pub const TABLES: [TableSpec; 8] = [
    TableSpec {
        name: rejects::NAME,
        stage: Stage::Ingest,
        schema: rejects::schema,
    },
    TableSpec {
        name: files::NAME,
        stage: Stage::Ingest,
        schema: files::schema,
    },
    TableSpec {
        name: attributes::NAME,
        stage: Stage::Ingest,
        schema: attributes::schema,
    },
    TableSpec {
        name: products::NAME,
        stage: Stage::Ingest,
        schema: products::schema,
    },
    TableSpec {
        name: chunks::NAME,
        stage: Stage::Enrich,
        schema: chunks::schema,
    },
    TableSpec {
        name: embeddings::NAME,
        stage: Stage::Enrich,
        schema: embeddings::schema,
    },
    TableSpec {
        name: classifications::NAME,
        stage: Stage::Enrich,
        schema: classifications::schema,
    },
    TableSpec {
        name: etim_features::NAME,
        stage: Stage::Enrich,
        schema: etim_features::schema,
    },
];

/// The tables a delivery consists of, in commit order.
pub const DELIVERY_TABLES: [&str; 4] =
    [rejects::NAME, files::NAME, attributes::NAME, products::NAME];

/// The tables enrich writes.
pub const ENRICH_TABLES: [&str; 4] = [
    chunks::NAME,
    embeddings::NAME,
    classifications::NAME,
    etim_features::NAME,
];

fn text(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

fn count(name: &str) -> Field {
    Field::new(name, DataType::Int64, false)
}

/// One row per product: the canonical fields (see `cradle_core::fields`),
/// typed, and what the product was joined from.
pub mod products {
    use super::*;

    pub const NAME: &str = "products";
    pub const RECORDS: &str = "records";
    pub const ATTRIBUTES: &str = "attributes";
    pub const CONFLICTS: &str = "conflicts";
    /// Order-free hash of the product's values: equal hashes, unchanged
    /// product.
    pub const CONTENT_HASH: &str = "content_hash";

    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        let mut fields = vec![text(ARTICLE_NO, false)];
        for field in CanonicalField::ALL.iter().skip(1) {
            let data_type = match field.kind() {
                FieldKind::Number => DataType::Float64,
                FieldKind::Text => DataType::Utf8,
            };
            fields.push(Field::new(field.column(), data_type, true));
        }
        fields.push(count(RECORDS));
        fields.push(count(ATTRIBUTES));
        fields.push(count(CONFLICTS));
        fields.push(text(CONTENT_HASH, false));
        Arc::new(Schema::new(fields))
    });

    pub fn schema() -> SchemaRef {
        SCHEMA.clone()
    }
}

/// One row per loaded source cell: the original text next to its typed
/// value, and where it came from.
pub mod attributes {
    use super::*;

    pub const NAME: &str = "attributes";
    /// The normalised attribute name.
    pub const ATTRIBUTE: &str = "attribute";
    /// The header as delivered.
    pub const HEADER: &str = "header";
    /// The canonical field the column maps to, if any.
    pub const FIELD: &str = "field";
    pub const ORIGINAL: &str = "original";
    pub const VALUE_NUMBER: &str = "value_number";
    pub const VALUE_BOOL: &str = "value_bool";
    pub const VALUE_DATE: &str = "value_date";
    pub const UNIT: &str = "unit";
    pub const NO_VALUE: &str = "no_value";
    pub const SOURCE_FILE: &str = "source_file";
    pub const SOURCE_SHEET: &str = "source_sheet";
    pub const SOURCE_ROW: &str = "source_row";
    pub const SOURCE_COLUMN: &str = "source_column";

    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            text(ARTICLE_NO, false),
            text(ATTRIBUTE, false),
            text(HEADER, false),
            text(FIELD, true),
            text(ORIGINAL, false),
            Field::new(VALUE_NUMBER, DataType::Float64, true),
            Field::new(VALUE_BOOL, DataType::Boolean, true),
            Field::new(VALUE_DATE, DataType::Date32, true),
            text(UNIT, true),
            Field::new(NO_VALUE, DataType::Boolean, false),
            text(SOURCE_FILE, false),
            text(SOURCE_SHEET, true),
            Field::new(SOURCE_ROW, DataType::Int64, false),
            text(SOURCE_COLUMN, false),
        ]))
    });

    pub fn schema() -> SchemaRef {
        SCHEMA.clone()
    }
}

/// One row per rejected record, with its reason and content.
pub mod rejects {
    use super::*;

    pub const NAME: &str = "rejects";
    pub const SOURCE_FILE: &str = "source_file";
    pub const SOURCE_SHEET: &str = "source_sheet";
    pub const SOURCE_ROW: &str = "source_row";
    pub const REASON: &str = "reason";
    pub const DETAIL: &str = "detail";
    pub const CELLS: &str = "cells";
    pub const CONTENT: &str = "content";

    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            text(SOURCE_FILE, false),
            text(SOURCE_SHEET, true),
            Field::new(SOURCE_ROW, DataType::Int64, true),
            text(REASON, false),
            text(DETAIL, false),
            count(CELLS),
            text(CONTENT, false),
        ]))
    });

    pub fn schema() -> SchemaRef {
        SCHEMA.clone()
    }
}

/// One row per delivered file: what was detected and how its cells were
/// accounted for.
pub mod files {
    use super::*;

    pub const NAME: &str = "files";
    pub const PATH: &str = "path";
    pub const SHA256: &str = "sha256";
    pub const BYTES: &str = "bytes";
    pub const FORMAT: &str = "format";
    /// `table`, `media`, `archive`, ...
    pub const KIND: &str = "kind";
    pub const ENCODING: &str = "encoding";
    pub const DELIMITER: &str = "delimiter";
    pub const DECIMAL_SEPARATOR: &str = "decimal_separator";
    pub const ROWS: &str = "rows";
    pub const LOADED_ROWS: &str = "loaded_rows";
    pub const REJECTED_ROWS: &str = "rejected_rows";
    pub const DATA_POINTS: &str = "data_points";
    pub const NON_EMPTY_CELLS: &str = "non_empty_cells";
    pub const HEADER_CELLS: &str = "header_cells";
    pub const KEY_CELLS: &str = "key_cells";
    pub const REJECTED_CELLS: &str = "rejected_cells";
    pub const BALANCE_OK: &str = "balance_ok";
    pub const ERROR: &str = "error";
    /// The sheets' reports as JSON.
    pub const SHEETS: &str = "sheets";

    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            text(PATH, false),
            text(SHA256, false),
            count(BYTES),
            text(FORMAT, false),
            text(KIND, false),
            text(ENCODING, true),
            text(DELIMITER, true),
            text(DECIMAL_SEPARATOR, true),
            count(ROWS),
            count(LOADED_ROWS),
            count(REJECTED_ROWS),
            count(DATA_POINTS),
            count(NON_EMPTY_CELLS),
            count(HEADER_CELLS),
            count(KEY_CELLS),
            count(REJECTED_CELLS),
            Field::new(BALANCE_OK, DataType::Boolean, false),
            text(ERROR, true),
            text(SHEETS, false),
        ]))
    });

    pub fn schema() -> SchemaRef {
        SCHEMA.clone()
    }
}

/// Per product a few texts (identity, description, technical, tender,
/// media; DE/EN) with the hash of their content.
pub mod chunks {
    use super::*;

    pub const NAME: &str = "chunks";
    pub const CHUNK_ID: &str = "chunk_id";
    pub const KIND: &str = "kind";
    pub const LANGUAGE: &str = "language";
    pub const TEXT: &str = "text";
    pub const SOURCE: &str = "source";
    pub const CONTENT_HASH: &str = "content_hash";
    pub const EMBEDDED: &str = "embedded";

    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            text(ARTICLE_NO, false),
            text(CHUNK_ID, false),
            text(KIND, false),
            text(LANGUAGE, false),
            text(TEXT, false),
            text(SOURCE, false),
            text(CONTENT_HASH, false),
            Field::new(EMBEDDED, DataType::Boolean, false),
        ]))
    });

    pub fn schema() -> SchemaRef {
        SCHEMA.clone()
    }
}

/// One vector per embedded chunk, with the model that made it.
pub mod embeddings {
    use super::*;

    pub const NAME: &str = "embeddings";
    pub const CHUNK_ID: &str = "chunk_id";
    pub const CONTENT_HASH: &str = "content_hash";
    pub const MODEL: &str = "model";
    pub const MODEL_REVISION: &str = "model_revision";
    pub const DIMENSION: &str = "dimension";
    pub const VECTOR: &str = "vector";

    /// The list items of `vector`.
    pub fn vector_item() -> Arc<Field> {
        Arc::new(Field::new("element", DataType::Float32, false))
    }

    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            text(ARTICLE_NO, false),
            text(CHUNK_ID, false),
            text(CONTENT_HASH, false),
            text(MODEL, false),
            text(MODEL_REVISION, false),
            Field::new(DIMENSION, DataType::Int32, false),
            Field::new(VECTOR, DataType::List(vector_item()), false),
        ]))
    });

    pub fn schema() -> SchemaRef {
        SCHEMA.clone()
    }
}

/// One row per product: its ETIM class, how sure, and where from.
pub mod classifications {
    use super::*;

    pub const NAME: &str = "classifications";
    pub const ETIM_CLASS: &str = "etim_class";
    pub const CLASS_NAME: &str = "class_name";
    pub const CONFIDENCE: &str = "confidence";
    /// `delivered`, `neighbours`, `names`, `attributes`.
    pub const SOURCE: &str = "source";
    /// The top 3 as `CODE:confidence` joined by `;` (`EC001744:0.930;EC000986:0.050`).
    pub const ALTERNATIVES: &str = "alternatives";
    pub const DELIVERED_CODE: &str = "delivered_code";
    pub const DELIVERED_CODE_PROBLEM: &str = "delivered_code_problem";

    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            text(ARTICLE_NO, false),
            text(ETIM_CLASS, true),
            text(CLASS_NAME, true),
            Field::new(CONFIDENCE, DataType::Float32, true),
            text(SOURCE, false),
            text(ALTERNATIVES, false),
            text(DELIVERED_CODE, true),
            text(DELIVERED_CODE_PROBLEM, true),
        ]))
    });

    pub fn schema() -> SchemaRef {
        SCHEMA.clone()
    }
}

/// Source attributes mapped to ETIM features of the product's class.
pub mod etim_features {
    use super::*;

    pub const NAME: &str = "etim_features";
    pub const ETIM_CLASS: &str = "etim_class";
    pub const FEATURE_CODE: &str = "feature_code";
    pub const FEATURE_NAME: &str = "feature_name";
    pub const VALUE: &str = "value";
    pub const UNIT: &str = "unit";
    pub const ATTRIBUTE: &str = "attribute";
    pub const REASON: &str = "reason";

    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            text(ARTICLE_NO, false),
            text(ETIM_CLASS, false),
            text(FEATURE_CODE, false),
            text(FEATURE_NAME, false),
            text(VALUE, false),
            text(UNIT, true),
            text(ATTRIBUTE, false),
            text(REASON, false),
        ]))
    });

    pub fn schema() -> SchemaRef {
        SCHEMA.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_a_unique_name_and_a_key_or_path() {
        let mut names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TABLES.len());
        for table in TABLES {
            let schema = (table.schema)();
            let key = if table.name == files::NAME {
                files::PATH
            } else if table.name == rejects::NAME {
                rejects::SOURCE_FILE
            } else {
                ARTICLE_NO
            };
            assert_eq!(schema.field(0).name(), key, "{}", table.name);
        }
        for name in DELIVERY_TABLES {
            assert!(
                TABLES
                    .iter()
                    .any(|t| t.name == name && t.stage == Stage::Ingest)
            );
        }
        for name in ENRICH_TABLES {
            assert!(
                TABLES
                    .iter()
                    .any(|t| t.name == name && t.stage == Stage::Enrich)
            );
        }
    }
}
