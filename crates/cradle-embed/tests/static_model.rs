//! Static models: distilled from a tiny transformer, and written by hand in
//! model2vec's layout, both opened by the local backend. A text's vector is
//! the unit-length mean of its tokens' rows, whatever the batch.

mod common;

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use common::{Family, HIDDEN, write_model};
use cradle_embed::{Embedder, LocalEmbedder, LocalOptions, Role, cosine, model_files};

const TEXTS: [&str; 4] = [
    "LED Downlight 12 Watt, 3000 K",
    "Leuchte",
    "Einbauleuchte IP65, Art.-Nr. 4711-02",
    "",
];

fn options() -> LocalOptions {
    LocalOptions {
        threads: Some(2),
        ..LocalOptions::default()
    }
}

#[test]
fn a_distilled_model_opens_as_a_static_model_and_embeds_consistently() {
    let root = tempfile::tempdir().unwrap();
    let transformer = root.path().join("bert");
    write_model(&transformer, Family::Bert, "", "mean", 32);
    let out = root.path().join("bert-static");
    let distilled = cradle_embed::distill(&transformer, &out, &options()).unwrap();
    assert_eq!(distilled.dimension, HIDDEN);
    assert!(distilled.vocabulary > 100, "{}", distilled.vocabulary);

    let model = LocalEmbedder::open(&out, &options()).unwrap();
    assert!(model.is_static());
    assert_eq!(model.info().dimension, HIDDEN);
    assert_eq!(model.info().backend, "local");
    assert_eq!(model.info().name, "bert-static");
    // What an image copies of it: the three files a static model has.
    assert_eq!(
        model_files(&out).unwrap(),
        ["config.json", "model.safetensors", "tokenizer.json"].map(std::path::PathBuf::from)
    );

    let all = model.embed(&TEXTS, Role::Passage).unwrap();
    for (text, vector) in TEXTS.iter().zip(&all) {
        let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
        if text.is_empty() {
            assert_eq!(norm, 0.0, "no tokens: no direction");
        } else {
            assert!((norm - 1.0).abs() < 1e-5, "{text}: norm {norm}");
        }
        let alone = model.embed(&[text], Role::Query).unwrap().remove(0);
        assert_eq!(&alone, vector, "{text}: batch and role change nothing");
    }
    assert!(cosine(&all[0], &all[2]) < 0.999);

    // Distilling again gives the same table (same weights, same order).
    let again = root.path().join("again");
    cradle_embed::distill(&transformer, &again, &options()).unwrap();
    assert_eq!(
        std::fs::read(out.join("model.safetensors")).unwrap(),
        std::fs::read(again.join("model.safetensors")).unwrap()
    );

    // A static model is not distilled again.
    let error = cradle_embed::distill(&out, &root.path().join("x"), &options()).unwrap_err();
    assert!(error.to_string().contains("already static"), "{error}");
}

