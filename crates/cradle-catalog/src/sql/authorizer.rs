//! What a user's SQL may do, decided by SQLite while it compiles the
//! statement (`sqlite3_set_authorizer`), not by looking at keywords.
//!
//! Allowed: SELECT, reading any column of any table or view, recursive
//! common table expressions, the functions of [`FUNCTIONS`] and the
//! PRAGMAs of [`PRAGMAS`] (they only describe the schema, and back the
//! table-valued functions such as `pragma_table_info('products')`).
//! Denied: everything else, and so everything SQLite adds later. That
//! matters most for PRAGMAs: SQLite applies many of them while *preparing*
//! a statement, so `EXPLAIN PRAGMA hard_heap_limit=100000` used to set a
//! process-wide memory limit without ever running, and a table-valued
//! pragma such as `SELECT * FROM pragma_query_only` compiles a PRAGMA
//! statement of its own; both pass through this authorizer and are denied.

use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::Connection;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

/// Functions a query may call: SQLite's core scalar, aggregate, window,
/// date and JSON functions. Left out: `load_extension`,
/// `fts3_tokenizer` (can register a tokenizer by pointer), `sqlite_*`
/// functions that describe the build, and anything added by an extension
/// or a later SQLite (an allow-list fails closed).
pub(super) const FUNCTIONS: &[&str] = &[
    // Scalar.
    "abs",
    "char",
    "coalesce",
    "concat",
    "concat_ws",
    "format",
    "glob",
    "hex",
    "if",
    "ifnull",
    "iif",
    "instr",
    "length",
    "like",
    "likelihood",
    "likely",
    "lower",
    "ltrim",
    "max",
    "min",
    "nullif",
    "octet_length",
    "printf",
    "quote",
    "random",
    "randomblob",
    "replace",
    "round",
    "rtrim",
    "sign",
    "soundex",
    "substr",
    "substring",
    "trim",
    "typeof",
    "unhex",
    "unicode",
    "unistr",
    "unistr_quote",
    "unlikely",
    "upper",
    "zeroblob",
    // Aggregate.
    "avg",
    "count",
    "group_concat",
    "string_agg",
    "sum",
    "total",
    "median",
    "percentile",
    "percentile_cont",
    "percentile_disc",
    // Window.
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "nth_value",
    // Date and time.
    "date",
    "time",
    "datetime",
    "julianday",
    "unixepoch",
    "strftime",
    "timediff",
    "current_date",
    "current_time",
    "current_timestamp",
    // Mathematics (present when SQLite is built with them).
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "ceil",
    "ceiling",
    "cos",
    "cosh",
    "degrees",
    "exp",
    "floor",
    "ln",
    "log",
    "log10",
    "log2",
    "mod",
    "pi",
    "pow",
    "power",
    "radians",
    "sin",
    "sinh",
    "sqrt",
    "tan",
    "tanh",
    "trunc",
    // JSON (they compute values; none writes).
    "json",
    "jsonb",
    "json_array",
    "jsonb_array",
    "json_array_length",
    "json_error_position",
    "json_extract",
    "jsonb_extract",
    "json_insert",
    "jsonb_insert",
    "json_object",
    "jsonb_object",
    "json_patch",
    "jsonb_patch",
    "json_pretty",
    "json_quote",
    "json_remove",
    "jsonb_remove",
    "json_replace",
    "jsonb_replace",
    "json_set",
    "jsonb_set",
    "json_type",
    "json_valid",
    "json_group_array",
    "jsonb_group_array",
    "json_group_object",
    "jsonb_group_object",
    "->",
    "->>",
];

/// PRAGMAs a query may use: those that only describe the schema. Each is
/// also a table-valued function (`pragma_table_info('products')`), which
/// SQLite runs by compiling the PRAGMA itself.
pub(super) const PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "database_list",
    "collation_list",
    "function_list",
    "module_list",
    "pragma_list",
];

/// The first thing the authorizer denied while preparing the current
/// statement, in words, so the error can name it (SQLite itself only says
/// "not authorized").
#[derive(Debug, Clone, Default)]
pub(super) struct Denial(Arc<Mutex<Option<String>>>);

impl Denial {
    fn record(&self, what: String) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(what);
        }
    }

    /// Takes what was denied, leaving nothing for the next statement.
    pub(super) fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// Installs the authorizer on `connection`; denials are recorded in
/// `denial`.
pub(super) fn install(connection: &Connection, denial: Denial) -> rusqlite::Result<()> {
    connection.authorizer(Some(move |context: AuthContext<'_>| {
        match verdict(&context.action) {
            Ok(()) => Authorization::Allow,
            Err(what) => {
                denial.record(what);
                Authorization::Deny
            }
        }
    }))
}

