//! Helpers shared by the integration tests: where the real model is, and the
//! llama.cpp reference outputs.
#![allow(dead_code)]

use std::path::PathBuf;

/// The default model, from `BANNERET_MODEL` or the cache `make model` fills.
/// Fails (never skips) when absent: the test command fetches it first.
pub fn model_path() -> PathBuf {
    let path = std::env::var_os("BANNERET_MODEL").map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
        home.join(".cache/banneret/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    });
    assert!(
        path.is_file(),
        "model file {} is missing: run `make model` (or set BANNERET_MODEL)",
        path.display()
    );
    path
}

pub fn model_bytes() -> Vec<u8> {
    std::fs::read(model_path()).expect("read the model file")
}

pub fn reference() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/smollm2-llamacpp.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("read reference")).expect("parse reference")
}

pub fn ids(v: &serde_json::Value) -> Vec<u32> {
    v.as_array().expect("id array").iter().map(|x| x.as_u64().expect("id") as u32).collect()
}
pub mod rng;
pub mod tiny;
