//! ETIM xChange catalogues (JSON, 1.x and 2.0), streamed with serde_json:
//! the catalogue object is visited key by key, its `Supplier` array
//! supplier by supplier, and each supplier's `Product` array one product
//! at a time, held as a [`Node`] tree (with the line of every value),
//! interpreted and written before the next is parsed.
//!
//! A product's key is the supplier's item number of its first trade item
//! (`TradeItem/0/ItemIdentification/SupplierItemNumber`), else the
//! manufacturer's product number. Every further trade item is a record
//! of its own, keyed by its own item number: its prices and order details
//! belong to that article.

use super::bmecat::DocumentError;
use super::{
    CatalogOut, Disposition, Item, Located, MAX_RECORD_BYTES, Node, PathStyle, Record, RowSpec,
    Scalar, cells_without, currency_field, language, walk, without_indices,
};
use crate::output::SinkError;
use crate::products::CanonicalValue;
use cradle_core::fields::CanonicalField;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::cell::{Cell, RefCell};
use std::io::Read;

/// Counts the lines of what the JSON parser consumed (it reads a byte at
/// a time, so the count is exact up to one byte of look-ahead).
struct Lines<R> {
    inner: R,
    newlines: std::rc::Rc<Cell<u64>>,
    last: std::rc::Rc<Cell<u8>>,
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            let newlines = memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
            self.newlines.set(self.newlines.get() + newlines);
            self.last.set(buf[n - 1]);
        }
        Ok(n)
    }
}

/// Where the parser is, shared by the visitors.
struct Position {
    newlines: std::rc::Rc<Cell<u64>>,
    last: std::rc::Rc<Cell<u8>>,
}

impl Position {
    /// The line of the value just parsed (a number's end is found by
    /// reading one byte past it, which may be the line's end).
    fn line(&self) -> u64 {
        1 + self.newlines.get() - u64::from(self.last.get() == b'\n' && self.newlines.get() > 0)
    }
}

/// What the visitors write into; errors of the sink travel out of serde
/// as a custom error and are taken back from here.
struct Context<'c, 'o, 'e, 'd> {
    out: &'c mut CatalogOut<'o, 'e, 'd>,
    sink_error: Option<SinkError>,
    currency: Option<String>,
    /// Bytes of the product being read.
    weight: usize,
    /// Cells of the product being read when the document broke inside it.
    partial: u64,
    position: Position,
    products: u64,
}

/// Reads an ETIM xChange document into `out`. `Ok(Err(..))` is a document
/// that broke; what was read before it is in `out`.
pub fn read<R: Read>(
    input: R,
    out: &mut CatalogOut<'_, '_, '_>,
) -> Result<Result<(), DocumentError>, SinkError> {
    let newlines = std::rc::Rc::new(Cell::new(0));
    let last = std::rc::Rc::new(Cell::new(0u8));
    let reader = Lines {
        inner: std::io::BufReader::with_capacity(64 * 1024, input),
        newlines: newlines.clone(),
        last: last.clone(),
    };
    let context = RefCell::new(Context {
        out,
        sink_error: None,
        currency: None,
        weight: 0,
        partial: 0,
        position: Position { newlines, last },
        products: 0,
    });
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let result = Catalogue { context: &context }
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    let mut context = context.into_inner();
    if let Some(error) = context.sink_error.take() {
        return Err(error);
    }
    if context.out.catalog.version.is_empty() {
        context.out.catalog.version = "ETIM xChange".into();
    }
    Ok(match result {
        Ok(()) => Ok(()),
        Err(error) => Err(DocumentError {
            message: format!("the JSON is malformed: {error}"),
            line: error.line() as u64,
            byte: 0,
            unread_cells: context.partial,
            refused: false,
        }),
    })
}

type Shared<'r, 'c, 'o, 'e, 'd> = &'r RefCell<Context<'c, 'o, 'e, 'd>>;

/// The catalogue object.
struct Catalogue<'r, 'c, 'o, 'e, 'd> {
    context: Shared<'r, 'c, 'o, 'e, 'd>,
}

