//! `POST /api/chat` and the conversation routes through the real router
//! over the fixture data, with a real SQLite state database: the answer
//! arrives as server-sent events that parse into the chat's events, with
//! a language model (a local OpenAI-compatible server) and without one,
//! and each API key sees only its own conversations.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use cradle_chat::{ChatConfig, ChatEvent};
use cradle_console::{AppState, router};
use cradle_query::Data;
use cradle_state::{StateConfig, StateDb};
use cradle_test_support::chat_server::{ChatReply, ChatServer};
use cradle_test_support::fixture;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Console {
    _dir: tempfile::TempDir,
    state: AppState,
    key: String,
    other_key: String,
}

impl Console {
    async fn new(chat: ChatConfig) -> Console {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        fixture::write_data_dir(&data_dir).await;
        let state_db = StateDb::open(&StateConfig::Dir(dir.path().join("state")))
            .await
            .expect("state db");
        let key = state_db.create_api_key("one").await.expect("key").plaintext;
        let other_key = state_db.create_api_key("two").await.expect("key").plaintext;
        let state = AppState::new(state_db);
        state.configure_chat(chat);
        state.set_data(Data::open(&data_dir).await.expect("open data"));
        Console {
            _dir: dir,
            state,
            key,
            other_key,
        }
    }

    async fn request(
        &self,
        method: &str,
        uri: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Option<String>, String) {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(key) = key {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        let body = match body {
            Some(body) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        let response = router(self.state.clone())
            .oneshot(builder.body(body).expect("request"))
            .await
            .expect("response");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (
            status,
            content_type,
            String::from_utf8(bytes.to_vec()).expect("utf-8"),
        )
    }

    async fn ask(&self, key: &str, body: Value) -> Vec<(String, ChatEvent)> {
        let (status, content_type, text) = self
            .request("POST", "/api/chat", Some(key), Some(body))
            .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(content_type.as_deref(), Some("text/event-stream"));
        parse_events(&text)
    }
}

/// Server-sent events: `event:` and `data:` lines, a blank line after
/// each; comments (keep-alives) skipped. Each data is the event's JSON,
/// and its `type` is the event's name.
fn parse_events(text: &str) -> Vec<(String, ChatEvent)> {
    let mut events = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut name = None;
        let mut data = Vec::new();
        for line in block.lines() {
            if let Some(value) = line.strip_prefix("event:") {
                name = Some(value.trim().to_owned());
            } else if let Some(value) = line.strip_prefix("data:") {
                data.push(value.strip_prefix(' ').unwrap_or(value));
            }
        }
        if data.is_empty() {
            continue;
        }
        let event: ChatEvent =
            serde_json::from_str(&data.join("\n")).unwrap_or_else(|e| panic!("{e}: {block}"));
        let name = name.unwrap_or_else(|| panic!("an event name: {block}"));
        assert_eq!(name, event.name());
        events.push((name, event));
    }
    events
}

fn names(events: &[(String, ChatEvent)]) -> Vec<&str> {
    let mut names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    names.dedup();
    names
}

#[tokio::test]
async fn extractive_answer_as_server_sent_events_and_conversations_per_key() {
    let console = Console::new(ChatConfig::default()).await;
    let events = console
        .ask(
            &console.key,
            json!({"question": "Welche Einbauleuchten sind dimmbar?"}),
        )
        .await;
    let kinds = names(&events);
    assert_eq!(kinds.first(), Some(&"conversation"));
    assert_eq!(kinds.last(), Some(&"done"));
    for kind in ["citation", "delta", "note"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let ChatEvent::Conversation { id } = &events[0].1 else {
        panic!("conversation first");
    };
    let text: String = events
        .iter()
        .filter_map(|(_, e)| match e {
            ChatEvent::Delta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(text.contains("LW-100234"), "{text}");

    // The key's conversations: listed, readable; another key sees none.
    let (status, _, listed) = console
        .request("GET", "/api/chat/conversations", Some(&console.key), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let listed: Value = serde_json::from_str(&listed).expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["id"], id.as_str());
    let uri = format!("/api/chat/conversations/{id}");
    let (status, _, shown) = console.request("GET", &uri, Some(&console.key), None).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    let shown: Value = serde_json::from_str(&shown).expect("JSON");
    assert_eq!(shown["messages"][1]["content"], text.as_str());
    assert!(
        shown["messages"][1]["citations"][0]["source"]["file"] == "stamm.csv"
            || shown["messages"][1]["citations"][1]["source"]["file"] == "stamm.csv"
    );

    let (status, _, listed) = console
        .request(
            "GET",
            "/api/chat/conversations",
            Some(&console.other_key),
            None,
        )
        .await;
    assert_eq!((status, listed.as_str()), (StatusCode::OK, "[]"));
    let (status, _, body) = console
        .request("GET", &uri, Some(&console.other_key), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(!body.contains("dimmbar"), "{body}");
    let (status, _, body) = console
        .request(
            "POST",
            "/api/chat",
            Some(&console.other_key),
            Some(json!({"question": "und?", "conversation": id})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("conversation_not_found"), "{body}");

    // Refusals before any event: no key, a bad body, an empty question.
    let (status, _, _) = console
        .request("POST", "/api/chat", None, Some(json!({"question": "x"})))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, body) = console
        .request(
            "POST",
            "/api/chat",
            Some(&console.key),
            Some(json!({"q": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("invalid_body"), "{body}");
    let (status, _, body) = console
        .request(
            "POST",
            "/api/chat",
            Some(&console.key),
            Some(json!({"question": " "})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("invalid_question"), "{body}");

    // The routes are in the OpenAPI document with their schemas.
    let (_, _, document) = console
        .request("GET", "/api/openapi.json", None, None)
        .await;
    let document: Value = serde_json::from_str(&document).expect("JSON");
    assert!(
        document["paths"]["/api/chat"]["post"]["responses"]["200"]["content"]["text/event-stream"]
            .is_object()
    );
    assert!(document["paths"]["/api/chat/conversations/{id}"]["get"].is_object());
    for schema in [
        "ChatRequest",
        "ChatEvent",
        "Conversation",
        "Citation",
        "Source",
    ] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
}

#[tokio::test]
async fn a_streamed_model_answer_over_http() {
    let answer = "Die Einbauleuchte LED 12 W (LW-100234) ist dimmbar [2].";
    let server = ChatServer::start(ChatReply::answer(answer)).await;
    let console = Console::new(ChatConfig {
        endpoint: Some(server.endpoint()),
        model: "test-model".into(),
        api_key_env: None,
    })
    .await;
    let events = console
        .ask(
            &console.key,
            json!({"question": "Welche Einbauleuchten sind dimmbar?"}),
        )
        .await;
    assert_eq!(
        names(&events),
        ["conversation", "delta", "citation", "delta", "done"],
        "{events:#?}"
    );
    let text: String = events
        .iter()
        .filter_map(|(_, e)| match e {
            ChatEvent::Delta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, answer);
    assert!(
        events
            .iter()
            .any(|(_, e)| matches!(e, ChatEvent::Citation { n: 2, .. }))
    );
    assert!(
        matches!(&events.last().expect("done").1, ChatEvent::Done { mode, .. } if mode == "model")
    );
    assert_eq!(server.requests().len(), 1);
}
