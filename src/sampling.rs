//! Choosing the next token from logits: repetition penalty, temperature,
//! top-k, top-p, min-p (applied in that order, as Hugging Face's logits
//! processors do), and a seeded generator that gives the same draws natively
//! and in wasm.

use crate::textgen::GenerationOptions;

/// PCG-XSH-RR 32-bit generator (O'Neill 2014): small, fast, reproducible everywhere.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    const MUL: u64 = 6364136223846793005;
    const INC: u64 = 1442695040888963407;

    pub fn new(seed: u32) -> Self {
        let mut rng = Rng { state: 0 };
        rng.next_u32();
        rng.state = rng.state.wrapping_add(seed as u64);
        rng.next_u32();
        rng
    }

    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(Self::MUL).wrapping_add(Self::INC);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        xorshifted.rotate_right((old >> 59) as u32)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 / (1u32 << 24) as f32
    }
}

/// `log(sum(exp(x)))` (SIMD in the browser, the same bits everywhere).
pub use crate::model::ops::log_sum_exp;

/// Index of the largest value (the first, on ties).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// The `k` highest-scoring `(index, log-probability)` pairs, best first.
pub fn top_logprobs(logits: &[f32], k: usize) -> Vec<(u32, f32)> {
    let lse = log_sum_exp(logits);
    let mut idx: Vec<u32> = (0..logits.len() as u32).collect();
    let k = k.min(idx.len());
    if k == 0 {
        return Vec::new();
    }
    idx.select_nth_unstable_by(k - 1, |&a, &b| logits[b as usize].total_cmp(&logits[a as usize]));
    idx.truncate(k);
    idx.sort_by(|&a, &b| logits[b as usize].total_cmp(&logits[a as usize]));
    idx.into_iter().map(|i| (i, logits[i as usize] - lse)).collect()
}

/// Draws tokens for one sequence.
#[derive(Debug, Clone)]
pub struct Sampler {
    options: GenerationOptions,
    rng: Rng,
    /// Scratch: candidate (token, logit) pairs.
    candidates: Vec<(u32, f32)>,
}

impl Sampler {
    pub fn new(options: &GenerationOptions, seed: u32) -> Self {
        Sampler { options: options.clone(), rng: Rng::new(seed), candidates: Vec::new() }
    }

    /// Picks the next token from raw `logits`. `generated` are this
    /// sequence's tokens so far: the repetition penalty applies to them, not
    /// to the prompt, so facts quoted in the prompt stay free to repeat.
    pub fn sample(&mut self, logits: &[f32], generated: &[u32]) -> u32 {
        let o = &self.options;
        if o.temperature == 0.0 && o.repetition_penalty == 1.0 {
            // Greedy with nothing to adjust: the first maximum, as below.
            return argmax(logits) as u32;
        }
        let c = &mut self.candidates;
        c.clear();
        c.extend(logits.iter().enumerate().map(|(i, &l)| (i as u32, l)));
        if o.repetition_penalty != 1.0 {
            let mut seen: Vec<u32> = generated.to_vec();
            seen.sort_unstable();
            seen.dedup();
            for &t in &seen {
                if let Some((_, l)) = c.get_mut(t as usize) {
                    *l = if *l > 0.0 { *l / o.repetition_penalty } else { *l * o.repetition_penalty };
                }
            }
        }
        if o.temperature == 0.0 {
            // First maximum, as argmax.
            return c.iter().fold((0u32, f32::NEG_INFINITY), |best, &x| if x.1 > best.1 { x } else { best }).0;
        }
        let inv_t = 1.0 / o.temperature;
        let by_logit_desc = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1);
        if o.top_k > 0 && (o.top_k as usize) < c.len() {
            let k = o.top_k as usize;
            c.select_nth_unstable_by(k - 1, by_logit_desc);
            c.truncate(k);
        }
        c.sort_unstable_by(by_logit_desc);
        let max = c[0].1;
        let mut probs: Vec<f32> = c.iter().map(|&(_, l)| ((l - max) * inv_t).exp()).collect();
        let total: f32 = probs.iter().sum();
        for p in &mut probs {
            *p /= total;
        }
        let mut keep = probs.len();
        if o.top_p < 1.0 {
            let mut cum = 0.0;
            for (i, &p) in probs.iter().enumerate() {
                cum += p;
                if cum >= o.top_p {
                    keep = i + 1;
                    break;
                }
            }
        }
        if o.min_p > 0.0 {
            let floor = probs[0] * o.min_p;
            keep = keep.min(probs.iter().take_while(|&&p| p >= floor).count().max(1));
        }
        let mass: f32 = probs[..keep].iter().sum();
        let mut r = self.rng.next_f32() * mass;
        for (i, &p) in probs[..keep].iter().enumerate() {
            if r < p {
                return c[i].0;
            }
            r -= p;
        }
        c[keep - 1].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(f: impl FnOnce(&mut GenerationOptions)) -> GenerationOptions {
        let mut o = GenerationOptions::default();
        f(&mut o);
        o
    }

