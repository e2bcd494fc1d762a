//! An editor's class correction wins over the catalog's and the index's
//! class in every answer of the API: the product, search hits, the
//! `etim_class` filter and its facet. On SQLite always, on PostgreSQL when
//! `CRADLE_TEST_DATABASE_URL` names one (then an unreachable database
//! fails rather than skips).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use cradle_console::{AppState, router};
use cradle_query::Data;
use cradle_state::{Role, StateConfig, StateDb};
use cradle_test_support::fixture;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

fn unique() -> String {
    format!(
        "{:x}{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .as_nanos(),
        std::process::id()
    )
}

async fn get(state: &AppState, key: &str, uri: &str) -> Value {
    let request = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::empty())
        .expect("request");
    let response = router(state.clone())
        .oneshot(request)
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK, "{uri}");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("JSON")
}

fn articles(search: &Value) -> Vec<&str> {
    search["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|h| h["article_no"].as_str())
        .collect()
}

fn facet(search: &Value, class: &str) -> Option<u64> {
    search["facets"]["etim_class"]
        .as_array()
        .expect("the class facet")
        .iter()
        .find(|pair| pair[0] == class)
        .and_then(|pair| pair[1].as_u64())
}

async fn check(config: StateConfig) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    fixture::write_data_dir(&data_dir).await;
    let db = StateDb::open(&config).await.expect("state db");
    let key = db.create_api_key("tests").await.expect("key").plaintext;
    let state = AppState::new(db.clone());
    state.set_data(Data::open(&data_dir).await.expect("open data"));

    let article = "LW-100299";
    let old = "EC001744";
    // A class no other run has used, so a shared database does not mix.
    let new = format!("EC9{}", &unique()[..10]);

    let editor = db
        .create_user(&format!("editor.{}@example.com", unique()), Role::Editor)
        .await
        .expect("editor");
    // A shared database may hold corrections of earlier runs; the class
    // is first confirmed as delivered, so every run starts alike.
    if db
        .class_corrections(article)
        .await
        .expect("corrections")
        .is_empty()
    {
        let before = get(&state, &key, &format!("/api/products/{article}")).await;
        assert_eq!(before["etim_class"], old);
        assert_eq!(before["etim_class_source"], "delivered");
        assert_eq!(before["etim_class_confidence"], 1.0);
        assert!(before.get("corrected_by").is_none(), "{before}");
    }
    db.correct_class(article, old, None, &editor)
        .await
        .expect("confirm");
    let by_old = format!("/api/search?etim_class={old}&facets=etim_class&limit=100");
    let found = get(&state, &key, &by_old).await;
    assert!(articles(&found).contains(&article), "{found}");
    let old_count = facet(&found, old).expect("counted");

    db.correct_class(article, &new, Some(old), &editor)
        .await
        .expect("correct");

    let product = get(&state, &key, &format!("/api/products/{article}")).await;
    assert_eq!(product["etim_class"], new.as_str(), "{product}");
    assert_eq!(product["etim_class_source"], "correction");
    assert_eq!(product["corrected_by"], editor.email.as_str());
    assert!(
        product["corrected_at"]
            .as_str()
            .is_some_and(|t| t.len() >= 20)
    );
    assert_eq!(product["previous_class"], old);
    assert_eq!(
        product["classification"]["etim_class"], old,
        "the classifier's decision stays"
    );

    let found = get(&state, &key, &by_old).await;
    assert!(!articles(&found).contains(&article), "{found}");
    assert_eq!(facet(&found, old), Some(old_count - 1), "{found}");
    assert_eq!(facet(&found, &new), None, "{found}");

    let by_new = get(
        &state,
        &key,
        &format!("/api/search?etim_class={new}&facets=etim_class"),
    )
    .await;
    assert_eq!(articles(&by_new), [article], "{by_new}");
    assert_eq!(by_new["hits"][0]["etim_class"], new.as_str());
    assert_eq!(by_new["hits"][0]["etim_class_source"], "correction");
    assert_eq!(facet(&by_new, &new), Some(1), "{by_new}");

    // Words and the class filter together; the facet over all classes.
    let words = get(
        &state,
        &key,
        &format!("/api/search?q=Einbauleuchte&filter=etim_class:{new}"),
    )
    .await;
    assert_eq!(articles(&words), [article], "{words}");
    let all = get(
        &state,
        &key,
        "/api/search?q=Einbauleuchte&facets=etim_class",
    )
    .await;
    assert_eq!(facet(&all, &new), Some(1), "{all}");
    let hit = all["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .find(|h| h["article_no"] == article)
        .expect("still found by its words");
    assert_eq!(hit["etim_class"], new.as_str());

    // Listings by class and the class counts follow it too.
    let listed = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["article_no"].as_str().map(str::to_owned))
            .collect()
    };
    let page = get(&state, &key, &format!("/api/products?etim_class={new}")).await;
    assert_eq!(listed(&page), [article], "{page}");
    assert_eq!(page["items"][0]["etim_class"], new.as_str());
    assert_eq!(page["total"], 1);
    let page = get(
        &state,
        &key,
        &format!("/api/products?etim_class={old}&limit=100"),
    )
    .await;
    assert!(!listed(&page).contains(&article.to_owned()), "{page}");
    let classes = get(&state, &key, "/api/classes").await;
    let count = |name: &str| {
        classes
            .as_array()
            .expect("classes")
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["products"].as_u64())
    };
    assert_eq!(count(&new), Some(1), "{classes}");
    assert_eq!(count(old), Some(old_count - 1), "{classes}");
}

#[tokio::test]
async fn a_correction_wins_in_the_api_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    check(StateConfig::Dir(dir.path().join("state"))).await;
}

#[tokio::test]
async fn a_correction_wins_in_the_api_on_postgres_when_configured() {
    let Ok(url) = std::env::var("CRADLE_TEST_DATABASE_URL") else {
        eprintln!("CRADLE_TEST_DATABASE_URL is not set; PostgreSQL not tested");
        return;
    };
    check(StateConfig::DatabaseUrl(url)).await;
}
