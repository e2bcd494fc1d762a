//! The SQL console attacked: every PRAGMA with side effects in every form
//! SQLite compiles (`EXPLAIN PRAGMA hard_heap_limit=...` set a process-wide
//! memory limit and broke the API-key database), NUL bytes and invalid
//! text (a NUL hung a pooled connection at 100 % CPU), floods of large
//! values, writes in disguise; and random statements from a small SQLite
//! grammar. After each, the catalog file is unchanged, nothing was written
//! next to it, SQLite's process-wide settings are as before, and a normal
//! query and a product page still work.

mod fixture;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cradle_catalog::{Catalog, SqlError, SqlLimits, Truncation, sql_text};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;

/// PRAGMAs with side effects, as SQLite's documentation lists them
/// (setting a value, or acting: checkpoints, optimize, shrinking memory),
/// each with a value to set.
const PRAGMAS: &[(&str, &str)] = &[
    ("analysis_limit", "1"),
    ("application_id", "7"),
    ("auto_vacuum", "FULL"),
    ("automatic_index", "OFF"),
    ("busy_timeout", "1"),
    ("cache_size", "1"),
    ("cache_spill", "OFF"),
    ("case_sensitive_like", "ON"),
    ("cell_size_check", "ON"),
    ("checkpoint_fullfsync", "ON"),
    ("count_changes", "ON"),
    ("data_store_directory", "'/tmp'"),
    ("default_cache_size", "1"),
    ("defer_foreign_keys", "ON"),
    ("empty_result_callbacks", "ON"),
    ("encoding", "'UTF-16le'"),
    ("foreign_keys", "ON"),
    ("full_column_names", "ON"),
    ("fullfsync", "ON"),
    ("hard_heap_limit", "100000"),
    ("ignore_check_constraints", "ON"),
    ("incremental_vacuum", "1"),
    ("journal_mode", "WAL"),
    ("journal_mode", "OFF"),
    ("journal_size_limit", "1"),
    ("legacy_alter_table", "ON"),
    ("legacy_file_format", "ON"),
    ("locking_mode", "EXCLUSIVE"),
    ("max_page_count", "1"),
    ("mmap_size", "0"),
    ("optimize", "0x10002"),
    ("page_size", "512"),
    ("query_only", "OFF"),
    ("read_uncommitted", "ON"),
    ("recursive_triggers", "ON"),
    ("reverse_unordered_selects", "ON"),
    ("schema_version", "99"),
    ("secure_delete", "ON"),
    ("short_column_names", "OFF"),
    ("shrink_memory", "1"),
    ("soft_heap_limit", "100000"),
    ("synchronous", "OFF"),
    ("temp_store", "MEMORY"),
    ("temp_store_directory", "'/tmp'"),
    ("threads", "4"),
    ("trusted_schema", "ON"),
    ("user_version", "42"),
    ("vdbe_trace", "ON"),
    ("wal_autocheckpoint", "1"),
    ("wal_checkpoint", "TRUNCATE"),
    ("writable_schema", "ON"),
    ("writable_schema", "RESET"),
];

/// The catalog under attack and what must not change about it.
struct Target {
    _dir: tempfile::TempDir,
    path: PathBuf,
    bytes: Vec<u8>,
    catalog: Catalog,
}

impl Target {
    async fn new() -> Target {
        let dir = tempfile::tempdir().unwrap();
        let (path, catalog) = fixture::catalog(dir.path()).await;
        let bytes = std::fs::read(&path).unwrap();
        Target {
            _dir: dir,
            path,
            bytes,
            catalog,
        }
    }

    async fn sql(&self, query: &str) -> Result<cradle_catalog::SqlResult, SqlError> {
        self.catalog.sql(query, &SqlLimits::default()).await
    }

    /// Nothing changed, and the catalog still serves.
    async fn assert_intact(&self, after: &str) {
        assert!(
            std::fs::read(&self.path).unwrap() == self.bytes,
            "{after}: the catalog file changed"
        );
        assert_eq!(
            sidecars(self.path.parent().unwrap()),
            Vec::<String>::new(),
            "{after}: files appeared next to the catalog"
        );
        assert_global_settings(after);
        let started = Instant::now();
        let count = self
            .sql("SELECT count(*) FROM products")
            .await
            .unwrap_or_else(|e| panic!("{after}: a normal query failed: {e}"));
        assert_eq!(count.rows, [vec![json!(fixture::PRODUCTS)]], "{after}");
        let product = self
            .catalog
            .product(&fixture::article(7))
            .await
            .unwrap_or_else(|e| panic!("{after}: a product page failed: {e}"));
        assert!(product.is_some(), "{after}: product 7 is gone");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{after}: a normal query and a product page took {:?}",
            started.elapsed()
        );
    }
}