#[test]
fn a_model2vec_directory_embeds_the_mean_of_its_token_rows() {
    let root = tempfile::tempdir().unwrap();
    let transformer = root.path().join("bert");
    write_model(&transformer, Family::Bert, "", "mean", 32);
    let dir = root.path().join("hand-made");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(
        transformer.join("tokenizer.json"),
        dir.join("tokenizer.json"),
    )
    .unwrap();
    std::fs::write(
        dir.join("config.json"),
        r#"{"model_type": "model2vec", "architectures": ["StaticModel"], "hidden_dim": 3, "normalize": true}"#,
    )
    .unwrap();
    let tokenizer = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
    let vocab = tokenizer.get_vocab_size(true);
    // Row i is (i, 1, 0): the mean of a text's rows is known in advance.
    let rows: Vec<f32> = (0..vocab).flat_map(|i| [i as f32, 1.0, 0.0]).collect();
    let table = Tensor::from_vec(rows, (vocab, 3), &Device::Cpu).unwrap();
    candle_core::safetensors::save(
        &HashMap::from([("embeddings".to_owned(), table)]),
        dir.join("model.safetensors"),
    )
    .unwrap();

    let model = LocalEmbedder::open(&dir, &options()).unwrap();
    assert_eq!(model.info().dimension, 3);
    let text = "led watt";
    let ids: Vec<u32> = tokenizer.encode(text, false).unwrap().get_ids().to_vec();
    assert_eq!(ids.len(), 2, "{ids:?}");
    let mut expected = vec![
        ids.iter().map(|&i| i as f32).sum::<f32>(),
        ids.len() as f32,
        0.0,
    ];
    cradle_embed::normalize(&mut expected);
    let vector = model.embed(&[text], Role::Passage).unwrap().remove(0);
    for (a, b) in vector.iter().zip(&expected) {
        assert!((a - b).abs() < 1e-6, "{vector:?} != {expected:?}");
    }
    // Unknown tokens do not count: "led ☃" is "led" alone.
    let led = model.embed(&["led"], Role::Passage).unwrap().remove(0);
    let with_unknown = model.embed(&["led ☃"], Role::Passage).unwrap().remove(0);
    assert_eq!(led, with_unknown);

    // A table without the tensor says what it needs.
    candle_core::safetensors::save(
        &HashMap::from([(
            "other".to_owned(),
            Tensor::zeros((vocab, 3), candle_core::DType::F32, &Device::Cpu).unwrap(),
        )]),
        dir.join("model.safetensors"),
    )
    .unwrap();
    let error = LocalEmbedder::open(&dir, &options()).unwrap_err();
    assert!(error.to_string().contains("model.safetensors"), "{error}");
    // A table smaller than the vocabulary is refused.
    candle_core::safetensors::save(
        &HashMap::from([(
            "embeddings".to_owned(),
            Tensor::zeros((5, 3), candle_core::DType::F32, &Device::Cpu).unwrap(),
        )]),
        dir.join("model.safetensors"),
    )
    .unwrap();
    let error = LocalEmbedder::open(&dir, &options()).unwrap_err();
    assert!(error.to_string().contains("5 rows"), "{error}");
}

#[test]
fn fitting_weights_tokens_by_how_rare_they_are_in_the_texts() {
    let root = tempfile::tempdir().unwrap();
    let transformer = root.path().join("bert");
    write_model(&transformer, Family::Bert, "", "mean", 32);
    let distilled = root.path().join("bert-static");
    cradle_embed::distill(&transformer, &distilled, &options()).unwrap();
    let base = LocalEmbedder::open(&distilled, &options()).unwrap();

    // "led" is in every text, "watt" in one: after fitting, "watt" leads
    // the vector of "led watt" more than before.
    let texts = ["led", "led watt", "led", "led lampe"];
    let fitted = root.path().join("fitted");
    let outcome = cradle_embed::fit(&distilled, &texts, &fitted, &options()).unwrap();
    assert_eq!(outcome.texts, 4);
    assert!(outcome.tokens_seen >= 2, "{outcome:?}");
    let model = LocalEmbedder::open(&fitted, &options()).unwrap();
    assert!(model.is_static());
    let similarity = |model: &LocalEmbedder| {
        let v = model.embed(&["led watt", "watt"], Role::Passage).unwrap();
        cosine(&v[0], &v[1])
    };
    assert!(
        similarity(&model) > similarity(&base) + 1e-4,
        "fitted {} vs distilled {}",
        similarity(&model),
        similarity(&base)
    );
    // A text of one token keeps its direction: only weights change.
    let before = base.embed(&["watt"], Role::Passage).unwrap().remove(0);
    let after = model.embed(&["watt"], Role::Passage).unwrap().remove(0);
    assert!(cosine(&before, &after) > 0.9999);

    // The fitted model says what it was fitted from, and fitting is
    // deterministic.
    assert_eq!(
        cradle_embed::fitted_from(&fitted).as_deref(),
        Some(base.info().revision.as_str())
    );
    assert_eq!(cradle_embed::fitted_from(&distilled), None);
    assert!(cradle_embed::can_fit(&distilled));
    assert!(!cradle_embed::can_fit(&fitted));
    let again = root.path().join("again");
    cradle_embed::fit(&distilled, &texts, &again, &options()).unwrap();
    assert_eq!(
        std::fs::read(fitted.join("model.safetensors")).unwrap(),
        std::fs::read(again.join("model.safetensors")).unwrap()
    );

    // Only a model distilled by cradle can be fitted: its weights are known.
    for other in [&fitted, &transformer] {
        let error = cradle_embed::fit(other, &texts, &root.path().join("x"), &options())
            .unwrap_err()
            .to_string();
        assert!(error.contains("cradle model distill"), "{error}");
    }
}
