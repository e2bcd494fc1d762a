//! One table (a CSV file or a sheet): find the header, understand the
//! columns, then account for every record: loaded as attribute values or
//! rejected with a reason.

use crate::grid::{Cell, Grid, MAX_COLUMNS, column_letter};
use crate::output::{
    AttributeBatch, AttributeValue, BATCH_ROWS, RejectBatch, RejectedRecord, Sink, SinkError,
};
use crate::products::{CanonicalValue, FastHash, ProductMap, ProductState, Rank, fnv1a};
use crate::runs::Runs;
use crate::value::{self, DecimalSeparator};
use cradle_core::accounting::{Balance, MAX_CELL_BYTES, RejectReason};
use cradle_core::config::{Config, FileOverride};
use cradle_core::fields::{CanonicalField, FieldKind, normalize_header, strip_header_unit};
use hashbrown::hash_map::EntryRef;
use serde::Serialize;
use std::collections::HashSet;

/// How far down a header is looked for.
const HEADER_SEARCH_ROWS: usize = 60;
/// Records profiled to understand a column's values.
const PROFILE_ROWS: usize = 2000;

const FEATURE_CODE_HEADERS: &[&str] = &[
    "Merkmal",
    "Merkmalscode",
    "Merkmal-Nr.",
    "Merkmalsnummer",
    "ETIM-Merkmal",
    "Feature",
    "Feature code",
    "EF-Code",
    "FNAME",
    "EtimFeatureCode",
];
const FEATURE_VALUE_HEADERS: &[&str] = &[
    "Wert",
    "Value",
    "Merkmalswert",
    "Feature value",
    "FVALUE",
    "EtimValue",
    "Ausprägung",
];
const FEATURE_UNIT_HEADERS: &[&str] = &["Einheit", "Unit", "FUNIT", "Maßeinheit", "EtimUnit"];

/// What the report says about one column.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnReport {
    pub column: String,
    pub header: String,
    /// The canonical field it maps to, if any.
    pub field: Option<&'static str>,
    /// 0..1: how sure the mapping is.
    pub confidence: f32,
    /// `config`, `synonym`, `values`, `key` or `none`.
    pub evidence: &'static str,
    pub unit: Option<String>,
    /// `number`, `boolean`, `date`, `text` or `empty`, from the values.
    pub kind: &'static str,
    pub filled: u64,
}

/// What the report says about one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    pub sheet: Option<String>,
    /// 1-based line or row of the (last) header row.
    pub header_row: Option<u64>,
    pub header_rows: u64,
    pub key_column: Option<String>,
    /// `wide` (one record per product), `long` (feature code, value, unit
    /// per record) or `list` (several records per product, e.g. relations).
    pub layout: &'static str,
    pub decimal_separator: Option<&'static str>,
    pub products: u64,
    #[serde(flatten)]
    pub balance: Balance,
    pub columns: Vec<ColumnReport>,
    pub warnings: Vec<String>,
}

/// Estimated bytes of a new product's map entry and state, besides its key.
const PRODUCT_BYTES: usize = 160;
/// Estimated bytes of one canonical value, besides its text.
const CANONICAL_BYTES: usize = 64;

/// Everything a table needs to know about where it is.
pub struct TableContext<'a> {
    pub file_index: u32,
    pub sheet_index: u32,
    pub path: &'a str,
    pub sheet: Option<&'a str>,
    pub config: &'a Config,
    pub overrides: Vec<&'a FileOverride>,
}

/// Collects a file's output and hands full batches to the sink.
pub struct Emitter<'s> {
    sink: &'s dyn Sink,
    pub attributes: AttributeBatch,
    pub rejects: RejectBatch,
    pub products: FileProducts,
    runs: &'s Runs,
}

