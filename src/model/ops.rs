//! The element-wise and attention maths of a transformer layer, written as
//! branch-free loops the compiler vectorizes (wasm SIMD128 included). wasm
//! has no `exp` instruction and libm's is slow, so `exp` is a polynomial.

use crate::model::kv::{LayerView, PARTS};

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
/// A prompt's rows are split across the threads ([`crate::threads::rows_mut`]).
pub fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut Vec<f32>) {
    let dim = weight.len();
    out.resize(x.len(), 0.0);
    crate::threads::rows_mut(out, dim, &|first, out| {
        for (row, o) in x[first * dim..].chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
            let mean_sq = dot(row, row) / dim as f32;
            let scale = 1.0 / (mean_sq + eps).sqrt();
            for ((o, &v), &w) in o.iter_mut().zip(row).zip(weight) {
                *o = v * scale * w;
            }
        }
    });
}

pub fn add_in_place(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

/// `gate = gelu(gate) * up` (GeGLU), with GELU's tanh approximation as in
/// ggml and PyTorch's `gelu(approximate="tanh")`; tanh via `exp`.
/// Rows are `width` wide; a prompt's are split across the threads.
pub fn gelu_mul(gate: &mut [f32], up: &[f32], width: usize) {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    crate::threads::rows_mut(gate, width, &|first, gate| {
        for (g, u) in gate.iter_mut().zip(&up[first * width..]) {
            let x = *g;
            let inner = SQRT_2_OVER_PI * x * (1.0 + 0.044_715 * x * x);
            // tanh(a) = 1 - 2 / (e^(2a) + 1), saturating cleanly through `exp`'s clamp.
            let tanh = 1.0 - 2.0 / (exp(2.0 * inner) + 1.0);
            *g = 0.5 * x * (1.0 + tanh) * u;
        }
    });
}

/// `gate = silu(gate) * up`, SwiGLU's activation; rows as in [`gelu_mul`].
pub fn silu_mul(gate: &mut [f32], up: &[f32], width: usize) {
    crate::threads::rows_mut(gate, width, &|first, gate| {
        for (g, u) in gate.iter_mut().zip(&up[first * width..]) {
            *g = *g / (1.0 + exp(-*g)) * u;
        }
    });
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if a.len() % 8 == 0 && a.len() == b.len() {
        return simd::dot8(a, b);
    }
    dot_scalar(a, b)
}

/// [`dot`] in the order every build follows: eight partial sums (vectorizes,
/// and keeps rounding error low), combined `(s0 + s4) + (s1 + s5) + ...`.
pub fn dot_scalar(a: &[f32], b: &[f32]) -> f32 {
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

/// Softmax in place, in [`softmax_scalar`]'s order (SIMD builds four lanes at a time).
pub fn softmax(x: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd::softmax(x);
        return;
    }
    #[allow(unreachable_code)]
    softmax_scalar(x)
}

/// Softmax in the order every build follows: the exponentials are summed in
/// four interleaved partial sums (element `i` into sum `i % 4`, combined
/// `(s0 + s1) + (s2 + s3)`), the order the SIMD form adds them in, so every
/// build gets the same bits (`tests/web.rs` checks the SIMD form against this).
pub fn softmax_scalar(x: &mut [f32]) {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, max);
    let mut acc = [0f32; 4];
    for (i, v) in x.iter_mut().enumerate() {
        *v = exp(*v - m);
        acc[i % 4] += *v;
    }
    let inv = 1.0 / ((acc[0] + acc[1]) + (acc[2] + acc[3]));
    for v in x.iter_mut() {
        *v *= inv;
    }
}

/// `log(sum(exp(x)))`, stable, in [`log_sum_exp_scalar`]'s order (SIMD
/// builds four lanes at a time). Runs over the whole vocabulary for every
/// drawn token.
pub fn log_sum_exp(x: &[f32]) -> f32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        return simd::log_sum_exp(x);
    }
    #[allow(unreachable_code)]
    log_sum_exp_scalar(x)
}

/// Log-sum-exp in the order every build follows: the polynomial [`exp`] of
/// `x - max` summed in `f64` in four interleaved partial sums (element `i`
/// into sum `i % 4`, combined `(s0 + s1) + (s2 + s3)`), so every build gets
/// the same bits (`tests/web.rs` checks the SIMD form against this).
pub fn log_sum_exp_scalar(x: &[f32]) -> f32 {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, max);
    if !max.is_finite() {
        return max;
    }
    let mut sums = [0f64; 4];
    for (i, &l) in x.iter().enumerate() {
        sums[i % 4] += exp(l - max) as f64;
    }
    max + ((sums[0] + sums[1]) + (sums[2] + sums[3])).ln() as f32
}

