//! Attacks and careless use against the real binary: silent connections
//! against a small open-file limit, a mistyped workspace path, and files
//! made under a permissive umask.

mod common;

use common::*;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// A workspace with a small ingested and indexed delivery, and a key.
fn indexed_workspace(dir: &Path) -> (String, String) {
    let (_, workspace) = ingested_demo(dir, "0.01");
    let ws = str_path(&workspace).to_owned();
    run_ok(&["index", "--workspace", &ws]);
    let created = run_ok(&["api-key", "create", "--workspace", &ws, "--name", "test"]);
    let key = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    (ws, key)
}

fn wait_ready(port: u16) {
    let started = Instant::now();
    while !matches!(get(port, "/ready", None), Some((200, _))) {
        assert!(started.elapsed() < Duration::from_secs(20), "not ready");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// 2,000 connections that never send a byte, against a server limited to
/// 1,024 open files: the idlest are shed, so `/health` and a valid key
/// keep being answered (before, `/health` timed out from 1,100 on).
#[test]
fn silent_connections_cannot_starve_health_under_a_small_file_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, key) = indexed_workspace(dir.path());
    let port = free_port();
    let _server = Server(
        std::process::Command::new("sh")
            .args([
                "-c",
                "ulimit -n 1024 && exec \"$0\" \"$@\"",
                env!("CARGO_BIN_EXE_cradle"),
                "serve",
                "--workspace",
                &ws,
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
    wait_ready(port);

    let mut silent = Vec::new();
    let started = Instant::now();
    for _ in 0..2_000 {
        match TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(5)) {
            Ok(stream) => silent.push(stream),
            Err(error) => panic!("connection {} refused: {error}", silent.len()),
        }
    }
    eprintln!("2,000 silent connections opened in {:?}", started.elapsed());
    for round in 0..5 {
        let asked = Instant::now();
        let answer = get(port, "/health", None);
        assert_eq!(
            answer.as_ref().map(|(status, _)| *status),
            Some(200),
            "round {round}: /health while 2,000 connections stay silent: {answer:?}"
        );
        eprintln!("/health answered in {:?}", asked.elapsed());
        let (status, body) = get(port, "/api/products?limit=1", Some(&key)).expect("answered");
        assert_eq!(status, 200, "{body}");
    }
    drop(silent);
    assert_eq!(get(port, "/ready", None).map(|(s, _)| s), Some(200));
}

/// A mistyped path is an error at once, and nothing is created there.
#[test]
fn serve_refuses_a_path_that_holds_no_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/workspace");
    let output = run(&["serve", "--workspace", str_path(&missing), "--port", "0"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(str_path(&missing)), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    assert!(!missing.exists(), "serve created {}", missing.display());
}

/// Under umask 022 (files world-readable by default) the workspace with the
/// customer's raw files is 0700 and the state database with key hashes 0600.
#[test]
fn workspace_and_state_are_owner_only_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let delivery = dir.path().join("delivery");
    let workspace = dir.path().join("ws");
    run_ok(&["demo-data", str_path(&delivery), "--scale", "0.01"]);
    let under_umask = |args: &[&str]| {
        let output = std::process::Command::new("sh")
            .args([
                "-c",
                "umask 022 && exec \"$0\" \"$@\"",
                env!("CARGO_BIN_EXE_cradle"),
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
    };
    let ws = str_path(&workspace);
    under_umask(&["ingest", str_path(&delivery), "--workspace", ws, "--quiet"]);
    under_umask(&["api-key", "create", "--workspace", ws, "--name", "k"]);
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&workspace), 0o700, "the workspace");
    assert_eq!(mode(&workspace.join("state")), 0o700, "the state folder");
    assert_eq!(
        mode(&workspace.join("state/state.db")),
        0o600,
        "the state database"
    );
    for sidecar in ["state.db-wal", "state.db-shm"] {
        let path = workspace.join("state").join(sidecar);
        if path.exists() {
            assert_eq!(mode(&path) & 0o077, 0, "{sidecar}");
        }
    }
}

/// A publish torn by a crash (one table committed past the newest delivery
/// record): the README's recipe for outside readers (DuckDB at the versions
/// the record names) still reads the published delivery, and the next
/// cradle command rolls the stray version back for readers of the latest
/// version too.
#[test]
fn outside_readers_see_whole_deliveries_only() {
    let dir = tempfile::tempdir().unwrap();
    let (_, workspace) = ingested_demo(dir.path(), "0.01");
    let ws = str_path(&workspace);
    let products = json(&workspace.join("reports/ingest.json"))["products"]
        .as_u64()
        .unwrap();
    let lake = workspace.join("lakehouse");

    // What a killed ingest leaves: products committed one version further.
    let torn = std::process::Command::new(python())
        .args([
            "-c",
            "import sys, deltalake\n\
             t = deltalake.DeltaTable(sys.argv[1])\n\
             deltalake.write_deltalake(sys.argv[1], t.to_pyarrow_table().slice(0, 3), mode='append')",
            str_path(&lake.join("products")),
        ])
        .output()
        .unwrap();
    assert!(torn.status.success(), "{torn:?}");

    let read = |recipe: &str| -> (u64, u64) {
        let script = format!(
            "import glob, json, os, sys, duckdb, duckdb_ext\n\
             ext = glob.glob(os.path.join(list(duckdb_ext.__path__)[0], 'extensions', 'v' + duckdb.__version__, '*', 'delta.duckdb_extension'))[0]\n\
             lake = sys.argv[1]\n\
             record = json.load(open(sorted(glob.glob(f'{{lake}}/_cradle/deliveries/*.json'))[-1]))\n\
             con = duckdb.connect()\n\
             con.sql(f\"LOAD '{{ext}}'\")\n\
             {recipe}\n\
             print(con.sql('SELECT count(*) FROM products').fetchone()[0], con.sql(\"SELECT count(*) FROM delta_scan('\" + lake + \"/products')\").fetchone()[0])"
        );
        let output = std::process::Command::new(cradle_test_support::python(&[
            "deltalake",
            "duckdb",
            "duckdb_ext",
        ]))
        .args(["-c", &script, str_path(&lake)])
        .output()
        .unwrap();
        assert!(output.status.success(), "{output:?}");
        let text = String::from_utf8(output.stdout).unwrap();
        let mut counts = text.split_whitespace().map(|n| n.parse::<u64>().unwrap());
        (counts.next().unwrap(), counts.next().unwrap())
    };
    let recipe = "for table, version in record['tables'].items():\n    con.sql(f\"ATTACH '{lake}/{table}' AS {table} (TYPE delta, VERSION {version})\")";
    let (recorded, latest) = read(recipe);
    assert_eq!(
        recorded, products,
        "the recipe reads the published delivery"
    );
    assert_eq!(
        latest,
        products + 3,
        "the latest version holds the torn commit"
    );

    // Any command that writes the workspace repairs it first.
    run_ok(&["index", "--workspace", ws]);
    let (recorded, latest) = read(recipe);
    assert_eq!((recorded, latest), (products, products));
}
