//! Images and deployments on the machine's real Docker engine (there is no
//! registry: the images must stand alone). The image carries the static
//! cradle `scripts/static.sh` builds (`scripts/test.sh` exports its path as
//! `CRADLE_STATIC_BINARY`); without it, or without an engine, these tests
//! fail and say what to run.
//!
//! Workspaces are small demo deliveries, built once per binary and copied
//! for each test: one indexed only, one enriched with the real model. Each
//! test names its customer uniquely and removes the containers, images and
//! volumes it made, also when it fails.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The engine must answer; the message says what to do when it does not.
fn engine() {
    let output = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output();
    match output {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "the Docker engine does not answer: {}\nhint: these tests run images on the local engine; start it (`systemctl start docker`)",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => {
            panic!("no `docker` program ({error}); install Docker to run the image tests")
        }
    }
}

/// The static cradle the images carry.
fn static_binary() -> PathBuf {
    let path = std::env::var_os("CRADLE_STATIC_BINARY").map(PathBuf::from);
    match path {
        Some(path) if path.is_file() => path,
        _ => panic!(
            "CRADLE_STATIC_BINARY does not name a static cradle\nhint: run the tests with `bash scripts/test.sh`, or `export CRADLE_STATIC_BINARY=$(bash scripts/static.sh)`"
        ),
    }
}

/// A unique, valid customer id for this test process.
fn customer(label: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "t{}-{label}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs a program; its output.
fn program(name: &str, args: &[&str]) -> Output {
    Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} does not run: {e}"))
}

