//! The transformer encoder shared by BERT and XLM-RoBERTa: embeddings,
//! N layers of self-attention and feed-forward, on plain `f32` buffers.
//!
//! The two families differ only in their embeddings: XLM-RoBERTa counts
//! positions from `pad_token_id + 1` and has a single token type.
//!
//! Texts are not padded: a batch is its texts' tokens one after another,
//! the dense layers run on all of them at once, and attention runs per
//! text over its own tokens. Padding tokens would be masked out of every
//! real token's attention anyway, so the result is the same as a padded
//! batch, without the work on padding. Query, key and value projections are
//! one matrix, the attention scale is folded into the query weights, and
//! biases and residuals are written into the output before the matrix
//! product adds to them.

use serde::Deserialize;

use super::Pooling;
use super::kernels::{self, View, matmul};
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

/// A dense layer, its weight stored transposed (`inputs × outputs`,
/// row-major) so that `x · W` reads both operands along rows.
struct Linear {
    weight_t: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

impl Linear {
    /// From a Hugging Face weight (`outputs × inputs`) and bias.
    fn new(weight: &[f32], bias: Vec<f32>, outputs: usize, inputs: usize) -> Linear {
        let mut weight_t = vec![0.0; inputs * outputs];
        for o in 0..outputs {
            for i in 0..inputs {
                weight_t[i * outputs + o] = weight[o * inputs + i];
            }
        }
        Linear {
            weight_t,
            bias,
            inputs,
            outputs,
        }
    }

    fn load(
        weights: &Weights,
        name: &str,
        outputs: usize,
        inputs: usize,
    ) -> Result<Linear, EmbedError> {
        let weight = weights.matrix(&format!("{name}.weight"), outputs, inputs)?;
        let bias = weights.vector(&format!("{name}.bias"), outputs)?;
        Ok(Linear::new(&weight, bias, outputs, inputs))
    }

    /// `out = out + x · W` for `tokens` rows; `out` holds the bias (and a
    /// residual) already.
    fn accumulate(&self, x: &[f32], tokens: usize, out: &mut [f32], threads: usize) {
        matmul(
            out,
            self.outputs,
            true,
            View {
                data: x,
                rows: tokens,
                cols: self.inputs,
                row_stride: self.inputs,
                col_stride: 1,
            },
            View {
                data: &self.weight_t,
                rows: self.inputs,
                cols: self.outputs,
                row_stride: self.outputs,
                col_stride: 1,
            },
            threads,
        );
    }

