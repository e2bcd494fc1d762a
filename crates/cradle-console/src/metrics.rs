//! `GET /metrics`: Prometheus text exposition (format 0.0.4), written by
//! hand. Request counts and durations are labelled with the *matched*
//! route (`/api/products/{article_no}`), never the raw path, so the number
//! of series stays bounded; requests that match no route count as
//! `unmatched`.
//!
//! No authentication: scrapers are expected to reach it on an internal
//! network, as is the norm, and it exposes only counts and sizes, never
//! product data. Put the port behind a network policy if that matters.
//!
//! Series:
//! - `cradle_http_requests_total{route,method,status}` counter
//! - `cradle_http_request_duration_seconds{route}` histogram
//! - `cradle_index_documents`, `cradle_index_size_bytes`,
//!   `cradle_catalog_size_bytes` gauges (0 until the data is open)
//! - `cradle_up` gauge: 1 when the data is open and the server is ready
//! - `cradle_uptime_seconds` gauge

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::AppState;

/// Upper bounds (seconds) of the duration histogram's buckets.
pub const DURATION_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The content type of the exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Default)]
struct Histogram {
    /// Per bucket, requests at or below its bound (not cumulative here).
    buckets: [u64; DURATION_BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Registry {
    requests: BTreeMap<(String, String, u16), u64>,
    durations: BTreeMap<String, Histogram>,
}

/// The server's request metrics; shared by all requests.
#[derive(Debug, Default)]
pub struct Metrics {
    registry: Mutex<Registry>,
}

impl Metrics {
    /// Counts one answered request.
    pub fn record(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        *registry
            .requests
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default() += 1;
        let histogram = registry.durations.entry(route.to_owned()).or_default();
        histogram.count += 1;
        histogram.sum += seconds;
        if let Some(bucket) = DURATION_BUCKETS.iter().position(|bound| seconds <= *bound) {
            histogram.buckets[bucket] += 1;
        }
    }

    /// Writes the request series in the exposition format.
    fn write_requests(&self, out: &mut String) {
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str(
            "# HELP cradle_http_requests_total HTTP requests answered, by matched route, method and status.\n\
             # TYPE cradle_http_requests_total counter\n",
        );
        for ((route, method, status), count) in &registry.requests {
            let _ = writeln!(
                out,
                "cradle_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {count}",
                escape(route),
                escape(method)
            );
        }
        out.push_str(
            "# HELP cradle_http_request_duration_seconds Time to answer a request, by matched route.\n\
             # TYPE cradle_http_request_duration_seconds histogram\n",
        );
        for (route, histogram) in &registry.durations {
            let route = escape(route);
            let mut cumulative = 0;
            for (bound, count) in DURATION_BUCKETS.iter().zip(histogram.buckets) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "cradle_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "cradle_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                 cradle_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                 cradle_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count, histogram.sum, histogram.count
            );
        }
    }
}

/// Escapes a label value: backslash, double quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}

/// The whole exposition for the current state.
pub fn render(state: &AppState) -> String {
    let mut out = String::new();
    state.metrics().write_requests(&mut out);
    let data = state.data().ok();
    let index = data.as_ref().map(|d| d.index_stats());
    gauge(
        &mut out,
        "cradle_index_documents",
        "Documents in the open search index.",
        index.map_or(0, |s| s.documents),
    );
    gauge(
        &mut out,
        "cradle_index_size_bytes",
        "Size of the open search index on disk.",
        index.map_or(0, |s| s.size_bytes),
    );
    gauge(
        &mut out,
        "cradle_catalog_size_bytes",
        "Size of the open product catalog on disk.",
        data.as_ref().map_or(0, |d| d.catalog_size_bytes()),
    );
    gauge(
        &mut out,
        "cradle_up",
        "1 when the data is open and the server answers product requests.",
        u8::from(data.is_some()),
    );
    gauge(
        &mut out,
        "cradle_uptime_seconds",
        "Seconds since the server started.",
        state.uptime().as_secs_f64(),
    );
    out
}

pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], render(&state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let metrics = Metrics::default();
        metrics.record("/a", "GET", 200, Duration::from_micros(500));
        metrics.record("/a", "GET", 200, Duration::from_millis(30));
        metrics.record("/a", "GET", 500, Duration::from_secs(60));
        let mut out = String::new();
        metrics.write_requests(&mut out);
        assert!(out.contains("route=\"/a\",le=\"0.001\"} 1\n"), "{out}");
        assert!(out.contains("route=\"/a\",le=\"0.05\"} 2\n"), "{out}");
        assert!(out.contains("route=\"/a\",le=\"10\"} 2\n"), "{out}");
        assert!(out.contains("route=\"/a\",le=\"+Inf\"} 3\n"), "{out}");
        assert!(
            out.contains("{route=\"/a\",method=\"GET\",status=\"500\"} 1\n"),
            "{out}"
        );
    }

    #[test]
    fn escapes_label_values() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
