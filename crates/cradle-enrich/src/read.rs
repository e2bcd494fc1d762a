//! Reads the published delivery's `products` and `attributes` into one
//! compact [`ProductText`] per product: what chunks and the classifier need,
//! without keeping an Arrow batch or a String per attribute row.

use std::collections::HashMap;
use std::path::Path;

use arrow_array::{Array, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use cradle_lake::Table;
use cradle_lakehouse::deliveries::DeliveryRecord;

use crate::EnrichError;
use cradle_lakehouse::ARTICLE_NO;
use cradle_lakehouse::schema::{attributes, files, products};

/// The canonical product columns read.
const PRODUCT_COLUMNS: [&str; 10] = [
    ARTICLE_NO,
    "gtin",
    "name_de",
    "name_en",
    "description_de",
    "description_en",
    "family",
    "series",
    "brand",
    "etim_class",
];

const ATTRIBUTE_COLUMNS: [&str; 11] = [
    ARTICLE_NO,
    attributes::ATTRIBUTE,
    attributes::FIELD,
    attributes::ORIGINAL,
    attributes::VALUE_NUMBER,
    attributes::NO_VALUE,
    attributes::UNIT,
    attributes::SOURCE_FILE,
    attributes::SOURCE_SHEET,
    attributes::SOURCE_ROW,
    attributes::SOURCE_COLUMN,
];

/// One attribute row of a product, pointing into [`ProductText::values`].
#[derive(Debug, Clone, Copy)]
pub struct AttrRef {
    /// Index into [`Delivery::names`].
    pub name: u32,
    /// Index into [`Delivery::units`]; 0 is "no unit".
    pub unit: u32,
    pub start: u32,
    pub len: u32,
    pub number: Option<f64>,
}

/// What is known of one product.
#[derive(Debug, Default)]
pub struct ProductText {
    pub article_no: String,
    pub gtin: Option<String>,
    pub name_de: Option<String>,
    pub name_en: Option<String>,
    pub description_de: Option<String>,
    pub description_en: Option<String>,
    pub family: Option<String>,
    pub series: Option<String>,
    pub brand: Option<String>,
    pub etim_class: Option<String>,
    /// The original texts of the attribute rows, back to back.
    pub values: String,
    pub attributes: Vec<AttrRef>,
}

impl ProductText {
    pub fn value(&self, attr: &AttrRef) -> &str {
        let start = attr.start as usize;
        &self.values[start..start + attr.len as usize]
    }
}

/// The products of one delivery.
#[derive(Debug, Default)]
pub struct Delivery {
    pub number: u64,
    pub customer: String,
    /// Sorted by article number.
    pub products: Vec<ProductText>,
    /// Attribute names (headers as delivered).
    pub names: Vec<String>,
    /// How texts show an attribute's name where it differs from `names`
    /// (same indexes): an ETIM feature code with its name.
    pub labels: Vec<Option<String>>,
    /// Units; index 0 is the empty unit.
    pub units: Vec<String>,
    /// The `files` table version of the delivery (media files are listed
    /// there).
    pub files_version: Option<u64>,
}

impl Delivery {
    pub fn name(&self, attr: &AttrRef) -> &str {
        &self.names[attr.name as usize]
    }

    /// The name a text shows for an attribute.
    pub fn label(&self, attr: &AttrRef) -> &str {
        match self.labels.get(attr.name as usize) {
            Some(Some(label)) => label,
            _ => self.name(attr),
        }
    }

    /// Names attributes that are headed by a bare ETIM feature code (as a
    /// long-format ETIM file pivots them) after the feature, in German
    /// where the model has it: `Lampenleistung (EF000280)`.
    pub fn label_etim_features(&mut self, etim: &cradle_classify::EtimModel) {
        self.labels = self
            .names
            .iter()
            .map(|name| {
                let code = name.trim();
                let is_code = code.len() == 8
                    && code.starts_with("EF")
                    && code[2..].bytes().all(|b| b.is_ascii_digit());
                let feature = etim.feature(code).filter(|_| is_code)?;
                let text = feature
                    .description("de")
                    .or_else(|| feature.description("en"))?;
                Some(format!("{text} ({code})"))
            })
            .collect();
    }

    pub fn unit(&self, attr: &AttrRef) -> Option<&str> {
        (attr.unit != 0).then(|| self.units[attr.unit as usize].as_str())
    }
}

/// The newest published delivery of a lakehouse.
pub fn latest_record(lakehouse: &Path) -> Result<DeliveryRecord, EnrichError> {
    match cradle_lakehouse::deliveries::latest(lakehouse) {
        Ok(Some((record, _))) => Ok(record),
        Ok(None) => Err(EnrichError::NoDelivery {
            lakehouse: lakehouse.to_path_buf(),
        }),
        Err(source) => Err(EnrichError::DeliveryRecord { source }),
    }
}

fn table_version(
    record: &DeliveryRecord,
    table: &str,
    lakehouse: &Path,
) -> Result<u64, EnrichError> {
    record
        .tables
        .get(table)
        .copied()
        .ok_or_else(|| EnrichError::MissingTable {
            lakehouse: lakehouse.to_path_buf(),
            table: table.to_owned(),
        })
}

pub(crate) fn scan(
    lakehouse: &Path,
    table: &str,
    version: u64,
    columns: &[&str],
) -> Result<cradle_lake::Scan, EnrichError> {
    let path = lakehouse.join(table);
    Table::at(&path)
        .snapshot(Some(version))
        .and_then(|snapshot| snapshot.scan(Some(columns)))
        .map_err(|source| EnrichError::Lake {
            table: path,
            source,
        })
}

/// Column `i` of a batch of `table` as the array type it must have.
pub(crate) fn column<'a, A: Array + 'static>(
    batch: &'a RecordBatch,
    i: usize,
    table: &str,
) -> Result<&'a A, EnrichError> {
    batch
        .column(i)
        .as_any()
        .downcast_ref::<A>()
        .ok_or_else(|| EnrichError::Column {
            table: table.to_owned(),
            column: batch.schema().field(i).name().clone(),
        })
}

