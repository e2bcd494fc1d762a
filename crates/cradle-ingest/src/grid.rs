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

/// Fields of a record that are held as cells. Excel stops at 16,384
/// columns; a delimited record with more is a broken or hostile export,
/// and holding every field of it would let one line of separators take
/// memory without bound. Non-empty fields beyond are counted (see
/// [`Grid::overflow`]), not held.
pub const MAX_COLUMNS: usize = 16_384;

/// Cells a block holds at most, whatever the header look-ahead asks for:
/// sixty rows of [`MAX_COLUMNS`] still fit, and a table of any shape takes
/// a bounded amount of memory per block.
pub const MAX_BLOCK_CELLS: usize = 1 << 20;

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
    /// Non-empty cells of `row` beyond [`MAX_COLUMNS`] that the grid
    /// counted but does not hold.
    fn overflow(&self, _row: usize) -> u64 {
        0
    }
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
    /// Records (by index in the block) with non-empty fields beyond
    /// [`MAX_COLUMNS`], and how many.
    overflow: Vec<(usize, u64)>,
}

impl TextGrid {
    /// The whole text as one block.
    pub fn parse(text: &str, delimiter: u8) -> TextGrid {
        let mut blocks = TextBlocks::new(text, delimiter);
        blocks.next(0, usize::MAX).unwrap_or_else(TextGrid::empty)
    }

    pub fn empty() -> TextGrid {
        TextGrid {
            first: 0,
            data: String::new(),
            ends: Vec::new(),
            records: Vec::new(),
            lines: Vec::new(),
            overflow: Vec::new(),
        }
    }

    fn record(&self, row: usize) -> (usize, usize) {
        self.records[row - self.first]
    }
}

/// Splits delimited text into records a block at a time, so the records
/// of a large file are never all held at once. Quotes follow RFC 4180
/// (doubled quotes inside quoted fields); a record ends at CR, LF or CRLF,
/// blank lines are skipped.
pub struct TextBlocks<'t> {
    text: &'t str,
    reader: csv_core::Reader,
    /// Bytes of `text` consumed.
    at: usize,
    records_read: usize,
    /// Lines are counted from byte offsets, every line end convention
    /// (LF, CRLF, and CR alone as old Mac and some ERP exports write it)
    /// as one line.
    counted_to: usize,
    line: u64,
    /// Bytes and fields of the last block.
    block_bytes: usize,
    block_fields: usize,
    /// The record being read: its bytes and field ends (record-relative).
    record_bytes: Vec<u8>,
    field_ends: Vec<usize>,
    /// Fields past [`MAX_COLUMNS`] land here to be counted, not kept.
    spill: Vec<u8>,
    spill_ends: Vec<usize>,
    ended: bool,
}

impl<'t> TextBlocks<'t> {
    pub fn new(text: &'t str, delimiter: u8) -> TextBlocks<'t> {
        let reader = csv_core::ReaderBuilder::new()
            .delimiter(delimiter)
            .double_quote(true)
            .build();
        TextBlocks {
            text,
            reader,
            at: 0,
            records_read: 0,
            counted_to: 0,
            line: 1,
            block_bytes: 0,
            block_fields: 0,
            record_bytes: Vec::new(),
            field_ends: Vec::new(),
            spill: Vec::new(),
            spill_ends: Vec::new(),
            ended: false,
        }
    }

    /// The next block: at least `min_rows` records from the start of the
    /// text (unless that would take more than [`MAX_BLOCK_CELLS`] fields),
    /// and whole records until about `cells` fields are held. `None` at
    /// the end of the text.
    pub fn next(&mut self, min_rows: usize, cells: usize) -> Option<TextGrid> {
        let mut block = TextGrid {
            first: self.records_read,
            ..TextGrid::empty()
        };
        let mut data = Vec::with_capacity(self.block_bytes);
        block.ends.reserve(self.block_fields);
        while !self.ended
            && ((self.records_read < min_rows && block.ends.len() < MAX_BLOCK_CELLS)
                || block.ends.len() < cells)
        {
            let start = block.ends.len();
            let Some(overflow) = self.record(&mut data, &mut block.ends) else {
                break;
            };
            if overflow > 0 {
                block.overflow.push((block.records.len(), overflow));
            }
            block.records.push((start, block.ends.len()));
            block.lines.push(self.line);
            self.records_read += 1;
        }
        if block.records.is_empty() {
            return None;
        }
        // The next block is about as large: its buffers start at that size.
        self.block_bytes = data.len();
        self.block_fields = block.ends.len();
        // Delimiters and quotes are ASCII: fields of UTF-8 text are UTF-8.
        block.data = String::from_utf8(data)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned());
        Some(block)
    }