/// `scores[g * stride + j] = dot(query g, key j) * scale` for the `group`
/// queries in `q` (`head_dim` apart) and every key (`keys`: consecutive
/// parts of contiguous rows of `head_dim`). SIMD builds take four keys of a
/// part at a time (independent sums instead of one dependency chain), each
/// summed in the same order as [`dot`], so the grouping changes no bits.
fn key_scores(q: &[f32], group: usize, head_dim: usize, keys: [&[f32]; PARTS], scale: f32, stride: usize, scores: &mut [f32]) {
    let query = |g: usize| &q[g * head_dim..(g + 1) * head_dim];
    let mut j = 0;
    for part in keys {
        // The SIMD form takes the part's keys four at a time and leaves the rest.
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        let part = match head_dim % 8 {
            0 => {
                let quads = part.chunks_exact(4 * head_dim);
                let rest = quads.remainder();
                for quad in quads {
                    let key: [&[f32]; 4] = std::array::from_fn(|i| &quad[i * head_dim..(i + 1) * head_dim]);
                    for g in 0..group {
                        simd::scores_x4(query(g), key, scale, &mut scores[g * stride + j..g * stride + j + 4]);
                    }
                    j += 4;
                }
                rest
            }
            _ => part,
        };
        for k in part.chunks_exact(head_dim) {
            for g in 0..group {
                scores[g * stride + j] = dot(query(g), k) * scale;
            }
            j += 1;
        }
    }
}

/// The shape of multi-head attention with grouped key/value heads.
#[derive(Debug, Clone, Copy)]
pub struct Heads {
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
}

/// One sequence's part of a batched attention: `n` new queries (at
/// positions `p0..p0+n`, rows of `n_head * head_dim`) over its cache, which
/// already holds their keys and values (positions `0..p0+n`, per key/value
/// head, split into a shared prefix and its own rows).
pub struct AttentionSegment<'a> {
    pub q: &'a [f32],
    pub kv: LayerView<'a>,
    pub p0: usize,
    pub n: usize,
}

/// Attention work smaller than this many query-key pairs (one head, one
/// key each: a 64-wide dot product and a 64-wide weighted add, about 3 µs
/// per 256) runs on one thread: below it, the hand-off costs what it saves.
const MIN_PARALLEL_PRODUCTS: usize = 256;

/// Causal attention of [`attention_batch`] for one sequence.
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
    attention_batch(h, scale, &[AttentionSegment { q, kv: *kv, p0, n }], window, scores, out);
}

/// Causal attention of every segment's queries; `out` holds their rows in
/// segment order. With a sliding `window`, a query at position p sees keys
/// at p - window < j <= p.
///
/// One thread serves the query heads that share a key/value head in one
/// pass over the cache (each key row read once for the group); with several
/// threads ([`crate::threads`]) every (query, head) is a unit of its own and
/// the units are split across them. Every score and output element is summed
/// in the same order either way, so the bits do not depend on the threads.
pub fn attention_batch(
    h: Heads,
    scale: f32,
    segments: &[AttentionSegment],
    window: Option<usize>,
    scores: &mut Vec<f32>,
    out: &mut [f32],
) {
    let (hd, q_dim) = (h.head_dim, h.n_head * h.head_dim);
    let rows: usize = segments.iter().map(|s| s.n).sum();
    assert!(out.len() >= rows * q_dim && segments.iter().all(|s| s.q.len() >= s.n * q_dim));
    let products: usize = segments.iter().map(|s| s.n * (s.p0 + s.n) * h.n_head).sum();
    let threads = crate::threads::threads();
    if threads == 1 || products < MIN_PARALLEL_PRODUCTS {
        let group = h.n_head / h.n_kv_head;
        let mut row = 0;
        for s in segments {
            for t in 0..s.n {
                for kvh in 0..h.n_kv_head {
                    let heads = kvh * group..(kvh + 1) * group;
                    let o = &mut out[(row + t) * q_dim + heads.start * hd..][..group * hd];
                    attend(h, scale, s, t, heads, window, scores, o);
                }
            }
            row += s.n;
        }
        return;
    }
    // Units in order (segment, token, head); a part is a contiguous range.
    let starts: Vec<usize> = segments
        .iter()
        .scan(0, |row, s| {
            let start = *row;
            *row += s.n;
            Some(start)
        })
        .collect();
    let units = rows * h.n_head;
    let parts = (threads * crate::threads::PARTS_PER_THREAD).min(units);
    let shared = crate::threads::SharedOutput::new(out);
    crate::threads::run(parts, &|p| {
        let (mut scores, mut o) = (Vec::new(), vec![0f32; hd]);
        for u in crate::threads::part_range(p, parts, units) {
            let (row, head) = (u / h.n_head, u % h.n_head);
            let si = starts.partition_point(|&start| start <= row) - 1;
            attend(h, scale, &segments[si], row - starts[si], head..head + 1, window, &mut scores, &mut o);
            shared.write(row * q_dim + head * hd, &o);
        }
    });
}

