//! The console's router driven through `tower::ServiceExt::oneshot` over a
//! small real data directory (index and catalog built from a lakehouse),
//! with keys made in a real SQLite state database; then one server on a
//! real socket, timed from start to ready.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use cradle_console::{AppState, LogFormat, Server, ServerConfig, router, routes};
use cradle_query::{Data, MemoryStore};
use cradle_state::{StateConfig, StateDb};
use cradle_test_support::fixture;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

/// A router over the fixture data, its state, and a valid key.
struct Console {
    _dir: TempDir,
    state: AppState,
    key: String,
}

impl Console {
    async fn new() -> Console {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        fixture::write_data_dir(&data_dir).await;
        let state_db = StateDb::open(&StateConfig::Dir(dir.path().join("state")))
            .await
            .expect("state db");
        let key = state_db
            .create_api_key("tests")
            .await
            .expect("key")
            .plaintext;
        let state = AppState::new(state_db);
        state.set_data(Data::open(&data_dir).await.expect("open data"));
        Console {
            _dir: dir,
            state,
            key,
        }
    }

    fn router(&self) -> Router {
        router(self.state.clone())
    }

    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.send(Request::get(uri), Body::empty()).await
    }

    async fn send(&self, builder: axum::http::request::Builder, body: Body) -> (StatusCode, Value) {
        let request = builder
            .header(header::AUTHORIZATION, format!("Bearer {}", self.key))
            .body(body)
            .expect("request");
        let response = self.router().oneshot(request).await.expect("response");
        let status = response.status();
        (status, json_body(response).await)
    }
}

async fn body_text(response: axum::response::Response) -> String {
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    String::from_utf8(bytes.to_vec()).expect("utf-8 body")
}

async fn json_body(response: axum::response::Response) -> Value {
    let text = body_text(response).await;
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

async fn state_without_data(dir: &TempDir) -> AppState {
    let state_db = StateDb::open(&StateConfig::Dir(dir.path().join("state")))
        .await
        .expect("state db");
    AppState::new(state_db)
}

#[tokio::test]
async fn health_is_always_ok_and_ready_waits_for_the_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state_without_data(&dir).await;
    let get = |uri: &str| {
        router(state.clone()).oneshot(Request::get(uri).body(Body::empty()).expect("request"))
    };

    let health = get("/health").await.expect("health");
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(json_body(health).await, json!({"status": "ok"}));

    let ready = get("/ready").await.expect("ready");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json_body(ready).await, json!({"status": "starting"}));

    let stats = get("/api/stats").await.expect("stats");
    assert_eq!(stats.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json_body(stats).await["error"]["code"], "not_ready");

    let data_dir = dir.path().join("data");
    fixture::write_data_dir(&data_dir).await;
    state.set_data(Data::open(&data_dir).await.expect("open"));
    let ready = get("/ready").await.expect("ready");
    assert_eq!(ready.status(), StatusCode::OK);
    let body = json_body(ready).await;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["index_documents"], 5);
}

#[tokio::test]
async fn data_that_cannot_be_opened_is_reported_not_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = Data::open(dir.path()).await.expect_err("no index there");
    assert!(error.to_string().contains("catalog"), "{error}");
    assert!(!dir.path().join("index").exists(), "nothing may be created");
    let state = state_without_data(&dir).await;
    state.set_failed();
    let response = router(state)
        .oneshot(Request::get("/ready").body(Body::empty()).expect("request"))
        .await
        .expect("ready");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json_body(response).await["status"], "failed");
}

