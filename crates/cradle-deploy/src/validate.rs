//! `validate`: the check before an image is built. Every table of the
//! published delivery (and of the last enrich) readable at its version and
//! counting what the reports say; the search index, catalog and vector
//! index present and built from the published delivery; embeddings made by
//! the model that will embed queries (name and weights hash); the model's
//! files present; the configuration complete; nothing the image carries
//! missing. A workspace indexed but not enriched is valid, with a warning
//! (keyword search only). Each problem comes with the command that fixes it.

use cradle_lakehouse::schema::{chunks, classifications, embeddings, etim_features};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cradle_embed::ModelLocation;
use cradle_fs::Workspace;
use cradle_image::{Need, Settings, served_data};
use cradle_lake::Table;
use serde::Serialize;
use serde_json::Value;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Warning,
    Error,
}

/// One check of a workspace.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// The command that fixes a problem.
    pub fix: Option<String>,
}

/// The outcome of `validate`.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub workspace: PathBuf,
    /// No errors (warnings allowed).
    pub ok: bool,
    pub errors: usize,
    pub warnings: usize,
    pub customer: Option<String>,
    pub delivery: Option<u64>,
    /// The workspace has embeddings (vector and hybrid search).
    pub enriched: bool,
    pub checks: Vec<Check>,
}

impl Validation {
    /// The problems (errors and warnings), for a short report.
    pub fn problems(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status != Status::Ok)
    }
}

struct Checks {
    checks: Vec<Check>,
}

impl Checks {
    fn ok(&mut self, name: &str, detail: String) {
        self.push(name, Status::Ok, detail, None);
    }

    fn warn(&mut self, name: &str, detail: String, fix: Option<String>) {
        self.push(name, Status::Warning, detail, fix);
    }

    fn error(&mut self, name: &str, detail: String, fix: Option<String>) {
        self.push(name, Status::Error, detail, fix);
    }

    /// An error from a library, its hint taken as the fix unless `fix` is
    /// given.
    fn failed(&mut self, name: &str, error: &dyn std::error::Error, fix: Option<String>) {
        let (detail, hint) = describe(error);
        self.error(name, detail, fix.or(hint));
    }

    fn push(&mut self, name: &str, status: Status, detail: String, fix: Option<String>) {
        self.checks.push(Check {
            name: name.to_owned(),
            status,
            detail,
            fix,
        });
    }
}

/// An error and its causes, `: `-separated, and the first hint among them
/// (the `hint: …` line the crates' messages end with).
pub(crate) fn describe(error: &dyn std::error::Error) -> (String, Option<String>) {
    let mut message = String::new();
    let mut hint = None;
    let mut next = Some(error);
    while let Some(error) = next {
        let text = error.to_string();
        let (part, part_hint) = match text.split_once("\nhint: ") {
            Some((part, part_hint)) => (part.to_owned(), Some(part_hint.to_owned())),
            None => (text, None),
        };
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&part);
        hint = hint.or(part_hint);
        next = error.source();
    }
    (message, hint)
}

/// The numbers a report states, by key.
fn count(report: &Value, key: &str) -> Option<u64> {
    report.get(key).and_then(Value::as_u64)
}

fn read_report(path: &Path) -> Result<Option<Value>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{} is damaged: {e}", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(format!("cannot read {}: {error}", path.display())),
    }
}

/// Checks the workspace at `root`.
pub fn validate(root: &Path) -> Validation {
    let workspace = Workspace::new(root);
    let ws = root.display().to_string();
    let mut checks = Checks { checks: Vec::new() };
    let enriched = cradle_image::contents::is_enriched(&workspace);
    let settings = match Settings::resolve(&workspace) {
        Ok(settings) => {
            checks.ok(
                "configuration",
                format!(
                    "customer {}, port {}, memory {} MiB, image {}",
                    settings.customer,
                    settings.port,
                    settings.memory_mb,
                    settings.default_tag()
                ),
            );
            Some(settings)
        }
        Err(error) => {
            checks.failed("configuration", &error, None);
            None
        }
    };
    let delivery = cradle_lakehouse::deliveries::latest(&workspace.lakehouse_dir())
        .ok()
        .flatten();
    if let Some((record, _)) = &delivery {
        check_workspace(&workspace, &ws, record, enriched, &mut checks);
    } else if !checks.checks.iter().any(|c| c.status == Status::Error) {
        checks.error(
            "delivery",
            format!("{ws} has no published delivery"),
            Some(format!("cradle ingest <DELIVERY> --workspace {ws}")),
        );
    }
    let errors = checks
        .checks
        .iter()
        .filter(|c| c.status == Status::Error)
        .count();
    let warnings = checks
        .checks
        .iter()
        .filter(|c| c.status == Status::Warning)
        .count();
    Validation {
        workspace: root.to_path_buf(),
        ok: errors == 0,
        errors,
        warnings,
        customer: settings.as_ref().map(|s| s.customer.clone()),
        delivery: delivery.map(|(record, _)| record.delivery),
        enriched,
        checks: checks.checks,
    }
}

