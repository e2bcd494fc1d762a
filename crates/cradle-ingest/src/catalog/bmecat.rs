//! BMEcat catalogues (1.2 `ARTICLE`, 2005 `PRODUCT`, any namespace
//! prefix), streamed with quick-xml: one record element (a product, an
//! article, a product-to-group mapping) is held as a [`Node`] tree at a
//! time, interpreted and written before the next is read.
//!
//! Legacy encodings named in the XML declaration (ISO-8859-1 is common in
//! BMEcat 1.2) and UTF-16 are decoded while streaming. A DOCTYPE that
//! declares entities is refused before anything is read (no entity is
//! ever expanded); a DOCTYPE that only names the DTD is fine and the DTD
//! is not fetched.

use super::{
    CatalogOut, Disposition, Item, Located, MAX_RECORD_BYTES, Node, PathStyle, Record, RowSpec,
    Scalar, XmlAttribute, currency_field, language, walk, without_indices,
};
use crate::output::SinkError;
use crate::products::CanonicalValue;
use cradle_core::fields::CanonicalField;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use std::io::{BufRead, BufReader, Read};

/// Elements nested deeper than this are a broken or hostile document.
const MAX_DEPTH: usize = 256;

/// Why a document could not be read to its end.
#[derive(Debug, Clone)]
pub struct DocumentError {
    pub message: String,
    /// 1-based line where reading stopped.
    pub line: u64,
    /// Byte offset (of the decoded text) where reading stopped.
    pub byte: u64,
    /// Cells of the broken record that had been read (rejected).
    pub unread_cells: u64,
    /// True when nothing of the document was read (refused up front).
    pub refused: bool,
}

/// The catalogue's defaults that its products rely on.
#[derive(Debug, Default)]
struct Defaults {
    languages: Vec<String>,
    currency: Option<String>,
}

/// An element being read outside records.
struct Frame {
    name: Box<str>,
    path_len: usize,
    attributes: Vec<XmlAttribute>,
    text: String,
    had_child: bool,
    /// Children seen so far by name, for `[n]` in paths.
    seen: Vec<(Box<str>, u32)>,
}

impl Frame {
    fn position(&mut self, name: &str) -> u32 {
        match self.seen.iter_mut().find(|(n, _)| &**n == name) {
            Some((_, count)) => {
                *count += 1;
                *count
            }
            None => {
                self.seen.push((name.into(), 1));
                1
            }
        }
    }
}

/// Counts the lines of what the XML reader consumed.
struct Lines<R> {
    inner: R,
    newlines: u64,
    bytes: u64,
}

impl<R: BufRead> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.newlines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        self.bytes += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Lines<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if let Ok(buffer) = self.inner.fill_buf() {
            let amount = amount.min(buffer.len());
            self.newlines += memchr::memchr_iter(b'\n', &buffer[..amount]).count() as u64;
            self.bytes += amount as u64;
        }
        self.inner.consume(amount);
    }
}

