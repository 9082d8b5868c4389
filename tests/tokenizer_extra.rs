//! The tokenizer against llama.cpp on 200+ hard strings (prices, code, every
//! kind of whitespace, contractions, many scripts, emoji, invisible and control
//! characters, glued and partial special tokens, long runs).
//! Ground truth: tests/data/smollm2-tokenizer-extra.json, written by
//! scripts/reference/tokenize-llamacpp.mjs with native llama.cpp.

mod tokenizer_common;

use serde_json::Value;
use tokenizer_common::{data_path, tokenizer};

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("id array")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

fn extra() -> Value {
    let text =
        std::fs::read_to_string(data_path("smollm2-tokenizer-extra.json")).expect("extra json");
    serde_json::from_str(&text).expect("extra json parses")
}

#[test]
fn every_extra_string_tokenizes_like_llama_cpp() {
    let tok = tokenizer();
    let r = extra();
    let entries = r["tokenization"].as_array().expect("tokenization[]");
    assert!(entries.len() >= 150, "only {} entries", entries.len());
    let mut failures = Vec::new();
    for e in entries {
        let text = e["text"].as_str().expect("text");
        for (key, parse_special) in [("ids", true), ("ids_parse_special_false", false)] {
            let want = ids(&e[key]);
            let got = tok.encode(text, parse_special).unwrap();
            if got != want {
                failures.push(format!(
                    "{text:?} parse_special={parse_special}: got {got:?}, want {want:?}"
                ));
            }
        }
        let detok = e["detokenized"].as_str().expect("detokenized");
        let got = tok.decode(&ids(&e["ids"]));
        if got != detok {
            failures.push(format!("{text:?} detokenized: got {got:?}, want {detok:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches over {} entries:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
    eprintln!(
        "extra tokenization: {} / {} entries match",
        entries.len(),
        entries.len()
    );
}

#[test]
fn end_of_generation_set_matches_llama_cpp() {
    let tok = tokenizer();
    let r = extra();
    let want = ids(&r["special_tokens"]["eog"]);
    assert_eq!(tok.specials().eog, want);
    let all: Vec<u32> = (0..tok.vocab_size() as u32)
        .filter(|&id| tok.is_eog(id))
        .collect();
    assert_eq!(all, want);
}
