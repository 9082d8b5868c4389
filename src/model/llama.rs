//! The llama architecture (SmolLM2, Llama, Mistral-style GGUF files): RMSNorm,
//! rotary attention with grouped key/value heads, SwiGLU feed-forward.
//!
//! Weights are immutable and shared; what a sequence owns (its KV cache)
//! lives in [`State`], so one model serves many sequences, batched together.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::gguf::Metadata;
use crate::model::kv::State;
use crate::model::ops::{self, add_in_place, rms_norm, Heads};
use crate::quant::{matmul_shared, Activations, Matrix, Weights};

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

/// Final norm and vocabulary projection of the rows that want logits: every
/// row of each segment with `all_logits`, else each segment's last row.
/// Shared by the architectures (their residual streams end in `b.x`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn output_logits(
    segments: &[Segment],
    b: &mut Scratch,
    dim: usize,
    output_norm: &[f32],
    norm_eps: f32,
    head: &Matrix,
    vocab_size: usize,
    all_logits: bool,
) -> Vec<f32> {
    let mut rows = Vec::new();
    let mut start = 0;
    for s in segments {
        let m = s.tokens.len();
        rows.extend(if all_logits { start..start + m } else { start + m - 1..start + m });
        start += m;
    }
    let picked: Vec<f32> = rows.iter().flat_map(|&r| b.x[r * dim..(r + 1) * dim].iter().copied()).collect();
    rms_norm(&picked, output_norm, norm_eps, &mut b.xn);
    b.acts.set(&b.xn, rows.len());
    let mut logits = vec![0f32; rows.len() * vocab_size];
    head.matmul(&mut b.acts, &mut logits);
    logits
}

/// Buffers reused across forward passes (sized for the largest batch seen).
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    pub(super) x: Vec<f32>,
    pub(super) xn: Vec<f32>,
    pub(super) acts: Activations,
    pub(super) q: Vec<f32>,
    pub(super) k: Vec<f32>,
    pub(super) v: Vec<f32>,
    pub(super) att: Vec<f32>,
    pub(super) scores: Vec<f32>,
    pub(super) proj: Vec<f32>,
    pub(super) gate: Vec<f32>,
    pub(super) up: Vec<f32>,
    pub(super) cos: Vec<f32>,
    pub(super) sin: Vec<f32>,
}

/// Tokens to run for one sequence in a batched forward pass.
pub struct Segment<'a> {
    pub tokens: &'a [u32],
    pub state: &'a mut State,
}

pub(super) fn vector(tensors: &mut HashMap<String, Matrix>, name: &str, len: usize) -> Result<Vec<f32>> {
    let m = take(tensors, name, len, 1)?;
    match m.weights {
        Weights::F32(v) => Ok(v),
        _ => Err(Error::MissingTensor(format!("'{name}' should be a float vector, is {}", m.format()))),
    }
}

