//! Joining every file on the article number: one entity per product, the
//! canonical values chosen deterministically, conflicts found and counted.
//!
//! Results never depend on the order files are processed in: a canonical
//! value is taken from the source that ranks first (file path, then row),
//! and the content hash is a sum, which does not care about order.

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use cradle_core::fields::{CanonicalField, FieldKind};
use serde::Serialize;

/// The hasher of the per-product maps: fast, and seeded per process so a
/// hostile delivery cannot aim at collisions.
pub type FastHash = foldhash::fast::RandomState;
use std::sync::Arc;

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
    /// The table of the file being read that touched this product last
    /// (see [`crate::table::FileProducts`]); not kept in runs.
    pub(crate) table: u32,
}

impl ProductState {
    /// A product first seen in table `table` of the file being read.
    pub(crate) fn in_table(table: u32) -> ProductState {
        ProductState {
            table,
            ..ProductState::default()
        }
    }

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

    /// Folds in the state of the same product from another file or run.
    pub(crate) fn merge(&mut self, other: ProductState) {
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

pub type ProductMap = hashbrown::HashMap<String, ProductState, FastHash>;

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

impl ProductState {
    /// Bytes [`ProductState::encode`] appends for this state under `key`.
    pub(crate) fn encoded_len(&self, key: &str) -> usize {
        let canonical = |value: &CanonicalValue| {
            1 + 4
                + 4
                + 8
                + 1
                + match value {
                    CanonicalValue::Text(text) => 4 + text.len(),
                    CanonicalValue::Number(_) => 8,
                }
        };
        let kept = self.canonical.iter().map(|(_, _, v)| v);
        let conflicting = self.canonical_conflicts.iter().map(|(_, v, _)| v);
        // Entry length, key, three counters, the counts of canonical
        // values (1 byte) and conflicts, both lists, then the value hashes.
        4 + 4
            + key.len()
            + 3 * 8
            + 1
            + 4
            + kept.chain(conflicting).map(canonical).sum::<usize>()
            + 4
            + self.values.len() * 8
    }

    /// Appends `key` and this state to a run, length-prefixed.
    pub(crate) fn encode(&self, key: &str, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0; 4]);
        put_str(out, key);
        out.extend_from_slice(&self.records.to_le_bytes());
        out.extend_from_slice(&self.attributes.to_le_bytes());
        out.extend_from_slice(&self.content_hash.to_le_bytes());
        out.push(self.canonical.len() as u8);
        for (field, rank, value) in &self.canonical {
            put_canonical(out, *field, value, *rank);
        }
        out.extend_from_slice(&(self.canonical_conflicts.len() as u32).to_le_bytes());
        for (field, value, rank) in &self.canonical_conflicts {
            put_canonical(out, *field, value, *rank);
        }
        out.extend_from_slice(&(self.values.len() as u32).to_le_bytes());
        for value in &self.values {
            out.extend_from_slice(&value.to_le_bytes());
        }
        let length = (out.len() - start - 4) as u32;
        out[start..start + 4].copy_from_slice(&length.to_le_bytes());
    }

    /// Reads back what [`ProductState::encode`] wrote (without the length).
    pub(crate) fn decode(bytes: &[u8]) -> Option<(String, ProductState)> {
        let mut input = Decoder { bytes, at: 0 };
        let key = input.str()?.to_owned();
        let mut state = ProductState {
            records: input.u64()?,
            attributes: input.u64()?,
            content_hash: input.u64()?,
            ..ProductState::default()
        };
        let canonical = input.u8()?;
        state.canonical.reserve_exact(usize::from(canonical));
        for _ in 0..canonical {
            let (field, value, rank) = input.canonical()?;
            state.canonical.push((field, rank, value));
        }
        let conflicts = input.u32()?;
        for _ in 0..conflicts {
            state.canonical_conflicts.push(input.canonical()?);
        }
        let values = input.u32()? as usize;
        state.values.reserve_exact(values);
        for _ in 0..values {
            state.values.push(input.u64()?);
        }
        (input.at == bytes.len()).then_some((key, state))
    }
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

fn put_canonical(out: &mut Vec<u8>, field: CanonicalField, value: &CanonicalValue, rank: Rank) {
    let index = CanonicalField::ALL
        .iter()
        .position(|f| *f == field)
        .expect("every field is in ALL");
    out.push(index as u8);
    out.extend_from_slice(&rank.file.to_le_bytes());
    out.extend_from_slice(&rank.sheet.to_le_bytes());
    out.extend_from_slice(&rank.row.to_le_bytes());
    match value {
        CanonicalValue::Text(text) => {
            out.push(0);
            put_str(out, text);
        }
        CanonicalValue::Number(n) => {
            out.push(1);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// Reads the little-endian encoding of a run entry; `None` on anything
/// that does not fit, which the caller reports as a damaged run.
struct Decoder<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Decoder<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)?.try_into().ok().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8)?.try_into().ok().map(u64::from_le_bytes)
    }

