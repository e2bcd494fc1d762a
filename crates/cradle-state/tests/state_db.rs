//! The state database's API keys and chat conversations against SQLite
//! (always) and PostgreSQL
//! (when `CRADLE_TEST_DATABASE_URL` names one; then an unreachable
//! database fails the test rather than skipping it).

use cradle_state::{StateConfig, StateDb};

/// Creates, verifies, lists and revokes keys; the same for both dialects.
async fn check_keys(db: &StateDb) {
    let name = format!("ci-{}", uuid_like());
    let created = db.create_api_key(&name).await.expect("create");
    assert!(created.plaintext.starts_with("crdl_"));
    assert_eq!(created.plaintext.len(), 5 + 64);
    assert!(created.plaintext.starts_with(&created.prefix));

    let info = db
        .verify_api_key(&created.plaintext)
        .await
        .expect("verify")
        .expect("a valid key");
    assert_eq!(info.id, created.id);
    assert_eq!(info.name, name);
    assert!(info.last_used_at.is_some(), "the use is recorded");

    // Another key with the same display prefix would still not match.
    let mut wrong = created.plaintext.clone();
    let last = if wrong.ends_with('0') { "1" } else { "0" };
    wrong.replace_range(wrong.len() - 1.., last);
    assert!(db.verify_api_key(&wrong).await.expect("verify").is_none());
    assert!(db.verify_api_key("crdl_").await.expect("verify").is_none());
    assert!(db.verify_api_key("").await.expect("verify").is_none());

    let listed = db.list_api_keys().await.expect("list");
    let entry = listed.iter().find(|k| k.id == created.id).expect("listed");
    assert_eq!(entry.prefix, created.prefix);
    assert!(entry.revoked_at.is_none());
    let listing = format!("{listed:?}");
    assert!(
        !listing.contains(&created.plaintext),
        "never the key itself"
    );

    assert!(db.revoke_api_key(&created.id).await.expect("revoke"));
    assert!(!db.revoke_api_key(&created.id).await.expect("revoke twice"));
    assert!(
        db.verify_api_key(&created.plaintext)
            .await
            .expect("verify")
            .is_none()
    );
    let listed = db.list_api_keys().await.expect("list");
    let entry = listed.iter().find(|k| k.id == created.id).expect("listed");
    assert!(entry.revoked_at.is_some());

    assert!(db.create_api_key("  ").await.is_err());
    assert!(db.create_api_key("a\nb").await.is_err());
}

/// Two owners' conversations: each sees, reads and extends only its own;
/// the same for both dialects.
async fn check_conversations(db: &StateDb) {
    let alice = format!("user:alice-{}", uuid_like());
    let bob = format!("key:bob-{}", uuid_like());
    let first = db
        .create_conversation(&alice, "  Welche Einbauleuchten sind dimmbar?\nund mehr")
        .await
        .expect("create");
    assert_eq!(first.title, "Welche Einbauleuchten sind dimmbar?");
    let long = db
        .create_conversation(&alice, &"x".repeat(200))
        .await
        .expect("create");
    assert_eq!(
        long.title.chars().count(),
        81,
        "80 characters and an ellipsis"
    );
    let question = db
        .add_chat_message(&alice, &first.id, "user", "Welche sind dimmbar?", "[]")
        .await
        .expect("add");
    let citations = r#"[{"n":1,"article_no":"LW-100234"}]"#;
    db.add_chat_message(&alice, &first.id, "assistant", "LW-100234 [1]", citations)
        .await
        .expect("add");

    let mine = db.list_conversations(&alice, 50).await.expect("list");
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().any(|c| c.id == first.id));
    assert_eq!(
        db.list_conversations(&alice, 1).await.expect("list").len(),
        1
    );
    let messages = db
        .chat_messages(&alice, &first.id)
        .await
        .expect("read")
        .expect("alice's own");
    assert_eq!(
        messages.iter().map(|m| m.role.as_str()).collect::<Vec<_>>(),
        ["user", "assistant"]
    );
    assert_eq!(messages[0], question);
    assert_eq!(messages[1].citations, citations);

    // Bob sees nothing of Alice's, cannot read or extend her conversation.
    assert!(
        db.list_conversations(&bob, 50)
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        db.conversation(&bob, &first.id)
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        db.chat_messages(&bob, &first.id)
            .await
            .expect("read")
            .is_none()
    );
    let refused = db
        .add_chat_message(&bob, &first.id, "user", "mine now", "[]")
        .await
        .expect_err("another owner's conversation");
    assert!(matches!(
        refused,
        cradle_state::StateDbError::ConversationNotFound { .. }
    ));
    let own = db
        .create_conversation(&bob, "Straßenleuchten?")
        .await
        .expect("create");
    assert_eq!(
        db.list_conversations(&bob, 50).await.expect("list"),
        [own.clone()].as_slice()
    );
    assert!(
        db.conversation(&alice, &own.id)
            .await
            .expect("get")
            .is_none()
    );
    // Nothing of Bob's attempt reached Alice's conversation.
    assert_eq!(
        db.chat_messages(&alice, &first.id)
            .await
            .expect("read")
            .expect("alice's own")
            .len(),
        2
    );
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .as_nanos()
    )
}