fn sidecars(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "catalog.db")
        .collect();
    names.sort();
    names
}

/// SQLite's process-wide settings, read on a connection of its own: what
/// `EXPLAIN PRAGMA hard_heap_limit=...` used to change for every database
/// of the process, the state database with the API keys included.
fn assert_global_settings(after: &str) {
    let connection = rusqlite::Connection::open_in_memory().unwrap();
    for (pragma, expected) in [("hard_heap_limit", 0i64), ("soft_heap_limit", 0)] {
        let value: i64 = connection
            .query_row(&format!("PRAGMA {pragma}"), [], |row| row.get(0))
            .unwrap();
        assert_eq!(value, expected, "{after}: {pragma} changed");
    }
    let directory: Option<String> = connection
        .query_row("PRAGMA temp_store_directory", [], |row| row.get(0))
        .ok();
    assert!(
        directory.unwrap_or_default().is_empty(),
        "{after}: temp_store_directory changed"
    );
}

#[tokio::test]
async fn pragmas_with_side_effects_are_refused_in_every_form() {
    let target = Target::new().await;
    for (pragma, value) in PRAGMAS {
        for query in [
            format!("PRAGMA {pragma}={value}"),
            format!("PRAGMA {pragma}"),
            format!("PRAGMA main.{pragma}({value})"),
            format!("EXPLAIN PRAGMA {pragma}={value}"),
            format!("EXPLAIN QUERY PLAN PRAGMA {pragma}={value}"),
            format!("explain /* x */ pragma {}={value};", pragma.to_uppercase()),
        ] {
            let error = target.sql(&query).await.expect_err(&query);
            assert_eq!(error.code(), "sql_not_read_only", "{query}: {error}");
            assert_eq!(error.http_status(), 400);
            assert!(
                error.to_string().to_lowercase().contains(pragma),
                "{query}: the error names the pragma: {error}"
            );
        }
        // The table-valued form compiles a PRAGMA of its own where SQLite
        // has one; where it has none the table does not exist.
        for query in [
            format!("SELECT * FROM pragma_{pragma}"),
            format!("SELECT * FROM pragma_{pragma}({value})"),
            format!("WITH x AS (SELECT * FROM pragma_{pragma}) SELECT * FROM x"),
        ] {
            let error = target.sql(&query).await.expect_err(&query);
            assert!(
                matches!(error.code(), "sql_not_read_only" | "sql_error"),
                "{query}: {error}"
            );
        }
        target.assert_intact(pragma).await;
    }
    // What describes the schema stays open.
    let columns = target
        .sql("SELECT name FROM pragma_table_info('relations') ORDER BY cid")
        .await
        .unwrap();
    assert_eq!(columns.rows.len(), 4);
    let indexes = target.sql("PRAGMA index_list(products)").await.unwrap();
    assert!(!indexes.rows.is_empty());
}

#[tokio::test]
async fn writes_in_disguise_are_refused() {
    let target = Target::new().await;
    let dir = target
        .path
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let outside = dir.join("outside.db");
    for query in [
        "INSERT INTO products (article_no) VALUES ('X')".to_owned(),
        "WITH x AS (SELECT 1) DELETE FROM products".to_owned(),
        "WITH x AS (SELECT 1) UPDATE products SET name_de = 'x'".to_owned(),
        "REPLACE INTO media VALUES ('a', 'b', 'c', 'd')".to_owned(),
        "CREATE TEMP TABLE t (a)".to_owned(),
        "CREATE TEMP VIEW v AS SELECT 1".to_owned(),
        "CREATE VIRTUAL TABLE temp.f USING fts5(a)".to_owned(),
        "DROP VIEW features".to_owned(),
        "ALTER TABLE products RENAME TO p".to_owned(),
        "ANALYZE".to_owned(),
        "REINDEX".to_owned(),
        "BEGIN IMMEDIATE".to_owned(),
        "SAVEPOINT s".to_owned(),
        format!("ATTACH '{}' AS o", outside.display()),
        "ATTACH ':memory:' AS scratch".to_owned(),
        format!("VACUUM INTO '{}'", outside.display()),
        format!("VACUUM main INTO '{}'", outside.display()),
        "VACUUM".to_owned(),
        "SELECT load_extension('/tmp/x.so')".to_owned(),
        "SELECT fts3_tokenizer('simple')".to_owned(),
        "SELECT sqlite_compileoption_get(0)".to_owned(),
        "SELECT name FROM pragma_function_list WHERE load_extension('x') IS NULL".to_owned(),
    ] {
        let error = target.sql(&query).await.expect_err(&query);
        assert_eq!(error.code(), "sql_not_read_only", "{query}: {error}");
        assert!(!outside.exists(), "{query} wrote {}", outside.display());
        target.assert_intact(&query).await;
    }
    let error = target
        .sql("SELECT 1; DROP TABLE products")
        .await
        .unwrap_err();
    assert_eq!(error.code(), "sql_not_read_only", "{error}");
    let error = target.sql("SELECT 1; SELECT 2").await.unwrap_err();
    assert_eq!(error.code(), "sql_multiple_statements", "{error}");
    let error = target.sql("-- nothing but a comment").await.unwrap_err();
    assert_eq!(error.code(), "sql_empty", "{error}");
}