pub(crate) fn strings<'a>(
    batch: &'a RecordBatch,
    i: usize,
    table: &str,
) -> Result<&'a StringArray, EnrichError> {
    column(batch, i, table)
}

pub(crate) fn text(array: &StringArray, row: usize) -> Option<&str> {
    (!array.is_null(row))
        .then(|| array.value(row).trim())
        .filter(|s| !s.is_empty())
}

/// Reads the products and attributes of the newest published delivery.
pub fn read(lakehouse: &Path) -> Result<Delivery, EnrichError> {
    let record = latest_record(lakehouse)?;
    let mut delivery = Delivery {
        number: record.delivery,
        customer: record.customer.clone(),
        units: vec![String::new()],
        files_version: record.tables.get(files::NAME).copied(),
        ..Delivery::default()
    };
    let products_version = table_version(&record, products::NAME, lakehouse)?;
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for batch in scan(
        lakehouse,
        products::NAME,
        products_version,
        &PRODUCT_COLUMNS,
    )? {
        let batch = batch.map_err(|source| EnrichError::Lake {
            table: lakehouse.join(products::NAME),
            source,
        })?;
        let cols: Vec<&StringArray> = (0..PRODUCT_COLUMNS.len())
            .map(|i| strings(&batch, i, products::NAME))
            .collect::<Result<_, _>>()?;
        for row in 0..batch.num_rows() {
            let Some(key) = text(cols[0], row) else {
                continue;
            };
            let owned = |i: usize| text(cols[i], row).map(str::to_owned);
            by_key.insert(key.to_owned(), delivery.products.len());
            delivery.products.push(ProductText {
                article_no: key.to_owned(),
                gtin: owned(1),
                name_de: owned(2),
                name_en: owned(3),
                description_de: owned(4),
                description_en: owned(5),
                family: owned(6),
                series: owned(7),
                brand: owned(8),
                etim_class: owned(9),
                ..ProductText::default()
            });
        }
    }

    let attributes_version = table_version(&record, attributes::NAME, lakehouse)?;
    let mut names = Interner::default();
    // Unit ids start at 1: 0 is "no unit".
    let mut units = Interner::default();
    // Where each attribute row came from, so a product's attributes can be
    // put in source order: the table's row order depends on which file a
    // parallel ingest finished first, and chunk texts (and so their content
    // hashes) must not.
    let mut places = Interner::default();
    let mut place = String::new();
    let mut columns = Interner::default();
    let mut provenance: Vec<Vec<Provenance>> = Vec::new();
    provenance.resize_with(delivery.products.len(), Vec::new);
    for batch in scan(
        lakehouse,
        attributes::NAME,
        attributes_version,
        &ATTRIBUTE_COLUMNS,
    )? {
        let batch = batch.map_err(|source| EnrichError::Lake {
            table: lakehouse.join(attributes::NAME),
            source,
        })?;
        let keys = strings(&batch, 0, attributes::NAME)?;
        let attribute = strings(&batch, 1, attributes::NAME)?;
        let field = strings(&batch, 2, attributes::NAME)?;
        let original = strings(&batch, 3, attributes::NAME)?;
        let number = column::<Float64Array>(&batch, 4, attributes::NAME)?;
        let no_value = column::<BooleanArray>(&batch, 5, attributes::NAME)?;
        let unit_column = strings(&batch, 6, attributes::NAME)?;
        let source_file = strings(&batch, 7, attributes::NAME)?;
        let source_sheet = strings(&batch, 8, attributes::NAME)?;
        let source_row = column::<Int64Array>(&batch, 9, attributes::NAME)?;
        let source_column = strings(&batch, 10, attributes::NAME)?;
        for row in 0..batch.num_rows() {
            // Canonical fields are on the product already; "no value"
            // markers say nothing a text should repeat.
            if !field.is_null(row) || no_value.value(row) {
                continue;
            }
            let (Some(key), Some(name), Some(value)) =
                (text(keys, row), text(attribute, row), text(original, row))
            else {
                continue;
            };
            let Some(&index) = by_key.get(key) else {
                continue;
            };
            let name = names.id(name);
            let unit = text(unit_column, row).map_or(0, |u| units.id(u) + 1);
            place.clear();
            place.push_str(source_file.value(row));
            place.push('\0');
            if !source_sheet.is_null(row) {
                place.push_str(source_sheet.value(row));
            }
            provenance[index].push(Provenance {
                place: places.id(&place),
                row: source_row.value(row),
                column: columns.id(source_column.value(row)),
            });
            let product = &mut delivery.products[index];
            let start = product.values.len() as u32;
            product.values.push_str(value);
            product.attributes.push(AttrRef {
                name,
                unit,
                start,
                len: value.len() as u32,
                number: (!number.is_null(row)).then(|| number.value(row)),
            });
        }
    }
    delivery.names = names.values;
    delivery.units.extend(units.values);
    let place_rank = places.ranks(|a, b| a.cmp(b));
    // Column letters: "B" before "AA".
    let column_rank = columns.ranks(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
    for (product, provenance) in delivery.products.iter_mut().zip(provenance) {
        let mut order: Vec<(u32, i64, u32, AttrRef)> = provenance
            .iter()
            .zip(&product.attributes)
            .map(|(p, attr)| {
                (
                    place_rank[p.place as usize],
                    p.row,
                    column_rank[p.column as usize],
                    *attr,
                )
            })
            .collect();
        order.sort_by_key(|&(place, row, column, _)| (place, row, column));
        product.attributes = order.into_iter().map(|(.., attr)| attr).collect();
    }
    delivery
        .products
        .sort_unstable_by(|a, b| a.article_no.cmp(&b.article_no));
    Ok(delivery)
}

/// The source cell of one attribute row, as interned ids.
#[derive(Debug, Clone, Copy)]
struct Provenance {
    place: u32,
    row: i64,
    column: u32,
}

/// Distinct strings numbered by first appearance.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    /// The strings by id.
    values: Vec<String>,
}