#[tokio::test]
async fn sqlite_keys_persist_across_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StateConfig::Dir(dir.path().join("state"));
    let db = StateDb::open(&config).await.expect("open");
    assert_eq!(db.dialect(), "sqlite");
    check_keys(&db).await;
    check_conversations(&db).await;
    let kept = db.create_api_key("kept").await.expect("create");
    db.close().await;
    assert!(dir.path().join("state/state.db").is_file());

    // Reopening migrates nothing twice and finds the key.
    let db = StateDb::open(&config).await.expect("reopen");
    assert!(
        db.verify_api_key(&kept.plaintext)
            .await
            .expect("verify")
            .is_some()
    );
    assert_eq!(db.list_api_keys().await.expect("list").len(), 2);
}

#[tokio::test]
async fn sqlite_url_and_unsupported_urls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let db = StateDb::open(&StateConfig::DatabaseUrl(url))
        .await
        .expect("open");
    check_keys(&db).await;
    let error = StateDb::open(&StateConfig::DatabaseUrl("mysql://u:secret@h/db".into()))
        .await
        .expect_err("unsupported");
    let message = error.to_string();
    assert!(
        message.contains("not supported") && !message.contains("secret"),
        "{message}"
    );
}

#[tokio::test]
async fn postgres_keys_when_configured() {
    let Ok(url) = std::env::var("CRADLE_TEST_DATABASE_URL") else {
        eprintln!("CRADLE_TEST_DATABASE_URL is not set; PostgreSQL not tested");
        return;
    };
    // Set but unreachable is a failure, not a skip.
    let db = StateDb::open(&StateConfig::DatabaseUrl(url.clone()))
        .await
        .unwrap_or_else(|error| panic!("CRADLE_TEST_DATABASE_URL is set but: {error:?}"));
    assert_eq!(db.dialect(), "postgres");
    check_keys(&db).await;
    check_conversations(&db).await;
    // Opening again runs no migration twice.
    let again = StateDb::open(&StateConfig::DatabaseUrl(url))
        .await
        .expect("reopen");
    assert!(again.list_api_keys().await.is_ok());
}

