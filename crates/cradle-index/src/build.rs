//! Building an index: read `products` and `attributes` at the versions of
//! the last published delivery (and enrich's `classifications` of that
//! delivery, when there are any: its class is the product's), gather one document per product in memory
//! ([`IndexBuilder`]), write the tantivy index into a staging directory
//! beside the target and swap it into place.
//!
//! The attributes table is in no useful order, so its rows are grouped per
//! article in a hash map while streaming; 105k products with ~75 attribute
//! rows each fit comfortably (the attribute text and one small fact per
//! row). The staging directory means a failed or killed build never leaves
//! a half index where the console looks, and a reader of the previous
//! index keeps its memory maps (unlinked files stay readable).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, BooleanArray, Float64Array, RecordBatch, StringArray};
use cradle_lake::Table;
use cradle_lakehouse::ARTICLE_NO;
use cradle_lakehouse::schema::{attributes, classifications, products};
use tantivy::schema::{Facet, OwnedValue};
use tantivy::{Index, IndexWriter, TantivyDocument};

use crate::IndexError;
use crate::analysis::{self, normalize_attribute, normalize_code, normalize_name, normalize_unit};
use crate::meta::{BuiltFrom, FORMAT, IndexMetadata, METADATA_FILE, now_rfc3339};
use crate::schema::{self, Fields};

/// Text attribute values longer than this are searchable words only, not
/// facts for equality filters: long texts are descriptions, not values.
const LONGEST_TEXT_FACT: usize = 60;

/// Distinct values an attribute may have and still be offered as a facet.
pub const MAX_FACET_VALUES: usize = 200;

/// The facet path root of attribute facets: `/attribute/<key>/<value>`.
pub(crate) const ATTRIBUTE_FACET: &str = "attribute";

/// Whether a value can be a facet value (`/` separates facet levels).
fn facetable(value: &str) -> bool {
    !value.is_empty() && !value.contains('/')
}

/// How to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The indexing memory budget over all threads, in bytes.
    pub memory_budget_bytes: usize,
    /// Indexing threads.
    pub threads: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            memory_budget_bytes: 200 * 1024 * 1024,
            threads: 2,
        }
    }
}

/// What a build did.
#[derive(Debug, Clone)]
pub struct BuildReport {
    pub documents: u64,
    /// Attribute rows that went into documents.
    pub attribute_rows: u64,
    /// Attribute rows of articles missing from `products` (not indexed).
    pub orphan_attribute_rows: u64,
    /// Distinct typed attribute keys, e.g. `leistung_w`.
    pub attribute_keys: usize,
    pub built_from: BuiltFrom,
    /// Reading the tables.
    pub read_time: Duration,
    /// Writing and merging the index.
    pub index_time: Duration,
    /// Bytes of the finished index directory.
    pub size_bytes: u64,
}

/// Builds the index of the lakehouse at `lakehouse_dir` into `index_dir`,
/// replacing a previous index there. Reads the table versions of the last
/// published delivery (`_cradle/deliveries/`), or the latest versions when
/// there is no delivery record.
pub fn build(
    lakehouse_dir: &Path,
    index_dir: &Path,
    options: &BuildOptions,
) -> Result<BuildReport, IndexError> {
    check_replaceable(index_dir)?;
    let started = Instant::now();
    let built_from = resolve_versions(lakehouse_dir)?;
    let mut builder = IndexBuilder::new();
    let products = lakehouse_dir.join(products::NAME);
    for batch in scan(
        &products,
        built_from.tables[products::NAME],
        &PRODUCT_COLUMNS,
    )? {
        builder.add_products(&batch.map_err(lake(&products))?)?;
    }
    let attributes = lakehouse_dir.join(attributes::NAME);
    for batch in scan(
        &attributes,
        built_from.tables[attributes::NAME],
        &ATTRIBUTE_COLUMNS,
    )? {
        builder.add_attributes(&batch.map_err(lake(&attributes))?)?;
    }
    // Enrich's classes, when enrich ran on this delivery: the class the
    // catalog answers too.
    let classes = lakehouse_dir.join(classifications::NAME);
    if let Some(delivery) = built_from.delivery
        && let Some(version) =
            cradle_lakehouse::enriched_version(lakehouse_dir, classifications::NAME, delivery)
                .map_err(lake(&classes))?
    {
        for batch in scan(
            &classes,
            version,
            &[ARTICLE_NO, classifications::ETIM_CLASS],
        )? {
            builder.set_classes(&batch.map_err(lake(&classes))?)?;
        }
    }
    let read_time = started.elapsed();
    let mut report = builder.write(index_dir, built_from, options)?;
    report.read_time = read_time;
    Ok(report)
}

