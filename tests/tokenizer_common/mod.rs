//! Shared by the tokenizer tests: the real SmolLM2 GGUF and its tokenizer.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;
use std::sync::OnceLock;

use banneret::gguf::{self, Metadata};
use banneret::tokenizer::Tokenizer;

pub fn model_path() -> PathBuf {
    match std::env::var_os("BANNERET_MODEL") {
        Some(p) => PathBuf::from(p),
        None => {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/banneret/models/SmolLM2-135M-Instruct.Q4_1.gguf")
        }
    }
}

/// The model's metadata, read once per test binary. Panics (never skips) when
/// the model is missing.
pub fn metadata() -> &'static Metadata {
    static MD: OnceLock<Metadata> = OnceLock::new();
    MD.get_or_init(|| {
        let path = model_path();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "model file {} not readable ({e}). Fetch it with `make model` \
                 (or set BANNERET_MODEL to a SmolLM2-135M-Instruct.Q4_1.gguf)",
                path.display()
            )
        });
        gguf::parse_complete(&bytes).expect("parse GGUF").metadata
    })
}

pub fn tokenizer() -> &'static Tokenizer {
    static TOK: OnceLock<Tokenizer> = OnceLock::new();
    TOK.get_or_init(|| Tokenizer::from_metadata(metadata()).expect("tokenizer from metadata"))
}

pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}
