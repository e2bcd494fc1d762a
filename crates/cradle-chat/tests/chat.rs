//! The chat over the fixture data of `cradle-test-support` (a real
//! search index and catalog) with a real SQLite state database: the
//! extractive answer, a streamed answer from a local OpenAI-compatible
//! server with citations, a model that is down or refuses, hostile
//! product text reaching the model only inside the data block, and
//! conversations kept apart by owner.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use cradle_chat::prompt::{DATA_END, DATA_START};
use cradle_chat::{Chat, ChatConfig, ChatEvent};
use cradle_query::{Data, DataSlot};
use cradle_state::{StateConfig, StateDb};
use cradle_test_support::chat_server::{ChatReply, ChatServer, RecordedRequest};
use cradle_test_support::fixture;
use futures_core::Stream;
use serde_json::Value;
use tempfile::TempDir;

struct Setup {
    _dir: TempDir,
    data: Arc<DataSlot>,
    store: StateDb,
}

impl Setup {
    async fn new(delivery: cradle_test_support::lakehouse::Delivery) -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        fixture::write_data_dir_of(&data_dir, &delivery).await;
        let data = Data::open(&data_dir).await.expect("open the data");
        let store = StateDb::open(&StateConfig::Dir(dir.path().join("state")))
            .await
            .expect("state db");
        Setup {
            _dir: dir,
            data: Arc::new(DataSlot::ready(data)),
            store,
        }
    }

    fn chat(&self, config: ChatConfig) -> Chat {
        Chat::new(config, self.data.clone(), self.store.clone())
    }
}

fn model_at(endpoint: &str) -> ChatConfig {
    ChatConfig {
        endpoint: Some(endpoint.to_owned()),
        model: "test-model".to_owned(),
        api_key_env: None,
    }
}

/// Every event of an answer, within a minute.
async fn collect(mut stream: impl Stream<Item = ChatEvent> + Unpin) -> Vec<ChatEvent> {
    let all = async {
        let mut events = Vec::new();
        while let Some(event) = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
            events.push(event);
        }
        events
    };
    tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("the answer ends within a minute")
}

