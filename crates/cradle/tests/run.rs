//! `cradle run` through the binary, with the real steps: a small demo
//! delivery run until the index, then again (every step skipped), then
//! changed (ingest again, embeddings of unchanged chunks reused); runs
//! killed during ingest, enrich and build that finish when started again
//! with the same tables and the same image; an embeddings endpoint that
//! does not answer (retried, then the step and the fix named); and on the
//! machine's Docker engine the whole run through deploy and verify, with
//! connect refused honestly. `--events` is read back as JSON lines whose
//! last event is `reports/run.json`.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A demo delivery at `scale` in `dir/delivery`.
fn delivery(dir: &Path, scale: &str) -> PathBuf {
    let delivery = dir.join("delivery");
    run_ok(&["demo-data", str_path(&delivery), "--scale", scale]);
    delivery
}

/// Every line of an events file, parsed; each must be a JSON object with
/// the fields of an event.
fn events(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    for event in &events {
        for field in ["ts", "step", "state", "done", "total", "unit", "message"] {
            assert!(event.get(field).is_some(), "{field} missing in {event}");
        }
        let state = event["state"].as_str().unwrap();
        assert!(
            [
                "started", "progress", "done", "skipped", "failed", "retrying"
            ]
            .contains(&state),
            "{event}"
        );
    }
    events
}