fn program_ok(name: &str, args: &[&str]) -> String {
    let output = program(name, args);
    assert!(
        output.status.success(),
        "{name} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Removes what a test made on the engine, however the test ends.
#[derive(Default)]
struct Engine {
    containers: Vec<String>,
    images: Vec<String>,
    volumes: Vec<String>,
    /// (compose file, project).
    projects: Vec<(PathBuf, String)>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        for (file, project) in &self.projects {
            let _ = Command::new("docker-compose")
                .arg("-f")
                .arg(file)
                .args(["-p", project, "down", "--timeout", "2"])
                .output();
        }
        for container in &self.containers {
            let _ = program("docker", &["rm", "-f", "-v", container]);
        }
        for volume in &self.volumes {
            let _ = program("docker", &["volume", "rm", "-f", volume]);
        }
        for image in &self.images {
            let _ = program("docker", &["image", "rm", "-f", image]);
        }
    }
}

/// A demo workspace, made once per cradle binary and kept beside the test
/// binaries: `enriched` adds embeddings (the real model on a few hundred
/// products).
fn fixture(enriched: bool) -> PathBuf {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_cradle"));
    let stamp = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .map(|t| {
            t.duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs()
        })
        .unwrap_or(0);
    // Tests of one process make it once (test threads wait here); test
    // processes (nextest) may race, and the rename below settles it.
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _making = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    let kind = if enriched { "enriched" } else { "indexed" };
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let done = root.join(format!("image-fixture-{kind}-{stamp}"));
    if done.join("ws").exists() {
        return done.join("ws");
    }
    // Made aside and renamed: a concurrent test either sees it whole or
    // makes its own.
    let partial = root.join(format!(
        "image-fixture-{kind}-{stamp}.{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&partial);
    let delivery = partial.join("delivery");
    let ws = partial.join("ws");
    let scale = if enriched { "0.005" } else { "0.02" };
    run_ok(&["demo-data", str_path(&delivery), "--scale", scale]);
    run_ok(&[
        "ingest",
        str_path(&delivery),
        "--workspace",
        str_path(&ws),
        "--customer",
        "demo",
        "--quiet",
    ]);
    run_ok(&["index", "--workspace", str_path(&ws)]);
    if enriched {
        run_ok(&["enrich", "--workspace", str_path(&ws), "--quiet"]);
    }
    match std::fs::rename(&partial, &done) {
        Ok(()) => {}
        Err(_) if done.join("ws").exists() => {
            let _ = std::fs::remove_dir_all(&partial);
        }
        Err(error) => panic!("cannot keep the fixture {}: {error}", done.display()),
    }
    done.join("ws")
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

/// A copy of a fixture in `dir` whose image and deployment are named after
/// `customer` (`[deploy] port` too when given).
fn workspace(dir: &Path, enriched: bool, customer: &str, port: Option<u16>) -> PathBuf {
    let ws = dir.join(customer);
    copy_dir(&fixture(enriched), &ws);
    let mut config = format!("customer = \"{customer}\"\n");
    if let Some(port) = port {
        config.push_str(&format!("[deploy]\nport = {port}\n"));
    }
    std::fs::write(ws.join("cradle.toml"), config).unwrap();
    ws
}

fn build(ws: &Path, out: &Path) -> Value {
    run_ok(&[
        "build",
        "--workspace",
        str_path(ws),
        "--out",
        str_path(out),
        "--binary",
        str_path(&static_binary()),
        "--quiet",
    ]);
    json(&out.join("build.json"))
}

fn sha256_of(path: &Path) -> String {
    program_ok("sha256sum", &[str_path(path)])
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// Waits until Docker reports the container healthy; the time it took.
fn healthy(container: &str, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let status = program_ok(
            "docker",
            &[
                "inspect",
                "--format",
                "{{.State.Status}} {{.State.Health.Status}}",
                container,
            ],
        );
        if status.trim() == "running healthy" {
            return started.elapsed();
        }
        if started.elapsed() > within || status.starts_with("exited") {
            let logs = program("docker", &["logs", container]);
            panic!(
                "{container} is {status:?} after {:?}\n{}{}",
                started.elapsed(),
                String::from_utf8_lossy(&logs.stdout),
                String::from_utf8_lossy(&logs.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `cradle verify --json`: exit status and report.
fn verify(url: &str, ws: &Path, key: Option<&str>, foreign: Option<&str>) -> (bool, Value) {
    let mut args = vec!["verify", url, "--workspace", str_path(ws), "--json"];
    if let Some(key) = key {
        args.extend(["--api-key", key]);
    }
    if let Some(foreign) = foreign {
        args.extend(["--foreign-key", foreign]);
    }
    let output = run(&args);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "verify printed no JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.success(), report)
}

/// The bytes of one file in a container, from `docker cp` (a tar stream
/// with the file's header as the engine stores it).
fn file_in_container(container: &str, path: &str) -> (tar::Header, Vec<u8>) {
    let output = Command::new("docker")
        .args(["cp", &format!("{container}:{path}"), "-"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut archive = tar::Archive::new(&output.stdout[..]);
    let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
    let header = entry.header().clone();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
    (header, bytes)
}

#[test]
fn an_image_is_reproducible_loads_runs_healthy_and_passes_verify() {
    engine();
    let dir = tempfile::tempdir().unwrap();
    let name = customer("run");
    let ws = workspace(dir.path(), true, &name, None);
    let mut engine = Engine::default();
    let tag = format!("cradle-{name}:1");
    engine.images.push(tag.clone());

    let validation = run_ok(&["validate", "--workspace", str_path(&ws), "--json"]);
    let validation: Value = serde_json::from_slice(&validation.stdout).unwrap();
    assert_eq!(validation["ok"], true, "{validation:#}");
    assert_eq!(validation["enriched"], true, "{validation:#}");

    // Two builds of the same workspace: the same digest, the same bytes.
    let out = dir.path().join("out");
    let first = build(&ws, &out);
    let again = build(&ws, &dir.path().join("again"));
    assert_eq!(first["digest"], again["digest"]);
    assert_eq!(
        sha256_of(&out.join("image.tar")),
        sha256_of(&dir.path().join("again/image.tar"))
    );
    assert_eq!(first["tag"], tag);
    let data_size = first["data_size"].as_u64().unwrap();
    let image_size = first["uncompressed_size"].as_u64().unwrap();
    let binary_size = std::fs::metadata(static_binary()).unwrap().len();
    // The image is its data, the executable and little else.
    assert!(
        image_size < data_size + binary_size + (2 << 20),
        "{image_size} bytes for {data_size} of data and a {binary_size}-byte executable"
    );

    // skopeo and umoci read the archive.
    let archive = out.join("image.tar");
    let inspected: Value = serde_json::from_str(&program_ok(
        "skopeo",
        &["inspect", &format!("oci-archive:{}", archive.display())],
    ))
    .unwrap();
    assert_eq!(inspected["Digest"], first["digest"], "{inspected:#}");
    assert_eq!(inspected["Labels"]["cradle.customer"], name.as_str());
    assert_eq!(inspected["Labels"]["cradle.delivery"], "1");
    let layout = dir.path().join("layout");
    std::fs::create_dir_all(&layout).unwrap();
    program_ok("tar", &["-xf", str_path(&archive), "-C", str_path(&layout)]);
    let bundle = dir.path().join("bundle");
    program_ok(
        "umoci",
        &[
            "unpack",
            "--image",
            &format!("{}:1", layout.display()),
            str_path(&bundle),
        ],
    );
    let rootfs = bundle.join("rootfs");
    for path in [
        "usr/local/bin/cradle",
        "etc/ssl/certs/ca-certificates.crt",
        "data/index/catalog.db",
        "data/index/search/cradle-index.json",
        "data/model/model.safetensors",
    ] {
        assert!(
            rootfs.join(path).is_file(),
            "{path} missing from the unpacked image"
        );
    }
    let runtime: Value = json(&bundle.join("config.json"));
    assert_eq!(runtime["process"]["user"]["uid"], 65532, "{runtime:#}");

    // docker load, docker run, healthy.
    let loaded = program_ok("docker", &["load", "-i", str_path(&archive)]);
    assert!(loaded.contains(&tag), "{loaded}");
    let port = free_port();
    let container = format!("cradle-{name}");
    engine.containers.push(container.clone());
    let started = Instant::now();
    program_ok(
        "docker",
        &[
            "run",
            "-d",
            "--name",
            &container,
            "-p",
            &format!("127.0.0.1:{port}:9314"),
            &tag,
        ],
    );
    healthy(&container, Duration::from_secs(60));
    eprintln!(
        "healthy {:.2} s after docker run",
        started.elapsed().as_secs_f64()
    );

    // The weights' stamp holds for the file as the engine stores it, so the
    // server does not hash the weights at start.
    let (_, model_json) = file_in_container(&container, "/data/index/model.json");
    let location: Value = serde_json::from_slice(&model_json).unwrap();
    let (weights, _) = file_in_container(&container, "/data/model/model.safetensors");
    assert_eq!(location["dir"], "/data/model");
    assert_eq!(location["weights"]["bytes"], weights.size().unwrap());
    assert_eq!(
        location["weights"]["modified_ns"].as_u64().unwrap(),
        weights.mtime().unwrap() * 1_000_000_000
    );

    // A key made inside the deployment; verify passes with it.
    let key = program_ok(
        "docker",
        &[
            "exec",
            &container,
            "cradle",
            "api-key",
            "create",
            "--workspace",
            "/data",
            "--state",
            "/state",
            "--name",
            "test",
        ],
    )
    .trim()
    .to_owned();
    let url = format!("http://127.0.0.1:{port}");
    let (passed, report) = verify(&url, &ws, Some(&key), None);
    assert!(passed, "{report:#}");
    assert_eq!(report["failed"], 0, "{report:#}");
    assert_eq!(report["skipped"], 0, "{report:#}");
    assert!(report["passed"].as_u64().unwrap() >= 12, "{report:#}");
    for check in report["checks"].as_array().unwrap() {
        for field in ["name", "ok", "detail", "ms"] {
            assert!(check.get(field).is_some(), "{field} missing in {check}");
        }
    }

    // Without a key, the checks that need one are skipped, not passed.
    let (passed, report) = verify(&url, &ws, None, None);
    assert!(!passed, "{report:#}");
    assert_eq!(report["failed"], 0, "{report:#}");
    let skipped: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["skipped"] == true)
        .collect();
    assert!(skipped.len() >= 5, "{report:#}");
    assert!(skipped.iter().all(|c| c["ok"] == false), "{report:#}");

    // The health check is the image's own executable.
    let health = program(
        "docker",
        &[
            "exec",
            &container,
            "cradle",
            "health",
            "http://127.0.0.1:9314",
        ],
    );
    assert!(health.status.success());
}

#[test]
fn two_customers_deploy_side_by_side_and_each_refuses_the_others_key() {
    engine();
    let dir = tempfile::tempdir().unwrap();
    let mut engine = Engine::default();
    let mut deployments = Vec::new();
    for label in ["a", "b"] {
        let name = customer(label);
        let port = free_port();
        let ws = workspace(dir.path(), false, &name, Some(port));
        engine.images.push(format!("cradle-{name}:1"));
        engine.volumes.push(format!("cradle-{name}-state"));
        engine
            .projects
            .push((ws.join("image/compose.yaml"), format!("cradle-{name}")));
        engine.containers.push(format!("cradle-{name}"));
        deployments.push((name, port, ws));
    }

    let deploy = |ws: &Path, port: u16| -> (String, String) {
        let output = cradle()
            .args([
                "deploy",
                "--workspace",
                str_path(ws),
                "--port",
                &port.to_string(),
                "--quiet",
            ])
            .env("CRADLE_STATIC_BINARY", static_binary())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "deploy failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let key = stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("api key:"))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no key in:\n{stdout}"))
            .to_owned();
        (key, stdout)
    };
    let mut keys = Vec::new();
    for (_, port, ws) in &deployments {
        let (key, stdout) = deploy(ws, *port);
        assert!(
            stdout.contains(&format!("url:       http://127.0.0.1:{port}")),
            "{stdout}"
        );
        for phase in [
            "engine", "validate", "build", "load", "up", "healthy", "api key", "verify",
        ] {
            assert!(
                stdout.lines().any(|l| l.trim_start().starts_with(phase)),
                "no phase {phase}:\n{stdout}"
            );
        }
        keys.push(key);
        // The first console user, made with the command deploy prints,
        // inside the running image; its one-time link signs in.
        let command = stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("first console user:"))
            .unwrap_or_else(|| panic!("no first-user command in:\n{stdout}"))
            .trim()
            .replace("<you@example.com>", "admin@example.com");
        let made = std::process::Command::new("sh")
            .args(["-c", &command])
            .output()
            .unwrap();
        assert!(made.status.success(), "{command}: {made:?}");
        let link = String::from_utf8_lossy(&made.stdout).trim().to_owned();
        let path = link
            .strip_prefix(&format!("http://127.0.0.1:{port}"))
            .unwrap_or_else(|| panic!("{link}"));
        assert!(path.starts_with("/login/link?token="), "{link}");
        let (status, _) = get(*port, path, None).expect("the link answers");
        assert_eq!(status, 303, "the link signs in and leads on");
    }

    // Each serves its own customer and refuses the other's key.
    for (i, (name, port, ws)) in deployments.iter().enumerate() {
        let url = format!("http://127.0.0.1:{port}");
        let other = &keys[1 - i];
        let (passed, report) = verify(&url, ws, Some(&keys[i]), Some(other));
        assert!(passed, "{name}: {report:#}");
        let refused = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "data routes refuse the other customer's key")
            .unwrap_or_else(|| panic!("{report:#}"));
        assert_eq!(refused["ok"], true, "{refused}");
    }

    // The static executable resolves the compose service name through
    // Docker's DNS, from inside its container.
    let (name, port, _) = &deployments[0];
    let container = format!("cradle-{name}");
    let resolved = program(
        "docker",
        &[
            "exec",
            &container,
            "cradle",
            "health",
            &format!("http://console:{port}"),
        ],
    );
    assert!(
        resolved.status.success(),
        "{}{}",
        String::from_utf8_lossy(&resolved.stdout),
        String::from_utf8_lossy(&resolved.stderr)
    );

    // Deploying again replaces the container and keeps its state: the key
    // made by the first deployment still opens the data.
    let before = program_ok("docker", &["inspect", "--format", "{{.Id}}", &container]);
    let (_, port_a, ws_a) = &deployments[0];
    let (_, stdout) = deploy(ws_a, *port_a);
    assert!(
        stdout.contains("up to date"),
        "the unchanged image is not built again:\n{stdout}"
    );
    assert!(stdout.contains("is loaded"), "nor loaded again:\n{stdout}");
    let after = program_ok("docker", &["inspect", "--format", "{{.Id}}", &container]);
    assert_ne!(before, after, "the container was not replaced");
    let (passed, report) = verify(
        &format!("http://127.0.0.1:{port_a}"),
        ws_a,
        Some(&keys[0]),
        None,
    );
    assert!(passed, "the first key is gone: {report:#}");
}

#[test]
fn a_changed_delivery_reuses_the_binary_and_the_unchanged_layers() {
    let dir = tempfile::tempdir().unwrap();
    let name = customer("delta");
    let ws = workspace(dir.path(), true, &name, None);
    let first = build(&ws, &dir.path().join("first"));

    // A second delivery: the first plus descriptions for a few products.
    let delivery = dir.path().join("second");
    copy_dir(&fixture(true).parent().unwrap().join("delivery"), &delivery);
    let mut csv = String::from("Artikelnummer;Beschreibung\n");
    for article in articles(&ws).iter().step_by(100).take(5) {
        csv.push_str(&format!(
            "{article};{article} nur mit Einbaurahmen EBR-2 montieren\n"
        ));
    }
    std::fs::write(delivery.join("nachtrag_montage.csv"), csv).unwrap();
    let ws_arg = str_path(&ws);
    run_ok(&[
        "ingest",
        str_path(&delivery),
        "--workspace",
        ws_arg,
        "--quiet",
    ]);
    run_ok(&["index", "--workspace", ws_arg]);
    run_ok(&["enrich", "--workspace", ws_arg, "--quiet"]);
    let second = build(&ws, &dir.path().join("second-image"));
    assert_eq!(second["delivery"], 2);
    assert_ne!(first["digest"], second["digest"]);

    let layers = |report: &Value| -> std::collections::BTreeMap<String, String> {
        report["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["name"].as_str().unwrap().to_owned(),
                    l["digest"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let (before, after) = (layers(&first), layers(&second));
    for same in ["base", "binary", "model"] {
        assert_eq!(before[same], after[same], "{same} changed");
    }
    for changed in ["vectors", "search", "catalog", "metadata"] {
        assert_ne!(before[changed], after[changed], "{changed} did not change");
    }
}

/// Article numbers of the workspace's published products.
fn articles(ws: &Path) -> Vec<String> {
    use arrow_array::{Array, StringArray};
    use cradle_lakehouse::schema::products;
    let table = cradle_lakehouse::Lakehouse::new(ws.join("lakehouse")).table(products::NAME);
    let mut articles = Vec::new();
    for batch in table
        .snapshot(None)
        .unwrap()
        .scan(Some(&[cradle_lakehouse::ARTICLE_NO]))
        .unwrap()
    {
        let batch = batch.unwrap();
        let column = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        articles.extend((0..column.len()).map(|i| column.value(i).to_owned()));
    }
    assert!(articles.len() > 100, "{} products", articles.len());
    articles
}

#[test]
fn validate_and_build_name_each_problem_with_its_fix() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), false, &customer("check"), None);

    // Indexed, not enriched: valid, with a warning.
    let output = run_ok(&["validate", "--workspace", str_path(&ws)]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("warning enrich"), "{text}");
    assert!(
        text.contains(&format!("fix: cradle enrich --workspace {}", ws.display())),
        "{text}"
    );

    // Without the catalog: invalid, and build refuses before writing.
    std::fs::remove_file(ws.join("index/catalog.db")).unwrap();
    let output = run(&["validate", "--workspace", str_path(&ws), "--json"]);
    assert!(!output.status.success());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let problem = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "error")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(
        problem["fix"],
        format!("cradle index --workspace {}", ws.display()),
        "{report:#}"
    );
    let out = dir.path().join("out");
    let output = run(&[
        "build",
        "--workspace",
        str_path(&ws),
        "--out",
        str_path(&out),
        "--binary",
        str_path(&static_binary()),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cradle index --workspace"));
    assert!(!out.join("image.tar").exists());

    // The test binary is dynamically linked: build says how to get a static one.
    run_ok(&["index", "--workspace", str_path(&ws)]);
    let output = cradle()
        .args([
            "build",
            "--workspace",
            str_path(&ws),
            "--out",
            str_path(&out),
        ])
        .env_remove("CRADLE_STATIC_BINARY")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("bash scripts/static.sh"), "{stderr}");

    // health says what is wrong when nothing answers.
    let output = run(&["health", &format!("http://127.0.0.1:{}", free_port())]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("did not answer"));
}