    /// Reads one record: its first [`MAX_COLUMNS`] fields appended to
    /// `data` with their ends (offsets in `data`) in `ends`. Returns the
    /// number of non-empty fields beyond those, or `None` at the end.
    fn record(&mut self, data: &mut Vec<u8>, ends: &mut Vec<usize>) -> Option<u64> {
        use csv_core::ReadRecordResult;
        let bytes = self.text.as_bytes();
        // Blank lines before the record: skipped here so that the record
        // starts at its first byte, which gives its line.
        while self.at < bytes.len() && matches!(bytes[self.at], b'\n' | b'\r') {
            self.at += 1;
        }
        if self.at >= bytes.len() {
            self.ended = true;
            return None;
        }
        self.line += count_lines(bytes, self.counted_to, self.at);
        self.counted_to = self.at;
        let base = data.len();
        // The record goes to buffers kept from record to record (grown,
        // never zeroed again), then into the block.
        let (mut written, mut fields) = (0usize, 0usize);
        loop {
            if fields == MAX_COLUMNS {
                let held = self.field_ends[fields - 1];
                data.extend_from_slice(&self.record_bytes[..held]);
                ends.extend(self.field_ends[..fields].iter().map(|end| end + base));
                // The reader may have read into the next field already.
                let mut field = FieldText::default();
                field.feed(&self.record_bytes[held..written]);
                return Some(self.spill_fields(field, written));
            }
            if written == self.record_bytes.len() {
                let grown = (self.record_bytes.len() * 2).max(4096);
                self.record_bytes.resize(grown, 0);
            }
            if fields == self.field_ends.len() {
                let grown = (self.field_ends.len() * 2).clamp(64, MAX_COLUMNS);
                self.field_ends.resize(grown, 0);
            }
            let (result, read, out, ended) = self.reader.read_record(
                &bytes[self.at..],
                &mut self.record_bytes[written..],
                &mut self.field_ends[fields..],
            );
            self.at += read;
            written += out;
            fields += ended;
            match result {
                ReadRecordResult::InputEmpty
                | ReadRecordResult::OutputFull
                | ReadRecordResult::OutputEndsFull => {}
                ReadRecordResult::Record | ReadRecordResult::End => {
                    if result == ReadRecordResult::End {
                        self.ended = true;
                        if fields == 0 {
                            return None;
                        }
                    }
                    data.extend_from_slice(&self.record_bytes[..written]);
                    ends.extend(self.field_ends[..fields].iter().map(|end| end + base));
                    return Some(0);
                }
            }
        }
    }

    /// Reads the rest of a record whose first [`MAX_COLUMNS`] fields are
    /// held, counting its non-empty fields without keeping them. `field`
    /// is what was read of the first of them; `offset` is where the
    /// reader's next output byte is in its record-relative offsets.
    fn spill_fields(&mut self, mut field: FieldText, mut offset: usize) -> u64 {
        use csv_core::ReadRecordResult;
        let bytes = self.text.as_bytes();
        let mut filled = 0u64;
        self.spill.resize(64 * 1024, 0);
        self.spill_ends.resize(1024, 0);
        loop {
            let (result, read, out, ended) =
                self.reader
                    .read_record(&bytes[self.at..], &mut self.spill, &mut self.spill_ends);
            self.at += read;
            let mut from = 0;
            for &end in &self.spill_ends[..ended] {
                let local = end - offset;
                field.feed(&self.spill[from..local]);
                filled += u64::from(std::mem::take(&mut field).filled);
                from = local;
            }
            field.feed(&self.spill[from..out]);
            offset += out;
            match result {
                ReadRecordResult::InputEmpty
                | ReadRecordResult::OutputFull
                | ReadRecordResult::OutputEndsFull => {}
                ReadRecordResult::Record | ReadRecordResult::End => {
                    self.ended |= result == ReadRecordResult::End;
                    return filled;
                }
            }
        }
    }
}

/// Whether a field read in pieces holds something other than white space
/// (the accounting rule of [`Cell::is_filled`]), without keeping it.
#[derive(Default)]
struct FieldText {
    filled: bool,
    /// White space so far, or the start of a character cut by a piece's end.
    tail: Vec<u8>,
}

impl FieldText {
    fn feed(&mut self, bytes: &[u8]) {
        if self.filled || bytes.is_empty() {
            return;
        }
        self.tail.extend_from_slice(bytes);
        let valid = match std::str::from_utf8(&self.tail) {
            Ok(text) => text.len(),
            Err(error) => error.valid_up_to(),
        };
        let text = std::str::from_utf8(&self.tail[..valid]).unwrap_or_default();
        if !text.trim().is_empty() {
            self.filled = true;
            self.tail = Vec::new();
        } else {
            self.tail.drain(..valid);
        }
    }
}

/// Line ends in `bytes`: LF, CRLF and a CR alone each count once.
pub fn count_line_ends(bytes: &[u8]) -> u64 {
    count_lines(bytes, 0, bytes.len())
}

