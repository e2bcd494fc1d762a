//! A local OpenAI-compatible chat completions server for tests: it
//! answers `POST /v1/chat/completions` with a scripted answer, streamed as
//! server-sent events (`data:` chunks, a pause between them, `[DONE]`)
//! when the request says `stream: true` and as one JSON completion
//! otherwise, and records every request so a test can read the prompt
//! the model was given. It can also answer with an error status.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// What the server answers.
#[derive(Debug, Clone)]
pub enum ChatReply {
    /// These pieces of text, one chunk each.
    Answer(Vec<String>),
    /// This status with this body, for every request.
    Status(u16, String),
}

impl ChatReply {
    /// `text` cut into chunks of a few characters, as a model streams it.
    pub fn answer(text: &str) -> ChatReply {
        let chars: Vec<char> = text.chars().collect();
        ChatReply::Answer(chars.chunks(7).map(|c| c.iter().collect()).collect())
    }
}

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    pub body: Value,
}

impl RecordedRequest {
    /// The messages' texts joined (system, history, user), for assertions
    /// about what the model was shown.
    pub fn messages(&self) -> Vec<(String, String)> {
        self.body["messages"]
            .as_array()
            .map(|messages| {
                messages
                    .iter()
                    .map(|m| {
                        (
                            m["role"].as_str().unwrap_or_default().to_owned(),
                            m["content"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Clone)]
struct Shared {
    reply: ChatReply,
    pause: Duration,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
}

/// A running test server; stops when dropped.
#[derive(Debug)]
pub struct ChatServer {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ChatServer {
    /// Starts a server on a free local port (inside a Tokio runtime).
    pub async fn start(reply: ChatReply) -> ChatServer {
        Self::start_with_pause(reply, Duration::from_millis(5)).await
    }

    /// Like [`ChatServer::start`], pausing `pause` before each chunk.
    pub async fn start_with_pause(reply: ChatReply, pause: Duration) -> ChatServer {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            reply,
            pause,
            requests: requests.clone(),
        };
        let router = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind the chat test server");
        let address = listener.local_addr().expect("address");
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .await
                .expect("the chat test server");
        });
        ChatServer {
            address,
            requests,
            task,
        }
    }

    /// The endpoint setting for this server (`http://127.0.0.1:<port>/v1`).
    pub fn endpoint(&self) -> String {
        format!("http://{}/v1", self.address)
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for ChatServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn completions(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let body: Value = match serde_json::from_str(&body) {
        Ok(body) => body,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("not JSON: {e}")).into_response(),
    };
    shared
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(RecordedRequest {
            authorization: headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: body.clone(),
        });
    let pieces = match shared.reply {
        ChatReply::Status(status, text) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, text).into_response();
        }
        ChatReply::Answer(pieces) => pieces,
    };
    let model = body["model"].as_str().unwrap_or_default().to_owned();
    if body["stream"] != Value::Bool(true) {
        return axum::Json(json!({
            "object": "chat.completion",
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": pieces.concat()}, "finish_reason": "stop"}],
        }))
        .into_response();
    }
    let chunk = |delta: Value, finish: Value| {
        let chunk = json!({
            "object": "chat.completion.chunk",
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        format!("data: {chunk}\n\n")
    };
    let mut events = vec![chunk(json!({"role": "assistant"}), Value::Null)];
    events.extend(
        pieces
            .iter()
            .map(|piece| chunk(json!({"content": piece}), Value::Null)),
    );
    events.push(chunk(json!({}), json!("stop")));
    events.push("data: [DONE]\n\n".to_owned());
    let pause = shared.pause;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(4);
    tokio::spawn(async move {
        for event in events {
            tokio::time::sleep(pause).await;
            if sender.send(Ok(event)).await.is_err() {
                return;
            }
        }
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(Receiver(receiver)))
        .expect("a response")
}

/// The chunks of the channel as a stream of the body.
struct Receiver(tokio::sync::mpsc::Receiver<Result<String, std::io::Error>>);

impl futures_core::Stream for Receiver {
    type Item = Result<String, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(context)
    }
}
