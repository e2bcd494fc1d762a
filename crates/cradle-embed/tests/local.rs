//! The local backend on tiny randomly initialised models written here:
//! XLM-RoBERTa (the multilingual-e5 family, whose real weights are too big
//! for a fixture) and BERT, with the tensor names Hugging Face exports use.
//! Real BERT weights are checked against sentence-transformers in
//! `parity.rs`.

mod common;

use common::{Family, HIDDEN, write_model};
use cradle_embed::local::Pooling;
use cradle_embed::{Embedder, LocalEmbedder, LocalOptions, Role, cosine};
use serde_json::json;

const TEXTS: [&str; 5] = [
    "LED Downlight 12 Watt, 3000 K",
    "Leuchte",
    "Einbauleuchte für Feuchträume IP65, Art.-Nr. 4711-02",
    "Pendelleuchte Ø 450 mm, dimmbar",
    "Ausschreibungstext: LED-Flächenleuchte 600x600, 36 W, 4000 lm, UGR<19",
];

fn options(batch_size: usize) -> LocalOptions {
    LocalOptions {
        batch_size,
        max_length: None,
        threads: Some(2),
    }
}

fn assert_same(a: &[Vec<f32>], b: &[Vec<f32>]) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let c = cosine(x, y);
        assert!(c > 0.99999, "text {i}: cosine {c}");
    }
}

/// Batching and padding must not change a vector: each text alone, and
/// all in batches of several lengths, give the same result.
fn check_batching(model: &LocalEmbedder) {
    let all = model.embed(&TEXTS, Role::Passage).unwrap();
    assert_eq!(all.len(), TEXTS.len());
    for v in &all {
        assert_eq!(v.len(), HIDDEN);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }
    let alone: Vec<Vec<f32>> = TEXTS
        .iter()
        .map(|t| model.embed(&[t], Role::Passage).unwrap().remove(0))
        .collect();
    assert_same(&all, &alone);
    // Different texts give different vectors.
    assert!(cosine(&all[0], &all[2]) < 0.9999);
}

#[test]
fn xlm_roberta_loads_batches_and_pools() {
    let root = tempfile::tempdir().unwrap();
    for prefix in ["", "roberta."] {
        let dir = root.path().join(format!("xlmr{prefix}"));
        write_model(&dir, Family::XlmRoberta, prefix, "mean", 32);
        let model = LocalEmbedder::open(&dir, &options(2)).unwrap();
        assert_eq!(model.info().dimension, HIDDEN);
        assert_eq!(model.info().backend, "local");
        assert_eq!(model.pooling(), Pooling::Mean);
        // 40 positions minus the padding offset (pad id 1, so 2), capped
        // by sentence_bert_config's 32.
        assert_eq!(model.max_length(), 32);
        check_batching(&model);
        // Not an e5 by name: the role does not change the vector.
        assert_eq!(model.prefix(Role::Query), "");
        assert_eq!(
            model.embed(&TEXTS[..1], Role::Query).unwrap(),
            model.embed(&TEXTS[..1], Role::Passage).unwrap()
        );
    }
}

#[test]
fn revision_is_the_sha256_of_the_weights() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("model");
    write_model(&dir, Family::XlmRoberta, "", "mean", 32);
    let model = LocalEmbedder::open(&dir, &options(4)).unwrap();
    use sha2::Digest;
    let expected: String =
        sha2::Sha256::digest(std::fs::read(dir.join("model.safetensors")).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
    assert_eq!(model.info().revision, expected);
    assert_eq!(model.info().name, "model");
}

