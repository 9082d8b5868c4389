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
            self.q8.clear();
            self.q8.extend(self.x.chunks_exact(QK).map(quantize_q8));
            self.has_q8 = true;
        }
        &self.q8
    }
}

/// 8-bit activation block, rounding to nearest like ggml's `q8_1`.
pub fn quantize_q8(x: &[f32]) -> BlockQ8 {
    let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let mut qs = [0i8; QK];
    let mut sum = 0i32;
    for (q, &v) in qs.iter_mut().zip(x) {
        *q = (v * id).round() as i8;
        sum += *q as i32;
    }
    BlockQ8 { d, s: d * sum as f32, sum, qs }
}

fn f16_at(b: &[u8], i: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([b[i], b[i + 1]])).to_f32()
}

/// A row of 32-element blocks in "scale, offset, 32 values" form, the
/// common ground every file format is read into before packing.
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
        let n = rows
            .checked_mul(cols)
            .ok_or_else(|| Error::InvalidModel(format!("tensor '{name}' is too large")))?;
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
        let float_weights = |values: Vec<f32>| Matrix { rows, cols, weights: Weights::F32(values), file_type: ggml_type };
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
                    if ggml_type == 1 { f16::from_bits(bits).to_f32() } else { bf16::from_bits(bits).to_f32() }
                };
                return Ok(float_weights(raw.chunks_exact(2).map(conv).collect()));
            }
            2 => {
                expect(QK, 18)?;
                Weights::Q4(pack_q4(rows, cols, raw.chunks_exact(18).map(|b| {
                    let d = f16_at(b, 0);
                    RowBlock { d, m: -8.0 * d, q: nibbles(&b[2..18]) }
                })))
            }
            3 => {
                expect(QK, 20)?;
                Weights::Q4(pack_q4(rows, cols, raw.chunks_exact(20).map(|b| RowBlock {
                    d: f16_at(b, 0),
                    m: f16_at(b, 2),
                    q: nibbles(&b[4..20]),
                })))
            }
            8 => {
                expect(QK, 34)?;
                Weights::Q8(pack_q8(rows, cols, raw.chunks_exact(34).map(|b| {
                    let mut q = [0i16; QK];
                    for (q, &byte) in q.iter_mut().zip(&b[2..34]) {
                        *q = byte as i8 as i16;
                    }
                    RowBlock { d: f16_at(b, 0), m: 0.0, q }
                })))
            }
            _ => {
                let values = dequantize_with_candle(name, ggml_type, dims, raw)?;
                if rows == 1 || cols % QK != 0 {
                    return Ok(float_weights(values));
                }
                Weights::Q8(pack_q8(rows, cols, values.chunks_exact(QK).map(|c| {
                    let b = quantize_q8(c);
                    RowBlock { d: b.d, m: 0.0, q: b.qs.map(|v| v as i16) }
                })))
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
            Weights::Q4(w) => {
                let x = input.q8();
                let mut sums = [0f32; ROWS];
                for (g, group) in w.chunks_exact(nb).enumerate() {
                    for t in 0..tokens {
                        kernels::dot_q4x4(group, &x[t * nb..(t + 1) * nb], &mut sums);
                        scatter(&sums, g, rows, &mut out[t * rows..(t + 1) * rows]);
                    }
                }
            }
            Weights::Q8(w) => {
                let x = input.q8();
                let mut sums = [0f32; ROWS];
                for (g, group) in w.chunks_exact(nb).enumerate() {
                    for t in 0..tokens {
                        kernels::dot_q8x4(group, &x[t * nb..(t + 1) * nb], &mut sums);
                        scatter(&sums, g, rows, &mut out[t * rows..(t + 1) * rows]);
                    }
                }
            }
        }
    }
}

