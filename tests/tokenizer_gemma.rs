//! SentencePiece-style tokenization (`tokenizer.ggml.model = "llama"`) against
//! llama.cpp on Gemma 3 270M, with the same 200+ strings as the SmolLM2 test
//! (tests/data/gemma3-270m-tokenizer-extra.json, from scripts/reference/).
//!
//! The model comes from `BANNERET_GEMMA_MODEL`, else the cache `make model`
//! fills (www/models.json); a missing model fails the test.
#![cfg(not(target_arch = "wasm32"))]

#[path = "gemma3_support/mod.rs"]
mod gemma3_support;

use banneret::gguf;
use banneret::tokenizer::Tokenizer;

fn ids(v: &serde_json::Value) -> Vec<u32> {
    v.as_array()
        .expect("id array")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

#[test]
fn gemma3_tokenizes_like_llama_cpp() {
    let bytes = gemma3_support::model_bytes();
    let md = gguf::parse_complete(&bytes).expect("parse GGUF").metadata;
    let t0 = std::time::Instant::now();
    let tok = Tokenizer::from_metadata(&md).expect("tokenizer");
    eprintln!(
        "Gemma 3 tokenizer ({} tokens) built in {:.0} ms",
        tok.vocab_size(),
        t0.elapsed().as_secs_f64() * 1e3
    );

    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gemma3-270m-tokenizer-extra.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data).unwrap()).unwrap();
    assert_eq!(v["model"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(tok.specials().eog, ids(&v["special_tokens"]["eog"]));
    assert_eq!(
        tok.specials().bos,
        v["special_tokens"]["bos"].as_u64().map(|x| x as u32)
    );
    assert!(tok.specials().add_bos);

    let entries = v["tokenization"].as_array().unwrap();
    let mut failures = Vec::new();
    for e in entries {
        let text = e["text"].as_str().unwrap();
        for (key, parse_special) in [("ids", true), ("ids_parse_special_false", false)] {
            let want = ids(&e[key]);
            let got = tok.encode(text, parse_special).unwrap();
            if got != want {
                failures.push(format!(
                    "{text:?} parse_special={parse_special}: got {got:?}, want {want:?}"
                ));
            }
        }
        if tok.decode(&ids(&e["ids"])) != e["detokenized"].as_str().unwrap() {
            failures.push(format!("{text:?} detokenized differs"));
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
        "Gemma 3: {} / {} entries match",
        entries.len(),
        entries.len()
    );

    let prompt: String = "Hi Maya — your Alpine Pro jacket ($199, 15% off) is waiting. 個性化 😀\n"
        .repeat(40)
        .chars()
        .take(2000)
        .collect();
    let t = std::time::Instant::now();
    let n = tok.encode(&prompt, true).unwrap().len();
    eprintln!(
        "Gemma 3: 2000 chars -> {n} tokens in {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
}
