//! The element-wise and attention maths of a transformer layer, written as
//! branch-free loops the compiler vectorizes (wasm SIMD128 included). wasm
//! has no `exp` instruction and libm's is slow, so `exp` is a polynomial.

use crate::model::kv::LayerView;

/// `e^x` to about 2e-7 relative error: `x = n·ln2 + f` (Cody-Waite, ln2 in
/// two parts so `f` is exact), `e^x = 2^n · e^f` with a degree-6 Taylor
/// polynomial for |f| <= ln2/2. Saturates to e^-87 and e^88.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E).round_ties_even();
    let f = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0 + f * (1.0 + f * (0.5 + f * (1.0 / 6.0 + f * (1.0 / 24.0 + f * (1.0 / 120.0 + f * (1.0 / 720.0))))));
    f32::from_bits(((n as i32 + 127) << 23) as u32) * p
}

/// `max` without libm's NaN rules, so it compiles to a compare and select.
#[inline(always)]
pub fn max(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
    }
}

/// Root-mean-square normalization of each `weight.len()`-wide row of `x`.
pub fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut Vec<f32>) {
    let dim = weight.len();
    out.resize(x.len(), 0.0);
    for (row, o) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
        let mean_sq = dot(row, row) / dim as f32;
        let scale = 1.0 / (mean_sq + eps).sqrt();
        for ((o, &v), &w) in o.iter_mut().zip(row).zip(weight) {
            *o = v * scale * w;
        }
    }
}

pub fn add_in_place(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

/// `gate = gelu(gate) * up` (GeGLU), with GELU's tanh approximation as in
/// ggml and PyTorch's `gelu(approximate="tanh")`; tanh via `exp`.
pub fn gelu_mul(gate: &mut [f32], up: &[f32]) {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    for (g, u) in gate.iter_mut().zip(up) {
        let x = *g;
        let inner = SQRT_2_OVER_PI * x * (1.0 + 0.044_715 * x * x);
        // tanh(a) = 1 - 2 / (e^(2a) + 1), saturating cleanly through `exp`'s clamp.
        let tanh = 1.0 - 2.0 / (exp(2.0 * inner) + 1.0);
        *g = 0.5 * x * (1.0 + tanh) * u;
    }
}

/// `gate = silu(gate) * up`, SwiGLU's activation.
pub fn silu_mul(gate: &mut [f32], up: &[f32]) {
    for (g, u) in gate.iter_mut().zip(up) {
        *g = *g / (1.0 + exp(-*g)) * u;
    }
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight partial sums: vectorizes, and keeps rounding error low.
    let mut acc = [0f32; 8];
    let chunks = a.len() / 8 * 8;
    for (ca, cb) in a[..chunks].chunks_exact(8).zip(b[..chunks].chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += ca[i] * cb[i];
        }
    }
    let tail: f32 = a[chunks..].iter().zip(&b[chunks..]).map(|(x, y)| x * y).sum();
    (acc[0] + acc[4]) + (acc[1] + acc[5]) + (acc[2] + acc[6]) + (acc[3] + acc[7]) + tail
}

/// Softmax in place.
pub fn softmax(x: &mut [f32]) {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, max);
    let mut sum = 0.0;
    for v in x.iter_mut() {
        *v = exp(*v - m);
        sum += *v;
    }
    let inv = 1.0 / sum;
    for v in x.iter_mut() {
        *v *= inv;
    }
}

/// The shape of multi-head attention with grouped key/value heads.
#[derive(Debug, Clone, Copy)]
pub struct Heads {
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
}

/// Causal attention of `n` new queries (at positions `p0..p0+n`, rows of
/// `n_head * head_dim`) over a sequence's cache, which already holds their
/// keys and values (rows of `n_kv_head * head_dim`, positions `0..p0+n`,
/// split into a shared prefix and the sequence's own rows). With a sliding
/// `window`, a query at position p sees keys at p - window < j <= p.
#[allow(clippy::too_many_arguments)]
pub fn attention(
    h: Heads,
    scale: f32,
    q: &[f32],
    kv: &LayerView,
    p0: usize,
    n: usize,
    window: Option<usize>,
    scores: &mut Vec<f32>,
    out: &mut [f32],
) {
    let (hd, q_dim, kv_dim) = (h.head_dim, h.n_head * h.head_dim, h.n_kv_head * h.head_dim);
    let group = h.n_head / h.n_kv_head;
    let prefix = kv.k[0].len() / kv_dim;
    fn row<'a>(part: &[&'a [f32]; 2], prefix: usize, kv_dim: usize, j: usize, off: usize, hd: usize) -> &'a [f32] {
        let (slice, j) = if j < prefix { (part[0], j) } else { (part[1], j - prefix) };
        &slice[j * kv_dim + off..][..hd]
    }
    out.fill(0.0);
    for t in 0..n {
        let end = p0 + t + 1;
        let start = window.map_or(0, |w| end.saturating_sub(w));
        scores.resize(end - start, 0.0);
        for head in 0..h.n_head {
            let kv_off = (head / group) * hd;
            let qh = &q[t * q_dim + head * hd..][..hd];
            for (j, s) in (start..end).zip(scores.iter_mut()) {
                *s = dot(qh, row(&kv.k, prefix, kv_dim, j, kv_off, hd)) * scale;
            }
            softmax(scores);
            let oh = &mut out[t * q_dim + head * hd..][..hd];
            for (j, &w) in (start..end).zip(scores.iter()) {
                for (o, &x) in oh.iter_mut().zip(row(&kv.v, prefix, kv_dim, j, kv_off, hd)) {
                    *o += w * x;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_over_the_range_that_matters() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let (got, want) = (exp(x) as f64, (x as f64).exp());
            worst = worst.max(((got - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 1e-6, "relative error {worst}");
        assert_eq!(exp(-1000.0), exp(-87.0));
        assert!(exp(1000.0).is_finite());
    }

    #[test]
    fn softmax_sums_to_one() {
        let mut v = vec![1.0, 2.0, 3.0, -50.0];
        softmax(&mut v);
        assert!((v.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(v[2] > v[1] && v[1] > v[0]);
    }
}
