//! Product catalogues in the trade's own exchange formats: BMEcat (XML,
//! 1.2 and 2005, any namespace prefix) and ETIM xChange (JSON, 1.x and
//! 2.0). Both are streamed: one product is held at a time, as a small tree
//! ([`Node`]), and interpreted into attribute rows before the next is read.
//!
//! The accounting promise of tables holds here with the catalogue's own
//! units. A *cell* is a value that carries data: an element's non-blank
//! text (its own attributes, such as `lang` or `type`, qualify it and
//! travel with it in the row's `header`), an attribute of an element that
//! has children or no text (each one cell), a non-blank JSON scalar. A
//! *record* is a product (a trade item of xChange beyond a product's first,
//! or a BMEcat product-to-group mapping). Every cell of a record is
//!
//! - the record's key (`SUPPLIER_PID`, `SUPPLIER_AID`, `SupplierItemNumber`),
//! - a feature's name or unit, which names its value rows the way a column
//!   header names a table's cells (`header_cells`),
//! - or one attribute row (`data_points`), with its XML path or JSON
//!   pointer in `source_sheet`, the path inside the record in
//!   `source_column` and the line in `source_row`; canonical fields are
//!   attribute rows with `field` set, as in tables.
//!
//! Cells outside records (BMEcat `HEADER`, group systems; the xChange
//! catalogue and supplier fields) are `header_cells`, listed in the file
//! report. A record without a key is rejected (`no_key`) with all its
//! cells. A document that breaks (malformed XML or JSON, a record beyond
//! [`MAX_RECORD_BYTES`]) stops there: the records before it were whole and
//! stay loaded, the broken record's cells read so far are rejected, and
//! the error names the line; what follows cannot be counted.

pub mod bmecat;
pub mod xchange;

use crate::output::{AttributeValue, RejectedRecord, SinkError};
use crate::products::{CanonicalValue, Rank, fnv1a};
use crate::table::{Emitter, TableReport};
use crate::value::{self, DecimalSeparator};
use cradle_core::accounting::{Balance, RejectReason};
use cradle_core::fields::CanonicalField;
use serde::Serialize;
use std::collections::HashSet;

/// A catalogue format, found by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogFormat {
    Bmecat,
    Xchange,
}

/// Bytes of a record (its text) held at most: a product is a few
/// kilobytes; one of 64 MiB is a broken or hostile file.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// Header values listed in the file report (all are counted).
const HEADER_LISTED: usize = 200;
/// Media references not found in the delivery, listed in the report.
const MISSING_LISTED: usize = 20;

impl CatalogFormat {
    /// The name in the file report's `format`.
    pub fn name(self) -> &'static str {
        match self {
            CatalogFormat::Bmecat => "bmecat",
            CatalogFormat::Xchange => "etim-xchange",
        }
    }

    /// The format of a file by its first bytes: an XML document whose root
    /// element is `BMECAT` (any prefix), or a JSON object with the
    /// catalogue fields of ETIM xChange.
    pub fn sniff(head: &[u8]) -> Option<CatalogFormat> {
        let utf16 = head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF");
        let ascii: Vec<u8>;
        let head = if utf16 {
            // UTF-16 XML: the ASCII of it is enough to find the root.
            ascii = head
                .iter()
                .copied()
                .filter(|&b| b != 0 && b < 0x80)
                .collect();
            &ascii[..]
        } else {
            head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head)
        };
        let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
        let text = &head[start..];
        if text.first() == Some(&b'{') {
            let has = |needle: &[u8]| memchr::memmem::find(text, needle).is_some();
            return (has(b"\"CatalogueId\"") || has(b"\"SchemaVersion\"") && has(b"\"Supplier\""))
                .then_some(CatalogFormat::Xchange);
        }
        root_element(text)
            .filter(|name| {
                let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
                local == b"BMECAT"
            })
            .map(|_| CatalogFormat::Bmecat)
    }
}

