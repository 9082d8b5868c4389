//! The llama architecture (SmolLM2, Llama, Mistral-style GGUF files): RMSNorm,
//! rotary attention with grouped key/value heads, SwiGLU feed-forward.
//!
//! Weights are immutable and shared; everything a sequence owns (its KV cache
//! and scratch buffers) lives in [`State`], so one model serves many
//! sequences and a prompt's state can be cloned to start several variants.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::gguf::Metadata;
use crate::quant::{quantize_activations, BlockQ8, Matrix, Weights};

/// Hyper-parameters read from `llama.*` metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub n_layer: usize,
    /// Width of the residual stream.
    pub dim: usize,
    /// Width of the feed-forward hidden layer.
    pub ffn_dim: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    /// Leading dimensions of each head that are rotated.
    pub rope_dim: usize,
    pub rope_base: f32,
    pub norm_eps: f32,
    pub vocab_size: usize,
    /// Longest sequence this instance accepts (positions).
    pub context_length: usize,
}

impl Config {
    pub fn from_metadata(md: &Metadata, arch: &str, max_context: usize) -> Result<Config> {
        let key = |k: &str| format!("{arch}.{k}");
        let n_layer = md.usize_in(&key("block_count"), 1..=512)?;
        let dim = md.usize_in(&key("embedding_length"), 1..=65536)?;
        let ffn_dim = md.usize_in(&key("feed_forward_length"), 1..=262144)?;
        let n_head = md.usize_in(&key("attention.head_count"), 1..=1024)?;
        let n_kv_head = match md.get(&key("attention.head_count_kv")) {
            None => n_head,
            Some(_) => md.usize_in(&key("attention.head_count_kv"), 1..=n_head)?,
        };
        if dim % n_head != 0 || n_head % n_kv_head != 0 {
            return Err(Error::MissingMetadata(format!(
                "{arch}: embedding_length {dim}, head_count {n_head} and head_count_kv {n_kv_head} are inconsistent"
            )));
        }
        let head_dim = dim / n_head;
        let rope_dim = match md.get(&key("rope.dimension_count")) {
            None => head_dim,
            Some(_) => md.usize_in(&key("rope.dimension_count"), 2..=head_dim)?,
        };
        if rope_dim % 2 != 0 {
            return Err(Error::MissingMetadata(format!("{arch}.rope.dimension_count {rope_dim} is odd")));
        }
        if let Some(kind) = md.opt_str(&key("rope.scaling.type"))? {
            if kind != "none" {
                return Err(Error::UnsupportedArchitecture(format!("{arch} with rope scaling '{kind}'")));
            }
        }
        let rope_base = md.opt_f64(&key("rope.freq_base"))?.unwrap_or(10_000.0) as f32;
        let norm_eps = md.f64(&key("attention.layer_norm_rms_epsilon"))? as f32;
        if !(rope_base.is_finite() && rope_base > 1.0 && norm_eps.is_finite() && norm_eps >= 0.0) {
            return Err(Error::MissingMetadata(format!(
                "{arch}: rope.freq_base {rope_base} or layer_norm_rms_epsilon {norm_eps} out of range"
            )));
        }
        let trained_context = md.opt_u64(&key("context_length"))?.unwrap_or(2048).max(1);
        let context_length = (trained_context as usize).min(max_context);
        let vocab_size = match md.opt_u64(&key("vocab_size"))? {
            Some(v) => v as usize,
            None => md.array("tokenizer.ggml.tokens")?.len(),
        };
        Ok(Config {
            n_layer,
            dim,
            ffn_dim,
            n_head,
            n_kv_head,
            head_dim,
            rope_dim,
            rope_base,
            norm_eps,
            vocab_size,
            context_length,
        })
    }

    /// Every tensor the architecture reads, with its (cols, rows) shape.
    /// `output.weight` is optional: absent means tied to the embedding.
    pub fn tensor_shapes(&self) -> Vec<(String, usize, usize)> {
        let kv = self.n_kv_head * self.head_dim;
        let mut t = vec![
            ("token_embd.weight".to_string(), self.dim, self.vocab_size),
            ("output_norm.weight".to_string(), self.dim, 1),
        ];
        for i in 0..self.n_layer {
            let p = |n: &str| format!("blk.{i}.{n}.weight");
            t.extend([
                (p("attn_norm"), self.dim, 1),
                (p("attn_q"), self.dim, self.dim),
                (p("attn_k"), self.dim, kv),
                (p("attn_v"), self.dim, kv),
                (p("attn_output"), self.dim, self.dim),
                (p("ffn_norm"), self.dim, 1),
                (p("ffn_gate"), self.dim, self.ffn_dim),
                (p("ffn_up"), self.dim, self.ffn_dim),
                (p("ffn_down"), self.ffn_dim, self.dim),
            ]);
        }
        t
    }
}