impl<'de> DeserializeSeed<'de> for Catalogue<'_, '_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Catalogue<'_, '_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an ETIM xChange catalogue object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "Supplier" {
                map.next_value_seed(Suppliers {
                    context: self.context,
                })?;
                continue;
            }
            let line = self.context.borrow().position.line();
            let node = map.next_value_seed(NodeSeed {
                name: &key,
                line,
                context: self.context,
            })?;
            let mut context = self.context.borrow_mut();
            context.weight = 0;
            context.partial = 0;
            match key.as_str() {
                "SchemaVersion" => {
                    if let Some(version) = node.text() {
                        context.out.catalog.version = format!("ETIM xChange {version}");
                    }
                }
                "CurrencyCode" => context.currency = node.text(),
                _ => {}
            }
            header(&mut context, &node, &format!("/{}", escape(&key)));
        }
        Ok(())
    }
}

/// Lists every cell of `node` (outside products) as a header cell.
fn header(context: &mut Context<'_, '_, '_, '_>, node: &Node, path: &str) {
    if let Some(text) = node.text() {
        context.out.header_cell(path, &text);
    }
    for child in &node.children {
        header(context, child, &format!("{path}/{}", escape(&child.name)));
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

struct Suppliers<'r, 'c, 'o, 'e, 'd> {
    context: Shared<'r, 'c, 'o, 'e, 'd>,
}

impl<'de> DeserializeSeed<'de> for Suppliers<'_, '_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Suppliers<'_, '_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of suppliers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while seq
            .next_element_seed(Supplier {
                context: self.context,
                index,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }
}

struct Supplier<'r, 'c, 'o, 'e, 'd> {
    context: Shared<'r, 'c, 'o, 'e, 'd>,
    index: usize,
}

impl<'de> DeserializeSeed<'de> for Supplier<'_, '_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Supplier<'_, '_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a supplier object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let base = format!("/Supplier/{}", self.index);
        while let Some(key) = map.next_key::<String>()? {
            if key == "Product" {
                map.next_value_seed(Products {
                    context: self.context,
                    base: &base,
                })?;
                continue;
            }
            let line = self.context.borrow().position.line();
            let node = map.next_value_seed(NodeSeed {
                name: &key,
                line,
                context: self.context,
            })?;
            let mut context = self.context.borrow_mut();
            context.weight = 0;
            context.partial = 0;
            header(&mut context, &node, &format!("{base}/{}", escape(&key)));
        }
        Ok(())
    }
}

struct Products<'r, 'c, 'o, 'e, 'd, 'b> {
    context: Shared<'r, 'c, 'o, 'e, 'd>,
    base: &'b str,
}

impl<'de> DeserializeSeed<'de> for Products<'_, '_, '_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Products<'_, '_, '_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of products")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            let name = index.to_string();
            let line = self.context.borrow().position.line();
            let Some(product) = seq.next_element_seed(NodeSeed {
                name: &name,
                line,
                context: self.context,
            })?
            else {
                break;
            };
            let mut context = self.context.borrow_mut();
            context.weight = 0;
            context.partial = 0;
            context.products += 1;
            let path = format!("{}/Product/{index}", self.base);
            let currency = context.currency.clone();
            for record in interpret(&product, &path, currency.as_deref()) {
                if let Err(error) = context.out.record(record) {
                    context.sink_error = Some(error);
                    return Err(de::Error::custom("the output could not be written"));
                }
            }
            index += 1;
        }
        Ok(())
    }
}