#[tokio::test]
async fn nul_bytes_and_invalid_text_never_reach_sqlite() {
    let target = Target::new().await;
    let queries = [
        "\0".to_owned(),
        "SELECT 1\0".to_owned(),
        "SELECT '\0' AS nul".to_owned(),
        "SELECT 1;\0DROP TABLE products".to_owned(),
        "\0SELECT * FROM products".to_owned(),
        "SELECT '\u{1b}[2J'".to_owned(),
    ];
    // More at once than the pool has connections: none may hang one.
    let started = Instant::now();
    let mut attacks = Vec::new();
    for _ in 0..3 {
        for query in &queries {
            let catalog = target.catalog.clone();
            let query = query.clone();
            attacks.push(tokio::spawn(async move {
                (catalog.sql(&query, &SqlLimits::default()).await, query)
            }));
        }
    }
    for attack in attacks {
        let (result, query) = attack.await.unwrap();
        let error = result.expect_err(&query);
        assert_eq!(error.code(), "sql_invalid_text", "{query:?}: {error}");
        assert_eq!(error.http_status(), 400);
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    let error = sql_text(b"SELECT 'Gr\xfc\xdfe'").unwrap_err();
    assert_eq!(error.code(), "sql_invalid_text");
    assert!(
        error.to_string().contains("invalid UTF-8 at byte 10"),
        "{error}"
    );
    // Text SQLite makes itself that is not UTF-8 comes back replaced.
    let made = target.sql("SELECT CAST(x'41ff42' AS TEXT)").await.unwrap();
    assert_eq!(made.rows, [vec![json!("A\u{fffd}B")]]);
    target.assert_intact("NUL bytes").await;
}

#[tokio::test]
async fn floods_of_large_values_stop_at_the_bounds() {
    let target = Target::new().await;
    let ten = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)";
    // Ten rows of 50 MB blobs (1 GB of JSON before): SQLite refuses the
    // first value.
    for query in [
        format!("{ten} SELECT zeroblob(50000000) FROM n"),
        format!("{ten} SELECT randomblob(50000000) FROM n"),
        format!("{ten} SELECT hex(zeroblob(5000000)) FROM n"),
        format!("{ten} SELECT replace(hex(zeroblob(4000000)), '0', 'xy') FROM n"),
        format!("{ten} SELECT length(zeroblob(50000000)) FROM n"),
        format!("{ten} SELECT group_concat(hex(zeroblob(1000000))) FROM n"),
    ] {
        let started = Instant::now();
        let error = target.sql(&query).await.expect_err(&query);
        assert_eq!(error.code(), "sql_too_large", "{query}: {error}");
        assert_eq!(error.http_status(), 413);
        assert!(started.elapsed() < Duration::from_secs(1), "{query}");
    }
    // Values within SQLite's limit: the rows stop at the byte bound.
    let limits = SqlLimits {
        max_bytes: 5_000_000,
        ..SqlLimits::default()
    };
    let started = Instant::now();
    let result = target
        .catalog
        .sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) \
             SELECT i, zeroblob(1000000) FROM n",
            &limits,
        )
        .await
        .unwrap();
    assert_eq!(result.truncated_by, Some(Truncation::Bytes));
    assert!(result.truncated);
    assert_eq!(result.rows.len(), 2, "two rows of 2 MB hex fit in 5 MB");
    assert!(result.bytes <= limits.max_bytes);
    let encoded = serde_json::to_string(&result.rows).unwrap();
    assert_eq!(encoded.len(), result.bytes, "the bound counts the JSON");
    assert!(started.elapsed() < Duration::from_secs(2));
    // Not even one row fits.
    let error = target
        .catalog
        .sql("SELECT zeroblob(3000000)", &limits)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "sql_too_large", "{error}");
    // Many small rows stop at the row bound.
    let many = target
        .catalog
        .sql(
            "SELECT a.article_no FROM attributes a, attributes b",
            &SqlLimits {
                max_rows: 3,
                ..SqlLimits::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (many.rows.len(), many.truncated_by),
        (3, Some(Truncation::Rows))
    );
    target.assert_intact("floods").await;
}