#[derive(Debug, Clone)]
struct Layer {
    attn_norm: Vec<f32>,
    wq: Matrix,
    wk: Matrix,
    wv: Matrix,
    wo: Matrix,
    ffn_norm: Vec<f32>,
    w_gate: Matrix,
    w_up: Matrix,
    w_down: Matrix,
}

#[derive(Debug, Clone)]
pub struct Llama {
    pub config: Config,
    embedding: Matrix,
    layers: Vec<Layer>,
    output_norm: Vec<f32>,
    /// `None` when tied to `embedding`.
    output: Option<Matrix>,
    /// `1 / rope_base^(2i / rope_dim)` for each rotated pair `i`.
    inv_freq: Vec<f32>,
}

/// The per-sequence state: KV cache and reusable buffers.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Per layer, `[position][n_kv_head * head_dim]` keys (after rotation).
    k: Vec<Vec<f32>>,
    /// Per layer, `[position][n_kv_head * head_dim]` values.
    v: Vec<Vec<f32>>,
    /// Positions held in the cache.
    len: usize,
    buf: Buffers,
}

#[derive(Debug, Clone, Default)]
struct Buffers {
    x: Vec<f32>,
    xn: Vec<f32>,
    xq: Vec<BlockQ8>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    att: Vec<f32>,
    scores: Vec<f32>,
    proj: Vec<f32>,
    gate: Vec<f32>,
    up: Vec<f32>,
    cos: Vec<f32>,
    sin: Vec<f32>,
}

impl State {
    /// Number of positions already processed.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets positions from `len` on (keeps the prefix).
    pub fn truncate(&mut self, len: usize, kv_dim: usize) {
        if len < self.len {
            for (k, v) in self.k.iter_mut().zip(&mut self.v) {
                k.truncate(len * kv_dim);
                v.truncate(len * kv_dim);
            }
            self.len = len;
        }
    }

    /// Bytes held by the KV cache.
    pub fn cache_bytes(&self) -> usize {
        self.k.iter().chain(&self.v).map(|c| c.capacity() * 4).sum()
    }
}

fn vector(tensors: &mut HashMap<String, Matrix>, name: &str, len: usize) -> Result<Vec<f32>> {
    let m = take(tensors, name, len, 1)?;
    match m.weights {
        Weights::F32(v) => Ok(v),
        _ => Err(Error::MissingTensor(format!("'{name}' should be F32, is {}", m.format()))),
    }
}

fn take(tensors: &mut HashMap<String, Matrix>, name: &str, cols: usize, rows: usize) -> Result<Matrix> {
    let m = tensors.remove(name).ok_or_else(|| Error::MissingTensor(format!("'{name}' is missing")))?;
    if m.cols != cols || m.rows != rows {
        return Err(Error::MissingTensor(format!(
            "'{name}' is {}x{}, expected {rows}x{cols}",
            m.rows, m.cols
        )));
    }
    Ok(m)
}