/// Decodes a legacy encoding to UTF-8 while streaming.
struct Transcode<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    out: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: BufRead> Read for Transcode<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.out.len() {
            if self.done {
                return Ok(0);
            }
            let source = self.inner.fill_buf()?;
            let last = source.is_empty();
            self.out.clear();
            self.out.resize(source.len() * 3 + 16, 0);
            let (_, read, written, _) = self.decoder.decode_to_utf8(source, &mut self.out, last);
            self.inner.consume(read);
            self.out.truncate(written);
            self.at = 0;
            self.done = last;
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The encoding of an XML document's bytes: a BOM, else the declaration's
/// `encoding`, else UTF-8.
fn encoding_of(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    if head.starts_with(b"\xFF\xFE") {
        return Some(encoding_rs::UTF_16LE);
    }
    if head.starts_with(b"\xFE\xFF") {
        return Some(encoding_rs::UTF_16BE);
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = memchr::memmem::find(head, b"?>")?;
    let declaration = std::str::from_utf8(&head[..end]).ok()?;
    let at = declaration.find("encoding")?;
    let rest = declaration[at + 8..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next()?;
    let label = rest[1..].split(quote).next()?;
    let encoding = encoding_rs::Encoding::for_label(label.trim().as_bytes())?;
    (encoding != encoding_rs::UTF_8).then_some(encoding)
}

/// Reads a BMEcat document into `out`. `Ok(Err(..))` is a document that
/// broke (or was refused); what was read before it is in `out`.
pub fn read<R: Read>(
    input: R,
    out: &mut CatalogOut<'_, '_, '_>,
) -> Result<Result<(), DocumentError>, SinkError> {
    let mut buffered = BufReader::with_capacity(64 * 1024, input);
    let head = match buffered.fill_buf() {
        Ok(head) => head.to_vec(),
        Err(error) => {
            return Ok(Err(DocumentError {
                message: format!("cannot read the file: {error}"),
                line: 1,
                byte: 0,
                unread_cells: 0,
                refused: true,
            }));
        }
    };
    let source: Box<dyn BufRead + '_> = match encoding_of(&head) {
        Some(encoding) => Box::new(BufReader::with_capacity(
            64 * 1024,
            Transcode {
                inner: buffered,
                decoder: encoding.new_decoder_with_bom_removal(),
                out: Vec::new(),
                at: 0,
                done: false,
            },
        )),
        None => Box::new(buffered),
    };
    let mut reader = Reader::from_reader(Lines {
        inner: source,
        newlines: 0,
        bytes: 0,
    });
    let config = reader.config_mut();
    config.check_end_names = true;
    config.trim_text(false);
    config.expand_empty_elements = false;
    let mut state = State {
        frames: Vec::new(),
        path: String::new(),
        record: Vec::new(),
        record_path: String::new(),
        record_weight: 0,
        defaults: Defaults::default(),
    };
    let mut buffer = Vec::new();
    loop {
        let line = 1 + reader.get_ref().newlines;
        buffer.clear();
        let event = match reader.read_event_into(&mut buffer) {
            Ok(event) => event,
            Err(error) => {
                let lines = reader.get_ref();
                return Ok(Err(state.broken(
                    format!("the XML is malformed: {error}"),
                    1 + lines.newlines,
                    reader.buffer_position(),
                    out,
                )?));
            }
        };
        let step = match event {
            Event::Start(start) => state.start(&start, line, false, out),
            Event::Empty(start) => state
                .start(&start, line, true, out)
                .and_then(|()| state.end(out)),
            Event::End(_) => state.end(out),
            Event::Text(text) => {
                state.text(&text.xml10_content());
                Ok(())
            }
            Event::CData(text) => {
                state.text(&text.xml10_content());
                Ok(())
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    _ => match &*reference {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        // Never expanded: kept as written.
                        other => format!("&{other};"),
                    },
                };
                state.text(&resolved);
                Ok(())
            }
            Event::DocType(doctype) => {
                if doctype.to_ascii_uppercase().contains("<!ENTITY") {
                    return Ok(Err(DocumentError {
                        message: "the DOCTYPE declares entities (`<!ENTITY`); documents that define entities are refused, none is expanded (an entity-expansion bomb guard)\nhint: export the catalogue without an internal DTD subset".into(),
                        line,
                        byte: reader.buffer_position(),
                        unread_cells: 0,
                        refused: true,
                    }));
                }
                Ok(())
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => Ok(()),
        };
        match step {
            Ok(()) => {}
            Err(Step::Sink(error)) => return Err(error),
            Err(Step::Broken(message)) => {
                let lines = reader.get_ref();
                return Ok(Err(state.broken(
                    message,
                    1 + lines.newlines,
                    reader.buffer_position(),
                    out,
                )?));
            }
        }
    }
    if !state.frames.is_empty() || !state.record.is_empty() {
        let lines = reader.get_ref();
        return Ok(Err(state.broken(
            "the document ends before its elements close (a truncated file?)".into(),
            1 + lines.newlines,
            reader.buffer_position(),
            out,
        )?));
    }
    Ok(Ok(()))
}

enum Step {
    Sink(SinkError),
    Broken(String),
}

impl From<SinkError> for Step {
    fn from(error: SinkError) -> Step {
        Step::Sink(error)
    }
}

struct State {
    /// Open elements outside the record being read.
    frames: Vec<Frame>,
    /// Their path, `/BMECAT/T_NEW_CATALOG`.
    path: String,
    /// Open elements of the record being read (empty outside records).
    record: Vec<Node>,
    record_path: String,
    record_weight: usize,
    defaults: Defaults,
}

/// Elements directly under a transaction (`T_NEW_CATALOG`, ...) that are
/// records, with the element holding their key.
const RECORDS: [&str; 4] = [
    "PRODUCT",
    "ARTICLE",
    "PRODUCT_TO_CATALOGGROUP_MAP",
    "ARTICLE_TO_CATALOGGROUP_MAP",
];
const KEYS: [&str; 4] = ["SUPPLIER_PID", "SUPPLIER_AID", "PROD_ID", "ART_ID"];

fn attributes_of(start: &BytesStart<'_>) -> Result<Vec<XmlAttribute>, Step> {
    let mut attributes = Vec::new();
    for attribute in start.attributes().with_checks(true) {
        let attribute =
            attribute.map_err(|e| Step::Broken(format!("the XML is malformed: {e}")))?;
        let key = attribute.key;
        let prefix = key.prefix().map(|p| p.as_ref().to_owned());
        let local = key.local_name().as_ref().to_owned();
        // Namespace declarations and schema hints carry no data.
        if key.as_ref() == "xmlns"
            || prefix.as_deref() == Some("xmlns")
            || prefix.as_deref() == Some("xsi")
        {
            continue;
        }
        let value = match attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
            Ok(value) => value.into_owned(),
            Err(_) => attribute.value.to_string(),
        };
        attributes.push(XmlAttribute {
            name: local.into(),
            value,
        });
    }
    Ok(attributes)
}

impl State {
    fn start(
        &mut self,
        start: &BytesStart<'_>,
        line: u64,
        _empty: bool,
        out: &mut CatalogOut<'_, '_, '_>,
    ) -> Result<(), Step> {
        let local = start.local_name();
        let name: &str = local.as_ref();
        let attributes = attributes_of(start)?;
        if !self.record.is_empty() {
            if self.record.len() >= MAX_DEPTH {
                return Err(Step::Broken(format!(
                    "elements nest deeper than {MAX_DEPTH} levels"
                )));
            }
            let mut node = Node::new(name, line);
            node.attributes = attributes;
            self.record_weight += node.weight();
            if self.record_weight > MAX_RECORD_BYTES {
                return Err(Step::Broken(format!(
                    "a record is larger than {} MiB",
                    MAX_RECORD_BYTES >> 20
                )));
            }
            self.record.push(node);
            return Ok(());
        }
        if self.frames.len() >= MAX_DEPTH {
            return Err(Step::Broken(format!(
                "elements nest deeper than {MAX_DEPTH} levels"
            )));
        }
        if self.frames.is_empty() {
            if name != "BMECAT" {
                return Err(Step::Broken(format!(
                    "the root element is `{name}`, not BMECAT"
                )));
            }
            if let Some(version) = attributes.iter().find(|a| &*a.name == "version") {
                out.catalog.version = format!("BMEcat {}", version.value);
            }
        }
        let position = match self.frames.last_mut() {
            Some(parent) => {
                parent.had_child = true;
                parent.position(name)
            }
            None => 1,
        };
        let is_record = self.frames.len() == 2
            && self.frames[1].name.starts_with("T_")
            && RECORDS.contains(&name);
        if is_record {
            self.record_path = format!("{}/{name}[{position}]", self.path);
            let mut node = Node::new(name, line);
            node.attributes = attributes;
            self.record_weight = node.weight();
            self.record.push(node);
            return Ok(());
        }
        let path_len = self.path.len();
        self.path.push('/');
        self.path.push_str(name);
        if position > 1 {
            self.path.push_str(&format!("[{position}]"));
        }
        self.frames.push(Frame {
            name: name.into(),
            path_len,
            attributes,
            text: String::new(),
            had_child: false,
            seen: Vec::new(),
        });
        Ok(())
    }

