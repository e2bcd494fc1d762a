//! The MCP router driven through `tower::ServiceExt::oneshot` with raw
//! JSON-RPC over a small real data directory (index and catalog built from
//! a lakehouse) and keys in a real SQLite state database: the handshake of
//! 2025-11-25, the handshake-free 2026-07-28, the six tools, tool errors,
//! the key check and the host check. Then the official Python client (PyPI
//! `mcp`) against a server on a real socket.

use std::path::PathBuf;
use std::process::Command;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use cradle_mcp::{McpOptions, router};
use cradle_query::{Data, DataSlot};
use cradle_state::{StateConfig, StateDb};
use cradle_test_support::fixture;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use tempfile::TempDir;
use tower::ServiceExt;

/// The MCP router over the fixture data, and a valid key.
struct Mcp {
    _dir: TempDir,
    data: Arc<DataSlot>,
    state_db: StateDb,
    key: String,
}

impl Mcp {
    async fn new() -> Mcp {
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
        let data = Data::open(&data_dir).await.expect("open data");
        Mcp {
            _dir: dir,
            data: Arc::new(DataSlot::ready(data)),
            state_db,
            key,
        }
    }

    fn router(&self) -> Router {
        router(
            self.data.clone(),
            self.state_db.clone(),
            McpOptions::default(),
        )
    }

    /// A POST to /mcp with the usual headers; `version` sets
    /// `MCP-Protocol-Version`.
    fn request(&self, version: Option<&str>) -> axum::http::request::Builder {
        self.request_at("127.0.0.1:9314", version)
    }

    /// [`Mcp::request`] with this `Host`.
    fn request_at(&self, host: &str, version: Option<&str>) -> axum::http::request::Builder {
        let mut builder = Request::post("/mcp")
            .header(header::HOST, host)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json, text/event-stream")
            .header(header::AUTHORIZATION, format!("Bearer {}", self.key));
        if let Some(version) = version {
            builder = builder.header("MCP-Protocol-Version", version);
        }
        builder
    }

