//! Mutation fuzzing of model loading: random bytes, truncations, and
//! structured lies (tensor counts, offsets, dimensions, types, metadata
//! lengths and values) in a real GGUF, through the streaming loader and
//! `Engine::new`. Every input must give a model or an error that names the
//! problem: no panic, and no allocation beyond a bounded multiple of the
//! input's size. `BANNERET_FUZZ_ITERS` sets the executions (default: a short
//! run for the normal suite; `make fuzz` runs long).
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::rng::Rng;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use banneret::engine::Engine;
use banneret::gguf;
use banneret::loader::ModelLoader;
use candle_core::quantized::GgmlDType;

/// Counts live heap bytes and the peak since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocation allowed per input byte: K-quant tensors expand to floats
/// (about 12x for Q2_K) before packing; everything else is below 3x.
const MAX_BYTES_PER_INPUT_BYTE: usize = 16;
/// Fixed allowance (tokenizer tables, scratch, the test's own buffers).
const BASE_ALLOWANCE: usize = 64 << 20;


/// Byte offsets of the header's numeric fields worth lying about.
fn interesting_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut at = vec![8, 16]; // tensor count, metadata count
    let h = gguf::parse_complete(bytes).expect("seed file parses");
    // Tensor infos sit just before the data section; find each name and mark
    // the n_dims, dims, type and offset fields after it.
    for t in &h.tensors {
        let needle = [&(t.name.len() as u64).to_le_bytes()[..], t.name.as_bytes()].concat();
        if let Some(i) = bytes.windows(needle.len()).position(|w| w == needle.as_slice()) {
            let mut p = i + needle.len();
            at.push(p); // n_dims
            p += 4;
            for _ in &t.dims {
                at.push(p);
                p += 8;
            }
            at.push(p); // type
            at.push(p + 4); // offset
        }
    }
    // Metadata string and array lengths: every u64 that equals a plausible length.
    for key in ["tokenizer.ggml.tokens", "tokenizer.ggml.merges", "general.architecture", "llama.block_count"] {
        if let Some(i) = bytes.windows(key.len()).position(|w| w == key.as_bytes()) {
            at.push(i + key.len()); // value type
            at.push(i + key.len() + 4); // first value word (array item type / length / integer)
            at.push(i + key.len() + 8);
        }
    }
    at
}

/// Re-serializes `seed` with one metadata entry removed, or its value replaced
/// by a value of another type, or one tensor dropped or retyped.
fn restructure(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    use gguf::Value;
    let h = gguf::parse_complete(seed).expect("seed file parses");
    let mut md: Vec<(String, Value)> = h.metadata.0.clone().into_iter().collect();
    let mut tensors: Vec<(String, Vec<u64>, u32, Vec<u8>)> = h
        .tensors
        .iter()
        .map(|t| {
            let start = (h.data_offset + t.offset) as usize;
            (t.name.clone(), t.dims.clone(), t.ggml_type, seed[start..start + t.size as usize].to_vec())
        })
        .collect();
    match rng.below(4) {
        0 => {
            md.remove(rng.below(md.len()));
        }
        1 => {
            let i = rng.below(md.len());
            md[i].1 = match rng.below(5) {
                0 => Value::String("zzz".into()),
                1 => Value::I32(-1),
                2 => Value::F64(f64::NAN),
                3 => Value::Array(vec![Value::Bool(true); 3]),
                _ => Value::U64(u64::MAX),
            };
        }
        2 => {
            tensors.remove(rng.below(tensors.len()));
        }
        _ => {
            let i = rng.below(tensors.len());
            tensors[i].2 = [0u32, 1, 2, 3, 8, 12, 14, 99][rng.below(8)];
        }
    }
    let md_refs: Vec<(&str, Value)> = md.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let views: Vec<(&str, Vec<u64>, u32, &[u8])> =
        tensors.iter().map(|(n, d, t, b)| (n.as_str(), d.clone(), *t, b.as_slice())).collect();
    gguf::write(&md_refs, &views)
}

fn mutate(seed: &[u8], offsets: &[usize], rng: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    match rng.below(9) {
        7 | 8 => return restructure(seed, rng),
        0 => b.truncate(rng.below(b.len())),
        1 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
        }
        2 | 3 => {
            // A lie in a structured field: huge, zero, off by one, all ones.
            let at = offsets[rng.below(offsets.len())];
            let lie: u64 = match rng.below(6) {
                0 => u64::MAX,
                1 => 0,
                2 => 1 << 40,
                3 => rng.next(),
                4 => u32::MAX as u64,
                _ => {
                    let old = u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]));
                    old.wrapping_add(1)
                }
            };
            let width = if rng.below(2) == 0 { 4 } else { 8 };
            if at + width <= b.len() {
                b[at..at + width].copy_from_slice(&lie.to_le_bytes()[..width]);
            }
        }
        4 => {
            // Random bytes of the same length.
            for x in b.iter_mut().take(4096) {
                *x = rng.next() as u8;
            }
        }
        5 => {
            // Splice a chunk from elsewhere.
            let (a, c) = (rng.below(b.len()), rng.below(b.len()));
            let n = rng.below(256).min(b.len() - a.max(c));
            let chunk = b[c..c + n].to_vec();
            b[a..a + n].copy_from_slice(&chunk);
        }
        _ => {
            // Pure garbage of a random length.
            let n = rng.below(2048);
            b = (0..n).map(|_| rng.next() as u8).collect();
        }
    }
    b
}

/// Loads through the streaming loader in random chunk sizes, then builds the
/// engine (tokenizer, template) as the browser does.
fn load(bytes: &[u8], rng: &mut Rng) -> Result<Engine, banneret::Error> {
    let declared = if rng.below(2) == 0 { Some(bytes.len() as u64) } else { None };
    let mut loader = ModelLoader::new(declared);
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = 1 + rng.below(rest.len().min(70_000));
        loader.push(&rest[..n])?;
        rest = &rest[n..];
    }
    Engine::new(loader.finish()?)
}

#[test]
fn mutated_model_files_never_panic_or_overallocate() {
    let iterations: usize = std::env::var("BANNERET_FUZZ_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1500);
    let seeds = [common::tiny::gguf_bytes(1, GgmlDType::Q4_1), common::tiny::gguf_bytes(2, GgmlDType::Q8_0)];
    let offsets: Vec<Vec<usize>> = seeds.iter().map(|s| interesting_offsets(s)).collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut ok, mut errors) = (0usize, std::collections::BTreeMap::<&'static str, usize>::new());
    for i in 0..iterations {
        let which = rng.below(seeds.len());
        let input = mutate(&seeds[which], &offsets[which], &mut rng);
        let baseline = LIVE.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut r = Rng(rng.next());
            load(&input, &mut r).map(|_| ())
        }));
        let grew = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
        match outcome {
            Err(_) => panic!("iteration {i}: loading panicked on {} bytes", input.len()),
            Ok(Ok(())) => ok += 1,
            Ok(Err(e)) => {
                assert!(e.to_string().len() > 12, "iteration {i}: unhelpful message {e:?}");
                *errors.entry(e.code()).or_default() += 1;
            }
        }
        let limit = BASE_ALLOWANCE + MAX_BYTES_PER_INPUT_BYTE * input.len();
        assert!(grew <= limit, "iteration {i}: allocated {grew} bytes for a {}-byte input", input.len());
    }
    println!("{iterations} executions: {ok} loaded, errors by code: {errors:?}");
    assert!(errors.len() >= 4, "the mutations should reach several error kinds: {errors:?}");
}
