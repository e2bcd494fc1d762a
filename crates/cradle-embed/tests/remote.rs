//! The remote backend against an OpenAI-compatible test server on
//! loopback: order, batching, concurrency, retries, errors.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::server::{Request, Response, serve};
use cradle_embed::{EmbedError, Embedder, RemoteEmbedder, RemoteOptions, Role};
use serde_json::json;

/// The embedding the test server gives `text-N`: `[N, 1, 0, ...]` in
/// `dimension` values, so the caller can tell which text a vector is for.
fn vector_for(text: &str, dimension: usize) -> Vec<f32> {
    let n: f32 = text
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    let mut v = vec![0.0; dimension];
    v[0] = n;
    v[1] = 1.0;
    v
}

struct Server {
    dimension: usize,
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    seen: Mutex<HashSet<Vec<u8>>>,
    /// Answer each distinct body with 503 the first time.
    flaky: bool,
    /// Answer this many texts into a request with a vector one longer.
    wrong_dimension_after: Option<usize>,
    delay: Duration,
    api_key: Option<&'static str>,
    inputs: Mutex<Vec<String>>,
}

impl Server {
    fn new(dimension: usize) -> Server {
        Server {
            dimension,
            requests: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            seen: Mutex::new(HashSet::new()),
            flaky: false,
            wrong_dimension_after: None,
            delay: Duration::ZERO,
            api_key: None,
            inputs: Mutex::new(Vec::new()),
        }
    }

    fn start(self) -> (Arc<Server>, String) {
        let server = Arc::new(self);
        let handler = Arc::clone(&server);
        let url = serve(move |request| handler.answer(request));
        (server, url)
    }

    fn answer(&self, request: &Request) -> Response {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        let response = self.respond(request);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        response
    }

    fn respond(&self, request: &Request) -> Response {
        if request.method != "POST" || request.path != "/v1/embeddings" {
            return Response::new(404, "not found");
        }
        if let Some(key) = self.api_key
            && request.header("authorization") != Some(&format!("Bearer {key}"))
        {
            return Response::new(401, "missing or wrong API key");
        }
        if self.flaky && self.seen.lock().unwrap().insert(request.body.clone()) {
            return Response::new(503, "busy, try again");
        }
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert!(body["model"].is_string());
        let inputs: Vec<String> = body["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect();
        self.inputs.lock().unwrap().extend(inputs.iter().cloned());
        // Out of order, as some servers answer: the `index` fields say
        // which input each vector belongs to.
        let data: Vec<serde_json::Value> = inputs
            .iter()
            .enumerate()
            .rev()
            .map(|(i, text)| {
                let mut dimension = self.dimension;
                if self.wrong_dimension_after.is_some_and(|after| i >= after) {
                    dimension += 1;
                }
                json!({"object": "embedding", "index": i, "embedding": vector_for(text, dimension)})
            })
            .collect();
        Response::new(
            200,
            json!({"object": "list", "data": data, "model": body["model"]}).to_string(),
        )
    }
}

fn options(url: &str) -> RemoteOptions {
    let mut options = RemoteOptions::new(url, "test-model");
    options.initial_backoff = Duration::from_millis(10);
    options.timeout = Duration::from_secs(10);
    options
}

fn texts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("text-{i}")).collect()
}

fn refs(texts: &[String]) -> Vec<&str> {
    texts.iter().map(String::as_str).collect()
}

#[test]
fn vectors_come_back_in_input_order_normalised() {
    let (server, url) = Server::new(8).start();
    let mut opts = options(&url);
    opts.batch_size = 7;
    opts.concurrency = 3;
    let embedder = RemoteEmbedder::open(&opts).unwrap();
    // The dimension was learned from a probe.
    assert_eq!(embedder.info().dimension, 8);
    assert_eq!(embedder.info().backend, "remote");
    assert!(embedder.info().revision.contains(&url));
    let requests_after_probe = server.requests.load(Ordering::SeqCst);
    let input = texts(50);
    let vectors = embedder.embed(&refs(&input), Role::Passage).unwrap();
    assert_eq!(vectors.len(), 50);
    for (i, v) in vectors.iter().enumerate() {
        assert_eq!(v.len(), 8);
        assert!(
            (v[0] / v[1] - i as f32).abs() < 1e-3,
            "text {i} got the vector of text {}",
            v[0] / v[1]
        );
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
    }
    // 50 texts in batches of 7: 8 requests.
    assert_eq!(
        server.requests.load(Ordering::SeqCst) - requests_after_probe,
        8
    );
    assert!(embedder.embed(&[], Role::Query).unwrap().is_empty());
}

