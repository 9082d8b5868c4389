//! Weight matrices, repacked at load time for fast integer matrix-vector
//! products, and the kernels over them.
//!
//! Every quantized matrix is stored four rows at a time ("x4" groups): for
//! each 32-column block, the four rows' scales sit in one `f32x4` and their
//! values are interleaved so that one SIMD dot-product instruction yields a
//! partial sum for each of the four rows. Scales are `f32` (the files store
//! `f16`, whose software conversion on wasm would cost more than the maths).
//!
//! - 4-bit formats (`Q4_0`, `Q4_1`) become [`Q4x4`]: `w = d * q + m`, q in 0..=15
//!   (`Q4_0`'s `d * (q - 8)` is `m = -8d`). Activations are 8-bit.
//! - 8-bit weights (`Q8_0`, and every other ggml type, converted) become
//!   [`Q8x4`], stored offset by 128 (`u = w + 128`): the relaxed-SIMD dot
//!   product wants one operand in 0..=127, so it multiplies the two nibbles
//!   of `u` separately, `x·w = 16·x·(u>>4) + x·(u&15) - 128·sum(x)`.
//!
//! Activations are 8-bit with per-block scales, as llama.cpp's `q8_1`.
//!
//! Integer sums are exact and identical in every kernel (portable, SIMD128,
//! relaxed SIMD), so native tests check the numerics the browser runs.

use half::{bf16, f16};

use crate::error::{Error, Result};
use crate::gguf;
use crate::threads::{part_range, SharedOutput, PARTS_PER_THREAD};

/// Elements per quantization block.
pub const QK: usize = 32;
/// Rows per interleaved group.
pub const ROWS: usize = 4;

/// One 32-column block of four rows of 4-bit weights.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(16))]
pub struct Q4x4 {
    pub d: [f32; ROWS],
    pub m: [f32; ROWS],
    /// For chunk k (0..4) and row j: bytes `16k + 4j + i` (i in 0..4) hold
    /// element `8k + i` in the low nibble and `8k + 4 + i` in the high one.
    pub qs: [u8; 64],
}

/// One 32-column block of four rows of 8-bit weights.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(16))]
pub struct Q8x4 {
    pub d: [f32; ROWS],
    /// For chunk k (0..8) and row j: bytes `16k + 4j + i` hold element
    /// `4k + i` plus 128 (the weight's bits with the sign bit flipped).
    pub qs: [u8; 128],
}

/// A block of 8-bit activations: `x = d * q`; `sum = sum(q)`, `s = d * sum`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(16))]
pub struct BlockQ8 {
    pub d: f32,
    pub s: f32,
    pub sum: i32,
    pub qs: [i8; QK],
}

#[derive(Debug, Clone, PartialEq)]
pub enum Weights {
    F32(Vec<f32>),
    Q4(Vec<Q4x4>),
    Q8(Vec<Q8x4>),
}

/// A weight matrix: `rows` outputs, each a dot product over `cols` inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub weights: Weights,
    /// ggml type the file stored, for reports.
    pub file_type: u32,
}

/// Inputs to matrix products: floats plus their quantized form, computed
/// on first use and shared by every matrix that reads the same input.
#[derive(Debug, Clone, Default)]
pub struct Activations {
    tokens: usize,
    cols: usize,
    x: Vec<f32>,
    q8: Vec<BlockQ8>,
    has_q8: bool,
}

impl Activations {
    /// Replaces the contents with `tokens` rows of `x`.
    pub fn set(&mut self, x: &[f32], tokens: usize) {
        self.tokens = tokens;
        self.cols = x.len() / tokens.max(1);
        self.x.clear();
        self.x.extend_from_slice(x);
        self.has_q8 = false;
    }

    fn q8(&mut self) -> &[BlockQ8] {
        if !self.has_q8 {
            // A prompt's rows are quantized on every thread.
            let (x, cols) = (&self.x, self.cols);
            self.q8.resize(x.len() / QK, BlockQ8 { d: 0.0, s: 0.0, sum: 0, qs: [0; QK] });
            crate::threads::rows_mut(&mut self.q8, cols / QK, &|first, q8| {
                for (q, block) in q8.iter_mut().zip(x[first * cols..].chunks_exact(QK)) {
                    *q = quantize_q8(block);
                }
            });
            self.has_q8 = true;
        }
        &self.q8
    }
}

/// 8-bit activation block, rounding half to even like ggml's wasm `q8_1`
/// (`nearest` is one wasm instruction; libm's `round` is a call).
pub fn quantize_q8(x: &[f32]) -> BlockQ8 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if let Ok(x) = x.try_into() {
        return kernels::quantize_q8(x);
    }
    let amax = x.iter().fold(0f32, |m, v| crate::model::ops::max(m, v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let mut qs = [0i8; QK];
    for (q, &v) in qs.iter_mut().zip(x) {
        *q = (v * id).round_ties_even() as i8;
    }
    let sum = qs.iter().map(|&q| q as i32).sum::<i32>();
    BlockQ8 { d, s: d * sum as f32, sum, qs }
}

fn f16_at(b: &[u8], i: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([b[i], b[i + 1]])).to_f32()
}

/// A row of 32-element blocks in "scale, offset, 32 values" form, the
/// common ground every file format is read into before packing.
#[derive(Clone, Copy)]
struct RowBlock {
    d: f32,
    m: f32,
    q: [i16; QK],
}