fn lake(table: &Path) -> impl Fn(cradle_lake::LakeError) -> IndexError + '_ {
    move |source| IndexError::Lake {
        table: table.to_path_buf(),
        source,
    }
}

fn scan(table: &Path, version: u64, columns: &[&str]) -> Result<cradle_lake::Scan, IndexError> {
    Table::at(table)
        .snapshot(Some(version))
        .and_then(|snapshot| snapshot.scan(Some(columns)))
        .map_err(lake(table))
}

fn resolve_versions(lakehouse_dir: &Path) -> Result<BuiltFrom, IndexError> {
    use cradle_lakehouse::deliveries::{self, DeliveryError};
    let newest = deliveries::latest(lakehouse_dir).map_err(|error| match error {
        DeliveryError::Read { path, source } => IndexError::DeliveryRecord { path, source },
        DeliveryError::Damaged { path, source } => {
            IndexError::DamagedDeliveryRecord { path, source }
        }
    })?;
    let mut tables = BTreeMap::new();
    if let Some((record, path)) = newest {
        for table in [products::NAME, attributes::NAME] {
            let version = record.tables.get(table).copied().ok_or_else(|| {
                IndexError::DeliveryWithoutTable {
                    path: path.clone(),
                    table: table.to_owned(),
                }
            })?;
            tables.insert(table.to_owned(), version);
        }
        return Ok(BuiltFrom {
            delivery: Some(record.delivery),
            tables,
        });
    }
    for table in [products::NAME, attributes::NAME] {
        let path = lakehouse_dir.join(table);
        let version = Table::at(&path)
            .latest_version()
            .map_err(lake(&path))?
            .ok_or_else(|| IndexError::Lake {
                table: path.clone(),
                source: cradle_lake::LakeError::NoTable {
                    table: path.clone(),
                },
            })?;
        tables.insert(table.to_owned(), version);
    }
    Ok(BuiltFrom {
        delivery: None,
        tables,
    })
}

/// The `products` columns read, in this order.
pub const PRODUCT_COLUMNS: [&str; 14] = [
    ARTICLE_NO,
    "gtin",
    "manufacturer_no",
    "name_de",
    "name_en",
    "description_de",
    "description_en",
    "family",
    "series",
    "brand",
    "etim_class",
    "price",
    "price_eur",
    "price_chf",
];

/// The `attributes` columns read, in this order.
pub const ATTRIBUTE_COLUMNS: [&str; 8] = [
    ARTICLE_NO,
    attributes::ATTRIBUTE,
    attributes::FIELD,
    attributes::ORIGINAL,
    attributes::VALUE_NUMBER,
    attributes::VALUE_BOOL,
    attributes::UNIT,
    attributes::NO_VALUE,
];

/// Text columns of a product, in [`PRODUCT_COLUMNS`] order after the
/// article number.
const TEXTS: usize = 10;
const GTIN: usize = 0;
const MANUFACTURER_NO: usize = 1;
const NAME_DE: usize = 2;
const NAME_EN: usize = 3;
const DESCRIPTION_DE: usize = 4;
const DESCRIPTION_EN: usize = 5;
const FAMILY: usize = 6;
const SERIES: usize = 7;
const BRAND: usize = 8;
const ETIM_CLASS: usize = 9;

