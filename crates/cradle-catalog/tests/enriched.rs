//! Enrich's outputs in the catalog: classes with confidence and source,
//! mapped features and the text read from media files reach the product,
//! keyed by article number; a delivery that was not enriched, or enriched
//! only in an earlier delivery, answers without them.

use cradle_catalog::Catalog;
use cradle_test_support::fixture;
use cradle_test_support::lakehouse::{publish, publish_enriched};

async fn open(data_dir: &std::path::Path) -> Catalog {
    Catalog::open(&data_dir.join("index/catalog.db"))
        .await
        .expect("open the catalog")
}

#[tokio::test]
async fn classes_features_and_media_texts_reach_the_product() {
    let dir = tempfile::tempdir().unwrap();
    fixture::write_data_dir(dir.path()).await;
    let catalog = open(dir.path()).await;

    let neighbours = catalog
        .product(fixture::NEIGHBOURS_CLASSIFIED)
        .await
        .unwrap()
        .expect("the product");
    assert_eq!(neighbours.etim_class.as_deref(), Some("EC001743"));
    assert_eq!(neighbours.etim_class_source.as_deref(), Some("neighbours"));
    let confidence = neighbours.etim_class_confidence.expect("a confidence");
    assert!((confidence - fixture::NEIGHBOURS_CONFIDENCE).abs() < 1e-6);
    let classification = neighbours.classification.expect("classified");
    assert_eq!(classification.source, "neighbours");
    assert_eq!(classification.alternatives.len(), 2);
    assert_eq!(classification.alternatives[1].etim_class, "EC001744");
    assert!(neighbours.media.is_empty(), "{:?}", neighbours.media);

    let datasheet = catalog
        .product(fixture::DATASHEET_PRODUCT)
        .await
        .unwrap()
        .expect("the product");
    assert_eq!(datasheet.etim_class_source.as_deref(), Some("delivered"));
    let classification = datasheet.classification.expect("classified");
    assert_eq!(classification.features.len(), 1);
    assert_eq!(classification.features[0].code, "EF009347");
    assert_eq!(classification.features[0].attribute, "Leistung");
    // Only the media chunks, one item per file, parts in order.
    assert_eq!(datasheet.media.len(), 1, "{:?}", datasheet.media);
    let media = &datasheet.media[0];
    assert_eq!(media.kind, "pdf");
    assert_eq!(media.reference, fixture::DATASHEET);
    assert_eq!(media.attribute, "", "named by no attribute");
    let text = media.text.as_deref().expect("the datasheet's text");
    assert!(text.starts_with("Datenblatt Einbauleuchte"), "{text}");
    assert!(text.ends_with(fixture::DATASHEET_MARKUP), "{text}");

    let counts = catalog
        .sql(
            "SELECT (SELECT count(*) FROM classifications), (SELECT count(*) FROM media_texts)",
            &cradle_catalog::SqlLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(counts.rows[0], [serde_json::json!(5), serde_json::json!(2)]);
}

#[tokio::test]
async fn a_delivery_not_enriched_answers_without_enrich() {
    let dir = tempfile::tempdir().unwrap();
    fixture::write_data_dir_of(dir.path(), &fixture::delivery()).await;
    let catalog = open(dir.path()).await;
    let product = catalog
        .product(fixture::DATASHEET_PRODUCT)
        .await
        .unwrap()
        .expect("the product");
    assert_eq!(product.etim_class.as_deref(), Some("EC001744"));
    assert_eq!(product.etim_class_source.as_deref(), Some("delivered"));
    assert_eq!(product.etim_class_confidence, None);
    assert!(product.classification.is_none());
    assert!(product.media.is_empty());
}

#[tokio::test]
async fn enrich_of_an_earlier_delivery_is_not_served() {
    let dir = tempfile::tempdir().unwrap();
    let lakehouse = dir.path().join("lakehouse");
    let first = publish(&lakehouse, &fixture::delivery());
    publish_enriched(&lakehouse, first.delivery, &fixture::enriched());
    // A new delivery arrives; enrich has not run on it yet.
    publish(&lakehouse, &fixture::delivery());
    let out = dir.path().join("catalog.db");
    let report = cradle_catalog::build(&lakehouse, &out).await.unwrap();
    assert_eq!(
        (report.classifications, report.media_texts),
        (0, 0),
        "{report:?}"
    );
    let catalog = Catalog::open(&out).await.unwrap();
    let product = catalog
        .product(fixture::NEIGHBOURS_CLASSIFIED)
        .await
        .unwrap()
        .expect("the product");
    assert!(product.classification.is_none());
    assert_eq!(product.etim_class_source.as_deref(), Some("delivered"));

    // Enriched again, the new delivery's classes are served.
    catalog.close().await;
    publish_enriched(&lakehouse, first.delivery + 1, &fixture::enriched());
    let report = cradle_catalog::build(&lakehouse, &out).await.unwrap();
    assert_eq!((report.classifications, report.media_texts), (5, 2));
    let catalog = Catalog::open(&out).await.unwrap();
    let product = catalog
        .product(fixture::NEIGHBOURS_CLASSIFIED)
        .await
        .unwrap()
        .expect("the product");
    assert_eq!(product.etim_class_source.as_deref(), Some("neighbours"));
}