/// The name of the first element of an XML document's head, after the
/// declaration, comments, processing instructions and a DOCTYPE.
fn root_element(mut text: &[u8]) -> Option<&[u8]> {
    loop {
        let at = text.iter().position(|b| !b.is_ascii_whitespace())?;
        text = &text[at..];
        if text.starts_with(b"<?") {
            text = &text[memchr::memmem::find(text, b"?>")? + 2..];
        } else if text.starts_with(b"<!--") {
            text = &text[memchr::memmem::find(text, b"-->")? + 3..];
        } else if text.starts_with(b"<!") {
            let close = match (memchr::memchr(b'[', text), memchr::memchr(b'>', text)) {
                (Some(open), Some(gt)) if open < gt => {
                    open + memchr::memmem::find(&text[open..], b"]")?
                }
                _ => 0,
            };
            text = &text[close + memchr::memchr(b'>', &text[close..])? + 1..];
        } else if text.first() == Some(&b'<') {
            let name = &text[1..];
            let end = name
                .iter()
                .position(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'))
                .unwrap_or(name.len());
            return (end > 0).then_some(&name[..end]);
        } else {
            return None;
        }
    }
}

/// A value of the document, as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Text(String),
    /// A JSON number, in Rust's shortest form.
    Number(f64),
    Bool(bool),
}

impl Scalar {
    fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Scalar::Text(text) => text.as_str().into(),
            Scalar::Number(n) => crate::grid::format_number(*n).into(),
            Scalar::Bool(b) => if *b { "true" } else { "false" }.into(),
        }
    }

    fn is_blank(&self) -> bool {
        matches!(self, Scalar::Text(text) if text.trim().is_empty())
    }
}

/// An attribute of an XML element.
#[derive(Debug, Clone)]
pub struct XmlAttribute {
    pub name: Box<str>,
    pub value: String,
}

/// One element (XML) or member (JSON) of a record.
#[derive(Debug, Clone)]
pub struct Node {
    /// The local name (XML), the key or the array index (JSON).
    pub name: Box<str>,
    /// 1-based line where it starts.
    pub line: u64,
    /// The text (XML: of an element without children, or the non-blank
    /// text between children), or a JSON scalar.
    pub value: Option<Scalar>,
    pub attributes: Vec<XmlAttribute>,
    pub children: Vec<Node>,
}

impl Node {
    pub fn new(name: &str, line: u64) -> Node {
        Node {
            name: name.into(),
            line,
            value: None,
            attributes: Vec::new(),
            children: Vec::new(),
        }
    }

    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| &*c.name == name)
    }

    /// The non-blank text of the first child called `name`.
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.children
            .iter()
            .filter(|c| &*c.name == name)
            .find_map(Node::text)
    }

    /// The node's own value, when it carries data.
    pub fn text(&self) -> Option<String> {
        self.value
            .as_ref()
            .filter(|v| !v.is_blank())
            .map(|v| v.text().trim().to_owned())
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| &*a.name == name)
            .map(|a| a.value.as_str())
    }

    /// Whether the node's value is a cell of its own (attributes then
    /// qualify it); otherwise each attribute is.
    fn value_is_cell(&self) -> bool {
        self.value.as_ref().is_some_and(|v| !v.is_blank())
    }

    /// Cells of this node and everything under it.
    pub fn cells(&self) -> u64 {
        cells_without(self, &[])
    }

    /// Bytes of text held, for the record bound.
    pub fn weight(&self) -> usize {
        64 + self.name.len()
            + match &self.value {
                Some(Scalar::Text(text)) => text.len(),
                _ => 8,
            }
            + self
                .attributes
                .iter()
                .map(|a| a.name.len() + a.value.len() + 16)
                .sum::<usize>()
    }
}

/// How paths are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathStyle {
    /// `/BMECAT/T_NEW_CATALOG/PRODUCT[17]/PRODUCT_FEATURES/FEATURE[3]/FVALUE`:
    /// an index where a name repeats among siblings.
    Xml,
    /// A JSON pointer (RFC 6901): `/Supplier/0/Product/17/EtimFeatures/3`.
    Json,
}