/// Any JSON value, as a [`Node`] with lines.
struct NodeSeed<'r, 'c, 'o, 'e, 'd, 'n> {
    name: &'n str,
    line: u64,
    context: Shared<'r, 'c, 'o, 'e, 'd>,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_, '_, '_, '_, '_, '_> {
    type Value = Node;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl NodeSeed<'_, '_, '_, '_, '_, '_> {
    fn leaf<E: de::Error>(&self, value: Option<Scalar>) -> Result<Node, E> {
        let mut context = self.context.borrow_mut();
        let mut node = Node::new(self.name, context.position.line());
        node.value = value;
        context.weight += node.weight();
        if node.value.is_some() {
            context.partial += 1;
        }
        if context.weight > MAX_RECORD_BYTES {
            return Err(E::custom(format!(
                "a record is larger than {} MiB",
                MAX_RECORD_BYTES >> 20
            )));
        }
        Ok(node)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_, '_, '_, '_, '_, '_> {
    type Value = Node;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        self.leaf(Some(Scalar::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        self.leaf(Some(Scalar::Number(v as f64)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        self.leaf(Some(Scalar::Number(v as f64)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        self.leaf(Some(Scalar::Number(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        let value = (!v.trim().is_empty()).then(|| Scalar::Text(v.to_owned()));
        self.leaf(value)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        self.leaf(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        self.leaf(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut node = self.leaf::<A::Error>(None)?;
        node.line = self.line.max(1);
        loop {
            let name = node.children.len().to_string();
            let line = self.context.borrow().position.line();
            match seq.next_element_seed(NodeSeed {
                name: &name,
                line,
                context: self.context,
            })? {
                Some(child) => node.children.push(child),
                None => break,
            }
        }
        Ok(node)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut node = self.leaf::<A::Error>(None)?;
        node.line = self.context.borrow().position.line();
        while let Some(key) = map.next_key::<String>()? {
            let line = self.context.borrow().position.line();
            let child = map.next_value_seed(NodeSeed {
                name: &key,
                line,
                context: self.context,
            })?;
            node.children.push(child);
        }
        Ok(node)
    }
}

/// The product's records: the product with its first trade item, then
/// each further trade item.
fn interpret<'n>(product: &'n Node, path: &str, currency: Option<&str>) -> Vec<Record<'n>> {
    let trade_items: Vec<&Node> = product
        .child("TradeItem")
        .map(|t| t.children.iter().collect())
        .unwrap_or_default();
    fn item_number(item: &Node) -> Option<&Node> {
        item.child("ItemIdentification")
            .and_then(|i| i.child("SupplierItemNumber"))
            .filter(|n| n.text().is_some())
    }
    let key = trade_items
        .first()
        .and_then(|item| item_number(item))
        .or_else(|| {
            product
                .child("ProductIdentification")
                .and_then(|i| i.child("ManufacturerProductNumber"))
                .filter(|n| n.text().is_some())
        });
    let skip: Vec<*const Node> = trade_items
        .iter()
        .skip(1)
        .map(|n| *n as *const Node)
        .collect();
    let mut records = Vec::with_capacity(trade_items.len().max(1));
    records.push(record(
        product,
        path.to_owned(),
        "",
        key,
        &skip,
        currency,
        true,
    ));
    for (index, item) in trade_items.iter().enumerate().skip(1) {
        let item_path = format!("{path}/TradeItem/{index}");
        records.push(record(
            item,
            item_path,
            "TradeItem",
            item_number(item),
            &[],
            currency,
            false,
        ));
    }
    records
}

fn record<'n>(
    root: &'n Node,
    path: String,
    prefix: &str,
    key: Option<&'n Node>,
    skip: &[*const Node],
    currency: Option<&str>,
    product_level: bool,
) -> Record<'n> {
    let mut record = Record::new(path.clone(), root.line, cells_without(root, skip));
    let preferred_price = preferred_price(root, skip);
    let mut walked = path;
    let mut relative = prefix.to_owned();
    let mut ancestors = Vec::new();
    let mut derived = Vec::new();
    walk(
        PathStyle::Json,
        root,
        &mut walked,
        &mut relative,
        &mut ancestors,
        skip,
        &mut |located| {
            let disposition = classify(
                &located,
                key,
                preferred_price,
                currency,
                product_level,
                &mut derived,
            );
            record.place(located, disposition);
        },
    );
    record.derived = derived;
    record
}

const PRICE_KEYS: [&str; 3] = ["NetPrice", "GrossListPrice", "RecommendedRetailPrice"];

/// The first net price, else the first gross list price, else the first
/// recommended retail price.
fn preferred_price(root: &Node, skip: &[*const Node]) -> Option<*const Node> {
    fn collect<'n>(node: &'n Node, skip: &[*const Node], out: &mut Vec<&'n Node>) {
        if skip.contains(&(node as *const Node)) {
            return;
        }
        for child in &node.children {
            if PRICE_KEYS.contains(&&*child.name) && child.text().is_some() {
                out.push(child);
            }
            collect(child, skip, out);
        }
    }
    let mut prices = Vec::new();
    collect(root, skip, &mut prices);
    PRICE_KEYS
        .iter()
        .find_map(|key| prices.iter().find(|p| &*p.name == *key))
        .map(|n| *n as *const Node)
}

/// Keys that give a language-tagged object its language.
const LANGUAGE_KEYS: [&str; 3] = ["Language", "DescriptionLanguage", "AttachmentLanguage"];

fn classify(
    located: &Located<'_, '_>,
    key: Option<&Node>,
    preferred_price: Option<*const Node>,
    currency: Option<&str>,
    product_level: bool,
    derived: &mut Vec<(CanonicalField, CanonicalValue)>,
) -> Disposition {
    let generic = without_indices(PathStyle::Json, located.relative);
    let Item::Value(node) = located.item else {
        return Disposition::Row(RowSpec::plain(generic, located.relative.to_owned()));
    };
    if key.is_some_and(|k| std::ptr::eq(k, node)) {
        return Disposition::Key;
    }
    let parent = located.ancestors.last().copied();
    let name = &*node.name;
    // A language-tagged object: its language qualifies its other values.
    let language_tag = parent.and_then(|p| {
        LANGUAGE_KEYS.iter().find_map(|k| {
            p.child(k)
                .filter(|n| n.value.is_some() && n.children.is_empty())
        })
    });
    if let (Some(tag), Some(p)) = (language_tag, parent)
        && std::ptr::eq(tag, node)
    {
        let others = p
            .children
            .iter()
            .any(|c| !std::ptr::eq(c, node) && c.children.is_empty() && c.text().is_some());
        if others {
            return Disposition::Header;
        }
    }
    let lang = language_tag
        .filter(|t| !std::ptr::eq(*t, node))
        .and_then(Node::text);
    let suffix = lang
        .as_deref()
        .map(|l| format!(" ({l})"))
        .unwrap_or_default();
    let header = match &lang {
        Some(lang) => format!("{} [{lang}]", located.relative),
        None => located.relative.to_owned(),
    };
    // Features: any object with an EtimFeatureCode (or an other
    // classification's feature name) names its values.
    if let Some(feature) = parent
        && let Some(disposition) = feature_cell(located, feature, node)
    {
        return disposition;
    }
    let field = |field: CanonicalField| {
        Disposition::Row(RowSpec {
            field: Some(field),
            ..RowSpec::plain(generic.clone(), header.clone())
        })
    };
    let in_parent = |names: &[&str]| located.ancestors.iter().any(|a| names.contains(&&*a.name));
    let language = lang.as_deref().and_then(language);
    match name {
        "MinimalProductDescription" if product_level => {
            if let Some(language) = language {
                return field(language.name_field());
            }
        }
        "FullProductDescription" if product_level => {
            if let Some(language) = language {
                return field(language.description_field());
            }
        }
        "ManufacturerProductNumber" if product_level && in_parent(&["ProductIdentification"]) => {
            return field(CanonicalField::ManufacturerNo);
        }
        "BrandName" if product_level => return field(CanonicalField::Brand),
        "BrandSeries" if product_level && lang.is_some() => return field(CanonicalField::Series),
        "EtimClassCode" if product_level => return field(CanonicalField::EtimClass),
        _ => {}
    }
    // GTINs: the product's, or a further trade item's own.
    let gtin_list = located
        .ancestors
        .last()
        .map(|p| &*p.name)
        .filter(|_| name.bytes().all(|b| b.is_ascii_digit()));
    match gtin_list {
        Some("ProductGtin") if product_level => return field(CanonicalField::Gtin),
        Some("ItemGtin") if !product_level => return field(CanonicalField::Gtin),
        _ => {}
    }
    if name.ends_with("Price") && PRICE_KEYS.contains(&name) {
        let mut spec = RowSpec::plain(generic.clone(), header.clone());
        spec.unit = currency.map(str::to_owned);
        if preferred_price == Some(node as *const Node) {
            spec.field = Some(CanonicalField::Price);
            if let Some(currency) = currency {
                derived.push((
                    CanonicalField::Currency,
                    CanonicalValue::Text(currency.trim().to_owned()),
                ));
                if let (Some(column), Some(amount)) = (
                    currency_field(currency),
                    node.text().and_then(|t| {
                        crate::value::parse_number(&t, crate::value::DecimalSeparator::Point)
                    }),
                ) {
                    derived.push((column, CanonicalValue::Number(amount)));
                }
            }
        }
        return Disposition::Row(spec);
    }
    Disposition::Row(RowSpec::plain(format!("{generic}{suffix}"), header))
}

/// Value keys of an ETIM feature.
const VALUE_KEYS: [&str; 9] = [
    "EtimValueCode",
    "EtimValueNumeric",
    "EtimValueRangeLower",
    "EtimValueRangeUpper",
    "EtimValueLogical",
    "ReasonNoValue",
    "EtimValueCoordinateX",
    "EtimValueCoordinateY",
    "EtimValueCoordinateZ",
];

/// A cell of a feature object: the value rows are named by the feature
/// code, with the class (or other classification) in the header.
fn feature_cell(located: &Located<'_, '_>, feature: &Node, node: &Node) -> Option<Disposition> {
    let (code_key, values, unit_key): (&str, &[&str], Option<&str>) =
        if feature.child("EtimFeatureCode").is_some() {
            ("EtimFeatureCode", &VALUE_KEYS, None)
        } else if feature.child("ClassificationFeatureName").is_some() {
            (
                "ClassificationFeatureName",
                &["ClassificationFeatureValue1", "ClassificationFeatureValue2"],
                Some("ClassificationFeatureUnit"),
            )
        } else {
            return None;
        };
    let code = feature.child_text(code_key)?;
    let has_values = feature
        .children
        .iter()
        .any(|c| values.contains(&&*c.name) && c.text().is_some());
    let unit = unit_key.and_then(|u| feature.child_text(u));
    let class = class_of(located.ancestors);
    let name = &*node.name;
    if has_values && (name == code_key || Some(name) == unit_key) {
        return Some(Disposition::Header);
    }
    let header = format!("{class} / {name}");
    if values.contains(&name) {
        let mut spec = RowSpec::plain(code, header);
        spec.unit = unit;
        spec.no_value = name == "ReasonNoValue";
        spec.feature = true;
        return Some(Disposition::Row(spec));
    }
    if name == code_key {
        return None;
    }
    Some(Disposition::Row(RowSpec::plain(
        format!("{code}/{name}"),
        header,
    )))
}

/// The class a feature belongs to: the nearest classification object's
/// code (`EC011533`, `MC000023`, `ECLASS 27-14-22-01`).
fn class_of(ancestors: &[&Node]) -> String {
    let modelling = ancestors.iter().any(|a| &*a.name == "EtimModellingPorts");
    for ancestor in ancestors.iter().rev() {
        if modelling && let Some(code) = ancestor.child_text("EtimModellingClassCode") {
            return code;
        }
        if let Some(code) = ancestor.child_text("EtimClassCode") {
            return code;
        }
        if let Some(code) = ancestor.child_text("ClassificationClassCode") {
            return match ancestor.child_text("ClassificationName") {
                Some(system) => format!("{system} {code}"),
                None => code,
            };
        }
    }
    "features".into()
}