/// Line ends in `bytes[from..to]`: LF, CRLF and a CR alone each count once.
fn count_lines(bytes: &[u8], from: usize, to: usize) -> u64 {
    let mut lines = 0;
    for at in memchr::memchr2_iter(b'\n', b'\r', &bytes[from..to]) {
        let at = from + at;
        if bytes[at] == b'\n' || bytes.get(at + 1) != Some(&b'\n') {
            lines += 1;
        }
    }
    lines
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

    fn overflow(&self, row: usize) -> u64 {
        let index = row - self.first;
        self.overflow
            .iter()
            .find(|(record, _)| *record == index)
            .map_or(0, |(_, cells)| *cells)
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
        let whole = TextGrid::parse(text, b';');
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
        let first = blocks.next(2, 1).unwrap();
        assert_eq!((first.first_row(), first.height()), (0, 2));
        let mut seen = rows(&first);
        while let Some(block) = blocks.next(0, 1) {
            assert_eq!(block.height() - block.first_row(), 1);
            seen.extend(rows(&block));
        }
        assert_eq!(seen, expected);
    }

    #[test]
    fn text_records_keep_lines() {
        let grid = TextGrid::parse("a;b\n\"x\ny\";2\n3;4\n", b';');
        assert_eq!(grid.height(), 3);
        assert_eq!(grid.cell(1, 0), Cell::Text("x\ny"));
        assert_eq!(grid.location(2), 4);
    }

    #[test]
    fn every_line_end_convention_gives_true_lines() {
        let rows = |text: &str| -> Vec<(u64, String)> {
            let grid = TextGrid::parse(text, b';');
            (0..grid.height())
                .map(|row| (grid.location(row), grid.cell(row, 0).text().into_owned()))
                .collect()
        };
        let expected = vec![
            (1, "h".to_owned()),
            (2, "a".to_owned()),
            (4, "b".to_owned()),
            (5, "c".to_owned()),
        ];
        assert_eq!(rows("h;x\na;1\n\nb;2\nc;3\n"), expected, "LF");
        assert_eq!(rows("h;x\r\na;1\r\n\r\nb;2\r\nc;3\r\n"), expected, "CRLF");
        assert_eq!(rows("h;x\ra;1\r\rb;2\rc;3\r"), expected, "CR only");
        // A quoted line break counts as a line in every convention.
        let quoted = rows("h;x\r\"a\rz\";1\rb;2");
        assert_eq!(quoted[1], (2, "a\rz".to_owned()));
        assert_eq!(quoted[2], (4, "b".to_owned()));
    }

    #[test]
    fn fields_beyond_the_column_limit_are_counted_not_held() {
        let mut wide = String::from("k");
        for i in 0..MAX_COLUMNS + 500 {
            // Every third field empty, one only white space.
            match i % 3 {
                0 => wide.push(';'),
                1 => wide.push_str("; "),
                _ => wide.push_str(&format!(";v{i}")),
            }
        }
        let text = format!("{wide}\na;b\n");
        let grid = TextGrid::parse(&text, b';');
        assert_eq!(grid.height(), 2);
        assert_eq!(grid.width(0), MAX_COLUMNS);
        let held_filled = (0..MAX_COLUMNS)
            .filter(|&c| grid.cell(0, c).is_filled())
            .count() as u64;
        let all_filled = 1 + (0..MAX_COLUMNS + 500).filter(|i| i % 3 == 2).count() as u64;
        assert_eq!(held_filled + grid.overflow(0), all_filled);
        assert!(grid.overflow(0) > 0);
        assert_eq!((grid.width(1), grid.overflow(1)), (2, 0));
        assert_eq!(grid.cell(1, 1).text(), "b");
        assert_eq!(grid.location(1), 2);
        // A field cut into pieces by the reader's buffer still counts once.
        let long = format!(
            "{};{}\n",
            "x;".repeat(MAX_COLUMNS),
            " ".repeat(200_000) + "y"
        );
        let grid = TextGrid::parse(&long, b';');
        assert_eq!(grid.overflow(0), 1);
    }

    #[test]
    fn a_block_never_holds_more_than_its_cell_limit() {
        let row = format!("{}1\n", "1;".repeat(9_999));
        let text = row.repeat(200);
        let mut blocks = TextBlocks::new(&text, b';');
        let first = blocks.next(1000, 64).unwrap();
        let held: usize = (0..first.height()).map(|r| first.width(r)).sum();
        assert!(held <= MAX_BLOCK_CELLS + 10_000, "{held} cells");
        assert_eq!(first.height(), MAX_BLOCK_CELLS.div_ceil(10_000));
        let mut rows = first.height();
        while let Some(block) = blocks.next(0, 64) {
            rows += block.height() - block.first_row();
        }
        assert_eq!(rows, 200);
    }
}
