//! The tantivy schema of a product document and the resolved field handles
//! the builder and the searcher share.
//!
//! One document per product. Word fields (names, descriptions, family,
//! series, brand, attribute text) are analysed per language; `ngram` holds
//! character n-grams of the names, family and series for compound words;
//! the `*_key` fields hold normalised codes for exact and prefix matches
//! and the normalised whole names (`name_key`, German and English) for
//! exact name matches;
//! `facets` holds `/family/<v>`, `/brand/<v>`, `/series/<v>`,
//! `/etim_class/<v>` for filtering and counting; `attrs` is a JSON object of
//! typed attribute facts (numbers as fast fields for ranges, booleans and
//! short texts as terms).

use std::path::Path;

use tantivy::schema::{
    FAST, FacetOptions, Field, IndexRecordOption, JsonObjectOptions, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};

use crate::IndexError;
use crate::analysis::{ENGLISH, GERMAN, KEYWORD, NGRAM};

pub(crate) const ARTICLE_NO: &str = "article_no";
pub(crate) const ARTICLE_KEY: &str = "article_key";
pub(crate) const GTIN: &str = "gtin";
pub(crate) const MANUFACTURER_KEY: &str = "manufacturer_key";
pub(crate) const NAME_KEY: &str = "name_key";
pub(crate) const NAME_DE: &str = "name_de";
pub(crate) const NAME_EN: &str = "name_en";
pub(crate) const DESCRIPTION_DE: &str = "description_de";
pub(crate) const DESCRIPTION_EN: &str = "description_en";
pub(crate) const FAMILY: &str = "family";
pub(crate) const SERIES: &str = "series";
pub(crate) const BRAND: &str = "brand";
pub(crate) const ETIM_CLASS: &str = "etim_class";
pub(crate) const ATTRIBUTES: &str = "attributes";
pub(crate) const NGRAMS: &str = "ngram";
pub(crate) const FACETS: &str = "facets";
pub(crate) const ATTRS: &str = "attrs";

/// The canonical columns that are facets (filter by equality, count).
pub const FACET_FIELDS: [&str; 4] = [FAMILY, BRAND, SERIES, ETIM_CLASS];

/// Handles of every field, resolved once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub article_no: Field,
    pub article_key: Field,
    pub gtin: Field,
    pub manufacturer_key: Field,
    pub name_key: Field,
    pub name_de: Field,
    pub name_en: Field,
    pub description_de: Field,
    pub description_en: Field,
    pub family: Field,
    pub series: Field,
    pub brand: Field,
    pub etim_class: Field,
    pub attributes: Field,
    pub ngram: Field,
    pub facets: Field,
    pub attrs: Field,
}

/// Word field: analysed, term frequencies (BM25) but no positions: there
/// are no phrase queries, and positions would double the postings.
fn words(analyzer: &str, stored: bool) -> TextOptions {
    let options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    if stored {
        options.set_stored()
    } else {
        options
    }
}

pub(crate) fn build() -> Schema {
    let mut schema = Schema::builder();
    schema.add_text_field(ARTICLE_NO, STRING | STORED | FAST);
    schema.add_text_field(ARTICLE_KEY, STRING);
    schema.add_text_field(GTIN, STRING | STORED);
    schema.add_text_field(MANUFACTURER_KEY, STRING);
    schema.add_text_field(NAME_KEY, STRING);
    schema.add_text_field(NAME_DE, words(GERMAN, true));
    schema.add_text_field(NAME_EN, words(ENGLISH, true));
    schema.add_text_field(DESCRIPTION_DE, words(GERMAN, true));
    schema.add_text_field(DESCRIPTION_EN, words(ENGLISH, true));
    schema.add_text_field(FAMILY, words(GERMAN, true));
    schema.add_text_field(SERIES, words(GERMAN, true));
    schema.add_text_field(BRAND, words(GERMAN, true));
    // The ETIM class is a code (EC002892): matched exactly, not analysed.
    schema.add_text_field(ETIM_CLASS, STRING | STORED);
    schema.add_text_field(ATTRIBUTES, words(GERMAN, false));
    schema.add_text_field(NGRAMS, words(NGRAM, false));
    schema.add_facet_field(FACETS, FacetOptions::default());
    let attrs = JsonObjectOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(KEYWORD)
                .set_index_option(IndexRecordOption::Basic),
        )
        // Fast columns make numeric ranges work on JSON paths; text values
        // get a column too (tantivy cannot exclude them), kept verbatim.
        .set_fast("raw");
    schema.add_json_field(ATTRS, attrs);
    schema.build()
}

impl Fields {
    pub(crate) fn resolve(schema: &Schema, dir: &Path) -> Result<Fields, IndexError> {
        let get = |name: &str| {
            schema
                .get_field(name)
                .map_err(|_| IndexError::MissingField {
                    path: dir.to_path_buf(),
                    field: name.to_owned(),
                })
        };
        Ok(Fields {
            article_no: get(ARTICLE_NO)?,
            article_key: get(ARTICLE_KEY)?,
            gtin: get(GTIN)?,
            manufacturer_key: get(MANUFACTURER_KEY)?,
            name_key: get(NAME_KEY)?,
            name_de: get(NAME_DE)?,
            name_en: get(NAME_EN)?,
            description_de: get(DESCRIPTION_DE)?,
            description_en: get(DESCRIPTION_EN)?,
            family: get(FAMILY)?,
            series: get(SERIES)?,
            brand: get(BRAND)?,
            etim_class: get(ETIM_CLASS)?,
            attributes: get(ATTRIBUTES)?,
            ngram: get(NGRAMS)?,
            facets: get(FACETS)?,
            attrs: get(ATTRS)?,
        })
    }
}
