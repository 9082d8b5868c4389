//! Weight matrices in ggml block formats and the matrix-vector kernels over them.
//!
//! Blocks are repacked at load time with `f32` scales: the files store `f16`
//! scales, whose software conversion on wasm would cost more than the dot
//! products. Quantized weights multiply activations quantized to 8 bits per
//! 32-element block (llama.cpp's `q8_0`/`q8_1` scheme), so every inner loop
//! is an integer dot product. Other ggml types are converted to `Q8_0` when
//! loaded, which is lossless enough for inference (8 bits per weight).

use half::{bf16, f16};

use crate::error::{Error, Result};
use crate::gguf;

/// Elements per quantization block (all formats here).
pub const QK: usize = 32;

/// 4-bit weights, `w = d * (q - 8)`; ggml `Q4_0`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BlockQ4_0 {
    pub d: f32,
    /// Low nibble of byte j is element j, high nibble element j + 16.
    pub qs: [u8; QK / 2],
}

/// 4-bit weights with an offset, `w = d * q + m`; ggml `Q4_1`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BlockQ4_1 {
    pub d: f32,
    pub m: f32,
    pub qs: [u8; QK / 2],
}

/// 8-bit weights, `w = d * q`; ggml `Q8_0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockQ8_0 {
    pub d: f32,
    pub qs: [i8; QK],
}

impl Default for BlockQ8_0 {
    fn default() -> Self {
        Self { d: 0.0, qs: [0; QK] }
    }
}

/// An activation block: 8-bit values, scale `d`, and `s = d * sum(qs)` so
/// offset formats (`Q4_1`) need no extra pass (llama.cpp's `q8_1`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockQ8 {
    pub d: f32,
    pub s: f32,
    pub qs: [i8; QK],
}

impl Default for BlockQ8 {
    fn default() -> Self {
        Self { d: 0.0, s: 0.0, qs: [0; QK] }
    }
}

/// The storage of a weight matrix, row-major, `rows * cols` elements.
#[derive(Debug, Clone, PartialEq)]
pub enum Weights {
    F32(Vec<f32>),
    Q4_0(Vec<BlockQ4_0>),
    Q4_1(Vec<BlockQ4_1>),
    Q8_0(Vec<BlockQ8_0>),
}

/// A weight matrix: `rows` outputs, each a dot product over `cols` inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub weights: Weights,
}

fn f16_at(b: &[u8], i: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([b[i], b[i + 1]])).to_f32()
}

impl Matrix {
    /// Builds a matrix from a tensor's raw ggml bytes. `dims` is ggml order
    /// (`dims[0]` = columns). Types without a kernel here become `Q8_0`.
    pub fn from_ggml(name: &str, ggml_type: u32, dims: &[u64], raw: &[u8]) -> Result<Matrix> {
        let (cols, rows) = match dims {
            [c] => (*c, 1),
            [c, r] => (*c, *r),
            _ => return Err(Error::MissingTensor(format!("'{name}' should be a matrix, has dims {dims:?}"))),
        };
        let (cols, rows) = (cols as usize, rows as usize);
        let n = rows * cols;
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
        let weights = match ggml_type {
            0 => {
                expect(1, 4)?;
                Weights::F32(raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
            }
            1 => {
                expect(1, 2)?;
                Weights::F32((0..n).map(|i| f16_at(raw, 2 * i)).collect())
            }
            30 => {
                expect(1, 2)?;
                Weights::F32(
                    raw.chunks_exact(2).map(|c| bf16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f32()).collect(),
                )
            }
            2 => {
                expect(QK, 18)?;
                Weights::Q4_0(
                    raw.chunks_exact(18)
                        .map(|b| {
                            let mut qs = [0u8; 16];
                            qs.copy_from_slice(&b[2..18]);
                            BlockQ4_0 { d: f16_at(b, 0), qs }
                        })
                        .collect(),
                )
            }
            3 => {
                expect(QK, 20)?;
                Weights::Q4_1(
                    raw.chunks_exact(20)
                        .map(|b| {
                            let mut qs = [0u8; 16];
                            qs.copy_from_slice(&b[4..20]);
                            BlockQ4_1 { d: f16_at(b, 0), m: f16_at(b, 2), qs }
                        })
                        .collect(),
                )
            }
            8 => {
                expect(QK, 34)?;
                Weights::Q8_0(
                    raw.chunks_exact(34)
                        .map(|b| {
                            let mut qs = [0i8; QK];
                            for (q, &byte) in qs.iter_mut().zip(&b[2..34]) {
                                *q = byte as i8;
                            }
                            BlockQ8_0 { d: f16_at(b, 0), qs }
                        })
                        .collect(),
                )
            }
            _ => {
                let values = dequantize_with_candle(name, ggml_type, dims, raw)?;
                if cols % QK != 0 {
                    Weights::F32(values)
                } else {
                    Weights::Q8_0(values.chunks_exact(QK).map(quantize_block_q8_0).collect())
                }
            }
        };
        Ok(Matrix { rows, cols, weights })
    }

    /// The ggml-like name of the storage, for reports.
    pub fn format(&self) -> &'static str {
        match self.weights {
            Weights::F32(_) => "F32",
            Weights::Q4_0(_) => "Q4_0",
            Weights::Q4_1(_) => "Q4_1",
            Weights::Q8_0(_) => "Q8_0",
        }
    }

