//! A table as rows of cells, whatever it was read from: the one shape the
//! header detection and the record loop work on.

use crate::value::{excel_serial_to_days, format_days};
use std::borrow::Cow;

/// One cell as the source holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Empty,
    Text(&'a str),
    Number(f64),
    Int(i64),
    Bool(bool),
    /// An Excel date or date-time serial.
    Date(f64),
    /// An error value such as `#DIV/0!`.
    Error(Cow<'a, str>),
}

impl Cell<'_> {
    /// The cell as text, the way a person reading the source would see it.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Cell::Empty => Cow::Borrowed(""),
            Cell::Text(text) => Cow::Borrowed(text),
            Cell::Number(n) => Cow::Owned(format_number(*n)),
            Cell::Int(n) => Cow::Owned(n.to_string()),
            Cell::Bool(true) => Cow::Borrowed("TRUE"),
            Cell::Bool(false) => Cow::Borrowed("FALSE"),
            Cell::Date(serial) => {
                let days = excel_serial_to_days(*serial);
                let fraction = serial - serial.floor();
                if fraction.abs() < 1e-9 {
                    Cow::Owned(format_days(days))
                } else {
                    let seconds = (fraction * 86_400.0).round() as u32;
                    Cow::Owned(format!(
                        "{}T{:02}:{:02}:{:02}",
                        format_days(days),
                        seconds / 3600,
                        seconds / 60 % 60,
                        seconds % 60
                    ))
                }
            }
            Cell::Error(text) => Cow::Borrowed(text),
        }
    }

    /// Non-empty by the accounting rule: trimmed text is not empty.
    pub fn is_filled(&self) -> bool {
        match self {
            Cell::Empty => false,
            // Asked several times per cell: decide on the first byte when it
            // is plain ASCII, trim only otherwise.
            Cell::Text(text) => {
                text.as_bytes()
                    .first()
                    .is_some_and(|&b| b > b' ' && b < 0x7F)
                    || !text.trim().is_empty()
            }
            Cell::Error(text) => !text.trim().is_empty(),
            _ => true,
        }
    }

    pub fn is_text(&self) -> bool {
        matches!(self, Cell::Text(_))
    }

    /// Bytes this cell takes as text, without formatting it.
    pub fn text_len(&self) -> usize {
        match self {
            Cell::Text(text) => text.len(),
            Cell::Error(text) => text.len(),
            _ => 24,
        }
    }
}

/// Whole numbers without `.0`, others in the shortest form that reads back.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Where a row is, in the words a person would use to find it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// A line of a text file (1-based, where the record starts).
    Line,
    /// A spreadsheet row number (1-based).
    SheetRow,
}

/// Rows of cells.
pub trait Grid: Sync {
    /// One past the last row.
    fn height(&self) -> usize;
    /// The first row this grid holds; a block of a longer sheet starts
    /// later than 0 (see [`crate::xlsx::XlsxBlocks`]).
    fn first_row(&self) -> usize {
        0
    }
    fn width(&self, row: usize) -> usize;
    fn cell(&self, row: usize, column: usize) -> Cell<'_>;
    /// The 1-based line or row number a person would look for.
    fn location(&self, row: usize) -> u64;
    fn row_kind(&self) -> RowKind;
}

/// Delimited text: a block of records, their fields in one buffer (see
/// [`TextBlocks`]).
pub struct TextGrid {
    /// The index of the first record in the whole text.
    first: usize,
    /// Every field of the block, back to back.
    data: String,
    /// End of each field in `data`.
    ends: Vec<usize>,
    /// For each record, the range of `ends` it owns.
    records: Vec<(usize, usize)>,
    /// The line each record starts on.
    lines: Vec<u64>,
}

impl TextGrid {
    /// The whole text as one block.
    pub fn parse(text: &str, delimiter: u8) -> Result<TextGrid, csv::Error> {
        let mut blocks = TextBlocks::new(text, delimiter);
        Ok(blocks.next(0, usize::MAX)?.unwrap_or_else(TextGrid::empty))
    }

