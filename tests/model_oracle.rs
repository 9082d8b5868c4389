//! Our llama forward pass against candle-transformers' `quantized_llama` on
//! tiny random models in each weight format: same file, same logits.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use banneret::loader::load;
use candle_core::quantized::{gguf_file, GgmlDType};
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::ModelWeights;
use common::tiny;

fn compare(dtype: GgmlDType) {
    let bytes = tiny::gguf_bytes(42, dtype);
    let ours = load(&bytes).expect("our loader").model;
    let mut cursor = std::io::Cursor::new(&bytes);
    let content = gguf_file::Content::read(&mut cursor).expect("candle reads it");
    let mut theirs = ModelWeights::from_gguf(content, &mut cursor, &Device::Cpu).expect("candle model");

    let tokens: Vec<u32> = vec![1, 70, 80, 90, 100, 3, 200, 261, 5, 7, 11, 13];
    let vocab = ours.shape().vocab_size;
    let mut state = ours.new_state();
    // Prompt in one batch, then token by token, against candle fed one at a time.
    let batched = ours.forward(&tokens[..8], &mut state, true).unwrap();
    let mut worst = 0f32;
    for (pos, &t) in tokens.iter().enumerate() {
        let input = Tensor::new(&[t], &Device::Cpu).unwrap().unsqueeze(0).unwrap();
        let reference: Vec<f32> = theirs.forward(&input, pos).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let row = if pos < 8 {
            batched[pos * vocab..(pos + 1) * vocab].to_vec()
        } else {
            ours.forward(&[t], &mut state, false).unwrap()
        };
        let scale = reference.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (a, b) in row.iter().zip(&reference) {
            worst = worst.max((a - b).abs() / scale);
        }
    }
    // Both sides quantize activations to 8 bits (ours with f32 block scales,
    // candle's with f16), which moves logits by ~1% of their range; a wrong
    // rotation, mask or head grouping moves them by tens of percent.
    println!("{dtype:?}: worst logit difference {worst:.5} of the largest logit");
    assert!(worst < 0.03, "{dtype:?}: logits differ by {worst} of scale");
}

#[test]
fn q4_1_matches_candle() {
    compare(GgmlDType::Q4_1);
}

#[test]
fn q4_0_matches_candle() {
    compare(GgmlDType::Q4_0);
}

#[test]
fn q8_0_matches_candle() {
    compare(GgmlDType::Q8_0);
}

/// Types without a kernel here (K-quants, Q5_x) are converted to Q8_0 at
/// load; the converted rows must equal candle's dequantization to 8-bit precision.
#[test]
fn k_quants_are_converted_at_load() {
    use banneret::quant::Matrix;
    use candle_core::quantized::QTensor;
    for (dtype, id) in [(GgmlDType::Q4K, 12), (GgmlDType::Q6K, 14), (GgmlDType::Q5_0, 6)] {
        let data: Vec<f32> = (0..4 * 256).map(|i| (i * 37 % 101) as f32 / 50.0 - 1.0).collect();
        let t = Tensor::from_vec(data, (4, 256), &Device::Cpu).unwrap();
        let q = QTensor::quantize(&t, dtype).unwrap();
        let want: Vec<f32> = q.dequantize(&Device::Cpu).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let m = Matrix::from_ggml("w", id, &[256, 4], &q.data().unwrap()).unwrap();
        assert!(m.format().starts_with("q8x4"), "{}", m.format());
        let mut row = vec![0f32; 256];
        for r in 0..4 {
            m.row_f32(r, &mut row);
            for (a, b) in row.iter().zip(&want[r * 256..(r + 1) * 256]) {
                assert!((a - b).abs() <= 1.0 / 127.0 + 1e-6, "{dtype:?}: {a} vs {b}");
            }
        }
    }
}
