//! Rotary position embedding tables, computed with nothing but IEEE basic
//! operations in `f64`, so native and wasm builds get the same bits (libm's
//! `powf`, `sin` and `cos` differ between platforms in the last place, and
//! one such difference can flip a near-tie between two tokens).

use std::f64::consts::{FRAC_PI_2, LN_2};

/// `1 / base^(2i / dim)` for each rotated pair `i < dim / 2`.
pub fn inv_freq(base: f32, dim: usize) -> Vec<f32> {
    let ln_base = ln(base as f64);
    (0..dim / 2).map(|i| exp(-2.0 * i as f64 / dim as f64 * ln_base) as f32).collect()
}

/// `(cos, sin)` of `position * freq` for every frequency, appended to the two vectors.
pub fn push_cos_sin(position: usize, inv_freq: &[f32], cos: &mut Vec<f32>, sin: &mut Vec<f32>) {
    for &f in inv_freq {
        let (c, s) = cos_sin(position as f64 * f as f64);
        cos.push(c as f32);
        sin.push(s as f32);
    }
}

/// Natural logarithm of a positive, finite `x`: `x = m·2^e` with m in
/// [√½, √2), `ln m = 2·atanh((m-1)/(m+1))` by its series.
pub fn ln(x: f64) -> f64 {
    debug_assert!(x > 0.0 && x.is_finite());
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    for k in 0..16 {
        sum += term / (2 * k + 1) as f64;
        term *= s2;
    }
    e as f64 * LN_2 + 2.0 * sum
}

/// `e^y` for |y| < 700: `y = n·ln2 + r` (ln2 in two parts), Taylor series of `e^r`.
pub fn exp(y: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let n = (y / LN_2).round_ties_even();
    let r = (y - n * LN2_HI) - n * LN2_LO;
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..22 {
        term *= r / k as f64;
        sum += term;
    }
    sum * f64::from_bits(((n as i64 + 1023) as u64) << 52)
}

/// `(cos x, sin x)` for 0 <= x < 2^30: reduced by multiples of π/2 (π/2 in
/// three parts, Cody-Waite), then Taylor series on |r| <= π/4.
pub fn cos_sin(x: f64) -> (f64, f64) {
    const P1: f64 = 1.570_796_326_734_125_6;
    const P2: f64 = 6.077_100_506_303_966e-11;
    const P3: f64 = 2.022_266_248_795_950_6e-21;
    let k = (x / FRAC_PI_2).round_ties_even();
    let r = ((x - k * P1) - k * P2) - k * P3;
    let r2 = r * r;
    let (mut s_term, mut c_term) = (r, 1.0);
    let (mut s, mut c) = (r, 1.0);
    for n in 1..12 {
        s_term *= -r2 / ((2 * n) * (2 * n + 1)) as f64;
        c_term *= -r2 / ((2 * n - 1) * (2 * n)) as f64;
        s += s_term;
        c += c_term;
    }
    match (k as i64).rem_euclid(4) {
        0 => (c, s),
        1 => (-s, c),
        2 => (-c, -s),
        _ => (s, -c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_libm_to_the_last_few_places() {
        for &x in &[1e-9, 0.3, 1.0, 2.5, 10.0, 1234.5678, 4095.0, 100_000.0] {
            let (c, s) = cos_sin(x);
            assert!((c - x.cos()).abs() < 1e-13 && (s - x.sin()).abs() < 1e-13, "x = {x}");
        }
        for &x in &[1e-6, 0.5, 1.0, 2.0, 10_000.0, 1e6] {
            assert!((ln(x) - x.ln()).abs() < 1e-14 * x.ln().abs().max(1.0), "ln {x}");
        }
        for &y in &[-30.0, -1.0, 0.0, 0.7, 12.0] {
            assert!((exp(y) / y.exp() - 1.0).abs() < 1e-14, "exp {y}");
        }
        let f = inv_freq(100_000.0, 64);
        for (i, &v) in f.iter().enumerate() {
            let want = 100_000f64.powf(-2.0 * i as f64 / 64.0) as f32;
            assert!((v - want).abs() <= f32::EPSILON * want, "inv_freq[{i}]");
        }
    }
}
