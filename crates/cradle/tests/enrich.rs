//! The enrich stage through the binary: chunks, embeddings with the real
//! all-MiniLM-L6-v2 weights (installed by `scripts/model.sh`, which
//! `scripts/test.sh` runs), the vector index, ETIM classes, media; then a
//! delivery that changes 1 % of the products re-embeds only their chunks;
//! `classify --eval` is meaningful; and the server answers vector and
//! hybrid searches.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Article numbers of the published products without a German
/// description, read with `deltalake`.
fn without_description(lakehouse: &Path) -> Vec<String> {
    let script = r#"
import json, sys, os
from deltalake import DeltaTable
t = DeltaTable(sys.argv[1] + "/products").to_pyarrow_table(columns=["article_no", "description_de"])
rows = zip(t.column("article_no").to_pylist(), t.column("description_de").to_pylist())
print(json.dumps(sorted(a for a, d in rows if not d)), flush=True)
os._exit(0)
"#;
    let output = Command::new(python())
        .args(["-c", script, str_path(lakehouse)])
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn enrich_embeds_what_changed_classifies_and_serves_vector_search() {
    let dir = tempfile::tempdir().unwrap();
    let (delivery, workspace) = ingested_demo(dir.path(), "0.01");
    let ws = str_path(&workspace);

    // The transformer itself (the default is a static model distilled from
    // it; see the next test).
    let transformer = cradle_embed::default_model_dir().expect("bash scripts/model.sh");
    let model = str_path(&transformer);
    // First run: everything is embedded.
    let output = run_ok(&["enrich", "--workspace", ws, "--model", model, "--quiet"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let first = json(&workspace.join("reports/enrich.json"));
    let ctx = serde_json::to_string_pretty(&first).unwrap();
    eprintln!("{stdout}");
    let products = first["products"].as_u64().unwrap();
    let chunks = first["chunks"].as_u64().unwrap();
    assert!(products > 900, "{ctx}");
    assert!(chunks > 3 * products, "a few chunks per product: {ctx}");
    // By default identity, description and media chunks get vectors.
    let embeddings = first["embeddings"].as_u64().unwrap();
    let by_kind = |kind: &str| first["chunks_by_kind"][kind].as_u64().unwrap_or(0);
    assert_eq!(
        embeddings,
        by_kind("identity") + by_kind("description") + by_kind("media"),
        "{ctx}"
    );
    assert_eq!(first["embedded_now"], embeddings, "{ctx}");
    assert_eq!(first["model"], "all-MiniLM-L6-v2", "{ctx}");
    assert_eq!(first["dimension"], 384, "{ctx}");
    for kind in ["identity", "description", "technical", "tender"] {
        assert!(
            first["chunks_by_kind"][kind].as_u64().unwrap_or(0) > 0,
            "{kind}: {ctx}"
        );
    }
    // Every product gets a class: most from the delivery, the rest from the
    // classifier; invalid delivered codes are counted.
    assert_eq!(first["classified"], products, "{ctx}");
    let sources = first["classification_sources"].as_object().unwrap();
    assert!(
        sources["delivered"].as_u64().unwrap() > products / 2,
        "{ctx}"
    );
    assert!(sources.len() >= 2, "the classifier had work: {ctx}");
    for key in [
        "media_processed",
        "media_failed",
        "classification_sources",
        "embedded_now",
    ] {
        assert!(first.get(key).is_some(), "{key} missing: {ctx}");
    }
    assert!(workspace.join("index/vectors.idx").exists());
    let tables = read_with_deltalake(
        &workspace.join("lakehouse"),
        &[
            ("chunks", None),
            ("embeddings", None),
            ("classifications", None),
        ],
    );
    assert_eq!(tables["chunks"]["rows"], chunks);
    assert_eq!(tables["embeddings"]["rows"], embeddings);
    assert_eq!(tables["classifications"]["rows"], products);

    // A second delivery changes 1 % of the products: a description for
    // products that had none.
    let articles = without_description(&workspace.join("lakehouse"));
    let changed: Vec<&String> = articles.iter().take(products as usize / 100).collect();
    assert!(!changed.is_empty());
    let second = dir.path().join("second");
    copy_dir(&delivery, &second);
    let mut csv = String::from("Artikelnummer;Beschreibung\n");
    for article in &changed {
        csv.push_str(&format!(
            "{article};{article} nur mit Einbaurahmen EBR-2 in Gipskartondecken montieren\n"
        ));
    }
    std::fs::write(second.join("nachtrag_montage.csv"), csv).unwrap();
    run_ok(&["ingest", str_path(&second), "--workspace", ws, "--quiet"]);
    run_ok(&["enrich", "--workspace", ws, "--model", model, "--quiet"]);
    let again = json(&workspace.join("reports/enrich.json"));
    let ctx = serde_json::to_string_pretty(&again).unwrap();
    let now = again["embedded_now"].as_u64().unwrap();
    let total = again["chunks"].as_u64().unwrap();
    // Each got one new description chunk; nothing else changed.
    assert_eq!(now, changed.len() as u64, "{ctx}");
    let embedded_total = again["embeddings"].as_u64().unwrap();
    assert_eq!(embedded_total, embeddings + now, "{ctx}");
    assert_eq!(
        again["embeddings_reused"].as_u64().unwrap() + now,
        embedded_total,
        "{ctx}"
    );
    eprintln!(
        "second delivery: {now} of {embedded_total} embedded chunks ({:.2} %) computed again, {} of {products} products changed; {total} chunks in all",
        100.0 * now as f64 / embedded_total as f64,
        changed.len()
    );

    // Held-out products classified blind.
    let output = run_ok(&["classify", "--eval", "--workspace", ws]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}");
    let accuracy: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("accuracy@1 "))
        .expect("accuracy@1 line")
        .trim()
        .parse()
        .unwrap();
    assert!(accuracy >= 0.9, "accuracy@1 {accuracy}\n{stdout}");
    let eval = json(&workspace.join("reports/classify-eval.json"));
    assert!(eval["held_out"].as_u64().unwrap() > 50, "{eval}");

    // The server embeds queries with the same model.
    run_ok(&["index", "--workspace", ws]);
    let created = run_ok(&["api-key", "create", "--workspace", ws, "--name", "test"]);
    let key = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let port = free_port();
    let _server = Server(
        cradle()
            .args(["serve", "--workspace", ws, "--port", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    while get(port, "/ready", None).map(|r| r.0) != Some(200) {
        assert!(started.elapsed() < Duration::from_secs(20), "not ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, body) = get(port, "/api/stats", None).unwrap();
    assert_eq!(status, 200, "{body}");
    let stats: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["chunks"], again["chunks"], "{stats}");
    assert_eq!(stats["embeddings"], again["embeddings"], "{stats}");
    assert_eq!(stats["customer"], again["customer"], "{stats}");
    assert_eq!(stats["version"], again["delivery"], "{stats}");

    let search = |query: &str| -> Value {
        let (status, body) = get(port, query, Some(&key)).unwrap();
        assert_eq!(status, 200, "{query}: {body}");
        serde_json::from_str(&body).unwrap()
    };
    let vector =
        search("/api/search?q=recessed%20ceiling%20spotlight%20warm%20white&mode=vector&limit=5");
    assert_eq!(vector["mode"], "vector");
    assert_eq!(vector["hits"].as_array().unwrap().len(), 5, "{vector}");
    let first_score = vector["hits"][0]["score"].as_f64().unwrap();
    assert!(
        first_score > 0.3 && first_score <= 1.0001,
        "cosine: {vector}"
    );
    // Hybrid keeps an exact article number first.
    let article = &changed[0];
    let hybrid = search(&format!("/api/search?q={article}&mode=hybrid&limit=5"));
    assert_eq!(
        hybrid["hits"][0]["article_no"],
        article.as_str(),
        "{hybrid}"
    );
    // Hybrid fuses article numbers and loads only the page: every hit has
    // its name, keyword matches their highlights, and pages line up.
    let wide = search("/api/search?q=Downlight%20warmweiss&mode=hybrid&limit=10&highlight=true");
    let hits = wide["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 10, "{wide}");
    assert!(hits.iter().all(|h| h["name"].is_string()), "{wide}");
    assert!(
        hits.iter().any(|h| {
            let matched = h["matched"].as_array().unwrap();
            matched.len() > 1
                && !h["highlights"].as_array().unwrap().is_empty()
                && matched.iter().any(|m| m == "vector")
        }),
        "a product both rankings found, with highlights: {wide}"
    );
    let second = search("/api/search?q=Downlight%20warmweiss&mode=hybrid&limit=5&offset=5");
    let order = |v: &Value| -> Vec<String> {
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["article_no"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(order(&second), order(&wide)[5..], "{second}");
    assert_eq!(second["total"], wide["total"]);
    // Vector facets count the candidates.
    let faceted =
        search("/api/search?q=outdoor%20wall%20light&mode=vector&limit=3&facets=etim_class");
    let counted: u64 = faceted["facets"]["etim_class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| pair[1].as_u64().unwrap())
        .sum();
    assert!(
        counted > 0 && counted <= faceted["total"].as_u64().unwrap(),
        "{faceted}"
    );
    // Filters apply to vector hits too.
    let filtered =
        search("/api/search?q=pendant%20luminaire&mode=vector&etim_class=EC001743&limit=10");
    for hit in filtered["hits"].as_array().unwrap() {
        assert_eq!(hit["etim_class"], "EC001743", "{filtered}");
    }
    // A filter far from the query still fills the page: the index is
    // scanned for products that pass it, not just the overall nearest.
    let bollards = search("/api/search?q=&etim_class=EC000301&limit=1");
    let expected = bollards["total"].as_u64().unwrap().min(10);
    assert!(expected > 0, "{bollards}");
    for mode in ["vector", "hybrid"] {
        let far = search(&format!(
            "/api/search?q=pendant%20luminaire%20for%20offices&mode={mode}&etim_class=EC000301&limit=10"
        ));
        let hits = far["hits"].as_array().unwrap();
        assert_eq!(hits.len() as u64, expected, "{mode}: {far}");
        for hit in hits {
            assert_eq!(hit["etim_class"], "EC000301", "{mode}: {far}");
        }
    }
    let (status, body) = get(port, "/api/search?q=x&mode=semantic", Some(&key)).unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("mode"), "{body}");
}

/// The default model: a static model distilled from the installed
/// transformer, fitted to the workspace's texts on the first enrich; the
/// fitted model serves the queries (and passes validate), and a later
/// delivery keeps it, so only changed chunks are embedded again.
#[test]
fn by_default_a_distilled_model_is_fitted_to_the_workspace_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (delivery, workspace) = ingested_demo(dir.path(), "0.01");
    let ws = str_path(&workspace);

    run_ok(&["enrich", "--workspace", ws, "--quiet"]);
    let first = json(&workspace.join("reports/enrich.json"));
    let ctx = serde_json::to_string_pretty(&first).unwrap();
    let transformer = cradle_embed::default_model_dir().expect("bash scripts/model.sh");
    let name = transformer.file_name().unwrap().to_str().unwrap();
    assert_eq!(first["model"], format!("{name}-static+fit"), "{ctx}");
    assert_eq!(first["fitted"]["reused"], false, "{ctx}");
    assert_eq!(first["fitted"]["texts"], first["embeddings"], "{ctx}");
    let fitted = workspace.join("model");
    // Named relative to the workspace, so a copy of it finds its own.
    let location = json(&workspace.join("index/model.json"));
    assert_eq!(location["dir"], "model", "{location}");
    let summary = std::fs::read_to_string(workspace.join("reports/enrich.txt")).unwrap();
    assert!(summary.contains("fitted to"), "{summary}");
    let weights = std::fs::read(fitted.join("model.safetensors")).unwrap();

    // A second delivery: the fitted model stays as it is, so only the
    // changed products' chunks are embedded.
    let articles = without_description(&workspace.join("lakehouse"));
    let changed: Vec<&String> = articles.iter().take(5).collect();
    let second = dir.path().join("second");
    copy_dir(&delivery, &second);
    let mut csv = String::from("Artikelnummer;Beschreibung\n");
    for article in &changed {
        csv.push_str(&format!("{article};{article} mit Blendschutzring\n"));
    }
    std::fs::write(second.join("nachtrag.csv"), csv).unwrap();
    run_ok(&["ingest", str_path(&second), "--workspace", ws, "--quiet"]);
    run_ok(&["enrich", "--workspace", ws, "--quiet"]);
    let again = json(&workspace.join("reports/enrich.json"));
    let ctx = serde_json::to_string_pretty(&again).unwrap();
    assert_eq!(again["fitted"]["reused"], true, "{ctx}");
    assert_eq!(again["model_revision"], first["model_revision"], "{ctx}");
    assert_eq!(again["embedded_now"], changed.len() as u64, "{ctx}");
    assert_eq!(
        std::fs::read(fitted.join("model.safetensors")).unwrap(),
        weights,
        "the fitted model is frozen"
    );

    // The deployment's pre-build check accepts the fitted query model, in
    // a copy of the workspace too (the original gone).
    run_ok(&["index", "--workspace", ws]);
    let copy = dir.path().join("copy");
    copy_dir(&workspace, &copy);
    std::fs::remove_dir_all(&workspace).unwrap();
    let output = run(&["validate", "--workspace", str_path(&copy), "--json"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(output.status.success(), "{report:#}");
    let query_model = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "query model")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(query_model["status"], "ok", "{report:#}");
}
