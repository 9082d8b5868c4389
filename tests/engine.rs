//! The generation loop on a tiny model built in the test: options behave as
//! named, streaming adds up to the result, seeds reproduce, prompts share
//! their cached prefix without changing results, and jobs can be cancelled.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use banneret::engine::Engine;
use banneret::textgen::{ChatMessage, FinishReason, GenerationOptions, StepEvent, TextGenerator};
use candle_core::quantized::GgmlDType;
use common::tiny;

fn engine() -> Engine {
    Engine::from_gguf_bytes(&tiny::gguf_bytes(11, GgmlDType::Q4_1)).expect("tiny engine")
}

fn sampled(seed: u32, n: u32) -> GenerationOptions {
    GenerationOptions { seed: Some(seed), max_new_tokens: 24, num_return_sequences: n, ..Default::default() }
}

fn generate(engine: &mut Engine, prompt: &str, options: &GenerationOptions) -> (Vec<banneret::textgen::Completion>, Vec<String>) {
    let mut job = engine.start(prompt, options).unwrap();
    let mut streamed = vec![String::new(); options.num_return_sequences as usize];
    let done = engine
        .run(&mut job, &mut |e| {
            if let StepEvent::Token { sequence, text } = e {
                streamed[*sequence].push_str(text);
            }
            true
        })
        .unwrap();
    (done, streamed)
}

#[test]
fn same_seed_same_text_and_sequences_use_successive_seeds() {
    let mut e = engine();
    let (a, _) = generate(&mut e, "the cat", &sampled(7, 3));
    let (b, _) = generate(&mut e, "the cat", &sampled(7, 3));
    assert_eq!(a, b);
    assert_eq!(a.iter().map(|c| c.seed).collect::<Vec<_>>(), vec![7, 8, 9]);
    let (c, _) = generate(&mut e, "the cat", &sampled(8, 1));
    assert_eq!(c[0].token_ids, a[1].token_ids, "sequence 1 of seed 7 is seed 8");
    assert!(a.iter().any(|x| x.token_ids != a[0].token_ids), "three seeds drew identical sequences");
}

#[test]
fn streamed_chunks_add_up_to_each_completion() {
    let mut e = engine();
    let (done, streamed) = generate(&mut e, "in the", &sampled(3, 2));
    for (c, s) in done.iter().zip(&streamed) {
        assert_eq!(&c.text, s);
        assert!(c.mean_logprob < 0.0 && c.mean_logprob.is_finite());
    }
}

#[test]
fn max_new_tokens_and_greedy() {
    let mut e = engine();
    let (done, _) = generate(&mut e, "the", &GenerationOptions::greedy(5));
    assert_eq!(done[0].token_ids.len(), 5);
    assert_eq!(done[0].finish_reason, FinishReason::Length);
    let (again, _) = generate(&mut e, "the", &GenerationOptions::greedy(5));
    assert_eq!(done, again);
}

#[test]
fn stop_strings_cut_the_text_and_are_never_streamed() {
    let mut e = engine();
    let (free, _) = generate(&mut e, "the", &GenerationOptions::greedy(24));
    let text = free[0].text.clone();
    // Stop at a piece of text the model will produce, spanning tokens if possible.
    let chars: Vec<char> = text.chars().collect();
    assert!(chars.len() >= 6, "tiny model produced too little text: {text:?}");
    let stop: String = chars[3..5].iter().collect();
    let options = GenerationOptions { stop: vec![stop.clone()], ..GenerationOptions::greedy(24) };
    let (done, streamed) = generate(&mut e, "the", &options);
    let cut = text.find(&stop).unwrap();
    assert_eq!(done[0].text, text[..cut]);
    assert_eq!(streamed[0], done[0].text);
    assert_eq!(done[0].finish_reason, FinishReason::Stop);
}

#[test]
fn shared_prompt_prefix_gives_the_same_results_as_a_fresh_engine() {
    let long = "the cat in the hat sat on the mat and the dog ".repeat(4);
    let first = format!("{long}ran");
    let second = format!("{long}sat");
    let mut warm = engine();
    generate(&mut warm, &first, &GenerationOptions::greedy(8));
    let (reused, _) = generate(&mut warm, &second, &GenerationOptions::greedy(8));
    let mut cold = engine();
    let (fresh, _) = generate(&mut cold, &second, &GenerationOptions::greedy(8));
    assert_eq!(reused, fresh);
}

