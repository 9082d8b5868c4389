//! The wasm boundary in a real browser (wasm-bindgen-test, headless Chromium):
//! exports return plain JS objects, and errors are JS `Error`s named by code.
//! Run with `make test` (or `wasm-pack test --headless --chrome`).
#![cfg(target_arch = "wasm32")]

mod common;

use banneret::gguf::{self, Value};
use banneret::wasm::{inspect_model, version, Engine, ModelLoader};
use candle_core::quantized::GgmlDType;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn tiny_gguf() -> Vec<u8> {
    let data = [0u8; 4 * 16];
    gguf::write(
        &[
            ("general.architecture", Value::String("llama".into())),
            ("general.name", Value::String("tiny".into())),
            ("llama.block_count", Value::U32(1)),
        ],
        &[
            ("token_embd.weight", vec![4, 4], 0, &data),
            ("output_norm.weight", vec![4], 0, &data[..16]),
        ],
    )
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap()
}

#[track_caller]
fn thrown<T>(result: Result<T, wasm_bindgen::JsError>) -> js_sys::Error {
    let Err(err) = result else { panic!("should have thrown") };
    let err: JsValue = err.into();
    err.dyn_into::<js_sys::Error>().expect("a JS Error object")
}

#[wasm_bindgen_test]
fn version_is_the_crate_version() {
    assert_eq!(version(), env!("CARGO_PKG_VERSION"));
}

#[wasm_bindgen_test]
fn inspect_model_returns_a_plain_object() {
    let bytes = tiny_gguf();
    let header = gguf::parse_complete(&bytes).unwrap();
    let info = inspect_model(&bytes).unwrap();
    let plain_prototype = Object::get_prototype_of(&Object::new());
    assert_eq!(
        JsValue::from(Object::get_prototype_of(&info)),
        JsValue::from(plain_prototype)
    );
    assert_eq!(
        get(&info, "architecture").as_string().as_deref(),
        Some("llama")
    );
    assert_eq!(get(&info, "name").as_string().as_deref(), Some("tiny"));
    assert_eq!(get(&info, "version").as_f64(), Some(3.0));
    assert_eq!(get(&info, "tensorCount").as_f64(), Some(2.0));
    assert_eq!(
        get(&info, "dataOffset").as_f64(),
        Some(header.data_offset as f64)
    );
    let keys: Vec<String> = Array::from(&get(&info, "metadataKeys"))
        .iter()
        .map(|k| k.as_string().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["general.architecture", "general.name", "llama.block_count"]
    );
}

#[wasm_bindgen_test]
fn inspect_model_without_architecture_reports_null() {
    let bytes = gguf::write(&[("general.name", Value::String("anon".into()))], &[]);
    let info = inspect_model(&bytes).unwrap();
    assert!(get(&info, "architecture").is_null());
    assert_eq!(get(&info, "tensorCount").as_f64(), Some(0.0));
}

#[wasm_bindgen_test]
fn garbage_throws_an_error_named_by_code() {
    let err = thrown(inspect_model(b"PK\x03\x04 this is a zip, not a model"));
    assert_eq!(String::from(err.name()), "invalid_model");
    let message = String::from(err.message());
    assert!(message.contains("not a GGUF file"), "{message}");
    let expected = gguf::parse_complete(b"PK\x03\x04 this is a zip, not a model").unwrap_err();
    assert_eq!(message, expected.to_string());
}

#[wasm_bindgen_test]
fn truncated_file_throws_truncated_model() {
    let bytes = tiny_gguf();
    let err = thrown(inspect_model(&bytes[..bytes.len() - 1]));
    assert_eq!(String::from(err.name()), "truncated_model");
    let message = String::from(err.message());
    assert!(
        message.contains(&format!("has {}", bytes.len() - 1)),
        "{message}"
    );
}

#[wasm_bindgen_test]
fn empty_input_throws_not_panics() {
    let err = thrown(inspect_model(&[]));
    assert_eq!(String::from(err.name()), "truncated_model");
}