    fn str(&mut self) -> Option<&'a str> {
        let length = self.u32()? as usize;
        std::str::from_utf8(self.take(length)?).ok()
    }

    fn canonical(&mut self) -> Option<(CanonicalField, CanonicalValue, Rank)> {
        let field = *CanonicalField::ALL.get(usize::from(self.u8()?))?;
        let rank = Rank {
            file: self.u32()?,
            sheet: self.u32()?,
            row: self.u64()?,
        };
        let value = match self.u8()? {
            0 => CanonicalValue::Text(self.str()?.to_owned()),
            1 => CanonicalValue::Number(f64::from_bits(self.u64()?)),
            _ => return None,
        };
        Some((field, value, rank))
    }
}

/// Builds `products` batches one product at a time, in the order given.
pub(crate) struct ProductBatch {
    article: StringBuilder,
    texts: Vec<StringBuilder>,
    numbers: Vec<Float64Builder>,
    records: Int64Builder,
    attributes: Int64Builder,
    conflicts: Int64Builder,
    content: StringBuilder,
    rows: usize,
}

impl ProductBatch {
    pub(crate) fn new() -> ProductBatch {
        ProductBatch {
            article: StringBuilder::new(),
            texts: (1..FIELDS).map(|_| StringBuilder::new()).collect(),
            numbers: (1..FIELDS).map(|_| Float64Builder::new()).collect(),
            records: Int64Builder::new(),
            attributes: Int64Builder::new(),
            conflicts: Int64Builder::new(),
            content: StringBuilder::new(),
            rows: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.rows
    }

    /// Adds one whole product (all its runs merged) and returns its content
    /// hash; conflicts are counted into `summary`.
    pub(crate) fn push(
        &mut self,
        key: &str,
        state: &mut ProductState,
        summary: &mut ConflictSummary,
    ) -> u64 {
        self.rows += 1;
        self.article.append_value(key);
        for (index, field) in CanonicalField::ALL.iter().enumerate().skip(1) {
            let value = state.value_of(*field);
            match field.kind() {
                FieldKind::Text => {
                    self.texts[index - 1].append_option(value.map(CanonicalValue::display))
                }
                FieldKind::Number => {
                    self.numbers[index - 1].append_option(value.and_then(|v| match v {
                        CanonicalValue::Number(n) => Some(*n),
                        CanonicalValue::Text(_) => None,
                    }))
                }
            }
        }
        // Canonical fields from one-row-per-product tables are tracked as
        // attributes too, so this counts each disagreement once.
        let conflicting = state.conflicting_attributes();
        if conflicting > 0 {
            summary.products += 1;
            summary.attributes += conflicting;
            // Which of several losing values is listed must not depend on
            // the order the runs were merged in.
            state
                .canonical_conflicts
                .sort_by_key(|(field, _, rank)| (*field, *rank));
            for (field, other, _) in &state.canonical_conflicts {
                if summary.examples.len() < EXAMPLES {
                    summary.examples.push(ConflictExample {
                        article_no: key.to_owned(),
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
        self.records.append_value(state.records as i64);
        self.attributes.append_value(state.attributes as i64);
        self.conflicts.append_value(conflicting as i64);
        self.content
            .append_value(format!("{:016x}", state.content_hash));
        state.content_hash
    }

    pub(crate) fn finish(&mut self) -> RecordBatch {
        self.rows = 0;
        let mut columns: Vec<ArrayRef> = vec![Arc::new(self.article.finish())];
        for (index, field) in CanonicalField::ALL.iter().enumerate().skip(1) {
            match field.kind() {
                FieldKind::Text => columns.push(Arc::new(self.texts[index - 1].finish())),
                FieldKind::Number => columns.push(Arc::new(self.numbers[index - 1].finish())),
            }
        }
        columns.push(Arc::new(self.records.finish()));
        columns.push(Arc::new(self.attributes.finish()));
        columns.push(Arc::new(self.conflicts.finish()));
        columns.push(Arc::new(self.content.finish()));
        RecordBatch::try_new(cradle_lakehouse::schema::products::schema(), columns)
            .expect("product columns match")
    }
}

/// Conflict examples kept for the report.
pub(crate) const EXAMPLES: usize = 20;

impl ConflictSummary {
    /// Adds the summary of a later range of article numbers.
    pub(crate) fn extend(&mut self, later: ConflictSummary) {
        self.products += later.products;
        self.attributes += later.attributes;
        let room = EXAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(later.examples.into_iter().take(room));
    }
}