/// The typed value of one attribute row.
#[derive(Debug, Clone, Copy)]
enum FactValue {
    Number(f64),
    Bool(bool),
    /// A byte range of the product's attribute text holding the original.
    Text {
        start: u32,
        len: u32,
    },
}

#[derive(Debug, Clone, Copy)]
struct Fact {
    /// Index into [`IndexBuilder::fact_keys`].
    key: u32,
    value: FactValue,
}

/// The key (and unit-qualified key) of one (attribute, unit) pair.
#[derive(Debug, Clone)]
struct FactKey {
    name: String,
    with_unit: Option<String>,
}

#[derive(Debug, Default)]
struct ProductDoc {
    texts: [Option<String>; TEXTS],
    prices: Vec<(&'static str, f64)>,
    /// Lines of `attribute value` of the product's attribute rows.
    attribute_text: String,
    facts: Vec<Fact>,
}

/// Gathers products and their attribute rows from Arrow batches of the
/// `products` and `attributes` tables (columns as in [`PRODUCT_COLUMNS`]
/// and [`ATTRIBUTE_COLUMNS`]) and writes the index. [`build`] drives it from
/// a lakehouse; it is public for callers that hold the batches already.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    products: HashMap<String, ProductDoc>,
    /// Attribute name → (unit, fact key id) pairs seen with it.
    key_ids: HashMap<String, Vec<(Option<String>, u32)>>,
    fact_keys: Vec<FactKey>,
    attribute_rows: u64,
    orphan_attribute_rows: u64,
}

fn strings<'a>(
    batch: &'a RecordBatch,
    name: &str,
    table: &str,
) -> Result<&'a StringArray, IndexError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or_else(|| column_error(table, name))
}

fn numbers<'a>(
    batch: &'a RecordBatch,
    name: &str,
    table: &str,
) -> Result<&'a Float64Array, IndexError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_primitive_opt::<Float64Type>())
        .ok_or_else(|| column_error(table, name))
}

fn booleans<'a>(
    batch: &'a RecordBatch,
    name: &str,
    table: &str,
) -> Result<&'a BooleanArray, IndexError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_boolean_opt())
        .ok_or_else(|| column_error(table, name))
}

fn column_error(table: &str, column: &str) -> IndexError {
    IndexError::Column {
        table: PathBuf::from(table),
        column: column.to_owned(),
    }
}

fn text_at(array: &StringArray, row: usize) -> Option<&str> {
    if array.is_null(row) {
        return None;
    }
    let value = array.value(row).trim();
    (!value.is_empty()).then_some(value)
}

impl IndexBuilder {
    pub fn new() -> IndexBuilder {
        IndexBuilder::default()
    }