    async fn send(
        &self,
        builder: axum::http::request::Builder,
        body: &Value,
    ) -> (StatusCode, Value) {
        let request = builder.body(Body::from(body.to_string())).expect("request");
        let response = self.router().oneshot(request).await.expect("response");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let text = String::from_utf8(bytes.to_vec()).expect("utf-8 body");
        let value = if content_type.starts_with("text/event-stream") {
            let data = text
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(str::trim)
                .rfind(|data| !data.is_empty())
                .unwrap_or_else(|| panic!("no data in the event stream: {text}"));
            serde_json::from_str(data).expect("JSON event")
        } else if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    /// A JSON-RPC call with the 2025-11-25 header; the result or a panic.
    async fn call(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
        let (status, answer) = self.send(self.request(Some("2025-11-25")), &body).await;
        assert_eq!(status, StatusCode::OK, "{method}: {answer}");
        assert!(answer.get("error").is_none(), "{method}: {answer}");
        answer["result"].clone()
    }

    /// `tools/call`: the structured content and whether it is an error.
    async fn tool(&self, name: &str, arguments: Value) -> (Value, bool) {
        let result = self
            .call("tools/call", json!({"name": name, "arguments": arguments}))
            .await;
        let is_error = result["isError"].as_bool().unwrap_or(false);
        (result["structuredContent"].clone(), is_error)
    }
}

fn tool_names(result: &Value) -> Vec<String> {
    let mut names: Vec<String> = result["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names
}

const TOOLS: [&str; 6] = [
    "filter_products",
    "get_product",
    "list_classes",
    "list_families",
    "run_sql",
    "search_products",
];

#[tokio::test]
async fn initializes_lists_and_calls_tools() {
    let mcp = Mcp::new().await;

    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "tests", "version": "0"},
        },
    });
    let (status, answer) = mcp.send(mcp.request(None), &initialize).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let result = &answer["result"];
    assert_eq!(result["protocolVersion"], "2025-11-25", "{answer}");
    assert_eq!(result["serverInfo"]["name"], "cradle");
    assert_eq!(result["serverInfo"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        result["instructions"]
            .as_str()
            .is_some_and(|text| text.contains("search_products")),
        "{answer}"
    );

    let tools = mcp.call("tools/list", json!({})).await;
    assert_eq!(tool_names(&tools), TOOLS);
    let search = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "search_products")
        .unwrap();
    let schema = &search["inputSchema"];
    assert_eq!(schema["type"], "object", "{schema}");
    assert!(schema["properties"]["query"].is_object(), "{schema}");
    assert!(schema["properties"]["filters"].is_object(), "{schema}");
    assert_eq!(search["annotations"]["readOnlyHint"], true, "{search}");

    // Search: hits with why they matched.
    let (found, is_error) = mcp
        .tool(
            "search_products",
            json!({"query": "Einbauleuchte", "limit": 5}),
        )
        .await;
    assert!(!is_error, "{found}");
    assert_eq!(found["total"], 2, "{found}");
    let hits = found["hits"].as_array().expect("hits");
    assert!(
        hits.iter()
            .all(|h| h["article_no"].as_str().unwrap().starts_with("LW-"))
    );
    assert!(hits[0]["score"].as_f64().unwrap() > 0.0);
    assert!(hits[0]["name"].as_str().unwrap().contains("Einbauleuchte"));
    assert!(
        !hits[0]["matched"].as_array().unwrap().is_empty(),
        "{found}"
    );

    // Attribute filters.
    let (found, is_error) = mcp
        .tool(
            "search_products",
            json!({"filters": [{"kind": "range", "field": "Leistung", "min": 20, "max": 30}]}),
        )
        .await;
    assert!(!is_error, "{found}");
    assert_eq!(found["hits"][0]["article_no"], "LW-100299", "{found}");
    let (found, _) = mcp
        .tool(
            "search_products",
            json!({"filters": [{"kind": "bool", "field": "Dimmbar", "value": true}]}),
        )
        .await;
    assert_eq!(found["total"], 1, "{found}");

    // A product with its attributes.
    let (product, is_error) = mcp
        .tool("get_product", json!({"article_no": "LW-100234"}))
        .await;
    assert!(!is_error, "{product}");
    assert_eq!(product["article_no"], "LW-100234", "{product}");
    assert!(
        product.to_string().contains("stamm.csv"),
        "provenance: {product}"
    );
    let (missing, is_error) = mcp.tool("get_product", json!({"article_no": "NOPE"})).await;
    assert!(is_error);
    assert_eq!(missing["error"]["code"], "not_found", "{missing}");

    // Listings.
    let (page, is_error) = mcp
        .tool("filter_products", json!({"brand": "Lumatix", "limit": 2}))
        .await;
    assert!(!is_error, "{page}");
    assert_eq!(page["total"], 3, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page}");
    let (families, _) = mcp.tool("list_families", json!({})).await;
    assert_eq!(
        families["families"][0]["name"], "Einbauleuchten",
        "{families}"
    );
    assert_eq!(families["families"][0]["products"], 2, "{families}");
    let (classes, _) = mcp.tool("list_classes", json!({})).await;
    assert_eq!(classes["classes"][0]["name"], "EC001744", "{classes}");

    // SQL, and its mistakes as tool errors with the stable code.
    let (rows, is_error) = mcp
        .tool(
            "run_sql",
            json!({"query": "SELECT count(*) AS n FROM products", "max_rows": 10}),
        )
        .await;
    assert!(!is_error, "{rows}");
    assert_eq!(rows["columns"], json!(["n"]), "{rows}");
    assert_eq!(rows["rows"], json!([[5]]), "{rows}");
    assert_eq!(rows["truncated"], false, "{rows}");
    let (refused, is_error) = mcp
        .tool("run_sql", json!({"query": "DELETE FROM products"}))
        .await;
    assert!(is_error, "{refused}");
    assert!(
        refused["error"]["code"]
            .as_str()
            .is_some_and(|code| !code.is_empty() && code != "internal"),
        "{refused}"
    );
    let (too_many, is_error) = mcp
        .tool("run_sql", json!({"query": "SELECT 1", "max_rows": 0}))
        .await;
    assert!(is_error);
    assert_eq!(too_many["error"]["code"], "invalid_parameter", "{too_many}");
}

