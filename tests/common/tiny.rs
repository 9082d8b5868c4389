//! A tiny llama-architecture GGUF built in memory: random weights in the
//! block formats real files use, a byte-level BPE vocabulary with ChatML
//! markers, so engine tests need no download and run in milliseconds.
#![allow(dead_code)]

use banneret::gguf::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};

pub const DIM: usize = 64;
pub const FFN: usize = 128;
pub const HEADS: usize = 4;
pub const KV_HEADS: usize = 2;
pub const LAYERS: usize = 2;
pub const SPECIALS: &[&str] = &["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
pub const MERGES: &[(&str, &str)] = &[("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a")];

/// GPT-2's printable stand-in for each byte (the byte-level BPE alphabet).
pub fn byte_char(b: u8) -> char {
    let printable = (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
    if printable {
        b as char
    } else {
        let rank = (0..b).filter(|&x| !((b'!'..=b'~').contains(&x) || (0xA1..=0xAC).contains(&x) || (0xAE..=0xFF).contains(&x))).count();
        char::from_u32(256 + rank as u32).unwrap()
    }
}

pub fn vocab() -> Vec<String> {
    let mut v: Vec<String> = SPECIALS.iter().map(|s| s.to_string()).collect();
    v.extend((0..=255u8).map(|b| byte_char(b).to_string()));
    v.extend(MERGES.iter().map(|(a, b)| format!("{a}{b}")));
    v
}

struct Lcg(u64);
impl Lcg {
    fn normal(&mut self) -> f32 {
        // Sum of uniforms: close enough to normal for weights.
        (0..4).map(|_| {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        }).sum::<f32>()
    }
}

fn tensor(rng: &mut Lcg, rows: usize, cols: usize, scale: f32, dtype: GgmlDType) -> Vec<u8> {
    let data: Vec<f32> = (0..rows * cols).map(|_| rng.normal() * scale).collect();
    let t = Tensor::from_vec(data, (rows, cols), &Device::Cpu).unwrap();
    QTensor::quantize(&t, dtype).unwrap().data().unwrap().into_owned()
}

fn ones_ish(rng: &mut Lcg, n: usize) -> Vec<u8> {
    (0..n).flat_map(|_| (1.0 + 0.1 * rng.normal()).to_le_bytes()).collect()
}

/// The model file. `weights` picks the block type of the layer matrices.
pub fn gguf_bytes(seed: u64, weights: GgmlDType) -> Vec<u8> {
    let vocab = vocab();
    let n_vocab = vocab.len();
    let mut rng = Lcg(seed);
    let kv = DIM / HEADS * KV_HEADS;
    let mut tensors: Vec<(String, Vec<u64>, u32, Vec<u8>)> = Vec::new();
    let ty = |d: GgmlDType| match d {
        GgmlDType::F32 => 0,
        GgmlDType::Q4_0 => 2,
        GgmlDType::Q4_1 => 3,
        GgmlDType::Q8_0 => 8,
        GgmlDType::Q4K => 12,
        GgmlDType::Q6K => 14,
        other => panic!("tiny model: add ggml id for {other:?}"),
    };
    tensors.push(("token_embd.weight".into(), vec![DIM as u64, n_vocab as u64], 8, tensor(&mut rng, n_vocab, DIM, 0.5, GgmlDType::Q8_0)));
    tensors.push(("output_norm.weight".into(), vec![DIM as u64], 0, ones_ish(&mut rng, DIM)));
    for i in 0..LAYERS {
        let p = |n: &str| format!("blk.{i}.{n}.weight");
        let s = 0.15;
        tensors.push((p("attn_norm"), vec![DIM as u64], 0, ones_ish(&mut rng, DIM)));
        tensors.push((p("attn_q"), vec![DIM as u64, DIM as u64], ty(weights), tensor(&mut rng, DIM, DIM, s, weights)));
        tensors.push((p("attn_k"), vec![DIM as u64, kv as u64], ty(weights), tensor(&mut rng, kv, DIM, s, weights)));
        tensors.push((p("attn_v"), vec![DIM as u64, kv as u64], ty(weights), tensor(&mut rng, kv, DIM, s, weights)));
        tensors.push((p("attn_output"), vec![DIM as u64, DIM as u64], ty(weights), tensor(&mut rng, DIM, DIM, s, weights)));
        tensors.push((p("ffn_norm"), vec![DIM as u64], 0, ones_ish(&mut rng, DIM)));
        tensors.push((p("ffn_gate"), vec![DIM as u64, FFN as u64], ty(weights), tensor(&mut rng, FFN, DIM, s, weights)));
        tensors.push((p("ffn_up"), vec![DIM as u64, FFN as u64], ty(weights), tensor(&mut rng, FFN, DIM, s, weights)));
        tensors.push((p("ffn_down"), vec![FFN as u64, DIM as u64], ty(weights), tensor(&mut rng, DIM, FFN, s, weights)));
    }
    let strings = |v: Vec<String>| Value::Array(v.into_iter().map(Value::String).collect());
    let mut token_types = vec![Value::I32(3); SPECIALS.len()];
    token_types.extend(std::iter::repeat_n(Value::I32(1), n_vocab - SPECIALS.len()));
    let metadata = vec![
        ("general.architecture", Value::String("llama".into())),
        ("general.name", Value::String("tiny test llama".into())),
        ("llama.block_count", Value::U32(LAYERS as u32)),
        ("llama.context_length", Value::U32(256)),
        ("llama.embedding_length", Value::U32(DIM as u32)),
        ("llama.feed_forward_length", Value::U32(FFN as u32)),
        ("llama.attention.head_count", Value::U32(HEADS as u32)),
        ("llama.attention.head_count_kv", Value::U32(KV_HEADS as u32)),
        ("llama.rope.freq_base", Value::F32(10000.0)),
        ("llama.rope.dimension_count", Value::U32((DIM / HEADS) as u32)),
        ("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-5)),
        ("tokenizer.ggml.model", Value::String("gpt2".into())),
        ("tokenizer.ggml.pre", Value::String("smollm".into())),
        ("tokenizer.ggml.tokens", strings(vocab.clone())),
        ("tokenizer.ggml.token_type", Value::Array(token_types)),
        ("tokenizer.ggml.merges", strings(MERGES.iter().map(|(a, b)| format!("{a} {b}")).collect())),
        ("tokenizer.ggml.bos_token_id", Value::U32(1)),
        ("tokenizer.ggml.eos_token_id", Value::U32(2)),
        ("tokenizer.ggml.add_bos_token", Value::Bool(false)),
        (
            "tokenizer.chat_template",
            Value::String(
                "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}".into(),
            ),
        ),
    ];
    let views: Vec<(&str, Vec<u64>, u32, &[u8])> =
        tensors.iter().map(|(n, d, t, b)| (n.as_str(), d.clone(), *t, b.as_slice())).collect();
    gguf::write(&metadata, &views)
}
