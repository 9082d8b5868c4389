//! `StreamDecoder` on the real vocabulary: pushing a string's ids one at a time
//! yields exactly the string, and no chunk holds U+FFFD or half a character,
//! even where byte-level BPE cuts characters into single-byte tokens.

mod tokenizer_common;

use banneret::tokenizer::StreamDecoder;
use tokenizer_common::{data_path, tokenizer};

/// Streams `text`'s tokens; returns the chunks.
fn stream(text: &str) -> Vec<String> {
    let tok = tokenizer();
    let ids = tok.encode(text, true).unwrap();
    let mut d = StreamDecoder::new();
    let mut chunks: Vec<String> = ids.iter().map(|&id| d.push(tok, id)).collect();
    chunks.push(d.finish());
    chunks
}

#[test]
fn streams_chinese_emoji_zwj_and_split_characters_exactly() {
    let tok = tokenizer();
    let cases = [
        "个性化营销，提升转化率。",
        "東京で最高のセール",
        "🔥 Hot deal! 🎉🎁",
        "👨‍👩‍👧‍👦 family pack",
        "🏳️‍🌈🇺🇸🇯🇵 flags",
        "🧑🏿‍💻 codes at 3am",
        "नमस्ते, आज विशेष छूट है।",
        "Größe — 50 % günstiger… ¿sí?",
        "e\u{301}\u{302} combining, zero\u{200b}width",
    ];
    let mut split_chars = 0;
    for text in cases {
        let ids = tok.encode(text, true).unwrap();
        // Single tokens that are not valid UTF-8 on their own: the hard case.
        split_chars += ids
            .iter()
            .filter(|&&id| std::str::from_utf8(tok.token_bytes(id).unwrap()).is_err())
            .count();
        let chunks = stream(text);
        assert_eq!(chunks.concat(), text);
        for c in &chunks {
            assert!(
                !c.contains('\u{fffd}'),
                "{text:?}: chunk {c:?} holds U+FFFD"
            );
        }
        assert_eq!(
            chunks.last().unwrap(),
            "",
            "{text:?}: something was left for finish()"
        );
    }
    assert!(
        split_chars > 20,
        "the cases should cut characters across tokens, only {split_chars} did"
    );
}

#[test]
fn streams_every_llama_cpp_reference_string_exactly() {
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data_path("smollm2-tokenizer-extra.json")).unwrap(),
    )
    .unwrap();
    for e in v["tokenization"].as_array().unwrap() {
        let text = e["text"].as_str().unwrap();
        let chunks = stream(text);
        assert_eq!(chunks.concat(), text);
        if !text.contains('\u{fffd}') {
            assert!(chunks.iter().all(|c| !c.contains('\u{fffd}')), "{text:?}");
        }
    }
}