    /// Bytes held in memory.
    pub fn memory_bytes(&self) -> usize {
        match &self.weights {
            Weights::F32(v) => v.len() * 4,
            Weights::Q4_0(v) => v.len() * std::mem::size_of::<BlockQ4_0>(),
            Weights::Q4_1(v) => v.len() * std::mem::size_of::<BlockQ4_1>(),
            Weights::Q8_0(v) => v.len() * std::mem::size_of::<BlockQ8_0>(),
        }
    }

    /// Row `r` as floats (embedding lookup).
    pub fn row_f32(&self, r: usize, out: &mut [f32]) {
        let c = self.cols;
        let nb = c / QK;
        match &self.weights {
            Weights::F32(v) => out.copy_from_slice(&v[r * c..(r + 1) * c]),
            Weights::Q4_0(v) => {
                for (b, o) in v[r * nb..(r + 1) * nb].iter().zip(out.chunks_exact_mut(QK)) {
                    for j in 0..QK / 2 {
                        o[j] = b.d * ((b.qs[j] & 0x0F) as f32 - 8.0);
                        o[j + QK / 2] = b.d * ((b.qs[j] >> 4) as f32 - 8.0);
                    }
                }
            }
            Weights::Q4_1(v) => {
                for (b, o) in v[r * nb..(r + 1) * nb].iter().zip(out.chunks_exact_mut(QK)) {
                    for j in 0..QK / 2 {
                        o[j] = b.d * (b.qs[j] & 0x0F) as f32 + b.m;
                        o[j + QK / 2] = b.d * (b.qs[j] >> 4) as f32 + b.m;
                    }
                }
            }
            Weights::Q8_0(v) => {
                for (b, o) in v[r * nb..(r + 1) * nb].iter().zip(out.chunks_exact_mut(QK)) {
                    for (o, &q) in o.iter_mut().zip(&b.qs) {
                        *o = b.d * q as f32;
                    }
                }
            }
        }
    }

    /// Whether this matrix multiplies quantized activations (else f32 ones).
    pub fn takes_quantized(&self) -> bool {
        !matches!(self.weights, Weights::F32(_))
    }

    /// `out[t * rows + r] = dot(row r, input t)` for every input row `t`.
    /// `xq` holds `tokens * cols / QK` activation blocks, `xf` the same
    /// activations as floats (used by `F32` weights).
    pub fn matmul(&self, xq: &[BlockQ8], xf: &[f32], tokens: usize, out: &mut [f32]) {
        let rows = self.rows;
        let nb = self.cols / QK;
        debug_assert_eq!(out.len(), tokens * rows);
        match &self.weights {
            Weights::F32(w) => {
                for r in 0..rows {
                    let wr = &w[r * self.cols..(r + 1) * self.cols];
                    for t in 0..tokens {
                        out[t * rows + r] = dot_f32(wr, &xf[t * self.cols..(t + 1) * self.cols]);
                    }
                }
            }
            Weights::Q4_0(w) => {
                for r in 0..rows {
                    let wr = &w[r * nb..(r + 1) * nb];
                    for t in 0..tokens {
                        out[t * rows + r] = kernels::dot_q4_0(wr, &xq[t * nb..(t + 1) * nb]);
                    }
                }
            }
            Weights::Q4_1(w) => {
                for r in 0..rows {
                    let wr = &w[r * nb..(r + 1) * nb];
                    for t in 0..tokens {
                        out[t * rows + r] = kernels::dot_q4_1(wr, &xq[t * nb..(t + 1) * nb]);
                    }
                }
            }
            Weights::Q8_0(w) => {
                for r in 0..rows {
                    let wr = &w[r * nb..(r + 1) * nb];
                    for t in 0..tokens {
                        out[t * rows + r] = kernels::dot_q8_0(wr, &xq[t * nb..(t + 1) * nb]);
                    }
                }
            }
        }
    }
}