#[tokio::test]
async fn deadlines_hold_and_limits_refuse_monsters() {
    let target = Target::new().await;
    let limits = SqlLimits {
        timeout: Duration::from_millis(300),
        ..SqlLimits::default()
    };
    for query in [
        // Endless recursion, a huge cross join, a huge sort.
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        "SELECT count(*) FROM attributes a, attributes b, attributes c",
        "SELECT a.original FROM attributes a, attributes b ORDER BY random() LIMIT 1",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION SELECT x + 1 FROM c) SELECT max(x) FROM c",
    ] {
        let started = Instant::now();
        let error = target.catalog.sql(query, &limits).await.expect_err(query);
        let elapsed = started.elapsed();
        assert_eq!(error.code(), "sql_timeout", "{query}: {error}");
        assert_eq!(error.http_status(), 408);
        assert!(elapsed < Duration::from_secs(1), "{query} took {elapsed:?}");
    }
    let deep = format!("SELECT 1{}", "+1".repeat(300));
    let error = target.sql(&deep).await.unwrap_err();
    assert_eq!(error.code(), "sql_error", "{error}");
    let long = format!("SELECT '{}'", "x".repeat(200_000));
    let error = target.sql(&long).await.unwrap_err();
    assert_eq!(
        (error.code(), error.http_status()),
        ("sql_too_long", 413),
        "{error}"
    );
    let wide = format!(
        "SELECT {}",
        (0..600)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let error = target.sql(&wide).await.unwrap_err();
    assert_eq!(error.code(), "sql_error", "{error}");
    target.assert_intact("monsters").await;
}

#[tokio::test]
async fn a_dropped_request_frees_its_connection() {
    let target = Target::new().await;
    let slow =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
    // Callers that stop waiting (a client that went away) after 100 ms.
    for _ in 0..cradle_catalog::SQL_CONNECTIONS * 2 {
        let abandoned = tokio::time::timeout(
            Duration::from_millis(100),
            target.catalog.sql(slow, &SqlLimits::default()),
        )
        .await;
        assert!(abandoned.is_err());
    }
    // Their statements stopped too: a new query gets a connection at once.
    let started = Instant::now();
    target.sql("SELECT 1").await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    target.assert_intact("dropped requests").await;
}