    /// Adds the products of a `products` batch (a product seen again is
    /// replaced).
    pub fn add_products(&mut self, batch: &RecordBatch) -> Result<(), IndexError> {
        let article = strings(batch, ARTICLE_NO, products::NAME)?;
        let texts: Vec<&StringArray> = PRODUCT_COLUMNS[1..=TEXTS]
            .iter()
            .map(|name| strings(batch, name, products::NAME))
            .collect::<Result<_, _>>()?;
        let prices: Vec<(&'static str, &Float64Array)> = PRODUCT_COLUMNS[TEXTS + 1..]
            .iter()
            .map(|name| Ok((*name, numbers(batch, name, products::NAME)?)))
            .collect::<Result<_, IndexError>>()?;
        for row in 0..batch.num_rows() {
            let Some(article_no) = text_at(article, row) else {
                continue;
            };
            let mut doc = ProductDoc::default();
            for (slot, column) in doc.texts.iter_mut().zip(&texts) {
                *slot = text_at(column, row).map(str::to_owned);
            }
            for (name, column) in &prices {
                if column.is_valid(row) && column.value(row).is_finite() {
                    doc.prices.push((name, column.value(row)));
                }
            }
            self.products.insert(article_no.to_owned(), doc);
        }
        Ok(())
    }

    /// Sets the ETIM class of the products of a `classifications` batch
    /// (enrich's decision replaces the delivered class, also when it found
    /// none); products not in the index are passed over.
    pub fn set_classes(&mut self, batch: &RecordBatch) -> Result<(), IndexError> {
        let article = strings(batch, ARTICLE_NO, classifications::NAME)?;
        let class = strings(batch, classifications::ETIM_CLASS, classifications::NAME)?;
        for row in 0..batch.num_rows() {
            if let Some(doc) = text_at(article, row).and_then(|a| self.products.get_mut(a)) {
                doc.texts[ETIM_CLASS] = text_at(class, row).map(str::to_owned);
            }
        }
        Ok(())
    }

    /// Adds the rows of an `attributes` batch to their products. Rows of
    /// canonical fields (already in the product's own fields) and "no
    /// value" rows are skipped; rows of unknown articles are counted.
    pub fn add_attributes(&mut self, batch: &RecordBatch) -> Result<(), IndexError> {
        let article = strings(batch, ARTICLE_NO, attributes::NAME)?;
        let attribute = strings(batch, attributes::ATTRIBUTE, attributes::NAME)?;
        let field = strings(batch, attributes::FIELD, attributes::NAME)?;
        let original = strings(batch, attributes::ORIGINAL, attributes::NAME)?;
        let number = numbers(batch, attributes::VALUE_NUMBER, attributes::NAME)?;
        let boolean = booleans(batch, attributes::VALUE_BOOL, attributes::NAME)?;
        let unit = strings(batch, attributes::UNIT, attributes::NAME)?;
        let no_value = booleans(batch, attributes::NO_VALUE, attributes::NAME)?;
        for row in 0..batch.num_rows() {
            if field.is_valid(row) || (no_value.is_valid(row) && no_value.value(row)) {
                continue;
            }
            let (Some(article_no), Some(name), Some(text)) = (
                text_at(article, row),
                text_at(attribute, row),
                text_at(original, row),
            ) else {
                continue;
            };
            let key = self.fact_key(name, text_at(unit, row));
            let Some(doc) = self.products.get_mut(article_no) else {
                self.orphan_attribute_rows += 1;
                continue;
            };
            self.attribute_rows += 1;
            let flag = boolean.is_valid(row).then(|| boolean.value(row));
            let value = number
                .is_valid(row)
                .then(|| number.value(row))
                .filter(|n| n.is_finite());
            // A "no" is not a word to find the product by: "dimmbar: nein"
            // must not match the query "dimmbar".
            if flag != Some(false) {
                doc.attribute_text.push_str(name);
                doc.attribute_text.push(' ');
            }
            let start = doc.attribute_text.len();
            doc.attribute_text.push_str(text);
            let unit = text_at(unit, row);
            if let Some(unit) = unit.filter(|u| !text.ends_with(u)) {
                // "12,5" alone does not answer the query "12,5 W".
                doc.attribute_text.push(' ');
                doc.attribute_text.push_str(unit);
            }
            doc.attribute_text.push('\n');
            let value = match (flag, value) {
                (Some(flag), _) => FactValue::Bool(flag),
                (None, Some(n)) => FactValue::Number(n),
                (None, None) if text.len() <= LONGEST_TEXT_FACT => FactValue::Text {
                    start: start as u32,
                    len: text.len() as u32,
                },
                (None, None) => continue,
            };
            doc.facts.push(Fact { key, value });
        }
        Ok(())
    }

    fn fact_key(&mut self, attribute: &str, unit: Option<&str>) -> u32 {
        let units = self.key_ids.entry(attribute.to_owned()).or_default();
        if let Some((_, id)) = units.iter().find(|(u, _)| u.as_deref() == unit) {
            return *id;
        }
        let name = normalize_attribute(attribute);
        let with_unit = unit
            .map(normalize_unit)
            .filter(|u| !u.is_empty())
            .map(|u| format!("{name}_{u}"));
        let id = self.fact_keys.len() as u32;
        self.fact_keys.push(FactKey { name, with_unit });
        units.push((unit.map(str::to_owned), id));
        id
    }

    /// Writes the index into `index_dir` (replacing an index there) with
    /// `built_from` recorded in its metadata.
    pub fn write(
        self,
        index_dir: &Path,
        built_from: BuiltFrom,
        options: &BuildOptions,
    ) -> Result<BuildReport, IndexError> {
        check_replaceable(index_dir)?;
        let started = Instant::now();
        let staging = cradle_fs::staging_dir(index_dir).map_err(|source| IndexError::Prepare {
            path: index_dir.to_path_buf(),
            source,
        })?;
        let result = self.write_into(&staging, built_from, options);
        let mut report = match result {
            Ok(report) => report,
            Err(error) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(error);
            }
        };
        swap_into_place(&staging, index_dir)?;
        report.index_time = started.elapsed();
        report.size_bytes = crate::search::directory_size(index_dir);
        Ok(report)
    }

