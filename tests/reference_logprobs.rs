//! Teacher forcing against llama.cpp: feed the reference prompt and greedy
//! continuation, and compare at every step the log-probabilities of
//! llama.cpp's top-5 tokens with ours.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use banneret::loader::load;
use banneret::sampling::log_sum_exp;

// Tolerances on |ours - llama.cpp| over every top-5 log-probability of every
// step, both llama.cpp attention paths. Both sides round activations to 8
// bits per block, so any change in float summation order flips a few
// roundings and moves these figures: over our kernel variants we measured
// median 0.064-0.075, p95 0.250-0.273, max 0.40-0.64 (now: 0.064, 0.250, 0.402). That is as far from
// llama.cpp as llama.cpp is from exact float64 maths (median 0.06, p95 0.25,
// max 0.45; reference/README.md), and closer than llama.cpp's two attention
// paths are to each other (0.1-0.2 already at step one). A real bug (a wrong
// rotation, mask, scale or block layout) moves them by whole units.
const MEDIAN_ABS_DIFF: f32 = 0.085;
const P95_ABS_DIFF: f32 = 0.32;
const MAX_ABS_DIFF: f32 = 0.75;
/// Steps (of 115) where our argmax must equal llama.cpp's: 106-109 reached;
/// the rest are near-ties where llama.cpp's own two paths also split.
const MIN_ARGMAX_AGREEMENT: usize = 104;

#[test]
fn top5_logprobs_match_llamacpp_under_teacher_forcing() {
    let loaded = load(&common::model_bytes()).expect("load model");
    let model = loaded.model;
    let reference = common::reference();
    let mut diffs = Vec::new();
    let mut per_path: std::collections::BTreeMap<&str, Vec<f32>> = Default::default();
    let mut argmax_agree = 0;
    let mut steps = 0;
    for case in reference["generation"].as_array().unwrap() {
        for path in ["flash_attn_on", "flash_attn_off"] {
            let run = &case[path];
            let prompt = common::ids(&case["prompt_ids"]);
            let generated = common::ids(&run["ids"]);
            let top5 = run["top5"].as_array().unwrap();
            assert_eq!(top5.len(), generated.len());
            let mut tokens = prompt.clone();
            tokens.extend_from_slice(&generated[..generated.len() - 1]);
            let mut state = model.new_state();
            let logits = model.forward(&tokens, &mut state, true).expect("forward");
            let vocab = model.shape().vocab_size;
            for (step, expected) in top5.iter().enumerate() {
                let row = &logits[(prompt.len() - 1 + step) * vocab..][..vocab];
                let lse = log_sum_exp(row);
                let ours_best = banneret::sampling::argmax(row) as u64;
                let theirs = expected.as_array().unwrap();
                if theirs[0][0].as_u64().unwrap() == ours_best {
                    argmax_agree += 1;
                }
                steps += 1;
                for pair in theirs {
                    let id = pair[0].as_u64().unwrap() as usize;
                    let lp = pair[1].as_f64().unwrap() as f32;
                    diffs.push(((row[id] - lse) - lp).abs());
                    per_path.entry(path).or_default().push(((row[id] - lse) - lp).abs());
                }
            }
        }
    }
    for (path, mut d) in per_path {
        d.sort_by(f32::total_cmp);
        println!("{path}: median {:.4} max {:.4}", d[d.len() / 2], d[d.len() - 1]);
    }
    diffs.sort_by(f32::total_cmp);
    let median = diffs[diffs.len() / 2];
    let p95 = diffs[diffs.len() * 95 / 100];
    let max = *diffs.last().unwrap();
    println!(
        "teacher forcing: {} log-probs over {steps} steps: median {median:.4}, p95 {p95:.4}, max {max:.4}; argmax agrees on {argmax_agree}/{steps}",
        diffs.len()
    );
    assert!(median <= MEDIAN_ABS_DIFF, "median |diff| {median} > {MEDIAN_ABS_DIFF}");
    assert!(p95 <= P95_ABS_DIFF, "p95 |diff| {p95} > {P95_ABS_DIFF}");
    assert!(argmax_agree >= MIN_ARGMAX_AGREEMENT, "argmax agrees on {argmax_agree}/{steps}");
    assert!(max <= MAX_ABS_DIFF, "max |diff| {max} > {MAX_ABS_DIFF}");
}
