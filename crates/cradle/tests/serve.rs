//! The path a deployment engineer takes after ingest: `cradle index`,
//! `cradle api-key create`, `cradle serve`, then requests over real HTTP.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One MCP JSON-RPC call over Streamable HTTP (revision 2026-07-28, which
/// needs no handshake).
fn mcp_call(port: u16, key: &str, method: &str, params: serde_json::Value) -> (u16, String) {
    let mut params = params;
    params["_meta"] = serde_json::json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "cradle-tests", "version": "0"},
    });
    // Streamable HTTP repeats the method and tool name in headers (for routing).
    let name = params["name"]
        .as_str()
        .map(|n| format!("Mcp-Name: {n}\r\n"))
        .unwrap_or_default();
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        .to_string();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: {method}\r\n{name}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    (status, response)
}

#[test]
fn an_ingested_delivery_is_searchable_over_http_with_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let (_, workspace) = ingested_demo(dir.path(), "0.01");
    let ws = str_path(&workspace);
    run_ok(&["index", "--workspace", ws]);
    let created = run_ok(&["api-key", "create", "--workspace", ws, "--name", "test"]);
    let key = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("crdl_"), "{key}");

    let port = free_port();
    let started = Instant::now();
    let _server = Server(
        cradle()
            .args([
                "serve",
                "--workspace",
                ws,
                "--port",
                &port.to_string(),
                "--log",
                "json",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let ready = loop {
        if let Some((200, body)) = get(port, "/ready", None) {
            break body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not ready after 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!("ready after {:?}: {ready}", started.elapsed());
    assert_eq!(
        get(port, "/health", None).unwrap(),
        (200, r#"{"status":"ok"}"#.to_owned())
    );

    // Product data needs a key.
    assert_eq!(get(port, "/api/search?q=leuchte", None).unwrap().0, 401);
    let (status, body) = get(port, "/api/search?q=leuchte&limit=3", Some(&key)).unwrap();
    assert_eq!(status, 200, "{body}");
    let found: serde_json::Value = serde_json::from_str(&body).unwrap();
    let article = found["hits"][0]["article_no"]
        .as_str()
        .expect("a hit")
        .to_owned();
    let (status, body) = get(port, &format!("/api/products/{article}"), Some(&key)).unwrap();
    assert_eq!(status, 200, "{body}");
    let product: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(product["article_no"], article.as_str());
    assert!(
        product["attributes"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );

    // The same catalogue for agents, over MCP at /mcp.
    let (status, answer) = mcp_call(port, &key, "tools/list", serde_json::json!({}));
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer.contains("search_products") && answer.contains("run_sql"),
        "{answer}"
    );
    let (status, answer) = mcp_call(
        port,
        &key,
        "tools/call",
        serde_json::json!({"name": "get_product", "arguments": {"article_no": article}}),
    );
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains(&article), "{answer}");

    // Stats are public and agree with the ingest.
    let report = json(&workspace.join("reports/ingest.json"));
    let (_, stats) = get(port, "/api/stats", None).unwrap();
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert!(
        stats.to_string().contains(&report["products"].to_string()),
        "{stats}"
    );
}
