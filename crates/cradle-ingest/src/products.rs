//! Joining every file on the article number: one entity per product, the
//! canonical values chosen deterministically, conflicts found and counted.
//!
//! Results never depend on the order files are processed in: a canonical
//! value is taken from the source that ranks first (file path, then row),
//! and the content hash is a sum, which does not care about order.

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use cradle_core::fields::{CanonicalField, FieldKind};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The hasher of the per-product maps: fast, and seeded per process so a
/// hostile delivery cannot aim at collisions.
pub type FastHash = foldhash::fast::RandomState;
use std::sync::{Arc, LazyLock};

const FIELDS: usize = CanonicalField::ALL.len();

/// Where a value came from, for ranking: earlier files and rows win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank {
    pub file: u32,
    pub sheet: u32,
    pub row: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CanonicalValue {
    Text(String),
    Number(f64),
}

impl CanonicalValue {
    fn same(&self, other: &CanonicalValue) -> bool {
        match (self, other) {
            (CanonicalValue::Number(a), CanonicalValue::Number(b)) => {
                (a - b).abs() <= 1e-9 * a.abs().max(1.0)
            }
            (CanonicalValue::Text(a), CanonicalValue::Text(b)) => a == b,
            _ => false,
        }
    }

    fn display(&self) -> String {
        match self {
            CanonicalValue::Text(text) => text.clone(),
            CanonicalValue::Number(n) => crate::grid::format_number(*n),
        }
    }
}

/// What is known of one product so far.
#[derive(Debug, Default)]
pub struct ProductState {
    /// Only the fields seen so far: a product has a handful per file, and a
    /// million products are held at once at scale 10.
    canonical: Vec<(CanonicalField, Rank, CanonicalValue)>,
    /// `(attribute hash << 32) | value hash` of values from one-row-per-
    /// product tables, to find conflicts at the end.
    values: Vec<u64>,
    content_hash: u64,
    attributes: u64,
    records: u64,
    canonical_conflicts: Vec<(CanonicalField, CanonicalValue, Rank)>,
}

impl ProductState {
    pub fn record(&mut self) {
        self.records += 1;
    }

    /// Counts one attribute value, given as hashes of the attribute name
    /// and of the normalised value.
    pub fn attribute(&mut self, attribute_hash: u64, value_hash: u64, track_conflicts: bool) {
        self.attributes += 1;
        self.content_hash = self
            .content_hash
            .wrapping_add(attribute_hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ value_hash);
        if track_conflicts {
            self.values
                .push((attribute_hash << 32) | (value_hash & 0xFFFF_FFFF));
        }
    }

    pub fn canonical(&mut self, field: CanonicalField, value: CanonicalValue, rank: Rank) {
        let Some(slot) = self.canonical.iter_mut().find(|(f, _, _)| *f == field) else {
            self.canonical.push((field, rank, value));
            return;
        };
        let (_, held_rank, held) = slot;
        if held.same(&value) {
            if rank < *held_rank {
                *held_rank = rank;
            }
            return;
        }
        // Keep the first-ranked value; remember the other for the report.
        if rank < *held_rank {
            let old_rank = std::mem::replace(held_rank, rank);
            let old_value = std::mem::replace(held, value);
            self.canonical_conflicts.push((field, old_value, old_rank));
        } else {
            self.canonical_conflicts.push((field, value, rank));
        }
    }

    fn value_of(&self, field: CanonicalField) -> Option<&CanonicalValue> {
        self.canonical
            .iter()
            .find(|(f, _, _)| *f == field)
            .map(|(_, _, value)| value)
    }

    fn merge(&mut self, other: ProductState) {
        for (field, rank, value) in other.canonical {
            self.canonical(field, value, rank);
        }
        self.canonical_conflicts.extend(other.canonical_conflicts);
        self.values.extend(other.values);
        self.content_hash = self.content_hash.wrapping_add(other.content_hash);
        self.attributes += other.attributes;
        self.records += other.records;
    }

    /// Attributes with two different values from one-row-per-product tables.
    fn conflicting_attributes(&mut self) -> u64 {
        self.values.sort_unstable();
        self.values.dedup();
        let mut conflicts = 0;
        let mut index = 0;
        while index < self.values.len() {
            let attribute = self.values[index] >> 32;
            let mut end = index + 1;
            while end < self.values.len() && self.values[end] >> 32 == attribute {
                end += 1;
            }
            if end - index > 1 {
                conflicts += 1;
            }
            index = end;
        }
        conflicts
    }
}

/// FNV-1a: stable across runs and platforms, unlike the std hasher.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

pub type ProductMap = HashMap<String, ProductState, FastHash>;

