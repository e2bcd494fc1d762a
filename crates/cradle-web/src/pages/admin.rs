//! Administration (`/admin`, customer admins): the installation (customer,
//! cradle version, delivery served, health, disk use of what is served,
//! the state database), the licence (a placeholder until the control plane
//! issues one), the history of `cradle run` (a table of the newest runs and
//! a chart of the latest run's seconds per step; lines of `runs.jsonl`
//! that cannot be read are left out with a note) and the audit log.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use cradle_state::{AuditEntry, Role};

use crate::Web;
use crate::charts::Chart;
use crate::error::WebError;
use crate::pages::{display, render, state_error};
use crate::session::{Chrome, Signed};

/// Entries of the audit log shown.
const AUDIT_ENTRIES: i64 = 200;
/// Runs of `cradle run` shown.
const RUNS: usize = 50;

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    chrome: Chrome,
    facts: Vec<(&'static str, String)>,
    disk: Vec<(&'static str, String)>,
    runs: Vec<RunRow>,
    /// Lines of the history left out, and why the file could not be read.
    unreadable: usize,
    runs_problem: Option<String>,
    chart: Option<Chart>,
    audit: Vec<AuditEntry>,
}

/// One run as the table shows it.
struct RunRow {
    started: String,
    ok: String,
    delivery: String,
    products: String,
    files: String,
    data_points: String,
    rejected_rows: String,
    chunks: String,
    vectors: String,
    classified: String,
    image: String,
    healthy: String,
    seconds: String,
    steps: String,
}

fn number(value: Option<u64>) -> String {
    value.map_or_else(|| "–".to_owned(), |n| n.to_string())
}

impl RunRow {
    fn new(run: &cradle_query::runs::Run) -> RunRow {
        let image = match (&run.image_digest, run.image_size) {
            (Some(digest), size) => {
                let short: String = digest
                    .trim_start_matches("sha256:")
                    .chars()
                    .take(12)
                    .collect();
                match size {
                    Some(bytes) => format!("{short} ({})", self::size(bytes)),
                    None => short,
                }
            }
            (None, _) => "–".to_owned(),
        };
        RunRow {
            started: run.started_at.clone().unwrap_or_else(|| "–".to_owned()),
            ok: match run.ok {
                Some(true) => "✓".to_owned(),
                Some(false) => "✗".to_owned(),
                None => "–".to_owned(),
            },
            delivery: number(run.delivery_version),
            products: number(run.products),
            files: number(run.files),
            data_points: number(run.data_points),
            rejected_rows: number(run.rejected_rows),
            chunks: number(run.chunks),
            vectors: number(run.vectors),
            classified: number(run.classified),
            image,
            healthy: run
                .healthy_ms
                .map_or_else(|| "–".to_owned(), |ms| format!("{:.1} s", ms / 1000.0)),
            seconds: format!("{:.1}", run.seconds),
            steps: run
                .steps
                .iter()
                .map(|s| format!("{} {} {:.1} s", s.name, s.state, s.seconds))
                .collect::<Vec<_>>()
                .join(" · "),
        }
    }
}

/// Bytes as KB, MB or GB.
pub fn size(bytes: u64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

pub async fn page(State(web): State<Web>, signed: Signed) -> Result<Response, WebError> {
    signed.require(Role::manages_users)?;
    let t = signed.lang.text();
    let db = web.app.state_db();
    let mut facts = vec![("cradle", env!("CARGO_PKG_VERSION").to_owned())];
    let mut disk = Vec::new();
    let mut history = cradle_query::runs::RunHistory::default();
    let health = match web.app.data_slot().get() {
        Ok(data) => {
            history = data.run_history(RUNS);
            let ingest = data.reports().ingest.as_ref();
            let field = |key: &str| {
                ingest
                    .and_then(|r| r.get(key))
                    .map(display)
                    .unwrap_or_else(|| "–".to_owned())
            };
            facts.insert(0, (t.customer, field("customer")));
            let stats = data.index_stats();
            facts.push((
                t.delivery,
                stats
                    .built_from
                    .delivery
                    .map_or("–".to_owned(), |d| d.to_string()),
            ));
            facts.push((t.index_built, stats.built_at.clone()));
            disk.push((t.search_index, size(stats.size_bytes)));
            disk.push((t.catalog, size(data.catalog_size_bytes())));
            if let Some(vectors) = data.vectors_if_any() {
                disk.push((t.vector_index, size(vectors.file_bytes())));
            }
            t.health_ready
        }
        Err(_) if web.app.failed() => t.health_failed,
        Err(_) => t.health_starting,
    };
    facts.push((t.health, health.to_owned()));
    facts.push((t.uptime, format!("{} s", web.app.uptime().as_secs())));
    facts.push((
        t.state_database,
        format!("{} ({})", db.location(), db.dialect()),
    ));
    facts.push((t.licence, t.licence_placeholder.to_owned()));
    let audit = db.audit_log(AUDIT_ENTRIES).await.map_err(state_error)?;
    let chart = history.runs.first().map(|latest| {
        Chart::new(
            t.run_seconds_chart,
            latest
                .steps
                .iter()
                .map(|s| (format!("{} ({})", s.name, s.state), s.seconds, None))
                .collect(),
            None,
            |seconds| format!("{seconds:.1} s"),
        )
    });
    render(&AdminPage {
        chrome: signed.chrome("admin", t.nav_admin),
        facts,
        disk,
        runs: history.runs.iter().map(RunRow::new).collect(),
        unreadable: history.unreadable,
        runs_problem: history.problem,
        chart,
        audit,
    })
}
