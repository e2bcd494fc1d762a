//! The transformer encoder shared by BERT and XLM-RoBERTa: embeddings,
//! N layers of self-attention and feed-forward, on candle tensors.
//!
//! The two families differ only in their embeddings: XLM-RoBERTa counts
//! positions from `pad_token_id + 1` and has a single token type. The
//! query, key and value projections are fused into one matrix at load time
//! (one matrix product instead of three), and the attention scale is folded
//! into the query weights.

use candle_core::{D, DType, Device, Tensor};
use serde::Deserialize;

use super::weights::Weights;
use crate::EmbedError;

/// The fields of a Hugging Face `config.json` the encoder needs.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Config {
    #[serde(default)]
    pub model_type: Option<String>,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    pub max_position_embeddings: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub pad_token_id: Option<u32>,
    #[serde(default)]
    pub position_embedding_type: Option<String>,
    #[serde(default, rename = "_name_or_path")]
    pub name_or_path: Option<String>,
}

fn default_act() -> String {
    "gelu".into()
}
fn default_eps() -> f64 {
    1e-12
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Bert,
    XlmRoberta,
}

impl Family {
    pub(crate) fn of(config: &Config) -> Option<Family> {
        match config.model_type.as_deref() {
            Some("bert") => Some(Family::Bert),
            Some("xlm-roberta" | "roberta" | "camembert") => Some(Family::XlmRoberta),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Activation {
    GeluErf,
    GeluTanh,
    Relu,
}

/// A dense layer with its weight stored transposed (`in × out`), so that
/// the matrix product reads both operands row-major.
struct Linear {
    weight_t: Tensor,
    bias: Tensor,
}

impl Linear {
    fn new(weight: Tensor, bias: Tensor) -> candle_core::Result<Linear> {
        Ok(Linear {
            weight_t: weight.t()?.contiguous()?,
            bias,
        })
    }

    fn load(weights: &Weights, name: &str) -> Result<Linear, EmbedError> {
        let weight = weights.get(&format!("{name}.weight"))?;
        let bias = weights.get(&format!("{name}.bias"))?;
        Linear::new(weight, bias).map_err(|source| EmbedError::Compute {
            model: name.to_string(),
            step: "loading",
            source: Box::new(source),
        })
    }

    /// `x`: rows × in, two-dimensional.
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.weight_t)?.broadcast_add(&self.bias)
    }
}

struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl LayerNorm {
    fn load(weights: &Weights, name: &str, eps: f64) -> Result<LayerNorm, EmbedError> {
        Ok(LayerNorm {
            weight: weights.get_any(&[&format!("{name}.weight"), &format!("{name}.gamma")])?,
            bias: weights.get_any(&[&format!("{name}.bias"), &format!("{name}.beta")])?,
            eps: eps as f32,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::layer_norm(x, &self.weight, &self.bias, self.eps)
    }
}

struct Layer {
    qkv: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

pub(crate) struct Encoder {
    family: Family,
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    head_dim: usize,
    hidden: usize,
    pad_id: u32,
    activation: Activation,
}

/// One batch of token ids, padded on the right to a common length.
pub(crate) struct Batch {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    /// 1 for a real token, 0 for padding.
    pub mask: Vec<f32>,
    pub rows: usize,
    pub length: usize,
}

impl Encoder {
    pub(crate) fn load(
        config: &Config,
        family: Family,
        weights: &Weights,
    ) -> Result<Encoder, EmbedError> {
        let compute = |source| EmbedError::Compute {
            model: "model.safetensors".into(),
            step: "loading",
            source: Box::new(source),
        };
        let heads = config.num_attention_heads;
        let hidden = config.hidden_size;
        if heads == 0 || !hidden.is_multiple_of(heads) {
            return Err(EmbedError::Setting {
                setting: "config.json num_attention_heads",
                what: format!("hidden_size {hidden} is not a multiple of {heads} heads"),
            });
        }
        let head_dim = hidden / heads;
        let activation = match config.hidden_act.as_str() {
            "gelu" => Activation::GeluErf,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Activation::GeluTanh,
            "relu" => Activation::Relu,
            other => {
                return Err(EmbedError::Setting {
                    setting: "config.json hidden_act",
                    what: format!(
                        "activation `{other}` is not supported (gelu, gelu_new, relu are)"
                    ),
                });
            }
        };
        let eps = config.layer_norm_eps;
        let scale = 1.0 / (head_dim as f64).sqrt();
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            let get = |n: &str| weights.get(&format!("{p}.attention.self.{n}"));
            let q_weight = (get("query.weight")? * scale).map_err(compute)?;
            let q_bias = (get("query.bias")? * scale).map_err(compute)?;
            let qkv_weight =
                Tensor::cat(&[&q_weight, &get("key.weight")?, &get("value.weight")?], 0)
                    .map_err(compute)?;
            let qkv_bias = Tensor::cat(&[&q_bias, &get("key.bias")?, &get("value.bias")?], 0)
                .map_err(compute)?;
            layers.push(Layer {
                qkv: Linear::new(qkv_weight, qkv_bias).map_err(compute)?,
                attention_out: Linear::load(weights, &format!("{p}.attention.output.dense"))?,
                attention_norm: LayerNorm::load(
                    weights,
                    &format!("{p}.attention.output.LayerNorm"),
                    eps,
                )?,
                intermediate: Linear::load(weights, &format!("{p}.intermediate.dense"))?,
                output: Linear::load(weights, &format!("{p}.output.dense"))?,
                output_norm: LayerNorm::load(weights, &format!("{p}.output.LayerNorm"), eps)?,
            });
        }
        let word = weights.get("embeddings.word_embeddings.weight")?;
        let word_dims = word.dims2().map_err(compute)?;
        if word_dims != (config.vocab_size, hidden) {
            return Err(EmbedError::Setting {
                setting: "config.json vocab_size/hidden_size",
                what: format!(
                    "the word embeddings are {}×{}, the config says {}×{hidden}",
                    word_dims.0, word_dims.1, config.vocab_size
                ),
            });
        }
        Ok(Encoder {
            family,
            word,
            position: weights.get("embeddings.position_embeddings.weight")?,
            token_type: weights.get("embeddings.token_type_embeddings.weight")?,
            embedding_norm: LayerNorm::load(weights, "embeddings.LayerNorm", eps)?,
            layers,
            heads,
            head_dim,
            hidden,
            pad_id: config.pad_token_id.unwrap_or(match family {
                Family::Bert => 0,
                Family::XlmRoberta => 1,
            }),
            activation,
        })
    }

    pub(crate) fn hidden_size(&self) -> usize {
        self.hidden
    }

    /// The last hidden states, `rows × length × hidden`.
    pub(crate) fn forward(&self, batch: &Batch) -> candle_core::Result<Tensor> {
        let (rows, length) = (batch.rows, batch.length);
        let device = Device::Cpu;
        let ids = Tensor::from_slice(&batch.ids, rows * length, &device)?;
        let types = Tensor::from_slice(&batch.type_ids, rows * length, &device)?;
        let positions: Vec<u32> = match self.family {
            Family::Bert => (0..rows).flat_map(|_| 0..length as u32).collect(),
            Family::XlmRoberta => batch
                .mask
                .chunks(length)
                .flat_map(|row| {
                    row.iter().enumerate().map(|(i, &m)| {
                        if m > 0.0 {
                            self.pad_id + 1 + i as u32
                        } else {
                            self.pad_id
                        }
                    })
                })
                .collect(),
        };
        let positions = Tensor::from_vec(positions, rows * length, &device)?;
        let embedded = self
            .word
            .index_select(&ids, 0)?
            .add(&self.position.index_select(&positions, 0)?)?
            .add(&self.token_type.index_select(&types, 0)?)?;
        let mut x = self.embedding_norm.forward(&embedded)?;

        // Additive attention mask: 0 for tokens, a large negative number
        // for padding, so that softmax gives padding no weight.
        let mask: Vec<f32> = batch
            .mask
            .iter()
            .map(|&m| if m > 0.0 { 0.0 } else { -1e9 })
            .collect();
        let mask = Tensor::from_vec(mask, (rows, 1, 1, length), &device)?;

        for layer in &self.layers {
            x = self.layer(layer, &x, &mask, rows, length)?;
        }
        x.reshape((rows, length, self.hidden))
    }

    /// One encoder layer on `x` (`rows·length × hidden`).
    fn layer(
        &self,
        layer: &Layer,
        x: &Tensor,
        mask: &Tensor,
        rows: usize,
        length: usize,
    ) -> candle_core::Result<Tensor> {
        let qkv = layer
            .qkv
            .forward(x)?
            .reshape((rows, length, 3, self.heads, self.head_dim))?
            .permute((2, 0, 3, 1, 4))?;
        let q = qkv.get(0)?.contiguous()?;
        let k = qkv.get(1)?.contiguous()?;
        let v = qkv.get(2)?.contiguous()?;
        let scores = q.matmul(&k.t()?)?.broadcast_add(mask)?;
        let probabilities = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = probabilities
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((rows * length, self.hidden))?;
        let attended = layer
            .attention_norm
            .forward(&layer.attention_out.forward(&context)?.add(x)?)?;
        let inner = layer.intermediate.forward(&attended)?;
        let inner = match self.activation {
            Activation::GeluErf => inner.gelu_erf()?,
            Activation::GeluTanh => inner.gelu()?,
            Activation::Relu => inner.relu()?,
        };
        layer
            .output_norm
            .forward(&layer.output.forward(&inner)?.add(&attended)?)
    }
}

/// Pools token states (`rows × length × hidden`) into one vector per row.
pub(crate) fn pool(
    hidden: &Tensor,
    batch: &Batch,
    pooling: super::Pooling,
) -> candle_core::Result<Tensor> {
    use super::Pooling;
    let device = Device::Cpu;
    match pooling {
        Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1),
        Pooling::Mean | Pooling::MeanSqrtLength => {
            let mask = Tensor::from_slice(&batch.mask, (batch.rows, batch.length, 1), &device)?;
            let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
            let counts = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?;
            let counts = if pooling == Pooling::MeanSqrtLength {
                counts.sqrt()?
            } else {
                counts
            };
            summed.broadcast_div(&counts)
        }
        Pooling::Max => {
            let mask: Vec<f32> = batch
                .mask
                .iter()
                .map(|&m| if m > 0.0 { 0.0 } else { -1e9 })
                .collect();
            let mask = Tensor::from_vec(mask, (batch.rows, batch.length, 1), &device)?;
            hidden.broadcast_add(&mask)?.max(D::Minus2)
        }
    }
    .and_then(|t| t.to_dtype(DType::F32))
}