    fn write_into(
        self,
        dir: &Path,
        built_from: BuiltFrom,
        options: &BuildOptions,
    ) -> Result<BuildReport, IndexError> {
        let write_err = |source| IndexError::Write {
            path: dir.to_path_buf(),
            source,
        };
        let index = Index::create_in_dir(dir, schema::build()).map_err(write_err)?;
        analysis::register(index.tokenizers());
        let fields = Fields::resolve(&index.schema(), dir)?;
        let threads = options.threads.max(1);
        // tantivy wants at least 15 MB per thread.
        let budget = options.memory_budget_bytes.max(threads * 16 * 1024 * 1024);
        let mut writer: IndexWriter = index
            .writer_with_num_threads(threads, budget)
            .map_err(write_err)?;
        let facet_keys = self.facet_keys();
        let mut articles: Vec<&String> = self.products.keys().collect();
        // Document order follows the article number, so builds of the same
        // data give the same doc ids and the same tie order in results.
        articles.sort_unstable();
        for article_no in articles {
            let doc = self.document(&fields, article_no, &self.products[article_no], &facet_keys);
            writer.add_document(doc).map_err(write_err)?;
        }
        writer.commit().map_err(write_err)?;
        let segments = index.searchable_segment_ids().map_err(write_err)?;
        if segments.len() > 1 {
            // One segment: smaller, faster to open and to search; the index
            // is never written again.
            writer.merge(&segments).wait().map_err(write_err)?;
        }
        writer.wait_merging_threads().map_err(write_err)?;
        remove_lock_files(dir)?;
        let mut attribute_keys: Vec<String> = self
            .fact_keys
            .iter()
            .flat_map(|k| std::iter::once(k.name.clone()).chain(k.with_unit.clone()))
            .collect();
        attribute_keys.sort_unstable();
        attribute_keys.dedup();
        let mut facet_attributes: Vec<String> = facet_keys.into_iter().collect();
        facet_attributes.sort_unstable();
        let metadata = IndexMetadata {
            format: FORMAT,
            built_from: built_from.clone(),
            built_at: now_rfc3339(),
            documents: self.products.len() as u64,
            attribute_rows: self.attribute_rows,
            attribute_keys: attribute_keys.clone(),
            facet_attributes,
        };
        metadata.write(dir)?;
        Ok(BuildReport {
            documents: self.products.len() as u64,
            attribute_rows: self.attribute_rows,
            orphan_attribute_rows: self.orphan_attribute_rows,
            attribute_keys: attribute_keys.len(),
            built_from,
            read_time: Duration::ZERO,
            index_time: Duration::ZERO,
            size_bytes: 0,
        })
    }