/// Runs a job to the end on a fresh engine: its completions and the token
/// rows the model read for it.
fn completions_and_rows(prompt: &str, options: &GenerationOptions) -> (Vec<banneret::textgen::Completion>, usize) {
    let mut e = engine();
    let mut job = e.start(prompt, options).unwrap();
    let done = e.run(&mut job, &mut |_| true).unwrap();
    (done, job.rows_read())
}

#[test]
fn sequences_that_draw_the_same_tokens_are_read_once() {
    // Greedy sequences never part: three cost the model what one does.
    let one = completions_and_rows("the cat", &GenerationOptions::greedy(12));
    let three = completions_and_rows("the cat", &GenerationOptions { num_return_sequences: 3, ..GenerationOptions::greedy(12) });
    assert_eq!(three.0.len(), 3);
    for c in &three.0 {
        assert_eq!(c.token_ids, one.0[0].token_ids);
        assert_eq!(c.mean_logprob.to_bits(), one.0[0].mean_logprob.to_bits());
    }
    assert_eq!(three.1, one.1, "the three sequences were read once");
    assert!(one.1 > one.0[0].token_ids.len(), "the rows count the prompt and the drawn tokens");
}

#[test]
fn sampled_sequences_share_their_reads_until_they_part_and_draw_as_alone() {
    // The tiny model's "the" is mostly followed by one token: at this
    // temperature its sequences often open alike, then part.
    let options = |seed, n| GenerationOptions {
        seed: Some(seed),
        max_new_tokens: 16,
        num_return_sequences: n,
        temperature: 1.0,
        top_k: 0,
        top_p: 1.0,
        min_p: 0.0,
        stop: Vec::new(),
        ..Default::default()
    };
    let common = |a: &[u32], b: &[u32]| a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (seed, (together, rows)) = (0..500)
        .map(|seed| (seed, completions_and_rows("the", &options(seed, 3))))
        .find(|(_, (d, _))| {
            let parted = |a: &[u32], b: &[u32]| common(a, b) >= 2 && a != b;
            let (a, b, c) = (&d[0].token_ids, &d[1].token_ids, &d[2].token_ids);
            (parted(a, b) || parted(a, c) || parted(b, c)) && d.iter().all(|c| c.token_ids.len() > 4)
        })
        .expect("some seed draws sequences that open alike and part");
    let mut alone_rows = 0;
    for (i, c) in together.iter().enumerate() {
        let (alone, rows) = completions_and_rows("the", &options(seed + i as u32, 1));
        assert_eq!(c.token_ids, alone[0].token_ids, "sequence {i} draws as it would alone");
        assert_eq!(c.mean_logprob.to_bits(), alone[0].mean_logprob.to_bits(), "sequence {i}");
        alone_rows += rows;
    }
    // Alone, each run reads the prompt, then every drawn token but the last.
    let drawn: usize = together.iter().map(|c| c.token_ids.len() - 1).sum();
    let prompt_rows = (alone_rows - drawn) / 3;
    assert!(rows < prompt_rows + drawn, "{rows} rows read together, {prompt_rows} + {drawn} without sharing");
}

#[test]
fn a_job_can_be_cancelled_between_tokens_and_the_next_one_works() {
    let mut e = engine();
    let mut job = e.start("the", &GenerationOptions::greedy(20)).unwrap();
    let mut steps = 0;
    let err = e.run(&mut job, &mut |_| {
        steps += 1;
        steps < 3
    });
    assert_eq!(err.unwrap_err().code(), "cancelled");
    let (done, _) = generate(&mut e, "the", &GenerationOptions::greedy(20));
    assert_eq!(done[0].token_ids.len(), 20);
}