/// Users, links, sessions, disabling, the audit log and class corrections;
/// the same for both dialects.
async fn check_users(db: &StateDb) {
    use cradle_state::{LinkPurpose, Role};
    let email = format!("Ada.{}@Example.com", uuid_like());
    let user = db.create_user(&email, Role::Editor).await.expect("create");
    assert_eq!(user.email, email.to_lowercase(), "stored in lower case");
    assert!(!user.has_password && !user.disabled());
    assert!(
        db.create_user(&email, Role::Viewer).await.is_err(),
        "unique"
    );
    assert!(db.create_user("not-an-email", Role::Viewer).await.is_err());

    // A one-time link works once.
    let token = db
        .issue_link(&user.id, LinkPurpose::SignIn)
        .await
        .expect("link");
    let (redeemed, purpose) = db
        .redeem_link(&token)
        .await
        .expect("redeem")
        .expect("valid");
    assert_eq!(
        (redeemed.id.as_str(), purpose),
        (user.id.as_str(), LinkPurpose::SignIn)
    );
    assert!(
        db.redeem_link(&token).await.expect("redeem").is_none(),
        "used up"
    );
    assert!(db.redeem_link("nonsense").await.expect("redeem").is_none());

    // Passwords.
    assert!(db.set_password(&user.id, "short").await.is_err());
    db.set_password(&user.id, "a long enough password")
        .await
        .expect("set");
    let checked = db
        .check_password(&email, "a long enough password")
        .await
        .expect("check")
        .expect("matches");
    assert_eq!(checked.id, user.id);
    assert!(checked.has_password);
    assert!(
        db.check_password(&email, "a long enough passworD")
            .await
            .expect("check")
            .is_none()
    );
    assert!(
        db.check_password("nobody@example.com", "whatever it is")
            .await
            .expect("check")
            .is_none()
    );

    // Sessions, and disabling ends them.
    let session = db.create_session(&user.id).await.expect("session");
    let found = db
        .session(&session.token)
        .await
        .expect("lookup")
        .expect("live");
    assert_eq!(found.user.id, user.id);
    assert_eq!(found.csrf, session.csrf);
    assert!(found.user.last_sign_in_at.is_some());
    assert!(db.session("unknown").await.expect("lookup").is_none());
    let other = db.create_session(&user.id).await.expect("session");
    db.end_session(&other.token).await.expect("sign out");
    assert!(db.session(&other.token).await.expect("lookup").is_none());
    let unused = db
        .issue_link(&user.id, LinkPurpose::Reset)
        .await
        .expect("link");
    db.disable_user(&user.id).await.expect("disable");
    assert!(
        db.session(&session.token).await.expect("lookup").is_none(),
        "session ended"
    );
    assert!(
        db.redeem_link(&unused).await.expect("redeem").is_none(),
        "links ended"
    );
    assert!(
        db.check_password(&email, "a long enough password")
            .await
            .expect("check")
            .is_none()
    );
    assert!(db.issue_link(&user.id, LinkPurpose::SignIn).await.is_err());
    db.enable_user(&user.id).await.expect("enable");
    assert!(
        db.check_password(&email, "a long enough password")
            .await
            .expect("check")
            .is_some()
    );

    db.set_role(&user.id, Role::Developer).await.expect("role");
    db.set_language(&user.id, Some("de"))
        .await
        .expect("language");
    let changed = db.user(&user.id).await.expect("user").expect("exists");
    assert_eq!(
        (changed.role, changed.language.as_deref()),
        (Role::Developer, Some("de"))
    );
    assert!(
        db.users()
            .await
            .expect("users")
            .iter()
            .any(|u| u.id == user.id)
    );

    // The audit log, newest first.
    db.audit("cli", "user_added", Some(&email), None)
        .await
        .expect("audit");
    db.audit(&format!("user:{email}"), "sign_in", None, Some("link"))
        .await
        .expect("audit");
    let log = db.audit_log(2).await.expect("log");
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].action, "sign_in");
    assert_eq!(log[1].action, "user_added");

    // Class corrections: the newest wins.
    let article = format!("A-{}", uuid_like());
    db.correct_class(&article, "EC000001", Some("EC000002"), &changed)
        .await
        .expect("correct");
    db.correct_class(&article, "EC000003", Some("EC000001"), &changed)
        .await
        .expect("correct");
    assert!(
        db.correct_class(&article, " ", None, &changed)
            .await
            .is_err()
    );
    let corrections = db.class_corrections(&article).await.expect("corrections");
    assert_eq!(corrections.len(), 2);
    assert_eq!(corrections[0].etim_class, "EC000003");
    assert_eq!(corrections[0].email, changed.email);
    // In force: one per product, the newest.
    let other = format!("B-{}", uuid_like());
    db.correct_class(&other, "EC000004", None, &changed)
        .await
        .expect("correct");
    let current = db
        .current_class_corrections()
        .await
        .expect("current corrections");
    let mine: Vec<(&str, &str, Option<&str>)> = current
        .iter()
        .filter(|c| c.article_no == article || c.article_no == other)
        .map(|c| {
            (
                c.etim_class.as_str(),
                c.email.as_str(),
                c.previous.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        mine,
        [
            ("EC000003", changed.email.as_str(), Some("EC000001")),
            ("EC000004", changed.email.as_str(), None),
        ]
    );
}

#[tokio::test]
async fn sqlite_users_sessions_and_audit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = StateDb::open(&StateConfig::Dir(dir.path().join("state")))
        .await
        .expect("open");
    check_users(&db).await;
}

#[tokio::test]
async fn postgres_users_sessions_and_audit_when_configured() {
    let Ok(url) = std::env::var("CRADLE_TEST_DATABASE_URL") else {
        eprintln!("CRADLE_TEST_DATABASE_URL is not set; PostgreSQL not tested");
        return;
    };
    let db = StateDb::open(&StateConfig::DatabaseUrl(url))
        .await
        .unwrap_or_else(|error| panic!("CRADLE_TEST_DATABASE_URL is set but: {error:?}"));
    check_users(&db).await;
}
