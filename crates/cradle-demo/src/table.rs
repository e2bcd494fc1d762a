//! Writing one table (a CSV file or a sheet) row by row while counting it by
//! the rules of [`cradle_core::accounting`].
//!
//! The manifest is not an estimate: every row goes through [`Table`], which
//! classifies it exactly as the rules say (blank, title, header, loaded or
//! rejected with a reason) from the cells actually written. A generator bug
//! that writes a surprising row therefore still yields a true manifest.

use crate::DemoError;
use cradle_core::accounting::{Balance, MAX_CELL_BYTES, RejectReason};
use cradle_core::manifest::ManifestSheet;
use rust_xlsxwriter::{Format, FormatAlign, Worksheet};
use std::collections::HashSet;
use std::path::PathBuf;

/// One cell as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    /// A numeric cell (XLSX only; CSV writes text).
    Number(f64),
    /// An Excel date serial with a date format (XLSX only).
    Date(f64),
}

impl Cell {
    /// Non-empty by accounting rule 1.
    pub fn filled(&self) -> bool {
        match self {
            Cell::Empty => false,
            Cell::Text(text) => !text.trim().is_empty(),
            Cell::Number(_) | Cell::Date(_) => true,
        }
    }

    fn len(&self) -> usize {
        match self {
            Cell::Text(text) => text.len(),
            _ => 24,
        }
    }
}

/// Text cell shorthand.
pub fn t(text: impl Into<String>) -> Cell {
    Cell::Text(text.into())
}

/// Where rows go: a CSV buffer or a worksheet.
pub trait RowSink {
    fn row(&mut self, index: u32, cells: &[Cell]) -> Result<(), DemoError>;
    /// The group row of a merged two-row header: `(label, first, last)`
    /// columns, merged when a group spans more than one column.
    fn groups(&mut self, index: u32, groups: &[(String, usize, usize)]) -> Result<(), DemoError>;
}

/// One table being written and counted.
pub struct Table<'s> {
    sink: &'s mut dyn RowSink,
    name: Option<String>,
    balance: Balance,
    header_row: Option<u64>,
    header_rows: u64,
    key_header: Option<String>,
    key_column: Option<usize>,
    /// Width of the group row, if the last structure row written was one.
    pending_groups: Option<usize>,
    width: usize,
    next_row: u64,
    keys: HashSet<u32>,
}

impl<'s> Table<'s> {
    pub fn new(sink: &'s mut dyn RowSink, name: Option<&str>) -> Table<'s> {
        Table {
            sink,
            name: name.map(str::to_owned),
            balance: Balance::default(),
            header_row: None,
            header_rows: 0,
            key_header: None,
            key_column: None,
            pending_groups: None,
            width: 0,
            next_row: 0,
            keys: HashSet::new(),
        }
    }

    fn write(&mut self, cells: &[Cell]) -> Result<(), DemoError> {
        self.sink.row(self.next_row as u32, cells)?;
        self.next_row += 1;
        Ok(())
    }

    /// A title line above the header: one cell in the first column.
    pub fn title(&mut self, text: &str) -> Result<(), DemoError> {
        debug_assert!(self.header_row.is_none());
        self.pending_groups = None;
        self.balance.header_cells += 1;
        self.balance.non_empty_cells += 1;
        self.write(&[t(text)])
    }

    /// A blank row: in a CSV a line of separators only (a record of empty
    /// fields), in a sheet a row index left out. Not a record.
    pub fn blank(&mut self) -> Result<(), DemoError> {
        self.pending_groups = None;
        let width = self.width.max(2);
        self.write(&vec![Cell::Empty; width])
    }

    /// The upper row of a merged two-row header; [`Table::header`] must follow.
    pub fn groups(&mut self, groups: &[(&str, usize)]) -> Result<(), DemoError> {
        let mut spans = Vec::new();
        let mut column = 0;
        for (label, span) in groups {
            spans.push((label.to_string(), column, column + span - 1));
            column += span;
        }
        debug_assert!(groups.len() >= 2);
        self.balance.header_cells += groups.len() as u64;
        self.balance.non_empty_cells += groups.len() as u64;
        self.sink.groups(self.next_row as u32, &spans)?;
        self.next_row += 1;
        self.pending_groups = Some(column);
        Ok(())
    }

    /// The header row (the lower one of a two-row header).
    pub fn header(&mut self, names: &[&str], key_column: usize) -> Result<(), DemoError> {
        debug_assert!(names.iter().all(|n| !n.trim().is_empty()));
        self.header_rows = if self.pending_groups.is_some() { 2 } else { 1 };
        self.width = names.len().max(self.pending_groups.unwrap_or(0));
        self.pending_groups = None;
        self.header_row = Some(self.next_row);
        self.key_column = Some(key_column);
        self.key_header = Some(names[key_column].to_owned());
        self.balance.header_cells += names.len() as u64;
        self.balance.non_empty_cells += names.len() as u64;
        let cells: Vec<Cell> = names.iter().map(|n| t(*n)).collect();
        self.write(&cells)
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// A row below the header (or any row of a table without key column),
    /// classified by accounting rule 4. `product` is the catalogue index of
    /// the key written in the key cell, if any.
    pub fn record(&mut self, cells: &[Cell], product: Option<u32>) -> Result<(), DemoError> {
        let filled = cells.iter().filter(|c| c.filled()).count() as u64;
        self.write(cells)?;
        if filled == 0 {
            return Ok(());
        }
        let Some(key_column) = self.key_column else {
            self.balance.reject(RejectReason::NoKeyColumn, filled);
            return Ok(());
        };
        let reason = if cells.iter().any(|c| c.len() > MAX_CELL_BYTES) {
            Some(RejectReason::CellTooLarge)
        } else if cells.iter().skip(self.width).any(Cell::filled) {
            Some(RejectReason::TooManyFields)
        } else if filled == 1 && self.width >= 2 {
            Some(RejectReason::NotArticleRow)
        } else if !cells.get(key_column).is_some_and(Cell::filled) {
            Some(RejectReason::NoKey)
        } else {
            None
        };
        match reason {
            Some(reason) => self.balance.reject(reason, filled),
            None => {
                let product = product.expect("a loaded record names its product");
                self.keys.insert(product);
                self.balance.load(filled - 1);
            }
        }
        Ok(())
    }

    /// The manifest entry and the products this table loaded.
    pub fn finish(self) -> (ManifestSheet, HashSet<u32>) {
        debug_assert!(self.balance.holds());
        let b = self.balance;
        let sheet = ManifestSheet {
            name: self.name,
            header_row: self.header_row,
            header_rows: self.header_rows,
            key_header: self.key_header,
            rows: b.rows,
            loaded_rows: b.loaded_rows,
            rejected_rows: b.rejected_rows,
            rejected_by_reason: b.rejected_by_reason,
            data_points: b.data_points,
            products: self.keys.len() as u64,
        };
        (sheet, self.keys)
    }
}

/// A CSV file being built in memory (encoded when saved).
pub struct CsvSink {
    pub text: String,
    delimiter: char,
    newline: &'static str,
    /// Quote every non-empty field, as some exporters do.
    quote_all: bool,
}

impl CsvSink {
    pub fn new(delimiter: char, crlf: bool, quote_all: bool) -> CsvSink {
        CsvSink {
            text: String::new(),
            delimiter,
            newline: if crlf { "\r\n" } else { "\n" },
            quote_all,
        }
    }

    fn field(&mut self, text: &str) {
        let needs = self.quote_all && !text.is_empty()
            || text.contains(self.delimiter)
            || text.contains(['"', '\n', '\r']);
        if needs {
            self.text.push('"');
            self.text.push_str(&text.replace('"', "\"\""));
            self.text.push('"');
        } else {
            self.text.push_str(text);
        }
    }
}

impl RowSink for CsvSink {
    fn row(&mut self, _index: u32, cells: &[Cell]) -> Result<(), DemoError> {
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                self.text.push(self.delimiter);
            }
            match cell {
                Cell::Empty => {}
                Cell::Text(text) => self.field(text),
                // Callers format numbers for CSV themselves; this is a fallback.
                Cell::Number(n) => self.field(&n.to_string()),
                Cell::Date(serial) => self.field(&crate::format::date_de(*serial)),
            }
        }
        self.text.push_str(self.newline);
        Ok(())
    }