impl Matrix {
    /// Builds a matrix from a tensor's raw ggml bytes. `dims` is ggml order
    /// (`dims[0]` = columns).
    pub fn from_ggml(name: &str, ggml_type: u32, dims: &[u64], raw: &[u8]) -> Result<Matrix> {
        let (cols, rows) = match dims {
            [c] => (*c as usize, 1),
            [c, r] => (*c as usize, *r as usize),
            _ => return Err(Error::MissingTensor(format!("'{name}' should be a matrix, has dims {dims:?}"))),
        };
        let n = rows.checked_mul(cols).ok_or_else(|| Error::InvalidModel(format!("tensor '{name}' is too large")))?;
        let expect = |block: usize, bytes: usize| -> Result<()> {
            if cols % block != 0 || raw.len() != n / block * bytes {
                return Err(Error::InvalidModel(format!(
                    "tensor '{name}' ({}) holds {} bytes, expected {} for {rows}x{cols}",
                    gguf::type_name(ggml_type),
                    raw.len(),
                    n / block * bytes
                )));
            }
            Ok(())
        };
        let float_weights =
            |values: Vec<f32>| Matrix { rows, cols, weights: Weights::F32(values), file_type: ggml_type };
        let weights = match ggml_type {
            0 => {
                expect(1, 4)?;
                return Ok(float_weights(
                    raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
                ));
            }
            1 | 30 if rows == 1 || cols % QK != 0 => {
                expect(1, 2)?;
                let conv = |c: &[u8]| {
                    let bits = u16::from_le_bytes([c[0], c[1]]);
                    if ggml_type == 1 {
                        f16::from_bits(bits).to_f32()
                    } else {
                        bf16::from_bits(bits).to_f32()
                    }
                };
                return Ok(float_weights(raw.chunks_exact(2).map(conv).collect()));
            }
            2 => {
                expect(QK, 18)?;
                Weights::Q4(pack(
                    rows,
                    cols,
                    |i| {
                        let b = &raw[i * 18..(i + 1) * 18];
                        let d = f16_at(b, 0);
                        RowBlock { d, m: -8.0 * d, q: nibbles(&b[2..18]) }
                    },
                    pack_q4,
                ))
            }
            3 => {
                expect(QK, 20)?;
                Weights::Q4(pack(
                    rows,
                    cols,
                    |i| {
                        let b = &raw[i * 20..(i + 1) * 20];
                        RowBlock { d: f16_at(b, 0), m: f16_at(b, 2), q: nibbles(&b[4..20]) }
                    },
                    pack_q4,
                ))
            }
            8 => {
                expect(QK, 34)?;
                Weights::Q8(pack(
                    rows,
                    cols,
                    |i| {
                        let b = &raw[i * 34..(i + 1) * 34];
                        let mut q = [0i16; QK];
                        for (q, &byte) in q.iter_mut().zip(&b[2..34]) {
                            *q = byte as i8 as i16;
                        }
                        RowBlock { d: f16_at(b, 0), m: 0.0, q }
                    },
                    pack_q8,
                ))
            }
            _ => {
                let values = dequantize_with_candle(name, ggml_type, dims, raw)?;
                if rows == 1 || cols % QK != 0 {
                    return Ok(float_weights(values));
                }
                Weights::Q8(pack(
                    rows,
                    cols,
                    |i| {
                        let b = quantize_q8(&values[i * QK..(i + 1) * QK]);
                        RowBlock { d: b.d, m: 0.0, q: b.qs.map(|v| v as i16) }
                    },
                    pack_q8,
                ))
            }
        };
        Ok(Matrix { rows, cols, weights, file_type: ggml_type })
    }

    /// The storage and the file format, for reports.
    pub fn format(&self) -> String {
        let kind = match self.weights {
            Weights::F32(_) => "f32",
            Weights::Q4(_) => "q4x4",
            Weights::Q8(_) => "q8x4",
        };
        format!("{kind} (file {})", gguf::type_name(self.file_type))
    }

    pub fn is_f32(&self) -> bool {
        matches!(self.weights, Weights::F32(_))
    }

    /// Bytes held in memory.
    pub fn memory_bytes(&self) -> usize {
        match &self.weights {
            Weights::F32(v) => v.len() * 4,
            Weights::Q4(v) => std::mem::size_of_val(v.as_slice()),
            Weights::Q8(v) => std::mem::size_of_val(v.as_slice()),
        }
    }

    /// Row `r` as floats (embedding lookup).
    pub fn row_f32(&self, r: usize, out: &mut [f32]) {
        let nb = self.cols / QK;
        let (g, j) = (r / ROWS, r % ROWS);
        match &self.weights {
            Weights::F32(v) => out.copy_from_slice(&v[r * self.cols..(r + 1) * self.cols]),
            Weights::Q4(v) => {
                for (b, o) in v[g * nb..(g + 1) * nb].iter().zip(out.chunks_exact_mut(QK)) {
                    for k in 0..4 {
                        for i in 0..4 {
                            let byte = b.qs[16 * k + 4 * j + i];
                            o[8 * k + i] = b.d[j] * (byte & 0x0F) as f32 + b.m[j];
                            o[8 * k + 4 + i] = b.d[j] * (byte >> 4) as f32 + b.m[j];
                        }
                    }
                }
            }
            Weights::Q8(v) => {
                for (b, o) in v[g * nb..(g + 1) * nb].iter().zip(out.chunks_exact_mut(QK)) {
                    for k in 0..8 {
                        for i in 0..4 {
                            o[4 * k + i] = b.d[j] * (b.qs[16 * k + 4 * j + i] as i32 - 128) as f32;
                        }
                    }
                }
            }
        }
    }

    /// `out[t * rows + r] = dot(row r, input t)` for every input row `t`.
    pub fn matmul(&self, input: &mut Activations, out: &mut [f32]) {
        let (rows, tokens) = (self.rows, input.tokens);
        debug_assert_eq!(input.cols, self.cols);
        debug_assert_eq!(out.len(), tokens * rows);
        let nb = self.cols / QK;
        match &self.weights {
            Weights::F32(w) => {
                for r in 0..rows {
                    let wr = &w[r * self.cols..(r + 1) * self.cols];
                    for t in 0..tokens {
                        out[t * rows + r] = dot_f32(wr, &input.x[t * self.cols..(t + 1) * self.cols]);
                    }
                }
            }
            Weights::Q4(w) => tiles(w, nb, rows, input.q8(), tokens, out),
            Weights::Q8(w) => tiles(w, nb, rows, input.q8(), tokens, out),
        }
    }
}