    pub fn empty() -> TextGrid {
        TextGrid {
            first: 0,
            data: String::new(),
            ends: Vec::new(),
            records: Vec::new(),
            lines: Vec::new(),
        }
    }

    fn record(&self, row: usize) -> (usize, usize) {
        self.records[row - self.first]
    }
}

/// Splits delimited text into records a block at a time, so the records
/// of a large file are never all held at once.
pub struct TextBlocks<'t> {
    text: &'t str,
    reader: csv::Reader<&'t [u8]>,
    record: csv::StringRecord,
    records_read: usize,
    /// Lines are counted from byte offsets: the reader skips blank lines
    /// without counting them.
    counted_to: usize,
    line: u64,
}

impl<'t> TextBlocks<'t> {
    pub fn new(text: &'t str, delimiter: u8) -> TextBlocks<'t> {
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .double_quote(true)
            .from_reader(text.as_bytes());
        TextBlocks {
            text,
            reader,
            record: csv::StringRecord::new(),
            records_read: 0,
            counted_to: 0,
            line: 1,
        }
    }

    /// The next block: at least `min_rows` records from the start of the
    /// text, and whole records until about `cells` fields are held.
    /// `None` at the end of the text.
    pub fn next(&mut self, min_rows: usize, cells: usize) -> Result<Option<TextGrid>, csv::Error> {
        let mut block = TextGrid {
            first: self.records_read,
            ..TextGrid::empty()
        };
        let bytes = self.text.as_bytes();
        while (self.records_read < min_rows || block.ends.len() < cells)
            && self.reader.read_record(&mut self.record)?
        {
            let mut offset = self
                .record
                .position()
                .map_or(self.counted_to, |p| p.byte() as usize)
                .min(bytes.len());
            // The position may point at the blank lines skipped before the record.
            while offset < bytes.len() && matches!(bytes[offset], b'\n' | b'\r') {
                offset += 1;
            }
            if offset > self.counted_to {
                self.line += bytes[self.counted_to..offset]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count() as u64;
                self.counted_to = offset;
            }
            let start = block.ends.len();
            for field in &self.record {
                block.data.push_str(field);
                block.ends.push(block.data.len());
            }
            block.records.push((start, block.ends.len()));
            block.lines.push(self.line);
            self.records_read += 1;
        }
        Ok((!block.records.is_empty()).then_some(block))
    }
}

impl Grid for TextGrid {
    fn height(&self) -> usize {
        self.first + self.records.len()
    }

    fn first_row(&self) -> usize {
        self.first
    }

    fn width(&self, row: usize) -> usize {
        let (start, end) = self.record(row);
        end - start
    }

    fn cell(&self, row: usize, column: usize) -> Cell<'_> {
        let (start, end) = self.record(row);
        let field = start + column;
        if field >= end {
            return Cell::Empty;
        }
        let from = field
            .checked_sub(1)
            .map_or(0, |previous| self.ends[previous]);
        match &self.data[from..self.ends[field]] {
            "" => Cell::Empty,
            text => Cell::Text(text),
        }
    }

    fn location(&self, row: usize) -> u64 {
        self.lines[row - self.first]
    }

    fn row_kind(&self) -> RowKind {
        RowKind::Line
    }
}

/// One worksheet as calamine reads it.
pub struct SheetGrid {
    range: calamine::Range<calamine::Data>,
    /// Absolute index of the range's first row and column: a sheet whose
    /// first rows are empty starts further down.
    first_row: u32,
    first_column: u32,
}

impl SheetGrid {
    pub fn new(range: calamine::Range<calamine::Data>) -> SheetGrid {
        let (first_row, first_column) = range.start().unwrap_or((0, 0));
        SheetGrid {
            range,
            first_row,
            first_column,
        }
    }
}