/// Merges one file's products into the whole delivery's.
pub fn merge_into(all: &mut ProductMap, part: ProductMap) {
    for (key, state) in part {
        match all.get_mut(&key) {
            Some(existing) => existing.merge(state),
            None => {
                all.insert(key, state);
            }
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ConflictSummary {
    /// Products with at least one attribute that has two different values.
    pub products: u64,
    /// Attribute values that disagree (per product and attribute).
    pub attributes: u64,
    /// A few canonical-field conflicts, to show what happened.
    pub examples: Vec<ConflictExample>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConflictExample {
    pub article_no: String,
    pub field: &'static str,
    pub kept: String,
    pub other: String,
}

pub static PRODUCTS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![Field::new("article_no", DataType::Utf8, false)];
    for field in CanonicalField::ALL.iter().skip(1) {
        let data_type = match field.kind() {
            FieldKind::Number => DataType::Float64,
            FieldKind::Text => DataType::Utf8,
        };
        fields.push(Field::new(field.column(), data_type, true));
    }
    fields.push(Field::new("records", DataType::Int64, false));
    fields.push(Field::new("attributes", DataType::Int64, false));
    fields.push(Field::new("conflicts", DataType::Int64, false));
    fields.push(Field::new("content_hash", DataType::Utf8, false));
    Arc::new(Schema::new(fields))
});

/// The `products` table, sorted by article number, and the conflict summary.
pub fn finish(
    products: ProductMap,
) -> (Vec<RecordBatch>, ConflictSummary, BTreeMap<String, String>) {
    use rayon::prelude::*;
    // This runs after the last file, on one thread otherwise: sorting and
    // the per-product conflict search (a sort each) use every core.
    let mut products: Vec<(String, ProductState)> = products.into_iter().collect();
    products.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let conflicting: Vec<u64> = products
        .par_iter_mut()
        .map(|(_, state)| state.conflicting_attributes())
        .collect();
    let mut summary = ConflictSummary::default();
    let mut hashes = BTreeMap::new();
    let mut batches = Vec::new();
    for (chunk, conflicting) in products
        .chunks(crate::output::BATCH_ROWS)
        .zip(conflicting.chunks(crate::output::BATCH_ROWS))
    {
        let mut article = StringBuilder::new();
        let mut texts: Vec<StringBuilder> = (1..FIELDS).map(|_| StringBuilder::new()).collect();
        let mut numbers: Vec<Float64Builder> = (1..FIELDS).map(|_| Float64Builder::new()).collect();
        let mut records = Int64Builder::new();
        let mut attributes = Int64Builder::new();
        let mut conflicts = Int64Builder::new();
        let mut content = StringBuilder::new();
        for ((key, state), &conflicting) in chunk.iter().zip(conflicting) {
            article.append_value(key);
            for (index, field) in CanonicalField::ALL.iter().enumerate().skip(1) {
                let value = state.value_of(*field);
                match field.kind() {
                    FieldKind::Text => {
                        texts[index - 1].append_option(value.map(CanonicalValue::display))
                    }
                    FieldKind::Number => {
                        numbers[index - 1].append_option(value.and_then(|v| match v {
                            CanonicalValue::Number(n) => Some(*n),
                            CanonicalValue::Text(_) => None,
                        }))
                    }
                }
            }
            // Canonical fields from one-row-per-product tables are tracked as
            // attributes too, so this counts each disagreement once.
            if conflicting > 0 {
                summary.products += 1;
                summary.attributes += conflicting;
                for (field, other, _) in &state.canonical_conflicts {
                    if summary.examples.len() < 20 {
                        summary.examples.push(ConflictExample {
                            article_no: key.clone(),
                            field: field.column(),
                            kept: state
                                .value_of(*field)
                                .map(CanonicalValue::display)
                                .unwrap_or_default(),
                            other: other.display(),
                        });
                    }
                }
            }
            records.append_value(state.records as i64);
            attributes.append_value(state.attributes as i64);
            conflicts.append_value(conflicting as i64);
            let hash = format!("{:016x}", state.content_hash);
            content.append_value(&hash);
            hashes.insert(key.clone(), hash);
        }
        let mut columns: Vec<ArrayRef> = vec![Arc::new(article.finish())];
        for (index, field) in CanonicalField::ALL.iter().enumerate().skip(1) {
            match field.kind() {
                FieldKind::Text => columns.push(Arc::new(texts[index - 1].finish())),
                FieldKind::Number => columns.push(Arc::new(numbers[index - 1].finish())),
            }
        }
        columns.push(Arc::new(records.finish()));
        columns.push(Arc::new(attributes.finish()));
        columns.push(Arc::new(conflicts.finish()));
        columns.push(Arc::new(content.finish()));
        batches.push(
            RecordBatch::try_new(PRODUCTS_SCHEMA.clone(), columns).expect("product columns match"),
        );
    }
    (batches, summary, hashes)
}
