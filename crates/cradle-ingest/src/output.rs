//! What ingest produces, in the shapes `cradle-lakehouse` defines: the
//! long, lossless `attributes` table and the `rejects` table, built in
//! batches and handed to a [`Sink`].

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use cradle_lakehouse::schema::{attributes, rejects};
use std::sync::Arc;

/// Rows per batch handed to the sink. Small enough that a batch's buffers
/// come from the allocator's recycled pages: with 128K rows each batch took
/// fresh multi-megabyte buffers, and the kernel zeroing their pages cost
/// about a tenth of the ingest's CPU time. Row groups are sized by the
/// table writer, not by this.
pub const BATCH_ROWS: usize = 16 * 1024;

/// Where finished batches go (the lakehouse, in the binary).
pub trait Sink: Sync {
    /// Called from several reader threads at once.
    fn attributes(&self, batch: RecordBatch) -> Result<(), SinkError>;
    /// Called from several reader threads at once.
    fn rejects(&self, batch: RecordBatch) -> Result<(), SinkError>;
    /// The joined products, after the last file, in article number order,
    /// from one thread.
    fn products(&self, batch: RecordBatch) -> Result<(), SinkError>;
}

pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// One attribute value with its provenance.
#[derive(Debug, Clone, Copy)]
pub struct AttributeValue<'a> {
    pub article_no: &'a str,
    pub attribute: &'a str,
    pub header: &'a str,
    pub field: Option<&'a str>,
    pub original: &'a str,
    pub number: Option<f64>,
    pub boolean: Option<bool>,
    pub date: Option<i32>,
    pub unit: Option<&'a str>,
    pub no_value: bool,
    pub file: &'a str,
    pub sheet: Option<&'a str>,
    pub row: u64,
    pub column: &'a str,
}

pub struct AttributeBatch {
    article_no: StringBuilder,
    attribute: StringBuilder,
    header: StringBuilder,
    field: StringBuilder,
    original: StringBuilder,
    number: Float64Builder,
    boolean: BooleanBuilder,
    date: Date32Builder,
    unit: StringBuilder,
    no_value: BooleanBuilder,
    file: StringBuilder,
    sheet: StringBuilder,
    row: Int64Builder,
    column: StringBuilder,
    len: usize,
}

impl Default for AttributeBatch {
    fn default() -> Self {
        AttributeBatch::with_text_bytes(&[BATCH_ROWS * 12; TEXT_COLUMNS])
    }
}

/// The string columns of [`AttributeBatch`], in the order of
/// [`AttributeBatch::text_bytes`].
const TEXT_COLUMNS: usize = 9;

impl AttributeBatch {
    /// Empty builders sized for a full batch whose string columns hold
    /// `bytes` (per column): a batch that has to grow copies its buffers
    /// and touches fresh pages several times over.
    fn with_text_bytes(bytes: &[usize; TEXT_COLUMNS]) -> AttributeBatch {
        let text = |i: usize| StringBuilder::with_capacity(BATCH_ROWS, bytes[i]);
        AttributeBatch {
            article_no: text(0),
            attribute: text(1),
            header: text(2),
            field: text(3),
            original: text(4),
            number: Float64Builder::with_capacity(BATCH_ROWS),
            boolean: BooleanBuilder::with_capacity(BATCH_ROWS),
            date: Date32Builder::with_capacity(BATCH_ROWS),
            unit: text(5),
            no_value: BooleanBuilder::with_capacity(BATCH_ROWS),
            file: text(6),
            sheet: text(7),
            row: Int64Builder::with_capacity(BATCH_ROWS),
            column: text(8),
            len: 0,
        }
    }

    /// Bytes held by each string column so far, scaled to a full batch.
    fn text_bytes(&self) -> [usize; TEXT_COLUMNS] {
        let scale = |builder: &StringBuilder| {
            let held = builder.values_slice().len();
            (held * BATCH_ROWS / self.len.max(1)).max(BATCH_ROWS * 4) + 1024
        };
        [
            scale(&self.article_no),
            scale(&self.attribute),
            scale(&self.header),
            scale(&self.field),
            scale(&self.original),
            scale(&self.unit),
            scale(&self.file),
            scale(&self.sheet),
            scale(&self.column),
        ]
    }

    pub fn push(&mut self, value: &AttributeValue<'_>) {
        self.article_no.append_value(value.article_no);
        self.attribute.append_value(value.attribute);
        self.header.append_value(value.header);
        self.field.append_option(value.field);
        self.original.append_value(value.original);
        self.number.append_option(value.number);
        self.boolean.append_option(value.boolean);
        self.date.append_option(value.date);
        self.unit.append_option(value.unit);
        self.no_value.append_value(value.no_value);
        self.file.append_value(value.file);
        self.sheet.append_option(value.sheet);
        self.row.append_value(value.row as i64);
        self.column.append_value(value.column);
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The rows pushed so far as a batch; the builders start again sized
    /// for what this batch held.
    pub fn finish(&mut self) -> RecordBatch {
        let next = AttributeBatch::with_text_bytes(&self.text_bytes());
        let mut full = std::mem::replace(self, next);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(full.article_no.finish()),
            Arc::new(full.attribute.finish()),
            Arc::new(full.header.finish()),
            Arc::new(full.field.finish()),
            Arc::new(full.original.finish()),
            Arc::new(full.number.finish()),
            Arc::new(full.boolean.finish()),
            Arc::new(full.date.finish()),
            Arc::new(full.unit.finish()),
            Arc::new(full.no_value.finish()),
            Arc::new(full.file.finish()),
            Arc::new(full.sheet.finish()),
            Arc::new(full.row.finish()),
            Arc::new(full.column.finish()),
        ];
        RecordBatch::try_new(attributes::schema(), columns)
            .expect("attribute columns match their schema")
    }
}

/// One rejected record (or a whole file that could not be read).
#[derive(Debug, Clone, Copy)]
pub struct RejectedRecord<'a> {
    pub file: &'a str,
    pub sheet: Option<&'a str>,
    pub row: Option<u64>,
    pub reason: &'a str,
    pub detail: &'a str,
    pub cells: u64,
    /// The record's cells as a JSON array of strings.
    pub content: &'a str,
}

#[derive(Default)]
pub struct RejectBatch {
    file: StringBuilder,
    sheet: StringBuilder,
    row: Int64Builder,
    reason: StringBuilder,
    detail: StringBuilder,
    cells: Int64Builder,
    content: StringBuilder,
    len: usize,
}

impl RejectBatch {
    pub fn push(&mut self, record: &RejectedRecord<'_>) {
        self.file.append_value(record.file);
        self.sheet.append_option(record.sheet);
        self.row.append_option(record.row.map(|r| r as i64));
        self.reason.append_value(record.reason);
        self.detail.append_value(record.detail);
        self.cells.append_value(record.cells as i64);
        self.content.append_value(record.content);
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn finish(&mut self) -> RecordBatch {
        self.len = 0;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.file.finish()),
            Arc::new(self.sheet.finish()),
            Arc::new(self.row.finish()),
            Arc::new(self.reason.finish()),
            Arc::new(self.detail.finish()),
            Arc::new(self.cells.finish()),
            Arc::new(self.content.finish()),
        ];
        RecordBatch::try_new(rejects::schema(), columns).expect("reject columns match their schema")
    }
}