/// Parses a JS object literal written as JSON.
fn js(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

fn tiny_engine() -> Engine {
    let bytes = common::tiny::gguf_bytes(5, GgmlDType::Q4_1);
    let mut loader = ModelLoader::new(Some(bytes.len() as f64));
    for chunk in bytes.chunks(10_000) {
        loader.push(chunk).unwrap();
    }
    assert_eq!(loader.received(), bytes.len() as f64);
    loader.finish().unwrap()
}

#[wasm_bindgen_test]
fn a_model_streamed_in_chunks_generates_step_by_step() {
    let mut engine = tiny_engine();
    let info = engine.info().unwrap();
    assert_eq!(get(&info, "architecture").as_string().as_deref(), Some("llama"));
    assert!(get(&info, "kernels").as_string().unwrap().starts_with("wasm "));
    let ids = get(&engine.tokenize(js(r#"{"text": "<|im_start|>the"}"#)).unwrap(), "ids");
    assert_eq!(Array::from(&ids).get(0).as_f64(), Some(1.0), "chat markers are special by default");

    let request = js(r#"{"messages": [{"role": "user", "content": "hi"}],
                          "options": {"max_new_tokens": 6, "temperature": 0, "num_return_sequences": 2}}"#);
    let mut generation = engine.generate(request).unwrap();
    let mut streamed = [String::new(), String::new()];
    let done = loop {
        let out = engine.step(&mut generation).unwrap();
        match get(&out, "type").as_string().as_deref() {
            Some("token") => {
                let seq = get(&out, "sequence").as_f64().unwrap() as usize;
                streamed[seq].push_str(&get(&out, "text").as_string().unwrap());
                assert!(get(&out, "promptTokens").as_f64().unwrap() > 0.0);
            }
            Some("done") => break out,
            other => panic!("unexpected step type {other:?}"),
        }
    };
    let completions = Array::from(&get(&done, "completions"));
    assert_eq!(completions.length(), 2);
    for (i, c) in completions.iter().enumerate() {
        assert_eq!(get(&c, "text").as_string().unwrap(), streamed[i]);
        assert_eq!(Array::from(&get(&c, "token_ids")).length(), 6);
        assert_eq!(get(&c, "finish_reason").as_string().as_deref(), Some("length"));
    }
}

#[wasm_bindgen_test]
fn a_typo_in_the_options_is_an_invalid_request_naming_it() {
    let mut engine = tiny_engine();
    let err = thrown(engine.generate(js(r#"{"prompt": "the", "options": {"temprature": 0.5}}"#)));
    assert_eq!(String::from(err.name()), "invalid_request");
    assert!(String::from(err.message()).contains("temprature"), "{}", String::from(err.message()));
    let err = thrown(engine.generate(js(r#"{"prompt": "the", "options": {"top_p": 7}}"#)));
    assert!(String::from(err.message()).contains("top_p"));
    let err = thrown(engine.generate(js(r#"{"options": {}}"#)));
    assert!(String::from(err.message()).contains("prompt"));
}

#[wasm_bindgen_test]
fn a_bad_model_stream_fails_by_name_and_the_loader_says_it_is_spent() {
    let mut loader = ModelLoader::new(None);
    let err = thrown(loader.push(b"<!doctype html><html>not found</html>"));
    // The header is only judged once 4 magic bytes are there; HTML fails at once.
    assert_eq!(String::from(err.name()), "invalid_model");
    let err = thrown(loader.push(b"more"));
    assert_eq!(String::from(err.name()), "invalid_request");

    let bytes = common::tiny::gguf_bytes(5, GgmlDType::Q8_0);
    let mut loader = ModelLoader::new(Some(bytes.len() as f64));
    loader.push(&bytes[..bytes.len() / 2]).unwrap();
    let err = thrown(loader.finish());
    assert_eq!(String::from(err.name()), "truncated_model");
}

fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut rng = banneret::sampling::Rng::new(seed);
    (0..n).map(|_| rng.next_f32() * 8.0 - 4.0).collect()
}

#[wasm_bindgen_test]
fn simd_softmax_equals_the_scalar_order_bit_for_bit() {
    for len in 1..=41 {
        let x = values(len, len as u32);
        let (mut simd, mut want) = (x.clone(), x);
        banneret::model::ops::softmax(&mut simd);
        banneret::model::ops::softmax_scalar(&mut want);
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&simd), bits(&want), "length {len}");
    }
}

#[wasm_bindgen_test]
fn simd_log_sum_exp_equals_the_scalar_order_bit_for_bit() {
    use banneret::model::ops::{log_sum_exp, log_sum_exp_scalar};
    // Short rows (every tail length) and a vocabulary-sized one with a spread of logits.
    for len in (1..=41).chain([49_152]) {
        let x: Vec<f32> = values(len, 100 + len as u32).iter().map(|v| v * 6.0).collect();
        assert_eq!(log_sum_exp(&x).to_bits(), log_sum_exp_scalar(&x).to_bits(), "length {len}");
    }
    assert_eq!(log_sum_exp(&[f32::NEG_INFINITY; 6]), f32::NEG_INFINITY);
}

#[wasm_bindgen_test]
fn simd_attention_equals_the_scalar_order_bit_for_bit() {
    use banneret::model::ops::{attention, Heads};
    use banneret::model::State;
    let h = Heads { n_head: 6, n_kv_head: 2, head_dim: 64 };
    let (q_dim, kv_dim, group) = (h.n_head * h.head_dim, h.n_kv_head * h.head_dim, 3);
    // 11 positions (not a multiple of four); 2 new queries.
    let (p0, n) = (9, 2);
    let (k, v, q) = (values(11 * kv_dim, 1), values(11 * kv_dim, 2), values(n * q_dim, 3));
    // The cache as the engine builds it, in four parts of 3, 2, 3 and 3
    // positions (groups of four keys cross them): a warmed-up prompt (5
    // positions, 3 reused), a prompt frozen on it (3..6, of which 3..5 are
    // reused), a prompt frozen on that (5..8), then the sequence's own rows.
    let extend = |prefix: Option<(&std::rc::Rc<banneret::model::Frozen>, usize)>, a: usize, b: usize| {
        let mut state = match prefix {
            Some((frozen, len)) => State::from_prefix(frozen, len),
            None => State::new(1, h.n_kv_head, h.head_dim),
        };
        state.append(0, &k[a * kv_dim..b * kv_dim], &v[a * kv_dim..b * kv_dim]);
        state.advance(b - a);
        state
    };
    let warm = extend(None, 0, 5).freeze();
    let prompt = extend(Some((&warm, 3)), 3, 6).freeze();
    let longer = extend(Some((&prompt, 5)), 5, 8).freeze();
    let state = extend(Some((&longer, 8)), 8, 11);
    let view = state.layer(0);
    let scale = 0.125;
    let (mut scores, mut got) = (Vec::new(), vec![0f32; n * q_dim]);
    attention(h, scale, &q, &view, p0, n, None, &mut scores, &mut got);
    let mut want = vec![0f32; n * q_dim];
    for t in 0..n {
        let visible = p0 + t + 1;
        for head in 0..h.n_head {
            let off = (head / group) * h.head_dim;
            let qh = &q[t * q_dim + head * h.head_dim..][..h.head_dim];
            let mut w: Vec<f32> =
                (0..visible).map(|j| banneret::model::ops::dot_scalar(qh, &k[j * kv_dim + off..][..h.head_dim]) * scale).collect();
            banneret::model::ops::softmax_scalar(&mut w);
            let out = &mut want[t * q_dim + head * h.head_dim..][..h.head_dim];
            for (j, &wj) in w.iter().enumerate() {
                for (o, &x) in out.iter_mut().zip(&v[j * kv_dim + off..][..h.head_dim]) {
                    *o += wj * x;
                }
            }
        }
    }
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&got), bits(&want));
}

#[wasm_bindgen_test]
fn simd_kernels_equal_the_portable_ones_bit_for_bit() {
    use banneret::quant::kernels::{portable, Group};
    use banneret::quant::{quantize_q8, BlockQ8, Q4x4, Q8x4, ROWS};
    let nb = 5;
    // Every byte value (the blocks count through 0..=255), so each nibble and
    // the sign flip meet 0 and their extremes.
    let q4: Vec<Q4x4> = (0..nb)
        .map(|b| Q4x4 { d: [0.5, -0.25, 0.125, 2.0], m: [-1.0, 0.5, 0.0, 3.0], qs: std::array::from_fn(|i| (b * 64 + i) as u8) })
        .collect();
    let q8: Vec<Q8x4> = (0..nb)
        .map(|b| Q8x4 { d: [0.5, -0.25, 0.125, 2.0], qs: std::array::from_fn(|i| (b * 128 + i) as u8) })
        .collect();
    let x: Vec<Vec<BlockQ8>> = (0..4).map(|t| values(nb * 32, 11 + t).chunks(32).map(quantize_q8).collect()).collect();
    fn check<W: Group, const T: usize>(w: &[W], x: &[Vec<BlockQ8>], reference: fn(&[W], [&[BlockQ8]; T], &mut [[f32; ROWS]; T])) {
        let xs: [&[BlockQ8]; T] = std::array::from_fn(|t| x[t].as_slice());
        let (mut got, mut want) = ([[0f32; ROWS]; T], [[0f32; ROWS]; T]);
        W::dot(w, xs, &mut got);
        reference(w, xs, &mut want);
        let bits = |v: &[[f32; ROWS]; T]| v.iter().flatten().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want), "{T} token(s)");
    }
    check::<Q4x4, 1>(&q4, &x, portable::dot_q4);
    check::<Q4x4, 2>(&q4, &x, portable::dot_q4);
    check::<Q4x4, 3>(&q4, &x, portable::dot_q4);
    check::<Q4x4, 4>(&q4, &x, portable::dot_q4);
    check::<Q8x4, 1>(&q8, &x, portable::dot_q8);
    check::<Q8x4, 2>(&q8, &x, portable::dot_q8);
    check::<Q8x4, 3>(&q8, &x, portable::dot_q8);
    check::<Q8x4, 4>(&q8, &x, portable::dot_q8);
}