/// Allows what reads; everything else is named in the error.
pub(super) fn verdict(action: &AuthAction<'_>) -> Result<(), String> {
    match action {
        AuthAction::Select | AuthAction::Read { .. } | AuthAction::Recursive => Ok(()),
        AuthAction::Function { function_name } => {
            if FUNCTIONS
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(function_name))
            {
                Ok(())
            } else {
                Err(format!("the function {function_name}()"))
            }
        }
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } => {
            if PRAGMAS
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(pragma_name))
            {
                Ok(())
            } else {
                Err(match pragma_value {
                    Some(value) => format!("PRAGMA {pragma_name}={value}"),
                    None => format!("PRAGMA {pragma_name}"),
                })
            }
        }
        other => Err(describe(other)),
    }
}

fn describe(action: &AuthAction<'_>) -> String {
    match action {
        AuthAction::Insert { table_name } => format!("INSERT into {table_name}"),
        AuthAction::Update { table_name, .. } => format!("UPDATE of {table_name}"),
        AuthAction::Delete { table_name } => format!("DELETE from {table_name}"),
        AuthAction::CreateTable { table_name } | AuthAction::CreateTempTable { table_name } => {
            format!("CREATE TABLE {table_name}")
        }
        AuthAction::CreateIndex { index_name, .. }
        | AuthAction::CreateTempIndex { index_name, .. } => format!("CREATE INDEX {index_name}"),
        AuthAction::CreateView { view_name } | AuthAction::CreateTempView { view_name } => {
            format!("CREATE VIEW {view_name}")
        }
        AuthAction::CreateTrigger { trigger_name, .. }
        | AuthAction::CreateTempTrigger { trigger_name, .. } => {
            format!("CREATE TRIGGER {trigger_name}")
        }
        AuthAction::CreateVtable { table_name, .. } => {
            format!("CREATE VIRTUAL TABLE {table_name}")
        }
        AuthAction::DropTable { table_name }
        | AuthAction::DropTempTable { table_name }
        | AuthAction::DropVtable { table_name, .. } => format!("DROP TABLE {table_name}"),
        AuthAction::DropIndex { index_name, .. } | AuthAction::DropTempIndex { index_name, .. } => {
            format!("DROP INDEX {index_name}")
        }
        AuthAction::DropView { view_name } | AuthAction::DropTempView { view_name } => {
            format!("DROP VIEW {view_name}")
        }
        AuthAction::DropTrigger { trigger_name, .. }
        | AuthAction::DropTempTrigger { trigger_name, .. } => {
            format!("DROP TRIGGER {trigger_name}")
        }
        AuthAction::AlterTable { table_name, .. } => format!("ALTER TABLE {table_name}"),
        AuthAction::Attach { .. } => "ATTACH".to_owned(),
        AuthAction::Detach { .. } => "DETACH".to_owned(),
        AuthAction::Reindex { .. } => "REINDEX".to_owned(),
        AuthAction::Analyze { .. } => "ANALYZE".to_owned(),
        AuthAction::Transaction { operation } => format!("{operation:?} (a transaction)"),
        AuthAction::Savepoint { savepoint_name, .. } => format!("SAVEPOINT {savepoint_name}"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pass_and_the_rest_is_named() {
        assert_eq!(verdict(&AuthAction::Select), Ok(()));
        assert_eq!(
            verdict(&AuthAction::Function {
                function_name: "GROUP_CONCAT"
            }),
            Ok(())
        );
        assert_eq!(
            verdict(&AuthAction::Function {
                function_name: "load_extension"
            }),
            Err("the function load_extension()".to_owned())
        );
        assert_eq!(
            verdict(&AuthAction::Pragma {
                pragma_name: "table_info",
                pragma_value: Some("products")
            }),
            Ok(())
        );
        assert_eq!(
            verdict(&AuthAction::Pragma {
                pragma_name: "hard_heap_limit",
                pragma_value: Some("100000")
            }),
            Err("PRAGMA hard_heap_limit=100000".to_owned())
        );
        assert_eq!(
            verdict(&AuthAction::Insert {
                table_name: "products"
            }),
            Err("INSERT into products".to_owned())
        );
    }

    #[test]
    fn the_lists_hold_no_function_or_pragma_with_side_effects() {
        for name in [
            "load_extension",
            "fts3_tokenizer",
            "sqlite_compileoption_get",
            "readfile",
            "writefile",
            "edit",
        ] {
            assert!(!FUNCTIONS.contains(&name), "{name}");
        }
        for name in [
            "query_only",
            "writable_schema",
            "journal_mode",
            "hard_heap_limit",
            "soft_heap_limit",
            "temp_store_directory",
            "data_store_directory",
            "mmap_size",
            "cache_size",
            "threads",
        ] {
            assert!(!PRAGMAS.contains(&name), "{name}");
        }
    }
}
