//! `verify`: the deployment tester. Proves that a running deployment serves
//! its workspace, over HTTP only, as a client would:
//!
//! - `/health` and `/ready` answer;
//! - `/api/stats` counts what the workspace's reports count (products, data
//!   points, chunks, embeddings, delivery): nothing was lost between build
//!   and deploy;
//! - article numbers, GTINs and names sampled from the published products
//!   table are each found first by search;
//! - keyword, vector and hybrid search answer (for a workspace without
//!   embeddings, vector search must say so);
//! - every `/api` route of the deployment's OpenAPI document answers
//!   without a 5xx, and every data route refuses a request without a key;
//! - MCP lists its tools;
//! - with `foreign_key` (another customer's key), every data route and MCP
//!   refuse it.
//!
//! Checks that need a key are reported as skipped without one, never as
//! passed.

use cradle_core::fields::CanonicalField;
use cradle_lakehouse::ARTICLE_NO;
use cradle_lakehouse::schema::products;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arrow_array::{Array, LargeStringArray, StringArray};
use cradle_fs::Workspace;
use cradle_lake::Table;
use serde::Serialize;
use serde_json::{Value, json};

use crate::http::{Answer, Client};

/// How many article numbers, GTINs and names are looked up.
pub const SAMPLES: usize = 10;

/// What to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The deployment, e.g. `http://127.0.0.1:9314`.
    pub url: String,
    /// The workspace it was built from.
    pub workspace: PathBuf,
    pub api_key: Option<String>,
    /// A key of another customer's deployment, which must be refused.
    pub foreign_key: Option<String>,
    /// Per request.
    pub timeout: Duration,
    /// How long to wait for `/ready` first.
    pub ready_within: Duration,
}

impl VerifyOptions {
    pub fn new(url: &str, workspace: &Path) -> VerifyOptions {
        VerifyOptions {
            url: url.to_owned(),
            workspace: workspace.to_path_buf(),
            api_key: None,
            foreign_key: None,
            timeout: Duration::from_secs(30),
            ready_within: Duration::from_secs(30),
        }
    }
}

/// One check's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CheckOutcome {
    pub name: String,
    /// Passed. A skipped check has not passed.
    pub ok: bool,
    /// Not run (it needs an API key).
    pub skipped: bool,
    pub detail: String,
    pub ms: f64,
}

/// The report: `{"passed", "failed", "skipped", "checks": [...]}`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub checks: Vec<CheckOutcome>,
}

impl VerifyReport {
    /// Every check ran and passed.
    pub fn all_passed(&self) -> bool {
        self.failed == 0 && self.skipped == 0
    }
}

/// Why verification could not even start.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "cannot read the workspace {workspace}: {why}\nhint: verify needs the workspace the image was built from (`--workspace`)"
    )]
    Workspace { workspace: PathBuf, why: String },
}

/// Queries, each with the answers that count as found first.
type Samples = Vec<(String, BTreeSet<String>)>;

/// What a lookup compares of the first hit.
#[derive(Debug, Clone, Copy)]
enum Compare {
    Article,
    /// Names compare without case.
    Name,
}

/// What the workspace says the deployment must serve.
#[derive(Debug, Default)]
struct Expected {
    customer: Option<String>,
    delivery: u64,
    products: Option<u64>,
    data_points: Option<u64>,
    chunks: u64,
    embeddings: u64,
    enriched: bool,
    articles: Vec<String>,
    /// GTIN to the articles carrying it.
    gtins: Samples,
    names: Vec<String>,
}