/// Several products of one input (a layer's query, key and value; its gate
/// and up projections) as one job for the thread pool: one hand-off and one
/// wait instead of one per matrix. Each output is computed by the same
/// kernel calls as [`Matrix::matmul`], so the bits are the same.
pub fn matmul_shared(products: &mut [(&Matrix, &mut [f32])], input: &mut Activations) {
    let threads = crate::threads::threads();
    let quantized = products.iter().all(|(m, _)| !m.is_f32() && m.cols == input.cols);
    let blocks: usize = products.iter().map(|(m, _)| m.rows * (m.cols / QK) / ROWS).sum();
    if threads == 1 || !quantized || blocks * input.tokens < MIN_PARALLEL_BLOCKS {
        for (m, out) in products.iter_mut() {
            m.matmul(input, out);
        }
        return;
    }
    let tokens = input.tokens;
    let x = input.q8();
    // (matrix, its output, its groups, the parts it is split into)
    let jobs: Vec<(&Matrix, SharedOutput, usize, usize)> = products
        .iter_mut()
        .map(|(m, out)| {
            assert!(out.len() >= tokens * m.rows && x.len() >= tokens * (m.cols / QK));
            let groups = m.rows.div_ceil(ROWS);
            (*m, SharedOutput::new(out), groups, (threads * PARTS_PER_THREAD).min(groups))
        })
        .collect();
    let total: usize = jobs.iter().map(|j| j.3).sum();
    crate::threads::run(total, &|mut p| {
        for (m, out, groups, parts) in &jobs {
            if p >= *parts {
                p -= parts;
                continue;
            }
            let range = part_range(p, *parts, *groups);
            let nb = m.cols / QK;
            match &m.weights {
                Weights::Q4(w) => tile_groups(w, nb, m.rows, x, tokens, range, out),
                Weights::Q8(w) => tile_groups(w, nb, m.rows, x, tokens, range, out),
                Weights::F32(_) => unreachable!("float matrices take the single-product path"),
            }
            return;
        }
    });
}

/// Products smaller than this many block dot products (32 columns x 4 rows
/// x 1 token each) run on one thread: below it, waking a helper and waiting
/// for it costs about what it saves. Decoding's smallest products (192x576,
/// 864 blocks) are still split.
const MIN_PARALLEL_BLOCKS: usize = 512;

/// Runs a group kernel over every four-row group and every token, up to four
/// tokens at a time: the group's weights are unpacked once for all of them,
/// and their dependency chains run side by side. Groups are
/// split into contiguous ranges across threads ([`crate::threads`]); each
/// output is computed by the same kernel call however they are split.
fn tiles<W: kernels::Group + Sync>(w: &[W], nb: usize, rows: usize, x: &[BlockQ8], tokens: usize, out: &mut [f32]) {
    assert!(out.len() >= tokens * rows && x.len() >= tokens * nb && w.len() * ROWS >= rows * nb);
    let groups = w.len() / nb;
    let threads = crate::threads::threads();
    let parts = match threads > 1 && groups * nb * tokens >= MIN_PARALLEL_BLOCKS {
        true => (threads * PARTS_PER_THREAD).min(groups),
        false => 1,
    };
    let out = SharedOutput::new(out);
    let range = |p: usize| part_range(p, parts, groups);
    if parts == 1 {
        tile_groups(w, nb, rows, x, tokens, range(0), &out);
    } else {
        crate::threads::run(parts, &|p| tile_groups(w, nb, rows, x, tokens, range(p), &out));
    }
}

/// [`tiles`] for the groups in `groups`.
fn tile_groups<W: kernels::Group>(
    w: &[W],
    nb: usize,
    rows: usize,
    x: &[BlockQ8],
    tokens: usize,
    groups: std::ops::Range<usize>,
    out: &SharedOutput,
) {
    fn run<W: kernels::Group, const T: usize>(
        group: &[W],
        g: usize,
        nb: usize,
        rows: usize,
        x: &[BlockQ8],
        t0: usize,
        out: &SharedOutput,
    ) {
        let xs: [&[BlockQ8]; T] = std::array::from_fn(|i| &x[(t0 + i) * nb..(t0 + i + 1) * nb]);
        let mut sums = [[0f32; ROWS]; T];
        W::dot(group, xs, &mut sums);
        for (i, s) in sums.iter().enumerate() {
            // Fewer than four rows in a padded last group.
            let start = g * ROWS;
            let n = ROWS.min(rows - start);
            out.write((t0 + i) * rows + start, &s[..n]);
        }
    }
    for g in groups {
        let group = &w[g * nb..(g + 1) * nb];
        let mut t = 0;
        while t + 4 <= tokens {
            run::<W, 4>(group, g, nb, rows, x, t, out);
            t += 4;
        }
        // The rest in one call too: decoding N variants is an N-token product.
        match tokens - t {
            3 => run::<W, 3>(group, g, nb, rows, x, t, out),
            2 => run::<W, 2>(group, g, nb, rows, x, t, out),
            1 => run::<W, 1>(group, g, nb, rows, x, t, out),
            _ => {}
        }
    }
}

/// Unpacks ggml's 4-bit layout: byte j holds element j (low) and j + 16 (high).
fn nibbles(qs: &[u8]) -> [i16; QK] {
    let mut q = [0i16; QK];
    for j in 0..QK / 2 {
        q[j] = (qs[j] & 0x0F) as i16;
        q[j + QK / 2] = (qs[j] >> 4) as i16;
    }
    q
}

/// Packs a matrix four rows at a time. `block(i)` reads row-major block `i`
/// (`cols / QK` blocks per row) of the file; rows past the end are zero.
fn pack<P>(rows: usize, cols: usize, block: impl Fn(usize) -> RowBlock, group: fn([&RowBlock; ROWS]) -> P) -> Vec<P> {
    let nb = cols / QK;
    let zero = RowBlock { d: 0.0, m: 0.0, q: [0; QK] };
    let mut out = Vec::with_capacity(rows.div_ceil(ROWS) * nb);
    for g in 0..rows.div_ceil(ROWS) {
        for b in 0..nb {
            let four: [RowBlock; ROWS] = std::array::from_fn(|j| {
                let r = g * ROWS + j;
                if r < rows {
                    block(r * nb + b)
                } else {
                    zero
                }
            });
            out.push(group(std::array::from_fn(|j| &four[j])));
        }
    }
    out
}

fn pack_q4(four: [&RowBlock; ROWS]) -> Q4x4 {
    let mut packed = Q4x4 { d: [0.0; ROWS], m: [0.0; ROWS], qs: [0; 64] };
    for (j, rb) in four.iter().enumerate() {
        packed.d[j] = rb.d;
        packed.m[j] = rb.m;
        for k in 0..4 {
            for i in 0..4 {
                packed.qs[16 * k + 4 * j + i] = (rb.q[8 * k + i] as u8) | ((rb.q[8 * k + 4 + i] as u8) << 4);
            }
        }
    }
    packed
}