/// Converts ggml types without a kernel here to floats, using candle's
/// dequantizers (K-quants, Q5_x, ...).
fn dequantize_with_candle(name: &str, ggml_type: u32, dims: &[u64], raw: &[u8]) -> Result<Vec<f32>> {
    use candle_core::quantized::{ggml_file::qtensor_from_ggml, GgmlDType};
    use candle_core::Device;
    let unsupported = || Error::UnsupportedTensorType { tensor: name.to_string(), ggml_type };
    let dtype = match gguf::type_name(ggml_type) {
        "Q5_0" => GgmlDType::Q5_0,
        "Q5_1" => GgmlDType::Q5_1,
        "Q2_K" => GgmlDType::Q2K,
        "Q3_K" => GgmlDType::Q3K,
        "Q4_K" => GgmlDType::Q4K,
        "Q5_K" => GgmlDType::Q5K,
        "Q6_K" => GgmlDType::Q6K,
        _ => return Err(unsupported()),
    };
    // candle wants dims outermost first.
    let shape: Vec<usize> = dims.iter().rev().map(|&d| d as usize).collect();
    let fail = |e: candle_core::Error| Error::InvalidModel(format!("tensor '{name}': {e}"));
    let tensor = qtensor_from_ggml(dtype, raw, shape, &Device::Cpu).map_err(fail)?;
    tensor.dequantize(&Device::Cpu).and_then(|t| t.flatten_all()?.to_vec1::<f32>()).map_err(fail)
}

/// Quantizes 32 floats to a `Q8_0` block (round to nearest, like ggml).
pub fn quantize_block_q8_0(x: &[f32]) -> BlockQ8_0 {
    let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let mut qs = [0i8; QK];
    for (q, &v) in qs.iter_mut().zip(x) {
        *q = (v * id).round() as i8;
    }
    BlockQ8_0 { d, qs }
}