#[tokio::test]
async fn product_data_needs_a_valid_key() {
    let console = Console::new().await;
    for authorization in [
        None,
        Some("Bearer crdl_wrong"),
        Some("Basic abc"),
        Some("Bearer "),
    ] {
        let mut request = Request::get("/api/products/LW-100234");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let response = console
            .router()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{authorization:?}"
        );
        let challenge = response.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .expect("header");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        let body = json_body(response).await;
        assert_eq!(body["error"]["code"], "unauthorized");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(
            message.contains("cradle api-key create --workspace <WS> --name <NAME>"),
            "{message}"
        );
    }

    // A well-formed key that was never issued, and a revoked one.
    let forged = format!("crdl_{}", "0".repeat(64));
    let db = console.state.state_db();
    let revoked = db.create_api_key("old").await.expect("key");
    assert!(db.revoke_api_key(&revoked.id).await.expect("revoke"));
    for key in [forged, revoked.plaintext] {
        let response = console
            .router()
            .oneshot(
                Request::get("/api/classes")
                    .header(header::AUTHORIZATION, format!("Bearer {key}"))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    let (status, body) = console.get("/api/products/LW-100234").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["article_no"], "LW-100234");

    // Public routes need no key.
    for uri in ["/health", "/api/stats", "/api/openapi.json", "/metrics"] {
        let response = console
            .router()
            .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
    }
}

#[tokio::test]
async fn searches_the_real_index() {
    let console = Console::new().await;
    let (status, body) = console
        .get("/api/search?q=einbauleuchte&facets=family,brand&limit=10")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 2, "{body}");
    let first = body["hits"][0]["article_no"].as_str().expect("hit");
    assert!(first.starts_with("LW-1002"), "{body}");
    assert_eq!(body["facets"]["family"][0], json!(["Einbauleuchten", 2]));

    let (status, body) = console.get("/api/search?q=LW-100234").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["hits"][0]["article_no"], "LW-100234");

    let (status, body) = console
        .get("/api/search?filter=leistung_w:10..20&brand=Lumatix")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let articles: Vec<&str> = body["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["article_no"].as_str().expect("article"))
        .collect();
    let mut sorted = articles.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["LW-100234", "PL-300"], "{body}");

    for (uri, code) in [
        ("/api/search?facets=colour", "unknown_facet"),
        ("/api/search?limit=0", "invalid_parameter"),
        ("/api/search?filter=nocolon", "invalid_parameter"),
        ("/api/search?qq=typo", "unknown_parameter"),
    ] {
        let (status, body) = console.get(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["code"], code, "{uri}: {body}");
    }
}

#[tokio::test]
async fn products_listings_and_not_found() {
    let console = Console::new().await;
    let (status, body) = console.get("/api/products/NOPE-1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("NOPE-1")
    );

    let (status, body) = console
        .get("/api/products?family=Einbauleuchten&limit=1")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 2);
    assert_eq!(body["items"].as_array().expect("items").len(), 1);

    let (status, body) = console.get("/api/families").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body[0], json!({"name": "Einbauleuchten", "products": 2}));
    let (status, body) = console.get("/api/classes").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body[0], json!({"name": "EC001744", "products": 2}));

    let (status, body) = console.get("/api/products?colour=red").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "unknown_parameter");

    let (status, body) = console.get("/api/stats").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["products"], 5);
    assert_eq!(body["delivery"], 1);
    assert_eq!(body["index"]["documents"], 5);
    assert!(body["catalog"]["size_bytes"].as_u64().expect("size") > 0);
}