fn check_workspace(
    workspace: &Workspace,
    ws: &str,
    record: &cradle_lakehouse::deliveries::DeliveryRecord,
    enriched: bool,
    checks: &mut Checks,
) {
    let ingest_fix = format!("cradle ingest <DELIVERY> --workspace {ws}");
    let index_fix = format!("cradle index --workspace {ws}");
    let enrich_fix = format!("cradle enrich --workspace {ws}");
    let current = record.delivery;

    // Everything the image carries.
    for served in served_data(workspace) {
        let needed = match served.need {
            Need::Always => true,
            Need::Enriched => enriched,
            Need::Optional => false,
        };
        if needed && !served.path.exists() {
            checks.error(
                "image contents",
                format!("{} is missing ({})", served.holds, served.path.display()),
                Some(served.fix(workspace)),
            );
        }
    }

    // The reports the tables are compared with.
    let reports = workspace.reports_dir();
    let ingest = match read_report(&reports.join("ingest.json")) {
        Ok(Some(report)) => report,
        Ok(None) => {
            checks.error(
                "ingest report",
                format!("{} is missing", reports.join("ingest.json").display()),
                Some(ingest_fix.clone()),
            );
            Value::Null
        }
        Err(problem) => {
            checks.error("ingest report", problem, Some(ingest_fix.clone()));
            Value::Null
        }
    };
    if !ingest.is_null() && count(&ingest, "delivery") != Some(current) {
        checks.error(
            "ingest report",
            format!(
                "reports/ingest.json describes delivery {:?}, the published delivery is {current}",
                count(&ingest, "delivery")
            ),
            Some(ingest_fix.clone()),
        );
    }
    let enrich = match read_report(&reports.join("enrich.json")) {
        Ok(report) => report,
        Err(problem) => {
            checks.error("enrich report", problem, Some(enrich_fix.clone()));
            None
        }
    };

    // The delivery's tables against the ingest report.
    let lakehouse = workspace.lakehouse_dir();
    for (table, version) in &record.tables {
        let expected = ingest
            .get("tables")
            .and_then(|t| t.get(table))
            .and_then(|t| t.get("rows"))
            .and_then(Value::as_u64);
        check_table(
            checks,
            &lakehouse,
            table,
            *version,
            expected.map(|rows| (rows, "reports/ingest.json")),
            &ingest_fix,
        );
    }
    // The enrich stage's tables against its report.
    match &enrich {
        Some(report) => {
            if count(report, "delivery") != Some(current) {
                checks.error(
                    "enrich",
                    format!(
                        "the last enrich ran on delivery {:?}, the published delivery is {current}",
                        count(report, "delivery")
                    ),
                    Some(enrich_fix.clone()),
                );
            }
            let expected: BTreeMap<&str, Option<u64>> = BTreeMap::from([
                (chunks::NAME, count(report, "chunks")),
                (embeddings::NAME, count(report, "embeddings")),
                (
                    classifications::NAME,
                    count(report, "classified")
                        .zip(count(report, "unclassified"))
                        .map(|(a, b)| a + b),
                ),
                (etim_features::NAME, count(report, "etim_features")),
            ]);
            let versions = report.get("tables").and_then(Value::as_object);
            for (table, rows) in expected {
                match versions.and_then(|v| v.get(table)).and_then(Value::as_u64) {
                    Some(version) => check_table(
                        checks,
                        &lakehouse,
                        table,
                        version,
                        rows.map(|r| (r, "reports/enrich.json")),
                        &enrich_fix,
                    ),
                    None => checks.error(
                        &format!("table {table}"),
                        format!("reports/enrich.json names no version of {table}"),
                        Some(enrich_fix.clone()),
                    ),
                }
            }
        }
        None => checks.warn(
            "enrich",
            "the workspace was indexed but not enriched: the deployment answers keyword search only (no vector or hybrid search)".into(),
            Some(enrich_fix.clone()),
        ),
    }

    check_search_index(checks, workspace, record, &ingest, &index_fix);
    check_catalog(checks, workspace, current, &ingest, &index_fix);
    if let Some(report) = &enrich {
        check_vectors(checks, workspace, current, report, &enrich_fix);
    }
}