    /// The key a fact is counted under in attribute facets: numbers under
    /// the unit-qualified key (`leistung_w`), the rest under the name.
    fn facet_key(&self, fact: &Fact) -> &str {
        let key = &self.fact_keys[fact.key as usize];
        match fact.value {
            FactValue::Number(_) => key.with_unit.as_deref().unwrap_or(&key.name),
            FactValue::Bool(_) | FactValue::Text { .. } => &key.name,
        }
    }

    /// A fact's value as a facet value: `32`, `true`/`false`, short texts
    /// as delivered.
    fn facet_value(product: &ProductDoc, fact: &Fact) -> String {
        match fact.value {
            FactValue::Number(n) => n.to_string(),
            FactValue::Bool(b) => b.to_string(),
            FactValue::Text { start, len } => {
                let start = start as usize;
                product.attribute_text[start..start + len as usize].to_owned()
            }
        }
    }

    /// Attribute keys worth a facet: held by at least two products, with
    /// at most [`MAX_FACET_VALUES`] distinct values (an IP rating, a
    /// wattage, a colour; not a weight to the gram or an EAN).
    fn facet_keys(&self) -> HashSet<String> {
        let mut values: HashMap<&str, (HashSet<String>, u64)> = HashMap::new();
        let mut too_many: HashSet<&str> = HashSet::new();
        for product in self.products.values() {
            let mut seen: HashSet<&str> = HashSet::new();
            for fact in &product.facts {
                let key = self.facet_key(fact);
                if too_many.contains(key) {
                    continue;
                }
                let value = Self::facet_value(product, fact);
                if !facetable(&value) {
                    continue;
                }
                let entry = values.entry(key).or_default();
                if seen.insert(key) {
                    entry.1 += 1;
                }
                entry.0.insert(value);
                if entry.0.len() > MAX_FACET_VALUES {
                    values.remove(key);
                    too_many.insert(key);
                }
            }
        }
        values
            .into_iter()
            .filter(|(_, (_, products))| *products >= 2)
            .map(|(key, _)| key.to_owned())
            .collect()
    }

    fn document(
        &self,
        fields: &Fields,
        article_no: &str,
        product: &ProductDoc,
        facet_keys: &HashSet<String>,
    ) -> TantivyDocument {
        let mut doc = TantivyDocument::new();
        doc.add_text(fields.article_no, article_no);
        doc.add_text(fields.article_key, normalize_code(article_no));
        let text = |i: usize| product.texts[i].as_deref();
        if let Some(gtin) = text(GTIN) {
            doc.add_text(fields.gtin, gtin);
        }
        if let Some(number) = text(MANUFACTURER_NO) {
            doc.add_text(fields.manufacturer_key, normalize_code(number));
        }
        for (index, field) in [
            (NAME_DE, fields.name_de),
            (NAME_EN, fields.name_en),
            (DESCRIPTION_DE, fields.description_de),
            (DESCRIPTION_EN, fields.description_en),
            (FAMILY, fields.family),
            (SERIES, fields.series),
            (BRAND, fields.brand),
            (ETIM_CLASS, fields.etim_class),
        ] {
            if let Some(value) = text(index) {
                doc.add_text(field, value);
            }
        }
        let mut name_keys: Vec<String> = [NAME_DE, NAME_EN]
            .into_iter()
            .filter_map(|index| text(index).and_then(normalize_name))
            .collect();
        name_keys.dedup();
        for key in name_keys {
            doc.add_text(fields.name_key, key);
        }
        for index in [NAME_DE, NAME_EN, FAMILY, SERIES] {
            if let Some(value) = text(index) {
                doc.add_text(fields.ngram, value);
            }
        }
        for (index, facet) in [
            (FAMILY, "family"),
            (BRAND, "brand"),
            (SERIES, "series"),
            (ETIM_CLASS, "etim_class"),
        ] {
            if let Some(value) = text(index) {
                doc.add_facet(fields.facets, Facet::from_path([facet, value]));
            }
        }
        if !product.attribute_text.is_empty() {
            // The same value often comes from several files; repeating it
            // would only inflate its term frequency.
            let mut lines: Vec<&str> = product.attribute_text.lines().collect();
            lines.sort_unstable();
            lines.dedup();
            doc.add_text(fields.attributes, lines.join("\n"));
        }
        let mut faceted: Vec<(&str, String)> = product
            .facts
            .iter()
            .map(|fact| (self.facet_key(fact), fact))
            .filter(|(key, _)| facet_keys.contains(*key))
            .map(|(key, fact)| (key, Self::facet_value(product, fact)))
            .filter(|(_, value)| facetable(value))
            .collect();
        faceted.sort_unstable();
        faceted.dedup();
        for (key, value) in &faceted {
            doc.add_facet(
                fields.facets,
                Facet::from_path([ATTRIBUTE_FACET, key, value.as_str()]),
            );
        }
        let attrs = self.facts(product);
        if !attrs.is_empty() {
            doc.add_object(fields.attrs, attrs);
        }
        doc
    }