/// Quantizes activations (length a multiple of `QK`) into `out`.
pub fn quantize_activations(x: &[f32], out: &mut Vec<BlockQ8>) {
    out.clear();
    out.extend(x.chunks_exact(QK).map(|c| {
        let b = quantize_block_q8_0(c);
        let sum: i32 = b.qs.iter().map(|&q| q as i32).sum();
        BlockQ8 { d: b.d, s: b.d * sum as f32, qs: b.qs }
    }));
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

/// Block dot products. The portable versions are written so LLVM vectorizes
/// them natively; wasm gets hand-written SIMD128 versions.
pub mod kernels {
    use super::*;

    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    pub use portable::{dot_q4_0, dot_q4_1, dot_q8_0};
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    pub use simd128::{dot_q4_0, dot_q4_1, dot_q8_0};

    pub mod portable {
        use super::*;

        #[inline]
        fn isum_nibbles(qs: &[u8; QK / 2], x: &[i8; QK], offset: i32) -> i32 {
            let mut s = 0i32;
            for j in 0..QK / 2 {
                s += ((qs[j] & 0x0F) as i32 - offset) * x[j] as i32;
                s += ((qs[j] >> 4) as i32 - offset) * x[j + QK / 2] as i32;
            }
            s
        }

        pub fn dot_q4_0(w: &[BlockQ4_0], x: &[BlockQ8]) -> f32 {
            w.iter().zip(x).map(|(bw, bx)| bw.d * bx.d * isum_nibbles(&bw.qs, &bx.qs, 8) as f32).sum()
        }

        pub fn dot_q4_1(w: &[BlockQ4_1], x: &[BlockQ8]) -> f32 {
            w.iter()
                .zip(x)
                .map(|(bw, bx)| bw.d * bx.d * isum_nibbles(&bw.qs, &bx.qs, 0) as f32 + bw.m * bx.s)
                .sum()
        }

        pub fn dot_q8_0(w: &[BlockQ8_0], x: &[BlockQ8]) -> f32 {
            w.iter()
                .zip(x)
                .map(|(bw, bx)| {
                    let s: i32 = bw.qs.iter().zip(&bx.qs).map(|(&a, &b)| a as i32 * b as i32).sum();
                    bw.d * bx.d * s as f32
                })
                .sum()
        }
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    pub mod simd128 {
        use super::*;
        use core::arch::wasm32::*;

        /// Integer dot of 16 unsigned nibble values (0..15, as i8) with 16 i8 values.
        #[inline(always)]
        fn idot16(a: v128, b: v128) -> v128 {
            let lo = i32x4_dot_i16x8(i16x8_extend_low_i8x16(a), i16x8_extend_low_i8x16(b));
            let hi = i32x4_dot_i16x8(i16x8_extend_high_i8x16(a), i16x8_extend_high_i8x16(b));
            i32x4_add(lo, hi)
        }

        #[inline(always)]
        fn hsum(v: v128) -> f32 {
            f32x4_extract_lane::<0>(v)
                + f32x4_extract_lane::<1>(v)
                + f32x4_extract_lane::<2>(v)
                + f32x4_extract_lane::<3>(v)
        }

        #[inline(always)]
        fn load16(p: &[u8; 16]) -> v128 {
            // SAFETY: `p` is 16 readable bytes; v128_load has no alignment requirement.
            unsafe { v128_load(p.as_ptr() as *const v128) }
        }

        #[inline(always)]
        fn load_i8(p: &[i8; QK], half: usize) -> v128 {
            // SAFETY: `half` is 0 or 1, so bytes half*16..half*16+16 lie inside the 32-byte array.
            unsafe { v128_load(p.as_ptr().add(half * 16) as *const v128) }
        }

        pub fn dot_q4_0(w: &[BlockQ4_0], x: &[BlockQ8]) -> f32 {
            let mut acc = f32x4_splat(0.0);
            let mask = u8x16_splat(0x0F);
            let eight = i8x16_splat(8);
            for (bw, bx) in w.iter().zip(x) {
                let packed = load16(&bw.qs);
                let lo = i8x16_sub(v128_and(packed, mask), eight);
                let hi = i8x16_sub(u8x16_shr(packed, 4), eight);
                let s = i32x4_add(idot16(lo, load_i8(&bx.qs, 0)), idot16(hi, load_i8(&bx.qs, 1)));
                acc = f32x4_add(acc, f32x4_mul(f32x4_convert_i32x4(s), f32x4_splat(bw.d * bx.d)));
            }
            hsum(acc)
        }

        pub fn dot_q4_1(w: &[BlockQ4_1], x: &[BlockQ8]) -> f32 {
            let mut acc = f32x4_splat(0.0);
            let mut offsets = 0f32;
            let mask = u8x16_splat(0x0F);
            for (bw, bx) in w.iter().zip(x) {
                let packed = load16(&bw.qs);
                let lo = v128_and(packed, mask);
                let hi = u8x16_shr(packed, 4);
                let s = i32x4_add(idot16(lo, load_i8(&bx.qs, 0)), idot16(hi, load_i8(&bx.qs, 1)));
                acc = f32x4_add(acc, f32x4_mul(f32x4_convert_i32x4(s), f32x4_splat(bw.d * bx.d)));
                offsets += bw.m * bx.s;
            }
            hsum(acc) + offsets
        }

        pub fn dot_q8_0(w: &[BlockQ8_0], x: &[BlockQ8]) -> f32 {
            let mut acc = f32x4_splat(0.0);
            for (bw, bx) in w.iter().zip(x) {
                let s = i32x4_add(
                    idot16(load_i8(&bw.qs, 0), load_i8(&bx.qs, 0)),
                    idot16(load_i8(&bw.qs, 1), load_i8(&bx.qs, 1)),
                );
                acc = f32x4_add(acc, f32x4_mul(f32x4_convert_i32x4(s), f32x4_splat(bw.d * bx.d)));
            }
            hsum(acc)
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

    #[test]
    fn quantized_dots_match_float_dots() {
        let mut seed = 7;
        let cols = 256;
        let w: Vec<f32> = (0..cols).map(|_| lcg(&mut seed)).collect();
        let x: Vec<f32> = (0..cols).map(|_| lcg(&mut seed)).collect();
        let exact = dot_f32(&w, &x);
        let mut xq = Vec::new();
        quantize_activations(&x, &mut xq);
        let q8 = Matrix {
            rows: 1,
            cols,
            weights: Weights::Q8_0(w.chunks_exact(QK).map(quantize_block_q8_0).collect()),
        };
        let mut out = [0f32];
        q8.matmul(&xq, &x, 1, &mut out);
        assert!((out[0] - exact).abs() < 0.05, "q8_0 {} vs {exact}", out[0]);

        // Q4_1 via its definition: d = (max-min)/15, m = min.
        let blocks: Vec<BlockQ4_1> = w
            .chunks_exact(QK)
            .map(|c| {
                let (mn, mx) = c.iter().fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
                let d = (mx - mn) / 15.0;
                let mut qs = [0u8; 16];
                for j in 0..16 {
                    let q0 = ((c[j] - mn) / d).round() as u8;
                    let q1 = ((c[j + 16] - mn) / d).round() as u8;
                    qs[j] = q0 | (q1 << 4);
                }
                BlockQ4_1 { d, m: mn, qs }
            })
            .collect();
        let q41 = Matrix { rows: 1, cols, weights: Weights::Q4_1(blocks) };
        let mut deq = vec![0f32; cols];
        q41.row_f32(0, &mut deq);
        let want = dot_f32(&deq, &x);
        q41.matmul(&xq, &x, 1, &mut out);
        assert!((out[0] - want).abs() < 0.05, "q4_1 {} vs {want}", out[0]);
        assert!((want - exact).abs() < 0.5);
    }

    #[test]
    fn rejects_wrong_byte_counts_by_name() {
        let err = Matrix::from_ggml("blk.0.attn_q.weight", 3, &[32, 2], &[0u8; 39]).unwrap_err();
        assert!(err.to_string().contains("blk.0.attn_q.weight"), "{err}");
    }
}