    fn text(&mut self, text: &str) {
        if let Some(node) = self.record.last_mut() {
            self.record_weight += text.len();
            match &mut node.value {
                Some(Scalar::Text(held)) => held.push_str(text),
                _ => node.value = Some(Scalar::Text(text.to_owned())),
            }
        } else if let Some(frame) = self.frames.last_mut() {
            // Text between the children of a big container is layout;
            // only a leaf's text is kept.
            if !frame.had_child && frame.text.len() < super::MAX_RECORD_BYTES {
                frame.text.push_str(text);
            }
        }
    }

    fn end(&mut self, out: &mut CatalogOut<'_, '_, '_>) -> Result<(), Step> {
        if let Some(mut node) = self.record.pop() {
            if node.value.as_ref().is_some_and(|v| v.is_blank()) {
                node.value = None;
            }
            match self.record.last_mut() {
                Some(parent) => parent.children.push(node),
                None => {
                    let path = std::mem::take(&mut self.record_path);
                    let record = interpret(&node, path, &self.defaults);
                    out.record(record)?;
                    self.record_weight = 0;
                }
            }
            return Ok(());
        }
        let Some(frame) = self.frames.pop() else {
            return Ok(());
        };
        let path = std::mem::take(&mut self.path);
        let text = frame.text.trim();
        if !frame.had_child && !text.is_empty() {
            out.header_cell(&path, text);
            self.defaults(&frame, &path, text);
        } else {
            if frame.had_child && !text.is_empty() {
                out.header_cell(&format!("{path}/text()"), text);
            }
            for attribute in &frame.attributes {
                out.header_cell(&format!("{path}/@{}", attribute.name), &attribute.value);
            }
        }
        self.path = path;
        self.path.truncate(frame.path_len);
        Ok(())
    }