/// One cell met while walking a record.
pub enum Item<'n> {
    /// A node whose value is a cell.
    Value(&'n Node),
    /// An attribute that is a cell of its own.
    Attribute(&'n Node, &'n XmlAttribute),
}

/// What a record's cell becomes.
pub enum Disposition {
    /// The record's key.
    Key,
    /// Names or qualifies other rows (a feature's name or unit).
    Header,
    Row(RowSpec),
}

/// An attribute row, as the format's interpretation sees it.
pub struct RowSpec {
    pub attribute: String,
    pub header: String,
    pub field: Option<CanonicalField>,
    pub unit: Option<String>,
    /// A stated reason for no value (ETIM `ReasonNoValue`).
    pub no_value: bool,
    /// A feature value (counted in the report).
    pub feature: bool,
}

impl RowSpec {
    pub fn plain(attribute: String, header: String) -> RowSpec {
        RowSpec {
            attribute,
            header,
            field: None,
            unit: None,
            no_value: false,
            feature: false,
        }
    }
}

/// The path segment of `node` among `siblings`.
fn segment(style: PathStyle, node: &Node, siblings: &[Node], out: &mut String) {
    out.push('/');
    match style {
        PathStyle::Json => {
            for ch in node.name.chars() {
                match ch {
                    '~' => out.push_str("~0"),
                    '/' => out.push_str("~1"),
                    _ => out.push(ch),
                }
            }
        }
        PathStyle::Xml => {
            out.push_str(&node.name);
            let same = siblings.iter().filter(|s| s.name == node.name).count();
            if same > 1 {
                let position = siblings
                    .iter()
                    .take_while(|s| !std::ptr::eq(*s, node))
                    .filter(|s| s.name == node.name)
                    .count()
                    + 1;
                out.push_str(&format!("[{position}]"));
            }
        }
    }
}

/// A cell with where it is: the full path, the path inside the record,
/// and the nodes from the record down to (not including) the cell's node.
pub struct Located<'n, 'a> {
    pub item: Item<'n>,
    pub path: &'a str,
    pub relative: &'a str,
    pub ancestors: &'a [&'n Node],
}

/// Visits every cell under `node` (not `node` itself, which the caller
/// places), in document order, skipping the subtrees in `skip`.
pub fn walk<'n>(
    style: PathStyle,
    node: &'n Node,
    path: &mut String,
    relative: &mut String,
    ancestors: &mut Vec<&'n Node>,
    skip: &[*const Node],
    each: &mut dyn FnMut(Located<'n, '_>),
) {
    ancestors.push(node);
    let value_cell = node.value_is_cell();
    if !value_cell || !node.children.is_empty() {
        for attribute in &node.attributes {
            let (p, r) = (path.len(), relative.len());
            path.push_str("/@");
            path.push_str(&attribute.name);
            if !relative.is_empty() {
                relative.push('/');
            }
            relative.push('@');
            relative.push_str(&attribute.name);
            each(Located {
                item: Item::Attribute(node, attribute),
                path,
                relative,
                ancestors: &ancestors[..ancestors.len() - 1],
            });
            path.truncate(p);
            relative.truncate(r);
        }
    }
    if value_cell && !node.children.is_empty() {
        let (p, r) = (path.len(), relative.len());
        path.push_str("/text()");
        relative.push_str(if relative.is_empty() {
            "text()"
        } else {
            "/text()"
        });
        each(Located {
            item: Item::Value(node),
            path,
            relative,
            ancestors: &ancestors[..ancestors.len() - 1],
        });
        path.truncate(p);
        relative.truncate(r);
    }
    for child in &node.children {
        if skip.contains(&(child as *const Node)) {
            continue;
        }
        let (p, r) = (path.len(), relative.len());
        segment(style, child, &node.children, path);
        let mut own = String::new();
        segment(style, child, &node.children, &mut own);
        if relative.is_empty() {
            relative.push_str(&own[1..]);
        } else {
            relative.push_str(&own);
        }
        if child.value_is_cell() && child.children.is_empty() {
            ancestors.push(child);
            each(Located {
                item: Item::Value(child),
                path,
                relative,
                ancestors: &ancestors[..ancestors.len() - 1],
            });
            ancestors.pop();
        } else {
            walk(style, child, path, relative, ancestors, skip, each);
        }
        path.truncate(p);
        relative.truncate(r);
    }
    ancestors.pop();
}