fn check_table(
    checks: &mut Checks,
    lakehouse: &Path,
    table: &str,
    version: u64,
    expected: Option<(u64, &str)>,
    fix: &str,
) {
    let name = format!("table {table}");
    let snapshot = match Table::at(lakehouse.join(table)).snapshot(Some(version)) {
        Ok(snapshot) => snapshot,
        Err(error) => return checks.failed(&name, &error, Some(fix.to_owned())),
    };
    let rows = match snapshot.check_data_files() {
        Ok(rows) => rows,
        Err(error) => return checks.failed(&name, &error, Some(fix.to_owned())),
    };
    match expected {
        Some((want, report)) if want != rows => checks.error(
            &name,
            format!("version {version} holds {rows} rows, {report} says {want}"),
            Some(fix.to_owned()),
        ),
        _ => checks.ok(
            &name,
            format!(
                "version {version}: {rows} rows in {} files",
                snapshot.files.len()
            ),
        ),
    }
}

fn check_search_index(
    checks: &mut Checks,
    workspace: &Workspace,
    record: &cradle_lakehouse::deliveries::DeliveryRecord,
    ingest: &Value,
    fix: &str,
) {
    let dir = workspace.search_index_dir();
    if !dir.exists() {
        return; // reported as missing content
    }
    let index = match cradle_index::SearchIndex::open(&dir) {
        Ok(index) => index,
        Err(error) => return checks.failed("search index", &error, Some(fix.to_owned())),
    };
    let stats = index.stats();
    let stale = stats.built_from.delivery != Some(record.delivery)
        || stats
            .built_from
            .tables
            .iter()
            .any(|(table, version)| record.tables.get(table) != Some(version));
    if stale {
        return checks.error(
            "search index",
            format!(
                "built from delivery {:?} (tables {:?}), the published delivery is {} (tables {:?})",
                stats.built_from.delivery, stats.built_from.tables, record.delivery, record.tables
            ),
            Some(fix.to_owned()),
        );
    }
    match count(ingest, "products") {
        Some(products) if products != stats.documents => checks.error(
            "search index",
            format!(
                "{} documents, reports/ingest.json counts {products} products",
                stats.documents
            ),
            Some(fix.to_owned()),
        ),
        _ => checks.ok(
            "search index",
            format!(
                "{} documents of delivery {}, {:.1} MB",
                stats.documents,
                record.delivery,
                stats.size_bytes as f64 / 1e6
            ),
        ),
    }
}

fn check_catalog(
    checks: &mut Checks,
    workspace: &Workspace,
    current: u64,
    ingest: &Value,
    fix: &str,
) {
    let path = workspace.catalog_file();
    if !path.exists() {
        return;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return checks.failed("catalog", &error, None),
    };
    let stats = runtime.block_on(async {
        let catalog = cradle_catalog::Catalog::open(&path).await?;
        let stats = catalog.stats().await;
        catalog.close().await;
        stats
    });
    let stats = match stats {
        Ok(stats) => stats,
        Err(error) => return checks.failed("catalog", &error, Some(fix.to_owned())),
    };
    let mut wrong = Vec::new();
    if stats.delivery != current {
        wrong.push(format!(
            "built from delivery {}, the published delivery is {current}",
            stats.delivery
        ));
    }
    for (key, found) in [
        ("products", stats.products),
        ("data_points", stats.attributes),
    ] {
        if let Some(want) = count(ingest, key)
            && want != found
        {
            wrong.push(format!("{found} {key}, reports/ingest.json counts {want}"));
        }
    }
    if wrong.is_empty() {
        checks.ok(
            "catalog",
            format!(
                "{} products, {} attributes of delivery {current}, {:.1} MB",
                stats.products,
                stats.attributes,
                stats.size_bytes as f64 / 1e6
            ),
        );
    } else {
        checks.error("catalog", wrong.join("; "), Some(fix.to_owned()));
    }
}