pub(super) fn take(tensors: &mut HashMap<String, Matrix>, name: &str, cols: usize, rows: usize) -> Result<Matrix> {
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
        let inv_freq = crate::model::rope::inv_freq(c.rope_base, c.rope_dim);
        Ok(Llama { config, embedding, layers, output_norm, output, inv_freq })
    }

    pub fn new_state(&self) -> State {
        State::new(self.config.n_layer, self.config.n_kv_head, self.config.head_dim)
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

    /// Runs each segment's tokens at the next positions of its sequence, all
    /// sequences in one batch (shared matrix products, separate attention),
    /// and returns logits: per segment, for its last token only, or for every
    /// token when `all_logits`; segments in order, `vocab_size` values each.
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
        let (dim, kv_dim) = (c.dim, self.kv_dim());
        b.x.resize(n * dim, 0.0);
        for (row, &id) in segments.iter().flat_map(|s| s.tokens).enumerate() {
            self.embedding.row_f32(id as usize, &mut b.x[row * dim..(row + 1) * dim]);
        }
        self.rope_tables(segments, b);
        let heads = Heads { n_head: c.n_head, n_kv_head: c.n_kv_head, head_dim: c.head_dim };
        let scale = 1.0 / (c.head_dim as f32).sqrt();

        for (li, layer) in self.layers.iter().enumerate() {
            // Attention block.
            rms_norm(&b.x, &layer.attn_norm, c.norm_eps, &mut b.xn);
            b.acts.set(&b.xn, n);
            b.q.resize(n * dim, 0.0);
            b.k.resize(n * kv_dim, 0.0);
            b.v.resize(n * kv_dim, 0.0);
            matmul_shared(&mut [(&layer.wq, &mut b.q), (&layer.wk, &mut b.k), (&layer.wv, &mut b.v)], &mut b.acts);
            self.rotate(&mut b.q, c.n_head, &b.cos, &b.sin);
            self.rotate(&mut b.k, c.n_kv_head, &b.cos, &b.sin);
            append_and_attend(li, segments, heads, scale, None, b);
            b.acts.set(&b.att, n);
            b.proj.resize(n * dim, 0.0);
            layer.wo.matmul(&mut b.acts, &mut b.proj);
            add_in_place(&mut b.x, &b.proj);

            // Feed-forward block: down(silu(gate(x)) * up(x)).
            rms_norm(&b.x, &layer.ffn_norm, c.norm_eps, &mut b.xn);
            b.acts.set(&b.xn, n);
            b.gate.resize(n * c.ffn_dim, 0.0);
            b.up.resize(n * c.ffn_dim, 0.0);
            matmul_shared(&mut [(&layer.w_gate, &mut b.gate), (&layer.w_up, &mut b.up)], &mut b.acts);
            ops::silu_mul(&mut b.gate, &b.up, c.ffn_dim);
            b.acts.set(&b.gate, n);
            layer.w_down.matmul(&mut b.acts, &mut b.proj);
            add_in_place(&mut b.x, &b.proj);
        }
        // Every layer appended its rows; only now do the positions count
        // (attention above used `len()` as each segment's start).
        for s in segments.iter_mut() {
            s.state.advance(s.tokens.len());
        }

        let head = self.output.as_ref().unwrap_or(&self.embedding);
        Ok(output_logits(segments, b, dim, &self.output_norm, c.norm_eps, head, c.vocab_size, all_logits))
    }

    /// Cosines and sines of every new row's position.
    fn rope_tables(&self, segments: &[Segment], b: &mut Scratch) {
        b.cos.clear();
        b.sin.clear();
        for s in segments {
            let p0 = s.state.len();
            for t in 0..s.tokens.len() {
                let p = p0 + t;
                crate::model::rope::push_cos_sin(p, &self.inv_freq, &mut b.cos, &mut b.sin);
            }
        }
    }

    /// Rotates pairs `(2i, 2i+1)` of each head's first `rope_dim` dimensions
    /// (ggml's "normal" rope; GGUF llama weights are permuted for it).
    fn rotate(&self, x: &mut [f32], heads: usize, cos: &[f32], sin: &[f32]) {
        let hd = self.config.head_dim;
        let half = self.inv_freq.len();
        // A prompt's rows are rotated on every thread.
        crate::threads::rows_mut(x, heads * hd, &|first, x| {
            for (r, row) in x.chunks_exact_mut(heads * hd).enumerate() {
                let t = first + r;
                let (c, s) = (&cos[t * half..(t + 1) * half], &sin[t * half..(t + 1) * half]);
                for head in row.chunks_exact_mut(hd) {
                    for i in 0..half {
                        let (a, b) = (head[2 * i], head[2 * i + 1]);
                        head[2 * i] = a * c[i] - b * s[i];
                        head[2 * i + 1] = a * s[i] + b * c[i];
                    }
                }
            }
        });
    }
}

/// Appends layer `li`'s new keys and values (`b.k`, `b.v`: rows in segment
/// order) to each segment's cache, then runs every segment's queries (`b.q`)
/// through attention into `b.att` (one batch, [`ops::attention_batch`]).
pub(crate) fn append_and_attend(li: usize, segments: &mut [Segment], heads: Heads, scale: f32, window: Option<usize>, b: &mut Scratch) {
    let (q_dim, kv_dim) = (heads.n_head * heads.head_dim, heads.n_kv_head * heads.head_dim);
    let mut row = 0;
    for s in segments.iter_mut() {
        let m = s.tokens.len();
        s.state.append(li, &b.k[row * kv_dim..(row + m) * kv_dim], &b.v[row * kv_dim..(row + m) * kv_dim]);
        row += m;
    }
    b.att.resize(row * q_dim, 0.0);
    let mut row = 0;
    let parts: Vec<ops::AttentionSegment> = segments
        .iter()
        .map(|s| {
            let (m, p0) = (s.tokens.len(), s.state.len());
            let q = &b.q[row * q_dim..(row + m) * q_dim];
            row += m;
            ops::AttentionSegment { q, kv: s.state.layer(li), p0, n: m }
        })
        .collect();
    ops::attention_batch(heads, scale, &parts, window, &mut b.scores, &mut b.att);
}