/// Cells under `node` outside the subtrees in `skip`.
pub fn cells_without(node: &Node, skip: &[*const Node]) -> u64 {
    if skip.contains(&(node as *const Node)) {
        return 0;
    }
    let own = if node.value_is_cell() {
        1 + if node.children.is_empty() {
            0
        } else {
            node.attributes.len() as u64
        }
    } else {
        node.attributes.len() as u64
    };
    own + node
        .children
        .iter()
        .map(|c| cells_without(c, skip))
        .sum::<u64>()
}

/// What the file report says about a catalogue, besides the balance.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CatalogReport {
    /// `BMEcat 2005`, `BMEcat 1.2`, `ETIM xChange 2.0`, ...
    pub version: String,
    /// Records: products (and trade items, group mappings) read.
    pub records: u64,
    /// Feature values loaded as attribute rows.
    pub feature_values: u64,
    /// Cells outside records (catalogue header, group systems), counted
    /// as `header_cells`; the first ones listed as `path = value`.
    pub header_cells: u64,
    pub header: Vec<String>,
    /// Media and attachment references (file names or URLs), and how many
    /// of them name a file of this delivery.
    pub media_references: u64,
    pub media_delivered: u64,
    /// The first references that name no delivered file.
    pub media_missing: Vec<String>,
}

/// What a catalogue reader needs around it: where rows go, the file's
/// table report and counters.
pub struct CatalogOut<'o, 'e, 'd> {
    pub path: &'o str,
    pub rank: u32,
    pub out: &'o mut Emitter<'e>,
    pub table: TableReport,
    pub catalog: CatalogReport,
    /// Lower-cased last path segments of the delivered files.
    pub delivered: &'d HashSet<String>,
    pub invalid_gtins: u64,
}

/// A record ready to be written: its key cell, the cells that name
/// others, and its rows.
pub struct Record<'n> {
    pub key: Option<String>,
    /// The record's path (`source_sheet` of a rejected record).
    pub path: String,
    pub line: u64,
    pub cells: u64,
    pub header_cells: u64,
    pub rows: Vec<(RowSpec, &'n Node, Option<&'n XmlAttribute>, String, String)>,
    /// Canonical values that no single cell holds (the catalogue's
    /// currency for its prices).
    pub derived: Vec<(CanonicalField, CanonicalValue)>,
}

impl<'n> Record<'n> {
    pub fn new(path: String, line: u64, cells: u64) -> Record<'n> {
        Record {
            key: None,
            path,
            line,
            cells,
            header_cells: 0,
            rows: Vec::new(),
            derived: Vec::new(),
        }
    }

    /// Places one cell as its disposition says.
    pub fn place(&mut self, located: Located<'n, '_>, disposition: Disposition) {
        let (node, attribute) = match located.item {
            Item::Value(node) => (node, None),
            Item::Attribute(node, attribute) => (node, Some(attribute)),
        };
        match disposition {
            Disposition::Key if self.key.is_none() && attribute.is_none() => {
                self.key = node.text();
            }
            Disposition::Key => self.rows.push((
                RowSpec::plain(located.relative.to_owned(), located.relative.to_owned()),
                node,
                attribute,
                located.path.to_owned(),
                located.relative.to_owned(),
            )),
            Disposition::Header => self.header_cells += 1,
            Disposition::Row(spec) => self.rows.push((
                spec,
                node,
                attribute,
                located.path.to_owned(),
                located.relative.to_owned(),
            )),
        }
    }
}