    fn defaults(&mut self, frame: &Frame, path: &str, text: &str) {
        let mut parts = path.rsplit('/').map(|p| p.split('[').next().unwrap_or(p));
        let (leaf, parent) = (parts.next(), parts.next());
        match (parent, leaf) {
            (Some("CATALOG"), Some("LANGUAGE")) => {
                let default = frame
                    .attributes
                    .iter()
                    .any(|a| &*a.name == "default" && a.value.trim() == "true");
                if default {
                    self.defaults.languages.insert(0, text.to_owned());
                } else {
                    self.defaults.languages.push(text.to_owned());
                }
            }
            (Some("CATALOG"), Some("CURRENCY")) => self.defaults.currency = Some(text.to_owned()),
            _ => {}
        }
    }

    /// The error for a document that broke, with the broken record's cells
    /// rejected.
    fn broken(
        &mut self,
        message: String,
        line: u64,
        byte: u64,
        _out: &mut CatalogOut<'_, '_, '_>,
    ) -> Result<DocumentError, SinkError> {
        let mut unread = 0;
        while let Some(node) = self.record.pop() {
            match self.record.last_mut() {
                Some(parent) => parent.children.push(node),
                None => unread = node.cells(),
            }
        }
        Ok(DocumentError {
            message,
            line,
            byte,
            unread_cells: unread,
            refused: false,
        })
    }
}

/// The path of `located`'s node below `ancestor` (exclusive), without
/// indices: `FTEMPLATE/FT_NAME`.
fn below(located: &Located<'_, '_>, ancestor: usize, node: &Node) -> String {
    let mut parts: Vec<&str> = located.ancestors[ancestor + 1..]
        .iter()
        .map(|n| &*n.name)
        .collect();
    match located.item {
        Item::Value(_) => parts.push(&node.name),
        Item::Attribute(_, attribute) => {
            let last = format!("@{}", attribute.name);
            return parts
                .iter()
                .map(|p| p.to_string())
                .chain(std::iter::once(last))
                .collect::<Vec<_>>()
                .join("/");
        }
    }
    parts.join("/")
}

/// The qualifying attributes of a value as a name suffix (` (deu)`) and
/// a header suffix (`[@lang=deu]`).
fn qualifiers(node: &Node) -> (String, String) {
    if node.attributes.is_empty() {
        return (String::new(), String::new());
    }
    let values: Vec<&str> = node.attributes.iter().map(|a| a.value.trim()).collect();
    let header: String = node
        .attributes
        .iter()
        .map(|a| format!("[@{}={}]", a.name, a.value.trim()))
        .collect();
    (format!(" ({})", values.join(", ")), header)
}

fn interpret<'n>(root: &'n Node, path: String, defaults: &Defaults) -> Record<'n> {
    let mut record = Record::new(path.clone(), root.line, root.cells());
    let key_node = root
        .children
        .iter()
        .find(|c| KEYS.contains(&&*c.name) && c.text().is_some());
    let preferred_price = preferred_price(root);
    let mut walked_path = path;
    let mut relative = String::new();
    let mut ancestors = Vec::new();
    let mut derived = Vec::new();
    walk(
        PathStyle::Xml,
        root,
        &mut walked_path,
        &mut relative,
        &mut ancestors,
        &[],
        &mut |located| {
            let disposition = classify(&located, key_node, preferred_price, defaults, &mut derived);
            record.place(located, disposition);
        },
    );
    record.derived = derived;
    record
}

