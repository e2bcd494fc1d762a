//! The reports people read, as snapshots: the ingest summary of a real
//! ingest of the demo delivery at scale 0.02 (times and the workspace path
//! fixed, everything else as it came out), and the enrich summary of a
//! report with every section filled. A change to either shows up in
//! review as a diff of `tests/snapshots/`.

use std::collections::BTreeMap;

use cradle_enrich::{EnrichReport, MediaFailure};
use cradle_fs::Workspace;
use cradle_ingest::{FileReport, Progress};
use cradle_pipeline::ingest::{IngestRequest, ingest, summary};

struct Quiet;

impl Progress for Quiet {
    fn begin(&self, _files: usize, _bytes: u64) {}
    fn file_done(&self, _report: &FileReport) {}
}

#[test]
fn the_ingest_summary_of_the_demo_delivery() {
    let dir = tempfile::tempdir().expect("tempdir");
    let delivery = dir.path().join("delivery");
    cradle_demo::generate(
        &delivery,
        &cradle_demo::DemoOptions {
            scale: 0.02,
            seed: 42,
        },
    )
    .expect("demo delivery");
    let request = IngestRequest {
        paths: vec![delivery],
        workspace: Workspace::new(dir.path().join("ws")),
        customer: Some("demo".into()),
        strict: false,
    };
    let mut report = ingest(&request, &Quiet).expect("ingest");
    report.duration_ms = 1234;
    for ms in report.phases_ms.values_mut() {
        *ms = 100;
    }
    insta::assert_snapshot!(summary(&report, std::path::Path::new("<WS>")));
}

#[test]
fn the_enrich_summary() {
    let counts = |pairs: &[(&str, u64)]| -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    };
    let report = EnrichReport {
        customer: "demo".into(),
        delivery: 2,
        products: 2_100,
        chunks: 9_812,
        chunks_by_kind: counts(&[
            ("description", 2_950),
            ("identity", 4_200),
            ("media", 12),
            ("technical", 2_100),
            ("tender", 550),
        ]),
        embeddings: 7_162,
        embedded_kinds: vec!["identity".into(), "description".into(), "media".into()],
        embedded_now: 71,
        embeddings_reused: 7_091,
        model_changed_from: None,
        model: "all-MiniLM-L6-v2".into(),
        model_backend: "local".into(),
        model_revision: "sha256:53aa5117".into(),
        fitted: None,
        dimension: 384,
        embed_seconds: 1.5,
        embed_rate: 47.3,
        vector_index: "<WS>/index/vectors.idx".into(),
        vector_index_bytes: 13_750_000,
        classified: 2_080,
        unclassified: 20,
        classification_sources: counts(&[
            ("attributes", 30),
            ("delivered", 1_700),
            ("names", 150),
            ("neighbours", 200),
        ]),
        invalid_class_codes: 4,
        etim_model: "built-in lighting excerpt".into(),
        etim_features: 16_400,
        media_files: 11,
        media_processed: 10,
        media_failed: 1,
        media_unlinked: 0,
        media_chunks: 12,
        media_methods: counts(&[("ocr", 4), ("pdf-text", 6)]),
        media_failures: vec![MediaFailure {
            file: "media/scan.pdf".into(),
            error: "the PDF has no text layer (a scan?)".into(),
        }],
        tables: counts(&[
            ("chunks", 3),
            ("classifications", 3),
            ("embeddings", 3),
            ("etim_features", 3),
        ]),
        stage_seconds: [("chunks".to_owned(), 0.4), ("embed".to_owned(), 1.5)].into(),
        started_at: "2026-12-02T08:00:00Z".into(),
        duration_ms: 4_200,
    };
    insta::assert_snapshot!(cradle_enrich::summary(&report));
}