impl<'s> Emitter<'s> {
    /// `products` is an empty map to gather the file's products in (one
    /// kept from an earlier file keeps its capacity).
    pub fn new(sink: &'s dyn Sink, runs: &'s Runs, products: ProductMap) -> Emitter<'s> {
        Emitter {
            sink,
            attributes: AttributeBatch::default(),
            rejects: RejectBatch::default(),
            products: FileProducts {
                map: products,
                bytes: 0,
                table: 0,
                spilled: HashSet::default(),
            },
            runs,
        }
    }

    pub fn reject(&mut self, record: &RejectedRecord<'_>) -> Result<(), SinkError> {
        self.rejects.push(record);
        if self.rejects.len() >= BATCH_ROWS {
            self.sink.rejects(self.rejects.finish())?;
        }
        Ok(())
    }

    /// Adds one attribute row, handing a full batch to the sink.
    pub(crate) fn attribute(&mut self, value: &AttributeValue<'_>) -> Result<(), SinkError> {
        self.attributes.push(value);
        if self.attributes.len() >= BATCH_ROWS {
            self.sink.attributes(self.attributes.finish())?;
        }
        Ok(())
    }

    /// Where product state goes when it outgrows the memory budget.
    pub(crate) fn runs(&self) -> &'s Runs {
        self.runs
    }

    /// Hands over what is left; the products stay for the caller to merge.
    pub fn flush(&mut self) -> Result<(), SinkError> {
        if !self.attributes.is_empty() {
            self.sink.attributes(self.attributes.finish())?;
        }
        if !self.rejects.is_empty() {
            self.sink.rejects(self.rejects.finish())?;
        }
        Ok(())
    }
}

/// The product state of the file being read, and which products each of
/// its tables touched: a table counts its products with a mark on the
/// state instead of a set of its own keys.
pub struct FileProducts {
    pub map: ProductMap,
    /// Estimated bytes held in `map`.
    bytes: usize,
    /// The mark of the table being read (counts up from 1 per file).
    table: u32,
    /// Keys the current table touched before its products left for a run
    /// in the middle of it (only for tables beyond the memory budget).
    spilled: HashSet<Box<str>, FastHash>,
}

impl FileProducts {
    pub(crate) fn begin_table(&mut self) {
        self.table += 1;
        self.spilled.clear();
    }

    /// The state of `key` (created when new), whether the current table
    /// touches it for the first time, and the estimated bytes added.
    pub(crate) fn touch(&mut self, key: &str) -> (&mut ProductState, bool, usize) {
        let table = self.table;
        match self.map.entry_ref(key) {
            // Present with an older mark: no run was cut in this table
            // since it came in, so this table has not counted it yet.
            EntryRef::Occupied(entry) => {
                let state = entry.into_mut();
                let first = state.table != table;
                state.table = table;
                (state, first, 0)
            }
            EntryRef::Vacant(entry) => {
                let first = self.spilled.is_empty() || !self.spilled.contains(key);
                let state = entry.insert(ProductState::in_table(table));
                (state, first, key.len() + PRODUCT_BYTES)
            }
        }
    }

    /// Counts product state just added; past the file's budget, what is
    /// held leaves memory as a sorted run.
    pub(crate) fn grew(&mut self, bytes: usize, runs: &Runs) -> Result<(), SinkError> {
        self.bytes += bytes;
        if self.bytes > runs.budget().products_per_file {
            self.spill(runs)?;
        }
        Ok(())
    }

    /// Moves everything held to a sorted run, remembering which keys the
    /// current table had counted.
    fn spill(&mut self, runs: &Runs) -> Result<(), SinkError> {
        let table = self.table;
        self.spilled.extend(
            self.map
                .iter()
                .filter(|(_, state)| state.table == table)
                .map(|(key, _)| Box::from(key.as_str())),
        );
        runs.add(&mut self.map)?;
        self.bytes = 0;
        Ok(())
    }
}

struct Header {
    row: usize,
    group_row: Option<usize>,
    key_column: usize,
    width: usize,
    /// Header columns beyond [`MAX_COLUMNS`], not read as columns.
    cut: usize,
    /// The name as a person reads it (`Elektrisch / Leistung [W]`).
    display: Vec<String>,
    /// The name without group, used for mapping (`Leistung [W]`).
    names: Vec<String>,
}

struct Column {
    letter: String,
    display: String,
    attribute: String,
    attribute_hash: u64,
    field: Option<CanonicalField>,
    unit: Option<String>,
    boolean: bool,
}

#[derive(Default, Clone)]
struct Profile {
    filled: u64,
    numbers: u64,
    booleans: u64,
    zero_one: u64,
    dates: u64,
    gtins: u64,
    etim_classes: u64,
    etim_features: u64,
    comma_decimals: u64,
    point_decimals: u64,
}