/// The price that becomes the product's `price`: the first net list
/// price, else the first price.
fn preferred_price(root: &Node) -> Option<*const Node> {
    let mut first = None;
    let mut net = None;
    fn visit<'n>(node: &'n Node, first: &mut Option<&'n Node>, net: &mut Option<&'n Node>) {
        for child in &node.children {
            if child.name.ends_with("_PRICE")
                && let Some(amount) = child
                    .children
                    .iter()
                    .find(|c| &*c.name == "PRICE_AMOUNT" && c.text().is_some())
            {
                first.get_or_insert(amount);
                if child.attribute("price_type") == Some("net_list") {
                    net.get_or_insert(amount);
                }
            }
            visit(child, first, net);
        }
    }
    visit(root, &mut first, &mut net);
    net.or(first).map(|n| n as *const Node)
}

fn classify(
    located: &Located<'_, '_>,
    key: Option<&Node>,
    preferred_price: Option<*const Node>,
    defaults: &Defaults,
    derived: &mut Vec<(CanonicalField, CanonicalValue)>,
) -> Disposition {
    let generic_name = without_indices(PathStyle::Xml, located.relative);
    let node = match located.item {
        Item::Attribute(..) => {
            return Disposition::Row(RowSpec::plain(generic_name, located.relative.to_owned()));
        }
        Item::Value(node) => node,
    };
    if key.is_some_and(|k| std::ptr::eq(k, node)) {
        return Disposition::Key;
    }
    let (name_suffix, header_suffix) = qualifiers(node);
    let header = format!("{}{header_suffix}", located.relative);
    let parent = located.ancestors.last().map(|p| &*p.name).unwrap_or("");
    let text = node.text().unwrap_or_default();

    if let Some(at) = located
        .ancestors
        .iter()
        .rposition(|a| &*a.name == "FEATURE")
    {
        return feature(located, at, node, &name_suffix, &header_suffix);
    }
    let field = |field: CanonicalField| {
        Disposition::Row(RowSpec {
            field: Some(field),
            ..RowSpec::plain(generic_name.clone(), header.clone())
        })
    };
    let details = parent.ends_with("_DETAILS");
    match &*node.name {
        "DESCRIPTION_SHORT" | "DESCRIPTION_LONG" if details => {
            let lang = node
                .attribute("lang")
                .map(str::to_owned)
                .or_else(|| defaults.languages.first().cloned());
            if let Some(language) = lang.as_deref().and_then(language) {
                return field(if &*node.name == "DESCRIPTION_SHORT" {
                    language.name_field()
                } else {
                    language.description_field()
                });
            }
        }
        "INTERNATIONAL_PID" | "EAN" if details => {
            let kind = node
                .attribute("type")
                .unwrap_or("gtin")
                .to_ascii_lowercase();
            if matches!(kind.as_str(), "gtin" | "ean") || &*node.name == "EAN" {
                return field(CanonicalField::Gtin);
            }
        }
        "MANUFACTURER_PID" | "MANUFACTURER_AID" if details => {
            return field(CanonicalField::ManufacturerNo);
        }
        "MANUFACTURER_NAME" if details => return field(CanonicalField::Brand),
        "REFERENCE_FEATURE_GROUP_ID" | "REFERENCE_FEATURE_GROUP_NAME"
            if parent.ends_with("_FEATURES") =>
        {
            let system = located
                .ancestors
                .last()
                .and_then(|p| p.child_text("REFERENCE_FEATURE_SYSTEM_NAME"))
                .unwrap_or_default();
            let etim = system.to_ascii_uppercase().starts_with("ETIM")
                || crate::value::is_etim_class(&text);
            if etim && &*node.name == "REFERENCE_FEATURE_GROUP_ID" {
                return field(CanonicalField::EtimClass);
            }
            let name = if system.is_empty() {
                format!("{generic_name}{name_suffix}")
            } else {
                format!("{generic_name} ({system})")
            };
            return Disposition::Row(RowSpec::plain(name, header));
        }
        "PRICE_AMOUNT" if parent.ends_with("_PRICE") => {
            let price = located.ancestors.last().expect("a parent");
            let currency = price
                .child_text("PRICE_CURRENCY")
                .or_else(|| defaults.currency.clone());
            let price_type = price.attribute("price_type").unwrap_or("").to_owned();
            let mut spec = RowSpec::plain(
                if price_type.is_empty() {
                    generic_name.clone()
                } else {
                    format!("{generic_name} ({price_type})")
                },
                header,
            );
            spec.unit = currency.clone();
            if preferred_price == Some(node as *const Node) {
                spec.field = Some(CanonicalField::Price);
                if let Some(currency) = &currency {
                    derived.push((
                        CanonicalField::Currency,
                        CanonicalValue::Text(currency.trim().to_owned()),
                    ));
                    if let (Some(column), Some(amount)) = (
                        currency_field(currency),
                        crate::value::parse_number(&text, crate::value::DecimalSeparator::Point),
                    ) {
                        derived.push((column, CanonicalValue::Number(amount)));
                    }
                }
            }
            return Disposition::Row(spec);
        }
        _ => {}
    }
    Disposition::Row(RowSpec::plain(
        format!("{generic_name}{name_suffix}"),
        header,
    ))
}

