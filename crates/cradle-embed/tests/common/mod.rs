//! Fixtures shared by the integration tests (and the `tiny_model`
//! example): tiny models in Hugging Face layout whose weights come from a
//! fixed seed, and a minimal HTTP server on loopback.
#![allow(dead_code)]

pub mod server;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use serde_json::json;

pub const HIDDEN: usize = 32;
const HEADS: usize = 4;
const LAYERS: usize = 2;
const INTERMEDIATE: usize = 64;
const POSITIONS: usize = 40;

#[derive(Clone, Copy, PartialEq)]
pub enum Family {
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

/// Numbers from a fixed seed, the same on every machine: splitmix64 for
/// uniform bits, and the sum of twelve uniforms minus six for a bell curve
/// of mean 0 and variance 1. Only additions and multiplications of exactly
/// rounded IEEE numbers, no `ln` or `cos` of a platform's maths library, so
/// the weights (and the file's sha256 that `tests/data/parity/` records
/// beside the reference vectors) never differ between machines or runs.
struct Seeded(u64);

impl Seeded {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), exactly representable (53 random bits).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn bell(&mut self) -> f32 {
        let sum: f64 = (0..12).map(|_| self.uniform()).sum();
        (sum - 6.0) as f32
    }
}

/// The seed of every tiny model's weights.
const SEED: u64 = 20_240_917;

/// Writes a tiny model of `family` into `dir`: tensors named as a
/// Hugging Face export names them, under `prefix` (`""`, `"roberta."`),
/// with weights from [`SEED`] (the same bytes on every call).
pub fn write_model(dir: &Path, family: Family, prefix: &str, pooling: &str, max_seq_length: usize) {
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
    let mut numbers = Seeded(SEED);
    let mut add = |name: String, shape: &[usize], scale: f32| {
        let count = shape.iter().product();
        let values: Vec<f32> = (0..count).map(|_| numbers.bell() * scale).collect();
        let t = Tensor::from_vec(values, shape, &Device::Cpu).unwrap();
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

/// The tiny XLM-RoBERTa (the multilingual-e5 family) of the parity test,
/// with the tokenizer configuration sentence-transformers needs to load it.
pub fn write_tiny_xlm_roberta(dir: &Path) {
    write_model(dir, Family::XlmRoberta, "", "mean", 32);
    std::fs::write(
        dir.join("tokenizer_config.json"),
        r#"{"tokenizer_class": "XLMRobertaTokenizerFast", "model_max_length": 32}"#,
    )
    .unwrap();
}