/// Reads one whole table into the emitter and says what happened.
pub fn process(
    grid: &dyn Grid,
    context: &TableContext<'_>,
    out: &mut Emitter<'_>,
) -> Result<TableReport, SinkError> {
    let mut table = TableReader::begin(grid, context);
    table.rows(grid, out)?;
    Ok(table.finish())
}

/// Rows the first block of a table must hold: where its header can be
/// and the rows profiled below it.
pub fn lookahead_rows(context: &TableContext<'_>) -> usize {
    let forced = context
        .overrides
        .iter()
        .rev()
        .find_map(|o| o.header_row)
        .map_or(0, |row| row as usize);
    HEADER_SEARCH_ROWS.max(forced) + PROFILE_ROWS + 2
}

/// A table read block by block: [`TableReader::begin`] on the first block
/// (header, profiles, column mapping), [`TableReader::rows`] on every
/// block, [`TableReader::finish`] for the report.
pub struct TableReader<'c, 'a> {
    context: &'c TableContext<'a>,
    report: TableReport,
    /// `None` when no header was found: every row is rejected.
    plan: Option<Plan>,
    /// The next block is the first: rows up to the header are structure.
    first_block: bool,
    /// Distinct products of this table.
    products: u64,
    invalid_gtins: u64,
}

/// How the rows below the header are read.
struct Plan {
    header: Header,
    columns: Vec<Column>,
    decimal: DecimalSeparator,
    long: Option<(usize, usize)>,
    unit_column: Option<usize>,
    track_conflicts: bool,
}

impl<'c, 'a> TableReader<'c, 'a> {
    /// Finds the header and maps the columns from the first block.
    pub fn begin(grid: &dyn Grid, context: &'c TableContext<'a>) -> TableReader<'c, 'a> {
        let mut report = TableReport {
            sheet: context.sheet.map(str::to_owned),
            header_row: None,
            header_rows: 0,
            key_column: None,
            layout: "wide",
            decimal_separator: None,
            products: 0,
            balance: Balance::default(),
            columns: Vec::new(),
            warnings: Vec::new(),
        };
        let mut row_cells: Vec<Cell<'_>> = Vec::new();
        let reader = |report, plan| TableReader {
            context,
            report,
            plan,
            first_block: true,
            products: 0,
            invalid_gtins: 0,
        };
        let Some(header) = find_header(grid, context) else {
            report.layout = "none";
            return reader(report, None);
        };

        // Everything above and in the header is structure.
        for row in 0..=header.row {
            read_row(grid, row, &mut row_cells);
            report.balance.header_cells +=
                row_cells.iter().filter(|c| c.is_filled()).count() as u64 + grid.overflow(row);
        }
        if header.cut > 0 {
            report.warnings.push(format!(
                "the header has {} more columns than the {MAX_COLUMNS} that are read (the most a spreadsheet holds); records with values beyond are rejected as too_many_fields",
                header.cut
            ));
        }
        report.balance.non_empty_cells = report.balance.header_cells;
        report.header_row = Some(grid.location(header.row));
        report.header_rows = if header.group_row.is_some() { 2 } else { 1 };
        report.key_column = Some(header.display[header.key_column].clone());

        let profiles = profile(grid, &header);
        let decimal = decimal_separator(&profiles);
        report.decimal_separator = Some(decimal.as_str());
        let columns = map_columns(&header, &profiles, context, &mut report);

        // Long format: a feature code, its value and unit per record.
        let find = |names: &[&str]| {
            (0..header.width).find(|&c| {
                c != header.key_column
                    && names
                        .iter()
                        .any(|n| normalize_header(n) == normalize_header(&header.names[c]))
            })
        };
        let feature_column = find(FEATURE_CODE_HEADERS).or_else(|| {
            (0..header.width).find(|&c| {
                profiles[c].filled > 0 && profiles[c].etim_features * 10 >= profiles[c].filled * 9
            })
        });
        let value_column = find(FEATURE_VALUE_HEADERS);
        let unit_column = find(FEATURE_UNIT_HEADERS);
        let long = match (feature_column, value_column) {
            (Some(f), Some(v)) if profiles[f].etim_features * 2 >= profiles[f].filled => {
                Some((f, v))
            }
            _ => None,
        };
        // Relations and other lists hold several records per product by design.
        let names_other_articles = (0..header.width).any(|c| {
            let name = normalize_header(&header.names[c]);
            c != header.key_column
                && [
                    "artnr",
                    "artikelnummer",
                    "articleno",
                    "beziehung",
                    "relation",
                    "relationtype",
                ]
                .iter()
                .any(|hint| name.contains(hint))
        });
        let repeated_keys = names_other_articles || repeated_key_share(grid, &header) > 0.5;
        report.layout = match (long, repeated_keys) {
            (Some(_), _) => "long",
            (None, true) => "list",
            (None, false) => "wide",
        };
        let track_conflicts = report.layout == "wide";
        let plan = Plan {
            header,
            columns,
            decimal,
            long,
            unit_column,
            track_conflicts,
        };
        reader(report, Some(plan))
    }