/// Runs every check against the deployment.
pub fn verify(options: &VerifyOptions) -> Result<VerifyReport, VerifyError> {
    let expected = expected(&options.workspace).map_err(|why| VerifyError::Workspace {
        workspace: options.workspace.clone(),
        why,
    })?;
    let client = Client::new(&options.url, options.timeout);
    let mut run = Run { checks: Vec::new() };
    let key = options.api_key.as_deref();

    run.check("health", || {
        let answer = client.get("/health", &[], None)?;
        expect_status(&answer, 200)?;
        Ok("200".into())
    });
    run.check("ready", || {
        let deadline = Instant::now() + options.ready_within;
        loop {
            match client.get("/ready", &[], None) {
                Ok(answer) if answer.status == 200 => {
                    return Ok(format!(
                        "200, data opened in {:.0} ms",
                        answer.json()["opened_in_ms"].as_f64().unwrap_or(0.0)
                    ));
                }
                outcome if Instant::now() >= deadline => {
                    return Err(match outcome {
                        Ok(answer) => format!("{} {}", answer.status, answer.body.trim()),
                        Err(why) => why,
                    });
                }
                _ => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    });
    run.check("stats equal the workspace's reports", || {
        let answer = client.get("/api/stats", &[], None)?;
        expect_status(&answer, 200)?;
        compare_stats(&answer.json(), &expected)
    });

    let needs_key = "needs --api-key";
    let lookups: [(&str, Samples, Compare); 3] = [
        (
            "search finds sampled article numbers first",
            expected
                .articles
                .iter()
                .map(|a| (a.clone(), BTreeSet::from([a.clone()])))
                .collect(),
            Compare::Article,
        ),
        (
            "search finds sampled GTINs first",
            expected.gtins.clone(),
            Compare::Article,
        ),
        (
            "search finds sampled names first",
            expected
                .names
                .iter()
                .map(|n| (n.clone(), BTreeSet::from([n.to_lowercase()])))
                .collect(),
            Compare::Name,
        ),
    ];
    for (name, samples, compare) in lookups {
        match key {
            None => run.skip(name, needs_key),
            Some(key) => run.check(name, || {
                if samples.is_empty() {
                    return Err("the workspace has none to sample".into());
                }
                let mut missed = Vec::new();
                for (query, wanted) in &samples {
                    let answer = client.get(
                        "/api/search",
                        &[("q", query.as_str()), ("limit", "3")],
                        Some(key),
                    )?;
                    expect_status(&answer, 200)?;
                    let body = answer.json();
                    let first = &body["hits"][0];
                    let found = match compare {
                        Compare::Article => first["article_no"].as_str().map(str::to_owned),
                        Compare::Name => first["name"].as_str().map(str::to_lowercase),
                    };
                    if !found.as_ref().is_some_and(|f| wanted.contains(f)) {
                        missed.push(format!(
                            "{query:?} (first: {})",
                            found.unwrap_or_else(|| "nothing".into())
                        ));
                    }
                }
                if missed.is_empty() {
                    Ok(format!("{} of {}", samples.len(), samples.len()))
                } else {
                    Err(format!(
                        "{} of {} not first: {}",
                        missed.len(),
                        samples.len(),
                        missed.join(", ")
                    ))
                }
            }),
        }
    }

    let query = expected
        .names
        .first()
        .cloned()
        .unwrap_or_else(|| "leuchte".to_owned());
    for mode in ["keyword", "vector", "hybrid"] {
        let name = format!("{mode} search answers");
        match key {
            None => run.skip(&name, needs_key),
            Some(key) => run.check(&name, || {
                let answer = client.get(
                    "/api/search",
                    &[("q", query.as_str()), ("mode", mode)],
                    Some(key),
                )?;
                if mode != "keyword" && !expected.enriched {
                    // Keyword only: vector search must say why it is off.
                    expect_status(&answer, 400)?;
                    let code = answer.json()["error"]["code"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned();
                    return if code == "vector_search_unavailable" {
                        Ok(
                            "400 vector_search_unavailable, as the workspace has no embeddings"
                                .into(),
                        )
                    } else {
                        Err(format!(
                            "400 with code {code:?}, expected vector_search_unavailable"
                        ))
                    };
                }
                expect_status(&answer, 200)?;
                let hits = answer.json()["hits"].as_array().map_or(0, Vec::len);
                if hits == 0 {
                    return Err(format!("no hits for {query:?}"));
                }
                Ok(format!("{hits} hits for {query:?} in {:.0} ms", answer.ms))
            }),
        }
    }

    // The routes the deployment documents.
    let spec = client
        .get("/api/openapi.json", &[], None)
        .map(|a| (a.status, a.json()));
    let routes = match &spec {
        Ok((200, spec)) => Ok(routes(spec)),
        Ok((status, _)) => Err(format!("/api/openapi.json answered {status}")),
        Err(why) => Err(why.clone()),
    };
    let article = expected.articles.first().cloned().unwrap_or_default();
    match key {
        None => run.skip("every /api route answers without a 5xx", needs_key),
        Some(key) => run.check("every /api route answers without a 5xx", || {
            let routes = routes.clone()?;
            let mut failed = Vec::new();
            for route in &routes {
                let answer = route.call(&client, &article, Some(key))?;
                if answer.status >= 500 {
                    failed.push(format!(
                        "{} {} → {}",
                        route.method, route.path, answer.status
                    ));
                }
            }
            if failed.is_empty() {
                Ok(format!("{} routes", routes.len()))
            } else {
                Err(failed.join(", "))
            }
        }),
    }
    let refusals: Vec<(String, Option<String>)> =
        std::iter::once(("data routes refuse requests without a key".to_owned(), None))
            .chain(std::iter::once((
                "data routes refuse a made-up key".to_owned(),
                Some("crdl_0000000000000000000000000000000000000000".to_owned()),
            )))
            .chain(options.foreign_key.iter().map(|k| {
                (
                    "data routes refuse the other customer's key".to_owned(),
                    Some(k.clone()),
                )
            }))
            .collect();
    for (name, refused_key) in refusals {
        run.check(&name, || {
            let routes = routes.clone()?;
            let protected: Vec<&Route> = routes.iter().filter(|r| r.protected).collect();
            if protected.is_empty() {
                return Err("the OpenAPI document names no route that needs a key".into());
            }
            let mut let_through = Vec::new();
            for route in &protected {
                let answer = route.call(&client, &article, refused_key.as_deref())?;
                if answer.status != 401 && answer.status != 403 {
                    let_through.push(format!(
                        "{} {} → {}",
                        route.method, route.path, answer.status
                    ));
                }
            }
            let mcp = mcp_tools(&client, refused_key.as_deref())?;
            if mcp.status != 401 && mcp.status != 403 {
                let_through.push(format!("POST /mcp → {}", mcp.status));
            }
            if let_through.is_empty() {
                Ok(format!("{} routes and /mcp refused", protected.len()))
            } else {
                Err(format!("let through: {}", let_through.join(", ")))
            }
        });
    }
    match key {
        None => run.skip("MCP lists its tools", needs_key),
        Some(key) => run.check("MCP lists its tools", || {
            let answer = mcp_tools(&client, Some(key))?;
            expect_status(&answer, 200)?;
            let message = json_rpc_message(&answer.body)
                .ok_or_else(|| format!("not a JSON-RPC answer: {}", clip(&answer.body)))?;
            let tools: Vec<&str> = message["result"]["tools"]
                .as_array()
                .map(|tools| tools.iter().filter_map(|t| t["name"].as_str()).collect())
                .unwrap_or_default();
            if tools.is_empty() {
                return Err(format!("no tools: {}", clip(&answer.body)));
            }
            Ok(format!("{} tools: {}", tools.len(), tools.join(", ")))
        }),
    }

    let passed = run.checks.iter().filter(|c| c.ok).count();
    let skipped = run.checks.iter().filter(|c| c.skipped).count();
    Ok(VerifyReport {
        passed,
        failed: run.checks.len() - passed - skipped,
        skipped,
        checks: run.checks,
    })
}

struct Run {
    checks: Vec<CheckOutcome>,
}

impl Run {
    fn check(&mut self, name: &str, check: impl FnOnce() -> Result<String, String>) {
        let started = Instant::now();
        let outcome = check();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let (ok, detail) = match outcome {
            Ok(detail) => (true, detail),
            Err(detail) => (false, detail),
        };
        self.checks.push(CheckOutcome {
            name: name.to_owned(),
            ok,
            skipped: false,
            detail,
            ms,
        });
    }

    fn skip(&mut self, name: &str, why: &str) {
        self.checks.push(CheckOutcome {
            name: name.to_owned(),
            ok: false,
            skipped: true,
            detail: why.to_owned(),
            ms: 0.0,
        });
    }
}

fn expect_status(answer: &Answer, status: u16) -> Result<(), String> {
    if answer.status == status {
        Ok(())
    } else {
        Err(format!(
            "answered {} (expected {status}): {}",
            answer.status,
            clip(&answer.body)
        ))
    }
}

fn clip(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn compare_stats(stats: &Value, expected: &Expected) -> Result<String, String> {
    let mut wrong = Vec::new();
    let mut same = |key: &str, served: &Value, want: Value| {
        if *served != want {
            wrong.push(format!("{key}: served {served}, the workspace says {want}"));
        }
    };
    same("customer", &stats["customer"], json!(expected.customer));
    same("version", &stats["version"], json!(expected.delivery));
    same("products", &stats["products"], json!(expected.products));
    same(
        "data_points",
        &stats["data_points"],
        json!(expected.data_points),
    );
    same("chunks", &stats["chunks"], json!(expected.chunks));
    same(
        "embeddings",
        &stats["embeddings"],
        json!(expected.embeddings),
    );
    if wrong.is_empty() {
        Ok(format!(
            "delivery {}, {} products, {} data points, {} chunks, {} embeddings",
            expected.delivery,
            expected.products.unwrap_or(0),
            expected.data_points.unwrap_or(0),
            expected.chunks,
            expected.embeddings
        ))
    } else {
        Err(wrong.join("; "))
    }
}

/// A route of the OpenAPI document.
#[derive(Debug, Clone)]
struct Route {
    method: String,
    path: String,
    protected: bool,
    /// A request body made of the schema's examples (POST).
    body: Option<Value>,
}

impl Route {
    fn call(&self, client: &Client, article: &str, key: Option<&str>) -> Result<Answer, String> {
        // Path parameters: an article number where one is asked for.
        let mut path = self.path.clone();
        while let Some(start) = path.find('{') {
            let end = path[start..]
                .find('}')
                .map_or(path.len(), |e| start + e + 1);
            let value = if path[start..end].contains("article") {
                article.to_owned()
            } else {
                "x".to_owned()
            };
            path.replace_range(start..end, &encode_segment(&value));
        }
        match self.method.as_str() {
            "GET" => client.get(&path, &[], key),
            _ => client.post_json(&path, self.body.as_ref().unwrap_or(&json!({})), &[], key),
        }
    }
}

/// Percent-encodes a path segment.
fn encode_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `/api` routes of an OpenAPI document, with whether they need a key
/// (an operation's `security`, else the document's).
fn routes(spec: &Value) -> Vec<Route> {
    let default_protected = spec["security"].as_array().is_some_and(|s| !s.is_empty());
    let mut routes = Vec::new();
    if let Some(paths) = spec["paths"].as_object() {
        for (path, operations) in paths {
            if !path.starts_with("/api") {
                continue;
            }
            let Some(operations) = operations.as_object() else {
                continue;
            };
            for (method, operation) in operations {
                let method = method.to_uppercase();
                if !["GET", "POST"].contains(&method.as_str()) {
                    continue;
                }
                let protected = match operation.get("security").and_then(Value::as_array) {
                    Some(security) => !security.is_empty(),
                    None => default_protected,
                };
                let body = operation
                    .pointer("/requestBody/content/application~1json/schema")
                    .map(example_of);
                routes.push(Route {
                    method,
                    path: path.clone(),
                    protected,
                    body,
                });
            }
        }
    }
    routes
}

/// A value of `schema` built from its examples (required properties only).
fn example_of(schema: &Value) -> Value {
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    match schema["type"].as_str() {
        Some("object") => {
            let required: BTreeSet<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut object = serde_json::Map::new();
            if let Some(properties) = schema["properties"].as_object() {
                for (name, property) in properties {
                    if required.contains(name.as_str()) {
                        object.insert(name.clone(), example_of(property));
                    }
                }
            }
            Value::Object(object)
        }
        Some("integer") | Some("number") => json!(1),
        Some("boolean") => json!(true),
        Some("array") => json!([]),
        _ => json!(""),
    }
}

/// `tools/list` over Streamable HTTP (the handshake-free revision).
fn mcp_tools(client: &Client, key: Option<&str>) -> Result<Answer, String> {
    let body = json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/list",
        "params": {"_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "cradle-verify", "version": env!("CARGO_PKG_VERSION")},
        }},
    });
    client.post_json(
        "/mcp",
        &body,
        &[
            ("Accept", "application/json, text/event-stream"),
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", "tools/list"),
        ],
        key,
    )
}

/// The JSON-RPC message of an MCP answer: plain JSON or the `data:` line of
/// a server-sent event.
fn json_rpc_message(body: &str) -> Option<Value> {
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        return Some(value);
    }
    body.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .find(|message| message.get("result").is_some() || message.get("error").is_some())
}

