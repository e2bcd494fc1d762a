//! The tables of `catalog.db` beyond the four copied from the lakehouse,
//! and the indexes created after loading.
//!
//! Copied with the columns of their Delta tables (`build.rs` creates them
//! from the snapshot schema): `products`, `attributes`, `rejects`, `files`.
//! Text stays text, numbers are INTEGER or REAL, booleans 0/1, dates ISO
//! text.
//!
//! Built here:
//! - `catalog_info(key, value)`: format, delivery, customer, committed_at,
//!   tables (JSON: table to Delta version), built_at and row counts.
//! - `deliveries(delivery, tables, customer, committed_at)`: every
//!   published delivery record.
//! - `product_history(article_no, delivery, status, content_hash)`: one row
//!   per product that was `added`, `changed` (content hash differs) or
//!   `removed` (content_hash NULL) in a delivery; unchanged products have
//!   no row.
//! - `relations(article_no, relation, target, attribute)`: `accessory`,
//!   `successor` or `related`, from the attribute named in `attribute`.
//! - `media(article_no, kind, reference, attribute)`: `image`, `pdf` or
//!   `link`.
//! - `media_texts(article_no, source, part, language, text)`: the text
//!   enrich extracted from a media file (PDF text layer, OCR, caption), one
//!   row per media chunk of a product, `source` the file's path in the
//!   delivery, `part` its place in the file's text (from 1). Empty when the
//!   delivery was not enriched.
//! - the view `features(article_no, code, name, original, value_number,
//!   unit, source_file, source_sheet, source_row, source_column)`: the
//!   attributes that are ETIM features.
//!
//! Copied from enrich's tables when enrich has run on the catalog's
//! delivery (`cradle_lakehouse::enriched_version`), else created empty:
//! `classifications` (a product's ETIM class, confidence, source and
//! alternatives) and `etim_features` (source attributes mapped to the
//! features of that class).

/// Statements creating the fixed tables and the view.
pub(crate) fn fixed_tables() -> String {
    format!(
        "CREATE TABLE catalog_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE deliveries (
             delivery INTEGER PRIMARY KEY,
             tables TEXT NOT NULL,
             customer TEXT NOT NULL,
             committed_at TEXT NOT NULL
         );
         CREATE TABLE product_history (
             article_no TEXT NOT NULL,
             delivery INTEGER NOT NULL,
             status TEXT NOT NULL,
             content_hash TEXT
         );
         CREATE TABLE relations (
             article_no TEXT NOT NULL,
             relation TEXT NOT NULL,
             target TEXT NOT NULL,
             attribute TEXT NOT NULL
         );
         CREATE TABLE media (
             article_no TEXT NOT NULL,
             kind TEXT NOT NULL,
             reference TEXT NOT NULL,
             attribute TEXT NOT NULL
         );
         CREATE TABLE media_texts (
             article_no TEXT NOT NULL,
             source TEXT NOT NULL,
             part INTEGER NOT NULL,
             language TEXT NOT NULL,
             text TEXT NOT NULL
         );
         CREATE VIEW features AS
             SELECT article_no, attribute AS code, header AS name, original, value_number,
                    unit, source_file, source_sheet, source_row, source_column
             FROM attributes WHERE {};",
        crate::derive::FEATURE_CONDITION
    )
}

/// Indexes, created after the rows are in (faster than maintaining them
/// row by row).
pub(crate) const INDEXES: &str = "
    CREATE UNIQUE INDEX products_article_no ON products (article_no);
    CREATE INDEX products_family ON products (family);
    CREATE INDEX products_brand ON products (brand);
    CREATE INDEX products_etim_class ON products (etim_class);
    CREATE INDEX attributes_article_no ON attributes (article_no);
    CREATE INDEX attributes_attribute ON attributes (attribute);
    CREATE INDEX product_history_article_no ON product_history (article_no, delivery);
    CREATE INDEX relations_article_no ON relations (article_no);
    CREATE INDEX relations_target ON relations (target);
    CREATE INDEX media_article_no ON media (article_no);
    CREATE INDEX media_texts_article_no ON media_texts (article_no, source, part);
    CREATE INDEX classifications_article_no ON classifications (article_no);
    CREATE INDEX etim_features_article_no ON etim_features (article_no);
";