    /// Reads the rows of one block (the first block: those below the header).
    pub fn rows(&mut self, grid: &dyn Grid, out: &mut Emitter<'_>) -> Result<(), SinkError> {
        let start = if self.first_block {
            out.products.begin_table();
            let below_header = self.plan.as_ref().map_or(0, |plan| plan.header.row + 1);
            below_header.max(grid.first_row())
        } else {
            grid.first_row()
        };
        self.first_block = false;
        let context = self.context;
        let report = &mut self.report;
        let mut row_cells: Vec<Cell<'_>> = Vec::new();
        let Some(plan) = &self.plan else {
            for row in start..grid.height() {
                read_row(grid, row, &mut row_cells);
                if row_cells.iter().any(Cell::is_filled) || grid.overflow(row) > 0 {
                    reject(
                        context,
                        grid,
                        row,
                        RejectReason::NoKeyColumn,
                        &row_cells,
                        &mut report.balance,
                        out,
                    )?;
                }
            }
            return Ok(());
        };
        let Plan {
            header,
            columns,
            decimal,
            long,
            unit_column,
            track_conflicts,
        } = plan;
        let (decimal, long, unit_column, track_conflicts) =
            (*decimal, *long, *unit_column, *track_conflicts);
        let products = &mut self.products;
        let invalid_gtins = &mut self.invalid_gtins;
        for row in start..grid.height() {
            read_row(grid, row, &mut row_cells);
            let overflow = grid.overflow(row);
            let filled = row_cells.iter().filter(|c| c.is_filled()).count() as u64 + overflow;
            if filled == 0 {
                continue;
            }
            let reason = if row_cells.iter().any(|c| c.text_len() > MAX_CELL_BYTES) {
                Some(RejectReason::CellTooLarge)
            } else if overflow > 0 || row_cells.iter().skip(header.width).any(Cell::is_filled) {
                Some(RejectReason::TooManyFields)
            } else if filled == 1 && header.width >= 2 {
                Some(RejectReason::NotArticleRow)
            } else if !row_cells
                .get(header.key_column)
                .is_some_and(Cell::is_filled)
            {
                Some(RejectReason::NoKey)
            } else {
                None
            };
            if let Some(reason) = reason {
                reject(
                    context,
                    grid,
                    row,
                    reason,
                    &row_cells,
                    &mut report.balance,
                    out,
                )?;
                continue;
            }
            let key_text = row_cells[header.key_column].text();
            let key = key_text.trim();
            let location = grid.location(row);
            let rank = Rank {
                file: context.file_index,
                sheet: context.sheet_index,
                row: location,
            };
            let (product, first_in_table, mut grown) = out.products.touch(key);
            *products += u64::from(first_in_table);
            product.record();
            let long_feature =
                long.map(|(f, _)| row_cells.get(f).map(Cell::text).unwrap_or_default());
            let long_unit = unit_column
                .and_then(|u| row_cells.get(u))
                .filter(|c| c.is_filled())
                .map(Cell::text);
            let mut data_points = 0;
            for (index, cell) in row_cells.iter().enumerate().take(header.width) {
                if index == header.key_column || !cell.is_filled() {
                    continue;
                }
                data_points += 1;
                let column = &columns[index];
                let original = cell.text();
                let mut typed = value::Typed::default();
                match cell {
                    Cell::Number(n) => typed.number = Some(*n),
                    Cell::Int(n) => typed.number = Some(*n as f64),
                    Cell::Bool(b) => typed.boolean = Some(*b),
                    Cell::Date(serial) => typed.date = Some(value::excel_serial_to_days(*serial)),
                    Cell::Text(text) => typed = value::parse(text, decimal),
                    Cell::Empty | Cell::Error(_) => {}
                }
                if column.boolean && typed.boolean.is_none() {
                    typed.boolean = match typed.number {
                        Some(1.0) => Some(true),
                        Some(0.0) => Some(false),
                        _ => None,
                    };
                }
                let is_long_value = long.is_some_and(|(_, v)| v == index);
                let attribute: &str = match (&long_feature, is_long_value) {
                    (Some(code), true) if !code.trim().is_empty() => code.trim(),
                    _ => &column.attribute,
                };
                let unit = typed
                    .unit
                    .or(if is_long_value {
                        long_unit.as_deref().map(str::trim)
                    } else {
                        None
                    })
                    .or(column.unit.as_deref());
                if let Some(field) = column.field {
                    let value = match field.kind() {
                        FieldKind::Number => typed.number.map(CanonicalValue::Number),
                        FieldKind::Text if field == CanonicalField::Gtin => {
                            let gtin = original.trim();
                            if value::is_valid_gtin(gtin) {
                                Some(CanonicalValue::Text(gtin.to_owned()))
                            } else {
                                *invalid_gtins += 1;
                                None
                            }
                        }
                        FieldKind::Text if typed.no_value => None,
                        FieldKind::Text => Some(CanonicalValue::Text(original.trim().to_owned())),
                    };
                    if let Some(value) = value {
                        grown += CANONICAL_BYTES
                            + match &value {
                                CanonicalValue::Text(text) => text.len(),
                                CanonicalValue::Number(_) => 0,
                            };
                        product.canonical(field, value, rank);
                    }
                }
                let attribute_hash = if std::ptr::eq(attribute, column.attribute.as_str()) {
                    column.attribute_hash
                } else {
                    fnv1a(attribute.as_bytes())
                };
                product.attribute(
                    attribute_hash,
                    value_hash(&typed, unit, &original),
                    track_conflicts,
                );
                if track_conflicts {
                    grown += 8;
                }
                let value = AttributeValue {
                    article_no: key,
                    attribute,
                    header: &column.display,
                    field: column.field.map(CanonicalField::column),
                    original: &original,
                    number: typed.number,
                    boolean: typed.boolean,
                    date: typed.date,
                    unit,
                    no_value: typed.no_value,
                    file: context.path,
                    sheet: context.sheet,
                    row: location,
                    column: &column.letter,
                };
                // Fields, not a method: `product` still borrows `out.products`.
                out.attributes.push(&value);
                if out.attributes.len() >= BATCH_ROWS {
                    out.sink.attributes(out.attributes.finish())?;
                }
            }
            report.balance.load(data_points);
            out.products.grew(grown, out.runs)?;
        }
        Ok(())
    }