#[tokio::test]
async fn sql_answers_and_refuses_with_stable_codes() {
    let console = Console::new().await;
    let post = |body: Value| {
        console.send(
            Request::post("/api/sql").header(header::CONTENT_TYPE, "application/json"),
            Body::from(body.to_string()),
        )
    };
    let (status, body) = post(
        json!({"query": "SELECT article_no FROM products ORDER BY article_no", "max_rows": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["columns"], json!(["article_no"]));
    assert_eq!(body["rows"], json!([["DR-350"], ["LW-100234"]]));
    assert_eq!(body["truncated"], true);

    let (status, body) = post(json!({"query": "DELETE FROM products"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "sql_not_read_only");

    let (status, body) = post(json!({"sql": "SELECT 1"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_body");

    let (status, body) = post(json!({"query": "SELECT 1", "max_rows": 0})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_parameter");
}

/// The SQL attacks of issue 16 over HTTP: a PRAGMA compiled under EXPLAIN
/// once set a process-wide heap limit that broke the API-key database
/// (valid keys got 401), and a NUL byte hung a pooled connection.
#[tokio::test]
async fn sql_attacks_leave_keys_and_products_working() {
    let console = Console::new().await;
    let post = |body: Value| {
        console.send(
            Request::post("/api/sql").header(header::CONTENT_TYPE, "application/json"),
            Body::from(body.to_string()),
        )
    };
    for (query, code) in [
        ("EXPLAIN PRAGMA hard_heap_limit=100000", "sql_not_read_only"),
        ("EXPLAIN PRAGMA query_only=OFF", "sql_not_read_only"),
        ("SELECT * FROM pragma_hard_heap_limit", "sql_not_read_only"),
        ("SELECT 1\u{0}", "sql_invalid_text"),
        ("\u{0}", "sql_invalid_text"),
    ] {
        let (status, body) = post(json!({ "query": query })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query:?}: {body}");
        assert_eq!(body["error"]["code"], code, "{query:?}: {body}");
        // The key still opens the data, and the catalog still answers.
        let (status, body) = console.get("/api/products/LW-100234").await;
        assert_eq!(status, StatusCode::OK, "after {query:?}: {body}");
        let (status, body) = post(json!({"query": "SELECT count(*) FROM products"})).await;
        assert_eq!(status, StatusCode::OK, "after {query:?}: {body}");
        assert_eq!(body["rows"], json!([[5]]));
    }
}

#[tokio::test]
async fn openapi_documents_every_route_the_router_answers() {
    let console = Console::new().await;
    let (status, document) = console.get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["openapi"], "3.1.0");
    let specs = routes::specs();
    assert!(specs.iter().filter(|s| s.path.starts_with("/api/")).count() >= 8);
    // A conversation of this key, for `/api/chat/conversations/{id}`.
    let chat = console
        .router()
        .oneshot(
            Request::post("/api/chat")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {}", console.key))
                .body(Body::from(json!({"question": "Einbauleuchte"}).to_string()))
                .expect("request"),
        )
        .await
        .expect("response");
    let chat = body_text(chat).await;
    let conversation = chat
        .lines()
        .find_map(|line| line.strip_prefix("data: "))
        .and_then(|data| serde_json::from_str::<Value>(data).ok())
        .and_then(|event| event["id"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("a conversation event: {chat}"));
    for spec in &specs {
        let operation = &document["paths"][spec.path][spec.method.to_lowercase()];
        assert!(
            operation.is_object(),
            "{} {} undocumented",
            spec.method,
            spec.path
        );
        assert!(operation["responses"]["default"].is_object());
        // The router really serves it with that method.
        let uri = spec
            .path
            .replace("{article_no}", "LW-100234")
            .replace("{id}", &conversation);
        let body = match (spec.method, spec.path) {
            ("POST", "/api/chat") => Body::from(json!({"question": "Einbauleuchte"}).to_string()),
            ("POST", _) => Body::from(json!({"query": "SELECT 1"}).to_string()),
            _ => Body::empty(),
        };
        let response = console
            .router()
            .oneshot(
                Request::builder()
                    .method(spec.method)
                    .uri(&uri)
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::AUTHORIZATION, format!("Bearer {}", console.key))
                    .body(body)
                    .expect("request"),
            )
            .await
            .expect("response");
        let status = response.status();
        assert_eq!(status, StatusCode::OK, "{} {uri}", spec.method);
    }
    // Every reference resolves, and the bodies are the handlers' types.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    out.push(target.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut targets = Vec::new();
    refs(&document, &mut targets);
    assert!(!targets.is_empty());
    for target in &targets {
        let pointer = target.strip_prefix('#').expect("a local reference");
        assert!(
            document.pointer(pointer).is_some(),
            "{target} does not resolve"
        );
    }
    let schemas = &document["components"]["schemas"];
    for name in [
        "SearchResponse",
        "Hit",
        "Product",
        "Provenance",
        "SqlAnswer",
        "Stats",
    ] {
        assert!(schemas[name].is_object(), "no schema {name}: {schemas}");
    }
    assert!(
        schemas["Provenance"]["properties"]["row"].is_object(),
        "{}",
        schemas["Provenance"]
    );
    // And nothing is documented that the list does not hold.
    let paths = document["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for method in item.as_object().expect("path item").keys() {
            assert!(
                specs
                    .iter()
                    .any(|s| s.path == path && s.method.eq_ignore_ascii_case(method)),
                "{method} {path} documented but not routed"
            );
        }
    }
}

/// Checks one line of the Prometheus text format.
fn check_exposition_line(line: &str) {
    if let Some(comment) = line.strip_prefix("# ") {
        let mut parts = comment.splitn(3, ' ');
        let kind = parts.next().expect("kind");
        assert!(kind == "HELP" || kind == "TYPE", "{line}");
        let name = parts.next().expect("metric name");
        assert!(name.starts_with("cradle_"), "{line}");
        if kind == "TYPE" {
            let metric_type = parts.next().expect("type");
            assert!(
                ["counter", "gauge", "histogram"].contains(&metric_type),
                "{line}"
            );
        }
        return;
    }
    let (series, value) = line.rsplit_once(' ').expect("series and value");
    assert!(value.parse::<f64>().is_ok(), "value of {line}");
    let name_end = series.find('{').unwrap_or(series.len());
    let name = &series[..name_end];
    assert!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
        "{line}"
    );
    if name_end < series.len() {
        let labels = series[name_end..]
            .strip_prefix('{')
            .and_then(|l| l.strip_suffix('}'))
            .expect("braced labels");
        // label="value" pairs; values here contain no commas or quotes.
        for pair in labels.split(',') {
            let (label, quoted) = pair.split_once('=').expect("label=value");
            assert!(
                label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{line}"
            );
            assert!(
                quoted.starts_with('"') && quoted.ends_with('"') && quoted.len() >= 2,
                "{line}"
            );
        }
    }
}

#[tokio::test]
async fn metrics_count_requests_by_matched_route() {
    let console = Console::new().await;
    console.get("/api/products/LW-100234").await;
    console.get("/api/products/NOPE-1").await;
    console.get("/no/such/route/12345").await;
    let response = console
        .router()
        .oneshot(
            Request::get("/metrics")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("metrics");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("content type")
            .starts_with("text/plain; version=0.0.4")
    );
    let text = body_text(response).await;
    for line in text.lines() {
        check_exposition_line(line);
    }
    for expected in [
        "cradle_http_requests_total{route=\"/api/products/{article_no}\",method=\"GET\",status=\"200\"} 1\n",
        "cradle_http_requests_total{route=\"/api/products/{article_no}\",method=\"GET\",status=\"404\"} 1\n",
        "cradle_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1\n",
        "cradle_http_request_duration_seconds_count{route=\"/api/products/{article_no}\"} 2\n",
        "cradle_index_documents 5\n",
        "cradle_up 1\n",
    ] {
        assert!(text.contains(expected), "{expected} missing from\n{text}");
    }
    assert!(!text.contains("NOPE-1"), "raw paths must not become labels");
    assert!(!text.contains("12345"), "raw paths must not become labels");
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let console = Console::new().await;
    let response = console
        .router()
        .oneshot(
            Request::get("/api/products/NOPE-1")
                .header("x-request-id", "client-id-42")
                .header(header::AUTHORIZATION, format!("Bearer {}", console.key))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.headers()["x-request-id"], "client-id-42");
    assert_eq!(
        json_body(response).await["error"]["request_id"],
        "client-id-42"
    );

    for sent in [None, Some("has spaces in it")] {
        let mut request = Request::get("/health");
        if let Some(id) = sent {
            request = request.header("x-request-id", id);
        }
        let response = console
            .router()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let id = response.headers()["x-request-id"].to_str().expect("id");
        assert_eq!(id.len(), 32, "a fresh id, not {id:?}");
    }
}

#[tokio::test]
async fn memory_store_serves_products_without_a_catalog() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    fixture::write_data_dir(&data_dir).await;
    let index = cradle_index::SearchIndex::open(&data_dir.join("index/search")).expect("index");
    let store = MemoryStore::new(vec![json!({"article_no": "A-1", "family": "F"})]);
    let state = state_without_data(&dir).await;
    let key = state
        .state_db()
        .create_api_key("k")
        .await
        .expect("key")
        .plaintext;
    state.set_data(Data::new(index, std::sync::Arc::new(store), 0));
    let response = router(state)
        .oneshot(
            Request::get("/api/products/A-1")
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_body(response).await["family"], "F");
}

/// Sends one HTTP/1.1 GET over a fresh connection; the status code.
async fn http_get(address: std::net::SocketAddr, path: &str) -> std::io::Result<u16> {
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0))
}

#[tokio::test]
async fn a_real_server_is_ready_well_under_a_second() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    fixture::write_data_dir(&data_dir).await;
    let config = ServerConfig {
        data_dir,
        state: StateConfig::Dir(dir.path().join("state")),
        bind: "127.0.0.1:0".parse().expect("address"),
        log_format: LogFormat::Human,
        limits: Default::default(),
        rates: Default::default(),
    };

    let started = Instant::now();
    let server = Server::bind(config).await.expect("bind");
    let address = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let mut first_status = None;
    let ready_after = loop {
        let status = http_get(address, "/ready").await.expect("the port answers");
        first_status.get_or_insert(status);
        if status == 200 {
            break started.elapsed();
        }
        assert_eq!(status, 503, "/ready answers 200 or 503");
        assert!(started.elapsed() < Duration::from_secs(10), "never ready");
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    println!("start to ready: {ready_after:?} (first /ready: {first_status:?})");
    assert!(ready_after < Duration::from_secs(2), "{ready_after:?}");
    assert_eq!(http_get(address, "/health").await.expect("health"), 200);
    assert_eq!(
        http_get(address, "/api/search?q=x").await.expect("search"),
        401
    );

    stop.send(()).expect("server running");
    running.await.expect("join").expect("clean shutdown");
}

/// Inputs that once answered 500 (or 200 with nothing) are 400s whose
/// code and message name the parameter; wrong methods and paths answer
/// JSON like every other error.
#[tokio::test]
async fn bad_inputs_are_400s_that_name_the_parameter() {
    let console = Console::new().await;
    let long_word = "a".repeat(1_000);
    let huge_word = "b".repeat(60_000);
    let cases = [
        (
            format!("/api/search?q={long_word}"),
            "query_too_long",
            "\"q\"",
        ),
        (
            format!("/api/search?q={huge_word}&mode=hybrid"),
            "query_too_long",
            "\"q\"",
        ),
        (
            "/api/search?filter=leistung_w:10..20:parsec".to_owned(),
            "unknown_unit",
            "parsec",
        ),
        (
            "/api/stats?verbose=1".to_owned(),
            "unknown_parameter",
            "verbose",
        ),
        (
            "/api/products/LW-100234?expand=all".to_owned(),
            "unknown_parameter",
            "expand",
        ),
        ("/api/classes?x=1".to_owned(), "unknown_parameter", "x"),
        (
            "/api/families?sort=name".to_owned(),
            "unknown_parameter",
            "sort",
        ),
        ("/api/products/%FF%FE".to_owned(), "invalid_path", "UTF-8"),
    ];
    for (uri, code, names) in cases {
        let (status, body) = console.get(&uri).await;
        let shown = &uri[..uri.len().min(80)];
        assert_eq!(status, StatusCode::BAD_REQUEST, "{shown}: {body}");
        assert_eq!(body["error"]["code"], code, "{shown}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(names), "{shown}: {message}");
    }
    for (method, uri) in [
        ("POST", "/api/stats"),
        ("DELETE", "/api/products/LW-100234"),
        ("PUT", "/api/search"),
        ("GET", "/api/sql"),
    ] {
        let (status, body) = console
            .send(Request::builder().method(method).uri(uri), Body::empty())
            .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
    }
    let (status, body) = console.get("/api/nothing/here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "no_route");
    // The key still serves.
    assert_eq!(
        console.get("/api/products/LW-100234").await.0,
        StatusCode::OK
    );
}

/// A key that sends SQL faster than its limit gets 429 with Retry-After;
/// another key is not affected.
#[tokio::test]
async fn sql_beyond_the_rate_of_a_key_is_429_with_retry_after() {
    let console = Console::new().await;
    let request = |key: &str| {
        Request::post("/api/sql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .body(Body::from(json!({"query": "SELECT 1"}).to_string()))
            .expect("request")
    };
    let mut limited = None;
    for sent in 1..=40 {
        let response = console
            .router()
            .oneshot(request(&console.key))
            .await
            .expect("response");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((sent, response));
            break;
        }
        assert_eq!(response.status(), StatusCode::OK);
    }
    let (sent, response) = limited.expect("the limit is reached within 40 requests");
    assert!(sent > 5, "the burst lets a few through first ({sent})");
    let retry_after: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry_after >= 1);
    let body = json_body(response).await;
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");

    let other = console
        .state
        .state_db()
        .create_api_key("other")
        .await
        .expect("key")
        .plaintext;
    let response = console
        .router()
        .oneshot(request(&other))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
}

/// Four SQL queries that run to their deadline (two keys, two each) do not
/// slow product pages down: user SQL has its own connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn long_sql_does_not_starve_product_pages() {
    let console = Console::new().await;
    let second = console
        .state
        .state_db()
        .create_api_key("second")
        .await
        .expect("key")
        .plaintext;
    let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                   SELECT count(*) FROM c";
    let mut running = Vec::new();
    for key in [&console.key, &console.key, &second, &second] {
        let request = Request::post("/api/sql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .body(Body::from(json!({ "query": endless }).to_string()))
            .expect("request");
        running.push(tokio::spawn(console.router().oneshot(request)));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let (status, body) = console.get("/api/products/LW-100234").await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    eprintln!("slowest product page while four queries ran: {slowest:?}");
    assert!(
        running.iter().all(|task| !task.is_finished()),
        "the queries were still running while the pages were read"
    );
    // Before the pools were split, each page waited for a query (4.5 s).
    assert!(slowest < Duration::from_secs(1), "{slowest:?}");
    for task in running {
        let response = task.await.expect("task").expect("response");
        let status = response.status();
        let body = json_body(response).await;
        assert!(
            status.is_client_error() || status == StatusCode::SERVICE_UNAVAILABLE,
            "a query past its deadline is refused with a code, not a 500: {status} {body}"
        );
    }
    assert_eq!(
        console.get("/api/products/LW-100234").await.0,
        StatusCode::OK
    );
}

/// A body that never arrives (the head was sent, the body is "coming").
struct SilentBody;

impl axum::body::HttpBody for SilentBody {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

/// A client that sends a request's head and then trickles (here: never
/// sends) its body is answered 408 when the body deadline passes, before
/// any handler or key check holds anything for it; an oversized body is 413.
#[tokio::test]
async fn slow_and_oversized_bodies_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = router(state_without_data(&dir).await);
    let started = Instant::now();
    let request = Request::post("/api/sql")
        .header(header::CONTENT_LENGTH, "100")
        .body(Body::new(SilentBody))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(json_body(response).await["error"]["code"], "body_timeout");
    assert!(started.elapsed() >= cradle_console::BODY_READ_TIMEOUT);

    let huge = vec![b' '; cradle_console::MAX_BODY_BYTES + 1];
    let request = Request::post("/api/sql")
        .header(header::CONTENT_LENGTH, huge.len().to_string())
        .body(Body::from(huge))
        .expect("request");
    let response = app.oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json_body(response).await["error"]["code"], "body_too_large");
}
