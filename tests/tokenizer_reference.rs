//! The tokenizer against llama.cpp's own output for the default model
//! (tests/data/smollm2-llamacpp.json, copied from the shared reference).

mod tokenizer_common;

use serde_json::Value;
use tokenizer_common::{data_path, tokenizer};

fn reference() -> Value {
    let text = std::fs::read_to_string(data_path("smollm2-llamacpp.json")).expect("reference json");
    serde_json::from_str(&text).expect("reference json parses")
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("id array")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

#[test]
fn every_reference_tokenization_matches_llama_cpp() {
    let tok = tokenizer();
    let r = reference();
    let entries = r["tokenization"].as_array().expect("tokenization[]");
    assert!(!entries.is_empty());
    let mut failures = Vec::new();
    for e in entries {
        let text = e["text"].as_str().expect("text");
        let want_special = ids(&e["ids"]);
        let want_plain = ids(&e["ids_parse_special_false"]);
        let got_special = tok.encode(text, true).unwrap();
        let got_plain = tok.encode(text, false).unwrap();
        if got_special != want_special {
            failures.push(format!(
                "{text:?} parse_special=true: got {got_special:?}, want {want_special:?}"
            ));
        }
        if got_plain != want_plain {
            failures.push(format!(
                "{text:?} parse_special=false: got {got_plain:?}, want {want_plain:?}"
            ));
        }
        let detok = e["detokenized"].as_str().expect("detokenized");
        let got = tok.decode(&want_special);
        if got != detok {
            failures.push(format!("{text:?} detokenized: got {got:?}, want {detok:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} entries differ:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
    eprintln!(
        "reference tokenization: {} / {} entries match",
        entries.len(),
        entries.len()
    );
}

#[test]
fn every_reference_prompt_tokenizes_like_llama_cpp() {
    let tok = tokenizer();
    let r = reference();
    let gens = r["generation"].as_array().expect("generation[]");
    assert!(!gens.is_empty());
    for g in gens {
        let prompt = g["prompt"].as_str().expect("prompt");
        assert_eq!(
            tok.encode(prompt, true).unwrap(),
            ids(&g["prompt_ids"]),
            "prompt {:?}",
            g["name"]
        );
    }
}

#[test]
fn special_tokens_match_llama_cpp() {
    let tok = tokenizer();
    let r = reference();
    let sp = &r["options"]["special_tokens"];
    let s = tok.specials();
    assert_eq!(s.bos, Some(sp["bos"].as_u64().unwrap() as u32));
    assert_eq!(s.eos, Some(sp["eos"].as_u64().unwrap() as u32));
    assert_eq!(s.eot, Some(sp["eot"].as_u64().unwrap() as u32));
    assert_eq!(s.eog, ids(&sp["eog"]));
    assert_eq!(
        s.add_bos,
        r["options"]["add_bos_token_metadata"].as_bool().unwrap()
    );
    for id in ids(&sp["eog"]) {
        assert!(tok.is_eog(id));
    }
    assert!(!tok.is_eog(1));
    assert_eq!(tok.vocab_size(), 49152);
    assert_eq!(tok.token_id("<|im_start|>"), Some(1));
    assert_eq!(tok.token_id("<|im_end|>"), Some(2));
    let specials = tok.special_token_texts();
    assert_eq!(specials.len(), 17);
    assert!(specials.contains(&"<|im_start|>") && specials.contains(&"<reponame>"));
}