    /// The table's report, once every block was read.
    pub fn finish(self) -> TableReport {
        let mut report = self.report;
        let context = self.context;
        if self.plan.is_none() {
            if report.balance.rows > 0 {
                report.warnings.push(format!(
                    "no article-number column found in the first {HEADER_SEARCH_ROWS} rows; all {} rows rejected\nhint: add `[[file]] match = \"{}\"{} key = \"<header>\"` to cradle.toml",
                    report.balance.rows,
                    context.path,
                    context.sheet.map(|s| format!(" sheet = \"{s}\"")).unwrap_or_default()
                ));
            }
            return report;
        }
        report.products = self.products;
        let invalid_gtins = self.invalid_gtins;
        if invalid_gtins > 0 {
            report.warnings.push(format!(
                "{invalid_gtins} GTIN values have a wrong check digit or length; kept as attributes, not as the product's GTIN"
            ));
        }
        report
    }
}

fn read_row<'g>(grid: &'g dyn Grid, row: usize, cells: &mut Vec<Cell<'g>>) {
    cells.clear();
    let width = grid.width(row);
    cells.extend((0..width).map(|c| grid.cell(row, c)));
    while cells.last().is_some_and(|c| !c.is_filled()) {
        cells.pop();
    }
}

fn reject(
    context: &TableContext<'_>,
    grid: &dyn Grid,
    row: usize,
    reason: RejectReason,
    cells: &[Cell<'_>],
    balance: &mut Balance,
    out: &mut Emitter<'_>,
) -> Result<(), SinkError> {
    let overflow = grid.overflow(row);
    let filled = cells.iter().filter(|c| c.is_filled()).count() as u64 + overflow;
    balance.reject(reason, filled);
    let mut texts: Vec<String> = cells
        .iter()
        .map(|c| {
            let text = c.text();
            if text.len() > MAX_CELL_BYTES {
                let mut end = 200;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                format!(
                    "{}… ({} bytes, kept in the raw file)",
                    &text[..end],
                    text.len()
                )
            } else {
                text.into_owned()
            }
        })
        .collect();
    if overflow > 0 {
        texts.push(format!(
            "… {overflow} more non-empty fields beyond column {MAX_COLUMNS} (kept in the raw file)"
        ));
    }
    let content = serde_json::to_string(&texts).unwrap_or_default();
    let location = grid.location(row);
    let detail = format!(
        "{}{} {}: {}",
        context
            .sheet
            .map(|s| format!("sheet {s}, "))
            .unwrap_or_default(),
        match grid.row_kind() {
            crate::grid::RowKind::Line => "line",
            crate::grid::RowKind::SheetRow => "row",
        },
        location,
        reason.explain()
    );
    out.reject(&RejectedRecord {
        file: context.path,
        sheet: context.sheet,
        row: Some(location),
        reason: reason.as_str(),
        detail: &detail,
        cells: filled,
        content: &content,
    })
}

fn is_key_header(text: &str, context: &TableContext<'_>) -> bool {
    if let Some(key) = context
        .overrides
        .iter()
        .rev()
        .find_map(|o| o.key.as_deref())
    {
        return text.trim().eq_ignore_ascii_case(key.trim());
    }
    match context.config.mapping_for(text) {
        Some(mapped) => mapped == Some(CanonicalField::ArticleNo),
        None => CanonicalField::from_header(text) == Some(CanonicalField::ArticleNo),
    }
}

fn find_header(grid: &dyn Grid, context: &TableContext<'_>) -> Option<Header> {
    let forced_row = context.overrides.iter().rev().find_map(|o| o.header_row);
    let candidates: Vec<usize> = match forced_row {
        Some(row) => (0..grid.height())
            .filter(|&r| grid.location(r) == row)
            .take(1)
            .collect(),
        None => (0..grid.height().min(HEADER_SEARCH_ROWS)).collect(),
    };
    let mut best: Option<(usize, usize, usize)> = None; // (row, key column, score)
    let mut cells = Vec::new();
    for row in candidates {
        read_row(grid, row, &mut cells);
        let filled = cells.iter().filter(|c| c.is_filled()).count();
        if filled < 2 {
            continue;
        }
        let Some(key_column) = cells
            .iter()
            .take(MAX_COLUMNS)
            .position(|c| c.is_text() && is_key_header(&c.text(), context))
        else {
            continue;
        };
        let score = cells
            .iter()
            .filter(|c| c.is_text() && CanonicalField::from_header(&c.text()).is_some())
            .count();
        if best.is_none_or(|(_, _, s)| score > s) {
            best = Some((row, key_column, score));
        }
    }
    let (row, key_column, _) = best?;
    read_row(grid, row, &mut cells);
    let mut width = cells.len();
    let header_texts: Vec<String> = cells.iter().map(|c| c.text().trim().to_owned()).collect();

    // A row of group labels right above (a merged two-row header): two or
    // more text cells, nothing that looks like data, and not itself a title.
    let mut group_labels: Vec<String> = Vec::new();
    let mut group_row = None;
    if row > 0 {
        let mut above = Vec::new();
        read_row(grid, row - 1, &mut above);
        let filled: Vec<&Cell<'_>> = above.iter().filter(|c| c.is_filled()).collect();
        if filled.len() >= 2 && filled.iter().all(|c| c.is_text()) && above.len() <= width.max(1) {
            group_row = Some(row - 1);
            let mut current = String::new();
            for column in 0..width {
                if let Some(cell) = above.get(column).filter(|c| c.is_filled()) {
                    current = cell.text().trim().to_owned();
                }
                group_labels.push(current.clone());
            }
            width = width.max(above.len());
        }
    }
    // Columns cost memory each (names, profiles, mapping): at most as many
    // as a spreadsheet holds, whatever the file says.
    let cut = (width + grid.overflow(row) as usize).saturating_sub(MAX_COLUMNS);
    let width = width.min(MAX_COLUMNS);
    let mut names = Vec::with_capacity(width);
    let mut display = Vec::with_capacity(width);
    for column in 0..width {
        let sub = header_texts.get(column).cloned().unwrap_or_default();
        let group = group_labels.get(column).cloned().unwrap_or_default();
        let name = if sub.is_empty() {
            if group.is_empty() {
                format!("column {}", column_letter(column))
            } else {
                group.clone()
            }
        } else {
            sub.clone()
        };
        display.push(if !group.is_empty() && !sub.is_empty() {
            format!("{group} / {sub}")
        } else {
            name.clone()
        });
        names.push(name);
    }
    Some(Header {
        row,
        group_row,
        key_column,
        width,
        cut,
        display,
        names,
    })
}

fn profile(grid: &dyn Grid, header: &Header) -> Vec<Profile> {
    let mut profiles = vec![Profile::default(); header.width];
    let mut cells = Vec::new();
    let end = grid.height().min(header.row + 1 + PROFILE_ROWS);
    for row in header.row + 1..end {
        read_row(grid, row, &mut cells);
        for (column, cell) in cells.iter().enumerate().take(header.width) {
            if !cell.is_filled() {
                continue;
            }
            let p = &mut profiles[column];
            p.filled += 1;
            match cell {
                Cell::Number(n) => {
                    p.numbers += 1;
                    if *n == 0.0 || *n == 1.0 {
                        p.zero_one += 1;
                    }
                }
                Cell::Int(n) => {
                    p.numbers += 1;
                    if *n == 0 || *n == 1 {
                        p.zero_one += 1;
                    }
                }
                Cell::Bool(_) => p.booleans += 1,
                Cell::Date(_) => p.dates += 1,
                Cell::Text(text) => {
                    let text = text.trim();
                    if value::is_valid_gtin(text) {
                        p.gtins += 1;
                    }
                    if value::is_etim_class(text) {
                        p.etim_classes += 1;
                    } else if value::is_etim_feature(text) {
                        p.etim_features += 1;
                    }
                    if text == "0" || text == "1" {
                        p.zero_one += 1;
                    } else if value::parse_bool(text).is_some() {
                        p.booleans += 1;
                    }
                    if value::parse_date(text).is_some() {
                        p.dates += 1;
                    } else if looks_decimal(text, ',') {
                        p.comma_decimals += 1;
                        p.numbers += 1;
                    } else if looks_decimal(text, '.') {
                        p.point_decimals += 1;
                        p.numbers += 1;
                    } else if text.bytes().all(|b| b.is_ascii_digit()) {
                        p.numbers += 1;
                    }
                }
                Cell::Empty | Cell::Error(_) => {}
            }
        }
    }
    profiles
}

/// `12,5` or `12,5 W` with exactly one separator and digits on both sides.
fn looks_decimal(text: &str, separator: char) -> bool {
    let number = text.split(' ').next().unwrap_or("");
    let Some((integer, fraction)) = number.split_once(separator) else {
        return false;
    };
    // `1.234` may be a thousands group: no evidence either way.
    !integer.is_empty()
        && !fraction.is_empty()
        && fraction.len() != 3
        && integer
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

fn decimal_separator(profiles: &[Profile]) -> DecimalSeparator {
    let comma: u64 = profiles.iter().map(|p| p.comma_decimals).sum();
    let point: u64 = profiles.iter().map(|p| p.point_decimals).sum();
    if comma > point {
        DecimalSeparator::Comma
    } else {
        DecimalSeparator::Point
    }
}

fn repeated_key_share(grid: &dyn Grid, header: &Header) -> f64 {
    let mut seen = HashSet::new();
    let mut total = 0u64;
    let mut repeated = 0u64;
    let end = grid.height().min(header.row + 1 + PROFILE_ROWS);
    for row in header.row + 1..end {
        let cell = grid.cell(row, header.key_column);
        if !cell.is_filled() {
            continue;
        }
        total += 1;
        if !seen.insert(cell.text().trim().to_owned()) {
            repeated += 1;
        }
    }
    if total == 0 {
        0.0
    } else {
        repeated as f64 / total as f64
    }
}

fn map_columns(
    header: &Header,
    profiles: &[Profile],
    context: &TableContext<'_>,
    report: &mut TableReport,
) -> Vec<Column> {
    let mut taken: HashSet<CanonicalField> = HashSet::new();
    taken.insert(CanonicalField::ArticleNo);
    let mut columns = Vec::with_capacity(header.width);
    for (column, profile) in profiles.iter().enumerate().take(header.width) {
        let name = &header.names[column];
        let (base, header_unit) = strip_header_unit(name);
        let share = |count: u64| {
            if profile.filled == 0 {
                0.0
            } else {
                count as f32 / profile.filled as f32
            }
        };
        let (mut field, mut confidence, mut evidence) = if column == header.key_column {
            (Some(CanonicalField::ArticleNo), 1.0, "key")
        } else {
            match context.config.mapping_for(name) {
                Some(mapped) => (mapped, 1.0, "config"),
                None => match CanonicalField::from_header(name) {
                    Some(field) => {
                        let agreement = match field {
                            CanonicalField::Gtin => share(profile.gtins),
                            CanonicalField::EtimClass => share(profile.etim_classes),
                            f if f.kind() == FieldKind::Number => share(profile.numbers),
                            _ => 1.0 - share(profile.numbers) * 0.5,
                        };
                        (
                            Some(field),
                            0.6 + 0.4 * agreement.clamp(0.0, 1.0),
                            "synonym",
                        )
                    }
                    None if profile.filled >= 3 && share(profile.gtins) >= 0.9 => {
                        (Some(CanonicalField::Gtin), 0.8, "values")
                    }
                    None if profile.filled >= 3 && share(profile.etim_classes) >= 0.9 => {
                        (Some(CanonicalField::EtimClass), 0.8, "values")
                    }
                    None => (None, 1.0, "none"),
                },
            }
        };
        if let Some(f) = field
            && column != header.key_column
            && !taken.insert(f)
        {
            report.warnings.push(format!(
                "column {} `{}` also names {}; the first such column is used, this one stays an attribute",
                column_letter(column),
                name,
                f.column()
            ));
            field = None;
            confidence = 1.0;
            evidence = "none";
        }
        let kind = if profile.filled == 0 {
            "empty"
        } else if share(profile.booleans + profile.zero_one) >= 0.9 && profile.booleans > 0 {
            "boolean"
        } else if share(profile.dates) >= 0.9 {
            "date"
        } else if share(profile.numbers) >= 0.9 {
            "number"
        } else {
            "text"
        };
        let attribute = match field {
            Some(f) if column != header.key_column => f.column().to_owned(),
            _ => base.to_owned(),
        };
        report.columns.push(ColumnReport {
            column: column_letter(column),
            header: header.display[column].clone(),
            field: field.map(CanonicalField::column),
            confidence: (confidence * 100.0).round() / 100.0,
            evidence,
            unit: header_unit.map(str::to_owned),
            kind,
            filled: profile.filled,
        });
        columns.push(Column {
            letter: column_letter(column),
            display: header.display[column].clone(),
            attribute_hash: fnv1a(attribute.as_bytes()),
            attribute,
            field: if column == header.key_column {
                None
            } else {
                field
            },
            unit: header_unit.map(str::to_owned),
            boolean: kind == "boolean",
        });
    }
    columns
}

/// What makes two values the same for conflict detection: the number and
/// unit (`12,5 W` equals `12.5 W`), the day, or the text without case and
/// surrounding space. Hashed without building a string.
pub(crate) fn value_hash(typed: &value::Typed<'_>, unit: Option<&str>, original: &str) -> u64 {
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    if let Some(number) = typed.number {
        feed(b"n");
        feed(&(number + 0.0).to_bits().to_le_bytes());
        feed(unit.unwrap_or("").as_bytes());
    } else if let Some(days) = typed.date {
        feed(b"d");
        feed(&days.to_le_bytes());
    } else {
        feed(b"t");
        for ch in original.trim().chars() {
            if ch.is_ascii() {
                feed(&[ch.to_ascii_lowercase() as u8]);
            } else {
                for lower in ch.to_lowercase() {
                    feed(lower.encode_utf8(&mut [0; 4]).as_bytes());
                }
            }
        }
    }
    hash
}
