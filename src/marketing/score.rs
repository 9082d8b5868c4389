//! Optimize, part three: rank the variants that passed. Each part is 0..=1:
//! relevance (plan keywords and the featured product's name in the copy),
//! fluency (the model's own mean token log-probability, rescaled), length fit
//! (each field inside its platform's sweet spot; shorter on phones) and
//! distinctness (word overlap with the other survivors). Repairs cost a
//! little. Weights live here and only here.

use super::ideate::Plan;
use super::kinds::ContentKind;
use super::result::{CopyFields, Score};
use super::text::{jaccard, perceived_len, stem, words};

pub const W_RELEVANCE: f32 = 0.35;
pub const W_FLUENCY: f32 = 0.25;
pub const W_LENGTH: f32 = 0.25;
pub const W_DISTINCT: f32 = 0.15;
/// Subtracted per repair applied.
pub const REPAIR_PENALTY: f32 = 0.04;
/// Mean log-probability mapped to fluency 0 (and 0 maps to 1).
pub const FLUENCY_FLOOR: f32 = -3.0;

fn relevance(copy: &CopyFields, plan: &Plan) -> f32 {
    let text = copy.joined();
    let stems: Vec<String> = words(&text).iter().map(|w| stem(w)).collect();
    let kw = if plan.keywords.is_empty() {
        0.5
    } else {
        let hits = plan.keywords.iter().filter(|k| {
            let ks: Vec<String> = words(k).iter().map(|w| stem(w)).collect();
            !ks.is_empty() && stems.windows(ks.len()).any(|w| w == ks.as_slice())
        });
        (hits.count() as f32 / plan.keywords.len().min(3) as f32).min(1.0)
    };
    let named = match plan.products.first() {
        Some(p) => {
            let lower = text.to_lowercase();
            if lower.contains(&p.name.to_lowercase()) {
                1.0
            } else {
                // Part of the name ("Basecamp", "Trail Runner") still points at it.
                let name_words: Vec<String> = words(&p.name)
                    .into_iter()
                    .filter(|w| w.chars().count() >= 4)
                    .collect();
                let hits = name_words
                    .iter()
                    .filter(|w| stems.contains(&stem(w)))
                    .count();
                if name_words.is_empty() {
                    0.0
                } else {
                    0.7 * hits as f32 / name_words.len() as f32
                }
            }
        }
        None => 0.5,
    };
    0.5 * kw + 0.5 * named
}

fn fluency(mean_logprob: Option<f32>) -> f32 {
    match mean_logprob {
        Some(lp) if lp.is_finite() => ((lp - FLUENCY_FLOOR) / -FLUENCY_FLOOR).clamp(0.0, 1.0),
        // Fallback copy: no model judgement; neutral.
        _ => 0.5,
    }
}

fn length_fit(kind: ContentKind, copy: &CopyFields, prefer_short: bool) -> f32 {
    let specs = kind.fields();
    let mut total = 0.0;
    for spec in specs {
        let len = copy.get(spec.name).map_or(0, perceived_len) as f32;
        let (mut lo, mut hi) = spec.ideal;
        if prefer_short {
            lo *= 0.7;
            hi *= 0.8;
        }
        let r = len / spec.max as f32;
        total += if r < lo {
            r / lo
        } else if r > hi {
            (1.0 - (r - hi) / (1.0 - hi).max(0.05)).max(0.0)
        } else {
            1.0
        };
    }
    total / specs.len() as f32
}

/// Scores and ranks candidates: `(copy, mean_logprob, repairs)` in, indices
/// best first and their scores out.
pub fn rank(
    kind: ContentKind,
    plan: &Plan,
    candidates: &[(CopyFields, Option<f32>, usize)],
) -> Vec<(usize, Score)> {
    let word_sets: Vec<Vec<String>> = candidates
        .iter()
        .map(|(c, _, _)| words(&c.joined()))
        .collect();
    let mut scored: Vec<(usize, Score)> = candidates
        .iter()
        .enumerate()
        .map(|(i, (copy, lp, repairs))| {
            let max_sim = (0..candidates.len())
                .filter(|&j| j != i)
                .map(|j| jaccard(&word_sets[i], &word_sets[j]))
                .fold(0.0f32, f32::max);
            let s = Score {
                total: 0.0,
                relevance: relevance(copy, plan),
                fluency: fluency(*lp),
                length_fit: length_fit(kind, copy, plan.prefer_short),
                distinctness: 1.0 - max_sim,
            };
            let total = W_RELEVANCE * s.relevance
                + W_FLUENCY * s.fluency
                + W_LENGTH * s.length_fit
                + W_DISTINCT * s.distinctness
                - REPAIR_PENALTY * *repairs as f32;
            (
                i,
                Score {
                    total: round3(total),
                    relevance: round3(s.relevance),
                    fluency: round3(s.fluency),
                    length_fit: round3(s.length_fit),
                    distinctness: round3(s.distinctness),
                },
            )
        })
        .collect();
    // Best first; ties keep generation order.
    scored.sort_by(|a, b| b.1.total.total_cmp(&a.1.total));
    scored
}

fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}