/// What the workspace says: the reports' counts and samples of the
/// published products table.
fn expected(root: &Path) -> Result<Expected, String> {
    let workspace = Workspace::new(root);
    let lakehouse = workspace.lakehouse_dir();
    let (record, _) = cradle_lakehouse::deliveries::latest(&lakehouse)
        .map_err(|e| crate::validate::describe(&e).0)?
        .ok_or_else(|| "it has no published delivery".to_owned())?;
    let read = |name: &str| -> Result<Option<Value>, String> {
        let path = workspace.reports_dir().join(name);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("{} is damaged: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    };
    let ingest = read("ingest.json")?.ok_or("reports/ingest.json is missing")?;
    let enrich = read("enrich.json")?;
    let number = |report: Option<&Value>, key: &str| report.and_then(|r| r[key].as_u64());
    let mut expected = Expected {
        customer: ingest["customer"].as_str().map(str::to_owned),
        delivery: record.delivery,
        products: number(Some(&ingest), "products"),
        data_points: number(Some(&ingest), "data_points"),
        chunks: number(enrich.as_ref(), "chunks").unwrap_or(0),
        embeddings: number(enrich.as_ref(), "embeddings").unwrap_or(0),
        enriched: workspace.vector_index_file().exists(),
        ..Expected::default()
    };

    // Every product's article number, GTIN and German name, read once.
    let version = *record
        .tables
        .get(products::NAME)
        .ok_or("the published delivery has no products table")?;
    let snapshot = Table::at(lakehouse.join(products::NAME))
        .snapshot(Some(version))
        .map_err(|e| crate::validate::describe(&e).0)?;
    let mut rows: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    let scan = snapshot
        .scan(Some(&[
            ARTICLE_NO,
            CanonicalField::Gtin.column(),
            CanonicalField::NameDe.column(),
        ]))
        .map_err(|e| crate::validate::describe(&e).0)?;
    for batch in scan {
        let batch = batch.map_err(|e| crate::validate::describe(&e).0)?;
        let column = |i: usize| strings(batch.column(i).as_ref());
        let (articles, gtins, names) = (column(0), column(1), column(2));
        for i in 0..batch.num_rows() {
            if let Some(article) = articles.get(i).cloned().flatten() {
                rows.push((
                    article,
                    gtins.get(i).cloned().flatten(),
                    names.get(i).cloned().flatten(),
                ));
            }
        }
    }
    rows.sort();
    let mut by_gtin: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (article, gtin, _) in &rows {
        if let Some(gtin) = gtin.as_ref().filter(|g| !g.trim().is_empty()) {
            by_gtin
                .entry(gtin.clone())
                .or_default()
                .insert(article.clone());
        }
    }
    expected.articles = spread(rows.iter().map(|r| r.0.clone()).collect());
    expected.gtins = spread(by_gtin.into_iter().collect());
    let names: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| r.2.clone())
        .filter(|n| !n.trim().is_empty())
        .collect();
    expected.names = spread(names.into_iter().collect());
    Ok(expected)
}

/// [`SAMPLES`] items spread evenly over `items` (all of them if fewer).
fn spread<T: Clone>(items: Vec<T>) -> Vec<T> {
    if items.len() <= SAMPLES {
        return items;
    }
    (0..SAMPLES)
        .map(|i| items[i * items.len() / SAMPLES + items.len() / (2 * SAMPLES)].clone())
        .collect()
}

/// A string column's values.
fn strings(array: &dyn Array) -> Vec<Option<String>> {
    if let Some(array) = array.as_any().downcast_ref::<StringArray>() {
        return array.iter().map(|v| v.map(str::to_owned)).collect();
    }
    if let Some(array) = array.as_any().downcast_ref::<LargeStringArray>() {
        return array.iter().map(|v| v.map(str::to_owned)).collect();
    }
    vec![None; array.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_spread_over_the_whole_range() {
        let items: Vec<u32> = (0..100).collect();
        assert_eq!(spread(items), [5, 15, 25, 35, 45, 55, 65, 75, 85, 95]);
        assert_eq!(spread(vec![1, 2]), [1, 2]);
    }

    #[test]
    fn routes_know_which_need_a_key_and_build_bodies_from_examples() {
        let spec = json!({
            "security": [{"apiKey": []}],
            "paths": {
                "/health": {"get": {"security": []}},
                "/api/stats": {"get": {"security": []}},
                "/api/products/{article_no}": {"get": {}},
                "/api/sql": {"post": {"requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "required": ["query"],
                    "properties": {"query": {"type": "string", "example": "SELECT 1"}, "max_rows": {"type": "integer"}},
                }}}}}},
            },
        });
        let routes = routes(&spec);
        let summary: Vec<(String, String, bool)> = routes
            .iter()
            .map(|r| (r.method.clone(), r.path.clone(), r.protected))
            .collect();
        assert_eq!(
            summary,
            [
                ("GET".into(), "/api/products/{article_no}".into(), true),
                ("POST".into(), "/api/sql".into(), true),
                ("GET".into(), "/api/stats".into(), false),
            ]
        );
        assert_eq!(routes[1].body, Some(json!({"query": "SELECT 1"})));
        assert_eq!(encode_segment("LN-1/2 a"), "LN-1%2F2%20a");
    }

    #[test]
    fn mcp_answers_are_read_from_json_or_events() {
        let plain = r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}"#;
        assert!(json_rpc_message(plain).is_some());
        let events = format!("event: message\ndata: {plain}\n\n");
        assert_eq!(json_rpc_message(&events), json_rpc_message(plain));
    }
}
