//! The console in a real browser, end to end: a demo workspace served by
//! the real `cradle serve`, its chat answering through a local
//! OpenAI-compatible server that streams (`ChatServer`), users made with
//! `cradle user add`, and Debian's headless chromium driven over WebDriver
//! by `tests/browser/console.py` (selenium from the test venv, pointed at
//! `/usr/bin/chromedriver`).
//!
//! The browser signs in (one-time link, then the sign-in form with a
//! password set on the account page), searches with a facet, opens a
//! product, sees the demo's markup product names as text with no dialog
//! opened (search, product page, chat), asks the chat and watches the
//! answer stream in with a citation link, creates and revokes an API key,
//! corrects an ETIM class as an editor and signs out to `/login`. A
//! screenshot of every page visited is written to
//! `$CARGO_TARGET_DIR/browser-artifacts/` (named in the output).

mod common;

use common::*;
use cradle_test_support::chat_server::{ChatReply, ChatServer};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The text the scripted model's answer starts with.
const ANSWER_START: &str = "Nach dem Katalog";

/// Where the screenshots go: beside the build output, kept after the test.
fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("browser-artifacts");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the artifact folder");
    dir
}

/// Fails with what to install when the browser or its driver is missing.
fn require_browser() {
    let missing: Vec<&str> = [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")]
        .into_iter()
        .filter(|(path, _)| !Path::new(path).exists())
        .map(|(_, package)| package)
        .collect();
    assert!(
        missing.is_empty(),
        "the browser test needs Debian's {}: apt-get install {} (scripts/test.sh installs them)",
        missing.join(" and "),
        missing.join(" ")
    );
}

/// `cradle user add`: the one-time sign-in link it prints.
fn add_user(ws: &str, email: &str, role: &str, base: &str) -> String {
    let output = run_ok(&[
        "user",
        "add",
        "--workspace",
        ws,
        "--email",
        email,
        "--role",
        role,
        "--url",
        base,
    ]);
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    stdout
        .split_whitespace()
        .find(|word| word.starts_with(base) && word.contains("token="))
        .unwrap_or_else(|| panic!("no sign-in link in {stdout:?}"))
        .to_owned()
}

#[test]
fn the_console_works_in_a_real_browser() {
    require_browser();
    let python = cradle_test_support::python(&["selenium"]);
    let started = Instant::now();
    let artifacts = artifacts();

    // The language model: a scripted answer citing fact 1, with the
    // demo's markup names in it, streamed in small pieces.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let [script, image] = cradle_demo::HOSTILE_NAMES;
    let answer = format!(
        "{ANSWER_START} heißen zwei Artikel {script} und {image}; der erste ist hier belegt [1]. \
         Weitere Angaben stehen auf den Produktseiten."
    );
    let model = runtime.block_on(ChatServer::start_with_pause(
        ChatReply::answer(&answer),
        Duration::from_millis(40),
    ));

    let dir = tempfile::tempdir().unwrap();
    let (_, workspace) = ingested_demo(dir.path(), "0.01");
    let ws = str_path(&workspace);
    run_ok(&["index", "--workspace", ws]);
    std::fs::write(
        workspace.join("cradle.toml"),
        format!(
            "[chat]\nendpoint = \"{}\"\nmodel = \"scripted\"\n",
            model.endpoint()
        ),
    )
    .unwrap();
    eprintln!("workspace ready after {:?}", started.elapsed());

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let admin = "admin@example.com";
    let editor = "editor@example.com";
    let admin_link = add_user(ws, admin, "customer_admin", &base);
    let editor_link = add_user(ws, editor, "editor", &base);
    let log = std::fs::File::create(artifacts.join("serve.log")).unwrap();
    let _server = Server(
        cradle()
            .args(["serve", "--workspace", ws, "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let ready = Instant::now();
    while get(port, "/ready", None).is_none_or(|(status, _)| status != 200) {
        assert!(
            ready.elapsed() < Duration::from_secs(15),
            "not ready after 15 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    let settings = serde_json::json!({
        "base": base,
        "chromium": CHROMIUM,
        "chromedriver": CHROMEDRIVER,
        "artifacts": artifacts,
        "admin_email": admin,
        "admin_link": admin_link,
        "editor_email": editor,
        "editor_link": editor_link,
        "password": "a browser's long password",
        "hostile_names": cradle_demo::HOSTILE_NAMES,
        "answer_start": ANSWER_START,
        "revoked_word": "revoked",
    });
    eprintln!(
        "browser artifacts (screenshots, serve.log): {}",
        artifacts.display()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/console.py");
    let browser = std::process::Command::new(python)
        .arg(&script)
        .arg(settings.to_string())
        // Selenium resolves nothing online: the driver and browser are named.
        .env("SE_OFFLINE", "true")
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&browser.stdout);
    let stderr = String::from_utf8_lossy(&browser.stderr);
    eprintln!("{stdout}");
    assert!(
        browser.status.success(),
        "the browser steps failed ({}); screenshots in {}\n{stderr}",
        browser.status,
        artifacts.display()
    );
    let asked = model.requests();
    assert!(
        asked.iter().any(|r| r.body["stream"] == true),
        "the chat streamed from the model: {asked:?}"
    );
    eprintln!("browser test done in {:?}", started.elapsed());
}