    /// The JSON object of a product's facts: numbers under the attribute
    /// key and the unit-qualified key, booleans and short texts under the
    /// attribute key; several values of one key become an array.
    fn facts(&self, product: &ProductDoc) -> BTreeMap<String, OwnedValue> {
        let mut values: BTreeMap<String, Vec<OwnedValue>> = BTreeMap::new();
        let mut push = |key: &str, value: OwnedValue| match values.get_mut(key) {
            Some(slot) if !slot.contains(&value) => slot.push(value),
            Some(_) => {}
            None => {
                values.insert(key.to_owned(), vec![value]);
            }
        };
        for (name, price) in &product.prices {
            push(name, OwnedValue::F64(*price));
        }
        for fact in &product.facts {
            let key = &self.fact_keys[fact.key as usize];
            match fact.value {
                FactValue::Number(n) => {
                    push(&key.name, OwnedValue::F64(n));
                    if let Some(with_unit) = &key.with_unit {
                        push(with_unit, OwnedValue::F64(n));
                    }
                }
                FactValue::Bool(b) => push(&key.name, OwnedValue::Bool(b)),
                FactValue::Text { start, len } => {
                    let start = start as usize;
                    let text = &product.attribute_text[start..start + len as usize];
                    push(&key.name, OwnedValue::Str(text.to_owned()));
                }
            }
        }
        values
            .into_iter()
            .map(|(key, mut list)| {
                let value = if list.len() == 1 {
                    list.pop().expect("one value")
                } else {
                    OwnedValue::Array(list)
                };
                (key, value)
            })
            .collect()
    }
}

/// Deletes the lock files the writer leaves (the memory-mapped directory
/// locks with `flock` and keeps the files): the finished index is never
/// written again, and a reader must find nothing to lock.
fn remove_lock_files(dir: &Path) -> Result<(), IndexError> {
    for name in [".tantivy-writer.lock", ".tantivy-meta.lock"] {
        match std::fs::remove_file(dir.join(name)) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(IndexError::Prepare {
                    path: dir.to_path_buf(),
                    source,
                });
            }
        }
    }
    Ok(())
}

/// Refuses to replace a directory that is neither absent, empty nor a
/// cradle index: a wrong `--index` path must not delete someone's files.
fn check_replaceable(index_dir: &Path) -> Result<(), IndexError> {
    let prepare = |source| IndexError::Prepare {
        path: index_dir.to_path_buf(),
        source,
    };
    match std::fs::read_dir(index_dir) {
        Ok(mut entries) => {
            let empty = entries.next().is_none();
            if empty || index_dir.join(METADATA_FILE).is_file() {
                Ok(())
            } else {
                Err(IndexError::ForeignDirectory {
                    path: index_dir.to_path_buf(),
                })
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(prepare(source)),
    }
}

fn swap_into_place(staging: &Path, index_dir: &Path) -> Result<(), IndexError> {
    cradle_fs::replace_dir(staging, index_dir).map_err(|source| IndexError::Prepare {
        path: index_dir.to_path_buf(),
        source,
    })
}
