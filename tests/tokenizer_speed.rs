//! Tokenizer speed and robustness on the real vocabulary: construction time,
//! a ~2,000-character prompt well under 10 ms, and pathological inputs
//! (huge runs) tokenized without error.

mod tokenizer_common;

use std::time::Instant;

use banneret::tokenizer::Tokenizer;
use tokenizer_common::{metadata, tokenizer};

fn prompt_2000() -> String {
    let para = "<|im_start|>system\nYou write short, on-brand marketing copy for Northwind Outfitters.<|im_end|>\n\
<|im_start|>user\nVisitor: interested in trail running & hiking; viewed the Alpine Pro Jacket ($199.00, 15% off) \
and Summit Boots ($149); cart abandoned 2 days ago. Write a banner: headline ≤ 40 chars, subline ≤ 90, CTA ≤ 20. \
Tone: casual. Don't invent prices — 個性化 😀.<|im_end|>\n";
    let mut s = String::new();
    while s.chars().count() < 2000 {
        s.push_str(para);
    }
    s.chars().take(2000).collect()
}

#[test]
fn construction_and_2000_char_prompt_are_fast() {
    let md = metadata();
    let t0 = Instant::now();
    let tok = Tokenizer::from_metadata(md).unwrap();
    let build = t0.elapsed();
    let prompt = prompt_2000();
    let mut times = Vec::new();
    let mut n = 0;
    for _ in 0..21 {
        let t = Instant::now();
        n = tok.encode(&prompt, true).unwrap().len();
        times.push(t.elapsed());
    }
    times.sort();
    let (first, median) = (times[times.len() - 1], times[times.len() / 2]);
    eprintln!(
        "tokenizer construction {:.1} ms; encode 2000 chars -> {n} tokens: median {:.3} ms, slowest {:.3} ms",
        build.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e3
    );
    assert!(
        median.as_secs_f64() < 0.010,
        "median encode {median:?} is not under 10 ms"
    );
}

#[test]
fn huge_runs_tokenize_and_round_trip() {
    let tok = tokenizer();
    for (name, s) in [
        ("letters", "a".repeat(100_000)),
        ("spaces then word", format!("{}x", " ".repeat(100_000))),
        ("newlines", "\n".repeat(50_000)),
        ("digits", "7".repeat(50_000)),
        ("punctuation", "!?".repeat(50_000)),
        ("emoji", "😀".repeat(20_000)),
        ("han", "营销".repeat(20_000)),
        ("mixed", "It's $19.99 — 50% off!\t\r\n ".repeat(5_000)),
    ] {
        let t = Instant::now();
        let ids = tok.encode(&s, true).unwrap();
        assert_eq!(tok.decode(&ids), s, "{name} does not round-trip");
        eprintln!(
            "{name}: {} bytes -> {} tokens in {:.1} ms",
            s.len(),
            ids.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}