/// Writes a group's four sums into a row of outputs (fewer in a padded last group).
#[inline]
fn scatter(sums: &[f32; ROWS], group: usize, rows: usize, out: &mut [f32]) {
    let start = group * ROWS;
    let n = ROWS.min(rows - start);
    out[start..start + n].copy_from_slice(&sums[..n]);
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

/// Groups blocks (row-major: `cols / QK` per row) four rows at a time,
/// padding the last group with zero rows.
fn groups(rows: usize, cols: usize, blocks: impl Iterator<Item = RowBlock>) -> Vec<Vec<RowBlock>> {
    let nb = cols / QK;
    let mut per_row: Vec<Vec<RowBlock>> = Vec::with_capacity(rows.div_ceil(ROWS) * ROWS);
    let mut current = Vec::with_capacity(nb);
    for b in blocks {
        current.push(b);
        if current.len() == nb {
            per_row.push(std::mem::replace(&mut current, Vec::with_capacity(nb)));
        }
    }
    while per_row.len() % ROWS != 0 {
        per_row.push((0..nb).map(|_| RowBlock { d: 0.0, m: 0.0, q: [0; QK] }).collect());
    }
    per_row
}

fn pack_q4(rows: usize, cols: usize, blocks: impl Iterator<Item = RowBlock>) -> Vec<Q4x4> {
    let per_row = groups(rows, cols, blocks);
    let nb = cols / QK;
    let mut out = Vec::with_capacity(per_row.len() / ROWS * nb);
    for four in per_row.chunks_exact(ROWS) {
        for b in 0..nb {
            let mut packed = Q4x4 { d: [0.0; ROWS], m: [0.0; ROWS], qs: [0; 64] };
            for (j, row) in four.iter().enumerate() {
                let rb = &row[b];
                packed.d[j] = rb.d;
                packed.m[j] = rb.m;
                for k in 0..4 {
                    for i in 0..4 {
                        packed.qs[16 * k + 4 * j + i] = (rb.q[8 * k + i] as u8) | ((rb.q[8 * k + 4 + i] as u8) << 4);
                    }
                }
            }
            out.push(packed);
        }
    }
    out
}

fn pack_q8(rows: usize, cols: usize, blocks: impl Iterator<Item = RowBlock>) -> Vec<Q8x4> {
    let per_row = groups(rows, cols, blocks);
    let nb = cols / QK;
    let mut out = Vec::with_capacity(per_row.len() / ROWS * nb);
    for four in per_row.chunks_exact(ROWS) {
        for b in 0..nb {
            let mut packed = Q8x4 { d: [0.0; ROWS], qs: [0; 128] };
            for (j, row) in four.iter().enumerate() {
                let rb = &row[b];
                packed.d[j] = rb.d;
                for k in 0..8 {
                    for i in 0..4 {
                        packed.qs[16 * k + 4 * j + i] = (rb.q[4 * k + i] + 128) as u8;
                    }
                }
            }
            out.push(packed);
        }
    }
    out
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

pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    // Eight partial sums: lets the compiler vectorize and keeps rounding error low.
    let mut acc = [0f32; 8];
    let chunks = a.len() / 8 * 8;
    for (ca, cb) in a[..chunks].chunks_exact(8).zip(b[..chunks].chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += ca[i] * cb[i];
        }
    }
    let tail: f32 = a[chunks..].iter().zip(&b[chunks..]).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// Dot products of one four-row group with one activation row. Three
/// builds: portable (native; LLVM vectorizes it), SIMD128, and relaxed SIMD
/// (`i32x4.relaxed_dot_i8x16_i7x16_add`: 16 multiply-adds per instruction).
pub mod kernels {
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    pub use portable::{dot_q4x4, dot_q8x4};
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    pub use simd::{dot_q4x4, dot_q8x4};

    /// Which kernel family this build uses, for reports.
    pub const KERNELS: &str = if cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd")) {
        "wasm relaxed-simd"
    } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "wasm simd128"
    } else {
        "portable"
    };

    pub mod portable {
        use crate::quant::{BlockQ8, Q4x4, Q8x4, ROWS};

        pub fn dot_q4x4(w: &[Q4x4], x: &[BlockQ8], out: &mut [f32; ROWS]) {
            let mut acc = [0f32; ROWS];
            for (b, xb) in w.iter().zip(x) {
                for j in 0..ROWS {
                    let mut s = 0i32;
                    for k in 0..4 {
                        for i in 0..4 {
                            let byte = b.qs[16 * k + 4 * j + i];
                            s += (byte & 0x0F) as i32 * xb.qs[8 * k + i] as i32;
                            s += (byte >> 4) as i32 * xb.qs[8 * k + 4 + i] as i32;
                        }
                    }
                    acc[j] += s as f32 * b.d[j] * xb.d + b.m[j] * xb.s;
                }
            }
            *out = acc;
        }

        pub fn dot_q8x4(w: &[Q8x4], x: &[BlockQ8], out: &mut [f32; ROWS]) {
            let mut acc = [0f32; ROWS];
            for (b, xb) in w.iter().zip(x) {
                for j in 0..ROWS {
                    let mut s = 0i32;
                    for k in 0..8 {
                        for i in 0..4 {
                            s += (b.qs[16 * k + 4 * j + i] as i32 - 128) * xb.qs[4 * k + i] as i32;
                        }
                    }
                    acc[j] += s as f32 * b.d[j] * xb.d;
                }
            }
            *out = acc;
        }
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    pub mod simd {
        use crate::quant::{BlockQ8, Q4x4, Q8x4, ROWS};
        use core::arch::wasm32::*;

        /// Lane j += sum over i of a[4j + i] * b[4j + i]; `b` below 128.
        #[cfg(target_feature = "relaxed-simd")]
        #[inline(always)]
        fn dot4(a: v128, b: v128, acc: v128) -> v128 {
            i32x4_relaxed_dot_i8x16_i7x16_add(a, b, acc)
        }

        /// The same with plain SIMD128: widen, multiply, add pairs twice.
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
        fn load(p: *const u8) -> v128 {
            // SAFETY: callers pass pointers to 16 readable bytes; no alignment needed.
            unsafe { v128_load(p as *const v128) }
        }

        #[inline(always)]
        fn splat4(p: *const u8) -> v128 {
            // SAFETY: callers pass pointers to 4 readable bytes.
            unsafe { v128_load32_splat(p as *const u32) }
        }

        pub fn dot_q4x4(w: &[Q4x4], x: &[BlockQ8], out: &mut [f32; ROWS]) {
            let mask = u8x16_splat(0x0F);
            let mut acc = f32x4_splat(0.0);
            for (b, xb) in w.iter().zip(x) {
                let q = b.qs.as_ptr();
                let xq = xb.qs.as_ptr() as *const u8;
                let mut s = i32x4_splat(0);
                for k in 0..4 {
                    // SAFETY: k < 4, so 16k + 16 <= 64 bytes of qs and 8k + 8 <= 32 of xq.
                    let (v, xa, xb2) = unsafe { (load(q.add(16 * k)), splat4(xq.add(8 * k)), splat4(xq.add(8 * k + 4))) };
                    s = dot4(xa, v128_and(v, mask), s);
                    s = dot4(xb2, u8x16_shr(v, 4), s);
                }
                let d = load(b.d.as_ptr() as *const u8);
                let m = load(b.m.as_ptr() as *const u8);
                acc = f32x4_add(acc, f32x4_mul(f32x4_convert_i32x4(s), f32x4_mul(d, f32x4_splat(xb.d))));
                acc = f32x4_add(acc, f32x4_mul(m, f32x4_splat(xb.s)));
            }
            // SAFETY: out is 4 f32s = 16 bytes.
            unsafe { v128_store(out.as_mut_ptr() as *mut v128, acc) };
        }

        pub fn dot_q8x4(w: &[Q8x4], x: &[BlockQ8], out: &mut [f32; ROWS]) {
            let mut acc = f32x4_splat(0.0);
            for (b, xb) in w.iter().zip(x) {
                let q = b.qs.as_ptr();
                let xq = xb.qs.as_ptr() as *const u8;
                let s = block_q8(q, xq, xb.sum);
                let d = load(b.d.as_ptr() as *const u8);
                acc = f32x4_add(acc, f32x4_mul(f32x4_convert_i32x4(s), f32x4_mul(d, f32x4_splat(xb.d))));
            }
            // SAFETY: out is 4 f32s = 16 bytes.
            unsafe { v128_store(out.as_mut_ptr() as *mut v128, acc) };
        }

        /// Integer sums of one block for four rows: `sum((u - 128) * x)`.
        #[cfg(target_feature = "relaxed-simd")]
        #[inline(always)]
        fn block_q8(q: *const u8, xq: *const u8, xsum: i32) -> v128 {
            let mask = u8x16_splat(0x0F);
            let (mut lo, mut hi) = (i32x4_splat(0), i32x4_splat(0));
            for k in 0..8 {
                // SAFETY: k < 8, so 16k + 16 <= 128 bytes of q and 4k + 4 <= 32 of xq.
                let (v, xa) = unsafe { (load(q.add(16 * k)), splat4(xq.add(4 * k))) };
                lo = dot4(xa, v128_and(v, mask), lo);
                hi = dot4(xa, u8x16_shr(v, 4), hi);
            }
            i32x4_sub(i32x4_add(i32x4_shl(hi, 4), lo), i32x4_splat(128 * xsum))
        }

        #[cfg(not(target_feature = "relaxed-simd"))]
        #[inline(always)]
        fn block_q8(q: *const u8, xq: *const u8, _xsum: i32) -> v128 {
            let flip = u8x16_splat(0x80);
            let mut s = i32x4_splat(0);
            for k in 0..8 {
                // SAFETY: k < 8, so 16k + 16 <= 128 bytes of q and 4k + 4 <= 32 of xq.
                let (v, xa) = unsafe { (load(q.add(16 * k)), splat4(xq.add(4 * k))) };
                s = dot4(xa, v128_xor(v, flip), s);
            }
            s
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
        let mut seed = 7;
        let (rows, cols, tokens) = (6, 256, 3); // 6 rows: a padded last group
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

    #[test]
    fn rejects_wrong_byte_counts_by_name() {
        let err = Matrix::from_ggml("blk.0.attn_q.weight", 3, &[32, 2], &[0u8; 39]).unwrap_err();
        assert!(err.to_string().contains("blk.0.attn_q.weight"), "{err}");
    }
}