    /// Fills each row of `out` with the bias.
    fn fill_bias(&self, out: &mut [f32]) {
        for row in out.chunks_exact_mut(self.outputs) {
            row.copy_from_slice(&self.bias);
        }
    }
}

struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl LayerNorm {
    fn load(
        weights: &Weights,
        name: &str,
        width: usize,
        eps: f64,
    ) -> Result<LayerNorm, EmbedError> {
        Ok(LayerNorm {
            weight: weights.vector_any(
                &[&format!("{name}.weight"), &format!("{name}.gamma")],
                width,
            )?,
            bias: weights.vector_any(&[&format!("{name}.bias"), &format!("{name}.beta")], width)?,
            eps: eps as f32,
        })
    }

    fn apply(&self, x: &mut [f32]) {
        kernels::layer_norm(x, &self.weight, &self.bias, self.eps);
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
    word: Vec<f32>,
    position: Vec<f32>,
    positions: usize,
    token_type: Vec<f32>,
    token_types: usize,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    head_dim: usize,
    hidden: usize,
    intermediate: usize,
    pad_id: u32,
    activation: Activation,
}

/// One tokenized text.
pub(crate) struct Tokens<'a> {
    pub ids: &'a [u32],
    pub type_ids: &'a [u32],
}

impl Encoder {
    pub(crate) fn load(
        config: &Config,
        family: Family,
        weights: &Weights,
    ) -> Result<Encoder, EmbedError> {
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
        let word = weights.matrix(
            "embeddings.word_embeddings.weight",
            config.vocab_size,
            hidden,
        )?;
        let (positions, _) = weights.shape2("embeddings.position_embeddings.weight")?;
        let position =
            weights.matrix("embeddings.position_embeddings.weight", positions, hidden)?;
        let (token_types, _) = weights.shape2("embeddings.token_type_embeddings.weight")?;
        let token_type = weights.matrix(
            "embeddings.token_type_embeddings.weight",
            token_types,
            hidden,
        )?;
        let (intermediate, _) = weights.shape2("encoder.layer.0.intermediate.dense.weight")?;

        let scale = 1.0 / (head_dim as f32).sqrt();
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            let part =
                |n: &str| weights.matrix(&format!("{p}.attention.self.{n}.weight"), hidden, hidden);
            let bias = |n: &str| weights.vector(&format!("{p}.attention.self.{n}.bias"), hidden);
            let mut qkv_weight: Vec<f32> = part("query")?.iter().map(|v| v * scale).collect();
            qkv_weight.extend(part("key")?);
            qkv_weight.extend(part("value")?);
            let mut qkv_bias: Vec<f32> = bias("query")?.iter().map(|v| v * scale).collect();
            qkv_bias.extend(bias("key")?);
            qkv_bias.extend(bias("value")?);
            layers.push(Layer {
                qkv: Linear::new(&qkv_weight, qkv_bias, 3 * hidden, hidden),
                attention_out: Linear::load(
                    weights,
                    &format!("{p}.attention.output.dense"),
                    hidden,
                    hidden,
                )?,
                attention_norm: LayerNorm::load(
                    weights,
                    &format!("{p}.attention.output.LayerNorm"),
                    hidden,
                    eps,
                )?,
                intermediate: Linear::load(
                    weights,
                    &format!("{p}.intermediate.dense"),
                    intermediate,
                    hidden,
                )?,
                output: Linear::load(weights, &format!("{p}.output.dense"), hidden, intermediate)?,
                output_norm: LayerNorm::load(
                    weights,
                    &format!("{p}.output.LayerNorm"),
                    hidden,
                    eps,
                )?,
            });
        }
        Ok(Encoder {
            family,
            word,
            position,
            positions,
            token_type,
            token_types,
            embedding_norm: LayerNorm::load(weights, "embeddings.LayerNorm", hidden, eps)?,
            layers,
            heads,
            head_dim,
            hidden,
            intermediate,
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

    /// One pooled, unit-length vector per text. `threads > 1` lets the
    /// matrix products use that many threads of the current rayon pool.
    pub(crate) fn embed(
        &self,
        texts: &[Tokens<'_>],
        pooling: Pooling,
        threads: usize,
    ) -> Vec<Vec<f32>> {
        let h = self.hidden;
        let tokens: usize = texts.iter().map(|t| t.ids.len()).sum();
        let mut x = vec![0.0f32; tokens * h];
        self.embeddings(texts, &mut x);

        let mut qkv = vec![0.0f32; tokens * 3 * h];
        let mut context = vec![0.0f32; tokens * h];
        let mut attended = vec![0.0f32; tokens * h];
        let mut inner = vec![0.0f32; tokens * self.intermediate];
        let longest = texts.iter().map(|t| t.ids.len()).max().unwrap_or(0);
        let mut scores = vec![0.0f32; longest * longest];
        for layer in &self.layers {
            layer.qkv.fill_bias(&mut qkv);
            layer.qkv.accumulate(&x, tokens, &mut qkv, threads);
            self.attention(texts, &qkv, &mut context, &mut scores);

            attended.copy_from_slice(&x);
            for row in attended.chunks_exact_mut(h) {
                row.iter_mut()
                    .zip(&layer.attention_out.bias)
                    .for_each(|(v, b)| *v += b);
            }
            layer
                .attention_out
                .accumulate(&context, tokens, &mut attended, threads);
            layer.attention_norm.apply(&mut attended);

            layer.intermediate.fill_bias(&mut inner);
            layer
                .intermediate
                .accumulate(&attended, tokens, &mut inner, threads);
            match self.activation {
                Activation::GeluErf => kernels::gelu_erf(&mut inner),
                Activation::GeluTanh => kernels::gelu_tanh(&mut inner),
                Activation::Relu => kernels::relu(&mut inner),
            }

            x.copy_from_slice(&attended);
            for row in x.chunks_exact_mut(h) {
                row.iter_mut()
                    .zip(&layer.output.bias)
                    .for_each(|(v, b)| *v += b);
            }
            layer.output.accumulate(&inner, tokens, &mut x, threads);
            layer.output_norm.apply(&mut x);
        }
        self.pool(texts, &x, pooling)
    }

    /// Word + position + token-type embeddings, normalised, into `x`.
    fn embeddings(&self, texts: &[Tokens<'_>], x: &mut [f32]) {
        let h = self.hidden;
        fn row(table: &[f32], width: usize, rows: usize, index: usize) -> &[f32] {
            let index = index.min(rows - 1);
            &table[index * width..(index + 1) * width]
        }
        let vocab = self.word.len() / h;
        let mut out = x.chunks_exact_mut(h);
        for text in texts {
            for (i, (&id, &type_id)) in text.ids.iter().zip(text.type_ids).enumerate() {
                let position = match self.family {
                    Family::Bert => i,
                    Family::XlmRoberta => self.pad_id as usize + 1 + i,
                };
                let target = out.next().expect("x has a row per token");
                let word = row(&self.word, h, vocab, id as usize);
                let position = row(&self.position, h, self.positions, position);
                let kind = row(&self.token_type, h, self.token_types, type_id as usize);
                for j in 0..h {
                    target[j] = word[j] + position[j] + kind[j];
                }
            }
        }
        self.embedding_norm.apply(x);
    }

    /// Self-attention of each text over its own tokens; writes each head's
    /// result into its columns of `context`.
    fn attention(
        &self,
        texts: &[Tokens<'_>],
        qkv: &[f32],
        context: &mut [f32],
        scores: &mut [f32],
    ) {
        let (h, d) = (self.hidden, self.head_dim);
        let mut start = 0;
        for text in texts {
            let n = text.ids.len();
            let block = &qkv[start * 3 * h..(start + n) * 3 * h];
            let out = &mut context[start * h..(start + n) * h];
            let scores = &mut scores[..n * n];
            for head in 0..self.heads {
                let q = &block[head * d..];
                let k = &block[h + head * d..];
                let v = &block[2 * h + head * d..];
                // scores = Q · Kᵀ: K read transposed through its strides.
                matmul(
                    scores,
                    n,
                    false,
                    View {
                        data: q,
                        rows: n,
                        cols: d,
                        row_stride: 3 * h,
                        col_stride: 1,
                    },
                    View {
                        data: k,
                        rows: d,
                        cols: n,
                        row_stride: 1,
                        col_stride: 3 * h,
                    },
                    1,
                );
                kernels::softmax_rows(scores, n);
                matmul(
                    &mut out[head * d..],
                    h,
                    false,
                    View {
                        data: scores,
                        rows: n,
                        cols: n,
                        row_stride: n,
                        col_stride: 1,
                    },
                    View {
                        data: v,
                        rows: n,
                        cols: d,
                        row_stride: 3 * h,
                        col_stride: 1,
                    },
                    1,
                );
            }
            start += n;
        }
    }

    fn pool(&self, texts: &[Tokens<'_>], x: &[f32], pooling: Pooling) -> Vec<Vec<f32>> {
        let h = self.hidden;
        let mut start = 0;
        let mut out = Vec::with_capacity(texts.len());
        for text in texts {
            let n = text.ids.len();
            let rows = &x[start * h..(start + n) * h];
            if n == 0 {
                out.push(vec![0.0; h]);
                continue;
            }
            let mut vector = match pooling {
                Pooling::Cls => rows[..h].to_vec(),
                Pooling::Mean | Pooling::MeanSqrtLength => {
                    let mut sum = vec![0.0f32; h];
                    for row in rows.chunks_exact(h) {
                        sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
                    }
                    let divisor = if pooling == Pooling::Mean {
                        n as f32
                    } else {
                        (n as f32).sqrt()
                    };
                    sum.iter_mut().for_each(|s| *s /= divisor.max(1e-9));
                    sum
                }
                Pooling::Max => {
                    let mut max = vec![f32::NEG_INFINITY; h];
                    for row in rows.chunks_exact(h) {
                        max.iter_mut().zip(row).for_each(|(m, v)| *m = m.max(*v));
                    }
                    max
                }
            };
            crate::normalize(&mut vector);
            out.push(vector);
            start += n;
        }
        out
    }
}