/// Attention of query `t` of segment `s` for the query heads `heads` (all
/// sharing one key/value head) into `out` (their `head_dim` outputs in order).
#[allow(clippy::too_many_arguments)]
fn attend(
    h: Heads,
    scale: f32,
    s: &AttentionSegment,
    t: usize,
    heads: std::ops::Range<usize>,
    window: Option<usize>,
    scores: &mut Vec<f32>,
    out: &mut [f32],
) {
    let (hd, q_dim) = (h.head_dim, h.n_head * h.head_dim);
    let group = heads.len();
    let kv = s.kv.head(heads.start / (h.n_head / h.n_kv_head));
    // Keys and values of positions start..end: the rows of the cache's parts
    // that fall in the window, as one contiguous slice per part.
    fn visible<'a>(parts: &[&'a [f32]; PARTS], hd: usize, start: usize, end: usize) -> [&'a [f32]; PARTS] {
        let (mut skip, mut left) = (start * hd, (end - start) * hd);
        parts.map(|p| {
            let from = skip.min(p.len());
            skip -= from;
            let n = (p.len() - from).min(left);
            left -= n;
            &p[from..from + n]
        })
    }
    let end = s.p0 + t + 1;
    let start = window.map_or(0, |w| end.saturating_sub(w));
    let n = end - start;
    scores.resize(group * n, 0.0);
    let queries = &s.q[t * q_dim + heads.start * hd..][..group * hd];
    key_scores(queries, group, hd, visible(&kv.k, hd, start, end), scale, n, scores);
    out.fill(0.0);
    let values = visible(&kv.v, hd, start, end);
    for g in 0..group {
        let w = &mut scores[g * n..(g + 1) * n];
        softmax(w);
        weighted_sum(w, values, hd, &mut out[g * hd..(g + 1) * hd]);
    }
}

/// `out += sum_j w[j] * v_j`, in order of `j` (the rows of `v`'s parts one
/// after another), with the running sums in 32-wide slices small enough to
/// stay in registers.
fn weighted_sum(w: &[f32], v: [&[f32]; PARTS], head_dim: usize, out: &mut [f32]) {
    const LANES: usize = 32;
    for (c, acc) in out.chunks_mut(LANES).enumerate() {
        let start = c * LANES;
        let mut w = w;
        for part in v {
            let (wp, rest) = w.split_at(part.len() / head_dim);
            w = rest;
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            if let Ok(acc) = <&mut [f32; LANES]>::try_from(&mut *acc) {
                simd::weighted_sum_32(wp, part.chunks_exact(head_dim), start, acc);
                continue;
            }
            let width = acc.len();
            for (&wj, row) in wp.iter().zip(part.chunks_exact(head_dim)) {
                for (a, &x) in acc.iter_mut().zip(&row[start..start + width]) {
                    *a += wj * x;
                }
            }
        }
    }
}

