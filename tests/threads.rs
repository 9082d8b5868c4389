//! Splitting the matrix products and attention across helper threads changes no bit: the
//! command-line tool (one process per thread count, as the pool is
//! process-wide) draws the same sampled tokens for three variants decoded as
//! one batch and reports the same teacher-forced log-probabilities with
//! `BANNERET_THREADS=1` and `=2`.
#![cfg(not(target_arch = "wasm32"))] // runs the native binary

mod common;

use std::process::Command;

fn run(threads: usize, args: &[&str]) -> serde_json::Value {
    let model = common::model_path();
    let out = Command::new(env!("CARGO_BIN_EXE_banneret"))
        .args(args)
        .arg("--model")
        .arg(&model)
        .env("BANNERET_THREADS", threads.to_string())
        .output()
        .expect("run the banneret binary");
    assert!(out.status.success(), "banneret {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("banneret prints JSON")
}

const PROMPT: &str = "Write a short, warm web banner for a trail running shoe with a Vibram outsole, \
    a rock plate and an 8 mm drop, now $99 instead of $129 in the Winter Sale. Answer as three lines: \
    Headline:, Subline:, CTA:.";

#[test]
fn two_threads_draw_the_same_tokens_as_one() {
    let args = [
        "generate", "--chat", PROMPT, "--max_new_tokens", "24", "--temperature", "0.8", "--top_k", "40",
        "--seed", "7", "--num_return_sequences", "3",
    ];
    let (one, two) = (run(1, &args), run(2, &args));
    assert_eq!(one["threads"], 1);
    assert_eq!(two["threads"], 2, "the pool did not start a helper");
    assert!(one["prompt_tokens"].as_u64().unwrap() > 50);
    assert_eq!(one["completions"], two["completions"]);
}

#[test]
fn two_threads_give_the_same_logprobs_as_one() {
    let ids = "504,2371,3140,284,260,1374,30";
    let args = ["logprobs", "--prompt", PROMPT, "--ids", ids, "--top", "5"];
    let (one, two) = (run(1, &args), run(2, &args));
    assert_eq!(one["top_logprobs"].as_array().unwrap().len(), 7);
    // Exact: serde_json prints the shortest text that reads back as the same f32.
    assert_eq!(one["top_logprobs"], two["top_logprobs"]);
}