impl Llama {
    /// Assembles the model from loaded tensors (consumed).
    pub fn new(config: Config, mut tensors: HashMap<String, Matrix>) -> Result<Llama> {
        let c = &config;
        let kv = c.n_kv_head * c.head_dim;
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
                wq: take(&mut tensors, &p("attn_q"), c.dim, c.dim)?,
                wk: take(&mut tensors, &p("attn_k"), c.dim, kv)?,
                wv: take(&mut tensors, &p("attn_v"), c.dim, kv)?,
                wo: take(&mut tensors, &p("attn_output"), c.dim, c.dim)?,
                ffn_norm: vector(&mut tensors, &p("ffn_norm"), c.dim)?,
                w_gate: take(&mut tensors, &p("ffn_gate"), c.dim, c.ffn_dim)?,
                w_up: take(&mut tensors, &p("ffn_up"), c.dim, c.ffn_dim)?,
                w_down: take(&mut tensors, &p("ffn_down"), c.ffn_dim, c.dim)?,
            });
        }
        let half = c.rope_dim / 2;
        // Computed in f64 then rounded: ggml derives the same angles in f32.
        let inv_freq =
            (0..half).map(|i| (c.rope_base as f64).powf(-2.0 * i as f64 / c.rope_dim as f64) as f32).collect();
        Ok(Llama { config, embedding, layers, output_norm, output, inv_freq })
    }

    pub fn new_state(&self) -> State {
        State { k: vec![Vec::new(); self.config.n_layer], v: vec![Vec::new(); self.config.n_layer], ..State::default() }
    }

    /// Bytes held by the weights.
    pub fn memory_bytes(&self) -> usize {
        let vecs = |v: &Vec<f32>| v.len() * 4;
        self.embedding.memory_bytes()
            + self.output.as_ref().map_or(0, Matrix::memory_bytes)
            + vecs(&self.output_norm)
            + self
                .layers
                .iter()
                .map(|l| {
                    vecs(&l.attn_norm)
                        + vecs(&l.ffn_norm)
                        + [&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down]
                            .iter()
                            .map(|m| m.memory_bytes())
                            .sum::<usize>()
                })
                .sum::<usize>()
    }

    pub fn kv_dim(&self) -> usize {
        self.config.n_kv_head * self.config.head_dim
    }

    /// Runs `tokens` at the next positions of `state` and returns logits:
    /// for the last token only (`vocab_size` values), or for every token
    /// (`tokens.len() * vocab_size`) when `all_logits`.
    pub fn forward(&self, tokens: &[u32], state: &mut State, all_logits: bool) -> Result<Vec<f32>> {
        let c = &self.config;
        let n = tokens.len();
        if n == 0 {
            return Err(Error::Internal("forward called with no tokens".into()));
        }
        let p0 = state.len;
        if p0 + n > c.context_length {
            return Err(Error::ContextOverflow { needed: p0 + n, limit: c.context_length });
        }
        if let Some(&bad) = tokens.iter().find(|&&t| t as usize >= c.vocab_size) {
            return Err(Error::Internal(format!("token id {bad} outside the vocabulary of {}", c.vocab_size)));
        }
        let (dim, kv_dim) = (c.dim, self.kv_dim());
        let b = &mut state.buf;
        b.x.resize(n * dim, 0.0);
        for (t, &id) in tokens.iter().enumerate() {
            self.embedding.row_f32(id as usize, &mut b.x[t * dim..(t + 1) * dim]);
        }
        self.rope_tables(p0, n, b);

        for (li, layer) in self.layers.iter().enumerate() {
            // Attention block.
            rms_norm(&b.x, &layer.attn_norm, c.norm_eps, &mut b.xn);
            quantize_activations(&b.xn, &mut b.xq);
            b.q.resize(n * dim, 0.0);
            b.k.resize(n * kv_dim, 0.0);
            b.v.resize(n * kv_dim, 0.0);
            layer.wq.matmul(&b.xq, &b.xn, n, &mut b.q);
            layer.wk.matmul(&b.xq, &b.xn, n, &mut b.k);
            layer.wv.matmul(&b.xq, &b.xn, n, &mut b.v);
            self.rotate(&mut b.q, c.n_head, &b.cos, &b.sin);
            self.rotate(&mut b.k, c.n_kv_head, &b.cos, &b.sin);
            state.k[li].extend_from_slice(&b.k);
            state.v[li].extend_from_slice(&b.v);
            attention(c, &b.q, &state.k[li], &state.v[li], p0, n, &mut b.scores, &mut b.att);
            quantize_activations(&b.att, &mut b.xq);
            b.proj.resize(n * dim, 0.0);
            layer.wo.matmul(&b.xq, &b.att, n, &mut b.proj);
            add_in_place(&mut b.x, &b.proj);

            // Feed-forward block: down(silu(gate(x)) * up(x)).
            rms_norm(&b.x, &layer.ffn_norm, c.norm_eps, &mut b.xn);
            quantize_activations(&b.xn, &mut b.xq);
            b.gate.resize(n * c.ffn_dim, 0.0);
            b.up.resize(n * c.ffn_dim, 0.0);
            layer.w_gate.matmul(&b.xq, &b.xn, n, &mut b.gate);
            layer.w_up.matmul(&b.xq, &b.xn, n, &mut b.up);
            for (g, u) in b.gate.iter_mut().zip(&b.up) {
                *g = *g / (1.0 + (-*g).exp()) * u;
            }
            quantize_activations(&b.gate, &mut b.xq);
            layer.w_down.matmul(&b.xq, &b.gate, n, &mut b.proj);
            add_in_place(&mut b.x, &b.proj);
        }
        state.len = p0 + n;

        let rows = if all_logits { 0..n } else { n - 1..n };
        let first = rows.start;
        let m = rows.len();
        rms_norm(&b.x[first * dim..], &self.output_norm, c.norm_eps, &mut b.xn);
        quantize_activations(&b.xn, &mut b.xq);
        let mut logits = vec![0f32; m * c.vocab_size];
        let head = self.output.as_ref().unwrap_or(&self.embedding);
        head.matmul(&b.xq, &b.xn, m, &mut logits);
        Ok(logits)
    }

    fn rope_tables(&self, p0: usize, n: usize, b: &mut Buffers) {
        let half = self.inv_freq.len();
        b.cos.clear();
        b.sin.clear();
        for t in 0..n {
            let p = (p0 + t) as f64;
            for &f in &self.inv_freq {
                let angle = p * f as f64;
                b.cos.push(angle.cos() as f32);
                b.sin.push(angle.sin() as f32);
            }
        }
        debug_assert_eq!(b.cos.len(), n * half);
    }

    /// Rotates pairs `(2i, 2i+1)` of each head's first `rope_dim` dimensions
    /// (ggml's "normal" rope; GGUF llama weights are permuted for it).
    fn rotate(&self, x: &mut [f32], heads: usize, cos: &[f32], sin: &[f32]) {
        let hd = self.config.head_dim;
        let half = self.inv_freq.len();
        for (t, row) in x.chunks_exact_mut(heads * hd).enumerate() {
            let (c, s) = (&cos[t * half..(t + 1) * half], &sin[t * half..(t + 1) * half]);
            for head in row.chunks_exact_mut(hd) {
                for i in 0..half {
                    let (a, b) = (head[2 * i], head[2 * i + 1]);
                    head[2 * i] = a * c[i] - b * s[i];
                    head[2 * i + 1] = a * s[i] + b * c[i];
                }
            }
        }
    }
}

fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut Vec<f32>) {
    let dim = weight.len();
    out.resize(x.len(), 0.0);
    for (row, o) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
        let mean_sq = row.iter().map(|v| v * v).sum::<f32>() / dim as f32;
        let scale = 1.0 / (mean_sq + eps).sqrt();
        for ((o, &v), &w) in o.iter_mut().zip(row).zip(weight) {
            *o = v * scale * w;
        }
    }
}

fn add_in_place(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

/// Causal attention of `n` new queries (positions `p0..p0+n`) over the cache.
#[allow(clippy::too_many_arguments)]
fn attention(c: &Config, q: &[f32], k: &[f32], v: &[f32], p0: usize, n: usize, scores: &mut Vec<f32>, out: &mut Vec<f32>) {
    let (hd, kv_dim) = (c.head_dim, c.n_kv_head * c.head_dim);
    let group = c.n_head / c.n_kv_head;
    let scale = 1.0 / (hd as f32).sqrt();
    out.clear();
    out.resize(n * c.dim, 0.0);
    for t in 0..n {
        let visible = p0 + t + 1;
        scores.resize(visible, 0.0);
        for h in 0..c.n_head {
            let kv_off = (h / group) * hd;
            let qh = &q[t * c.dim + h * hd..t * c.dim + (h + 1) * hd];
            let mut max = f32::NEG_INFINITY;
            for (j, s) in scores.iter_mut().enumerate() {
                let kj = &k[j * kv_dim + kv_off..j * kv_dim + kv_off + hd];
                *s = crate::quant::dot_f32(qh, kj) * scale;
                max = max.max(*s);
            }
            let mut sum = 0.0;
            for s in scores.iter_mut() {
                *s = (*s - max).exp();
                sum += *s;
            }
            let inv = 1.0 / sum;
            let oh = &mut out[t * c.dim + h * hd..t * c.dim + (h + 1) * hd];
            for (j, &s) in scores.iter().enumerate() {
                let w = s * inv;
                let vj = &v[j * kv_dim + kv_off..j * kv_dim + kv_off + hd];
                for (o, &x) in oh.iter_mut().zip(vj) {
                    *o += w * x;
                }
            }
        }
    }
}
