//! The dashboard (`/`): what is served (products, data points, files,
//! deliveries with added, changed and removed products) and charts of
//! attribute fill rates, products per family and ETIM class,
//! classification sources and rejected records by reason and by file.
//!
//! The data is read-only, so the figures are computed once per opened data
//! and kept ([`Cached`]); the page then renders from memory.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use cradle_query::Data;
use serde_json::Value;

use crate::Web;
use crate::charts::Chart;
use crate::error::WebError;
use crate::i18n::Lang;
use crate::pages::{data, display, render, rows};
use crate::session::{Chrome, Signed};

/// Figures of one opened data, in one language.
#[derive(Debug)]
pub struct Figures {
    pub customer: String,
    pub products: u64,
    pub data_points: String,
    pub files: u64,
    pub rejects: u64,
    pub deliveries: Vec<DeliveryRow>,
    pub charts: Vec<Chart>,
}

#[derive(Debug)]
pub struct DeliveryRow {
    pub delivery: String,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
}

/// The figures with the data and language they were computed for.
#[derive(Debug)]
pub struct Cached {
    data: usize,
    lang: Lang,
    figures: Arc<Figures>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    figures: Arc<Figures>,
}

fn number(value: &Value) -> u64 {
    value
        .as_u64()
        .or_else(|| value.as_f64().map(|f| f as u64))
        .unwrap_or(0)
}

async fn compute(data: &Data, lang: Lang) -> Result<Figures, WebError> {
    let t = lang.text();
    let stats = data
        .store()
        .stats()
        .await
        .map_err(|source| WebError::internal("cannot read the catalog statistics", source))?;
    let ingest = data.reports().ingest.as_ref();
    let customer = ingest
        .and_then(|r| r.get("customer"))
        .map(display)
        .unwrap_or_default();
    let data_points = ingest
        .and_then(|r| r.get("data_points"))
        .map(display)
        .unwrap_or_else(|| "–".to_owned());
    let count = |rows: &[Vec<Value>]| rows.first().and_then(|r| r.first()).map_or(0, number);
    let files = count(&rows(data, lang, "SELECT count(*) FROM files").await?);
    let rejects = count(&rows(data, lang, "SELECT count(*) FROM rejects").await?);

    let mut deliveries: Vec<DeliveryRow> = Vec::new();
    for row in rows(
        data,
        lang,
        "SELECT delivery, status, count(*) FROM product_history GROUP BY delivery, status ORDER BY delivery",
    )
    .await?
    {
        let delivery = display(&row[0]);
        if deliveries.last().is_none_or(|d| d.delivery != delivery) {
            deliveries.push(DeliveryRow { delivery: delivery.clone(), added: 0, changed: 0, removed: 0 });
        }
        let last = deliveries.last_mut().expect("pushed above");
        let n = number(&row[2]);
        match row[1].as_str() {
            Some("added") => last.added += n,
            Some("changed") => last.changed += n,
            Some("removed") => last.removed += n,
            _ => {}
        }
    }

    // Fill rates of the canonical columns the catalog has.
    let columns: Vec<String> = data
        .sql("SELECT * FROM products LIMIT 0", 1)
        .await
        .map_err(|error| WebError::query(lang, error))?
        .columns;
    // Canonical columns but the key, which every product has.
    let present: Vec<&str> = cradle_core::fields::CanonicalField::ALL
        .iter()
        .map(|field| field.column())
        .filter(|c| *c != "article_no" && columns.iter().any(|k| k == c))
        .collect();
    let mut fill = Vec::new();
    if !present.is_empty() && stats.products > 0 {
        let select = present
            .iter()
            .map(|c| format!("count(NULLIF(\"{c}\", ''))"))
            .collect::<Vec<_>>()
            .join(", ");
        let counts = rows(data, lang, &format!("SELECT {select} FROM products")).await?;
        if let Some(counts) = counts.first() {
            for (column, value) in present.iter().zip(counts) {
                fill.push((
                    (*column).to_owned(),
                    number(value) as f64 * 100.0 / stats.products as f64,
                    None,
                ));
            }
        }
    }
    let percent = |v: f64| format!("{v:.0} %");
    let plain = |v: f64| format!("{v:.0}");
    let listing = |value: Value, field: &str| -> Vec<(String, f64, Option<String>)> {
        value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .take(12)
                    .map(|item| {
                        let name = item.get("name").map(display).unwrap_or_default();
                        let href = serde_urlencoded::to_string([(field, name.as_str())])
                            .ok()
                            .map(|q| format!("/search?{q}"));
                        (name, item.get("products").map_or(0, number) as f64, href)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let families = listing(
        data.families()
            .await
            .map_err(|e| WebError::query(lang, e))?,
        "family",
    );
    let classes = listing(
        data.classes().await.map_err(|e| WebError::query(lang, e))?,
        "etim_class",
    );
    let sources: Vec<(String, f64, Option<String>)> = data
        .reports()
        .enrich
        .as_ref()
        .and_then(|r| r.get("classification_sources"))
        .and_then(Value::as_object)
        .map(|sources| {
            sources
                .iter()
                .map(|(k, v)| (k.clone(), number(v) as f64, None))
                .collect()
        })
        .unwrap_or_default();
    let by_reason = rows(
        data,
        lang,
        "SELECT reason, count(*) FROM rejects GROUP BY reason ORDER BY 2 DESC, 1 LIMIT 12",
    )
    .await?
    .into_iter()
    .map(|r| (display(&r[0]), number(&r[1]) as f64, None))
    .collect();
    let by_file = rows(
        data,
        lang,
        "SELECT source_file, count(*) FROM rejects GROUP BY source_file ORDER BY 2 DESC, 1 LIMIT 12",
    )
    .await?
    .into_iter()
    .map(|r| (display(&r[0]), number(&r[1]) as f64, None))
    .collect();
    Ok(Figures {
        customer,
        products: stats.products,
        data_points,
        files,
        rejects,
        deliveries,
        charts: vec![
            Chart::new(t.chart_fill_rates, fill, Some(100.0), percent),
            Chart::new(t.chart_families, families, None, plain),
            Chart::new(t.chart_classes, classes, None, plain),
            Chart::new(t.chart_sources, sources, None, plain),
            Chart::new(t.chart_reject_reasons, by_reason, None, plain),
            Chart::new(t.chart_reject_files, by_file, None, plain),
        ],
    })
}

pub async fn page(State(web): State<Web>, signed: Signed) -> Result<Response, WebError> {
    let data = data(&web, signed.lang)?;
    let key = Arc::as_ptr(&data) as usize;
    let cached = web
        .dashboard
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .filter(|c| c.data == key && c.lang == signed.lang)
        .map(|c| c.figures.clone());
    let figures = match cached {
        Some(figures) => figures,
        None => {
            let figures = Arc::new(compute(&data, signed.lang).await?);
            *web.dashboard.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
                data: key,
                lang: signed.lang,
                figures: figures.clone(),
            });
            figures
        }
    };
    let page = DashboardPage {
        chrome: signed.chrome("dashboard", signed.lang.text().nav_dashboard),
        figures,
    };
    render(&page)
}