/// Explicit SIMD128 forms of loops the compiler vectorizes poorly, doing
/// the same IEEE operations in the same order as the scalar code (so every
/// build computes the same bits).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    /// [`super::weighted_sum`] on 32 outputs: eight `f32x4` running sums.
    #[inline(always)]
    pub fn weighted_sum_32<'a>(w: &[f32], v: impl Iterator<Item = &'a [f32]>, start: usize, out: &mut [f32; 32]) {
        let p = out.as_mut_ptr() as *mut v128;
        // SAFETY: `out` holds 32 f32s = 8 v128s.
        let mut acc: [v128; 8] = std::array::from_fn(|i| unsafe { v128_load(p.add(i)) });
        for (&wj, row) in w.iter().zip(v) {
            let x = &row[start..start + 32];
            let ws = f32x4_splat(wj);
            for (i, a) in acc.iter_mut().enumerate() {
                // SAFETY: `x` holds 32 f32s; lane group i is at 4i..4i+4.
                let xi = unsafe { v128_load(x.as_ptr().add(4 * i) as *const v128) };
                *a = f32x4_add(*a, f32x4_mul(ws, xi));
            }
        }
        for (i, a) in acc.iter().enumerate() {
            // SAFETY: as above.
            unsafe { v128_store(p.add(i), *a) };
        }
    }

    /// [`super::exp`] on four lanes: the same operations, lane by lane.
    #[inline(always)]
    fn exp4(x: v128) -> v128 {
        const LN2_HI: f32 = 0.693_145_75;
        const LN2_LO: f32 = 1.428_606_8e-6;
        let x = f32x4_pmin(f32x4_splat(88.0), f32x4_pmax(f32x4_splat(-87.0), x));
        let n = f32x4_nearest(f32x4_mul(x, f32x4_splat(std::f32::consts::LOG2_E)));
        let f = f32x4_sub(f32x4_sub(x, f32x4_mul(n, f32x4_splat(LN2_HI))), f32x4_mul(n, f32x4_splat(LN2_LO)));
        let c = |v: f32| f32x4_splat(v);
        let p = f32x4_add(c(1.0 / 120.0), f32x4_mul(f, c(1.0 / 720.0)));
        let p = f32x4_add(c(1.0 / 24.0), f32x4_mul(f, p));
        let p = f32x4_add(c(1.0 / 6.0), f32x4_mul(f, p));
        let p = f32x4_add(c(0.5), f32x4_mul(f, p));
        let p = f32x4_add(c(1.0), f32x4_mul(f, p));
        let p = f32x4_add(c(1.0), f32x4_mul(f, p));
        let bits = i32x4_shl(i32x4_add(i32x4_trunc_sat_f32x4(n), i32x4_splat(127)), 23);
        f32x4_mul(bits, p)
    }

    /// The largest element (NaN passed over, as [`super::max`] does), four
    /// lanes at a time: the maximum does not depend on the order.
    fn maximum(x: &[f32]) -> f32 {
        let n4 = x.len() / 4 * 4;
        let mut m = f32x4_splat(f32::NEG_INFINITY);
        for i in (0..n4).step_by(4) {
            // SAFETY: i + 4 <= n4 <= x.len().
            m = f32x4_pmax(m, unsafe { v128_load(x.as_ptr().add(i) as *const v128) });
        }
        let lanes = [
            f32x4_extract_lane::<0>(m),
            f32x4_extract_lane::<1>(m),
            f32x4_extract_lane::<2>(m),
            f32x4_extract_lane::<3>(m),
        ];
        lanes.into_iter().chain(x[n4..].iter().copied()).fold(f32::NEG_INFINITY, super::max)
    }

    /// [`super::softmax`]: four lanes at a time, the same partial sums.
    pub fn softmax(x: &mut [f32]) {
        let n4 = x.len() / 4 * 4;
        let m = maximum(x);
        let p = x.as_mut_ptr();
        let ms = f32x4_splat(m);
        let mut acc = f32x4_splat(0.0);
        for i in (0..n4).step_by(4) {
            // SAFETY: i + 4 <= n4 <= x.len().
            unsafe {
                let e = exp4(f32x4_sub(v128_load(p.add(i) as *const v128), ms));
                v128_store(p.add(i) as *mut v128, e);
                acc = f32x4_add(acc, e);
            }
        }
        let mut acc = [
            f32x4_extract_lane::<0>(acc),
            f32x4_extract_lane::<1>(acc),
            f32x4_extract_lane::<2>(acc),
            f32x4_extract_lane::<3>(acc),
        ];
        for (lane, v) in x[n4..].iter_mut().enumerate() {
            *v = super::exp(*v - m);
            acc[lane] += *v;
        }
        let inv = f32x4_splat(1.0 / ((acc[0] + acc[1]) + (acc[2] + acc[3])));
        for i in (0..n4).step_by(4) {
            // SAFETY: as above.
            unsafe { v128_store(p.add(i) as *mut v128, f32x4_mul(v128_load(p.add(i) as *const v128), inv)) };
        }
        let inv = f32x4_extract_lane::<0>(inv);
        for v in x[n4..].iter_mut() {
            *v *= inv;
        }
    }

    /// [`super::log_sum_exp`]: four lanes at a time, each lane's
    /// exponentials widened to `f64` into its own partial sum.
    pub fn log_sum_exp(x: &[f32]) -> f32 {
        let n4 = x.len() / 4 * 4;
        let p = x.as_ptr();
        let max = maximum(x);
        if !max.is_finite() {
            return max;
        }
        let ms = f32x4_splat(max);
        let (mut low, mut high) = (f64x2_splat(0.0), f64x2_splat(0.0));
        for i in (0..n4).step_by(4) {
            // SAFETY: i + 4 <= n4 <= x.len().
            let e = exp4(f32x4_sub(unsafe { v128_load(p.add(i) as *const v128) }, ms));
            low = f64x2_add(low, f64x2_promote_low_f32x4(e));
            high = f64x2_add(high, f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(e, e)));
        }
        let mut sums = [
            f64x2_extract_lane::<0>(low),
            f64x2_extract_lane::<1>(low),
            f64x2_extract_lane::<0>(high),
            f64x2_extract_lane::<1>(high),
        ];
        for (lane, &l) in x[n4..].iter().enumerate() {
            sums[lane] += super::exp(l - max) as f64;
        }
        max + ((sums[0] + sums[1]) + (sums[2] + sums[3])).ln() as f32
    }

    /// `out[k] = dot8(q, keys[k]) * scale` for four keys at once: four
    /// independent pairs of running sums, then the lanes of each key's sum
    /// added in [`dot8`]'s order, all four keys side by side (a transpose).
    #[inline(always)]
    pub fn scores_x4(q: &[f32], keys: [&[f32]; 4], scale: f32, out: &mut [f32]) {
        assert!(q.len() % 8 == 0 && keys.iter().all(|k| k.len() == q.len()) && out.len() == 4);
        let zero = f32x4_splat(0.0);
        let (mut lo, mut hi) = ([zero; 4], [zero; 4]);
        let pq = q.as_ptr() as *const v128;
        let pk: [*const v128; 4] = std::array::from_fn(|k| keys[k].as_ptr() as *const v128);
        for c in 0..q.len() / 8 {
            // SAFETY: chunk c (8 f32s = 2 v128s) lies inside `q` and every key (lengths asserted).
            unsafe {
                let (a0, a1) = (v128_load(pq.add(2 * c)), v128_load(pq.add(2 * c + 1)));
                for k in 0..4 {
                    lo[k] = f32x4_add(lo[k], f32x4_mul(a0, v128_load(pk[k].add(2 * c))));
                    hi[k] = f32x4_add(hi[k], f32x4_mul(a1, v128_load(pk[k].add(2 * c + 1))));
                }
            }
        }
        let s: [v128; 4] = std::array::from_fn(|k| f32x4_add(lo[k], hi[k]));
        let t0 = i32x4_shuffle::<0, 4, 1, 5>(s[0], s[1]);
        let t1 = i32x4_shuffle::<0, 4, 1, 5>(s[2], s[3]);
        let t2 = i32x4_shuffle::<2, 6, 3, 7>(s[0], s[1]);
        let t3 = i32x4_shuffle::<2, 6, 3, 7>(s[2], s[3]);
        let lane0 = i32x4_shuffle::<0, 1, 4, 5>(t0, t1);
        let lane1 = i32x4_shuffle::<2, 3, 6, 7>(t0, t1);
        let lane2 = i32x4_shuffle::<0, 1, 4, 5>(t2, t3);
        let lane3 = i32x4_shuffle::<2, 3, 6, 7>(t2, t3);
        let dots = f32x4_add(f32x4_add(f32x4_add(f32x4_add(lane0, lane1), lane2), lane3), zero);
        // SAFETY: `out` holds 4 f32s (asserted).
        unsafe { v128_store(out.as_mut_ptr() as *mut v128, f32x4_mul(dots, f32x4_splat(scale))) };
    }

    /// [`super::dot`] for lengths that are a multiple of 8: the same eight
    /// partial sums (two `f32x4`) and the same final additions.
    #[inline(always)]
    pub fn dot8(a: &[f32], b: &[f32]) -> f32 {
        debug_assert!(a.len() % 8 == 0 && a.len() == b.len());
        let (mut lo, mut hi) = (f32x4_splat(0.0), f32x4_splat(0.0));
        for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
            // SAFETY: each chunk holds 8 f32s = 2 v128s.
            unsafe {
                let (pa, pb) = (ca.as_ptr() as *const v128, cb.as_ptr() as *const v128);
                lo = f32x4_add(lo, f32x4_mul(v128_load(pa), v128_load(pb)));
                hi = f32x4_add(hi, f32x4_mul(v128_load(pa.add(1)), v128_load(pb.add(1))));
            }
        }
        let s = f32x4_add(lo, hi);
        f32x4_extract_lane::<0>(s)
            + f32x4_extract_lane::<1>(s)
            + f32x4_extract_lane::<2>(s)
            + f32x4_extract_lane::<3>(s)
            + 0.0
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