fn pack_q8(four: [&RowBlock; ROWS]) -> Q8x4 {
    let mut packed = Q8x4 { d: [0.0; ROWS], qs: [0; 128] };
    for (j, rb) in four.iter().enumerate() {
        packed.d[j] = rb.d;
        for k in 0..8 {
            for i in 0..4 {
                packed.qs[16 * k + 4 * j + i] = (rb.q[4 * k + i] + 128) as u8;
            }
        }
    }
    packed
}

/// Converts ggml types without a packing of their own to floats, using
/// candle's dequantizers (K-quants, Q5_x, F16/BF16 matrices, ...).
fn dequantize_with_candle(name: &str, ggml_type: u32, dims: &[u64], raw: &[u8]) -> Result<Vec<f32>> {
    use candle_core::quantized::{ggml_file::qtensor_from_ggml, GgmlDType};
    use candle_core::Device;
    let dtype = match gguf::type_name(ggml_type) {
        "F16" => GgmlDType::F16,
        "BF16" => GgmlDType::BF16,
        "Q5_0" => GgmlDType::Q5_0,
        "Q5_1" => GgmlDType::Q5_1,
        "Q2_K" => GgmlDType::Q2K,
        "Q3_K" => GgmlDType::Q3K,
        "Q4_K" => GgmlDType::Q4K,
        "Q5_K" => GgmlDType::Q5K,
        "Q6_K" => GgmlDType::Q6K,
        _ => return Err(Error::UnsupportedTensorType { tensor: name.to_string(), ggml_type }),
    };
    // candle wants dims outermost first.
    let shape: Vec<usize> = dims.iter().rev().map(|&d| d as usize).collect();
    let fail = |e: candle_core::Error| Error::InvalidModel(format!("tensor '{name}': {e}"));
    let tensor = qtensor_from_ggml(dtype, raw, shape, &Device::Cpu).map_err(fail)?;
    tensor.dequantize(&Device::Cpu).and_then(|t| t.flatten_all()?.to_vec1::<f32>()).map_err(fail)
}

pub use crate::model::ops::dot as dot_f32;

/// Dot products of one four-row group with `T` activation rows. Three
/// builds: portable (native), SIMD128, and relaxed SIMD
/// (`i32x4.relaxed_dot_i8x16_i7x16_add`: 16 multiply-adds per instruction).
pub mod kernels {
    use super::{BlockQ8, Q4x4, Q8x4, ROWS};