#[test]
fn chat_prompts_render_through_the_models_template() {
    let e = engine();
    let prompt = e.render_chat(&[ChatMessage::system("be brief"), ChatMessage::user("hi")]).unwrap();
    assert_eq!(prompt, "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
}

#[test]
fn bad_options_are_rejected_by_name() {
    let mut e = engine();
    let bad = GenerationOptions { top_p: 1.5, ..Default::default() };
    let err = e.start("the", &bad).err().unwrap();
    assert!(err.to_string().contains("top_p"), "{err}");
    let typo: Result<GenerationOptions, _> = serde_json::from_str(r#"{"temprature": 0.5}"#);
    assert!(typo.unwrap_err().to_string().contains("temprature"));
}

#[test]
fn prompts_that_overflow_the_context_are_refused() {
    let mut e = engine();
    let huge = "the cat ".repeat(400);
    let err = e.start(&huge, &GenerationOptions::greedy(4)).err().unwrap();
    assert_eq!(err.code(), "context_overflow", "{err}");
}

#[test]
fn a_warmed_prefix_is_reused_and_changes_nothing() {
    let prefix = "the cat in the hat sat on the mat and the dog ".repeat(3);
    let prompt = format!("{prefix}ran");
    let mut warm = engine();
    let mut job = warm.start_warmup(&prefix).unwrap();
    let done = warm.run(&mut job, &mut |_| true).unwrap();
    assert!(done.is_empty(), "a warm-up draws nothing");
    assert!(warm.prompt_cache_bytes() > 0);
    // Two different prompts in between: the cache keeps several.
    generate(&mut warm, "a dog", &GenerationOptions::greedy(2));
    generate(&mut warm, "in a", &GenerationOptions::greedy(2));
    let mut job = warm.start(&prompt, &GenerationOptions::greedy(6)).unwrap();
    let (read_before, total) = job.prompt_progress();
    assert_eq!(read_before, 0);
    warm.step(&mut job).unwrap();
    let (read, _) = job.prompt_progress();
    assert_eq!(read, total, "only the tail after the warmed prefix was read, in one chunk");
    let reused = warm.run(&mut job, &mut |_| true).unwrap();
    let (fresh, _) = generate(&mut engine(), &prompt, &GenerationOptions::greedy(6));
    assert_eq!(reused, fresh);
}

#[test]
fn a_prompt_read_on_a_warmed_prefix_holds_only_the_positions_it_read() {
    let prefix = "the cat in the hat sat on the mat and the dog ".repeat(3);
    let mut e = engine();
    let mut job = e.start_warmup(&prefix).unwrap();
    let warmed = job.prompt_tokens();
    e.run(&mut job, &mut |_| true).unwrap();
    let per_position = e.prompt_cache_bytes() / warmed;
    assert_eq!(e.prompt_cache_bytes(), warmed * per_position, "a warm-up holds its positions at their size");
    let before = e.prompt_cache_bytes();
    generate(&mut e, &format!("{prefix}ran off with the spoon"), &GenerationOptions::greedy(2));
    let total = e.tokenizer().encode(&format!("{prefix}ran off with the spoon"), true).unwrap().len();
    let added = e.prompt_cache_bytes() - before;
    // The warmed positions are shared, not copied: only the tail (and the
    // last warmed token, when the tail's first token merges with it) is new.
    assert!(added >= (total - warmed) * per_position && added <= (total - warmed + 1) * per_position, "added {added} bytes for {} new positions", total - warmed);
}

#[test]
fn reading_prompt_holds_for_the_prompt_chunks_only() {
    let mut e = engine();
    let prompt = "the cat in a dog ".repeat(16);
    let mut job = e.start(&prompt, &GenerationOptions::greedy(3)).unwrap();
    let (_, total) = job.prompt_progress();
    assert!(total > 2 * banneret::engine::PREFILL_CHUNK, "the prompt spans several chunks ({total} tokens)");
    let (mut reading_steps, mut texts) = (0, String::new());
    loop {
        let reading = e.reading_prompt(&job);
        let (read_before, _) = job.prompt_progress();
        let event = e.step(&mut job).unwrap();
        let (read_after, _) = job.prompt_progress();
        assert_eq!(reading, read_after > read_before, "reading_prompt says whether this step reads the prompt");
        match event {
            StepEvent::Token { text, .. } if reading => assert!(text.is_empty(), "a prompt chunk carries no text"),
            StepEvent::Token { text, .. } => texts.push_str(&text),
            StepEvent::Finished(done) => {
                assert_eq!(texts, done[0].text);
                break;
            }
        }
        reading_steps += usize::from(reading);
    }
    assert_eq!(reading_steps, total.div_ceil(banneret::engine::PREFILL_CHUNK));
}

#[test]
fn finish_sequence_ends_one_sequence_and_keeps_its_text() {
    let mut e = engine();
    let mut job = e.start("the", &sampled(3, 2)).unwrap();
    let mut streamed = [String::new(), String::new()];
    let mut ended = false;
    let done = e
        .run(&mut job, &mut |ev| {
            if let StepEvent::Token { sequence, text } = ev {
                streamed[*sequence].push_str(text);
            }
            true
        })
        .unwrap();
    assert_eq!(done[0].token_ids.len(), 24);
    // Now end sequence 0 after a few tokens.
    let mut job = e.start("the", &sampled(3, 2)).unwrap();
    let mut steps = 0;
    loop {
        match e.step(&mut job).unwrap() {
            StepEvent::Token { sequence: 0, .. } => {
                steps += 1;
                if steps == 4 && !ended {
                    e.finish_sequence(&mut job, 0);
                    ended = true;
                }
            }
            StepEvent::Token { .. } => {}
            StepEvent::Finished(done) => {
                assert_eq!(done[0].finish_reason, FinishReason::Stop);
                assert!(done[0].token_ids.len() < 24);
                assert_eq!(done[1].token_ids.len(), 24, "the other sequence runs on");
                break;
            }
        }
    }
    assert!(ended);
}

#[test]
fn a_sequence_ended_by_the_model_resumes_beside_the_others() {
    let mut e = engine();
    // No filters: every token, the end token included, can be drawn.
    let options = |seed| GenerationOptions {
        seed: Some(seed),
        max_new_tokens: 48,
        num_return_sequences: 2,
        temperature: 1.5,
        top_k: 0,
        top_p: 1.0,
        min_p: 0.0,
        ..Default::default()
    };
    // The tiny model's tokens are random: find a seed whose first sequence
    // draws the end token early.
    let (seed, plain) = (0..2000)
        .map(|seed| (seed, generate(&mut e, "the", &options(seed)).0))
        .find(|(_, d)| d[0].finish_reason == FinishReason::Eos && d[0].token_ids.len() < 30 && d[1].token_ids.len() > 4)
        .expect("some seed ends a sequence by the model");
    let mut job = e.start("the", &options(seed)).unwrap();
    let (mut resumed, mut refused_early) = (false, false);
    let mut streamed = [String::new(), String::new()];
    let done = loop {
        match e.step(&mut job).unwrap() {
            StepEvent::Token { sequence, text } => {
                streamed[sequence].push_str(&text);
                if sequence == 0 && !resumed {
                    if e.ended_by_model(&job, 0) {
                        resumed = e.resume(&mut job, 0, " and the").unwrap();
                        assert!(resumed);
                        assert!(!e.resume(&mut job, 0, " x").unwrap(), "resumed twice");
                    } else if !streamed[0].is_empty() {
                        refused_early |= !e.resume(&mut job, 0, " and the").unwrap();
                    }
                }
            }
            StepEvent::Finished(done) => break done,
        }
    };
    assert!(resumed && refused_early, "a running sequence cannot be resumed");
    let (first, c) = (&plain[0], &done[0]);
    assert_eq!(c.text, streamed[0], "the handed text streams like the rest");
    assert!(c.text.starts_with(&format!("{} and the", first.text)), "{:?} then {:?}", first.text, c.text);
    assert!(c.text.len() > first.text.len() + " and the".len(), "it went on drawing");
    // Its tokens: the first run's without the end token, the text's, drawn ones.
    let kept = first.token_ids.len() - 1;
    assert_eq!(c.token_ids[..kept], first.token_ids[..kept]);
    let text_ids = e.tokenizer().encode(" and the", false).unwrap();
    assert_eq!(c.token_ids[kept..kept + text_ids.len()], text_ids[..]);
    assert_eq!(done[1], plain[1], "the other sequence is untouched");
    // The cache it went on from is right: teacher forcing over the same
    // tokens gives each drawn token the log-probability its mean was made
    // of (the end token dropped, the handed text not counted).
    let specials = e.tokenizer().specials();
    let bos = specials.bos.filter(|_| specials.add_bos);
    let prompt: Vec<u32> = bos.into_iter().chain(e.tokenizer().encode("the", true).unwrap()).collect();
    let vocab = e.info().vocab_size;
    let steps = e.top_logprobs(&prompt, &c.token_ids, vocab).unwrap();
    let logprob = |step: usize| steps[step].iter().find(|(t, _)| *t == c.token_ids[step]).unwrap().1 as f64;
    let drawn: Vec<usize> = (0..c.token_ids.len()).filter(|&i| !(kept..kept + text_ids.len()).contains(&i)).collect();
    let mean = drawn.iter().map(|&i| logprob(i)).sum::<f64>() / drawn.len() as f64;
    assert!((mean - c.mean_logprob as f64).abs() < 1e-3, "{mean} vs {}", c.mean_logprob);
    // A sequence the caller ended (as a stop string would) is not resumable.
    let mut job = e.start("the", &options(seed)).unwrap();
    while !matches!(e.step(&mut job).unwrap(), StepEvent::Token { sequence: 1, ref text } if !text.is_empty()) {}
    e.finish_sequence(&mut job, 1);
    assert!(!e.ended_by_model(&job, 1) && !e.resume(&mut job, 1, " and the").unwrap());
}