#[test]
fn at_most_concurrency_requests_are_in_flight() {
    let mut server = Server::new(4);
    server.delay = Duration::from_millis(50);
    let (server, url) = server.start();
    let mut opts = options(&url);
    opts.batch_size = 2;
    opts.concurrency = 3;
    opts.dimension = Some(4);
    let embedder = RemoteEmbedder::open(&opts).unwrap();
    // No probe when the dimension is configured.
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);
    embedder.embed(&refs(&texts(24)), Role::Passage).unwrap();
    assert_eq!(server.requests.load(Ordering::SeqCst), 12);
    assert_eq!(server.max_in_flight.load(Ordering::SeqCst), 3);
}

#[test]
fn a_503_is_retried_and_then_succeeds() {
    let mut server = Server::new(4);
    server.flaky = true;
    let (server, url) = server.start();
    let mut opts = options(&url);
    opts.dimension = Some(4);
    opts.batch_size = 5;
    let embedder = RemoteEmbedder::open(&opts).unwrap();
    let vectors = embedder.embed(&refs(&texts(10)), Role::Passage).unwrap();
    assert_eq!(vectors.len(), 10);
    assert!((vectors[9][0] / vectors[9][1] - 9.0).abs() < 1e-3);
    // Two batches, each refused once and then answered.
    assert_eq!(server.requests.load(Ordering::SeqCst), 4);
}

#[test]
fn retries_are_bounded() {
    let (server, url) = Server::new(4).start();
    let mut opts = options(&format!("{url}/nowhere"));
    opts.dimension = Some(4);
    opts.max_retries = 2;
    let embedder = RemoteEmbedder::open(&opts).unwrap();
    // 404 is not worth retrying.
    let error = embedder.embed(&["a"], Role::Passage).unwrap_err();
    assert!(
        matches!(
            error,
            EmbedError::RemoteStatus {
                status: 404,
                attempts: 1,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);

    // Nothing listens: three attempts, then a clear error.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let mut opts = options(&closed);
    opts.dimension = Some(4);
    opts.max_retries = 2;
    let embedder = RemoteEmbedder::open(&opts).unwrap();
    let error = embedder.embed(&["a"], Role::Passage).unwrap_err();
    assert!(
        matches!(error, EmbedError::RemoteConnection { attempts: 3, .. }),
        "{error}"
    );
    assert!(error.to_string().contains(&closed), "{error}");
}

#[test]
fn a_wrong_dimension_is_a_clear_error() {
    // Configured 4, the server answers 5.
    let (_, url) = Server::new(5).start();
    let mut opts = options(&url);
    opts.dimension = Some(4);
    let embedder = RemoteEmbedder::open(&opts).unwrap();
    let error = embedder.embed(&["text-1"], Role::Passage).unwrap_err();
    assert!(
        matches!(
            error,
            EmbedError::Dimension {
                expected: 4,
                got: 5,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("dimension"), "{error}");

    // Learned 6 from the probe, then a vector of 7 mid-batch.
    let mut server = Server::new(6);
    server.wrong_dimension_after = Some(2);
    let (_, url) = server.start();
    let embedder = RemoteEmbedder::open(&options(&url)).unwrap();
    assert_eq!(embedder.info().dimension, 6);
    let error = embedder.embed(&refs(&texts(4)), Role::Passage).unwrap_err();
    assert!(
        matches!(
            error,
            EmbedError::Dimension {
                expected: 6,
                got: 7,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn the_api_key_is_sent_as_bearer_and_e5_prefixes_are_applied() {
    let mut server = Server::new(4);
    server.api_key = Some("k-123");
    let (server, url) = server.start();
    let mut opts = RemoteOptions::new(&url, "intfloat/multilingual-e5-large");
    opts.dimension = Some(4);
    opts.max_retries = 0;
    let error = RemoteEmbedder::open(&opts)
        .unwrap()
        .embed(&["x"], Role::Query)
        .unwrap_err();
    assert!(
        matches!(error, EmbedError::RemoteStatus { status: 401, .. }),
        "{error}"
    );

    opts.api_key = Some("k-123".into());
    let embedder = RemoteEmbedder::open(&opts).unwrap();
    embedder.embed(&["Leuchte"], Role::Query).unwrap();
    embedder.embed(&["Leuchte"], Role::Passage).unwrap();
    let inputs = server.inputs.lock().unwrap().clone();
    assert_eq!(inputs, vec!["query: Leuchte", "passage: Leuchte"]);
}

#[test]
fn open_dispatches_a_remote_spec() {
    let (_, url) = Server::new(12).start();
    let spec = cradle_embed::ModelSpec::Remote(options(&url));
    let embedder = cradle_embed::open(&spec, &cradle_embed::LocalOptions::default()).unwrap();
    assert_eq!(embedder.info().dimension, 12);
    assert_eq!(embedder.info().name, "test-model");
    assert_eq!(
        embedder.embed(&["text-3"], Role::Passage).unwrap()[0].len(),
        12
    );
}