impl CatalogOut<'_, '_, '_> {
    /// Counts a cell outside records; lists it while there is room.
    pub fn header_cell(&mut self, path: &str, value: &str) {
        self.catalog.header_cells += 1;
        self.table.balance.header_cells += 1;
        self.table.balance.non_empty_cells += 1;
        if self.catalog.header.len() < HEADER_LISTED {
            let mut value = value.trim().to_owned();
            if value.len() > 200 {
                let mut end = 200;
                while !value.is_char_boundary(end) {
                    end -= 1;
                }
                value.truncate(end);
                value.push('…');
            }
            self.catalog.header.push(format!("{path} = {value}"));
        }
    }

    /// Checks a media reference against the delivered files.
    fn media(&mut self, reference: &str) {
        self.catalog.media_references += 1;
        let name = reference
            .trim()
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .trim_end_matches(['/', '\\'])
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .to_lowercase();
        if self.delivered.contains(&name) {
            self.catalog.media_delivered += 1;
        } else if self.catalog.media_missing.len() < MISSING_LISTED
            && !self.catalog.media_missing.iter().any(|m| m == reference)
        {
            self.catalog.media_missing.push(reference.to_owned());
        }
    }

    /// Writes one record: rejected without a key, else its rows.
    pub fn record(&mut self, record: Record<'_>) -> Result<(), SinkError> {
        self.catalog.records += 1;
        let Some(key) = record.key.clone() else {
            return self.reject(&record, RejectReason::NoKey);
        };
        let rank = Rank {
            file: self.rank,
            sheet: 0,
            row: record.line,
        };
        // The cells are counted from the tree, their places from the
        // interpretation: a cell placed twice or not at all breaks the
        // balance instead of passing unseen.
        let balance = &mut self.table.balance;
        balance.rows += 1;
        balance.loaded_rows += 1;
        balance.key_cells += 1;
        balance.header_cells += record.header_cells;
        balance.data_points += record.rows.len() as u64;
        balance.non_empty_cells += record.cells;
        // Typed values first: the product's state borrows the emitter
        // while it is updated, the rows are written after.
        let mut prepared = Vec::with_capacity(record.rows.len());
        let mut invalid_gtins = 0;
        for (spec, node, attribute, _, _) in &record.rows {
            let original: std::borrow::Cow<'_, str> = match attribute {
                Some(attribute) => attribute.value.as_str().into(),
                None => node.value.as_ref().map(Scalar::text).unwrap_or_default(),
            };
            let mut typed = value::parse(&original, DecimalSeparator::Point);
            let (number, boolean, date, parsed_unit) = (
                typed.number,
                typed.boolean,
                typed.date,
                typed.unit.map(str::to_owned),
            );
            let (mut number, mut boolean) = (number, boolean);
            match (&node.value, attribute) {
                (Some(Scalar::Bool(b)), None) => boolean = Some(*b),
                (Some(Scalar::Number(n)), None) => number = Some(*n),
                _ => {}
            }
            typed.no_value = typed.no_value || spec.no_value;
            let no_value = typed.no_value;
            let (number, boolean, date) = if spec.no_value {
                (None, None, None)
            } else {
                (number, boolean, date)
            };
            let canonical = match spec.field {
                None => None,
                Some(field) if field.kind() == cradle_core::fields::FieldKind::Number => {
                    number.map(CanonicalValue::Number)
                }
                Some(CanonicalField::Gtin) => {
                    if value::is_valid_gtin(original.trim()) {
                        Some(CanonicalValue::Text(original.trim().to_owned()))
                    } else {
                        invalid_gtins += 1;
                        None
                    }
                }
                Some(_) => Some(CanonicalValue::Text(original.trim().to_owned())),
            };
            let unit = spec.unit.clone().or(parsed_unit);
            prepared.push((original, number, boolean, date, unit, no_value, canonical));
        }
        self.invalid_gtins += invalid_gtins;
        let (product, first, mut grown) = self.out.products.touch(&key);
        self.table.products += u64::from(first);
        product.record();
        for (field, value) in &record.derived {
            grown += 64;
            product.canonical(*field, value.clone(), rank);
        }
        for ((spec, ..), (original, number, _, date, unit, _, canonical)) in
            record.rows.iter().zip(&prepared)
        {
            let attribute_name = match spec.field {
                Some(field) => field.column(),
                None => spec.attribute.as_str(),
            };
            let attribute_hash = fnv1a(attribute_name.as_bytes());
            // Hashed as tables hash a value, so the same value from a
            // spreadsheet is the same; a price without its currency (the
            // currency is a field of its own).
            let typed = value::Typed {
                number: *number,
                date: *date,
                ..value::Typed::default()
            };
            let unit = if spec.field.is_some() {
                None
            } else {
                unit.as_deref()
            };
            let value_hash = crate::table::value_hash(&typed, unit, original);
            if let (Some(field), Some(value)) = (spec.field, canonical) {
                grown += 72
                    + match value {
                        CanonicalValue::Text(text) => text.len(),
                        CanonicalValue::Number(_) => 0,
                    };
                product.canonical(field, value.clone(), rank);
                // Canonical fields are compared across files, as the
                // columns of one-row-per-product tables are.
                product.attribute(attribute_hash, value_hash, true);
            } else {
                product.attribute(attribute_hash, value_hash, false);
            }
        }
        self.out.products.grew(grown, self.out.runs())?;
        for ((spec, node, _, path, relative), row) in record.rows.iter().zip(&prepared) {
            let (original, number, boolean, date, unit, no_value, _) = row;
            if spec.feature {
                self.catalog.feature_values += 1;
            }
            if is_media(&spec.attribute) {
                self.media(original);
            }
            let value = AttributeValue {
                article_no: &key,
                attribute: match spec.field {
                    Some(field) => field.column(),
                    None => spec.attribute.as_str(),
                },
                header: &spec.header,
                field: spec.field.map(CanonicalField::column),
                original,
                number: *number,
                boolean: *boolean,
                date: *date,
                unit: unit.as_deref(),
                no_value: *no_value,
                file: self.path,
                sheet: Some(path),
                row: node.line,
                column: relative,
            };
            self.out.attribute(&value)?;
        }
        Ok(())
    }

    /// Rejects a whole record with all its cells.
    pub fn reject(&mut self, record: &Record<'_>, reason: RejectReason) -> Result<(), SinkError> {
        self.table.balance.reject(reason, record.cells);
        let content: Vec<String> = record
            .rows
            .iter()
            .take(200)
            .map(|(_, node, attribute, _, relative)| {
                let value = match attribute {
                    Some(a) => a.value.clone(),
                    None => node
                        .value
                        .as_ref()
                        .map(|v| v.text().into_owned())
                        .unwrap_or_default(),
                };
                format!("{relative} = {value}")
            })
            .collect();
        let content = serde_json::to_string(&content).unwrap_or_default();
        let detail = format!(
            "{}, line {}: {}",
            record.path,
            record.line,
            reason.explain()
        );
        self.out.reject(&RejectedRecord {
            file: self.path,
            sheet: Some(&record.path),
            row: Some(record.line),
            reason: reason.as_str(),
            detail: &detail,
            cells: record.cells,
            content: &content,
        })
    }

    /// Closes the report: warnings for what is worth a look.
    pub fn finish(mut self) -> (TableReport, CatalogReport) {
        if self.invalid_gtins > 0 {
            self.table.warnings.push(format!(
                "{} GTIN values have a wrong check digit or length; kept as attributes, not as the product's GTIN",
                self.invalid_gtins
            ));
        }
        let missing = self.catalog.media_references - self.catalog.media_delivered;
        if missing > 0 {
            self.table.warnings.push(format!(
                "{missing} of {} media references name no file of this delivery (first: {})",
                self.catalog.media_references,
                self.catalog
                    .media_missing
                    .first()
                    .map_or("", String::as_str)
            ));
        }
        if self
            .table
            .balance
            .rejected_by_reason
            .contains_key(&RejectReason::NoKey)
        {
            self.table.warnings.push(format!(
                "{} records have no article number and were rejected",
                self.table.balance.rejected_by_reason[&RejectReason::NoKey]
            ));
        }
        (self.table, self.catalog)
    }
}

