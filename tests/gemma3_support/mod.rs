//! Where the Gemma 3 270M GGUF is, for the tests that need it: from
//! `BANNERET_GEMMA_MODEL`, else the cache `make model` (scripts/models.py) fills.
//! Fails, never skips, when the file is absent.
#![allow(dead_code)]

use std::path::PathBuf;

pub const FILE: &str = "gemma-3-270m-q4_k_m.gguf";

pub fn model_path() -> PathBuf {
    let path = std::env::var_os("BANNERET_GEMMA_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let dir = std::env::var_os("BANNERET_MODEL_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    let home = std::env::var_os("HOME")
                        .map(PathBuf::from)
                        .unwrap_or_default();
                    home.join(".cache/banneret/models")
                });
            dir.join(FILE)
        });
    assert!(
        path.is_file(),
        "Gemma 3 model {} is missing: run `python3 scripts/models.py fetch {FILE}` \
         (or `make model`; or set BANNERET_GEMMA_MODEL)",
        path.display()
    );
    path
}

pub fn model_bytes() -> Vec<u8> {
    std::fs::read(model_path()).expect("read the Gemma 3 model file")
}