impl Interner {
    fn id(&mut self, key: &str) -> u32 {
        if let Some(&id) = self.ids.get(key) {
            return id;
        }
        let id = self.values.len() as u32;
        self.ids.insert(key.to_owned(), id);
        self.values.push(key.to_owned());
        id
    }

    /// For every id, its position when the strings are sorted by `cmp`.
    fn ranks(&self, cmp: impl Fn(&str, &str) -> std::cmp::Ordering) -> Vec<u32> {
        let mut ids: Vec<usize> = (0..self.values.len()).collect();
        ids.sort_by(|&a, &b| cmp(&self.values[a], &self.values[b]));
        let mut ranks = vec![0; ids.len()];
        for (rank, id) in ids.into_iter().enumerate() {
            ranks[id] = rank as u32;
        }
        ranks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::product_chunks;
    use crate::tables::write_table;
    use arrow_array::{ArrayRef, Float64Array};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;

    type Row = (&'static str, &'static str, &'static str, u32, &'static str);

    /// A lakehouse of two products whose attribute rows are stored in the
    /// given order; rows are (article, attribute, value, source row, column).
    fn lakehouse(dir: &Path, rows: &[Row]) {
        let text = |name: &str| Field::new(name, DataType::Utf8, true);
        let products = Arc::new(Schema::new(
            PRODUCT_COLUMNS.iter().map(|c| text(c)).collect::<Vec<_>>(),
        ));
        let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec!["A-1", "A-2"]))];
        for column in &PRODUCT_COLUMNS[1..] {
            let value = (*column == "name_de").then_some("Strahler");
            columns.push(Arc::new(StringArray::from(vec![value, value])));
        }
        let batch = RecordBatch::try_new(products.clone(), columns).unwrap();
        write_table(dir, "products", products, [Ok(batch)], 1).unwrap();

        let attributes = Arc::new(Schema::new(vec![
            text("article_no"),
            text("attribute"),
            text("field"),
            text("original"),
            Field::new("value_number", DataType::Float64, true),
            Field::new("no_value", DataType::Boolean, false),
            text("unit"),
            text("source_file"),
            text("source_sheet"),
            Field::new("source_row", DataType::Int64, false),
            text("source_column"),
        ]));
        let strings = |f: &dyn Fn(&Row) -> Option<&'static str>| -> ArrayRef {
            Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
        };
        let number = |value: &str| value.split(' ').next().and_then(|n| n.parse().ok());
        let batch = RecordBatch::try_new(
            attributes.clone(),
            vec![
                strings(&|r| Some(r.0)),
                strings(&|r| Some(r.1)),
                strings(&|_| None),
                strings(&|r| Some(r.2)),
                Arc::new(Float64Array::from(
                    rows.iter().map(|r| number(r.2)).collect::<Vec<_>>(),
                )),
                Arc::new(BooleanArray::from(vec![false; rows.len()])),
                strings(&|r| r.2.split(' ').nth(1)),
                strings(&|r| {
                    Some(if r.1 == "Leistung" {
                        "technik.csv"
                    } else {
                        "stamm.xlsx"
                    })
                }),
                strings(&|r| (r.1 != "Leistung").then_some("Leuchten")),
                Arc::new(Int64Array::from(
                    rows.iter().map(|r| i64::from(r.3)).collect::<Vec<_>>(),
                )),
                strings(&|r| Some(r.4)),
            ],
        )
        .unwrap();
        write_table(dir, "attributes", attributes, [Ok(batch)], 1).unwrap();
        let record = DeliveryRecord {
            delivery: 1,
            tables: [("products".to_owned(), 0), ("attributes".to_owned(), 0)].into(),
            customer: "test".into(),
            committed_at: String::new(),
        };
        let file = cradle_lakehouse::deliveries::record_file(dir, 1);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, serde_json::to_string(&record).unwrap()).unwrap();
    }

    fn chunk_texts(dir: &Path) -> Vec<String> {
        let delivery = read(dir).unwrap();
        delivery
            .products
            .iter()
            .flat_map(|p| product_chunks(&delivery, p))
            .map(|c| c.text)
            .collect()
    }

    #[test]
    fn chunks_do_not_depend_on_the_order_of_attribute_rows() {
        // A parallel ingest writes each file's rows as it finishes them, so
        // two ingests of the same delivery store rows in different orders.
        let rows: Vec<Row> = vec![
            ("A-1", "Leistung", "12 W", 2, "B"),
            ("A-1", "Systemleistung", "14 W", 4, "AA"),
            ("A-1", "Farbe", "weiß", 4, "C"),
            ("A-2", "Leistung", "8 W", 3, "B"),
            ("A-2", "Systemleistung", "9 W", 5, "AA"),
            ("A-2", "Farbe", "schwarz", 5, "C"),
        ];
        let dir = tempfile::tempdir().unwrap();
        let forward = dir.path().join("forward");
        let backward = dir.path().join("backward");
        lakehouse(&forward, &rows);
        let reversed: Vec<Row> = rows.iter().rev().copied().collect();
        lakehouse(&backward, &reversed);
        let texts = chunk_texts(&forward);
        assert_eq!(texts, chunk_texts(&backward));
        // Source order: the workbook (row 4: column C before AA), then the
        // CSV; the identity names the first wattage in that order.
        let technical = texts.iter().find(|t| t.contains("Farbe: weiß")).unwrap();
        let farbe = technical.find("Farbe").unwrap();
        let system = technical.find("Systemleistung").unwrap();
        let leistung = technical.find("Leistung: 12").unwrap();
        assert!(farbe < system && system < leistung, "{technical}");
        assert!(texts[0].contains("Systemleistung: 14 W"), "{}", texts[0]);
    }
}