fn text_of(events: &[ChatEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Delta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn conversation_of(events: &[ChatEvent]) -> String {
    match events.first() {
        Some(ChatEvent::Conversation { id }) => id.clone(),
        other => panic!("the first event names the conversation, not {other:?}"),
    }
}

/// Each citation comes before the text that first cites its number.
fn assert_citations_precede_their_markers(events: &[ChatEvent]) {
    let mut text = String::new();
    let mut cited = Vec::new();
    for event in events {
        match event {
            ChatEvent::Citation { n, .. } => {
                assert!(
                    !text.contains(&format!("[{n}]")),
                    "citation {n} after its marker"
                );
                cited.push(*n);
            }
            ChatEvent::Delta { text: piece } => text.push_str(piece),
            _ => {}
        }
    }
    assert!(!cited.is_empty(), "some citations: {events:#?}");
}

/// The data block of the last request the server got, parsed.
fn data_block(request: &RecordedRequest) -> (String, Value, String) {
    let user = request
        .messages()
        .last()
        .map(|(_, content)| content.clone())
        .expect("a user message");
    let start = user.find(DATA_START).expect("the data block starts");
    let end = user.find(DATA_END).expect("the data block ends");
    assert_eq!(user.matches(DATA_END).count(), 1, "one end marker: {user}");
    let inside = &user[start + DATA_START.len()..end];
    let data: Value = serde_json::from_str(inside).expect("the data block is JSON");
    (
        user[..start].to_owned(),
        data,
        user[end + DATA_END.len()..].to_owned(),
    )
}

#[tokio::test]
async fn extractive_answer_without_a_model() {
    let setup = Setup::new(fixture::delivery()).await;
    let chat = setup.chat(ChatConfig::default());
    assert_eq!((chat.model(), chat.problem()), (None, None));
    let events = collect(chat.ask("user:a", None, "Welche Einbauleuchten sind dimmbar?")).await;
    let conversation = conversation_of(&events);
    let text = text_of(&events);
    assert!(text.contains("LW-100234"), "{text}");
    assert!(text.contains("Einbauleuchte LED 12 W"), "{text}");
    // The fact that matched "dimmbar", with the cell it came from.
    let dimmable = events
        .iter()
        .find_map(|e| match e {
            ChatEvent::Citation {
                n,
                article_no,
                source,
            } if source.attribute == "Dimmbar" => Some((*n, article_no.clone(), source.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("a citation of Dimmbar: {events:#?}"));
    assert_eq!(dimmable.1, "LW-100234");
    assert_eq!(dimmable.2.value, "ja");
    assert_eq!(
        (
            dimmable.2.file.as_deref(),
            dimmable.2.row,
            dimmable.2.column.as_deref()
        ),
        (Some("stamm.csv"), Some(3), Some("C"))
    );
    assert!(
        text.contains(&format!("Dimmbar: ja [{}]", dimmable.0)),
        "{text}"
    );
    assert_citations_precede_their_markers(&events);
    let note = events
        .iter()
        .find_map(|e| match e {
            ChatEvent::Note { text } => Some(text.clone()),
            _ => None,
        })
        .expect("a note");
    assert!(
        note.contains("`endpoint`") && note.contains("[chat] in cradle.toml"),
        "{note}"
    );
    match events.last() {
        Some(ChatEvent::Done {
            conversation: done,
            mode,
            model,
            ..
        }) => {
            assert_eq!(
                (done, mode.as_str(), model),
                (&conversation, "extractive", &None)
            );
        }
        other => panic!("done last, not {other:?}"),
    }

    // Stored: the question and the answer with its citations.
    let stored = chat
        .conversation("user:a", &conversation)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.title, "Welche Einbauleuchten sind dimmbar?");
    assert_eq!(stored.messages.len(), 2);
    assert_eq!(stored.messages[1].content, text);
    assert!(
        stored.messages[1]
            .citations
            .iter()
            .any(|c| c.n == dimmable.0)
    );

    // Nothing matches: said so, still with the note.
    let events = collect(chat.ask("user:a", None, "Quantencomputer Xylophon")).await;
    assert!(text_of(&events).contains("Kein Produkt") || text_of(&events).contains("No product"));
    assert!(matches!(events.last(), Some(ChatEvent::Done { .. })));
}

#[tokio::test]
async fn streamed_answer_with_citations() {
    let setup = Setup::new(fixture::delivery()).await;
    let answer = "Die Einbauleuchte LED 12 W ist dimmbar [2]; sie heißt so [1]. Erfunden: [99].";
    let server = ChatServer::start(ChatReply::answer(answer)).await;
    let mut config = model_at(&server.endpoint());
    // A variable cargo sets for every test process, as the key.
    config.api_key_env = Some("CARGO_PKG_NAME".to_owned());
    let chat = setup.chat(config);
    assert_eq!(chat.model(), Some("test-model"));
    let question = "Welche Einbauleuchten sind dimmbar?";
    let events = collect(chat.ask("user:a", None, question)).await;
    assert_eq!(text_of(&events), answer, "every piece, in order");
    assert!(
        events
            .iter()
            .filter(|e| matches!(e, ChatEvent::Delta { .. }))
            .count()
            > 3,
        "streamed in pieces"
    );
    assert_citations_precede_their_markers(&events);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.authorization.as_deref(), Some("Bearer cradle-chat"));
    assert_eq!(request.body["model"], "test-model");
    assert_eq!(request.body["stream"], true);
    let (_, data, after) = data_block(request);
    assert!(
        after.contains(question),
        "the question follows the data: {after}"
    );

    // Citations 1 and 2 are the facts of those numbers in the data the
    // model was given; the invented 99 is not cited.
    let cited: Vec<(usize, String, String)> = events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Citation {
                n,
                article_no,
                source,
            } => Some((*n, article_no.clone(), source.attribute.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(cited.iter().map(|c| c.0).collect::<Vec<_>>(), [2, 1]);
    for (n, article_no, attribute) in &cited {
        let product = data["products"]
            .as_array()
            .expect("products")
            .iter()
            .find(|p| {
                p["facts"]
                    .as_array()
                    .expect("facts")
                    .iter()
                    .any(|f| f["n"] == *n)
            })
            .unwrap_or_else(|| panic!("fact {n} in the data"));
        assert_eq!(product["article_no"], article_no.as_str());
        let fact = product["facts"]
            .as_array()
            .expect("facts")
            .iter()
            .find(|f| f["n"] == *n)
            .expect("fact");
        assert_eq!(fact["attribute"], attribute.as_str());
    }
    let conversation = conversation_of(&events);
    match events.last() {
        Some(ChatEvent::Done { mode, model, .. }) => {
            assert_eq!(
                (mode.as_str(), model.as_deref()),
                ("model", Some("test-model"))
            );
        }
        other => panic!("done last, not {other:?}"),
    }

    // A follow-up in the same conversation sends the earlier turns.
    let events = collect(chat.ask("user:a", Some(&conversation), "Und mit 24 W?")).await;
    assert!(
        matches!(events.last(), Some(ChatEvent::Done { .. })),
        "{events:#?}"
    );
    let follow_up = &server.requests()[1];
    let roles: Vec<String> = follow_up
        .messages()
        .into_iter()
        .map(|(role, _)| role)
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(follow_up.messages()[2].1, answer);
    let stored = chat
        .conversation("user:a", &conversation)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.messages.len(), 4);
}

#[tokio::test]
async fn a_model_that_is_down_or_refuses_names_the_setting() {
    let setup = Setup::new(fixture::delivery()).await;
    let endpoint = format!("http://127.0.0.1:{}/v1", cradle_test_support::free_port());
    let chat = setup.chat(model_at(&endpoint));
    let events = collect(chat.ask("user:a", None, "Einbauleuchten")).await;
    conversation_of(&events);
    match events.last() {
        Some(ChatEvent::Error { code, message }) => {
            assert_eq!(code, "chat_model_unreachable");
            assert!(message.contains(&endpoint), "{message}");
            assert!(
                message.contains("`endpoint` under [chat] in cradle.toml"),
                "{message}"
            );
        }
        other => panic!("an error last, not {other:?}"),
    }

    let server = ChatServer::start(ChatReply::Status(401, "bad key".into())).await;
    let chat = setup.chat(model_at(&server.endpoint()));
    let events = collect(chat.ask("user:a", None, "Einbauleuchten")).await;
    match events.last() {
        Some(ChatEvent::Error { code, message }) => {
            assert_eq!(code, "chat_model_failed");
            assert!(
                message.contains("401")
                    && message.contains("bad key")
                    && message.contains("`api_key_env`"),
                "{message}"
            );
        }
        other => panic!("an error last, not {other:?}"),
    }

    // Settings that cannot work are reported before any request.
    let mut config = model_at(&server.endpoint());
    config.api_key_env = Some("CRADLE_CHAT_TEST_VARIABLE_NOBODY_SETS".into());
    let chat = setup.chat(config);
    let problem = chat.problem().expect("a problem").to_owned();
    assert!(
        problem.contains("CRADLE_CHAT_TEST_VARIABLE_NOBODY_SETS"),
        "{problem}"
    );
    let events = collect(chat.ask("user:a", None, "Einbauleuchten")).await;
    assert!(
        matches!(events.last(), Some(ChatEvent::Error { code, .. }) if code == "chat_misconfigured"),
        "{events:#?}"
    );
    let mut config = model_at(&server.endpoint());
    config.model.clear();
    assert!(
        setup
            .chat(config)
            .problem()
            .expect("a problem")
            .contains("`model`")
    );
    assert_eq!(
        server.requests().len(),
        1,
        "only the first chat asked the server"
    );
}

#[tokio::test]
async fn hostile_product_text_reaches_the_model_only_as_data() {
    let setup = Setup::new(fixture::hostile_delivery()).await;
    let server = ChatServer::start(ChatReply::answer("Drei Einbauleuchten [1].")).await;
    let chat = setup.chat(model_at(&server.endpoint()));
    let question = "Welche Einbauleuchten gibt es?";
    let events = collect(chat.ask("user:a", None, question)).await;
    assert!(
        matches!(events.last(), Some(ChatEvent::Done { .. })),
        "{events:#?}"
    );
    let request = &server.requests()[0];
    let messages = request.messages();
    assert_eq!(messages[0].0, "system");
    let (before, data, after) = data_block(request);
    for outside in [&messages[0].1, &before, &after] {
        for hostile in [
            "alert(1)",
            "Ignore all previous",
            "PWNED",
            "maintenance mode",
        ] {
            assert!(
                !outside.contains(hostile),
                "{hostile:?} outside the data: {outside}"
            );
        }
    }
    assert!(after.contains(question));
    let whole = &messages.last().expect("user").1;
    assert!(
        !whole.contains('<') || whole.matches('<').count() == 2,
        "only the two markers have a <"
    );
    assert!(whole.contains("\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"));

    // Inside, the data is exactly what was delivered.
    let products = data["products"].as_array().expect("products");
    let names: Vec<&str> = products.iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(names.contains(&fixture::SCRIPT_NAME), "{names:?}");
    assert!(
        names.contains(&fixture::ATTRIBUTE_BREAKOUT_NAME),
        "{names:?}"
    );
    let facts: Vec<&str> = products
        .iter()
        .flat_map(|p| p["facts"].as_array().expect("facts"))
        .filter_map(|f| f["value"].as_str())
        .collect();
    assert!(facts.contains(&fixture::INJECTION_TEXT), "{facts:?}");
}

#[tokio::test]
async fn conversations_belong_to_their_owner() {
    let setup = Setup::new(fixture::delivery()).await;
    let chat = setup.chat(ChatConfig::default());
    let alice = cradle_chat::user_owner("alice");
    let bob = cradle_chat::key_owner("bob-key");
    let events = collect(chat.ask(&alice, None, "Straßenleuchte")).await;
    let conversation = conversation_of(&events);
    assert_eq!(chat.conversations(&alice).await.expect("list").len(), 1);
    assert!(chat.conversations(&bob).await.expect("list").is_empty());
    assert!(
        chat.conversation(&bob, &conversation)
            .await
            .expect("read")
            .is_none()
    );
    let events = collect(chat.ask(&bob, Some(&conversation), "Und Pendelleuchten?")).await;
    assert!(
        matches!(events.as_slice(), [ChatEvent::Error { code, .. }] if code == "conversation_not_found"),
        "{events:#?}"
    );
    let stored = chat
        .conversation(&alice, &conversation)
        .await
        .expect("read")
        .expect("alice's");
    assert_eq!(stored.messages.len(), 2, "nothing of bob's reached it");
    let events = collect(chat.ask(&alice, None, "   ")).await;
    assert!(
        matches!(events.as_slice(), [ChatEvent::Error { code, .. }] if code == "invalid_question"),
        "{events:#?}"
    );
}
