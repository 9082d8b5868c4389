//! The Gemma 3 architecture (multilingual; Gemma 3 270M), as llama.cpp's
//! `llm_build_gemma3_iswa`: embeddings scaled by sqrt(dim); per layer RMSNorm
//! before and after both attention and feed-forward; RMSNorm of each query
//! and key head; NEOX-style rotation; five sliding-window layers (window from
//! metadata, rope base 10 000) for every global one (rope base from
//! metadata); GeGLU feed-forward; output tied to the embedding.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::gguf::Metadata;
use crate::model::kv::State;
use crate::model::llama::{append_and_attend, output_logits, take, vector, Scratch, Segment};
use crate::model::ops::{self, add_in_place, rms_norm, Heads};
use crate::quant::{matmul_shared, Matrix};

/// Every `SWA_PATTERN`-th layer is global, the others slide (llama.cpp
/// `set_swa_pattern(6)` for Gemma 3; the GGUF does not store it).
const SWA_PATTERN: usize = 6;
/// Rope base of the sliding-window layers (llama.cpp `rope_freq_base_train_swa`).
const LOCAL_ROPE_BASE: f32 = 10_000.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub n_layer: usize,
    pub dim: usize,
    pub ffn_dim: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    /// Key, query and value width per head (Gemma's `key_length`).
    pub head_dim: usize,
    pub rope_base: f32,
    pub norm_eps: f32,
    pub sliding_window: usize,
    pub vocab_size: usize,
    pub context_length: usize,
}

impl Config {
    pub fn from_metadata(md: &Metadata, max_context: usize) -> Result<Config> {
        let key = |k: &str| format!("gemma3.{k}");
        let n_layer = md.usize_in(&key("block_count"), 1..=512)?;
        let dim = md.usize_in(&key("embedding_length"), 1..=65536)?;
        let ffn_dim = md.usize_in(&key("feed_forward_length"), 1..=262144)?;
        let n_head = md.usize_in(&key("attention.head_count"), 1..=1024)?;
        let n_kv_head = md.usize_in(&key("attention.head_count_kv"), 1..=n_head)?;
        let head_dim = md.usize_in(&key("attention.key_length"), 2..=4096)?;
        let value_dim = md.usize_in(&key("attention.value_length"), 2..=4096)?;
        if value_dim != head_dim || head_dim % 2 != 0 || n_head % n_kv_head != 0 {
            return Err(Error::MissingMetadata(format!(
                "gemma3: key_length {head_dim}, value_length {value_dim}, heads {n_head}/{n_kv_head} are inconsistent"
            )));
        }
        let rope_base = md.opt_f64(&key("rope.freq_base"))?.unwrap_or(1_000_000.0) as f32;
        let norm_eps = md.f64(&key("attention.layer_norm_rms_epsilon"))? as f32;
        if !(rope_base.is_finite() && rope_base > 1.0 && norm_eps.is_finite() && norm_eps >= 0.0) {
            return Err(Error::MissingMetadata(format!(
                "gemma3: rope.freq_base {rope_base} or layer_norm_rms_epsilon {norm_eps} out of range"
            )));
        }
        let sliding_window = md.usize_in(&key("attention.sliding_window"), 1..=1 << 20)?;
        let trained_context = md.opt_u64(&key("context_length"))?.unwrap_or(8192).max(1);
        let vocab_size = md.array("tokenizer.ggml.tokens")?.len();
        Ok(Config {
            n_layer,
            dim,
            ffn_dim,
            n_head,
            n_kv_head,
            head_dim,
            rope_base,
            norm_eps,
            sliding_window,
            vocab_size,
            context_length: (trained_context as usize).min(max_context),
        })
    }

    /// Every tensor the architecture reads, with its (cols, rows) shape.
    pub fn tensor_shapes(&self) -> Vec<(String, usize, usize)> {
        let (q, kv) = (self.n_head * self.head_dim, self.n_kv_head * self.head_dim);
        let mut t = vec![
            ("token_embd.weight".to_string(), self.dim, self.vocab_size),
            ("output_norm.weight".to_string(), self.dim, 1),
        ];
        for i in 0..self.n_layer {
            let p = |n: &str| format!("blk.{i}.{n}.weight");
            t.extend([
                (p("attn_norm"), self.dim, 1),
                (p("attn_q"), self.dim, q),
                (p("attn_k"), self.dim, kv),
                (p("attn_v"), self.dim, kv),
                (p("attn_q_norm"), self.head_dim, 1),
                (p("attn_k_norm"), self.head_dim, 1),
                (p("attn_output"), q, self.dim),
                (p("post_attention_norm"), self.dim, 1),
                (p("ffn_norm"), self.dim, 1),
                (p("ffn_gate"), self.dim, self.ffn_dim),
                (p("ffn_up"), self.dim, self.ffn_dim),
                (p("ffn_down"), self.ffn_dim, self.dim),
                (p("post_ffw_norm"), self.dim, 1),
            ]);
        }
        t
    }

