//! Native forward-pass speed on a GGUF file: load, prefill, decode.
//! `cargo run --release --example forward_speed -- PATH [PROMPT_TOKENS] [DECODE_TOKENS]`

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).ok_or("usage: forward_speed MODEL.gguf [prompt_tokens] [decode_tokens]")?;
    let n_prompt: usize = args.get(2).map_or(Ok(200), |s| s.parse())?;
    let n_decode: usize = args.get(3).map_or(Ok(128), |s| s.parse())?;
    let bytes = std::fs::read(path)?;
    let t = Instant::now();
    let model = banneret::loader::load(&bytes)?.model;
    println!("load: {:.0} ms, weights {:.1} MB", t.elapsed().as_secs_f64() * 1e3, model.memory_bytes() as f64 / 1e6);
    let prompt: Vec<u32> = (0..n_prompt as u32).map(|i| 100 + i * 7 % 4000).collect();
    let mut state = model.new_state();
    let t = Instant::now();
    let mut logits = model.forward(&prompt, &mut state, false)?;
    let prefill = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..n_decode {
        let next = banneret::sampling::argmax(&logits) as u32;
        logits = model.forward(&[next], &mut state, false)?;
    }
    let decode = t.elapsed().as_secs_f64();
    println!("prefill: {n_prompt} tokens in {:.0} ms = {:.1} tok/s", prefill * 1e3, n_prompt as f64 / prefill);
    println!("decode: {n_decode} tokens in {:.0} ms = {:.1} tok/s", decode * 1e3, n_decode as f64 / decode);
    Ok(())
}