/// A small grammar of SQLite statements: reads, writes, PRAGMAs, attaching
/// and vacuuming, behind EXPLAIN, in CTEs, with comments, second
/// statements, NUL bytes and control characters, and large values.
fn statement(outside: String) -> impl Strategy<Value = String> {
    let table = prop::sample::select(vec![
        "products",
        "attributes",
        "features",
        "relations",
        "media",
        "catalog_info",
        "sqlite_schema",
        "temp.sqlite_schema",
        "pragma_table_info('products')",
        "json_each('[1,2,3]')",
        "dbstat",
        "sqlite_dbpage",
        "nowhere",
    ]);
    // Functions with their number of arguments: the core ones a user
    // calls, those that make large values, and some that must be denied.
    let function = prop::sample::select(vec![
        ("abs", 1),
        ("length", 1),
        ("upper", 1),
        ("hex", 1),
        ("quote", 1),
        ("typeof", 1),
        ("zeroblob", 1),
        ("randomblob", 1),
        ("substr", 2),
        ("json_array", 2),
        ("replace", 3),
        ("group_concat", 1),
        ("count", 1),
        ("load_extension", 1),
        ("fts3_tokenizer", 1),
        ("sqlite_compileoption_get", 1),
        ("readfile", 1),
        ("writefile", 2),
        ("unknown_function", 1),
    ]);
    let literal = prop_oneof![
        (0i64..100).prop_map(|n| n.to_string()),
        (0i64..100_000).prop_map(|n| n.to_string()),
        (0i64..100_000_000).prop_map(|n| n.to_string()),
        Just("NULL".to_owned()),
        Just("'text'".to_owned()),
        Just("x'00ff'".to_owned()),
        Just("-1".to_owned()),
        Just("article_no".to_owned()),
        Just("rowid".to_owned()),
    ];
    let expression = (function, prop::collection::vec(literal.clone(), 3)).prop_map(
        |((name, arity), arguments)| format!("{name}({})", arguments[..arity].join(", ")),
    );
    let pragma = prop::sample::select(PRAGMAS.to_vec());
    let select = (
        prop::collection::vec(expression, 1..3),
        table,
        prop::option::of(literal.clone()),
        0u32..5000,
    )
        .prop_map(|(expressions, table, filter, limit)| {
            let filter = filter.map(|v| format!(" WHERE {v}")).unwrap_or_default();
            format!(
                "SELECT {} FROM {table}{filter} LIMIT {limit}",
                expressions.join(", ")
            )
        });
    let write = prop::sample::select(vec![
        "DELETE FROM products".to_owned(),
        "UPDATE attributes SET original = 'x'".to_owned(),
        "INSERT INTO media VALUES ('a', 'b', 'c', 'd')".to_owned(),
        "DROP TABLE products".to_owned(),
        "CREATE TABLE t (a)".to_owned(),
        "CREATE TEMP TRIGGER g AFTER INSERT ON media BEGIN SELECT 1; END".to_owned(),
        "ALTER TABLE media ADD COLUMN z".to_owned(),
        "BEGIN".to_owned(),
        "COMMIT".to_owned(),
        "REINDEX".to_owned(),
        "ANALYZE".to_owned(),
        "VACUUM".to_owned(),
        format!("VACUUM INTO '{outside}'"),
        format!("ATTACH '{outside}' AS o"),
        "DETACH main".to_owned(),
    ]);
    let core = prop_oneof![
        4 => select.clone(),
        2 => pragma.clone().prop_map(|(p, v)| format!("PRAGMA {p}={v}")),
        1 => pragma.prop_map(|(p, v)| format!("SELECT * FROM pragma_{p}({v})")),
        2 => write.clone(),
        1 => write.prop_map(|w| format!("WITH x AS (SELECT 1) {w}")),
        1 => Just(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"
                .to_owned()
        ),
    ];
    let prefix = prop::sample::select(vec![
        "",
        "",
        "EXPLAIN ",
        "EXPLAIN QUERY PLAN ",
        "/* c */ ",
        "-- c\n",
    ]);
    let suffix = prop::sample::select(vec![
        "",
        "",
        "",
        ";",
        "; ",
        "; SELECT 1",
        "; DELETE FROM products",
    ]);
    let noise = prop::sample::select(vec![
        "", "", "", "", "", "", "", "", "\0", "\u{7}", "\u{fffd}",
    ]);
    (prefix, core, suffix, noise, any::<prop::sample::Index>()).prop_map(
        |(prefix, core, suffix, noise, at)| {
            let mut text = format!("{prefix}{core}{suffix}");
            if !noise.is_empty() {
                let mut position = at.index(text.len() + 1);
                while !text.is_char_boundary(position) {
                    position -= 1;
                }
                text.insert_str(position, noise);
            }
            text
        },
    )
}

#[test]
fn random_statements_never_change_state_exceed_bounds_or_break_later_requests() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let target = runtime.block_on(Target::new());
    let outside = target
        .path
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("outside.db");
    let limits = SqlLimits {
        max_rows: 50,
        max_bytes: 64 << 10,
        timeout: Duration::from_millis(300),
    };
    let mut runner = TestRunner::new(Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&statement(outside.display().to_string()), |query| {
        let started = Instant::now();
        let result = runtime.block_on(target.catalog.sql(&query, &limits));
        let elapsed = started.elapsed();
        match &result {
            Ok(rows) => {
                prop_assert!(rows.rows.len() <= limits.max_rows, "{query}");
                prop_assert!(rows.bytes <= limits.max_bytes, "{query}");
                let encoded = serde_json::to_string(&rows.rows).unwrap();
                prop_assert!(encoded.len() <= limits.max_bytes, "{query}");
            }
            Err(error) => prop_assert!(
                error.is_request_error(),
                "{query:?}: a fault, not a refusal: {error:?}"
            ),
        }
        prop_assert!(
            elapsed < limits.timeout + Duration::from_millis(700),
            "{query:?} took {elapsed:?}"
        );
        prop_assert!(!outside.exists(), "{query:?} wrote {}", outside.display());
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(target.assert_intact(&query))
        }))
        .map_err(|_| TestCaseError::fail(format!("after {query:?}")))?;
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