/// Whether an attribute names a media file or link.
fn is_media(attribute: &str) -> bool {
    let last = attribute.rsplit('/').next().unwrap_or(attribute);
    let last = last.split(' ').next().unwrap_or(last);
    matches!(
        last,
        "MIME_SOURCE" | "AttachmentFilename" | "AttachmentUri" | "SupplierAttachments"
    )
}

/// A new table report for a catalogue.
pub fn table_report(key: &str) -> TableReport {
    TableReport {
        sheet: None,
        header_row: None,
        header_rows: 0,
        key_column: Some(key.to_owned()),
        layout: "catalog",
        decimal_separator: Some(DecimalSeparator::Point.as_str()),
        products: 0,
        balance: Balance::default(),
        columns: Vec::new(),
        warnings: Vec::new(),
    }
}

/// The language of a language tag or BMEcat code, as the canonical name
/// and description fields know it.
pub fn language(tag: &str) -> Option<Language> {
    let tag = tag.trim().to_ascii_lowercase();
    let primary = tag.split(['-', '_']).next().unwrap_or("");
    match primary {
        "de" | "deu" | "ger" => Some(Language::German),
        "en" | "eng" => Some(Language::English),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    German,
    English,
}

impl Language {
    pub fn name_field(self) -> CanonicalField {
        match self {
            Language::German => CanonicalField::NameDe,
            Language::English => CanonicalField::NameEn,
        }
    }

    pub fn description_field(self) -> CanonicalField {
        match self {
            Language::German => CanonicalField::DescriptionDe,
            Language::English => CanonicalField::DescriptionEn,
        }
    }
}

/// A price currency's canonical price column.
pub fn currency_field(currency: &str) -> Option<CanonicalField> {
    match currency.trim().to_ascii_uppercase().as_str() {
        "EUR" => Some(CanonicalField::PriceEur),
        "CHF" => Some(CanonicalField::PriceChf),
        _ => None,
    }
}

/// A path without its indices (`PRODUCT_DETAILS/DESCRIPTION_SHORT`), for
/// attribute names: the same element of every record has the same name.
pub fn without_indices(style: PathStyle, relative: &str) -> String {
    match style {
        PathStyle::Xml => {
            let mut out = String::with_capacity(relative.len());
            let mut skipping = false;
            for ch in relative.chars() {
                match ch {
                    '[' => skipping = true,
                    ']' => skipping = false,
                    _ if !skipping => out.push(ch),
                    _ => {}
                }
            }
            out
        }
        PathStyle::Json => relative
            .split('/')
            .filter(|s| !s.bytes().all(|b| b.is_ascii_digit()))
            .collect::<Vec<_>>()
            .join("/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        let check = |head: &str, expected: Option<CatalogFormat>| {
            assert_eq!(CatalogFormat::sniff(head.as_bytes()), expected, "{head}");
        };
        check(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE BMECAT SYSTEM \"bmecat_new_catalog.dtd\">\n<BMECAT version=\"1.2\">",
            Some(CatalogFormat::Bmecat),
        );
        check(
            "\u{feff}<!-- x --><bme:BMECAT xmlns:bme=\"x\">",
            Some(CatalogFormat::Bmecat),
        );
        check("<?xml version=\"1.0\"?><workbook/>", None);
        check(
            "{\n \"SchemaVersion\": \"2.0\", \"CatalogueId\": \"x\"",
            Some(CatalogFormat::Xchange),
        );
        check("{\"a\": 1}", None);
        check("Artikelnummer;Name\n1;x", None);
    }

    #[test]
    fn paths_lose_their_indices_for_names() {
        assert_eq!(
            without_indices(PathStyle::Xml, "PRODUCT_FEATURES[2]/FEATURE[3]/FVALUE"),
            "PRODUCT_FEATURES/FEATURE/FVALUE"
        );
        assert_eq!(
            without_indices(
                PathStyle::Json,
                "EtimClassification/0/EtimFeatures/3/EtimValueCode"
            ),
            "EtimClassification/EtimFeatures/EtimValueCode"
        );
    }
}