    fn is_sliding(&self, layer: usize) -> bool {
        (layer + 1) % SWA_PATTERN != 0
    }
}

#[derive(Debug, Clone)]
struct Layer {
    attn_norm: Vec<f32>,
    wq: Matrix,
    wk: Matrix,
    wv: Matrix,
    q_norm: Vec<f32>,
    k_norm: Vec<f32>,
    wo: Matrix,
    post_attn_norm: Vec<f32>,
    ffn_norm: Vec<f32>,
    w_gate: Matrix,
    w_up: Matrix,
    w_down: Matrix,
    post_ffn_norm: Vec<f32>,
}

#[derive(Debug, Clone)]
pub struct Gemma3 {
    pub config: Config,
    embedding: Matrix,
    layers: Vec<Layer>,
    output_norm: Vec<f32>,
    output: Option<Matrix>,
    /// Per rotated pair `i`: `1 / base^(2i / head_dim)` for global and sliding layers.
    inv_freq_global: Vec<f32>,
    inv_freq_local: Vec<f32>,
}

use crate::model::rope::inv_freq;

impl Gemma3 {
    pub fn new(config: Config, mut tensors: HashMap<String, Matrix>) -> Result<Gemma3> {
        let c = &config;
        let (q, kv) = (c.n_head * c.head_dim, c.n_kv_head * c.head_dim);
        let embedding = take(&mut tensors, "token_embd.weight", c.dim, c.vocab_size)?;
        let output = match tensors.contains_key("output.weight") {
            true => Some(take(&mut tensors, "output.weight", c.dim, c.vocab_size)?),
            false => None,
        };
        let output_norm = vector(&mut tensors, "output_norm.weight", c.dim)?;
        let mut layers = Vec::with_capacity(c.n_layer);
        for i in 0..c.n_layer {
            let p = |n: &str| format!("blk.{i}.{n}.weight");
            layers.push(Layer {
                attn_norm: vector(&mut tensors, &p("attn_norm"), c.dim)?,
                wq: take(&mut tensors, &p("attn_q"), c.dim, q)?,
                wk: take(&mut tensors, &p("attn_k"), c.dim, kv)?,
                wv: take(&mut tensors, &p("attn_v"), c.dim, kv)?,
                q_norm: vector(&mut tensors, &p("attn_q_norm"), c.head_dim)?,
                k_norm: vector(&mut tensors, &p("attn_k_norm"), c.head_dim)?,
                wo: take(&mut tensors, &p("attn_output"), q, c.dim)?,
                post_attn_norm: vector(&mut tensors, &p("post_attention_norm"), c.dim)?,
                ffn_norm: vector(&mut tensors, &p("ffn_norm"), c.dim)?,
                w_gate: take(&mut tensors, &p("ffn_gate"), c.dim, c.ffn_dim)?,
                w_up: take(&mut tensors, &p("ffn_up"), c.dim, c.ffn_dim)?,
                w_down: take(&mut tensors, &p("ffn_down"), c.ffn_dim, c.dim)?,
                post_ffn_norm: vector(&mut tensors, &p("post_ffw_norm"), c.dim)?,
            });
        }
        let inv_freq_global = inv_freq(c.rope_base, c.head_dim);
        let inv_freq_local = inv_freq(LOCAL_ROPE_BASE, c.head_dim);
        Ok(Gemma3 { config, embedding, layers, output_norm, output, inv_freq_global, inv_freq_local })
    }

    pub fn kv_dim(&self) -> usize {
        self.config.n_kv_head * self.config.head_dim
    }

    pub fn new_state(&self) -> State {
        State::new(self.config.n_layer, self.config.n_kv_head, self.config.head_dim)
    }

    pub fn memory_bytes(&self) -> usize {
        let v = |x: &Vec<f32>| x.len() * 4;
        self.embedding.memory_bytes()
            + self.output.as_ref().map_or(0, Matrix::memory_bytes)
            + v(&self.output_norm)
            + self
                .layers
                .iter()
                .map(|l| {
                    [&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down].iter().map(|m| m.memory_bytes()).sum::<usize>()
                        + [&l.attn_norm, &l.q_norm, &l.k_norm, &l.post_attn_norm, &l.ffn_norm, &l.post_ffn_norm]
                            .iter()
                            .map(|x| v(x))
                            .sum::<usize>()
                })
                .sum::<usize>()
    }