/// A cell inside a `FEATURE`: its values are rows named by the feature's
/// name (`FNAME`, or `FTEMPLATE/FT_ID` of the ontology variant) with the
/// unit of `FUNIT`; the name and unit themselves then only name them.
fn feature(
    located: &Located<'_, '_>,
    at: usize,
    node: &Node,
    name_suffix: &str,
    header_suffix: &str,
) -> Disposition {
    let feature = located.ancestors[at];
    let template = feature.child("FTEMPLATE");
    let name_node = feature
        .children
        .iter()
        .find(|c| &*c.name == "FNAME" && c.text().is_some())
        .or_else(|| {
            template.and_then(|t| {
                t.children
                    .iter()
                    .find(|c| &*c.name == "FT_ID" && c.text().is_some())
            })
        })
        .or_else(|| {
            template.and_then(|t| {
                t.children
                    .iter()
                    .find(|c| &*c.name == "FT_NAME" && c.text().is_some())
            })
        });
    let unit_node = feature
        .children
        .iter()
        .find(|c| &*c.name == "FUNIT" && c.text().is_some());
    let is_value = |c: &Node| matches!(&*c.name, "FVALUE" | "VALUE_IDREF") && c.text().is_some();
    let has_values = feature.children.iter().any(is_value);
    let feature_name = name_node.and_then(Node::text);
    let class = class_of(&located.ancestors[..at]);
    let own = below(located, at, node);
    let header = format!("{class} / {own}{header_suffix}");
    let is_item_value = matches!(located.item, Item::Value(_));
    if has_values && is_item_value {
        if name_node.is_some_and(|n| std::ptr::eq(n, node))
            || unit_node.is_some_and(|n| std::ptr::eq(n, node))
        {
            return Disposition::Header;
        }
        if at + 1 == located.ancestors.len() && is_value(node) {
            let mut spec = RowSpec::plain(
                format!(
                    "{}{name_suffix}",
                    feature_name.clone().unwrap_or_else(|| "FVALUE".into())
                ),
                header,
            );
            spec.unit = unit_node.and_then(Node::text);
            spec.feature = true;
            return Disposition::Row(spec);
        }
    }
    let name = match &feature_name {
        Some(feature_name) => format!("{feature_name}/{own}{name_suffix}"),
        None => format!("FEATURE/{own}{name_suffix}"),
    };
    Disposition::Row(RowSpec::plain(name, header))
}

/// The classification a feature belongs to: the nearest feature group or
/// features block that names a group, with its system (`ETIM-8.0
/// EC001744`, `ECLASS-9.0 27141137`).
fn class_of(ancestors: &[&Node]) -> String {
    let system = ancestors
        .iter()
        .rev()
        .find(|a| a.name.ends_with("_FEATURES"))
        .and_then(|a| a.child_text("REFERENCE_FEATURE_SYSTEM_NAME"));
    let group = ancestors.iter().rev().find_map(|a| {
        a.child_text("REFERENCE_FEATURE_GROUP_ID")
            .or_else(|| a.child_text("REFERENCE_FEATURE_GROUP_NAME"))
    });
    match (system, group) {
        (Some(system), Some(group)) => format!("{system} {group}"),
        (Some(system), None) => system,
        (None, Some(group)) => group,
        (None, None) => "features".into(),
    }
}