#[test]
fn e5_models_get_query_and_passage_prefixes() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("multilingual-e5-tiny");
    write_model(&dir, Family::XlmRoberta, "", "mean", 32);
    let model = LocalEmbedder::open(&dir, &options(4)).unwrap();
    assert_eq!(model.prefix(Role::Query), "query: ");
    assert_eq!(model.prefix(Role::Passage), "passage: ");
    let query = model.embed(&["Leuchte"], Role::Query).unwrap();
    let passage = model.embed(&["Leuchte"], Role::Passage).unwrap();
    assert!(cosine(&query[0], &passage[0]) < 0.9999);

    // A model under another name is an e5 when opened under its hub id.
    let plain = root.path().join("plain");
    write_model(&plain, Family::XlmRoberta, "", "mean", 32);
    let named =
        LocalEmbedder::open_named(&plain, "intfloat/multilingual-e5-small", &options(4)).unwrap();
    assert_eq!(named.prefix(Role::Query), "query: ");
    // The prefixed text is what the model sees: the same as a plain model
    // given the prefix itself.
    let unnamed = LocalEmbedder::open(&plain, &options(4)).unwrap();
    assert_same(
        &named.embed(&["Leuchte"], Role::Query).unwrap(),
        &unnamed.embed(&["query: Leuchte"], Role::Query).unwrap(),
    );
}

#[test]
fn prompts_in_the_sentence_transformers_config_win() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("prompted");
    write_model(&dir, Family::XlmRoberta, "", "mean", 32);
    std::fs::write(
        dir.join("config_sentence_transformers.json"),
        json!({"prompts": {"query": "Query: ", "document": "Doc: "}}).to_string(),
    )
    .unwrap();
    let model = LocalEmbedder::open(&dir, &options(4)).unwrap();
    assert_eq!(model.prefix(Role::Query), "Query: ");
    assert_eq!(model.prefix(Role::Passage), "Doc: ");
}

#[test]
fn bert_with_cls_pooling() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("bert");
    write_model(&dir, Family::Bert, "bert.", "cls", 64);
    let model = LocalEmbedder::open(&dir, &options(3)).unwrap();
    assert_eq!(model.pooling(), Pooling::Cls);
    // sentence_bert_config asks for 64, the positions allow 40.
    assert_eq!(model.max_length(), 40);
    check_batching(&model);
}

#[test]
fn long_texts_are_cut_at_max_length() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("bert");
    write_model(&dir, Family::Bert, "", "mean", 64);
    let opts = LocalOptions {
        max_length: Some(8),
        ..options(2)
    };
    let model = LocalEmbedder::open(&dir, &opts).unwrap();
    assert_eq!(model.max_length(), 8);
    // [CLS] + 6 tokens + [SEP]: whatever follows the sixth word is cut.
    let long = "a b c d e f g h i j k l m n o p q r s t u v w x y z ".repeat(20);
    let cut = model.embed(&[&long, "a b c d e f"], Role::Passage).unwrap();
    assert_same(&cut[..1], &cut[1..]);
}

#[test]
fn unsupported_and_broken_models_say_what_is_wrong() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("gpt");
    write_model(&dir, Family::Bert, "", "mean", 32);
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    config["model_type"] = json!("gpt2");
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let error = LocalEmbedder::open(&dir, &options(2))
        .unwrap_err()
        .to_string();
    assert!(error.contains("gpt2") && error.contains("hint"), "{error}");

    let missing = root.path().join("nothing-here");
    let error = LocalEmbedder::open(&missing, &options(2))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("config.json") && error.contains("scripts/model.sh"),
        "{error}"
    );

    let dir = root.path().join("truncated");
    write_model(&dir, Family::Bert, "", "mean", 32);
    std::fs::write(dir.join("model.safetensors"), b"not tensors").unwrap();
    let error = LocalEmbedder::open(&dir, &options(2))
        .unwrap_err()
        .to_string();
    assert!(error.contains("model.safetensors"), "{error}");
}

#[test]
fn open_dispatches_a_local_spec_and_the_service_embeds_off_the_runtime() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("multilingual-e5-tiny");
    write_model(&dir, Family::XlmRoberta, "", "mean", 32);
    let spec = cradle_embed::ModelSpec::Local { dir: dir.clone() };
    let embedder = cradle_embed::open(&spec, &options(4)).unwrap();
    assert_eq!(embedder.info().name, "multilingual-e5-tiny");
    let direct = embedder.embed(&TEXTS, Role::Query).unwrap();

    let service = cradle_embed::EmbedService::start(embedder);
    assert_eq!(service.info().dimension, HIDDEN);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let texts: Vec<String> = TEXTS.iter().map(|t| t.to_string()).collect();
    let served = runtime
        .block_on(service.clone().embed(texts, Role::Query))
        .unwrap();
    assert_same(&direct, &served);
}