#[tokio::test]
async fn serves_2026_07_28_without_a_handshake() {
    let mcp = Mcp::new().await;
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "0"},
    });
    let list =
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}});
    let (status, answer) = mcp
        .send(
            mcp.request(Some("2026-07-28"))
                .header("Mcp-Method", "tools/list"),
            &list,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(tool_names(&answer["result"]), TOOLS, "{answer}");

    let call = json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "search_products", "arguments": {"query": "LW-100234"}, "_meta": meta},
    });
    let (status, answer) = mcp
        .send(
            mcp.request(Some("2026-07-28"))
                .header("Mcp-Method", "tools/call")
                .header("Mcp-Name", "search_products"),
            &call,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let found = &answer["result"]["structuredContent"];
    assert_eq!(found["hits"][0]["article_no"], "LW-100234", "{answer}");
}

#[tokio::test]
async fn tools_say_not_ready_until_the_data_is_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state_db = StateDb::open(&StateConfig::Dir(dir.path().join("state")))
        .await
        .expect("state db");
    let key = state_db
        .create_api_key("tests")
        .await
        .expect("key")
        .plaintext;
    let opening = Arc::new(DataSlot::default());
    let call = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "list_families", "arguments": {}},
    });
    let request = Request::post("/mcp")
        .header(header::HOST, "localhost")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-11-25")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::from(call.to_string()))
        .unwrap();
    let response = router(opening, state_db, McpOptions::default())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let answer: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert_eq!(
        answer["result"]["structuredContent"]["error"]["code"], "not_ready",
        "{answer}"
    );
}

#[tokio::test]
async fn refuses_requests_without_a_valid_key() {
    let mcp = Mcp::new().await;
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
    for authorization in [
        None,
        Some("Bearer crdl_0000000000000000"),
        Some("Basic abc"),
    ] {
        let mut builder = Request::post("/mcp")
            .header(header::HOST, "localhost:9314")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json, text/event-stream");
        if let Some(value) = authorization {
            builder = builder.header(header::AUTHORIZATION, value);
        }
        let response = mcp
            .router()
            .oneshot(builder.body(Body::from(list.to_string())).unwrap())
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{authorization:?}"
        );
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"cradle\""
        );
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("cradle api-key create"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn refuses_hosts_not_allowed() {
    let mcp = Mcp::new().await;
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
    let send = |router: Router, host: &'static str| {
        let request = mcp
            .request_at(host, Some("2025-11-25"))
            .body(Body::from(list.to_string()))
            .unwrap();
        async move { router.oneshot(request).await.unwrap() }
    };

    let response = send(mcp.router(), "console:9314").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"]["code"], "host_not_allowed", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("allowed_hosts"),
        "{body}"
    );
    // Forbidden even without a key: the host is checked first.
    let request = Request::post("/mcp")
        .header(header::HOST, "evil.example")
        .body(Body::empty())
        .unwrap();
    let response = mcp.router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The compose service name, once allowed.
    let options = McpOptions {
        allowed_hosts: vec!["localhost".into(), "console:9314".into()],
    };
    let allowed = router(mcp.data.clone(), mcp.state_db.clone(), options.clone());
    assert_eq!(
        send(allowed.clone(), "console:9314").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(allowed, "console:9999").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_lists_and_searches() {
    let python = cradle_test_support::python(&["mcp"]);
    let mcp = Mcp::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let app = mcp.router();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/client.py");
    let url = format!("http://{address}/mcp");
    let key = mcp.key.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(url)
            .arg(key)
            .output()
            .expect("run the Python client")
    })
    .await
    .expect("client task");
    server.abort();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python client failed:\n{stdout}\n{stderr}"
    );
    let report: Value = serde_json::from_str(stdout.trim()).expect("the client prints JSON");
    assert_eq!(report["server"], "cradle", "{report}");
    let mut tools: Vec<String> = serde_json::from_value(report["tools"].clone()).unwrap();
    tools.sort();
    assert_eq!(tools, TOOLS, "{report}");
    assert_eq!(report["hits"][0], "LW-100234", "{report}");
    assert_eq!(report["unauthorized"], true, "{report}");
    assert_eq!(
        report["legacy"]["protocol_version"], "2025-11-25",
        "{report}"
    );
    assert_eq!(
        report["modern"]["protocol_version"], "2026-07-28",
        "{report}"
    );
}