/// `(name, state)` of each step in `run.json`.
fn steps(record: &Value) -> Vec<(String, String)> {
    record["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn named(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn history(ws: &Path) -> Vec<Value> {
    std::fs::read_to_string(ws.join("reports/runs.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_run_until_index_skips_everything_the_second_time_and_reuses_vectors_after_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let delivery = delivery(dir.path(), "0.005");
    let manifest = json(&delivery.join("manifest.json"));
    let ws = dir.path().join("ws");
    let events_file = dir.path().join("events.jsonl");
    let args = [
        "run",
        str_path(&delivery),
        "--customer",
        "acme",
        "--workspace",
        str_path(&ws),
        "--until",
        "index",
        "--events",
        str_path(&events_file),
    ];

    let output = run_ok(&args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let record = json(&ws.join("reports/run.json"));
    let ctx = format!("{record:#}\n{stdout}");
    assert_eq!(
        steps(&record),
        named(&[("ingest", "done"), ("enrich", "done"), ("index", "done")]),
        "{ctx}"
    );
    assert_eq!(record["ok"], true, "{ctx}");
    assert_eq!(record["customer"], "acme");
    assert_eq!(record["cradle_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(record["delivery_version"], 1, "{ctx}");
    assert_eq!(record["products"], manifest["products"], "{ctx}");
    assert_eq!(record["data_points"], manifest["data_points"], "{ctx}");
    assert_eq!(record["rejected_rows"], manifest["rejected_rows"], "{ctx}");
    let enrich = json(&ws.join("reports/enrich.json"));
    assert_eq!(record["chunks"], enrich["chunks"], "{ctx}");
    assert_eq!(record["vectors"], enrich["embeddings"], "{ctx}");
    assert_eq!(record["classified"], enrich["classified"], "{ctx}");
    assert!(record["vectors"].as_u64().unwrap() > 500, "{ctx}");
    assert!(record["seconds"].as_f64().unwrap() > 0.0);
    assert!(ws.join("index/catalog.db").exists() && ws.join("index/vectors.idx").exists());

    // The events: every step started and finished, progress with counts,
    // and the last event carries run.json.
    let first_events = events(&events_file);
    for step in ["ingest", "enrich", "index"] {
        for state in ["started", "done"] {
            assert!(
                first_events
                    .iter()
                    .any(|e| e["step"] == step && e["state"] == state),
                "no {state} event of {step}"
            );
        }
    }
    assert!(
        first_events.iter().any(|e| e["step"] == "enrich"
            && e["unit"] == "texts"
            && e["total"].as_u64() > Some(0)),
        "no counted progress of the embedding"
    );
    let last = first_events.last().unwrap();
    assert_eq!(last["step"], "run");
    assert_eq!(last["state"], "done");
    assert_eq!(last["record"], record, "the final event is run.json");

    // The same command again: every step skipped, nothing written.
    let enrich_before = std::fs::read(ws.join("reports/enrich.json")).unwrap();
    let output = run_ok(&args);
    let again = json(&ws.join("reports/run.json"));
    assert_eq!(
        steps(&again),
        named(&[
            ("ingest", "skipped"),
            ("enrich", "skipped"),
            ("index", "skipped")
        ]),
        "{again:#}"
    );
    for step in again["steps"].as_array().unwrap() {
        assert!(
            step["message"]
                .as_str()
                .unwrap()
                .starts_with("unchanged since"),
            "{step}"
        );
    }
    assert!(String::from_utf8_lossy(&output.stderr).contains("skipped"));
    // The numbers of skipped steps come from their records.
    assert_eq!(again["products"], record["products"]);
    assert_eq!(again["vectors"], record["vectors"]);
    assert_eq!(
        std::fs::read(ws.join("reports/enrich.json")).unwrap(),
        enrich_before
    );
    assert_eq!(history(&ws).len(), 2);
    assert_eq!(events(&events_file).last().unwrap()["record"], again);

    // A changed delivery: the technical data of the components is gone
    // (their identity texts lose their key values). Ingest runs again,
    // enrich embeds only the chunks whose text changed.
    std::fs::remove_file(delivery.join("technik/technische_daten_komponenten.csv")).unwrap();
    run_ok(&args);
    let changed = json(&ws.join("reports/run.json"));
    let ctx = format!("{changed:#}");
    assert_eq!(
        steps(&changed),
        named(&[("ingest", "done"), ("enrich", "done"), ("index", "done")]),
        "{ctx}"
    );
    assert_eq!(changed["delivery_version"], 2, "{ctx}");
    let vectors = changed["vectors"].as_u64().unwrap();
    let now = changed["embedded_now"].as_u64().unwrap();
    let reused = changed["embeddings_reused"].as_u64().unwrap();
    assert_eq!(now + reused, vectors, "{ctx}");
    assert!(
        reused > vectors / 2,
        "unchanged chunks keep their vectors: {ctx}"
    );
    assert!(now > 0, "the changed texts were embedded: {ctx}");
    assert_eq!(history(&ws).len(), 3);

    // --from forces a step and those after it; the ones before are skipped.
    run_ok(&[
        "run",
        str_path(&delivery),
        "--customer",
        "acme",
        "--workspace",
        str_path(&ws),
        "--until",
        "index",
        "--from",
        "index",
    ]);
    let forced = json(&ws.join("reports/run.json"));
    assert_eq!(
        steps(&forced),
        named(&[
            ("ingest", "skipped"),
            ("enrich", "skipped"),
            ("index", "done")
        ]),
        "{forced:#}"
    );
}

/// Starts `cradle run` with `args`, waits for the event of `step` in
/// `state`, waits `after`, then kills the process. Whether it had finished
/// by itself first.
fn kill_during(args: &[&str], events_file: &Path, step: &str, after: Duration) -> bool {
    let _ = std::fs::remove_file(events_file);
    let mut child = cradle()
        .args(args)
        .args(["--events", str_path(events_file)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        let seen = std::fs::read_to_string(events_file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|e| e["step"] == step && e["state"] == "started");
        if seen {
            std::thread::sleep(after);
            if let Some(status) = child.try_wait().unwrap() {
                return status.success();
            }
            child.kill().unwrap();
            child.wait().unwrap();
            return false;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "{step} never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Rows of every table at the versions the newest delivery and enrich name.
fn table_rows(ws: &Path) -> Value {
    let enrich = json(&ws.join("reports/enrich.json"));
    let ingest = json(&ws.join("reports/ingest.json"));
    let mut wanted: Vec<(String, Option<u64>)> = Vec::new();
    for (name, table) in ingest["tables"].as_object().unwrap() {
        wanted.push((name.clone(), table["version"].as_u64()));
    }
    for (name, version) in enrich["tables"].as_object().unwrap() {
        wanted.push((name.clone(), version.as_u64()));
    }
    let borrowed: Vec<(&str, Option<u64>)> = wanted.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let read = read_with_deltalake(&ws.join("lakehouse"), &borrowed);
    let mut rows = serde_json::Map::new();
    for (name, table) in read.as_object().unwrap() {
        rows.insert(name.clone(), table["rows"].clone());
    }
    Value::Object(rows)
}

#[test]
fn a_run_killed_during_ingest_or_enrich_finishes_with_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    let delivery = delivery(dir.path(), "0.005");
    let whole = dir.path().join("whole");
    let killed = dir.path().join("killed");
    let events_file = dir.path().join("events.jsonl");
    let args = |ws: &Path| -> Vec<String> {
        [
            "run",
            str_path(&delivery),
            "--customer",
            "acme",
            "--workspace",
            str_path(ws),
            "--until",
            "index",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    // The transformer, not the default static model: its enrich lasts
    // long enough to be killed in the middle, and its vectors are
    // checkpointed as they come.
    let transformer = cradle_embed::default_model_dir().expect("bash scripts/model.sh");
    for ws in [&whole, &killed] {
        std::fs::create_dir_all(ws).unwrap();
        std::fs::write(
            ws.join("cradle.toml"),
            format!("[enrich]\nmodel = {:?}\n", str_path(&transformer)),
        )
        .unwrap();
    }
    let whole_args = args(&whole);
    run_ok(&whole_args.iter().map(String::as_str).collect::<Vec<_>>());
    let expected = json(&whole.join("reports/run.json"));

    // Killed at growing moments of ingest, then of enrich, until a run
    // gets through by itself.
    let killed_args = args(&killed);
    let killed_args: Vec<&str> = killed_args.iter().map(String::as_str).collect();
    let mut kills = 0;
    for (step, after_ms) in [
        ("ingest", 0),
        ("ingest", 20),
        ("ingest", 60),
        ("enrich", 500),
        ("enrich", 3000),
        ("enrich", 8000),
    ] {
        let finished = kill_during(
            &killed_args,
            &events_file,
            step,
            Duration::from_millis(after_ms),
        );
        if !finished {
            kills += 1;
        }
    }
    assert!(kills >= 3, "the runs were killed, not finished: {kills}");
    let output = run_ok(&killed_args);
    let record = json(&killed.join("reports/run.json"));
    let ctx = format!("{record:#}\n{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(record["ok"], true, "{ctx}");
    for field in [
        "products",
        "files",
        "data_points",
        "rejected_rows",
        "chunks",
        "vectors",
        "classified",
    ] {
        assert_eq!(record[field], expected[field], "{field}: {ctx}");
    }
    assert_eq!(table_rows(&killed), table_rows(&whole), "{ctx}");
    // And finished means finished: the next run skips every step.
    run_ok(&killed_args);
    let again = json(&killed.join("reports/run.json"));
    assert!(
        steps(&again).iter().all(|(_, state)| state == "skipped"),
        "{again:#}"
    );
}

#[test]
fn an_embeddings_endpoint_that_does_not_answer_is_retried_then_the_step_and_fix_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let delivery = delivery(dir.path(), "0.005");
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    // A port nothing listens on: every request is refused.
    let port = free_port();
    std::fs::write(
        ws.join("cradle.toml"),
        format!(
            "[enrich]\nendpoint = \"http://127.0.0.1:{port}\"\nremote_model = \"e5\"\n\n[run]\nretries = 1\nretry_backoff_seconds = 1\n"
        ),
    )
    .unwrap();
    let events_file = dir.path().join("events.jsonl");
    let output = run(&[
        "run",
        str_path(&delivery),
        "--customer",
        "acme",
        "--workspace",
        str_path(&ws),
        "--until",
        "index",
        "--events",
        str_path(&events_file),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("enrich failed"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "http://127.0.0.1:{port}/v1/embeddings cannot be reached"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("[enrich] endpoint"), "the fix: {stderr}");
    assert!(stderr.contains("tried 2 times"), "{stderr}");
    assert!(stderr.contains("continues from enrich"), "{stderr}");
    let record = json(&ws.join("reports/run.json"));
    assert_eq!(record["ok"], false);
    assert_eq!(record["failed_step"], "enrich");
    assert_eq!(
        steps(&record),
        named(&[("ingest", "done"), ("enrich", "failed")])
    );
    assert_eq!(record["steps"][1]["retries"], 1);
    let events = events(&events_file);
    assert!(
        events
            .iter()
            .any(|e| e["step"] == "enrich" && e["state"] == "retrying"),
        "a retrying event"
    );
    let last = events.last().unwrap();
    assert_eq!(last["state"], "failed");
    assert_eq!(last["record"], record);

    // With the endpoint setting gone the run goes on from enrich.
    std::fs::write(ws.join("cradle.toml"), "").unwrap();
    run_ok(&[
        "run",
        str_path(&delivery),
        "--customer",
        "acme",
        "--workspace",
        str_path(&ws),
        "--until",
        "enrich",
    ]);
    let record = json(&ws.join("reports/run.json"));
    // cradle.toml is an input of ingest too: an emptied file ingests
    // again (the same content, a new delivery), then enrich runs.
    assert_eq!(record["ok"], true, "{record:#}");
    assert_eq!(record["steps"][1]["state"], "done", "{record:#}");
}

/// The static cradle the images carry (`scripts/static.sh`).
fn static_binary() -> PathBuf {
    match std::env::var_os("CRADLE_STATIC_BINARY").map(PathBuf::from) {
        Some(path) if path.is_file() => path,
        _ => panic!(
            "CRADLE_STATIC_BINARY does not name a static cradle\nhint: run the tests with `bash scripts/test.sh`, or `export CRADLE_STATIC_BINARY=$(bash scripts/static.sh)`"
        ),
    }
}

#[test]
fn a_run_killed_during_build_finishes_with_the_image_an_uninterrupted_build_makes() {
    let binary = static_binary();
    let dir = tempfile::tempdir().unwrap();
    let delivery = delivery(dir.path(), "0.005");
    let ws = dir.path().join("ws");
    let out = dir.path().join("out");
    let events_file = dir.path().join("events.jsonl");
    let args = [
        "run",
        str_path(&delivery),
        "--customer",
        "acme",
        "--workspace",
        str_path(&ws),
        "--out",
        str_path(&out),
        "--until",
        "build",
    ];
    let run_with_binary = |after: Duration| -> bool {
        // SAFETY of the environment: set for the children only.
        let _ = std::fs::remove_file(&events_file);
        let mut child = Command::new(env!("CARGO_BIN_EXE_cradle"))
            .args(args)
            .args(["--events", str_path(&events_file)])
            .env("CRADLE_STATIC_BINARY", &binary)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.success();
            }
            let building = std::fs::read_to_string(&events_file)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .any(|e| e["step"] == "build" && e["state"] == "progress");
            if building {
                std::thread::sleep(after);
                if child.try_wait().unwrap().is_some() {
                    return true;
                }
                child.kill().unwrap();
                child.wait().unwrap();
                return false;
            }
            assert!(started.elapsed() < Duration::from_secs(600), "no build");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    let mut kills = 0;
    for after_ms in [0, 100, 400] {
        if !run_with_binary(Duration::from_millis(after_ms)) {
            kills += 1;
        }
    }
    assert!(kills >= 1, "no run was killed during build");
    let output = cradle()
        .args(args)
        .env("CRADLE_STATIC_BINARY", &binary)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let record = json(&ws.join("reports/run.json"));
    assert_eq!(record["ok"], true, "{record:#}");
    let built = json(&out.join("build.json"));
    assert_eq!(record["image_digest"], built["digest"]);
    assert_eq!(
        record["image_size"].as_u64(),
        Some(std::fs::metadata(out.join("image.tar")).unwrap().len())
    );
    // An uninterrupted build of the same workspace: the same image.
    let fresh = dir.path().join("fresh");
    run_ok(&[
        "build",
        "--workspace",
        str_path(&ws),
        "--out",
        str_path(&fresh),
        "--binary",
        str_path(&binary),
        "--quiet",
    ]);
    assert_eq!(json(&fresh.join("build.json"))["digest"], built["digest"]);
    assert_eq!(
        std::fs::read(fresh.join("image.tar")).unwrap(),
        std::fs::read(out.join("image.tar")).unwrap()
    );
    // Nothing half-written is left beside it.
    let leftovers: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Removes the deployment a test made, however the test ends.
struct Deployment {
    name: String,
    compose: PathBuf,
}

impl Drop for Deployment {
    fn drop(&mut self) {
        let _ = Command::new("docker-compose")
            .arg("-f")
            .arg(&self.compose)
            .args(["-p", &self.name, "down", "-v", "--timeout", "2"])
            .output();
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v", &self.name])
            .output();
        let _ = Command::new("docker")
            .args(["image", "rm", "-f", &format!("cradle-{}:1", self.name)])
            .output();
    }
}

#[test]
fn a_whole_run_deploys_and_verifies_on_the_engine_and_connect_says_it_is_not_available() {
    let engine = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output();
    assert!(
        engine.is_ok_and(|o| o.status.success()),
        "the Docker engine does not answer\nhint: these tests run images on the local engine; start it (`systemctl start docker`)"
    );
    let binary = static_binary();
    let dir = tempfile::tempdir().unwrap();
    let delivery = delivery(dir.path(), "0.005");
    let name = format!("t{}-run", std::process::id());
    let ws = dir.path().join(&name);
    std::fs::create_dir_all(&ws).unwrap();
    let port = free_port();
    std::fs::write(
        ws.join("cradle.toml"),
        format!("customer = \"{name}\"\n[deploy]\nport = {port}\n"),
    )
    .unwrap();
    let _deployment = Deployment {
        name: name.clone(),
        compose: ws.join("image/compose.yaml"),
    };
    let events_file = dir.path().join("events.jsonl");
    let run_with = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cradle"))
            .args(["run", str_path(&delivery), "--customer", &name])
            .args(["--workspace", str_path(&ws)])
            .args(extra)
            .env("CRADLE_STATIC_BINARY", &binary)
            .output()
            .unwrap()
    };

    // With a central: everything up to verify runs, connect fails and says
    // why.
    let output = run_with(&[
        "--central",
        "http://127.0.0.1:1",
        "--token",
        "t",
        "--events",
        str_path(&events_file),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let record = json(&ws.join("reports/run.json"));
    let ctx = format!("{record:#}\n{stderr}");
    assert_eq!(
        steps(&record),
        named(&[
            ("ingest", "done"),
            ("enrich", "done"),
            ("index", "done"),
            ("validate", "done"),
            ("build", "done"),
            ("deploy", "done"),
            ("verify", "done"),
            ("connect", "failed"),
        ]),
        "{ctx}"
    );
    assert!(
        stderr.contains("connect is not available in this version"),
        "{stderr}"
    );
    assert_eq!(record["failed_step"], "connect");
    assert!(
        record["image_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(record["image_size"].as_u64().unwrap() > 1 << 20, "{ctx}");
    assert!(record["healthy_ms"].as_f64().unwrap() > 0.0, "{ctx}");
    assert_eq!(
        record["url"].as_str().unwrap(),
        format!("http://127.0.0.1:{port}")
    );
    assert!(record["verify_passed"].as_u64().unwrap() > 5, "{ctx}");
    assert_eq!(
        events(&events_file).last().unwrap()["record"],
        record,
        "the final event is run.json"
    );
    let (status, _) = get(port, "/ready", None).expect("the deployment answers");
    assert_eq!(status, 200);

    // Without it: every step skipped (the container still runs the same
    // image), connect skipped for want of a central.
    let output = run_with(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let again = json(&ws.join("reports/run.json"));
    let states = steps(&again);
    assert!(
        states.iter().all(|(_, state)| state == "skipped"),
        "{again:#}"
    );
    assert_eq!(
        again["steps"][7]["message"], "no --central given",
        "{again:#}"
    );
    assert_eq!(again["image_digest"], record["image_digest"]);

    // --from verify checks the running deployment again with a new key.
    let output = run_with(&["--from", "verify"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verified = json(&ws.join("reports/run.json"));
    assert_eq!(verified["steps"][6]["state"], "done", "{verified:#}");
    assert_eq!(verified["steps"][5]["state"], "skipped", "{verified:#}");
}
