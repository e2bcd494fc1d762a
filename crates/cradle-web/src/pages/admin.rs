//! Administration (`/admin`, customer admins): the installation (customer,
//! cradle version, delivery served, health, disk use of what is served,
//! the state database), the licence (a placeholder until the control plane
//! issues one) and the audit log.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use cradle_state::{AuditEntry, Role};

use crate::Web;
use crate::error::WebError;
use crate::pages::{display, render, state_error};
use crate::session::{Chrome, Signed};

/// Entries of the audit log shown.
const AUDIT_ENTRIES: i64 = 200;

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    chrome: Chrome,
    facts: Vec<(&'static str, String)>,
    disk: Vec<(&'static str, String)>,
    audit: Vec<AuditEntry>,
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
    let health = match web.app.data_slot().get() {
        Ok(data) => {
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
    render(&AdminPage {
        chrome: signed.chrome("admin", t.nav_admin),
        facts,
        disk,
        audit,
    })
}