/// An editor's class correction in the state database, wired as `cradle
/// serve` wires it: the product and search tools answer the corrected
/// class, and the class filter follows it.
#[tokio::test]
async fn tools_answer_an_editors_class_correction() {
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
    let data = Data::open(&data_dir)
        .await
        .expect("open data")
        .with_corrections(Arc::new(state_db.clone()));
    let mcp = Mcp {
        _dir: dir,
        data: Arc::new(DataSlot::ready(data)),
        state_db: state_db.clone(),
        key,
    };
    let editor = state_db
        .create_user("editor@example.com", cradle_state::Role::Editor)
        .await
        .expect("editor");
    state_db
        .correct_class("PL-300", "EC002892", Some("EC001743"), &editor)
        .await
        .expect("correct");

    let (product, is_error) = mcp
        .tool("get_product", json!({"article_no": "PL-300"}))
        .await;
    assert!(!is_error, "{product}");
    assert_eq!(product["etim_class"], "EC002892", "{product}");
    assert_eq!(product["etim_class_source"], "correction");
    assert_eq!(product["corrected_by"], "editor@example.com");
    assert_eq!(product["previous_class"], "EC001743");

    let (found, _) = mcp
        .tool("search_products", json!({"etim_class": "EC002892"}))
        .await;
    let hits = found["hits"].as_array().expect("hits");
    let mut articles: Vec<&str> = hits
        .iter()
        .filter_map(|h| h["article_no"].as_str())
        .collect();
    articles.sort_unstable();
    assert_eq!(articles, ["PL-300", "SL-200100"], "{found}");
    let corrected = hits
        .iter()
        .find(|h| h["article_no"] == "PL-300")
        .expect("the corrected product");
    assert_eq!(corrected["etim_class"], "EC002892");
    assert_eq!(corrected["etim_class_source"], "correction");
    let (found, _) = mcp
        .tool("search_products", json!({"etim_class": "EC001743"}))
        .await;
    assert_eq!(found["total"], 0, "{found}");
}

/// What `serve_stdio` runs, over an in-memory pipe instead of
/// stdin/stdout: newline-delimited JSON-RPC, handshake then a search.
#[tokio::test]
async fn serves_json_lines_like_stdio() {
    use rmcp::ServiceExt;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    fixture::write_data_dir(&data_dir).await;
    let data = Data::open(&data_dir).await.expect("open data");
    let (client, server) = tokio::io::duplex(64 * 1024);
    let (server_read, server_write) = tokio::io::split(server);
    let running = tokio::spawn(async move {
        let service = cradle_mcp::CradleMcp::for_data(data)
            .serve((server_read, server_write))
            .await
            .expect("handshake");
        service.waiting().await.expect("serve")
    });
    let (client_read, mut client_write) = tokio::io::split(client);
    let mut lines = BufReader::new(client_read).lines();
    let messages = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "tests", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "search_products", "arguments": {"query": "Pendelleuchte"}}}),
    ];
    let mut answers = Vec::new();
    for message in messages {
        client_write
            .write_all(format!("{message}\n").as_bytes())
            .await
            .unwrap();
        if message.get("id").is_some() {
            let line = lines.next_line().await.unwrap().expect("an answer");
            answers.push(serde_json::from_str::<Value>(&line).unwrap());
        }
    }
    assert_eq!(answers[0]["result"]["serverInfo"]["name"], "cradle");
    let found = &answers[1]["result"]["structuredContent"];
    assert_eq!(found["hits"][0]["article_no"], "PL-300", "{}", answers[1]);
    drop(client_write);
    drop(lines);
    running.await.expect("server task");
}
