//! Generated trade deliveries: the same products as a BMEcat (2005 or
//! 1.2), an ETIM xChange and an XLSX price list, with counts known in
//! advance, for tests and the catalogue benchmark.

#![allow(dead_code)]

use std::io::Write;

/// Features per product and the feature values they carry (one range
/// feature has two).
pub const FEATURES: usize = 40;
pub const FEATURE_VALUES: usize = FEATURES + 1;

pub fn article(i: usize) -> String {
    format!("TR-{i:07}")
}

/// A valid GTIN-13 for product `i`.
pub fn gtin(i: usize) -> String {
    let body = format!("400{i:09}");
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(k, b)| u32::from(b - b'0') * if k % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

pub fn price(i: usize) -> String {
    format!("{}.{:02}", 10 + i % 490, i % 100)
}

/// Which BMEcat.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Bmecat {
    /// 2005, `bme:` prefix on every element.
    V2005Prefixed,
    /// 1.2 (`ARTICLE`, `SUPPLIER_AID`), ISO-8859-1.
    V12Latin1,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;")
}

/// Writes a BMEcat of `products` products. Per product: the key, 2 short
/// and 2 long descriptions, GTIN, manufacturer number and name, the ETIM
/// system and class, [`FEATURES`] features (each FNAME, and FUNIT on the
/// numeric ones), order unit, price amount and currency, one MIME source.
pub fn bmecat(products: usize, version: Bmecat, out: &mut dyn Write) -> std::io::Result<()> {
    let v12 = version == Bmecat::V12Latin1;
    let p = if v12 { "" } else { "bme:" };
    let (product, pid, details, features) = if v12 {
        (
            "ARTICLE",
            "SUPPLIER_AID",
            "ARTICLE_DETAILS",
            "ARTICLE_FEATURES",
        )
    } else {
        (
            "PRODUCT",
            "SUPPLIER_PID",
            "PRODUCT_DETAILS",
            "PRODUCT_FEATURES",
        )
    };
    let (order, prices, price_el) = if v12 {
        (
            "ARTICLE_ORDER_DETAILS",
            "ARTICLE_PRICE_DETAILS",
            "ARTICLE_PRICE",
        )
    } else {
        (
            "PRODUCT_ORDER_DETAILS",
            "PRODUCT_PRICE_DETAILS",
            "PRODUCT_PRICE",
        )
    };
    let mut w = std::io::BufWriter::new(out);
    if v12 {
        writeln!(w, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>")?;
        writeln!(w, "<!DOCTYPE BMECAT SYSTEM \"bmecat_new_catalog.dtd\">")?;
        writeln!(w, "<BMECAT version=\"1.2\">")?;
    } else {
        writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(
            w,
            "<bme:BMECAT xmlns:bme=\"http://www.bmecat.org/bmecat/2005\" version=\"2005\">"
        )?;
    }
    writeln!(
        w,
        "<{p}HEADER><{p}CATALOG><{p}LANGUAGE default=\"true\">deu</{p}LANGUAGE><{p}CATALOG_ID>gen</{p}CATALOG_ID><{p}CATALOG_VERSION>1.0</{p}CATALOG_VERSION><{p}CURRENCY>EUR</{p}CURRENCY></{p}CATALOG><{p}SUPPLIER><{p}SUPPLIER_NAME>Leuchten AG</{p}SUPPLIER_NAME></{p}SUPPLIER></{p}HEADER>"
    )?;
    writeln!(w, "<{p}T_NEW_CATALOG>")?;
    let mut body = Vec::with_capacity(16 * 1024);
    for i in 0..products {
        body.clear();
        let b = &mut body;
        writeln!(b, "<{p}{product} mode=\"new\">")?;
        writeln!(b, " <{p}{pid}>{}</{p}{pid}>", article(i))?;
        writeln!(b, " <{p}{details}>")?;
        let long = "Aufbauleuchte für Decke und Wand, Gehäuse aus Aluminium-Druckguss, ".repeat(8);
        writeln!(
            b,
            "  <{p}DESCRIPTION_SHORT lang=\"deu\">Downlight Größe {i}</{p}DESCRIPTION_SHORT>"
        )?;
        writeln!(
            b,
            "  <{p}DESCRIPTION_SHORT lang=\"eng\">Downlight size {i}</{p}DESCRIPTION_SHORT>"
        )?;
        writeln!(
            b,
            "  <{p}DESCRIPTION_LONG lang=\"deu\">{} Nr. {i}</{p}DESCRIPTION_LONG>",
            escape(&long)
        )?;
        writeln!(
            b,
            "  <{p}DESCRIPTION_LONG lang=\"eng\">Surface-mounted luminaire &amp; more, no. {i}</{p}DESCRIPTION_LONG>"
        )?;
        if v12 {
            writeln!(b, "  <EAN>{}</EAN>", gtin(i))?;
            writeln!(b, "  <MANUFACTURER_AID>M-{i}</MANUFACTURER_AID>")?;
        } else {
            writeln!(
                b,
                "  <{p}INTERNATIONAL_PID type=\"gtin\">{}</{p}INTERNATIONAL_PID>",
                gtin(i)
            )?;
            writeln!(b, "  <{p}MANUFACTURER_PID>M-{i}</{p}MANUFACTURER_PID>")?;
        }
        writeln!(
            b,
            "  <{p}MANUFACTURER_NAME>Leuchten AG</{p}MANUFACTURER_NAME>"
        )?;
        writeln!(b, " </{p}{details}>")?;
        writeln!(b, " <{p}{features}>")?;
        writeln!(
            b,
            "  <{p}REFERENCE_FEATURE_SYSTEM_NAME>ETIM-8.0</{p}REFERENCE_FEATURE_SYSTEM_NAME>"
        )?;
        writeln!(
            b,
            "  <{p}REFERENCE_FEATURE_GROUP_ID>EC001744</{p}REFERENCE_FEATURE_GROUP_ID>"
        )?;
        for f in 0..FEATURES {
            writeln!(b, "  <{p}FEATURE>")?;
            writeln!(b, "   <{p}FNAME>EF{:06}</{p}FNAME>", 1000 + f)?;
            match f % 4 {
                0 => {
                    writeln!(b, "   <{p}FVALUE>{}.5</{p}FVALUE>", (i + f) % 97)?;
                    writeln!(b, "   <{p}FUNIT>W</{p}FUNIT>")?;
                }
                1 => writeln!(b, "   <{p}FVALUE>EV{:06}</{p}FVALUE>", 100 + (i % 7))?,
                2 => writeln!(
                    b,
                    "   <{p}FVALUE>{}</{p}FVALUE>",
                    if i % 2 == 0 { "true" } else { "false" }
                )?,
                _ => {
                    if f == 3 {
                        // A range: lower and upper.
                        writeln!(b, "   <{p}FVALUE>-20</{p}FVALUE>")?;
                        writeln!(b, "   <{p}FVALUE>40</{p}FVALUE>")?;
                        writeln!(b, "   <{p}FUNIT>CEL</{p}FUNIT>")?;
                    } else {
                        writeln!(b, "   <{p}FVALUE>-</{p}FVALUE>")?;
                    }
                }
            }
            writeln!(b, "  </{p}FEATURE>")?;
        }
        writeln!(b, " </{p}{features}>")?;
        writeln!(
            b,
            " <{p}{order}><{p}ORDER_UNIT>C62</{p}ORDER_UNIT><{p}NO_CU_PER_OU>1</{p}NO_CU_PER_OU></{p}{order}>"
        )?;
        writeln!(b, " <{p}{prices}>")?;
        writeln!(
            b,
            "  <{p}{price_el} price_type=\"net_list\"><{p}PRICE_AMOUNT>{}</{p}PRICE_AMOUNT><{p}PRICE_CURRENCY>EUR</{p}PRICE_CURRENCY></{p}{price_el}>",
            price(i)
        )?;
        writeln!(b, " </{p}{prices}>")?;
        writeln!(
            b,
            " <{p}MIME_INFO><{p}MIME><{p}MIME_TYPE>image/jpeg</{p}MIME_TYPE><{p}MIME_SOURCE>images/{}.jpg</{p}MIME_SOURCE><{p}MIME_PURPOSE>normal</{p}MIME_PURPOSE></{p}MIME></{p}MIME_INFO>",
            article(i)
        )?;
        writeln!(b, "</{p}{product}>")?;
        if v12 {
            let text = String::from_utf8(body.clone()).expect("generated UTF-8");
            let (latin1, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
            assert!(!unmappable, "generated text fits Latin-1");
            w.write_all(&latin1)?;
        } else {
            w.write_all(&body)?;
        }
    }
    writeln!(w, "</{p}T_NEW_CATALOG>")?;
    if v12 {
        writeln!(w, "</BMECAT>")?;
    } else {
        writeln!(w, "</bme:BMECAT>")?;
    }
    w.flush()
}

/// Cells per generated BMEcat product, by kind.
pub struct BmecatCounts {
    /// Cells of a product: key, product `mode`, rows and feature names/units.
    pub cells: u64,
    /// Feature names and units (header cells inside a product).
    pub naming: u64,
    /// Attribute rows of a product.
    pub rows: u64,
}

pub fn bmecat_counts() -> BmecatCounts {
    let numeric = (0..FEATURES).filter(|f| f % 4 == 0).count() as u64;
    // FNAME per feature, FUNIT on the numeric ones and the range.
    let naming = FEATURES as u64 + numeric + 1;
    // mode, 4 descriptions, GTIN, manufacturer number and name, system,
    // class, the feature values, order unit and content, amount and
    // currency and price_type, MIME type, source and purpose.
    let rows = 1 + 4 + 3 + 2 + FEATURE_VALUES as u64 + 2 + 3 + 3;
    BmecatCounts {
        cells: 1 + naming + rows,
        naming,
        rows,
    }
}

/// Cells of the generated BMEcat header: language (its `default` only
/// qualifies it), catalogue id and version, currency, supplier name, and
/// the root's `version`.
pub const BMECAT_HEADER_CELLS: u64 = 5 + 1;

/// Writes an ETIM xChange 1.x style catalogue (numbers as JSON numbers):
/// product `i` has two trade items when `i % 10 == 0`.
pub fn xchange(products: usize, out: &mut dyn Write) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(out);
    writeln!(
        w,
        "{{\n  \"CatalogueId\": \"gen\",\n  \"CatalogueVersion\": \"1.0\",\n  \"CurrencyCode\": \"EUR\",\n  \"Supplier\": [\n    {{\n      \"SupplierName\": \"Leuchten AG\",\n      \"Product\": ["
    )?;
    for i in 0..products {
        let comma = if i + 1 < products { "," } else { "" };
        let second = if i % 10 == 0 {
            format!(
                ",\n            {{\"ItemIdentification\": {{\"SupplierItemNumber\": \"{}-B\", \"ItemGtin\": [\"{}\"]}}, \"Pricing\": [{{\"GrossListPrice\": 99.5}}]}}",
                article(i),
                gtin(i + 1_000_000)
            )
        } else {
            String::new()
        };
        writeln!(
            w,
            "        {{\n          \"ProductIdentification\": {{\"ManufacturerProductNumber\": \"M-{i}\", \"ProductGtin\": [\"{gtin}\"], \"BrandName\": \"Leuchten AG\"}},\n          \"ProductDetails\": {{\"ProductDescriptions\": [{{\"DescriptionLanguage\": \"de-DE\", \"MinimalProductDescription\": \"Downlight {i}\"}}, {{\"DescriptionLanguage\": \"en-GB\", \"MinimalProductDescription\": \"Downlight {i}\", \"FullProductDescription\": \"A downlight\"}}]}},\n          \"EtimClassification\": [{{\"EtimReleaseVersion\": \"9.0\", \"EtimClassCode\": \"EC001744\", \"EtimFeatures\": [\n            {{\"EtimFeatureCode\": \"EF000008\", \"EtimValueNumeric\": {n}}},\n            {{\"EtimFeatureCode\": \"EF000007\", \"EtimValueCode\": \"EV000100\"}},\n            {{\"EtimFeatureCode\": \"EF000009\", \"EtimValueLogical\": true}},\n            {{\"EtimFeatureCode\": \"EF000010\", \"EtimValueRangeLower\": -20, \"EtimValueRangeUpper\": 40}},\n            {{\"EtimFeatureCode\": \"EF000011\", \"ReasonNoValue\": \"NA\"}}\n          ]}}],\n          \"ProductAttachments\": [{{\"AttachmentType\": \"ATX015\", \"AttachmentDetails\": [{{\"AttachmentFilename\": \"{a}.jpg\"}}]}}],\n          \"TradeItem\": [\n            {{\"ItemIdentification\": {{\"SupplierItemNumber\": \"{a}\"}}, \"Pricing\": [{{\"NetPrice\": {price}}}]}}{second}\n          ]\n        }}{comma}",
            gtin = gtin(i),
            n = 10 + i % 90,
            a = article(i),
            price = price(i),
        )?;
    }
    writeln!(w, "      ]\n    }}\n  ]\n}}")?;
    w.flush()
}

/// Writes the XLSX price list of the same products: article number,
/// GTIN, names, price, currency, ETIM class.
pub fn xlsx(products: usize, path: &std::path::Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book
        .add_worksheet_with_constant_memory()
        .expect("a temporary file for the sheet");
    let header = [
        "Artikelnummer",
        "GTIN",
        "Bezeichnung",
        "Name EN",
        "Preis",
        "Währung",
        "ETIM-Klasse",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    for i in 0..products {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, article(i)).expect("cell");
        sheet.write_string(r, 1, gtin(i)).expect("cell");
        sheet
            .write_string(r, 2, format!("Downlight Größe {i}"))
            .expect("cell");
        sheet
            .write_string(r, 3, format!("Downlight size {i}"))
            .expect("cell");
        sheet
            .write_number(r, 4, price(i).parse::<f64>().expect("price"))
            .expect("cell");
        sheet.write_string(r, 5, "EUR").expect("cell");
        sheet.write_string(r, 6, "EC001744").expect("cell");
    }
    book.save(path).expect("write the workbook");
}