    /// Which kernel family this build uses, for reports.
    pub const KERNELS: &str = if cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd")) {
        "wasm relaxed-simd"
    } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "wasm simd128"
    } else if cfg!(target_arch = "x86_64") {
        "native x86-64 (AVX2 when present)"
    } else {
        "portable"
    };

    /// A packed four-row block type with its group kernel.
    pub trait Group: Sized {
        /// `out[t][j] = dot(row j of the group, x[t])`.
        fn dot<const T: usize>(w: &[Self], x: [&[BlockQ8]; T], out: &mut [[f32; ROWS]; T]);
    }

    /// The portable kernels, also the reference the others must equal bit
    /// for bit: integer sums are exact, and every build does the float work
    /// of a block in this order, `acc + (isum * (d_w * d_x) + m_w * s_x)`.
    #[allow(clippy::needless_range_loop)] // rows j index weights, scales and sums alike
    pub mod portable {
        use super::{BlockQ8, Q4x4, Q8x4, ROWS};

        pub fn dot_q4<const T: usize>(w: &[Q4x4], x: [&[BlockQ8]; T], out: &mut [[f32; ROWS]; T]) {
            for t in 0..T {
                let mut acc = [0f32; ROWS];
                for (b, xb) in w.iter().zip(x[t]) {
                    for j in 0..ROWS {
                        let mut s = 0i32;
                        for k in 0..4 {
                            for i in 0..4 {
                                let byte = b.qs[16 * k + 4 * j + i];
                                s += (byte & 0x0F) as i32 * xb.qs[8 * k + i] as i32;
                                s += (byte >> 4) as i32 * xb.qs[8 * k + 4 + i] as i32;
                            }
                        }
                        acc[j] += s as f32 * (b.d[j] * xb.d) + b.m[j] * xb.s;
                    }
                }
                out[t] = acc;
            }
        }

        pub fn dot_q8<const T: usize>(w: &[Q8x4], x: [&[BlockQ8]; T], out: &mut [[f32; ROWS]; T]) {
            for t in 0..T {
                let mut acc = [0f32; ROWS];
                for (b, xb) in w.iter().zip(x[t]) {
                    for j in 0..ROWS {
                        let mut s = 0i32;
                        for k in 0..8 {
                            for i in 0..4 {
                                s += (b.qs[16 * k + 4 * j + i] as i32 - 128) * xb.qs[4 * k + i] as i32;
                            }
                        }
                        acc[j] += s as f32 * (b.d[j] * xb.d);
                    }
                }
                out[t] = acc;
            }
        }
    }

    #[cfg(not(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128"))))]
    impl Group for Q4x4 {
        fn dot<const T: usize>(w: &[Self], x: [&[BlockQ8]; T], out: &mut [[f32; ROWS]; T]) {
            portable::dot_q4(w, x, out)
        }
    }

    #[cfg(not(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128"))))]
    impl Group for Q8x4 {
        fn dot<const T: usize>(w: &[Self], x: [&[BlockQ8]; T], out: &mut [[f32; ROWS]; T]) {
            portable::dot_q8(w, x, out)
        }
    }

    /// Native x86-64 (tests, the CLI): AVX2 when the CPU has it, chosen at
    /// run time, else the portable code.
    #[cfg(target_arch = "x86_64")]
    mod x86 {
        use super::{portable, BlockQ8, Group, Q4x4, Q8x4, ROWS};
        use std::arch::x86_64::*;

        fn avx2() -> bool {
            std::is_x86_feature_detected!("avx2")
        }

        impl Group for Q4x4 {
            fn dot<const T: usize>(w: &[Self], x: [&[BlockQ8]; T], out: &mut [[f32; ROWS]; T]) {
                if avx2() {
                    // SAFETY: AVX2 is present (checked above).
                    unsafe { dot_q4_avx2(w, x, out) }
                } else {
                    portable::dot_q4(w, x, out)
                }
            }
        }

        impl Group for Q8x4 {
            fn dot<const T: usize>(w: &[Self], x: [&[BlockQ8]; T], out: &mut [[f32; ROWS]; T]) {
                if avx2() {
                    // SAFETY: AVX2 is present (checked above).
                    unsafe { dot_q8_avx2(w, x, out) }
                } else {
                    portable::dot_q8(w, x, out)
                }
            }
        }

        /// Activation words `x[4i..4i+4]` for words `a` (low half) and `b` (high half), each broadcast to 4 lanes.
        #[inline(always)]
        unsafe fn pick(words: __m256i, a: i32, b: i32) -> __m256i {
            unsafe { _mm256_permutevar8x32_epi32(words, _mm256_setr_epi32(a, a, a, a, b, b, b, b)) }
        }

        /// The two 128-bit halves of eight i32 lanes added: four row sums.
        #[inline(always)]
        unsafe fn rows(v: __m256i) -> __m128i {
            unsafe { _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)) }
        }

        #[target_feature(enable = "avx2")]
        unsafe fn dot_q4_avx2<const T: usize>(w: &[Q4x4], x: [&[BlockQ8]; T], out: &mut [[f32; ROWS]; T]) {
            unsafe {
                let mask = _mm256_set1_epi8(0x0F);
                let ones = _mm256_set1_epi16(1);
                let mut acc = [_mm_setzero_ps(); T];
                for (bi, b) in w.iter().enumerate() {
                    // Chunks 0,1 then 2,3 (16 bytes = 4 rows x 8 elements each).
                    let v01 = _mm256_loadu_si256(b.qs.as_ptr() as *const __m256i);
                    let v23 = _mm256_loadu_si256(b.qs.as_ptr().add(32) as *const __m256i);
                    let (lo01, hi01) = (_mm256_and_si256(v01, mask), _mm256_and_si256(_mm256_srli_epi16(v01, 4), mask));
                    let (lo23, hi23) = (_mm256_and_si256(v23, mask), _mm256_and_si256(_mm256_srli_epi16(v23, 4), mask));
                    let d = _mm_loadu_ps(b.d.as_ptr());
                    let m = _mm_loadu_ps(b.m.as_ptr());
                    for t in 0..T {
                        let xb = &x[t][bi];
                        let words = _mm256_loadu_si256(xb.qs.as_ptr() as *const __m256i);
                        // Pair sums stay below 2·15·127; four of them below 2^15.
                        let p = _mm256_add_epi16(
                            _mm256_add_epi16(
                                _mm256_maddubs_epi16(lo01, pick(words, 0, 2)),
                                _mm256_maddubs_epi16(hi01, pick(words, 1, 3)),
                            ),
                            _mm256_add_epi16(
                                _mm256_maddubs_epi16(lo23, pick(words, 4, 6)),
                                _mm256_maddubs_epi16(hi23, pick(words, 5, 7)),
                            ),
                        );
                        let isum = rows(_mm256_madd_epi16(p, ones));
                        let scaled = _mm_mul_ps(_mm_cvtepi32_ps(isum), _mm_mul_ps(d, _mm_set1_ps(xb.d)));
                        acc[t] = _mm_add_ps(acc[t], _mm_add_ps(scaled, _mm_mul_ps(m, _mm_set1_ps(xb.s))));
                    }
                }
                for t in 0..T {
                    _mm_storeu_ps(out[t].as_mut_ptr(), acc[t]);
                }
            }
        }

        #[target_feature(enable = "avx2")]
        unsafe fn dot_q8_avx2<const T: usize>(w: &[Q8x4], x: [&[BlockQ8]; T], out: &mut [[f32; ROWS]; T]) {
            unsafe {
                let flip = _mm256_set1_epi8(-128);
                let ones = _mm256_set1_epi16(1);
                let mut acc = [_mm_setzero_ps(); T];
                for (bi, b) in w.iter().enumerate() {
                    // Signed weights (u - 128) as |w| (unsigned) and their signs.
                    let wv: [__m256i; 4] = std::array::from_fn(|i| {
                        _mm256_xor_si256(_mm256_loadu_si256(b.qs.as_ptr().add(32 * i) as *const __m256i), flip)
                    });
                    let abs: [__m256i; 4] = std::array::from_fn(|i| _mm256_abs_epi8(wv[i]));
                    let d = _mm_loadu_ps(b.d.as_ptr());
                    for t in 0..T {
                        let xb = &x[t][bi];
                        let words = _mm256_loadu_si256(xb.qs.as_ptr() as *const __m256i);
                        let mut s = _mm256_setzero_si256();
                        for i in 0..4 {
                            let xi = pick(words, 2 * i as i32, 2 * i as i32 + 1);
                            // |w| · (x with w's sign): pair sums below 2·128·127 < 2^15.
                            let p = _mm256_maddubs_epi16(abs[i], _mm256_sign_epi8(xi, wv[i]));
                            s = _mm256_add_epi32(s, _mm256_madd_epi16(p, ones));
                        }
                        let isum = rows(s);
                        acc[t] = _mm_add_ps(acc[t], _mm_mul_ps(_mm_cvtepi32_ps(isum), _mm_mul_ps(d, _mm_set1_ps(xb.d))));
                    }
                }
                for t in 0..T {
                    _mm_storeu_ps(out[t].as_mut_ptr(), acc[t]);
                }
            }
        }
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    pub use simd::quantize_q8;

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    mod simd {
        use super::{BlockQ8, Group, Q4x4, Q8x4, ROWS};
        use core::arch::wasm32::*;

        /// Lane j += sum over i of a[4j + i] * b[4j + i]: widen, multiply,
        /// add pairs twice (relaxed SIMD does it in one instruction, see `Pairs`).
        #[cfg(not(target_feature = "relaxed-simd"))]
        #[inline(always)]
        fn dot4(a: v128, b: v128, acc: v128) -> v128 {
            let lo = i32x4_extadd_pairwise_i16x8(i16x8_extmul_low_i8x16(a, b));
            let hi = i32x4_extadd_pairwise_i16x8(i16x8_extmul_high_i8x16(a, b));
            let even = i32x4_shuffle::<0, 2, 4, 6>(lo, hi);
            let odd = i32x4_shuffle::<1, 3, 5, 7>(lo, hi);
            i32x4_add(acc, i32x4_add(even, odd))
        }

        #[inline(always)]
        fn load<T>(p: &T, offset: usize) -> v128 {
            debug_assert!(offset + 16 <= std::mem::size_of::<T>());
            // SAFETY: callers read 16 bytes at `offset` inside `*p` (checked above in debug).
            unsafe { v128_load((p as *const T as *const u8).add(offset) as *const v128) }
        }

        /// Each byte's high nibble, `u8x16_shr(v, 4)` as a 16-bit shift and a
        /// mask: V8 lowers the 8-bit shift to five instructions (it builds
        /// the mask anew each time), this to two.
        #[inline(always)]
        fn high_nibbles(v: v128, mask: v128) -> v128 {
            v128_and(u16x8_shr(v, 4), mask)
        }

        /// Tiles of up to this many tokens hold each block's activations in
        /// registers (two per token) and shuffle out the word each product
        /// needs: in V8 that is one instruction, where a broadcast from
        /// memory also costs an address computation. Four tokens' eight
        /// vectors would not fit beside the accumulators in 16 registers,
        /// so larger tiles broadcast.
        const HELD_TOKENS: usize = 2;

        /// A block's 32 activation bytes as two vectors, in tiles that hold them.
        #[inline(always)]
        fn hold<const T: usize>(x: &BlockQ8) -> [v128; 2] {
            if T <= HELD_TOKENS {
                [load(&x.qs, 0), load(&x.qs, 16)]
            } else {
                [i32x4_splat(0); 2]
            }
        }

        /// Activation word `w` (bytes `4w..4w + 4`, w in 0..8) of `x`, in all four lanes.
        #[inline(always)]
        fn word<const T: usize>(x: &BlockQ8, held: &[v128; 2], w: usize) -> v128 {
            debug_assert!(w < 8);
            if T > HELD_TOKENS {
                // SAFETY: 4 bytes at 4w < 32 inside the 32-byte `qs`.
                return unsafe { v128_load32_splat(x.qs.as_ptr().add(4 * w) as *const u32) };
            }
            let v = held[w / 4];
            match w % 4 {
                0 => i32x4_shuffle::<0, 0, 0, 0>(v, v),
                1 => i32x4_shuffle::<1, 1, 1, 1>(v, v),
                2 => i32x4_shuffle::<2, 2, 2, 2>(v, v),
                _ => i32x4_shuffle::<3, 3, 3, 3>(v, v),
            }
        }

        #[inline(always)]
        fn store(out: &mut [f32; ROWS], v: v128) {
            // SAFETY: `out` is 4 f32s = 16 bytes.
            unsafe { v128_store(out.as_mut_ptr() as *mut v128, v) }
        }

        const Q4_QS: usize = std::mem::offset_of!(Q4x4, qs);
        const Q8_QS: usize = std::mem::offset_of!(Q8x4, qs);

        impl Group for Q4x4 {
            fn dot<const T: usize>(w: &[Self], x: [&[BlockQ8]; T], out: &mut [[f32; ROWS]; T]) {
                let mask = u8x16_splat(0x0F);
                let mut acc = [f32x4_splat(0.0); T];
                for (bi, b) in w.iter().enumerate() {
                    let mut s = [Pairs::default(); T];
                    let held: [[v128; 2]; T] = std::array::from_fn(|t| hold::<T>(&x[t][bi]));
                    for k in 0..4 {
                        let v = load(b, Q4_QS + 16 * k);
                        let (lo, hi) = (v128_and(v, mask), high_nibbles(v, mask));
                        for t in 0..T {
                            let xb = &x[t][bi];
                            s[t].add(word::<T>(xb, &held[t], 2 * k), lo);
                            s[t].add(word::<T>(xb, &held[t], 2 * k + 1), hi);
                        }
                    }
                    let d = load(&b.d, 0);
                    let m = load(&b.m, 0);
                    for t in 0..T {
                        let xb = &x[t][bi];
                        let scaled = f32x4_mul(f32x4_convert_i32x4(s[t].rows()), f32x4_mul(d, f32x4_splat(xb.d)));
                        acc[t] = f32x4_add(acc[t], f32x4_add(scaled, f32x4_mul(m, f32x4_splat(xb.s))));
                    }
                }
                for t in 0..T {
                    store(&mut out[t], acc[t]);
                }
            }
        }

        /// Per-row sums of up to eight `dot4`s of 8-bit activations with
        /// 4-bit values. With relaxed SIMD they accumulate as 16-bit pair
        /// sums (one instruction each; eight of them stay below
        /// 8·2·127·15 = 30480 < 2^15) and widen once at the end.
        #[derive(Clone, Copy)]
        struct Pairs(v128);

        impl Default for Pairs {
            fn default() -> Self {
                Pairs(i32x4_splat(0))
            }
        }

        impl Pairs {
            #[inline(always)]
            fn add(&mut self, x: v128, nibbles: v128) {
                #[cfg(target_feature = "relaxed-simd")]
                {
                    self.0 = i16x8_add(self.0, i16x8_relaxed_dot_i8x16_i7x16(x, nibbles));
                }
                #[cfg(not(target_feature = "relaxed-simd"))]
                {
                    self.0 = dot4(x, nibbles, self.0);
                }
            }

            /// The four rows' sums as `i32x4`.
            #[inline(always)]
            fn rows(self) -> v128 {
                #[cfg(target_feature = "relaxed-simd")]
                {
                    i32x4_extadd_pairwise_i16x8(self.0)
                }
                #[cfg(not(target_feature = "relaxed-simd"))]
                {
                    self.0
                }
            }
        }

        impl Group for Q8x4 {
            fn dot<const T: usize>(w: &[Self], x: [&[BlockQ8]; T], out: &mut [[f32; ROWS]; T]) {
                let mut acc = [f32x4_splat(0.0); T];
                for (bi, b) in w.iter().enumerate() {
                    let mut s = [[Pairs::default(); 2]; T];
                    let held: [[v128; 2]; T] = std::array::from_fn(|t| hold::<T>(&x[t][bi]));
                    for k in 0..8 {
                        let v = load(b, Q8_QS + 16 * k);
                        for t in 0..T {
                            accumulate_q8(v, word::<T>(&x[t][bi], &held[t], k), &mut s[t]);
                        }
                    }
                    let d = load(&b.d, 0);
                    for t in 0..T {
                        let xb = &x[t][bi];
                        let isum = finish_q8(&s[t], xb.sum);
                        acc[t] =
                            f32x4_add(acc[t], f32x4_mul(f32x4_convert_i32x4(isum), f32x4_mul(d, f32x4_splat(xb.d))));
                    }
                }
                for t in 0..T {
                    store(&mut out[t], acc[t]);
                }
            }
        }

        /// [`super::super::quantize_q8`] four lanes at a time: the same IEEE
        /// operations (max of |x|, one division, multiply, round half to
        /// even), so the same bytes as the scalar code.
        pub fn quantize_q8(x: &[f32; 32]) -> BlockQ8 {
            let v: [v128; 8] = std::array::from_fn(|i| {
                // SAFETY: 8 loads of 16 bytes inside the 128-byte array.
                unsafe { v128_load(x.as_ptr().add(4 * i) as *const v128) }
            });
            let m = v.iter().fold(f32x4_splat(0.0), |m, &x| f32x4_pmax(m, f32x4_abs(x)));
            let amax = [
                f32x4_extract_lane::<0>(m),
                f32x4_extract_lane::<1>(m),
                f32x4_extract_lane::<2>(m),
                f32x4_extract_lane::<3>(m),
            ]
            .into_iter()
            .fold(0f32, crate::model::ops::max);
            let d = amax / 127.0;
            let id = f32x4_splat(if d != 0.0 { 1.0 / d } else { 0.0 });
            let q: [v128; 8] = std::array::from_fn(|i| i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v[i], id))));
            let lo = i8x16_narrow_i16x8(i16x8_narrow_i32x4(q[0], q[1]), i16x8_narrow_i32x4(q[2], q[3]));
            let hi = i8x16_narrow_i16x8(i16x8_narrow_i32x4(q[4], q[5]), i16x8_narrow_i32x4(q[6], q[7]));
            let sums = i32x4_add(
                i32x4_extadd_pairwise_i16x8(i16x8_extadd_pairwise_i8x16(lo)),
                i32x4_extadd_pairwise_i16x8(i16x8_extadd_pairwise_i8x16(hi)),
            );
            let sum = i32x4_extract_lane::<0>(sums)
                + i32x4_extract_lane::<1>(sums)
                + i32x4_extract_lane::<2>(sums)
                + i32x4_extract_lane::<3>(sums);
            let mut out = BlockQ8 { d, s: d * sum as f32, sum, qs: [0; 32] };
            // SAFETY: `qs` is 32 bytes.
            unsafe {
                v128_store(out.qs.as_mut_ptr() as *mut v128, lo);
                v128_store(out.qs.as_mut_ptr().add(16) as *mut v128, hi);
            }
            out
        }

        /// Relaxed dot products need one operand below 128: multiply the two
        /// nibbles of `u = w + 128` separately, `x·w = 16·x·hi + x·lo - 128·sum(x)`.
        #[cfg(target_feature = "relaxed-simd")]
        #[inline(always)]
        fn accumulate_q8(u: v128, x: v128, s: &mut [Pairs; 2]) {
            let mask = u8x16_splat(0x0F);
            s[0].add(x, v128_and(u, mask));
            s[1].add(x, high_nibbles(u, mask));
        }

        #[cfg(target_feature = "relaxed-simd")]
        #[inline(always)]
        fn finish_q8(s: &[Pairs; 2], xsum: i32) -> v128 {
            i32x4_sub(i32x4_add(i32x4_shl(s[1].rows(), 4), s[0].rows()), i32x4_splat(128 * xsum))
        }

        /// Plain SIMD multiplies signed bytes directly: flip the sign bit back.
        #[cfg(not(target_feature = "relaxed-simd"))]
        #[inline(always)]
        fn accumulate_q8(u: v128, x: v128, s: &mut [Pairs; 2]) {
            s[0].0 = dot4(x, v128_xor(u, u8x16_splat(0x80)), s[0].0);
        }

        #[cfg(not(target_feature = "relaxed-simd"))]
        #[inline(always)]
        fn finish_q8(s: &[Pairs; 2], _xsum: i32) -> v128 {
            s[0].rows()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((*seed >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
    }

    /// ggml-format bytes for a `rows x cols` matrix of Q4_1 or Q8_0.
    fn ggml_bytes(values: &[f32], ggml_type: u32) -> Vec<u8> {
        let mut out = Vec::new();
        for c in values.chunks_exact(QK) {
            if ggml_type == 3 {
                let (mn, mx) = c.iter().fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
                let d = (mx - mn) / 15.0;
                out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
                out.extend_from_slice(&f16::from_f32(mn).to_le_bytes());
                for j in 0..16 {
                    let q = |v: f32| (((v - mn) / d).round() as u8).min(15);
                    out.push(q(c[j]) | (q(c[j + 16]) << 4));
                }
            } else {
                let b = quantize_q8(c);
                out.extend_from_slice(&f16::from_f32(b.d).to_le_bytes());
                out.extend(b.qs.iter().map(|&q| q as u8));
            }
        }
        out
    }

    /// What the kernels must compute exactly: the dot of the dequantized weights
    /// with the dequantized activations of the form the matrix reads.
    fn dequantized_activations(x: &[f32]) -> Vec<f32> {
        x.chunks_exact(QK)
            .flat_map(|c| {
                let b = quantize_q8(c);
                b.qs.iter().map(|&q| b.d * q as f32).collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn packed_products_match_float_products_of_the_same_weights() {
        // A padded last group with a 4-token tile and 3 single tokens; then
        // decoding's shape: an odd number of groups, 2 tokens.
        for (rows, cols, tokens) in [(6, 256, 7), (10, 256, 2)] {
            check_packed_products(rows, cols, tokens);
        }
    }

    fn check_packed_products(rows: usize, cols: usize, tokens: usize) {
        let mut seed = 7;
        let w: Vec<f32> = (0..rows * cols).map(|_| lcg(&mut seed)).collect();
        let x: Vec<f32> = (0..tokens * cols).map(|_| lcg(&mut seed)).collect();
        for ty in [3u32, 8] {
            let m = Matrix::from_ggml("w", ty, &[cols as u64, rows as u64], &ggml_bytes(&w, ty)).unwrap();
            let mut acts = Activations::default();
            acts.set(&x, tokens);
            let mut out = vec![0f32; tokens * rows];
            m.matmul(&mut acts, &mut out);
            let xd = dequantized_activations(&x);
            let mut row = vec![0f32; cols];
            for r in 0..rows {
                m.row_f32(r, &mut row);
                for t in 0..tokens {
                    let want = dot_f32(&row, &xd[t * cols..(t + 1) * cols]);
                    let got = out[t * rows + r];
                    assert!((got - want).abs() < 1e-3, "type {ty} row {r} token {t}: {got} vs {want}");
                    // And the quantization noise itself stays small.
                    let exact = dot_f32(&row, &x[t * cols..(t + 1) * cols]);
                    assert!((got - exact).abs() < 0.25, "type {ty}: {got} vs unquantized {exact}");
                }
            }
        }
    }

    /// Every build's kernels equal the portable ones bit for bit (integer
    /// sums are exact; the float steps of a block happen in one order).
    #[test]
    fn kernels_equal_the_portable_reference_bit_for_bit() {
        use kernels::{portable, Group};
        let mut seed = 11;
        let (rows, cols) = (8, 256);
        let w: Vec<f32> = (0..rows * cols).map(|_| lcg(&mut seed)).collect();
        let x: Vec<f32> = (0..4 * cols).map(|_| lcg(&mut seed) * 3.0).collect();
        let xq: Vec<BlockQ8> = x.chunks_exact(QK).map(quantize_q8).collect();
        let nb = cols / QK;
        let xs: [&[BlockQ8]; 4] = std::array::from_fn(|t| &xq[t * nb..(t + 1) * nb]);
        for ty in [3u32, 8] {
            let m = Matrix::from_ggml("w", ty, &[cols as u64, rows as u64], &ggml_bytes(&w, ty)).unwrap();
            for g in 0..rows / ROWS {
                let (mut got, mut want) = ([[0f32; ROWS]; 4], [[0f32; ROWS]; 4]);
                let (mut got1, mut want1) = ([[0f32; ROWS]; 1], [[0f32; ROWS]; 1]);
                // Fewer tokens per call (a 3-variant decode step, a prefill's
                // rest) give each token the bits it gets among four.
                let (mut got2, mut got3) = ([[0f32; ROWS]; 2], [[0f32; ROWS]; 3]);
                match &m.weights {
                    Weights::Q4(v) => {
                        let grp = &v[g * nb..(g + 1) * nb];
                        Q4x4::dot(grp, xs, &mut got);
                        portable::dot_q4(grp, xs, &mut want);
                        Q4x4::dot(grp, [xs[1]], &mut got1);
                        portable::dot_q4(grp, [xs[1]], &mut want1);
                        Q4x4::dot(grp, [xs[2], xs[3]], &mut got2);
                        Q4x4::dot(grp, [xs[0], xs[1], xs[2]], &mut got3);
                    }
                    Weights::Q8(v) => {
                        let grp = &v[g * nb..(g + 1) * nb];
                        Q8x4::dot(grp, xs, &mut got);
                        portable::dot_q8(grp, xs, &mut want);
                        Q8x4::dot(grp, [xs[1]], &mut got1);
                        portable::dot_q8(grp, [xs[1]], &mut want1);
                        Q8x4::dot(grp, [xs[2], xs[3]], &mut got2);
                        Q8x4::dot(grp, [xs[0], xs[1], xs[2]], &mut got3);
                    }
                    Weights::F32(_) => unreachable!(),
                }
                let bits = |a: &[[f32; ROWS]]| a.iter().flatten().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "type {ty} group {g}, 4 tokens ({})", kernels::KERNELS);
                assert_eq!(bits(&got1), bits(&want1), "type {ty} group {g}, 1 token");
                assert_eq!(bits(&got2), bits(&want[2..]), "type {ty} group {g}, 2 tokens");
                assert_eq!(bits(&got3), bits(&want[..3]), "type {ty} group {g}, 3 tokens");
            }
        }
    }

    /// Split across threads or not, every output has the same bits: each is
    /// computed by the same kernel call. (The shared pool may be busy with
    /// another test, so the split is also run part by part here.)
    #[test]
    fn split_products_equal_whole_products_bit_for_bit() {
        let mut seed = 5;
        // Prefill-like (7 tokens: a 4-token tile and a 3-token one) and
        // decode-like shapes (1 sequence, 2 variants), all large enough to
        // split; 30 rows pads the last group.
        for (rows, cols, tokens) in [(30, 512, 7), (192, 576, 1), (96, 576, 2)] {
            let w: Vec<f32> = (0..rows * cols).map(|_| lcg(&mut seed)).collect();
            let x: Vec<f32> = (0..tokens * cols).map(|_| lcg(&mut seed)).collect();
            let xq: Vec<BlockQ8> = x.chunks_exact(QK).map(quantize_q8).collect();
            let nb = cols / QK;
            assert!(rows.div_ceil(ROWS) * nb * tokens >= MIN_PARALLEL_BLOCKS, "{rows}x{cols}x{tokens} would not split");
            for ty in [3u32, 8] {
                let m = Matrix::from_ggml("w", ty, &[cols as u64, rows as u64], &ggml_bytes(&w, ty)).unwrap();
                let whole = |parts: usize| {
                    let mut out = vec![f32::NAN; tokens * rows];
                    let outputs = SharedOutput::new(&mut out);
                    let groups = rows.div_ceil(ROWS);
                    for p in 0..parts {
                        let range = crate::threads::part_range(p, parts, groups);
                        match &m.weights {
                            Weights::Q4(v) => tile_groups(v, nb, rows, &xq, tokens, range, &outputs),
                            Weights::Q8(v) => tile_groups(v, nb, rows, &xq, tokens, range, &outputs),
                            Weights::F32(_) => unreachable!(),
                        }
                    }
                    out.iter().map(|f| f.to_bits()).collect::<Vec<_>>()
                };
                let one = whole(1);
                assert!(one.iter().all(|&b| !f32::from_bits(b).is_nan()));
                for parts in [2, 3, 8] {
                    assert_eq!(whole(parts), one, "type {ty}, {rows}x{cols}x{tokens} in {parts} parts");
                }
                let mut acts = Activations::default();
                acts.set(&x, tokens);
                let mut out = vec![0f32; tokens * rows];
                m.matmul(&mut acts, &mut out);
                let bits: Vec<u32> = out.iter().map(|f| f.to_bits()).collect();
                assert_eq!(bits, one, "type {ty}: matmul on {} threads", crate::threads::threads());
            }
        }
    }

    #[test]
    fn rejects_wrong_byte_counts_by_name() {
        let err = Matrix::from_ggml("blk.0.attn_q.weight", 3, &[32, 2], &[0u8; 39]).unwrap_err();
        assert!(err.to_string().contains("blk.0.attn_q.weight"), "{err}");
    }
}
