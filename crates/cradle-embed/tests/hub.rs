//! Hub downloads against a loopback server that serves a model directory
//! the way a Hugging Face hub does (`/{id}/resolve/{revision}/{file}`).

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::server::{Response, serve};
use common::{Family, HIDDEN, write_model};
use cradle_embed::hub::HubClient;
use cradle_embed::{EmbedError, Embedder, LocalEmbedder, LocalOptions, Role};

struct Hub {
    requests: AtomicUsize,
    paths: Mutex<Vec<String>>,
    /// Answer requests for this file with 500.
    broken: Mutex<Option<String>>,
}

/// Serves `dir` as the model `org/tiny-model` at revision `main`.
fn start(dir: PathBuf) -> (Arc<Hub>, String) {
    let hub = Arc::new(Hub {
        requests: AtomicUsize::new(0),
        paths: Mutex::new(Vec::new()),
        broken: Mutex::new(None),
    });
    let state = Arc::clone(&hub);
    let url = serve(move |request| {
        state.requests.fetch_add(1, Ordering::SeqCst);
        state.paths.lock().unwrap().push(request.path.clone());
        let Some(file) = request.path.strip_prefix("/org/tiny-model/resolve/main/") else {
            return Response::new(404, "no such model");
        };
        if state.broken.lock().unwrap().as_deref() == Some(file) {
            return Response::new(500, "internal error");
        }
        match std::fs::read(dir.join(file)) {
            Ok(bytes) => Response::new(200, bytes),
            Err(_) => Response::new(404, "Entry not found"),
        }
    });
    (hub, url)
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() {
            out.extend(
                files_under(&entry.path())
                    .into_iter()
                    .map(|f| format!("{name}/{f}")),
            );
        } else {
            out.push(name);
        }
    }
    out.sort();
    out
}

#[test]
fn downloads_a_model_once_and_loads_it() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("served");
    write_model(&source, Family::Bert, "", "mean", 32);
    let (hub, url) = start(source.clone());
    let cache = root.path().join("cache");

    let dir = HubClient::new(&url)
        .download("org/tiny-model", "main", &cache)
        .unwrap();
    assert_eq!(dir, cache.join("org--tiny-model/main"));
    assert_eq!(
        files_under(&dir),
        [
            ".complete",
            "1_Pooling/config.json",
            "config.json",
            "model.safetensors",
            "modules.json",
            "sentence_bert_config.json",
            "tokenizer.json"
        ]
    );
    for file in [
        "model.safetensors",
        "tokenizer.json",
        "1_Pooling/config.json",
    ] {
        assert_eq!(
            std::fs::read(dir.join(file)).unwrap(),
            std::fs::read(source.join(file)).unwrap()
        );
    }
    // config_sentence_transformers.json is optional: its 404 is no error.
    assert!(
        hub.paths
            .lock()
            .unwrap()
            .iter()
            .any(|p| p.ends_with("config_sentence_transformers.json"))
    );

    let model =
        LocalEmbedder::open_named(&dir, "org/tiny-model", &LocalOptions::default()).unwrap();
    assert_eq!(model.info().name, "org/tiny-model");
    assert_eq!(
        model.embed(&["Leuchte"], Role::Passage).unwrap()[0].len(),
        HIDDEN
    );

    // A complete cache needs no request, online or offline.
    let before = hub.requests.load(Ordering::SeqCst);
    HubClient::new(&url)
        .download("org/tiny-model", "main", &cache)
        .unwrap();
    HubClient::new("http://127.0.0.1:9")
        .with_offline(true)
        .download("org/tiny-model", "main", &cache)
        .unwrap();
    assert_eq!(hub.requests.load(Ordering::SeqCst), before);
}

#[test]
fn a_failed_download_leaves_no_partial_model() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("served");
    write_model(&source, Family::Bert, "", "mean", 32);
    let (hub, url) = start(source);
    let cache = root.path().join("cache");
    *hub.broken.lock().unwrap() = Some("model.safetensors".into());

    let error = HubClient::new(&url)
        .download("org/tiny-model", "main", &cache)
        .unwrap_err();
    assert!(
        matches!(error, EmbedError::DownloadStatus { status: 500, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("model.safetensors"), "{error}");
    let dir = cache.join("org--tiny-model/main");
    let files = files_under(&dir);
    assert!(
        !files.iter().any(|f| f == ".complete" || f.contains("part")),
        "{files:?}"
    );

    // Offline, an incomplete cache is refused with a clear message.
    let error = HubClient::new(&url)
        .with_offline(true)
        .download("org/tiny-model", "main", &cache)
        .unwrap_err();
    assert!(matches!(error, EmbedError::HubOffline { .. }), "{error}");

    // Back online, the download resumes and completes.
    *hub.broken.lock().unwrap() = None;
    let dir = HubClient::new(&url)
        .download("org/tiny-model", "main", &cache)
        .unwrap();
    assert!(dir.join(".complete").exists());

    // An unknown model is a 404 on a required file.
    let error = HubClient::new(&url)
        .download("org/other", "main", &cache)
        .unwrap_err();
    assert!(
        matches!(error, EmbedError::DownloadStatus { status: 404, .. }),
        "{error}"
    );
}