    #[test]
    fn greedy_takes_argmax() {
        let mut s = Sampler::new(&GenerationOptions::greedy(1), 0);
        assert_eq!(s.sample(&[0.1, 3.0, 2.0], &[]), 1);
    }

    #[test]
    fn same_seed_same_draws_and_different_seeds_differ() {
        let logits: Vec<f32> = (0..100).map(|i| (i % 7) as f32 * 0.3).collect();
        let o = opts(|o| {
            o.top_k = 0;
            o.min_p = 0.0;
            o.top_p = 1.0;
            o.temperature = 1.0;
        });
        let draw = |seed| {
            let mut s = Sampler::new(&o, seed);
            (0..50).map(|_| s.sample(&logits, &[])).collect::<Vec<_>>()
        };
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5), draw(6));
    }

    #[test]
    fn top_k_one_is_greedy_and_min_p_cuts_the_tail() {
        let logits = [1.0f32, 5.0, 4.9, -3.0];
        let mut s = Sampler::new(&opts(|o| o.top_k = 1), 1);
        for _ in 0..20 {
            assert_eq!(s.sample(&logits, &[]), 1);
        }
        let mut s = Sampler::new(&opts(|o| {
            o.top_k = 0;
            o.top_p = 1.0;
            o.min_p = 0.5;
            o.temperature = 1.0;
        }), 1);
        for _ in 0..200 {
            let t = s.sample(&logits, &[]);
            assert!(t == 1 || t == 2, "min_p let through {t}");
        }
    }

    #[test]
    fn top_p_keeps_the_nucleus() {
        let logits = [10.0f32, 0.0, 0.0, 0.0];
        let mut s = Sampler::new(&opts(|o| {
            o.top_k = 0;
            o.min_p = 0.0;
            o.top_p = 0.5;
            o.temperature = 1.0;
        }), 3);
        for _ in 0..200 {
            assert_eq!(s.sample(&logits, &[]), 0);
        }
    }

    #[test]
    fn repetition_penalty_discourages_generated_tokens() {
        let mut s = Sampler::new(
            &opts(|o| {
                o.temperature = 0.0;
                o.repetition_penalty = 2.0;
            }),
            0,
        );
        assert_eq!(s.sample(&[3.0, 2.0], &[0]), 1);
        assert_eq!(s.sample(&[-1.0, -1.5], &[0]), 1);
    }

    #[test]
    fn top_logprobs_are_normalized_and_sorted() {
        let top = top_logprobs(&[0.0, 2.0, 1.0], 2);
        assert_eq!(top.iter().map(|t| t.0).collect::<Vec<_>>(), vec![1, 2]);
        let lse = log_sum_exp(&[0.0, 2.0, 1.0]);
        assert!((top[0].1 - (2.0 - lse)).abs() < 1e-6);
        let total: f32 = [0.0f32, 2.0, 1.0].iter().map(|l| (l - lse).exp()).sum();
        assert!((total - 1.0).abs() < 1e-5);
    }
}