fn check_vectors(
    checks: &mut Checks,
    workspace: &Workspace,
    current: u64,
    enrich: &Value,
    fix: &str,
) {
    let path = workspace.vector_index_file();
    if !path.exists() {
        return;
    }
    let model_name = enrich.get("model").and_then(Value::as_str).unwrap_or("");
    let model_revision = enrich
        .get("model_revision")
        .and_then(Value::as_str)
        .unwrap_or("");
    match cradle_vector::VectorIndex::open(&path) {
        Err(error) => checks.failed("vector index", &error, Some(fix.to_owned())),
        Ok(index) => {
            let meta: Value = serde_json::from_str(index.meta()).unwrap_or(Value::Null);
            let mut wrong = Vec::new();
            if count(&meta, "delivery") != Some(current) {
                wrong.push(format!(
                    "built for delivery {:?}, the published delivery is {current}",
                    count(&meta, "delivery")
                ));
            }
            let made_by = (
                meta["model"]["name"].as_str().unwrap_or(""),
                meta["model"]["revision"].as_str().unwrap_or(""),
            );
            if made_by != (model_name, model_revision) {
                wrong.push(format!(
                    "made by {} ({}), reports/enrich.json names {model_name} ({model_revision})",
                    made_by.0, made_by.1
                ));
            }
            if let Some(want) = count(enrich, "embeddings")
                && want != index.len() as u64
            {
                wrong.push(format!(
                    "{} vectors, reports/enrich.json counts {want} embeddings",
                    index.len()
                ));
            }
            if wrong.is_empty() {
                checks.ok(
                    "vector index",
                    format!(
                        "{} vectors of dimension {} by {model_name}",
                        index.len(),
                        index.dimension()
                    ),
                );
            } else {
                checks.error("vector index", wrong.join("; "), Some(fix.to_owned()));
            }
        }
    }

    // The model that will embed queries must be the one that made the vectors.
    let location_path = workspace.index_dir().join("model.json");
    let location = match ModelLocation::load(&location_path) {
        Ok(location) => location,
        Err(error) => return checks.failed("query model", &error, Some(fix.to_owned())),
    };
    match &location {
        ModelLocation::Remote {
            endpoint,
            model,
            api_key_env,
            ..
        } => checks.warn(
            "query model",
            format!(
                "queries are embedded by {model} at {endpoint}: the deployment must reach it{}",
                api_key_env
                    .as_ref()
                    .map(|v| format!(" and have {v} set"))
                    .unwrap_or_default()
            ),
            None,
        ),
        ModelLocation::Local { dir, name, weights } => {
            if let Err(error) = cradle_embed::model_files(dir) {
                return checks.failed(
                    "query model",
                    &error,
                    Some("bash scripts/model.sh (or point [enrich] model at the model directory), then cradle enrich".into()),
                );
            }
            let weights_path = dir.join("model.safetensors");
            let hash = match weights {
                Some(stamp) if stamp.matches(&weights_path) => Ok(stamp.sha256.clone()),
                _ => sha256_file(&weights_path),
            };
            match hash {
                Err(problem) => checks.error("query model", problem, Some(fix.to_owned())),
                Ok(hash) if name != model_name || hash != model_revision => checks.error(
                    "query model",
                    format!(
                        "{} ({name}, weights sha256 {hash}) is not the model that made the embeddings ({model_name}, {model_revision})",
                        dir.display()
                    ),
                    Some(fix.to_owned()),
                ),
                Ok(hash) => checks.ok(
                    "query model",
                    format!("{name} in {} (weights sha256 {hash})", dir.display()),
                ),
            }
        }
    }
}

fn sha256_file(path: &Path) -> Result<String, String> {
    cradle_image::binary::sha256_file(path).map_err(|error| describe(&error).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_become_fixes_and_causes_stay_in_the_message() {
        #[derive(Debug, thiserror::Error)]
        #[error("no index at /x\nhint: run `cradle index --workspace /ws`")]
        struct Outer {
            #[source]
            source: std::io::Error,
        }
        let error = Outer {
            source: std::io::Error::other("disk on fire"),
        };
        let (message, hint) = describe(&error);
        assert_eq!(message, "no index at /x: disk on fire");
        assert_eq!(hint.as_deref(), Some("run `cradle index --workspace /ws`"));
    }
}
