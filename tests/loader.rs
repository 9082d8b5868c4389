//! Loading from bytes: chunked streaming equals one-shot loading, and every
//! kind of bad file gives an error that names the problem.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use banneret::gguf::{self, Value};
use banneret::loader::{load, ModelLoader};
use candle_core::quantized::GgmlDType;
use common::tiny;

fn logits(model: &banneret::model::Model) -> Vec<f32> {
    let mut state = model.new_state();
    model.forward(&[1, 40, 50, 60], &mut state, true).unwrap()
}

#[test]
fn streaming_in_any_chunk_size_gives_the_same_model() {
    let bytes = tiny::gguf_bytes(1, GgmlDType::Q4_1);
    let whole = logits(&load(&bytes).unwrap().model);
    for chunk in [1usize, 7, 4096, 65_537] {
        let mut loader = ModelLoader::new(Some(bytes.len() as u64));
        for c in bytes.chunks(chunk) {
            loader.push(c).unwrap();
        }
        assert_eq!(loader.received(), bytes.len() as u64);
        use sha2::Digest;
        let want: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(loader.sha256(), want, "chunk size {chunk}");
        assert_eq!(logits(&loader.finish().unwrap().model), whole, "chunk size {chunk}");
    }
    // Unknown total length works too.
    let mut loader = ModelLoader::new(None);
    for c in bytes.chunks(1000) {
        loader.push(c).unwrap();
    }
    assert_eq!(logits(&loader.finish().unwrap().model), whole);
}

fn error_of(bytes: &[u8]) -> banneret::Error {
    match load(bytes) {
        Ok(_) => panic!("loaded a bad file"),
        Err(e) => e,
    }
}

#[test]
fn truncation_anywhere_is_a_truncated_model_error() {
    let bytes = tiny::gguf_bytes(2, GgmlDType::Q8_0);
    let header = gguf::parse_complete(&bytes).unwrap();
    let mut cuts: Vec<usize> = vec![0, 3, 4, 8, 16, 24, 100, header.data_offset as usize - 1, header.data_offset as usize];
    cuts.extend(header.tensors.iter().map(|t| (header.data_offset + t.offset + t.size / 2) as usize));
    cuts.push(bytes.len() - 1);
    for cut in cuts {
        let err = error_of(&bytes[..cut]);
        assert_eq!(err.code(), "truncated_model", "cut at {cut}: {err}");
        // Streaming without a declared length finds it at finish().
        let mut loader = ModelLoader::new(None);
        loader.push(&bytes[..cut]).unwrap();
        assert_eq!(loader.finish().err().unwrap().code(), "truncated_model");
    }
}

#[test]
fn not_gguf_is_named() {
    let err = error_of(b"<!DOCTYPE html><html>404 Not Found</html>");
    assert_eq!(err.code(), "invalid_model");
    assert!(err.to_string().contains("not a GGUF file"), "{err}");
}

/// Rebuilds the tiny model with one metadata entry replaced or removed.
fn with_metadata(edit: impl Fn(&mut Vec<(String, Value)>)) -> Vec<u8> {
    let bytes = tiny::gguf_bytes(3, GgmlDType::Q8_0);
    let header = gguf::parse_complete(&bytes).unwrap();
    let mut md: Vec<(String, Value)> = header.metadata.0.clone().into_iter().collect();
    edit(&mut md);
    let tensors: Vec<(&str, Vec<u64>, u32, &[u8])> = header
        .tensors
        .iter()
        .map(|t| {
            let start = (header.data_offset + t.offset) as usize;
            (t.name.as_str(), t.dims.clone(), t.ggml_type, &bytes[start..start + t.size as usize])
        })
        .collect();
    let md_refs: Vec<(&str, Value)> = md.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    gguf::write(&md_refs, &tensors)
}

#[test]
fn unsupported_architecture_is_named() {
    let bytes = with_metadata(|md| {
        for (k, v) in md.iter_mut() {
            if k == "general.architecture" {
                *v = Value::String("mamba".into());
            }
        }
    });
    let err = error_of(&bytes);
    assert_eq!(err.code(), "unsupported_architecture");
    assert!(err.to_string().contains("'mamba'") && err.to_string().contains("llama"), "{err}");
}

#[test]
fn missing_metadata_key_is_named() {
    let bytes = with_metadata(|md| md.retain(|(k, _)| k != "llama.attention.head_count"));
    let err = error_of(&bytes);
    assert_eq!(err.code(), "missing_metadata");
    assert!(err.to_string().contains("llama.attention.head_count"), "{err}");
}

#[test]
fn inconsistent_shapes_are_named() {
    let bytes = with_metadata(|md| {
        for (k, v) in md.iter_mut() {
            if k == "llama.feed_forward_length" {
                *v = Value::U32(96);
            }
        }
    });
    let err = error_of(&bytes);
    assert_eq!(err.code(), "missing_tensor");
    assert!(err.to_string().contains("ffn_gate"), "{err}");
}

#[test]
fn absurd_sizes_are_rejected_before_allocating() {
    let bytes = with_metadata(|md| {
        for (k, v) in md.iter_mut() {
            if k == "llama.block_count" {
                *v = Value::U64(u64::MAX);
            }
        }
    });
    let err = error_of(&bytes);
    assert!(err.to_string().contains("llama.block_count"), "{err}");
}