    /// As [`crate::model::llama::Llama::forward`]: every segment's tokens in
    /// one batch; logits for each segment's last token (or every token).
    pub fn forward(&self, segments: &mut [Segment], b: &mut Scratch, all_logits: bool) -> Result<Vec<f32>> {
        let c = &self.config;
        let n: usize = segments.iter().map(|s| s.tokens.len()).sum();
        if segments.iter().any(|s| s.tokens.is_empty()) {
            return Err(Error::Internal("forward called with an empty segment".into()));
        }
        for s in segments.iter() {
            let needed = s.state.len() + s.tokens.len();
            if needed > c.context_length {
                return Err(Error::ContextOverflow { needed, limit: c.context_length });
            }
            if let Some(&bad) = s.tokens.iter().find(|&&t| t as usize >= c.vocab_size) {
                return Err(Error::Internal(format!("token id {bad} outside the vocabulary of {}", c.vocab_size)));
            }
        }
        let (dim, hd) = (c.dim, c.head_dim);
        let (q_dim, kv_dim) = (c.n_head * hd, self.kv_dim());
        let embed_scale = (dim as f32).sqrt();
        b.x.resize(n * dim, 0.0);
        for (row, &id) in segments.iter().flat_map(|s| s.tokens).enumerate() {
            let x = &mut b.x[row * dim..(row + 1) * dim];
            self.embedding.row_f32(id as usize, x);
            x.iter_mut().for_each(|v| *v *= embed_scale);
        }
        let positions: Vec<usize> =
            segments.iter().flat_map(|s| (0..s.tokens.len()).map(move |t| s.state.len() + t)).collect();
        let heads = Heads { n_head: c.n_head, n_kv_head: c.n_kv_head, head_dim: hd };
        // Queries are scaled by 1/sqrt(head_dim) (llama.cpp `f_attention_scale`).
        let scale = 1.0 / (hd as f32).sqrt();
        let mut head_norm = Vec::new();

        for (li, layer) in self.layers.iter().enumerate() {
            let sliding = c.is_sliding(li);
            rms_norm(&b.x, &layer.attn_norm, c.norm_eps, &mut b.xn);
            b.acts.set(&b.xn, n);
            b.q.resize(n * q_dim, 0.0);
            b.k.resize(n * kv_dim, 0.0);
            b.v.resize(n * kv_dim, 0.0);
            matmul_shared(&mut [(&layer.wq, &mut b.q), (&layer.wk, &mut b.k), (&layer.wv, &mut b.v)], &mut b.acts);
            rms_norm(&b.q, &layer.q_norm, c.norm_eps, &mut head_norm);
            std::mem::swap(&mut b.q, &mut head_norm);
            rms_norm(&b.k, &layer.k_norm, c.norm_eps, &mut head_norm);
            std::mem::swap(&mut b.k, &mut head_norm);
            let inv_freq = if sliding { &self.inv_freq_local } else { &self.inv_freq_global };
            rotate_neox(&mut b.q, hd, &positions, inv_freq);
            rotate_neox(&mut b.k, hd, &positions, inv_freq);
            let window = sliding.then_some(c.sliding_window);
            append_and_attend(li, segments, heads, scale, window, b);
            b.acts.set(&b.att, n);
            b.proj.resize(n * dim, 0.0);
            layer.wo.matmul(&mut b.acts, &mut b.proj);
            rms_norm(&b.proj, &layer.post_attn_norm, c.norm_eps, &mut b.xn);
            add_in_place(&mut b.x, &b.xn);

            rms_norm(&b.x, &layer.ffn_norm, c.norm_eps, &mut b.xn);
            b.acts.set(&b.xn, n);
            b.gate.resize(n * c.ffn_dim, 0.0);
            b.up.resize(n * c.ffn_dim, 0.0);
            matmul_shared(&mut [(&layer.w_gate, &mut b.gate), (&layer.w_up, &mut b.up)], &mut b.acts);
            ops::gelu_mul(&mut b.gate, &b.up, c.ffn_dim);
            b.acts.set(&b.gate, n);
            layer.w_down.matmul(&mut b.acts, &mut b.proj);
            rms_norm(&b.proj, &layer.post_ffn_norm, c.norm_eps, &mut b.xn);
            add_in_place(&mut b.x, &b.xn);
        }
        for s in segments.iter_mut() {
            s.state.advance(s.tokens.len());
        }

        let head = self.output.as_ref().unwrap_or(&self.embedding);
        Ok(output_logits(segments, b, dim, &self.output_norm, c.norm_eps, head, c.vocab_size, all_logits))
    }
}

/// Rotates pairs `(i, i + head_dim/2)` of every head in every row (ggml's
/// NEOX rope), row `r` at position `positions[r]`.
fn rotate_neox(x: &mut [f32], head_dim: usize, positions: &[usize], inv_freq: &[f32]) {
    let half = head_dim / 2;
    let row_len = x.len() / positions.len().max(1);
    let mut cos = Vec::with_capacity(half);
    let mut sin = Vec::with_capacity(half);
    for (row, &p) in x.chunks_exact_mut(row_len).zip(positions) {
        cos.clear();
        sin.clear();
        crate::model::rope::push_cos_sin(p, inv_freq, &mut cos, &mut sin);
        for head in row.chunks_exact_mut(head_dim) {
            let (a, b) = head.split_at_mut(half);
            for i in 0..half {
                let (x0, x1) = (a[i], b[i]);
                a[i] = x0 * cos[i] - x1 * sin[i];
                b[i] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}