impl Grid for SheetGrid {
    fn height(&self) -> usize {
        if self.range.is_empty() {
            0
        } else {
            self.range.height() + self.first_row as usize
        }
    }

    fn width(&self, _row: usize) -> usize {
        if self.range.is_empty() {
            0
        } else {
            self.range.width() + self.first_column as usize
        }
    }

    fn cell(&self, row: usize, column: usize) -> Cell<'_> {
        use calamine::Data;
        let (Some(r), Some(c)) = (
            row.checked_sub(self.first_row as usize),
            column.checked_sub(self.first_column as usize),
        ) else {
            return Cell::Empty;
        };
        match self.range.get((r, c)) {
            None | Some(Data::Empty) => Cell::Empty,
            Some(Data::String(text)) => Cell::Text(text),
            Some(Data::Float(n)) => Cell::Number(*n),
            Some(Data::Int(n)) => Cell::Int(*n),
            Some(Data::Bool(b)) => Cell::Bool(*b),
            Some(Data::DateTime(dt)) => {
                if dt.is_duration() {
                    Cell::Number(dt.as_f64())
                } else {
                    Cell::Date(dt.as_f64())
                }
            }
            Some(Data::DateTimeIso(text)) | Some(Data::DurationIso(text)) => Cell::Text(text),
            Some(Data::Error(error)) => Cell::Error(Cow::Owned(error.to_string())),
        }
    }

    fn location(&self, row: usize) -> u64 {
        row as u64 + 1
    }

    fn row_kind(&self) -> RowKind {
        RowKind::SheetRow
    }
}

/// Column letters as a spreadsheet shows them: 0 is `A`, 27 is `AB`.
pub fn column_letter(mut column: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn cells_as_text() {
        assert_eq!(Cell::Number(12.5).text(), "12.5");
        assert_eq!(Cell::Number(10023.0).text(), "10023");
        assert_eq!(Cell::Date(46_082.0).text(), "2026-03-01");
        assert_eq!(Cell::Date(46_082.5).text(), "2026-03-01T12:00:00");
        assert!(!Cell::Text("  ").is_filled());
    }

    #[test]
    fn text_blocks_hold_whole_records_and_keep_lines() {
        let text = "h1;h2\n\na;\"x\ny\"\nb;2;extra\n\n\nc\n;d\n";
        let whole = TextGrid::parse(text, b';').unwrap();
        let rows = |grid: &TextGrid| -> Vec<(u64, Vec<String>)> {
            (grid.first_row()..grid.height())
                .map(|row| {
                    let cells = (0..grid.width(row))
                        .map(|column| grid.cell(row, column).text().into_owned())
                        .collect();
                    (grid.location(row), cells)
                })
                .collect()
        };
        let expected = rows(&whole);
        assert_eq!(expected.len(), 5);
        assert_eq!(expected[1].0, 3, "after a blank line");
        assert_eq!(expected[2].0, 5, "after a quoted newline");
        assert_eq!(expected[3].0, 8, "after two blank lines");
        assert_eq!(expected[4].1, ["", "d"]);
        // Two records at least, then one field per block: every record whole.
        let mut blocks = TextBlocks::new(text, b';');
        let first = blocks.next(2, 1).unwrap().unwrap();
        assert_eq!((first.first_row(), first.height()), (0, 2));
        let mut seen = rows(&first);
        while let Some(block) = blocks.next(0, 1).unwrap() {
            assert_eq!(block.height() - block.first_row(), 1);
            seen.extend(rows(&block));
        }
        assert_eq!(seen, expected);
    }

    #[test]
    fn text_records_keep_lines() {
        let grid = TextGrid::parse("a;b\n\"x\ny\";2\n3;4\n", b';').unwrap();
        assert_eq!(grid.height(), 3);
        assert_eq!(grid.cell(1, 0), Cell::Text("x\ny"));
        assert_eq!(grid.location(2), 4);
    }
}
