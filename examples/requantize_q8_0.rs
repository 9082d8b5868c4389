//! Converts a GGUF file's `Q4_0`/`Q4_1` tensors to `Q8_0` (everything else
//! is copied as is), for the benchmark's "wllama on its fastest path" run.
//! Deterministic: the same input always gives the same bytes.
//! `cargo run --release --example requantize_q8_0 -- IN.gguf OUT.gguf`
//!
//! Q8_0 blocks are made as llama.cpp's `quantize_row_q8_0_ref` makes them:
//! `d = amax / 127` stored as f16, `q = roundf(x / d)` (half away from zero).

use banneret::gguf::{self, Value};
use half::f16;

const QK: usize = 32;
const Q4_0: u32 = 2;
const Q4_1: u32 = 3;
const Q8_0: u32 = 8;
/// `general.file_type` of a "mostly Q8_0" file (llama.cpp's LLAMA_FTYPE_MOSTLY_Q8_0).
const FTYPE_MOSTLY_Q8_0: u32 = 7;

fn f16_at(b: &[u8], i: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([b[i], b[i + 1]])).to_f32()
}

/// One 4-bit block as floats, like ggml's `dequantize_row_q4_0/1`.
fn dequantize_q4(ty: u32, block: &[u8]) -> [f32; QK] {
    let (d, m, qs) = match ty {
        Q4_0 => (f16_at(block, 0), None, &block[2..18]),
        _ => (f16_at(block, 0), Some(f16_at(block, 2)), &block[4..20]),
    };
    let mut out = [0f32; QK];
    for j in 0..QK / 2 {
        let (lo, hi) = ((qs[j] & 0x0F) as i32, (qs[j] >> 4) as i32);
        match m {
            Some(m) => {
                out[j] = lo as f32 * d + m;
                out[j + QK / 2] = hi as f32 * d + m;
            }
            None => {
                out[j] = (lo - 8) as f32 * d;
                out[j + QK / 2] = (hi - 8) as f32 * d;
            }
        }
    }
    out
}

fn quantize_q8_0(x: &[f32; QK], out: &mut Vec<u8>) {
    let amax = x.iter().fold(0f32, |a, v| a.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
    out.extend(x.iter().map(|&v| (v * id).round() as i8 as u8));
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = args.as_slice() else {
        return Err("usage: requantize_q8_0 IN.gguf OUT.gguf".into());
    };
    let bytes = std::fs::read(input)?;
    let header = gguf::parse_complete(&bytes)?;
    // gguf::write lays tensors out at GGUF's default alignment.
    if let Some(a) = header.metadata.opt_u64("general.alignment")?.filter(|&a| a != 32) {
        return Err(format!("{input}: general.alignment {a} is not supported (only 32)").into());
    }
    let mut tensors: Vec<(String, Vec<u64>, u32, Vec<u8>)> = Vec::new();
    for t in &header.tensors {
        let start = (header.data_offset + t.offset) as usize;
        let raw = &bytes[start..start + t.size as usize];
        let (ty, data) = match t.ggml_type {
            ty @ (Q4_0 | Q4_1) => {
                let block_bytes = if ty == Q4_0 { 18 } else { 20 };
                let mut data = Vec::with_capacity(raw.len() / block_bytes * 34);
                for block in raw.chunks_exact(block_bytes) {
                    quantize_q8_0(&dequantize_q4(ty, block), &mut data);
                }
                (Q8_0, data)
            }
            other => (other, raw.to_vec()),
        };
        tensors.push((t.name.clone(), t.dims.clone(), ty, data));
    }
    let mut metadata: Vec<(&str, Value)> = header.metadata.0.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    for (k, v) in metadata.iter_mut() {
        if *k == "general.file_type" {
            *v = Value::U32(FTYPE_MOSTLY_Q8_0);
        }
    }
    let refs: Vec<(&str, Vec<u64>, u32, &[u8])> =
        tensors.iter().map(|(n, d, ty, data)| (n.as_str(), d.clone(), *ty, data.as_slice())).collect();
    let out = gguf::write(&metadata, &refs);
    let tmp = format!("{output}.part");
    std::fs::write(&tmp, &out)?;
    std::fs::rename(&tmp, output)?;
    println!("{output}: {} bytes, {} tensors", out.len(), refs.len());
    Ok(())
}