    fn groups(&mut self, index: u32, groups: &[(String, usize, usize)]) -> Result<(), DemoError> {
        let width = groups.last().map_or(0, |g| g.2 + 1);
        let mut cells = vec![Cell::Empty; width];
        for (label, first, _) in groups {
            cells[*first] = t(label.clone());
        }
        self.row(index, &cells)
    }
}

/// One worksheet (constant-memory mode: rows strictly in order).
pub struct XlsxSink<'w> {
    sheet: &'w mut Worksheet,
    path: PathBuf,
    date: Format,
    bold: Format,
    group: Format,
}

impl<'w> XlsxSink<'w> {
    pub fn new(sheet: &'w mut Worksheet, path: PathBuf) -> XlsxSink<'w> {
        XlsxSink {
            sheet,
            path,
            date: Format::new().set_num_format("dd.mm.yyyy"),
            bold: Format::new().set_bold(),
            group: Format::new().set_bold().set_align(FormatAlign::Center),
        }
    }

    fn err(&self, source: rust_xlsxwriter::XlsxError) -> DemoError {
        DemoError::Xlsx {
            path: self.path.clone(),
            source,
        }
    }
}

impl RowSink for XlsxSink<'_> {
    fn row(&mut self, index: u32, cells: &[Cell]) -> Result<(), DemoError> {
        for (column, cell) in cells.iter().enumerate() {
            let column = column as u16;
            let result = match cell {
                Cell::Empty => continue,
                Cell::Text(text) if index == 0 && column == 0 => self
                    .sheet
                    .write_string_with_format(index, column, text, &self.bold),
                Cell::Text(text) => self.sheet.write_string(index, column, text),
                Cell::Number(n) => self.sheet.write_number(index, column, *n),
                Cell::Date(serial) => self
                    .sheet
                    .write_number_with_format(index, column, *serial, &self.date),
            };
            if let Err(e) = result {
                return Err(self.err(e));
            }
        }
        Ok(())
    }

    fn groups(&mut self, index: u32, groups: &[(String, usize, usize)]) -> Result<(), DemoError> {
        for (label, first, last) in groups {
            let result = if first == last {
                self.sheet
                    .write_string_with_format(index, *first as u16, label, &self.group)
            } else {
                self.sheet.merge_range(
                    index,
                    *first as u16,
                    index,
                    *last as u16,
                    label,
                    &self.group,
                )
            };
            if let Err(e) = result {
                return Err(self.err(e));
            }
        }
        Ok(())
    }
}
