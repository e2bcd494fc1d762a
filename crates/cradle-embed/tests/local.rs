//! The local backend on tiny randomly initialised models written here:
//! XLM-RoBERTa (the multilingual-e5 family, whose real weights are too big
//! for a fixture) and BERT, with the tensor names Hugging Face exports use.
//! Real BERT weights are checked against sentence-transformers in
//! `parity.rs`.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use cradle_embed::local::Pooling;
use cradle_embed::{Embedder, LocalEmbedder, LocalOptions, Role, cosine};
use serde_json::json;

const HIDDEN: usize = 32;
const HEADS: usize = 4;
const LAYERS: usize = 2;
const INTERMEDIATE: usize = 64;
const POSITIONS: usize = 40;

#[derive(Clone, Copy, PartialEq)]
enum Family {
    XlmRoberta,
    Bert,
}

/// Letters, digits and a few words; every character of the test texts is
/// in it, so nothing becomes unknown.
fn pieces() -> Vec<String> {
    let mut pieces: Vec<String> =
        "abcdefghijklmnopqrstuvwxyzäöüßABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÜ0123456789.,-:/%"
            .chars()
            .map(String::from)
            .collect();
    pieces.extend(["Leuchte", "Downlight", "LED", "Watt", "query", "passage"].map(String::from));
    pieces
}

fn tokenizer(family: Family) -> serde_json::Value {
    let pieces = pieces();
    match family {
        Family::XlmRoberta => {
            let specials = ["<s>", "<pad>", "</s>", "<unk>"];
            let mut vocab: Vec<serde_json::Value> =
                specials.iter().map(|s| json!([s, 0.0])).collect();
            vocab.push(json!(["\u{2581}", -2.0]));
            for p in &pieces {
                vocab.push(json!([p, -3.0]));
                vocab.push(json!([format!("\u{2581}{p}"), -2.5]));
            }
            json!({
                "version": "1.0", "truncation": null, "padding": null,
                "added_tokens": specials.iter().enumerate().map(|(i, s)| json!({
                    "id": i, "content": s, "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": false, "special": true})).collect::<Vec<_>>(),
                "normalizer": null,
                "pre_tokenizer": {"type": "Metaspace", "replacement": "\u{2581}", "prepend_scheme": "always", "split": true},
                "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                                   "trim_offsets": true, "add_prefix_space": true},
                "decoder": null,
                "model": {"type": "Unigram", "unk_id": 3, "vocab": vocab, "byte_fallback": false}
            })
        }
        Family::Bert => {
            let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"];
            let mut vocab = serde_json::Map::new();
            for (i, s) in specials.iter().enumerate() {
                vocab.insert(s.to_string(), json!(i));
            }
            for p in &pieces {
                let lower = p.to_lowercase();
                for piece in [lower.clone(), format!("##{lower}")] {
                    let next = vocab.len();
                    vocab.entry(piece).or_insert(json!(next));
                }
            }
            json!({
                "version": "1.0", "truncation": null, "padding": null,
                "added_tokens": specials.iter().enumerate().map(|(i, s)| json!({
                    "id": i, "content": s, "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": false, "special": true})).collect::<Vec<_>>(),
                "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                               "strip_accents": null, "lowercase": true},
                "pre_tokenizer": {"type": "BertPreTokenizer"},
                "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
                "decoder": null,
                "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                          "max_input_chars_per_word": 100, "vocab": vocab}
            })
        }
    }
}

fn vocab_size(tokenizer: &serde_json::Value) -> usize {
    let model = &tokenizer["model"]["vocab"];
    model
        .as_array()
        .map(Vec::len)
        .unwrap_or_else(|| model.as_object().unwrap().len())
}

/// Writes a tiny model of `family` into `dir`: tensors named as a
/// Hugging Face export names them, under `prefix` (`""`, `"roberta."`).
fn write_model(dir: &Path, family: Family, prefix: &str, pooling: &str, max_seq_length: usize) {
    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    let tokenizer = tokenizer(family);
    let vocab = vocab_size(&tokenizer);
    std::fs::write(dir.join("tokenizer.json"), tokenizer.to_string()).unwrap();
    let (model_type, pad, types, eps) = match family {
        Family::XlmRoberta => ("xlm-roberta", 1, 1, 1e-5),
        Family::Bert => ("bert", 0, 2, 1e-12),
    };
    let config = json!({
        "architectures": [if family == Family::Bert { "BertModel" } else { "XLMRobertaModel" }],
        "model_type": model_type, "vocab_size": vocab, "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "intermediate_size": INTERMEDIATE,
        "hidden_act": "gelu", "max_position_embeddings": POSITIONS, "type_vocab_size": types,
        "layer_norm_eps": eps, "pad_token_id": pad, "position_embedding_type": "absolute"
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    std::fs::write(
        dir.join("modules.json"),
        json!([
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
        ])
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join("1_Pooling/config.json"),
        json!({"word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": pooling == "cls",
               "pooling_mode_mean_tokens": pooling == "mean"})
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join("sentence_bert_config.json"),
        json!({"max_seq_length": max_seq_length, "do_lower_case": false}).to_string(),
    )
    .unwrap();

    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    let mut add = |name: String, shape: &[usize], scale: f32| {
        let t =
            (Tensor::randn(0f32, 1.0, shape, &Device::Cpu).unwrap() * f64::from(scale)).unwrap();
        tensors.insert(format!("{prefix}{name}"), t);
    };
    add(
        "embeddings.word_embeddings.weight".into(),
        &[vocab, HIDDEN],
        1.0,
    );
    add(
        "embeddings.position_embeddings.weight".into(),
        &[POSITIONS, HIDDEN],
        1.0,
    );
    add(
        "embeddings.token_type_embeddings.weight".into(),
        &[types, HIDDEN],
        1.0,
    );
    add("embeddings.LayerNorm.weight".into(), &[HIDDEN], 1.0);
    add("embeddings.LayerNorm.bias".into(), &[HIDDEN], 0.1);
    for i in 0..LAYERS {
        let p = format!("encoder.layer.{i}");
        for n in ["query", "key", "value"] {
            add(
                format!("{p}.attention.self.{n}.weight"),
                &[HIDDEN, HIDDEN],
                0.2,
            );
            add(format!("{p}.attention.self.{n}.bias"), &[HIDDEN], 0.1);
        }
        add(
            format!("{p}.attention.output.dense.weight"),
            &[HIDDEN, HIDDEN],
            0.2,
        );
        add(format!("{p}.attention.output.dense.bias"), &[HIDDEN], 0.1);
        add(
            format!("{p}.attention.output.LayerNorm.weight"),
            &[HIDDEN],
            1.0,
        );
        add(
            format!("{p}.attention.output.LayerNorm.bias"),
            &[HIDDEN],
            0.1,
        );
        add(
            format!("{p}.intermediate.dense.weight"),
            &[INTERMEDIATE, HIDDEN],
            0.2,
        );
        add(format!("{p}.intermediate.dense.bias"), &[INTERMEDIATE], 0.1);
        add(
            format!("{p}.output.dense.weight"),
            &[HIDDEN, INTERMEDIATE],
            0.2,
        );
        add(format!("{p}.output.dense.bias"), &[HIDDEN], 0.1);
        add(format!("{p}.output.LayerNorm.weight"), &[HIDDEN], 1.0);
        add(format!("{p}.output.LayerNorm.bias"), &[HIDDEN], 0.1);
    }
    add("pooler.dense.weight".into(), &[HIDDEN, HIDDEN], 0.2);
    candle_core::safetensors::save(&tensors, dir.join("model.safetensors")).unwrap();
}

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
