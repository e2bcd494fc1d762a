//! Reads the published delivery's `products` and `attributes` into one
//! compact [`ProductText`] per product: what chunks and the classifier need,
//! without keeping an Arrow batch or a String per attribute row.

use std::collections::HashMap;
use std::path::Path;

use arrow_array::{Array, BooleanArray, Float64Array, RecordBatch, StringArray};
use cradle_lake::Table;
use cradle_lake::deliveries::DeliveryRecord;

use crate::EnrichError;

/// The canonical product columns read.
const PRODUCT_COLUMNS: [&str; 10] = [
    "article_no",
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

const ATTRIBUTE_COLUMNS: [&str; 7] = [
    "article_no",
    "attribute",
    "field",
    "original",
    "value_number",
    "no_value",
    "unit",
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

    pub fn unit(&self, attr: &AttrRef) -> Option<&str> {
        (attr.unit != 0).then(|| self.units[attr.unit as usize].as_str())
    }
}

/// The newest published delivery of a lakehouse.
pub fn latest_record(lakehouse: &Path) -> Result<DeliveryRecord, EnrichError> {
    match cradle_lake::deliveries::latest(lakehouse) {
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

pub(crate) fn strings<'a>(
    batch: &'a RecordBatch,
    i: usize,
    table: &str,
) -> Result<&'a StringArray, EnrichError> {
    batch
        .column(i)
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| EnrichError::Column {
            table: table.to_owned(),
            column: batch.schema().field(i).name().clone(),
        })
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
        files_version: record.tables.get("files").copied(),
        ..Delivery::default()
    };
    let products_version = table_version(&record, "products", lakehouse)?;
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for batch in scan(lakehouse, "products", products_version, &PRODUCT_COLUMNS)? {
        let batch = batch.map_err(|source| EnrichError::Lake {
            table: lakehouse.join("products"),
            source,
        })?;
        let cols: Vec<&StringArray> = (0..PRODUCT_COLUMNS.len())
            .map(|i| strings(&batch, i, "products"))
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

    let attributes_version = table_version(&record, "attributes", lakehouse)?;
    let mut names: HashMap<String, u32> = HashMap::new();
    let mut units: HashMap<String, u32> = HashMap::new();
    for batch in scan(
        lakehouse,
        "attributes",
        attributes_version,
        &ATTRIBUTE_COLUMNS,
    )? {
        let batch = batch.map_err(|source| EnrichError::Lake {
            table: lakehouse.join("attributes"),
            source,
        })?;
        let keys = strings(&batch, 0, "attributes")?;
        let attribute = strings(&batch, 1, "attributes")?;
        let field = strings(&batch, 2, "attributes")?;
        let original = strings(&batch, 3, "attributes")?;
        let number = batch
            .column(4)
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or_else(|| EnrichError::Column {
                table: "attributes".into(),
                column: "value_number".into(),
            })?;
        let no_value = batch
            .column(5)
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| EnrichError::Column {
                table: "attributes".into(),
                column: "no_value".into(),
            })?;
        let unit_column = strings(&batch, 6, "attributes")?;
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
            let next = names.len() as u32;
            let name = *names.entry(name.to_owned()).or_insert_with(|| {
                delivery.names.push(name.to_owned());
                next
            });
            let unit = match text(unit_column, row) {
                None => 0,
                Some(u) => {
                    let next = units.len() as u32 + 1;
                    *units.entry(u.to_owned()).or_insert_with(|| {
                        delivery.units.push(u.to_owned());
                        next
                    })
                }
            };
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
    delivery
        .products
        .sort_unstable_by(|a, b| a.article_no.cmp(&b.article_no));
    Ok(delivery)
}
